"""Posterior inference for the mixture of :mod:`bayes_gmm_mi.model` (NUTS and SVI).

Both samplers start from an EM fit (mixtures have many local modes, and the EM
solution is a good point in the mode that matters), take the padded rows of a
data set with their weights (rows of weight 0 are masked out of the likelihood,
so a compiled program serves every data set of the same padded shape), and
return posterior draws of the sample sites of :func:`~bayes_gmm_mi.model.gmm_model`
as numpy arrays with leading ``(chain, draw)`` axes, the layout of
``arviz.from_dict`` and :func:`numpyro.diagnostics.split_gelman_rubin`.

The pipeline (:mod:`bayes_gmm_mi._pipeline.uncertainty`) turns such draws into
MI draws, integrated with common random numbers.

The computations run in float32; jax's x64 mode is never switched on here.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy, unconstrain_fn

from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi.model import (
    Priors,
    active_components,
    gmm_model,
    params_to_sites,
)

__all__ = ["run_nuts", "run_svi"]

#: Mean acceptance probability NUTS's step-size adaptation aims at (NumPyro's
#: default is 0.8). Overlapping or barely supported components curve the
#: posterior sharply in places; smaller steps there remove the divergences that
#: 0.8 left on data drawn from the model (bench/bench_nuts.py: 8 components,
#: 46 -> 0 divergent transitions; Gaussian data at K = 2, 2 -> 0) for 25-60 % more
#: leapfrog steps per iteration.
TARGET_ACCEPT_PROB = 0.9


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
    if not np.any(w > 0):
        raise ValueError("sample_weight has no positive entry: there is no data to condition on.")
    # Rows of weight 0 (padding, rows outside a class) stay, masked out by the model:
    # the compiled programs then depend on the padded shape only, not on the rows.
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


# ---------------------------------------------------------------- compiled programs
#
# Each sampler runs as a jitted program: for SVI the unconstrained starting
# point, the whole optimisation (``lax.scan``) and the draws; for NUTS one
# single-chain program (jittered start, warm-up and sampling in one
# ``lax.scan``, draws mapped to the sites) called per chain. Running the model
# eagerly (as ``MCMC``/``SVI`` do to initialise) costs hundreds of small XLA
# compilations; here the model is traced once per program. jax caches the
# programs on their static arguments (K, priors, counts) and the shapes of the
# data, so a second call with the same shapes and settings does not compile
# again.

#: Traces of each compiled program (a test hook: a second call with the same
#: shapes and settings must not trace, i.e. compile, again).
TRACE_COUNTS: dict[str, int] = {"nuts": 0, "svi": 0}

_LOG_2PI = math.log(2.0 * math.pi)


def _model_args(
    x: jax.Array, w: jax.Array | None, k: int, priors: Priors
) -> tuple[Any, ...]:
    return (x, k, priors, w)


def _constrain(args: tuple[Any, ...], z: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Sites of one unconstrained point ``z`` (a dict keyed by site name)."""
    return constrain_fn(gmm_model, args, {}, z)


def _jittered_start(
    z0: dict[str, jax.Array], key: jax.Array, jitter: jax.Array
) -> dict[str, jax.Array]:
    """``z0`` moved by independent ``Normal(0, jitter)`` noise in every coordinate."""
    keys = jax.random.split(key, len(z0))
    return {
        name: value + jitter * jax.random.normal(kk, jnp.shape(value), jnp.float32)
        for kk, (name, value) in zip(keys, sorted(z0.items()))
    }


