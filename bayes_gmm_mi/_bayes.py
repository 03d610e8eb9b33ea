"""The Bayesian methods' helpers: priors, draws as mixtures, MCMC diagnostics, warnings.

The pipeline's posterior methods (:data:`bayes_gmm_mi._pipeline.uncertainty.VI`
and ``MCMC``) sample with :mod:`bayes_gmm_mi._posterior`, turn the site draws
into mixtures here (:func:`draws_to_params`), integrate them with the
estimate's common base samples, and diagnose the MI draws here
(:func:`chain_diagnostics`, :func:`warn_on_diagnostics`).

Label switching (components exchanging their labels between draws or chains)
leaves every draw's mixture density, hence its MI, unchanged: the diagnostics
are computed on the MI draws, where it cannot hide a problem or create one.
"""

from __future__ import annotations

import math
from dataclasses import fields
from statistics import NormalDist
from typing import Any

import jax
import numpy as np

from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import ConvergenceWarning, DegenerateComponentWarning
from bayes_gmm_mi.model import Priors, sites_to_params

__all__ = [
    "chain_diagnostics",
    "RHAT_MAX",
    "ESS_MIN",
    "as_priors",
    "rng_key",
    "draws_to_params",
    "warn_on_diagnostics",
    "warn_thin_components",
]

#: Warn when the split R-hat of the MI draws exceeds this.
RHAT_MAX = 1.01
#: Warn when the bulk effective sample size of the MI draws is below this.
ESS_MIN = 400.0


def _normal_scores(values: np.ndarray) -> np.ndarray:
    """Rank-normalised values: ``Φ⁻¹((r − 3/8) / (S + 1/4))`` with average ranks for ties."""
    flat = values.reshape(-1)
    order = np.argsort(flat, kind="stable")
    sorted_vals = flat[order]
    # Average rank of each run of equal values (1-based).
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], flat.size]
    avg = 0.5 * (starts + ends + 1)
    ranks = np.empty(flat.size)
    ranks[order] = np.repeat(avg, ends - starts)
    inv_cdf = NormalDist().inv_cdf
    probs = (ranks - 0.375) / (flat.size + 0.25)
    return np.array([inv_cdf(p) for p in probs]).reshape(values.shape)


def _split(draws: np.ndarray) -> np.ndarray:
    """Each chain cut into its first and last halves (the middle draw of an odd count dropped)."""
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half:]], axis=0)


