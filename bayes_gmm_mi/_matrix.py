"""MI between every column of one table and every column of another, batched.

Every pair of columns is its own small data set, and so is every class of a
categorical column paired with a continuous one. All of them go through one
compiled EM kernel that takes a data set per member (:func:`_em.fit_batch_each`):
the component choice runs K = 1, 2, ... for all data sets at once (each drops
out when its held-out score stops improving), the final fits and the bootstrap
refits are batched the same way, and the integrals too. The bootstrap
resamples *rows* of the table, once for all pairs, so replicate b of every pair
comes from the same resampled table: the draws of the whole matrix are joint,
and statistics of the matrix (e.g. the MIG) get their uncertainty draw by draw.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from bayes_gmm_mi import _independence
from bayes_gmm_mi._categorical import encode_labels
from bayes_gmm_mi._pipeline import counts as _counts
from bayes_gmm_mi._pipeline import memory as _memory
from bayes_gmm_mi._pipeline import prepare, screen
from bayes_gmm_mi._pipeline import settings as _settings
from bayes_gmm_mi._pipeline.counts import corrected_mi
from bayes_gmm_mi._pipeline.models import bias_corrected
from bayes_gmm_mi._pipeline.screen import check_continuous
from bayes_gmm_mi._pipeline.seeds import Stream, child_seeds
from bayes_gmm_mi._pipeline.settings import UNITS, FitSettings
from bayes_gmm_mi._progress import progress_bar
from bayes_gmm_mi._validation import (
    as_variable,
    check_array_like,
    check_int,
    check_probability,
    gaussianise_ranks,
    seed_from,
    standardise,
)
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import DegenerateComponentWarning, MisspecificationWarning

# JAX and the kernels (_em, _mi, _batching) are imported where used: see _estimator.

__all__ = ["MIMatrix", "mi_matrix"]

#: Refuse requests whose working arrays would exceed this many bytes by default
#: (unless ``$BAYES_GMM_MI_MEMORY_LIMIT`` says otherwise).
DEFAULT_MEMORY_LIMIT = _memory.DEFAULT_MEMORY_LIMIT


@dataclass(frozen=True, repr=False)
class MIMatrix:
    """MI between two sets of variables, with bootstrap draws of the whole matrix.

    Attributes
    ----------
    draws : xarray.DataArray, dims ("x", "y", "draw")
        MI of every pair in every bootstrap replicate (replicate b of every
        pair comes from the same resampled rows). NaN on the diagonal of a
        latent–latent matrix.
    point_estimate : xarray.DataArray, dims ("x", "y")
        MI of each pair's fit to all rows.
    mc_error : xarray.DataArray, dims ("x", "y")
        Monte Carlo standard error of each point estimate.
    n_components : xarray.DataArray, dims ("x", "y")
        Components of each pair's mixture (summed over classes for a
        categorical column; 0 for a categorical–categorical pair).
    units : str
    info : dict
        Timings and the kinds of the columns.
    n_models : int, default 1
        Models whose draws make the matrix, one block of the draw axis each: 3
        for ``transform="auto"`` (data coordinates, normal scores, then the data
        coordinates' draws moved to each continuous cell's larger-K fit,
        ``info["larger_k_point"]``; 2 with a fixed ``n_components``); the
        intervals are then the union of the models' intervals.
    p_value : xarray.DataArray, dims ("x", "y"), or None
        Permutation p-value of each cell (``mi_matrix(..., n_permutations=P)``),
        adjusted for multiple testing as ``info["p_value_adjust"]`` says
        (``info["p_value_unadjusted"]`` holds the raw ones); None without a test.
    """

    draws: Any
    point_estimate: Any
    mc_error: Any
    n_components: Any
    units: str
    info: dict[str, Any] = field(default_factory=dict)
    n_models: int = 1
    p_value: Any = None

    def mean(self) -> Any:
        """Mean over the draws (the point estimate where there are none)."""
        if self.draws.sizes["draw"] == 0:
            return self.point_estimate.copy()
        return self.draws.mean("draw")

    def std(self) -> Any:
        """Standard deviation over the draws (ddof = 1); NaN with fewer than 2 draws."""
        if self.draws.sizes["draw"] < 2:
            return self.point_estimate * np.nan
        return self.draws.std("draw", ddof=1)

    def interval(self, prob: float = 0.95) -> tuple[Any, Any]:
        """Central percentile interval over the draws: (low, high) DataArrays.

        With ``n_models > 1`` the union of the models' intervals (see
        :meth:`MIResult.interval <bayes_gmm_mi.MIResult.interval>`). NaN
        everywhere when the matrix has no draws (``n_bootstrap=0``), and on the
        diagonal of a latent–latent matrix.
        """
        from bayes_gmm_mi._pipeline.models import union_interval

        prob = check_probability(prob)
        if self.draws.sizes["draw"] == 0:
            return self.point_estimate * np.nan, self.point_estimate * np.nan
        draws = self.draws.transpose("x", "y", "draw")
        low, high = union_interval(draws.values, self.n_models, float(prob))
        return (self.point_estimate.copy(data=low), self.point_estimate.copy(data=high))

    def to_dataset(self) -> Any:
        """Everything in one ``xarray.Dataset`` (mean, std, 95% bounds, draws, ...)."""
        import xarray as xr

        low, high = self.interval(0.95)
        return xr.Dataset({
            "mi_mean": self.mean(), "mi_std": self.std(), "mi_low95": low, "mi_high95": high,
            "point_estimate": self.point_estimate, "mc_error": self.mc_error,
            "n_components": self.n_components, "draws": self.draws,
        }, attrs={"units": self.units})

    def __repr__(self) -> str:
        x, y = self.point_estimate.shape
        return (f"MIMatrix({x} x {y} pairs, {self.draws.sizes['draw']} draws, "
                f"units={self.units!r}, max MI {float(np.nanmax(self.point_estimate)):.4f})")


# ---------------------------------------------------------------- columns
@dataclass
class _Column:
    name: str
    values: np.ndarray          # float64 (continuous) or int codes (categorical)
    categorical: bool
    classes: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else len(self.classes)


def _column_names(table: Any, prefix: str) -> list[str]:
    """The column names :func:`_columns` gives ``table`` (no conversion, no checks)."""
    if hasattr(table, "columns"):
        return [str(c) for c in table.columns]
    if hasattr(table, "name") and hasattr(table, "to_frame"):     # a pandas Series
        return [str(table.to_frame().columns[0])]
    shape = np.shape(table)
    width = 1 if len(shape) == 1 else (shape[1] if len(shape) == 2 else 0)
    return [f"{prefix}{j}" for j in range(width)]


def _columns(table: Any, prefix: str, categorical: set, n: int | None,
             dequantise_ties: bool = False) -> list[_Column]:
    import pandas as pd

    if isinstance(table, pd.Series):
        table = table.to_frame()
    if isinstance(table, pd.DataFrame):
        items = [(str(c), table[c]) for c in table.columns]
    else:
        arr = np.asarray(table)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{prefix} must be a 2-D table (n, columns); got shape {arr.shape}.")
        items = [(f"{prefix}{j}", arr[:, j]) for j in range(arr.shape[1])]
    if not items:
        raise ValueError(f"{prefix} has no columns.")
    cols = []
    for name, values in items:
        is_cat = name in categorical or isinstance(
            getattr(values, "dtype", None), pd.CategoricalDtype) or (
            getattr(values, "dtype", np.dtype(float)).kind in "OSUb")
        if n is not None and len(values) != n:
            raise ValueError(
                f"every column must have the same number of rows; column {name!r} has "
                f"{len(values)}, expected {n}."
            )
        if is_cat:
            codes, classes = encode_labels(values, len(values))
            if len(classes) < 2:
                raise ValueError(
                    f"categorical column {name!r} has a single level ({classes[0]!r}); its MI "
                    "with anything is 0. Drop it."
                )
            cols.append(_Column(name, codes, True, classes))
        else:
            column = as_variable(np.asarray(values), f"column {name!r}")
            [block] = check_continuous(
                [column[:, None]], [f"column {name!r}"], advice=(
                    f"Name it in categorical=[{name!r}, ...] (classes), or pass "
                    "dequantise=True (each value spread over its cell; MI unchanged)."),
                dequantise_ties=dequantise_ties, report_repeats=False,
                stream=len(cols) + (1 << 16 if prefix == "b" else 0))
            cols.append(_Column(name, block[:, 0], False))
        n = len(values)
    return cols


# ------------------------------------------------------------------ API
def mi_matrix(
    a: Any,
    b: Any = None,
    *,
    categorical: str | Iterable[str] = (),
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    memory_limit: int | str | None = None,
    pair_batch: int | None = None,
    client: Any = None,
    n_permutations: int = 0,
    adjust: str | None = None,
    **options: Any,
) -> MIMatrix:
    """MI between every column of ``a`` and every column of ``b`` (or of ``a`` itself).

    Parameters
    ----------
    a : array-like of shape (n, p) or DataFrame
        E.g. the latent variables of a model.
    b : array-like of shape (n, q) or DataFrame, optional
        E.g. the generative factors. ``None`` computes the latent–latent matrix
        of ``a`` (pairs i < j, mirrored; the diagonal is NaN).
    categorical : str or iterable of str, default ()
        Names of categorical columns (DataFrame names, or ``"a0"``, ``"b2"``,
        ... for arrays); a single string is one name. Columns with a pandas
        categorical, string, object or boolean dtype are categorical anyway.
    n_bootstrap : int, default 50
        Bootstrap replicates of the rows, shared by all pairs (0: point
        estimates only).
    random_state : None, int or numpy Generator
        The same value gives the same matrix.
    units : {"nat", "bit"}, default "nat"
    progress : bool, default False
        A progress bar over the EM fits.
    memory_limit : int, str or None, default None
        Refuse (with a ``MemoryError``, also a ``ValueError``, naming smaller
        settings) requests whose working arrays are estimated to exceed this
        many bytes (per batch of pairs): a number of bytes or a size such as
        ``"16GB"`` or ``"512MiB"`` (KB, MB, GB, TB are powers of 1000; KiB,
        MiB, GiB, TiB of 1024). None: the environment variable
        ``BAYES_GMM_MI_MEMORY_LIMIT`` if set, else 4 GiB.
    pair_batch : int, optional
        Pairs per batch (default: all in one batch). Each batch is one pass
        through the kernels; smaller batches bound memory and are the unit of
        work sent to a cluster. The same ``random_state`` and ``pair_batch``
        give the same numbers locally and on a cluster.
    client : dask.distributed.Client, optional
        Run the batches on this Dask cluster (``pip install bayes_gmm_mi[dask]``);
        a batch lost with a dying worker is recomputed. Without a client
        nothing changes and dask is not imported.
    n_permutations : int, default 0
        ``P > 0`` adds a permutation test of independence for every cell
        (:func:`~bayes_gmm_mi.independence_test`: the cell's MI against the
        same estimator on P copies with the second column's rows permuted, K
        chosen again on each; labels permuted for a categorical column) and
        fills ``p_value``. It costs about P + 1 point estimates per cell
        (all batched; local only, ``client`` is not used for it).
    adjust : {None, "holm", "bh"}, default None
        Multiple-testing adjustment of the cells' p-values. A matrix tests many
        cells at once: at α = 0.05, about 5 % of truly independent cells come
        out "significant" by chance. ``"holm"`` controls the chance of any
        false positive (family-wise error rate); ``"bh"`` (Benjamini–Hochberg)
        the expected share of false positives among the cells called dependent
        (false discovery rate). A permutation p-value is at least 1 / (P + 1), so
        with m cells a Holm-adjusted p-value can fall below α only if
        P + 1 > m / α (e.g. P ≥ 999 for 45 cells at 0.05).
    **options
        :class:`GMMMI` settings: every selection and EM option (``n_components``,
        ``selection`` — ``"cv"``, ``"aic"`` or ``"bic"`` —, ``max_components``,
        ``n_init``, ``n_folds``, ``threshold``, ``patience``, ``init``,
        ``reg_covar``, ``tol``, ``max_iter``), ``mc_samples`` and ``transform``;
        validated against the same table, with the same warnings (naming the
        pairs) as :class:`GMMMI`.
        ``transform="rank"`` maps every continuous column to the normal scores
        of its ranks before any fit (MI unchanged): use it for bounded or
        heavy-tailed columns, e.g. uniform generative factors, whose hard edges
        a Gaussian mixture fits only approximately (independent uniform columns
        otherwise show a spurious MI of a few hundredths of a nat).

    Returns
    -------
    MIMatrix
        Labelled by the column names (dims ``"x"`` for ``a``, ``"y"`` for ``b``).

    Notes
    -----
    A continuous pair is fitted as in :func:`mutual_information`; a categorical
    column against a continuous one as in :class:`GMMCategoricalMI` (one
    mixture per class, observed class frequencies); two categorical columns by
    the plug-in MI of their contingency table. Every fit goes through one
    batched kernel, with no Python loop over pairs.
    """
    import xarray as xr

    params = _full(_check_options(options))
    params.update(n_bootstrap=n_bootstrap, random_state=random_state, units=units,
                  progress=progress)
    _settings.validate(params)
    n_permutations = _independence.check_matrix_test(n_permutations, adjust)
    limit = _memory.memory_limit(memory_limit)
    check_array_like(a, "a")
    if b is not None:
        check_array_like(b, "b")
    categorical = _categorical_names(categorical)
    transforms = prepare.representations(params["transform"])
    # Names first: a misspelt categorical name must not surface as a refusal of the
    # column it was meant to declare.
    known = set(_column_names(a, "a")) | (set() if b is None else set(_column_names(b, "b")))
    unknown = sorted(categorical - known)
    if unknown:
        raise ValueError(f"categorical names columns that do not exist: {unknown}; "
                         f"columns are {sorted(known)}.")
    cols_a = _columns(a, "a", categorical, None, params["dequantise"])
    n = len(cols_a[0].values)
    cols_b = cols_a if b is None else _columns(b, "b", categorical, n, params["dequantise"])
    symmetric = b is None
    if symmetric and len(cols_a) < 2:
        raise ValueError("a latent–latent matrix needs at least two columns in a.")
    pairs = [(i, j) for i in range(len(cols_a)) for j in range(len(cols_b))
             if not symmetric or i < j]
    seed = seed_from(random_state)
    start = time.perf_counter()
    b_reps = n_bootstrap
    batch_size = len(pairs) if pair_batch is None else check_int(pair_batch, "pair_batch", 1)
    _check_memory(pairs[:batch_size], n, b_reps, limit, params["mc_samples"], n_permutations)

    from bayes_gmm_mi._pipeline.uncertainty import bootstrap_counts

    counts = bootstrap_counts(seed, n, b_reps)
    factor = UNITS[units]
    settings = MatrixSettings(_settings.fit_settings(params), params["mc_samples"])
    # One matrix per representation of the continuous columns (transform="auto":
    # the data's coordinates and the normal scores), with the same bootstrap
    # counts and seeds, so that draw b of every representation is replicate b.
    # With several representations the primary one's continuous cells are also fitted
    # at a larger K (the choice of K in the intervals, as in mutual_information).
    matrices = []
    for r, t in enumerate(transforms):
        rep_a = _represented(cols_a, t)
        rep_b = rep_a if symmetric else _represented(cols_b, t)
        matrices.append(_one_matrix(
            settings._replace(larger_k=r == 0 and len(transforms) > 1 and b_reps > 0
                              and params["n_components"] == "auto"), pairs, rep_a, rep_b,
            symmetric, seed, counts, factor, batch_size, client, progress))
    point, error, ncomp, _, larger = matrices[0]
    blocks = [m[3] for m in matrices]
    info_extra: dict[str, Any] = {}
    names = tuple(prepare.REPRESENTATION_NAMES[t] for t in transforms)
    n_models = len(names)
    if len(names) > 1 and b_reps:
        info_extra = _agreement(names, matrices, pairs, cols_a, cols_b, units, factor)
        if params["n_components"] == "auto":
            # The primary representation's draws moved to each cell's larger-K fit.
            blocks.append(blocks[0] - point[..., None] + larger[..., None])
            n_models += 1
            info_extra["larger_k_point"] = larger
    draws = np.concatenate(blocks, axis=-1)
    p_value = None
    if n_permutations:
        p_value, test_info = _independence.matrix_test(
            settings, pairs, cols_a, cols_b, symmetric, seed, n_permutations, adjust,
            params["transform"], progress)
        info_extra.update(test_info)

    names_a = [c.name for c in cols_a]
    names_b = [c.name for c in cols_b]
    _warn_sparse_tables(pairs, cols_a, cols_b, n)
    coords = {"x": names_a, "y": names_b}
    kinds = {c.name: ("categorical" if c.categorical else "continuous") for c in cols_a + cols_b}
    result = MIMatrix(
        draws=xr.DataArray(draws, dims=("x", "y", "draw"), coords=coords, name="mi"),
        point_estimate=xr.DataArray(point, dims=("x", "y"), coords=coords, name="mi"),
        mc_error=xr.DataArray(error, dims=("x", "y"), coords=coords, name="mc_error"),
        n_components=xr.DataArray(ncomp, dims=("x", "y"), coords=coords, name="n_components"),
        units=units,
        info={"time_s": time.perf_counter() - start, "kinds": kinds, "n_samples": n,
              "n_pairs": len(pairs), "symmetric": symmetric, "representations": names,
              "entropy": _entropies(cols_a + ([] if symmetric else cols_b), counts, factor,
                                    repeat=n_models),
              **info_extra},
        n_models=n_models,
        p_value=None if p_value is None else xr.DataArray(p_value, dims=("x", "y"),
                                                          coords=coords, name="p_value"),
    )
    if b_reps:
        result.info["knn_check"] = _check_cells_against_knn(result, pairs, cols_a, cols_b,
                                                            factor)
    return result


def _warn_sparse_tables(pairs: list[tuple[int, int]], cols_a: list[_Column],
                        cols_b: list[_Column], n: int) -> None:
    """One warning naming the categorical × categorical cells with too few rows per cell."""
    sparse = [(cols_a[i].name, cols_b[j].name) for i, j in pairs
              if cols_a[i].categorical and cols_b[j].categorical
              and _counts.sparse_table(n, cols_a[i].n_classes, cols_b[j].n_classes)]
    if sparse:
        warn(
            f"in {len(sparse)} categorical × categorical cell(s) ({_cell_list(sparse)}) the "
            f"table has fewer than {_counts.MIN_ROWS_PER_CELL} rows per cell: the plug-in MI "
            "is biased upwards and its correction is unreliable. Merge rare classes or "
            "collect more rows; n_permutations= gives a calibrated test of those cells.",
            MisspecificationWarning,
        )


def _check_cells_against_knn(result: MIMatrix, pairs: list[tuple[int, int]],
                             cols_a: list[_Column], cols_b: list[_Column],
                             factor: float) -> dict[str, Any]:
    """The nearest-neighbour check of each cell with a mixture
    (:func:`~._pipeline.knn.check_against_knn`); one warning naming the cells whose
    95 % interval lies below the kNN estimate beyond both errors."""
    from bayes_gmm_mi._pipeline import knn  # scipy's k-d tree: imported on use

    _, upper = result.interval(0.95)
    upper = np.asarray(upper, np.float64) / factor
    estimate = np.full(upper.shape, np.nan)
    below = []
    for i, j in pairs:
        a, b = cols_a[i], cols_b[j]
        if a.categorical and b.categorical:
            continue
        if a.categorical or b.categorical:
            cat, con = (a, b) if a.categorical else (b, a)
            knn_estimate = knn.labelled_mi(con.values, cat.values)
        else:
            knn_estimate = knn.ksg_mi(a.values, b.values)
        estimate[i, j] = knn_estimate.mi * factor
        if knn.check_against_knn(float(upper[i, j]), knn_estimate)["below"]:
            below.append((a.name, b.name))
    if below:
        warn(
            f"in {len(below)} cell(s) ({_cell_list(below)}) the mixture's 95 % interval lies "
            "below an independent nearest-neighbour estimate (KSG, or Ross's for a categorical "
            "column; info['knn_check']['knn_mi']) beyond both errors: the mixture misses part "
            "of the dependence of those pairs, so their MI is too low. Try more components or "
            "more rows, or read those cells as lower bounds.",
            MisspecificationWarning,
        )
    return {"knn_mi": estimate, "below": below}


def _represented(cols: list[_Column], transform: str | None) -> list[_Column]:
    """The columns in one representation: continuous ones as normal scores for "rank"."""
    if transform != "rank":
        return cols
    return [c if c.categorical else _Column(c.name, gaussianise_ranks(c.values[:, None])[:, 0],
                                            False) for c in cols]


def _one_matrix(settings: MatrixSettings, pairs: list[tuple[int, int]], cols_a: list[_Column],
                cols_b: list[_Column], symmetric: bool, seed: int, counts: np.ndarray,
                factor: float, batch_size: int, client: Any, progress: bool,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Point estimates, MC errors, components, draws (x, y[, B]) and the larger-K fits'
    MI (x, y; the point estimate where there is none) of one representation."""
    b_reps = counts.shape[0]
    point = np.full((len(cols_a), len(cols_b)), np.nan)
    larger = np.full_like(point, np.nan)
    error = np.full_like(point, np.nan)
    ncomp = np.zeros(point.shape, int)
    draws = np.full(point.shape + (b_reps,), np.nan)
    batches = [pairs[lo:lo + batch_size] for lo in range(0, len(pairs), batch_size)]
    total = _count_data_sets(pairs, cols_a, cols_b)
    jobs = [(settings, batch, cols_a, cols_b, seed, counts, factor) for batch in batches]
    if client is None:
        with progress_bar(progress, total, "mi_matrix data sets") as bar:
            results = [matrix_batch(*job, bar=bar) for job in jobs]
    else:
        from bayes_gmm_mi._distributed import run_batches

        recorded = run_batches(client, matrix_batch_recording_warnings, jobs,
                               progress=progress)
        results = [result for result, _ in recorded]
        for _, caught in recorded:
            for category, message in caught:  # raised on a worker: re-raised here
                warn(message, category)
    for result in results:
        for i, j, value, err, k, reps, alt in result:
            for r, c in ((i, j), (j, i)) if symmetric else ((i, j),):
                point[r, c], error[r, c], ncomp[r, c], larger[r, c] = value, err, k, alt
                draws[r, c] = reps
    return point, error, ncomp, draws, larger


