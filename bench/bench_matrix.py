"""Matrix benchmark (issue 5): ``mi_matrix`` against GMM-MI 0.8.2 run pair by pair.

Run from the repository root::

    .venv/bin/python bench/bench_matrix.py               # full: 6 x 6 at N = 48000, 10 x 10 at N = 10000, B = 50
    .venv/bin/python bench/bench_matrix.py --quick       # N = 4800 / 2000, B = 10, 2 GMM-MI pairs per matrix
    .venv/bin/python bench/bench_matrix.py --skip-gmmmi  # ours only
    .venv/bin/python bench/bench_matrix.py --all-pairs   # GMM-MI on every pair (hours), no extrapolation

Two matrices with known structure, drawn from ``--seed``:

* ``factor`` -- a 6 x 6 factor-by-latent matrix: 6 categorical factors f0..f5 with 10
  equally likely levels, 6 continuous latents z0..z5 (N = 48 000). Latent z_k (k < 5)
  depends on factor f_k only: z_k | f_k = c ~ Normal(mu_k(c), sd_k(c)); z5 is pure
  noise. True MI: I(z_k; f_k) = H(z_k) - sum_c p_c H(z_k | c) (quadrature), 0 for the
  other 31 pairs.
* ``latent`` -- a 10 x 10 latent-latent matrix (N = 10 000, 45 pairs): a Gaussian vector
  with correlated pairs (0,1) rho = 0.9, (2,3) 0.7, (4,5) 0.5, (6,7) 0.3, columns 8 and 9
  independent; z5 = exp(g5 / 2) is log-normal (a monotone transform: MI unchanged). True MI
  -1/2 log(1 - rho^2) for the 4 pairs, 0 for the other 41.

Ours: one ``bayes_gmm_mi.mi_matrix`` call per matrix (50 bootstrap replicates of the rows,
shared by all pairs), in a new Python process with JAX's persistent compilation cache off
(``time_s`` includes JIT; ``wall_s`` is the whole process), then a second identical call
in that process (``warm_time_s``).

GMM-MI: pair by pair, each pair in its own process (``bench/.venv-gmmmi``):
``fit_estimate_categorical`` (``bench/_gmmmi_categorical_runner.py``) for a factor-latent
pair, ``fit_estimate`` (``bench/_gmmmi_pair_runner.py``) for a latent-latent pair, both
with B bootstrap replicates. All 36 + 45 pairs take too long, so by default a stratified
random subset of 6 pairs per matrix is timed (strata: factor -- the 5 dependent pairs and the
31 independent ones; latent -- the 9 pairs with the log-normal z5 and the 36 others; 2 + 4
pairs drawn from the seed) and the total is extrapolated per stratum with its standard
error; ``--all-pairs`` times them all.

Progress goes to stderr, tables to stdout, results to bench/results/matrix.json.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import (
    GMMMI_CATEGORICAL_RUNNER,
    GMMMI_PAIR_RUNNER,
    REPO_DIR,
    RESULTS_DIR,
    ensure_gmmmi_venv,
    fresh_env,
    gmmmi_python,
    jsonable_full,
    loadavg,
    log,
    machine_info,
    run_seconds,
    write_json,
)

CAT_RUNNER = GMMMI_CATEGORICAL_RUNNER
PAIR_RUNNER = GMMMI_PAIR_RUNNER
DEFAULT_OUT = RESULTS_DIR / "matrix.json"
MATRICES = ("factor", "latent")
MATRIX_IDS = {"factor": 0, "latent": 1}
N_LEVELS = 10
N_FACTORS = 6
N_LATENT = 10
LATENT_RHO = {(0, 1): 0.9, (2, 3): 0.7, (4, 5): 0.5, (6, 7): 0.3}
TRANSFORMED = 5      # latent-latent: z5 = exp(g5 / 2)

# --------------------------------------------------------------------------- data and truth


def _level_score(c):
    """Factor level 0..9 standardised to mean 0, variance 1 (uniform levels)."""
    return (np.asarray(c, float) - 4.5) / math.sqrt(8.25)


def factor_specs() -> list[dict]:
    """Per latent z_k: mean and sd of z_k given its factor's level c (None: pure noise)."""
    c = np.arange(N_LEVELS, dtype=float)
    u = _level_score(c)
    return [
        {"name": "z0", "desc": "1.5 u(c) + 0.5 e (strong, linear)", "mu": 1.5 * u, "sd": np.full(10, 0.5)},
        {"name": "z1", "desc": "u(c) + e (moderate)", "mu": u, "sd": np.ones(10)},
        {"name": "z2", "desc": "sin(1.2 c) + 0.5 e (non-monotone)", "mu": np.sin(1.2 * c),
         "sd": np.full(10, 0.5)},
        {"name": "z3", "desc": "0.3 u(c) + e (weak)", "mu": 0.3 * u, "sd": np.ones(10)},
        {"name": "z4", "desc": "(0.5 + c/9) e (only the spread depends on c)", "mu": np.zeros(10),
         "sd": 0.5 + c / 9.0},
        {"name": "z5", "desc": "e (pure noise)", "mu": None, "sd": None},
    ]


