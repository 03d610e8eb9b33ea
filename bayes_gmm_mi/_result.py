"""The result object shared by every MI method."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MIResult"]

_UNIT_NAMES = {"nat": "nats", "bit": "bits"}


@dataclass(frozen=True, repr=False)
class MIResult:
    """Mutual information estimate with its uncertainty.

    Attributes
    ----------
    point_estimate : float
        MI of the mixture fitted to all the data by EM (the maximum-likelihood
        fit), whatever the method of the draws.
    draws : ndarray of shape (n_draws,)
        MI of each bootstrap replicate or posterior draw, chain after chain
        (``n_draws = n_chains * draws per chain``; :attr:`chains` gives them as
        ``(chain, draw)``). Empty when no uncertainty was requested
        (``n_bootstrap=0``). For ``"vi"``/``"mcmc"`` the posterior draws are
        shifted so that their median is the EM fit's MI (the posterior's
        spread, centred on the maximum-likelihood value: the posterior mean of
        MI is pulled low by the curvature of MI in the parameters;
        ``docs/validation.md`` §9); ``info["posterior_draws"]`` holds them
        unshifted and ``info["centring_shift"]`` the shift. With two
        representations (``transform="auto"``) the first half of the draws
        (chains) is the data-coordinates model's, the second the normal scores'.
    units : {"nat", "bit"}
        Units of every number in the result.
    n_components : int
        Number of mixture components used.
    method : str
        How the draws were made: ``"bootstrap"`` (refits of resampled data),
        ``"vi"`` (variational posterior) or ``"mcmc"`` (NUTS posterior).
    mc_error : float
        Monte Carlo standard error of the MI integral (0 for quadrature): of the
        point estimate for ``"bootstrap"``, the mean over draws of each draw's
        error for ``"vi"``/``"mcmc"``. It is integration noise, separate from
        the sampling or posterior uncertainty that ``std`` describes; because
        every draw is integrated with the same base samples (common random
        numbers) it shifts the draws together rather than widening them.
    n_samples : int
        Number of rows the estimate was computed from.
    info : dict
        Extra diagnostics (selection scores, convergence counts, timings and,
        for ``"mcmc"``, ``r_hat``, ``ess_bulk``, ``ess_tail``, ``divergences``).
    n_chains : int, default 1
        Number of independent chains in ``draws`` (4 for ``"mcmc"`` by default,
        1 for a bootstrap or a variational posterior).
    parameters : dict of ndarray or None
        Posterior draws of the mixture's sample sites (``"weights"`` (chain,
        draw, K), ``"means"`` (chain, draw, K, D), ``"scales"`` and
        ``"corr_chol"``), on the standardised scale the model is fitted on
        (see :mod:`bayes_gmm_mi.model`); None for the bootstrap.
    sample_stats : dict of ndarray or None
        Sampler statistics with (chain, draw) axes: ``"diverging"``,
        ``"tree_depth"``, ``"n_steps"`` for NUTS; None otherwise.
    quantity : str, default "mi"
        What was estimated: ``"mi"`` I(X;Y), ``"cmi"`` I(X;Y|Z), ``"entropy"``
        H(X), ``"kl"`` KL(p_X ‖ p_Y) or ``"kl_reverse"`` KL(p_Y ‖ p_X). The
        attribute names say "MI" for all of them.
    n_models : int, default 1
        Models whose draws make the result, one block of chains each: 3 for
        the MI or conditional MI of ``transform="auto"`` with a selected K
        (data coordinates, normal scores, then the data coordinates' draws
        moved to the MI of their fit at a larger K, ``info["larger_k"]``), 2
        with a fixed ``n_components`` and for a KL divergence; the intervals
        are then the union of the models' intervals.
    wall_time : float
        Seconds spent making the draws (for ``"bootstrap"`` the refits, for the
        posterior methods sampling plus integration), excluding the EM fit;
        ``info["fit_time_s"]`` holds that.
    """

    point_estimate: float
    draws: np.ndarray
    units: str
    n_components: int
    method: str
    mc_error: float
    n_samples: int
    info: dict[str, Any] = field(default_factory=dict)
    n_chains: int = 1
    parameters: dict[str, np.ndarray] | None = None
    sample_stats: dict[str, np.ndarray] | None = None
    wall_time: float = math.nan
    quantity: str = "mi"
    n_models: int = 1

    def __post_init__(self) -> None:
        draws = np.asarray(self.draws, np.float64).reshape(-1)
        object.__setattr__(self, "draws", draws)
        if self.n_chains < 1 or (draws.size and draws.size % self.n_chains):
            raise ValueError(
                f"draws ({draws.size}) must split into n_chains={self.n_chains} equal chains."
            )
        if self.n_models < 1 or self.n_chains % self.n_models:
            raise ValueError(
                f"n_chains={self.n_chains} must split into n_models={self.n_models} equal "
                "blocks of chains (one per model)."
            )

    @property
    def chains(self) -> np.ndarray:
        """The draws as an array of shape (n_chains, draws per chain)."""
        return self.draws.reshape(self.n_chains, -1)

    @property
    def mean(self) -> float:
        """Mean of the draws, or the point estimate when there are none."""
        if self.draws.size == 0:
            return float(self.point_estimate)
        return float(np.mean(self.draws))

    @property
    def std(self) -> float:
        """Standard deviation of the draws (NaN when there are none)."""
        if self.draws.size < 2:
            return math.nan
        return float(np.std(self.draws, ddof=1))

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Central percentile interval of the draws; with several models, their union.

        With ``n_models > 1`` (``transform="auto"``) it is the smallest interval
        that holds every model's central interval (the draws are the models'
        blocks of chains, one after the other).

        Parameters
        ----------
        prob : float, default 0.95
            Probability mass inside the interval, in (0, 1).

        Returns
        -------
        (low, high) : tuple of float
            NaN when there are no draws.
        """
        from bayes_gmm_mi._validation import check_probability

        prob = check_probability(prob)   # any real type: numpy float32 too
        if self.draws.size == 0:
            return (math.nan, math.nan)
        from bayes_gmm_mi._pipeline.models import union_interval

        low, high = union_interval(self.draws, self.n_models, float(prob))
        return (float(low), float(high))

    def to_arviz(self) -> Any:
        """The draws in the installed ArviZ's container.

        ArviZ 0.23 (Python 3.11) gets an ``arviz.InferenceData``, ArviZ 1.x
        (Python >= 3.12) an ``xarray.DataTree``; both have the same groups,
        variables and attributes. The ``posterior`` group holds ``mi`` with dims
        ``(chain, draw)`` and, for ``"vi"``/``"mcmc"``, the mixture's sample sites
        (standardised scale; their labels can switch between components, which
        does not affect the MI); NUTS adds a ``sample_stats`` group
        (``diverging``, ``tree_depth``, ``n_steps``). The result's ``method``,
        ``units``, ``point_estimate``, ``mc_error``, ``n_samples`` and
        ``n_components`` are attributes of each group. A bootstrap result becomes
        one chain of B draws, so ``arviz.summary`` (R-hat NaN: one chain) and
        ArviZ's posterior plots work for every method.

        Returns
        -------
        arviz.InferenceData or xarray.DataTree

        Raises
        ------
        ValueError
            If the result has no draws (``n_bootstrap=0``).
        """
        from bayes_gmm_mi._arviz import to_arviz

        return to_arviz(self)

    def to_dict(self, prob: float = 0.95) -> dict[str, Any]:
        """Plain-Python summary (JSON-serialisable), without the draws."""
        low, high = self.interval(prob)
        extra: dict[str, Any] = {
            key: float(self.info[key])
            for key in ("r_hat", "ess_bulk", "ess_tail")
            if key in self.info
        }
        if "divergences" in self.info:
            extra["divergences"] = int(self.info["divergences"])
        return {
            "mi": self.mean,
            "std": self.std,
            "point_estimate": float(self.point_estimate),
            "interval": [low, high],
            "interval_prob": float(prob),
            "units": self.units,
            "n_components": int(self.n_components),
            "method": self.method,
            "quantity": self.quantity,
            "n_draws": int(self.draws.size),
            "mc_error": float(self.mc_error),
            "n_samples": int(self.n_samples),
            "n_chains": int(self.n_chains),
            "wall_time_s": float(self.wall_time),
            **extra,
        }

    def __repr__(self) -> str:
        unit = _UNIT_NAMES.get(self.units, self.units)
        if self.draws.size >= 2:
            low, high = self.interval(0.95)
            spread = f" ± {self.std:.4f} (95% interval {low:.4f} – {high:.4f})"
        else:
            spread = ""
        return (
            f"MIResult({self.quantity}={self.mean:.4f}{spread} {unit}, method={self.method!r}, "
            f"n_draws={self.draws.size}, n_components={self.n_components}, "
            f"mc_error={self.mc_error:.1e}, n_samples={self.n_samples})"
        )