def _agreement(names: tuple[str, ...], matrices: list[tuple], pairs: list[tuple[int, int]],
               cols_a: list[_Column], cols_b: list[_Column], units: str, factor: float,
               ) -> dict[str, Any]:
    """Compare the representations cell by cell; one warning naming the cells that disagree."""
    from bayes_gmm_mi._pipeline import models

    disagree = []
    for i, j in pairs:
        if cols_a[i].categorical and cols_b[j].categorical:
            continue
        fits = np.array([m[0][i, j] for m in matrices]) / factor
        errs = np.array([m[1][i, j] for m in matrices]) / factor
        reps = np.stack([m[3][i, j] for m in matrices]) / factor
        if models.agreement(fits, errs, reps, paired=True)["disagree"]:
            disagree.append((cols_a[i].name, cols_b[j].name))
    if disagree:
        warn(
            f"in {len(disagree)} of {len(pairs)} cells ({_cell_list(disagree)}) the mixtures "
            "fitted to "
            "the data's coordinates and to the normal scores of their ranks give MI values "
            "further apart than their errors allow: at least one mixture misdescribes those "
            "pairs. Their draws span both fits; info['point_by_representation'] has both.",
            MisspecificationWarning,
        )
    return {"point_by_representation": {name: m[0] for name, m in zip(names, matrices,
                                                                       strict=True)},
            "disagree": disagree}