def _rhat(chains: np.ndarray) -> float:
    """Potential scale reduction of (chain, draw) values (Gelman et al.'s R-hat)."""
    n = chains.shape[1]
    between = n * np.var(chains.mean(axis=1), ddof=1)
    within = np.mean(np.var(chains, axis=1, ddof=1))
    return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def _ess(chains: np.ndarray) -> float:
    """Effective sample size of (chain, draw) values.

    The autocorrelation of the chains combined through the within- and between-chain
    variances, summed over Geyer's initial positive sequence of lag pairs made
    monotone, with the last positive even lag added and τ bounded below by
    ``1 / log10(M N)`` (the rules of the Stan reference manual and Vehtari et al.).
    """
    m, n = chains.shape
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, :n] / n
    mean_var = acov[:, 0].mean() * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + (np.var(chains.mean(axis=1), ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    kept = np.zeros(n)
    kept[0], kept[1] = 1.0, rho[1]
    even, odd, t = 1.0, rho[1], 1
    while t < n - 3 and even + odd > 0.0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0.0:
            kept[t + 1], kept[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0.0:
        kept[last + 1] = even
    for t in range(1, last - 1, 2):  # initial monotone sequence of the pair sums
        if kept[t + 1] + kept[t + 2] > kept[t - 1] + kept[t]:
            kept[t + 1] = kept[t + 2] = 0.5 * (kept[t - 1] + kept[t])
    tau = -1.0 + 2.0 * np.sum(kept[: last + 1]) + kept[last + 1]
    return float(m * n / max(tau, 1.0 / math.log10(m * n)))


def chain_diagnostics(draws: np.ndarray) -> dict[str, float]:
    """Rank-normalised split R-hat and bulk/tail ESS of scalar draws (chain, draw).

    The definitions of Vehtari et al. (2021, *Bayesian Analysis* 16, 667), which
    ``arviz.rhat(method="rank")`` and ``arviz.ess(method="bulk"/"tail")`` compute
    too (a test checks the numbers against ArviZ's): R-hat is the larger of the
    split R-hat of the normal scores of the ranks and of the folded draws
    ``|θ − median|``; bulk ESS is the split-chain ESS of the normal scores; tail
    ESS the smaller split-chain ESS of the indicators of the 5 % and 95 %
    quantiles. Written in numpy, so that a posterior call does not import ArviZ
    and its stack (1-3 s). NaN where a quantity is undefined (fewer than 4 draws
    per chain, or constant draws); R-hat is NaN for a single chain (as in ArviZ).

    Parameters
    ----------
    draws : array of shape (chain, draw)
        A 1-D array is one chain.

    Returns
    -------
    dict
        ``{"r_hat": float, "ess_bulk": float, "ess_tail": float}``.
    """
    draws = np.asarray(draws, np.float64)
    if draws.ndim == 1:
        draws = draws[np.newaxis, :]
    if draws.ndim != 2:
        raise ValueError(
            f"draws must have shape (chain, draw) or (draw,); got shape {draws.shape}."
        )
    nan = {"r_hat": math.nan, "ess_bulk": math.nan, "ess_tail": math.nan}
    if draws.shape[1] < 4 or not np.all(np.isfinite(draws)) or np.ptp(draws) == 0.0:
        return nan

    def ess(values: np.ndarray) -> float:
        return math.nan if np.ptp(values) == 0.0 else _ess(_split(values))

    with np.errstate(divide="ignore", invalid="ignore"):
        split = _split(draws)
        r_hat = math.nan
        if draws.shape[0] >= 2:
            folded = np.abs(split - np.median(split))
            r_hat = max(_rhat(_normal_scores(split)), _rhat(_normal_scores(folded)))
        q05, q95 = np.quantile(draws, [0.05, 0.95])
        tail = min(ess((draws <= q05).astype(np.float64)), ess((draws <= q95).astype(np.float64)))
        return {"r_hat": r_hat, "ess_bulk": _ess(_normal_scores(split)), "ess_tail": tail}


def as_priors(value: Any) -> Priors:
    """``None`` → default :class:`Priors`; a dict → ``Priors(**dict)``; a Priors as is."""
    if value is None:
        return Priors()
    if isinstance(value, Priors):
        return value
    if isinstance(value, dict):
        names = {f.name for f in fields(Priors)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise ValueError(
                f"priors got unknown hyper-parameter(s) {unknown}; valid names: {sorted(names)}."
            )
        return Priors(**value)
    raise TypeError(
        f"priors must be None, a bayes_gmm_mi.model.Priors or a dict of its fields; "
        f"got {type(value).__name__}."
    )


def rng_key(seed: int, stream: int = 4) -> jax.Array:
    """A JAX key derived from an integer seed (``stream`` separates uses)."""
    draw = np.random.default_rng([seed, stream]).integers(0, 2**31 - 1)
    return jax.random.PRNGKey(int(draw))


def warn_thin_components(params: GMMParams, n: int, d: int) -> None:
    """Warn when a component holds fewer rows than it has mean coordinates + 1."""
    w = np.asarray(params.weights, np.float64)
    rows = w[w > 0] * n
    thin = int(np.sum(rows < d + 1))
    if thin:
        warn(
            f"{thin} of {rows.size} components hold fewer than {d + 1} rows' worth of "
            f"weight (smallest {rows.min():.1f}): the data do not support that many "
            "components, so their shape in the posterior comes from the prior and the MI "
            "draws may be wider than the data warrant. Consider fewer components "
            "(n_components='auto' chooses them by cross-validation).",
            DegenerateComponentWarning,
        )


def warn_on_diagnostics(info: dict[str, Any], n_chains: int) -> None:
    """One :class:`ConvergenceWarning` listing every failed MCMC check (if any).

    Checks: R-hat of the MI draws > :data:`RHAT_MAX` (only with ≥ 2 chains),
    bulk ESS < :data:`ESS_MIN`, any divergent transition.
    """
    problems = []
    r_hat, ess = info.get("r_hat", np.nan), info.get("ess_bulk", np.nan)
    if n_chains >= 2 and not (r_hat <= RHAT_MAX):
        problems.append(f"R-hat of the MI draws is {r_hat:.3f} (> {RHAT_MAX})")
    if not (ess >= ESS_MIN):
        problems.append(f"bulk ESS of the MI draws is {ess:.0f} (< {ESS_MIN:.0f})")
    if info.get("divergences", 0) > 0:
        problems.append(f"{info['divergences']} divergent transitions")
    if problems:
        warn(
            "MCMC diagnostics: " + "; ".join(problems) + ". The posterior of MI may be "
            "unreliable: increase num_warmup and num_samples, use more chains, or check "
            "that the number of components suits the data.",
            ConvergenceWarning,
        )


def draws_to_params(parameters: dict[str, np.ndarray]) -> GMMParams:
    """Site draws with (chain, draw) axes → one flat batch of mixtures (numpy)."""
    flat = {name: value.reshape((-1,) + value.shape[2:]) for name, value in parameters.items()}
    return jax.tree.map(np.asarray, sites_to_params(flat))
