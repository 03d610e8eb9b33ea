"""Argument checks and the random generator shared by the data-set modules.

Private: :mod:`bayes_gmm_mi._bivariate`, :mod:`bayes_gmm_mi._tasks` and
:mod:`bayes_gmm_mi._procedural` use these; nothing here imports another module
of the package, so the data-set modules form no import cycle.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def _rng(random_state: None | int | np.random.Generator) -> np.random.Generator:
    """Return a ``np.random.Generator`` for ``random_state``.

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator
        ``None`` gives fresh OS entropy, an int seeds a new generator, and a
        Generator is returned unchanged (so successive calls advance it).

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int or a numpy.random.Generator; "
            f"got {random_state!r} of type {type(random_state).__name__}."
        )
    if random_state < 0:
        raise ValueError(
            f"random_state must be a non-negative int; got {random_state}. "
            "Pass a seed >= 0 (or None, or a numpy.random.Generator)."
        )
    return np.random.default_rng(int(random_state))


def _check_n(n: Any) -> int:
    """Validate a sample size: a positive int (bool and float are rejected)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(
            f"n must be a positive int; got {n!r} of type {type(n).__name__}. "
            "Pass a whole number such as n=1000."
        )
    if n < 1:
        raise ValueError(f"n must be a positive int (n >= 1); got {n}.")
    return int(n)


def _check_real(name: str, value: Any) -> float:
    """Validate that ``value`` is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type "
            f"{type(value).__name__}."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    return value


def _check_positive(name: str, value: Any) -> float:
    """Validate that ``value`` is a finite real number > 0."""
    value = _check_real(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value}. Pass a positive number.")
    return value


def _check_bool(name: str, value: Any) -> bool:
    """Validate a boolean flag (numpy bools accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be True or False; got {value!r} of type "
            f"{type(value).__name__}."
        )
    return bool(value)


def _check_rho(rho: Any) -> float:
    rho = _check_real("rho", rho)
    if not -1.0 < rho < 1.0:
        raise ValueError(
            f"rho must be in (-1, 1); got {rho}. A correlation of exactly +-1 "
            "has infinite mutual information; use e.g. rho=0.99."
        )
    return rho



def _check_unit_interval(name: str, value: Any) -> float:
    """Validate a real number strictly inside (0, 1)."""
    value = _check_real(name, value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1); got {value}.")
    return value


def _check_int(name: str, value: Any, minimum: int) -> int:
    """Validate an int >= ``minimum`` (bool and float are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int >= {minimum}; got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value}.")
    return int(value)


def _check_reals(
    name: str, values: Any, *, positive: bool = False, allow_empty: bool = False
) -> tuple[float, ...]:
    """Validate a non-empty sequence of finite reals; returns a tuple."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{name} must be a sequence of real numbers; got {values!r} of type "
            f"{type(values).__name__}."
        )
    check = _check_positive if positive else _check_real
    out = tuple(check(f"{name}[{i}]", v) for i, v in enumerate(values))
    if not out and not allow_empty:
        raise ValueError(f"{name} must not be empty.")
    return out
