"""Core benchmark: bayes_gmm_mi against GMM-MI 0.8.2 and scikit-learn's KSG estimator.

Run from the repository root::

    .venv/bin/python bench/bench_core.py            # full: N in {200, 2000, 20000}, seeds 0,1,2
    .venv/bin/python bench/bench_core.py --quick    # N in {200, 2000}, seed 0
    .venv/bin/python bench/bench_core.py --sizes 2000 --seeds 1 --skip-gmmmi

Two tasks with known MI (bivariate Gaussian rho=0.6; gamma-exponential alpha=1,
log-transformed). For every task x N x seed the same arrays go to every method:

* ``ours-warm``  -- ``bayes_gmm_mi.mutual_information`` in this process, after a
  warm-up call on a throwaway data set of the same task and size (so JIT
  compilation is excluded);
* ``ours-fresh`` -- the same call in a new Python process (import + JIT + estimate),
  with JAX's persistent compilation cache switched off (an honest cold start);
* ``ours-cached`` -- a new process as for ``ours-fresh``, but with the opt-in
  persistent compilation cache (``bayes_gmm_mi.configure_compilation_cache``, what
  the command line uses) already filled by an earlier process (one untimed priming
  run per task and size);
* ``gmmmi``      -- GMM-MI 0.8.2, default settings, in its own virtual environment
  ``bench/.venv-gmmmi`` (created on first use by pip from PyPI, because GMM-MI
  needs scikit-learn < 1.7); run by ``bench/_gmmmi_runner.py``;
* ``ksg``        -- ``sklearn.feature_selection.mutual_info_regression`` (k=3).

Results go to ``bench/results/core.json``; a summary table is printed.
See bench/README.md for what the numbers mean.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (
    GMMMI_RUNNER,
    REPO_DIR,
    RESULTS_DIR,
    ensure_gmmmi_venv,
    fresh_env,
    gmmmi_python,
    gmmmi_versions,
    jsonable,
    loadavg,
    log,
    machine_info,
    write_json,
)

DEFAULT_OUT = RESULTS_DIR / "core.json"

METHODS = ("ours-warm", "ours-fresh", "ours-cached", "gmmmi", "ksg")
TASK_IDS = {"gaussian_rho0.6": 0, "gamma_exp_alpha1_log": 1}

# --------------------------------------------------------------------------- data


class _InlineGaussian:
    """Bivariate standard normal with correlation rho (fallback generator)."""

    def __init__(self, rho: float) -> None:
        self.rho = rho
        self.mi = -0.5 * math.log(1.0 - rho**2)

    def sample(self, n, random_state):
        rng = np.random.default_rng(random_state)
        z = rng.standard_normal((n, 2))
        x = z[:, 0]
        y = self.rho * x + math.sqrt(1.0 - self.rho**2) * z[:, 1]
        return x, y


class _InlineGammaExp:
    """X ~ Gamma(alpha, 1), Y | X ~ Exponential(rate X); returns (log X, log Y)."""

    def __init__(self, alpha: float) -> None:
        from scipy.special import digamma

        self.alpha = alpha
        self.mi = float(digamma(alpha) - math.log(alpha) + 1.0 / alpha)

    def sample(self, n, random_state):
        rng = np.random.default_rng(random_state)
        x = rng.gamma(self.alpha, 1.0, n)
        y = rng.exponential(1.0 / x)
        return np.log(x), np.log(y)


def make_tasks() -> tuple[dict, str]:
    """The two known-MI tasks, from bayes_gmm_mi.datasets when available."""
    try:
        from bayes_gmm_mi.datasets import BivariateGaussian, GammaExponential

        tasks = {
            "gaussian_rho0.6": BivariateGaussian(0.6),
            "gamma_exp_alpha1_log": GammaExponential(1.0, log=True),
        }
        source = "bayes_gmm_mi.datasets"
    except Exception:  # module not written yet / broken: generate inline
        tasks = {
            "gaussian_rho0.6": _InlineGaussian(0.6),
            "gamma_exp_alpha1_log": _InlineGammaExp(1.0),
        }
        source = "inline (bench_core.py)"
    # The truths are fixed by the problem; check the generator agrees.
    expected = {
        "gaussian_rho0.6": -0.5 * math.log(1 - 0.36),
        "gamma_exp_alpha1_log": 0.42278433509846713,  # digamma(1) - log(1) + 1
    }
    for name, task in tasks.items():
        if abs(float(task.mi) - expected[name]) > 1e-9:
            raise RuntimeError(f"{name}: generator truth {task.mi} != {expected[name]}")
    return tasks, source


def data_seed(task: str, n: int, seed: int, throwaway: bool = False) -> np.random.SeedSequence:
    """Independent, reproducible stream per (task, N, seed); throwaway sets differ."""
    return np.random.SeedSequence([TASK_IDS[task], n, seed, 1 if throwaway else 0])


def sample(task_obj, n: int, ss: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    x, y = task_obj.sample(n, random_state=np.random.default_rng(ss))
    return np.ascontiguousarray(np.ravel(x), float), np.ascontiguousarray(np.ravel(y), float)


# --------------------------------------------------------------------------- methods

# Executed with `python -c` in a new process: import + JIT + one estimate.
FRESH_CODE = r"""
import json, sys, time
t_start = time.perf_counter()
import numpy as np
import bayes_gmm_mi
t_import = time.perf_counter() - t_start
data_path, out_path, n_boot, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if len(sys.argv) > 5:
    bayes_gmm_mi.configure_compilation_cache(True, sys.argv[5])
