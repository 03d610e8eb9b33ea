"""Calibration studies: bias, RMSE and interval coverage on data with known MI.

Not part of the installed package: this is the research harness of
``docs/validation.md``, built on the public API of :mod:`bayes_gmm_mi` only
(:class:`~bayes_gmm_mi.GMMMI`, :class:`~bayes_gmm_mi.GMMCategoricalMI`,
:func:`~bayes_gmm_mi.compare`, :mod:`bayes_gmm_mi.datasets`). Run the study
with ``python -m studies.calibration`` from the repository root (see
``studies/calibration/__main__.py``); import it as ``studies.calibration``.

A *study* draws ``R`` independent data sets of each size ``N`` from each
validation task (:data:`bayes_gmm_mi.datasets.VALIDATION_TASKS`, whose exact MI
is known), runs every requested method once on each data set, and records
the estimate, its 68 % and 95 % intervals and the time taken. Over the ``R``
data sets, :func:`summarise` then measures

- the **bias** (mean estimate − truth, with its standard error) and the **RMSE**;
- the **coverage** of each interval (the fraction of data sets whose interval
  holds the truth), with its binomial standard error ``sqrt(p (1 − p) / R)``
  and a Wilson score interval — a calibrated 95 % interval covers the truth
  in 95 % of data sets;
- the mean interval **width** and the mean **time** per estimate.

Methods
-------
``"bootstrap"``, ``"vi"``, ``"mcmc"``
    This package (:class:`~bayes_gmm_mi.GMMMI`, or
    :class:`~bayes_gmm_mi.GMMCategoricalMI` for a categorical task). One EM fit
    (K by cross-validation) per data set serves all three; each record's
    ``time_s`` is that fit's time plus the method's own draws. The estimate is
    the mean of the draws (bootstrap mean, posterior mean); the EM point
    estimate is recorded too (``point_estimate``). Intervals: central
    percentile intervals of the draws for the bootstrap; for ``"vi"`` and
    ``"mcmc"`` the central (equal-tailed) percentile credible interval by
    default, or the highest-density interval (as :func:`bayes_gmm_mi.compare`
    computes it) with ``summarise(..., interval="hdi")`` (both are stored in
    every record).
``"ksg"``
    scikit-learn's k-nearest-neighbour estimator, k = 3 (scikit-learn is a
    dependency of the study, not of the package):
    :func:`sklearn.feature_selection.mutual_info_regression` (the
    Kraskov–Stögbauer–Grassberger estimator) for scalar x and y, and
    :func:`sklearn.feature_selection.mutual_info_classif` (Ross's
    nearest-neighbour estimator for a continuous x and a discrete y) for a
    categorical task. A point estimate only: no interval, so no coverage.
    Not applicable to multivariate x or y.
``"gmmmi"``
    GMM-MI 0.8.2, the original implementation of the method, with its
    defaults (50 bootstrap replicates), run in a *separate Python
    environment* by a runner script (see :class:`GMMMIRunner`; this package
    never imports it). Its estimate is its bootstrap mean; its intervals are
    ``mean ± z·sd`` of its bootstrap (z = 0.994 for 68 %, 1.960 for 95 %), the
    only summary it returns. Scalar x and y, or scalar x with class labels.

Caching
-------
Each (task, N, data set, method) result is one small JSON file in
``cache_dir``, named after the method's settings (a hash), so a study can be
interrupted and resumed: :func:`run_study` never recomputes a record that is
already there, and a change of settings makes new records rather than mixing
old ones in.

Data
----
Data set ``r`` of size ``N`` of task ``t`` is drawn from
``numpy.random.SeedSequence([random_state, crc32(t), N, r])``; every method
gets exactly the same arrays (:func:`sample_dataset`).

Examples
--------
>>> from studies import calibration
>>> records = calibration.run_study(
...     ["gaussian"], [200], 3, ["bootstrap", "ksg"], "cache-dir",
...     random_state=0)                                       # doctest: +SKIP
>>> table = calibration.summarise(records)                    # doctest: +SKIP
>>> fig = calibration.plot_coverage(table)                    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import math
import numbers
import os
import subprocess
import tempfile
import time
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "METHODS",
    "OUR_METHODS",
    "LEVELS",
    "DEFAULT_SETTINGS",
    "GMMMIRunner",
    "method_applies",
    "sample_dataset",
    "record_path",
    "run_study",
    "load_records",
    "summarise",
    "pooled_coverage",
    "format_summary",
    "wilson_interval",
    "plot_bias",
    "plot_coverage",
    "plot_time",
]

logger = logging.getLogger("studies.calibration")

#: Every method :func:`run_study` knows.
METHODS: tuple[str, ...] = ("bootstrap", "vi", "mcmc", "ksg", "gmmmi")
#: The methods of this package (one shared EM fit per data set).
OUR_METHODS: tuple[str, ...] = ("bootstrap", "vi", "mcmc")
#: Nominal probabilities of the intervals that are recorded.
LEVELS: tuple[float, ...] = (0.68, 0.95)
#: Default settings per method (what a record's ``settings`` holds).
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "bootstrap": {"n_bootstrap": 50},
    "vi": {"svi_steps": 1000, "num_samples": 500},
    "mcmc": {"num_chains": 4, "num_warmup": 500, "num_samples": 500},
    "ksg": {"n_neighbors": 3},
    "gmmmi": {"n_bootstrap": 50},
}
_ALLOWED_SETTINGS = {
    "bootstrap": {"n_bootstrap"},
    "vi": {"svi_steps", "num_samples", "svi_learning_rate"},
    "mcmc": {"num_chains", "num_warmup", "num_samples"},
    "ksg": {"n_neighbors"},
    "gmmmi": {"n_bootstrap"},
}
_INTERVAL_KINDS = ("percentile", "hdi")
_SCHEMA = 1


# --------------------------------------------------------------------------- #
# Configuration
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class GMMMIRunner:
    """How to call GMM-MI 0.8.2 in its own Python environment.

    GMM-MI needs scikit-learn < 1.7, and its licence forbids copying its code,
    so it is only ever *called*, in a subprocess: ``python runner DATA.npz
    OUT.json`` for scalar x and y, ``python categorical_runner DATA.npz
    OUT.json N_BOOTSTRAP`` for class labels. ``DATA.npz`` holds ``x`` and
    ``y`` (or ``x`` and integer ``labels`` 0..K−1); ``OUT.json`` must get
    ``ok`` and, when true, ``mi`` (bootstrap mean), ``std`` (bootstrap sd) and
    ``time_s`` (the estimate's own time), else ``error``. The repository's
    ``bench/_gmmmi_runner.py`` and ``bench/_gmmmi_categorical_runner.py``
    follow this protocol (``bench._common.GMMMI_RUNNER`` and
    ``GMMMI_CATEGORICAL_RUNNER``).

    Parameters
    ----------
    python : str or PathLike
        Interpreter of the environment where ``gmm-mi`` is installed.
    runner : str or PathLike
        Script for scalar x and y (GMM-MI's ``fit_estimate`` with its defaults).
    categorical_runner : str or PathLike, optional
        Script for a categorical task; without it GMM-MI skips those tasks.
    timeout_s : float, default 1800
        Seconds per estimate; a run that takes longer is recorded as failed.
    max_timeouts : int or None, default None
        After this many timed-out runs (cached ones included) for one
        (task, N), the remaining data sets of that (task, N) are not run (and
        not cached, so a later study with a longer timeout can still run
        them); None runs them all.
    """

    python: str | os.PathLike
    runner: str | os.PathLike
    categorical_runner: str | os.PathLike | None = None
    timeout_s: float = 1800.0
    max_timeouts: int | None = None

    def __post_init__(self) -> None:
        for name in ("python", "runner", "categorical_runner"):
            value = getattr(self, name)
            if value is None and name == "categorical_runner":
                continue
            if not isinstance(value, (str, os.PathLike)):
                raise TypeError(f"GMMMIRunner.{name} must be a path; got {value!r}.")
            if not Path(value).exists():
                raise ValueError(f"GMMMIRunner.{name}: {value} does not exist.")
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, numbers.Real)
            or not self.timeout_s > 0
        ):
            raise ValueError(
                f"GMMMIRunner.timeout_s must be a positive number; got {self.timeout_s!r}."
            )
        if self.max_timeouts is not None and (
            isinstance(self.max_timeouts, bool)
            or not isinstance(self.max_timeouts, numbers.Integral)
            or self.max_timeouts < 1
        ):
            raise ValueError(
                f"GMMMIRunner.max_timeouts must be None or an int >= 1; got {self.max_timeouts!r}."
            )


@dataclass
class _Task:
    name: str
    task: Any  # ValidationTask
    truth: float
    discrete_y: bool
    dx: int = 1
    dy: int = 1
    extra: dict = field(default_factory=dict)


def _resolve_tasks(tasks: Any) -> list[_Task]:
    from bayes_gmm_mi.datasets import VALIDATION_TASKS, ValidationTask, get_validation_task

    if isinstance(tasks, (str, ValidationTask)):
        tasks = [tasks]
    if not isinstance(tasks, Iterable):
        raise TypeError(
            f"tasks must be a list of task names (any of {', '.join(VALIDATION_TASKS)}); "
            f"got {tasks!r}."
        )
    out, seen = [], set()
    for item in tasks:
        if isinstance(item, ValidationTask):
            task = item
        elif isinstance(item, str):
            if item not in VALIDATION_TASKS:
                raise ValueError(
                    f"unknown task {item!r}; valid tasks are {', '.join(VALIDATION_TASKS)}."
                )
            task = get_validation_task(item)
        else:
            raise TypeError(
                f"each task must be a name (str) or a ValidationTask; got {item!r} of type "
                f"{type(item).__name__}."
            )
        if task.name in seen:
            raise ValueError(f"task {task.name!r} is listed twice.")
        seen.add(task.name)
        x, y = task.sample(8, random_state=0)
        dx = 1 if np.ndim(x) == 1 else int(np.shape(x)[1])
        dy = 1 if np.ndim(y) == 1 else int(np.shape(y)[1])
        out.append(_Task(task.name, task, float(task.mi), bool(task.discrete_y), dx, dy))
    if not out:
        raise ValueError("tasks is empty; give at least one task name.")
    return out


def _check_positive_ints(name: str, values: Any, minimum: int) -> list[int]:
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of ints; got {values!r}.")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must hold ints; got {v!r} of type {type(v).__name__}.")
        if v < minimum:
            raise ValueError(f"{name} must be ints >= {minimum}; got {v}.")
        out.append(int(v))
    if not out:
        raise ValueError(f"{name} is empty.")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has repeated values: {out}.")
    return out


def _check_methods(methods: Any) -> list[str]:
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, Iterable):
        raise TypeError(f"methods must be a list of names from {list(METHODS)}; got {methods!r}.")
    methods = list(methods)
    for m in methods:
        if not isinstance(m, str):
            raise TypeError(f"methods must be names (str) from {list(METHODS)}; got {m!r}.")
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; valid methods are {', '.join(METHODS)}.")
    if not methods:
        raise ValueError(f"methods is empty; choose from {', '.join(METHODS)}.")
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods has repeated names: {methods}.")
    return methods


def _merge_settings(settings: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    merged = {m: dict(v) for m, v in DEFAULT_SETTINGS.items()}
    if settings is None:
        return merged
    if not isinstance(settings, Mapping):
        raise TypeError(f"settings must be a dict method -> dict of options; got {settings!r}.")
    for method, opts in settings.items():
        if method not in METHODS:
            raise ValueError(
                f"settings: unknown method {method!r}; valid methods are {', '.join(METHODS)}."
            )
        if not isinstance(opts, Mapping):
            raise TypeError(f"settings[{method!r}] must be a dict; got {opts!r}.")
        for key, value in opts.items():
            if key not in _ALLOWED_SETTINGS[method]:
                raise ValueError(
                    f"settings[{method!r}]: unknown option {key!r}; valid options are "
                    f"{', '.join(sorted(_ALLOWED_SETTINGS[method]))}."
                )
            merged[method][key] = value
    return merged


def method_applies(method: str, task: Any) -> bool:
    """Whether ``method`` can estimate the MI of ``task``.

    Our methods apply to every task. KSG (scikit-learn) and GMM-MI need a
    scalar x and a scalar (or categorical) y.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    task : str or ValidationTask
        A validation task or its name.

    Returns
    -------
    bool
    """
    _check_methods([method])
    (t,) = _resolve_tasks([task])
    if method in OUR_METHODS:
        return True
    return t.dx == 1 and t.dy == 1


# --------------------------------------------------------------------------- #
# Data and records
# --------------------------------------------------------------------------- #
def _seed_sequence(
    task: str, n: int, dataset: int, random_state: int, *extra: int
) -> np.random.SeedSequence:
    return np.random.SeedSequence([random_state, zlib.crc32(task.encode()), n, dataset, *extra])


def sample_dataset(
    task: Any, n: int, dataset: int, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Data set number ``dataset`` of size ``n`` of a task, as every method sees it.

    Parameters
    ----------
    task : str or ValidationTask
    n : int
        Number of rows.
    dataset : int
        Index of the data set (0, 1, ...).
    random_state : int, default 0
        The study's seed.

    Returns
    -------
    x, y : ndarray
        Drawn from ``SeedSequence([random_state, crc32(name), n, dataset])``.
    """
    (t,) = _resolve_tasks([task])
    ss = _seed_sequence(t.name, int(n), int(dataset), int(random_state))
    return t.task.sample(int(n), random_state=np.random.default_rng(ss))


def _estimator_seed(task: str, n: int, dataset: int, random_state: int) -> int:
    return int(_seed_sequence(task, n, dataset, random_state, 1).generate_state(1)[0] % (2**31 - 1))


def _settings_key(method: str, settings: dict, fit_options: dict) -> str:
    payload = {"method": method, "settings": settings}
    if method in OUR_METHODS:
        payload["fit_options"] = fit_options
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def record_path(
    cache_dir: str | os.PathLike, task: str, n: int, dataset: int, method: str, key: str
) -> Path:
    """Path of one record: ``{task}_n{N}_r{dataset:03d}_{method}_{key}.json``.

    ``key`` is a hash of the method's settings (and, for our methods, of the
    fit options), so records made with other settings are never reused.
    """
    return Path(cache_dir) / f"{task}_n{int(n)}_r{int(dataset):03d}_{method}_{key}.json"


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _write_json(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, sort_keys=True, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> dict | None:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _draw_intervals(res: Any) -> dict[str, dict[str, list[float | None]]]:
    """Central percentile and highest-density intervals of an ``MIResult``'s draws."""
    from bayes_gmm_mi import compare

    out: dict[str, dict[str, list[float | None]]] = {"percentile": {}, "hdi": {}}
    if np.asarray(res.draws).size < 2:
        return out
    for level in LEVELS:
        lo, hi = res.interval(level)
        out["percentile"][str(level)] = [_finite(lo), _finite(hi)]
        row = compare([res], prob=level, interval="hdi").iloc[0]
        out["hdi"][str(level)] = [_finite(row["lower"]), _finite(row["upper"])]
    return out


def _normal_z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def _normal_intervals(mean: float | None, sd: float | None) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {"normal": {}}
    if mean is None or sd is None:
        return out
    for level in LEVELS:
        z = _normal_z(level)
        out["normal"][str(level)] = [mean - z * sd, mean + z * sd]
    return out


def _short_warnings(caught: list) -> list[str]:
    seen: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message)[:160]}"
        if text not in seen:
            seen.append(text)
    return seen[:8]


def _base_record(
    t: _Task, n: int, dataset: int, method: str, random_state: int, settings: dict, key: str
) -> dict:
    return {
        "schema": _SCHEMA,
        "task": t.name,
        "n": int(n),
        "dataset": int(dataset),
        "method": method,
        "random_state": int(random_state),
        "settings": settings,
        "settings_key": key,
        "truth": t.truth,
        "discrete_y": t.discrete_y,
        "ok": False,
        "error": None,
        "estimate": None,
        "point_estimate": None,
        "std": None,
        "intervals": {},
        "time_s": None,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- #
# The methods
# --------------------------------------------------------------------------- #
def _run_ours(
    t: _Task,
    x,
    y,
    methods: list[str],
    seed: int,
    settings: dict,
    fit_options: dict,
    bases: dict[str, dict],
) -> dict[str, dict]:
    """One EM fit, then each requested method's draws; returns records by method."""
    from bayes_gmm_mi import GMMMI, GMMCategoricalMI

    cls = GMMCategoricalMI if t.discrete_y else GMMMI
    out = {m: dict(bases[m]) for m in methods}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            est = cls(random_state=seed, **fit_options).fit(x, y)
        except Exception as exc:  # a failed fit is a result of the study
            logger.warning("%s N=%d: fit failed: %s", t.name, len(x), exc)
            for m in methods:
                out[m].update(
                    error=f"fit: {type(exc).__name__}: {exc}"[:500],
                    time_s=time.perf_counter() - start,
                    warnings=_short_warnings(caught),
                )
            return out
        fit_time = time.perf_counter() - start
        fit_warnings = _short_warnings(caught)
    for m in methods:
        rec = out[m]
        rec.update(
            fit_time_s=fit_time,
            n_components=int(est.n_components_),
            point_estimate=_finite(est.mi_),
            mc_error=_finite(est.mc_error_),
        )
        opts = dict(settings[m])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            try:
                if m == "bootstrap":
                    res = est.estimate_mi(opts["n_bootstrap"], method="bootstrap")
                else:
                    est.set_params(**opts)
                    res = est.estimate_mi(method=m)
            except Exception as exc:
                logger.warning("%s N=%d: %s failed: %s", t.name, len(x), m, exc)
                rec.update(
                    error=f"{type(exc).__name__}: {exc}"[:500],
                    draw_time_s=time.perf_counter() - start,
                    time_s=fit_time + time.perf_counter() - start,
                    warnings=fit_warnings + _short_warnings(caught),
                )
                continue
            draw_time = time.perf_counter() - start
        draws = np.asarray(res.draws, np.float64)
        intervals = _draw_intervals(res)
        intervals.update(_normal_intervals(_finite(res.mean), _finite(res.std)))
        rec.update(
            ok=bool(draws.size >= 2 and np.all(np.isfinite(draws))),
            estimate=_finite(res.mean),
            std=_finite(res.std),
            intervals=intervals,
            draw_time_s=draw_time,
            time_s=fit_time + draw_time,
            n_draws=int(draws.size),
            warnings=fit_warnings + _short_warnings(caught),
        )
        if not rec["ok"]:
            rec["error"] = "too few or non-finite draws"
        for key in ("sampling_time_s", "integration_time_s"):
            if key in res.info:
                rec[key] = _finite(res.info[key])
        if m == "mcmc":
            rec["diagnostics"] = {
                k: _finite(res.info.get(k))
                for k in ("r_hat", "ess_bulk", "ess_tail", "divergences")
            }
    return out


def _run_ksg(t: _Task, x, y, seed: int, settings: dict, base: dict) -> dict:
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    rec = dict(base)
    k = int(settings["n_neighbors"])
    X = np.asarray(x, np.float64).reshape(-1, 1)
    start = time.perf_counter()
    try:
        if t.discrete_y:
            _, labels = np.unique(np.asarray(y), return_inverse=True)
            value = mutual_info_classif(
                X, labels, discrete_features=False, n_neighbors=k, random_state=seed
            )[0]
            rec["estimator"] = "sklearn.feature_selection.mutual_info_classif (Ross 2014)"
        else:
            value = mutual_info_regression(
                X,
                np.asarray(y, np.float64).ravel(),
                discrete_features=False,
                n_neighbors=k,
                random_state=seed,
            )[0]
            rec["estimator"] = "sklearn.feature_selection.mutual_info_regression (KSG)"
    except Exception as exc:
        rec.update(error=f"{type(exc).__name__}: {exc}"[:500], time_s=time.perf_counter() - start)
        return rec
    rec.update(
        ok=True,
        estimate=float(value),
        point_estimate=float(value),
        time_s=time.perf_counter() - start,
    )
    return rec


def _run_gmmmi(t: _Task, x, y, runner: GMMMIRunner, settings: dict, base: dict) -> dict:
    rec = dict(base)
    with tempfile.TemporaryDirectory(prefix="bgm-calib-") as tmp:
        data, result = Path(tmp) / "data.npz", Path(tmp) / "out.json"
        if t.discrete_y:
            _, labels = np.unique(np.asarray(y), return_inverse=True)
            np.savez(data, x=np.asarray(x, float).ravel(), labels=labels.astype(np.int64))
            cmd = [
                str(runner.python),
                str(runner.categorical_runner),
                str(data),
                str(result),
                str(int(settings["n_bootstrap"])),
            ]
        else:
            np.savez(data, x=np.asarray(x, float).ravel(), y=np.asarray(y, float).ravel())
            cmd = [str(runner.python), str(runner.runner), str(data), str(result)]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=runner.timeout_s)
        except subprocess.TimeoutExpired:
            rec.update(
                error=f"timeout after {runner.timeout_s:g} s", wall_s=time.perf_counter() - start
            )
            return rec
        wall = time.perf_counter() - start
        out = _read_json(result) if result.exists() else None
    rec["wall_s"] = wall
    if proc.returncode != 0 or out is None:
        rec["error"] = f"runner failed (exit {proc.returncode}): {proc.stderr[-400:]}"
        return rec
    if not out.get("ok"):
        rec["error"] = str(out.get("error"))[:500]
        return rec
    mean, sd = _finite(out.get("mi")), _finite(out.get("std"))
    rec.update(
        ok=mean is not None,
        estimate=mean,
        std=sd,
        intervals=_normal_intervals(mean, sd),
        time_s=_finite(out.get("time_s")),
        n_components=out.get("n_components"),
        gmm_mi_version=out.get("gmm_mi_version"),
        warnings=list(out.get("warnings") or [])[:8],
    )
    if "class_n_components" in out:
        rec["n_components"] = out["class_n_components"]
    return rec


# --------------------------------------------------------------------------- #
# The study
# --------------------------------------------------------------------------- #
class _Silent:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Any]:
    """A tqdm bar on stderr when ``enabled``, otherwise an object that does nothing."""
    if not enabled:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="calibration", leave=False)
    try:
        yield bar
    finally:
        bar.close()


