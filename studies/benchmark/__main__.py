"""The "Beyond Normal" benchmark (issue 16): run it, resume it, summarise it.

Run from the repository root (``-m`` puts the root on ``sys.path``, so ``studies`` and
``bench`` are importable)::

    # the study of docs/benchmark.md (long: run it on a quiet machine)
    .venv/bin/python -m studies.benchmark --sizes 5000 1000 --n-datasets 10 \\
        --methods bootstrap vi ksg gmmmi --write-docs
    .venv/bin/python -m studies.benchmark --mcmc ...          # adds MCMC (slow)
    .venv/bin/python -m studies.benchmark --summarise-only --write-docs
    .venv/bin/python -m studies.benchmark --task-table        # the suite, exact MI
    # a smoke test
    nice .venv/bin/python -m studies.benchmark --sizes 200 --n-datasets 2 \\
        --methods bootstrap --tasks bn-binormal-1x1 bn-multinormal-2pair-3x3 --out /tmp/bn

Records (one JSON file per task x N x data set x method, the calibration study's
format) go to ``<out>/records/`` and are reused, so an interrupted run resumes; they
are not in git. ``<out>/skipped.json`` lists the (task, method) pairs that were not
run and why (our methods above ``MAX_DIMENSIONS`` columns, GMM-MI beyond 1 x 1). The
summary goes to ``<out>/summary.md`` (and ``summary.csv``), and with ``--write-docs``
into the results block of ``docs/benchmark.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

STUDY_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = STUDY_DIR / "results"
REPO_DIR = STUDY_DIR.parent.parent
DOC = REPO_DIR / "docs" / "benchmark.md"


def main(argv: list[str] | None = None) -> int:
    from studies.benchmark import study as bmk

    parser = argparse.ArgumentParser(prog="python -m studies.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", help="benchmark task names (default: all bn-...)")
    parser.add_argument("--paper-only", action="store_true",
                        help="only the 39 tasks of Czyż et al. (2023), not the extensions")
    parser.add_argument("--sizes", nargs="+", type=int, default=[5000, 1000])
    parser.add_argument("--n-datasets", type=int, default=10, help="data sets R per task and N")
    parser.add_argument("--methods", nargs="+", choices=list(bmk.METHODS),
                        default=["bootstrap", "vi", "ksg", "gmmmi"])
    parser.add_argument("--mcmc", action="store_true", help="add MCMC to --methods (slow)")
    parser.add_argument("--n-bootstrap", type=int, help="bootstrap replicates (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="the study's random_state")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--retry-failed", action="store_true")
    parser.add_argument("--summarise-only", action="store_true",
                        help="compute nothing; summarise the records in --out")
    parser.add_argument("--write-docs", action="store_true",
                        help=f"write the summary into {DOC.relative_to(REPO_DIR)}")
    parser.add_argument("--task-table", action="store_true",
                        help="print the suite's task table (exact MI) and exit")
    parser.add_argument("--gmmmi-timeout", type=float, default=1800.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s")

    if args.task_table:
        print(bmk.task_table(args.tasks))
        return 0
    methods = list(dict.fromkeys(args.methods + (["mcmc"] if args.mcmc else [])))
    tasks = bmk.resolve_tasks(args.tasks, paper_only=args.paper_only)
    settings = {"bootstrap": {"n_bootstrap": args.n_bootstrap}} if args.n_bootstrap else None
    start = time.perf_counter()
    if args.summarise_only:
        records, skipped = bmk.run_benchmark(
            tasks, args.sizes, args.n_datasets, methods, args.out, random_state=args.seed,
            settings=settings, cached_only=True)
    else:
        runner = None
        if "gmmmi" in methods:
            from bench._common import GMMMI_RUNNER, ensure_gmmmi_venv
            from studies.calibration import GMMMIRunner

            runner = GMMMIRunner(ensure_gmmmi_venv(), GMMMI_RUNNER, timeout_s=args.gmmmi_timeout)
        records, skipped = bmk.run_benchmark(
            tasks, args.sizes, args.n_datasets, methods, args.out, random_state=args.seed,
            settings=settings, gmmmi=runner, retry_failed=args.retry_failed)
    elapsed = time.perf_counter() - start
    report = bmk.format_report(records, skipped)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    header = (
        f"Command: `python -m studies.benchmark {command}`"
        f" — {len(records)} records, {len(tasks)} tasks, N = {args.sizes}, R = {args.n_datasets}, "
        f"methods {methods}; this run took {elapsed:.0f} s "
        f"(MAX_DIMENSIONS = {bmk.max_dimensions()}).\n\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(header + report)
    if records:
        from studies.calibration import summarise

        summarise(records).to_csv(args.out / "summary.csv", index=False)
    (args.out / "study.json").write_text(json.dumps({
        "tasks": [t.name for t in tasks], "sizes": args.sizes, "n_datasets": args.n_datasets,
        "methods": methods, "seed": args.seed, "elapsed_s": round(elapsed, 1),
        "max_dimensions": bmk.max_dimensions()}, indent=1) + "\n")
    print(header + report)
    if args.write_docs:
        if not bmk.write_docs(DOC, header + report):
            print(f"{DOC}: results markers not found; not written.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
