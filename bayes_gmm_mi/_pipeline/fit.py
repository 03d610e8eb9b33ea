"""Stage 3, fit: EM on the members of a stack of data sets, through the batched kernels.

A *member* is one EM fit: a data set, a row-weight vector (a training fold, all
rows, bootstrap counts) and a seed or a warm start. :func:`run_em` runs any list
of members through the fixed-capacity kernels (one data set: its data shared
by every member, :func:`~bayes_gmm_mi._em.fit_batch`; several:
:func:`~bayes_gmm_mi._em.fit_batch_each`); :func:`fit_final` fits every data
set to all its rows at its chosen K, best of ``n_init`` starts;
:func:`warn_on_fits` reports the fits that did not converge or lost components.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._pipeline.mixtures import blank, component_bucket, stack_padded, take
from bayes_gmm_mi._pipeline.prepare import DataSets
from bayes_gmm_mi._pipeline.seeds import Stream, child_seeds
from bayes_gmm_mi._pipeline.settings import FitSettings
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import ConvergenceWarning, DegenerateComponentWarning

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import EMResult, GMMParams

__all__ = ["init_seeds", "run_em", "fit_final", "stack_fits", "warn_on_fits", "labelled",
           "em_components", "request_components"]

logger = logging.getLogger("bayes_gmm_mi")

#: Row weights of a slice of members: ``slice -> ndarray (members, N_pad)``.
WeightFn = Callable[[slice], np.ndarray]

#: From this many columns on, EM fits are padded to no more components than the
#: request can use (see :func:`em_components`). Each padded component costs a
#: (rows x D x D) M-step and a (rows x D) density per iteration, which at D = 16-32
#: outweighs sharing one compiled program between K values: 50 bootstrap fits at
#: K = 2, D = 16, 5000 rows took 72 s padded to 8 components (bench/README.md,
#: "Blocks"). Up to 8 columns (the former limit) every fit is padded as before.
PAD_TO_REQUEST_MIN_DIM = 9


def request_components(data: DataSets, settings: FitSettings) -> int:
    """The most components any EM fit of a request may have.

    A fixed ``n_components``, or the most the selection may reach: ``max_components``
    or what the rows support (:func:`~.select.max_supported_components`, at least 1),
    whichever is smaller.
    """
    if settings.n_components != "auto":
        return int(settings.n_components)
    from bayes_gmm_mi._pipeline.select import max_supported_components

    supported = int(np.max(max_supported_components(data.counts, data.dim)))
    return int(min(settings.max_components, max(1, supported)))


def em_components(k: int, d: int, k_request: int) -> int:
    """Padded component count of an EM fit with K = ``k`` in ``d`` dimensions.

    :func:`~.mixtures.component_bucket` (8, 12, 16, ...: one compiled program for
    many K); from :data:`PAD_TO_REQUEST_MIN_DIM` columns on, no more than the power
    of two at or above ``k_request`` (:func:`request_components`), e.g. 1 for the
    single Gaussian that 5000 rows support at D = 32.
    """
    pad = component_bucket(k)
    if d >= PAD_TO_REQUEST_MIN_DIM:
        pad = max(k, min(pad, 1 << max(k_request - 1, 0).bit_length()))
    return pad


def init_seeds(data: DataSets, n_init: int) -> np.ndarray:
    """EM initialisation seeds (M, n_init), int32, shared by the folds of every K."""
    return np.stack([child_seeds(int(s), Stream.INIT, n_init) for s in data.seeds]).astype(np.int32)


def run_em(data: DataSets, members: np.ndarray, seeds: np.ndarray, train: WeightFn,
           score: WeightFn, k_active: int, k_pad: int, starts: GMMParams | None,
           settings: FitSettings, on_chunk: Callable[[int], Any] | None = None,
           ) -> tuple[EMResult, np.ndarray]:
    """EM fits of ``members`` and their scores.

    Parameters
    ----------
    data : DataSets
    members : ndarray of int, shape (F,)
        The data set of each fit.
    seeds : ndarray of int32, shape (F,)
        Initialisation seed of each fit (unused when warm-started).
    train, score : callable
        Slice of fits → EM row weights / scoring row weights (F_chunk, N_pad);
        built chunk by chunk to bound memory.
    k_active, k_pad : int
        Components initialised, and the padded component count.
    starts : GMMParams with leading axis M (one per data set), or None
        Warm start of each data set's fits (e.g. its full fit, for bootstrap
        replicates); ``None`` initialises with ``settings.init``.
    settings : FitSettings
    on_chunk : callable, optional
        Called with the number of fits done after each chunk (progress).

    Returns
    -------
    fits : EMResult with leading axis F (numpy)
    scores : ndarray (F,)
        Mean log-likelihood per unit weight of each fit on its ``score`` weights.
    """
    import jax

    from bayes_gmm_mi import _em
    from bayes_gmm_mi._batching import map_chunks

    d = data.dim
    warm = starts is not None
    options = dict(k_pad=k_pad, init=settings.init, reg_covar=settings.reg_covar,
                   tol=settings.tol, max_iter=settings.max_iter)
    if data.size == 1:
        # One data set: every member shares its data and its warm start.
        x = data.x[0]
        start = blank(k_pad, d) if starts is None else take(starts, 0)

        def kernel(batch: Any, n: int) -> Any:
            return _em.fit_batch(batch[0], x, batch[1], batch[2], n, k_active, start, warm,
                                 **options)

        def inputs(sl: slice) -> Any:
            return seeds[sl], train(sl), score(sl)
    else:
        blank_one = blank(k_pad, d)

        def kernel(batch: Any, n: int) -> Any:
            return _em.fit_batch_each(batch[0], data.x[batch[1]], batch[2], batch[3], n,
                                      k_active, batch[4], warm, **options)

        def inputs(sl: slice) -> Any:
            ids = members[sl]
            if starts is None:
                start_sl = jax.tree.map(lambda a: np.broadcast_to(a, (ids.size,) + a.shape),
                                        blank_one)
            else:
                start_sl = take(starts, ids)
            return seeds[sl], ids, train(sl), score(sl), start_sl

    return map_chunks(kernel, inputs, len(members), on_chunk)


def fit_final(data: DataSets, k: np.ndarray, settings: FitSettings, seeds: np.ndarray,
              on_chunk: Callable[[int], Any] | None = None) -> EMResult:
    """Fit every data set to all its rows at its K (best of ``n_init`` starts).

    Returns an EMResult with leading axis M, components padded to the largest
    :func:`em_components` of the K.
    """
    rows = data.rows
    n_init = settings.n_init
    k_request = max(request_components(data, settings), int(np.max(k)))
    k_pad = max(em_components(int(kk), data.dim, k_request) for kk in k)
    final: list[Any] = [None] * data.size
    for kk in np.unique(k):
        group = np.flatnonzero(k == kk)
        mem = np.repeat(group, n_init)
        ini = np.tile(np.arange(n_init), group.size)
        res, _ = run_em(data, mem, seeds[mem, ini], lambda sl: rows[mem[sl]],
                        lambda sl: rows[mem[sl]], int(kk),
                        em_components(int(kk), data.dim, k_request), None, settings, on_chunk)
        best = res.log_lik.reshape(group.size, n_init).argmax(axis=1)
        for g, m in enumerate(group):
            final[m] = take(res, g * n_init + best[g])
    return stack_fits(final, k_pad)


def stack_fits(fits: list[EMResult], k_pad: int) -> EMResult:
    """Stack single EM results (different K) into one with leading axis M."""
    from bayes_gmm_mi._em import EMResult

    params = stack_padded([f.params for f in fits], k_pad)
    rest = [np.stack([np.asarray(getattr(f, name)) for f in fits])
            for name in EMResult._fields[1:]]
    return EMResult._make([params, *rest])


def labelled(labels: tuple[str, ...], which: np.ndarray) -> str:
    """`` for a, b and 3 more`` naming the data sets ``which`` (empty for a lone data set)."""
    named = [labels[m] for m in which if labels[m]]
    if not named:
        return ""
    shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
    return f" (for {shown})"


def warn_on_fits(fits: EMResult, k: np.ndarray, data: DataSets, settings: FitSettings) -> None:
    """Warn about final fits that did not converge or emptied components."""
    not_converged = np.flatnonzero(~np.asarray(fits.converged, bool))
    if not_converged.size:
        count = "" if data.size == 1 else f" in {not_converged.size} of {data.size} fits"
        warn(
            f"EM did not converge{count} in max_iter={settings.max_iter} iterations "
            f"(tol={settings.tol}){labelled(data.labels, not_converged)}; the estimate may "
            "be inaccurate. Increase max_iter or tol.",
            ConvergenceWarning,
        )
    active = np.sum(np.asarray(fits.params.weights) > 0, axis=-1)
    emptied = np.flatnonzero(active < k)
    if emptied.size:
        m = int(emptied[0])
        warn(
            f"{int(k[m] - active[m])} of {int(k[m])} mixture components emptied (at "
            f"initialisation or during EM) and were dropped{labelled(data.labels, emptied)}; "
            f"the fit uses {int(active[m])}. The data may hold fewer distinct clusters than "
            "components (e.g. many repeated values); consider fewer components or "
            "transform='rank'.",
            DegenerateComponentWarning,
        )
