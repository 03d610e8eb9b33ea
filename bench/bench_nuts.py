"""NUTS at the K users get: this checkout against an earlier commit, side by side in one run.

Run from the repository root::

    .venv/bin/python bench/bench_nuts.py                      # K = 2, 4, 6, 8 + Gaussian at K = 2
    .venv/bin/python bench/bench_nuts.py --before 4498d3e     # the commit to compare with
    .venv/bin/python bench/bench_nuts.py --cases gmm6 --skip-before

Cases (N = 2000 rows, ``--n``):

* ``gmmK`` (K = 2, 4, 6, 8) -- data from the model itself: a K-component 2-D Gaussian
  mixture (means on a circle of radius 3, Dirichlet(5) weights, scales U(0.5, 1.2),
  correlations U(-0.7, 0.7), all from ``SeedSequence([600, K])``), fitted at the true K;
* ``gaussian-k2`` -- a bivariate Gaussian (rho = 0.6) fitted with K = 2: the two components
  are redundant, the case where the posterior has a weight-0 funnel;
* ``gamma-exponential`` (only with ``--cases``) -- the log gamma-exponential pair at the
  cross-validated K.

For each case and each version ("before": the commit ``--before``, "after": the commit
``--after`` (default HEAD), each checked out in a temporary git worktree and put first on
``PYTHONPATH``; the record's ``module`` shows which package was imported), one new
Python process with JAX's persistent compilation cache off fits the mixture
(``GMMMI(n_components=K, random_state=0)``) and calls ``estimate_mi(method="mcmc")``
twice with the library's defaults (4 chains x (500 warm-up + 500 draws)): the first call
is cold (compilation included), the second warm. Recorded: both times, the warm call's
sampling and integration times, divergences, bulk ESS and R-hat of the MI draws, ESS per
warm second, mean leapfrog steps per iteration, the posterior mean and sd of MI. The two
versions of a case run back to back, so that they share the machine's load. Results go
to ``bench/results/nuts.json``; a table to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
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
)

DEFAULT_OUT = RESULTS_DIR / "nuts.json"
DEFAULT_BEFORE = "4498d3e"  # main before issue 12's sampler and integration changes
CASES = ("gmm2", "gmm4", "gmm6", "gmm8", "gaussian-k2")


def case_data(case: str, n: int) -> tuple[np.ndarray, np.ndarray, int | str]:
    """(x, y, K) of a case; K = "auto" lets cross-validation choose."""
    if case.startswith("gmm"):
        k = int(case[3:])
        rng = np.random.default_rng(np.random.SeedSequence([600, k]))
        angle = 2 * np.pi * np.arange(k) / k
        means = 3.0 * np.c_[np.cos(angle), np.sin(angle)]
        weights = rng.dirichlet(np.full(k, 5.0))
        comp = rng.choice(k, n, p=weights)
        out = np.empty((n, 2))
        for j in range(k):
            rho, (s0, s1) = rng.uniform(-0.7, 0.7), rng.uniform(0.5, 1.2, 2)
            cov = np.array([[s0 * s0, rho * s0 * s1], [rho * s0 * s1, s1 * s1]])
            rows = comp == j
            out[rows] = rng.multivariate_normal(means[j], cov, rows.sum())
        return out[:, 0], out[:, 1], k
    from bayes_gmm_mi.datasets import get_dataset

    if case == "gaussian-k2":
        x, y = get_dataset("gaussian", rho=0.6).sample(n, random_state=0)
        return np.ravel(x), np.ravel(y), 2
    if case == "gamma-exponential":
        x, y = get_dataset("gamma-exponential").sample(n, random_state=0)
        return np.ravel(x), np.ravel(y), "auto"
    raise ValueError(f"unknown case {case!r}; choose from {CASES + ('gamma-exponential',)}")


def worker(argv: list[str]) -> int:
    """``--worker DATA.npz OUT.json K``: fit, then two MCMC calls; write the record."""
    import warnings

    data_path, out_path, k = argv[0], argv[1], argv[2]
    d = np.load(data_path)
    t0 = time.perf_counter()
    import bayes_gmm_mi

    rec: dict = {"import_s": time.perf_counter() - t0, "module": bayes_gmm_mi.__file__}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        est = bayes_gmm_mi.GMMMI(n_components=k if k == "auto" else int(k), random_state=0)
        est.fit(d["x"], d["y"])
        rec["fit_s"] = time.perf_counter() - t0
        rec["n_components"] = int(est.n_components_)
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            res = est.estimate_mi(method="mcmc")
            rec[f"{label}_s"] = time.perf_counter() - t0
        info = res.info
        steps = np.asarray(res.sample_stats["n_steps"], float)
        rec.update(
            sampling_s=info["sampling_time_s"], integration_s=info["integration_time_s"],
            divergences=int(info["divergences"]), ess_bulk=float(info["ess_bulk"]),
            r_hat=float(info["r_hat"]), mean_steps=float(steps.mean()),
            max_tree_depth=int(info["max_tree_depth"]), mi=float(res.mean), sd=float(res.std),
        )
        rec["ess_per_s"] = rec["ess_bulk"] / rec["warm_s"]
    rec["warnings"] = sorted({f"{w.category.__name__}: {str(w.message)[:200]}" for w in caught
                              if not issubclass(w.category, (DeprecationWarning, FutureWarning))})
    Path(out_path).write_text(json.dumps(jsonable(rec)))
    return 0


def run_version(label: str, pythonpath: str | None, data_path: Path, k, timeout: float) -> dict:
    """One worker process for ``label`` ("before"/"after")."""
    out = data_path.with_suffix(f".{label}.json")
    env = fresh_env()
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(data_path), str(out), str(k)]
    load = loadavg()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO_DIR,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {timeout:.0f} s"}
    base = {"wall_s": time.perf_counter() - t0, "load_avg_1m_before": load,
            "load_avg_1m_after": loadavg()}
    if proc.returncode != 0 or not out.exists():
        return dict(base, ok=False, error=(proc.stderr or proc.stdout)[-2000:])
    return dict(json.loads(out.read_text()), ok=True, **base)


def print_table(rows: list[dict]) -> None:
    head = (f"{'case':<18}{'version':<8}{'K':>3}{'cold s':>8}{'warm s':>8}{'sample':>8}"
            f"{'integ':>7}{'div':>5}{'steps':>7}{'ESS':>7}{'ESS/s':>8}{'R-hat':>7}{'MI':>8}")
    print(head)
    for r in rows:
        if not r.get("ok"):
            print(f"{r['case']:<18}{r['version']:<8} FAILED: {str(r.get('error'))[-120:]}")
            continue
        print(f"{r['case']:<18}{r['version']:<8}{r['n_components']:>3}{r['cold_s']:>8.1f}"
              f"{r['warm_s']:>8.1f}{r['sampling_s']:>8.1f}{r['integration_s']:>7.1f}"
              f"{r['divergences']:>5}{r['mean_steps']:>7.1f}{r['ess_bulk']:>7.0f}"
              f"{r['ess_per_s']:>8.0f}{r['r_hat']:>7.3f}{r['mi']:>8.4f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", default=list(CASES))
    p.add_argument("--before", default=DEFAULT_BEFORE, help=f"git commit (default {DEFAULT_BEFORE})")
    p.add_argument("--after", default="HEAD",
                   help="git commit for 'after' (default HEAD); 'worktree' uses this checkout as is")
    p.add_argument("--skip-before", action="store_true")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--timeout", type=float, default=1800.0)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)

    rows: list[dict] = []
    machine = machine_info(None)
    machine.pop("gmmmi_venv_versions", None)
    def rev(ref: str) -> str:
        return subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True, text=True,
                              cwd=REPO_DIR).stdout.strip()

    meta = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "n": args.n,
            "before": None if args.skip_before else rev(args.before),
            "after": "working tree" if args.after == "worktree" else rev(args.after),
            "calls": "GMMMI(n_components=K, random_state=0).fit(x, y); estimate_mi(method='mcmc') "
                     "x2 (cold, warm); library defaults: 4 chains x (500 + 500)",
            "machine": machine}

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(jsonable(dict(meta, records=rows)), indent=1))

    with tempfile.TemporaryDirectory(prefix="bench_nuts_") as tmp:
        tmp = Path(tmp)
        versions: list[tuple[str, str | None]] = []
        wanted = [] if args.skip_before else [("before", args.before)]
        wanted.append(("after", None if args.after == "worktree" else args.after))
        for label, ref in wanted:
            if ref is None:
                versions.append((label, None))
                continue
            tree = tmp / label
            subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), ref],
                           check=True, cwd=REPO_DIR, capture_output=True)
            versions.append((label, str(tree)))
        try:
            for case in args.cases:
                x, y, k = case_data(case, args.n)
                data_path = tmp / f"{case}.npz"
                np.savez(data_path, x=x, y=y)
                for label, path in versions:
                    log(f"{case} {label}: running ...")
                    rec = dict({"case": case, "version": label}, **run_version(
                        label, path, data_path, k, args.timeout))
                    rows.append(rec)
                    save()
                    if rec["ok"]:
                        log(f"{case} {label}: K={rec['n_components']} cold {rec['cold_s']:.1f}s warm "
                            f"{rec['warm_s']:.1f}s div {rec['divergences']} ESS {rec['ess_bulk']:.0f} "
                            f"steps {rec['mean_steps']:.1f} load {rec['load_avg_1m_after']}")
                    else:
                        log(f"{case} {label}: FAILED {str(rec.get('error'))[-300:]}")
        finally:
            for _, path in versions:
                if path is not None:
                    subprocess.run(["git", "worktree", "remove", "--force", path],
                                   cwd=REPO_DIR, capture_output=True)
    print_table(rows)
    meta["total_runtime_s"] = run_seconds()
    save()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.exit(worker(sys.argv[2:]))
    sys.exit(main())
