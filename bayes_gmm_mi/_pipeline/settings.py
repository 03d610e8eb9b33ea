"""Every estimator setting, validated from one declarative table.

:data:`PARAMETER_CONSTRAINTS` maps each parameter name (of :class:`~bayes_gmm_mi.GMMMI`,
which the one-call functions, :class:`~bayes_gmm_mi.GMMCategoricalMI` and
:func:`~bayes_gmm_mi.mi_matrix` share) to a constraint; :func:`validate` checks a
dict of settings against it, so every entry point refuses a bad value with the
same one-line message. The validated settings travel through the pipeline as
the NamedTuples :class:`FitSettings` and :class:`SamplerSettings`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from bayes_gmm_mi._validation import check_choice, check_float, check_int, describe

__all__ = [
    "INIT_METHODS",
    "METHODS",
    "UNITS",
    "MAX_EM_ITERATIONS",
    "PARAMETER_CONSTRAINTS",
    "FitSettings",
    "SamplerSettings",
    "validate",
    "fit_settings",
    "sampler_settings",
]

#: EM initialisations (see :func:`bayes_gmm_mi._em.initialise`).
INIT_METHODS = ("kmeans", "kmeans++", "random", "random_from_data")
#: Ways of making draws of the estimate (see :mod:`bayes_gmm_mi._pipeline.uncertainty`).
METHODS = ("bootstrap", "vi", "mcmc")
#: Output units: factor from nats.
UNITS = {"nat": 1.0, "bit": 1.0 / math.log(2.0)}

#: Most EM iterations a fit may be allowed (``max_iter``, default 10 000): a bound
#: on the work of every fit whatever the data, so that no input or setting can
#: keep EM running for hours (EM also stops at a NaN log-likelihood).
MAX_EM_ITERATIONS = 100_000


class Integer(NamedTuple):
    """An int (not a bool) ≥ ``minimum`` (and ≤ ``maximum``, with its reason)."""

    minimum: int
    maximum: int | None = None
    why: str = ""

    def check(self, value: Any, name: str) -> None:
        check_int(value, name, self.minimum)
        if self.maximum is not None and value > self.maximum:
            raise ValueError(
                f"{name} must be an integer from {self.minimum} to {self.maximum:_}; got "
                f"{value:_}. {self.why}"
            )


class Real(NamedTuple):
    """A real number in [low, high] (or (low, high] with ``low_open``)."""

    low: float
    high: float = math.inf
    low_open: bool = False

    def check(self, value: Any, name: str) -> None:
        check_float(value, name, low=self.low, high=self.high, low_open=self.low_open)


class Options(NamedTuple):
    """One of ``values`` (a close string gets a suggestion)."""

    values: tuple[Any, ...]

    def check(self, value: Any, name: str) -> None:
        check_choice(value, name, self.values)


class Flag(NamedTuple):
    """True or False."""

    def check(self, value: Any, name: str) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False; got {describe(value)}.")


class AutoOrInteger(NamedTuple):
    """``"auto"`` or an int ≥ ``minimum``."""

    minimum: int

    def check(self, value: Any, name: str) -> None:
        if value == "auto" and isinstance(value, str):
            return
        if isinstance(value, str):
            raise ValueError(f"{name} must be 'auto' or a positive int; got {value!r}.")
        check_int(value, name, self.minimum)


class Custom(NamedTuple):
    """A check function ``(value, name) -> None`` that raises on a bad value."""

    function: Callable[[Any, str], None]

    def check(self, value: Any, name: str) -> None:
        self.function(value, name)


def _random_state(value: Any, name: str) -> None:
    import numpy as np

    if value is None or isinstance(value, (np.random.Generator, np.random.RandomState)):
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {value}.")
        return
    raise TypeError(
        f"{name} must be None, a non-negative int, or a numpy Generator/RandomState; "
        f"got {describe(value)}."
    )


def _priors(value: Any, name: str) -> None:
    if value is not None:
        from bayes_gmm_mi._bayes import as_priors  # imports NumPyro: only when needed

        as_priors(value)


#: Parameter name → constraint (the whole vocabulary of the estimators' settings).
PARAMETER_CONSTRAINTS: dict[str, Any] = {
    "n_components": AutoOrInteger(1),
    "selection": Options(("cv", "aic", "bic")),
    "max_components": Integer(1),
    "n_init": Integer(1),
    "n_folds": Integer(2),
    "threshold": Real(0.0),
    "patience": Integer(1),
    "init": Options(INIT_METHODS),
    "reg_covar": Real(0.0, 1.0, low_open=True),
    "tol": Real(0.0, low_open=True),
    "max_iter": Integer(1, MAX_EM_ITERATIONS,
                        "EM that has not converged in that many iterations will not; raise tol "
                        "or look at the data (e.g. repeated values) instead."),
    "n_bootstrap": Integer(0),
    "mc_samples": Integer(100),
    "integration": Options(("mc", "quadrature")),
    "transform": Options(("auto", None, "rank")),
    "dequantise": Flag(),
    "units": Options(tuple(UNITS)),
    "random_state": Custom(_random_state),
    "progress": Flag(),
    "method": Options(METHODS),
    "num_chains": Integer(1),
    "num_warmup": Integer(1),
    "num_samples": Integer(1),
    "svi_steps": Integer(1),
    "svi_learning_rate": Real(0.0, low_open=True),
    "priors": Custom(_priors),
}


def validate(params: Mapping[str, Any]) -> None:
    """Check every entry of ``params`` against :data:`PARAMETER_CONSTRAINTS`.

    Raises
    ------
    TypeError, ValueError
        One readable line naming the parameter, what it must be and what it got.
    KeyError
        For a name missing from the table (a programming error, not user input).
    """
    for name, value in params.items():
        PARAMETER_CONSTRAINTS[name].check(value, name)


class FitSettings(NamedTuple):
    """Settings of component selection and EM (validated)."""

    n_components: int | str
    selection: str
    max_components: int
    n_init: int
    n_folds: int
    threshold: float
    patience: int
    init: str
    reg_covar: float
    tol: float
    max_iter: int


class SamplerSettings(NamedTuple):
    """Settings of the posterior samplers (validated; ``priors`` a
    :class:`~bayes_gmm_mi.model.Priors`)."""

    num_chains: int
    num_warmup: int
    num_samples: int
    svi_steps: int
    svi_learning_rate: float
    priors: Any


def fit_settings(params: Mapping[str, Any]) -> FitSettings:
    """The :class:`FitSettings` of a dict of (validated) parameters."""
    return FitSettings(*(params[name] for name in FitSettings._fields))


def sampler_settings(params: Mapping[str, Any]) -> SamplerSettings:
    """The :class:`SamplerSettings` of a dict of (validated) parameters."""
    from bayes_gmm_mi._bayes import as_priors  # NumPyro: only for the posterior methods

    values = {name: params[name] for name in SamplerSettings._fields}
    values["priors"] = as_priors(values["priors"])
    return SamplerSettings(**values)
