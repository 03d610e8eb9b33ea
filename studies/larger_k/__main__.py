"""Issue 14: the choice of K in the error bars — which larger K, and what it buys.

For every validation task (``bayes_gmm_mi.datasets.VALIDATION_TASKS``), N rows and
R data sets (the calibration study's arrays, ``studies.calibration.sample_dataset``),
one estimate with the library's defaults (``method`` bootstrap, vi or mcmc) is
recorded, with the quantiles of each representation's draws, and — at N <= 1000, for
the continuous tasks — the MI of the data-coordinates mixture refitted at fixed larger
K: ``K* + 1 … K* + 4``, ``ceil(1.5 K*)``, ``2 K*`` and the default rule
``max(K* + 2, ceil(1.5 K*))`` (K* the chosen K). ``--summarise-only`` then evaluates,
offline on those records, the interval of each candidate rule: the union of the
recorded interval without the larger-K block (the two representations' central
intervals) and the primary representation's interval moved to the larger-K fit
(:func:`bayes_gmm_mi._pipeline.models.with_larger_k`).

Records: ``--out``/records_<method>_<n>.jsonl (one line per estimate, resumable; not
in git); summary: ``--out``/summary.md.

    PYTHONPATH=. .venv/bin/python -m studies.larger_k --n 1000 --datasets 20
    PYTHONPATH=. .venv/bin/python -m studies.larger_k --n 1000 --datasets 20 --method vi
    PYTHONPATH=. .venv/bin/python -m studies.larger_k --summarise-only
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results"
#: Candidate rules for the larger K: name -> K from the chosen K.
RULES = {
    "+1": lambda k: k + 1,
    "+2": lambda k: k + 2,
    "+3": lambda k: k + 3,
    "+4": lambda k: k + 4,
    "1.5x": lambda k: math.ceil(1.5 * k),
    "2x": lambda k: 2 * k,
    "max(+2, 1.5x)": lambda k: max(k + 2, math.ceil(1.5 * k)),
}


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _quantiles(draws: np.ndarray) -> list[float]:
    return [float(v) for v in np.percentile(draws, [2.5, 16, 50, 84, 97.5])]


def run(n: int, datasets: int, method: str, out: Path, tasks: list[str]) -> None:
    import bayes_gmm_mi as bm
    from studies.calibration.study import sample_dataset

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"records_{method}_{n}.jsonl"
    done = {(r["task"], r["dataset"]) for r in _load(path)}
    for r in range(datasets):                  # data set after data set: balanced if stopped
        for name in tasks:
            if (name, r) in done:
                continue
            task = bm.datasets.get_validation_task(name)
            x, y = sample_dataset(name, n, r)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = bm.mutual_information(x, y, discrete_y=bool(task.discrete_y),
                                            random_state=1000 + r, method=method)
            rec = {"task": name, "n": n, "dataset": r, "method": method,
                   "truth": float(task.mi), "point": res.point_estimate,
                   "time_s": time.perf_counter() - start, "k": res.n_components,
                   "warnings": sorted({w.category.__name__ for w in caught}),
                   "larger_k": res.info.get("larger_k")}
            for prob in (0.95, 0.68):
                lo, hi = res.interval(prob)
                rec[f"lo{round(100 * prob)}"], rec[f"hi{round(100 * prob)}"] = lo, hi
            reps = res.info.get("representations", {})
            for rep, value in reps.items():
                rec[f"{rep}_point"] = value["mi"]
                rec[f"{rep}_k"] = value["n_components"]
                rec[f"{rep}_q"] = _quantiles(value["draws"])
            if reps and not task.discrete_y and n <= 1000:
                rec["alt"] = _larger_fits(bm, x, y, 1000 + r, reps["data"]["n_components"])
            with path.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(f"{name:26s} r={r:2d} {method} {rec['time_s']:.1f}s", flush=True)


def _larger_fits(bm, x, y, seed: int, k: int) -> dict[str, float | None]:
    """MI of the data-coordinates mixture at every candidate larger K (no draws)."""
    out: dict[str, float | None] = {}
    for kk in sorted({rule(k) for rule in RULES.values()}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out[str(kk)] = bm.mutual_information(x, y, random_state=seed, n_components=kk,
                                                     n_bootstrap=0, transform=None).point_estimate
            except ValueError:                  # more components than the rows allow
                out[str(kk)] = None
    return out


def _without_larger(rec: dict, prob: int) -> tuple[float, float]:
    """The interval of the two representations alone (the default before the larger K)."""
    i, j = (0, 4) if prob == 95 else (1, 3)
    return (min(rec["data_q"][i], rec["rank_q"][i]), max(rec["data_q"][j], rec["rank_q"][j]))


def interval(rec: dict, rule: str | None, prob: int = 95) -> tuple[float, float]:
    """The 95 % or 68 % interval of a record under a larger-K rule (None: without one)."""
    if "data_q" not in rec:                      # categorical task: one model, no larger K
        return rec[f"lo{prob}"], rec[f"hi{prob}"]
    lo, hi = _without_larger(rec, prob)
    if rule is None or "alt" not in rec:
        return lo, hi
    value = rec["alt"].get(str(RULES[rule](rec["data_k"])))
    if value is None:
        return lo, hi
    i, j = (0, 4) if prob == 95 else (1, 3)
    shift = value - rec["data_point"]
    return min(lo, rec["data_q"][i] + shift), max(hi, rec["data_q"][j] + shift)


def _rate(hits: int, total: int) -> str:
    if not total:
        return "–"
    p = hits / total
    return f"{p:.3f} ({math.sqrt(p * (1 - p) / total):.3f})"


def summarise_records(records: list[dict], title: str) -> list[str]:
    """Per task and rule: 95 % / 68 % coverage and mean 95 % width; pooled lines."""
    rules: list[str | None] = [None, *RULES]
    label = ["none", *RULES]
    tasks = sorted({r["task"] for r in records})
    lines = [f"### {title}", "", "95 % coverage / 68 % coverage / mean 95 % width per "
             "larger-K rule (`none`: the two representations alone). MI = 0 tasks: the "
             "share of intervals whose lower end is above 0.002 nats / mean width.", "",
             "| task | R | " + " | ".join(label) + " |", "|---|---|" + "---|" * len(label)]
    pooled = {lab: [0, 0, 0, 0] for lab in label}        # c95, c68, silent, total
    widths = {lab: [] for lab in label}
    for task in tasks:
        recs = [r for r in records if r["task"] == task]
        truth = recs[0]["truth"]
        cells = []
        for rule, lab in zip(rules, label, strict=True):
            iv95 = [interval(r, rule) for r in recs]
            width = float(np.mean([hi - lo for lo, hi in iv95]))
            if truth == 0:
                excl = np.mean([lo > 0.002 for lo, _ in iv95])
                cells.append(f"{excl:.2f} / {width:.3f}")
                continue
            cov = [lo <= truth <= hi for lo, hi in iv95]
            c68 = [lo <= truth <= hi for lo, hi in (interval(r, rule, 68) for r in recs)]
            silent = [not c and "MisspecificationWarning" not in r["warnings"]
                      for c, r in zip(cov, recs, strict=True)]
            p = pooled[lab]
            p[0] += sum(cov)
            p[1] += sum(c68)
            p[2] += sum(silent)
            p[3] += len(recs)
            widths[lab].append(width)
            cells.append(f"{np.mean(cov):.2f} / {np.mean(c68):.2f} / {width:.3f}")
        lines.append(f"| {task} | {len(recs)} | " + " | ".join(cells) + " |")
    lines += ["", "| rule | estimates | 95 % coverage | 68 % coverage | silent misses | "
              "mean 95 % width (mean over tasks) |", "|---|---|---|---|---|---|"]
    for lab in label:
        c95, c68, silent, total = pooled[lab]
        lines.append(f"| {lab} | {total} | {_rate(c95, total)} | {_rate(c68, total)} | "
                     f"{_rate(silent, total)} | {np.mean(widths[lab]):.4f} |")
    return lines + [""]


def summarise(out: Path) -> str:
    lines = ["# Larger-K study (issue 14)", "",
             "Generated by `python -m studies.larger_k --summarise-only` from "
             "`records_<method>_<n>.jsonl`. Silent miss: the 95 % interval misses the truth "
             "and no `MisspecificationWarning` was raised (the warnings of the recorded call).",
             ""]
    for path in sorted(out.glob("records_*.jsonl")):
        records = _load(path)
        method, n = path.stem.split("_")[1:]
        if any("alt" in r for r in records):
            lines += summarise_records(records, f"{method}, N = {n}: larger-K rules")
        title = f"{method}, N = {n}: the defaults"
        if any(r.get("offline") for r in records):
            title += (" (the larger-K block added offline to records of the code before it, "
                      "from the recorded fits: `interval(record, 'max(+2, 1.5x)')`)")
        lines += _defaults(records, title)
    return "\n".join(lines)


def _defaults(records: list[dict], title: str) -> list[str]:
    """Per task: coverage of the recorded interval (the library's defaults), bias of the
    point estimate, width, warnings, time; then pooled."""
    tasks = sorted({r["task"] for r in records})
    lines = [f"### {title}", "", "| task | R | truth | 95 % | 95 % without the larger K | "
             "68 % | bias | mean width 95 | warned | silent misses | median time s |",
             "|---" * 11 + "|"]
    tot = dict.fromkeys(("c95", "c95_none", "c68", "n", "silent", "warned", "zero", "excl"), 0)
    for task in tasks:
        recs = [r for r in records if r["task"] == task]
        truth = recs[0]["truth"]
        cov = [r["lo95"] <= truth <= r["hi95"] for r in recs]
        cov_none = [lo <= truth <= hi for lo, hi in (interval(r, None) for r in recs)]
        c68 = [r["lo68"] <= truth <= r["hi68"] for r in recs]
        warned = ["MisspecificationWarning" in r["warnings"] for r in recs]
        silent = [not c and not w for c, w in zip(cov, warned, strict=True)]
        lines.append(
            f"| {task} | {len(recs)} | {truth:.4f} | {np.mean(cov):.2f} | "
            f"{np.mean(cov_none):.2f} | {np.mean(c68):.2f} | "
            f"{np.mean([r['point'] - truth for r in recs]):+.4f} | "
            f"{np.mean([r['hi95'] - r['lo95'] for r in recs]):.4f} | {np.mean(warned):.2f} | "
            f"{np.mean(silent):.2f} | {np.median([r['time_s'] for r in recs]):.2f} |")
        if truth > 0:
            tot["c95"] += sum(cov)
            tot["c95_none"] += sum(cov_none)
            tot["c68"] += sum(c68)
            tot["n"] += len(recs)
            tot["silent"] += sum(silent)
            tot["warned"] += sum(warned)
        else:
            tot["zero"] += len(recs)
            tot["excl"] += sum(r["lo95"] > 0.002 for r in recs)
    lines += ["", f"Pooled over the tasks with MI > 0: {tot['n']} estimates, 95 % coverage "
              f"{_rate(tot['c95'], tot['n'])} (without the larger K "
              f"{_rate(tot['c95_none'], tot['n'])}), 68 % {_rate(tot['c68'], tot['n'])}, silent "
              f"misses {_rate(tot['silent'], tot['n'])}, warned {_rate(tot['warned'], tot['n'])};"
              f" MI = 0 tasks: {tot['zero']} estimates, lower end above 0.002 nats in "
              f"{_rate(tot['excl'], tot['zero'])}.", ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    from bayes_gmm_mi.datasets import VALIDATION_TASKS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--method", choices=("bootstrap", "vi", "mcmc"), default="bootstrap")
    parser.add_argument("--tasks", nargs="+", default=list(VALIDATION_TASKS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.summarise_only:
        run(args.n, args.datasets, args.method, args.out, args.tasks)
    args.out.mkdir(parents=True, exist_ok=True)
    text = summarise(args.out)
    (args.out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
