"""Is there any dependence? A permutation test of the estimator's own MI.

The statistic is the estimator's point estimate of MI, with the user's settings;
its null distribution is the same estimator on P copies of the data in which
the rows of y (the labels, for a categorical y) are permuted, x fixed: every copy
is one data set of one batched pass through the pipeline
(:mod:`bayes_gmm_mi._pipeline.permutation`), with K chosen again for each copy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._pipeline import settings as _settings
from bayes_gmm_mi._validation import (
    MAX_DIMENSIONS,
    as_block,
    check_options,
    check_same_rows,
    describe,
    seed_from,
)

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._pipeline.permutation import NullFits

__all__ = [
    "IndependenceTestResult",
    "independence_test",
    "run_test",
    "statistic_transform",
    "check_n_permutations",
    "adjust_p_values",
    "ADJUSTMENTS",
]

#: :class:`~bayes_gmm_mi.GMMMI` settings that change the statistic (the
#: uncertainty settings — ``method``, ``n_bootstrap``, the samplers — do not).
TEST_OPTIONS = ("selection", "max_components", "n_init", "n_folds", "threshold", "patience",
                "init", "reg_covar", "tol", "max_iter", "mc_samples", "transform", "dequantise")
#: The explicit keywords of :func:`independence_test` (offered by "did you mean").
_EXPLICIT = ("discrete_y", "discrete_x", "n_permutations", "n_components", "random_state",
             "units", "progress")

#: What to pass instead for a discrete-looking column (ends the refusal).
DISCRETE_ADVICE = (
    "Pass discrete_y=True if y holds classes, or dequantise=True to spread each value "
    "uniformly over its cell (the MI of discrete data, and so the test, is unchanged)."
)

#: Multiple-testing adjustments of :func:`adjust_p_values`.
ADJUSTMENTS = (None, "holm", "bh")


@dataclass(frozen=True, repr=False)
class IndependenceTestResult:
    """The result of a permutation test of independence.

    Attributes
    ----------
    statistic : float
        The estimator's MI on the data, in ``units`` (the representation
        ``representation``; see :func:`independence_test`).
    p_value : float
        ``(1 + #{null ≥ statistic}) / (1 + n_permutations)``: a valid p-value
        (under independence, P(p ≤ α) ≤ α for every α), in steps of
        ``1 / (1 + n_permutations)``.
    null : ndarray of shape (n_permutations,)
        The same estimator's MI on each permuted copy, in ``units``.
    n_permutations : int
    units : {"nat", "bit"}
    representation : {"rank", "data", "counts"}
        The representation the mixtures were fitted to: the normal scores of
        the ranks of each column, or the data's own (standardised) coordinates;
        ``"counts"`` for two discrete variables (the table, no mixture).
    n_components : int
        Components of the mixture fitted to the data (summed over the classes
        of a categorical y).
    info : dict
        ``"null_n_components"`` (K of each copy), ``"mc_error"`` (Monte Carlo
        error of the statistic), ``"time_s"``, ``"seed"``.
    """

    statistic: float
    p_value: float
    null: np.ndarray
    n_permutations: int
    units: str = "nat"
    representation: str = "rank"
    n_components: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def resolution(self) -> float:
        """The smallest p-value the test can give, ``1 / (1 + n_permutations)``."""
        return 1.0 / (1.0 + self.n_permutations)

    @property
    def p_value_error(self) -> float:
        """Monte Carlo standard error of ``p_value`` against the exact permutation
        p-value (all n! permutations): ``sqrt(p (1 − p) / (1 + n_permutations))``."""
        p = self.p_value
        return math.sqrt(p * (1.0 - p) / (1.0 + self.n_permutations))

    def __repr__(self) -> str:
        null = np.asarray(self.null)
        quantile = float(np.quantile(null, 0.95)) if null.size else math.nan
        return (f"IndependenceTestResult(statistic={self.statistic:.4g} {self.units}s, "
                f"p_value={self.p_value:.4g} (smallest possible {self.resolution:.3g}), "
                f"n_permutations={self.n_permutations}, null 95% quantile={quantile:.4g}, "
                f"representation={self.representation!r})")


def check_n_permutations(value: Any, *, minimum: int = 1) -> int:
    """``n_permutations`` as an int ≥ ``minimum``, or one clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"n_permutations must be an integer ≥ {minimum} (the number of permuted copies of "
            f"the data; 99 gives p-values down to 0.01); got {describe(value)}."
        )
    if value < minimum:
        raise ValueError(
            f"n_permutations must be an integer ≥ {minimum} (the number of permuted copies of "
            f"the data; 99 gives p-values down to 0.01); got {value}."
        )
    return int(value)


