"""The scikit-learn-style estimators' shared settings, and :class:`GMMMI` (a thin facade).

The work is done by the pipeline in :mod:`bayes_gmm_mi._pipeline`; an estimator
stores its parameters (``__init__`` only stores them), validates them against
one table (:data:`~bayes_gmm_mi._pipeline.settings.PARAMETER_CONSTRAINTS`) when
fitting, cuts the data into data sets and keeps the fitted state.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from bayes_gmm_mi._params import ParamsMixin
from bayes_gmm_mi._pipeline import settings as _settings
from bayes_gmm_mi._pipeline.settings import METHODS, UNITS
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import (
    MAX_DIMENSIONS,
    as_block,
    check_int,
    check_same_rows,
    seed_from,
    warn_if_duplicated,
)
from bayes_gmm_mi._warnings import warn
from bayes_gmm_mi.exceptions import MisspecificationWarning

#: MI and conditional MI of at least this many columns in all have their draws
#: centred on the bootstrap bias-corrected estimate (:meth:`EstimatorSettings._bias_corrected`).
#: In one or two dimensions the bootstrap's "bias" is mostly the fit's misdescription
#: of hard edges, not small-sample bias, and correcting it lowered the 95 % coverage of
#: the validation suite from 0.93 to 0.78 (``docs/validation.md`` §9).
BIAS_CORRECTED_DIMENSIONS = 6

# JAX (~2 s to import) and the compiled kernels are imported inside the
# functions that use them, so that ``import bayes_gmm_mi`` stays fast.
if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._mi import Terms
    from bayes_gmm_mi._pipeline.integrate import BaseSamples
    from bayes_gmm_mi._pipeline.uncertainty import Draws, Fitted

__all__ = ["GMMMI", "EstimatorSettings", "METHODS", "DISCRETE_ADVICE"]

#: How a discrete column can be estimated instead (ends the refusal's message).
DISCRETE_ADVICE = (
    "Pass discrete_x=True or discrete_y=True to mutual_information (classes; both for two "
    "discrete variables), or dequantise=True (each value spread over its cell; MI unchanged)."
)
#: The same for conditional MI (no class path: a discrete z has no mixture density).
CMI_DISCRETE_ADVICE = (
    "Pass dequantise=True (each value spread over its cell; the conditional MI is "
    "unchanged), or, for a discrete z, estimate the MI within each of its classes."
)


class EstimatorSettings(ParamsMixin):
    """The parameters shared by :class:`GMMMI` and :class:`~bayes_gmm_mi.GMMCategoricalMI`
    (documented on :class:`GMMMI`)."""

    #: How ``fit`` is called (for messages).
    _FIT_CALL = "fit(x, y)"
    #: Whether the draws are centred on a bootstrap bias-corrected estimate
    #: (:func:`~._pipeline.models.bias_corrected`; categorical MI).
    _BIAS_CORRECTED = False

    # Set by ``fit`` (documented on each estimator).
    _fitted: Fitted
    mi_: float
    mc_error_: float
    n_components_: int
    n_samples_: int
    quantity_: str
    n_features_: tuple[int, ...]
    selection_scores_: dict[int, float]
    representations_: tuple[str, ...]
    n_components_by_representation_: dict[str, int]
    _fit_value: tuple[np.ndarray, np.ndarray]
    #: The primary representation's fit at a larger K (``transform="auto"``, MI and
    #: conditional MI; :func:`~._pipeline.models.larger_components`): its K and MI
    #: (nats), or None.
    _larger: dict[str, Any] | None = None
    converged_: bool
    n_iter_: int
    fit_time_: float

    def __init__(
        self,
        n_components: int | str = "auto",
        *,
        selection: str = "cv",
        max_components: int = 50,
        n_init: int = 3,
        n_folds: int = 2,
        threshold: float = 1e-5,
        patience: int = 2,
        init: str = "kmeans",
        reg_covar: float = 1e-6,
        tol: float = 1e-5,
        max_iter: int = 10_000,
        n_bootstrap: int = 50,
        mc_samples: int = 100_000,
        integration: str = "mc",
        transform: str | None = "auto",
        dequantise: bool = False,
        units: str = "nat",
        random_state: Any = None,
        progress: bool = False,
        method: str = "bootstrap",
        num_chains: int = 4,
        num_warmup: int = 500,
        num_samples: int = 500,
        svi_steps: int = 1000,
        svi_learning_rate: float = 1e-2,
        priors: Any = None,
    ) -> None:
        self.n_components = n_components
        self.selection = selection
        self.max_components = max_components
        self.n_init = n_init
        self.n_folds = n_folds
        self.threshold = threshold
        self.patience = patience
        self.init = init
        self.reg_covar = reg_covar
        self.tol = tol
        self.max_iter = max_iter
        self.n_bootstrap = n_bootstrap
        self.mc_samples = mc_samples
        self.integration = integration
        self.transform = transform
        self.dequantise = dequantise
        self.units = units
        self.random_state = random_state
        self.progress = progress
        self.method = method
        self.num_chains = num_chains
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.svi_steps = svi_steps
        self.svi_learning_rate = svi_learning_rate
        self.priors = priors


    # ------------------------------------------------------------------ checks
    def _validated_params(self) -> dict[str, Any]:
        """The parameters, checked against the table of constraints."""
        params = self.get_params()
        _settings.validate(params)
        return params

    def _request(self, params: dict[str, Any], method: str, n_bootstrap: int | None) -> Any:
        from bayes_gmm_mi._pipeline.uncertainty import Request

        b = params["n_bootstrap"] if n_bootstrap is None else check_int(
            n_bootstrap, "n_bootstrap", 0)
        sampler = _settings.sampler_settings(params) if method != "bootstrap" else None
        return Request(n_bootstrap=b, sampler=sampler, progress=params["progress"])

    def _resolve_method(self, method: str | None) -> tuple[dict[str, Any], str]:
        if not hasattr(self, "_fitted"):
            raise ValueError(
                f"this {type(self).__name__} instance is not fitted yet; call "
                f"{self._FIT_CALL} before estimate_mi()."
            )
        params = self._validated_params()
        method = params["method"] if method is None else method
        _settings.PARAMETER_CONSTRAINTS["method"].check(method, "method")
        return params, method

    def _store_estimate(self, value: float, error: float, params: dict[str, Any],
                        start: float) -> Self:
        """Set ``mi_``, ``mc_error_`` (from nats to ``units``) and ``fit_time_``."""
        factor = UNITS[params["units"]]
        self.mi_ = value * factor
        self.mc_error_ = error * factor
        self.fit_time_ = time.perf_counter() - start
        return self

    def _base_info(self) -> dict[str, Any]:
        return {
            "selection_scores": dict(self.selection_scores_),
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "fit_time_s": self.fit_time_,
        }

    def _estimate(self, n_bootstrap: int | None, method: str | None) -> MIResult:
        """Draws of the fitted mixtures by ``method``, integrated: the body of ``estimate_mi``.

        With several representations (``transform="auto"``), each one's draws
        are checked on their own, compared (:func:`~._pipeline.models.check_agreement`)
        and pooled (:func:`~._pipeline.models.pool`).
        """
        from bayes_gmm_mi._pipeline import memory, models
        from bayes_gmm_mi._pipeline.uncertainty import METHODS as _METHODS

        params, method = self._resolve_method(method)
        kind = _METHODS[method]
        request = self._request(params, method, n_bootstrap)
        fitted = self._fitted
        memory.check_settings(params, rows=fitted.n_samples, dim=fitted.data.dim,
                              data_sets=fitted.data.size,
                              k_pad=int(fitted.fits.weights.shape[-1]), method=method,
                              n_bootstrap=request.n_bootstrap)
        start = time.perf_counter()
        draws = kind.draw(self._fitted, request)
        t0 = time.perf_counter()
        values, errors = self._integrate_draws(draws, params)
        values, errors = np.atleast_2d(values), np.atleast_2d(errors)   # (R, S)
        info = self._base_info()
        info.update(draws.info)
        per_model = [dict(info) for _ in values]
        for row, model_info in zip(values, per_model, strict=True):
            kind.check(row, draws, model_info)
        info = models.merge_diagnostics(per_model)
        factor = UNITS[params["units"]]
        if method != "bootstrap" and values.shape[1]:
            info["posterior_draws"] = np.asarray(values, np.float64).reshape(-1) * factor
            values, shift = models.centre_on_fits(values, self._fit_value[0])
            info["centring_shift"] = shift * factor
            replicates = self._check_replicates(params)
            values, scale = models.calibrate_spread(values, self._fit_value[0], replicates)
            info["posterior_scale"] = scale
        if self._bias_corrected() and values.shape[1]:
            if method == "bootstrap":
                values, bias = models.bias_corrected(values, self._fit_value[0])
            else:
                bias = np.nanmean(replicates, axis=1) - self._fit_value[0]
                values = values - bias[:, None]
            info["bias_correction"] = -bias * factor
        names = self.representations_
        if len(names) > 1:
            info["representations"] = {
                name: {"mi": float(self._fit_value[0][r]) * factor,
                       "n_components": self.n_components_by_representation_[name],
                       "draws": np.asarray(values[r], np.float64) * factor,
                       **{k: per_model[r][k] for k in ("r_hat", "ess_bulk", "ess_tail")
                          if k in per_model[r]}}
                for r, name in enumerate(names)}
            if draws.parameters is not None:
                per = len(draws.parameters) // len(names)
                for r, name in enumerate(names):
                    block = slice(r * per, (r + 1) * per)
                    info["representations"][name]["parameters"] = self._draw_parameters(
                        draws._replace(parameters=draws.parameters[block],
                                       mass=draws.mass[block]))
            if values.shape[1]:
                info["agreement"] = models.check_agreement(
                    names, self._fit_value[0], self._fit_value[1], values,
                    paired=method == "bootstrap", units=params["units"], factor=factor,
                    quantity={"cmi": "conditional MI", "kl": "KL divergence",
                              "kl_reverse": "KL divergence"}.get(self.quantity_, "MI"))
        n_models = len(names)
        if self._larger is not None and values.shape[1]:
            values = models.with_larger_k(values, self._fit_value[0][0], self._larger["mi"])
            n_models += 1
            info["larger_k"] = {
                "n_components": self._larger["n_components"],
                "mi": self._larger["mi"] * factor,
                "difference": (self._larger["mi"] - float(self._fit_value[0][0])) * factor}
        pooled, n_chains = models.pool(values, draws.n_chains)
        elapsed = time.perf_counter() - start
        if method == "bootstrap":
            info["bootstrap_time_s"] = elapsed
            mc_error = self.mc_error_
        else:
            info["integration_time_s"] = time.perf_counter() - t0
            mc_error = float(np.mean(errors)) * factor
        single = n_models == 1
        result = MIResult(
            point_estimate=self.mi_,
            draws=np.asarray(pooled, np.float64) * factor,
            units=params["units"],
            n_components=self.n_components_,
            method=method,
            mc_error=mc_error,
            n_samples=self.n_samples_,
            info=info,
            n_chains=n_chains,
            parameters=self._draw_parameters(draws) if single else None,
            sample_stats=draws.sample_stats if single else None,
            wall_time=elapsed,
            quantity=self.quantity_,
            n_models=n_models,
        )
        self._check_knn(result, factor)
        return result

    def _check_knn(self, result: MIResult, factor: float) -> None:
        """Compare the 95 % interval with the nearest-neighbour estimate of ``fit``.

        Adds ``info["knn_check"]`` and warns (``MisspecificationWarning``) when
        the interval lies below the kNN estimate by more than both errors
        (:func:`~._pipeline.knn.check_against_knn`): the mixture has missed
        part of the dependence.
        """
        from bayes_gmm_mi._pipeline import knn

        estimate = getattr(self, "_knn", None)
        if estimate is None:
            return
        upper = result.interval(0.95)[1] if result.draws.size else result.point_estimate
        check = knn.check_against_knn(upper / factor, estimate)
        result.info["knn_check"] = {
            "knn_mi": check["knn_mi"] * factor, "knn_se": check["knn_se"] * factor,
            "gap": check["gap"] * factor, "threshold": check["threshold"] * factor,
            "below": check["below"], "estimator": estimate.name}
        if check["below"]:
            units = result.units
            warn(
                f"the mixture's 95 % interval (up to {upper:.4f} {units}) lies below an "
                f"independent nearest-neighbour estimate ({estimate.name}, k = "
                f"{estimate.n_neighbors}) of {check['knn_mi'] * factor:.4f} ± "
                f"{check['knn_se'] * factor:.4f} {units}: the mixture misses part of the "
                "dependence (a thin or curved ridge, hard edges, or a nearly deterministic "
                "relation, where the MI may be very large), so the estimate is too low. Try "
                "more components (a larger patience or a fixed n_components), more rows, or "
                "treat the MI as a lower bound.",
                MisspecificationWarning,
            )

    def _bias_corrected(self) -> bool:
        """Whether the draws are centred on a bootstrap bias-corrected estimate:
        categorical MI (:attr:`_BIAS_CORRECTED`), KL divergences (two fitted
        marginals differ by sampling noise, so KL reads above 0 for identical
        distributions: 0.02–0.03 nats for two uniform samples at N = 2000), and
        the MI or conditional MI of :data:`BIAS_CORRECTED_DIMENSIONS` columns or
        more, whose plug-in bias (about dx·dy / 2N nats for Gaussian blocks)
        outgrows the sampling error: 16 + 16 columns at N = 5000, percentile
        interval [0.861, 0.912] for a true 0.821."""
        if self._BIAS_CORRECTED or self.quantity_ in ("kl", "kl_reverse"):
            return True
        return (self.quantity_ in ("mi", "cmi")
                and sum(self.n_features_) >= BIAS_CORRECTED_DIMENSIONS)

    def _integrate_draws(self, draws: Draws, params: dict[str, Any]) -> tuple[Any, Any]:
        """The estimate of every draw in nats, and its Monte Carlo error: (S,), or
        (R, S) for R representations."""
        raise NotImplementedError

    def _check_replicates(self, params: dict[str, Any]) -> np.ndarray:
        """A small bootstrap (R, :data:`~._pipeline.models.CHECK_REPLICATES`) of each
        representation's estimate, nats: the sampling spread and bias that the
        posterior methods are checked against."""
        from bayes_gmm_mi._pipeline import models
        from bayes_gmm_mi._pipeline.uncertainty import METHODS as _METHODS
        from bayes_gmm_mi._pipeline.uncertainty import Request

        draws = _METHODS["bootstrap"].draw(
            self._fitted, Request(n_bootstrap=models.CHECK_REPLICATES))
        values, _ = self._integrate_draws(draws, params)
        return np.atleast_2d(values)

    def _draw_parameters(self, draws: Draws) -> dict[str, np.ndarray] | None:
        """Site draws for :attr:`MIResult.parameters` (posterior methods)."""
        raise NotImplementedError

    def independence_test(self, x: Any, y: Any, n_permutations: int = 99,
                          **unknown: Any) -> Any:
        """Permutation test of independence with this estimator's settings.

        The statistic is this estimator's MI on ``(x, y)`` (for a
        :class:`~bayes_gmm_mi.GMMCategoricalMI`, ``y`` holds the labels); the
        null is the same estimator on ``n_permutations`` copies with y's rows
        permuted, K chosen again on each. Needs no prior ``fit``; see
        :func:`~bayes_gmm_mi.independence_test`.

        Returns
        -------
        IndependenceTestResult
        """
        from bayes_gmm_mi._categorical import GMMCategoricalMI
        from bayes_gmm_mi._independence import run_test
        from bayes_gmm_mi._validation import check_options

        # A misspelt keyword gets "did you mean" (the estimator's settings are
        # set on the estimator, not here).
        check_options(unknown, ("x", "y", "n_permutations"),
                      f"{type(self).__name__}.independence_test()")
        return run_test(self._validated_params(), x, y,
                        discrete_y=isinstance(self, GMMCategoricalMI),
                        n_permutations=n_permutations)


class GMMMI(EstimatorSettings):
    """Mutual information between continuous variables from a Gaussian mixture.

    X and Y may each be one column or a block of columns (at most
    :data:`MAX_DIMENSIONS` = 32 columns in all); ``fit(x, y, z)`` estimates the
    conditional MI I(X;Y|Z) instead.

    ``fit`` standardises the data, chooses the number of components, fits the
    joint mixture with EM and integrates its MI; :meth:`estimate_mi` adds the
    uncertainty (bootstrap replicates warm-started from the fit) without redoing
    the component choice.

    Parameters
    ----------
    n_components : "auto" or int, default "auto"
        ``"auto"`` chooses K by ``selection``; an int fixes it.
    selection : {"cv", "aic", "bic"}, default "cv"
        ``"cv"``: mean held-out log-likelihood over ``n_folds`` folds, best of
        ``n_init`` initialisations; ``"aic"``/``"bic"``: information criteria of
        the full-data fit.
    max_components : int, default 50
        Largest K tried (also limited so that each training fold has at least
        ``d + 1`` rows per component).
    n_init : int, default 3
        Initialisations per K; the best (highest likelihood) is kept.
    n_folds : int, default 2
        Cross-validation folds (``selection="cv"``).
    threshold : float, default 1e-5
        K keeps growing while the selection score improves by more than this
        (held-out log-likelihood per row, or the criterion for AIC/BIC).
    patience : int, default 2
        Number of consecutive K without such an improvement before stopping.
        With 1, a plateau of the held-out score (common for hard-edged
        densities, e.g. ``y = x + uniform noise``) stops the search too early and
        the estimate misses by many standard errors; 2 and 3 were measured to fix
        that equally (``docs/validation.md`` §9), 2 at less cost.
    init : {"kmeans", "kmeans++", "random", "random_from_data"}, default "kmeans"
        Initialisation of EM (see :func:`bayes_gmm_mi._em.initialise`).
    reg_covar : float, default 1e-6
        Added to the diagonal of each covariance, in standardised units (the
        data are scaled to unit variance first, so this is scale-free).
    tol : float, default 1e-5
        EM stops when the mean log-likelihood per row changes by less than this.
    max_iter : int, default 10000
        Upper bound on EM iterations per fit (at most 100 000; EM also stops
        at a NaN log-likelihood).
    n_bootstrap : int, default 50
        Bootstrap replicates for the uncertainty (0: point estimate only).
    mc_samples : int, default 100000
        Monte Carlo samples of the MI integral (``integration="mc"``).
    integration : {"mc", "quadrature"}, default "mc"
        ``"quadrature"``: deterministic Gauss–Hermite cross-check (scalar X, Y).
    transform : {"auto", None, "rank"}, default "auto"
        The representation(s) of the data that mixtures are fitted to. ``None``:
        the data's own coordinates (standardised). ``"rank"``: the normal scores
        of each column's ranks (invertible, so MI is unchanged; tames heavy tails
        and bounded or skewed *marginals*, but not edges of the joint density,
        e.g. ``y = x + uniform noise``). ``"auto"`` (MI and conditional MI) fits
        both and makes one estimate (:mod:`bayes_gmm_mi._pipeline.models`): the
        point estimate and the fitted attributes are the data-coordinates fit's;
        the draws are the union of both fits' draws, so the intervals include
        the uncertainty of the choice of model; when the two fits disagree beyond
        their errors, :meth:`estimate_mi` warns (``MisspecificationWarning``).
        Measured in ``docs/validation.md`` §8. KL divergence is invariant under a
        map common to both variables: its normal scores are of x's and y's pooled
        ranks. Entropy is not invariant: for it ``"auto"`` means ``None`` and
        ``"rank"`` is refused.
    dequantise : bool, default False
        A continuous variable whose column holds at most half as many distinct
        values as rows looks discrete (counts, scales, labels as numbers) and is
        refused with a ``ValueError``: a mixture *density* collapses onto its
        values. ``True`` instead spreads every tied value uniformly over its cell
        (between the midpoints to its neighbours; integers: ``v + U(−½, ½)``,
        fixed seed): the MI of the dequantised variables equals the MI of the
        discrete ones exactly, and the mixture then fits a continuous (if
        hard-edged) density. For class labels use ``discrete_y``/``discrete_x``
        of :func:`~bayes_gmm_mi.mutual_information` instead.
    units : {"nat", "bit"}, default "nat"
    random_state : None, int, numpy Generator or RandomState, default None
        Seeds the folds, initialisations, bootstrap and Monte Carlo samples; the
        same value gives the same numbers.
    progress : bool, default False
        Show progress bars (tqdm, on stderr).
    method : {"bootstrap", "vi", "mcmc"}, default "bootstrap"
        How :meth:`estimate_mi` makes the MI draws: ``"bootstrap"`` refits
        resampled data (frequentist); ``"vi"`` draws from a variational
        posterior (SVI with a full-rank Gaussian guide) and ``"mcmc"`` from the
        NUTS posterior of the same mixture written as a NumPyro model
        (:mod:`bayes_gmm_mi.model`), both started from the EM fit at the chosen
        K. Every draw's MI uses the same Monte Carlo base samples.
    num_chains : int, default 4
        NUTS chains (``"mcmc"``); R-hat needs at least 2.
    num_warmup : int, default 500
        NUTS warm-up iterations per chain (``"mcmc"``).
    num_samples : int, default 500
        Posterior draws per chain (``"mcmc"``) or in total (``"vi"``).
    svi_steps : int, default 1000
        Optimisation steps of SVI (``"vi"``).
    svi_learning_rate : float, default 0.01
        Adam step size of SVI (``"vi"``).
    priors : Priors, dict or None, default None
        Prior hyper-parameters of the Bayesian mixture (``"vi"``/``"mcmc"``),
        a :class:`bayes_gmm_mi.model.Priors` or a dict of its fields; None
        uses the documented defaults.

    Notes
    -----
    The EM fit is the maximum-likelihood solution of the Bayesian model's
    likelihood (no prior terms), so ``point_estimate`` is the same for every
    method. For ``"mcmc"``, :meth:`estimate_mi` warns (``ConvergenceWarning``)
    when the R-hat of the MI draws exceeds 1.01, their bulk ESS is below 400,
    or a transition diverged. Label switching between draws or chains does not
    change any draw's MI, so it does not affect these diagnostics.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components_,)
    means_ : ndarray of shape (n_components_, D)
        In the data's units (in normal-score units with ``transform="rank"``);
        D is the total number of columns (x, then y, then z).
    covariances_ : ndarray of shape (n_components_, D, D)
    n_features_ : tuple of int
        Columns of each variable, e.g. ``(1, 1)`` for two scalars.
    quantity_ : str
        ``"mi"`` or ``"cmi"`` (``fit`` with ``z``); the one-call functions
        :func:`~bayes_gmm_mi.entropy` and :func:`~bayes_gmm_mi.kl_divergence`
        use ``"entropy"``, ``"kl"``, ``"kl_reverse"``.
    n_components_ : int
        Components in the final fit (those EM left with positive weight).
    selection_scores_ : dict[int, float]
        Score per K tried: held-out log-likelihood per row (``"cv"``) or the
        criterion (``"aic"``/``"bic"``, lower is better). Empty for a fixed K.
    converged_ : bool
        Whether EM of the final fit converged.
    n_iter_ : int
        EM iterations of the final fit.
    lower_bound_ : float
        Mean log-likelihood per row of the final fit (standardised data).
    mi_ : float
        MI of the final fit, in ``units``.
    mc_error_ : float
        Monte Carlo standard error of ``mi_`` (0 for quadrature).
    representations_ : tuple of str
        The representations fitted: ``("data", "rank")`` for ``transform="auto"``
        (MI, CMI), else one of them. The first is the primary one.
    mi_by_representation_ : dict[str, float]
        MI of each representation's fit, in ``units``.
    n_components_by_representation_ : dict[str, int]
        Components of each representation's fit.
    n_samples_ : int
        Rows in the data.

    Examples
    --------
    >>> from bayes_gmm_mi import GMMMI, datasets
    >>> x, y = datasets.BivariateGaussian(rho=0.6).sample(2000, random_state=0)
    >>> est = GMMMI(random_state=0).fit(x, y)
    >>> result = est.estimate_mi()  # doctest: +SKIP
    """

    # --------------------------------------------------------------------- fit
    def fit(self, x: Any, y: Any, z: Any = None) -> GMMMI:
        """Choose K, fit the joint mixture and compute its MI (or conditional MI).

        Parameters
        ----------
        x, y : array-like of shape (n,) or (n, d)
            Paired samples of two continuous variables, each one column or a
            block of columns (lists, numpy arrays, pandas Series/DataFrames).
        z : array-like of shape (n,) or (n, dz), optional
            Conditioning variable(s): given, the estimate is the conditional
            MI I(X;Y|Z) of the joint mixture of (x, y, z). Z is only ever taken
            from this argument, never from extra columns of x or y.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Mismatched row counts, non-finite or constant columns, or more than
            :data:`MAX_DIMENSIONS` columns in all.
        """
        from bayes_gmm_mi import _mi
        from bayes_gmm_mi._pipeline.screen import align_rows

        params = self._validated_params()
        x, y, z = align_rows([x, y, z], ["x", "y", "z"])
        blocks = [as_block(x, "x"), as_block(y, "y")]
        if z is not None:
            blocks.append(as_block(z, "z"))
        check_same_rows(blocks, ("x", "y", "z"))
        dims = [b.shape[1] for b in blocks]
        if z is None:
            terms, quantity = _mi.mi_terms(dims[0], sum(dims)), "mi"
        else:
            warn_if_duplicated(blocks[0], blocks[2], "x", "z")
            warn_if_duplicated(blocks[1], blocks[2], "y", "z")
            terms, quantity = _mi.cmi_terms(*dims), "cmi"
        return self._fit_blocks(params, blocks, terms, quantity,
                                advice=DISCRETE_ADVICE if z is None else CMI_DISCRETE_ADVICE)

    def _fit_blocks(self, params: dict[str, Any], blocks: list[np.ndarray], terms: Terms,
                    quantity: str, *, pooled: bool = False, jacobian: bool = False,
                    advice: str = DISCRETE_ADVICE) -> GMMMI:
        """Fit the joint mixture of the column blocks and integrate ``terms``.

        ``pooled`` standardises matching columns of the blocks with one common
        location and scale (KL divergence); ``jacobian`` adds ``sum(log scale)``
        to the integral (entropy is not invariant to the scaling). ``advice``
        ends the refusal of a discrete column (what the caller can pass instead).
        """
        from bayes_gmm_mi._pipeline import engine, knn, memory, prepare, screen
        from bayes_gmm_mi._pipeline import mixtures as _mixtures
        from bayes_gmm_mi._pipeline.integrate import base_samples, integrate

        d = sum(b.shape[1] for b in blocks)
        n = blocks[0].shape[0]
        blocks = screen.check_continuous(blocks, ("x", "y", "z")[:len(blocks)], advice=advice,
                                         dequantise_ties=params["dequantise"])
        screen.check_fixed_components(n, d, params["n_components"], "the data")
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"the variables have {d} columns in all "
                f"({' + '.join(str(b.shape[1]) for b in blocks)}); the mixture kernels support "
                f"at most {MAX_DIMENSIONS}, because a full-covariance component in D dimensions "
                f"has D(D+3)/2 + 1 parameters ({MAX_DIMENSIONS * (MAX_DIMENSIONS + 3) // 2 + 1} "
                f"at D = {MAX_DIMENSIONS}) and needs about 5 rows for each. Reduce the dimension "
                "(e.g. fewer latent columns, or PCA of a block) or estimate pairs of columns."
            )
        quadrature = params["integration"] == "quadrature"
        if quadrature and (quantity != "mi" or d != 2):
            raise ValueError(
                "integration='quadrature' is available for the MI of two scalar variables "
                f"only; got {quantity!r} over {d} columns. Use integration='mc'."
            )
        transforms = prepare.representations(params["transform"],
                                             invariant=not jacobian)
        memory.check_settings(params, rows=n, dim=d, data_sets=len(transforms))
        prepared = [prepare.scale_joint(blocks, transform=t, pooled=pooled, jacobian=jacobian)
                    for t in transforms]
        names = tuple(prepare.REPRESENTATION_NAMES[t] for t in transforms)
        seed = seed_from(params["random_state"])
        start = time.perf_counter()
        # Every representation has the same rows and seed: the same folds,
        # initialisation seeds and bootstrap counts (paired replicates).
        data = prepare.stack([scaled for scaled, _ in prepared], [np.arange(n)] * len(names),
                             [seed] * len(names),
                             labels=[f"{name} representation" for name in names]
                             if len(names) > 1 else None)
        fitted, selection, final = engine.fit_data_sets(
            data, _settings.fit_settings(params), n_samples=n, seed=seed,
            progress=params["progress"])
        base = base_samples(seed, params["mc_samples"], d)
        offsets = np.array([scaling.offset for _, scaling in prepared])
        value, error = integrate(fitted.fits, terms, base, quadrature=quadrature)
        value = value + offsets
        scaling = prepared[0][1]

        self._fitted = fitted
        self._terms = terms
        self._base: BaseSamples = base
        self._offset = offsets[:, None]
        self._fit_value = (value, error)
        self._larger = (self._fit_larger_k(params, prepared[0][0], seed, int(selection.k[0]),
                                           terms, base, float(offsets[0]), quadrature)
                        if len(names) > 1 and quantity in ("mi", "cmi") else None)
        self.quantity_ = quantity
        self.representations_ = names
        factor = UNITS[params["units"]]
        self.mi_by_representation_ = {name: float(v) * factor
                                      for name, v in zip(names, value, strict=True)}
        self.n_components_by_representation_ = {
            name: int(k) for name, k in zip(names, _mixtures.n_active(fitted.fits), strict=True)}
        self.n_features_ = tuple(b.shape[1] for b in blocks)
        self.n_samples_ = n
        self.loc_, self.scale_ = scaling.loc, scaling.scale
        self.selection_scores_ = dict(selection.scores[0])
        self.converged_ = bool(final.converged[0])
        self.n_iter_ = int(final.n_iter[0])
        self.lower_bound_ = float(final.log_lik[0])
        w = np.asarray(fitted.fits.weights[0], np.float64)
        keep = w > 0
        self.n_components_ = int(keep.sum())
        self.weights_ = w[keep] / w[keep].sum()
        means = np.asarray(fitted.fits.means[0], np.float64)[keep]
        self.means_ = means * scaling.scale + scaling.loc
        cov = np.asarray(fitted.fits.covariances[0], np.float64)[keep]
        with np.errstate(over="ignore"):  # data of order 1e200 and more: inf, as it must
            self.covariances_ = cov * np.outer(scaling.scale, scaling.scale)
        masses = [j for j, _ in screen.point_masses(blocks, ("x", "y", "z")[:len(blocks)])]
        screen.check_degenerate(cov, w[keep], params["reg_covar"], quantity,
                                float(value[0]) * factor, params["units"],
                                point_mass_columns=masses)
        self._knn = (knn.ksg_mi(blocks[0], blocks[1])
                     if quantity == "mi" and len(blocks) == 2 else None)
        return self._store_estimate(float(value[0]), float(error[0]), params, start)

    def _fit_larger_k(self, params: dict[str, Any], scaled: np.ndarray, seed: int, k: int,
                      terms: Terms, base: BaseSamples, offset: float, quadrature: bool,
                      ) -> dict[str, Any] | None:
        """The primary representation refitted at a larger K
        (:func:`~._pipeline.engine.larger_k_values`): ``{"n_components", "mi"}``
        (nats, offset included), or None where there is none."""
        from bayes_gmm_mi._pipeline import engine, prepare

        n = scaled.shape[0]
        k_larger, values = engine.larger_k_values(
            prepare.stack([scaled], [np.arange(n)], [seed]), np.array([k]),
            _settings.fit_settings(params), terms, base, quadrature=quadrature)
        if not np.isfinite(values[0]):
            return None
        return {"n_components": int(k_larger[0]), "mi": float(values[0]) + offset}

    # ------------------------------------------------------------ uncertainty
    def estimate_mi(self, n_bootstrap: int | None = None, *, method: str | None = None) -> MIResult:
        """MI with its uncertainty, reusing the fitted component choice.

        ``"bootstrap"``: each replicate resamples the rows (multinomial counts as
        EM weights on the original array) and refits the mixture by EM
        warm-started from the full fit, at the chosen K. ``"vi"``/``"mcmc"``:
        posterior draws of the Bayesian mixture at the chosen K, started from
        the EM fit (see the class parameters). Every draw's MI is integrated
        with the same Monte Carlo base samples as the point estimate.

        Parameters
        ----------
        n_bootstrap : int, optional
            Replicates (``"bootstrap"``); defaults to the ``n_bootstrap`` parameter.
        method : {"bootstrap", "vi", "mcmc"}, optional
            Defaults to the ``method`` parameter; lets one fit serve every method.

        Returns
        -------
        MIResult
            ``draws`` holds the replicates' or posterior draws' MI; ``method``
            says which.

        Warns
        -----
        ConvergenceWarning
            EM replicates that did not converge; MCMC with R-hat > 1.01, bulk
            ESS < 400 or divergent transitions.
        DegenerateComponentWarning
            (``"vi"``/``"mcmc"``) components holding fewer than D + 1 rows.

        Raises
        ------
        FloatingPointError
            If SVI diverges (lower ``svi_learning_rate``) or a posterior draw's
            MI is not finite.
        """
        return self._estimate(n_bootstrap, method)

    def _integrate_draws(self, draws: Draws, params: dict[str, Any]) -> tuple[Any, Any]:
        from bayes_gmm_mi._pipeline import engine

        values, errors = engine.integrate_draws(
            draws, self._fitted, self._terms, self._base, *self._fit_value,
            offset=self._offset, quadrature=params["integration"] == "quadrature")
        return values, errors

    def _draw_parameters(self, draws: Draws) -> dict[str, np.ndarray] | None:
        return None if draws.parameters is None else draws.parameters[0]
