"""The one-call API."""

from __future__ import annotations

from typing import Any

from bayes_gmm_mi._estimator import GMMMI
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import as_block, check_options, check_same_rows

__all__ = ["mutual_information", "conditional_mutual_information", "entropy", "kl_divergence"]


def mutual_information(
    x: Any,
    y: Any,
    *,
    method: str = "bootstrap",
    discrete_y: bool = False,
    discrete_x: bool = False,
    n_components: int | str = "auto",
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> MIResult:
    """Mutual information between two variables, with its uncertainty.

    Fits a Gaussian mixture to the joint sample by EM (K chosen by
    cross-validation unless given) and integrates its MI; then makes MI draws
    for the uncertainty: ``n_bootstrap`` refits of resampled data
    (``method="bootstrap"``), or posterior draws of the same mixture as a
    Bayesian model, by variational inference (``"vi"``) or NUTS (``"mcmc"``).

    Parameters
    ----------
    x, y : array-like of shape (n,) or (n, d)
        Paired samples (lists, numpy arrays, pandas Series/DataFrames); each
        may be a block of columns (at most 32 columns in all).
    method : {"bootstrap", "vi", "mcmc"}, default "bootstrap"
        Frequentist (bootstrap) or Bayesian (variational or MCMC) errors. The
        posterior methods take ``num_chains`` (4), ``num_warmup`` (500),
        ``num_samples`` (500), ``svi_steps`` (1000), ``svi_learning_rate`` and
        ``priors`` as options; see :class:`GMMMI`.
    discrete_y : bool, default False
        ``y`` holds class labels (any hashable values): one mixture is fitted
        per class and the class densities are weighted by the observed class
        frequencies (see :class:`GMMCategoricalMI`). Every ``method`` applies; for
        ``"vi"``/``"mcmc"`` the class frequencies get a Dirichlet(counts + 1)
        posterior.
    discrete_x : bool, default False
        ``x`` holds class labels (MI is symmetric: the same as swapping x and
        y with ``discrete_y=True``). With ``discrete_y=True`` too, both are
        discrete and no mixture is fitted: the MI of the joint table of counts,
        Miller–Madow corrected (minus ``(K_xy − K_x − K_y + 1) / 2n`` for the
        non-empty cells K), with bootstrap tables (``"bootstrap"``) or the exact
        conjugate Dirichlet(counts + 1) posterior of the table (``"vi"``,
        ``"mcmc"``) as its uncertainty, centred on the corrected value; the
        mixture settings do not apply. A table with fewer than 5 rows per cell
        warns: the correction is then unreliable.
    n_components : "auto" or int, default "auto"
    n_bootstrap : int, default 50
        Bootstrap replicates (``method="bootstrap"``); 0 returns the point
        estimate alone.
    random_state : None, int or numpy Generator, default None
        The same value gives the same result.
    units : {"nat", "bit"}, default "nat"
    progress : bool, default False
        Show progress bars.
    **options
        Any other :class:`GMMMI` parameter (``selection``, ``n_init``,
        ``n_folds``, ``init``, ``reg_covar``, ``tol``, ``max_iter``,
        ``mc_samples``, ``integration``, ``transform``, ...). An unknown name is
        a ``TypeError``.

    Returns
    -------
    MIResult
        The same type for every method (``.method`` says which); for
        ``"mcmc"``, ``.info`` holds R-hat, bulk/tail ESS and the divergences,
        and ``.to_arviz()`` gives an ArviZ ``InferenceData``.

    Examples
    --------
    >>> from bayes_gmm_mi import mutual_information, datasets
    >>> data = datasets.BivariateGaussian(rho=0.6)
    >>> x, y = data.sample(2000, random_state=0)
    >>> res = mutual_information(x, y, random_state=0)
    >>> abs(res.mean - data.mi) < 4 * res.std
    True
    """
    for flag, value in (("discrete_y", discrete_y), ("discrete_x", discrete_x)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False; got {value!r}.")
    estimator = _estimator("mutual_information()", method, n_components, n_bootstrap,
                           random_state, units, progress, options,
                           own=("discrete_y", "discrete_x"))
    if discrete_x and discrete_y:
        return _discrete_pair(x, y, estimator._validated_params())
    if discrete_x or discrete_y:
        from bayes_gmm_mi._categorical import GMMCategoricalMI

        continuous, labels = (y, x) if discrete_x else (x, y)
        return GMMCategoricalMI(**estimator.get_params()).fit(continuous, labels).estimate_mi()
    return estimator.fit(x, y).estimate_mi()


#: How entropy and KL divergence refuse a discrete column (they have no count path).
_NO_DENSITY_ADVICE = (
    "It has no density (differential entropy −∞); pass dequantise=True to spread each value "
    "over its cell (entropy: then the discrete entropy plus the mean log cell width)."
)

def _discrete_pair(x: Any, y: Any, params: dict[str, Any]) -> MIResult:
    """MI of two discrete variables by counts (:mod:`~._pipeline.counts`)."""
    import time

    from bayes_gmm_mi._categorical import encode_labels
    from bayes_gmm_mi._pipeline import counts
    from bayes_gmm_mi._pipeline.screen import align_rows
    from bayes_gmm_mi._pipeline.settings import UNITS
    from bayes_gmm_mi._validation import seed_from
    from bayes_gmm_mi._warnings import warn
    from bayes_gmm_mi.exceptions import MisspecificationWarning

    start = time.perf_counter()
    x, y = align_rows([x, y], ["x", "y"])
    n = len(x)
    codes_x, classes_x = encode_labels(x, n)
    codes_y, classes_y = encode_labels(y, n)
    cells = len(classes_x) * len(classes_y)
    if counts.sparse_table(n, len(classes_x), len(classes_y)):
        warn(
            f"the table of x ({len(classes_x)} classes) by y ({len(classes_y)} classes) has "
            f"{cells} cells for {n} rows ({n / cells:.1f} per cell, fewer than "
            f"{counts.MIN_ROWS_PER_CELL}): the plug-in MI is biased upwards by about "
            f"{(len(classes_x) - 1) * (len(classes_y) - 1) / (2 * n):.3g} nats and the "
            "correction is unreliable with so few rows per cell. Merge rare classes or "
            "collect more rows; independence_test() gives a calibrated test of dependence.",
            MisspecificationWarning,
        )
    method = params["method"]
    n_draws = params["n_bootstrap"] if method == "bootstrap" else (
        params["num_chains"] * params["num_samples"])
    point, draws = counts.discrete_draws(codes_x, codes_y, method=method, n_draws=n_draws,
                                         seed=seed_from(params["random_state"]))
    factor = UNITS[params["units"]]
    return MIResult(
        point_estimate=point * factor,
        draws=draws * factor,
        units=params["units"],
        n_components=0,
        method=method,
        mc_error=0.0,
        n_samples=n,
        info={"estimator": "counts (Miller-Madow corrected plug-in MI)",
              "classes_x": classes_x.tolist(), "classes_y": classes_y.tolist(),
              "posterior": "Dirichlet(counts + 1), exact" if method != "bootstrap" else None},
        wall_time=time.perf_counter() - start,
    )


def _estimator(where: str, method: str, n_components: Any, n_bootstrap: int, random_state: Any,
               units: str, progress: bool, options: dict[str, Any],
               own: tuple[str, ...] = ()) -> GMMMI:
    """The estimator of a one-call function, refusing unknown options.

    ``options`` are the extra keywords; a name that is not a :class:`GMMMI`
    parameter is refused with the closest of *every* name the function takes
    (its explicit keywords included, and ``own``: e.g. ``reverse``), so that
    ``n_bootstraps=10`` gets "Did you mean 'n_bootstrap'?".
    """
    names = set(GMMMI().get_params()) | set(own)
    check_options(options, names, where)
    return GMMMI(
        method=method,
        n_components=n_components,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        units=units,
        progress=progress,
        **options,
    )


def conditional_mutual_information(
    x: Any,
    y: Any,
    z: Any,
    *,
    method: str = "bootstrap",
    n_components: int | str = "auto",
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> MIResult:
    """Conditional mutual information I(X;Y|Z), with its uncertainty.

    One mixture is fitted to the joint (x, y, z); its marginals give
    I(X;Y|Z) = E[log p(x,y,z) + log p(z) − log p(x,z) − log p(y,z)], integrated
    by Monte Carlo. The conditioning variables are exactly the columns of ``z``.

    Parameters
    ----------
    x, y, z : array-like of shape (n,) or (n, d)
        Paired samples; each may have several columns (at most 32 columns in all).
    method, n_components, n_bootstrap, random_state, units, progress, **options
        As in :func:`mutual_information`.

    Returns
    -------
    MIResult
        ``quantity="cmi"``.

    Warns
    -----
    DegenerateComponentWarning
        If a column of x or y is (almost) a linear copy of a column of z: the
        exact conditional MI is then 0 and the joint density is degenerate.

    Examples
    --------
    >>> import numpy as np
    >>> from bayes_gmm_mi import conditional_mutual_information
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=1000)
    >>> x, y = z + rng.normal(size=1000), z + rng.normal(size=1000)  # independent given z
    >>> res = conditional_mutual_information(x, y, z, random_state=0)
    >>> res.mean < 0.02
    True
    """
    estimator = _estimator("conditional_mutual_information()", method, n_components,
                           n_bootstrap, random_state, units, progress, options)
    return estimator.fit(x, y, z).estimate_mi()


def entropy(
    x: Any,
    *,
    method: str = "bootstrap",
    n_components: int | str = "auto",
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> MIResult:
    """Differential entropy H(X) of a (multivariate) continuous variable.

    A mixture is fitted to ``x`` alone and H(X) = −E[log p(x)] integrated by
    Monte Carlo, in the data's units (the standardisation's log-Jacobian is
    added back). ``transform="rank"`` is refused: it changes the entropy.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, d)
    method, n_components, n_bootstrap, random_state, units, progress, **options
        As in :func:`mutual_information`.

    Returns
    -------
    MIResult
        ``quantity="entropy"`` (may be negative).
    """
    from bayes_gmm_mi import _mi  # JAX: imported on use

    estimator = _estimator("entropy()", method, n_components, n_bootstrap, random_state,
                           units, progress, options)
    params = estimator._validated_params()
    from bayes_gmm_mi._pipeline.screen import align_rows

    [x] = align_rows([x], ["x"])
    block = as_block(x, "x")
    return estimator._fit_blocks(params, [block], _mi.entropy_terms(block.shape[1]), "entropy",
                                 advice=_NO_DENSITY_ADVICE,
                                 jacobian=True).estimate_mi()


def kl_divergence(
    x: Any,
    y: Any,
    *,
    reverse: bool = False,
    method: str = "bootstrap",
    n_components: int | str = "auto",
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> MIResult:
    """KL divergence between the marginal distributions of X and Y.

    One mixture is fitted to the joint (x, y), as for MI; its two marginals
    p_X and p_Y (same dimension) give KL(p_X ‖ p_Y) = E_{p_X}[log p_X − log p_Y]
    (or KL(p_Y ‖ p_X) with ``reverse=True``). Both variables are standardised
    with one common location and scale per column, so they stay comparable.

    Parameters
    ----------
    x, y : array-like of shape (n,) or (n, d)
        Same number of columns.
    reverse : bool, default False
        KL(p_Y ‖ p_X) instead.
    method, n_components, n_bootstrap, random_state, units, progress, **options
        As in :func:`mutual_information`. KL is unchanged by one invertible map
        applied to both variables, so ``transform="auto"`` (the default) also
        fits the normal scores of the ranks of x's and y's columns *pooled*
        (one map for both), and ``"rank"`` fits only those.

    Returns
    -------
    MIResult
        ``quantity="kl"`` (or ``"kl_reverse"``).
    """
    if not isinstance(reverse, bool):
        raise TypeError(f"reverse must be True or False; got {reverse!r}.")
    estimator = _estimator("kl_divergence()", method, n_components, n_bootstrap,
                           random_state, units, progress, options, own=("reverse",))
    from bayes_gmm_mi._pipeline.screen import align_rows

    x, y = align_rows([x, y], ["x", "y"])
    blocks = [as_block(x, "x"), as_block(y, "y")]
    check_same_rows(blocks, ("x", "y"))
    if blocks[0].shape[1] != blocks[1].shape[1]:
        raise ValueError(
            f"x and y must have the same number of columns for a KL divergence between "
            f"their distributions; got {blocks[0].shape[1]} and {blocks[1].shape[1]}."
        )
    params = estimator._validated_params()
    from bayes_gmm_mi import _mi  # JAX: imported on use

    terms = _mi.kl_terms(blocks[0].shape[1], reverse=reverse)
    quantity = "kl_reverse" if reverse else "kl"
    return estimator._fit_blocks(params, blocks, terms, quantity, pooled=True,
                                 advice=_NO_DENSITY_ADVICE).estimate_mi()
