"""Weighted EM for full-covariance Gaussian mixtures, in pure JAX.

Every fit the estimator needs is the same computation on the same array with
different per-row weights: a bootstrap replicate has multinomial counts, a
cross-validation training fold has 0/1 weights, padding rows have weight 0. The
functions here fit *one* weighted data set; :func:`fit_batch` runs them over a
fixed-capacity batch of fits (see ``_batching``) and is compiled once per (rows,
dimension, padded components, initialisation scheme).

The number of components is padded too: a fit with ``n_active`` components out of
``k_pad`` keeps the surplus components at weight 0, so one compiled kernel serves
every K up to ``k_pad``.

Numerical care (after scikit-learn's ``GaussianMixture``): log-sum-exp in the
E-step, ``reg_covar`` added to every covariance, log-densities through the
precision Cholesky factor and ``einsum``. A component whose responsibility mass
falls below ``EMPTY_MASS`` rows is dropped (weight 0, parameters frozen) and
counted, so that callers can warn; no step can produce a linear-algebra error.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.special import logsumexp

from bayes_gmm_mi._batching import map_prefix
from bayes_gmm_mi._linalg import precision_cholesky, unrolled

__all__ = [
    "fit_batch_each",
    "GMMParams",
    "EMResult",
    "INIT_METHODS",
    "component_log_prob",
    "log_likelihood",
    "weighted_mean_log_likelihood",
    "fit_batch",
]

#: Initialisation schemes understood by :func:`initialise`.
INIT_METHODS = ("kmeans", "kmeans++", "random", "random_from_data")

#: A component owning less responsibility than this many (weighted) rows is empty.
EMPTY_MASS = 1e-3

_LOG_2PI = 1.8378770664093453
_LLOYD_STEPS = 10


class GMMParams(NamedTuple):
    """Parameters of a Gaussian mixture (a pytree).

    Attributes
    ----------
    weights : Array of shape (K,)
        Mixing weights; 0 for padded or dropped components.
    means : Array of shape (K, D)
    covariances : Array of shape (K, D, D)

    The fields are jax arrays inside the kernels and numpy arrays once fetched
    to the host (compaction, padding, results).
    """

    weights: Array | np.ndarray
    means: Array | np.ndarray
    covariances: Array | np.ndarray


class EMResult(NamedTuple):
    """Outcome of one EM fit (a pytree; leading batch axis when vmapped).

    Attributes
    ----------
    params : GMMParams
    log_lik : Array, shape ()
        Weighted mean log-likelihood of the training rows at ``params``.
    n_iter : Array, shape ()
        EM iterations run.
    converged : Array, shape ()
        Whether the change in ``log_lik`` fell below ``tol`` before ``max_iter``.
    n_dropped : Array, shape ()
        Components that started with positive weight and emptied during EM.
    """

    params: GMMParams
    log_lik: Array
    n_iter: Array
    converged: Array
    n_dropped: Array


def component_log_prob(
    x: Array, means: Array | np.ndarray, covariances: Array | np.ndarray
) -> Array:
    """Log-density of every row under every Gaussian component.

    Parameters
    ----------
    x : Array of shape (N, D)
    means : Array of shape (K, D)
    covariances : Array of shape (K, D, D)

    Returns
    -------
    Array of shape (N, K)
    """
    _, prec = precision_cholesky(covariances)  # upper: prec[d, e] = 0 for d > e
    d = x.shape[-1]
    if unrolled(d, em=True):
        # Written out over the (small, static) dimension: XLA fuses it into one loop,
        # several times faster on CPU than an einsum with a contraction of size D.
        diff = [x[:, None, i] - means[None, :, i] for i in range(d)]
        maha: Array | float = 0.0
        for e in range(d):
            y = sum(diff[i] * prec[None, :, i, e] for i in range(e + 1))
            maha = maha + y * y
    else:
        # One matrix product for every component: (x - mu_k) P_k = x P_k - mu_k P_k.
        y = jnp.einsum("nd,kde->nke", x, prec) - jnp.einsum("kd,kde->ke", means, prec)[None]
        maha = jnp.sum(y * y, axis=-1)
    log_det = jnp.sum(jnp.log(jnp.diagonal(prec, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (d * _LOG_2PI + maha) + log_det


def _weighted_log_prob(x: Array, params: GMMParams) -> Array:
    return component_log_prob(x, params.means, params.covariances) + jnp.log(params.weights)


def log_likelihood(x: Array, params: GMMParams) -> Array:
    """Per-row log-density of the mixture, shape (N,)."""
    return logsumexp(_weighted_log_prob(x, params), axis=-1)


def weighted_mean_log_likelihood(x: Array, sample_weight: Array, params: GMMParams) -> Array:
    """``sum(w * log p(x)) / sum(w)``: the held-out score of a fold, shape ()."""
    return jnp.sum(sample_weight * log_likelihood(x, params)) / jnp.sum(sample_weight)


def _m_step(x: Array, sample_weight: Array, resp: Array, prev: GMMParams, reg_covar) -> GMMParams:
    """Weighted M-step; empty components keep ``prev`` parameters at weight 0."""
    wr = sample_weight[:, None] * resp
    nk = jnp.sum(wr, axis=0)
    alive = nk > EMPTY_MASS
    safe = jnp.where(alive, nk, 1.0)
    d = x.shape[-1]
    if unrolled(d, em=True):
        # Unrolled over the dimension (see component_log_prob); two-pass covariance.
        mean_cols = [jnp.sum(wr * x[:, i : i + 1], axis=0) / safe for i in range(d)]
        diff = [x[:, None, i] - mean_cols[i][None, :] for i in range(d)]
        wdiff = [wr * diff[i] for i in range(d)]
        cov_rows: list[list[Any]] = [[None] * d for _ in range(d)]
        for i in range(d):
            for j in range(i + 1):
                cov_rows[i][j] = cov_rows[j][i] = jnp.sum(wdiff[i] * diff[j], axis=0) / safe
        means = jnp.stack(mean_cols, axis=-1)
        cov = jnp.stack([jnp.stack(r, axis=-1) for r in cov_rows], axis=-2)
    else:
        # Matrix products over the rows; two-pass covariance as above.
        means = (wr.T @ x) / safe[:, None]                                   # (K, D)
        centred = x[None, :, :] - means[:, None, :]                          # (K, N, D)
        weighted = wr.T[:, :, None] * centred
        cov = jnp.einsum("knd,kne->kde", weighted, centred) / safe[:, None, None]
        cov = 0.5 * (cov + jnp.swapaxes(cov, -1, -2))
    cov = cov + reg_covar * jnp.eye(d, dtype=x.dtype)
    weights = jnp.where(alive, nk, 0.0)
    return GMMParams(
        weights=weights / jnp.sum(weights),
        means=jnp.where(alive[:, None], means, prev.means),
        covariances=jnp.where(alive[:, None, None], cov, prev.covariances),
    )


def _blank(k_pad: int, d: int, dtype) -> GMMParams:
    return GMMParams(
        weights=jnp.zeros((k_pad,), dtype),
        means=jnp.zeros((k_pad, d), dtype),
        covariances=jnp.broadcast_to(jnp.eye(d, dtype=dtype), (k_pad, d, d)),
    )


def _nearest(x: Array, centres: Array, active: Array) -> Array:
    """One-hot assignment of rows to the nearest active centre, shape (N, K)."""
    d2 = jnp.sum((x[:, None, :] - centres[None, :, :]) ** 2, axis=-1)
    d2 = jnp.where(active[None, :], d2, jnp.inf)
    return jax.nn.one_hot(jnp.argmin(d2, axis=1), centres.shape[0], dtype=x.dtype)


def _draw_row(weights: Array, u: Array) -> Array:
    """Index of a row drawn with probability ∝ ``weights``, by inverting the CDF at ``u``."""
    cdf = jnp.cumsum(weights)
    return jnp.minimum(jnp.searchsorted(cdf, u * cdf[-1], side="right"), weights.shape[0] - 1)


def _kmeanspp(key: Array, x: Array, sample_weight: Array, active: Array) -> Array:
    """k-means++ seeding: each new centre drawn with probability ∝ w · D².

    The uniforms are drawn once, outside the loop (PRNG code inside a loop is
    slow to compile), and rows are picked by inverting the weighted CDF.
    """
    k_pad = active.shape[0]
    u = jax.random.uniform(key, (k_pad,), x.dtype)
    first = x[_draw_row(sample_weight, u[0])]
    centres = jnp.broadcast_to(first, (k_pad, x.shape[1]))
    d2 = jnp.sum((x - first) ** 2, axis=-1)

    def body(j, carry):
        centres, d2 = carry
        c = x[_draw_row(sample_weight * (d2 + 1e-12), u[j])]
        centres = centres.at[j].set(jnp.where(active[j], c, centres[0]))
        d2 = jnp.where(active[j], jnp.minimum(d2, jnp.sum((x - c) ** 2, axis=-1)), d2)
        return centres, d2

    centres, _ = jax.lax.fori_loop(1, k_pad, body, (centres, d2))
    return centres


def _lloyd(x: Array, sample_weight: Array, centres: Array, active: Array) -> Array:
    def body(_, centres):
        wr = sample_weight[:, None] * _nearest(x, centres, active)
        nk = jnp.sum(wr, axis=0)
        new = (wr.T @ x) / jnp.where(nk > 0, nk, 1.0)[:, None]
        return jnp.where((nk > 0)[:, None], new, centres)

    return jax.lax.fori_loop(0, _LLOYD_STEPS, body, centres)


def initialise(key: Array, x: Array, sample_weight: Array, n_active, k_pad: int,
               method: str, reg_covar) -> GMMParams:
    """Starting parameters for EM on one weighted data set.

    Parameters
    ----------
    key : PRNG key
    x : Array of shape (N, D)
    sample_weight : Array of shape (N,)
        Non-negative row weights; rows with weight 0 are never used.
    n_active : int (may be traced)
        Number of components to start; the remaining ``k_pad - n_active`` stay at
        weight 0.
    k_pad : int (static)
    method : {"kmeans", "kmeans++", "random", "random_from_data"} (static)
        ``"kmeans"``: k-means++ seeds refined by 10 weighted Lloyd steps;
        ``"kmeans++"``: the seeds alone; ``"random_from_data"``: centres at
        distinct random rows; ``"random"``: random responsibilities. Mean-based
        schemes assign each row to its nearest centre, then take one M-step.
    reg_covar : float

    Returns
    -------
    GMMParams
    """
    active = jnp.arange(k_pad) < n_active
    log_w = jnp.log(sample_weight)
    if method == "random":
        u = jax.random.uniform(key, (x.shape[0], k_pad), x.dtype) * active
        resp = u / jnp.sum(u, axis=1, keepdims=True)
    else:
        if method == "random_from_data":
            g = jax.random.gumbel(key, (x.shape[0],), x.dtype) + log_w
            centres = x[jax.lax.top_k(g, k_pad)[1]]
        elif method in ("kmeans", "kmeans++"):
            centres = _kmeanspp(key, x, sample_weight, active)
            if method == "kmeans":
                centres = _lloyd(x, sample_weight, centres, active)
        else:
            raise ValueError(f"unknown init method {method!r}; expected one of {INIT_METHODS}")
        resp = _nearest(x, centres, active)
    return _m_step(x, sample_weight, resp, _blank(k_pad, x.shape[1], x.dtype), reg_covar)


class _Loop(NamedTuple):
    params: GMMParams
    log_lik: Array
    delta: Array
    n_iter: Array


def fit_em(x: Array, sample_weight: Array, params: GMMParams, reg_covar, tol, max_iter) -> EMResult:
    """Run weighted EM from ``params`` until the mean log-likelihood settles.

    Parameters
    ----------
    x : Array of shape (N, D)
    sample_weight : Array of shape (N,)
    params : GMMParams
        Starting point (an initialisation or a previous fit: warm start).
    reg_covar : float
        Added to the diagonal of every covariance.
    tol : float
        Stop when the weighted mean log-likelihood changes by less than this.
    max_iter : int
        Upper bound on EM iterations. EM also stops (not converged) as soon as
        the log-likelihood is NaN, which no further iteration can repair.

    Returns
    -------
    EMResult
    """
    total = jnp.sum(sample_weight)

    def body(s: _Loop) -> _Loop:
        wlp = _weighted_log_prob(x, s.params)
        lse = logsumexp(wlp, axis=1)
        ll = jnp.sum(sample_weight * lse) / total
        resp = jnp.exp(wlp - lse[:, None])
        new = _m_step(x, sample_weight, resp, s.params, reg_covar)
        return _Loop(new, ll, ll - s.log_lik, s.n_iter + 1)

    def cond(s: _Loop) -> Array:
        # A NaN log-likelihood never settles: stop there (not converged) rather
        # than iterate to max_iter, so that no input keeps EM running.
        return (s.n_iter < max_iter) & ~(jnp.abs(s.delta) < tol) & ~jnp.isnan(s.delta)

    inf = jnp.asarray(jnp.inf, x.dtype)
    start = _Loop(params, -inf, inf, jnp.asarray(0, jnp.int32))
    end = jax.lax.while_loop(cond, body, start)
    n_dropped = jnp.sum((params.weights > 0) & (end.params.weights == 0))
    return EMResult(
        params=end.params,
        log_lik=weighted_mean_log_likelihood(x, sample_weight, end.params),
        n_iter=end.n_iter,
        converged=jnp.abs(end.delta) < tol,
        n_dropped=n_dropped,
    )


def _fit_and_score(seed: Array, x: Array, w: Array, sw: Array, start: GMMParams, warm,
                   n_active, k_pad: int, init: str, reg_covar, tol, max_iter,
                   ) -> tuple[EMResult, Array]:
    """One member of a batch: initialise (or warm-start), run EM on weights ``w``,
    score the fit on weights ``sw``."""
    p0 = jax.lax.cond(
        warm,
        lambda: start,
        lambda: initialise(jax.random.key(seed), x, w, n_active, k_pad, init, reg_covar),
    )
    fit = fit_em(x, w, p0, reg_covar, tol, max_iter)
    return fit, weighted_mean_log_likelihood(x, sw, fit.params)


@partial(jax.jit, static_argnames=("k_pad", "init"))
def fit_batch(seeds: Array, x: Array, train_weights: Array, score_weights: Array, n_members,
              n_active, start: GMMParams, warm, *, k_pad: int, init: str, reg_covar, tol,
              max_iter) -> tuple[EMResult, Array]:
    """Fit a batch of weighted data sets that share ``x``, and score each fit.

    Parameters
    ----------
    seeds : Array of shape (C,), int32
        PRNG seed of each member's initialisation (C: the batch capacity).
    x : Array of shape (N, D)
    train_weights : Array of shape (C, N)
        EM row weights of each member (CV training mask, bootstrap counts, ...).
    score_weights : Array of shape (C, N)
        Row weights of each member's score (held-out mask for CV).
    n_members : int
        Members to fit (the first ``n_members`` of the capacity).
    n_active : int
        Components per fit (≤ ``k_pad``) when initialising.
    start : GMMParams with K = ``k_pad`` (unbatched)
        Warm start shared by every member; used when ``warm`` is true.
    warm : bool
        Start from ``start`` instead of initialising with ``init``.
    k_pad, init : static
        Padded number of components; initialisation scheme (:func:`initialise`).
    reg_covar, tol, max_iter : see :func:`fit_em`

    Returns
    -------
    fits : EMResult with leading axis C (zeros past ``n_members``)
    scores : Array of shape (C,)
        ``weighted_mean_log_likelihood`` of each fit on its ``score_weights``.
    """

    def member(args):
        seed, w, sw = args
        return _fit_and_score(seed, x, w, sw, start, warm, n_active, k_pad, init, reg_covar,
                              tol, max_iter)

    return map_prefix(member, (seeds, train_weights, score_weights), n_members)


@partial(jax.jit, static_argnames=("k_pad", "init"))
def fit_batch_each(seeds: Array, xs: Array, train_weights: Array, score_weights: Array,
                   n_members, n_active, starts: GMMParams, warm, *, k_pad: int, init: str,
                   reg_covar, tol, max_iter) -> tuple[EMResult, Array]:
    """:func:`fit_batch` with a data set and a warm start per member.

    Parameters
    ----------
    seeds : Array of shape (C,), int32
    xs : Array of shape (C, N, D)
        Each member's data (e.g. a different pair of columns, or one class's rows).
    train_weights, score_weights : Array of shape (C, N)
    n_members, n_active, warm, k_pad, init, reg_covar, tol, max_iter
        As in :func:`fit_batch`.
    starts : GMMParams with leading axis C and K = ``k_pad``
        Each member's warm start (used when ``warm``).

    Returns
    -------
    fits : EMResult with leading axis C
    scores : Array of shape (C,)
    """

    def member(args):
        seed, x, w, sw, start = args
        return _fit_and_score(seed, x, w, sw, start, warm, n_active, k_pad, init, reg_covar,
                              tol, max_iter)

    return map_prefix(member, (seeds, xs, train_weights, score_weights, starts), n_members)
