"""Pilot study for issue 14: bootstrap coverage under candidate defaults.

Every validation task (``bayes_gmm_mi.datasets.VALIDATION_TASKS``), N rows, R data sets
(the same arrays as the calibration study: ``studies.calibration.sample_dataset``), one
bootstrap estimate (50 replicates) per configuration:

* ``default``  — the library's defaults;
* ``patience3`` — ``patience=3`` (K keeps growing through a plateau of 2 K);
* ``rank``     — ``transform="rank"`` (normal scores of the ranks; MI unchanged);
* ``rank-patience3`` — both.

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
    "default": {},
    "patience3": {"patience": 3},
    "rank": {"transform": "rank"},
    "rank-patience3": {"transform": "rank", "patience": 3},
    # Bootstrap that re-chooses K on every replicate (continuous pairs only; uses the
    # private pipeline: a prototype of issue 14's model uncertainty).
    "reselect": {},
}
OUT = Path(__file__).parent / "results"


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

    est = bm.GMMMI(random_state=random_state, n_bootstrap=0).fit(x, y)
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


def run(tasks: list[str], n: int, datasets: int, configs: list[str], out: Path) -> None:
    import bayes_gmm_mi as bm
    from studies.calibration.study import sample_dataset

    out.mkdir(parents=True, exist_ok=True)
    path = out / "records.jsonl"
    done = {(r["task"], r["n"], r["dataset"], r["config"]) for r in _load(path)}
    for task_name in tasks:
        task = bm.datasets.get_validation_task(task_name)
        for r in range(datasets):
            x, y = sample_dataset(task_name, n, r)
            for config in configs:
                key = (task_name, n, r, config)
                if key in done:
                    continue
                options = dict(CONFIGS[config])
                start = time.perf_counter()
                if config == "reselect" and task.discrete_y:
                    continue
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    if config == "reselect":
                        res = reselecting_bootstrap(x, y, random_state=1000 + r)
                    else:
                        res = bm.mutual_information(
                            x, y, discrete_y=bool(task.discrete_y), random_state=1000 + r,
                            **options)
                elapsed = time.perf_counter() - start
                lo95, hi95 = res.interval(0.95)
                lo68, hi68 = res.interval(0.68)
                record = {
                    "task": task_name, "n": n, "dataset": r, "config": config,
                    "truth": float(task.mi), "point": res.point_estimate, "mean": res.mean,
                    "sd": res.std, "lo95": lo95, "hi95": hi95, "lo68": lo68, "hi68": hi68,
                    "k": res.n_components, "time_s": elapsed,
                    "warnings": sorted({w.category.__name__ for w in caught}),
                }
                with path.open("a") as fh:
                    fh.write(json.dumps(record) + "\n")
                print(f"{task_name:18s} r={r:2d} {config:15s} MI={res.mean:.4f} "
                      f"truth={task.mi:.4f} K={res.n_components} {elapsed:.1f}s", flush=True)


def summarise(out: Path) -> str:
    records = _load(out / "records.jsonl")
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        groups.setdefault((rec["n"], rec["task"], rec["config"]), []).append(rec)
    lines = ["| N | task | config | R | bias | 95 % coverage | 68 % coverage | mean width 95 "
             "| median K | median time s |", "|---|---|---|---|---|---|---|---|---|---|"]
    pooled: dict[tuple, list[int]] = {}
    for (n, task, config), recs in sorted(groups.items()):
        truth = recs[0]["truth"]
        cov95 = [r["lo95"] <= truth <= r["hi95"] for r in recs]
        cov68 = [r["lo68"] <= truth <= r["hi68"] for r in recs]
        bias = np.mean([r["mean"] - truth for r in recs])
        width = np.mean([r["hi95"] - r["lo95"] for r in recs])
        lines.append(
            f"| {n} | {task} | {config} | {len(recs)} | {bias:+.4f} | {np.mean(cov95):.2f} | "
            f"{np.mean(cov68):.2f} | {width:.4f} | {np.median([r['k'] for r in recs]):.0f} | "
            f"{np.median([r['time_s'] for r in recs]):.2f} |")
        if truth > 0:
            p = pooled.setdefault((n, config), [0, 0, 0, 0])
            p[0] += sum(cov95)
            p[1] += sum(cov68)
            p[2] += len(recs)
        else:
            p = pooled.setdefault((n, config), [0, 0, 0, 0])
            p[3] += sum(r["lo95"] > 0 for r in recs)
    lines += ["", "Pooled over the tasks with MI > 0 (binomial standard error in brackets):", "",
              "| N | config | estimates | 95 % coverage | 68 % coverage |", "|---|---|---|---|---|"]
    for (n, config), (c95, c68, total, _) in sorted(pooled.items()):
        if total:
            p95, p68 = c95 / total, c68 / total
            se95 = math.sqrt(p95 * (1 - p95) / total)
            se68 = math.sqrt(p68 * (1 - p68) / total)
            lines.append(f"| {n} | {config} | {total} | {p95:.3f} ({se95:.3f}) | "
                         f"{p68:.3f} ({se68:.3f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from bayes_gmm_mi.datasets import VALIDATION_TASKS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=list(VALIDATION_TASKS))
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.summarise_only:
        run(args.tasks, args.n, args.datasets, args.configs, args.out)
    text = summarise(args.out)
    (args.out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
