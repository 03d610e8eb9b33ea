"""Batches of mixtures as numpy pytrees: padding, compaction, selection of members.

Every stage exchanges mixtures as :class:`~bayes_gmm_mi._em.GMMParams` whose
arrays have leading batch axes and a (padded) component axis; components of
weight 0 are padding and change no density. Shapes are rounded up to a few
*buckets* so that one compiled kernel serves many inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import GMMParams

__all__ = [
    "row_bucket",
    "component_bucket",
    "take",
    "blank",
    "pad_components",
    "stack_padded",
    "compact",
    "take_components",
    "n_active",
]


def _bucket(n: int, smallest: int) -> int:
    """Smallest of ``smallest``·{1, 1.5, 2, 3, 4, 6, ...} that is ≥ n (≤ 1/3 waste)."""
    size = smallest
    while True:
        for candidate in (size, size * 3 // 2):
            if candidate >= n:
                return candidate
        size *= 2


def row_bucket(n: int) -> int:
    """Padded row count: 64, 96, 128, 192, 256, ..."""
    return _bucket(n, 64)


def component_bucket(k: int) -> int:
    """Padded component count: 8, 12, 16, 24, 32, ..."""
    return _bucket(k, 8)


def take(tree: Any, index: Any) -> Any:
    """``a[index]`` of every array of a pytree."""
    import jax

    return jax.tree.map(lambda a: a[index], tree)


def blank(k_pad: int, d: int) -> GMMParams:
    """One mixture of ``k_pad`` weight-0 components (identity covariances)."""
    from bayes_gmm_mi._em import GMMParams

    eye = np.broadcast_to(np.eye(d, dtype=np.float32), (k_pad, d, d))
    return GMMParams(np.zeros(k_pad, np.float32), np.zeros((k_pad, d), np.float32), eye)


def pad_components(params: GMMParams, k_pad: int) -> GMMParams:
    """Pad the component axis (the last axis of ``weights``) to ``k_pad`` with weight-0
    components; leading batch axes are kept."""
    import jax

    from bayes_gmm_mi._em import GMMParams

    params = jax.tree.map(np.asarray, params)
    w = params.weights
    extra = k_pad - w.shape[-1]
    if extra == 0:
        return params
    d = params.means.shape[-1]
    lead = w.shape[:-1]
    eye = np.broadcast_to(np.eye(d, dtype=np.float32), lead + (extra, d, d))
    return GMMParams(
        np.concatenate([w, np.zeros(lead + (extra,), w.dtype)], -1),
        np.concatenate([params.means, np.zeros(lead + (extra, d), params.means.dtype)], -2),
        np.concatenate([params.covariances, eye.astype(params.covariances.dtype)], -3),
    )


def stack_padded(mixtures: list[GMMParams], k_pad: int | None = None) -> GMMParams:
    """Stack mixtures of different K along a new leading axis, padded to one K."""
    import jax

    k_pad = max(np.shape(m.weights)[-1] for m in mixtures) if k_pad is None else k_pad
    return jax.tree.map(lambda *a: np.stack(a), *[pad_components(m, k_pad) for m in mixtures])


def n_active(params: GMMParams) -> np.ndarray:
    """Components of positive weight of each mixture (leading axes kept)."""
    return np.sum(np.asarray(params.weights) > 0, axis=-1)


def compact(params: GMMParams) -> GMMParams:
    """Drop the components that have weight 0 in every mixture of a batch.

    ``params`` has leading axes (..., K). Components are reordered by weight
    (which changes no density) and cut to the next of 1, 2, 4, 8, 12, 16, 24, ...
    that holds every active one, so that integrals do not pay for padding: a
    one-component fit is integrated with one component, not eight.
    """
    import jax

    params = jax.tree.map(np.asarray, params)
    w = params.weights
    most = int(n_active(params).max())
    keep = 1 << (most - 1).bit_length() if most <= 8 else component_bucket(most)
    keep = min(keep, w.shape[-1])
    order = np.argsort(-w, axis=-1, kind="stable")[..., :keep]
    axis = w.ndim - 1

    def pick(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(a, order.reshape(order.shape + (1,) * (a.ndim - w.ndim)), axis)

    return jax.tree.map(pick, params)


def take_components(params: GMMParams, index: np.ndarray) -> GMMParams:
    """The components ``index`` (in that order) of mixtures with leading axes (..., K)."""
    from bayes_gmm_mi._em import GMMParams

    return GMMParams(params.weights[..., index], params.means[..., index, :],
                     params.covariances[..., index, :, :])
