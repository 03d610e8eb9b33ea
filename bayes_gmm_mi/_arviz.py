"""The one module that knows ArviZ's objects: ArviZ 0.23 and ArviZ 1.x.

Everything else in the package hands numpy arrays with leading ``(chain,
draw)`` axes to the functions here. Two ArviZ generations are supported:

- **ArviZ 0.23** (the newest on Python 3.11): results are
  ``arviz.InferenceData``; ``arviz.from_dict(posterior=..., sample_stats=...)``;
  ``arviz.hdi(..., hdi_prob=)``.
- **ArviZ 1.x** (Python >= 3.12; split into arviz-base, arviz-stats and
  arviz-plots): results are ``xarray.DataTree``;
  ``arviz_base.from_dict({"posterior": ..., "sample_stats": ...})``;
  ``arviz_stats.hdi(..., prob=)``.

Both compute the same rank-normalised split R-hat, bulk/tail ESS and HDI, and
the functions here ask for them with the same settings, so the numbers agree.
ArviZ is imported lazily: ``import bayes_gmm_mi`` does not import it.
"""

from __future__ import annotations

import logging
import re
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._result import MIResult

__all__ = [
    "arviz_major_version",
    "group_names",
    "hdi",
    "import_arviz",
    "to_arviz",
    "to_inference_data",
]

_SHAPE_MESSAGE = re.compile(
    r"^Shape validation failed: input_shape: \((\d+), (\d+)\), "
    r"minimum_shape: \(chains=(\d+), draws=(\d+)\)"
)
_FILTER: _OneChainRhatFilter | None = None


