"""Research studies built on the public API of ``bayes_gmm_mi`` (not part of the package).

Each study is a subpackage run from the repository root with ``python -m``, e.g.
``python -m studies.calibration --quick``; its results live in its own folder. The
installed package never imports anything from here.
"""
