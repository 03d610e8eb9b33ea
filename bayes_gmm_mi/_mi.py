"""Mutual information (and other information functionals) of a fitted Gaussian mixture.

The marginals of a Gaussian mixture are mixtures with the same weights and the
sub-blocks of the means and covariances, so ``log p(x)`` and ``log p(y)`` are exact.
MI = E[log p(x, y) − log p(x) − log p(y)] under the joint is then integrated either

* by Monte Carlo from S draws of the joint — the base randomness (standard normals
  ``z`` and uniforms ``u``) is passed in, so every mixture in a batch is integrated
  with the *same* base samples (common random numbers) and integration noise does
  not widen the spread across bootstrap replicates or posterior draws;
* for many mixtures near one reference mixture (bootstrap replicates, posterior
  draws), as the reference's value plus a Monte Carlo estimate of the *difference*
  (:func:`functional_difference_batch`): both mixtures are sampled component by
  component from the same standard normals, so the difference is a smooth function
  of the parameters with a small variance, and a few thousand base points give it
  to a fraction of the spread between draws; or
* (two scalar variables only) by Gauss–Hermite quadrature on each component,
  a deterministic cross-check.

Every quantity here is an expectation under the joint mixture of a signed sum of
marginal log-densities, described by static *terms* ``(sign, dims, cols)``: the
marginal over dimensions ``dims`` evaluated at columns ``cols`` of the joint draws.

* MI I(X;Y): ``+ log p_XY − log p_X − log p_Y``;
* conditional MI I(X;Y|Z): ``+ log p_XYZ + log p_Z − log p_XZ − log p_YZ``;
* entropy H(X): ``− log p_X``;
* KL(p_X ‖ p_Y) (same dimension): ``+ log p_X(x) − log p_Y(x)`` at the X draws.
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

__all__ = [
    "Terms",
    "mi_terms",
    "cmi_terms",
    "entropy_terms",
    "kl_terms",
    "functional_integrand",
    "mi_integrand",
    "sample_mixture",
    "functional_monte_carlo_batch",
    "stratified_integrand",
    "functional_difference_batch",
    "categorical_mi_batch",
    "mi_quadrature_batch",
]

#: ``((sign, dims, cols), ...)``: a static description of an integrand (see module doc).
Terms = tuple[tuple[float, tuple[int, ...], tuple[int, ...]], ...]


def _dims(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi))


def mi_terms(dx: int, d: int) -> Terms:
    """I(X;Y) with X the first ``dx`` of ``d`` dimensions and Y the rest."""
    every, x, y = _dims(0, d), _dims(0, dx), _dims(dx, d)
    return ((1.0, every, every), (-1.0, x, x), (-1.0, y, y))


def cmi_terms(dx: int, dy: int, dz: int) -> Terms:
    """I(X;Y|Z) with the dimensions ordered X, Y, Z."""
    x, y, z = _dims(0, dx), _dims(dx, dx + dy), _dims(dx + dy, dx + dy + dz)
    every = x + y + z
    return ((1.0, every, every), (1.0, z, z), (-1.0, x + z, x + z), (-1.0, y + z, y + z))


def entropy_terms(d: int) -> Terms:
    """Differential entropy of all ``d`` dimensions."""
    every = _dims(0, d)
    return ((-1.0, every, every),)


def kl_terms(dx: int, reverse: bool = False) -> Terms:
    """KL(p_X ‖ p_Y) (or KL(p_Y ‖ p_X) with ``reverse``) for X, Y of dimension ``dx``."""
    x, y = _dims(0, dx), _dims(dx, 2 * dx)
    if reverse:
        x, y = y, x
    return ((1.0, x, x), (-1.0, y, x))


def _sub(params: GMMParams, dims: tuple[int, ...]) -> GMMParams:
    if dims == tuple(range(params.means.shape[-1])):
        return params
    idx = np.asarray(dims)
    return GMMParams(params.weights, params.means[:, idx],
                     params.covariances[:, idx[:, None], idx[None, :]])


def functional_integrand(points: Array, params: GMMParams, terms: Terms) -> Array:
    """The signed sum of marginal log-densities of ``terms`` at each point, shape (S,).

    Parameters
    ----------
    points : Array of shape (S, D)
        Joint draws.
    params : GMMParams
        Joint mixture over D dimensions.
    terms : Terms (static)
    """
    out: Array | float = 0.0
    for sign, dims, cols in terms:
        cols_idx = np.asarray(cols)
        out = out + sign * log_likelihood(points[:, cols_idx], _sub(params, dims))
    return jnp.asarray(out)

#: Gauss–Hermite nodes per dimension for the quadrature cross-check.
QUADRATURE_NODES = 48


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
    return functional_integrand(points, params, mi_terms(dx, points.shape[-1]))


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


@partial(jax.jit, static_argnames=("terms",))
def functional_monte_carlo_batch(params: GMMParams, n_members, z: Array, u: Array,
                                 terms: Terms) -> tuple[Array, Array]:
    """Monte Carlo integral of ``terms`` for a batch of mixtures, with common random numbers.

    Parameters
    ----------
    params : GMMParams with a leading batch axis of length C (the capacity)
    n_members : int
        Mixtures to integrate (the first ``n_members``; the rest give 0).
    z : Array of shape (S, D)
    u : Array of shape (S,)
    terms : Terms (static)

    Returns
    -------
    value : Array of shape (C,)
        In nats.
    mc_error : Array of shape (C,)
        Monte Carlo standard error of each ``value``.
    """
    s = z.shape[0]

    def one(p):
        f = functional_integrand(sample_mixture(p, z, u), p, terms)
        return jnp.mean(f), jnp.std(f) / jnp.sqrt(s)

    return map_prefix(one, params, n_members)


def stratified_integrand(params: GMMParams, z: Array, terms: Terms) -> Array:
    """Component-stratified integrand ``g_s = Σ_k w_k f(μ_k + L_k z_s)``, shape (S,).

    ``E[g_s]`` is the integral of ``f`` (the signed sum of ``terms``) under the
    mixture: each component is sampled from the same standard normal ``z_s``
    through its own Cholesky factor, and the components are combined with their
    weights. Unlike sampling the component index, this is a smooth function of
    the parameters for fixed ``z``, so two nearby mixtures give nearly equal
    ``g_s`` (the basis of :func:`functional_difference_batch`). Components of
    weight 0 contribute nothing.

    Parameters
    ----------
    params : GMMParams
        One mixture over D dimensions, K components.
    z : Array of shape (S, D)
        Standard normal draws.
    terms : Terms (static)
    """
    chol = cholesky(params.covariances)
    points = jnp.asarray(params.means)[:, None, :] + jnp.einsum("kde,se->ksd", chol, z)  # (K, S, D)
    k, s, d = points.shape
    f = functional_integrand(points.reshape(k * s, d), params, terms).reshape(k, s)
    active = params.weights[:, None] > 0
    return jnp.sum(jnp.where(active, params.weights[:, None] * f, 0.0), axis=0)


@partial(jax.jit, static_argnames=("terms",))
def functional_difference_batch(params: GMMParams, reference: GMMParams, n_members,
                                z: Array, terms: Terms) -> tuple[Array, Array]:
    """Monte Carlo integral of ``terms`` for each mixture *minus* that of ``reference``.

    Both integrals use :func:`stratified_integrand` with the same ``z``, so for
    mixtures near the reference (bootstrap replicates and posterior draws, whose
    components keep the reference's order) the difference has a small variance:
    adding it to a precise integral of the reference gives each member's value
    with little draw-to-draw noise at a fraction of the cost of a full integral.

    Parameters
    ----------
    params : GMMParams with a leading batch axis of length C (the capacity)
        K components each, in the reference's order.
    reference : GMMParams
        One mixture with the same K and D (components of weight 0 allowed).
    n_members : int
        Mixtures to integrate (the first ``n_members``; the rest give 0).
    z : Array of shape (S, D)
        Standard normal base samples.
    terms : Terms (static)

    Returns
    -------
    difference : Array of shape (C,)
        Integral of each member minus that of ``reference``, in nats.
    mc_error : Array of shape (C,)
        Monte Carlo standard error of each difference.
    """
    s = z.shape[0]
    g_ref = stratified_integrand(reference, z, terms)

    def one(p):
        diff = stratified_integrand(p, z, terms) - g_ref
        return jnp.mean(diff), jnp.std(diff) / jnp.sqrt(s)

    return map_prefix(one, params, n_members)


@jax.jit
def categorical_mi_batch(params: GMMParams, freqs: Array, n_members, z: Array,
                         u: Array) -> tuple[Array, Array]:
    """MI between a categorical Y and a continuous X from per-class mixtures.

    With class frequencies p_c and class densities p(x | c), p(x) = Σ_c p_c p(x | c)
    and I(X;Y) = Σ_c p_c E_{x ~ p(x|c)}[log p(x | c) − log p(x)]. Each class has
    its own, independent base samples, shared by every member of the batch
    (common random numbers across draws, not across classes: samples shared by
    the classes would correlate their errors and make the independent-class
    error formula too small); classes of frequency 0 contribute nothing.

    Parameters
    ----------
    params : GMMParams with leading axes (C_cap, n_classes, K)
        One mixture per class (padded components have weight 0), batched.
    freqs : Array of shape (C_cap, n_classes)
        Class frequencies of each member (summing to 1).
    n_members : int
        Members to integrate (the first ``n_members`` of the capacity).
    z : Array of shape (n_classes, S, D)
        Standard-normal base samples of each class.
    u : Array of shape (n_classes, S)
        Uniform base samples of each class (component choice).

    Returns
    -------
    mi : Array of shape (C_cap,)
        In nats.
    mc_error : Array of shape (C_cap,)
        Monte Carlo standard error (classes combined; exact, the classes'
        samples being independent).
    """
    s = z.shape[1]

    def one(args):
        p, f = args
        n_classes, k, d = p.means.shape
        pooled = GMMParams(
            (f[:, None] * p.weights).reshape(n_classes * k),
            p.means.reshape(n_classes * k, d),
            p.covariances.reshape(n_classes * k, d, d),
        )

        def per_class(args):
            q, zc, uc = args
            points = sample_mixture(q, zc, uc)
            terms = log_likelihood(points, q) - log_likelihood(points, pooled)
            return jnp.mean(terms), jnp.var(terms) / s

        means, variances = jax.lax.map(per_class, (p, z, u))
        present = f > 0
        means = jnp.where(present, means, 0.0)
        variances = jnp.where(present, variances, 0.0)
        return jnp.sum(f * means), jnp.sqrt(jnp.sum(f**2 * variances))

    return map_prefix(one, (params, freqs), n_members)


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
    grid_dev = jnp.asarray(grid, params.means.dtype)
    gw_dev = jnp.asarray(gw, params.means.dtype)

    def one(p):
        chol = cholesky(p.covariances)
        pts = p.means[:, None, :] + jnp.einsum("kde,ge->kgd", chol, grid_dev)
        k, g, d = pts.shape
        f = mi_integrand(pts.reshape(k * g, d), p, 1).reshape(k, g)
        return jnp.sum(p.weights * (f @ gw_dev))

    return map_prefix(one, params, n_members)
