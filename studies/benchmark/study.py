"""The "Beyond Normal" benchmark of issue 16: bias, RMSE, coverage, width and time.

Not part of the installed package: the research harness of ``docs/benchmark.md``. It
runs the estimators on the tasks of :data:`bayes_gmm_mi.datasets.BEYOND_NORMAL_TASKS`
(Czyż et al. 2023, re-implemented in :mod:`bayes_gmm_mi._beyond_normal`) with the
records and summaries of the calibration study (:mod:`studies.calibration.study`),
which it reuses rather than repeats:

- ``"bootstrap"``, ``"vi"``, ``"mcmc"`` -- this package (one EM fit per data set),
  through :func:`studies.calibration.run_study`;
- ``"gmmmi"`` -- GMM-MI 0.8.2 in its own environment (1 x 1 tasks only), also through
  :func:`studies.calibration.run_study` and ``bench/_gmmmi_runner.py``;
- ``"ksg"`` -- the multivariate KSG estimator of this package,
  ``bayes_gmm_mi._pipeline.knn.ksg_mi(x, y, n_neighbors=3)`` (algorithm 1 of
  Kraskov et al. 2004 on the normal scores of each column's ranks), on all rows; run
  here (the calibration study's ``"ksg"`` is scikit-learn's, 1 x 1 only). Its record
  holds ``std`` (the estimator's rough standard error) and a normal interval, but the
  summary, like the calibration study's, treats KSG as a point estimate.

Skips
-----
Our methods accept at most ``bayes_gmm_mi._validation.MAX_DIMENSIONS`` columns in all
(x and y together), read when the study runs: a task above it is skipped for them,
with the reason written to ``skipped.json`` (recomputed at every run, never cached, so
raising the limit makes the next run do those tasks). GMM-MI is skipped on every task
that is not 1 x 1. Nothing is skipped silently.

Records
-------
One JSON file per (task, N, data set, method) in ``<out>/records/`` (the calibration
study's format and file names, :func:`studies.calibration.record_path`); an existing
record is never recomputed, so an interrupted run resumes. Data set ``r`` of size N of
a task is the same for every method (:func:`studies.calibration.sample_dataset`). The
loop runs data set by data set over all tasks, so an interrupted study has about the
same number of data sets for every task.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from studies.calibration import study as cal

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

logger = logging.getLogger("studies.benchmark")

#: Every method the benchmark knows.
METHODS: tuple[str, ...] = ("bootstrap", "vi", "mcmc", "ksg", "gmmmi")
#: This package's methods (one shared EM fit per data set).
OUR_METHODS: tuple[str, ...] = ("bootstrap", "vi", "mcmc")
#: Settings per method; ``"ksg"`` names its estimator so that its records never mix
#: with the calibration study's scikit-learn KSG.
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    **{m: dict(v) for m, v in cal.DEFAULT_SETTINGS.items()},
    "ksg": {"n_neighbors": 3, "estimator": "bayes_gmm_mi._pipeline.knn.ksg_mi"},
}
#: Markers of the block of ``docs/benchmark.md`` that :func:`write_docs` replaces.
RESULTS_BEGIN = "<!-- benchmark-results:begin (written by python -m studies.benchmark) -->"
RESULTS_END = "<!-- benchmark-results:end -->"
#: Absolute-error tolerance of the issue's acceptance: max(0.1 nat, 10 % of the truth).
ABS_TOL, REL_TOL = 0.1, 0.10

#: Published mean estimates of Czyż et al. (2023) per task and estimator, for the
#: side-by-side comparison: ``{task: {estimator: (value, source)}}``. Empty: the paper
#: reports its per-task results in a figure (see docs/benchmark.md); numbers go here
#: only when transcribed with their exact source.
PUBLISHED: dict[str, dict[str, tuple[float, str]]] = {}


def max_dimensions() -> int:
    """``bayes_gmm_mi._validation.MAX_DIMENSIONS``, read now (it changes between releases)."""
    from bayes_gmm_mi import _validation

    return int(_validation.MAX_DIMENSIONS)


def resolve_tasks(names: Sequence[str] | None = None, *, paper_only: bool = False) -> list[Any]:
    """The benchmark tasks (``ValidationTask`` objects) by name.

    Parameters
    ----------
    names : list of str, optional
        Keys of :data:`bayes_gmm_mi.datasets.BEYOND_NORMAL_TASKS`; default all of them.
    paper_only : bool, default False
        With ``names=None``: only the tasks of the paper.

    Returns
    -------
    list of ValidationTask

    Raises
    ------
    ValueError
        For an unknown or repeated name (the message names it and the closest match).
    """
    from bayes_gmm_mi.datasets import beyond_normal_task_names, get_validation_task

    if names is None:
        names = beyond_normal_task_names(paper_only=paper_only)
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("no tasks given; pass benchmark task names (bn-...).")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"tasks listed more than once: {dup}.")
    out = []
    for name in names:
        if not str(name).startswith("bn-"):
            raise ValueError(
                f"{name!r} is not a benchmark task; the benchmark's names start with 'bn-' "
                "(see bayes_gmm_mi.datasets.BEYOND_NORMAL_TASKS)."
            )
        out.append(get_validation_task(name))
    return out


def _dims(task: Any) -> tuple[int, int]:
    return int(task.dataset.dx), int(task.dataset.dy)


def skip_reason(task: Any, method: str, *, ksg_available: bool = True) -> str | None:
    """Why ``method`` is not run on ``task`` (None: it is run).

    Parameters
    ----------
    task : ValidationTask
    method : str
        One of :data:`METHODS`.
    ksg_available : bool, default True
        Whether ``bayes_gmm_mi._pipeline.knn.ksg_mi`` could be imported.

    Returns
    -------
    str or None
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods are {', '.join(METHODS)}.")
    dx, dy = _dims(task)
    if method in OUR_METHODS:
        limit = max_dimensions()
        if dx + dy > limit:
            return (
                f"{dx} + {dy} = {dx + dy} columns in all, above "
                f"bayes_gmm_mi._validation.MAX_DIMENSIONS = {limit}"
            )
    elif method == "gmmmi":
        if (dx, dy) != (1, 1):
            return f"GMM-MI 0.8.2 takes scalar x and y only; this task is {dx} x {dy}"
    elif method == "ksg" and not ksg_available:
        return "bayes_gmm_mi._pipeline.knn.ksg_mi is not available in this checkout"
    return None


