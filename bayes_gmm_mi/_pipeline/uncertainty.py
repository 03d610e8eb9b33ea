"""Stage 4, uncertainty: draws of every data set's mixture, behind one small interface.

An :class:`UncertaintyMethod` is a NamedTuple of two pure functions (in the
spirit of NumPyro's ``MCMCKernel`` or an optax ``GradientTransformation``):

* ``draw(fitted, request) -> Draws``: mixtures (M, S, K_pad) near each data
  set's fit, and each data set's share of the rows per draw;
* ``check(values, draws, info)``: refuse or warn about the draws' values once
  they are integrated (non-finite draws; MCMC's R-hat, ESS, divergences).

:data:`BOOTSTRAP` refits resampled rows by EM warm-started from the fit (one
table of counts over the n rows serves every data set); :data:`VI` and
:data:`MCMC` sample the Bayesian mixture of each data set (:mod:`bayes_gmm_mi.model`)
with a :class:`Sampler` (SVI with a full-rank guide, or NUTS), started at the
EM fit. :data:`METHODS` maps the user's ``method=`` to them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bayes_gmm_mi._pipeline.fit import labelled, run_em
from bayes_gmm_mi._pipeline.mixtures import blank, take
from bayes_gmm_mi._pipeline.prepare import DataSets
from bayes_gmm_mi._pipeline.seeds import Stream, generator
from bayes_gmm_mi._pipeline.settings import FitSettings, SamplerSettings
from bayes_gmm_mi._progress import progress_bar
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import ConvergenceWarning

if TYPE_CHECKING:  # pragma: no cover
    import jax

    from bayes_gmm_mi._em import GMMParams

__all__ = [
    "Fitted",
    "Request",
    "Draws",
    "UncertaintyMethod",
    "Sampler",
    "SamplerOutput",
    "bootstrap_counts",
    "BOOTSTRAP",
    "VI",
    "MCMC",
    "METHODS",
]

logger = logging.getLogger("bayes_gmm_mi")


class Fitted(NamedTuple):
    """The EM fits of a stack of data sets: what the uncertainty methods start from.

    Attributes
    ----------
    data : DataSets
    fits : GMMParams with leading axis M (numpy), components padded to K_pad
    n_samples : int
        Rows of the original table (n); data sets hold subsets of them.
    seed : int
        Master seed (bootstrap counts, class frequencies).
    settings : FitSettings
    partition : bool
        The data sets are the classes of one categorical variable: their
        shares of the rows are class frequencies (drawn from a Dirichlet
        posterior by the Bayesian methods).
    groups : int
        The data sets are ``groups`` equal blocks of the same rows, one per
        representation of the data (``transform="auto"``); with ``partition``,
        every block holds the same classes, which share one draw of the class
        frequencies.
    """

    data: DataSets
    fits: GMMParams
    n_samples: int
    seed: int
    settings: FitSettings
    partition: bool = False
    groups: int = 1

    def mixture(self, m: int = 0) -> GMMParams:
        """The fit of data set ``m`` (components padded to K_pad)."""
        return take(self.fits, m)


class Request(NamedTuple):
    """What a call asks for: replicates (bootstrap), sampler settings (VI/MCMC)."""

    n_bootstrap: int = 0
    sampler: SamplerSettings | None = None
    progress: bool = False
    counts: np.ndarray | None = None   # (B, n) bootstrap counts; None: drawn from the seed


class Draws(NamedTuple):
    """Draws of every data set's mixture.

    Attributes
    ----------
    params : GMMParams with leading axes (M, S, K_pad), numpy
        At the fit's component positions.
    mass : ndarray of shape (M, S)
        Each data set's share of the rows in each draw (1 for a lone data set).
    n_chains : int
        The S draws are ``n_chains`` chains of S / n_chains.
    info : dict
        Diagnostics and timings.
    parameters : tuple of dict, or None
        Site draws (chain, draw, ...) of each data set (VI/MCMC).
    sample_stats : dict, or None
        NUTS statistics (chain, draw), combined over the data sets.
    """

    params: GMMParams
    mass: np.ndarray
    n_chains: int
    info: dict[str, Any]
    parameters: tuple[dict[str, np.ndarray], ...] | None = None
    sample_stats: dict[str, np.ndarray] | None = None


class UncertaintyMethod(NamedTuple):
    """A way of making draws: ``draw(fitted, request)`` and ``check(values, draws, info)``."""

    name: str
    draw: Callable[[Fitted, Request], Draws]
    check: Callable[[np.ndarray, Draws, dict[str, Any]], None]


# ------------------------------------------------------------------ bootstrap
def bootstrap_counts(seed: int, n: int, n_bootstrap: int) -> np.ndarray:
    """Multinomial resampling counts of the n rows, (B, n) float32, from the master seed."""
    if n_bootstrap == 0:
        return np.zeros((0, n), np.float32)
    rng = generator(seed, Stream.BOOTSTRAP)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap).astype(np.float32)


def _bootstrap_draw(fitted: Fitted, request: Request) -> Draws:
    """Refit every data set on every replicate's counts, warm-started from its fit."""
    import jax

    data = fitted.data
    counts = request.counts
    if counts is None:
        counts = bootstrap_counts(fitted.seed, fitted.n_samples, request.n_bootstrap)
    m_total, b = data.size, counts.shape[0]
    k_pad = fitted.fits.weights.shape[1]
    index = data.row_index
    totals = np.stack([counts[:, index[m][index[m] >= 0]].sum(axis=1) for m in range(m_total)])
    if b == 0:
        empty = jax.tree.map(lambda a: np.zeros((m_total, 0) + a.shape[1:], a.dtype), fitted.fits)
        return Draws(empty, totals / fitted.n_samples, 1, {})
    mem = np.repeat(np.arange(m_total), b)
    rep = np.tile(np.arange(b), m_total)

    def weights(sl: slice) -> np.ndarray:
        idx = index[mem[sl]]                                 # (fits, N_pad)
        w = counts[rep[sl][:, None], np.maximum(idx, 0)]
        return np.where(idx >= 0, w, 0.0).astype(np.float32)

    with progress_bar(request.progress, mem.size, "bootstrap") as bar:
        res, _ = run_em(data, mem, np.zeros(mem.size, np.int32), weights, weights, 1, k_pad,
                        fitted.fits, fitted.settings, bar.update)
    params = jax.tree.map(lambda a: a.reshape((m_total, b) + a.shape[1:]), res.params)
    # A data set drawn (almost) empty (a rare class) keeps its full fit; its
    # share of the rows, hence its weight in the estimate, is (almost) 0 anyway.
    thin = totals < data.dim + 1                                        # (M, B)
    params = jax.tree.map(
        lambda r, f: np.where(thin.reshape(thin.shape + (1,) * (r.ndim - 2)), f[:, None], r),
        params, fitted.fits)
    not_converged = (~res.converged.reshape(m_total, b).astype(bool)) & ~thin
    dropped = int((res.n_dropped > 0).sum())
    info = {"bootstrap_not_converged": int(not_converged.sum()),
            "bootstrap_dropped": dropped}
    if not_converged.any():
        which = np.flatnonzero(not_converged.any(axis=1))
        fits = "replicates" if m_total == 1 else "refits"
        warn(
            f"EM did not converge in {int(not_converged.sum())} of {m_total * b} bootstrap "
            f"{fits} (max_iter={fitted.settings.max_iter}){labelled(data.labels, which)}; "
            "their MI is still used. Increase max_iter.",
            ConvergenceWarning,
        )
    if dropped:
        logger.info("%d of %d bootstrap refits dropped a component", dropped, m_total * b)
    return Draws(params, totals / fitted.n_samples, 1, info)


