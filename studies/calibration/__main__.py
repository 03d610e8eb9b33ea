"""Calibration study: bias, RMSE and interval coverage of every MI method on known-MI tasks.

Run from the repository root (``-m``: the repository root is then on ``sys.path``, so
``studies`` and ``bench`` are importable; ``pip install -e ".[study]"`` adds scikit-learn
for KSG and matplotlib for the figures)::

    .venv/bin/python -m studies.calibration --quick        # ~5-7 min: 4 tasks, N = 200, 1000, R = 5
    .venv/bin/python -m studies.calibration --full         # the study of docs/validation.md:
                                                           # ~1 h on a quiet 2-core machine
    .venv/bin/python -m studies.calibration --full --skip-gmmmi
    .venv/bin/python -m studies.calibration --full --methods gmmmi   # one part (e.g. a 2nd process)
    .venv/bin/python -m studies.calibration --full --summarise-only  # tables + figures from records
    .venv/bin/python -m studies.calibration --tasks gaussian sinh --sizes 500 --n-datasets 10 \
        --methods bootstrap ksg

For each task x N x data set x method one estimate is made with
``studies.calibration.run_study`` and cached as a JSON record in ``<out>/records/``
(an existing record is never recomputed, so an interrupted run resumes). The records
are not in git (one small file per estimate): ``--summarise-only`` needs them, i.e. a
run of the same command without it first. At the end, every cached record of the
chosen plan is summarised (``summarise``: bias, RMSE, coverage of the 68 % / 95 % intervals with
binomial errors, widths, times) into ``<out>/summary.csv`` (+ ``summary.md``,
pooled coverage in ``coverage_pooled.csv``) and three figures:
``calibration_bias.png``, ``calibration_coverage.png``, ``calibration_time.png``
(in ``docs/figures/`` for ``--full``, in ``<out>/`` otherwise).

Methods: ``bootstrap``, ``vi``, ``mcmc`` (bayes_gmm_mi; one EM fit per data set),
``ksg`` (scikit-learn, k = 3) and ``gmmmi`` (GMM-MI 0.8.2 in bench/.venv-gmmmi, made by
``bench._common.ensure_gmmmi_venv()``, called through ``bench/_gmmmi_runner.py`` and
``bench/_gmmmi_categorical_runner.py``). See docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from bench._common import (
    GMMMI_CATEGORICAL_RUNNER,
    GMMMI_RUNNER,
    REPO_DIR,
    ensure_gmmmi_venv,
    gmmmi_versions,
    log,
    machine_info,
)

STUDY_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = STUDY_DIR / "results"
FIG_DIR = REPO_DIR / "docs" / "figures"

ALL_TASKS = [
    "gaussian",
    "half-cube",
    "sinh",
    "normal-cdf",
    "student-t",
    "uniform-noise",
    "bimodal",
    "gamma-exponential",
    "weinman",
    "canonical-2x2",
    "categorical",
    "independent",
]

# Each preset: tasks, per-method settings, and stages (methods, sizes, data sets R).
# Stages run in order; a stage with a larger R than an earlier one adds data sets.
PRESETS = {
    "quick": {
        "tasks": ["gaussian", "student-t", "uniform-noise", "categorical"],
        "settings": {
            "bootstrap": {"n_bootstrap": 50},
            "vi": {"svi_steps": 500, "num_samples": 300},
            "mcmc": {"num_chains": 4, "num_warmup": 100, "num_samples": 100},
        },
        "stages": [
            {"methods": ["bootstrap", "ksg", "vi"], "sizes": [200, 1000], "n_datasets": 5},
            {"methods": ["mcmc"], "sizes": [1000], "n_datasets": 5},
            {
                "methods": ["gmmmi"],
                "sizes": [1000],
                "n_datasets": 2,
                "tasks": ["gaussian", "categorical"],
            },
        ],
    },
    "full": {
        "tasks": ALL_TASKS,
        "settings": {
            "bootstrap": {"n_bootstrap": 50},
            "vi": {"svi_steps": 1000, "num_samples": 200},
            "mcmc": {"num_chains": 4, "num_warmup": 250, "num_samples": 100},
        },
        # In order of priority: N = 1000 first (the goals are stated there).
        "stages": [
            {
                "methods": ["bootstrap", "ksg", "vi"],
                "sizes": [1000],
                "n_datasets": {"bootstrap": 20, "ksg": 20, "vi": 20},
            },
            {"methods": ["gmmmi"], "sizes": [1000], "n_datasets": 10},
            {"methods": ["mcmc"], "sizes": [1000], "n_datasets": 10},
            {
                "methods": ["bootstrap", "ksg", "vi"],
                "sizes": [200],
                "n_datasets": {"bootstrap": 20, "ksg": 20, "vi": 10},
            },
            {"methods": ["mcmc"], "sizes": [200], "n_datasets": 10},
        ],
    },
}


def build_plan(args: argparse.Namespace) -> tuple[list[str], dict, list[dict]]:
    preset = PRESETS["quick" if args.quick else "full"]
    tasks = args.tasks or list(preset["tasks"])
    settings = json.loads(json.dumps(preset["settings"]))
    if args.mcmc is not None:
        settings["mcmc"].update(
            num_chains=args.mcmc[0], num_warmup=args.mcmc[1], num_samples=args.mcmc[2]
        )
    if args.n_bootstrap is not None:
        settings["bootstrap"]["n_bootstrap"] = args.n_bootstrap
    custom = args.sizes is not None or args.n_datasets is not None
    if custom and not (args.quick or args.full):
        methods = args.methods or ["bootstrap", "vi", "mcmc", "ksg", "gmmmi"]
        stages = [
            {
                "methods": methods,
                "sizes": args.sizes or [200, 1000],
                "n_datasets": args.n_datasets or 5,
            }
        ]
    else:
        stages = []
        for st in preset["stages"]:
            st = dict(st)
            if args.sizes is not None:
                st["sizes"] = list(args.sizes)
            if args.n_datasets is not None:
                st["n_datasets"] = args.n_datasets
            stages.append(st)
    keep = set(args.methods or ["bootstrap", "vi", "mcmc", "ksg", "gmmmi"])
    if args.skip_gmmmi:
        keep.discard("gmmmi")
    filtered = []
    for st in stages:
        methods = [m for m in st["methods"] if m in keep]
        if not methods:
            continue
        r = st["n_datasets"]
        if isinstance(r, dict):
            r = {m: r[m] for m in methods if m in r}
        filtered.append(dict(st, methods=methods, n_datasets=r))
    stages = filtered
    return tasks, settings, stages


def stage_tasks(stage: dict, tasks: list[str]) -> list[str]:
    """The tasks of a stage: its own "tasks" (if any) among the chosen ones, in their order."""
    own = stage.get("tasks")
    return [t for t in tasks if own is None or t in own] or tasks[:0]


def wide_tables(table, n: int) -> str:
    """Markdown: tasks x methods at one N -- bias +- se, and 95 % coverage +- se (in %)."""
    sub = table[table["n"] == n]
    if sub.empty:
        return ""
    methods = [m for m in ("bootstrap", "vi", "mcmc", "ksg", "gmmmi") if m in set(sub["method"])]
    tasks = list(dict.fromkeys(sub["task"]))

    def cell(task, m, kind):
        r = sub[(sub["task"] == task) & (sub["method"] == m)]
        if r.empty:
            return "n/a"
        r = r.iloc[0]
        if r["n_ok"] == 0:
            return f"failed ({int(r['n_failed'])})"
        tail = f" [{int(r['n_ok'])}]" + (f" ({int(r['n_failed'])} failed)" if r["n_failed"] else "")
        if kind == "bias":
            se = "" if r["bias_se"] != r["bias_se"] else f" ± {r['bias_se']:.3f}"
            return f"{r['bias']:+.3f}{se}{tail}"
        if r["coverage_95"] != r["coverage_95"]:
            return "–"
        return f"{100 * r['coverage_95']:.0f} ± {100 * r['coverage_95_se']:.0f}{tail}"

    out = []
    for kind, title in (
        ("bias", f"Bias (nats) at N = {n}, mean ± se [data sets]"),
        ("cov", f"95 % coverage (%) at N = {n}, ± binomial se [data sets]"),
    ):
        out.append(f"{title}:\n")
        out.append("| task | truth | EM point bias | " + " | ".join(methods) + " |")
        out.append("|---|---:|---:|" + "---:|" * len(methods))
        for task in tasks:
            boot = sub[(sub["task"] == task) & (sub["method"] == "bootstrap")]
            point = f"{boot['bias_point'].iloc[0]:+.3f}" if not boot.empty else "–"
            truth = sub[sub["task"] == task]["truth"].iloc[0]
            out.append(
                f"| {task} | {truth:.3f} | {point} | "
                + " | ".join(cell(task, m, kind) for m in methods)
                + " |"
            )
        out.append("")
    return "\n".join(out)


def mcmc_diagnostics(records: list[dict]):
    """Per (task, N): median R-hat and bulk ESS of the MI draws, runs flagged, divergences."""
    import pandas as pd

    rows = []
    for r in records:
        if r["method"] == "mcmc" and r.get("ok") and r.get("diagnostics"):
            d = r["diagnostics"]
            rows.append(
                {
                    "task": r["task"],
                    "n": r["n"],
                    "r_hat": d.get("r_hat"),
                    "ess_bulk": d.get("ess_bulk"),
                    "divergences": d.get("divergences") or 0,
                }
            )
    if not rows:
        return None
    df = pd.DataFrame(rows)
    return (
        df.groupby(["task", "n"])
        .agg(
            runs=("r_hat", "size"),
            r_hat_median=("r_hat", "median"),
            r_hat_max=("r_hat", "max"),
            ess_bulk_median=("ess_bulk", "median"),
            ess_bulk_min=("ess_bulk", "min"),
            runs_with_divergences=("divergences", lambda v: int((v > 0).sum())),
        )
        .reset_index()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_true",
        help="4 tasks, N = 200, 1000, R = 5, short chains (5-7 minutes on 2 cores)",
    )
    mode.add_argument(
        "--full",
        action="store_true",
        help="the study of docs/validation.md (about 1-1.5 h on 2 cores)",
    )
    parser.add_argument("--tasks", nargs="+", help="validation task names (default: the preset's)")
    parser.add_argument(
        "--sizes", nargs="+", type=int, help="sample sizes N (overrides every stage)"
    )
    parser.add_argument(
        "--n-datasets", type=int, help="data sets R per (task, N) (overrides every stage)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=["bootstrap", "vi", "mcmc", "ksg", "gmmmi"],
        help="run only these methods",
    )
    parser.add_argument(
        "--skip-gmmmi", action="store_true", help="do not run GMM-MI (no extra environment)"
    )
    parser.add_argument(
        "--mcmc",
        nargs=3,
        type=int,
        metavar=("CHAINS", "WARMUP", "SAMPLES"),
        help="NUTS chains, warm-up and draws per chain",
    )
    parser.add_argument("--n-bootstrap", type=int, help="bootstrap replicates of ours (default 50)")
    parser.add_argument(
        "--gmmmi-timeout",
        type=float,
        default=600.0,
        help="wall seconds per GMM-MI run (default 600)",
    )
    parser.add_argument(
        "--gmmmi-max-timeouts",
        type=int,
        default=1,
        help="after this many GMM-MI timeouts on a (task, N), skip its other data sets "
        "(default 1; 0 = never skip)",
    )
    parser.add_argument(
        "--retry-timeouts",
        action="store_true",
        help="rerun GMM-MI runs that timed out (cached failures are otherwise kept)",
    )
    parser.add_argument(
        "--transform",
        choices=["rank"],
        help="fit ours on rank-to-normal-score marginals (GMMMI transform='rank')",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the study (default 0)")
    parser.add_argument(
        "--interval",
        choices=["percentile", "hdi"],
        default="percentile",
        help="interval scored for vi/mcmc (default percentile)",
    )
    parser.add_argument(
        "--summarise-only", action="store_true", help="compute nothing; summarise the cache"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default studies/calibration/results, "
        "studies/calibration/results/quick with --quick)",
    )
    parser.add_argument(
        "--figures", type=Path, help="figure folder (default docs/figures with --full, else --out)"
    )
    parser.add_argument("--progress", action="store_true", help="tqdm progress bar")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stdout
    )
    for noisy in ("jax", "absl", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    import matplotlib

    matplotlib.use("Agg")
    from studies.calibration import study as cal

    out = args.out or (DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT)
    figures = args.figures or (FIG_DIR if args.full else out)
    records_dir = out / "records"
    tasks, settings, stages = build_plan(args)
    if not stages:
        parser.error("no method left to run")
    log(f"tasks: {', '.join(tasks)}")
    for st in stages:
        log(f"stage: {st['methods']} N={st['sizes']} R={st['n_datasets']}")
    log(f"settings: {settings}")

    runner, venv_versions = None, None
    if any("gmmmi" in st["methods"] for st in stages) and not args.summarise_only:
        py = ensure_gmmmi_venv()
        venv_versions = gmmmi_versions()
        runner = cal.GMMMIRunner(
            py,
            GMMMI_RUNNER,
            GMMMI_CATEGORICAL_RUNNER,
            args.gmmmi_timeout,
            max_timeouts=args.gmmmi_max_timeouts or None,
        )

    fit_options = {"transform": args.transform} if args.transform else None
    t_start = time.perf_counter()
    if not args.summarise_only:
        for st in stages:
            if not stage_tasks(st, tasks):
                continue
            log(f"running {st['methods']} N={st['sizes']} R={st['n_datasets']}")
            t0 = time.perf_counter()
            recs = cal.run_study(
                stage_tasks(st, tasks),
                st["sizes"],
                st["n_datasets"],
                st["methods"],
                records_dir,
                random_state=args.seed,
                progress=args.progress,
                settings=settings,
                gmmmi=runner,
                fit_options=fit_options,
                retry_failed="timeouts" if args.retry_timeouts else False,
            )
            new = sum(not r["from_cache"] for r in recs)
            log(f"  {len(recs)} records ({new} new) in {time.perf_counter() - t0:.0f} s")
    run_s = time.perf_counter() - t_start

    # Summary: every cached record of the whole plan (all stages, all methods).
    records, seen = [], set()
    for st in stages:
        if not stage_tasks(st, tasks):
            continue
        for r in cal.run_study(
            stage_tasks(st, tasks),
            st["sizes"],
            st["n_datasets"],
            st["methods"],
            records_dir,
            random_state=args.seed,
            settings=settings,
            gmmmi=runner,
            fit_options=fit_options,
            cached_only=True,
        ):
            key = (r["task"], r["n"], r["dataset"], r["method"])
            if key not in seen:
                seen.add(key)
                records.append(r)
    if not records:
        log(
            f"no records to summarise in {records_dir}: the raw records are not in git. "
            "Run the same command without --summarise-only first (it computes the records "
            "and then summarises them), e.g. `python -m studies.calibration "
            + ("--quick" if args.quick else "--full")
            + "`."
        )
        return 1
    table = cal.summarise(records, interval=args.interval)
    pooled = cal.pooled_coverage(table)
    # the other interval choices: HDI for vi/mcmc, the basic (reflected) bootstrap interval
    other = "hdi" if args.interval == "percentile" else "percentile"
    alt = cal.summarise(records, interval=other, bootstrap_interval="basic")
    pooled_alt = cal.pooled_coverage(alt)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    alt.to_csv(out / f"summary_{other}_basic-bootstrap.csv", index=False, float_format="%.6g")
    pooled.to_csv(out / "coverage_pooled.csv", index=False, float_format="%.6g")
    fmt = {"index": False, "float_format": lambda v: f"{v:.3f}"}
    diag = mcmc_diagnostics(records)
    if diag is not None:
        diag.to_csv(out / "mcmc_diagnostics.csv", index=False, float_format="%.4g")
    (out / "summary.md").write_text(
        f"Intervals: bootstrap percentile; vi/mcmc {args.interval}; GMM-MI mean ± z sd.\n\n"
        + cal.format_summary(table)
        + "\n\nPooled over tasks (MI > 0):\n\n"
        + pooled.to_string(**fmt)
        + f"\n\nPooled, basic bootstrap interval and {other} for vi/mcmc:\n\n"
        + pooled_alt.to_string(**fmt)
        + (
            "\n\nMCMC diagnostics of the MI draws:\n\n" + diag.to_string(**fmt)
            if diag is not None
            else ""
        )
        + "\n\n"
        + "\n".join(wide_tables(table, n) for n in sorted(set(table["n"]), reverse=True))
        + "\n"
    )
    meta = {
        "tasks": tasks,
        "stages": stages,
        "settings": settings,
        "seed": args.seed,
        "fit_options": fit_options,
        "interval": args.interval,
        "run_s": run_s,
        "n_records": len(records),
        "machine": machine_info(venv_versions),
    }
    (out / "study.json").write_text(json.dumps(meta, indent=1, default=str))
    figures.mkdir(parents=True, exist_ok=True)
    import matplotlib.pyplot as plt

    for name, fig in (
        ("bias", cal.plot_bias(table)),
        ("coverage", cal.plot_coverage(table)),
        ("time", cal.plot_time(table)),
    ):
        fig.savefig(figures / f"calibration_{name}.png", dpi=110)
        plt.close(fig)
    log(f"wrote {out / 'summary.csv'}, {out / 'summary.md'}, figures in {figures}")
    with_cov = table[table["coverage_95"].notna() | (table["method"] == "ksg")]
    cols = [
        "task",
        "n",
        "method",
        "n_ok",
        "n_failed",
        "bias",
        "bias_se",
        "rmse",
        "coverage_68",
        "coverage_95",
        "coverage_95_se",
        "width_95",
        "time_mean_s",
    ]
    print(with_cov[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(pooled.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    log(f"done (computing took {run_s:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