def statistic_transform(transform: str | None) -> str | None:
    """The representation whose MI is the test statistic: ``"auto"`` → ``"rank"``."""
    return "rank" if transform == "auto" else transform


def independence_test(
    x: Any,
    y: Any,
    *,
    discrete_y: bool = False,
    discrete_x: bool = False,
    n_permutations: int = 99,
    n_components: int | str = "auto",
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> IndependenceTestResult:
    """Is there any dependence between x and y? A permutation test of the MI estimate.

    The statistic is the estimator's own point estimate of MI (as
    :func:`mutual_information`, with the same settings); its null distribution
    is the same estimator applied to ``n_permutations`` copies of the data in
    which the rows of ``y`` are permuted (``x`` fixed) — for a categorical ``y``
    (``discrete_y=True``) the labels are permuted, so the class sizes stay the
    same. Every copy goes through the whole estimator: preparation, the choice
    of K by cross-validation (made again for each copy), EM and the Monte Carlo
    integral, with the data's seed (the same folds, initialisations and
    integration points: the copies differ only by the permutation). All the
    copies are fitted in one batched pass of the JAX kernels. The p-value is

        p = (1 + #{null ≥ statistic}) / (1 + n_permutations),

    valid whatever the estimator's bias: under independence (rows exchangeable)
    the data and the permuted copies are exchangeable, so P(p ≤ α) ≤ α.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, d)
        A continuous variable (one column or a block).
    y : array-like of shape (n,) or (n, d)
        A continuous variable, or class labels with ``discrete_y=True``.
    discrete_y : bool, default False
        ``y`` holds class labels (as in :func:`mutual_information`).
    discrete_x : bool, default False
        ``x`` holds class labels: alone, x and y swap roles (the labels of x
        are permuted against the continuous y); with ``discrete_y=True`` both
        are discrete and the statistic is the Miller–Madow corrected MI of
        their table of counts (no mixture; the mixture settings are unused).
    n_permutations : int, default 99
        Permuted copies P. The p-value moves in steps of 1 / (P + 1): 99 gives
        p-values down to 0.01, 19 down to 0.05 (then "p = 0.05" is the
        smallest, and a test at α = 0.05 can still reject). The cost is that
        of P + 1 point estimates (no bootstrap).
    n_components : "auto" or int, default "auto"
        ``"auto"`` chooses K by ``selection`` for the data *and for every
        copy*: the honest null, since the choice of K is part of the statistic
        (keeping the K chosen on the data for every copy would be cheaper but
        not exact: the copies would not go through the procedure the data went
        through; ``studies/independence`` measures both). An int fixes K for all.
    random_state : None, int or numpy Generator, default None
        Seeds the permutations (and the folds, initialisations and Monte
        Carlo points); the same value gives the same p-value. The first P
        permutations of a seed are the same for any larger P.
    units : {"nat", "bit"}, default "nat"
        Units of ``statistic`` and ``null``.
    progress : bool, default False
    **options
        The selection and EM settings of :class:`GMMMI` (``selection``,
        ``max_components``, ``n_init``, ``n_folds``, ``threshold``,
        ``patience``, ``init``, ``reg_covar``, ``tol``, ``max_iter``),
        ``mc_samples`` and ``transform``, validated as there. An unknown name is
        a ``TypeError``.

    Returns
    -------
    IndependenceTestResult
        ``statistic``, ``p_value``, ``null`` (P values), ``n_permutations``.

    Notes
    -----
    With ``transform="auto"`` (the default) the statistic is the MI of the
    mixture fitted to the *normal scores of the ranks* of each column
    (``transform="rank"``), not the data-coordinates fit that
    :func:`mutual_information` reports as its point estimate. MI is invariant
    under monotone maps of each column, and so is this statistic: it does not
    depend on the margins at all (heavy tails, skew, bounded or uniform
    columns cost no components, which the data-coordinates fit spends on the
    margins and which add noise to the statistic, not signal); it is robust to
    outliers; and it needs one fit per copy instead of two. The test is valid
    with either representation (``transform=None`` tests with the data
    coordinates). The permutation makes a small-sample bias of the estimator
    harmless (x independent of 10 classes at N = 1000 reads about 0.02 nats,
    and so does every permuted copy).

    Not a test of conditional independence (there is no z), and the rows must
    be exchangeable (independent draws): for time series, permuting rows
    destroys the autocorrelation and the test is not valid.

    Examples
    --------
    >>> import numpy as np
    >>> from bayes_gmm_mi import independence_test
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> y = 0.6 * x + 0.8 * rng.normal(size=500)
    >>> res = independence_test(x, y, n_permutations=19, random_state=0)  # doctest: +SKIP
    >>> res.p_value  # doctest: +SKIP
    0.05
    """
    for flag, value in (("discrete_y", discrete_y), ("discrete_x", discrete_x)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False; got {describe(value)}.")
    unknown = {name: value for name, value in options.items() if name not in TEST_OPTIONS}
    check_options(unknown, TEST_OPTIONS + _EXPLICIT, "independence_test()")
    from bayes_gmm_mi._estimator import GMMMI

    params = {**GMMMI().get_params(), **options, "n_components": n_components,
              "random_state": random_state, "units": units, "progress": progress}
    _settings.validate(params)
    if discrete_x and discrete_y:
        return _discrete_test(params, x, y, n_permutations)
    if discrete_x:
        x, y = y, x
    return run_test(params, x, y, discrete_y=discrete_y or discrete_x,
                    n_permutations=n_permutations)


def _discrete_test(params: dict[str, Any], x: Any, y: Any,
                   n_permutations: Any) -> IndependenceTestResult:
    """The test of two discrete variables: the corrected MI of their table, y permuted."""
    from bayes_gmm_mi._categorical import encode_labels
    from bayes_gmm_mi._pipeline import counts, memory, permutation, screen
    from bayes_gmm_mi._validation import check_array_like

    n_permutations = check_n_permutations(n_permutations)
    seed = seed_from(params["random_state"])
    x, y = screen.align_rows([x, y], ["x", "y"])
    start = time.perf_counter()
    check_array_like(x, "x", kind="class labels", shapes="(n,)")
    n = len(x)
    a, _ = encode_labels(x, n)
    b, _ = encode_labels(y, n)
    memory.check([orders_need(n, n_permutations)], "independence_test()")
    fits = permutation.discrete_null(
        a, b, seed, n_permutations,
        lambda u, v: float(counts.corrected_mi(u, v, np.ones((1, u.size)))[0]))
    factor = _settings.UNITS[params["units"]]
    values = fits.values[0]
    return IndependenceTestResult(
        statistic=float(values[0]) * factor,
        p_value=float(permutation.p_value(values[0], values[1:])),
        null=np.asarray(values[1:], np.float64) * factor,
        n_permutations=n_permutations,
        units=params["units"],
        representation="counts",
        n_components=0,
        info={"null_n_components": np.zeros(n_permutations, int), "mc_error": 0.0,
              "time_s": time.perf_counter() - start, "seed": seed},
    )


def run_test(params: dict[str, Any], x: Any, y: Any, *, discrete_y: bool, n_permutations: Any,
             null_components: str = "reselect") -> IndependenceTestResult:
    """The test with validated estimator ``params`` (the body of :func:`independence_test`
    and of ``GMMMI.independence_test``).

    ``null_components="observed"`` keeps the K chosen on the data for every
    copy (not exact; for the study that measured it).
    """
    from bayes_gmm_mi._pipeline import permutation, prepare, screen

    n_permutations = check_n_permutations(n_permutations)
    if null_components not in permutation.NULL_COMPONENTS:
        raise ValueError(f"null_components must be one of {permutation.NULL_COMPONENTS}; "
                         f"got {null_components!r}.")
    transform = statistic_transform(params["transform"])
    if transform is not None and not isinstance(transform, str):  # pragma: no cover
        raise TypeError(f"transform must be 'auto', None or 'rank'; got {transform!r}.")
    settings = _settings.fit_settings(params)
    seed = seed_from(params["random_state"])
    x, y = screen.align_rows([x, y], ["x", "y"])
    block = as_block(x, "x")
    n = block.shape[0]
    start = time.perf_counter()
    common = dict(transform=transform, settings=settings, mc_samples=params["mc_samples"],
                  seed=seed, n_permutations=n_permutations, null_components=null_components,
                  progress=params["progress"])
    if discrete_y:
        from bayes_gmm_mi._categorical import encode_labels

        [block] = screen.check_continuous([block], ["x"], advice=DISCRETE_ADVICE,
                                          dequantise_ties=params["dequantise"])
        d = block.shape[1]
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"x has {d} columns; the mixture kernels support at most {MAX_DIMENSIONS}, "
                "because a full-covariance component in D dimensions has D(D+3)/2 + 1 "
                f"parameters ({MAX_DIMENSIONS * (MAX_DIMENSIONS + 3) // 2 + 1} at "
                f"D = {MAX_DIMENSIONS}) and needs about 5 rows for each. Reduce the dimension "
                "(e.g. PCA of x) or test fewer columns.")
        codes, classes = encode_labels(y, n)
        if len(classes) < 2:
            raise ValueError(
                f"labels hold a single class ({classes[0]!r}); MI with a constant is 0, "
                "there is nothing to test. Pass labels with at least two classes."
            )
        counts = np.bincount(codes, minlength=len(classes))
        need = prepare.min_class_rows(settings.n_folds, d, settings.n_components)
        prepare.check_class_sizes(counts, classes, need, "labels")
        _check_memory(params, n, d, n_permutations, len(classes))
        fits = permutation.categorical_null([(block, codes, len(classes))], [seed], [""],
                                            class_names=[list(classes)], **common)
    else:
        from bayes_gmm_mi import _mi

        other = as_block(y, "y")
        check_same_rows([block, other], ("x", "y"))
        block, other = screen.check_continuous([block, other], ["x", "y"], advice=DISCRETE_ADVICE,
                                               dequantise_ties=params["dequantise"])
        d = block.shape[1] + other.shape[1]
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"the variables have {d} columns in all ({block.shape[1]} + {other.shape[1]}); "
                f"the mixture kernels support at most {MAX_DIMENSIONS}, because a "
                "full-covariance component in D dimensions has D(D+3)/2 + 1 parameters "
                f"({MAX_DIMENSIONS * (MAX_DIMENSIONS + 3) // 2 + 1} at D = {MAX_DIMENSIONS}) "
                "and needs about 5 rows for each. Reduce the dimension (e.g. PCA of a block) "
                "or test fewer columns."
            )
        screen.check_fixed_components(n, d, params["n_components"], "the data")
        _check_memory(params, n, d, n_permutations, 1)
        fits = permutation.continuous_null([(block, other)], [seed], [""],
                                           terms=_mi.mi_terms(block.shape[1], d), **common)
    return _result(fits, 0, params["units"], transform, n_permutations,
                   time.perf_counter() - start, seed)