def sample_factor(n: int, seed: int) -> dict:
    """6 factors (ints 0..9, equally likely) and 6 latents; latent k < 5 depends on factor k."""
    rng = np.random.default_rng(np.random.SeedSequence([500, MATRIX_IDS["factor"], n, seed]))
    factors = rng.integers(0, N_LEVELS, size=(n, N_FACTORS))
    latents = np.empty((n, N_FACTORS))
    for k, spec in enumerate(factor_specs()):
        e = rng.standard_normal(n)
        if spec["mu"] is None:
            latents[:, k] = e
        else:
            c = factors[:, k]
            latents[:, k] = spec["mu"][c] + spec["sd"][c] * e
    return {"latents": latents, "factors": factors.astype(np.int64)}


def truth_factor(factors: np.ndarray | None = None) -> dict:
    """True MI (nats) of every (latent, factor) pair; with ``factors`` also with the observed
    class frequencies of the data set."""
    from bench_categorical import mixture_entropy

    p = np.full(N_LEVELS, 1.0 / N_LEVELS)
    mi = np.zeros((N_FACTORS, N_FACTORS))
    mi_obs = np.zeros_like(mi)
    for k, spec in enumerate(factor_specs()):
        if spec["mu"] is None:
            continue
        h_cond = 0.5 * np.log(2.0 * math.pi * math.e * spec["sd"] ** 2)
        mi[k, k] = mixture_entropy(p, spec["mu"], spec["sd"]) - float(np.sum(p * h_cond))
        if factors is not None:
            pe = np.bincount(factors[:, k], minlength=N_LEVELS) / len(factors)
            mi_obs[k, k] = mixture_entropy(pe, spec["mu"], spec["sd"]) - float(np.sum(pe * h_cond))
    return {"mi": mi, "mi_observed_freqs": mi_obs if factors is not None else None}


def sample_latent(n: int, seed: int) -> dict:
    """10 latents: correlated Gaussian pairs; z5 is log-normal (a monotone transform)."""
    rng = np.random.default_rng(np.random.SeedSequence([500, MATRIX_IDS["latent"], n, seed]))
    cov = np.eye(N_LATENT)
    for (i, j), rho in LATENT_RHO.items():
        cov[i, j] = cov[j, i] = rho
    g = rng.multivariate_normal(np.zeros(N_LATENT), cov, size=n, method="cholesky")
    z = g.copy()
    z[:, TRANSFORMED] = np.exp(0.5 * g[:, TRANSFORMED])  # log-normal, sigma 0.5: MI unchanged
    return {"latents": z}


def truth_latent() -> dict:
    mi = np.zeros((N_LATENT, N_LATENT))
    for (i, j), rho in LATENT_RHO.items():
        mi[i, j] = mi[j, i] = -0.5 * math.log(1.0 - rho * rho)
    np.fill_diagonal(mi, np.nan)
    return {"mi": mi}


def all_pairs(matrix: str) -> list[tuple[int, int]]:
    if matrix == "factor":
        return [(j, k) for j in range(N_FACTORS) for k in range(N_FACTORS)]
    return [(i, j) for i in range(N_LATENT) for j in range(i + 1, N_LATENT)]


def dependent(matrix: str, pair: tuple[int, int]) -> bool:
    if matrix == "factor":
        return pair[0] == pair[1] and pair[0] < N_FACTORS - 1
    return pair in LATENT_RHO


def stratum(matrix: str, pair: tuple[int, int]) -> str:
    """Sampling stratum of a pair (fixed by the design, before anything is run)."""
    if matrix == "factor":
        return "dependent" if dependent(matrix, pair) else "independent"
    return "with z5" if TRANSFORMED in pair else "gaussian"


def strata(matrix: str) -> list[str]:
    return ["dependent", "independent"] if matrix == "factor" else ["with z5", "gaussian"]


def choose_pairs(matrix: str, seed: int, counts: tuple[int, int]) -> list[tuple[int, int]]:
    """Stratified random subset: counts[s] pairs of stratum s (as in :func:`strata`), from the seed."""
    rng = np.random.default_rng(np.random.SeedSequence([501, MATRIX_IDS[matrix], seed]))
    chosen = []
    for name, k in zip(strata(matrix), counts):
        group = [p for p in all_pairs(matrix) if stratum(matrix, p) == name]
        chosen += [group[i] for i in sorted(rng.choice(len(group), min(k, len(group)), replace=False))]
    return chosen


# --------------------------------------------------------------------------- ours (worker)