def _ksg_function() -> Callable[..., Any] | None:
    try:
        from bayes_gmm_mi._pipeline.knn import ksg_mi
    except ImportError:
        return None
    return ksg_mi


def _run_ksg(
    ctask: Any, n: int, r: int, random_state: int, settings: dict, key: str, ksg: Callable
) -> dict:
    """One multivariate KSG estimate as a calibration-study record."""
    rec = cal._base_record(ctask, n, r, "ksg", random_state, settings, key)
    x, y = cal.sample_dataset(ctask.task, n, r, random_state)
    kwargs: dict[str, Any] = {"n_neighbors": int(settings["n_neighbors"])}
    if "max_rows" in inspect.signature(ksg).parameters:
        kwargs["max_rows"] = int(n)  # every row: no subsample
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = ksg(x, y, **kwargs)
    except Exception as exc:  # a failure is a result of the study
        rec.update(error=f"{type(exc).__name__}: {exc}"[:500], time_s=time.perf_counter() - start)
        return rec
    mi = cal._finite(getattr(est, "mi", None))
    se = cal._finite(getattr(est, "se", None))
    rec.update(
        ok=mi is not None,
        estimate=mi,
        point_estimate=mi,
        std=se,
        intervals=cal._normal_intervals(mi, se),
        time_s=time.perf_counter() - start,
        n_rows=getattr(est, "n_rows", None),
        estimator="bayes_gmm_mi._pipeline.knn.ksg_mi (KSG algorithm 1, normal scores)",
        warnings=cal._short_warnings(caught),
    )
    if mi is None:
        rec["error"] = "non-finite estimate"
    return rec