def _check_memory(params: dict[str, Any], n: int, d: int, n_permutations: int,
                  sets_per_copy: int) -> None:
    """Refuse, up front, a test whose working arrays would not fit in memory."""
    from bayes_gmm_mi._pipeline import memory, permutation
    from bayes_gmm_mi._pipeline.mixtures import row_bucket

    per_call = min(n_permutations + 1, permutation._copies_per_call(
        row_bucket(n), d, params["n_folds"], sets_per_copy))
    memory.check([*memory.needs(rows=n, dim=d, data_sets=per_call * sets_per_copy,
                                mc_samples=params["mc_samples"]),
                  orders_need(n, n_permutations)], "independence_test()")


def orders_need(n: int, n_permutations: int) -> Any:
    """The memory of the row orders of every permuted copy (held at once), and the null."""
    from bayes_gmm_mi._pipeline import memory

    return memory.Need("n_permutations", n_permutations,
                       f"for the row orders of the permuted copies ({n} rows each)",
                       8.0 * (n_permutations + 1) * (n + 4))


def _result(fits: NullFits, item: int, units: str, transform: str | None, n_permutations: int,
            elapsed: float, seed: int) -> IndependenceTestResult:
    from bayes_gmm_mi._pipeline import permutation
    from bayes_gmm_mi._pipeline.prepare import REPRESENTATION_NAMES

    factor = _settings.UNITS[units]
    values = fits.values[item]
    return IndependenceTestResult(
        statistic=float(values[0]) * factor,
        p_value=float(permutation.p_value(values[0], values[1:])),
        null=np.asarray(values[1:], np.float64) * factor,
        n_permutations=n_permutations,
        units=units,
        representation=REPRESENTATION_NAMES[transform],
        n_components=int(fits.n_components[item, 0]),
        info={"null_n_components": np.asarray(fits.n_components[item, 1:]),
              "mc_error": float(fits.errors[item, 0]) * factor,
              "time_s": elapsed, "seed": seed},
    )


