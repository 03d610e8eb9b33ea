"""Small dense linear algebra for the D x D matrices of a mixture.

A mixture of K components in D dimensions needs K Cholesky factors of D x D
matrices per EM step, batched over hundreds of fits. XLA's CPU backend is slow on
many tiny LAPACK calls, and its Cholesky returns NaN on a matrix that rounding made
indefinite. Both paths here clamp each pivot at ``floor`` before its square root,
so the result is always finite, and both vectorise over every leading batch
dimension:

* **unrolled** (D ≤ :data:`UNROLL_MAX_DIM`): the factorisation is written out
  element by element (D is static), so XLA fuses it into one loop; fastest for
  tiny D, but its program grows as D³ (compile time 1.7 s at D = 8, 16 s at
  D = 16 for the factor and inverse alone);
* **general** (D > :data:`UNROLL_MAX_DIM`): the same algorithm one column (one
  row for the inverse) per step of a ``lax.fori_loop``, each step a batched
  matrix-vector product; the program does not grow with D. Mathematically the
  same result (same pivots, same clamp), equal to a float tolerance.

Which path runs is decided by D alone (a static shape), see :func:`unrolled`.
The crossovers were measured on the 2-core development machine (XLA CPU, float32,
load 1-6 from other jobs; ``python bench/bench_blocks.py --linalg``, results in
``bench/results/blocks_linalg.json``): ``precision_cholesky`` on a batch of 8
matrices, and 32 warm-started EM fits x 50 iterations (6144 rows, K = 8) with the
EM steps unrolled or as matrix products, compile / run:

====  ================  ================  ================  ================
D     algebra unrolled  algebra general   EM unrolled       EM matrix prod.
====  ================  ================  ================  ================
2     0.13 s / 8 µs     0.67 s / 9 µs     5.0 s / 1.19 s    3.4 s / 1.35 s
3     0.19 s / 8 µs     3.1 s / 10 µs     2.5 s / 1.24 s    2.1 s / 2.05 s
4     0.29 s / 8 µs     0.46 s / 19 µs    2.1 s / 1.84 s    3.1 s / 1.41 s
5     0.47 s / 9 µs     0.33 s / 23 µs    9.9 s / 2.27 s    2.0 s / 1.78 s
6     0.64 s / 18 µs    0.43 s / 25 µs    3.2 s / 2.83 s    2.3 s / 1.50 s
8     1.65 s / 22 µs    0.36 s / 27 µs    5.2 s / 3.98 s    1.8 s / 1.77 s
12    8.9 s / 137 µs    0.55 s / 57 µs    14.4 s / 13.8 s   3.3 s / 4.51 s
16    16.4 s / 204 µs   0.41 s / 50 µs    31.2 s / 18.2 s   6.5 s / 4.52 s
32    --                0.99 s / 197 µs   --                4.0 s / 10.8 s
====  ================  ================  ================  ================

On its own the algebra crosses over at D = 6-8 (run time; compile time already at
5); inside EM the matrix products win from D = 4 (best of 3 in a quieter run:
D = 3 0.69 s unrolled vs 1.56 s, D = 4 1.60 s vs 1.29 s), hence two thresholds,
:data:`UNROLL_MAX_DIM` (the algebra and the NumPyro model) and
:data:`UNROLL_MAX_DIM_EM` (EM steps and log-densities). LAPACK's
``jnp.linalg.cholesky`` + ``solve_triangular`` compiled faster (0.1 s) but ran
176 µs at D = 32 and returns NaN on an indefinite matrix: not used.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = ["UNROLL_MAX_DIM", "UNROLL_MAX_DIM_EM", "unrolled", "cholesky", "inv_lower",
           "precision_cholesky"]

#: Largest dimension D for which the Cholesky factor and the triangular inverse
#: (and the quadratic form of the NumPyro model, :mod:`bayes_gmm_mi.model`) are
#: unrolled. Measured (module docstring; bench/README.md, "Blocks"), NUTS on the
#: model (K = 2, 2000 rows, 300 iterations, two runs each on the shared 2-core
#: machine): at D = 4 a tie within the noise (first call 17-28 s either way), at
#: D = 5 the general code was faster (first call 21-26 s vs 29-62 s, second call
#: 5-14 s vs 8-18 s); on its own (table above) the algebra crosses over at 6-8.
UNROLL_MAX_DIM = 4

#: Largest dimension D for which the EM steps and the mixture log-density
#: (:mod:`bayes_gmm_mi._em`, hence every integral of :mod:`bayes_gmm_mi._mi`)
#: are unrolled. Measured (module docstring): 32 warm-started EM fits x 50
#: iterations on 6144 rows, K = 8, best of 3: D = 3 unrolled 0.69 s vs matrix
#: products 1.56 s; D = 4 1.60 s vs 1.29 s; D = 5 2.30 s vs 1.78 s; D = 8 3.9 s vs
#: 1.8 s. A whole default ``mutual_information`` at N = 5000 (bench/README.md,
#: "Blocks"): D = 4 first call 10-11 s vs 14-15 s before, D = 8 13-26 s vs
#: 30-46 s, the same estimates to 4 decimals.
UNROLL_MAX_DIM_EM = 3


def unrolled(d: int, *, em: bool = False) -> bool:
    """Whether the D x D algebra of dimension ``d`` uses the unrolled code.

    ``em=True`` asks for the EM steps and log-densities (:data:`UNROLL_MAX_DIM_EM`),
    otherwise the factorisations and the model (:data:`UNROLL_MAX_DIM`).
    """
    return d <= (UNROLL_MAX_DIM_EM if em else UNROLL_MAX_DIM)


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
    if unrolled(a.shape[-1]):
        return _cholesky_unrolled(a, floor)
    return _cholesky_general(a, floor)


def inv_lower(low: Array) -> Array:
    """Inverse of lower triangular matrices with a positive diagonal.

    Parameters
    ----------
    low : Array of shape (..., D, D)

    Returns
    -------
    Array of shape (..., D, D), lower triangular.
    """
    low = jnp.asarray(low)
    if unrolled(low.shape[-1]):
        return _inv_lower_unrolled(low)
    return _inv_lower_general(low)


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


# ---------------------------------------------------------------- unrolled (small D)


def _cholesky_unrolled(a: Array, floor: float) -> Array:
    """:func:`cholesky` written out element by element, shape (..., D, D)."""
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


def _inv_lower_unrolled(low: Array) -> Array:
    """:func:`inv_lower` written out element by element, shape (..., D, D)."""
    d = low.shape[-1]
    zero = jnp.zeros(low.shape[:-2], low.dtype)
    inv: list[list[Array]] = [[zero] * d for _ in range(d)]
    for i in range(d):
        inv[i][i] = 1.0 / low[..., i, i]
        for j in range(i):
            acc = sum((low[..., i, k] * inv[k][j] for k in range(j, i)), zero)
            inv[i][j] = -acc * inv[i][i]
    return _stack(inv)


# ---------------------------------------------------------------- general (any D)


def _cholesky_general(a: Array, floor: float) -> Array:
    """:func:`cholesky` one column per loop step (left-looking), shape (..., D, D).

    Step j computes column j from the columns before it,
    ``v = a[:, j] - L[:, :j] @ L[j, :j]``, clamps the pivot ``v[j]`` at
    ``floor`` and scales the entries below it; the columns not yet computed are
    zero, so the product can run over all D columns.
    """
    d = a.shape[-1]
    idx = jnp.arange(d)

    def column(j: Array, low: Array) -> Array:
        row = jnp.take(low, j, axis=-2)                                   # (..., D)
        v = jnp.take(a, j, axis=-1) - jnp.einsum("...ik,...k->...i", low, row)
        diag = jnp.sqrt(jnp.maximum(jnp.take(v, j, axis=-1), floor))[..., None]
        col = jnp.where(idx > j, v / diag, jnp.where(idx == j, diag, 0.0))
        return jnp.where(idx == j, col[..., :, None], low)

    return jax.lax.fori_loop(0, d, column, jnp.zeros_like(a))


def _inv_lower_general(low: Array) -> Array:
    """:func:`inv_lower` one row per loop step (forward substitution), shape (..., D, D).

    Row i of ``M = L⁻¹`` is ``(e_i - Σ_{k<i} L[i, k] M[k, :]) / L[i, i]``; the rows
    not yet computed are zero, so the sum can run over all D rows. Differentiable
    (the loop has static bounds), as the NumPyro model needs.
    """
    d = low.shape[-1]
    idx = jnp.arange(d)
    eye = jnp.eye(d, dtype=low.dtype)

    def row(i: Array, inv: Array) -> Array:
        li = jnp.take(low, i, axis=-2)                                    # (..., D)
        strict = jnp.where(idx < i, li, 0.0)
        r = jnp.take(eye, i, axis=0) - jnp.einsum("...k,...kj->...j", strict, inv)
        r = r / jnp.take(li, i, axis=-1)[..., None]
        return jnp.where((idx == i)[:, None], r[..., None, :], inv)

    return jax.lax.fori_loop(0, d, row, jnp.zeros_like(low))