def worker(argv: list[str]) -> int:
    """Inside a new process: mi_matrix twice (cold, then warm) on one matrix; JSON out."""
    matrix, data_path, out_path, n_boot, seed = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    t_start = time.perf_counter()
    import pandas as pd

    import bayes_gmm_mi

    t_import = time.perf_counter() - t_start
    d = np.load(data_path)
    if matrix == "factor":
        a = pd.DataFrame(d["latents"], columns=[f"z{k}" for k in range(N_FACTORS)])
        b = pd.DataFrame(d["factors"], columns=[f"f{k}" for k in range(N_FACTORS)])
        categorical = list(b.columns)
    else:
        a = pd.DataFrame(d["latents"], columns=[f"z{k}" for k in range(N_LATENT)])
        b, categorical = None, []
    calls = []
    for _ in range(2):
        c0, t0 = time.process_time(), time.perf_counter()
        res = bayes_gmm_mi.mi_matrix(a, b, categorical=categorical, n_bootstrap=n_boot,
                                     random_state=seed)
        mean, std = res.mean().values, res.std().values
        calls.append({"time_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                      "res": res, "mean": mean, "std": std})
    cold, warm = calls
    res = cold["res"]
    lo, hi = res.interval(0.95)
    identical = bool(np.array_equal(res.draws.values, warm["res"].draws.values, equal_nan=True)
                     and np.array_equal(res.point_estimate.values,
                                        warm["res"].point_estimate.values, equal_nan=True))
    rec = {
        "import_s": t_import,
        "time_s": cold["time_s"], "cpu_s": cold["cpu_s"],
        "warm_time_s": warm["time_s"], "warm_cpu_s": warm["cpu_s"],
        "warm_identical": identical,
        "x_names": [str(v) for v in res.point_estimate.coords["x"].values],
        "y_names": [str(v) for v in res.point_estimate.coords["y"].values],
        "point_estimate": res.point_estimate.values.tolist(),
        "mean": cold["mean"].tolist(), "std": cold["std"].tolist(),
        "low95": lo.values.tolist(), "high95": hi.values.tolist(),
        "mc_error": res.mc_error.values.tolist(),
        "n_components": res.n_components.values.tolist(),
        "info_time_s": res.info.get("time_s"), "n_pairs": res.info.get("n_pairs"),
    }
    Path(out_path).write_text(json.dumps(jsonable_full(rec)))
    return 0


def _arr(nested) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in nested], float)


def run_ours(matrix: str, data_path: Path, n_boot: int, seed: int, timeout: float) -> dict:
    out = data_path.with_suffix(".ours.json")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", matrix, str(data_path),
           str(out), str(n_boot), str(seed)]
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
    base = {"wall_s": wall, "process_cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
            "load_avg_1m_before": load_before, "load_avg_1m_after": loadavg()}
    if proc.returncode != 0 or not out.exists():
        return dict(base, ok=False, error=(proc.stderr or proc.stdout)[-2000:])
    rec = json.loads(out.read_text())
    rec.update(base, ok=True)
    # wall_s covers both calls; the cold process alone is wall_s - warm_time_s.
    rec["cold_wall_s"] = wall - rec["warm_time_s"]
    return rec


# --------------------------------------------------------------------------- GMM-MI (pair by pair)


def run_gmmmi_pair(matrix: str, pair: tuple[int, int], data: dict, tmpdir: Path, n_boot: int,
                   timeout: float) -> dict:
    path = tmpdir / f"{matrix}_{pair[0]}_{pair[1]}.npz"
    out = path.with_suffix(".gmmmi.json")
    if matrix == "factor":
        np.savez(path, x=data["latents"][:, pair[0]], labels=data["factors"][:, pair[1]])
        runner = CAT_RUNNER
    else:
        np.savez(path, x=data["latents"][:, pair[0]], y=data["latents"][:, pair[1]])
        runner = PAIR_RUNNER
    cmd = [str(gmmmi_python()), str(runner), str(path), str(out), str(n_boot)]
    load_before = loadavg()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "wall_s": time.perf_counter() - t0, "error": f"timeout after {timeout:.0f} s",
                "load_avg_1m_before": load_before, "load_avg_1m_after": loadavg()}
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    base = {"wall_s": wall, "process_cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
            "load_avg_1m_before": load_before, "load_avg_1m_after": loadavg()}
    if proc.returncode != 0 or not out.exists():
        return dict(base, ok=False, error=(proc.stderr or proc.stdout)[-1500:])
    rec = json.loads(out.read_text())
    rec.update(base)
    rec.setdefault("ok", True)
    return rec


