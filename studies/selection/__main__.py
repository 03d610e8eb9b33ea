"""Pilot study for issue 14: bootstrap coverage under candidate defaults.

Every validation task (``bayes_gmm_mi.datasets.VALIDATION_TASKS``), N rows, R data sets
(the same arrays as the calibration study: ``studies.calibration.sample_dataset``), one
bootstrap estimate (50 replicates) per configuration:

* ``data``     — ``transform=None``: the data's own coordinates (the default before issue 14);
* ``data-patience3`` — and ``patience=3`` (K keeps growing through a plateau of 2 K);
* ``rank``     — ``transform="rank"`` (normal scores of the ranks; MI unchanged);
* ``rank-patience3`` — both;
* ``auto``, ``auto-patience2``, ``auto-patience3`` — ``transform="auto"``: both
  representations, draws pooled, a ``MisspecificationWarning`` when they disagree;
* ``reselect`` — a prototype bootstrap that re-chooses K on every replicate.

``--method vi`` (or ``mcmc``) estimates with that method instead of the
bootstrap; its records are kept under ``<config>/<method>``.

Records (one JSON line per estimate) go to ``--out``/records.jsonl and are reused: the
study resumes where it stopped. ``--summarise-only`` prints and writes the summary.

    python -m studies.selection --n 1000 --datasets 20 --configs default patience3
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

CONFIGS = {
    # Every configuration names its transform and patience (the library's
    # defaults changed with issue 14: transform "auto", patience 3).
    # Before issue 14: the data's own coordinates, patience 1 (the defaults until then).
    "data": {"transform": None, "patience": 1},
    "data-patience3": {"transform": None, "patience": 3},
    "rank": {"transform": "rank", "patience": 1},
    "rank-patience3": {"transform": "rank", "patience": 3},
    # Issue 14: both representations, draws pooled; auto-patience2 is the new default.
    "auto": {"transform": "auto", "patience": 1},
    "auto-patience2": {"transform": "auto", "patience": 2},
    "auto-patience3": {"transform": "auto", "patience": 3},
    # Bootstrap that re-chooses K on every replicate (continuous pairs only; uses the
    # private pipeline: a prototype of issue 14's model uncertainty).
    "reselect": {},
    # The library's defaults as of the commit recorded with each record (after issue 14's
    # defaults: the nearest-neighbour check, the posterior spread calibrated by a small
    # bootstrap, KL/categorical bias corrections).
    "current": {},
}
OUT = Path(__file__).parent / "results"


def _commit() -> str:
    """The git commit the study runs (recorded with each estimate), or "unknown"."""
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


COMMIT = _commit()


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def reselecting_bootstrap(x, y, random_state: int, n_bootstrap: int = 50):
    """Bootstrap MI where every replicate chooses its own K (weighted rows, so all
    copies of a row share a fold), each replicate integrated in full."""
    import bayes_gmm_mi as bm
    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._pipeline import engine, prepare
    from bayes_gmm_mi._pipeline.integrate import base_samples, integrate
    from bayes_gmm_mi._pipeline.seeds import Stream, child_seeds
    from bayes_gmm_mi._pipeline.settings import fit_settings
    from bayes_gmm_mi._pipeline.uncertainty import bootstrap_counts
    from bayes_gmm_mi._validation import as_block, seed_from

    est = bm.GMMMI(random_state=random_state, n_bootstrap=0, transform=None,
                   patience=1).fit(x, y)
    params = est.get_params()
    blocks = [as_block(x, "x"), as_block(y, "y")]
    scaled, _ = prepare.scale_joint(blocks, transform=None)
    n, d = scaled.shape
    seed = seed_from(random_state)
    counts = bootstrap_counts(seed, n, n_bootstrap)
    data = prepare.stack([scaled] * n_bootstrap, [np.arange(n)] * n_bootstrap,
                         child_seeds(seed, Stream.BOOTSTRAP, n_bootstrap))
    n_pad = data.row_index.shape[1]
    weights = np.zeros((n_bootstrap, n_pad), np.float32)
    weights[:, :n] = counts
    data = data._replace(weights=weights)
    fitted, selection, _ = engine.fit_data_sets(data, fit_settings(params), n_samples=n,
                                                seed=seed)
    terms = _mi.mi_terms(blocks[0].shape[1], d)
    values, _ = integrate(fitted.fits, terms, base_samples(seed, params["mc_samples"], d))
    return _Result(est.mi_, values, int(np.median(selection.k)))


class _Result:
    """The parts of an MIResult the study reads."""

    def __init__(self, point: float, draws: np.ndarray, k: int) -> None:
        self.point_estimate, self.draws, self.n_components = point, draws, k
        self.mean, self.std = float(np.mean(draws)), float(np.std(draws, ddof=1))

    def interval(self, prob: float) -> tuple[float, float]:
        tail = (1 - prob) / 2
        lo, hi = np.quantile(self.draws, [tail, 1 - tail])
        return float(lo), float(hi)


def run(tasks: list[str], n: int, datasets: int, configs: list[str], out: Path,
        method: str = "bootstrap") -> None:
    import bayes_gmm_mi as bm
    from studies.calibration.study import sample_dataset

    out.mkdir(parents=True, exist_ok=True)
    path = out / "records.jsonl"
    done = {(r["task"], r["n"], r["dataset"], r["config"]) for r in _load(path)}
    # Data set after data set over all tasks: an interrupted run leaves every task
    # with about the same number of records.
    for r in range(datasets):
        for task_name in tasks:
            task = bm.datasets.get_validation_task(task_name)
            x, y = sample_dataset(task_name, n, r)
            for base_config in configs:
                config = base_config if method == "bootstrap" else f"{base_config}/{method}"
                key = (task_name, n, r, config)
                if key in done:
                    continue
                options = dict(CONFIGS[base_config])
                start = time.perf_counter()
                if base_config == "reselect" and (task.discrete_y or method != "bootstrap"):
                    continue
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    if base_config == "reselect":
                        res = reselecting_bootstrap(x, y, random_state=1000 + r)
                    else:
                        res = bm.mutual_information(
                            x, y, discrete_y=bool(task.discrete_y), random_state=1000 + r,
                            method=method, **options)
                elapsed = time.perf_counter() - start
                lo95, hi95 = res.interval(0.95)
                lo68, hi68 = res.interval(0.68)
                record = {
                    "task": task_name, "n": n, "dataset": r, "config": config,
                    "truth": float(task.mi), "point": res.point_estimate, "mean": res.mean,
                    "sd": res.std, "lo95": lo95, "hi95": hi95, "lo68": lo68, "hi68": hi68,
                    "k": res.n_components, "time_s": elapsed,
                    "mc_error": float(getattr(res, "mc_error", 0.0)),
                    "warnings": sorted({w.category.__name__ for w in caught}),
                }
                record["commit"] = COMMIT
                info = getattr(res, "info", {})
                if "knn_check" in info:
                    record["knn_mi"] = info["knn_check"]["knn_mi"]
                    record["knn_below"] = info["knn_check"]["below"]
                if "posterior_scale" in info:
                    record["posterior_scale"] = [float(v) for v in info["posterior_scale"]]
                if "agreement" in info:
                    record["agreement_z"] = info["agreement"]["z"]
                    record["agreement_shift"] = info["agreement"].get("shift")
                for name, rep in info.get("representations", {}).items():
                    d = rep["draws"]
                    record[f"{name}_point"] = rep["mi"]
                    record[f"{name}_k"] = rep["n_components"]
                    record[f"{name}_sd"] = float(np.std(d, ddof=1)) if d.size > 1 else None
                    for prob in (0.95, 0.68):
                        tail = 50 * (1 - prob)
                        lo, hi = np.percentile(d, [tail, 100 - tail])
                        record[f"{name}_lo{round(prob * 100)}"] = float(lo)
                        record[f"{name}_hi{round(prob * 100)}"] = float(hi)
                with path.open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
                print(f"{task_name:18s} r={r:2d} {config:15s} MI={res.mean:.4f} "
                      f"truth={task.mi:.4f} K={res.n_components} {elapsed:.1f}s", flush=True)


def _rate(hits: int, total: int) -> str:
    if not total:
        return "–"
    p = hits / total
    return f"{p:.3f} ({math.sqrt(p * (1 - p) / total):.3f})"


def summarise(out: Path) -> str:
    """Per task and configuration, then pooled: coverage, warnings, silent misses.

    A *silent miss* is a 95 % interval that misses the truth without a
    ``MisspecificationWarning``; an independent task's interval *excludes 0*
    when its lower end is above the Monte Carlo error.
    """
    records = _load(out / "records.jsonl")
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        groups.setdefault((rec["n"], rec["task"], rec["config"]), []).append(rec)
    lines = ["| N | task | config | R | bias | 95 % coverage | 68 % coverage | mean width 95 "
             "| median K | warned | silent misses | median time s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    pooled: dict[tuple, dict[str, int]] = {}
    for (n, task, config), recs in sorted(groups.items()):
        truth = recs[0]["truth"]
        cov95 = [r["lo95"] <= truth <= r["hi95"] for r in recs]
        cov68 = [r["lo68"] <= truth <= r["hi68"] for r in recs]
        warned = ["MisspecificationWarning" in r["warnings"] for r in recs]
        silent = [not c and not w for c, w in zip(cov95, warned, strict=True)]
        bias = np.mean([r["point"] - truth for r in recs])
        width = np.mean([r["hi95"] - r["lo95"] for r in recs])
        lines.append(
            f"| {n} | {task} | {config} | {len(recs)} | {bias:+.4f} | {np.mean(cov95):.2f} | "
            f"{np.mean(cov68):.2f} | {width:.4f} | {np.median([r['k'] for r in recs]):.0f} | "
            f"{np.mean(warned):.2f} | {np.mean(silent):.2f} | "
            f"{np.median([r['time_s'] for r in recs]):.2f} |")
        p = pooled.setdefault((n, config), dict.fromkeys(
            ("c95", "c68", "total", "silent", "warned", "zero_total", "zero_excluded",
             "zero_warned"), 0))
        if truth > 0:
            p["c95"] += sum(cov95)
            p["c68"] += sum(cov68)
            p["total"] += len(recs)
            p["silent"] += sum(silent)
            p["warned"] += sum(warned)
        else:
            p["zero_total"] += len(recs)
            p["zero_excluded"] += sum(r["lo95"] > r.get("mc_error", 0.0) for r in recs)
            p["zero_warned"] += sum(warned)
    lines += ["", "Pooled over the tasks with MI > 0, and over the tasks with MI = 0 (binomial "
              "standard error in brackets):", "",
              "| N | config | estimates | 95 % coverage | 68 % coverage | silent misses | "
              "warned | MI = 0: estimates | excludes 0 | warned |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for (n, config), p in sorted(pooled.items()):
        lines.append(
            f"| {n} | {config} | {p['total']} | {_rate(p['c95'], p['total'])} | "
            f"{_rate(p['c68'], p['total'])} | {_rate(p['silent'], p['total'])} | "
            f"{_rate(p['warned'], p['total'])} | {p['zero_total']} | "
            f"{_rate(p['zero_excluded'], p['zero_total'])} | "
            f"{_rate(p['zero_warned'], p['zero_total'])} |")
    return "\n".join(lines)


def side_by_side(out: Path, before: str, after: str, n: int) -> str:
    """Per task at N = ``n``: 95 % coverage, bias of the point estimate, mean 95 % width
    and median time of two configurations, on the data sets both have."""
    records = _load(out / "records.jsonl")
    pick = {c: {(r["task"], r["dataset"]): r for r in records
                if r["config"] == c and r["n"] == n} for c in (before, after)}
    common = sorted(set(pick[before]) & set(pick[after]))
    tasks = sorted({t for t, _ in common})
    lines = [f"| task (N = {n}) | R | truth | 95 % {before} → {after} | 68 % | bias | "
             "width 95 | warned | time s |", "|---|---|---|---|---|---|---|---|---|"]
    for task in tasks:
        keys = [k for k in common if k[0] == task]
        cells = []
        for stat in ("c95", "c68", "bias", "width", "warned", "time"):
            vals = []
            for c in (before, after):
                recs = [pick[c][k] for k in keys]
                truth = recs[0]["truth"]
                v = {"c95": np.mean([r["lo95"] <= truth <= r["hi95"] for r in recs]),
                     "c68": np.mean([r["lo68"] <= truth <= r["hi68"] for r in recs]),
                     "bias": np.mean([r["point"] - truth for r in recs]),
                     "width": np.mean([r["hi95"] - r["lo95"] for r in recs]),
                     "warned": np.mean(["MisspecificationWarning" in r["warnings"]
                                        for r in recs]),
                     "time": np.median([r["time_s"] for r in recs])}[stat]
                vals.append(f"{v:+.3f}" if stat == "bias" else f"{v:.2f}" if stat != "width"
                            else f"{v:.3f}")
            cells.append(" → ".join(vals))
        lines.append(f"| {task} | {len(keys)} | {pick[before][keys[0]]['truth']:.4f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare_gmmmi(out: Path, calibration: Path, configs: list[str]) -> str:
    """Coverage of GMM-MI 0.8.2 (its own defaults; the calibration study's records) and of
    ``configs`` on the same data sets (task, N, data set), 95 % and 68 %."""
    import glob

    ours = _load(out / "records.jsonl")
    theirs = {}
    for name in glob.glob(str(calibration / "*_gmmmi_*.json")):
        rec = json.loads(Path(name).read_text())
        if rec.get("ok"):
            theirs[(rec["task"], rec["n"], rec["dataset"])] = rec
    rows = ["| config | estimates | tasks | 95 % coverage | 68 % coverage | mean width 95 |",
            "|---|---|---|---|---|---|"]
    keys = set(theirs)
    shared = {c: {(r["task"], r["n"], r["dataset"]): r for r in ours if r["config"] == c
                  and (r["task"], r["n"], r["dataset"]) in keys and r["truth"] > 0}
              for c in configs}
    common = set.intersection(*(set(v) for v in shared.values())) if shared else set()
    def line(name: str, recs: list[tuple[float, float, float, float, float]]) -> str:
        c95 = sum(lo <= t <= hi for t, lo, hi, _, _ in recs)
        c68 = sum(lo <= t <= hi for t, _, _, lo, hi in recs)
        width = np.mean([hi - lo for _, lo, hi, _, _ in recs]) if recs else math.nan
        tasks = len({k[0] for k in common})
        return (f"| {name} | {len(recs)} | {tasks} | {_rate(c95, len(recs))} | "
                f"{_rate(c68, len(recs))} | {width:.4f} |")
    gm = [(theirs[k]["truth"], *theirs[k]["intervals"]["normal"]["0.95"],
           *theirs[k]["intervals"]["normal"]["0.68"]) for k in sorted(common)]
    rows.append(line("GMM-MI 0.8.2", gm))
    for c in configs:
        rows.append(line(c, [(shared[c][k]["truth"], shared[c][k]["lo95"], shared[c][k]["hi95"],
                              shared[c][k]["lo68"], shared[c][k]["hi68"])
                             for k in sorted(common)]))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    from bayes_gmm_mi.datasets import VALIDATION_TASKS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(VALIDATION_TASKS))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--method", choices=("bootstrap", "vi", "mcmc"), default="bootstrap")
    parser.add_argument("--summarise-only", action="store_true")
    parser.add_argument("--side-by-side", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="also write a per-task table of two configurations")
    parser.add_argument("--compare-gmmmi", type=Path, metavar="RECORDS",
                        help="the calibration study's records directory: also write "
                        "gmmmi.md, GMM-MI 0.8.2 against --configs on the same data sets")
    args = parser.parse_args(argv)
    if not args.summarise_only:
        run(args.tasks, args.n, args.datasets, args.configs, args.out, args.method)
    text = summarise(args.out)
    (args.out / "summary.md").write_text(text + "\n")
    print(text)
    if args.side_by_side:
        before, after = args.side_by_side
        for n in sorted({r["n"] for r in _load(args.out / "records.jsonl")}):
            table = side_by_side(args.out, before, after, n)
            if table.count("\n") < 2:          # no data set that both have
                continue
            name = f"{before}_vs_{after}_n{n}.md".replace("/", "-")
            (args.out / name).write_text(table + "\n")
            print(table)
    if args.compare_gmmmi:
        table = compare_gmmmi(args.out, args.compare_gmmmi, args.configs)
        (args.out / "gmmmi.md").write_text(table + "\n")
        print(table)


if __name__ == "__main__":
    main()