@partial(jax.jit, static_argnames=("k", "priors", "num_warmup", "num_samples"))
def _nuts_chain_program(
    x: jax.Array,
    w: jax.Array | None,
    sites: dict[str, jax.Array],
    rng_key: jax.Array,
    jitter: jax.Array,
    *,
    k: int,
    priors: Priors,
    num_warmup: int,
    num_samples: int,
) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
    """One NUTS chain: (site draws, diverging, num_steps) after warm-up.

    The chain starts at ``sites`` (the EM fit) moved by ``Normal(0, jitter)`` in
    unconstrained space, with noise from ``rng_key``; the start is computed in the
    same program as the chain, so that one compilation serves both.
    """
    TRACE_COUNTS["nuts"] += 1  # runs only while tracing
    args = _model_args(x, w, k, priors)
    key_jitter, key_run = jax.random.split(rng_key)
    start = _jittered_start(unconstrain_fn(gmm_model, args, {}, sites), key_jitter, jitter)

    def potential(z: dict[str, jax.Array]) -> jax.Array:
        return potential_energy(gmm_model, args, {}, z)

    init_kernel, sample_kernel = hmc(potential_fn=potential, algo="NUTS")
    state = init_kernel(start, num_warmup, rng_key=key_run,
                        target_accept_prob=TARGET_ACCEPT_PROB)

    def step(state: Any, _: None) -> tuple[Any, tuple[Any, ...]]:
        state = sample_kernel(state)
        return state, (state.z, state.diverging, state.num_steps)

    # One scan over warm-up and sampling (the kernel adapts while
    # state.i < num_warmup): one copy of the kernel to compile, not two.
    _, out = lax.scan(step, state, None, length=num_warmup + num_samples)
    z, diverging, num_steps = jax.tree.map(lambda a: a[num_warmup:], out)
    return jax.vmap(partial(_constrain, args))(z), diverging, num_steps


def _unit_lower(raw: jax.Array) -> jax.Array:
    """Unit lower-triangular matrix from the strictly lower part of ``raw``."""
    return jnp.tril(raw, -1) + jnp.eye(raw.shape[-1], dtype=raw.dtype)


