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

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from bayes_gmm_mi._categorical import _pad_components, encode_labels, integrate_classes
from bayes_gmm_mi._estimator import (
    _SEED_MAX,
    _UNITS,
    GMMMI,
    _compact,
    _component_bucket,
    _row_bucket,
    _take,
)
from bayes_gmm_mi._progress import progress_bar
from bayes_gmm_mi._validation import (
    as_variable,
    check_int,
    gaussianise_ranks,
    seed_from,
    standardise,
)

# JAX and the kernels (_em, _mi, _batching) are imported where used: see _estimator.
if TYPE_CHECKING:  # pragma: no cover
    import jax

    from bayes_gmm_mi._em import GMMParams

__all__ = ["MIMatrix", "mi_matrix"]

#: Refuse requests whose working arrays would exceed this many bytes by default.
DEFAULT_MEMORY_LIMIT = 4 * 2**30


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
    """

    draws: Any
    point_estimate: Any
    mc_error: Any
    n_components: Any
    units: str
    info: dict[str, Any] = field(default_factory=dict)

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

        NaN everywhere when the matrix has no draws (``n_bootstrap=0``).
        """
        if not isinstance(prob, (int, float)) or not 0.0 < float(prob) < 1.0:
            raise ValueError(f"prob must be a number in (0, 1); got {prob!r}.")
        if self.draws.sizes["draw"] == 0:
            return self.point_estimate * np.nan, self.point_estimate * np.nan
        tail = 0.5 * (1.0 - float(prob))
        with warnings.catch_warnings():
            # The diagonal of a latent–latent matrix is NaN by design.
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            q = self.draws.quantile([tail, 1.0 - tail], dim="draw")
        return q.isel(quantile=0, drop=True), q.isel(quantile=1, drop=True)

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


def _columns(table: Any, prefix: str, categorical: set, n: int | None,
             transform: str | None = None) -> list[_Column]:
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
            if transform == "rank":
                column = gaussianise_ranks(column[:, None])[:, 0]
            cols.append(_Column(name, column, False))
        n = len(values)
    return cols


# ------------------------------------------------------- batched fitting
@dataclass
class _DataSets:
    """M data sets of equal padded shape: x (M, N_pad, D), global row index (M, N_pad)."""

    x: jax.Array
    index: np.ndarray     # global row of each padded row, -1 for padding
    seeds: np.ndarray     # (M,)

    @property
    def rows(self) -> np.ndarray:
        return (self.index >= 0).astype(np.float32)

    @property
    def count(self) -> np.ndarray:
        return (self.index >= 0).sum(axis=1)


def _stack_datasets(blocks: list[np.ndarray], indices: list[np.ndarray],
                    seeds: list[int]) -> _DataSets:
    import jax.numpy as jnp

    n_pad = _row_bucket(max(b.shape[0] for b in blocks))
    d = blocks[0].shape[1]
    x = np.zeros((len(blocks), n_pad, d), np.float32)
    index = np.full((len(blocks), n_pad), -1)
    for m, (b, idx) in enumerate(zip(blocks, indices)):
        x[m, : b.shape[0]] = b
        index[m, : b.shape[0]] = idx
    return _DataSets(jnp.asarray(x), index, np.asarray(seeds))


def _run(est: GMMMI, ds: _DataSets, members: np.ndarray, seeds: np.ndarray, train, score,
         k_active: int, k_pad: int, starts: GMMParams | None, bar) -> tuple[Any, np.ndarray]:
    """Run the per-member kernel over ``members`` (data-set ids) in capacity chunks.

    ``train``/``score`` are callables mapping a slice of member positions to
    weight arrays (built per chunk to bound memory).
    """
    import jax

    from bayes_gmm_mi import _em
    from bayes_gmm_mi._batching import chunks, pad_to_capacity
    from bayes_gmm_mi._em import GMMParams

    d = ds.x.shape[2]
    warm = starts is not None
    fits, scores = [], []
    for lo, hi in chunks(len(members)):
        sl = slice(lo, hi)
        if starts is None:
            start = jax.tree.map(
                lambda a: np.broadcast_to(a, (hi - lo,) + a.shape),
                GMMParams(np.zeros(k_pad, np.float32), np.zeros((k_pad, d), np.float32),
                          np.broadcast_to(np.eye(d, dtype=np.float32), (k_pad, d, d))))
        else:
            start = _take(starts, sl)
        batch = pad_to_capacity((seeds[sl], members[sl], train(sl), score(sl), start))
        res, sc = _em.fit_batch_each(
            batch[0], ds.x[batch[1]], batch[2], batch[3], hi - lo, k_active, batch[4], warm,
            k_pad=k_pad, init=est.init, reg_covar=est.reg_covar, tol=est.tol,
            max_iter=est.max_iter,
        )
        res, sc = jax.device_get((res, sc))
        fits.append(_take(res, slice(0, hi - lo)))
        scores.append(sc[: hi - lo])
        bar.update(hi - lo)
    cat = jax.tree.map(lambda *a: np.concatenate(a), *fits)
    return cat, np.concatenate(scores)


