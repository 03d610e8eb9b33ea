"""Nearest-neighbour estimates of MI: an independent check on the mixture fit.

A Gaussian mixture with the number of components chosen by cross-validation can
under-fit a joint density with hard edges or a thin curved ridge (a uniform disk,
``y = x**2`` plus little noise, class labels that are a threshold of x), and its
interval can then sit tightly below the truth. The k-nearest-neighbour estimators
here make no density model at all, so they fail differently: they are the
"independent nearest-neighbour estimate" that the misspecification check compares
the mixture's interval with (:func:`check_against_knn`).

* :func:`ksg_mi` — Kraskov, Stögbauer & Grassberger (2004), algorithm 1: the
  max-norm distance to the k-th neighbour in the joint space, and the number of
  points strictly within it in each margin. Written for blocks of any dimension.
* :func:`labelled_mi` — Ross (2014), the same idea for a continuous x and a
  discrete label: the k-th neighbour among points of the same label.

Both return a :class:`KnnEstimate` with a standard error from the spread of the
per-point terms (the terms are weakly correlated, so it is a rough error; the
check adds a margin for that and for the estimators' own bias, which is
downward for strong dependence — the direction that keeps the check from firing
on data the mixture describes well).

Both work on the normal scores of each column's ranks (MI is invariant under
monotone maps of each column, and the max-norm needs comparable scales), on at
most :data:`MAX_ROWS` rows (an evenly spaced subsample of a fixed permutation
beyond that), so the check costs tens of milliseconds at any n.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

__all__ = ["KnnEstimate", "ksg_mi", "labelled_mi", "check_against_knn",
           "MAX_ROWS", "N_NEIGHBORS", "MIN_GAP_NATS", "REL_GAP", "Z_KNN"]

#: Rows used by the check (a fixed subsample above it).
MAX_ROWS = 4000
#: Neighbours k of both estimators.
N_NEIGHBORS = 3
#: The mixture's 95 % interval is flagged when the kNN estimate exceeds its upper
#: end by more than ``Z_KNN`` kNN standard errors plus ``max(MIN_GAP_NATS,
#: REL_GAP * upper)`` (values set by the study in ``studies/knn_check``).
Z_KNN = 3.0
MIN_GAP_NATS = 0.01
REL_GAP = 0.02


class KnnEstimate(NamedTuple):
    """A nearest-neighbour MI estimate.

    Attributes
    ----------
    mi : float
        Estimate in nats.
    se : float
        Rough standard error in nats (spread of the per-point terms over sqrt(n)).
    n_rows : int
        Rows used.
    n_neighbors : int
        k.
    name : str
        The estimator: ``"KSG"`` or ``"Ross"``.
    """

    mi: float
    se: float
    n_rows: int
    n_neighbors: int
    name: str


def _normal_scores(a: np.ndarray) -> np.ndarray:
    """Normal scores of each column's average ranks, shape (n, d)."""
    n = a.shape[0]
    ranks = np.apply_along_axis(rankdata, 0, a)
    return ndtri((ranks - 0.5) / n)


def _rows(n: int, max_rows: int) -> np.ndarray:
    """A fixed, evenly spread subsample of ``range(n)`` of at most ``max_rows`` rows."""
    if n <= max_rows:
        return np.arange(n)
    order = np.random.default_rng(20041).permutation(n)
    return np.sort(order[:max_rows])


