"""Blocks benchmark: MI of multivariate blocks, D = 2 ... 32 columns in all.

Run from the repository root::

    .venv/bin/python bench/bench_blocks.py              # D = 2, 4, 8, 16, 32 at N = 5000
    .venv/bin/python bench/bench_blocks.py --dims 2 8 --n 2000
    .venv/bin/python bench/bench_blocks.py --linalg     # the unrolled / general crossover

**Blocks** (the default). For every D (split evenly: x has D/2 columns, y the
rest) a :class:`bayes_gmm_mi.datasets.CanonicalGaussian` with canonical
correlations 0.8, 0.6, 0.4 (fewer when a block has fewer columns; exact MI
``-1/2 Σ log(1 - ρ²)``) gives two data sets of N rows. Each setting runs in a new
Python process (no persistent compilation cache), which calls
``bayes_gmm_mi.mutual_information(x, y, random_state=0, **setting)`` twice:

* ``first_s`` -- the first call (import excluded): JIT compilation + fit (component
  selection, final EM) + bootstrap (50 replicates) + integrals;
* ``warm_s``  -- the second call, on the second data set of the same shape (the
  compiled programs are reused): fit + bootstrap alone.

Settings: ``default`` (every default: K by 5-fold cross-validation, both
representations of ``transform="auto"``, 50 bootstrap replicates) and ``K=2``
(``n_components=2``: a fixed small K, no selection). Each record also holds the
estimate, its 95 % interval, the truth, the chosen K and the warnings.

**Crossover** (``--linalg``). In one process, per D: ``precision_cholesky`` on a
batch of 8 matrices by the unrolled and by the general code of
``bayes_gmm_mi._linalg`` (compile and run time), and 32 warm-started EM fits x 50
iterations (``bayes_gmm_mi._em.fit_batch``, 6144 rows, K = 8) with the EM steps
unrolled and as matrix products (best of ``--repeats``). These numbers set
``UNROLL_MAX_DIM`` and ``UNROLL_MAX_DIM_EM`` in ``bayes_gmm_mi/_linalg.py``.

Results go to ``bench/results/blocks.json`` (``blocks_linalg.json`` for
``--linalg``); a table is printed. See bench/README.md ("Blocks").
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    REPO_DIR,
    RESULTS_DIR,
    fresh_env,
    jsonable,
    loadavg,
    log,
    machine_info,
    write_json,
)

DEFAULT_OUT = RESULTS_DIR / "blocks.json"
LINALG_OUT = RESULTS_DIR / "blocks_linalg.json"
DIMS = (2, 4, 8, 16, 32)
RHOS = (0.8, 0.6, 0.4)
SETTINGS = {"default": {}, "K=2": {"n_components": 2}}

# Executed with `python -c` in a new process: two calls on two data sets of one shape.
RUN_CODE = r"""
import json, sys, time, warnings
import numpy as np
import bayes_gmm_mi
from bayes_gmm_mi.datasets import CanonicalGaussian

dx, dy, n, rhos, setting, out_path = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                      json.loads(sys.argv[4]), json.loads(sys.argv[5]),
                                      sys.argv[6])
task = CanonicalGaussian(rhos=tuple(rhos), dx=dx, dy=dy)
rec = {"truth": float(task.mi)}
for call, seed in (("first", 0), ("warm", 1)):
    x, y = task.sample(n, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        res = bayes_gmm_mi.mutual_information(x, y, random_state=0, **setting)
        mean = float(res.mean)
        elapsed = time.perf_counter() - t0
    lo, hi = res.interval(0.95)
    rec[call] = {"time_s": elapsed, "mi": mean,
                 "point_estimate": float(getattr(res, "point_estimate", float("nan"))),
                 "interval95": [float(lo), float(hi)], "n_components": int(res.n_components),
                 "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:160]}"
                                     for w in caught})}
with open(out_path, "w") as fh:
    json.dump(rec, fh)
