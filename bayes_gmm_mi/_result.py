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
        MI of the mixture fitted to all the data.
    draws : ndarray of shape (n_draws,)
        MI of each bootstrap replicate (or posterior draw). Empty when no
        uncertainty was requested (``n_bootstrap=0``).
    units : {"nat", "bit"}
        Units of every number in the result.
    n_components : int
        Number of mixture components used.
    method : str
        How the draws were made: ``"bootstrap"`` (or ``"vi"``/``"mcmc"``).
    mc_error : float
        Monte Carlo standard error of the point estimate's integral (0 for
        quadrature). It is integration noise, separate from the sampling
        uncertainty that ``std`` describes.
    n_samples : int
        Number of rows the estimate was computed from.
    info : dict
        Extra diagnostics (selection scores, convergence counts, timings).
    """

    point_estimate: float
    draws: np.ndarray
    units: str
    n_components: int
    method: str
    mc_error: float
    n_samples: int
    info: dict[str, Any] = field(default_factory=dict)

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
        """Central percentile interval of the draws.

        Parameters
        ----------
        prob : float, default 0.95
            Probability mass inside the interval, in (0, 1).

        Returns
        -------
        (low, high) : tuple of float
            NaN when there are no draws.
        """
        if not isinstance(prob, (int, float)) or not 0.0 < float(prob) < 1.0:
            raise ValueError(f"prob must be a number in (0, 1); got {prob!r}.")
        if self.draws.size == 0:
            return (math.nan, math.nan)
        tail = 50.0 * (1.0 - float(prob))
        low, high = np.percentile(self.draws, [tail, 100.0 - tail])
        return (float(low), float(high))

    def to_dict(self, prob: float = 0.95) -> dict[str, Any]:
        """Plain-Python summary (JSON-serialisable), without the draws."""
        low, high = self.interval(prob)
        return {
            "mi": self.mean,
            "std": self.std,
            "point_estimate": float(self.point_estimate),
            "interval": [low, high],
            "interval_prob": float(prob),
            "units": self.units,
            "n_components": int(self.n_components),
            "method": self.method,
            "n_draws": int(self.draws.size),
            "mc_error": float(self.mc_error),
            "n_samples": int(self.n_samples),
        }

    def __repr__(self) -> str:
        unit = _UNIT_NAMES.get(self.units, self.units)
        if self.draws.size >= 2:
            low, high = self.interval(0.95)
            spread = f" ± {self.std:.4f} (95% interval {low:.4f} – {high:.4f})"
        else:
            spread = ""
        return (
            f"MIResult(mi={self.mean:.4f}{spread} {unit}, method={self.method!r}, "
            f"n_draws={self.draws.size}, n_components={self.n_components}, "
            f"mc_error={self.mc_error:.1e}, n_samples={self.n_samples})"
        )