def extrapolate(matrix: str, timed: list[dict], key: str = "time_s") -> dict:
    """Total GMM-MI time over all pairs from the timed subset, stratified by dependence.

    Per stratum s (:func:`stratum`): n_s pairs, k_s timed with mean m_s and
    sd s_s. Total = sum_s n_s m_s; standard error = sqrt(sum_s n_s^2 s_s^2 / k_s (1 - k_s/n_s))
    (finite-population correction: 0 when every pair of a stratum was timed).
    """
    pairs = all_pairs(matrix)
    out = {"key": key, "strata": {}, "method": "stratified: " + " / ".join(strata(matrix))}
    total, var, var_ok = 0.0, 0.0, True
    for name in strata(matrix):
        n_s = sum(1 for p in pairs if stratum(matrix, p) == name)
        vals = [r[key] for r in timed if r.get("ok") and r["stratum"] == name
                and isinstance(r.get(key), (int, float))]
        k = len(vals)
        m = statistics.fmean(vals) if vals else None
        sd = statistics.stdev(vals) if k > 1 else None
        out["strata"][name] = {"pairs": n_s, "timed": k, "mean_s": m, "sd_s": sd,
                               "sum_timed_s": sum(vals) if vals else None}
        if m is None:
            total, var_ok = None, False
            continue
        if total is not None:
            total += n_s * m
        if k == n_s:
            continue
        if sd is None:
            var_ok = False
        else:
            var += n_s * n_s * sd * sd / k * (1.0 - k / n_s)
    out["total_s"] = total
    out["se_s"] = math.sqrt(var) if var_ok and total is not None else None
    out["all_timed"] = all(s["timed"] == s["pairs"] for s in out["strata"].values())
    vals = [r[key] for r in timed if r.get("ok") and isinstance(r.get(key), (int, float))]
    out["per_pair_mean_s"] = statistics.fmean(vals) if vals else None
    out["per_pair_sd_s"] = statistics.stdev(vals) if len(vals) > 1 else None
    out["unstratified_total_s"] = len(pairs) * out["per_pair_mean_s"] if vals else None
    return out


# --------------------------------------------------------------------------- reporting


def _f(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) and v is not None and math.isfinite(v) \
        else "-".rjust(len(format(0.0, spec)))


def _ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def names(matrix: str, pair) -> str:
    if matrix == "factor":
        return f"z{pair[0]}-f{pair[1]}"
    return f"z{pair[0]}-z{pair[1]}"


def accuracy(matrix: str, ours: dict, truth: np.ndarray) -> dict:
    """Ours against the truth over all pairs (bootstrap mean, interval coverage)."""
    mean, std = _arr(ours["mean"]), _arr(ours["std"])
    lo, hi = _arr(ours["low95"]), _arr(ours["high95"])
    point = _arr(ours["point_estimate"])
    rows = []
    for p in all_pairs(matrix):
        t = truth[p]
        rows.append({"pair": names(matrix, p), "dependent": dependent(matrix, p), "truth": t,
                     "point": point[p], "mean": mean[p], "std": std[p],
                     "inside95": bool(lo[p] <= t <= hi[p])})
    dep = [r for r in rows if r["dependent"]]
    ind = [r for r in rows if not r["dependent"]]
    return {
        "dependent_pairs": [
            {k: (v if not isinstance(v, float) else round(v, 6)) for k, v in r.items()} for r in dep],
        "dependent_max_abs_error_mean": max(abs(r["mean"] - r["truth"]) for r in dep),
        "dependent_max_abs_error_point": max(abs(r["point"] - r["truth"]) for r in dep),
        "independent_mean_of_means": statistics.fmean(r["mean"] for r in ind),
        "independent_max_mean": max(r["mean"] for r in ind),
        "coverage95_all": sum(r["inside95"] for r in rows) / len(rows),
        "coverage95_dependent": sum(r["inside95"] for r in dep) / len(dep),
        "n_pairs": len(rows),
    }


