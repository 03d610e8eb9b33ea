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
    "standardise",
    "standardise_logscale",
    "seed_from",
    "describe",
    "describe_values",
    "check_array_like",
    "check_probability",
]


def describe(value: Any) -> str:
    """A short ``repr`` of a value for messages (at most 60 characters)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_values(values: Iterable[Any], shown: int = 5) -> str:
    """``'a', 'b', 'c', ... (N more)``: the first ``shown`` values of a list, for messages.

    Error messages never list every value of a long list (a continuous variable
    passed as labels has thousands); each value is shortened by :func:`describe`.
    """
    values = list(values)
    text = ", ".join(describe(v) for v in values[:shown])
    if len(values) > shown:
        text += f", … ({len(values) - shown} more)"
    return text


def check_array_like(value: Any, name: str, kind: str = "numbers",
                     shapes: str = "(n,) or (n, d)") -> None:
    """Refuse what cannot be a table of numbers, before ``np.asarray`` hides it.

    ``None``, dicts, sets, strings, generators and iterators, scipy sparse
    matrices and single numbers would otherwise become a 0-d array (shape ``()``)
    or an array of objects, and fail later with a message about the wrong thing.

    Parameters
    ----------
    value : object
    name : str
        The argument, for the message.
    kind, shapes : str
        What the array holds and its shapes, for the message.

    Raises
    ------
    TypeError
        Naming ``name``, what was expected and the type received.
    """
    from collections.abc import Iterator, Mapping
    from collections.abc import Set as AbstractSet

    expected = (f"{name} must be an array-like of {kind} of shape {shapes} (a list, numpy "
                "array or pandas Series/DataFrame)")
    received = type(value).__name__
    module = type(value).__module__ or ""
    if module.startswith("scipy.sparse") or (hasattr(value, "toarray") and hasattr(value, "nnz")):
        raise TypeError(f"{expected}; got a scipy sparse matrix ({received}). Pass "
                        f"{name}.toarray() (the estimator needs every value).")
    if value is None:
        raise TypeError(f"{expected}; got None.")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{expected}; got a string ({describe(value)}). Pass the values, "
                        "not a name or a path.")
    if isinstance(value, Mapping):
        raise TypeError(f"{expected}; got a {received}. Pass its values, e.g. "
                        f"np.asarray(list({name}.values())), or a pandas DataFrame.")
    if isinstance(value, AbstractSet):
        raise TypeError(f"{expected}; got a {received}, which has no order, so its rows cannot "
                        "be paired with another variable's. Pass a list or an array.")
    if isinstance(value, Iterator):
        raise TypeError(f"{expected}; got a {received}, an iterator that can be read only "
                        f"once. Pass list({name}) (or np.fromiter({name}, dtype=float)).")
    if isinstance(value, numbers.Number) or (isinstance(value, (np.ndarray, np.generic))
                                             and np.ndim(value) == 0):
        raise TypeError(f"{expected}; got a single number ({describe(value)}, {received}).")
    if not (hasattr(value, "__len__") or hasattr(value, "__array__")):
        raise TypeError(f"{expected}; got an object of type {received} ({describe(value)}).")


def check_probability(value: Any, name: str = "prob") -> float:
    """Return ``value`` as float if it is a real number strictly inside (0, 1).

    Any real number type is accepted (Python, numpy ``float32``/``float64``, ...),
    not booleans.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), e.g. 0.95; got "
                        f"{describe(value)} ({type(value).__name__}).")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}. E.g. 0.95 for a "
                         "95% interval.")
    return v


def _row_vector_message(name: str, shape: tuple[int, ...]) -> str:
    return (f"{name} has shape {shape}: one row of {shape[1]} columns; did you mean a column "
            f"of {shape[1]} values, shape ({shape[1]},)? Pass {name}.ravel() (one variable) or "
            f"{name}.T (rows as samples).")


def as_variable(value: Any, name: str) -> np.ndarray:
    """Convert one continuous variable to a float64 array of shape (n,).

    Accepts lists, numpy arrays, pandas Series and one-column DataFrames, of shape
    (n,) or (n, 1). Raises ``TypeError`` for non-numeric data and ``ValueError``
    for a wrong shape, NaN/inf values or a constant variable.
    """
    check_array_like(value, name)
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        value = value.to_numpy()
    arr = np.asarray(value)
    # x and y of mutual_information have a class path: name its flag.
    classes = (f" If {name} holds classes, pass discrete_{name}=True to mutual_information."
               if name in ("x", "y") else "")
    if arr.dtype == bool:
        raise TypeError(
            f"{name} must be a continuous numeric variable; got boolean values.{classes}"
        )
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype} "
            f"(first value {describe(arr.flat[0]) if arr.size else 'none'}).{classes} "
            "Otherwise convert it with np.asarray(..., dtype=float) or drop non-numeric rows."
        )
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.shape[0] == 1 and arr.shape[1] > 1:
        raise ValueError(_row_vector_message(name, arr.shape))
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


