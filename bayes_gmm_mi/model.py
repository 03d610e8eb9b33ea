"""The Gaussian mixture written as a NumPyro model, for posterior inference.

The model is a plain NumPyro function, :func:`gmm_model`: priors on the mixing
weights, the component means and the component covariances (per-dimension
scales times an LKJ-Cholesky correlation factor), and a mixture-of-Gaussians
likelihood over the rows. It is meant for **standardised** data (each column
with mean 0 and variance 1, as :class:`~bayes_gmm_mi.GMMMI` fits them), which is
what makes the default :class:`Priors` weakly informative rather than arbitrary.

Inference (SVI or NUTS) should start from the EM solution, because mixtures have
many local modes: :func:`params_to_sites` turns an EM :class:`GMMParams` into the
model's sample-site values, suitable for
``numpyro.infer.init_to_value(values=...)``. EM fits padded to a fixed number of
components carry components of weight exactly 0, which a Dirichlet cannot
represent; :func:`active_components` drops them first.

Sample sites of :func:`gmm_model` (K components, D dimensions, N rows):

=============  ============  ====================================================
name           shape         meaning
=============  ============  ====================================================
``weights``    (K,)          mixing weights, ``Dirichlet(weight_concentration)``
``means``      (K, D)        component means, ``Normal(0, mean_scale)``
``scales``     (K, D)        per-dimension standard deviations,
                             ``HalfNormal(scale_prior)``
``corr_chol``  (K, D, D)     Cholesky factor of each component's correlation
                             matrix, ``LKJCholesky(D, lkj_concentration)``;
                             absent when D = 1
``obs``        (N, D)        observed rows (the likelihood)
=============  ============  ====================================================

Each component's covariance is ``S L Lᵀ S`` with ``S = diag(scales[k])`` and
``L = corr_chol[k]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import Array
from numpyro import handlers

from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi._linalg import inv_lower, unrolled

__all__ = [
    "Priors",
    "SITE_NAMES",
    "GaussianMixture",
    "gmm_model",
    "active_components",
    "params_to_sites",
    "sites_to_params",
    "log_likelihood",
]

#: Names of the latent sample sites of :func:`gmm_model` (``corr_chol`` only for D ≥ 2).
SITE_NAMES = ("weights", "means", "scales", "corr_chol")


@dataclass(frozen=True)
class Priors:
    """Prior hyper-parameters of :func:`gmm_model`, for standardised data.

    Parameters
    ----------
    weight_concentration : float, default 2.0
        Concentration of the symmetric Dirichlet prior on the mixing weights.
        2.0 gives each weight a density that vanishes at 0 (one pseudo-row per
        component): K is chosen so that every component is supported by the
        data, and this prior agrees. With 1.0 (uniform on the simplex) a
        component the data barely support can drift to weight ≈ 0, where its
        mean and shape are no longer pinned by the data; that funnel made NUTS
        diverge (Gaussian data with K = 2: 11 divergences with 1.0, 0 with 2.0;
        gamma–exponential with K = 6: 25 and 0; bench/README.md). Its pull on
        the weights is one row's worth per component.
    mean_scale : float, default 3.0
        Standard deviation of the ``Normal(0, mean_scale)`` prior on each
        coordinate of each component mean. Standardised data have unit variance,
        so a component centred 3 standard deviations out is still well inside
        the prior.
    scale_prior : float, default 2.5
        Scale of the ``HalfNormal(scale_prior)`` prior on each per-dimension
        component standard deviation. On standardised data no component can be
        much wider than 1, so 2.5 is weakly informative; a half-normal (rather
        than a half-Cauchy) has light tails, which keeps components that own few
        rows from wandering to huge widths and spares NUTS the resulting
        heavy-tailed geometry, while its finite, positive density at 0 does not
        penalise narrow components.
    lkj_concentration : float, default 2.0
        Concentration of the ``LKJCholesky(D, lkj_concentration)`` prior on
        each component's correlation matrix; 1.0 is uniform over correlation
        matrices, values above 1 mildly favour weaker correlations (2.0 keeps
        the density at 0 for perfectly correlated components).

    Raises
    ------
    ValueError
        If a value is not a positive, finite real number.
    """

    weight_concentration: float = 2.0
    mean_scale: float = 3.0
    scale_prior: float = 2.5
    lkj_concentration: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            real = isinstance(value, (int, float, np.integer, np.floating))
            if isinstance(value, bool) or not real:
                raise ValueError(
                    f"Priors.{f.name} must be a positive finite real number; got {value!r}."
                )
            if not (math.isfinite(float(value)) and float(value) > 0.0):
                raise ValueError(
                    f"Priors.{f.name} must be a positive finite real number; got {value!r}."
                )
            object.__setattr__(self, f.name, float(value))


def _check_data(x: Any, sample_weight: Any) -> tuple[Any, Any]:
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D); got shape {tuple(x.shape)}.")
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype=x.dtype)
        if sample_weight.shape != (x.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({x.shape[0]},) to match x; "
                f"got shape {tuple(sample_weight.shape)}."
            )
    return x, sample_weight


_LOG_2PI = math.log(2.0 * math.pi)


class GaussianMixture(dist.Distribution):
    """Mixture of full-covariance Gaussians, for small dimensions D.

    Mathematically ``MixtureSameFamily(Categorical(weights),
    MultivariateNormal(means, scale_tril=scale_tril))``, but the log-density is
    written out over the (static, small) dimension with an unrolled inverse of
    each Cholesky factor, as the EM kernels do: XLA's CPU backend is slow on
    many tiny triangular solves, and this form compiles and differentiates
    several times faster under NUTS and SVI. Above
    :data:`~bayes_gmm_mi._linalg.UNROLL_MAX_DIM` dimensions the inverse comes
    from a loop and the quadratic form from one matrix product (the unrolled
    program would grow as D²).

    Parameters
    ----------
    weights : Array of shape (K,)
        Mixing weights (positive, summing to 1).
    means : Array of shape (K, D)
    scale_tril : Array of shape (K, D, D)
        Lower Cholesky factor of each component's covariance (positive diagonal).
    """

    arg_constraints = {
        "weights": dist.constraints.simplex,
        "means": dist.constraints.real_vector,
        "scale_tril": dist.constraints.lower_cholesky,
    }
    support = dist.constraints.real_vector

    def __init__(self, weights: Array, means: Array, scale_tril: Array, *,
                 validate_args: bool | None = None) -> None:
        self.weights, self.means, self.scale_tril = weights, means, scale_tril
        super().__init__(batch_shape=(), event_shape=(jnp.shape(means)[-1],),
                         validate_args=validate_args)

    def log_prob(self, value: Array) -> Array:
        """Log-density of rows ``value`` of shape (..., D); returns shape (...).

        Computed in a (K, ...) layout (components first, rows along the fast
        axis), which halves the cost of a gradient evaluation on the CPU
        compared with (..., K) when K is small. Unbatched parameters only.
        """
        d = self.means.shape[-1]
        inv = inv_lower(self.scale_tril)  # (K, D, D), lower
        lead = jnp.shape(value)[:-1]
        extra = (1,) * len(lead)

        def col(a: Array) -> Array:  # (K,) -> (K, 1, ...)
            return a.reshape(a.shape + extra)

        maha: Array | float = 0.0
        if unrolled(d):
            rows = jnp.moveaxis(value, -1, 0)  # (D, ...)
            diff = [rows[i][None] - col(self.means[:, i]) for i in range(d)]  # (K, ...)
            for e in range(d):
                y = sum(col(inv[:, e, i]) * diff[i] for i in range(e + 1))
                maha = maha + y * y
        else:
            # Above the unrolled sizes: one matrix product, L⁻¹(x − μ) = L⁻¹x − L⁻¹μ.
            flat = jnp.reshape(value, (-1, d))
            z = (jnp.einsum("ne,kde->knd", flat, inv)
                 - jnp.einsum("ke,kde->kd", self.means, inv)[:, None, :])
            maha = jnp.reshape(jnp.sum(z * z, axis=-1), (-1,) + tuple(lead))  # (K, ...)
        log_det = jnp.sum(jnp.log(jnp.diagonal(self.scale_tril, axis1=-2, axis2=-1)), -1)
        comp = -0.5 * (d * _LOG_2PI + maha) + col(jnp.log(self.weights) - log_det)
        return jax.nn.logsumexp(comp, axis=0)

    def sample(self, key: Array, sample_shape: tuple[int, ...] = ()) -> Array:
        """Draw rows: a component per row, then its Gaussian."""
        key_c, key_z = jax.random.split(key)
        comp = jax.random.categorical(key_c, jnp.log(self.weights), shape=sample_shape)
        z = jax.random.normal(key_z, tuple(sample_shape) + self.event_shape)
        return self.means[comp] + jnp.einsum("...ij,...j->...i", self.scale_tril[comp], z)


def gmm_model(
    x: Array | np.ndarray | None,
    n_components: int,
    priors: Priors = Priors(),
    sample_weight: Array | np.ndarray | None = None,
    *,
    data_shape: tuple[int, int] | None = None,
) -> None:
    """Bayesian Gaussian mixture with full covariances (a NumPyro model).

    Parameters
    ----------
    x : array of shape (N, D) or None
        Standardised data, observed at the ``"obs"`` site. ``None`` samples the
        rows instead (prior or posterior predictive); ``data_shape`` then gives
        (N, D).
    n_components : int
        Number of mixture components K (static).
    priors : Priors, default Priors()
        Prior hyper-parameters.
    sample_weight : array of shape (N,) or None, default None
        Non-negative row weights multiplying each row's log-likelihood: 0 for
        padding rows (they do not count), integer counts for a bootstrap
        replicate (multiplicities). ``None`` weighs every row 1.
    data_shape : tuple (N, D) or None, default None
        Shape of the rows to sample when ``x`` is None; ignored otherwise.

    Notes
    -----
    Sites: ``"weights"`` (K,), ``"means"`` (K, D), ``"scales"`` (K, D),
    ``"corr_chol"`` (K, D, D; only for D ≥ 2) and the observed ``"obs"``
    (N, D); see the module docstring for their priors.

    The weights enter through ``handlers.scale`` (a per-row factor on the
    log-likelihood) combined with ``handlers.mask`` for rows of weight 0,
    because ``handlers.scale`` rejects non-positive factors. The observed site
    therefore records ``scale`` and ``mask``, which NumPyro's ``log_density``
    (hence SVI and MCMC) apply; :func:`log_likelihood` applies them too.
    """
    k = int(n_components)
    if k < 1:
        raise ValueError(f"n_components must be a positive int; got {n_components!r}.")
    if x is None:
        if data_shape is None:
            raise ValueError("data_shape=(N, D) is required when x is None.")
        n, d = (int(s) for s in data_shape)
        if sample_weight is not None and jnp.shape(sample_weight) != (n,):
            raise ValueError(
                f"sample_weight must have shape ({n},); "
                f"got shape {tuple(jnp.shape(sample_weight))}."
            )
    else:
        x, sample_weight = _check_data(x, sample_weight)
        n, d = x.shape

    weights = numpyro.sample(
        "weights", dist.Dirichlet(jnp.full((k,), priors.weight_concentration, jnp.float32))
    )
    with numpyro.plate("components", k):
        means = numpyro.sample(
            "means", dist.Normal(0.0, priors.mean_scale).expand([d]).to_event(1)
        )
        scales = numpyro.sample(
            "scales", dist.HalfNormal(priors.scale_prior).expand([d]).to_event(1)
        )
        if d >= 2:
            corr_chol = numpyro.sample(
                "corr_chol", dist.LKJCholesky(d, concentration=priors.lkj_concentration)
            )
            chol = scales[..., :, None] * corr_chol
        else:
            chol = scales[..., :, None]

    mixture = GaussianMixture(weights, means, chol)
    with numpyro.plate("data", n):
        if sample_weight is None:
            numpyro.sample("obs", mixture, obs=x)
        else:
            sample_weight = jnp.asarray(sample_weight, jnp.float32)
            positive = sample_weight > 0
            with handlers.mask(mask=positive), handlers.scale(
                scale=jnp.where(positive, sample_weight, 1.0)
            ):
                numpyro.sample("obs", mixture, obs=x)


def active_components(params: GMMParams) -> GMMParams:
    """The sub-mixture of the components with positive weight.

    Parameters
    ----------
    params : GMMParams
        One (unbatched) mixture: weights (K,), means (K, D), covariances
        (K, D, D); padded or dropped components have weight 0.

    Returns
    -------
    GMMParams
        numpy arrays with K' ≤ K components, in their original order, weights
        renormalised to sum to 1.

    Raises
    ------
    ValueError
        If ``params`` is batched or no component has positive weight.
    """
    w = np.asarray(params.weights)
    if w.ndim != 1:
        raise ValueError(f"params must be one mixture with weights of shape (K,); got {w.shape}.")
    keep = w > 0
    if not keep.any():
        raise ValueError("params has no component with positive weight.")
    w = w[keep].astype(np.float64)
    return GMMParams(
        weights=(w / w.sum()).astype(np.asarray(params.weights).dtype),
        means=np.asarray(params.means)[keep],
        covariances=np.asarray(params.covariances)[keep],
    )


def params_to_sites(params: GMMParams) -> dict[str, Array]:
    """Sample-site values of :func:`gmm_model` that reproduce a mixture exactly.

    Parameters
    ----------
    params : GMMParams
        One mixture: weights (K,), all positive; means (K, D); covariances
        (K, D, D), symmetric positive definite. Pass an EM fit through
        :func:`active_components` first to drop weight-0 components.

    Returns
    -------
    dict
        ``{"weights": (K,), "means": (K, D), "scales": (K, D),
        "corr_chol": (K, D, D)}`` as float32 JAX arrays (``"corr_chol"`` only
        for D ≥ 2), with ``scales = sqrt(diag(cov))`` and ``corr_chol`` the
        lower Cholesky factor of ``cov / outer(scales, scales)``; weights are
        renormalised to sum to 1. Usable as
        ``numpyro.infer.init_to_value(values=...)`` or with
        ``handlers.substitute``.

    Raises
    ------
    ValueError
        If a weight is not positive, the shapes disagree or a covariance is not
        positive definite.
    """
    w = np.asarray(params.weights, np.float64)
    means = np.asarray(params.means, np.float64)
    cov = np.asarray(params.covariances, np.float64)
    if w.ndim != 1 or means.ndim != 2 or cov.ndim != 3:
        raise ValueError(
            "params must be one mixture: weights (K,), means (K, D), covariances (K, D, D); "
            f"got shapes {w.shape}, {means.shape}, {cov.shape}."
        )
    k, d = means.shape
    if w.shape != (k,) or cov.shape != (k, d, d):
        raise ValueError(
            f"inconsistent shapes: weights {w.shape}, means {means.shape}, "
            f"covariances {cov.shape}; expected ({k},), ({k}, {d}), ({k}, {d}, {d})."
        )
    if not np.all(w > 0):
        raise ValueError(
            f"every weight must be positive (a Dirichlet cannot hold 0); got {w.tolist()}. "
            "Use active_components(params) to drop weight-0 components."
        )
    var = np.diagonal(cov, axis1=-2, axis2=-1)
    if not np.all(var > 0):
        raise ValueError("every covariance must have a positive diagonal.")
    scales = np.sqrt(var)
    sites = {
        "weights": jnp.asarray(w / w.sum(), jnp.float32),
        "means": jnp.asarray(means, jnp.float32),
        "scales": jnp.asarray(scales, jnp.float32),
    }
    if d >= 2:
        corr = cov / (scales[:, :, None] * scales[:, None, :])
        corr = 0.5 * (corr + np.swapaxes(corr, -1, -2))
        try:
            chol = np.linalg.cholesky(corr)
        except np.linalg.LinAlgError as err:
            raise ValueError("every covariance must be positive definite.") from err
        sites["corr_chol"] = jnp.asarray(chol, jnp.float32)
    return sites


def sites_to_params(sites: dict[str, Any]) -> GMMParams:
    """The mixture described by sample-site values (inverse of :func:`params_to_sites`).

    Parameters
    ----------
    sites : dict
        ``"weights"`` (..., K), ``"means"`` (..., K, D), ``"scales"`` (..., K, D)
        and, for D ≥ 2, ``"corr_chol"`` (..., K, D, D); leading axes (e.g.
        posterior draws) are kept.

    Returns
    -------
    GMMParams
        With covariances ``S L Lᵀ S``.
    """
    scales = jnp.asarray(sites["scales"])
    if scales.shape[-1] >= 2:
        chol = scales[..., :, None] * jnp.asarray(sites["corr_chol"])
    else:
        chol = scales[..., :, None]
    cov = chol @ jnp.swapaxes(chol, -1, -2)
    return GMMParams(jnp.asarray(sites["weights"]), jnp.asarray(sites["means"]), cov)


def log_likelihood(
    x: Array | np.ndarray,
    sites: dict[str, Any] | GMMParams,
    sample_weight: Array | np.ndarray | None = None,
    priors: Priors = Priors(),
) -> Array:
    """Total (weighted) log-likelihood of :func:`gmm_model` at given parameters.

    Evaluates the observed ``"obs"`` site only (no prior terms), through NumPyro:
    the model is run under ``handlers.substitute`` and ``handlers.trace`` and
    the site's log-density is summed with its recorded mask and scale, as
    ``numpyro.infer.util.log_density`` does.

    Parameters
    ----------
    x : array of shape (N, D)
    sites : dict or GMMParams
        Site values as from :func:`params_to_sites` (K from ``"weights"``); a
        ``GMMParams`` with positive weights is converted with it.
    sample_weight : array of shape (N,) or None, default None
        Row weights (see :func:`gmm_model`).
    priors : Priors, default Priors()
        Irrelevant to the value; passed to the model for completeness.

    Returns
    -------
    Array of shape ()
        ``sum_i w_i log p(x_i)`` (``w_i = 1`` without weights).
    """
    if isinstance(sites, GMMParams):
        sites = params_to_sites(sites)
    k = int(jnp.shape(sites["weights"])[-1])
    x, sample_weight = _check_data(x, sample_weight)
    return _total_log_likelihood(x, dict(sites), sample_weight, k, priors)


@partial(jax.jit, static_argnums=(3, 4))
def _total_log_likelihood(x, sites, sample_weight, k, priors):
    # Jitted: one compilation per shape instead of many small eager ones.
    model = handlers.substitute(handlers.seed(gmm_model, 0), data=sites)
    trace = handlers.trace(model).get_trace(x, k, priors, sample_weight)
    site = trace["obs"]
    lp = site["fn"].log_prob(site["value"])
    if site.get("mask") is not None:
        lp = jnp.where(site["mask"], lp, 0.0)
    if site.get("scale") is not None:
        lp = site["scale"] * lp
    return jnp.sum(lp)