class _OneChainRhatFilter(logging.Filter):
    """Drop ArviZ's log lines about statistics that our results cannot have.

    ArviZ 0.23 logs "Shape validation failed" (and reports NaN) when a
    statistic of ``arviz.summary`` needs more chains or draws than a variable
    has: R-hat needs 2 chains, ESS and MCSE 4 draws per chain. A bootstrap
    result is one chain of independent replicates (two with
    ``transform="auto"``: one per model), and ``n_bootstrap`` may be below 4,
    so ``arviz.summary(result.to_arviz())`` would log for a legitimate result;
    the NaN already says it. Dropped are: one chain with enough draws (R-hat of
    any one-chain run), and any shape of a result converted by
    :func:`to_arviz` in this process (``shapes``, recorded there). Every other
    ArviZ message passes, including shape messages about other data.
    """

    def __init__(self) -> None:
        super().__init__()
        self.shapes: set[tuple[int, int]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        match = _SHAPE_MESSAGE.match(record.getMessage())
        if match is None:
            return True
        chains, draws, _, min_draws = (int(g) for g in match.groups())
        one_chain = chains == 1 and draws >= min_draws
        return not (one_chain or (chains, draws) in self.shapes)


def _install_log_filter(az: ModuleType) -> _OneChainRhatFilter:
    """Attach one :class:`_OneChainRhatFilter` to ArviZ's validation loggers (once)."""
    global _FILTER
    if _FILTER is not None:
        return _FILTER
    one_chain = _OneChainRhatFilter()
    # ArviZ 1.x logs from arviz_stats' validation helper; ArviZ 0.23 from its own
    # package-level logger instance ``arviz._log`` (not registered by name).
    logging.getLogger("arviz_stats.base.stats_utils").addFilter(one_chain)
    legacy = getattr(az, "_log", None)
    if isinstance(legacy, logging.Logger):
        legacy.addFilter(one_chain)
    _FILTER = one_chain
    return one_chain


def import_arviz() -> ModuleType:
    """Import ArviZ, silencing only ArviZ 0.23's announcement of the 1.x refactor.

    ArviZ 0.23 emits a ``FutureWarning`` about its coming refactor on import (once
    a day); it concerns ArviZ's own future API, not anything the user did, so
    exactly that warning is filtered (any other warning passes through). ArviZ
    1.x imports without warnings.

    Returns
    -------
    module
        The ``arviz`` module.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(?s).*ArviZ is undergoing", category=FutureWarning
        )
        import arviz

    _install_log_filter(arviz)
    return arviz


def arviz_major_version() -> int:
    """Major version of the installed ArviZ (0 for 0.23, 1 for 1.x).

    Returns
    -------
    int
    """
    az = import_arviz()
    return int(str(az.__version__).split(".", 1)[0])


def _group_attrs(result: MIResult) -> dict[str, Any]:
    return {
        "method": result.method,
        "units": result.units,
        "point_estimate": float(result.point_estimate),
        "mc_error": float(result.mc_error),
        "n_samples": int(result.n_samples),
        "n_components": int(result.n_components),
        "inference_library": "bayes_gmm_mi",
    }


def _groups(result: MIResult) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None,
                                          dict[str, list[str]]]:
    """Posterior and sample-stats arrays with (chain, draw) axes, and the dims."""
    posterior: dict[str, np.ndarray] = {"mi": np.asarray(result.chains, np.float64)}
    dims: dict[str, list[str]] = {"mi": []}
    for name, value in (result.parameters or {}).items():
        value = np.asarray(value)
        posterior[name] = value
        if name == "class_frequencies":
            dims[name] = ["class"]
        else:
            dims[name] = ["component", "dim", "dim2"][: value.ndim - 2]
    sample_stats = None
    if result.sample_stats:
        sample_stats = {name: np.asarray(value) for name, value in result.sample_stats.items()}
    return posterior, sample_stats, dims


def to_arviz(result: MIResult) -> Any:
    """Convert an :class:`~bayes_gmm_mi.MIResult` to the installed ArviZ's container.

    See :meth:`MIResult.to_arviz`.

    Parameters
    ----------
    result : MIResult

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        ``InferenceData`` under ArviZ 0.23, ``DataTree`` under ArviZ 1.x; both have
        a ``posterior`` group (``mi`` with dims ``(chain, draw)``, the mixture
        parameters) and, for NUTS, a ``sample_stats`` group. The result's
        ``method``, ``units``, ``point_estimate``, ``mc_error``, ``n_samples``,
        ``n_components`` are attributes of every group and of the whole.

    Raises
    ------
    ValueError
        If the result has no draws.
    """
    if result.draws.size == 0:
        raise ValueError(
            "this result has no draws to convert (it was computed with n_bootstrap=0); "
            "rerun with n_bootstrap > 0 or method='vi'/'mcmc'."
        )
    az = import_arviz()
    # arviz.summary of this result must not log about its shape (see the filter).
    chains, per_chain = result.chains.shape
    _install_log_filter(az).shapes.add((int(chains), int(per_chain)))
    posterior, sample_stats, dims = _groups(result)
    attrs = _group_attrs(result)
    if arviz_major_version() >= 1:
        data: dict[str, dict[str, np.ndarray]] = {"posterior": posterior}
        if sample_stats is not None:
            data["sample_stats"] = sample_stats
        group_attrs: dict[str, dict[str, Any]] = {group: dict(attrs) for group in data}
        group_attrs["/"] = dict(attrs)
        # The dims are ours and right by construction; ArviZ's naming check only
        # warns when a run has more chains than draws, which is legitimate here.
        return az.from_dict(data, dims=dims, attrs=group_attrs, check_conventions=False)
    return az.from_dict(
        posterior=posterior,
        sample_stats=sample_stats,
        dims=dims,
        attrs=dict(attrs),
        posterior_attrs=dict(attrs),
        sample_stats_attrs=dict(attrs) if sample_stats is not None else None,
    )


#: The name this function had when only ArviZ 0.x was supported.
to_inference_data = to_arviz


def group_names(data: Any) -> list[str]:
    """Names of the groups of an ``InferenceData`` or ArviZ ``DataTree``.

    Parameters
    ----------
    data : arviz.InferenceData or xarray.DataTree

    Returns
    -------
    list of str
        E.g. ``["posterior", "sample_stats"]`` (no leading ``/``, no root).
    """
    groups = data.groups
    names = groups() if callable(groups) else groups
    return [str(name).strip("/") for name in names if str(name).strip("/")]


def hdi(draws: np.ndarray, prob: float) -> tuple[float, float]:
    """Highest-density interval of scalar draws (any shape; all are pooled).

    Parameters
    ----------
    draws : array_like
    prob : float
        Probability mass of the interval, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
    """
    az = import_arviz()
    flat = np.asarray(draws, np.float64).reshape(-1)
    if arviz_major_version() >= 1:
        low, high = az.hdi(flat, prob=prob)
    else:
        low, high = az.hdi(flat, hdi_prob=prob)
    return float(low), float(high)
