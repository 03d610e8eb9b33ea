"""Stage 2, select: the number of components K of every data set, all at once.

K grows 1, 2, 3, ... for every data set together (one batch of EM fits per K:
data set × initialisation × fold); a data set drops out when its score has not
improved by more than ``threshold`` for ``patience`` consecutive K, or at its
largest K: each training fold keeps at least D + 1 rows per component, and the
mixture keeps at least :data:`~._pipeline.screen.ROWS_PER_PARAMETER` rows per
free parameter (:func:`n_parameters`, about K·D²/2: the rule of
:func:`~._pipeline.screen.check_fixed_components`), at least K = 1.

* ``"cv"``: mean held-out log-likelihood per row over ``n_folds`` folds, best
  of ``n_init`` initialisations;
* ``"aic"`` / ``"bic"``: the criterion of the full-data fit (best of
  ``n_init``); that fit is kept as the final fit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bayes_gmm_mi._pipeline.fit import (
    em_components,
    labelled,
    request_components,
    run_em,
    stack_fits,
)
from bayes_gmm_mi._pipeline.mixtures import take
from bayes_gmm_mi._pipeline.prepare import DataSets
from bayes_gmm_mi._pipeline.screen import ROWS_PER_PARAMETER
from bayes_gmm_mi._pipeline.seeds import Stream, generator
from bayes_gmm_mi._pipeline.settings import FitSettings
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import ConvergenceWarning, MisspecificationWarning

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import EMResult

__all__ = ["Selection", "select_components", "n_parameters", "max_supported_components"]

logger = logging.getLogger("bayes_gmm_mi")


class Selection(NamedTuple):
    """The chosen K of every data set.

    Attributes
    ----------
    k : ndarray of int, shape (M,)
    scores : tuple of dict
        Per data set, K → score (held-out log-likelihood per row for ``"cv"``,
        the criterion for ``"aic"``/``"bic"``, lower is better); empty for a
        fixed K.
    fits : EMResult with leading axis M, or None
        The full-data fits at the chosen K (``"aic"``/``"bic"``); None when
        the final fits are still to be made (``"cv"``, fixed K).
    """

    k: np.ndarray
    scores: tuple[dict[int, float], ...]
    fits: EMResult | None


def n_parameters(k: int, d: int) -> int:
    """Free parameters of a K-component, D-dimensional full-covariance mixture."""
    return (k - 1) + k * d + k * d * (d + 1) // 2


def max_supported_components(rows: np.ndarray | int, d: int) -> np.ndarray:
    """Most components ``rows`` rows support: ``ROWS_PER_PARAMETER`` rows per parameter.

    A full-covariance component in D dimensions has ``D + D(D+1)/2 + 1``
    parameters (mean, covariance, weight), so K components need
    ``ROWS_PER_PARAMETER * K * (D + D(D+1)/2 + 1)`` rows, the rule of
    :func:`~._pipeline.screen.check_fixed_components`: 5000 rows support 166
    components at D = 2, 22 at D = 8, 6 at D = 16 and 1 at D = 32 (561
    parameters); 0 when even one component needs more rows.

    Parameters
    ----------
    rows : int or ndarray of int, shape (M,)
    d : int

    Returns
    -------
    ndarray of int, shape of ``rows``
    """
    return np.asarray(rows) // (ROWS_PER_PARAMETER * _per_component(d))


def _per_component(d: int) -> int:
    return d + d * (d + 1) // 2 + 1


def _warn_unsupported(data: DataSets, supported: np.ndarray) -> None:
    """MisspecificationWarning when the rows do not support even one full-covariance component."""
    short = np.flatnonzero(supported < 1)
    if not short.size:
        return
    d = data.dim
    m = int(short[0])
    per = _per_component(d)
    warn(
        f"{int(data.counts[m])} rows{labelled(data.labels, short)} are fewer than the "
        f"{ROWS_PER_PARAMETER * per} that one Gaussian in {d} dimension(s) needs "
        f"({ROWS_PER_PARAMETER} rows per parameter, {per} parameters): the mixture is a single "
        "Gaussian that overfits, and its MI is biased upwards by more than the error bars "
        "say. Pass more rows or fewer columns (e.g. PCA of a block).",
        MisspecificationWarning,
    )


def _check_fixed(data: DataSets, k: int) -> None:
    d = data.dim
    short = np.flatnonzero(data.counts < k * (d + 1))
    if short.size:
        m = int(short[0])
        raise ValueError(
            f"n_components={k} needs at least {k * (d + 1)} rows ({d + 1} per component); "
            f"got {int(data.counts[m])}{labelled(data.labels, short)}. Pass more data or "
            "fewer components."
        )


def _folds(data: DataSets, n_folds: int) -> np.ndarray:
    """Held-out masks (M, n_folds, N_pad): rows of positive weight dealt to folds in a
    random order (all copies of a weighted row fall in one fold)."""
    n_pad = data.row_index.shape[1]
    rows = data.rows
    val = np.zeros((data.size, n_folds, n_pad), np.float32)
    for m in range(data.size):
        real = np.flatnonzero(rows[m] > 0)
        perm = generator(int(data.seeds[m]), Stream.FOLDS).permutation(real)
        fold = np.full(n_pad, -1)
        fold[perm] = np.arange(real.size) % n_folds
        for f in range(n_folds):
            val[m, f] = fold == f
    return val


def select_components(data: DataSets, settings: FitSettings, seeds: np.ndarray,
                      on_chunk: Callable[[int], Any] | None = None) -> Selection:
    """Choose K for every data set (see the module docstring).

    Parameters
    ----------
    data : DataSets
    settings : FitSettings
    seeds : ndarray of int32, shape (M, n_init)
        Initialisation seeds (:func:`~.fit.init_seeds`).
    on_chunk : callable, optional
        Progress callback (fits done).

    Raises
    ------
    ValueError
        A fixed K with fewer than K (D + 1) rows, fewer rows than ``2 * n_folds``,
        or too few rows for even one component.

    Warns
    -----
    ConvergenceWarning
        When the search stopped at the most components the rows support (above
        K = 1), or at ``max_components``, while the score was still improving.
    MisspecificationWarning
        When the rows do not support even one component
        (:func:`max_supported_components` is 0); K = 1 is fitted.
    """
    m_total, d = data.size, data.dim
    counts = data.counts
    if settings.n_components != "auto":
        k = int(settings.n_components)
        _check_fixed(data, k)
        return Selection(np.full(m_total, k), tuple({} for _ in range(m_total)), None)

    n_init, cv = settings.n_init, settings.selection == "cv"
    rows = data.rows
    if cv:
        n_folds = settings.n_folds
        few = np.flatnonzero(counts < 2 * n_folds)
        if few.size:
            raise ValueError(
                f"cross-validation with n_folds={n_folds} needs at least {2 * n_folds} rows; "
                f"got {int(counts[few[0]])}{labelled(data.labels, few)}. Pass more data, fewer "
                "folds, or a fixed n_components."
            )
        val = _folds(data, n_folds) * rows[:, None, :]            # (M, n_folds, N_pad)
        train = rows[:, None, :] - val
        n_train = counts - val.sum(axis=2).max(axis=1).astype(int)
    else:
        n_folds = 1
        val = train = rows[:, None, :]
        n_train = counts
    supported = max_supported_components(counts, d)
    k_limit = np.minimum(settings.max_components, n_train // (d + 1))
    k_limit = np.where(k_limit >= 1, np.minimum(k_limit, np.maximum(supported, 1)), k_limit)
    if np.any(k_limit < 1):
        bad = np.flatnonzero(k_limit < 1)
        raise ValueError(
            f"too few rows to fit even one component: each training fold needs at least "
            f"{d + 1} rows; got {int(counts[bad[0]])} rows in total"
            f"{labelled(data.labels, bad)}. Pass more data."
        )
    _warn_unsupported(data, supported)
    k_request = request_components(data, settings)     # ≥ every k_limit: one padding
    if np.any(supported == 1):
        logger.info("K=1 only: %d rows support one component of %d dimensions (%d rows per "
                    "parameter)", int(counts[np.flatnonzero(supported == 1)[0]]), d,
                    ROWS_PER_PARAMETER)

    scores: tuple[dict[int, float], ...] = tuple({} for _ in range(m_total))
    best_k = np.zeros(m_total, int)
    best = np.full(m_total, -np.inf)
    stall = np.zeros(m_total, int)
    alive = np.ones(m_total, bool)
    kept: dict[tuple[int, int], Any] = {}       # (data set, K) → full-data fit (AIC/BIC)
    k = 0
    while True:
        k += 1
        alive &= k <= k_limit
        act = np.flatnonzero(alive)
        if act.size == 0:
            break
        # Fits: data set × initialisation × fold.
        mem = np.repeat(act, n_init * n_folds)
        ini = np.tile(np.repeat(np.arange(n_init), n_folds), act.size)
        fol = np.tile(np.arange(n_folds), act.size * n_init)
        res, held = run_em(data, mem, seeds[mem, ini], lambda sl: train[mem[sl], fol[sl]],
                           lambda sl: val[mem[sl], fol[sl]], k, em_components(k, d, k_request),
                           None, settings, on_chunk)
        if cv:
            per = held.reshape(act.size, n_init, n_folds).mean(axis=2).max(axis=1)
        else:
            ll = res.log_lik.reshape(act.size, n_init)
            best_init = ll.argmax(axis=1)
            per = np.empty(act.size)
            for g, m in enumerate(act):
                kept[(int(m), k)] = take(res, g * n_init + int(best_init[g]))
                n = int(counts[m])
                penalty = 2.0 if settings.selection == "aic" else math.log(n)
                criterion = penalty * n_parameters(k, d) - 2.0 * float(ll[g, best_init[g]]) * n
                per[g] = -criterion
        not_converged = int(np.size(res.converged) - np.sum(res.converged))
        if not_converged:
            # Selection fits only rank K; the final fit's convergence warns.
            logger.info("K=%d: EM did not converge in %d of %d selection fits (max_iter=%d)",
                        k, not_converged, np.size(res.converged), settings.max_iter)
        for m, score in zip(act, per, strict=True):
            scores[m][k] = float(score) if cv else -float(score)
            logger.debug("data set %d, K=%d: selection score %.6f", m, k, scores[m][k])
            if score > best[m] + settings.threshold:
                best[m], best_k[m], stall[m] = score, k, 0
            else:
                stall[m] += 1
                if stall[m] >= settings.patience:
                    alive[m] = False
    _warn_on_limits(data, best_k, k_limit, settings)
    fits = None
    if not cv:
        fits = stack_fits([kept[(m, int(best_k[m]))] for m in range(m_total)],
                          max(em_components(int(kk), d, k_request) for kk in best_k))
    return Selection(best_k, scores, fits)


def _warn_on_limits(data: DataSets, best_k: np.ndarray, k_limit: np.ndarray,
                    settings: FitSettings) -> None:
    # At K = 1 nothing says a larger K would score better: no warning.
    at_rows = np.flatnonzero((best_k == k_limit) & (k_limit < settings.max_components)
                             & (k_limit > 1))
    at_max = np.flatnonzero(best_k == settings.max_components)
    if at_rows.size:
        m = int(at_rows[0])
        warn(
            f"component selection stopped at K={int(k_limit[m])}, the most the "
            f"{int(data.counts[m])} rows support in {data.dim} dimension(s) (D + 1 rows per "
            f"component per training fold, {ROWS_PER_PARAMETER} rows per parameter)"
            f"{labelled(data.labels, at_rows)}; the mixture may be too coarse. Pass more data "
            "or set n_components.",
            ConvergenceWarning,
        )
    if at_max.size:
        warn(
            f"component selection reached max_components={settings.max_components} while "
            f"the score was still improving{labelled(data.labels, at_max)}; consider a "
            "larger max_components.",
            ConvergenceWarning,
        )
