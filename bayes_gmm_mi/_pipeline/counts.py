"""MI of two discrete (categorical) variables, by counts.

No mixture is involved: the joint table of the two code vectors gives the
plug-in MI, which is biased upwards by about ``(cells − 1 − (rows − 1) −
(columns − 1)) / 2N`` nats (Miller–Madow); :func:`corrected_mi` subtracts that,
counting only the non-empty cells. The draws of the uncertainty are the
corrected MI of bootstrap tables (multinomial resampling of the rows) or of
joint probabilities drawn from the conjugate Dirichlet(counts + 1) posterior,
shifted so that their median is the corrected estimate (each draw has its own
small-sample bias, which the shift removes; the spread is kept).

Used by :func:`~bayes_gmm_mi.mutual_information` (``discrete_x=True,
discrete_y=True``) and by :func:`~bayes_gmm_mi.mi_matrix` for pairs of
categorical columns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tables", "plugin_mi", "corrected_mi", "mi_of_tables", "discrete_draws",
           "MIN_ROWS_PER_CELL", "sparse_table"]

#: Rows per cell of a table of counts below which its bias correction is unreliable.
MIN_ROWS_PER_CELL = 5


def sparse_table(n: int, n_a: int, n_b: int) -> bool:
    """Whether an ``n_a`` × ``n_b`` table of ``n`` rows has fewer than
    :data:`MIN_ROWS_PER_CELL` rows per cell (its corrected MI is then unreliable)."""
    return n < MIN_ROWS_PER_CELL * n_a * n_b


def tables(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted joint count tables (B, A, C) of codes ``a``, ``b`` (n,) for ``weights`` (B, n)."""
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    cell = a * nb + b
    return np.stack([np.bincount(cell, weights=w, minlength=na * nb).reshape(na, nb)
                     for w in np.atleast_2d(weights)])


def mi_of_tables(table: np.ndarray, *, correct: bool) -> np.ndarray:
    """MI (nats) of joint count (or probability) tables (B, A, C).

    ``correct`` subtracts the Miller–Madow bias ``(K_ab − K_a − K_b + 1) / 2N``,
    with K the numbers of non-empty cells, rows and columns and N the total
    count (meaningful for counts only).
    """
    table = np.asarray(table, np.float64)
    total = table.sum(axis=(1, 2))
    p = table / total[:, None, None]
    pa, pb = p.sum(axis=2), p.sum(axis=1)
    outer = pa[:, :, None] * pb[:, None, :]
    nz = p > 0
    terms = np.where(nz, p * np.log(np.where(nz, p, 1.0) / np.where(nz, outer, 1.0)), 0.0)
    mi = terms.sum(axis=(1, 2))
    if correct:
        k_ab = nz.sum(axis=(1, 2))
        k_a, k_b = (pa > 0).sum(axis=1), (pb > 0).sum(axis=1)
        mi = mi - (k_ab - k_a - k_b + 1) / (2.0 * total)
    return mi


def plugin_mi(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Plug-in MI (nats) of two code vectors for each row of ``weights`` (B, n)."""
    return mi_of_tables(tables(a, b, weights), correct=False)


def corrected_mi(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Miller–Madow corrected MI (nats) for each row of ``weights`` (B, n)."""
    return mi_of_tables(tables(a, b, weights), correct=True)


def discrete_draws(a: np.ndarray, b: np.ndarray, *, method: str, n_draws: int,
                   seed: int) -> tuple[float, np.ndarray]:
    """The corrected MI of two code vectors and ``n_draws`` draws of its uncertainty.

    Parameters
    ----------
    a, b : ndarray of shape (n,), int
        Codes 0..A−1 and 0..C−1.
    method : {"bootstrap", "vi", "mcmc"}
        ``"bootstrap"``: multinomial resampling of the rows. ``"vi"``/``"mcmc"``:
        the exact conjugate posterior of the joint probabilities,
        Dirichlet(counts + 1) over the A × C cells (no approximation is needed).
    n_draws : int
    seed : int

    Returns
    -------
    point : float
        Miller–Madow corrected MI (nats).
    draws : ndarray of shape (n_draws,)
        Draws shifted so that their median is ``point``.
    """
    n = a.shape[0]
    point = float(corrected_mi(a, b, np.ones((1, n)))[0])
    if n_draws == 0:
        return point, np.empty(0)
    rng = np.random.default_rng(seed)
    if method == "bootstrap":
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_draws).astype(np.float64)
        values = corrected_mi(a, b, counts)
    else:
        table = tables(a, b, np.ones((1, n)))[0]
        probs = rng.dirichlet(table.reshape(-1) + 1.0, size=n_draws).reshape(
            (n_draws, *table.shape))
        values = mi_of_tables(probs, correct=False)
    return point, values - np.median(values) + point
