"""Fixed-capacity batches: one compiled kernel for any number of members.

A batch of fits is stored in arrays with a fixed leading capacity; a
``fori_loop`` runs the first ``n`` members and leaves the rest untouched. Because
the loop bound is a traced value, the compiled kernel does not depend on how many
members a call has (3 initialisations, 9 fold fits or 32 bootstrap replicates all
reuse it), which keeps JIT compilation — the dominant cost of a first call — to one
compilation per kernel. The members run one after another (a ``while_loop`` under
``vmap`` would iterate every member until the slowest has converged, measured
about twice slower on the CPU).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["CAPACITY", "map_prefix", "pad_to_capacity", "chunks", "map_chunks"]

#: Members per compiled batch.
CAPACITY = 32


def map_prefix(fn: Callable, xs, n):
    """``[fn(x) for x in xs[:n]]`` as stacked arrays of the full capacity (traceable).

    Parameters
    ----------
    fn : callable
        Maps one member (a pytree slice of ``xs``) to a pytree of arrays.
    xs : pytree of arrays with a common leading axis (the capacity)
    n : int or traced int
        Members to compute; the outputs past ``n`` are zeros.
    """
    capacity = jax.tree.leaves(xs)[0].shape[0]
    first = jax.tree.map(lambda a: a[0], xs)
    shapes = jax.eval_shape(fn, first)
    out = jax.tree.map(lambda s: jnp.zeros((capacity,) + s.shape, s.dtype), shapes)

    def body(i, acc):
        res = fn(jax.tree.map(lambda a: a[i], xs))
        return jax.tree.map(lambda a, r: a.at[i].set(r), acc, res)

    return jax.lax.fori_loop(0, n, body, out)


def pad_to_capacity(tree, capacity: int = CAPACITY):
    """Pad numpy arrays along axis 0 to ``capacity`` by repeating the last row."""

    def pad(a):
        a = np.asarray(a)
        extra = capacity - a.shape[0]
        return a if extra == 0 else np.concatenate([a, np.repeat(a[-1:], extra, axis=0)])

    return jax.tree.map(pad, tree)


def chunks(total: int, capacity: int = CAPACITY):
    """``(start, stop)`` pairs covering ``range(total)`` in pieces of ``capacity``."""
    return [(lo, min(lo + capacity, total)) for lo in range(0, total, capacity)]


def map_chunks(kernel: Callable, members, total: int,
               on_chunk: Callable[[int], object] | None = None):
    """Run a fixed-capacity ``kernel`` over ``total`` members, chunk by chunk.

    The one driver of every batched kernel call (EM fits, integrals): each
    chunk of :data:`CAPACITY` members is sliced from ``members`` (a pytree of
    numpy arrays with leading axis ``total``, or a callable mapping a slice to
    such a pytree, to build large inputs chunk by chunk), padded to the
    capacity, passed as ``kernel(batch, n)`` with ``n`` the real members, and
    the first ``n`` rows of each output are kept.

    Returns
    -------
    pytree of numpy arrays with leading axis ``total``
    """
    outs = []
    for lo, hi in chunks(total):
        part = members(slice(lo, hi)) if callable(members) else jax.tree.map(
            lambda a: a[lo:hi], members)
        out = jax.device_get(kernel(pad_to_capacity(part), hi - lo))
        outs.append(jax.tree.map(lambda a: np.asarray(a)[: hi - lo], out))
        if on_chunk is not None:
            on_chunk(hi - lo)
    return jax.tree.map(lambda *a: np.concatenate(a), *outs)
