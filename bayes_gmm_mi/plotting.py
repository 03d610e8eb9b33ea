"""Plots of MI results (matplotlib, imported when a function is called).

Every function takes an optional matplotlib ``ax`` and returns the ``ax`` it
drew on, so plots compose into the user's own figures. Nothing here computes
anything the result objects do not already hold.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from bayes_gmm_mi._compare import _named
from bayes_gmm_mi._result import MIResult

__all__ = ["plot_mi_distributions"]

_UNIT_NAMES = {"nat": "nats", "bit": "bits"}


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.0, 3.5), layout="constrained")[1]


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
    for i, ((name, res), colour) in enumerate(zip(named, colours)):
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
