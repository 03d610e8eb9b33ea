"""The scikit-learn-style estimator: component selection, full fit, bootstrap MI."""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._params import ParamsMixin
from bayes_gmm_mi._progress import progress_bar
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import (
    MAX_DIMENSIONS,
    as_block,
    check_choice,
    check_float,
    check_int,
    check_same_rows,
    gaussianise_ranks,
    seed_from,
    standardise,
    warn_if_duplicated,
)
from bayes_gmm_mi.exceptions import ConvergenceWarning, DegenerateComponentWarning

# JAX (~2 s to import) and the compiled kernels (_em, _mi, _batching) are imported
# inside the functions that use them, so that ``import bayes_gmm_mi`` stays fast.
if TYPE_CHECKING:  # pragma: no cover
    import jax

    from bayes_gmm_mi import _mi
    from bayes_gmm_mi._em import EMResult, GMMParams

__all__ = ["GMMMI"]

logger = logging.getLogger("bayes_gmm_mi")

_UNITS = {"nat": 1.0, "bit": 1.0 / math.log(2.0)}
_SEED_MAX = 2**31 - 1
#: Ways of making MI draws (see the ``method`` parameter).
METHODS = ("bootstrap", "vi", "mcmc")


def _bucket(n: int, smallest: int) -> int:
    """Smallest of ``smallest``·{1, 1.5, 2, 3, 4, 6, ...} that is ≥ n (≤ 1/3 waste).

    Padding shapes to these sizes lets one compiled kernel serve many inputs.
    """
    size = smallest
    while True:
        for candidate in (size, size * 3 // 2):
            if candidate >= n:
                return candidate
        size *= 2


def _row_bucket(n: int) -> int:
    """Padded row count: 64, 96, 128, 192, 256, ..."""
    return _bucket(n, 64)


def _component_bucket(k: int) -> int:
    """Padded component count: 8, 12, 16, 24, 32, ..."""
    return _bucket(k, 8)


def _compact(params: GMMParams) -> GMMParams:
    """Drop the components that have weight 0 in every mixture of a batch.

    Components are reordered by weight (which changes no density) and cut to the
    next of 1, 2, 4, 8, 12, 16, 24, ... that holds every active one, so that
    integrals do not pay for padding: a one-component fit is integrated with one
    component, not eight.
    """
    import jax

    w = np.asarray(params.weights)
    n_active = int((w > 0).sum(axis=1).max())
    keep = 1 << (n_active - 1).bit_length() if n_active <= 8 else _component_bucket(n_active)
    order = np.argsort(-w, axis=1, kind="stable")[:, :keep]
    return jax.tree.map(
        lambda a: np.take_along_axis(np.asarray(a), order.reshape(order.shape + (1,) * (a.ndim - 2)), 1),
        params,
    )


def _n_parameters(k: int, d: int) -> int:
    return (k - 1) + k * d + k * d * (d + 1) // 2


def _take(tree, index):
    import jax

    return jax.tree.map(lambda a: a[index], tree)


def _take_components(params: GMMParams, index: np.ndarray) -> GMMParams:
    """The components ``index`` (in that order) of a batch of mixtures (numpy)."""
    from bayes_gmm_mi._em import GMMParams

    return GMMParams(params.weights[:, index], params.means[:, index],
                     params.covariances[:, index])


def _difference_samples(mc_samples: int) -> int:
    """Base points of the difference integral of draws near the fit (per component).

    ``mc_samples / 50`` (2000 at the default 100 000), at least 1000 (or
    ``mc_samples`` if smaller): measured on 4-6 component fits, the resulting
    draw-to-draw noise is about 0.001 nats, under a tenth of the posterior
    spread at N = 2000 (bench/README.md).
    """
    return min(mc_samples, max(1000, mc_samples // 50))


def _concat(trees):
    import jax

    return jax.tree.map(lambda *a: np.concatenate(a), *trees)


def _blank(k_pad: int, d: int) -> GMMParams:
    from bayes_gmm_mi._em import GMMParams

    eye = np.broadcast_to(np.eye(d, dtype=np.float32), (k_pad, d, d))
    return GMMParams(np.zeros(k_pad, np.float32), np.zeros((k_pad, d), np.float32), eye)


class GMMMI(ParamsMixin):
    """Mutual information between continuous variables from a Gaussian mixture.

    X and Y may each be one column or a block of columns (at most
    :data:`MAX_DIMENSIONS` = 8 columns in all); ``fit(x, y, z)`` estimates the
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
    patience : int, default 1
        Number of consecutive K without such an improvement before stopping.
    init : {"kmeans", "kmeans++", "random", "random_from_data"}, default "kmeans"
        Initialisation of EM (see :func:`bayes_gmm_mi._em.initialise`).
    reg_covar : float, default 1e-6
        Added to the diagonal of each covariance, in standardised units (the
        data are scaled to unit variance first, so this is scale-free).
    tol : float, default 1e-5
        EM stops when the mean log-likelihood per row changes by less than this.
    max_iter : int, default 10000
        Upper bound on EM iterations per fit.
    n_bootstrap : int, default 50
        Bootstrap replicates for the uncertainty (0: point estimate only).
    mc_samples : int, default 100000
        Monte Carlo samples of the MI integral (``integration="mc"``).
    integration : {"mc", "quadrature"}, default "mc"
        ``"quadrature"``: deterministic Gauss–Hermite cross-check (scalar X, Y).
    transform : {None, "rank"}, default None
        ``"rank"`` maps each variable to normal scores of its ranks before the fit
        (invertible, so MI is unchanged; tames heavy tails and the hard edges of
        each *marginal*, not edges of the joint density, e.g. ``y = x + uniform
        noise`` keeps its sharp joint boundary).
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
    n_samples_ : int
        Rows in the data.

    Examples
    --------
    >>> from bayes_gmm_mi import GMMMI, datasets
    >>> x, y = datasets.BivariateGaussian(rho=0.6).sample(2000, random_state=0)
    >>> est = GMMMI(random_state=0).fit(x, y)
    >>> result = est.estimate_mi()  # doctest: +SKIP
    """

    def __init__(
        self,
        n_components: int | str = "auto",
        *,
        selection: str = "cv",
        max_components: int = 50,
        n_init: int = 3,
        n_folds: int = 2,
        threshold: float = 1e-5,
        patience: int = 1,
        init: str = "kmeans",
        reg_covar: float = 1e-6,
        tol: float = 1e-5,
        max_iter: int = 10_000,
        n_bootstrap: int = 50,
        mc_samples: int = 100_000,
        integration: str = "mc",
        transform: str | None = None,
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
    def _check_params(self) -> None:
        from bayes_gmm_mi import _em

        if self.n_components != "auto":
            if isinstance(self.n_components, str):
                raise ValueError(
                    f"n_components must be 'auto' or a positive int; got {self.n_components!r}."
                )
            check_int(self.n_components, "n_components", 1)
        check_choice(self.selection, "selection", ("cv", "aic", "bic"))
        check_int(self.max_components, "max_components", 1)
        check_int(self.n_init, "n_init", 1)
        check_int(self.n_folds, "n_folds", 2)
        check_float(self.threshold, "threshold", low=0.0)
        check_int(self.patience, "patience", 1)
        check_choice(self.init, "init", _em.INIT_METHODS)
        check_float(self.reg_covar, "reg_covar", low=0.0, high=1.0, low_open=True)
        check_float(self.tol, "tol", low=0.0, low_open=True)
        check_int(self.max_iter, "max_iter", 1)
        check_int(self.n_bootstrap, "n_bootstrap", 0)
        check_int(self.mc_samples, "mc_samples", 100)
        check_choice(self.integration, "integration", ("mc", "quadrature"))
        check_choice(self.transform, "transform", (None, "rank"))
        check_choice(self.units, "units", tuple(_UNITS))
        if not isinstance(self.progress, bool):
            raise TypeError(f"progress must be True or False; got {self.progress!r}.")
        self._check_method_params(self.method)

    def _check_method_params(self, method: Any) -> None:
        check_choice(method, "method", METHODS)
        check_int(self.num_chains, "num_chains", 1)
        check_int(self.num_warmup, "num_warmup", 1)
        check_int(self.num_samples, "num_samples", 1)
        check_int(self.svi_steps, "svi_steps", 1)
        check_float(self.svi_learning_rate, "svi_learning_rate", low=0.0, low_open=True)
        if self.priors is not None:
            # imports NumPyro: only when needed
            from bayes_gmm_mi._bayes import as_priors

            as_priors(self.priors)

    # --------------------------------------------------------------------- fit
    def fit(self, x: Any, y: Any, z: Any = None) -> "GMMMI":
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

        self._check_params()
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
        return self._fit_blocks(blocks, terms, quantity)

    def _fit_blocks(self, blocks: list[np.ndarray], terms: _mi.Terms, quantity: str, *,
                    pooled: bool = False, jacobian: bool = False) -> "GMMMI":
        """Fit the joint mixture of the column blocks and integrate ``terms``.

        ``pooled`` standardises matching columns of the blocks with one common
        location and scale (KL divergence needs both blocks in the same units);
        ``jacobian`` adds ``sum(log scale)`` to the integral (entropy is not
        invariant to the scaling).
        """
        import jax
        import jax.numpy as jnp

        data = np.column_stack(blocks)
        n, d = data.shape
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"the variables have {d} columns in all ({' + '.join(str(b.shape[1]) for b in blocks)}); "
                f"the mixture kernels support at most {MAX_DIMENSIONS}. Reduce the dimension "
                "(e.g. fewer latent columns, or PCA of a block) or estimate pairs of columns."
            )
        if self.integration == "quadrature" and (quantity != "mi" or d != 2):
            raise ValueError(
                "integration='quadrature' is available for the MI of two scalar variables "
                f"only; got {quantity!r} over {d} columns. Use integration='mc'."
            )
        if self.transform == "rank":
            if jacobian or pooled:
                raise ValueError(
                    f"transform='rank' changes {'entropy' if jacobian else 'KL divergence'}; "
                    "it is only allowed for MI and conditional MI. Use transform=None."
                )
            data = gaussianise_ranks(data)
        if pooled:
            width = blocks[0].shape[1]
            scaled, loc, scale = standardise(np.vstack([data[:, :width], data[:, width:]]))
            scaled = np.column_stack([scaled[:n], scaled[n:]])
            loc, scale = np.tile(loc, 2), np.tile(scale, 2)
        else:
            scaled, loc, scale = standardise(data)
        self._terms = terms
        self._offset = float(np.sum(np.log(scale))) if jacobian else 0.0
        self.quantity_ = quantity
        self.n_features_ = tuple(b.shape[1] for b in blocks)
        n_pad = _row_bucket(n)
        xs = np.zeros((n_pad, d), np.float32)
        xs[:n] = scaled
        rows = np.zeros(n_pad, np.float32)
        rows[:n] = 1.0

        seed = seed_from(self.random_state)
        self._seed = seed
        self._x = jnp.asarray(xs)
        self._rows = rows
        self.n_samples_ = n
        self.loc_, self.scale_ = loc, scale
        start = time.perf_counter()

        if self.n_components == "auto":
            k, fit = self._select(n, d, seed)
        else:
            k, fit = int(self.n_components), None
            if n < k * (d + 1):
                raise ValueError(
                    f"n_components={k} needs at least {k * (d + 1)} rows ({d + 1} per "
                    f"component); got {n}. Pass more data or fewer components."
                )
            self.selection_scores_ = {}
        if fit is None:
            fit = self._fit_all_rows(k, seed)

        self._k_pad = _component_bucket(k)
        self._params = fit.params
        self._report_fit(fit, k)
        self._set_public_params(fit.params, loc, scale)
        self._mc_base = self._make_mc_base(seed, d)
        mi, err = self._integrate(jax.tree.map(lambda a: a[None], fit.params))
        self._fit_value = (float(mi[0]), float(err[0]))
        factor = _UNITS[self.units]
        self.mi_ = float(mi[0]) * factor
        self.mc_error_ = float(err[0]) * factor
        self.fit_time_ = time.perf_counter() - start
        return self

    def _init_seeds(self, seed: int) -> np.ndarray:
        """One initialisation seed per ``n_init`` (shared by the folds of a K)."""
        rng = np.random.default_rng([seed, 1])
        return rng.integers(0, _SEED_MAX, self.n_init).astype(np.int32)

    def _run_fits(self, seeds: np.ndarray, train: np.ndarray, score: np.ndarray, n_active: int,
                  k_pad: int, start: GMMParams | None = None,
                  on_chunk=None, x: jax.Array | None = None) -> tuple[EMResult, np.ndarray]:
        """Run EM for each row of ``train`` through the fixed-capacity kernel.

        ``x`` defaults to the fitted data. Returns the fits and scores as numpy
        arrays with one row per member.
        """
        import jax

        from bayes_gmm_mi import _em
        from bayes_gmm_mi._batching import chunks, pad_to_capacity

        x = self._x if x is None else x
        warm = start is not None
        if start is None:
            start = _blank(k_pad, x.shape[1])
        fits, scores = [], []
        for lo, hi in chunks(len(seeds)):
            batch = pad_to_capacity((seeds[lo:hi], train[lo:hi], score[lo:hi]))
            res, sc = _em.fit_batch(
                batch[0], x, batch[1], batch[2], hi - lo, n_active, start, warm,
                k_pad=k_pad, init=self.init, reg_covar=self.reg_covar, tol=self.tol,
                max_iter=self.max_iter,
            )
            res, sc = jax.device_get((res, sc))
            fits.append(_take(res, slice(0, hi - lo)))
            scores.append(sc[: hi - lo])
            if on_chunk is not None:
                on_chunk(hi - lo)
        return _concat(fits), np.concatenate(scores)

    def _fit_all_rows(self, k: int, seed: int, rows: np.ndarray | None = None,
                      x: jax.Array | None = None) -> EMResult:
        """Fit K components to all ``rows`` of ``x`` (default: every real row of the
        fitted data) from ``n_init`` starts; keep the most likely."""
        full = np.tile(self._rows if rows is None else rows, (self.n_init, 1))
        res, _ = self._run_fits(self._init_seeds(seed), full, full, k, _component_bucket(k), x=x)
        return _take(res, int(np.argmax(res.log_lik)))

    def _select(self, n: int, d: int, seed: int, rows: np.ndarray | None = None,
                x: jax.Array | None = None) -> tuple[int, EMResult | None]:
        """Grow K until the selection score stops improving.

        ``rows`` (0/1 per padded row, default every real row) selects the data,
        e.g. one class of a categorical variable; ``n`` is its number of ones.
        Returns the chosen K and, for AIC/BIC, its full-data fit (cross-validation
        fits only training folds, so the caller fits all rows at the chosen K).
        """
        rows = self._rows if rows is None else rows
        n_init = self.n_init
        if self.selection == "cv":
            n_folds = self.n_folds
            if n < 2 * n_folds:
                raise ValueError(
                    f"cross-validation with n_folds={n_folds} needs at least {2 * n_folds} "
                    f"rows; got {n}. Pass more data, fewer folds, or a fixed n_components."
                )
            perm = np.random.default_rng([seed, 0]).permutation(np.flatnonzero(rows > 0))
            fold = np.full(rows.shape[0], -1)
            fold[perm] = np.arange(n) % n_folds
            val = np.stack([(fold == f).astype(np.float32) for f in range(n_folds)])
            train = rows - val
            n_train = n - int(val.sum(axis=1).max())
        else:
            val = train = rows[None]
            n_train = n
        per_init = train.shape[0]
        weights = np.tile(train, (n_init, 1))
        score_weights = np.tile(val, (n_init, 1))
        seeds = np.repeat(self._init_seeds(seed), per_init)
        k_limit = min(self.max_components, n_train // (d + 1))
        if k_limit < 1:
            raise ValueError(
                f"too few rows to fit even one component: each training fold needs at least "
                f"{d + 1} rows; got {n} rows in total. Pass more data."
            )

        scores: dict[int, float] = {}
        fits: dict[int, EMResult] = {}
        best_k, best_score, stall = 0, -np.inf, 0
        with progress_bar(self.progress, k_limit, "selecting components") as bar:
            for k in range(1, k_limit + 1):
                res, held_out = self._run_fits(
                    seeds, weights, score_weights, k, _component_bucket(k), x=x
                )
                if self.selection == "cv":
                    score = float(held_out.reshape(n_init, per_init).mean(axis=1).max())
                    scores[k] = score
                else:
                    best_init = int(np.argmax(res.log_lik))
                    fits[k] = _take(res, best_init)
                    total_ll = float(res.log_lik[best_init]) * n
                    penalty = 2.0 if self.selection == "aic" else math.log(n)
                    criterion = penalty * _n_parameters(k, d) - 2.0 * total_ll
                    scores[k] = criterion
                    score = -criterion
                bar.update(1)
                bar.set_postfix_str(f"K={k} score={scores[k]:.4f}")
                logger.debug("K=%d selection score %.6f", k, scores[k])
                not_converged = int(np.size(res.converged) - np.sum(res.converged))
                if not_converged:
                    # Selection fits only rank K; the final fit's convergence warns.
                    logger.info("K=%d: EM did not converge in %d of %d selection fits "
                                "(max_iter=%d)", k, not_converged, np.size(res.converged),
                                self.max_iter)
                if score > best_score + self.threshold:
                    best_k, best_score, stall = k, score, 0
                else:
                    stall += 1
                    if stall >= self.patience:
                        break
        if best_k == k_limit and k_limit < self.max_components:
            warnings.warn(
                f"component selection stopped at K={k_limit}, the most the {n} rows support; "
                "the mixture may be too coarse. Pass more data or set n_components.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif best_k == self.max_components:
            warnings.warn(
                f"component selection reached max_components={self.max_components} while "
                "the score was still improving; consider a larger max_components.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.selection_scores_ = scores
        return best_k, fits.get(best_k)

    def _report_fit(self, fit: EMResult, k: int) -> None:
        self.converged_ = bool(fit.converged)
        self.n_iter_ = int(fit.n_iter)
        self.lower_bound_ = float(fit.log_lik)
        if not self.converged_:
            warnings.warn(
                f"EM did not converge in max_iter={self.max_iter} iterations (tol={self.tol}); "
                "the estimate may be inaccurate. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        active = int(np.sum(np.asarray(fit.params.weights) > 0))
        if active < k:
            warnings.warn(
                f"{k - active} of {k} mixture components emptied (at initialisation or during "
                f"EM) and were dropped; the fit uses {active}. The data may hold fewer distinct "
                "clusters than components (e.g. many repeated values); consider fewer "
                "components or transform='rank'.",
                DegenerateComponentWarning,
                stacklevel=3,
            )

    def _set_public_params(self, params: GMMParams, loc: np.ndarray, scale: np.ndarray) -> None:
        w = np.asarray(params.weights, np.float64)
        keep = w > 0
        self.n_components_ = int(keep.sum())
        self.weights_ = w[keep] / w[keep].sum()
        self.means_ = np.asarray(params.means, np.float64)[keep] * scale + loc
        cov = np.asarray(params.covariances, np.float64)[keep]
        self.covariances_ = cov * np.outer(scale, scale)

    # -------------------------------------------------------------- integrals
    def _make_mc_base(self, seed: int, d: int) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Base samples: (z, u) of the full integral, and the normals of the differences."""
        import jax.numpy as jnp

        rng = np.random.default_rng([seed, 3])
        z = rng.standard_normal((self.mc_samples, d), dtype=np.float32)
        u = rng.random(self.mc_samples, dtype=np.float32)
        z_diff = np.random.default_rng([seed, 5]).standard_normal(
            (_difference_samples(self.mc_samples), d), dtype=np.float32
        )
        return jnp.asarray(z), jnp.asarray(u), jnp.asarray(z_diff)

    def _integrate(self, params: GMMParams) -> tuple[np.ndarray, np.ndarray]:
        """The fitted quantity (nats) and its MC error for a batch of mixtures (numpy arrays)."""
        from bayes_gmm_mi._batching import chunks, pad_to_capacity
        from bayes_gmm_mi._mi import functional_monte_carlo_batch, mi_quadrature_batch

        params = _compact(params)
        mis, errs = [], []
        for lo, hi in chunks(params.weights.shape[0]):
            batch = pad_to_capacity(_take(params, slice(lo, hi)))
            if self.integration == "mc":
                z, u, _ = self._mc_base
                mi, err = functional_monte_carlo_batch(batch, hi - lo, z, u, self._terms)
            else:
                mi = mi_quadrature_batch(batch, hi - lo)
                err = np.zeros_like(mi)
            mis.append(np.asarray(mi)[: hi - lo] + self._offset)
            errs.append(np.asarray(err)[: hi - lo])
        return np.concatenate(mis), np.concatenate(errs)

    def _integrate_near_fit(self, params: GMMParams) -> tuple[np.ndarray, np.ndarray]:
        """The fitted quantity (nats) and its MC error for mixtures near the fit.

        Bootstrap replicates and posterior draws keep the fit's components in the
        fit's order (replicates are warm-started from it; the samplers start at
        its active components), so each is integrated as the fit's value plus the
        difference to the fit (:func:`~bayes_gmm_mi._mi.functional_difference_batch`):
        a few thousand component-stratified base points, common to every member,
        give the difference with far less draw-to-draw noise than a full integral
        of each member, at a fraction of its cost. The stated error of each
        member combines the fit's Monte Carlo error and the difference's.
        Quadrature (deterministic) integrates each member directly.
        """
        if self.integration != "mc":
            return self._integrate(params)
        import jax

        from bayes_gmm_mi._batching import chunks, pad_to_capacity
        from bayes_gmm_mi._em import GMMParams
        from bayes_gmm_mi._mi import functional_difference_batch

        ref = jax.tree.map(np.asarray, self._params)
        params = jax.tree.map(np.asarray, params)
        active = np.flatnonzero(ref.weights > 0)
        k = params.weights.shape[1]
        if k == ref.weights.shape[0] and not np.any(np.delete(params.weights, active, axis=1) > 0):
            params = _take_components(params, active)  # replicates: drop the fit's dead components
        if params.weights.shape[1] != active.size:
            # Not the fit's components (cannot happen for replicates or draws of this
            # fit): integrate each mixture in full instead.
            return self._integrate(params)
        ref = _take_components(jax.tree.map(lambda a: a[None], ref), active)
        ref = GMMParams(ref.weights[0] / ref.weights[0].sum(), ref.means[0], ref.covariances[0])
        value, value_error = self._fit_value
        _, _, z_diff = self._mc_base
        diffs, errs = [], []
        for lo, hi in chunks(params.weights.shape[0]):
            batch = pad_to_capacity(_take(params, slice(lo, hi)))
            diff, err = functional_difference_batch(batch, ref, hi - lo, z_diff, self._terms)
            diffs.append(np.asarray(diff)[: hi - lo])
            errs.append(np.asarray(err)[: hi - lo])
        diff, err = np.concatenate(diffs), np.concatenate(errs)
        return value + diff, np.sqrt(value_error**2 + err**2)

    # -------------------------------------------------------------- bootstrap
    def _check_fitted(self) -> None:
        if not hasattr(self, "_params"):
            raise ValueError(
                "this GMMMI instance is not fitted yet; call fit(x, y) before estimate_mi()."
            )

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
        self._check_fitted()
        method = self.method if method is None else method
        self._check_method_params(method)
        if method != "bootstrap":
            return self._estimate_posterior(method)
        b = self.n_bootstrap if n_bootstrap is None else check_int(n_bootstrap, "n_bootstrap", 0)
        start = time.perf_counter()
        n = self.n_samples_
        draws = np.empty(0)
        info = self._base_info()
        if b > 0:
            rng = np.random.default_rng([self._seed, 2])
            counts = np.zeros((b, self._rows.shape[0]), np.float32)
            counts[:, :n] = rng.multinomial(n, np.full(n, 1.0 / n), size=b)
            with progress_bar(self.progress, b, "bootstrap") as bar:
                res, _ = self._run_fits(
                    np.zeros(b, np.int32), counts, counts, self.n_components_, self._k_pad,
                    start=self._params, on_chunk=bar.update,
                )
            mi, _ = self._integrate_near_fit(res.params)
            draws = mi * _UNITS[self.units]
            not_converged = int(b - res.converged.sum())
            dropped = int((res.n_dropped > 0).sum())
            info.update(bootstrap_not_converged=not_converged, bootstrap_dropped=dropped)
            if not_converged:
                warnings.warn(
                    f"EM did not converge in {not_converged} of {b} bootstrap replicates "
                    f"(max_iter={self.max_iter}); their MI is still used. Increase max_iter.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            if dropped:
                logger.info("%d of %d bootstrap replicates dropped a component", dropped, b)
        elapsed = time.perf_counter() - start
        info["bootstrap_time_s"] = elapsed
        return MIResult(
            point_estimate=self.mi_,
            draws=np.asarray(draws, np.float64),
            units=self.units,
            n_components=self.n_components_,
            method="bootstrap",
            mc_error=self.mc_error_,
            n_samples=n,
            info=info,
            wall_time=elapsed,
            quantity=self.quantity_,
        )

    def _base_info(self) -> dict[str, Any]:
        return {
            "selection_scores": dict(self.selection_scores_),
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "fit_time_s": self.fit_time_,
        }

    def _sampler_settings(self):
        from bayes_gmm_mi._bayes import SamplerSettings, as_priors

        return SamplerSettings(self.num_chains, self.num_warmup, self.num_samples,
                               self.svi_steps, self.svi_learning_rate, as_priors(self.priors))

    def _estimate_posterior(self, method: str) -> MIResult:
        """Posterior draws of the mixture at the fitted K, and their MI."""
        from bayes_gmm_mi._bayes import posterior_mi  # imports NumPyro on use

        start = time.perf_counter()
        out = posterior_mi(
            method=method,
            x=self._x,
            rows=self._rows,
            params=self._params,
            integrate=self._integrate_near_fit,
            seed=self._seed,
            n_samples=self.n_samples_,
            settings=self._sampler_settings(),
        )
        factor = _UNITS[self.units]
        info = self._base_info()
        info.update(out["info"])
        return MIResult(
            point_estimate=self.mi_,
            draws=out["mi"].reshape(-1) * factor,
            units=self.units,
            n_components=self.n_components_,
            method=method,
            mc_error=out["mc_error"] * factor,
            n_samples=self.n_samples_,
            info=info,
            n_chains=out["n_chains"],
            parameters=out["parameters"],
            sample_stats=out["sample_stats"],
            wall_time=time.perf_counter() - start,
            quantity=self.quantity_,
        )
