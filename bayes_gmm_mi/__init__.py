"""bayes_gmm_mi: mutual information from Gaussian mixture models, with uncertainty.

The public API:

- :func:`mutual_information` — one call: MI between two variables with bootstrap
  (``method="bootstrap"``) or Bayesian (``"vi"``, ``"mcmc"``) errors;
- :class:`GMMMI` — the scikit-learn-style estimator behind it;
  :class:`GMMCategoricalMI` for a categorical (class label) variable;
- :class:`MIResult` — the result (mean, std, draws, intervals, ``to_arviz()``);
- :func:`conditional_mutual_information`, :func:`entropy`, :func:`kl_divergence` —
  the other information quantities of a fitted mixture, with the same uncertainty;
- :func:`mi_matrix` — MI of every pair of columns (latents × factors, or latents
  among themselves), batched, with joint bootstrap draws; :func:`mig`,
  :func:`modularity`, :func:`latent_dependence` — disentanglement metrics from it;
- :func:`independence_test` — is there any dependence? A permutation test of the
  MI estimate (:class:`IndependenceTestResult`);
- :func:`compare` — bootstrap vs VI vs MCMC in one table;
- :mod:`bayes_gmm_mi.model` — the mixture as a NumPyro model, with its priors;
- :mod:`bayes_gmm_mi.plotting` — plots (matplotlib, imported on use);
- :mod:`bayes_gmm_mi.datasets` — data sets with known MI;
- :mod:`bayes_gmm_mi.exceptions` — the warnings raised on numerical trouble;
- :func:`configure_compilation_cache` — opt-in on-disk cache of compiled kernels.

Importing the package is fast: JAX and the compiled kernels are imported on the
first fit, NumPyro/ArviZ/pandas/xarray/matplotlib where they are used.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from bayes_gmm_mi import datasets
from bayes_gmm_mi._api import (
    conditional_mutual_information,
    entropy,
    kl_divergence,
    mutual_information,
)
from bayes_gmm_mi._cache import configure_compilation_cache
from bayes_gmm_mi._categorical import GMMCategoricalMI
from bayes_gmm_mi._compare import compare
from bayes_gmm_mi._disentangle import latent_dependence, mig, modularity
from bayes_gmm_mi._estimator import GMMMI
from bayes_gmm_mi._independence import IndependenceTestResult, independence_test
from bayes_gmm_mi._matrix import MIMatrix, mi_matrix
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi.exceptions import (
    ConvergenceWarning,
    DegenerateComponentWarning,
    MisspecificationWarning,
)

try:
    __version__ = _version("bayes_gmm_mi")
except _PackageNotFoundError:  # pragma: no cover - an uninstalled source tree
    __version__ = "0+unknown"

__all__ = [
    "GMMMI",
    "GMMCategoricalMI",
    "MIResult",
    "mutual_information",
    "conditional_mutual_information",
    "entropy",
    "kl_divergence",
    "compare",
    "independence_test",
    "IndependenceTestResult",
    "mi_matrix",
    "MIMatrix",
    "mig",
    "modularity",
    "latent_dependence",
    "configure_compilation_cache",
    "datasets",
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "MisspecificationWarning",
    "__version__",
]
