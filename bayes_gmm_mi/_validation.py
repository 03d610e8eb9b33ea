"""Input checks and preprocessing shared by every entry point."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "MAX_DIMENSIONS",
    "as_variable",
    "as_block",
    "check_same_rows",
    "warn_if_duplicated",
    "check_choice",
    "check_int",
    "check_float",
    "check_options",
    "gaussianise_ranks",
    "warn_if_discrete",
    "standardise",
    "seed_from",
    "describe",
]


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_variable(value: Any, name: str) -> np.ndarray:
    """Convert one continuous variable to a float64 array of shape (n,).

    Accepts lists, numpy arrays, pandas Series and one-column DataFrames, of shape
    (n,) or (n, 1). Raises ``TypeError`` for non-numeric data and ``ValueError``
    for a wrong shape, NaN/inf values or a constant variable.
    """
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.dtype == bool:
        raise TypeError(
            f"{name} must be a continuous numeric variable; got boolean values. "
            "Convert to float if you mean a continuous variable."
        )
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype} "
            f"(first value {describe(arr.flat[0]) if arr.size else 'none'}). "
            "Convert it with np.asarray(..., dtype=float) or drop non-numeric rows."
        )
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one variable of shape (n,) or (n, 1); got shape {arr.shape}. "
            "Pass one column at a time (multivariate MI is not what this call computes)."
        )
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must be finite; it has {int(bad.sum())} NaN or infinite value(s), "
            f"the first at row {first} ({arr[first]}). Drop or impute those rows first."
        )
    if arr.size and np.ptp(arr) == 0.0:
        raise ValueError(
            f"{name} is constant (every value is {float(arr[0])!r}); MI with a constant is 0 "
            "and a mixture cannot be fitted to it."
        )
    return arr


#: Most columns (all variables together) the mixture kernels accept. The kernels
#: unroll the D x D linear algebra, so compile time grows quickly with D, and a
#: full-covariance mixture needs many rows per component in high dimension.
MAX_DIMENSIONS = 8


def as_block(value: Any, name: str) -> np.ndarray:
    """Convert one (possibly multivariate) continuous variable to float64 of shape (n, d).

    Accepts what :func:`as_variable` accepts plus 2-D arrays and DataFrames of
    several columns; each column is checked (numeric, finite, not constant).
    """
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        return as_variable(arr, name)[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n,) or (n, d); got an array of shape {arr.shape}."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {arr.shape}).")
    return np.column_stack([
        as_variable(arr[:, j], f"{name}[:, {j}]") for j in range(arr.shape[1])
    ])


def check_same_rows(blocks: list[np.ndarray], names: Iterable[str]) -> None:
    """Every block must have the same number of rows."""
    names = list(names)
    counts = [b.shape[0] for b in blocks]
    if len(set(counts)) > 1:
        listing = ", ".join(f"{nm}: {c}" for nm, c in zip(names, counts))
        raise ValueError(
            f"the variables must have the same number of rows (paired samples); got {listing}."
        )


def warn_if_duplicated(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Warn when a column of ``a`` is (almost) a linear copy of a column of ``b``."""
    import warnings

    from bayes_gmm_mi.exceptions import DegenerateComponentWarning

    ca = (a - a.mean(0)) / a.std(0)
    cb = (b - b.mean(0)) / b.std(0)
    corr = np.abs(ca.T @ cb) / a.shape[0]
    if np.any(corr > 0.999):
        i, j = np.unravel_index(int(np.argmax(corr)), corr.shape)
        warnings.warn(
            f"column {i} of {name_a} and column {j} of {name_b} are (almost) linearly "
            f"identical (|correlation| = {corr[i, j]:.4f}): conditioning on {name_b} then "
            f"leaves {name_a} (nearly) no freedom, the joint density is degenerate and the "
            "estimate rests on reg_covar. The exact conditional MI is 0 in that case.",
            DegenerateComponentWarning,
            stacklevel=4,
        )


def check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as int if it is an integer ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer ≥ {minimum}; got {describe(value)}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}; got {value}.")
    return int(value)