def _check_nothing(values: np.ndarray, draws: Draws, info: dict[str, Any]) -> None:
    return None


BOOTSTRAP = UncertaintyMethod("bootstrap", _bootstrap_draw, _check_nothing)


# ------------------------------------------------------------------ posterior
class SamplerOutput(NamedTuple):
    """Site draws (chain, draw, ...) of one data set, NUTS statistics, timings."""

    parameters: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray] | None
    info: dict[str, Any]
    n_chains: int


class Sampler(NamedTuple):
    """``sample(x, rows, fit, settings, key) -> SamplerOutput`` for one data set."""

    name: str
    sample: Callable[[Any, np.ndarray, Any, SamplerSettings, Any], SamplerOutput]


def _sample_nuts(x: jax.Array, rows: np.ndarray, fit: GMMParams, settings: SamplerSettings,
                 key: jax.Array) -> SamplerOutput:
    from bayes_gmm_mi import _posterior  # NumPyro's inference stack: imported on use
    from bayes_gmm_mi.model import SITE_NAMES

    draws = _posterior.run_nuts(
        x, rows, fit, num_warmup=settings.num_warmup, num_samples=settings.num_samples,
        num_chains=settings.num_chains, rng_key=key, priors=settings.priors)
    stats = {"diverging": draws["diverging"], "tree_depth": draws["tree_depth"],
             "n_steps": draws["num_steps"]}
    parameters = {name: np.asarray(draws[name]) for name in SITE_NAMES if name in draws}
    return SamplerOutput(parameters, stats, {}, settings.num_chains)


