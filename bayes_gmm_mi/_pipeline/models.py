"""Model uncertainty: one estimate from mixtures fitted to several representations.

MI and conditional MI are unchanged by a monotone map of each column, so the
mixture fitted to the data's own coordinates and the one fitted to the normal
scores of their ranks estimate the same number. When both mixtures describe
the data they agree within their errors; when they do not, at least one is
misspecified, and either one's sampling error alone understates how wrong the
estimate can be (the calibration study, ``docs/validation.md`` §8: hard-edged
joint densities need the data's coordinates, bounded or skewed marginals the
normal scores). The estimate of ``transform="auto"`` therefore is

* **point**: the primary (first) representation's fit — the data's own
  coordinates, the least biased of the two over the study's tasks;
* **draws**: every representation's draws, in equal numbers, one block after
  the other; the **interval** is the union of the representations' central
  intervals (:func:`union_interval`), so that it spans both models;
* **the choice of K**: the primary representation is also fitted at a larger K
  (:func:`larger_components`), and a copy of its draws moved to that fit's MI
  joins the union (:func:`with_larger_k`), so that the interval spans the MI of
  the K the held-out score chose and of a K it could not rule out;
* **a** :class:`~bayes_gmm_mi.exceptions.MisspecificationWarning` when the two
  fits differ by more than :data:`Z_DISAGREE` standard errors of their
  difference (paired bootstrap replicates, or independent posteriors) *and* by
  more than :data:`MIN_SHIFT` times the larger of the two draws' standard
  deviations — a difference that changes the interval materially. (Paired
  replicates resolve differences far below either estimate's own error; without
  the second condition the warning fired on 35 % of the data sets of a task
  whose intervals cover, for shifts of 0.02 nats.)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import MisspecificationWarning

__all__ = ["Z_DISAGREE", "MIN_SHIFT", "CHECK_REPLICATES", "LARGER_K_FACTOR",
           "larger_components", "with_larger_k", "calibrate_spread", "pool",
           "union_interval", "centre_on_fits", "bias_corrected",
           "merge_diagnostics", "agreement", "check_agreement"]

#: Standard errors of the difference beyond which two representations disagree.
Z_DISAGREE = 3.0
#: ... and the least difference, in units of the larger draws' standard deviation.
MIN_SHIFT = 2.0

_WORST = {"r_hat": max, "ess_bulk": min, "ess_tail": min}


def pool(values: np.ndarray, n_chains: int) -> tuple[np.ndarray, int]:
    """The draws of R representations (R, S) as one set: (R * S,), R * n_chains chains."""
    return np.asarray(values).reshape(-1), values.shape[0] * n_chains


def union_interval(draws: np.ndarray, n_models: int, prob: float,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The smallest interval that holds every model's central ``prob`` interval.

    ``draws`` (..., n_models * S) holds the models' draws one block after the
    other; NaNs are ignored. With one model this is the central percentile
    interval. The union (rather than the percentiles of the pooled draws) keeps
    each model's own interval whole when the models disagree: 95 % coverage 0.942
    against 0.923 for the pooled percentiles, 5 % wider (``docs/validation.md`` §9).
    """
    tail = 50.0 * (1.0 - prob)
    blocks = np.asarray(draws, np.float64).reshape(draws.shape[:-1] + (n_models, -1))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        low, high = np.nanpercentile(blocks, [tail, 100.0 - tail], axis=-1)
        return np.min(low, axis=-1), np.max(high, axis=-1)


#: The larger K of the model-uncertainty fit is at least this multiple of the chosen K.
LARGER_K_FACTOR = 1.5


def larger_components(k: int, patience: int, limit: int) -> int | None:
    """The larger K whose fit joins the interval: ``max(k + patience, ceil(1.5 k))``.

    The held-out score chose ``k`` because ``patience`` more components did not
    improve it by the threshold — it did not show that they fit worse: the score
    is flat over a range of K on hard-edged or curved densities, while the MI of
    the fit keeps growing with K there (the uniform disk at N = 1000: K = 6, 8,
    10, 14 give 0.105, 0.127, 0.135, 0.163 nats for a true 0.145). ``k + patience``
    is the largest K the search tried; ``ceil(1.5 k)`` scales the step with K
    (hundreds of rows per component at N = 5000). Chosen on the calibration
    suite (``docs/validation.md`` §11) among ``k + 1 … k + 4``, ``1.5 k``, ``2 k``.

    Parameters
    ----------
    k : int
        The chosen number of components.
    patience : int
        The selection's patience.
    limit : int
        The most components the rows support (and ``max_components``).

    Returns
    -------
    int or None
        None when no K above ``k`` is allowed.
    """
    larger = min(max(k + patience, math.ceil(LARGER_K_FACTOR * k)), limit)
    return larger if larger > k else None