# ------------------------------------------------------------------ matrices
def adjust_p_values(p: np.ndarray, method: str | None) -> np.ndarray:
    """Multiple-testing adjustment of a vector of p-values.

    ``"holm"``: Holm's step-down adjustment (controls the family-wise error
    rate, the chance of any false positive, under any dependence between the
    tests); ``"bh"``: Benjamini–Hochberg (controls the expected share of false
    positives among the cells called dependent, the false discovery rate; valid
    for independent or positively dependent tests); None: unchanged.
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"adjust must be None, 'holm' or 'bh'; got {method!r}.")
    p = np.asarray(p, np.float64)
    m = p.size
    if method is None or m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adjusted = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def matrix_p_values(settings: Any, pairs: list[tuple[int, int]], cols_a: list[Any],
                    cols_b: list[Any], seed: int, n_permutations: int, transform: Any,
                    progress: bool = False) -> np.ndarray:
    """Permutation p-values of the cells ``pairs`` of a matrix (unadjusted), shape (len(pairs),).

    ``settings`` is the matrix's ``MatrixSettings``; the columns are the
    matrix's raw ``_Column`` objects (the statistic's representation,
    :func:`statistic_transform`, is applied to each copy). Continuous pairs and
    (categorical, continuous) pairs are each batched into one pass: every
    (pair, copy[, class]) is a data set; categorical × categorical cells permute
    the bias-corrected MI of their table (the matrix's own estimate of those cells).
    """
    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._matrix import _pair_seed
    from bayes_gmm_mi._pipeline import permutation
    from bayes_gmm_mi._pipeline.counts import corrected_mi

    transform = statistic_transform(transform)
    out = np.full(len(pairs), np.nan)
    common = dict(transform=transform, settings=settings.fit, mc_samples=settings.mc_samples,
                  seed=seed, n_permutations=n_permutations, progress=progress)
    cont = [m for m, (i, j) in enumerate(pairs)
            if not cols_a[i].categorical and not cols_b[j].categorical]
    mixed = [m for m, (i, j) in enumerate(pairs)
             if cols_a[i].categorical != cols_b[j].categorical]
    both = [m for m, (i, j) in enumerate(pairs)
            if cols_a[i].categorical and cols_b[j].categorical]
    if cont:
        fits = permutation.continuous_null(
            [(cols_a[pairs[m][0]].values[:, None], cols_b[pairs[m][1]].values[:, None])
             for m in cont],
            [_pair_seed(seed, pairs[m]) for m in cont],
            [f"pair ({cols_a[pairs[m][0]].name}, {cols_b[pairs[m][1]].name})" for m in cont],
            terms=_mi.mi_terms(1, 2), **common)
        out[cont] = permutation.p_value(fits.values[:, 0], fits.values[:, 1:])
    if mixed:
        items, labels, names = [], [], []
        for m in mixed:
            i, j = pairs[m]
            cat, con = (cols_a[i], cols_b[j]) if cols_a[i].categorical else (cols_b[j], cols_a[i])
            items.append((con.values[:, None], cat.values, cat.n_classes))
            labels.append(f"pair ({cols_a[i].name}, {cols_b[j].name})")
            names.append(list(cat.classes))
        fits = permutation.categorical_null(items, [_pair_seed(seed, pairs[m]) for m in mixed],
                                            labels, class_names=names, **common)
        out[mixed] = permutation.p_value(fits.values[:, 0], fits.values[:, 1:])
    for m in both:
        i, j = pairs[m]
        fits = permutation.discrete_null(
            cols_a[i].values, cols_b[j].values, seed, n_permutations,
            lambda a, b: float(corrected_mi(a, b, np.ones((1, a.size)))[0]))
        out[m] = permutation.p_value(fits.values[0, 0], fits.values[0, 1:])
    return out


def check_matrix_test(n_permutations: Any, adjust: Any) -> int:
    """Validate ``mi_matrix``'s ``n_permutations`` (0: no test) and ``adjust``."""
    n_permutations = check_n_permutations(n_permutations, minimum=0)
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be None, 'holm' or 'bh'; got {describe(adjust)}.")
    return n_permutations



def matrix_test(settings: Any, pairs: list[tuple[int, int]], cols_a: list[Any],
                cols_b: list[Any], symmetric: bool, seed: int, n_permutations: int,
                adjust: str | None, transform: Any, progress: bool = False,
                ) -> tuple[np.ndarray, dict[str, Any]]:
    """The p-value table of ``mi_matrix(..., n_permutations=P)``: (len(cols_a), len(cols_b)),
    adjusted over the tested pairs by ``adjust`` (mirrored for a symmetric matrix, NaN
    on its diagonal), and its ``info`` entries (the unadjusted table among them)."""
    start = time.perf_counter()
    raw = matrix_p_values(settings, pairs, cols_a, cols_b, seed, n_permutations, transform,
                          progress)
    tables = []
    for values in (adjust_p_values(raw, adjust), raw):
        table = np.full((len(cols_a), len(cols_b)), np.nan)
        for (i, j), p in zip(pairs, values, strict=True):
            table[i, j] = p
            if symmetric:
                table[j, i] = p
        tables.append(table)
    return tables[0], {"n_permutations": n_permutations, "p_value_adjust": adjust,
                       "p_value_unadjusted": tables[1],
                       "test_representation": "rank" if statistic_transform(transform)
                       else "data",
                       "test_time_s": time.perf_counter() - start}
