"""Disentanglement metrics from an MI matrix, with uncertainty from its draws.

Every metric is computed from the point estimates and again from each
bootstrap draw of the whole matrix (draw b of every pair comes from the same
resampled rows), so its spread is the spread of the metric itself, with the
correlations between pairs accounted for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bayes_gmm_mi._matrix import MIMatrix

__all__ = ["mig", "modularity", "latent_dependence"]


def _check(matrix: Any, symmetric: bool | None) -> None:
    if not isinstance(matrix, MIMatrix):
        raise TypeError(f"expected an MIMatrix from mi_matrix(); got {type(matrix).__name__}.")
    if symmetric is not None and bool(matrix.info.get("symmetric")) != symmetric:
        want = "a latent–latent matrix, mi_matrix(a)" if symmetric else \
            "a latent × factor matrix, mi_matrix(latents, factors)"
        raise ValueError(f"this metric needs {want}.")


def _summary(names: list[str], point: np.ndarray, draws: np.ndarray, prob: float,
             extra: dict[str, list] | None = None) -> Any:
    import pandas as pd

    from bayes_gmm_mi._validation import check_probability

    prob = check_probability(prob)
    tail = 50.0 * (1.0 - prob)
    have = draws.shape[-1] > 1
    table = pd.DataFrame({
        "estimate": point,
        "mean": draws.mean(-1) if have else point,
        "std": draws.std(-1, ddof=1) if have else np.full(point.shape, np.nan),
        "lower": np.percentile(draws, tail, axis=-1) if have else np.full(point.shape, np.nan),
        "upper": np.percentile(draws, 100 - tail, axis=-1) if have else
        np.full(point.shape, np.nan),
        **(extra or {}),
    }, index=names)
    table.attrs["prob"] = prob
    return table


def mig(matrix: MIMatrix, *, n_bins: int = 20, prob: float = 0.95) -> Any:
    """Mutual Information Gap per factor, and its mean over factors.

    For factor k: MIG_k = (I_(1) − I_(2)) / H_k, the gap between the two
    latents with the largest MI with the factor, normalised by the factor's
    entropy. For a categorical factor H_k is its plug-in entropy (computed per
    bootstrap replicate too). A continuous factor has no finite discrete
    entropy; it is normalised by ``log(n_bins)``, the entropy of the factor
    discretised into ``n_bins`` equal-frequency bins (the convention of binned
    MIG estimates), so MIG values of continuous factors are comparable with
    each other but depend on that choice.

    Parameters
    ----------
    matrix : MIMatrix
        Latents × factors, from ``mi_matrix(latents, factors)`` (≥ 2 latents).
    n_bins : int, default 20
        Normaliser of continuous factors (see above).
    prob : float, default 0.95
        Interval probability.

    Returns
    -------
    pandas.DataFrame
        One row per factor plus ``"mean"`` (the MIG of the model): ``estimate``
        (from the point MIs), ``mean``, ``std``, ``lower``, ``upper`` (over the
        draws), ``top_latent``, ``second_latent``, ``normaliser``.
    """
    _check(matrix, False)
    if matrix.point_estimate.sizes["x"] < 2:
        raise ValueError("MIG needs at least two latents (rows of the matrix).")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
        raise ValueError(f"n_bins must be an int >= 2; got {n_bins!r}.")
    point = matrix.point_estimate.values            # (latents, factors)
    draws = matrix.draws.values                     # (latents, factors, B)
    latents = list(matrix.point_estimate.coords["x"].values)
    factors = list(matrix.point_estimate.coords["y"].values)
    kinds = matrix.info["kinds"]
    unit = 1.0 if matrix.units == "nat" else 1.0 / math.log(2.0)
    entropy = matrix.info["entropy"]
    b = draws.shape[-1]
    norm_point, norm_draws = [], []
    for name in factors:
        if kinds[name] == "categorical":
            h, h_reps = entropy[name]
            norm_point.append(h)
            norm_draws.append(h_reps if b else np.empty(0))
        else:
            norm_point.append(math.log(n_bins) * unit)
            norm_draws.append(np.full(b, math.log(n_bins) * unit))
    norm_point_arr = np.asarray(norm_point)
    norm_draws_arr = np.asarray(norm_draws).reshape(len(factors), b)

    def gaps(values: np.ndarray) -> np.ndarray:   # (latents, factors, ...) → (factors, ...)
        top2 = -np.sort(-values, axis=0)[:2]
        return top2[0] - top2[1]

    g_point = gaps(point) / norm_point_arr
    g_draws = gaps(draws) / norm_draws_arr if b else np.empty((len(factors), 0))
    order = np.argsort(-point, axis=0)
    names = factors + ["mean"]
    est = np.append(g_point, g_point.mean())
    reps = np.vstack([g_draws, g_draws.mean(axis=0, keepdims=True)]) if b else \
        np.empty((len(names), 0))
    extra = {
        "top_latent": [latents[order[0, k]] for k in range(len(factors))] + [None],
        "second_latent": [latents[order[1, k]] for k in range(len(factors))] + [None],
        "normaliser": list(norm_point_arr) + [np.nan],
    }
    return _summary(names, est, reps, prob, extra)


def modularity(matrix: MIMatrix, *, prob: float = 0.95) -> Any:
    """Modularity of each latent (Ridgeway & Agarwal, 2018), and its mean.

    For latent i with MI m_ij to the factors and θ_i = max_j m_ij:
    δ_i = Σ_{j ≠ j*} m_ij² / (θ_i² (F − 1)), modularity_i = 1 − δ_i; 1 means the
    latent carries information about one factor only. A latent with no MI with
    any factor (θ_i = 0) gets NaN.

    Returns
    -------
    pandas.DataFrame
        One row per latent plus ``"mean"``; ``estimate``, ``mean``, ``std``,
        ``lower``, ``upper``, ``top_factor``.
    """
    _check(matrix, False)
    factors = list(matrix.point_estimate.coords["y"].values)
    if len(factors) < 2:
        raise ValueError("modularity needs at least two factors (columns of the matrix).")
    latents = list(matrix.point_estimate.coords["x"].values)

    def score(values: np.ndarray) -> np.ndarray:  # (latents, factors, ...) → (latents, ...)
        values = np.clip(values, 0.0, None)
        theta = values.max(axis=1)
        rest = np.sum(values**2, axis=1) - theta**2
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = rest / (theta**2 * (len(factors) - 1))
        return np.where(theta > 0, 1.0 - delta, np.nan)

    point = score(matrix.point_estimate.values)
    b = matrix.draws.sizes["draw"]
    draws = score(matrix.draws.values) if b else np.empty((len(latents), 0))
    top = np.argmax(matrix.point_estimate.values, axis=1)
    names = latents + ["mean"]
    est = np.append(point, np.nanmean(point))
    reps = np.vstack([draws, np.nanmean(draws, axis=0, keepdims=True)]) if b else \
        np.empty((len(names), 0))
    return _summary(names, est, reps, prob, {"top_factor": [factors[t] for t in top] + [None]})


def latent_dependence(matrix: MIMatrix, *, prob: float = 0.95) -> Any:
    """How dependent the latents are on each other: mean and max off-diagonal MI.

    Parameters
    ----------
    matrix : MIMatrix
        Latent–latent, from ``mi_matrix(latents)``.

    Returns
    -------
    pandas.DataFrame
        Rows ``"mean_mi"`` and ``"max_mi"`` (over pairs i < j), columns as in
        :func:`mig`, plus ``pair`` (the most dependent pair).
    """
    _check(matrix, True)
    p = matrix.point_estimate.sizes["x"]
    iu = np.triu_indices(p, 1)
    point = matrix.point_estimate.values[iu]
    b = matrix.draws.sizes["draw"]
    draws = matrix.draws.values[iu] if b else np.empty((point.size, 0))
    names = list(matrix.point_estimate.coords["x"].values)
    k = int(np.argmax(point))
    est = np.array([point.mean(), point.max()])
    reps = np.vstack([draws.mean(axis=0), draws.max(axis=0)]) if b else np.empty((2, 0))
    pair = f"{names[iu[0][k]]} – {names[iu[1][k]]}"
    return _summary(["mean_mi", "max_mi"], est, reps, prob, {"pair": [None, pair]})
