"""The permutation null of the estimator: the same stages on copies with y's rows permuted.

An independence test compares the estimator's MI on the data with its MI on P
copies of the data in which the rows of y are permuted (x fixed): under
independence, and with exchangeable rows, the observed data set and the P
permuted ones are exchangeable, so the rank of the observed statistic among
them is uniform and

    p = (1 + #{null ≥ observed}) / (1 + P)

is a valid p-value (its false-positive rate is at most α for every α), whatever
the estimator's bias. That holds only if every copy goes through *exactly* the
same procedure as the data, so here every copy — the data first, then the
permutations — is one data set of one :class:`~.prepare.DataSets` stack, and
goes through the pipeline's own stages:

* prepare: each copy is prepared from the *raw* permuted columns
  (:func:`~.prepare.scale_joint`: the rank transform and the standardisation of
  the copy), for a categorical y its classes are cut from the permuted labels;
* select: K is chosen for every copy by the same selection
  (:func:`~.engine.fit_data_sets`), batched over the copies; the honest null
  (``null_components="reselect"``, the default). ``"observed"`` fixes each
  copy's K at the data's choice: cheaper, but not exact (kept for the study
  that measured it, ``studies/independence``);
* fit and integrate: every copy has the data's seed (the same folds,
  initialisation seeds and Monte Carlo base samples: common random numbers,
  so the copies differ only by the permutation).

Permutation p of a seed is drawn from its own generator
(:func:`permutation` ``(seed, p, n)``), so the first P permutations are the
same for any larger P.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from bayes_gmm_mi._pipeline import prepare
from bayes_gmm_mi._pipeline.mixtures import row_bucket
from bayes_gmm_mi._pipeline.seeds import Stream, child_seeds, generator
from bayes_gmm_mi._pipeline.settings import FitSettings

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import GMMParams
    from bayes_gmm_mi._pipeline.prepare import DataSets

__all__ = [
    "NULL_COMPONENTS",
    "NullFits",
    "permutation",
    "p_value",
    "continuous_null",
    "categorical_null",
    "discrete_null",
]

#: How the K of the permuted copies is chosen.
NULL_COMPONENTS = ("reselect", "observed")

#: Bytes of stacked copies (data, fold masks) per call of the engine; more
#: copies are fitted in several calls (same numbers: every copy has its own
#: seed-derived folds and starts).
STACK_BYTES = 2**28


class NullFits(NamedTuple):
    """The statistic of the data and of its permuted copies, for each item tested.

    Attributes
    ----------
    values : ndarray of shape (I, 1 + P)
        MI (nats) of each item's data (column 0) and of its P permuted copies.
    errors : ndarray of shape (I, 1 + P)
        Monte Carlo standard errors of ``values``.
    n_components : ndarray of int, shape (I, 1 + P)
        Components of each fit (summed over the classes of a categorical y).
    """

    values: np.ndarray
    errors: np.ndarray
    n_components: np.ndarray


def permutation(seed: int, index: int, n: int) -> np.ndarray:
    """Permutation ``index`` (0-based) of ``n`` rows under the master ``seed``."""
    return generator(seed, Stream.PERMUTATIONS, index).permutation(n)


def p_value(observed: float | np.ndarray, null: np.ndarray) -> np.ndarray:
    """``(1 + #{null ≥ observed}) / (1 + P)`` along the last axis of ``null``."""
    null = np.asarray(null, np.float64)
    observed = np.asarray(observed, np.float64)
    exceed = np.sum(null >= observed[..., None], axis=-1)
    return (1.0 + exceed) / (1.0 + null.shape[-1])


def _orders(seed: int, n: int, n_permutations: int) -> list[np.ndarray]:
    """Row orders of y in each copy: the identity (the data), then the permutations."""
    return [np.arange(n)] + [permutation(seed, p, n) for p in range(n_permutations)]


def _copy_labels(n_permutations: int) -> list[str]:
    return ["observed data"] + [f"permutation {p + 1}" for p in range(n_permutations)]


def _fit(data: DataSets, settings: FitSettings, k: np.ndarray | None, n: int, seed: int,
         partition: bool, progress: bool) -> GMMParams:
    """The fits of every data set: K chosen by ``settings`` (``k`` None) or given per set."""
    from bayes_gmm_mi._pipeline import engine
    from bayes_gmm_mi._pipeline.fit import fit_final, init_seeds, warn_on_fits

    if k is None:
        fitted, _, _ = engine.fit_data_sets(data, settings, n_samples=n, seed=seed,
                                            partition=partition, progress=progress)
        return fitted.fits
    final = fit_final(data, k, settings, init_seeds(data, settings.n_init))
    warn_on_fits(final, k, data, settings)
    return final.params


def _copies_per_call(n_pad: int, dim: int, n_folds: int, sets_per_copy: int = 1) -> int:
    """Copies per call of the engine whose stacked arrays (data, fold masks) stay
    within :data:`STACK_BYTES`."""
    per_set = n_pad * 4 * (dim + 2 * n_folds + 2)
    return max(1, STACK_BYTES // (per_set * sets_per_copy))


def _observed_k(fits: GMMParams) -> np.ndarray:
    return np.sum(np.asarray(fits.weights) > 0, axis=-1)


def continuous_null(pairs: Sequence[tuple[np.ndarray, np.ndarray]], seeds: Sequence[int],
                    labels: Sequence[str], *, transform: str | None, settings: FitSettings,
                    terms: Any, mc_samples: int, seed: int, n_permutations: int,
                    null_components: str = "reselect", progress: bool = False) -> NullFits:
    """The estimator's MI on each pair (x, y) and on P copies with y's rows permuted.

    Parameters
    ----------
    pairs : sequence of (x, y) blocks of shape (n, d_x), (n, d_y)
        Validated variables; every pair has the same n and d_x + d_y.
    seeds : sequence of int
        Each pair's seed (its copies share it: folds, initialisations).
    labels : sequence of str
        Each pair's name for messages ("" for a lone pair).
    transform : {None, "rank"}
        The representation the mixtures are fitted to (one; see
        :func:`~.prepare.scale_joint`), applied to each copy.
    settings : FitSettings
    terms : Terms
        The integral (:func:`bayes_gmm_mi._mi.mi_terms`).
    mc_samples : int
    seed : int
        Master seed: the permutations and the Monte Carlo base samples.
    n_permutations : int
    null_components : {"reselect", "observed"}
    progress : bool

    Returns
    -------
    NullFits
    """
    from bayes_gmm_mi._pipeline.integrate import base_samples, integrate

    n = pairs[0][0].shape[0]
    dim = pairs[0][0].shape[1] + pairs[0][1].shape[1]
    orders = _orders(seed, n, n_permutations)
    copies = len(orders)
    names = _copy_labels(n_permutations)
    sets = [(i, c) for i in range(len(pairs)) for c in range(copies)]

    def build(chunk: list[tuple[int, int]]) -> DataSets:
        blocks = [prepare.scale_joint([pairs[i][0], pairs[i][1][orders[c]]],
                                      transform=transform)[0] for i, c in chunk]
        return prepare.stack(blocks, [np.arange(n)] * len(chunk), [seeds[i] for i, _ in chunk],
                             [", ".join(s for s in (labels[i], names[c]) if s) for i, c in chunk])

    base = base_samples(seed, mc_samples, dim)
    fixed_k = None
    if null_components == "observed":
        observed = [(i, 0) for i in range(len(pairs))]
        fixed_k = _observed_k(_fit(build(observed), settings, None, n, seed, False, False))
    values, errors, active = [], [], []
    step = _copies_per_call(row_bucket(n), dim, settings.n_folds)
    for lo in range(0, len(sets), step):
        chunk = sets[lo:lo + step]
        k = None if fixed_k is None else np.array([fixed_k[i] for i, _ in chunk])
        fits = _fit(build(chunk), settings, k, n, seed, False, progress)
        v, e = integrate(fits, terms, base)
        values.append(v)
        errors.append(e)
        active.append(_observed_k(fits))
    shape = (len(pairs), copies)
    return NullFits(np.concatenate(values).reshape(shape), np.concatenate(errors).reshape(shape),
                    np.concatenate(active).reshape(shape))


def categorical_null(items: Sequence[tuple[np.ndarray, np.ndarray, int]],
                     seeds: Sequence[int], labels: Sequence[str], *, transform: str | None,
                     settings: FitSettings, mc_samples: int, seed: int, n_permutations: int,
                     null_components: str = "reselect", progress: bool = False,
                     class_names: Sequence[Sequence[Any]] | None = None) -> NullFits:
    """Categorical MI of each (x, labels) item and of P copies with the labels permuted.

    Parameters
    ----------
    items : sequence of (x, codes, n_classes)
        ``x`` of shape (n, d) (the same n and d for every item), ``codes`` the
        integer class codes 0..C−1 of each row (:func:`~bayes_gmm_mi._categorical.encode_labels`).
    seeds : sequence of int
        Each item's seed; its classes' seeds derive from it as in
        :class:`~bayes_gmm_mi.GMMCategoricalMI` (``Stream.CLASSES``).
    labels, transform, settings, mc_samples, seed, n_permutations, null_components, progress
        As in :func:`continuous_null`; ``transform`` applies to x (which the
        permutation leaves alone, so it is prepared once per item).
    class_names : sequence of sequences, optional
        Each item's class values, for messages.

    Returns
    -------
    NullFits
    """
    import jax

    from bayes_gmm_mi._pipeline.integrate import class_base_samples, integrate_classes

    n, dim = items[0][0].shape
    orders = _orders(seed, n, n_permutations)
    copies = len(orders)
    names = _copy_labels(n_permutations)
    scaled = [prepare.scale_joint([x], transform=transform)[0] for x, _, _ in items]
    class_seeds = [child_seeds(int(s), Stream.CLASSES, c) for s, (_, _, c) in zip(
        seeds, items, strict=True)]
    sets = [(i, p) for i in range(len(items)) for p in range(copies)]

    def build(chunk: list[tuple[int, int]]) -> DataSets:
        blocks, indices, set_seeds, set_labels = [], [], [], []
        for i, p in chunk:
            _, codes, n_classes = items[i]
            index = prepare.class_indices(codes[orders[p]], n_classes)
            for c in range(n_classes):
                blocks.append(scaled[i][index[c]])
                indices.append(index[c])
                set_seeds.append(class_seeds[i][c])
                name = class_names[i][c] if class_names is not None else c
                set_labels.append(", ".join(s for s in (labels[i], names[p], f"class {name!r}")
                                            if s))
        return prepare.stack(blocks, indices, set_seeds, set_labels)

    def per_class(chunk: list[tuple[int, int]]) -> list[int]:
        return [items[i][2] for i, _ in chunk]

    fixed_k = None
    if null_components == "observed":
        observed = [(i, 0) for i in range(len(items))]
        fits = _fit(build(observed), settings, None, n, seed, True, False)
        fixed_k = np.split(_observed_k(fits), np.cumsum(per_class(observed))[:-1])
    # Chunks of whole copies (a copy's classes stay together).
    step = _copies_per_call(row_bucket(n), dim, settings.n_folds, max(c for _, _, c in items))
    values = np.empty((len(items), copies))
    errors = np.empty_like(values)
    active = np.zeros((len(items), copies), int)
    bases = {c: class_base_samples(seed, mc_samples, dim, c) for c in {c for _, _, c in items}}
    for lo in range(0, len(sets), step):
        chunk = sets[lo:lo + step]
        k = None if fixed_k is None else np.concatenate([fixed_k[i] for i, _ in chunk])
        fits = jax.tree.map(np.asarray, _fit(build(chunk), settings, k, n, seed, True,
                                             progress))
        start = 0
        for i in sorted({i for i, _ in chunk}):
            mine = [p for j, p in chunk if j == i]            # contiguous copies of item i
            _, codes, n_classes = items[i]
            stop = start + len(mine) * n_classes
            block = jax.tree.map(
                lambda arr, a=start, b=stop, c=n_classes: arr[a:b].reshape(
                    (-1, c) + arr.shape[1:]), fits)
            freqs = np.broadcast_to(np.bincount(codes, minlength=n_classes) / n,
                                    (len(mine), n_classes))
            v, e = integrate_classes(block, freqs, bases[n_classes])
            values[i, mine], errors[i, mine] = v, e
            active[i, mine] = np.sum(np.asarray(block.weights) > 0, axis=(1, 2))
            start = stop
    return NullFits(values, errors, active)


def discrete_null(a: np.ndarray, b: np.ndarray, seed: int, n_permutations: int,
                  statistic: Callable[[np.ndarray, np.ndarray], float]) -> NullFits:
    """A statistic of two code vectors on the data and on P copies with ``b`` permuted
    (categorical × categorical cells of a matrix: the plug-in MI of their table)."""
    orders = _orders(seed, a.shape[0], n_permutations)
    values = np.array([[statistic(a, b[o]) for o in orders]])
    return NullFits(values, np.zeros_like(values), np.zeros(values.shape, int))
