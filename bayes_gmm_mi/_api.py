"""The one-call API."""

from __future__ import annotations

from typing import Any

from bayes_gmm_mi._estimator import GMMMI
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import as_block, check_options, check_same_rows

__all__ = ["mutual_information", "conditional_mutual_information", "entropy", "kl_divergence"]

_EXPLICIT = {"discrete_y", "method", "n_components", "n_bootstrap", "random_state", "units",
             "progress"}


def mutual_information(
    x: Any,
    y: Any,
    *,
    method: str = "bootstrap",
    discrete_y: bool = False,
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
        may be a block of columns (at most 8 columns in all).
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
    if not isinstance(discrete_y, bool):
        raise TypeError(f"discrete_y must be True or False; got {discrete_y!r}.")
    estimator = _estimator("mutual_information()", method, n_components, n_bootstrap,
                           random_state, units, progress, options)
    if discrete_y:
        from bayes_gmm_mi._categorical import GMMCategoricalMI

        return GMMCategoricalMI(**estimator.get_params()).fit(x, y).estimate_mi()
    return estimator.fit(x, y).estimate_mi()


def _estimator(where: str, method: str, n_components: Any, n_bootstrap: int, random_state: Any,
               units: str, progress: bool, options: dict[str, Any]) -> GMMMI:
    valid = set(GMMMI().get_params()) - _EXPLICIT
    check_options(options, valid, where)
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
        Paired samples; each may have several columns (at most 8 columns in all).
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
    block = as_block(x, "x")
    return estimator._fit_blocks(params, [block], _mi.entropy_terms(block.shape[1]), "entropy",
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
        As in :func:`mutual_information` (``transform="rank"`` is refused).

    Returns
    -------
    MIResult
        ``quantity="kl"`` (or ``"kl_reverse"``).
    """
    if not isinstance(reverse, bool):
        raise TypeError(f"reverse must be True or False; got {reverse!r}.")
    estimator = _estimator("kl_divergence()", method, n_components, n_bootstrap,
                           random_state, units, progress, options)
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
    return estimator._fit_blocks(params, blocks, terms, quantity, pooled=True).estimate_mi()
