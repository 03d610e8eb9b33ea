"""Mutual information of a fitted Gaussian mixture.

The marginals of a Gaussian mixture are mixtures with the same weights and the
sub-blocks of the means and covariances, so ``log p(x)`` and ``log p(y)`` are exact.
MI = E[log p(x, y) − log p(x) − log p(y)] under the joint is then integrated either

* by Monte Carlo from S draws of the joint — the base randomness (standard normals
  ``z`` and uniforms ``u``) is passed in, so every mixture in a batch is integrated
  with the *same* base samples (common random numbers) and integration noise does
  not widen the spread across bootstrap replicates or posterior draws; or
* (two scalar variables only) by Gauss–Hermite quadrature on each component,
  a deterministic cross-check.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from bayes_gmm_mi._batching import map_prefix
from bayes_gmm_mi._em import GMMParams, log_likelihood
from bayes_gmm_mi._linalg import cholesky

__all__ = ["mi_integrand", "sample_mixture", "mi_monte_carlo_batch", "mi_quadrature_batch"]

#: Gauss–Hermite nodes per dimension for the quadrature cross-check.
QUADRATURE_NODES = 48


def _block(params: GMMParams, lo: int, hi: int) -> GMMParams:
    return GMMParams(params.weights, params.means[:, lo:hi], params.covariances[:, lo:hi, lo:hi])


def mi_integrand(points: Array, params: GMMParams, dx: int) -> Array:
    """``log p(x, y) − log p(x) − log p(y)`` at each point, shape (S,).

    Parameters
    ----------
    points : Array of shape (S, D)
        Joint points; the first ``dx`` columns are X, the rest Y.
    params : GMMParams
        Joint mixture over D = dx + dy dimensions.
    dx : int (static)
    """
    d = points.shape[-1]
    joint = log_likelihood(points, params)
    px = log_likelihood(points[:, :dx], _block(params, 0, dx))
    py = log_likelihood(points[:, dx:], _block(params, dx, d))
    return joint - px - py


def sample_mixture(params: GMMParams, z: Array, u: Array) -> Array:
    """Transform base samples into draws from the mixture.

    Parameters
    ----------
    params : GMMParams
    z : Array of shape (S, D)
        Standard normal draws.
    u : Array of shape (S,)
        Uniform(0, 1) draws; pick the component by inverting the weights' CDF
        (components of weight 0 are never picked).

    Returns
    -------
    Array of shape (S, D)
    """
    cdf = jnp.cumsum(params.weights)
    comp = jnp.searchsorted(cdf, u * cdf[-1], side="right")
    comp = jnp.minimum(comp, params.weights.shape[0] - 1)
    chol = cholesky(params.covariances)
    return params.means[comp] + jnp.einsum("sde,se->sd", chol[comp], z)


@partial(jax.jit, static_argnames=("dx",))
def mi_monte_carlo_batch(params: GMMParams, n_members, z: Array, u: Array,
                         dx: int) -> tuple[Array, Array]:
    """Monte Carlo MI of a batch of mixtures with common random numbers.

    Parameters
    ----------
    params : GMMParams with a leading batch axis of length C (the capacity)
    n_members : int
        Mixtures to integrate (the first ``n_members``; the rest give 0).
    z : Array of shape (S, D)
    u : Array of shape (S,)
    dx : int (static)

    Returns
    -------
    mi : Array of shape (C,)
        In nats.
    mc_error : Array of shape (C,)
        Monte Carlo standard error of each ``mi``.
    """
    s = z.shape[0]

    def one(p):
        f = mi_integrand(sample_mixture(p, z, u), p, dx)
        return jnp.mean(f), jnp.std(f) / jnp.sqrt(s)

    return map_prefix(one, params, n_members)


@jax.jit
def mi_quadrature_batch(params: GMMParams, n_members) -> Array:
    """MI of a batch of 2-D mixtures (scalar X and Y) by Gauss–Hermite quadrature.

    Each component's Gaussian is integrated on its own product grid of
    ``QUADRATURE_NODES``² nodes mapped through its Cholesky factor; the results are
    combined with the mixing weights.

    Parameters
    ----------
    params : GMMParams with a leading batch axis of length C; D must be 2
    n_members : int
        Mixtures to integrate (the first ``n_members``).

    Returns
    -------
    Array of shape (C,), in nats.
    """
    t, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    grid = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2) * np.sqrt(2.0)
    gw = (w[:, None] * w[None, :]).reshape(-1) / np.pi
    grid = jnp.asarray(grid, params.means.dtype)
    gw = jnp.asarray(gw, params.means.dtype)

    def one(p):
        chol = cholesky(p.covariances)
        pts = p.means[:, None, :] + jnp.einsum("kde,ge->kgd", chol, grid)
        k, g, d = pts.shape
        f = mi_integrand(pts.reshape(k * g, d), p, 1).reshape(k, g)
        return jnp.sum(p.weights * (f @ gw))

    return map_prefix(one, params, n_members)