def with_larger_k(values: np.ndarray, fit_value: float, larger_value: float) -> np.ndarray:
    """The draws (R, S) and one more block: the first row moved from its fit to the
    larger-K fit's MI, ``values[0] - fit_value + larger_value`` (R + 1, S).

    The sampling spread at the larger K is taken to be that of the chosen K (a
    second bootstrap or posterior would double the cost); what the block adds is
    the offset between the two fits, which the union interval then spans.
    """
    extra = np.asarray(values[0], np.float64) - float(fit_value) + float(larger_value)
    return np.vstack([np.asarray(values, np.float64), extra[None, :]])


def centre_on_fits(values: np.ndarray, fit_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior draws (R, S) shifted so that each representation's median is its EM fit.

    The posterior mean of MI, a nonlinear functional of the mixture, sits below
    the maximum-likelihood value wherever the posterior spreads the parameters
    of thin, strongly correlated components (hard-edged densities at large K:
    0.04 nats at N = 1000 on the uniform-noise pair, whatever the priors), while
    the spread of the draws measures the uncertainty well. The draws are
    therefore re-centred on the fit (the "bias-corrected centre on the EM point"
    of issue 14: VI coverage of the 95 % intervals 0.81 → 0.92 in the study).

    Returns the shifted draws and the shift of each representation (R,).
    """
    shift = np.asarray(fit_values, np.float64) - np.median(values, axis=1)
    return values + shift[:, None], shift


#: Bootstrap replicates run alongside the posterior methods: they estimate the
#: sampling spread of the estimate (:func:`calibrate_spread`) and the small-sample
#: bias of a categorical MI or a KL divergence (:func:`bias_corrected`).
CHECK_REPLICATES = 20


def calibrate_spread(values: np.ndarray, fit_values: np.ndarray,
                     replicates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior draws (R, S) widened about their fit to the bootstrap's spread.

    A posterior at a fixed K measures the uncertainty well when the mixture
    describes the data (Bernstein–von Mises: it then matches the sampling
    spread); when the mixture misdescribes them (hard edges, skew that K
    components only approximate) it is narrower than the sampling spread of
    the estimate, which the bootstrap measures without the model's help. Each
    representation's draws are therefore scaled about its EM fit by
    ``max(1, sd(bootstrap) / sd(posterior))`` — the posterior's shape is kept,
    and it is never narrowed (a calibration of the posterior's scale by the
    bootstrap, as Syring & Martin 2019 calibrate generalised posteriors). In the
    study (``docs/validation.md`` §9) VI's 95 % coverage went 0.877 → 0.912 for
    7 % more width.

    Parameters
    ----------
    values : ndarray of shape (R, S)
        Posterior draws, centred on the fits (:func:`centre_on_fits`), nats.
    fit_values : ndarray of shape (R,)
        The EM fits, nats.
    replicates : ndarray of shape (R, B)
        Bootstrap replicates of the same estimate (NaNs ignored).

    Returns
    -------
    values : ndarray of shape (R, S)
    scale : ndarray of shape (R,)
        The factor applied to each representation (≥ 1).
    """
    fits = np.asarray(fit_values, np.float64)[:, None]
    post = np.std(values, axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.nanstd(replicates, axis=1, ddof=1)
        scale = np.where((post > 0) & np.isfinite(boot), boot / post, 1.0)
    scale = np.maximum(scale, 1.0)
    return fits + scale[:, None] * (values - fits), scale


def bias_corrected(values: np.ndarray, fit_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap draws (R, S) shifted so that their mean is the bias-corrected estimate.

    The bias of the fit is estimated by the bootstrap, ``mean(draws) − fit``, and
    the draws are moved by twice that: their mean becomes ``fit − bias`` (Efron's
    bias-corrected estimate) and their spread is kept. Used for categorical MI,
    whose per-class mixtures overfit small classes and read dependence into
    independent data: 10 equally likely classes at N = 1000, 95 % coverage of
    the percentile interval 0.00 (independent) and 0.40 (MI = 0.17), of the
    shifted one 1.00 and 1.00; 3 classes 0.95 both (``docs/validation.md`` §10).

    Returns the shifted draws and the bias of each row (R,).
    """
    bias = np.nanmean(values, axis=-1) - np.asarray(fit_values, np.float64)
    return values - 2.0 * bias[..., None], bias


def merge_diagnostics(per_model: list[dict[str, Any]]) -> dict[str, Any]:
    """One set of diagnostics from each representation's: the worst R-hat and ESS."""
    merged: dict[str, Any] = {}
    for info in per_model:
        for key, value in info.items():
            if key in _WORST and key in merged:
                merged[key] = _WORST[key](merged[key], value)
            else:
                merged.setdefault(key, value)
    return merged


def agreement(fit_values: np.ndarray, fit_errors: np.ndarray, draws: np.ndarray, *,
              paired: bool) -> dict[str, Any]:
    """How far apart two representations' fits are, in standard errors of the difference.

    Parameters
    ----------
    fit_values, fit_errors : ndarray of shape (2,)
        Each fit's value and Monte Carlo error, in nats.
    draws : ndarray of shape (2, S)
        Each representation's draws, in nats.
    paired : bool
        Draw s of both representations comes from the same resampled rows
        (bootstrap): the difference's error is the spread of the paired
        differences; otherwise (posteriors) the draws are independent.

    Returns
    -------
    dict
        ``difference`` (first minus second, nats), ``z``, ``shift`` (the
        difference over the larger draws' standard deviation) and ``disagree``
        (``z`` above :data:`Z_DISAGREE` and ``shift`` above :data:`MIN_SHIFT`).
    """
    diff = float(fit_values[0] - fit_values[1])
    if draws.shape[1] < 2:
        return {"difference": diff, "z": math.nan, "shift": math.nan, "disagree": False}
    if paired:
        spread = float(np.var(draws[0] - draws[1], ddof=1))
    else:
        spread = float(np.var(draws[0], ddof=1) + np.var(draws[1], ddof=1))
    sd = math.sqrt(spread + float(np.sum(np.square(fit_errors))))
    z = abs(diff) / sd if sd > 0 else (0.0 if diff == 0 else math.inf)
    largest = float(np.max(np.std(draws, axis=1, ddof=1)))
    shift = abs(diff) / largest if largest > 0 else (0.0 if diff == 0 else math.inf)
    disagree = bool(np.isfinite(sd) and z > Z_DISAGREE and shift > MIN_SHIFT)
    return {"difference": diff, "z": z, "shift": shift, "disagree": disagree}


def check_agreement(names: tuple[str, ...], fit_values: np.ndarray, fit_errors: np.ndarray,
                    draws: np.ndarray, *, paired: bool, units: str, factor: float,
                    quantity: str = "MI") -> dict[str, Any]:
    """:func:`agreement`, with a ``MisspecificationWarning`` when the fits disagree.

    ``units`` and ``factor`` (from nats) are the result's; the returned
    ``difference`` is in ``units`` (for ``MIResult.info["agreement"]``).
    ``quantity`` names what is estimated in the message (``"MI"``,
    ``"conditional MI"``, ``"KL divergence"``).
    """
    out = agreement(fit_values, fit_errors, draws, paired=paired)
    if out["disagree"]:
        a, b = fit_values * factor
        warn(
            f"the mixtures fitted to the data's coordinates and to the normal scores of their "
            f"ranks give different {quantity} ({a:.4f} vs {b:.4f} {units}, {out['z']:.1f} "
            f"standard errors apart); the {quantity} is the same in both, so at least one "
            "mixture misdescribes the "
            f"data. The interval spans both fits and the point estimate is the {names[0]!r} "
            "fit's. Try more rows, or check the data for hard edges, discrete values or "
            "outliers.",
            MisspecificationWarning,
        )
    return {**out, "difference": out["difference"] * factor}