#: Most columns (all variables together) the mixture kernels accept. The reason
#: is statistical, not the kernels (``_linalg`` switches from unrolled to looped
#: algebra above a few dimensions): a full-covariance component in D dimensions
#: has D(D+3)/2 + 1 parameters, 561 at D = 32, and needs about 5 rows for each
#: (2805 rows per component); beyond that, ordinary data sets support no mixture
#: at all.
MAX_DIMENSIONS = 32


def as_block(value: Any, name: str) -> np.ndarray:
    """Convert one (possibly multivariate) continuous variable to float64 of shape (n, d).

    Accepts what :func:`as_variable` accepts plus 2-D arrays and DataFrames of
    several columns; each column is checked (numeric, finite, not constant).
    A single row of several columns, shape (1, n), is refused as the likely
    mistake it is (a row vector where a column was meant).
    """
    check_array_like(value, name)
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
        value = value.to_numpy()
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[0] == 1 and arr.shape[1] > 1:
        raise ValueError(_row_vector_message(name, arr.shape))
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
    """Refuse unknown keyword options, suggesting the closest valid name.

    ``valid`` should hold *every* name the caller takes (its explicit keywords
    too), so that a typo of any of them gets its suggestion; without a close
    name the message lists them all.
    """
    valid = sorted(valid)
    for key in options:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            if close:  # the likely typo: the suggestion is the message
                raise TypeError(f"{where} got an unknown option {key!r}. Did you mean "
                                f"{close[0]!r}?")
            raise TypeError(
                f"{where} got an unknown option {key!r}. Valid options: {', '.join(valid)}."
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


def standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale each column; returns (scaled, loc, scale).

    Overflow-free at any scale of the data (see :func:`standardise_logscale`).
    """
    scaled, loc, scale, _ = standardise_logscale(values)
    return scaled, loc, scale


def standardise_logscale(values: np.ndarray,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale each column, at any scale of the data; also ``log(scale)``.

    Each column is first divided by the power of two nearest above its largest
    absolute value (exact in floating point), so that the mean and the squares
    of the variance are computed on numbers in [-1, 1]: data of order 1e300
    (whose squares overflow) or 1e-300 (whose squares underflow) standardise
    like data of order 1, and, the division being exact, data of ordinary
    scale give the same numbers bit for bit as a plain ``(x - mean) / std``.

    Parameters
    ----------
    values : ndarray of shape (n, d)
        Finite values.

    Returns
    -------
    scaled : ndarray (n, d)
    loc, scale : ndarray (d,)
        ``scaled = (values - loc) / scale``.
    log_scale : ndarray (d,)
        ``log(scale)``, computed in logs: finite even where ``scale`` itself
        would not be representable (the Jacobian of an entropy).

    Raises
    ------
    ValueError
        If a column's spread is 0 or not finite after the rescaling (constant,
        or values too close together, or too large or small, for float64).
    """
    values = np.asarray(values, np.float64)
    peak = np.max(np.abs(values), axis=0)
    _, exponent = np.frexp(np.where(peak > 0, peak, 1.0))
    power = np.ldexp(1.0, exponent)                     # 2**e ≥ peak, exact division
    unit = values / power
    loc_unit = unit.mean(axis=0)
    scale_unit = unit.std(axis=0)
    loc, scale = loc_unit * power, scale_unit * power
    bad = ~(np.isfinite(scale_unit) & (scale_unit > 0) & np.isfinite(scale) & (scale > 0)
            & np.isfinite(loc))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"column {j} of the data cannot be standardised: its standard deviation is "
            f"{float(scale[j])!r} (largest |value| {float(peak[j])!r}), not a positive finite "
            "float64. The column is constant, or its values are too close together or too "
            "extreme for float64; rescale it (e.g. subtract its median, multiply by a "
            "constant) or drop it."
        )
    log_scale = np.log(scale_unit) + exponent * np.log(2.0)
    return (unit - loc_unit) / scale_unit, loc, scale, log_scale


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
