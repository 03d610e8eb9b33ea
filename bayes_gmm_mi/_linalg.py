"""Small dense linear algebra, unrolled for the tiny matrices of a mixture.

A mixture of K components in D dimensions needs K Cholesky factors of D x D
matrices per EM step, batched over hundreds of fits. XLA's CPU backend is slow on
many tiny LAPACK calls, and its Cholesky returns NaN on a matrix that rounding made
indefinite. Here the factorisation is written out element by element (D is a
static, small number), so it vectorises over every leading batch dimension and
clamps each pivot at ``floor``: the result is always finite.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = ["cholesky", "inv_lower", "precision_cholesky"]


def _stack(rows: list[list[Array]]) -> Array:
    return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)


def cholesky(a: Array | np.ndarray, floor: float = 1e-12) -> Array:
    """Lower Cholesky factor of symmetric matrices, with clamped pivots.

    Parameters
    ----------
    a : Array of shape (..., D, D)
        Symmetric, (nearly) positive definite matrices.
    floor : float, default 1e-12
        Smallest pivot allowed before the square root; a matrix that is not
        positive definite is thereby factorised as a nearby one.

    Returns
    -------
    Array of shape (..., D, D)
        Lower triangular ``L`` with ``L @ L.T ≈ a``.
    """
    a = jnp.asarray(a)
    d = a.shape[-1]
    zero = jnp.zeros(a.shape[:-2], a.dtype)
    low: list[list[Array]] = [[zero] * d for _ in range(d)]
    for j in range(d):
        pivot = a[..., j, j] - sum((low[j][k] ** 2 for k in range(j)), zero)
        diag = jnp.sqrt(jnp.maximum(pivot, floor))
        low[j][j] = diag
        for i in range(j + 1, d):
            off = a[..., i, j] - sum((low[i][k] * low[j][k] for k in range(j)), zero)
            low[i][j] = off / diag
    return _stack(low)


def inv_lower(low: Array) -> Array:
    """Inverse of lower triangular matrices with a positive diagonal.

    Parameters
    ----------
    low : Array of shape (..., D, D)

    Returns
    -------
    Array of shape (..., D, D), lower triangular.
    """
    d = low.shape[-1]
    zero = jnp.zeros(low.shape[:-2], low.dtype)
    inv: list[list[Array]] = [[zero] * d for _ in range(d)]
    for i in range(d):
        inv[i][i] = 1.0 / low[..., i, i]
        for j in range(i):
            acc = sum((low[..., i, k] * inv[k][j] for k in range(j, i)), zero)
            inv[i][j] = -acc * inv[i][i]
    return _stack(inv)


def precision_cholesky(cov: Array | np.ndarray, floor: float = 1e-12) -> tuple[Array, Array]:
    """Factors of a covariance and of its precision.

    Parameters
    ----------
    cov : Array of shape (..., D, D)
    floor : float, default 1e-12
        Pivot floor, see :func:`cholesky`.

    Returns
    -------
    cov_chol : Array of shape (..., D, D)
        Lower ``L`` with ``L @ L.T = cov``.
    prec_chol : Array of shape (..., D, D)
        Upper ``P = L^{-T}``, so that ``P @ P.T = inv(cov)`` and
        ``log det inv(cov) = 2 * sum(log(diag(P)))`` (scikit-learn's convention).
    """
    cov_chol = cholesky(cov, floor)
    prec_chol = jnp.swapaxes(inv_lower(cov_chol), -1, -2)
    return cov_chol, prec_chol