def report_matrix(matrix: str, part: dict) -> None:
    ours = part.get("ours")
    print()
    title = ("6 x 6 factor-by-latent (10-level factors)" if matrix == "factor"
             else "10 x 10 latent-latent")
    print(f"== {matrix}: {title}, N = {part['n']}, B = {part['n_bootstrap']} ==")
    if ours and ours.get("ok"):
        print(f"ours mi_matrix ({ours['n_pairs']} pairs): cold {ours['time_s']:.2f} s in-process "
              f"(JIT included), cold process {ours['cold_wall_s']:.2f} s wall, warm "
              f"{ours['warm_time_s']:.2f} s; CPU {ours['cpu_s']:.1f} s cold / {ours['warm_cpu_s']:.1f} s warm; "
              f"warm result identical: {ours['warm_identical']}; load {ours['load_avg_1m_before']} -> "
              f"{ours['load_avg_1m_after']}")
        acc = part["accuracy"]
        print(f"  vs truth: dependent pairs max |mean - truth| = {acc['dependent_max_abs_error_mean']:.4f}; "
              f"independent pairs (truth 0) mean {acc['independent_mean_of_means']:.4f}, max "
              f"{acc['independent_max_mean']:.4f}; 95 % interval holds the truth for "
              f"{acc['coverage95_all']:.0%} of pairs ({acc['coverage95_dependent']:.0%} of dependent)")
    elif ours:
        print(f"ours FAILED: {str(ours.get('error', '')).strip()[-500:]}")
    rows = (part.get("gmmmi") or []) + [dict(r, extra=True) for r in part.get("gmmmi_extra") or []]
    if rows:
        n_extra = len(part.get("gmmmi_extra") or [])
        print(f"GMM-MI pair by pair ({len(rows) - n_extra} of {len(all_pairs(matrix))} pairs timed"
              + (f", + {n_extra} extra for the agreement, marked *" if n_extra else "") + "):")
        hdr = (f"{'pair':<8} {'dep':>3} {'truth':>7} {'ours pt':>8} {'ours mean':>9} {'± sd':>7} "
               f"{'GMM-MI':>8} {'± sd':>7} {'K':>12} {'time_s':>8} {'wall_s':>8} {'load':>11}")
        print(hdr)
        print("-" * len(hdr))
        for r in rows:
            k = r.get("class_n_components") or r.get("n_components")
            ks = (f"{min(k)}-{max(k)}" if isinstance(k, list) and k else str(k)) if k is not None else "-"
            print(f"{r['pair'] + ('*' if r.get('extra') else ''):<8} {'y' if r['dependent'] else 'n':>3} {r['truth']:7.4f} "
                  f"{_f(r.get('ours_point'), '8.4f')} {_f(r.get('ours_mean'), '9.4f')} "
                  f"{_f(r.get('ours_std'), '7.4f')} "
                  + (f"{_f(r.get('mi'), '8.4f')} {_f(r.get('std'), '7.4f')} {ks:>12} "
                     f"{_f(r.get('time_s'), '8.2f')} {_f(r.get('wall_s'), '8.2f')} "
                     if r.get("ok") else f"FAILED {str(r.get('error', ''))[:60]} ")
                  + f"{r.get('load_avg_1m_before')}->{r.get('load_avg_1m_after')}")
        ag = part.get("agreement")
        if ag:
            print(f"  agreement ({ag['pairs']} pairs, {ag['dependent_pairs']} dependent): |ours - GMM-MI| mean "
                  f"{ag['mean_abs_ours_minus_gmmmi']:.4f}, max {ag['max_abs_ours_minus_gmmmi']:.4f} "
                  f"({_f(ag['max_abs_diff_in_sd'], '.1f')} combined sd); max |error| vs truth: ours "
                  f"{ag['ours_max_abs_error']:.4f}, GMM-MI {ag['gmmmi_max_abs_error']:.4f}")
        ex = part.get("extrapolation")
        if ex and ex.get("total_s") is not None:
            se = ex.get("se_s")
            label = "measured" if ex["all_timed"] else "EXTRAPOLATED"
            print(f"  GMM-MI per pair {ex['per_pair_mean_s']:.1f} ± {_f(ex['per_pair_sd_s'], '.1f')} s "
                  f"(mean ± sd); strata: " + ", ".join(
                      f"{n} {s['timed']}/{s['pairs']} timed, {_f(s['mean_s'], '.1f')} ± "
                      f"{_f(s['sd_s'], '.1f')} s" for n, s in ex["strata"].items()))
            print(f"  GMM-MI total over all {len(all_pairs(matrix))} pairs ({label}): "
                  f"{ex['total_s']:.0f} s" + (f" ± {se:.0f} s (1 SE)" if se else "")
                  + f"  [= {ex['total_s'] / 60:.1f} min]")
    sp = part.get("speedups")
    if sp:
        def fx(key):
            v = sp.get(key)
            rng = sp.get(key + "_range2se")
            return ("-" if v is None else f"{v:.1f}x") + (
                f" [{rng[0]:.1f}x-{rng[1]:.1f}x]" if rng else "")
        print(f"  speed-up GMM-MI total / ours: warm {fx('over_warm')}; cold in-process "
              f"{fx('over_cold_time')}; cold whole process {fx('over_cold_wall')} "
              f"(brackets: GMM-MI total ± 2 SE)")
    sc = part.get("speedups_cpu")
    if sc:
        print(f"  in CPU seconds: GMM-MI total {sc['gmmmi_total_cpu_s']:.0f} s"
              + (f" ± {sc['gmmmi_total_cpu_se_s']:.0f} s" if sc.get("gmmmi_total_cpu_se_s") else "")
              + "; " + ", ".join(
                  f"/ ours {label} {sc[key]:.1f}x" + (
                      f" [{sc[key + '_range2se'][0]:.1f}x-{sc[key + '_range2se'][1]:.1f}x]"
                      if sc.get(key + "_range2se") else "")
                  for label, key in (("warm", "over_warm_cpu"), ("cold call", "over_cold_cpu"),
                                     ("cold process", "over_cold_process_cpu"))))


def speedups(ex: dict | None, ours: dict | None) -> dict | None:
    if not ex or ex.get("total_s") is None or not ours or not ours.get("ok"):
        return None
    tot, se = ex["total_s"], ex.get("se_s")
    out = {"gmmmi_total_s": tot, "gmmmi_total_se_s": se, "extrapolated": not ex["all_timed"]}
    for key, ours_t in (("over_warm", ours["warm_time_s"]), ("over_cold_time", ours["time_s"]),
                        ("over_cold_wall", ours["cold_wall_s"])):
        out[key] = _ratio(tot, ours_t)
        if se:
            out[key + "_range2se"] = [max(tot - 2 * se, 0.0) / ours_t, (tot + 2 * se) / ours_t]
    return out


