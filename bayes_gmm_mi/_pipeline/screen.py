"""Stage 1 (prepare), screening: data that a Gaussian mixture density cannot describe.

Every entry point passes its variables through these checks before anything is
fitted, so that awkward data are refused or warned about, never answered
silently (``docs/validation.md`` and the README's section "Data the estimator
cannot handle, and what it does"):

* :func:`align_rows` — pandas inputs are paired by their index, not by
  position; masked rows (``numpy.ma``) are dropped pairwise, with a warning.
* :func:`check_continuous` — a column with at most :data:`MAX_DISTINCT_FRACTION`
  × n distinct values is *discrete* (counts, Likert scales, labels passed as
  numbers): a mixture density collapses onto its values and its MI is set by
  ``reg_covar``, not by the data. It is refused with advice, or dequantised when
  asked (:func:`dequantise`). Rows repeated whole (copies of the same record) are
  reported instead: they make the error bars too small.
* :func:`check_fixed_components` — a fixed ``n_components`` with too few rows per
  parameter overfits; warned.
* :func:`check_degenerate` — a fitted component whose covariance reaches the
  ``reg_covar`` floor: the variables are (nearly) deterministic functions of
  each other, and the estimate is a bound set by the regularisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import DegenerateComponentWarning, MisspecificationWarning

__all__ = [
    "MAX_DISTINCT_FRACTION",
    "WHOLE_ROW_FRACTION",
    "MAX_COPIES_PER_ROW",
    "DUPLICATE_ROWS_WARN",
    "ROWS_PER_PARAMETER",
    "DEGENERATE_FACTOR",
    "DEQUANTISE_SEED",
    "POINT_MASS_FRACTION",
    "POINT_MASS_MIN_ROWS",
    "point_masses",
    "align_rows",
    "Ties",
    "ties",
    "discrete_message",
    "check_continuous",
    "dequantise",
    "check_fixed_components",
    "check_degenerate",
    "flat_eigenvalues",
    "point_mass_message",
]

#: A column with at most this fraction of distinct values (each value repeated
#: twice on average) is discrete.
MAX_DISTINCT_FRACTION = 0.5
#: Ties in a column are *explained by whole repeated rows* when the column has at
#: least this fraction as many distinct values as the data have distinct rows.
WHOLE_ROW_FRACTION = 0.9
#: ... and when the distinct rows are repeated at most this many times on average
#: (duplicated records); more copies than that make a discrete variable (e.g. an
#: integer x and y = 2x + 1: five distinct rows, 200 copies each).
MAX_COPIES_PER_ROW = 20
#: Warn when more than this fraction of the rows repeat another row exactly.
DUPLICATE_ROWS_WARN = 0.01
#: A fixed number of components needs at least this many rows per parameter.
ROWS_PER_PARAMETER = 5
#: A component is degenerate when an eigenvalue of its covariance (standardised
#: data) is within this factor of ``reg_covar``.
DEGENERATE_FACTOR = 10.0
#: A continuous column has a *point mass* when one value is held by at least
#: this fraction of the rows (and :data:`POINT_MASS_MIN_ROWS`): zero-inflated
#: data, a detection limit, a clipped sensor.
POINT_MASS_FRACTION = 0.02
POINT_MASS_MIN_ROWS = 10
#: Seed of the uniform noise of :func:`dequantise` (fixed: the same data always
#: get the same dequantised values, whatever ``random_state``).
DEQUANTISE_SEED = 70_319


# --------------------------------------------------------------------- rows
def _is_pandas(value: Any) -> bool:
    return hasattr(value, "index") and hasattr(value, "to_numpy") and hasattr(value, "reindex")


def align_rows(values: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """Pair the rows of several inputs: by index for pandas, dropping masked rows.

    Parameters
    ----------
    values : sequence of array-like
        The variables of one call (``None`` entries are passed through).
    names : sequence of str
        Their argument names, for messages.

    Returns
    -------
    list
        The inputs, pandas objects reindexed to the first pandas input's order
        when their indexes hold the same labels in another order, masked arrays
        replaced by plain arrays without the rows masked in any input.

    Raises
    ------
    ValueError
        If pandas inputs have indexes with different labels (or duplicate labels
        in a different order): pairing them by position would be silently wrong.

    Warns
    -----
    UserWarning
        A pandas input whose index is out of order given with a plain array:
        they are paired by position, which the index suggests is not meant.
    """
    out = list(values)
    frames = [i for i, v in enumerate(out) if v is not None and _is_pandas(v)]
    if len(frames) > 1:
        first = out[frames[0]].index
        for i in frames[1:]:
            index = out[i].index
            if index.equals(first):
                continue
            a, b = names[frames[0]], names[i]
            same = (len(index) == len(first) and index.is_unique and first.is_unique
                    and index.sort_values().equals(first.sort_values()))
            if not same:
                common = len(first.intersection(index)) if first.is_unique and index.is_unique \
                    else "?"
                raise ValueError(
                    f"{a} and {b} are pandas objects whose indexes do not match ({a}: "
                    f"{len(first)} labels, {b}: {len(index)} labels, {common} in common"
                    f"{'' if first.is_unique and index.is_unique else ', with duplicates'}); "
                    "rows are paired by index. Align them first (e.g. "
                    f"{a}, {b} = {a}.align({b}, join='inner')) or pass .to_numpy() to pair "
                    "rows by position."
                )
            out[i] = out[i].reindex(first)
    plain = [i for i, v in enumerate(out)
             if v is not None and not _is_pandas(v) and np.ndim(v) > 0]
    if frames and plain:
        index = out[frames[0]].index
        if not index.is_monotonic_increasing:
            a, b = names[frames[0]], names[plain[0]]
            warn(f"{a} is a pandas object whose index is not in order (rows reordered, e.g. by "
                 f".sample or a sort) and {b} is a plain array: the rows are paired by "
                 f"position, not by {a}'s index. Pass {b} as a pandas object with the same "
                 f"index to pair by label, or {a}.to_numpy() if position is right.",
                 UserWarning)
    masked = [i for i, v in enumerate(out) if isinstance(v, np.ma.MaskedArray)]
    if masked:
        n = len(out[masked[0]])
        if any(np.ndim(v) and len(v) != n for v in out if v is not None):
            return out  # row counts differ: the shape check names the problem
        drop = np.zeros(n, bool)
        for i in masked:
            drop |= np.ma.getmaskarray(out[i]).reshape(n, -1).any(axis=1)
        keep = ~drop
        if not keep.any():
            which = " or ".join(names[i] for i in masked)
            raise ValueError(f"every one of the {n} rows is masked in {which}: no rows are left "
                             "to estimate from.")
        for i, v in enumerate(out):
            if v is None:
                continue
            if isinstance(v, np.ma.MaskedArray):
                out[i] = np.asarray(v.data)[keep]
            elif drop.any():
                if _is_pandas(v):
                    v = v.to_numpy()
                arr = np.asarray(v)
                out[i] = arr[keep] if arr.ndim and arr.shape[0] == n else arr
        if drop.any():
            which = " or ".join(names[i] for i in masked)
            warn(f"dropped {int(drop.sum())} of {n} rows masked in {which} (pairwise deletion: "
                 f"a row is dropped from every variable); {int(keep.sum())} rows remain.",
                 UserWarning)
    return out


# --------------------------------------------------------------------- ties
class Ties(NamedTuple):
    """Ties of one column: ``distinct`` values in ``n`` rows, the commonest ``top``
    held by ``top_count`` rows."""

    label: str
    distinct: int
    n: int
    top: float
    top_count: int

    @property
    def discrete(self) -> bool:
        return self.distinct <= MAX_DISTINCT_FRACTION * self.n


def ties(block: np.ndarray, name: str) -> list[Ties]:
    """The :class:`Ties` of every column of ``block`` (n, d)."""
    out = []
    for j in range(block.shape[1]):
        values, counts = np.unique(block[:, j], return_counts=True)
        top = int(np.argmax(counts))
        label = name if block.shape[1] == 1 else f"column {j} of {name}"
        out.append(Ties(label, len(values), block.shape[0], float(values[top]),
                        int(counts[top])))
    return out


def discrete_message(t: Ties, advice: str) -> str:
    """The one-line refusal of a discrete column ``t``; ``advice`` says what to pass."""
    return (
        f"{t.label} has {t.distinct} distinct values in {t.n} rows ({t.top_count} rows hold "
        f"{t.top:g}): it looks discrete, and a mixture density cannot describe it (its MI "
        f"would be set by reg_covar, not by the data). {advice}"
    )


def point_masses(blocks: Sequence[np.ndarray], names: Sequence[str]) -> list[tuple[int, Ties]]:
    """The columns with a point mass: (index among all columns, :class:`Ties`).

    A column that is not discrete (more than half its values distinct) but has
    one value held by at least :data:`POINT_MASS_FRACTION` of the rows (and at
    least :data:`POINT_MASS_MIN_ROWS`).
    """
    column_ties = [t for block, name in zip(blocks, names, strict=True)
                   for t in ties(np.asarray(block, np.float64), name)]
    return [(j, t) for j, t in enumerate(column_ties)
            if not t.discrete
            and t.top_count >= max(POINT_MASS_MIN_ROWS, POINT_MASS_FRACTION * t.n)]


def point_mass_message(t: Ties) -> str:
    """The warning for a column ``t`` with a point mass."""
    share = t.top_count / t.n
    return (
        f"{t.label} has a point mass: {t.top_count} of {t.n} rows ({share:.1%}) hold exactly "
        f"{t.top:g}. A mixture density has no point masses, so one component collapses onto "
        "the value (to the reg_covar floor in that column); the spike's height cancels in the "
        "MI, but the fit and its error bars are rougher there. To check, use the chain rule "
        f"I(X;Y) = I(1[x = {t.top:g}]; Y) + P(x ≠ {t.top:g}) · I(X;Y | x ≠ {t.top:g}): the first "
        "term with discrete_x=True, the second on the other rows."
    )


def check_continuous(blocks: Sequence[np.ndarray], names: Sequence[str], *, advice: str,
                     dequantise_ties: bool = False, report_repeats: bool = True,
                     stream: int = 0) -> list[np.ndarray]:
    """Refuse discrete columns, or dequantise them; report rows repeated whole.

    Parameters
    ----------
    blocks : sequence of ndarray (n, d_i)
        Validated continuous variables of one call.
    names : sequence of str
    advice : str
        What the caller's user can pass instead (e.g. ``"Pass discrete_x=True ..."``).
    dequantise_ties : bool, default False
        Dequantise (:func:`dequantise`) every column that has ties instead of
        refusing the discrete ones.
    report_repeats : bool, default True
        Warn about rows repeated whole (off for a lone column of a table).
    stream : int, default 0
        Noise stream of :func:`dequantise` (distinct for columns dequantised in
        separate calls, so that their noises are independent).

    Returns
    -------
    list of ndarray
        The blocks, dequantised where asked.

    Raises
    ------
    ValueError
        A discrete column (the first one, named), unless ``dequantise_ties``.

    Warns
    -----
    MisspecificationWarning
        When more than :data:`DUPLICATE_ROWS_WARN` of the rows repeat another row,
        or a column has a point mass (:func:`point_masses`).
    """
    blocks = [np.asarray(b, np.float64) for b in blocks]
    if dequantise_ties:  # jointly: every column must get its own noise
        joint = dequantise(np.column_stack(blocks), stream=stream)
        edges = np.cumsum([b.shape[1] for b in blocks])[:-1]
        return list(np.split(joint, edges, axis=1))
    joint = np.column_stack(blocks)
    n = joint.shape[0]
    distinct_rows = len(np.unique(joint, axis=0))
    column_ties = [t for block, name in zip(blocks, names, strict=True)
                   for t in ties(block, name)]
    # Ties explained by rows repeated whole, a few times each, are duplicated records,
    # not a discrete variable (a lone column cannot tell the two apart).
    whole_rows = joint.shape[1] > 1 and n <= MAX_COPIES_PER_ROW * distinct_rows
    for t in column_ties:
        if t.discrete and (not whole_rows or t.distinct < WHOLE_ROW_FRACTION * distinct_rows):
            raise ValueError(discrete_message(t, advice))
    repeated = n - distinct_rows
    if repeated <= DUPLICATE_ROWS_WARN * n:   # else the repeated rows explain the ties
        for _, t in point_masses(blocks, names):
            warn(point_mass_message(t), MisspecificationWarning)
    if report_repeats and repeated > DUPLICATE_ROWS_WARN * n:
        warn(
            f"{repeated} of {n} rows repeat another row exactly ({distinct_rows} distinct "
            "rows): the bootstrap and the posterior treat every row as an independent draw, "
            f"so if the copies are duplicates of one record the error bars are too small "
            "(by about the square root of the copies per row). Drop them with "
            "np.unique(np.column_stack([x, y]), axis=0) unless they are real, independent "
            "observations.",
            MisspecificationWarning,
        )
    return blocks


def dequantise(block: np.ndarray, *, stream: int = 0) -> np.ndarray:
    """Spread every tied value uniformly over its cell, column by column.

    The cell of a distinct value v runs from the midpoint with the next smaller
    value to the midpoint with the next larger one (the outer cells are
    symmetric about their value). Each value stays inside its own cell, so the
    original value is a function of the dequantised one and the noise is
    independent of everything else: the MI between dequantised variables equals
    the MI of the discrete ones exactly (integers: ``v + U(−½, ½)``). Columns
    without ties are returned unchanged; the noise comes from the fixed
    :data:`DEQUANTISE_SEED` and ``stream`` (columns dequantised by separate calls
    need separate streams, or their noises would be identical).
    """
    out = np.array(block, np.float64, copy=True)
    rng = np.random.default_rng([DEQUANTISE_SEED, stream])
    for j in range(out.shape[1]):
        values, inverse = np.unique(out[:, j], return_inverse=True)
        if len(values) == out.shape[0] or len(values) < 2:
            continue
        mid = (values[1:] + values[:-1]) / 2
        low = np.concatenate([[values[0] - (mid[0] - values[0])], mid])
        high = np.concatenate([mid, [values[-1] + (values[-1] - mid[-1])]])
        u = rng.random(out.shape[0])
        out[:, j] = low[inverse] + u * (high - low)[inverse]
    return out


# --------------------------------------------------------------- components
def check_fixed_components(n_rows: int, d: int, n_components: int | str, where: str) -> None:
    """Warn when a fixed K leaves fewer than :data:`ROWS_PER_PARAMETER` rows per parameter.

    A full-covariance component in D dimensions has ``D + D(D+1)/2 + 1``
    parameters (mean, covariance, weight). ``where`` names the rows (e.g.
    ``"the data"`` or ``"class 'a'"``).
    """
    if n_components == "auto":
        return
    k = int(n_components)
    per = d + d * (d + 1) // 2 + 1
    need = ROWS_PER_PARAMETER * k * per
    if n_rows < need:
        warn(
            f"n_components={k} in {d} dimension(s) has {k * per} parameters for {n_rows} rows "
            f"of {where} (fewer than {ROWS_PER_PARAMETER} rows per parameter, {need} rows): the "
            "mixture overfits and its MI is biased upwards, by far more than the error bars "
            "say. Use n_components='auto' (cross-validated) or at most "
            f"{max(1, n_rows // (ROWS_PER_PARAMETER * per))} components.",
            MisspecificationWarning,
        )


def flat_eigenvalues(covariances: np.ndarray, weights: np.ndarray, reg_covar: float,
                     point_mass_columns: Sequence[int] = ()) -> np.ndarray:
    """Smallest eigenvalues of the active components that are flat against the floor.

    A component (weight above 1 % of the total) is flat when an eigenvalue of its
    covariance (standardised data) is within :data:`DEGENERATE_FACTOR` of
    ``reg_covar``, unless its flat direction is one of ``point_mass_columns``
    alone (a component sitting on a point mass). Empty when none is.
    """
    cov = np.asarray(covariances, np.float64)
    w = np.asarray(weights, np.float64)
    active = w > 0.01 * w.sum()
    if not active.any():
        return np.empty(0)
    eigenvalues, eigenvectors = np.linalg.eigh(cov[active])
    flat = eigenvalues[:, 0] <= DEGENERATE_FACTOR * reg_covar
    if len(point_mass_columns):
        along = np.abs(eigenvectors[:, :, 0])           # (K, D): the flat direction
        on_mass = np.max(along[:, list(point_mass_columns)], axis=1) > 0.99
        flat &= ~on_mass
    return eigenvalues[flat, 0]


def check_degenerate(covariances: np.ndarray, weights: np.ndarray, reg_covar: float,
                     quantity: str, value: float, units: str,
                     point_mass_columns: Sequence[int] = ()) -> None:
    """Warn when a fitted component is flat against the ``reg_covar`` floor.

    Parameters
    ----------
    covariances : ndarray (K, D, D)
        Covariances of the primary fit, on the standardised scale.
    weights : ndarray (K,)
        Their weights (0 for inactive components).
    reg_covar : float
    quantity : str
        ``"mi"``, ``"cmi"``, ``"entropy"``, ``"kl"`` or ``"kl_reverse"``.
    value : float
        The estimate, in ``units``, for the message.
    units : str
    point_mass_columns : sequence of int, default ()
        Columns with a point mass (:func:`point_masses`, already reported): a
        component flat along one of them alone sits on the point mass, which is
        not a relation between the variables.
    """
    smallest = flat_eigenvalues(covariances, weights, reg_covar, point_mass_columns)
    if smallest.size == 0:
        return
    if quantity == "entropy":
        bound = (f"the entropy is −∞ for an exactly degenerate block and the estimate "
                 f"{value:.3g} {units} is an upper bound set by reg_covar")
    elif quantity in ("mi", "cmi"):
        bound = (f"the MI is infinite for an exact relation and the estimate {value:.3g} "
                 f"{units} is a lower bound set by reg_covar")
    else:
        bound = f"the estimate {value:.3g} {units} is set by reg_covar, not by the data"
    warn(
        f"a fitted component's covariance has an eigenvalue {smallest.min():.2g} (standardised "
        f"units), at the reg_covar={reg_covar:g} floor: the variables are (nearly) "
        f"deterministic functions of each other (or a column repeats another), so {bound}. "
        "Check for duplicated or derived columns; a smaller reg_covar moves the bound, it "
        "does not remove it.",
        DegenerateComponentWarning,
    )