class MatrixSettings(NamedTuple):
    """What every batch of pairs needs besides the data: EM/selection settings,
    the Monte Carlo budget and whether continuous cells are also fitted at a larger
    K (:func:`~._pipeline.models.larger_components`; one object, sent once to a
    cluster)."""

    fit: FitSettings
    mc_samples: int
    larger_k: bool = False


def _pair_seed(seed: int, pair: tuple[int, int]) -> int:
    return int(child_seeds(seed, Stream.PAIRS, 1, *pair)[0])


def matrix_batch(settings: MatrixSettings, pairs: list[tuple[int, int]], cols_a: list[_Column],
                 cols_b: list[_Column], seed: int, counts: np.ndarray, factor: float,
                 bar: Any = None) -> list[tuple]:
    """MI of one batch of pairs: the unit of work (local, or one task on a worker).

    A pure function of its arguments: the same batch gives the same numbers
    wherever it runs (every pair's seeds derive from ``seed`` and the pair's
    indices; the bootstrap ``counts`` are shared by all pairs).

    Returns
    -------
    list of (i, j, point estimate, MC error, n_components, draws, larger-K MI)
        The last is the MI of the cell's fit at a larger K (``settings.larger_k``,
        continuous cells), else the point estimate.
    """
    if bar is None:
        from bayes_gmm_mi._progress import _Silent

        bar = _Silent()
    n = counts.shape[1] if counts.size else len(cols_a[0].values)
    b_reps = counts.shape[0]
    out: list[tuple] = []

    def put(i: int, j: int, value: float, err: float, k: int, reps: np.ndarray,
            larger: float | None = None) -> None:
        out.append((i, j, float(value), float(err), int(k), np.asarray(reps, np.float64),
                    float(value if larger is None else larger)))

    cont = [p for p in pairs if not cols_a[p[0]].categorical and not cols_b[p[1]].categorical]
    mixed = [p for p in pairs if cols_a[p[0]].categorical != cols_b[p[1]].categorical]
    both = [p for p in pairs if cols_a[p[0]].categorical and cols_b[p[1]].categorical]
    if cont:
        _continuous_pairs(settings, cont, cols_a, cols_b, n, seed, counts, factor, put, bar)
    if mixed:
        _mixed_pairs(settings, mixed, cols_a, cols_b, n, seed, counts, factor, put, bar)
    for i, j in both:
        ca, cb = cols_a[i], cols_b[j]
        # By counts, Miller-Madow corrected; replicates centred on the estimate
        # (as mutual_information(discrete_x=True, discrete_y=True)).
        value = float(corrected_mi(ca.values, cb.values, np.ones((1, n)))[0])
        reps = corrected_mi(ca.values, cb.values, counts) if b_reps else np.empty(0)
        if b_reps:
            reps = reps - np.median(reps) + value
        put(i, j, value * factor, 0.0, 0, reps * factor)
    return out