def speedups_cpu(ex: dict | None, ours: dict | None) -> dict | None:
    """The same ratios in CPU seconds (less sensitive to other processes on a shared machine):
    GMM-MI processes' CPU time against the CPU time of our calls."""
    if not ex or ex.get("total_s") is None or not ours or not ours.get("ok"):
        return None
    tot, se = ex["total_s"], ex.get("se_s")
    out = {"gmmmi_total_cpu_s": tot, "gmmmi_total_cpu_se_s": se}
    for key, ours_t in (("over_warm_cpu", ours["warm_cpu_s"]), ("over_cold_cpu", ours["cpu_s"]),
                        ("over_cold_process_cpu", ours["process_cpu_s"] - ours["warm_cpu_s"])):
        out[key] = _ratio(tot, ours_t)
        if se:
            out[key + "_range2se"] = [max(tot - 2 * se, 0.0) / ours_t, (tot + 2 * se) / ours_t]
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="N = 4800 (factor) / 2000 (latent), B = 10, 1 + 1 GMM-MI pairs per matrix")
    p.add_argument("--matrices", nargs="+", choices=MATRICES, default=list(MATRICES))
    p.add_argument("--n-factor", type=int, default=None, help="rows of the factor matrix (48000)")
    p.add_argument("--n-latent", type=int, default=None, help="rows of the latent matrix (10000)")
    p.add_argument("--n-bootstrap", type=int, default=None, help="replicates (50; 10 with --quick)")
    p.add_argument("--seed", type=int, default=0, help="data, pair choice and random_state (0)")
    p.add_argument("--pairs-per-stratum", type=int, nargs=2, default=None, metavar=("A", "B"),
                   help="GMM-MI: pairs timed in the first and second stratum of each matrix "
                        "(factor: dependent, independent; latent: with z5, gaussian); 2 4 "
                        "(1 1 with --quick)")
    p.add_argument("--all-pairs", action="store_true", help="GMM-MI on every pair (hours)")
    p.add_argument("--skip-gmmmi", action="store_true", help="do not run (or install) GMM-MI")
    p.add_argument("--gmmmi-timeout", type=float, default=1800.0, help="seconds per GMM-MI pair")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    p.add_argument("--extra-pairs", nargs="+", default=[], metavar="PAIR",
                   help="GMM-MI also on these pairs (e.g. z0-z1 z2-z3 for the latent matrix, z0-f0 "
                        "for the factor matrix), for the agreement only: not used in the "
                        "extrapolation")
    p.add_argument("--into", type=Path, default=None, metavar="JSON",
                   help="with --extra-pairs: run only those GMM-MI pairs, on the data of an existing "
                        "results file, and add them to it")
    p.add_argument("--report", type=Path, default=None, metavar="JSON",
                   help="run nothing: recompute the extrapolations and ratios of a results file, "
                        "update it in place and print the tables")
    args = p.parse_args(argv)
    q = args.quick
    args.n_factor = args.n_factor or (4800 if q else 48000)
    args.n_latent = args.n_latent or (2000 if q else 10000)
    args.n_bootstrap = args.n_bootstrap if args.n_bootstrap is not None else (10 if q else 50)
    extra: dict[str, list[str]] = {}
    for name in args.extra_pairs:
        extra.setdefault("factor" if "f" in name else "latent", []).append(name)
    args.extra_pairs = extra
    if args.pairs_per_stratum is None:
        args.pairs_per_stratum = (1, 1) if q else (2, 4)
    return args


def parse_pair(matrix: str, name: str) -> tuple[int, int]:
    """'z0-f1' (factor) or 'z2-z3' (latent) -> indices."""
    a, b = name.split("-")
    pair = (int(a[1:]), int(b[1:]))
    if pair not in all_pairs(matrix):
        raise SystemExit(f"--extra-pairs: {name!r} is not a pair of the {matrix} matrix")
    return pair


def gmmmi_record(matrix, p, data, tmpdir, args, truth, ours) -> dict:
    """Run GMM-MI on one pair and attach our values for the same pair."""
    log(f"{matrix}: GMM-MI {names(matrix, p)} ...")
    rec = run_gmmmi_pair(matrix, p, data, tmpdir, args.n_bootstrap, args.gmmmi_timeout)
    rec.update(pair=names(matrix, p), index=list(p), dependent=dependent(matrix, p),
               stratum=stratum(matrix, p), truth=float(truth[p]))
    if ours and ours.get("ok"):
        rec.update(ours_point=_arr(ours["point_estimate"])[p],
                   ours_mean=_arr(ours["mean"])[p], ours_std=_arr(ours["std"])[p])
        if rec.get("ok"):
            rec["ours_minus_gmmmi"] = rec["ours_mean"] - rec["mi"]
    if rec.get("ok"):
        log(f"{matrix}: GMM-MI {names(matrix, p)} MI={rec['mi']:.4f}±{rec['std']:.4f} "
            f"(truth {truth[p]:.4f}, ours {rec.get('ours_mean', float('nan')):.4f}) "
            f"time {rec['time_s']:.1f}s wall {rec['wall_s']:.1f}s "
            f"load {rec['load_avg_1m_before']}->{rec['load_avg_1m_after']}")
    else:
        log(f"{matrix}: GMM-MI {names(matrix, p)} FAILED: {str(rec.get('error'))[-300:]}")
    return rec