def _fit_datasets(est: GMMMI, ds: _DataSets, bar) -> tuple[GMMParams, np.ndarray, dict]:
    """Choose K for every data set at once, then fit each to all its rows.

    Returns the fits padded to one component bucket (M, K_pad, ...), the chosen
    K per data set, and per-data-set selection scores.
    """
    import jax

    m_total, n_pad, d = ds.x.shape
    rows = ds.rows
    counts = ds.count
    n_init, n_folds = est.n_init, est.n_folds
    init_seeds = np.stack([
        np.random.default_rng([int(s), 1]).integers(0, _SEED_MAX, n_init) for s in ds.seeds
    ]).astype(np.int32)                                     # (M, n_init)
    if est.n_components != "auto":
        chosen = np.full(m_total, int(est.n_components))
        scores: dict[int, dict[int, float]] = {m: {} for m in range(m_total)}
    else:
        val = np.zeros((m_total, n_folds, n_pad), np.float32)
        for m in range(m_total):
            real = np.flatnonzero(rows[m] > 0)
            perm = np.random.default_rng([int(ds.seeds[m]), 0]).permutation(real)
            fold = np.full(n_pad, -1)
            fold[perm] = np.arange(real.size) % n_folds
            for f in range(n_folds):
                val[m, f] = fold == f
        train = rows[:, None, :] - val
        n_train = counts - val.sum(axis=2).max(axis=1)
        k_limit = np.minimum(est.max_components, n_train.astype(int) // (d + 1))
        if np.any(k_limit < 1):
            raise ValueError(
                f"too few rows to fit even one component in {int(np.sum(k_limit < 1))} of the "
                f"data sets (smallest has {int(counts.min())} rows). Pass more data."
            )
        best_k = np.zeros(m_total, int)
        best = np.full(m_total, -np.inf)
        stall = np.zeros(m_total, int)
        alive = np.ones(m_total, bool)
        scores = {m: {} for m in range(m_total)}
        k = 0
        while alive.any():
            k += 1
            act = np.flatnonzero(alive & (k <= k_limit))
            alive &= k <= k_limit
            if act.size == 0:
                break
            # Members: data set × initialisation × fold.
            mem = np.repeat(act, n_init * n_folds)
            ini = np.tile(np.repeat(np.arange(n_init), n_folds), act.size)
            fol = np.tile(np.arange(n_folds), act.size * n_init)
            seeds = init_seeds[mem, ini]
            _, held = _run(
                est, ds, mem, seeds,
                lambda sl: train[mem[sl], fol[sl]], lambda sl: val[mem[sl], fol[sl]],
                k, _component_bucket(k), None, bar,
            )
            per = held.reshape(act.size, n_init, n_folds).mean(axis=2).max(axis=1)
            for m, score in zip(act, per):
                scores[m][k] = float(score)
                if score > best[m] + est.threshold:
                    best[m], best_k[m], stall[m] = score, k, 0
                else:
                    stall[m] += 1
                    if stall[m] >= est.patience:
                        alive[m] = False
        chosen = best_k
    k_pad = max(_component_bucket(int(k)) for k in chosen)
    final = [None] * m_total
    for k in np.unique(chosen):
        group = np.flatnonzero(chosen == k)
        mem = np.repeat(group, n_init)
        ini = np.tile(np.arange(n_init), group.size)
        res, _ = _run(est, ds, mem, init_seeds[mem, ini], lambda sl: rows[mem[sl]],
                      lambda sl: rows[mem[sl]], int(k), _component_bucket(int(k)), None, bar)
        ll = res.log_lik.reshape(group.size, n_init)
        best_init = ll.argmax(axis=1)
        for g, m in enumerate(group):
            final[m] = _pad_components(_take(res.params, g * n_init + best_init[g]), k_pad)
    params = jax.tree.map(lambda *a: np.stack(a), *final)
    return params, chosen, scores


def _bootstrap_datasets(est: GMMMI, ds: _DataSets, params: GMMParams, chosen: np.ndarray,
                        counts: np.ndarray, bar) -> GMMParams:
    """Refit every data set on every replicate's counts (warm start): (M, B, K_pad, ...)."""
    import jax

    m_total = ds.x.shape[0]
    b = counts.shape[0]
    k_pad = params.weights.shape[1]
    mem = np.repeat(np.arange(m_total), b)
    rep = np.tile(np.arange(b), m_total)
    index = ds.index

    def weights(sl):
        idx = index[mem[sl]]                                 # (c, N_pad)
        w = counts[rep[sl][:, None], np.maximum(idx, 0)]
        return np.where(idx >= 0, w, 0.0).astype(np.float32)

    starts = jax.tree.map(lambda a: a[mem], params)
    res, _ = _run(est, ds, mem, np.zeros(mem.size, np.int32), weights, weights,
                  1, k_pad, starts, bar)
    out = jax.tree.map(lambda a: a.reshape((m_total, b) + a.shape[1:]), res.params)
    # A data set drawn (almost) empty (a rare class) keeps its full-data fit;
    # its class frequency, hence its weight in the MI, is (almost) 0 anyway.
    totals = np.stack([counts[:, index[m][index[m] >= 0]].sum(axis=1) for m in range(m_total)])
    thin = totals < ds.x.shape[2] + 1                                   # (M, B)
    return jax.tree.map(
        lambda r, f: np.where(thin.reshape(thin.shape + (1,) * (r.ndim - 2)), f[:, None], r),
        out, params)


# ----------------------------------------------------------- integration
def _integrate_pairs(params: GMMParams, z, u) -> tuple[np.ndarray, np.ndarray]:
    """MI (nats) and MC error of 2-D mixtures with a flat leading batch axis."""
    import jax

    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._batching import chunks, pad_to_capacity

    params = _compact(jax.tree.map(np.asarray, params))
    terms = _mi.mi_terms(1, 2)
    mis, errs = [], []
    for lo, hi in chunks(params.weights.shape[0]):
        batch = pad_to_capacity(_take(params, slice(lo, hi)))
        mi, err = _mi.functional_monte_carlo_batch(batch, hi - lo, z, u, terms)
        mis.append(np.asarray(mi)[: hi - lo])
        errs.append(np.asarray(err)[: hi - lo])
    return np.concatenate(mis), np.concatenate(errs)


def _discrete_mi(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Plug-in MI (nats) of two code vectors for each row of ``weights`` (B, n)."""
    na, nb = a.max() + 1, b.max() + 1
    cell = a * nb + b
    out = np.empty(weights.shape[0])
    for i, w in enumerate(weights):
        joint = np.bincount(cell, weights=w, minlength=na * nb).reshape(na, nb) / w.sum()
        pa, pb = joint.sum(1), joint.sum(0)
        nz = joint > 0
        out[i] = float(np.sum(joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])))
    return out


# ------------------------------------------------------------------ API
def mi_matrix(
    a: Any,
    b: Any = None,
    *,
    categorical: Iterable[str] = (),
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    pair_batch: int | None = None,
    client: Any = None,
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
    categorical : iterable of str, default ()
        Names of categorical columns (DataFrame names, or ``"a0"``, ``"b2"``,
        ... for arrays). Columns with a pandas categorical, string, object or
        boolean dtype are categorical anyway.
    n_bootstrap : int, default 50
        Bootstrap replicates of the rows, shared by all pairs (0: point
        estimates only).
    random_state : None, int or numpy Generator
        The same value gives the same matrix.
    units : {"nat", "bit"}, default "nat"
    progress : bool, default False
        A progress bar over the EM fits.
    memory_limit : int, default 4 GiB
        Refuse (with a ``MemoryError`` naming smaller settings) requests whose
        working arrays are estimated to exceed this many bytes (per batch of
        pairs).
    pair_batch : int, optional
        Pairs per batch (default: all in one batch). Each batch is one pass
        through the kernels; smaller batches bound memory and are the unit of
        work sent to a cluster. The same ``random_state`` and ``pair_batch``
        give the same numbers locally and on a cluster.
    client : dask.distributed.Client, optional
        Run the batches on this Dask cluster (``pip install bayes_gmm_mi[dask]``);
        a batch lost with a dying worker is recomputed. Without a client
        nothing changes and dask is not imported.
    **options
        :class:`GMMMI` settings (``n_init``, ``n_folds``, ``max_components``,
        ``threshold``, ``patience``, ``reg_covar``, ``tol``, ``max_iter``,
        ``mc_samples``, ``init``, ``n_components``, ``transform``).
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

    est = GMMMI(n_bootstrap=n_bootstrap, random_state=random_state, units=units,
                progress=progress, **_check_options(options))
    est._check_params()
    if est.integration != "mc" or est.method != "bootstrap":
        raise ValueError("mi_matrix integrates by Monte Carlo and uses the bootstrap only.")
    categorical = set(categorical)
    cols_a = _columns(a, "a", categorical, None, est.transform)
    n = len(cols_a[0].values)
    cols_b = cols_a if b is None else _columns(b, "b", categorical, n, est.transform)
    symmetric = b is None
    if symmetric and len(cols_a) < 2:
        raise ValueError("a latent–latent matrix needs at least two columns in a.")
    known = {c.name for c in cols_a} | {c.name for c in cols_b}
    unknown = sorted(categorical - known)
    if unknown:
        raise ValueError(f"categorical names columns that do not exist: {unknown}; "
                         f"columns are {sorted(known)}.")
    pairs = [(i, j) for i in range(len(cols_a)) for j in range(len(cols_b))
             if not symmetric or i < j]
    seed = seed_from(random_state)
    start = time.perf_counter()
    b_reps = est.n_bootstrap
    batch_size = len(pairs) if pair_batch is None else check_int(pair_batch, "pair_batch", 1)
    _check_memory(pairs[:batch_size], n, b_reps, memory_limit)

    rng = np.random.default_rng([seed, 2])
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=b_reps).astype(np.float32) \
        if b_reps else np.zeros((0, n), np.float32)
    point = np.full((len(cols_a), len(cols_b)), np.nan)
    error = np.full_like(point, np.nan)
    ncomp = np.zeros(point.shape, int)
    draws = np.full(point.shape + (b_reps,), np.nan)

    factor = _UNITS[units]
    batches = [pairs[lo:lo + batch_size] for lo in range(0, len(pairs), batch_size)]
    total_fits = _estimate_fits(est, pairs, cols_a, cols_b, b_reps)
    jobs = [(est, batch, cols_a, cols_b, seed, counts, factor) for batch in batches]
    if client is None:
        with progress_bar(progress, total_fits, "mi_matrix fits") as bar:
            results = [matrix_batch(*job, bar=bar) for job in jobs]
    else:
        from bayes_gmm_mi._distributed import run_batches

        results = run_batches(client, matrix_batch, jobs, progress=progress)
    for result in results:
        for i, j, value, err, k, reps in result:
            for r, c in ((i, j), (j, i)) if symmetric else ((i, j),):
                point[r, c], error[r, c], ncomp[r, c] = value, err, k
                draws[r, c] = reps

    names_a = [c.name for c in cols_a]
    names_b = [c.name for c in cols_b]
    coords = {"x": names_a, "y": names_b}
    kinds = {c.name: ("categorical" if c.categorical else "continuous") for c in cols_a + cols_b}
    return MIMatrix(
        draws=xr.DataArray(draws, dims=("x", "y", "draw"), coords=coords, name="mi"),
        point_estimate=xr.DataArray(point, dims=("x", "y"), coords=coords, name="mi"),
        mc_error=xr.DataArray(error, dims=("x", "y"), coords=coords, name="mc_error"),
        n_components=xr.DataArray(ncomp, dims=("x", "y"), coords=coords, name="n_components"),
        units=units,
        info={"time_s": time.perf_counter() - start, "kinds": kinds, "n_samples": n,
              "n_pairs": len(pairs), "symmetric": symmetric,
              "entropy": _entropies(cols_a + ([] if symmetric else cols_b), counts, factor)},
    )


def _pair_seed(seed: int, pair: tuple[int, int]) -> int:
    return int(np.random.default_rng([seed, 20, pair[0], pair[1]]).integers(_SEED_MAX))


def matrix_batch(est: GMMMI, pairs: list[tuple[int, int]], cols_a: list[_Column],
                 cols_b: list[_Column], seed: int, counts: np.ndarray, factor: float,
                 bar: Any = None) -> list[tuple]:
    """MI of one batch of pairs: the unit of work (local, or one task on a worker).

    A pure function of its arguments: the same batch gives the same numbers
    wherever it runs (every pair's seeds derive from ``seed`` and the pair's
    indices; the bootstrap ``counts`` are shared by all pairs).

    Returns
    -------
    list of (i, j, point estimate, MC error, n_components, draws)
    """
    import jax

    if bar is None:
        from bayes_gmm_mi._progress import _Silent

        bar = _Silent()
    n = counts.shape[1] if counts.size else len(cols_a[0].values)
    b_reps = counts.shape[0]
    out: list[tuple] = []

    def put(i, j, value, err, k, reps):
        out.append((i, j, float(value), float(err), int(k), np.asarray(reps, np.float64)))

    cont = [p for p in pairs if not cols_a[p[0]].categorical and not cols_b[p[1]].categorical]
    mixed = [p for p in pairs if cols_a[p[0]].categorical != cols_b[p[1]].categorical]
    both = [p for p in pairs if cols_a[p[0]].categorical and cols_b[p[1]].categorical]
    if cont:
        blocks = [standardise(np.column_stack([cols_a[i].values, cols_b[j].values]))[0]
                  for i, j in cont]
        ds = _stack_datasets(blocks, [np.arange(n)] * len(cont),
                             [_pair_seed(seed, p) for p in cont])
        params, chosen, _ = _fit_datasets(est, ds, bar)
        z, u = _base_samples(seed, est.mc_samples, 2)
        everything = jax.tree.map(lambda f: f[:, None], params)     # (M, 1, ...)
        if b_reps:
            boot = _bootstrap_datasets(est, ds, params, chosen, counts, bar)
            everything = jax.tree.map(
                lambda f, r: np.concatenate([f[:, None], r], axis=1), params, boot)
        flat = jax.tree.map(lambda a: a.reshape((-1,) + a.shape[2:]), everything)
        mi, err = _integrate_pairs(flat, z, u)
        mi = mi.reshape(len(cont), b_reps + 1) * factor
        err = err.reshape(len(cont), b_reps + 1) * factor
        for m, (i, j) in enumerate(cont):
            put(i, j, mi[m, 0], err[m, 0], np.sum(params.weights[m] > 0), mi[m, 1:])
    if mixed:
        _mixed_pairs(est, mixed, cols_a, cols_b, n, seed, counts, factor, put, bar)
    for i, j in both:
        ca, cb = cols_a[i], cols_b[j]
        value = _discrete_mi(ca.values, cb.values, np.ones((1, n)))[0] * factor
        reps = _discrete_mi(ca.values, cb.values, counts) * factor if b_reps else np.empty(0)
        put(i, j, value, 0.0, 0, reps)
    return out


def _mixed_pairs(est, mixed, cols_a, cols_b, n, seed, counts, factor, put, bar):
    """Categorical × continuous pairs: one data set per (pair, class), batched."""
    import jax

    from bayes_gmm_mi import _mi

    b_reps = counts.shape[0]
    # Group by the categorical column (same classes → same stacking).
    groups: dict[tuple[str, str], list] = {}
    for i, j in mixed:
        cat, con = (cols_a[i], cols_b[j]) if cols_a[i].categorical else (cols_b[j], cols_a[i])
        groups.setdefault(("a" if cols_a[i].categorical else "b",
                           cat.name), []).append((i, j, cat, con))
    for members in groups.values():
        cat = members[0][2]
        n_classes = len(cat.classes)
        index = [np.flatnonzero(cat.values == c) for c in range(n_classes)]
        small = [(cat.classes[c], idx.size) for c, idx in enumerate(index)
                 if idx.size < max(2 * est.n_folds, 10)]
        if small:
            raise ValueError(
                f"categorical column {cat.name!r}: every class needs at least "
                f"{max(2 * est.n_folds, 10)} rows; " +
                ", ".join(f"{lab!r} has {cnt}" for lab, cnt in small) + ".")
        blocks, indices, seeds = [], [], []
        for i, j, _, con in members:
            scaled = standardise(con.values[:, None])[0]
            for c in range(n_classes):
                blocks.append(scaled[index[c]])
                indices.append(index[c])
                seeds.append(int(np.random.default_rng([_pair_seed(seed, (i, j)), c])
                                 .integers(_SEED_MAX)))
        ds = _stack_datasets(blocks, indices, seeds)
        params, chosen, _ = _fit_datasets(est, ds, bar)
        freqs = np.array([idx.size for idx in index], float) / n
        everything = jax.tree.map(lambda a: a[:, None], params)      # (M, 1, K, ...)
        all_freqs = np.tile(freqs, (len(members), 1))[:, None]       # (P, 1, C)
        if b_reps:
            boot = _bootstrap_datasets(est, ds, params, chosen, counts, bar)
            everything = jax.tree.map(lambda f, r: np.concatenate([f, r], axis=1),
                                      everything, boot)
            rep_freqs = np.stack([counts[:, idx].sum(axis=1) for idx in index], -1) / n
            all_freqs = np.concatenate(
                [all_freqs, np.broadcast_to(rep_freqs, (len(members),) + rep_freqs.shape)], 1)
        k_pad = everything.weights.shape[-1]
        # (P * C, B + 1, ...) → (P, B + 1, C, ...) → flat (P * (B + 1), C, ...)
        stacked = jax.tree.map(
            lambda a: np.swapaxes(a.reshape((len(members), n_classes) + a.shape[1:]), 1, 2)
            .reshape((-1, n_classes) + a.shape[2:]), everything)
        z, u = _mi.class_base_samples(seed, max(1, math.ceil(est.mc_samples / n_classes)), 1,
                                      n_classes)
        mi, err = integrate_classes(stacked, all_freqs.reshape(-1, n_classes), z, u)
        mi = mi.reshape(len(members), b_reps + 1) * factor
        err = err.reshape(len(members), b_reps + 1) * factor
        del k_pad
        for m, (i, j, _, _) in enumerate(members):
            k = int(np.sum(params.weights[m * n_classes:(m + 1) * n_classes] > 0))
            put(i, j, mi[m, 0], err[m, 0], k, mi[m, 1:])


def _base_samples(seed: int, size: int, d: int):
    import jax.numpy as jnp

    rng = np.random.default_rng([seed, 3])
    return (jnp.asarray(rng.standard_normal((size, d), dtype=np.float32)),
            jnp.asarray(rng.random(size, dtype=np.float32)))


def _entropies(cols: Sequence[_Column], counts: np.ndarray, factor: float) -> dict:
    """Plug-in entropy of each categorical column: point value and per replicate."""
    out = {}
    for col in cols:
        if not col.categorical:
            continue
        k = len(col.classes)
        weights = np.vstack([np.ones((1, col.values.size)), counts]) if counts.size else \
            np.ones((1, col.values.size))
        probs = np.stack([np.bincount(col.values, weights=w, minlength=k) for w in weights])
        probs /= probs.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.sum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1) * factor
        out[col.name] = (float(h[0]), h[1:])
    return out


def _estimate_fits(est, pairs, cols_a, cols_b, b_reps) -> int:
    per_k = est.n_init * (est.n_folds if est.n_components == "auto" else 0)
    sets = 0
    for i, j in pairs:
        ca, cb = cols_a[i], cols_b[j]
        if ca.categorical != cb.categorical:
            sets += len((ca if ca.categorical else cb).classes)
        elif not ca.categorical:
            sets += 1
    return sets * (3 * per_k + est.n_init + b_reps)


def _check_memory(pairs, n, b_reps, limit) -> None:
    """Estimate the largest working arrays and refuse requests beyond ``limit`` bytes."""
    n_pad = _row_bucket(n)
    sets = len(pairs)
    data = sets * n_pad * 2 * 4                       # stacked pair data (float32)
    boot = b_reps * n * 4 * 2                         # counts + one gathered chunk
    integ = sets * (b_reps + 1) * 24 * 12 * 4 * 2     # mixtures (K ≤ 24, D = 2)
    total = data + boot + integ
    if total > limit:
        raise MemoryError(
            f"mi_matrix would need about {total / 2**30:.1f} GiB for {len(pairs)} pairs × "
            f"{n} rows × {b_reps} replicates (memory_limit={limit / 2**30:.1f} GiB). Use smaller "
            "batches of pairs (pair_batch=...), fewer n_bootstrap, or raise memory_limit if the "
            "machine has the memory."
        )


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    from bayes_gmm_mi._validation import check_options

    allowed = {"n_init", "n_folds", "max_components", "threshold", "patience", "reg_covar",
               "tol", "max_iter", "mc_samples", "init", "n_components", "transform"}
    check_options(options, allowed, "mi_matrix()")
    return options
