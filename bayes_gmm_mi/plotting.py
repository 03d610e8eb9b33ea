"""Plots of fits and MI results (matplotlib, imported when a function is called).

Every function takes an optional matplotlib ``ax`` and returns the ``ax`` it
drew on, so plots compose into the user's own figures:

- :func:`plot_fit` — the fitted joint mixture: data, density contours and one
  ellipse per component;
- :func:`plot_selection` — the component-selection score against K, with the
  chosen K marked;
- :func:`plot_mi_distributions` — MI draws (bootstrap and/or posterior) of one
  or more results, with the truth if known.

Apart from the mixture density on the plotting grid, nothing here computes
anything the fitted estimator or the result objects do not already hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._compare import _named
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import (
    as_variable,
    check_float,
    check_int,
    gaussianise_ranks,
)

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._estimator import GMMMI

__all__ = ["plot_fit", "plot_selection", "plot_mi_distributions", "plot_mi_matrix"]

_UNIT_NAMES = {"nat": "nats", "bit": "bits"}


def _axes(ax: Any, figsize: tuple[float, float] = (6.0, 3.5)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def plot_mi_distributions(
    results: Mapping[str, MIResult] | Iterable[MIResult] | MIResult,
    *,
    truth: float | None = None,
    prob: float = 0.95,
    bins: int = 40,
    ax: Any = None,
) -> Any:
    """Overlay the MI distributions of several results (e.g. bootstrap, VI, MCMC).

    Each result's draws are drawn as a density histogram with the same bins,
    its central ``prob`` interval as a bar under the axis, and its EM point
    estimate as a tick; the truth, when known, as a vertical line.

    Parameters
    ----------
    results : MIResult, list of MIResult, or dict name → MIResult
        Named as in :func:`bayes_gmm_mi.compare`.
    truth : float, optional
        True MI in the results' units.
    prob : float, default 0.95
        Mass of the interval bars.
    bins : int, default 40
        Histogram bins (shared by all results).
    ax : matplotlib Axes, optional
        Drawn on if given; otherwise a new figure is made.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If no result has at least two draws.
    """
    named = [(name, res) for name, res in _named(results) if res.draws.size >= 2]
    if not named:
        raise ValueError(
            "nothing to plot: every result has fewer than 2 draws (n_bootstrap=0?)."
        )
    ax = _axes(ax)
    values = np.concatenate([res.draws for _, res in named])
    lo, hi = float(values.min()), float(values.max())
    if truth is not None:
        lo, hi = min(lo, float(truth)), max(hi, float(truth))
    pad = 0.05 * (hi - lo or 1.0)
    edges = np.linspace(lo - pad, hi + pad, int(bins) + 1)
    top = 0.0
    colours = []
    for name, res in named:
        _, _, patches = ax.hist(res.draws, bins=edges, density=True, histtype="stepfilled",
                                alpha=0.35, label=f"{name} ({res.draws.size} draws)")
        colours.append(patches[0].get_facecolor())
        top = max(top, float(np.histogram(res.draws, bins=edges, density=True)[0].max()))
    for i, ((_, res), colour) in enumerate(zip(named, colours)):
        low, high = res.interval(prob)
        level = -(i + 1) * 0.06 * top
        ax.plot([low, high], [level, level], color=colour[:3], lw=3, solid_capstyle="butt")
        ax.plot([res.point_estimate], [level], marker="|", color="k", ms=10)
    if truth is not None:
        ax.axvline(float(truth), color="k", ls="--", lw=1.2, label=f"truth {float(truth):.4f}")
    unit = _UNIT_NAMES.get(named[0][1].units, named[0][1].units)
    ax.set_xlabel(f"mutual information [{unit}]")
    ax.set_ylabel("density")
    ax.set_title(f"MI draws; bars: {int(round(prob * 100))}% intervals, |: EM estimate")
    ax.legend(fontsize="small", frameon=False)
    return ax


# ------------------------------------------------------------------ fitted mixture
def _fitted_mixture(estimator: Any, caller: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fitted ``weights_``, ``means_`` and ``covariances_`` as float64 arrays."""
    if not all(hasattr(estimator, a) for a in ("weights_", "means_", "covariances_")):
        raise ValueError(
            f"{type(estimator).__name__} instance is not fitted yet; call fit(x, y) "
            f"before {caller}()."
        )
    weights = np.asarray(estimator.weights_, np.float64)
    means = np.asarray(estimator.means_, np.float64)
    covs = np.asarray(estimator.covariances_, np.float64)
    if means.ndim != 2 or means.shape[1] != 2:
        dim = means.shape[1] if means.ndim == 2 else means.shape
        blocks = getattr(estimator, "n_features_", None)
        columns = f", columns per variable {tuple(blocks)}" if blocks is not None else ""
        raise ValueError(
            f"{caller} draws the joint density of two scalar variables (a 2-D mixture); "
            f"the fitted mixture has dimension {dim} (means_ of shape {means.shape}{columns})."
        )
    k = means.shape[0]
    if weights.shape != (k,) or covs.shape != (k, 2, 2):
        raise ValueError(
            f"inconsistent fitted mixture: weights_ {weights.shape}, means_ {means.shape}, "
            f"covariances_ {covs.shape}; expected ({k},), ({k}, 2), ({k}, 2, 2)."
        )
    return weights, means, covs


