"""Posterior inference for the mixture of :mod:`bayes_gmm_mi.model` (NUTS and SVI).

Both samplers start from an EM fit (mixtures have many local modes, and the EM
solution is a good point in the mode that matters), run on the rows of positive
weight only (padding rows of weight 0 cost nothing and contribute nothing), and
return posterior draws of the sample sites of :func:`~bayes_gmm_mi.model.gmm_model`
as numpy arrays with leading ``(chain, draw)`` axes, the layout of
``arviz.from_dict`` and :func:`numpyro.diagnostics.split_gelman_rubin`.

:func:`mi_of_draws` turns such draws into mutual-information draws with any
batch integrator, e.g. ``GMMMI._integrate`` (which uses common random numbers,
so that Monte Carlo noise does not widen the posterior spread of the MI).

The computations run in float32; jax's x64 mode is never switched on here.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.infer import MCMC, NUTS, SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal
from numpyro.infer.initialization import init_to_value
from numpyro.infer.util import unconstrain_fn

from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi.model import (
    Priors,
    SITE_NAMES,
    active_components,
    gmm_model,
    params_to_sites,
    sites_to_params,
)

__all__ = ["run_nuts", "run_svi", "mi_of_draws"]

#: Mixtures passed to the integrator per call in :func:`mi_of_draws`.
MI_BATCH = 256


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1); got {value!r}.")
    return int(value)


def _positive_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive finite real number; got {value!r}.")
    if not (math.isfinite(float(value)) and float(value) > 0.0):
        raise ValueError(f"{name} must be a positive finite real number; got {value!r}.")
    return float(value)


def _nonnegative_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a non-negative finite real number; got {value!r}.")
    if not (math.isfinite(float(value)) and float(value) >= 0.0):
        raise ValueError(f"{name} must be a non-negative finite real number; got {value!r}.")
    return float(value)


def _prepare(
    x: Any, sample_weight: Any, init_params: GMMParams
) -> tuple[jax.Array, jax.Array | None, int, dict[str, jax.Array]]:
    """Rows of positive weight, their weights (None if all 1), K and the initial sites."""
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D); got shape {x.shape}.")
    if sample_weight is None:
        w = np.ones(x.shape[0], np.float32)
    else:
        w = np.asarray(sample_weight, np.float32)
        if w.shape != (x.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({x.shape[0]},) to match x; got shape {w.shape}."
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
    keep = w > 0
    if not keep.any():
        raise ValueError("sample_weight has no positive entry: there is no data to condition on.")
    x, w = x[keep], w[keep]
    sites = params_to_sites(active_components(init_params))
    k = int(sites["weights"].shape[0])
    if sites["means"].shape[1] != x.shape[1]:
        raise ValueError(
            f"init_params has dimension {sites['means'].shape[1]} but x has {x.shape[1]} columns."
        )
    weights = None if np.all(w == 1.0) else jnp.asarray(w)
    return jnp.asarray(x), weights, k, sites


def _to_numpy(
    samples: dict[str, Any], lead: tuple[int, int], sites: dict[str, Any]
) -> dict[str, np.ndarray]:
    # Reshape to the known site shapes: with K = 1 the guide's draws can lose
    # the size-1 component axis.
    return {
        name: np.asarray(samples[name]).reshape(lead + tuple(np.shape(value)))
        for name, value in sites.items()
    }


def run_nuts(
    x: Any,
    sample_weight: Any,
    init_params: GMMParams,
    *,
    num_warmup: int,
    num_samples: int,
    num_chains: int = 4,
    rng_key: jax.Array,
    priors: Priors = Priors(),
    jitter: float = 1e-2,
) -> dict[str, np.ndarray]:
    """Sample the posterior of :func:`~bayes_gmm_mi.model.gmm_model` with NUTS.

    The chains run vectorised (``chain_method="vectorized"``, one device is
    enough) and start at the EM fit, moved in unconstrained space by independent
    ``Normal(0, jitter)`` perturbations per chain so that R-hat can detect chains
    that do not mix.

    Parameters
    ----------
    x : array-like of shape (N, D)
        Standardised data (e.g. ``GMMMI._x``, padding rows included).
    sample_weight : array-like of shape (N,) or None
        Non-negative row weights; rows of weight 0 are dropped before sampling,
        other weights scale each row's log-likelihood. ``None`` weighs every row 1.
    init_params : GMMParams
        One EM mixture on the same standardised scale; components of weight 0
        are dropped and K is the number of the remaining ones.
    num_warmup : int
        Warm-up (adaptation) iterations per chain, ≥ 1.
    num_samples : int
        Kept draws per chain, ≥ 1.
    num_chains : int, default 4
        Chains, ≥ 1.
    rng_key : jax.random.PRNGKey
        Key for the jitter and the sampler.
    priors : Priors, default Priors()
    jitter : float, default 1e-2
        Standard deviation of the per-chain perturbation of the starting point
        in unconstrained space; 0 starts every chain at the EM fit.

    Returns
    -------
    dict of numpy arrays
        ``"weights"`` (C, S, K), ``"means"`` (C, S, K, D), ``"scales"``
        (C, S, K, D), ``"corr_chol"`` (C, S, K, D, D; D ≥ 2 only), and the
        sample statistics ``"diverging"`` (C, S) bool, ``"num_steps"`` (C, S)
        int and ``"tree_depth"`` (C, S) int (``ceil(log2(num_steps + 1))``),
        with C = ``num_chains`` and S = ``num_samples``.

    Raises
    ------
    ValueError
        If a count is not a positive int, ``jitter`` is negative or not finite,
        or the data or ``init_params`` are malformed.
    """
    num_warmup = _positive_int(num_warmup, "num_warmup")
    num_samples = _positive_int(num_samples, "num_samples")
    num_chains = _positive_int(num_chains, "num_chains")
    jitter = _nonnegative_float(jitter, "jitter")
    xj, wj, k, sites = _prepare(x, sample_weight, init_params)

    model_args = (xj, k, priors, wj)
    unconstrained = unconstrain_fn(gmm_model, model_args, {}, sites)
    key_jitter, key_run = jax.random.split(rng_key)
    keys = jax.random.split(key_jitter, len(unconstrained))
    init = {
        name: jnp.asarray(value)[None]
        + jitter * jax.random.normal(kk, (num_chains,) + jnp.shape(value), jnp.float32)
        for kk, (name, value) in zip(keys, sorted(unconstrained.items()))
    }

    mcmc = MCMC(
        NUTS(gmm_model),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method="vectorized",
        progress_bar=False,
    )
    mcmc.run(
        key_run, *model_args, init_params=init, extra_fields=("diverging", "num_steps")
    )
    draws = _to_numpy(mcmc.get_samples(group_by_chain=True), (num_chains, num_samples), sites)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    num_steps = np.asarray(extra["num_steps"]).astype(np.int64).reshape(num_chains, num_samples)
    draws["diverging"] = np.asarray(extra["diverging"]).astype(bool).reshape(num_chains, num_samples)
    draws["num_steps"] = num_steps
    draws["tree_depth"] = np.ceil(np.log2(num_steps + 1)).astype(np.int64)
    return draws


def run_svi(
    x: Any,
    sample_weight: Any,
    init_params: GMMParams,
    *,
    num_steps: int,
    num_samples: int,
    rng_key: jax.Array,
    priors: Priors = Priors(),
    learning_rate: float = 1e-2,
) -> dict[str, np.ndarray]:
    """Approximate the posterior with SVI and a full-rank Gaussian guide.

    The guide is :class:`numpyro.infer.autoguide.AutoMultivariateNormal` (a
    multivariate normal in unconstrained space, which keeps the correlations
    between sites, e.g. between a weight and a scale), centred at the EM fit
    initially; it is optimised with Adam on the ELBO.

    Parameters
    ----------
    x : array-like of shape (N, D)
        Standardised data.
    sample_weight : array-like of shape (N,) or None
        Non-negative row weights (see :func:`run_nuts`).
    init_params : GMMParams
        One EM mixture (weight-0 components are dropped).
    num_steps : int
        Optimisation steps, ≥ 1.
    num_samples : int
        Draws from the fitted guide, ≥ 1.
    rng_key : jax.random.PRNGKey
    priors : Priors, default Priors()
    learning_rate : float, default 1e-2
        Adam step size, > 0.

    Returns
    -------
    dict of numpy arrays
        The site draws of :func:`run_nuts` with a single chain, shapes
        (1, ``num_samples``, ...), and ``"loss"`` (``num_steps``,), the ELBO
        loss (negative ELBO estimate) at each step.

    Raises
    ------
    ValueError
        If a count is not a positive int, ``learning_rate`` is not positive and
        finite, or the data or ``init_params`` are malformed.
    FloatingPointError
        If the final loss is not finite: the optimisation diverged; lower
        ``learning_rate`` (or check the data for extreme values). A diverged
        guide would give meaningless draws, so none are returned.
    """
    num_steps = _positive_int(num_steps, "num_steps")
    num_samples = _positive_int(num_samples, "num_samples")
    learning_rate = _positive_float(learning_rate, "learning_rate")
    xj, wj, k, sites = _prepare(x, sample_weight, init_params)

    guide = AutoMultivariateNormal(gmm_model, init_loc_fn=init_to_value(values=sites))
    svi = SVI(gmm_model, guide, numpyro.optim.Adam(learning_rate), Trace_ELBO())
    key_fit, key_draw = jax.random.split(rng_key)
    result = svi.run(key_fit, num_steps, xj, k, priors, wj, progress_bar=False)
    losses = np.asarray(result.losses)
    if not np.isfinite(losses[-1]):
        raise FloatingPointError(
            f"SVI diverged: the final loss is {losses[-1]} after {num_steps} steps "
            f"(learning_rate={learning_rate}). Lower learning_rate (e.g. by 10x) or "
            "check the data for extreme values."
        )
    samples = guide.sample_posterior(key_draw, result.params, sample_shape=(num_samples,))
    draws = _to_numpy(samples, (1, num_samples), sites)
    draws["loss"] = losses
    return draws


def mi_of_draws(
    draws: dict[str, Any],
    integrate: Callable[[GMMParams], Any],
    batch_size: int = MI_BATCH,
) -> np.ndarray:
    """Mutual information of every posterior draw.

    Parameters
    ----------
    draws : dict
        Site draws with leading ``(chain, draw)`` axes, as returned by
        :func:`run_nuts` or :func:`run_svi` (other keys are ignored).
    integrate : callable
        Maps a :class:`GMMParams` batch of numpy arrays (leading batch axis) to
        the MI of each mixture, shape (batch,), or to a tuple whose first item
        is that (e.g. ``GMMMI._integrate``, which returns ``(mi, mc_error)``).
    batch_size : int, default 256
        Mixtures per call to ``integrate``.

    Returns
    -------
    numpy array of shape (chain, draw)
        MI of each draw, in the integrator's units.
    """
    batch_size = _positive_int(batch_size, "batch_size")
    lead = tuple(np.shape(draws["weights"])[:2])
    if len(lead) != 2:
        raise ValueError("draws must have leading (chain, draw) axes.")
    flat = {
        name: np.asarray(draws[name]).reshape((-1,) + np.shape(draws[name])[2:])
        for name in SITE_NAMES
        if name in draws
    }
    params = jax.tree.map(np.asarray, sites_to_params(flat))
    total = params.weights.shape[0]
    out = []
    for lo in range(0, total, batch_size):
        batch = jax.tree.map(lambda a: a[lo:lo + batch_size], params)
        res = integrate(batch)
        if isinstance(res, tuple):
            res = res[0]
        out.append(np.asarray(res).reshape(-1))
    return np.concatenate(out).reshape(lead)
