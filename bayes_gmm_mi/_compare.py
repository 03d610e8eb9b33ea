"""Bootstrap vs VI vs MCMC in one table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from bayes_gmm_mi._result import MIResult

__all__ = ["compare"]

_COLUMNS = [
    "method", "mean", "sd", "lower", "upper", "point_estimate", "mc_error",
    "ess_bulk", "r_hat", "n_draws", "n_chains", "wall_time_s",
]


def _named(
    results: Mapping[str, MIResult] | Iterable[MIResult] | MIResult,
) -> list[tuple[str, MIResult]]:
    if isinstance(results, MIResult):
        results = [results]
    items = list(results.items()) if isinstance(results, Mapping) else [
        (r.method if isinstance(r, MIResult) else "", r) for r in results
    ]
    if not items:
        raise ValueError("compare() needs at least one MIResult; got none.")
    named: list[tuple[str, MIResult]] = []
    seen: dict[str, int] = {}
    for name, res in items:
        if not isinstance(res, MIResult):
            raise TypeError(
                f"compare() takes MIResult objects (from mutual_information or "
                f"GMMMI.estimate_mi); got {type(res).__name__} for {name!r}."
            )
        name = str(name)
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name}#{seen[name]}", res))
    return named


def compare(
    results: Mapping[str, MIResult] | Iterable[MIResult],
    *,
    prob: float = 0.95,
    interval: str = "hdi",
    truth: float | None = None,
) -> Any:
    """One row per result: the frequentist-vs-Bayesian comparison as a table.

    Parameters
    ----------
    results : MIResult, list of MIResult, or dict name → MIResult
        Results on the same data (e.g. ``method="bootstrap"``, ``"vi"`` and
        ``"mcmc"``). Rows are named by the dict keys, otherwise by each
        result's ``method`` (repeated names get ``#2``, ``#3``, ...).
    prob : float, default 0.95
        Probability mass of the interval.
    interval : {"hdi", "percentile"}, default "hdi"
        Highest-density interval (ArviZ) or central percentile interval; for a
        result of several models (``transform="auto"``), the union of the
        models' intervals.
    truth : float, optional
        The true MI, when known (same units as the results): adds ``error``
        (mean − truth) and ``covers`` (truth inside the interval).

    Returns
    -------
    pandas.DataFrame
        Indexed by name, with columns ``method``, ``mean`` (mean of the draws:
        the posterior mean, or the bootstrap mean, which is not the full-data
        ``point_estimate``), ``sd``, ``lower``, ``upper``, ``point_estimate``,
        ``mc_error``, ``ess_bulk``, ``r_hat``
        (MCMC only, NaN otherwise), ``n_draws``, ``n_chains``, ``wall_time_s``
        (seconds spent on the draws) and, with ``truth``, ``error`` and
        ``covers``. ``df.attrs`` records ``prob``, ``interval`` and ``units``.

    Raises
    ------
    ValueError
        If ``prob`` is not in (0, 1), ``interval`` is unknown, or the results
        are in different units.
    TypeError
        If an item is not an MIResult.

    Examples
    --------
    >>> import bayes_gmm_mi as bm
    >>> x, y = bm.datasets.BivariateGaussian(0.6).sample(1000, random_state=0)
    >>> est = bm.GMMMI(random_state=0).fit(x, y)
    >>> table = bm.compare([est.estimate_mi(), est.estimate_mi(method="vi")])  # doctest: +SKIP
    """
    import pandas as pd

    from bayes_gmm_mi._arviz import hdi
    from bayes_gmm_mi._validation import check_probability

    prob = check_probability(prob)
    if interval not in ("hdi", "percentile"):
        raise ValueError(f"interval must be 'hdi' or 'percentile'; got {interval!r}.")
    named = _named(results)
    units = {res.units for _, res in named}
    if len(units) > 1:
        raise ValueError(
            f"results are in different units {sorted(units)}; compute them with the same units."
        )
    rows = []
    for name, res in named:
        if res.draws.size >= 2 and interval == "hdi":
            # With several models (transform="auto"), the union of their HDIs.
            bounds = [hdi(block, prob) for block in res.draws.reshape(res.n_models, -1)]
            low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
        elif res.draws.size >= 2:
            low, high = res.interval(prob)
        else:
            low = high = math.nan
        mcmc = res.method == "mcmc"
        row: dict[str, Any] = {
            "method": res.method,
            "mean": res.mean,
            "sd": res.std,
            "lower": low,
            "upper": high,
            "point_estimate": float(res.point_estimate),
            "mc_error": float(res.mc_error),
            "ess_bulk": float(res.info.get("ess_bulk", math.nan)) if mcmc else math.nan,
            "r_hat": float(res.info.get("r_hat", math.nan)) if mcmc else math.nan,
            "n_draws": int(res.draws.size),
            "n_chains": int(res.n_chains),
            "wall_time_s": float(res.wall_time),
        }
        if truth is not None:
            row["error"] = row["mean"] - float(truth)
            row["covers"] = bool(low <= float(truth) <= high)
        rows.append((name, row))
    columns = _COLUMNS + (["error", "covers"] if truth is not None else [])
    table = pd.DataFrame([r for _, r in rows], index=[n for n, _ in rows], columns=columns)
    table.attrs.update(prob=float(prob), interval=interval, units=units.pop())
    return table