def run_benchmark(
    tasks: Sequence[Any],
    sizes: Sequence[int],
    n_datasets: int,
    methods: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    random_state: int = 0,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    fit_options: Mapping[str, Any] | None = None,
    gmmmi: cal.GMMMIRunner | None = None,
    retry_failed: bool = False,
    cached_only: bool = False,
) -> tuple[list[dict], list[dict]]:
    """Run (or resume) the benchmark; one cached record per estimate.

    Parameters
    ----------
    tasks : list of ValidationTask
        From :func:`resolve_tasks`.
    sizes : list of int
        Sample sizes N (each >= 20).
    n_datasets : int
        Data sets R per (task, N), ``>= 1``.
    methods : list of str
        Any of :data:`METHODS`.
    out_dir : str or PathLike
        Records go to ``out_dir/records/``, the skips to ``out_dir/skipped.json``.
    random_state : int, default 0
        Seed of the study (data sets and estimator seeds derive from it).
    settings : dict method -> dict, optional
        Overrides of :data:`DEFAULT_SETTINGS` (``n_neighbors`` for KSG, the calibration
        study's options for the others).
    fit_options : dict, optional
        Other :class:`~bayes_gmm_mi.GMMMI` parameters for our EM fit.
    gmmmi : studies.calibration.GMMMIRunner, optional
        Required when ``"gmmmi"`` is in ``methods`` (unless ``cached_only``).
    retry_failed : bool, default False
        Recompute cached records of failed estimates.
    cached_only : bool, default False
        Compute nothing; return the records already on disk for this plan.

    Returns
    -------
    records : list of dict
        Calibration-study records (see :func:`studies.calibration.run_study`).
    skipped : list of dict
        ``{"task", "method", "dx", "dy", "reason"}`` for every (task, method) not run.
    """
    methods = list(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty list from {list(METHODS)}; got {methods}.")
    if isinstance(n_datasets, bool) or not isinstance(n_datasets, int) or n_datasets < 1:
        raise ValueError(f"n_datasets must be an int >= 1; got {n_datasets!r}.")
    merged = {m: dict(v) for m, v in DEFAULT_SETTINGS.items()}
    for m, opts in (settings or {}).items():
        merged[m].update(opts)
    out = Path(out_dir)
    records_dir = out / "records"
    records_dir.mkdir(parents=True, exist_ok=True)
    ksg = _ksg_function() if "ksg" in methods else None

    skipped: list[dict] = []
    runs: dict[str, list[Any]] = {m: [] for m in methods}
    for task in tasks:
        for m in methods:
            reason = skip_reason(task, m, ksg_available=ksg is not None)
            if reason is None:
                runs[m].append(task)
            else:
                dx, dy = _dims(task)
                skipped.append({"task": task.name, "method": m, "dx": dx, "dy": dy,
                                "reason": reason})
                logger.info("%s skipped on %s: %s", m, task.name, reason)
    (out / "skipped.json").write_text(json.dumps(
        {"max_dimensions": max_dimensions(), "skipped": skipped}, indent=1) + "\n")

    ours = [m for m in methods if m in OUR_METHODS]
    cal_settings = {m: {k: v for k, v in merged[m].items()} for m in methods if m != "ksg"}
    ksg_key = cal._settings_key("ksg", merged["ksg"], {})
    ksg_tasks = cal._resolve_tasks(runs["ksg"]) if "ksg" in methods and runs["ksg"] else []
    by_key: dict[tuple, dict] = {}
    common = dict(random_state=random_state, fit_options=fit_options,
                  retry_failed=retry_failed, cached_only=cached_only)
    # Data set by data set over all tasks: an interrupted run leaves every task with
    # about the same number of data sets (run_study never recomputes a cached record).
    for r in range(n_datasets):
        batches: list[tuple[list[str], list[Any]]] = []
        # Tasks grouped by the set of our methods that apply (all of them, or none).
        our_tasks = [t for t in tasks if all(t in runs[m] for m in ours)] if ours else []
        if ours and our_tasks:
            batches.append((ours, our_tasks))
        if "gmmmi" in methods and runs["gmmmi"]:
            batches.append((["gmmmi"], runs["gmmmi"]))
        for batch_methods, batch_tasks in batches:
            recs = cal.run_study(
                batch_tasks, sizes, r + 1, batch_methods, records_dir,
                settings={m: cal_settings[m] for m in batch_methods},
                gmmmi=gmmmi if "gmmmi" in batch_methods else None, **common,
            )
            for rec in recs:
                by_key[(rec["task"], rec["n"], rec["dataset"], rec["method"])] = rec
        for ct in ksg_tasks:
            for n in sizes:
                path = cal.record_path(records_dir, ct.name, n, r, "ksg", ksg_key)
                rec = cal._read_json(path)
                if rec is None or (retry_failed and not rec.get("ok")):
                    if cached_only:
                        continue
                    assert ksg is not None
                    rec = _run_ksg(ct, n, r, random_state, merged["ksg"], ksg_key, ksg)
                    cal._write_json(path, rec)
                    logger.info("%s N=%d r=%d ksg: %s", ct.name, n, r,
                                f"{rec['estimate']:.4f}" if rec.get("ok") else rec.get("error"))
                by_key[(ct.name, n, r, "ksg")] = rec
    order = {t.name: i for i, t in enumerate(tasks)}
    morder = {m: i for i, m in enumerate(METHODS)}
    records = sorted(by_key.values(), key=lambda d: (
        order.get(d["task"], 10**6), d["n"], d["dataset"], morder.get(d["method"], 99)))
    return records, skipped


def load_benchmark_records(out_dir: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """Every record in ``out_dir/records`` and the skips of the last run.

    Parameters
    ----------
    out_dir : str or PathLike

    Returns
    -------
    records, skipped : list of dict
    """
    out = Path(out_dir)
    records = cal.load_records(out / "records") if (out / "records").exists() else []
    skipped_path = out / "skipped.json"
    skipped = json.loads(skipped_path.read_text())["skipped"] if skipped_path.exists() else []
    return records, skipped


# --------------------------------------------------------------------------- #
# Tables
# --------------------------------------------------------------------------- #
def task_table(names: Sequence[str] | None = None) -> str:
    """Markdown table of the suite: name, paper name, dimensions, exact MI, how computed.

    Parameters
    ----------
    names : list of str, optional
        Task names (default: the whole suite, in its order).

    Returns
    -------
    str
    """
    from bayes_gmm_mi._beyond_normal import beyond_normal_suite

    entries = {e.name: e for e in beyond_normal_suite()}
    names = list(entries) if names is None else list(names)
    lines = [
        "| task | in Czyż et al. (2023) as | dims | exact MI (nats) | how the MI is known |",
        "|---|---|---:|---:|---|",
    ]
    for name in names:
        e = entries[name]
        ds = e.factory()
        paper = e.paper_name or "— (extension)"
        lines.append(f"| `{name}` | {paper} | {ds.dx} × {ds.dy} | {ds.mi:.4f} | {e.how} |")
    return "\n".join(lines)


def _interval95(rec: Mapping) -> tuple[float, float] | None:
    return cal._interval_of(rec, 0.95, "percentile", "percentile")


def _misses(records: Sequence[Mapping]) -> dict[tuple[str, int, str], dict[str, int]]:
    """Per (task, N, method): data sets whose 95 % interval misses, and silent misses."""
    out: dict[tuple[str, int, str], dict[str, int]] = {}
    for rec in records:
        if not rec.get("ok") or rec["method"] not in OUR_METHODS:
            continue
        iv = _interval95(rec)
        if iv is None:
            continue
        key = (rec["task"], int(rec["n"]), rec["method"])
        d = out.setdefault(key, {"n": 0, "miss": 0, "silent": 0})
        d["n"] += 1
        if not iv[0] <= rec["truth"] <= iv[1]:
            d["miss"] += 1
            warned = any("MisspecificationWarning" in w for w in rec.get("warnings") or [])
            d["silent"] += int(not warned)
    return out


def _fmt(v: Any, d: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{d}f}"


def format_report(records: Sequence[Mapping], skipped: Sequence[Mapping] = ()) -> str:
    """The benchmark's results as Markdown: pooled, per task, skips, published comparison.

    Parameters
    ----------
    records : list of dict
        From :func:`run_benchmark` or :func:`load_benchmark_records`.
    skipped : list of dict
        The skips of :func:`run_benchmark`.

    Returns
    -------
    str
        Sections: pooled over tasks per (N, method) -- tasks, estimates, mean absolute
        error, RMSE, pooled 95 % coverage, silent misses (95 % interval misses the truth
        and no ``MisspecificationWarning``), mean width, median time, tasks within
        ``max(0.1 nat, 10 % of truth)``; then the calibration study's per-task table
        per N; the skipped (task, method) pairs; the comparison with the published
        figures of Czyż et al. (2023).
    """
    if not records:
        return "_No records yet: run the study (see the command above)._\n"
    summary = cal.summarise(records)
    pooled_cov = cal.pooled_coverage(summary, exclude_zero_truth=True)
    misses = _misses(records)
    lines: list[str] = []
    lines += ["### Pooled over tasks", "",
              "| N | method | tasks | estimates | mean abs. error | RMSE | cover 95 % (± se) | "
              "silent misses | mean width 95 % | median time (s) | tasks within tol. |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (n, method), g in summary.groupby(["n", "method"], sort=True):
        ok = [r for r in records if r["n"] == n and r["method"] == method and r.get("ok")]
        errs = np.array([float(r["estimate"]) - float(r["truth"]) for r in ok])
        mae = float(np.mean(np.abs(errs))) if errs.size else math.nan
        rmse = float(np.sqrt(np.mean(errs**2))) if errs.size else math.nan
        times = [float(r["time_s"]) for r in ok if r.get("time_s") is not None]
        within = int(sum(
            abs(b) <= max(ABS_TOL, REL_TOL * t) for b, t in zip(g["bias"], g["truth"])
            if math.isfinite(b)))
        pc = (pooled_cov[(pooled_cov["n"] == n) & (pooled_cov["method"] == method)]
              if not pooled_cov.empty else pooled_cov)
        cover = "–" if pc.empty else (
            f"{100 * pc['coverage_95'].iloc[0]:.0f} ± {100 * pc['coverage_95_se'].iloc[0]:.0f}")
        sil = [v for k, v in misses.items() if k[1] == n and k[2] == method]
        silent = (f"{sum(v['silent'] for v in sil)} / {sum(v['n'] for v in sil)}"
                  if sil else "–")
        width = float(np.nanmean(g["width_95"])) if g["width_95"].notna().any() else math.nan
        lines.append(
            f"| {n} | {method} | {len(g)} | {errs.size} | {_fmt(mae)} | {_fmt(rmse)} | {cover} "
            f"| {silent} | {_fmt(width)} | {_fmt(float(np.median(times)) if times else None, 2)} "
            f"| {within} / {len(g)} |")
    lines += ["", "Tolerance: |bias| ≤ max(0.1 nat, 10 % of the truth). Silent misses: data "
              "sets whose 95 % interval misses the truth without a `MisspecificationWarning`.",
              ""]
    for n in sorted(set(summary["n"])):
        lines += [f"### Per task, N = {n}", "", cal.format_summary(summary, n=int(n)), ""]
    lines += ["### Not run", ""]
    if skipped:
        lines += ["| task | method | dims | reason |", "|---|---|---:|---|"]
        for s in skipped:
            lines.append(f"| {s['task']} | {s['method']} | {s['dx']} × {s['dy']} | {s['reason']} |")
    else:
        lines.append("Every (task, method) pair of the plan was run.")
    lines += ["", "### Mean absolute error next to the published figures", ""]
    mae_table = _mae_by_task(records)
    methods = [m for m in METHODS if any(k[2] == m for k in mae_table)]
    sizes = sorted({k[1] for k in mae_table})
    for n in sizes:
        lines += [f"N = {n}:", "",
                  "| task | truth | " + " | ".join(f"{m} MAE" for m in methods)
                  + " | published (Czyż et al. 2023) |",
                  "|---|---:|" + "---:|" * len(methods) + "---|"]
        tasks = list(dict.fromkeys(r["task"] for r in records))
        for task in tasks:
            truth = next(float(r["truth"]) for r in records if r["task"] == task)
            cells = [_fmt(mae_table.get((task, n, m))) for m in methods]
            pub = PUBLISHED.get(task)
            pub_txt = ("; ".join(f"{e}: {v:.2f} ({src})" for e, (v, src) in pub.items())
                       if pub else "figure only (docs/benchmark.md)")
            lines.append(f"| {task} | {truth:.3f} | " + " | ".join(cells) + f" | {pub_txt} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _mae_by_task(records: Sequence[Mapping]) -> dict[tuple[str, int, str], float]:
    acc: dict[tuple[str, int, str], list[float]] = {}
    for r in records:
        if r.get("ok"):
            acc.setdefault((r["task"], int(r["n"]), r["method"]), []).append(
                abs(float(r["estimate"]) - float(r["truth"])))
    return {k: float(np.mean(v)) for k, v in acc.items()}


def write_docs(doc_path: str | os.PathLike, markdown: str) -> bool:
    """Replace the results block of ``docs/benchmark.md`` (between the markers).

    Parameters
    ----------
    doc_path : str or PathLike
    markdown : str
        The new content (e.g. from :func:`format_report`).

    Returns
    -------
    bool
        False (file unchanged) when the markers are missing.
    """
    path = Path(doc_path)
    text = path.read_text()
    if RESULTS_BEGIN not in text or RESULTS_END not in text:
        return False
    head, rest = text.split(RESULTS_BEGIN, 1)
    _, tail = rest.split(RESULTS_END, 1)
    path.write_text(head + RESULTS_BEGIN + "\n\n" + markdown.strip() + "\n\n" + RESULTS_END
                    + tail)
    return True