"""


def run_block(d: int, n: int, setting: str, timeout: float) -> dict:
    """One (D, setting) in a new process; the record of its two calls."""
    dx, dy = d // 2, d - d // 2
    rhos = RHOS[: min(dx, dy, len(RHOS))]
    tmp = tempfile.TemporaryDirectory(prefix="bench-blocks-")
    out = Path(tmp.name) / "record.json"
    cmd = [sys.executable, "-c", RUN_CODE, str(dx), str(dy), str(n), json.dumps(rhos),
           json.dumps(SETTINGS[setting]), str(out)]
    load = loadavg()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=fresh_env(),
                              cwd=REPO_DIR, timeout=timeout)
    except subprocess.TimeoutExpired:
        tmp.cleanup()
        return {"ok": False, "error": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        tmp.cleanup()
        return {"ok": False, "wall_s": wall, "error": proc.stderr[-1500:]}
    rec = json.loads(out.read_text())
    tmp.cleanup()
    rec.update(ok=True, wall_s=wall, dx=dx, dy=dy, rhos=list(rhos), load_before=load)
    return rec


def blocks(args: argparse.Namespace) -> None:
    records = []
    for d in args.dims:
        for setting in args.settings:
            log(f"D={d} ({d // 2} + {d - d // 2}), N={args.n}, {setting} ...")
            rec = run_block(d, args.n, setting, args.timeout)
            rec.update(d=d, n=args.n, setting=setting)
            records.append(rec)
            if rec["ok"]:
                log(f"  first {rec['first']['time_s']:.1f} s, warm {rec['warm']['time_s']:.1f} s, "
                    f"MI {rec['warm']['mi']:.3f} (truth {rec['truth']:.3f}), "
                    f"K={rec['warm']['n_components']}")
            else:
                log(f"  failed: {rec['error'][-300:]}")
            write_json(args.out, {"machine": machine_info(), "n": args.n,
                                  "records": jsonable(records)})
    print(blocks_table(records))


def blocks_table(records: list[dict]) -> str:
    lines = ["| D (x + y) | setting | K | first call (s) | warm call (s) | point (warm) "
             "| mean (warm) | 95 % interval | truth |", "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        if not r.get("ok"):
            lines.append(f"| {r['d']} | {r['setting']} | failed | | | | | | |")
            continue
        w = r["warm"]
        lo, hi = w["interval95"]
        lines.append(f"| {r['d']} ({r['dx']} + {r['dy']}) | {r['setting']} | {w['n_components']} "
                     f"| {r['first']['time_s']:.1f} | {w['time_s']:.1f} "
                     f"| {w['point_estimate']:.3f} | {w['mi']:.3f} "
                     f"| [{lo:.3f}, {hi:.3f}] | {r['truth']:.3f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- crossover


def _time(fn, *args, repeats: int = 1):
    """(compile + first run, best run) in seconds of a jitted ``fn``."""
    import jax

    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return first - best, best


def crossover(args: argparse.Namespace) -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bayes_gmm_mi import _em, _linalg
    from bayes_gmm_mi._em import GMMParams

    rng = np.random.default_rng(0)
    records = []
    saved = (_linalg.UNROLL_MAX_DIM, _linalg.UNROLL_MAX_DIM_EM)
    try:
        for d in args.dims:
            m = rng.normal(size=(8, d, d)).astype(np.float32)
            a = jnp.asarray(m @ np.swapaxes(m, -1, -2) + d * np.eye(d, dtype=np.float32))
            rec: dict = {"d": d}
            for path, limit in (("unrolled", 99), ("general", 0)):
                if path == "unrolled" and d > args.max_unrolled:
                    continue
                _linalg.UNROLL_MAX_DIM = _linalg.UNROLL_MAX_DIM_EM = limit
                jax.clear_caches()
                fn = jax.jit(_linalg.precision_cholesky)
                compile_s, run_s = _time(fn, a, repeats=200)
                rec[f"linalg_{path}"] = {"compile_s": compile_s, "run_us": run_s * 1e6}
                # EM: 32 warm-started fits x 50 iterations, K = 8 (4 active), 6144 rows.
                n, k_pad, members = 6144, 8, 32
                x = jnp.asarray(rng.standard_normal((n, d)), jnp.float32)
                w = jnp.asarray(rng.poisson(1.0, (members, n)), jnp.float32)
                start = GMMParams(
                    jnp.asarray(np.r_[np.full(4, 0.25), np.zeros(k_pad - 4)], jnp.float32),
                    jnp.asarray(rng.standard_normal((k_pad, d)) * 0.5, jnp.float32),
                    jnp.broadcast_to(jnp.eye(d, dtype=jnp.float32), (k_pad, d, d)))
                seeds = jnp.arange(members, dtype=jnp.int32)

                def em(x, w, start, seeds=seeds, members=members, k_pad=k_pad):
                    return _em.fit_batch(seeds, x, w, w, members, 4, start, True, k_pad=k_pad,
                                         init="kmeans", reg_covar=1e-6, tol=0.0, max_iter=50)

                compile_s, run_s = _time(em, x, w, start, repeats=args.repeats)
                rec[f"em_{path}"] = {"compile_s": compile_s, "run_s": run_s}
                log(f"D={d} {path}: linalg {rec[f'linalg_{path}']['run_us']:.0f} µs, "
                    f"EM {run_s:.2f} s (compile {compile_s:.1f} s)")
            records.append(rec)
            write_json(args.out, {"machine": machine_info(), "records": jsonable(records)})
    finally:
        _linalg.UNROLL_MAX_DIM, _linalg.UNROLL_MAX_DIM_EM = saved
    print(crossover_table(records))


def crossover_table(records: list[dict]) -> str:
    lines = ["| D | Cholesky + inverse, unrolled: compile / run | general: compile / run "
             "| EM, unrolled: compile / run | EM, matrix products: compile / run |",
             "|---|---|---|---|---|"]

    def cell(rec: dict, key: str, run: str, unit: str) -> str:
        if key not in rec:
            return "--"
        digits = 0 if unit == "µs" else 2
        return f"{rec[key]['compile_s']:.2f} s / {rec[key][run]:.{digits}f} {unit}"

    for r in records:
        lines.append(f"| {r['d']} | {cell(r, 'linalg_unrolled', 'run_us', 'µs')} "
                     f"| {cell(r, 'linalg_general', 'run_us', 'µs')} "
                     f"| {cell(r, 'em_unrolled', 'run_s', 's')} "
                     f"| {cell(r, 'em_general', 'run_s', 's')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=None,
                        help="total columns D (default 2 4 8 16 32; --linalg: "
                             "2 3 4 5 6 8 12 16 32)")
    parser.add_argument("--n", type=int, default=5000, help="rows (default 5000)")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds per (D, setting) process (default 3600)")
    parser.add_argument("--linalg", action="store_true",
                        help="measure the unrolled / general crossover instead")
    parser.add_argument("--repeats", type=int, default=3, help="--linalg: EM runs, best kept")
    parser.add_argument("--max-unrolled", type=int, default=16,
                        help="--linalg: largest D to time unrolled (compile grows as D³)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", action="store_true",
                        help="print the table of the results file (--out) and exit")
    args = parser.parse_args(argv)
    if args.table:
        out = args.out or (LINALG_OUT if args.linalg else DEFAULT_OUT)
        records = json.loads(Path(out).read_text())["records"]
        print(crossover_table(records) if args.linalg else blocks_table(records))
        return
    if args.linalg:
        args.dims = args.dims or [2, 3, 4, 5, 6, 8, 12, 16, 32]
        args.out = args.out or LINALG_OUT
        crossover(args)
    else:
        args.dims = args.dims or list(DIMS)
        args.out = args.out or DEFAULT_OUT
        blocks(args)


if __name__ == "__main__":
    main()
