"""Benchmarks of bayes_gmm_mi (scripts: ``python bench/bench_core.py`` etc.).

A package only so that the calibration study (``python -m studies.calibration``)
can import the shared helpers as ``bench._common``; the scripts themselves run
from their file and import them as ``_common`` (their own folder is on sys.path).
"""
