"""The one module that knows ArviZ's objects (ArviZ 0.x API).

Everything else in the package hands numpy arrays with leading ``(chain,
draw)`` axes to the functions here, so that a move to ArviZ 1.x (which renames
much of the API and needs Python ≥ 3.12) changes this file only. ArviZ is
imported lazily: ``import bayes_gmm_mi`` does not import it.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._result import MIResult

__all__ = ["import_arviz", "to_inference_data", "chain_diagnostics", "hdi"]


def import_arviz() -> Any:
    """Import ArviZ, silencing only its announcement of the 1.x refactor.

    ArviZ 0.23 emits a ``FutureWarning`` about its coming refactor on import;
    it concerns ArviZ's own future API, not anything the user did, so exactly
    that warning is filtered (any other warning passes through).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*ArviZ is undergoing", category=FutureWarning)
        import arviz

    return arviz


def to_inference_data(result: "MIResult") -> Any:
    """Convert an :class:`~bayes_gmm_mi.MIResult` to ``arviz.InferenceData``.

    See :meth:`MIResult.to_arviz`.
    """
    if result.draws.size == 0:
        raise ValueError(
            "this result has no draws to convert (it was computed with n_bootstrap=0); "
            "rerun with n_bootstrap > 0 or method='vi'/'mcmc'."
        )
    az = import_arviz()
    posterior: dict[str, np.ndarray] = {"mi": result.chains}
    dims: dict[str, list[str]] = {"mi": []}
    if result.parameters:
        for name, value in result.parameters.items():
            value = np.asarray(value)
            posterior[name] = value
            if name == "class_frequencies":
                dims[name] = ["class"]
            else:
                dims[name] = ["component", "dim", "dim2"][: value.ndim - 2]
    sample_stats = None
    if result.sample_stats:
        sample_stats = {name: np.asarray(value) for name, value in result.sample_stats.items()}
    attrs = {
        "method": result.method,
        "units": result.units,
        "point_estimate": float(result.point_estimate),
        "mc_error": float(result.mc_error),
        "n_samples": int(result.n_samples),
        "n_components": int(result.n_components),
        "inference_library": "bayes_gmm_mi",
    }
    idata = az.from_dict(posterior=posterior, sample_stats=sample_stats, dims=dims, attrs=attrs)
    idata.posterior.attrs.update(attrs)  # also on the group, which survives extraction
    return idata


def chain_diagnostics(draws: np.ndarray) -> dict[str, float]:
    """R-hat and effective sample sizes of scalar draws of shape (chain, draw).

    Uses ArviZ's rank-normalised split R-hat and bulk/tail ESS (the numbers
    ``arviz.summary`` prints). R-hat is NaN for a single chain shorter than 4
    draws; with one chain it is the split-chain R-hat.

    Returns
    -------
    dict
        ``{"r_hat": float, "ess_bulk": float, "ess_tail": float}``.
    """
    az = import_arviz()
    draws = np.asarray(draws, np.float64)
    with warnings.catch_warnings():
        # Tiny or constant chains make ArviZ warn about its own estimates; the
        # caller turns NaN/low values into one warning of its own.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        r_hat = float(az.rhat(draws, method="rank"))
        ess_bulk = float(az.ess(draws, method="bulk"))
        ess_tail = float(az.ess(draws, method="tail"))
    return {"r_hat": r_hat, "ess_bulk": ess_bulk, "ess_tail": ess_tail}


def hdi(draws: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval of scalar draws (any shape; all are pooled)."""
    az = import_arviz()
    low, high = az.hdi(np.asarray(draws, np.float64).reshape(-1), hdi_prob=prob)
    return float(low), float(high)
