"""The pipeline, composed: prepare → select → fit → uncertainty → integrate.

::

    arrays ──prepare──► DataSets (M data sets) ──select──► K per data set
        ──fit──► Fitted (EM fit per data set) ──uncertainty──► Draws (M, S)
        ──integrate──► values (M,) and (M, S) ──► MIResult / MIMatrix

Every public entry point (the one-call functions, :class:`~bayes_gmm_mi.GMMMI`,
:class:`~bayes_gmm_mi.GMMCategoricalMI`, :func:`~bayes_gmm_mi.mi_matrix` and
its Dask path) builds a :class:`~.prepare.DataSets` and calls these functions;
what differs between them is only how the data sets are cut (one joint table;
one per class; one per pair and class) and which integral combines the fits.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from bayes_gmm_mi._pipeline.fit import fit_final, init_seeds, warn_on_fits
from bayes_gmm_mi._pipeline.integrate import BaseSamples, integrate, integrate_near_fit
from bayes_gmm_mi._pipeline.prepare import DataSets
from bayes_gmm_mi._pipeline.select import Selection, select_components
from bayes_gmm_mi._pipeline.settings import FitSettings
from bayes_gmm_mi._pipeline.uncertainty import Draws, Fitted
from bayes_gmm_mi._progress import progress_bar

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import EMResult
    from bayes_gmm_mi._mi import Terms

logger = logging.getLogger("bayes_gmm_mi")

__all__ = ["fit_data_sets", "larger_k_values", "integrate_draws"]


def fit_data_sets(data: DataSets, settings: FitSettings, *, n_samples: int, seed: int,
                  partition: bool = False, groups: int = 1, progress: bool = False,
                  ) -> tuple[Fitted, Selection, EMResult]:
    """Select K and fit every data set to all its rows (warning about poor fits).

    Returns the :class:`~.uncertainty.Fitted` state (what the uncertainty
    methods start from), the selection, and the final EM results (with
    convergence information) of every data set.
    """
    seeds = init_seeds(data, settings.n_init)
    with progress_bar(progress, None, "selecting components and fitting") as bar:
        selection = select_components(data, settings, seeds, bar.update)
        final = selection.fits
        if final is None:
            final = fit_final(data, selection.k, settings, seeds, bar.update)
    warn_on_fits(final, selection.k, data, settings)
    fitted = Fitted(data, final.params, n_samples, seed, settings, partition, groups)
    return fitted, selection, final


def larger_k_values(data: DataSets, k: np.ndarray, settings: FitSettings, terms: Terms,
                    base: BaseSamples, *, quadrature: bool = False,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every data set refitted at the larger K of the model-uncertainty check.

    The larger K is :func:`~.models.larger_components` of each data set's chosen
    K (within what its rows support); the fit is EM on all rows, best of
    ``n_init`` starts, as the final fit, and its functional is integrated with
    the estimate's base samples. A fit that cannot stand beside the estimate
    (EM not converged, a component at the ``reg_covar`` floor, a non-finite
    value) is left out — reported in the log, not as a warning: it is not the
    estimate.

    Parameters
    ----------
    data : DataSets
    k : ndarray of int, shape (M,)
        The chosen K of each data set.
    settings : FitSettings
    terms, base
        The functional and its Monte Carlo base samples (or quadrature).

    Returns
    -------
    k_larger : ndarray of int, shape (M,)
        0 where no larger K applies (a fixed ``n_components``, or none above K the
        rows support).
    values : ndarray of shape (M,)
        The functional of each larger-K fit, nats, without the estimate's offset;
        NaN where ``k_larger`` is 0 or the fit was left out.
    """
    from bayes_gmm_mi._pipeline import models, screen
    from bayes_gmm_mi._pipeline.select import max_supported_components

    m_total, d = data.size, data.dim
    values = np.full(m_total, np.nan)
    k_larger = np.zeros(m_total, int)
    if settings.n_components != "auto":
        return k_larger, values
    counts = data.counts
    limit = np.minimum(np.minimum(settings.max_components, counts // (d + 1)),
                       np.maximum(1, max_supported_components(counts, d)))
    for i in range(m_total):
        k_larger[i] = models.larger_components(int(k[i]), settings.patience, int(limit[i])) or 0
    if not k_larger.any():
        return k_larger, values
    # Data sets without a larger K are fitted at their own K (and then left out):
    # one batched call, no subsetting of the stack.
    fits = fit_final(data, np.where(k_larger > 0, k_larger, k), settings,
                     init_seeds(data, settings.n_init))
    full, _ = integrate(fits.params, terms, base, quadrature=quadrature)
    weights = np.asarray(fits.params.weights, np.float64)
    covariances = np.asarray(fits.params.covariances, np.float64)
    for m in map(int, np.flatnonzero(k_larger)):
        flat = screen.flat_eigenvalues(covariances[m], weights[m], settings.reg_covar)
        if bool(fits.converged[m]) and not flat.size and np.isfinite(full[m]):
            values[m] = float(full[m])
        else:
            logger.info("larger-K check: the fit at K=%d left out (converged=%s, %d flat "
                        "components)", k_larger[m], bool(fits.converged[m]), flat.size)
    return k_larger, values


def integrate_draws(draws: Draws, fitted: Fitted, terms: Terms, base: BaseSamples,
                    values: np.ndarray, errors: np.ndarray, *, offset: float | np.ndarray = 0.0,
                    quadrature: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The functional of every draw (M, S), in nats.

    Monte Carlo: near each data set's fit (``values``/``errors``, offset
    included, are the fits' full integrals); quadrature: each draw in full,
    plus ``offset`` (a number, or one per data set of shape (M, 1)).
    """
    import jax

    m_total, s = draws.params.weights.shape[:2]
    if s == 0:
        return np.zeros((m_total, 0)), np.zeros((m_total, 0))
    if quadrature:
        flat = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), draws.params)
        full, err = integrate(flat, terms, base, quadrature=True)
        return full.reshape(m_total, s) + offset, err.reshape(m_total, s)
    # Near the fit the draws are the fit's value (offset included) plus a difference;
    # draws integrated in full need the offset added: work without it, add it back.
    shift = np.broadcast_to(np.asarray(offset, np.float64).reshape(-1, 1), (m_total, 1))
    out, err = integrate_near_fit(draws.params, fitted.fits, np.asarray(values) - shift[:, 0],
                                  errors, terms, base)
    return out + shift, err