def check_float(value: Any, name: str, *, low: float, high: float = np.inf,
                low_open: bool = False) -> float:
    """Return ``value`` as float if it is a real number in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {describe(value)}.")
    v = float(value)
    below = v <= low if low_open else v < low
    if not np.isfinite(v) or below or v > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low}, {high}]; got {value}.")
    return v


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise a ValueError that lists them."""
    choices = tuple(choices)
    if value in choices:
        return value
    hint = ""
    if isinstance(value, str):
        names = [c for c in choices if isinstance(c, str)]
        close = [c for c in names if c.lower() == value.lower()]
        close = close or difflib.get_close_matches(value, names, n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    raise ValueError(f"{name} must be one of {choices}; got {describe(value)}.{hint}")


def check_options(options: dict[str, Any], valid: Iterable[str], where: str) -> None:
    """Refuse unknown keyword options, suggesting the closest valid name."""
    valid = sorted(valid)
    for key in options:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{where} got an unknown option {key!r}.{hint} Valid options: {', '.join(valid)}."
            )


#: Seed of the tie-breaking keys of :func:`gaussianise_ranks` (fixed: the same
#: data always get the same normal scores, whatever ``random_state``).
TIE_BREAK_SEED = 20_141


def gaussianise_ranks(values: np.ndarray) -> np.ndarray:
    """Map each column to standard-normal scores of its ranks, ``Φ⁻¹((rank − ½) / n)``.

    An invertible, monotone map of each variable: MI is unchanged, heavy tails and
    the hard edges of each marginal are tamed (edges of the joint density remain).
    Tied values get distinct ranks in a random order drawn from a fixed seed
    (:data:`TIE_BREAK_SEED`), independently per column: a deterministic jitter, so
    that ties do not become point masses that a mixture collapses onto (average
    ranks would), and no order of the rows leaks into the scores. Without ties
    the ranks are the ordinary ones.
    """
    from scipy.special import ndtri  # imported here: scipy.stats is slow to import

    n, d = values.shape
    keys = np.random.default_rng(TIE_BREAK_SEED).random((n, d))
    ranks = np.empty((n, d))
    for j in range(d):
        order = np.lexsort((keys[:, j], values[:, j]))
        ranks[order, j] = np.arange(1, n + 1)
    return ndtri((ranks - 0.5) / n)


def warn_if_discrete(block: np.ndarray, name: str) -> None:
    """Warn when a column of a continuous variable holds few distinct values.

    The rule: at most half as many distinct values as rows (each value repeated
    twice on average) — counts, Likert scales, labels passed as numbers. A
    mixture *density* does not describe such data: its MI is set by how tightly
    components can collapse onto the values (``reg_covar``), not by the data.
    """
    from bayes_gmm_mi._warnings import warn
    from bayes_gmm_mi.exceptions import MisspecificationWarning

    n = block.shape[0]
    for j in range(block.shape[1]):
        distinct = len(np.unique(block[:, j]))
        if distinct <= n // 2:
            where = name if block.shape[1] == 1 else f"column {j} of {name}"
            warn(
                f"{where} has {distinct} distinct values in {n} rows: it looks discrete, and "
                "a Gaussian mixture density does not describe discrete values (the MI is set "
                "by how tightly components collapse onto them, not by the data). For a "
                "categorical variable use discrete_y=True (or mi_matrix(categorical=...)); "
                "for counts or scales, treat the values as classes or add noise of the "
                "rounding width (dequantise) and say so.",
                MisspecificationWarning,
            )
            return


def standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale each column; returns (scaled, loc, scale)."""
    loc = values.mean(axis=0)
    scale = values.std(axis=0)
    return (values - loc) / scale, loc, scale


def seed_from(random_state: Any) -> int:
    """A 32-bit seed for JAX from None, an int, or a numpy Generator/RandomState.

    ``None`` draws fresh entropy from the operating system.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32, dtype=np.uint64))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32, dtype=np.uint64))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer; got {random_state}.")
        return int(np.random.SeedSequence(int(random_state)).generate_state(1)[0])
    raise TypeError(
        "random_state must be None, a non-negative int, or a numpy Generator/RandomState; "
        f"got {describe(random_state)}."
    )
