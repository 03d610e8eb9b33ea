"""Stage 1, prepare: validated columns → a stack of M weighted data sets.

The unit of work of the whole pipeline is a :class:`DataSets`: M data sets of
one padded shape (one pair of variables; the C classes of a categorical
variable; the P pairs × C classes of a matrix). Each data set keeps the
*global row index* of each of its rows, so that one table of bootstrap counts
over the n rows serves every data set (replicate b of every data set comes from
the same resampled rows), and its own seed, from which its folds,
initialisations and posterior keys derive (:mod:`.seeds`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bayes_gmm_mi._pipeline.mixtures import row_bucket
from bayes_gmm_mi._validation import describe, gaussianise_ranks, standardise_logscale

if TYPE_CHECKING:  # pragma: no cover
    import jax

__all__ = [
    "MIN_ROWS_PER_DIMENSION",
    "DataSets",
    "Scaling",
    "stack",
    "scale_joint",
    "REPRESENTATION_NAMES",
    "representations",
    "min_class_rows",
    "check_class_sizes",
    "class_indices",
]

#: A class of a categorical variable needs at least this many rows per column
#: of the continuous variable (plus one), and at least ``2 * n_folds`` rows,
#: for its mixture to be fitted and validated.
MIN_ROWS_PER_DIMENSION = 5


class DataSets(NamedTuple):
    """M data sets of one padded shape.

    Attributes
    ----------
    x : jax.Array of shape (M, N_pad, D), float32
        Standardised data; padding rows are 0.
    row_index : ndarray of shape (M, N_pad), int
        Global row (0..n-1) of each padded row; -1 for padding.
    seeds : ndarray of shape (M,), int
        Each data set's seed (folds, initialisations, posterior key).
    labels : tuple of str
        What each data set is, for messages (``""`` for a lone data set).
    weights : ndarray of shape (M, N_pad), float32, or None
        Row weights (e.g. bootstrap counts, so that a resampled data set keeps
        every copy of a row in one cross-validation fold); None: 1 per real row.
    """

    x: jax.Array
    row_index: np.ndarray
    seeds: np.ndarray
    labels: tuple[str, ...]
    weights: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        """Row weights (M, N_pad), float32: 1 per real row unless ``weights`` are given."""
        if self.weights is not None:
            return np.asarray(self.weights, np.float32)
        return (self.row_index >= 0).astype(np.float32)

    @property
    def counts(self) -> np.ndarray:
        """Rows of each data set (M,): real rows, or the rounded total weight."""
        if self.weights is not None:
            return np.rint(self.rows.sum(axis=1)).astype(int)
        return (self.row_index >= 0).sum(axis=1)

    @property
    def size(self) -> int:
        return int(self.row_index.shape[0])

    @property
    def dim(self) -> int:
        return int(self.x.shape[2])


def stack(blocks: list[np.ndarray], indices: list[np.ndarray], seeds: Any,
          labels: list[str] | tuple[str, ...] | None = None) -> DataSets:
    """Stack data sets of shape (n_m, D) into one padded :class:`DataSets`.

    The row axis is padded to :func:`~.mixtures.row_bucket` of the largest
    data set, so one compiled kernel serves data of similar sizes.
    """
    import jax.numpy as jnp

    n_pad = row_bucket(max(b.shape[0] for b in blocks))
    d = blocks[0].shape[1]
    x = np.zeros((len(blocks), n_pad, d), np.float32)
    index = np.full((len(blocks), n_pad), -1)
    for m, (b, idx) in enumerate(zip(blocks, indices, strict=True)):
        x[m, : b.shape[0]] = b
        index[m, : b.shape[0]] = idx
    labels = tuple(labels) if labels is not None else ("",) * len(blocks)
    return DataSets(jnp.asarray(x), index, np.asarray(seeds, np.int64), labels)


class Scaling(NamedTuple):
    """How the joint data were scaled: ``scaled = (data − loc) / scale``.

    ``offset`` (nats) is added to every integral: ``sum(log scale)`` for
    entropy (not invariant to the scaling), 0 otherwise.
    """

    loc: np.ndarray
    scale: np.ndarray
    offset: float


#: The name of each representation of the data (``transform`` of one fit).
REPRESENTATION_NAMES: dict[str | None, str] = {None: "data", "rank": "rank"}


def representations(transform: str | None, *, invariant: bool = True) -> tuple[str | None, ...]:
    """The transforms whose fits make one estimate.

    ``"auto"`` fits the data's own coordinates *and* the normal scores of their
    ranks when the quantity is invariant under a monotone map of each column
    (MI, conditional MI; KL divergence under a map common to both variables;
    ``invariant``), the data's own coordinates otherwise (entropy); ``None`` or
    ``"rank"`` fit that one representation.
    The first is the primary one (the point estimate and the fitted attributes).
    """
    if transform == "auto":
        return (None, "rank") if invariant else (None,)
    return (transform,)


def scale_joint(blocks: list[np.ndarray], *, transform: str | None, pooled: bool = False,
                jacobian: bool = False) -> tuple[np.ndarray, Scaling]:
    """Join column blocks, optionally rank-transform, and standardise.

    Parameters
    ----------
    blocks : list of ndarray (n, d_i)
        Validated variables (x, y[, z]).
    transform : {None, "rank"}
        ``"rank"``: normal scores of each column's ranks (MI unchanged); with
        ``pooled``, of the ranks of x's and y's matching columns pooled (one map
        for both, KL unchanged).
    pooled : bool
        Standardise matching columns of the (two) blocks with one common location
        and scale (KL divergence needs both in the same units).
    jacobian : bool
        Entropy: add ``sum(log scale)`` to the integral.

    Returns
    -------
    scaled : ndarray (n, D)
    scaling : Scaling
    """
    data = np.column_stack(blocks)
    n = data.shape[0]
    if transform == "rank":
        if jacobian:
            raise ValueError(
                "transform='rank' changes entropy; it is only allowed for MI, conditional MI "
                "and KL divergence. Use transform=None."
            )
        if pooled:
            # One map for both: the normal scores of the ranks of each column of x and
            # y *pooled* (KL is unchanged by a common invertible map of both variables).
            width = blocks[0].shape[1]
            both = gaussianise_ranks(np.vstack([data[:, :width], data[:, width:]]))
            data = np.column_stack([both[:n], both[n:]])
        else:
            data = gaussianise_ranks(data)
    if pooled:
        width = blocks[0].shape[1]
        scaled, loc, scale, log_scale = standardise_logscale(
            np.vstack([data[:, :width], data[:, width:]]))
        scaled = np.column_stack([scaled[:n], scaled[n:]])
        loc, scale, log_scale = np.tile(loc, 2), np.tile(scale, 2), np.tile(log_scale, 2)
    else:
        scaled, loc, scale, log_scale = standardise_logscale(data)
    # In logs: finite for data of any scale (1e200 data: log(1e200) = 460.5 per column).
    offset = float(np.sum(log_scale)) if jacobian else 0.0
    return scaled, Scaling(loc, scale, offset)


def min_class_rows(n_folds: int, d: int, n_components: int | str) -> int:
    """Rows a class (a data set of a categorical split) needs: the one class-size rule."""
    need = max(2 * n_folds, MIN_ROWS_PER_DIMENSION * (d + 1))
    if n_components != "auto":
        need = max(need, int(n_components) * (d + 1))
    return need


def _short(value: Any) -> str:
    """A class value for a message: floats with 6 significant digits, others by ``repr``."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return describe(value)


def check_class_sizes(counts: np.ndarray, classes: np.ndarray, need: int, what: str) -> None:
    """Refuse classes with fewer than ``need`` rows, naming them and their counts."""
    small = np.flatnonzero(counts < need)
    if small.size:
        # At most 3 classes are named: labels with thousands of values (a
        # continuous variable passed as labels) must not make a huge message.
        listing = ", ".join(f"{_short(classes[c])} has {counts[c]}" for c in small[:3])
        if small.size > 3:
            listing += f", … ({small.size - 3} more of {len(classes)} classes)"
        hint = "Merge rare classes, drop them, or collect more data."
        if len(classes) > counts.sum() / 2:
            hint = (f"{len(classes)} distinct values in {int(counts.sum())} rows look like a "
                    "continuous variable, not classes (then use discrete_y=False).")
        raise ValueError(
            f"{what}: every class needs at least {need} rows to fit its mixture; {listing}. "
            f"{hint}"
        )


def class_indices(codes: np.ndarray, n_classes: int) -> list[np.ndarray]:
    """The rows of each class, in order."""
    return [np.flatnonzero(codes == c) for c in range(n_classes)]
