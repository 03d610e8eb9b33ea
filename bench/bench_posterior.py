"""Posterior benchmark: bayes_gmm_mi's MCMC / VI / bootstrap against the reference Bayesian GMM.

Run from the repository root::

    .venv/bin/python bench/bench_posterior.py               # full: N = 2000, seed 0
    .venv/bin/python bench/bench_posterior.py --quick       # N = 1000, short chains (~3 min)
    .venv/bin/python bench/bench_posterior.py --skip-reference --seeds 3

Data: ``bayes_gmm_mi.datasets.get_dataset("gamma-exponential").sample(N,
random_state=seed)`` (X ~ Gamma(1, 1), Y | X ~ Exponential(rate X), both
log-transformed; true MI 0.42278 nats). On the same arrays, each in a NEW Python
process with JAX's persistent compilation cache switched off (so the time a user
waits, JIT compilation included):

* ``ours-mcmc``      -- ``mutual_information(x, y, method="mcmc", num_chains=4,
  num_warmup=500, num_samples=500, random_state=seed)``;
* ``ours-vi``        -- the same call with ``method="vi"`` (default SVI steps);
* ``ours-bootstrap`` -- ``method="bootstrap", n_bootstrap=50`` (for reference);
* ``reference``      -- the reference recipe of bench/_reference_bayes_gmm.py
  (K = 10, sparse Dirichlet, random init, one NUTS chain, 1000 + 1000, MI per
  draw from 1000 Monte Carlo points).

``time_s`` is the call inside the process, ``wall_s`` the whole process
(interpreter start + imports + JIT + estimate), ``cpu_s`` its user + system
CPU time. Results go to ``bench/results/posterior.json`` (rewritten after every
run); a table goes to stdout, progress to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (
    REPO_DIR,
    RESULTS_DIR,
    fresh_env,
    jsonable,
    loadavg,
    log,
    machine_info,
    run_seconds,
    write_json,
)

DEFAULT_OUT = RESULTS_DIR / "posterior.json"
DATASET = "gamma-exponential"
METHODS = ("ours-mcmc", "ours-vi", "ours-bootstrap", "reference")

# Targets of issue 3 ("Speed"), checked and reported (not enforced).
TARGET_MCMC_S = 60.0
TARGET_SVI_S = 10.0
TARGET_RATIO = 5.0


# --------------------------------------------------------------------------- worker
#
# ``bench_posterior.py --worker METHOD DATA.npz OUT.json SEED CONFIG_JSON`` runs one
# estimate in the (fresh) process it is started in and writes a JSON record.

_INFO_KEYS = ("r_hat", "ess_bulk", "ess_tail", "divergences", "max_tree_depth", "fit_time_s",
              "sampling_time_s", "integration_time_s", "bootstrap_time_s", "svi_final_loss",
              "converged", "n_iter")


def ours_call(method: str, x, y, seed: int, cfg: dict):
    """One call of the public API for ``method`` in {"mcmc", "vi", "bootstrap"}.

    Parameters
    ----------
    method : str
    x, y : ndarray of shape (N,)
    seed : int
        ``random_state``.
    cfg : dict
        ``num_chains``, ``num_warmup``, ``num_samples`` (posterior methods),
        ``n_bootstrap`` (bootstrap).

    Returns
    -------
    MIResult
    """
    import bayes_gmm_mi

    if method == "bootstrap":
        return bayes_gmm_mi.mutual_information(x, y, method="bootstrap",
                                               n_bootstrap=cfg["n_bootstrap"], random_state=seed)
    if method == "mcmc":
        return bayes_gmm_mi.mutual_information(
            x, y, method="mcmc", num_chains=cfg["num_chains"], num_warmup=cfg["num_warmup"],
            num_samples=cfg["num_samples"], random_state=seed)
    if method == "vi":
        return bayes_gmm_mi.mutual_information(x, y, method="vi", num_samples=cfg["num_samples"],
                                               random_state=seed)
    raise ValueError(method)


def _ours_record(res, elapsed: float) -> dict:
    lo, hi = res.interval(0.95)
    info = dict(getattr(res, "info", {}) or {})
    return {
        "time_s": elapsed,
        "mi": float(res.mean),
        "std": float(res.std),
        "interval95": [float(lo), float(hi)],
        "point_estimate": float(res.point_estimate),
        "n_components": int(res.n_components),
        "n_draws": int(np.size(res.draws)),
        "n_chains": int(getattr(res, "n_chains", 1)),
        "info": jsonable({k: info[k] for k in _INFO_KEYS if k in info}),
    }


def worker(argv: list[str]) -> int:
    """Run one method in this process and write its record to OUT.json."""
    import warnings

    t_start = time.perf_counter()
    method, data_path, out_path, seed, cfg = argv[0], argv[1], argv[2], int(argv[3]), json.loads(argv[4])
    d = np.load(data_path)
    x, y = d["x"], d["y"]
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        if method.startswith("ours-"):
            import bayes_gmm_mi  # noqa: F401  (import time is part of wall_s, not time_s)

            t_import = time.perf_counter() - t_start
            t0 = time.perf_counter()
            res = ours_call(method[5:], x, y, seed, cfg)
            _ = (res.mean, res.std)
            rec = _ours_record(res, time.perf_counter() - t0)
            rec["import_s"] = t_import
            if cfg.get("warm"):
                # The cold figures (wall_s, cpu_s) must not include the repeat.
                ru = resource.getrusage(resource.RUSAGE_SELF)
                rec["cold_process_cpu_s"] = ru.ru_utime + ru.ru_stime
                # Second call with the same shapes: compiled programs are reused.
                t0 = time.perf_counter()
                res2 = ours_call(method[5:], x, y, seed, cfg)
                _ = (res2.mean, res2.std)
                rec["warm_time_s"] = time.perf_counter() - t0
                rec["warm_mi"] = float(res2.mean)
        elif method == "reference":
            import _reference_bayes_gmm as ref
            import jax  # noqa: F401  (imports counted in import_s, as for ours)
            import numpyro.infer  # noqa: F401

            t_import = time.perf_counter() - t_start
            out = ref.reference_mi(x, y, seed=seed, num_warmup=cfg["num_warmup"],
                                   num_samples=cfg["num_samples"])
            draws = out.pop("draws")
            rec = dict(out, import_s=t_import, n_components=ref.N_COMPONENTS, n_chains=1,
                       mi_draws_head=[float(v) for v in draws[:8]])
        else:
            raise ValueError(f"unknown method {method!r}")
        caught = [f"{w.category.__name__}: {str(w.message)[:300]}" for w in wlist
                  if not issubclass(w.category, (DeprecationWarning, FutureWarning))]
    rec["warnings"] = sorted(set(caught))
    Path(out_path).write_text(json.dumps(jsonable(rec)))
    return 0


# --------------------------------------------------------------------------- driver


def run_fresh(method: str, data_path: Path, seed: int, cfg: dict, timeout: float) -> dict:
    """Run ``method`` in a new process (no persistent compilation cache); time it."""
    out = data_path.with_suffix(f".{method}.json")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", method, str(data_path),
           str(out), str(seed), json.dumps(cfg)]
    load_before = loadavg()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=fresh_env(), cwd=REPO_DIR,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "wall_s": time.perf_counter() - t0, "error": f"timeout after {timeout:.0f} s",
                "load_avg_1m_before": load_before, "load_avg_1m_after": loadavg()}
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    base = {"wall_s": wall, "cpu_s": cpu, "load_avg_1m_before": load_before,
            "load_avg_1m_after": loadavg()}
    if proc.returncode != 0 or not out.exists():
        return dict(base, ok=False, error=(proc.stderr or proc.stdout)[-2000:])
    rec = json.loads(out.read_text())
    rec.update(base, ok=True)
    if "warm_time_s" in rec:
        # --warm: the process also ran a second (warm) call; take it out of the cold figures.
        rec["wall_s_with_warm_call"] = wall
        rec["wall_s"] = wall - rec["warm_time_s"]
        rec["cpu_s"] = rec.pop("cold_process_cpu_s")
    return rec


def add_accuracy(rec: dict, truth: float) -> None:
    """Width of the 95 % interval, whether it holds the truth, and its distance to it."""
    if not rec.get("ok") or rec.get("mi") is None:
        return
    lo, hi = rec["interval95"]
    rec["truth"] = truth
    rec["error"] = rec["mi"] - truth
    if lo is None or hi is None:
        return
    rec["interval_width"] = hi - lo
    rec["truth_inside"] = bool(lo <= truth <= hi)
    rec["interval_distance"] = 0.0 if rec["truth_inside"] else min(abs(lo - truth), abs(hi - truth))


def _ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def compare(by_method: dict) -> dict:
    """Ratios reference / ours and the issue-3 checks for one data set."""
    ref, mcmc, vi = (by_method.get(m) for m in ("reference", "ours-mcmc", "ours-vi"))
    ok = lambda r: r is not None and r.get("ok")  # noqa: E731
    out: dict = {}
    if ok(mcmc):
        out["mcmc_wall_under_60s"] = mcmc["wall_s"] < TARGET_MCMC_S
        out["mcmc_time_under_60s"] = mcmc["time_s"] < TARGET_MCMC_S
    if ok(vi):
        out["vi_wall_under_10s"] = vi["wall_s"] < TARGET_SVI_S
        out["vi_time_under_10s"] = vi["time_s"] < TARGET_SVI_S
    if ok(ref) and ok(mcmc):
        out["reference_over_mcmc_wall"] = _ratio(ref["wall_s"], mcmc["wall_s"])
        out["reference_over_mcmc_time"] = _ratio(ref["time_s"], mcmc["time_s"])
        out["reference_over_mcmc_cpu"] = _ratio(ref.get("cpu_s"), mcmc.get("cpu_s"))
        out["mcmc_at_least_5x_faster_wall"] = (out["reference_over_mcmc_wall"] or 0) >= TARGET_RATIO
        if "interval_distance" in ref and "interval_distance" in mcmc:
            out["mcmc_interval_at_least_as_close"] = mcmc["interval_distance"] <= ref["interval_distance"]
    if ok(ref) and ok(vi):
        out["reference_over_vi_wall"] = _ratio(ref["wall_s"], vi["wall_s"])
        out["reference_over_vi_time"] = _ratio(ref["time_s"], vi["time_s"])
    return out


def _f(v, spec, width=None):
    s = "-" if v is None else format(v, spec)
    return s.rjust(width or len(format(0.0, spec)))


def print_table(records: list[dict], comparisons: dict, truth: float) -> None:
    print()
    print(f"Posterior benchmark, {DATASET} (log), true MI = {truth:.5f} nats")
    print("wall_s = whole fresh process (import + JIT + estimate); time_s = the call inside it; "
          "warm_s = a repeat call in that process (--warm); cpu_s = process CPU time")
    hdr = (f"{'seed':>4} {'N':>5} {'method':<14} {'wall_s':>7} {'time_s':>7} {'warm_s':>7} {'cpu_s':>7} "
           f"{'MI mean':>7} {'sd':>6} {'95% interval':>15} {'width':>6} {'dist':>6} {'in':>3} "
           f"{'K':>3} {'R-hat':>6} {'ESS':>6} {'div':>4} {'load':>5}")
    print(hdr)
    print("-" * len(hdr))
    for r in records:
        if not r.get("ok"):
            print(f"{r['seed']:>4} {r['n']:>5} {r['method']:<14} {_f(r.get('wall_s'), '7.1f')} FAILED: "
                  f"{str(r.get('error', '')).strip().splitlines()[-1:]}")
            continue
        info = r.get("info", {}) or {}
        rhat = info.get("r_hat", r.get("split_r_hat"))
        ess = info.get("ess_bulk", r.get("ess_bulk"))
        div = info.get("divergences", r.get("divergences"))
        lo, hi = r["interval95"]
        print(f"{r['seed']:>4} {r['n']:>5} {r['method']:<14} {_f(r['wall_s'], '7.1f')} "
              f"{_f(r['time_s'], '7.1f')} {_f(r.get('warm_time_s'), '7.1f')} {_f(r.get('cpu_s'), '7.1f')} {r['mi']:7.4f} {r['std']:6.4f} "
              f"{f'[{lo:.3f}, {hi:.3f}]':>15} {_f(r.get('interval_width'), '6.3f')} "
              f"{_f(r.get('interval_distance'), '6.3f')} {('yes' if r.get('truth_inside') else 'no'):>3} "
              f"{r.get('n_components', '-'):>3} {_f(rhat, '6.3f')} {_f(ess, '6.0f')} "
              f"{('-' if div is None else str(div)):>4} {_f(r.get('load_avg_1m_after'), '5.2f')}")
    print()
    for seed, c in comparisons.items():
        if not c:
            continue
        parts = []
        for key in ("reference_over_mcmc_wall", "reference_over_mcmc_time", "reference_over_mcmc_cpu",
                    "reference_over_vi_wall", "reference_over_vi_time"):
            if c.get(key) is not None:
                parts.append(f"{key.replace('reference_over_', 'ref/')}={c[key]:.1f}x")
        checks = [f"{k}={v}" for k, v in c.items() if isinstance(v, bool)]
        if parts:
            print(f"seed {seed}: " + "  ".join(parts))
        print(f"seed {seed} checks: " + "  ".join(checks))
    print()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="N=1000, ours 4 x (100 + 100), reference 100 + 100, 20 bootstrap replicates")
    p.add_argument("--seeds", type=int, default=1, metavar="S", help="data sets 0..S-1 (default 1)")
    p.add_argument("--n", type=int, default=None, help="sample size (default 2000; 1000 with --quick)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--skip-reference", action="store_true", help="do not run the reference recipe")
    p.add_argument("--warm", action="store_true",
                   help="call ours a second time in the same process and report warm_time_s")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per process (default 3600)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    if args.n is None:
        args.n = 1000 if args.quick else 2000
    if args.skip_reference and "reference" in args.methods:
        args.methods.remove("reference")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quick:
        ours_cfg = {"num_chains": 4, "num_warmup": 100, "num_samples": 100, "n_bootstrap": 20}
        ref_cfg = {"num_warmup": 100, "num_samples": 100}
    else:
        ours_cfg = {"num_chains": 4, "num_warmup": 500, "num_samples": 500, "n_bootstrap": 50}
        ref_cfg = {"num_warmup": 1000, "num_samples": 1000}
    ours_cfg["warm"] = bool(args.warm)
    seeds = list(range(args.seeds))

    from bayes_gmm_mi.datasets import get_dataset

    ds = get_dataset(DATASET)
    truth = float(ds.mi)
    log(f"bench_posterior: N={args.n} seeds={seeds} methods={args.methods} ours={ours_cfg} "
        f"reference={ref_cfg} truth={truth:.5f}")

    import _reference_bayes_gmm as ref

    machine = machine_info(None)
    machine.pop("gmmmi_venv_versions", None)
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {
            "dataset": f"get_dataset({DATASET!r}) = {ds!r}", "n": args.n, "seeds": seeds,
            "methods": args.methods, "quick": args.quick, "ours": ours_cfg,
            "ours_calls": {
                "ours-mcmc": "mutual_information(x, y, method='mcmc', num_chains={num_chains}, "
                             "num_warmup={num_warmup}, num_samples={num_samples}, random_state=seed)"
                             .format(**ours_cfg),
                "ours-vi": "mutual_information(x, y, method='vi', num_samples={num_samples}, "
                           "random_state=seed)  # svi_steps default".format(**ours_cfg),
                "ours-bootstrap": "mutual_information(x, y, method='bootstrap', "
                                  "n_bootstrap={n_bootstrap}, random_state=seed)".format(**ours_cfg),
            },
            "reference": ref.settings(**ref_cfg),
            "timing": "each method in a fresh process, JAX_ENABLE_COMPILATION_CACHE=false",
            "targets": {"mcmc_s": TARGET_MCMC_S, "svi_s": TARGET_SVI_S,
                        "reference_over_mcmc": TARGET_RATIO},
        },
        "truth": truth,
        "machine": machine,
    }
    records: list[dict] = []
    comparisons: dict = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save(extra=None):
        payload = dict(meta, records=records, comparisons=comparisons)
        if extra:
            payload.update(extra)
        write_json(args.out, jsonable(payload))

    with tempfile.TemporaryDirectory(prefix="bench_posterior_") as tmpdir:
        for seed in seeds:
            x, y = ds.sample(args.n, random_state=seed)
            data_path = Path(tmpdir) / f"{DATASET}_n{args.n}_s{seed}.npz"
            np.savez(data_path, x=np.ravel(x).astype(float), y=np.ravel(y).astype(float))
            by_method: dict = {}
            for method in args.methods:
                cfg = ref_cfg if method == "reference" else ours_cfg
                log(f"seed={seed} {method}: running in a fresh process ...")
                rec = run_fresh(method, data_path, seed, cfg, args.timeout)
                rec = dict({"seed": seed, "n": args.n, "method": method}, **rec)
                add_accuracy(rec, truth)
                records.append(rec)
                by_method[method] = rec
                comparisons[seed] = compare(by_method)
                save()
                if rec["ok"]:
                    lo, hi = rec["interval95"]
                    log(f"seed={seed} {method}: wall={rec['wall_s']:.1f}s time={rec['time_s']:.1f}s "
                        f"MI={rec['mi']:.4f} sd={rec['std']:.4f} [{lo:.4f}, {hi:.4f}] "
                        f"truth inside={rec.get('truth_inside')} load={rec['load_avg_1m_after']}")
                    for w in rec.get("warnings", []):
                        log(f"    warning: {w[:200]}")
                else:
                    log(f"seed={seed} {method}: FAILED: {str(rec.get('error', '')).strip()[-500:]}")

    print_table(records, comparisons, truth)
    total = run_seconds()
    save({"total_runtime_s": total, "load_avg_1m_at_end": loadavg()})
    log(f"done in {total:.0f} s; results written to {args.out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.exit(worker(sys.argv[2:]))
    sys.exit(main())