@partial(jax.jit, static_argnames=("k", "priors", "num_steps", "num_samples"))
def _svi_program(
    x: jax.Array,
    w: jax.Array | None,
    sites: dict[str, jax.Array],
    rng_key: jax.Array,
    learning_rate: jax.Array,
    *,
    k: int,
    priors: Priors,
    num_steps: int,
    num_samples: int,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Adam on the ELBO of a full-rank Gaussian guide; returns (losses, site draws).

    The guide is ``z = loc + diag(scale) U eps`` in the flattened unconstrained
    space, ``U`` unit lower triangular, ``scale = softplus(raw_scale)``,
    ``eps ~ Normal(0, I)``; it starts at the EM fit with ``scale = 0.1`` and
    ``U = I``. The loss is the one-sample negative ELBO,
    ``potential(z) + log q(z)``, with ``log q`` in closed form in ``eps``.
    """
    TRACE_COUNTS["svi"] += 1  # runs only while tracing
    args = _model_args(x, w, k, priors)
    loc0, unravel = ravel_pytree(unconstrain_fn(gmm_model, args, {}, sites))
    dim = loc0.shape[0]
    init_scale = 0.1
    guide = {
        "loc": loc0,
        "raw_scale": jnp.full((dim,), math.log(math.expm1(init_scale)), jnp.float32),
        "raw_tril": jnp.zeros((dim, dim), jnp.float32),
    }

    def scale_tril(g: dict[str, jax.Array]) -> jax.Array:
        return jax.nn.softplus(g["raw_scale"])[:, None] * _unit_lower(g["raw_tril"])

    def loss_fn(g: dict[str, jax.Array], key: jax.Array) -> jax.Array:
        eps = jax.random.normal(key, (dim,), jnp.float32)
        z = g["loc"] + scale_tril(g) @ eps
        log_q = (
            -0.5 * jnp.sum(eps * eps)
            - jnp.sum(jnp.log(jax.nn.softplus(g["raw_scale"])))
            - 0.5 * dim * _LOG_2PI
        )
        return potential_energy(gmm_model, args, {}, unravel(z)) + log_q

    # Adam (Kingma & Ba), the defaults of numpyro.optim.Adam.
    b1, b2, eps_adam = 0.9, 0.999, 1e-8
    zeros = jax.tree.map(jnp.zeros_like, guide)

    def step(carry: tuple[Any, ...], key: jax.Array) -> tuple[tuple[Any, ...], jax.Array]:
        g, m, v, t = carry
        loss, grad = jax.value_and_grad(loss_fn)(g, key)
        t = t + 1.0
        m = jax.tree.map(lambda m_, g_: b1 * m_ + (1.0 - b1) * g_, m, grad)
        v = jax.tree.map(lambda v_, g_: b2 * v_ + (1.0 - b2) * g_ * g_, v, grad)
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        g = jax.tree.map(
            lambda p, m_, v_: p - learning_rate * (m_ / c1) / (jnp.sqrt(v_ / c2) + eps_adam),
            g, m, v,
        )
        return (g, m, v, t), loss

    key_fit, key_draw = jax.random.split(rng_key)
    carry = (guide, zeros, zeros, jnp.zeros((), jnp.float32))
    (guide, _, _, _), losses = lax.scan(step, carry, jax.random.split(key_fit, num_steps))

    eps = jax.random.normal(key_draw, (num_samples, dim), jnp.float32)
    z = guide["loc"] + eps @ scale_tril(guide).T
    draws = jax.vmap(lambda zi: _constrain(args, unravel(zi)))(z)
    return losses, draws


# ---------------------------------------------------------------- public API
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

    NumPyro's NUTS kernel (diagonal mass matrix, adapted with the step size
    during warm-up towards a mean acceptance of :data:`TARGET_ACCEPT_PROB`) runs
    inside one compiled single-chain program: warm-up and sampling in one
    ``lax.scan``, then the transform of the draws to the sites.
    Every chain is dispatched to it before any is awaited, so the chains can
    run concurrently (one device is enough). The chains start at the EM fit,
    moved in unconstrained space by independent ``Normal(0, jitter)``
    perturbations per chain so that R-hat can detect chains that do not mix.
    The program is compiled once per data shape, K, ``priors`` and counts
    (``num_chains`` is not part of it); later calls reuse it.

    Parameters
    ----------
    x : array-like of shape (N, D)
        Standardised data (one data set of the pipeline, padding rows included).
    sample_weight : array-like of shape (N,) or None
        Non-negative row weights; rows of weight 0 are masked out of the likelihood,
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

    static = dict(k=k, priors=priors, num_warmup=num_warmup, num_samples=num_samples)
    keys = jax.random.split(rng_key, num_chains)
    # One compiled single-chain program, dispatched for every chain before any
    # result is awaited: jax runs the calls asynchronously, so the CPU backend
    # can run chains concurrently. (A jax.vmap over chains was measured 3-5x
    # slower on CPU: the batched NUTS tree building runs both sides of every
    # branch, in lock-step with the chain of the deepest tree.)
    outs = [
        _nuts_chain_program(xj, wj, sites, keys[c], jnp.float32(jitter), **static)
        for c in range(num_chains)
    ]
    samples, diverging, num_steps = jax.tree.map(lambda *a: np.stack(a), *outs)
    lead = (num_chains, num_samples)
    draws = _to_numpy(samples, lead, sites)
    num_steps = np.asarray(num_steps).astype(np.int64).reshape(lead)
    draws["diverging"] = np.asarray(diverging).astype(bool).reshape(lead)
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

    The guide is a multivariate normal over the flattened unconstrained sites
    (as :class:`numpyro.infer.autoguide.AutoMultivariateNormal`: it keeps the
    correlations between sites, e.g. between a weight and a scale), centred at
    the EM fit initially with scale 0.1; it is optimised with Adam on the
    one-sample ELBO. Initialisation, optimisation (``lax.scan``) and the final
    draws run as one compiled program, compiled once per data shape, K,
    ``priors`` and counts; later calls reuse it.

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
        loss (negative ELBO estimate) at each step, before that step's update.

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

    losses, samples = _svi_program(
        xj, wj, sites, rng_key, jnp.float32(learning_rate),
        k=k, priors=priors, num_steps=num_steps, num_samples=num_samples,
    )
    losses = np.asarray(losses)
    if not np.isfinite(losses[-1]):
        raise FloatingPointError(
            f"SVI diverged: the final loss is {losses[-1]} after {num_steps} steps "
            f"(learning_rate={learning_rate}). Lower learning_rate (e.g. by 10x) or "
            "check the data for extreme values."
        )
    draws = _to_numpy(samples, (1, num_samples), sites)
    draws["loss"] = losses
    return draws