def run_study(
    tasks: Sequence[Any],
    sizes: Sequence[int],
    n_datasets: int | Mapping[str, int],
    methods: Sequence[str],
    cache_dir: str | os.PathLike,
    random_state: int = 0,
    progress: bool = False,
    *,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    fit_options: Mapping[str, Any] | None = None,
    gmmmi: GMMMIRunner | None = None,
    retry_failed: bool | str = False,
    cached_only: bool = False,
) -> list[dict[str, Any]]:
    """Run (or resume) a calibration study; one cached record per estimate.

    For every task × size × data set × method that applies (see
    :func:`method_applies`), the record is read from ``cache_dir`` if it is
    there, and otherwise computed and written there at once, so an
    interrupted study resumes where it stopped.

    Parameters
    ----------
    tasks : list of str or ValidationTask
        Names from :data:`bayes_gmm_mi.datasets.VALIDATION_TASKS`.
    sizes : list of int
        Sample sizes N (each >= 20).
    n_datasets : int or dict method -> int
        Data sets R per (task, N); a dict gives a number per method (methods
        it leaves out get none). Data set ``r`` is the same for every method.
    methods : list of str
        Any of :data:`METHODS`.
    cache_dir : str or PathLike
        Directory of the JSON records (created if needed).
    random_state : int, default 0
        Seed of the study: the data sets and the estimators' seeds derive from it.
    progress : bool, default False
        Show a tqdm progress bar (on stderr).
    settings : dict method -> dict, optional
        Options overriding :data:`DEFAULT_SETTINGS`: ``n_bootstrap``
        (bootstrap, gmmmi — GMM-MI's continuous runner always uses its default
        50), ``svi_steps``, ``num_samples``, ``svi_learning_rate`` (vi),
        ``num_chains``, ``num_warmup``, ``num_samples`` (mcmc),
        ``n_neighbors`` (ksg).
    fit_options : dict, optional
        Other :class:`~bayes_gmm_mi.GMMMI` parameters for our EM fit (e.g.
        ``mc_samples``, ``transform``); default: the library's defaults.
    gmmmi : GMMMIRunner, optional
        Required when ``"gmmmi"`` is among ``methods``.
    retry_failed : bool or "timeouts", default False
        Recompute cached records of failed estimates (they are reused by
        default); ``"timeouts"`` recomputes only GMM-MI runs that timed out.
    cached_only : bool, default False
        Compute nothing: return the records of this plan that are already in
        ``cache_dir`` (to summarise an interrupted study).

    Returns
    -------
    list of dict
        The records of this study (cached and new), in task, N, data set,
        method order. Each has ``task``, ``n``, ``dataset``, ``method``,
        ``truth``, ``ok``, ``error``, ``estimate``, ``std``,
        ``point_estimate``, ``intervals`` (kind → level → [low, high]),
        ``time_s``, ``settings`` and method-specific fields; ``from_cache``
        (not stored) says whether it was read from ``cache_dir``.

    Raises
    ------
    TypeError, ValueError
        For bad arguments: unknown task or method names (the message lists the
        valid ones), sizes < 20, R < 1, unknown settings, ``"gmmmi"`` without
        ``gmmmi``.
    """
    tlist = _resolve_tasks(tasks)
    sizes = _check_positive_ints("sizes", sizes, 20)
    methods = _check_methods(methods)
    if isinstance(n_datasets, Mapping):
        unknown = set(n_datasets) - set(methods)
        if unknown:
            raise ValueError(
                f"n_datasets names methods that are not in methods: {sorted(unknown)}; "
                f"methods are {methods}."
            )
        counts = {
            m: _check_positive_ints(f"n_datasets[{m!r}]", [n_datasets.get(m, 0) or 0], 0)[0]
            for m in methods
        }
    else:
        (r,) = _check_positive_ints("n_datasets", [n_datasets], 1)
        counts = {m: r for m in methods}
    if (
        isinstance(random_state, bool)
        or not isinstance(random_state, numbers.Integral)
        or random_state < 0
    ):
        raise ValueError(f"random_state must be an int >= 0; got {random_state!r}.")
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a path; got {cache_dir!r}.")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False; got {progress!r}.")
    if retry_failed not in (True, False, "timeouts"):
        raise ValueError(f"retry_failed must be True, False or 'timeouts'; got {retry_failed!r}.")
    merged = _merge_settings(settings)
    fit_options = dict(fit_options or {})
    if fit_options:
        from bayes_gmm_mi import GMMMI

        reserved = {
            "random_state",
            "method",
            "n_bootstrap",
            "num_chains",
            "num_warmup",
            "num_samples",
            "svi_steps",
            "svi_learning_rate",
        }
        valid = set(GMMMI().get_params()) - reserved
        bad = sorted(set(fit_options) - valid)
        if bad:
            raise ValueError(
                f"fit_options: unknown or reserved options {bad}; valid: {sorted(valid)}."
            )
    if "gmmmi" in methods and counts["gmmmi"] > 0 and not cached_only:
        if gmmmi is None:
            raise ValueError("method 'gmmmi' needs gmmmi=GMMMIRunner(python, runner, ...).")
        if not isinstance(gmmmi, GMMMIRunner):
            raise TypeError(f"gmmmi must be a GMMMIRunner; got {type(gmmmi).__name__}.")
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    keys = {m: _settings_key(m, merged[m], fit_options) for m in methods}

    def applies(m: str, t: _Task) -> bool:
        if m in OUR_METHODS:
            return True
        if t.dx != 1 or t.dy != 1:
            return False
        if m == "gmmmi" and t.discrete_y and gmmmi is not None and gmmmi.categorical_runner is None:
            return False
        return True

    plan = [(t, n, r) for t in tlist for n in sizes for r in range(max(counts.values()))]
    total = sum(1 for t, n, r in plan for m in methods if r < counts[m] and applies(m, t))
    for t in tlist:
        for m in methods:
            if not applies(m, t):
                logger.info(
                    "%s does not apply to task %s (multivariate x or y); skipped.", m, t.name
                )
    records: list[dict] = []
    n_new = 0
    timeouts: dict[tuple[str, int], int] = {}
    with _progress_bar(progress, total) as bar:
        for t, n, r in plan:
            wanted = [m for m in methods if r < counts[m] and applies(m, t)]
            if not wanted:
                continue
            found: dict[str, dict] = {}
            for m in wanted:
                rec = _read_json(record_path(cache, t.name, n, r, m, keys[m]))
                timed_out = str((rec or {}).get("error") or "").startswith("timeout")
                retry = retry_failed is True or (retry_failed == "timeouts" and timed_out)
                if rec is not None and (rec.get("ok") or not retry):
                    rec["from_cache"] = True
                    found[m] = rec
            todo = [] if cached_only else [m for m in wanted if m not in found]
            if "gmmmi" in found and str(found["gmmmi"].get("error") or "").startswith("timeout"):
                timeouts[(t.name, n)] = timeouts.get((t.name, n), 0) + 1
            if (
                "gmmmi" in todo
                and gmmmi is not None
                and gmmmi.max_timeouts is not None
                and timeouts.get((t.name, n), 0) >= gmmmi.max_timeouts
            ):
                todo.remove("gmmmi")
                wanted.remove("gmmmi")
                logger.warning(
                    "%s N=%d r=%d gmmmi: not run (%d earlier runs timed out)",
                    t.name,
                    n,
                    r,
                    timeouts[(t.name, n)],
                )
            if todo:
                x, y = sample_dataset(t.task, n, r, random_state)
                seed = _estimator_seed(t.name, n, r, random_state)
                bases = {
                    m: _base_record(t, n, r, m, random_state, merged[m], keys[m]) for m in todo
                }
                new: dict[str, dict] = {}
                ours = [m for m in todo if m in OUR_METHODS]
                if ours:
                    new.update(_run_ours(t, x, y, ours, seed, merged, fit_options, bases))
                if "ksg" in todo:
                    new["ksg"] = _run_ksg(t, x, y, seed, merged["ksg"], bases["ksg"])
                if "gmmmi" in todo:
                    new["gmmmi"] = _run_gmmmi(t, x, y, gmmmi, merged["gmmmi"], bases["gmmmi"])
                for m, rec in new.items():
                    if m == "gmmmi" and str(rec.get("error") or "").startswith("timeout"):
                        timeouts[(t.name, n)] = timeouts.get((t.name, n), 0) + 1
                    _write_json(record_path(cache, t.name, n, r, m, keys[m]), rec)
                    rec["from_cache"] = False
                    found[m] = rec
                    n_new += 1
                    logger.info(
                        "%s N=%d r=%d %s: %s (%.2f s)",
                        t.name,
                        n,
                        r,
                        m,
                        f"{rec['estimate']:.4f}" if rec.get("ok") else rec.get("error"),
                        rec.get("time_s") or float("nan"),
                    )
            for m in wanted:
                if m in found:
                    records.append(found[m])
                bar.update(1)
    logger.info(
        "calibration study: %d records, %d computed, %d from the cache",
        len(records),
        n_new,
        len(records) - n_new,
    )
    return records


