"""MI between a continuous variable and a categorical one (class labels).

One mixture per class on the continuous variable X; the marginal density of X is
the mixture of the class densities weighted by the **observed class
frequencies** p_c, and

    I(X; Y) = H(X) − Σ_c p_c H(X | c) = Σ_c p_c E_{x ~ p(x|c)}[log p(x|c) − log p(x)].

(An implementation that weighs the classes equally is biased whenever the
frequencies differ; the frequencies here are the data's, and vary with each
bootstrap replicate or posterior draw.)

Every class is fitted through the same compiled EM kernel on the same padded
array: a class is a 0/1 row mask, a bootstrap replicate of it the mask times
multinomial counts.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._estimator import EstimatorSettings
from bayes_gmm_mi._pipeline import settings as _settings
from bayes_gmm_mi._pipeline.prepare import MIN_ROWS_PER_DIMENSION
from bayes_gmm_mi._pipeline.screen import align_rows, check_continuous, check_fixed_components
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import MAX_DIMENSIONS, as_block, seed_from

if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._pipeline.integrate import BaseSamples
    from bayes_gmm_mi._pipeline.uncertainty import Draws

__all__ = ["GMMCategoricalMI", "encode_labels", "DISCRETE_X_ADVICE"]

#: How a discrete-looking continuous variable of a categorical MI can be estimated.
DISCRETE_X_ADVICE = (
    "If it holds classes too, pass discrete_x=True as well (two discrete variables, by "
    "counts), or dequantise=True (each value spread over its cell; MI unchanged)."
)


def encode_labels(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..C−1 and the class values of any hashable labels.

    Classes are ordered by first appearance; strings, integers not starting at
    0, booleans and pandas categoricals all work.

    Raises
    ------
    ValueError
        If the labels are not one-dimensional, do not match ``n`` rows, or hold
        missing values (None/NaN).
    TypeError
        If ``labels`` is not an array-like (None, a generator, a dict, ...).
    """
    import pandas as pd

    from bayes_gmm_mi._validation import check_array_like

    check_array_like(labels, "labels", kind="class labels", shapes="(n,)")
    if isinstance(labels, pd.DataFrame):
        if labels.shape[1] != 1:
            raise ValueError(f"labels must be one column; got a table of shape {labels.shape}.")
        labels = labels.iloc[:, 0]
    if isinstance(labels, pd.Series):
        values = labels.reset_index(drop=True)
    else:
        arr = np.asarray(labels, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"labels must be one-dimensional (one label per row); got shape {arr.shape}."
            )
        values = pd.Series(arr)
    if len(values) != n:
        raise ValueError(
            f"x and the labels must have the same number of rows; got {n} and {len(values)}."
        )
    missing = values.isna().to_numpy()
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"labels hold {int(missing.sum())} missing value(s) (None/NaN), the first at row "
            f"{first}. Drop those rows or give the missing values a class of their own."
        )
    codes, classes = pd.factorize(values, sort=False)
    return codes.astype(np.int64), np.asarray(classes, dtype=object)



