"""The calibration study of docs/validation.md: bias, RMSE and coverage on known-MI tasks.

``python -m studies.calibration`` runs it (see ``__main__.py``); the functions live in
:mod:`studies.calibration.study` and are re-exported here::

    from studies import calibration as cal
    records = cal.run_study(["gaussian"], [200], 3, ["bootstrap", "ksg"], "records/")
    table = cal.summarise(records)
"""

from studies.calibration.study import (
    DEFAULT_SETTINGS,
    LEVELS,
    METHODS,
    OUR_METHODS,
    GMMMIRunner,
    format_summary,
    load_records,
    method_applies,
    plot_bias,
    plot_coverage,
    plot_time,
    pooled_coverage,
    record_path,
    run_study,
    sample_dataset,
    summarise,
    wilson_interval,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "LEVELS",
    "METHODS",
    "OUR_METHODS",
    "GMMMIRunner",
    "format_summary",
    "load_records",
    "method_applies",
    "plot_bias",
    "plot_coverage",
    "plot_time",
    "pooled_coverage",
    "record_path",
    "run_study",
    "sample_dataset",
    "summarise",
    "wilson_interval",
]
