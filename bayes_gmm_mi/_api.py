"""The one-call API."""

from __future__ import annotations

from typing import Any

from bayes_gmm_mi._estimator import GMMMI
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import check_options

__all__ = ["mutual_information"]

_EXPLICIT = {"method", "n_components", "n_bootstrap", "random_state", "units", "progress"}


def mutual_information(
    x: Any,
    y: Any,
    *,
    method: str = "bootstrap",
    n_components: int | str = "auto",
    n_bootstrap: int = 50,
    random_state: Any = None,
    units: str = "nat",
    progress: bool = False,
    **options: Any,
) -> MIResult:
    """Mutual information between two continuous variables, with its uncertainty.

    Fits a Gaussian mixture to the joint sample by EM (K chosen by
    cross-validation unless given) and integrates its MI; then makes MI draws
    for the uncertainty: ``n_bootstrap`` refits of resampled data
    (``method="bootstrap"``), or posterior draws of the same mixture as a
    Bayesian model, by variational inference (``"vi"``) or NUTS (``"mcmc"``).

    Parameters
    ----------
    x, y : array-like of shape (n,) or (n, 1)
        Paired samples (lists, numpy arrays, pandas Series).
    method : {"bootstrap", "vi", "mcmc"}, default "bootstrap"
        Frequentist (bootstrap) or Bayesian (variational or MCMC) errors. The
        posterior methods take ``num_chains`` (4), ``num_warmup`` (500),
        ``num_samples`` (500), ``svi_steps`` (1000), ``svi_learning_rate`` and
        ``priors`` as options; see :class:`GMMMI`.
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
    valid = set(GMMMI().get_params()) - _EXPLICIT
    check_options(options, valid, "mutual_information()")
    estimator = GMMMI(
        method=method,
        n_components=n_components,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        units=units,
        progress=progress,
        **options,
    )
    return estimator.fit(x, y).estimate_mi()
