"""Evaluate the kNN misspecification check on recorded intervals.

The selection study (``studies/selection``) recorded, per validation task, N and
data set, the default estimator's 95 % interval and the warnings it raised. The
data sets are reproducible (``studies.calibration.study.sample_dataset``), so the
check of :mod:`bayes_gmm_mi._pipeline.knn` can be evaluated on exactly those
data without fitting anything again: for each record, would the check fire, and
does it fire on the misses (truth outside the interval) rather than on the
covered data sets?

Run::

    PYTHONPATH=. .venv/bin/python -m studies.knn_check [--configs auto-patience2 ...]

writes ``studies/knn_check/results/summary.md``.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from bayes_gmm_mi._pipeline import knn

RECORDS = Path("studies/selection/results/records.jsonl")
OUT = Path("studies/knn_check/results")


def _rate(hits: int, total: int) -> str:
    if total == 0:
        return "–"
    p = hits / total
    se = (p * (1 - p) / total) ** 0.5
    return f"{hits}/{total} ({100 * p:.1f} % ± {100 * se:.1f})"


def evaluate(configs: list[str]) -> str:
    import bayes_gmm_mi as bm
    from studies.calibration.study import sample_dataset

    cache: dict[tuple[str, int, int], knn.KnnEstimate] = {}
    rows = []
    for line in RECORDS.open():
        rec = json.loads(line)
        if rec["config"] not in configs:
            continue
        key = (rec["task"], rec["n"], rec["dataset"])
        if key not in cache:
            task = bm.datasets.get_validation_task(rec["task"])
            x, y = sample_dataset(rec["task"], rec["n"], rec["dataset"])
            cache[key] = (knn.labelled_mi(x, y) if task.discrete_y else knn.ksg_mi(x, y))
        check = knn.check_against_knn(rec["hi95"], cache[key])
        covered = rec["lo95"] <= rec["truth"] <= rec["hi95"]
        warned = "MisspecificationWarning" in rec["warnings"] or any(
            w.endswith("Warning") and w not in ("ConvergenceWarning",) for w in rec["warnings"])
        rows.append((rec, check, covered, warned))
    lines = ["# kNN check on the selection study's records", "",
             f"Rule: fire when the kNN estimate exceeds the 95 % interval's upper end by more "
             f"than {knn.Z_KNN} kNN standard errors + max({knn.MIN_GAP_NATS} nats, "
             f"{knn.REL_GAP:.0%} of the upper end); k = {knn.N_NEIGHBORS}, at most "
             f"{knn.MAX_ROWS} rows.", ""]
    for config in configs:
        for n in sorted({r[0]["n"] for r in rows if r[0]["config"] == config}):
            sub = [r for r in rows if r[0]["config"] == config and r[0]["n"] == n]
            lines += [f"## {config}, N = {n}", "",
                      "| task | data sets | misses | misses flagged by kNN | silent misses before "
                      "| silent misses after | kNN fires on covered |",
                      "|---|---|---|---|---|---|---|"]
            per = collections.defaultdict(list)
            for r in sub:
                per[r[0]["task"]].append(r)
            tot = collections.Counter()
            for task, rs in sorted(per.items()):
                miss = [r for r in rs if not r[2]]
                cov = [r for r in rs if r[2]]
                flagged = sum(r[1]["below"] for r in miss)
                silent_before = sum(not r[3] for r in miss)
                silent_after = sum(not r[3] and not r[1]["below"] for r in miss)
                false = sum(r[1]["below"] for r in cov)
                tot.update(n=len(rs), miss=len(miss), flagged=flagged, sb=silent_before,
                           sa=silent_after, cov=len(cov), false=false)
                lines.append(f"| {task} | {len(rs)} | {len(miss)} | {flagged} | {silent_before} "
                             f"| {silent_after} | {false}/{len(cov)} |")
            lines.append(f"| **pooled** | {tot['n']} | {tot['miss']} | {tot['flagged']} | "
                         f"{_rate(tot['sb'], tot['n'])} | {_rate(tot['sa'], tot['n'])} | "
                         f"{_rate(tot['false'], tot['cov'])} |")
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+",
                        default=["auto-patience2", "auto-patience2/vi", "auto-patience2/mcmc"])
    args = parser.parse_args(argv)
    text = evaluate(args.configs)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
