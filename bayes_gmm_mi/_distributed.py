"""Running batches of pairs on a Dask cluster (optional; ``pip install bayes_gmm_mi[dask]``).

The only module that talks to ``dask.distributed``. It is imported only when a
``client=`` is passed, so a local run never imports dask. Each batch is one task
(a pure function of its arguments); Dask recomputes the tasks of a worker that
dies (up to ``distributed.scheduler.allowed-failures``), and ``retries`` covers
tasks that raise on a flaky worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_batches"]

#: Extra attempts for a task that fails with an exception.
RETRIES = 2


def run_batches(client: Any, fn: Callable, jobs: Sequence[tuple], *,
                progress: bool = False) -> list:
    """``[fn(*job) for job in jobs]`` on the cluster behind ``client``, in order.

    Parameters
    ----------
    client : dask.distributed.Client
    fn : callable
        Module-level (picklable) function.
    jobs : sequence of argument tuples
    progress : bool, default False
        Show Dask's progress bar while waiting.

    Raises
    ------
    ImportError
        If dask.distributed is not installed.
    TypeError
        If ``client`` is not a ``dask.distributed.Client``.
    """
    try:
        from distributed import Client, wait
        from distributed import progress as dask_progress
    except ImportError as err:  # pragma: no cover - exercised via a monkeypatched import
        raise ImportError(
            "client= needs dask.distributed, which is not installed; install it with "
            "pip install 'bayes_gmm_mi[dask]' (or pip install 'dask[distributed]')."
        ) from err
    if not isinstance(client, Client):
        raise TypeError(
            f"client must be a dask.distributed.Client; got {type(client).__name__}."
        )
    # Arguments shared by every job (the data columns, the bootstrap counts, the
    # settings) are sent to the cluster once, not once per task. Unique keys
    # (hash=False): a second call with equal arguments (mi_matrix's second
    # representation) must not share keys that the first call's release frees.
    shared = [k for k in range(len(jobs[0])) if all(job[k] is jobs[0][k] for job in jobs)]
    scattered = dict(zip(shared, client.scatter([jobs[0][k] for k in shared], broadcast=True,
                                                hash=False)))
    futures = [
        client.submit(fn, *[scattered.get(k, arg) for k, arg in enumerate(job)],
                      pure=False, retries=RETRIES)
        for job in jobs
    ]
    if progress:
        dask_progress(futures)
    wait(futures)
    return client.gather(futures)