def load_records(cache_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record in ``cache_dir`` (whatever its settings), for :func:`summarise`.

    Parameters
    ----------
    cache_dir : str or PathLike

    Returns
    -------
    list of dict
        Sorted by file name; unreadable files are skipped with a logged warning.
    """
    records = []
    for path in sorted(Path(cache_dir).glob("*.json")):
        if path.name.startswith("."):
            continue
        rec = _read_json(path)
        if rec is None or "method" not in rec:
            logger.warning("skipping unreadable record %s", path)
            continue
        rec["from_cache"] = True
        records.append(rec)
    return records


# --------------------------------------------------------------------------- #
# Summary
# --------------------------------------------------------------------------- #
def wilson_interval(successes: int, trials: int, prob: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes, trials : int
        ``0 <= successes <= trials``; ``trials = 0`` gives (nan, nan).
    prob : float, default 0.95
        Probability mass of the interval.

    Returns
    -------
    (low, high) : tuple of float
    """
    if trials == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials; got {successes}, {trials}.")
    z = _normal_z(prob)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # clamp: rounding can put an end a hair on the wrong side of p when p is 0 or 1
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def _interval_of(
    rec: Mapping, level: float, interval: str, bootstrap_interval: str
) -> tuple[float, float] | None:
    method = rec.get("method")
    if method == "ksg":
        return None
    if method == "gmmmi":
        kind = "normal"
    elif method == "bootstrap":
        kind = "percentile"
    else:
        kind = interval
    pair = (rec.get("intervals") or {}).get(kind, {}).get(str(level))
    if not pair or pair[0] is None or pair[1] is None:
        return None
    low, high = float(pair[0]), float(pair[1])
    if method == "bootstrap" and bootstrap_interval == "basic":
        centre = rec.get("point_estimate")
        if centre is None:
            return None
        low, high = 2.0 * float(centre) - high, 2.0 * float(centre) - low
    return low, high


def summarise(
    records: Iterable[Mapping[str, Any]],
    *,
    interval: str = "percentile",
    bootstrap_interval: str = "percentile",
    levels: Sequence[float] = LEVELS,
) -> Any:
    """Bias, RMSE, coverage, width and time per (task, N, method).

    Parameters
    ----------
    records : iterable of dict
        Records from :func:`run_study` or :func:`load_records` (or made by
        hand: each needs ``task``, ``n``, ``method``, ``truth`` and, when
        ``ok`` (default True), ``estimate``; ``intervals``, ``std`` and
        ``time_s`` are optional).
    interval : {"percentile", "hdi"}, default "percentile"
        Which interval of the ``"vi"``/``"mcmc"`` draws to score. The
        bootstrap is always scored with its percentile interval, GMM-MI with
        mean ± z·sd, KSG has none.
    bootstrap_interval : {"percentile", "basic"}, default "percentile"
        Score the bootstrap's percentile interval ``[q_lo, q_hi]`` of the
        replicates, or the *basic* bootstrap interval ``[2 θ̂ − q_hi,
        2 θ̂ − q_lo]`` around the EM point estimate θ̂ (which reflects the
        replicates' shift back, correcting for a bias that the bootstrap
        reproduces).
    levels : sequence of float, default (0.68, 0.95)
        Nominal probabilities to score; each must be stored in the records.

    Returns
    -------
    pandas.DataFrame
        One row per (task, n, method), sorted, with columns ``truth``,
        ``n_records``, ``n_ok``, ``n_failed``, ``mean_estimate``, ``bias``,
        ``bias_se`` (sd of the estimates / sqrt(n_ok)), ``rel_bias`` (bias /
        truth; NaN when the truth is 0), ``rmse``, ``bias_point`` and
        ``rmse_point`` (of the records' ``point_estimate`` — for our methods
        the EM fit's MI, shared by the three — NaN without one), ``sd_estimates``,
        ``mean_std`` (mean of the reported standard deviations), ``time_mean_s``,
        ``time_median_s`` and, per level L (e.g. ``68``, ``95``):
        ``coverage_L`` (fraction of the ``n_ok`` data sets whose interval holds
        the truth), ``coverage_L_se`` (``sqrt(p (1 − p) / n_ok)``),
        ``coverage_L_low``/``coverage_L_high`` (95 % Wilson interval of the
        coverage) and ``width_L`` (mean interval width). Coverage and width
        are NaN for methods without intervals. Failed estimates count in
        ``n_failed`` only. ``df.attrs`` records ``interval`` and ``levels``.

    Raises
    ------
    ValueError
        If ``interval`` is unknown, no record is given, a record lacks a
        required field, or a level is not in (0, 1).
    TypeError
        If a record is not a dict.
    """
    import pandas as pd

    if interval not in _INTERVAL_KINDS:
        raise ValueError(f"interval must be one of {list(_INTERVAL_KINDS)}; got {interval!r}.")
    if bootstrap_interval not in ("percentile", "basic"):
        raise ValueError(
            f"bootstrap_interval must be 'percentile' or 'basic'; got {bootstrap_interval!r}."
        )
    levels = [float(lv) for lv in levels]
    for lv in levels:
        if not 0.0 < lv < 1.0:
            raise ValueError(f"levels must be in (0, 1); got {lv}.")
    groups: dict[tuple, list[Mapping]] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise TypeError(f"record {i} must be a dict; got {type(rec).__name__}.")
        for key in ("task", "n", "method", "truth"):
            if key not in rec:
                raise ValueError(f"record {i} lacks the field {key!r}: {dict(rec)!r:.200}")
        if rec.get("ok", True) and rec.get("estimate") is None:
            raise ValueError(f"record {i} is ok but has no 'estimate'.")
        groups.setdefault((rec["task"], int(rec["n"]), rec["method"]), []).append(rec)
    if not groups:
        raise ValueError("summarise() needs at least one record; got none.")
    order = {m: i for i, m in enumerate(METHODS)}
    rows = []
    for (task, n, method), recs in groups.items():
        truths = {float(r["truth"]) for r in recs}
        if len(truths) > 1:
            raise ValueError(f"records of {task} disagree on the truth: {sorted(truths)}.")
        truth = truths.pop()
        ok = [r for r in recs if r.get("ok", True)]
        est = np.array([float(r["estimate"]) for r in ok])
        row: dict[str, Any] = {
            "task": task,
            "n": n,
            "method": method,
            "truth": truth,
            "n_records": len(recs),
            "n_ok": len(ok),
            "n_failed": len(recs) - len(ok),
        }
        k = est.size
        row["mean_estimate"] = float(est.mean()) if k else math.nan
        row["bias"] = row["mean_estimate"] - truth if k else math.nan
        row["sd_estimates"] = float(est.std(ddof=1)) if k >= 2 else math.nan
        row["bias_se"] = row["sd_estimates"] / math.sqrt(k) if k >= 2 else math.nan
        row["rel_bias"] = row["bias"] / truth if truth != 0 else math.nan
        row["rmse"] = float(np.sqrt(np.mean((est - truth) ** 2))) if k else math.nan
        pts = np.array(
            [float(r["point_estimate"]) for r in ok if r.get("point_estimate") is not None]
        )
        row["bias_point"] = float(pts.mean()) - truth if pts.size else math.nan
        row["rmse_point"] = float(np.sqrt(np.mean((pts - truth) ** 2))) if pts.size else math.nan
        stds = [float(r["std"]) for r in ok if r.get("std") is not None]
        row["mean_std"] = float(np.mean(stds)) if stds else math.nan
        times = [float(r["time_s"]) for r in ok if r.get("time_s") is not None]
        row["time_mean_s"] = float(np.mean(times)) if times else math.nan
        row["time_median_s"] = float(np.median(times)) if times else math.nan
        for lv in levels:
            tag = f"{round(100 * lv):d}"
            pairs = [_interval_of(r, lv, interval, bootstrap_interval) for r in ok]
            pairs = [p for p in pairs if p is not None]
            if pairs and method != "ksg":
                hits = sum(lo <= truth <= hi for lo, hi in pairs)
                p = hits / len(pairs)
                low, high = wilson_interval(hits, len(pairs), 0.95)
                row.update(
                    {
                        f"coverage_{tag}": p,
                        f"coverage_{tag}_se": math.sqrt(p * (1 - p) / len(pairs)),
                        f"coverage_{tag}_low": low,
                        f"coverage_{tag}_high": high,
                        f"width_{tag}": float(np.mean([hi - lo for lo, hi in pairs])),
                    }
                )
            else:
                row.update({f"coverage_{tag}{s}": math.nan for s in ("", "_se", "_low", "_high")})
                row[f"width_{tag}"] = math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table["_order"] = table["method"].map(lambda m: order.get(m, len(order)))
    table = table.sort_values(["task", "n", "_order"]).drop(columns="_order").reset_index(drop=True)
    table.attrs.update(
        interval=interval, bootstrap_interval=bootstrap_interval, levels=tuple(levels)
    )
    return table


def pooled_coverage(summary: Any, *, exclude_zero_truth: bool = True) -> Any:
    """Coverage pooled over tasks, per (N, method): more data sets, smaller errors.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.
    exclude_zero_truth : bool, default True
        Leave out tasks whose true MI is 0: the truth then sits on the boundary
        of the parameter space (MI >= 0), where a central interval can hardly
        cover it.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``method``, ``n_tasks``, ``n_estimates`` and, per level
        L, ``coverage_L`` (covering intervals / intervals over all tasks) and
        ``coverage_L_se`` (binomial, ``sqrt(p (1 − p) / n_estimates)``;
        tasks differ, so this is a lower bound on the real uncertainty of an
        average over tasks). Methods without intervals are left out.
    """
    import pandas as pd

    levels = summary.attrs.get("levels", LEVELS)
    tags = [f"{round(100 * lv):d}" for lv in levels]
    _check_summary(summary, ["n", "method", "n_ok", "truth"] + [f"coverage_{t}" for t in tags])
    sub = summary[summary[f"coverage_{tags[-1]}"].notna()]
    if exclude_zero_truth:
        sub = sub[sub["truth"] != 0]
    order = {m: i for i, m in enumerate(METHODS)}
    rows = []
    for (n, method), g in sub.groupby(["n", "method"]):
        total = int(g["n_ok"].sum())
        row = {"n": int(n), "method": method, "n_tasks": len(g), "n_estimates": total}
        for tag in tags:
            hits = float((g[f"coverage_{tag}"] * g["n_ok"]).sum())
            p = hits / total if total else math.nan
            row[f"coverage_{tag}"] = p
            row[f"coverage_{tag}_se"] = math.sqrt(p * (1 - p) / total) if total else math.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values(
            ["n", "method"], key=lambda c: c.map(order) if c.name == "method" else c
        )
    return table.reset_index(drop=True)


def format_summary(summary: Any, *, n: int | None = None, digits: int = 3) -> str:
    """The summary as a Markdown table (bias ± se, RMSE, coverage ± se, width, time).

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.
    n : int, optional
        Only this sample size.
    digits : int, default 3
        Decimals of the MI values.

    Returns
    -------
    str
    """
    _check_summary(
        summary,
        [
            "task",
            "n",
            "method",
            "bias",
            "bias_se",
            "rmse",
            "coverage_68",
            "coverage_95",
            "width_95",
            "time_mean_s",
        ],
    )
    sub = summary if n is None else summary[summary["n"] == n]

    def num(v: float, d: int = digits) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"

    def pm(v: float, e: float, d: int = digits) -> str:
        if isinstance(v, float) and math.isnan(v):
            return "–"
        return f"{v:+.{d}f} ± {e:.{d}f}" if not math.isnan(e) else f"{v:+.{d}f}"

    def cov(p: float, e: float) -> str:
        return "–" if math.isnan(p) else f"{100 * p:.0f} ± {100 * e:.0f}"

    lines = [
        "| task | N | method | R (failed) | truth | bias ± se | RMSE | cover 68 % | "
        "cover 95 % | width 95 % | time (s) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in sub.iterrows():
        failed = f" ({int(r['n_failed'])})" if r["n_failed"] else ""
        lines.append(
            f"| {r['task']} | {int(r['n'])} | {r['method']} | {int(r['n_ok'])}{failed} | "
            f"{r['truth']:.3f} | {pm(r['bias'], r['bias_se'])} | {num(r['rmse'])} | "
            f"{cov(r['coverage_68'], r['coverage_68_se'])} | "
            f"{cov(r['coverage_95'], r['coverage_95_se'])} | "
            f"{num(r['width_95'])} | {num(r['time_mean_s'], 2)} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Figures (matplotlib is imported on use)
# --------------------------------------------------------------------------- #
_COLOURS = {"bootstrap": "C0", "vi": "C2", "mcmc": "C3", "ksg": "C7", "gmmmi": "C1"}
_LABELS = {
    "bootstrap": "ours: bootstrap",
    "vi": "ours: VI",
    "mcmc": "ours: MCMC",
    "ksg": "KSG (sklearn)",
    "gmmmi": "GMM-MI 0.8.2",
}


def _check_summary(summary: Any, needed: Sequence[str]) -> Any:
    import pandas as pd

    if not isinstance(summary, pd.DataFrame):
        raise TypeError(
            f"summary must be the DataFrame of summarise(); got {type(summary).__name__}."
        )
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks the columns {missing}; pass the output of summarise().")
    if summary.empty:
        raise ValueError("summary is empty.")
    return summary


def plot_bias(
    summary: Any, *, relative: bool = False, ncols: int = 4, show_point: bool = True
) -> Any:
    """Bias (± its standard error) against N, one panel per task, one line per method.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.
    relative : bool, default False
        Plot bias / truth (tasks with zero MI are then left empty).
    ncols : int, default 4
        Panels per row.
    show_point : bool, default True
        Also plot the bias of our EM point estimate (``bias_point`` of the
        bootstrap rows, which have the most data sets), as a dashed black line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    _check_summary(summary, ["task", "n", "method", "bias", "bias_se", "truth"])
    tasks = list(dict.fromkeys(summary["task"]))
    ncols = max(1, min(int(ncols), len(tasks)))
    nrows = math.ceil(len(tasks) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.4 * ncols, 2.7 * nrows), squeeze=False, sharex=True
    )
    methods = [m for m in METHODS if m in set(summary["method"])]
    sizes = sorted(set(summary["n"]))
    for ax, task in zip(axes.flat, tasks):
        sub = summary[summary["task"] == task]
        truth = float(sub["truth"].iloc[0])
        scale = truth if relative and truth != 0 else (math.nan if relative else 1.0)
        for j, m in enumerate(methods):
            s = sub[sub["method"] == m].sort_values("n")
            if s.empty:
                continue
            shift = 1.0 + 0.04 * (j - (len(methods) - 1) / 2)  # dodge on the log axis
            ax.errorbar(
                s["n"] * shift,
                s["bias"] / scale,
                yerr=s["bias_se"] / scale,
                marker="o",
                ms=4,
                capsize=2,
                color=_COLOURS.get(m),
                label=_LABELS.get(m, m),
            )
        if show_point and "bias_point" in sub.columns:
            s = sub[sub["method"] == "bootstrap"].sort_values("n")
            if not s.empty and s["bias_point"].notna().any():
                ax.plot(
                    s["n"],
                    s["bias_point"] / scale,
                    "k--",
                    marker="x",
                    ms=5,
                    lw=1,
                    label="ours: EM point estimate",
                )
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(s) for s in sizes])
        ax.minorticks_off()
        ax.set_title(f"{task} (MI = {truth:.3f})", fontsize=9)
    for ax in axes.flat[len(tasks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("bias / truth" if relative else "bias (nats)")
    for ax in axes[-1, :]:
        ax.set_xlabel("N")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="lower center",
        ncol=len(handles),
        frameon=False,
    )
    fig.suptitle("Bias of the MI estimate (mean over data sets ± standard error)")
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def plot_coverage(
    summary: Any, *, sizes: Sequence[int] | None = None, exclude_zero_truth: bool = True
) -> Any:
    """Calibration plot: coverage against nominal probability, per method and N.

    One panel per (N, method with intervals). Each task is a coloured point
    at each nominal level (dodged sideways), with its 95 % Wilson interval as
    error bar; the black diamond is the coverage pooled over the tasks
    (:func:`pooled_coverage`) with its binomial standard error. The diagonal
    is perfect calibration; points below it are over-confident intervals.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.
    sizes : list of int, optional
        The N to show (default: all).
    exclude_zero_truth : bool, default True
        Leave out tasks with MI = 0 (see :func:`pooled_coverage`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    levels = summary.attrs.get("levels", LEVELS) if hasattr(summary, "attrs") else LEVELS
    tags = [f"{round(100 * lv):d}" for lv in levels]
    _check_summary(
        summary, ["task", "n", "method", "truth", "n_ok"] + [f"coverage_{t}" for t in tags]
    )
    if exclude_zero_truth:
        summary = summary[summary["truth"] != 0]
        if summary.empty:
            raise ValueError("every task in summary has MI = 0; pass exclude_zero_truth=False.")
    methods = [
        m
        for m in METHODS
        if m in set(summary["method"])
        and summary.loc[summary["method"] == m, f"coverage_{tags[-1]}"].notna().any()
    ]
    if not methods:
        raise ValueError("no method in summary has intervals (KSG has none).")
    sizes = sorted(set(summary["n"])) if sizes is None else list(sizes)
    tasks = list(dict.fromkeys(summary["task"]))
    pooled = pooled_coverage(summary, exclude_zero_truth=False)
    cmap = plt.get_cmap("tab20")
    fig, axes = plt.subplots(
        len(sizes),
        len(methods),
        figsize=(2.9 * len(methods), 2.9 * len(sizes)),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    spread = 0.14
    for i, n in enumerate(sizes):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            sub = summary[(summary["n"] == n) & (summary["method"] == m)]
            ax.plot([0.4, 1.1], [0.4, 1.1], color="k", lw=0.8)
            if sub.empty:
                ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", color="0.5")
            for k, task in enumerate(tasks):
                s = sub[sub["task"] == task]
                if s.empty:
                    continue
                dx = spread * ((k + 0.5) / len(tasks) - 0.5) - 0.03
                for lv, tag in zip(levels, tags):
                    p = float(s[f"coverage_{tag}"].iloc[0])
                    if math.isnan(p):
                        continue
                    lo = float(s[f"coverage_{tag}_low"].iloc[0])
                    hi = float(s[f"coverage_{tag}_high"].iloc[0])
                    ax.errorbar(
                        lv + dx,
                        p,
                        yerr=[[max(0.0, p - lo)], [max(0.0, hi - p)]],
                        fmt="o",
                        ms=3,
                        lw=0.7,
                        color=cmap(k % 20),
                        label=task if lv == levels[0] else None,
                    )
            pool = pooled[(pooled["n"] == n) & (pooled["method"] == m)]
            for lv, tag in zip(levels, tags):
                if pool.empty:
                    continue
                p, se = (
                    float(pool[f"coverage_{tag}"].iloc[0]),
                    float(pool[f"coverage_{tag}_se"].iloc[0]),
                )
                ax.errorbar(
                    lv + spread / 2 + 0.01,
                    p,
                    yerr=se,
                    fmt="D",
                    ms=5,
                    color="k",
                    capsize=2,
                    label="pooled over tasks" if lv == levels[0] else None,
                )
            ax.set_xlim(min(levels) - 0.12, max(levels) + 0.12)
            ax.set_ylim(0.0, 1.03)
            ax.set_xticks(list(levels))
            ax.set_title(f"{_LABELS.get(m, m)}, N = {n}", fontsize=9)
            if j == 0:
                ax.set_ylabel("empirical coverage")
            if i == len(sizes) - 1:
                ax.set_xlabel("nominal probability")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="lower center",
        ncol=min(6, len(handles)),
        frameon=False,
        fontsize=8,
    )
    fig.suptitle(
        "Interval coverage vs nominal (task error bars: 95 % Wilson interval)", fontsize=10
    )
    rows_legend = math.ceil(len(handles) / 6)
    fig.tight_layout(rect=(0, 0.035 * rows_legend + 0.02, 1, 0.97))
    return fig


def plot_time(summary: Any, *, stat: str = "median") -> Any:
    """Time per estimate for each method and N (one point per task, bar = median over tasks).

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarise`.
    stat : {"median", "mean"}, default "median"
        Per task, the median or the mean time over its data sets (the median
        is robust to the one-off JIT compilation of a first call and to load
        spikes on a shared machine).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if stat not in ("median", "mean"):
        raise ValueError(f"stat must be 'median' or 'mean'; got {stat!r}.")
    column = f"time_{stat}_s"
    _check_summary(summary, ["task", "n", "method", column])
    methods = [m for m in METHODS if m in set(summary["method"])]
    sizes = sorted(set(summary["n"]))
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(methods), 3.6))
    width = 0.8 / len(sizes)
    for i, n in enumerate(sizes):
        for j, m in enumerate(methods):
            t = summary[(summary["n"] == n) & (summary["method"] == m)][column].dropna()
            if t.empty:
                continue
            xpos = j + (i - (len(sizes) - 1) / 2) * width
            ax.bar(
                xpos,
                float(np.median(t)),
                width=width * 0.9,
                color=f"C{i}",
                alpha=0.35,
                label=f"N = {n}"
                if j == 0 or not ax.get_legend_handles_labels()[1].count(f"N = {n}")
                else None,
            )
            ax.plot(np.full(t.size, xpos), t, "o", ms=3, color=f"C{i}")
    ax.set_xticks(range(len(methods)))
    ax.set_xticklabels([_LABELS.get(m, m) for m in methods], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("seconds per estimate")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), frameon=False, fontsize=8)
    ax.set_title(
        f"Time per estimate (points: {stat} per task; bars: median over tasks)", fontsize=10
    )
    fig.tight_layout()
    return fig
