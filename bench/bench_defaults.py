"""Cost of the honest defaults of issue 14, side by side in one process.

Every validation task, a few data sets each (the calibration study's arrays),
N rows, 50 bootstrap replicates: ``mutual_information`` with the defaults before
issue 14 (``transform=None, patience=1``) and with today's defaults
(``transform="auto"``: both representations, ``patience=3``), interleaved so that
both see the same machine load, after one warm-up call of each (compilation
excluded). Prints the median time of each and the median and geometric-mean
ratio with a bootstrap interval; writes ``bench/results/defaults.json``.

    .venv/bin/python bench/bench_defaults.py --n 1000 --datasets 3
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: studies/

import _common  # noqa: E402

CONFIGS = {"before": {"transform": None, "patience": 1}, "default": {}}


def main(argv: list[str] | None = None) -> None:
    import bayes_gmm_mi as bm
    from bayes_gmm_mi.datasets import VALIDATION_TASKS
    from studies.calibration.study import sample_dataset

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=list(VALIDATION_TASKS))
    args = parser.parse_args(argv)

    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = sample_dataset("gaussian", args.n, 0)
        for options in CONFIGS.values():                        # compile once each
            bm.mutual_information(x, y, random_state=0, **options)
        for task_name in args.tasks:
            task = bm.datasets.get_validation_task(task_name)
            for r in range(args.datasets):
                x, y = sample_dataset(task_name, args.n, r)
                row = {"task": task_name, "dataset": r}
                for name, options in CONFIGS.items():
                    start = time.perf_counter()
                    bm.mutual_information(x, y, discrete_y=bool(task.discrete_y),
                                          random_state=1000 + r, **options)
                    row[name] = time.perf_counter() - start
                    times[name].append(row[name])
                rows.append(row)
                _common.log(f"{task_name} r={r}: before {row['before']:.2f} s, "
                            f"default {row['default']:.2f} s")
    ratio = np.array(times["default"]) / np.array(times["before"])
    rng = np.random.default_rng(0)
    boot = [np.median(rng.choice(ratio, ratio.size)) for _ in range(2000)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    summary = {
        "n": args.n, "datasets": args.datasets, "estimates": int(ratio.size),
        "median_s": {name: float(np.median(v)) for name, v in times.items()},
        "median_ratio": float(np.median(ratio)), "median_ratio_95": [float(lo), float(hi)],
        "geometric_mean_ratio": float(np.exp(np.mean(np.log(ratio)))),
        "ratio_of_medians": float(np.median(times["default"]) / np.median(times["before"])),
        "loadavg": _common.loadavg(), "machine": _common.machine_info(),
        "bayes_gmm_mi": _common.version("bayes_gmm_mi"),
    }
    print(f"N = {args.n}, {ratio.size} estimates: median time before "
          f"{summary['median_s']['before']:.2f} s, default {summary['median_s']['default']:.2f} s; "
          f"ratio of medians {summary['ratio_of_medians']:.2f}, median ratio "
          f"{summary['median_ratio']:.2f} [{lo:.2f}, {hi:.2f}], geometric mean "
          f"{summary['geometric_mean_ratio']:.2f}")
    _common.write_json(_common.RESULTS_DIR / f"defaults_n{args.n}.json",
                       {"summary": summary, "rows": rows})


if __name__ == "__main__":
    main()