def _count_within(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Points strictly within ``radius[i]`` (max-norm) of each point, itself excluded."""
    inner = np.nextafter(radius, 0.0)
    return _within(points, inner)


def _within(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Points within ``radius[i]`` (max-norm, boundary included) of each point, itself excluded."""
    tree = cKDTree(points)
    counts = tree.query_ball_point(points, radius, p=np.inf, return_length=True)
    return np.asarray(counts, np.int64) - 1


def _kth_distance(points: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance of each point to its k-th nearest other point."""
    dist, _ = cKDTree(points).query(points, k=k + 1, p=np.inf)
    return dist[:, -1]


def _as_2d(a: Any) -> np.ndarray:
    arr = np.asarray(a, np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def ksg_mi(x: Any, y: Any, n_neighbors: int = N_NEIGHBORS,
           max_rows: int = MAX_ROWS) -> KnnEstimate:
    """KSG estimate (algorithm 1) of the MI between two continuous blocks.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, dx)
    y : array-like of shape (n,) or (n, dy)
    n_neighbors : int, default 3
        k; larger k lowers the variance and raises the (downward) bias.
    max_rows : int, default :data:`MAX_ROWS`
        Rows used; a fixed subsample beyond it.

    Returns
    -------
    KnnEstimate
        In nats; negative values (noise around 0) are kept.
    """
    xs, ys = _as_2d(x), _as_2d(y)
    keep = _rows(xs.shape[0], max_rows)
    xs, ys = _normal_scores(xs[keep]), _normal_scores(ys[keep])
    n = xs.shape[0]
    k = int(n_neighbors)
    if n <= k + 1:
        raise ValueError(f"ksg_mi needs more than n_neighbors + 1 = {k + 1} rows; got {n}.")
    joint = np.hstack([xs, ys])
    radius = _kth_distance(joint, k)
    nx = _count_within(xs, radius)
    ny = _count_within(ys, radius)
    terms = digamma(k) + digamma(n) - digamma(nx + 1) - digamma(ny + 1)
    return KnnEstimate(float(np.mean(terms)), float(np.std(terms, ddof=1) / math.sqrt(n)),
                       n, k, "KSG")


def labelled_mi(x: Any, labels: Any, n_neighbors: int = N_NEIGHBORS,
                max_rows: int = MAX_ROWS) -> KnnEstimate:
    """Ross (2014) estimate of the MI between a continuous block and discrete labels.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, dx)
    labels : array-like of shape (n,)
        Any hashable class labels.
    n_neighbors : int, default 3
        k; classes with at most k rows are left out (they cannot place a
        k-th neighbour), as in the original estimator.
    max_rows : int, default :data:`MAX_ROWS`

    Returns
    -------
    KnnEstimate
        In nats.
    """
    xs = _as_2d(x)
    lab = np.asarray(labels)
    keep = _rows(xs.shape[0], max_rows)
    xs, lab = _normal_scores(xs[keep]), lab[keep]
    _, codes = np.unique(lab, return_inverse=True)
    counts = np.bincount(codes)
    k = int(n_neighbors)
    usable = counts[codes] > k
    xs, codes = xs[usable], codes[usable]
    n = xs.shape[0]
    if n <= k + 1:
        raise ValueError(f"labelled_mi needs classes of more than n_neighbors = {k} rows.")
    counts = np.bincount(codes)
    radius = np.empty(n)
    for c in np.flatnonzero(counts):
        members = np.flatnonzero(codes == c)
        radius[members] = _kth_distance(xs[members], k)
    # Ross counts the points within the radius, boundary included (the k-th
    # same-label neighbour is one of them).
    within = _within(xs, radius)
    terms = digamma(n) - digamma(counts[codes]) + digamma(k) - digamma(within)
    return KnnEstimate(float(np.mean(terms)), float(np.std(terms, ddof=1) / math.sqrt(n)),
                       n, k, "Ross")


def check_against_knn(upper: float, knn: KnnEstimate) -> dict[str, Any]:
    """Is the mixture's interval below the kNN estimate by more than both errors?

    Parameters
    ----------
    upper : float
        Upper end of the mixture's 95 % interval, nats.
    knn : KnnEstimate

    Returns
    -------
    dict
        ``knn_mi``, ``knn_se`` (nats), ``gap`` (kNN estimate minus ``upper``),
        ``threshold`` and ``below`` (the interval is below the kNN estimate).
    """
    threshold = Z_KNN * knn.se + max(MIN_GAP_NATS, REL_GAP * max(upper, 0.0))
    gap = knn.mi - upper
    return {"knn_mi": knn.mi, "knn_se": knn.se, "gap": gap, "threshold": threshold,
            "below": bool(np.isfinite(gap) and gap > threshold)}
