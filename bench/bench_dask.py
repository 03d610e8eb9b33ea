"""Dask benchmark (issue 7): ``mi_matrix`` locally vs on a ``LocalCluster`` of 2 workers.

Run from the repository root::

    .venv/bin/python bench/bench_dask.py            # full: 64 x 8 at N = 10000, B = 50 (~40-60 min)
    .venv/bin/python bench/bench_dask.py --quick    # 16 x 4 at N = 2000, B = 10 (~40 s)
    .venv/bin/python bench/bench_dask.py --report bench/results/dask.json   # reprint, nothing run

Data: 64 continuous latents z0..z63 and 8 continuous factors f0..f7 (standard normal),
N rows, from ``--seed``. Latent i = rho f_k + sqrt(1 - rho^2) e_i with k = (i // 4) mod 8
and rho = 0.9, 0.6, 0.3 or 0 (pure noise) for i mod 4 = 0, 1, 2, 3. True MI:
-1/2 log(1 - rho^2) for the 48 dependent pairs, 0 for the other 464. Gaussian on
purpose: the pairs are cheap (one or two components), so the distribution overhead is
as visible as it can be. ``--rows R`` keeps the first R latents (R x 8 pairs).

Timed parts, back to back, each in a new Python process with JAX's persistent
compilation cache off; each makes the calls cold(P1), warm(P1), warm(P2), ... for the
``pair_batch`` values P1, P2, ... of ``--pair-batches`` (default 32, 16):

* ``local``   -- ``mi_matrix(z, f, n_bootstrap=B, random_state=seed, pair_batch=P)`` in the
  process; each batch (``bayes_gmm_mi._matrix.matrix_batch``) is timed (wall and CPU) by
  wrapping the function in that process (instrumentation only).
* ``cluster`` -- ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
  processes=True)`` started in the process (``startup_s``), a broadcast scatter of inputs
  of the same size timed apart (``scatter_s``), then the same calls with ``client=``; the
  cold call includes each worker's import of the library and its JIT compilation.
  Worker-side compute time of every batch comes from ``distributed.get_task_stream``, the
  CPU seconds of each worker from ``client.run(time.process_time)`` around each call.
* ``cluster-tuned`` -- the same, but the workers start without ``MALLOC_TRIM_THRESHOLD_``,
  which dask's nanny puts into every worker's environment by default (65536; it makes
  glibc return freed memory at once, and the XLA computations then run about 2x slower).

The cluster's draws must equal the local ones (same random_state and pair_batch): checked
with ``numpy.array_equal`` and ``assert_allclose``. From the measured per-batch cost the
script writes a paper estimate of the time on a 16-worker cluster (``FORMULA``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
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
    jsonable_full,
    loadavg,
    log,
    machine_info,
    run_seconds,
    write_json,
)

DEFAULT_OUT = RESULTS_DIR / "dask.json"
N_LATENT_FULL = 64
N_FACTOR_FULL = 8
RHOS = (0.9, 0.6, 0.3, 0.0)

# --------------------------------------------------------------------------- data


def latent_spec(i: int) -> dict:
    return {"factor": (i // 4) % N_FACTOR_FULL, "rho": RHOS[i % 4]}


def sample(n: int, n_latent: int, n_factor: int, seed: int) -> dict:
    """Factors (n, n_factor) and latents (n, n_latent); latent i as in :func:`latent_spec`.

    The first ``n_factor`` factors and ``n_latent`` latents of the full 64 x 8 design
    (drawn in full, then cut, so a subset has the same values as the full data set).
    """
    rng = np.random.default_rng(np.random.SeedSequence([700, n, seed]))
    f = rng.standard_normal((n, N_FACTOR_FULL))
    e = rng.standard_normal((n, N_LATENT_FULL))
    z = np.empty((n, N_LATENT_FULL))
    for i in range(N_LATENT_FULL):
        s = latent_spec(i)
        z[:, i] = s["rho"] * f[:, s["factor"]] + math.sqrt(1.0 - s["rho"] ** 2) * e[:, i]
    return {"latents": z[:, :n_latent], "factors": f[:, :n_factor]}


def truth(n_latent: int, n_factor: int) -> np.ndarray:
    mi = np.zeros((n_latent, n_factor))
    for i in range(n_latent):
        s = latent_spec(i)
        if s["rho"] > 0 and s["factor"] < n_factor:
            mi[i, s["factor"]] = -0.5 * math.log(1.0 - s["rho"] ** 2)
    return mi


# --------------------------------------------------------------------------- workers (new processes)


def _frames(d):
    import pandas as pd

    z = pd.DataFrame(d["latents"], columns=[f"z{i}" for i in range(d["latents"].shape[1])])
    f = pd.DataFrame(d["factors"], columns=[f"f{k}" for k in range(d["factors"].shape[1])])
    return z, f


def _sequence(pair_batches: list[int]) -> list[tuple[str, int]]:
    """Calls made in one process: cold with the first P, then warm with every P."""
    return [("cold", pair_batches[0])] + [("warm", p) for p in pair_batches]


def worker_local(data_path, out_path, n_boot, seed, pair_batches) -> int:
    """One process: mi_matrix cold then warm; every batch timed (matrix_batch wrapped)."""
    t_start = time.perf_counter()
    import bayes_gmm_mi
    from bayes_gmm_mi import _matrix

    import_s = time.perf_counter() - t_start
    z, f = _frames(np.load(data_path))
    batch_times: list[dict] = []
    original = _matrix.matrix_batch

    def timed_batch(est, pairs, *args, **kwargs):   # instrumentation only: the same function
        c0, t0 = time.process_time(), time.perf_counter()
        out = original(est, pairs, *args, **kwargs)
        batch_times.append({"pairs": len(pairs), "time_s": time.perf_counter() - t0,
                            "cpu_s": time.process_time() - c0})
        return out

    _matrix.matrix_batch = timed_batch
    calls = []
    for idx, (name, p) in enumerate(_sequence(pair_batches)):
        batch_times.clear()
        load0 = os.getloadavg()[0]
        c0, t0 = time.process_time(), time.perf_counter()
        res = bayes_gmm_mi.mi_matrix(z, f, n_bootstrap=n_boot, random_state=seed, pair_batch=p)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        total = sum(b["time_s"] for b in batch_times)
        calls.append({"call": name, "pair_batch": p, "time_s": elapsed, "cpu_s": cpu,
                      "batches": list(batch_times), "sum_batches_s": total,
                      "driver_s": elapsed - total, "load_avg_1m_before": load0,
                      "load_avg_1m_after": os.getloadavg()[0]})
        np.savez(Path(out_path).with_suffix(f".{idx}.npz"), draws=res.draws.values,
                 point=res.point_estimate.values, mean=res.mean().values, std=res.std().values,
                 n_components=res.n_components.values)
    Path(out_path).write_text(json.dumps(jsonable_full({"import_s": import_s, "calls": calls})))
    return 0


def worker_cluster(data_path, out_path, n_boot, seed, pair_batches, n_workers, tuned=False) -> int:
    """One process: start a LocalCluster, time a scatter, then the same calls with client=.

    ``tuned``: start the workers without ``MALLOC_TRIM_THRESHOLD_`` (which dask's nanny
    sets to 65536 for every worker by default, ``distributed.nanny.pre-spawn-environ``).
    """
    t_start = time.perf_counter()
    import dask
    from distributed import Client, LocalCluster, get_task_stream

    import bayes_gmm_mi
    from bayes_gmm_mi._matrix import _columns

    import_s = time.perf_counter() - t_start
    z, f = _frames(np.load(data_path))
    rec: dict = {"import_s": import_s, "tuned": tuned}
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if tuned:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    t0 = time.perf_counter()
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    rec["startup_s"] = time.perf_counter() - t0
    rec["worker_environ"] = {k: v for k, v in client.run(
        lambda: {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}).items()}
    try:
        # mi_matrix broadcasts the arguments shared by all batches once per call: the
        # columns, the bootstrap counts and the settings. Timed here apart, same sizes.
        cols = _columns(z, "a", set(), None) + _columns(f, "b", set(), len(z))
        counts = np.zeros((n_boot, len(z)), np.float32)
        rec["scatter_bytes"] = int(sum(c.values.nbytes for c in cols) + counts.nbytes)
        for key in ("scatter_first_s", "scatter_s"):      # the first one also opens connections
            t0 = time.perf_counter()
            fut = client.scatter([cols, counts], broadcast=True)
            rec[key] = time.perf_counter() - t0
            client.cancel(fut)
            del fut
        calls = []
        for idx, (name, p) in enumerate(_sequence(pair_batches)):
            load0 = os.getloadavg()[0]
            cpu0 = client.run(time.process_time)          # CPU seconds of each worker process
            with get_task_stream(client) as ts:
                t0 = time.perf_counter()
                res = bayes_gmm_mi.mi_matrix(z, f, n_bootstrap=n_boot, random_state=seed,
                                             pair_batch=p, client=client)
                elapsed = time.perf_counter() - t0
            cpu1 = client.run(time.process_time)
            worker_cpu = {w: cpu1[w] - cpu0[w] for w in cpu1 if w in cpu0}
            tasks = []
            for t in ts.data:
                steps = t.get("startstops", [])
                comp = [s for s in steps if s.get("action") == "compute"]
                if not comp or "matrix_batch" not in str(t.get("key")):
                    continue
                other: dict[str, float] = {}
                for s in steps:
                    if s.get("action") != "compute":
                        other[s["action"]] = other.get(s["action"], 0.0) + s["stop"] - s["start"]
                tasks.append({"worker": str(t.get("worker")),
                              "start": min(s["start"] for s in comp) - t0_epoch(t0),
                              "stop": max(s["stop"] for s in comp) - t0_epoch(t0),
                              "compute_s": sum(s["stop"] - s["start"] for s in comp),
                              "other_s": other})
            tasks.sort(key=lambda t: t["start"])
            calls.append({"call": name, "pair_batch": p, "time_s": elapsed, "tasks": tasks,
                          "worker_cpu_s": worker_cpu,
                          "load_avg_1m_before": load0, "load_avg_1m_after": os.getloadavg()[0]})
            np.savez(Path(out_path).with_suffix(f".{idx}.npz"), draws=res.draws.values,
                     point=res.point_estimate.values)
        rec["calls"] = calls
    finally:
        client.close()
        cluster.close()
    Path(out_path).write_text(json.dumps(jsonable_full(rec)))
    return 0


_EPOCH_OFFSET = time.time() - time.perf_counter()


def t0_epoch(t0_perf: float) -> float:
    """A perf_counter instant as a time.time() instant (task-stream times are epoch)."""
    return t0_perf + _EPOCH_OFFSET


def run_worker_process(kind: str, args: list[str], timeout: float) -> dict:
    out = Path(args[1])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, *args]
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
        return dict(base, ok=False, error=(proc.stderr or proc.stdout)[-3000:])
    rec = json.loads(out.read_text())
    rec.update(base, ok=True)
    return rec


# --------------------------------------------------------------------------- analysis


def analyse_cluster_call(call: dict, n_workers: int) -> dict:
    """Per-batch compute (worker side) and where the rest of the wall time of one call goes.

    wall = dispatch (driver work, scatter, submit: call start to first task start)
         + makespan (first task start to last task stop)
         + tail (gather and assembly: last task stop to the end of the call);
    makespan = mean busy time per worker + mean scheduler gaps per worker + imbalance
    (the wait for the slowest worker).
    """
    tasks = call["tasks"]
    comp = [t["compute_s"] for t in tasks]
    total = sum(comp)
    by_worker: dict[str, list] = {}
    for t in tasks:
        by_worker.setdefault(t["worker"], []).append(t)
    rounds = math.ceil(len(tasks) / n_workers)
    gaps = []
    for ts in by_worker.values():
        gaps += [b["start"] - a["stop"] for a, b in zip(ts, ts[1:])]
    busy = {w: sum(t["compute_s"] for t in ts) for w, ts in by_worker.items()}
    first = min((t["start"] for t in tasks), default=0.0)
    last = max((t["stop"] for t in tasks), default=0.0)
    makespan = last - first
    mean_busy = statistics.fmean(busy.values()) if busy else 0.0
    mean_gaps = sum(gaps) / max(len(by_worker), 1)
    cpu = call.get("worker_cpu_s") or {}
    return {
        "wall_s": call["time_s"], "batches": len(tasks), "rounds": rounds,
        "batch_compute_mean_s": statistics.fmean(comp) if comp else None,
        "batch_compute_sd_s": statistics.stdev(comp) if len(comp) > 1 else None,
        "batch_compute_min_s": min(comp, default=None), "batch_compute_max_s": max(comp, default=None),
        "sum_compute_s": total,
        "compute_per_worker_s": busy,
        "batches_per_worker": {w: len(ts) for w, ts in by_worker.items()},
        "worker_cpu_s": cpu,
        "batch_cpu_mean_s": (sum(cpu.values()) / len(tasks)) if cpu and tasks else None,
        "dispatch_s": first, "makespan_s": makespan, "tail_s": call["time_s"] - last,
        "mean_busy_per_worker_s": mean_busy, "gaps_per_worker_s": mean_gaps,
        "gap_per_batch_mean_s": statistics.fmean(gaps) if gaps else None,
        "imbalance_s": makespan - mean_busy - mean_gaps,
        "gaps_between_tasks_on_a_worker_s": gaps,
        "overhead_s": call["time_s"] - total / n_workers,
        "transfer_s": sum(t["other_s"].get("transfer", 0.0) for t in tasks),
        "deserialize_s": sum(t["other_s"].get("deserialize", 0.0) for t in tasks),
    }


def batch_cost_model(measured: dict[int, float], n_pairs_measured: int):
    """c(P): per-batch compute on one core for a batch of P pairs.

    ``measured`` maps P to the mean warm per-batch compute. The cost per pair at P is
    taken from the measured P, or interpolated linearly in log2(P) between the nearest
    measured ones (held constant beyond them).
    """
    per_pair = {}
    for p, c in measured.items():
        n_b = math.ceil(n_pairs_measured / p)
        per_pair[p] = c / (n_pairs_measured / n_b)      # mean pairs per batch
    ps = sorted(per_pair)

    def cost(p: int) -> tuple[float, str]:
        if p in per_pair:
            return p * per_pair[p], "measured"
        lp = math.log2(p)
        xs = [math.log2(q) for q in ps]
        ys = [per_pair[q] for q in ps]
        return p * float(np.interp(lp, xs, ys)), "interpolated" if ps[0] < p < ps[-1] else "held"

    return cost, per_pair


def paper_estimate(n_pairs: int, workers: int, cost, startup_s: float, jit_s: float,
                   fixed_s: float, g: float, pair_batches) -> dict:
    """T_W(P) = t_startup + t_JIT + t_fixed + ceil(ceil(n_pairs / P) / W) * (c(P) + g)."""
    rows = []
    for p in sorted(set(pair_batches) | {math.ceil(n_pairs / workers)}):
        n_b = math.ceil(n_pairs / p)
        c, how = cost(min(p, n_pairs))
        rounds = math.ceil(n_b / workers)
        warm = fixed_s + rounds * (c + g)
        rows.append({"pair_batch": p, "batches": n_b, "rounds": rounds, "c_batch_s": c,
                     "c_batch_from": how, "warm_s": warm, "cold_s": startup_s + jit_s + warm,
                     "busy_fraction": n_b / (rounds * workers)})
    return {"workers": workers, "n_pairs": n_pairs, "startup_s": startup_s, "jit_s": jit_s,
            "fixed_s": fixed_s, "per_batch_overhead_s": g, "rows": rows,
            "best": min(rows, key=lambda r: r["cold_s"])}


FORMULA = ("T_W(P) = t_startup + t_JIT + t_fixed + ceil(ceil(n_pairs / P) / W) * (c(P) + g); "
           "c(P) = compute of one batch of P pairs on a dedicated core = CPU seconds per batch "
           "(of the workers in the warm call at that P; or, 'dedicated core', of the local "
           "process) (per-pair cost interpolated in log2 P for an unmeasured P); g = per-batch "
           "dask overhead = median gap between consecutive "
           "tasks on a worker + transfer/deserialise per task; t_fixed = dispatch (call start to "
           "first task: driver work, scatter, submit) + tail (last task to the end: gather, "
           "assembly) of the warm call; t_JIT = (CPU of the workers in the cold call - in the "
           "warm call at the same P) / W, paid once per worker, in parallel; t_startup = "
           "LocalCluster + Client as measured with 2 workers. Load imbalance is not modelled "
           "(one round when ceil(n_pairs / P) <= W).")


CLUSTERS = ("cluster", "cluster-tuned")


def build_model(results: dict, n_pairs: int, full_pairs: int, w: int, pair_batches) -> None:
    """Comparison table, cost model and paper estimates from the local and cluster records."""
    lrec = results["local"]
    lcalls = lrec["calls"]
    warm_l = [c for c in lcalls if c["call"] == "warm"]
    rows, models = [], {}
    # Dedicated-core cost from the local process: its CPU seconds per batch (the process uses
    # up to both cores through XLA's threads; one worker with one core does the same work).
    cost_local, per_pair_local_cpu = batch_cost_model(
        {c["pair_batch"]: statistics.fmean(b["cpu_s"] for b in c["batches"]) for c in warm_l}, n_pairs)
    _, per_pair_local_wall = batch_cost_model(
        {c["pair_batch"]: statistics.fmean(b["time_s"] for b in c["batches"]) for c in warm_l}, n_pairs)
    local_jit = lcalls[0]["time_s"] - [c for c in warm_l if c["pair_batch"] == lcalls[0]["pair_batch"]][0]["time_s"]
    local_jit_cpu = lcalls[0]["cpu_s"] - [c for c in warm_l if c["pair_batch"] == lcalls[0]["pair_batch"]][0]["cpu_s"]
    for kind in CLUSTERS:
        crec = results.get(kind)
        if not crec or not crec.get("ok"):
            continue
        ccalls = crec["calls"]
        for c in ccalls:
            c["analysis"] = analyse_cluster_call(c, w)
        for lc, cc in zip(lcalls, ccalls):
            an = cc["analysis"]
            rows.append({
                "cluster": kind, "call": lc["call"], "pair_batch": lc["pair_batch"], "batches": an["batches"],
                "local_s": lc["time_s"], "cluster_s": cc["time_s"],
                "local_over_cluster": lc["time_s"] / cc["time_s"],
                "local_cpu_s": lc.get("cpu_s"),
                "cluster_worker_cpu_s": sum(an["worker_cpu_s"].values()) if an["worker_cpu_s"] else None,
                "local_batch_mean_s": statistics.fmean(b["time_s"] for b in lc["batches"]),
                "local_batch_cpu_mean_s": (statistics.fmean(b["cpu_s"] for b in lc["batches"])
                                           if all("cpu_s" in b for b in lc["batches"]) else None),
                "local_driver_s": lc["driver_s"],
                "cluster_batch_compute_mean_s": an["batch_compute_mean_s"],
                "cluster_batch_compute_sd_s": an["batch_compute_sd_s"],
                "cluster_batch_cpu_mean_s": an["batch_cpu_mean_s"],
                "cluster_sum_compute_s": an["sum_compute_s"],
                "cluster_overhead_s": an["overhead_s"],
                "cluster_dispatch_s": an["dispatch_s"], "cluster_tail_s": an["tail_s"],
                "cluster_gap_per_batch_s": an["gap_per_batch_mean_s"],
                "cluster_imbalance_s": an["imbalance_s"],
                "rounds": an["rounds"],
                "load_local": [lc.get("load_avg_1m_before"), lc.get("load_avg_1m_after")],
                "load_cluster": [cc.get("load_avg_1m_before"), cc.get("load_avg_1m_after")],
            })
        warm_c = [c for c in ccalls if c["call"] == "warm"]
        cold_c = ccalls[0]
        use_cpu = all(c["analysis"]["batch_cpu_mean_s"] for c in warm_c)
        key = "batch_cpu_mean_s" if use_cpu else "batch_compute_mean_s"
        cost, per_pair = batch_cost_model({c["pair_batch"]: c["analysis"][key] for c in warm_c}, n_pairs)
        same_p = [c for c in warm_c if c["pair_batch"] == cold_c["pair_batch"]][0]
        if use_cpu:
            jit = (sum(cold_c["analysis"]["worker_cpu_s"].values())
                   - sum(same_p["analysis"]["worker_cpu_s"].values())) / w
        else:
            jit = (cold_c["analysis"]["sum_compute_s"] - same_p["analysis"]["sum_compute_s"]) / w
        gaps = [g for c in warm_c for g in c["analysis"]["gaps_between_tasks_on_a_worker_s"]]
        per_task_io = [(c["analysis"]["transfer_s"] + c["analysis"]["deserialize_s"]) / c["analysis"]["batches"]
                       for c in warm_c]
        g = (statistics.median(gaps) if gaps else 0.0) + statistics.fmean(per_task_io)
        fixed = statistics.median(c["analysis"]["dispatch_s"] + c["analysis"]["tail_s"] for c in warm_c)
        models[kind] = {
            "batch_cost_from": "worker CPU seconds" if use_cpu else "task-stream compute (wall)",
            "per_pair_cost_s": per_pair,
            "startup_s": crec["startup_s"], "scatter_s": crec["scatter_s"],
            "scatter_first_s": crec["scatter_first_s"], "scatter_bytes": crec["scatter_bytes"],
            "worker_environ": crec.get("worker_environ"),
            "jit_per_worker_s": jit, "fixed_s": fixed, "per_batch_overhead_s": g,
            "gap_median_s": statistics.median(gaps) if gaps else None,
            "gap_mean_s": statistics.fmean(gaps) if gaps else None, "gap_max_s": max(gaps, default=None),
            "cluster_cold_minus_warm_s": cold_c["time_s"] - same_p["time_s"],
            "estimate_16_workers": paper_estimate(full_pairs, 16, cost, crec["startup_s"], jit, fixed, g,
                                                  pair_batches),
            "estimate_2_workers_full": paper_estimate(full_pairs, w, cost, crec["startup_s"], jit, fixed, g,
                                                      pair_batches),
        }
    results["comparison"] = rows
    results["cost_model"] = {
        "formula": FORMULA, "clusters": models,
        "local": {"per_pair_cpu_s": per_pair_local_cpu, "per_pair_wall_s": per_pair_local_wall,
                  "jit_s": local_jit, "jit_cpu_s": local_jit_cpu},
    }
    # The 16-worker estimate with the dedicated-core cost of the local process and the dask
    # overheads (start-up, per-batch gap, fixed part) of the best cluster variant measured.
    base = models.get("cluster-tuned") or models.get("cluster")
    if base:
        results["estimate_16_workers_dedicated_core"] = paper_estimate(
            full_pairs, 16, cost_local, base["startup_s"], max(local_jit_cpu, 0.0), base["fixed_s"],
            base["per_batch_overhead_s"], pair_batches)
    results["estimate_local_full_warm_s"] = {
        str(c["pair_batch"]): c["driver_s"] + full_pairs * per_pair_local_wall[c["pair_batch"]] for c in warm_l}
    results["extrapolated_to_64x8"] = n_pairs != full_pairs


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="16 x 4 at N = 2000, B = 10, pair_batch 8 and 32 (~2 min)")
    p.add_argument("--n", type=int, default=None, help="rows (10000; 2000 with --quick)")
    p.add_argument("--rows", type=int, default=None,
                   help="latents (64; 16 with --quick); with fewer than 64 the 64 x 8 times are "
                        "extrapolated from the per-batch cost")
    p.add_argument("--factors", type=int, default=None, help="factors (8; 4 with --quick)")
    p.add_argument("--n-bootstrap", type=int, default=None, help="replicates (50; 10 with --quick)")
    p.add_argument("--pair-batches", type=int, nargs="+", default=None,
                   help="pair_batch values; the first is also run cold (32 16; 8 32 with --quick)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster workers (2)")
    p.add_argument("--clusters", nargs="+", choices=CLUSTERS, default=list(CLUSTERS),
                   help="cluster variants: 'cluster' = LocalCluster with dask's defaults, "
                        "'cluster-tuned' = the same without MALLOC_TRIM_THRESHOLD_ in the workers' "
                        "environment (default: both)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=5400.0, help="seconds per process")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    p.add_argument("--report", type=Path, default=None, metavar="JSON",
                   help="run nothing: recompute the cost model of a results file (in place), print it")
    args = p.parse_args(argv)
    q = args.quick
    args.n = args.n or (2000 if q else 10000)
    args.rows = args.rows or (16 if q else N_LATENT_FULL)
    args.factors = args.factors or (4 if q else N_FACTOR_FULL)
    args.n_bootstrap = args.n_bootstrap if args.n_bootstrap is not None else (10 if q else 50)
    args.pair_batches = args.pair_batches or ([8, 32] if q else [32, 16])
    return args


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--worker":
        kind, rest = sys.argv[2], sys.argv[3:]
        ps = [int(v) for v in rest[4].split(",")]
        if kind == "local":
            return worker_local(rest[0], rest[1], int(rest[2]), int(rest[3]), ps)
        return worker_cluster(rest[0], rest[1], int(rest[2]), int(rest[3]), ps, int(rest[5]),
                              tuned=kind == "cluster-tuned")
    args = parse_args(argv)
    if args.report is not None:
        return report_only(args.report)
    n_pairs = args.rows * args.factors
    full_pairs = N_LATENT_FULL * N_FACTOR_FULL
    w = args.workers
    log(f"bench_dask: {args.rows} x {args.factors} = {n_pairs} pairs, N={args.n}, B={args.n_bootstrap}, "
        f"pair_batch {args.pair_batches}, {w} workers")
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {"n": args.n, "rows": args.rows, "factors": args.factors, "n_pairs": n_pairs,
                     "n_bootstrap": args.n_bootstrap, "pair_batches": args.pair_batches,
                     "workers": w, "seed": args.seed, "clusters": args.clusters,
                     "sequence": [f"{c}(P={p})" for c, p in _sequence(args.pair_batches)],
                     "cluster": f"distributed.LocalCluster(n_workers={w}, threads_per_worker=1, "
                                "processes=True, dashboard_address=None)",
                     "cluster-tuned": "the same, started under dask.config.set({'distributed.nanny."
                                      "pre-spawn-environ': <default without MALLOC_TRIM_THRESHOLD_>})",
                     "call": "bayes_gmm_mi.mi_matrix(z, f, n_bootstrap=B, random_state=seed, "
                             "pair_batch=P[, client=client])",
                     "data": "f ~ N(0, I_8); latent i = rho f_k + sqrt(1 - rho^2) e with k = (i // 4) % 8, "
                             "rho = (0.9, 0.6, 0.3, 0)[i % 4]"},
        "machine": machine_info(None),
    }
    meta["machine"]["git_commit_short"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True).stdout.strip()
    try:
        import dask
        import distributed

        meta["machine"]["versions"].update(dask=dask.__version__, distributed=distributed.__version__)
    except Exception:
        pass
    results: dict = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save(extra=None):
        payload = dict(meta, **results)
        if extra:
            payload.update(extra)
        write_json(args.out, jsonable_full(payload))

    tr = truth(args.rows, args.factors)
    seq = _sequence(args.pair_batches)
    with tempfile.TemporaryDirectory(prefix="bench_dask_") as tmpdir:
        tmpdir = Path(tmpdir)
        data_path = tmpdir / "data.npz"
        np.savez(data_path, **sample(args.n, args.rows, args.factors, args.seed))
        ps = ",".join(str(p) for p in args.pair_batches)
        kinds = ["local"] + [k for k in CLUSTERS if k in args.clusters]
        for kind in kinds:
            out = tmpdir / f"{kind}.json"
            wargs = [str(data_path), str(out), str(args.n_bootstrap), str(args.seed), ps]
            if kind != "local":
                wargs.append(str(w))
            log(f"{kind}: new process, calls {[f'{c}(P={p})' for c, p in seq]} ...")
            rec = run_worker_process(kind, wargs, args.timeout)
            results[kind] = rec
            if not rec.get("ok"):
                log(f"{kind} FAILED: {rec.get('error', '')[-1500:]}")
                save()
                continue
            for c in rec["calls"]:
                log(f"  {kind} {c['call']} P={c['pair_batch']}: {c['time_s']:.1f}s")
            log(f"{kind}: process {rec['wall_s']:.1f}s, load {rec['load_avg_1m_before']}->{rec['load_avg_1m_after']}")
            if kind != "local":
                for c in rec["calls"]:
                    c["analysis"] = analyse_cluster_call(c, w)
            save()
        lrec = results.get("local", {})
        # Same numbers locally and on the cluster (same random_state and pair_batch)?
        if lrec.get("ok") and any(results.get(k, {}).get("ok") for k in CLUSTERS):
            checks = []
            for kind in CLUSTERS:
                if not results.get(kind, {}).get("ok"):
                    continue
                for idx, (name, p) in enumerate(seq):
                    lc = np.load(tmpdir / f"local.{idx}.npz")
                    cl = np.load(tmpdir / f"{kind}.{idx}.npz")
                    equal = bool(np.array_equal(lc["draws"], cl["draws"], equal_nan=True)
                                 and np.array_equal(lc["point"], cl["point"], equal_nan=True))
                    try:
                        np.testing.assert_allclose(cl["draws"], lc["draws"], rtol=1e-6, atol=0)
                        np.testing.assert_allclose(cl["point"], lc["point"], rtol=1e-6, atol=0)
                        close: bool | str = True
                    except AssertionError as err:
                        close = str(err)[:600]
                    checks.append({"call": f"{kind} {name}", "pair_batch": p, "array_equal": equal,
                                   "assert_allclose_rtol_1e-6": close,
                                   "max_abs_diff": float(np.nanmax(np.abs(cl["draws"] - lc["draws"])))})
                    log(f"{kind} == local ({name}, P={p}): array_equal={equal}, allclose={close is True}")
            # Across pair_batch values locally (documented: same P gives the same numbers).
            first = np.load(tmpdir / "local.1.npz")
            for idx, (name, p) in enumerate(seq[2:], start=2):
                other = np.load(tmpdir / f"local.{idx}.npz")
                checks.append({"call": f"local warm P={p} vs local warm P={seq[1][1]}", "pair_batch": "",
                               "array_equal": bool(np.array_equal(first["draws"], other["draws"], equal_nan=True)),
                               "max_abs_diff": float(np.nanmax(np.abs(first["draws"] - other["draws"])))})
            results["equality"] = checks
            res0 = np.load(tmpdir / "local.0.npz")
            dep = tr > 0
            results["accuracy"] = {
                "dependent_pairs": int(dep.sum()),
                "dependent_max_abs_error": float(np.max(np.abs(res0["mean"][dep] - tr[dep]))),
                "dependent_max_abs_error_in_sd": float(np.max(np.abs(res0["mean"][dep] - tr[dep]) / res0["std"][dep])),
                "independent_mean": float(np.mean(res0["mean"][~dep])),
                "independent_max": float(np.max(res0["mean"][~dep])),
                "n_components_counts": {str(k): int(v) for k, v in zip(*np.unique(res0["n_components"], return_counts=True))},
            }
            build_model(results, n_pairs, full_pairs, w, args.pair_batches)
        save()
    print_report(results, meta)
    total = run_seconds()
    save({"total_runtime_s": total, "load_avg_1m_at_end": loadavg()})
    log(f"done in {total:.0f} s; results written to {args.out}")
    return 0


def _f(v, spec="8.2f"):
    return format(v, spec) if isinstance(v, (int, float)) and v is not None and math.isfinite(v) else "-"


def print_report(results: dict, meta: dict) -> None:
    s = meta["settings"]
    print()
    print(f"mi_matrix {s['rows']} x {s['factors']} ({s['n_pairs']} pairs), N = {s['n']}, B = {s['n_bootstrap']}; "
          f"local single process vs LocalCluster({s['workers']} workers x 1 thread)")
    for kind in ("local",) + CLUSTERS:
        rec = results.get(kind, {})
        if rec and not rec.get("ok"):
            print(f"{kind} FAILED: {str(rec.get('error'))[-800:]}")
        elif rec:
            extra = (f", start-up {rec['startup_s']:.1f} s, scatter {rec['scatter_s']:.2f} s "
                     f"({rec['scatter_bytes'] / 1e6:.1f} MB), workers' environment "
                     f"{list((rec.get('worker_environ') or {}).values())[:1]}" if kind != "local" else "")
            print(f"  {kind} process {rec['wall_s']:.1f} s, load {rec['load_avg_1m_before']} -> "
                  f"{rec['load_avg_1m_after']}{extra}")
    comp = results.get("comparison")
    if not comp:
        return
    hdr = (f"{'cluster':<13} {'call':<5} {'P':>4} {'batches':>7} {'local s':>8} {'cluster s':>9} {'local/cl':>8} "
           f"{'local CPU':>9} {'cl CPU':>8} {'loc batch':>9} {'loc b.CPU':>9} {'cl batch':>8} {'cl b.CPU':>8} "
           f"{'dispatch':>8} {'gap/batch':>9} {'imbal.':>7} {'tail':>6} {'load local':>11} {'load cl':>11}")
    print(hdr)
    print("-" * len(hdr))
    for r in comp:
        ll = "->".join(_f(v, ".1f") for v in r["load_local"])
        lc = "->".join(_f(v, ".1f") for v in r["load_cluster"])
        print(f"{r['cluster']:<13} {r['call']:<5} {r['pair_batch']:>4} {r['batches']:>7} {r['local_s']:8.1f} "
              f"{r['cluster_s']:9.1f} {r['local_over_cluster']:7.2f}x {_f(r['local_cpu_s'], '9.1f')} "
              f"{_f(r['cluster_worker_cpu_s'], '8.1f')} {r['local_batch_mean_s']:9.2f} "
              f"{_f(r['local_batch_cpu_mean_s'], '9.2f')} "
              f"{_f(r['cluster_batch_compute_mean_s'], '8.2f')} {_f(r['cluster_batch_cpu_mean_s'], '8.2f')} "
              f"{r['cluster_dispatch_s']:8.2f} {_f(r['cluster_gap_per_batch_s'], '9.4f')} "
              f"{r['cluster_imbalance_s']:7.1f} {r['cluster_tail_s']:6.2f} {ll:>11} {lc:>11}")
    print("(seconds; b.CPU = CPU seconds per batch; cl batch = worker-side compute per batch from the task "
          "stream; dispatch = call start to first task; gap = idle between tasks on a worker; imbal. = "
          "wait for the slowest worker; tail = last task to end of call)")
    for c in results.get("equality", []):
        print(f"  equal: {c['call']} P={c.get('pair_batch', '')}: array_equal={c['array_equal']}, "
              f"max |diff| {c['max_abs_diff']:.3g}")
    cm = results["cost_model"]
    loc = cm["local"]
    print("local process: CPU s per pair " + ", ".join(f"P={p}: {v:.3f}" for p, v in loc["per_pair_cpu_s"].items())
          + "; wall s per pair " + ", ".join(f"P={p}: {v:.3f}" for p, v in loc["per_pair_wall_s"].items())
          + f"; JIT {loc['jit_s']:.1f} s wall, {loc['jit_cpu_s']:.1f} s CPU")
    ests = []
    for kind, m in cm["clusters"].items():
        print(f"{kind}: CPU s per pair on a worker " + ", ".join(
            f"P={p}: {v:.3f}" for p, v in m["per_pair_cost_s"].items())
            + f"; start-up {m['startup_s']:.1f} s; scatter {m['scatter_s']:.2f} s (first {m['scatter_first_s']:.2f} s); "
            f"JIT + import per worker {m['jit_per_worker_s']:.1f} s CPU; fixed {m['fixed_s']:.2f} s; "
            f"per-batch overhead {m['per_batch_overhead_s'] * 1000:.1f} ms (gap median "
            f"{_f(m['gap_median_s'] and m['gap_median_s'] * 1000, '.1f')} ms, max {_f(m['gap_max_s'], '.2f')} s)")
        ests += [(f"{kind}, {m['estimate_2_workers_full']['workers']} workers", m["estimate_2_workers_full"]),
                 (f"{kind}, 16 workers", m["estimate_16_workers"])]
    if results.get("estimate_16_workers_dedicated_core"):
        ests.append(("dedicated core (local CPU per batch), 16 workers",
                     results["estimate_16_workers_dedicated_core"]))
    for label, est in ests:
        print(f"paper estimate, {est['n_pairs']} pairs (at N = {s['n']}, B = {s['n_bootstrap']}), {label}:")
        for row in est["rows"]:
            print(f"  P = {row['pair_batch']:>3}: {row['batches']:>3} batches, {row['rounds']:>2} rounds x "
                  f"({row['c_batch_s']:.1f} [{row['c_batch_from']}] + {est['per_batch_overhead_s']:.3f}) s + "
                  f"{est['fixed_s']:.1f} s = {row['warm_s']:.1f} s warm; {row['cold_s']:.1f} s with start-up "
                  f"{est['startup_s']:.1f} s and JIT {est['jit_s']:.1f} s")
    print(cm["formula"])


def report_only(path: Path) -> int:
    """Recompute the cost model of a results file (in place) and print the tables."""
    payload = json.loads(path.read_text())
    st = payload["settings"]
    full = N_LATENT_FULL * N_FACTOR_FULL
    if payload.get("local", {}).get("ok") and any(payload.get(k, {}).get("ok") for k in CLUSTERS):
        build_model(payload, st["n_pairs"], full, st["workers"], st["pair_batches"])
    print_report(payload, payload)
    write_json(path, jsonable_full(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