class GMMCategoricalMI(EstimatorSettings):
    """MI between a continuous variable and a categorical one, from per-class mixtures.

    Same parameters as :class:`GMMMI` (component selection, EM settings,
    bootstrap, units, seeds; ``integration`` must be ``"mc"``); each class gets
    its own number of components. Built on the same pipeline as :class:`GMMMI`:
    the classes are the data sets of one stack.
    ``mc_samples`` is the total Monte Carlo budget, split equally between the
    classes. All three methods are available; for ``"vi"``/``"mcmc"`` see
    :meth:`estimate_mi`.

    Attributes
    ----------
    classes_ : ndarray of object, shape (n_classes,)
        The class values, in order of first appearance.
    class_counts_ : ndarray of int, shape (n_classes,)
    class_frequencies_ : ndarray of float, shape (n_classes,)
        Observed frequencies p_c (they weight the class densities).
    class_n_components_ : dict
        Class value → components of its mixture.
    n_components_ : int
        Total number of components over all classes (the sum of
        ``class_n_components_``).
    mi_, mc_error_, n_samples_, fit_time_
        As in :class:`GMMMI`.

    Examples
    --------
    >>> import numpy as np
    >>> from bayes_gmm_mi import GMMCategoricalMI
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.choice(["a", "b"], size=1000, p=[0.3, 0.7])
    >>> x = np.where(labels == "a", -1.0, 1.0) + rng.normal(size=1000)
    >>> est = GMMCategoricalMI(random_state=0, n_bootstrap=10).fit(x, labels)
    >>> 0.2 < est.mi_ < 0.4
    True
    """

    #: A class needs at least this many rows per column of x (plus one), and at
    #: least ``2 * n_folds`` rows, for its mixture to be fitted and validated.
    MIN_ROWS_PER_DIMENSION = MIN_ROWS_PER_DIMENSION
    _FIT_CALL = "fit(x, labels)"
    _BIAS_CORRECTED = True

    def fit(self, x: Any, labels: Any) -> GMMCategoricalMI:
        """Fit one mixture per class and compute the MI.

        Parameters
        ----------
        x : array-like of shape (n,) or (n, d)
            The continuous variable (at most :data:`MAX_DIMENSIONS` = 32 columns).
        labels : array-like of shape (n,)
            Class labels: any hashable values (strings, integers, booleans,
            pandas categoricals); no missing values.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            A single class, a class with too few rows (named, with its count),
            missing labels, mismatched lengths, ``integration="quadrature"``.
        """
        from bayes_gmm_mi._pipeline import engine, knn, memory, prepare
        from bayes_gmm_mi._pipeline.integrate import class_base_samples
        from bayes_gmm_mi._pipeline.seeds import Stream, child_seeds

        params = self._validated_params()
        if params["integration"] != "mc":
            raise ValueError(
                "categorical MI is integrated by Monte Carlo only; got "
                f"integration={params['integration']!r}. Use integration='mc'."
            )
        x, labels = align_rows([x, labels], ["x", "labels"])
        block = as_block(x, "x")
        [block] = check_continuous([block], ["x"], advice=DISCRETE_X_ADVICE,
                                   dequantise_ties=params["dequantise"])
        n, d = block.shape
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"x has {d} columns; the mixture kernels support at most {MAX_DIMENSIONS}, "
                "because a full-covariance component in D dimensions has D(D+3)/2 + 1 "
                f"parameters ({MAX_DIMENSIONS * (MAX_DIMENSIONS + 3) // 2 + 1} at "
                f"D = {MAX_DIMENSIONS}) and needs about 5 rows for each, in every class. Reduce "
                "the dimension (e.g. PCA of x) or use fewer columns."
            )
        codes, classes = encode_labels(labels, n)
        n_classes = len(classes)
        if n_classes < 2:
            raise ValueError(
                f"labels hold a single class ({classes[0]!r}); MI with a constant is 0. "
                "Pass labels with at least two classes."
            )
        counts = np.bincount(codes, minlength=n_classes)
        need = prepare.min_class_rows(params["n_folds"], d, params["n_components"])
        prepare.check_class_sizes(counts, classes, need, "labels")
        smallest = int(np.argmin(counts))
        check_fixed_components(int(counts[smallest]), d, params["n_components"],
                               f"class {classes[smallest]!r} (the smallest)")
        transforms = prepare.representations(params["transform"])
        memory.check_settings(params, rows=n, dim=d, data_sets=n_classes * len(transforms))
        names = tuple(prepare.REPRESENTATION_NAMES[t] for t in transforms)
        prepared = [prepare.scale_joint([block], transform=t) for t in transforms]
        scaling = prepared[0][1]
        seed = seed_from(params["random_state"])
        start = time.perf_counter()
        index = prepare.class_indices(codes, n_classes)
        class_seeds = child_seeds(seed, Stream.CLASSES, n_classes)
        # Representation-major blocks of the C classes: the same rows, folds and
        # seeds in each representation.
        labels_of = [f"class {c!r}" for c in classes]
        if len(names) > 1:
            labels_of = [f"{label}, {name} representation"
                         for name in names for label in labels_of]
        data = prepare.stack([scaled[idx] for scaled, _ in prepared for idx in index],
                             index * len(names), np.tile(class_seeds, len(names)), labels_of)
        fitted, selection, final = engine.fit_data_sets(
            data, _settings.fit_settings(params), n_samples=n, seed=seed, partition=True,
            groups=len(names), progress=params["progress"])
        base = class_base_samples(seed, params["mc_samples"], d, n_classes)
        freqs = counts / n
        self._fitted = fitted
        self._base: BaseSamples = base
        self.representations_ = names
        mi, err = self._integrate_blocks(fitted.fits, freqs[None], lead=1)
        mi, err = mi[:, 0], err[:, 0]
        self._fit_value = (mi, err)
        factor = _settings.UNITS[params["units"]]
        self.mi_by_representation_ = {name: float(v) * factor
                                      for name, v in zip(names, mi, strict=True)}
        active = np.sum(np.asarray(fitted.fits.weights) > 0, axis=1).reshape(len(names), -1)
        self.n_components_by_representation_ = {
            name: int(a.sum()) for name, a in zip(names, active, strict=True)}
        active = active[0]
        self.n_samples_ = n
        self.loc_, self.scale_ = scaling.loc, scaling.scale
        self.quantity_ = "mi"
        self.n_features_ = (d, 1)
        self.classes_ = classes
        self.class_counts_ = counts
        self.class_frequencies_ = freqs
        self.class_selection_scores_ = {
            classes[c]: dict(selection.scores[c]) for c in range(n_classes)
        } if params["n_components"] == "auto" else {}
        self.selection_scores_ = {}
        self.class_n_components_ = {classes[c]: int(active[c]) for c in range(n_classes)}
        self.n_components_ = int(active.sum())
        self.converged_ = bool(np.all(final.converged[:n_classes]))
        self.n_iter_ = int(np.max(final.n_iter[:n_classes]))
        self.lower_bound_ = float(np.sum(freqs * np.asarray(final.log_lik[:n_classes])))
        self._knn = knn.labelled_mi(block, codes)
        return self._store_estimate(float(mi[0]), float(err[0]), params, start)

    def estimate_mi(self, n_bootstrap: int | None = None, *, method: str | None = None) -> MIResult:
        """MI with its uncertainty, reusing each class's component choice.

        ``"bootstrap"``: each replicate resamples the rows (so the class
        frequencies vary too) and refits every class's mixture by EM,
        warm-started from its full fit. ``"vi"``/``"mcmc"``: each class's
        mixture gets its own posterior (started from its EM fit), the class
        frequencies a Dirichlet(counts + 1) posterior (uniform prior), and draw
        i of chain j of every class is combined into one MI draw.

        Small classes make the per-class mixtures overfit, which reads
        dependence into independent data (≈ 0.015 nats for 10 classes at
        N = 1000). The draws are therefore centred on the bias-corrected
        estimate ``mi_ − bias``, the bias estimated by the bootstrap
        (``mean(replicates) − mi_``; for ``"vi"``/``"mcmc"`` from
        :data:`~bayes_gmm_mi._pipeline.models.CHECK_REPLICATES` extra replicates):
        ``info["bias_correction"]`` holds ``−bias`` per representation, and
        ``point_estimate`` stays the EM fit's MI.

        Parameters
        ----------
        n_bootstrap : int, optional
            Replicates; defaults to the ``n_bootstrap`` parameter.
        method : {"bootstrap", "vi", "mcmc"}, optional
            Defaults to the ``method`` parameter.

        Returns
        -------
        MIResult
        """
        return self._estimate(n_bootstrap, method)

    def _base_info(self) -> dict[str, Any]:
        labels = self.classes_.tolist()
        return {
            "class_selection_scores": dict(self.class_selection_scores_),
            "class_n_components": dict(self.class_n_components_),
            "class_frequencies": dict(zip(labels, self.class_frequencies_.tolist(), strict=True)),
            "fit_time_s": self.fit_time_,
        }

    def _integrate_blocks(self, params: Any, mass: np.ndarray, lead: int,
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Categorical MI of each representation's block of class mixtures.

        ``params`` has leading axes (R * C[, S]); ``mass`` is (S, R * C) (or
        (1, C) for the fits: the observed frequencies). Returns (R, S) values
        and errors.
        """
        import jax

        from bayes_gmm_mi._pipeline.integrate import integrate_classes

        groups = len(self.representations_)
        c = params.weights.shape[0] // groups
        values, errors = [], []
        for r in range(groups):
            block = jax.tree.map(lambda a, r=r: np.asarray(a)[r * c:(r + 1) * c], params)
            share = mass if mass.shape[1] == c else mass[:, r * c:(r + 1) * c]
            v, e = integrate_classes(_per_member(block, lead), share, self._base)
            values.append(v)
            errors.append(e)
        return np.stack(values), np.stack(errors)

    def _integrate_draws(self, draws: Draws, params: dict[str, Any]) -> tuple[Any, Any]:
        if draws.mass.shape[1] == 0:
            groups = len(self.representations_)
            return np.zeros((groups, 0)), np.zeros((groups, 0))
        return self._integrate_blocks(draws.params, draws.mass.T, lead=2)

    def _draw_parameters(self, draws: Draws) -> dict[str, np.ndarray] | None:
        if draws.parameters is None:
            return None
        labels = self.classes_.tolist()
        lead = draws.parameters[0]["weights"].shape[:2]
        parameters = {"class_frequencies": draws.mass.T.reshape(lead + (len(labels),))}
        for label, sites in zip(labels, draws.parameters, strict=True):
            for name, value in sites.items():
                parameters[f"{name}[{label}]"] = value
        return parameters


def _per_member(params: Any, lead: int) -> Any:
    """Class mixtures (C, [S,] K, ...) → members of classes ([S or 1], C, K, ...)."""
    import jax

    if lead == 1:
        return jax.tree.map(lambda a: np.asarray(a)[None], params)
    return jax.tree.map(lambda a: np.swapaxes(np.asarray(a), 0, 1), params)