def matrix_batch_recording_warnings(*job: Any) -> tuple[list[tuple], list[tuple[type, str]]]:
    """:func:`matrix_batch` on a worker: its result and the warnings it raised
    (category, message), for the client to raise them at the user's line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = matrix_batch(*job)
    return result, [(w.category, str(w.message)) for w in caught]


def _continuous_pairs(settings: MatrixSettings, cont: list[tuple[int, int]],
                      cols_a: list[_Column], cols_b: list[_Column], n: int, seed: int,
                      counts: np.ndarray, factor: float, put: Any, bar: Any) -> None:
    """Continuous × continuous pairs: one data set per pair, through the pipeline."""
    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._pipeline import engine, prepare
    from bayes_gmm_mi._pipeline.integrate import base_samples, integrate
    from bayes_gmm_mi._pipeline.uncertainty import BOOTSTRAP, Request

    blocks = [standardise(np.column_stack([cols_a[i].values, cols_b[j].values]))[0]
              for i, j in cont]
    data = prepare.stack(blocks, [np.arange(n)] * len(cont), [_pair_seed(seed, p) for p in cont],
                         [f"pair ({cols_a[i].name}, {cols_b[j].name})" for i, j in cont])
    fitted, selection, _ = engine.fit_data_sets(data, settings.fit, n_samples=n, seed=seed)
    bar.update(len(cont))
    terms = _mi.mi_terms(1, 2)
    base = base_samples(seed, settings.mc_samples, 2)
    value, error = integrate(fitted.fits, terms, base)
    larger = (engine.larger_k_values(data, selection.k, settings.fit, terms, base)[1]
              if settings.larger_k else np.full(len(cont), np.nan))
    larger = np.where(np.isfinite(larger), larger, np.asarray(value, np.float64))
    draws = BOOTSTRAP.draw(fitted, Request(counts=counts))
    reps, _ = engine.integrate_draws(draws, fitted, terms, base, value, error)
    active = np.sum(np.asarray(fitted.fits.weights) > 0, axis=1)
    for m, (i, j) in enumerate(cont):
        put(i, j, value[m] * factor, error[m] * factor, active[m], reps[m] * factor,
            larger[m] * factor)
    _warn_degenerate(fitted, cont, cols_a, cols_b, settings.fit.reg_covar)


def _warn_degenerate(fitted: Any, cont: list[tuple[int, int]], cols_a: list[_Column],
                     cols_b: list[_Column], reg_covar: float) -> None:
    """One ``DegenerateComponentWarning`` naming the pairs whose fit is flat against
    ``reg_covar`` (a (nearly) deterministic pair; its MI is a lower bound)."""
    covariances = np.asarray(fitted.fits.covariances, np.float64)
    weights = np.asarray(fitted.fits.weights, np.float64)
    flat = []
    for m, (i, j) in enumerate(cont):
        masses = [k for k, _ in screen.point_masses(
            [cols_a[i].values[:, None], cols_b[j].values[:, None]], ["a", "b"])]
        if screen.flat_eigenvalues(covariances[m], weights[m], reg_covar, masses).size:
            flat.append((cols_a[i].name, cols_b[j].name))
    if flat:
        warn(
            f"in {len(flat)} cell(s) ({_cell_list(flat)}) a fitted component's covariance is "
            f"at the reg_covar={reg_covar:g} floor: those columns are (nearly) deterministic "
            "functions of each other (or copies), so their MI is infinite for an exact "
            "relation and the cell's estimate is a lower bound set by reg_covar. Check for "
            "duplicated or derived columns.",
            DegenerateComponentWarning,
        )


def _cell_list(cells: list[tuple[str, str]], shown: int = 5) -> str:
    """``('a', 'b'), ('c', 'd') and 3 more``: cells named in a warning."""
    text = ", ".join(f"({a!r}, {b!r})" for a, b in cells[:shown])
    return text + (f" and {len(cells) - shown} more" if len(cells) > shown else "")


def _mixed_pairs(settings: MatrixSettings, mixed: list[tuple[int, int]], cols_a: list[_Column],
                 cols_b: list[_Column], n: int, seed: int, counts: np.ndarray, factor: float,
                 put: Any, bar: Any) -> None:
    """Categorical × continuous pairs: one data set per (pair, class), batched."""
    import jax

    from bayes_gmm_mi._pipeline import engine, prepare
    from bayes_gmm_mi._pipeline.integrate import class_base_samples, integrate_classes
    from bayes_gmm_mi._pipeline.uncertainty import BOOTSTRAP, Request

    b_reps = counts.shape[0]
    # Group by the categorical column (same classes → same stacking).
    groups: dict[tuple[str, str], list] = {}
    for i, j in mixed:
        cat, con = (cols_a[i], cols_b[j]) if cols_a[i].categorical else (cols_b[j], cols_a[i])
        groups.setdefault(("a" if cols_a[i].categorical else "b",
                           cat.name), []).append((i, j, cat, con))
    for members in groups.values():
        cat = members[0][2]
        classes = np.asarray(cat.classes)
        n_classes = len(classes)
        index = prepare.class_indices(cat.values, n_classes)
        sizes = np.array([idx.size for idx in index])
        need = prepare.min_class_rows(settings.fit.n_folds, 1, settings.fit.n_components)
        prepare.check_class_sizes(sizes, classes, need, f"categorical column {cat.name!r}")
        blocks, indices, seeds, labels = [], [], [], []
        for i, j, _, con in members:
            scaled = standardise(con.values[:, None])[0]
            class_seeds = child_seeds(_pair_seed(seed, (i, j)), Stream.CLASSES, n_classes)
            for c in range(n_classes):
                blocks.append(scaled[index[c]])
                indices.append(index[c])
                seeds.append(class_seeds[c])
                labels.append(f"pair ({cat.name}, {con.name}) class {classes[c]!r}")
        data = prepare.stack(blocks, indices, seeds, labels)
        fitted, _, _ = engine.fit_data_sets(data, settings.fit, n_samples=n, seed=seed,
                                            partition=True)
        bar.update(len(blocks))
        draws = BOOTSTRAP.draw(fitted, Request(counts=counts))
        p = len(members)
        # (P·C, [1 + B], K, ...) → members (P·(1 + B), C, K, ...)
        everything = jax.tree.map(lambda f, r: np.concatenate([f[:, None], r], axis=1),
                                  fitted.fits, draws.params)
        stacked = jax.tree.map(
            lambda a: np.swapaxes(a.reshape((p, n_classes) + a.shape[1:]), 1, 2)
            .reshape((-1, n_classes) + a.shape[2:]), everything)
        freqs = np.broadcast_to(sizes / n, (p, 1, n_classes))                 # (P, 1, C)
        rep_freqs = np.swapaxes(draws.mass.reshape(p, n_classes, b_reps), 1, 2)  # (P, B, C)
        all_freqs = np.concatenate([freqs, rep_freqs], axis=1).reshape(-1, n_classes)
        base = class_base_samples(seed, settings.mc_samples, 1, n_classes)
        mi, err = integrate_classes(stacked, all_freqs, base)
        mi = mi.reshape(p, b_reps + 1) * factor
        err = err.reshape(p, b_reps + 1) * factor
        active = np.sum(np.asarray(fitted.fits.weights) > 0, axis=1).reshape(p, n_classes)
        reps = mi[:, 1:]
        if b_reps:  # centred on the bias-corrected estimate, as GMMCategoricalMI
            reps, _ = bias_corrected(reps, mi[:, 0])
        for m, (i, j, _, _) in enumerate(members):
            put(i, j, mi[m, 0], err[m, 0], active[m].sum(), reps[m])


def _entropies(cols: Sequence[_Column], counts: np.ndarray, factor: float,
               repeat: int = 1) -> dict:
    """Plug-in entropy of each categorical column: point value and per replicate.

    The replicates are repeated ``repeat`` times, once per representation of
    the matrix's draws (a categorical column is the same in each).
    """
    out = {}
    for col in cols:
        if not col.categorical:
            continue
        k = col.n_classes
        weights = np.vstack([np.ones((1, col.values.size)), counts]) if counts.size else \
            np.ones((1, col.values.size))
        probs = np.stack([np.bincount(col.values, weights=w, minlength=k)
                          for w in weights]).astype(np.float64)
        probs /= probs.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.sum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1) * factor
        out[col.name] = (float(h[0]), np.tile(h[1:], repeat))
    return out


def _count_data_sets(pairs: list[tuple[int, int]], cols_a: list[_Column],
                     cols_b: list[_Column]) -> int:
    """Data sets of a matrix: one per continuous pair, one per class of a mixed pair."""
    sets = 0
    for i, j in pairs:
        ca, cb = cols_a[i], cols_b[j]
        if ca.categorical != cb.categorical:
            sets += (ca if ca.categorical else cb).n_classes
        elif not ca.categorical:
            sets += 1
    return sets


def _check_memory(pairs: Sequence[tuple[int, int]], n: int, b_reps: int, limit: Any,
                  mc_samples: int = 100_000, n_permutations: int = 0) -> None:
    """Refuse a batch of pairs whose working arrays would exceed ``limit`` bytes.

    The one memory check of every entry point (:mod:`~._pipeline.memory`), for a
    batch of pair data sets (two columns each; up to 24 components), and the row
    orders of the permutation test (``n_permutations``).
    """
    request = _memory.needs(rows=n, dim=2, data_sets=len(pairs), k_pad=24,
                            mc_samples=mc_samples, n_bootstrap=b_reps)
    if n_permutations:
        request.append(_independence.orders_need(n, n_permutations))
    _memory.check(request, f"mi_matrix() with {len(pairs)} pairs per batch", limit,
                  advice="or use smaller batches of pairs (pair_batch=...) or a larger "
                         "memory_limit")


def _categorical_names(categorical: Any) -> set[str]:
    """The ``categorical=`` argument as a set of names: one string is one name."""
    if isinstance(categorical, str):
        return {categorical}
    if categorical is None:
        return set()
    try:
        names = list(categorical)
    except TypeError:
        raise TypeError(
            f"categorical must be a column name or a list of column names; got "
            f"{categorical!r} ({type(categorical).__name__})."
        ) from None
    bad = [c for c in names if not isinstance(c, str)]
    if bad:
        raise TypeError(
            f"categorical must hold column names (strings: DataFrame names, or 'a0', 'b2', ... "
            f"for arrays); got {bad[0]!r} ({type(bad[0]).__name__})."
        )
    return set(names)


#: GMMMI settings that mi_matrix accepts as options (bootstrap and Monte Carlo only).
MATRIX_OPTIONS = ("n_components", "selection", "max_components", "n_init", "n_folds",
                  "threshold", "patience", "init", "reg_covar", "tol", "max_iter",
                  "mc_samples", "transform", "dequantise")


#: The keyword arguments of mi_matrix itself (in the did-you-mean of an unknown option).
MATRIX_KEYWORDS = ("categorical", "n_bootstrap", "random_state", "units", "progress",
                   "memory_limit", "pair_batch", "client")


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    from bayes_gmm_mi._validation import check_options

    check_options(options, MATRIX_OPTIONS + MATRIX_KEYWORDS, "mi_matrix()")
    return dict(options)


def _full(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` completed with the defaults of :class:`~bayes_gmm_mi.GMMMI`."""
    from bayes_gmm_mi._estimator import GMMMI

    return {**GMMMI().get_params(), **params}