d = np.load(data_path)
x, y = d["x"], d["y"]
t0 = time.perf_counter()
res = bayes_gmm_mi.mutual_information(x, y, n_bootstrap=n_boot, random_state=seed)
mean, std = float(res.mean), float(res.std)
elapsed = time.perf_counter() - t0
with open(out_path, "w") as fh:
    json.dump({"time_s": elapsed, "import_s": t_import, "mi": mean, "std": std,
               "point_estimate": float(getattr(res, "point_estimate", float("nan"))),
               "n_components": int(res.n_components)}, fh)
"""


def run_ours_warm(x, y, n_boot, seed):
    import bayes_gmm_mi

    t0 = time.perf_counter()
    res = bayes_gmm_mi.mutual_information(x, y, n_bootstrap=n_boot, random_state=seed)
    mean, std = float(res.mean), float(res.std)  # forces any lazy device work
    elapsed = time.perf_counter() - t0
    lo, hi = res.interval(0.95)
    return {
        "time_s": elapsed,
        "mi": mean,
        "std": std,
        "point_estimate": float(getattr(res, "point_estimate", float("nan"))),
        "interval95": [float(lo), float(hi)],
        "n_components": int(res.n_components),
        "info": jsonable(dict(getattr(res, "info", {}) or {})),
    }


def run_ours_fresh(data_path: Path, n_boot: int, seed: int, timeout: float,
                   cache_dir: Path | None = None):
    """One estimate in a new process; with ``cache_dir``, the persistent cache is on."""
    out = data_path.with_suffix(".ours.json")
    cmd = [sys.executable, "-c", FRESH_CODE, str(data_path), str(out), str(n_boot), str(seed)]
    if cache_dir is not None:
        cmd.append(str(cache_dir))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=fresh_env(), cwd=REPO_DIR,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        return {"ok": False, "wall_s": wall, "error": proc.stderr[-1500:]}
    rec = json.loads(out.read_text())
    rec.update(ok=True, wall_s=wall)
    return rec


def run_gmmmi(data_path: Path, timeout: float):
    out = data_path.with_suffix(".gmmmi.json")
    cmd = [str(gmmmi_python()), str(GMMMI_RUNNER), str(data_path), str(out)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "wall_s": time.perf_counter() - t0, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        return {"ok": False, "wall_s": wall, "error": (proc.stderr or proc.stdout)[-1500:]}
    rec = json.loads(out.read_text())
    rec["wall_s"] = wall
    return rec


def run_ksg(x, y, seed):
    from sklearn.feature_selection import mutual_info_regression

    t0 = time.perf_counter()
    mi = mutual_info_regression(x.reshape(-1, 1), y, n_neighbors=3, random_state=seed)[0]
    return {"time_s": time.perf_counter() - t0, "mi": float(mi), "std": None}


# --------------------------------------------------------------------------- summary


def _mean(vals):
    vals = [v for v in vals if v is not None and isinstance(v, (int, float)) and math.isfinite(v)]
    return statistics.fmean(vals) if vals else None


def _median(vals):
    vals = [v for v in vals if v is not None and isinstance(v, (int, float)) and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def summarise(records: list[dict]) -> dict:
    groups: dict = {}
    for r in records:
        groups.setdefault((r["task"], r["n"], r["method"]), []).append(r)
    summary = {}
    for (task, n, method), rs in groups.items():
        ok = [r for r in rs if r.get("ok", True) and r.get("mi") is not None]
        summary[(task, n, method)] = {
            "runs": len(rs),
            "failed": len(rs) - len(ok),
            "median_time_s": _median([r.get("time_s") for r in ok]),
            "median_wall_s": _median([r.get("wall_s") for r in ok]),
            "mean_mi": _mean([r["mi"] for r in ok]),
            "mean_std": _mean([r.get("std") for r in ok]),
            "mean_bias": _mean([r["bias"] for r in ok]),
            "sd_mi_over_seeds": statistics.stdev([r["mi"] for r in ok]) if len(ok) > 1 else None,
            "n_components": sorted({r["n_components"] for r in ok if r.get("n_components") is not None}),
        }
    return summary


def _fmt(v, spec):
    """Format a number, or a right-aligned '-' of the same width when missing."""
    return format(v, spec) if v is not None else "-".rjust(len(format(0.0, spec)))


def _fmtx(v, width):
    return ("-" if v is None else f"{v:.1f}x").rjust(width)


def _ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def print_table(summary: dict, truths: dict) -> list[dict]:
    tasks = [t for t in TASK_IDS if any(k[0] == t for k in summary)]
    sizes = sorted({k[1] for k in summary})
    print()
    print("Per task x N x method (time_s = time of the estimate itself; wall_s = whole subprocess)")
    hdr = (f"{'task':<22} {'N':>6} {'method':<11} {'runs':>4} {'fail':>4} {'med time_s':>10} "
           f"{'med wall_s':>10} {'mean MI':>8} {'mean std':>8} {'mean bias':>9} {'K':>8}")
    print(hdr)
    print("-" * len(hdr))
    for task in tasks:
        print(f"{task}  (true MI = {truths[task]:.5f} nats)")
        for n in sizes:
            for method in METHODS:
                s = summary.get((task, n, method))
                if s is None:
                    continue
                ks = ",".join(str(k) for k in s["n_components"]) or "-"
                print(f"{'':<22} {n:>6} {method:<11} {s['runs']:>4} {s['failed']:>4} "
                      f"{_fmt(s['median_time_s'], '10.3f')} {_fmt(s['median_wall_s'], '10.2f')} "
                      f"{_fmt(s['mean_mi'], '8.4f')} {_fmt(s['mean_std'], '8.4f')} "
                      f"{_fmt(s['mean_bias'], '+9.4f')} {ks:>8}")
    ratios: list[dict] = []
    if not any(k[2] == "gmmmi" for k in summary) or not any(k[2].startswith("ours") for k in summary):
        return ratios
    print()
    print("Speed-up of ours over GMM-MI (ratio of median times; > 1 means ours is faster)")
    hdr2 = (f"{'task':<22} {'N':>6} {'GMM-MI/warm':>12} {'GMM-MI/fresh(in)':>17} "
            f"{'GMM-MI/fresh(wall)':>19} {'GMM-MI/cached(wall)':>20}")
    print(hdr2)
    print("-" * len(hdr2))
    for task in tasks:
        for n in sizes:
            g = summary.get((task, n, "gmmmi"))
            w = summary.get((task, n, "ours-warm"))
            f = summary.get((task, n, "ours-fresh"))
            c = summary.get((task, n, "ours-cached"))
            if g is None or (w is None and f is None and c is None):
                continue
            row = {
                "task": task,
                "n": n,
                "gmmmi_over_ours_warm": _ratio(g["median_time_s"], w and w["median_time_s"]),
                "gmmmi_over_ours_fresh_inside": _ratio(g["median_time_s"], f and f["median_time_s"]),
                "gmmmi_over_ours_fresh_wall": _ratio(g["median_wall_s"], f and f["median_wall_s"]),
                "gmmmi_over_ours_cached_wall": _ratio(g["median_wall_s"], c and c["median_wall_s"]),
            }
            ratios.append(row)
            print(f"{task:<22} {n:>6} {_fmtx(row['gmmmi_over_ours_warm'], 12)} "
                  f"{_fmtx(row['gmmmi_over_ours_fresh_inside'], 17)} "
                  f"{_fmtx(row['gmmmi_over_ours_fresh_wall'], 19)} "
                  f"{_fmtx(row['gmmmi_over_ours_cached_wall'], 20)}")
    print()
    return ratios


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="N in {200, 2000}, one seed (unless --sizes/--seeds say otherwise)")
    p.add_argument("--seeds", type=int, default=None, metavar="S",
                   help="number of seeds (data sets) per task and N: seeds 0..S-1 (default 3; 1 with --quick)")
    p.add_argument("--sizes", type=int, nargs="+", default=None, metavar="N",
                   help="sample sizes (default 200 2000 20000; 200 2000 with --quick)")
    p.add_argument("--tasks", nargs="+", choices=sorted(TASK_IDS), default=sorted(TASK_IDS, key=TASK_IDS.get))
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--skip-gmmmi", action="store_true", help="do not run (or install) GMM-MI")
    p.add_argument("--n-bootstrap", type=int, default=50, help="bootstrap replicates (default 50, as GMM-MI)")
    p.add_argument("--gmmmi-timeout", type=float, default=1800.0, help="seconds per GMM-MI run (default 1800)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = [200, 2000] if args.quick else [200, 2000, 20000]
    if args.seeds is None:
        args.seeds = 1 if args.quick else 3
    if args.skip_gmmmi and "gmmmi" in args.methods:
        args.methods.remove("gmmmi")
    return args


def main(argv=None) -> int:
    t_start = time.perf_counter()
    args = parse_args(argv)
    methods = args.methods
    seeds = list(range(args.seeds))
    log(f"bench_core: tasks={args.tasks} sizes={args.sizes} seeds={seeds} methods={methods} "
        f"n_bootstrap={args.n_bootstrap}")

    venv_versions = None
    if "gmmmi" in methods:
        ensure_gmmmi_venv()
        venv_versions = gmmmi_versions()

    ours_wanted = any(m.startswith("ours") for m in methods)
    if ours_wanted:
        try:
            import bayes_gmm_mi

            bayes_gmm_mi.mutual_information  # noqa: B018 - existence check
        except (ImportError, AttributeError) as exc:
            log(f"bayes_gmm_mi.mutual_information is not available ({exc}); skipping ours-*")
            methods = [m for m in methods if not m.startswith("ours")]

    tasks, data_source = make_tasks()
    log(f"data from {data_source}")
    truths = {t: float(tasks[t].mi) for t in args.tasks}

    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {"tasks": args.tasks, "sizes": args.sizes, "seeds": seeds, "methods": methods,
                     "n_bootstrap": args.n_bootstrap, "data_source": data_source,
                     "gmmmi_call": "EstimateMI().fit_estimate(np.column_stack([x, y]))",
                     "ksg_call": "mutual_info_regression(x.reshape(-1, 1), y, n_neighbors=3, random_state=seed)"},
        "truth": truths,
        "machine": machine_info(venv_versions),
    }
    records: list[dict] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save(extra=None):
        payload = dict(meta, records=records)
        if extra:
            payload.update(extra)
        write_json(args.out, payload)

    with tempfile.TemporaryDirectory(prefix="bench_core_") as tmpdir:
        tmpdir = Path(tmpdir)
        for task in args.tasks:
            truth = truths[task]
            for n in args.sizes:
                warmed = False
                for seed in seeds:
                    x, y = sample(tasks[task], n, data_seed(task, n, seed))
                    data_path = tmpdir / f"{task}_n{n}_s{seed}.npz"
                    np.savez(data_path, x=x, y=y)
                    base = {"task": task, "n": n, "seed": seed, "truth": truth}

                    def add(method, rec):
                        rec = dict(base, method=method, **rec)
                        rec["load_avg_1m"] = loadavg()
                        rec.setdefault("ok", True)
                        rec["bias"] = rec["mi"] - truth if rec.get("ok") and rec.get("mi") is not None else None
                        records.append(rec)
                        save()
                        if rec["ok"]:
                            parts = [f"MI={rec['mi']:.4f}"]
                            if rec.get("std") is not None:
                                parts.append(f"std={rec['std']:.4f}")
                            if rec.get("n_components") is not None:
                                parts.append(f"K={rec['n_components']}")
                            if rec.get("time_s") is not None:
                                parts.append(f"time={rec['time_s']:.3f}s")
                            if rec.get("wall_s") is not None:
                                parts.append(f"wall={rec['wall_s']:.2f}s")
                            log(f"  {task} N={n} seed={seed} {method:<11} " + " ".join(parts))
                        else:
                            log(f"  {task} N={n} seed={seed} {method:<11} FAILED: "
                                f"{str(rec.get('error', '')).strip().splitlines()[-1:]}")

                    if "ksg" in methods:
                        add("ksg", run_ksg(x, y, seed))
                    if "ours-warm" in methods:
                        if not warmed:
                            xw, yw = sample(tasks[task], n, data_seed(task, n, seed, throwaway=True))
                            t0 = time.perf_counter()
                            try:
                                run_ours_warm(xw, yw, args.n_bootstrap, seed)
                                log(f"  {task} N={n} warm-up (JIT) on a throwaway data set: "
                                    f"{time.perf_counter() - t0:.2f}s")
                            except Exception as exc:
                                log(f"  warm-up failed: {exc!r}")
                            warmed = True
                        try:
                            add("ours-warm", run_ours_warm(x, y, args.n_bootstrap, seed))
                        except Exception as exc:
                            add("ours-warm", {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1500]})
                    if "ours-fresh" in methods:
                        try:
                            add("ours-fresh", run_ours_fresh(data_path, args.n_bootstrap, seed, timeout=1800))
                        except subprocess.TimeoutExpired:
                            add("ours-fresh", {"ok": False, "error": "timeout after 1800 s"})
                    if "ours-cached" in methods:
                        cache_dir = tmpdir / "jax-cache"
                        try:
                            if seed == seeds[0]:  # untimed priming run per task and size
                                run_ours_fresh(data_path, args.n_bootstrap, seed, 1800, cache_dir)
                            add("ours-cached", run_ours_fresh(data_path, args.n_bootstrap, seed,
                                                              1800, cache_dir))
                        except subprocess.TimeoutExpired:
                            add("ours-cached", {"ok": False, "error": "timeout after 1800 s"})
                    if "gmmmi" in methods:
                        log(f"  {task} N={n} seed={seed} gmmmi      running ...")
                        add("gmmmi", run_gmmmi(data_path, args.gmmmi_timeout))

    summary = summarise(records)
    ratios = print_table(summary, truths)
    total = time.perf_counter() - t_start
    save({"summary": [dict(task=k[0], n=k[1], method=k[2], **v) for k, v in summary.items()],
          "speedups": ratios, "total_runtime_s": total, "load_avg_1m_at_end": loadavg()})
    log(f"done in {total:.0f} s; results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