def agreement(part: dict) -> dict | None:
    """Ours (bootstrap mean) against GMM-MI (its bootstrap mean) and the truth, on every pair
    GMM-MI ran (the timed subset and any extra pairs)."""
    ok = [r for r in (part.get("gmmmi") or []) + (part.get("gmmmi_extra") or [])
          if r.get("ok") and "ours_minus_gmmmi" in r]
    if not ok:
        return None
    dep = [r for r in ok if r["dependent"]]
    return {
        "pairs": len(ok), "dependent_pairs": len(dep),
        "mean_abs_ours_minus_gmmmi": statistics.fmean(abs(r["ours_minus_gmmmi"]) for r in ok),
        "max_abs_ours_minus_gmmmi": max(abs(r["ours_minus_gmmmi"]) for r in ok),
        "max_abs_diff_in_sd": max((abs(r["ours_minus_gmmmi"]) / math.hypot(r["ours_std"], r["std"])
                                   for r in ok if r.get("std")), default=None),
        "dependent_max_abs_ours_minus_gmmmi": max((abs(r["ours_minus_gmmmi"]) for r in dep), default=None),
        "gmmmi_max_abs_error": max(abs(r["mi"] - r["truth"]) for r in ok),
        "ours_max_abs_error": max(abs(r["ours_mean"] - r["truth"]) for r in ok),
        "gmmmi_max_abs_error_dependent": max((abs(r["mi"] - r["truth"]) for r in dep), default=None),
        "ours_max_abs_error_dependent": max((abs(r["ours_mean"] - r["truth"]) for r in dep), default=None),
        "independent_mean_gmmmi": statistics.fmean(r["mi"] for r in ok if not r["dependent"])
        if len(dep) < len(ok) else None,
        "independent_mean_ours": statistics.fmean(r["ours_mean"] for r in ok if not r["dependent"])
        if len(dep) < len(ok) else None,
    }


def add_extra_pairs(args) -> int:
    """--into: run GMM-MI on --extra-pairs and add them to an existing results file."""
    path = args.into
    payload = json.loads(path.read_text())
    st = payload["settings"]
    with tempfile.TemporaryDirectory(prefix="bench_matrix_") as tmpdir:
        for matrix, pairs in args.extra_pairs.items():
            part = payload["matrices"][matrix]
            n = part["n"]
            data = sample_factor(n, st["seed"]) if matrix == "factor" else sample_latent(n, st["seed"])
            truth = np.array([[np.nan if v is None else v for v in row] for row in part["truth_mi"]])
            args.n_bootstrap = part["n_bootstrap"]
            for name in pairs:
                rec = gmmmi_record(matrix, parse_pair(matrix, name), data, Path(tmpdir), args, truth,
                                   part.get("ours"))
                part.setdefault("gmmmi_extra", []).append(rec)
                part["agreement"] = agreement(part)
                write_json(path, jsonable_full(payload))
    return report_only(path)