def _mixture_density(weights: np.ndarray, means: np.ndarray, covs: np.ndarray,
                     points: np.ndarray) -> np.ndarray:
    """Density of a Gaussian mixture at ``points`` of shape (..., d)."""
    d = means.shape[1]
    flat = points.reshape(-1, d)
    total = np.zeros(flat.shape[0])
    for w, mu, cov in zip(weights, means, covs):
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, (flat - mu).T)  # (d, n): L^-1 (x - mu)
        log_norm = -0.5 * d * math.log(2.0 * math.pi) - np.log(np.diag(chol)).sum()
        total += w * np.exp(log_norm - 0.5 * np.einsum("in,in->n", z, z))
    return total.reshape(points.shape[:-1])


def _ellipse_geometry(cov: np.ndarray, n_sigma: float) -> tuple[float, float, float]:
    """(width, height, angle in degrees) of the ``n_sigma`` ellipse of a 2×2 covariance.

    ``width`` lies along the major axis, which makes ``angle`` with the x axis.
    """
    vals, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    vals = np.clip(vals, 0.0, None)
    major = vecs[:, 1]
    angle = math.degrees(math.atan2(major[1], major[0]))
    return 2.0 * n_sigma * math.sqrt(vals[1]), 2.0 * n_sigma * math.sqrt(vals[0]), angle


#: Lowest and highest contour levels of ``plot_fit``, as fractions of the peak density.
_LOWEST_LEVEL, _HIGHEST_LEVEL = 1e-3, 0.9


