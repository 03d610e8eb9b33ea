"""The "Beyond Normal" benchmark of issue 16 (docs/benchmark.md).

``python -m studies.benchmark`` runs it (see ``__main__.py``); the functions live in
:mod:`studies.benchmark.study`, built on the calibration study's records and summaries::

    from studies import benchmark as bmk
    tasks = bmk.resolve_tasks(["bn-multinormal-2pair-3x3"])
    records, skipped = bmk.run_benchmark(tasks, [200], 2, ["bootstrap", "ksg"], "out/")
    print(bmk.format_report(records, skipped))
"""

from studies.benchmark.study import (
    DEFAULT_SETTINGS,
    METHODS,
    OUR_METHODS,
    PUBLISHED,
    RESULTS_BEGIN,
    RESULTS_END,
    format_report,
    load_benchmark_records,
    max_dimensions,
    resolve_tasks,
    run_benchmark,
    skip_reason,
    task_table,
    write_docs,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "METHODS",
    "OUR_METHODS",
    "PUBLISHED",
    "RESULTS_BEGIN",
    "RESULTS_END",
    "format_report",
    "load_benchmark_records",
    "max_dimensions",
    "resolve_tasks",
    "run_benchmark",
    "skip_reason",
    "task_table",
    "write_docs",
]