def report_only(path: Path) -> int:
    payload = json.loads(path.read_text())
    for matrix, part in payload["matrices"].items():
        part["truth_mi"] = np.array([[np.nan if v is None else v for v in row]
                                     for row in part["truth_mi"]], float)
        ours, rows = part.get("ours"), part.get("gmmmi") or []
        if ours and ours.get("ok"):
            part["accuracy"] = accuracy(matrix, ours, part["truth_mi"])
        if rows:
            for r in rows:
                r.setdefault("stratum", stratum(matrix, tuple(r["index"])))
            part["extrapolation"] = extrapolate(matrix, rows)
            part["extrapolation_wall"] = extrapolate(matrix, rows, "wall_s")
            part["extrapolation_cpu"] = extrapolate(matrix, rows, "process_cpu_s")
            part["speedups"] = speedups(part["extrapolation"], ours)
            part["speedups_cpu"] = speedups_cpu(part["extrapolation_cpu"], ours)
        part["agreement"] = agreement(part)
        report_matrix(matrix, part)
    write_json(path, jsonable_full(payload))
    return 0


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2:])
    args = parse_args(argv)
    if args.report is not None:
        return report_only(args.report)
    if args.into is not None:
        ensure_gmmmi_venv()
        return add_extra_pairs(args)
    log(f"bench_matrix: matrices={args.matrices} N factor={args.n_factor} latent={args.n_latent} "
        f"B={args.n_bootstrap} seed={args.seed} gmmmi={'skip' if args.skip_gmmmi else ('all pairs' if args.all_pairs else f'{args.pairs_per_stratum} pairs per stratum')}")
    gmmmi_versions = None
    if not args.skip_gmmmi:
        ensure_gmmmi_venv()
        v = subprocess.run([str(gmmmi_python()), "-c",
                            "import importlib.metadata as m, json; print(json.dumps({d: m.version(d) for d in "
                            "('gmm-mi', 'scikit-learn', 'numpy', 'scipy')}))"],
                           capture_output=True, text=True)
        gmmmi_versions = json.loads(v.stdout) if v.returncode == 0 else None

    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {
            "matrices": args.matrices, "n_factor": args.n_factor, "n_latent": args.n_latent,
            "n_bootstrap": args.n_bootstrap, "seed": args.seed, "all_pairs": args.all_pairs,
            "pairs_per_stratum": args.pairs_per_stratum, "extra_pairs": args.extra_pairs,
            "strata": {m: strata(m) for m in MATRICES},
            "ours_call": "bayes_gmm_mi.mi_matrix(a, b, categorical=..., n_bootstrap=B, random_state=seed) "
                         "(defaults otherwise: one batch of all pairs), cold in a new process then warm",
            "gmmmi_calls": {
                "factor": "EstimateMI().fit_estimate_categorical(z_j, f_k, "
                          "mi_dist_params=MIDistParamHolder(n_bootstrap=B)) per pair "
                          "(bench/_gmmmi_categorical_runner.py)",
                "latent": "EstimateMI().fit_estimate(column_stack([z_i, z_j]), "
                          "mi_dist_params=MIDistParamHolder(n_bootstrap=B)) per pair "
                          "(bench/_gmmmi_pair_runner.py)"},
            "factor_latents": {s["name"]: s["desc"] for s in factor_specs()},
            "latent_structure": {f"z{i}-z{j}": rho for (i, j), rho in LATENT_RHO.items()},
            "latent_transforms": {"z5": "exp(g / 2)"},
        },
        "machine": machine_info(gmmmi_versions),
    }
    try:
        meta["machine"]["git_commit_short"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True,
            text=True).stdout.strip()
    except Exception:
        pass
    parts: dict[str, dict] = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save(extra=None):
        payload = dict(meta, matrices=parts)
        if extra:
            payload.update(extra)
        write_json(args.out, jsonable_full(payload))

    with tempfile.TemporaryDirectory(prefix="bench_matrix_") as tmpdir:
        tmpdir = Path(tmpdir)
        for matrix in args.matrices:
            n = args.n_factor if matrix == "factor" else args.n_latent
            data = sample_factor(n, args.seed) if matrix == "factor" else sample_latent(n, args.seed)
            truth_full = truth_factor(data["factors"]) if matrix == "factor" else truth_latent()
            truth = truth_full["mi"]
            data_path = tmpdir / f"{matrix}.npz"
            np.savez(data_path, **data)
            part = {"n": n, "n_bootstrap": args.n_bootstrap, "n_pairs": len(all_pairs(matrix)),
                    "truth_mi": truth, "truth_mi_observed_freqs": truth_full.get("mi_observed_freqs")}
            parts[matrix] = part
            log(f"{matrix}: N={n}, {len(all_pairs(matrix))} pairs; true MI of the dependent pairs: " +
                ", ".join(f"{names(matrix, p)} {truth[p]:.4f}" for p in all_pairs(matrix)
                          if dependent(matrix, p)))
            log(f"{matrix}: ours (new process: cold call, then warm call) ...")
            ours = run_ours(matrix, data_path, args.n_bootstrap, args.seed, timeout=3600)
            part["ours"] = ours
            if ours.get("ok"):
                part["accuracy"] = accuracy(matrix, ours, truth)
                log(f"{matrix}: ours cold {ours['time_s']:.2f}s (process {ours['cold_wall_s']:.2f}s) "
                    f"warm {ours['warm_time_s']:.2f}s identical={ours['warm_identical']} "
                    f"load {ours['load_avg_1m_before']}->{ours['load_avg_1m_after']}")
            else:
                log(f"{matrix}: ours FAILED: {str(ours.get('error'))[-800:]}")
            save()
            if not args.skip_gmmmi:
                chosen = (all_pairs(matrix) if args.all_pairs else
                          choose_pairs(matrix, args.seed, args.pairs_per_stratum))
                part["gmmmi_pairs"] = [names(matrix, p) for p in chosen]
                rows = part.setdefault("gmmmi", [])
                for p in chosen:
                    rows.append(gmmmi_record(matrix, p, data, tmpdir, args, truth, ours))
                    part["extrapolation"] = extrapolate(matrix, rows)
                    part["extrapolation_wall"] = extrapolate(matrix, rows, "wall_s")
                    part["extrapolation_cpu"] = extrapolate(matrix, rows, "process_cpu_s")
                    part["speedups"] = speedups(part["extrapolation"], ours)
                    part["speedups_cpu"] = speedups_cpu(part["extrapolation_cpu"], ours)
                    save()
                for name in args.extra_pairs.get(matrix, []):
                    p = parse_pair(matrix, name)
                    part.setdefault("gmmmi_extra", []).append(
                        gmmmi_record(matrix, p, data, tmpdir, args, truth, ours))
                    save()
                part["agreement"] = agreement(part)
            save()
            report_matrix(matrix, part)
    total = run_seconds()
    save({"total_runtime_s": total, "load_avg_1m_at_end": loadavg()})
    log(f"done in {total:.0f} s; results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