def _plot_range(lo: np.ndarray, hi: np.ndarray, pad: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    span = hi - lo
    span = np.where(span > 0, span, 1.0)
    return lo - pad * span, hi + pad * span


def plot_fit(
    estimator: GMMMI,
    x: Any = None,
    y: Any = None,
    *,
    ax: Any = None,
    levels: int | Sequence[float] = 8,
    n_sigma: float = 2.0,
    max_points: int = 5000,
    random_state: Any = 0,
) -> Any:
    """Draw a fitted two-variable mixture: data, density contours and component ellipses.

    The contours are those of the fitted joint density
    :math:`\\sum_k w_k\\,\\mathcal N(\\mu_k, \\Sigma_k)` on a grid covering the
    data (or, without data, every component's ±4σ). Each component is drawn as
    the ellipse of its ``n_sigma`` standard deviations (axes along the
    eigenvectors of its covariance, half-lengths ``n_sigma``·√eigenvalue), with
    a line width growing with its weight, and a ``+`` at its mean.

    With ``transform="rank"`` the mixture lives in normal-score units; then the
    data are drawn rank-transformed the same way as in ``fit`` and the title
    says so.

    Parameters
    ----------
    estimator : GMMMI
        Fitted on one scalar X and one scalar Y.
    x, y : array-like of shape (n,) or (n, 1), optional
        The data (normally those passed to ``fit``), drawn as a scatter; both
        or neither.
    ax : matplotlib Axes, optional
        Drawn on if given; otherwise a new figure is made.
    levels : int or sequence of float, default 8
        An int: that many contours, at densities geometrically spaced from
        0.001 to 0.9 times the largest density on the grid (so light
        components and the tails show); a sequence: those density values.
    n_sigma : float, default 2.0
        Size of the component ellipses in standard deviations.
    max_points : int, default 5000
        At most this many data points are drawn (a random subset beyond that).
    random_state : None, int or numpy Generator, default 0
        Seeds the choice of that subset.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If the estimator is not fitted, its mixture is not two-dimensional,
        only one of ``x`` and ``y`` is given, or they differ in length.
    """
    weights, means, covs = _fitted_mixture(estimator, "plot_fit")
    n_sigma = check_float(n_sigma, "n_sigma", low=0.0, low_open=True)
    max_points = check_int(max_points, "max_points", 1)
    if isinstance(levels, (int, np.integer)):
        check_int(levels, "levels", 1)
    if (x is None) != (y is None):
        raise ValueError("plot_fit needs both x and y to draw the data, or neither.")

    rank = getattr(estimator, "transform", None) == "rank"
    data = None
    if x is not None:
        xv, yv = as_variable(x, "x"), as_variable(y, "y")
        if xv.shape[0] != yv.shape[0]:
            raise ValueError(
                f"x and y must have the same number of rows; got {xv.shape[0]} and {yv.shape[0]}."
            )
        data = np.column_stack([xv, yv])
        if rank:
            data = gaussianise_ranks(data)  # on all rows, as in fit, before thinning

    if data is not None:
        lo, hi = _plot_range(data.min(axis=0), data.max(axis=0))
    else:
        sd = np.sqrt(np.diagonal(covs, axis1=1, axis2=2))
        lo, hi = (means - 4.0 * sd).min(axis=0), (means + 4.0 * sd).max(axis=0)

    ax = _axes(ax, figsize=(5.5, 4.5))
    from matplotlib.patches import Ellipse

    if data is not None:
        n = data.shape[0]
        shown = data
        if n > max_points:
            rng = np.random.default_rng(random_state)
            shown = data[np.sort(rng.choice(n, size=max_points, replace=False))]
        label = f"data ({n} points)" if shown.shape[0] == n else f"data ({shown.shape[0]} of {n})"
        ax.scatter(shown[:, 0], shown[:, 1], s=4, alpha=0.3, color="0.4", linewidths=0,
                   label=label, rasterized=shown.shape[0] > 2000)

    gx = np.linspace(lo[0], hi[0], 200)
    gy = np.linspace(lo[1], hi[1], 200)
    grid_x, grid_y = np.meshgrid(gx, gy)
    density = _mixture_density(weights, means, covs, np.stack([grid_x, grid_y], axis=-1))
    contours: Any = levels
    if isinstance(levels, (int, np.integer)):
        # Geometric spacing: light components and the tails show, not only the peaks.
        contours = float(density.max()) * np.geomspace(_LOWEST_LEVEL, _HIGHEST_LEVEL, int(levels))
    ax.contour(grid_x, grid_y, density, levels=contours, cmap="viridis", linewidths=1.0)

    w_max = float(weights.max())
    for k, (w, mu, cov) in enumerate(zip(weights, means, covs)):
        width, height, angle = _ellipse_geometry(cov, n_sigma)
        ax.add_patch(Ellipse(
            (float(mu[0]), float(mu[1])), width, height, angle=angle, fill=False,
            edgecolor="C3", linewidth=0.5 + 2.5 * float(w) / w_max,
            alpha=0.4 + 0.6 * float(w) / w_max,
            label=f"components ({n_sigma:g}σ; width ∝ weight)" if k == 0 else None,
        ))
    ax.plot(means[:, 0], means[:, 1], ls="none", marker="+", color="C3", ms=8)

    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    k_fit = means.shape[0]
    title = f"fitted mixture, K = {k_fit}"
    if rank:
        title += "\nin normal scores of ranks (transform='rank')"
    ax.set_title(title)
    ax.legend(fontsize="small", frameon=False, loc="best")
    return ax


# ------------------------------------------------------------------ selection
_SELECTION_LABELS = {
    "cv": "held-out log-likelihood per row (higher is better)",
    "aic": "AIC (lower is better)",
    "bic": "BIC (lower is better)",
}


def _chosen_k(scores: Mapping[int, float], selection: str, threshold: float) -> int:
    """Replay the selection rule of ``GMMMI.fit`` on its recorded scores.

    K is kept when its score beats the best so far by more than ``threshold``
    (higher is better for cross-validation, lower for AIC/BIC); with
    ``threshold=0`` this is the best score.
    """
    sign = 1.0 if selection == "cv" else -1.0
    best_k: int | None = None
    best = -np.inf
    for k in sorted(scores):
        score = sign * float(scores[k])
        if best_k is None or score > best + threshold:
            best_k, best = k, score
    if best_k is None:
        raise ValueError("no selection scores to replay.")
    return int(best_k)


def plot_selection(estimator: GMMMI, *, ax: Any = None) -> Any:
    """Draw the component-selection score against K, with the chosen K marked.

    The scores are ``estimator.selection_scores_``: mean held-out
    log-likelihood per row for ``selection="cv"`` (higher is better), AIC or
    BIC otherwise (lower is better). The chosen K is the one ``fit`` kept: the
    best score, where a K counts as better only if it improves on the best so
    far by more than the estimator's ``threshold``. ``n_components_`` may be
    smaller than it if EM emptied components; the title then says so.

    Parameters
    ----------
    estimator : GMMMI
        Fitted with ``n_components="auto"``.
    ax : matplotlib Axes, optional
        Drawn on if given; otherwise a new figure is made.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        If the estimator is not fitted, or was fitted with a fixed
        ``n_components`` (no selection was run).
    """
    scores = getattr(estimator, "selection_scores_", None)
    if scores is None:
        raise ValueError(
            f"{type(estimator).__name__} instance is not fitted yet; call fit(x, y) "
            "before plot_selection()."
        )
    if not scores:
        raise ValueError(
            "no component selection was run: the estimator was fitted with a fixed "
            f"n_components={getattr(estimator, 'n_components', '?')!r}. Fit with "
            "n_components='auto' to choose K and record a score per K."
        )
    selection = getattr(estimator, "selection", "cv")
    if selection not in _SELECTION_LABELS:
        raise ValueError(
            f"unknown selection {selection!r}; expected one of {tuple(_SELECTION_LABELS)}."
        )
    threshold = float(getattr(estimator, "threshold", 0.0))
    ks = sorted(int(k) for k in scores)
    values = [float(scores[k]) for k in ks]
    chosen = _chosen_k(scores, selection, threshold)

    ax = _axes(ax)
    from matplotlib.ticker import MaxNLocator

    ax.plot(ks, values, marker="o", ms=4, color="C0", label="score per K")
    ax.axvline(chosen, color="C3", ls="--", lw=1.0)
    ax.plot([chosen], [float(scores[chosen])], ls="none", marker="*", ms=14, color="C3",
            label=f"chosen K = {chosen}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of components K")
    ax.set_ylabel(_SELECTION_LABELS[selection])
    title = f"component selection ({selection})"
    kept = getattr(estimator, "n_components_", chosen)
    if kept != chosen:
        title += f"; {kept} of {chosen} components kept by EM"
    ax.set_title(title)
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_mi_matrix(matrix: Any, *, ax: Any = None, annotate: bool = True,
                   cmap: str = "viridis", digits: int = 2) -> Any:
    """Heatmap of an MI matrix with its uncertainty written in each cell.

    Colour is the mean MI over the bootstrap draws (the point estimate if
    there are none); each cell reads ``mean ± std``. Rows are the ``x``
    variables (e.g. latents), columns the ``y`` variables (e.g. factors).

    Parameters
    ----------
    matrix : MIMatrix
        From :func:`bayes_gmm_mi.mi_matrix`.
    ax : matplotlib Axes, optional
    annotate : bool, default True
        Write ``mean ± std`` in the cells.
    cmap : str, default "viridis"
    digits : int, default 2
        Decimals of the annotations.

    Returns
    -------
    matplotlib Axes
    """
    from bayes_gmm_mi._matrix import MIMatrix

    if not isinstance(matrix, MIMatrix):
        raise TypeError(f"expected an MIMatrix from mi_matrix(); got {type(matrix).__name__}.")
    mean = matrix.mean()
    std = matrix.std() if matrix.draws.sizes["draw"] > 1 else None
    rows = [str(v) for v in mean.coords["x"].values]
    cols = [str(v) for v in mean.coords["y"].values]
    ax = _axes(ax, (1.2 + 1.1 * len(cols), 1.0 + 0.6 * len(rows)))
    image = ax.imshow(mean.values, cmap=cmap, aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=f"MI [{_UNIT_NAMES.get(matrix.units, matrix.units)}]")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    if annotate:
        top = np.nanmax(mean.values) if np.isfinite(mean.values).any() else 1.0
        for i in range(len(rows)):
            for j in range(len(cols)):
                value = mean.values[i, j]
                if not np.isfinite(value):
                    continue
                text = f"{value:.{digits}f}"
                if std is not None:
                    text += f"\n± {std.values[i, j]:.{digits}f}"
                colour = "k" if value > 0.6 * top else "w"
                ax.text(j, i, text, ha="center", va="center", fontsize="x-small", color=colour)
    ax.set_xlabel("y")
    ax.set_ylabel("x")
    return ax
