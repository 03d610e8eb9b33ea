"""Stage 5, integrate: the functional of batches of mixtures, by one chunked driver.

One source of Monte Carlo base samples (:func:`base_samples`,
:func:`class_base_samples`) per estimate, drawn from the master seed, so every
mixture of an estimate — the fit, each bootstrap replicate, each posterior
draw — is integrated with the same random numbers:

* :func:`integrate`: full Monte Carlo integral (or Gauss–Hermite quadrature) of
  each mixture of a batch;
* :func:`integrate_near_fit`: draws near their data set's fit, as the fit's
  value plus a component-stratified Monte Carlo *difference* (far less
  draw-to-draw noise than a full integral, at a fraction of its cost);
* :func:`integrate_classes`: MI between a continuous and a categorical
  variable from per-class mixtures and class frequencies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bayes_gmm_mi._pipeline.mixtures import compact, pad_components, take_components
from bayes_gmm_mi._pipeline.seeds import Stream, generator

if TYPE_CHECKING:  # pragma: no cover
    import jax

    from bayes_gmm_mi._em import GMMParams
    from bayes_gmm_mi._mi import Terms

__all__ = [
    "BaseSamples",
    "base_samples",
    "class_base_samples",
    "difference_samples",
    "integrate",
    "integrate_near_fit",
    "integrate_classes",
]


class BaseSamples(NamedTuple):
    """Monte Carlo base randomness of one estimate.

    Attributes
    ----------
    z : jax.Array of shape (S, D), or (C, S, D) per class
        Standard normals of the full integrals.
    u : jax.Array of shape (S,), or (C, S)
        Uniforms (component choice).
    z_difference : jax.Array of shape (S_diff, D), or None
        Standard normals of the difference integrals (:func:`difference_samples`).
    """

    z: jax.Array
    u: jax.Array
    z_difference: jax.Array | None


def difference_samples(mc_samples: int) -> int:
    """Base points of the difference integral of draws near the fit (per component).

    ``mc_samples / 50`` (2000 at the default 100 000), at least 1000 (or
    ``mc_samples`` if smaller): measured on 4-6 component fits, the resulting
    draw-to-draw noise is about 0.001 nats, under a tenth of the posterior
    spread at N = 2000 (bench/README.md).
    """
    return min(mc_samples, max(1000, mc_samples // 50))


def base_samples(seed: int, mc_samples: int, d: int) -> BaseSamples:
    """Base samples of a D-dimensional estimate from the master ``seed``."""
    import jax.numpy as jnp

    rng = generator(seed, Stream.MC_BASE)
    z = rng.standard_normal((mc_samples, d), dtype=np.float32)
    u = rng.random(mc_samples, dtype=np.float32)
    z_diff = generator(seed, Stream.MC_DIFFERENCE).standard_normal(
        (difference_samples(mc_samples), d), dtype=np.float32)
    return BaseSamples(jnp.asarray(z), jnp.asarray(u), jnp.asarray(z_diff))


def class_base_samples(seed: int, mc_samples: int, d: int, n_classes: int) -> BaseSamples:
    """Independent base samples per class; ``mc_samples`` is split between the classes."""
    import jax.numpy as jnp

    size = max(1, math.ceil(mc_samples / n_classes))
    rng = generator(seed, Stream.MC_BASE)
    z = rng.standard_normal((n_classes, size, d), dtype=np.float32)
    u = rng.random((n_classes, size), dtype=np.float32)
    return BaseSamples(jnp.asarray(z), jnp.asarray(u), None)


def integrate(params: GMMParams, terms: Terms, base: BaseSamples, *,
              quadrature: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The functional ``terms`` (nats) and its Monte Carlo error for each mixture.

    Parameters
    ----------
    params : GMMParams with leading axes (B, K)
    terms : Terms
    base : BaseSamples (of :func:`base_samples`)
    quadrature : bool, default False
        Gauss–Hermite quadrature instead (MI of two scalars; error 0).

    Returns
    -------
    values, errors : ndarray of shape (B,)
    """
    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._batching import map_chunks

    params = compact(params)
    if quadrature:
        values = map_chunks(lambda batch, n: _mi.mi_quadrature_batch(batch, n), params,
                            params.weights.shape[0])
        return values, np.zeros_like(values)
    return map_chunks(
        lambda batch, n: _mi.functional_monte_carlo_batch(batch, n, base.z, base.u, terms),
        params, params.weights.shape[0])