def _sample_svi(x: jax.Array, rows: np.ndarray, fit: GMMParams, settings: SamplerSettings,
                key: jax.Array) -> SamplerOutput:
    from bayes_gmm_mi import _posterior
    from bayes_gmm_mi.model import SITE_NAMES

    draws = _posterior.run_svi(
        x, rows, fit, num_steps=settings.svi_steps, num_samples=settings.num_samples,
        rng_key=key, priors=settings.priors, learning_rate=settings.svi_learning_rate)
    info = {"svi_final_loss": float(draws["loss"][-1]), "svi_loss": np.asarray(draws["loss"])}
    parameters = {name: np.asarray(draws[name]) for name in SITE_NAMES if name in draws}
    return SamplerOutput(parameters, None, info, 1)


NUTS = Sampler("nuts", _sample_nuts)
SVI = Sampler("svi", _sample_svi)


def _at_fit_positions(draws: GMMParams, fit: GMMParams) -> GMMParams:
    """Posterior draws (S, K_active) put back at the fit's active components (S, K_pad)."""
    import jax

    idx = np.flatnonzero(np.asarray(fit.weights) > 0)
    s = draws.weights.shape[0]
    out = jax.tree.map(lambda a: np.array(np.broadcast_to(a, (s,) + a.shape)),
                       blank(fit.weights.shape[0], fit.means.shape[1]))
    out.weights[:, idx] = draws.weights
    out.means[:, idx] = draws.means
    out.covariances[:, idx] = draws.covariances
    return out


def _posterior_draw(sampler: Sampler, fitted: Fitted, request: Request) -> Draws:
    import jax

    from bayes_gmm_mi._bayes import draws_to_params, rng_key, warn_thin_components

    data, settings = fitted.data, request.sampler
    if settings is None:
        raise ValueError("the posterior methods need sampler settings")
    rows = data.rows
    outs, params = [], []
    start = time.perf_counter()
    for m in range(data.size):
        fit = take(fitted.fits, m)
        warn_thin_components(fit, int(data.counts[m]), data.dim)
        out = sampler.sample(data.x[m], rows[m], fit, settings,
                             rng_key(int(data.seeds[m]), Stream.POSTERIOR))
        outs.append(out)
        params.append(_at_fit_positions(draws_to_params(out.parameters), fit))
    info: dict[str, Any] = {"sampling_time_s": time.perf_counter() - start}
    if data.size == 1:
        info.update(outs[0].info)
    n_chains = outs[0].n_chains
    lead = outs[0].parameters["weights"].shape[:2]
    total = lead[0] * lead[1]
    stacked = jax.tree.map(lambda *a: np.stack(a), *params)
    if fitted.partition:
        counts = data.counts[: data.size // fitted.groups].astype(float)
        mass = generator(fitted.seed, Stream.CLASS_FREQUENCIES).dirichlet(counts + 1.0,
                                                                           size=total).T
        mass = np.tile(mass, (fitted.groups, 1))
    else:
        mass = np.ones((data.size, total))
    sample_stats = None
    stats = [o.sample_stats for o in outs if o.sample_stats is not None]
    if stats:
        sample_stats = {
            "diverging": np.any([s["diverging"] for s in stats], axis=0),
            "tree_depth": np.max([s["tree_depth"] for s in stats], axis=0),
            "n_steps": np.sum([s["n_steps"] for s in stats], axis=0),
        }
    return Draws(stacked, mass, n_chains, info, tuple(o.parameters for o in outs), sample_stats)


def _check_finite(values: np.ndarray, draws: Draws, info: dict[str, Any]) -> None:
    bad = int(np.sum(~np.isfinite(values)))
    if bad:
        raise FloatingPointError(
            f"{bad} of {values.size} posterior draws gave a non-finite MI; the sampler reached "
            "degenerate mixtures. Use fewer components, more warm-up (mcmc) or a smaller "
            "svi_learning_rate (vi)."
        )


def _check_chains(values: np.ndarray, draws: Draws, info: dict[str, Any]) -> None:
    from bayes_gmm_mi._bayes import chain_diagnostics, warn_on_diagnostics

    _check_finite(values, draws, info)
    stats = draws.sample_stats or {}
    info.update(chain_diagnostics(values.reshape(draws.n_chains, -1)))
    info["divergences"] = int(np.sum(stats["diverging"]))
    info["max_tree_depth"] = int(np.max(stats["tree_depth"]))
    warn_on_diagnostics(info, draws.n_chains)


def _vi_draw(fitted: Fitted, request: Request) -> Draws:
    return _posterior_draw(SVI, fitted, request)


def _mcmc_draw(fitted: Fitted, request: Request) -> Draws:
    return _posterior_draw(NUTS, fitted, request)


VI = UncertaintyMethod("vi", _vi_draw, _check_finite)
MCMC = UncertaintyMethod("mcmc", _mcmc_draw, _check_chains)

#: The user's ``method=`` → the method.
METHODS: dict[str, UncertaintyMethod] = {m.name: m for m in (BOOTSTRAP, VI, MCMC)}
