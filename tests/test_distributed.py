"""mi_matrix on a Dask LocalCluster: same numbers as local, survives a dying worker."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import bayes_gmm_mi as bm


def _table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    a = pd.DataFrame(rng.normal(size=(n, 3)), columns=["p", "q", "r"])
    a["q"] += a["p"]
    b = pd.DataFrame({"s": a["p"] + rng.normal(size=n),
                      "t": pd.Categorical(rng.choice(["u", "v"], size=n))})
    return a, b


@pytest.mark.slow  # a new Python process: imports and compiles from scratch
def test_local_run_does_not_import_dask_distributed():
    # xarray itself probes for dask *arrays* when dask is installed, so only the
    # cluster machinery (dask.distributed) is ours to keep out of a local run.
    import subprocess

    code = ("import sys, numpy as np, bayes_gmm_mi as bm; "
            "bm.mi_matrix(np.random.default_rng(0).normal(size=(200, 2)), n_bootstrap=2, "
            "random_state=0); print('distributed' in sys.modules, "
            "'bayes_gmm_mi._distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_client_must_be_a_dask_client():
    a, _ = _table()
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client; got str"):
        bm.mi_matrix(a, n_bootstrap=2, random_state=0, client="tcp://localhost:8786")


def test_missing_dask_gives_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    a, _ = _table()
    with pytest.raises(ImportError, match=r"pip install 'bayes_gmm_mi\[dask\]'"):
        bm.mi_matrix(a, n_bootstrap=2, random_state=0, client=object())


@pytest.fixture(scope="module")
def cluster():
    import distributed as dd

    with dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cl, dd.Client(cl) as client:
        yield cl, client


@pytest.mark.slow
def test_cluster_result_equals_local_result(cluster):
    _, client = cluster
    a, b = _table()
    local = bm.mi_matrix(a, b, n_bootstrap=4, random_state=1, pair_batch=2)
    remote = bm.mi_matrix(a, b, n_bootstrap=4, random_state=1, pair_batch=2, client=client)
    # Same seeds, same rows, same shapes; only the process differs. Compared with a
    # tolerance, not bit for bit (another process may round float32 sums differently,
    # which can move EM's stopping iteration by one): 2e-4 nats, as for the pair
    # batches in test_matrix.py, is far below the bootstrap sd of these MIs
    # (~0.03 nats at N = 300), so a wrong seed or resample would still fail.
    np.testing.assert_allclose(remote.draws.values, local.draws.values, rtol=0, atol=2e-4)
    np.testing.assert_allclose(remote.point_estimate.values, local.point_estimate.values,
                               rtol=0, atol=2e-4)
    np.testing.assert_array_equal(remote.n_components.values, local.n_components.values)


def test_warnings_raised_on_a_worker_reach_the_callers_line(cluster):
    _, client = cluster
    a, b = _table()
    with pytest.warns(bm.ConvergenceWarning, match="reached max_components=1") as record:
        bm.mi_matrix(a, b, n_bootstrap=0, random_state=1, max_components=1, client=client)
    assert record[0].filename == __file__


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_survived(cluster):
    cl, client = cluster
    a, b = _table(n=2000, seed=3)
    local = bm.mi_matrix(a, b, n_bootstrap=20, random_state=2, pair_batch=1)
    box = {}

    def run():
        box["result"] = bm.mi_matrix(a, b, n_bootstrap=20, random_state=2, pair_batch=1,
                                     client=client)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 120
    while time.time() < deadline and not any(client.processing().values()):
        time.sleep(0.05)
    busy = [w for w, tasks in client.processing().items() if tasks]
    assert busy, "no task started on the cluster"
    # The worker process is killed (SIGKILL) while it runs a batch.
    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=600)
    assert not thread.is_alive()
    # As above: the same numbers up to float32 rounding in another process.
    np.testing.assert_allclose(box["result"].draws.values, local.draws.values, rtol=0, atol=2e-4)