#: Largest median Monte Carlo error of the near-fit differences, as a share of
#: the spread of the draws, for which they are used (else full integrals): with
#: independent Gaussian columns at N = 1000 the 2000-point differences had an
#: error 0.65 of the spread and shrank the bootstrap interval by a third.
NEAR_FIT_MAX_ERROR = 0.1


def integrate_near_fit(draws: GMMParams, fits: GMMParams, values: np.ndarray,
                       errors: np.ndarray, terms: Terms, base: BaseSamples,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Values (nats) and errors of draws near their data set's fit.

    Bootstrap replicates and posterior draws keep their fit's components at
    the fit's positions (replicates are warm-started from it; posterior draws
    are put back at its active components), so each is integrated as the
    fit's value plus the difference to the fit
    (:func:`~bayes_gmm_mi._mi.functional_difference_batch`): a few thousand
    component-stratified base points, common to every draw, give the
    difference with far less draw-to-draw noise than a full integral. The
    stated error of each draw combines the fit's Monte Carlo error and the
    difference's. A draw with weight on a component the fit does not use (not
    near the fit) is integrated in full instead, and so is every draw of a data
    set whose differences are not small against their Monte Carlo error
    (:data:`NEAR_FIT_MAX_ERROR`; weak dependence, where MI is quadratic in the
    parameters but the integrand's noise is linear).

    Parameters
    ----------
    draws : GMMParams with leading axes (M, S, K_pad)
    fits : GMMParams with leading axes (M, K_pad)
    values, errors : ndarray of shape (M,)
        Each fit's full integral and its Monte Carlo error (nats).
    terms : Terms
    base : BaseSamples

    Returns
    -------
    values, errors : ndarray of shape (M, S)
    """
    import jax

    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._batching import map_chunks
    from bayes_gmm_mi._em import GMMParams

    draws = jax.tree.map(np.asarray, draws)
    fits = jax.tree.map(np.asarray, fits)
    m_total, s = draws.weights.shape[:2]
    active = [np.flatnonzero(fits.weights[m] > 0) for m in range(m_total)]
    k_max = max(a.size for a in active)
    out_values = np.empty((m_total, s))
    out_errors = np.empty((m_total, s))
    for m in range(m_total):
        idx = active[m]
        draw_m = jax.tree.map(lambda a: a[m], draws)
        near = ~np.any(np.delete(draw_m.weights, idx, axis=1) > 0, axis=1)
        ref = take_components(jax.tree.map(lambda a: a[m], fits), idx)
        ref = pad_components(GMMParams(ref.weights / ref.weights.sum(), ref.means,
                                       ref.covariances), k_max)
        part = pad_components(take_components(draw_m, idx), k_max)
        diff, err = map_chunks(
            lambda batch, n, ref=ref: _mi.functional_difference_batch(
                batch, ref, n, base.z_difference, terms),
            part, s)
        out_values[m] = values[m] + diff
        out_errors[m] = np.sqrt(errors[m] ** 2 + err**2)
        spread = float(np.std(out_values[m])) if s > 1 else 0.0
        if s > 1 and float(np.median(err)) > NEAR_FIT_MAX_ERROR * spread:
            # The differences are not small against their own Monte Carlo error
            # (weak dependence: MI ~ r^2 / 2 while the integrand's noise is ~ r):
            # their common base points would stretch or shrink the whole spread
            # of the draws. Integrate every draw in full.
            near[:] = False
        if not near.all():
            far = np.flatnonzero(~near)
            full, full_err = integrate(jax.tree.map(lambda a: a[far], draw_m), terms, base)
            out_values[m, far], out_errors[m, far] = full, full_err
    return out_values, out_errors


def integrate_classes(params: GMMParams, freqs: np.ndarray,
                      base: BaseSamples) -> tuple[np.ndarray, np.ndarray]:
    """Categorical MI (nats) and Monte Carlo error of per-class mixtures.

    Parameters
    ----------
    params : GMMParams with leading axes (B, C, K)
    freqs : ndarray of shape (B, C)
        Class frequencies of each member.
    base : BaseSamples (of :func:`class_base_samples`)

    Returns
    -------
    values, errors : ndarray of shape (B,)
    """
    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._batching import map_chunks

    params = compact(params)
    freqs = np.asarray(freqs, np.float32)
    return map_chunks(
        lambda batch, n: _mi.categorical_mi_batch(batch[0], batch[1], n, base.z, base.u),
        (params, freqs), freqs.shape[0])
