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

import math
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_gmm_mi._estimator import (
    _SEED_MAX,
    _UNITS,
    GMMMI,
    _component_bucket,
    _row_bucket,
    _take,
)
from bayes_gmm_mi._progress import progress_bar
from bayes_gmm_mi._result import MIResult
from bayes_gmm_mi._validation import (
    MAX_DIMENSIONS,
    as_block,
    check_int,
    gaussianise_ranks,
    seed_from,
    standardise,
)
from bayes_gmm_mi.exceptions import ConvergenceWarning

# JAX and the kernels (_em, _mi, _batching) are imported where used: see _estimator.
if TYPE_CHECKING:  # pragma: no cover
    from bayes_gmm_mi._em import GMMParams

__all__ = ["GMMCategoricalMI", "encode_labels"]


def encode_labels(labels: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..C−1 and the class values of any hashable labels.

    Classes are ordered by first appearance; strings, integers not starting at
    0, booleans and pandas categoricals all work.

    Raises
    ------
    ValueError
        If the labels are not one-dimensional, do not match ``n`` rows, or hold
        missing values (None/NaN).
    """
    import pandas as pd

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


def _pad_components(params: GMMParams, k_pad: int) -> GMMParams:
    """Pad the component axis (axis -1 of weights) to ``k_pad`` with weight-0 components."""
    import jax

    from bayes_gmm_mi._em import GMMParams

    w = np.asarray(params.weights)
    extra = k_pad - w.shape[-1]
    if extra == 0:
        return jax.tree.map(np.asarray, params)
    d = np.asarray(params.means).shape[-1]
    lead = w.shape[:-1]
    eye = np.broadcast_to(np.eye(d, dtype=np.float32), lead + (extra, d, d))
    return GMMParams(
        np.concatenate([w, np.zeros(lead + (extra,), w.dtype)], -1),
        np.concatenate([np.asarray(params.means), np.zeros(lead + (extra, d), np.float32)], -2),
        np.concatenate([np.asarray(params.covariances), eye], -3),
    )


def integrate_classes(params: GMMParams, freqs: np.ndarray, z, u) -> tuple[np.ndarray, np.ndarray]:
    """Categorical MI (nats) and MC error of a batch of per-class mixtures.

    Parameters
    ----------
    params : GMMParams with leading axes (B, n_classes, K)
    freqs : ndarray of shape (B, n_classes)
    z, u : per-class base samples from :func:`bayes_gmm_mi._mi.class_base_samples`

    Components that are empty in every mixture are dropped first (after
    sorting by weight, which changes no density).
    """
    import jax

    from bayes_gmm_mi._batching import chunks, pad_to_capacity
    from bayes_gmm_mi._mi import categorical_mi_batch

    w = np.asarray(params.weights)
    n_active = int((w > 0).sum(axis=-1).max())
    keep = min(w.shape[-1], 1 << (n_active - 1).bit_length())
    order = np.argsort(-w, axis=-1, kind="stable")[..., :keep]
    params = jax.tree.map(
        lambda a: np.take_along_axis(
            np.asarray(a), order.reshape(order.shape + (1,) * (np.ndim(a) - 3)), 2),
        params,
    )
    mis, errs = [], []
    freqs = np.asarray(freqs, np.float32)
    for lo, hi in chunks(w.shape[0]):
        batch = pad_to_capacity((_take(params, slice(lo, hi)), freqs[lo:hi]))
        mi, err = categorical_mi_batch(batch[0], batch[1], hi - lo, z, u)
        mis.append(np.asarray(mi)[: hi - lo])
        errs.append(np.asarray(err)[: hi - lo])
    return np.concatenate(mis), np.concatenate(errs)


class GMMCategoricalMI(GMMMI):
    """MI between a continuous variable and a categorical one, from per-class mixtures.

    Same parameters as :class:`GMMMI` (component selection, EM settings,
    bootstrap, units, seeds); each class gets its own number of components.
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

    #: A class needs at least this many rows per column of x (and at least
    #: ``2 * n_folds`` rows) for its mixture to be fitted and validated.
    MIN_ROWS_PER_DIMENSION = 5

    def fit(self, x: Any, labels: Any) -> "GMMCategoricalMI":  # type: ignore[override]
        """Fit one mixture per class and compute the MI.

        Parameters
        ----------
        x : array-like of shape (n,) or (n, d)
            The continuous variable (at most 8 columns).
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
        import jax

        self._check_params()
        if self.integration != "mc":
            raise ValueError(
                "categorical MI is integrated by Monte Carlo only; got "
                f"integration={self.integration!r}. Use integration='mc'."
            )
        block = as_block(x, "x")
        n, d = block.shape
        if d > MAX_DIMENSIONS:
            raise ValueError(
                f"x has {d} columns; the mixture kernels support at most {MAX_DIMENSIONS}."
            )
        codes, classes = encode_labels(labels, n)
        n_classes = len(classes)
        if n_classes < 2:
            raise ValueError(
                f"labels hold a single class ({classes[0]!r}); MI with a constant is 0. "
                "Pass labels with at least two classes."
            )
        counts = np.bincount(codes, minlength=n_classes)
        need = max(2 * self.n_folds, self.MIN_ROWS_PER_DIMENSION * (d + 1))
        if self.n_components != "auto":
            need = max(need, int(self.n_components) * (d + 1))
        small = np.flatnonzero(counts < need)
        if small.size:
            listing = ", ".join(f"{classes[c]!r} has {counts[c]}" for c in small)
            raise ValueError(
                f"every class needs at least {need} rows to fit its mixture; {listing}. "
                "Merge rare classes, drop them, or collect more data."
            )
        if self.transform == "rank":
            block = gaussianise_ranks(block)
        scaled, loc, scale = standardise(block)
        n_pad = _row_bucket(n)
        xs = np.zeros((n_pad, d), np.float32)
        xs[:n] = scaled
        padded_codes = np.full(n_pad, -1)
        padded_codes[:n] = codes
        seed = seed_from(self.random_state)
        self._seed = seed
        self._x = jax.numpy.asarray(xs)
        self._rows = (padded_codes >= 0).astype(np.float32)
        self._codes = padded_codes
        self.n_samples_ = n
        self.loc_, self.scale_ = loc, scale
        self.quantity_ = "mi"
        self.n_features_ = (d, 1)
        self.classes_ = classes
        self.class_counts_ = counts
        self.class_frequencies_ = counts / n
        start = time.perf_counter()

        # Each class's rows are gathered into an array of their own (all padded
        # to one size, so one compiled kernel serves every class): EM on a class
        # then costs its rows, not all n.
        class_pad = _row_bucket(int(counts.max()))
        self._class_index = [np.flatnonzero(codes == c) for c in range(n_classes)]
        self._class_x, self._class_rows = [], []
        for idx in self._class_index:
            xc = np.zeros((class_pad, d), np.float32)
            xc[: idx.size] = scaled[idx]
            rc = np.zeros(class_pad, np.float32)
            rc[: idx.size] = 1.0
            self._class_x.append(jax.numpy.asarray(xc))
            self._class_rows.append(rc)

        class_seeds = np.random.default_rng([seed, 10]).integers(0, _SEED_MAX, n_classes)
        fits, ks = [], []
        self.class_selection_scores_ = {}
        for c in range(n_classes):
            rows_c, x_c = self._class_rows[c], self._class_x[c]
            seed_c = int(class_seeds[c])
            if self.n_components == "auto":
                k, fit = self._select(int(counts[c]), d, seed_c, rows=rows_c, x=x_c)
                self.class_selection_scores_[classes[c]] = dict(self.selection_scores_)
            else:
                k, fit = int(self.n_components), None
            if fit is None:
                fit = self._fit_all_rows(k, seed_c, rows=rows_c, x=x_c)
            self._report_fit(fit, k)
            fits.append(fit.params)
            ks.append(k)
        self.selection_scores_ = {}
        self._class_k = ks
        self._k_pad = max(_component_bucket(k) for k in ks)
        self._class_params = [jax.tree.map(np.asarray, p) for p in fits]
        stacked = jax.tree.map(
            lambda *a: np.stack(a), *[_pad_components(p, self._k_pad) for p in fits]
        )
        self._params = stacked
        self.class_n_components_ = {
            classes[c]: int(np.sum(np.asarray(fits[c].weights) > 0)) for c in range(n_classes)
        }
        self.n_components_ = int(sum(self.class_n_components_.values()))
        per_class = max(1, math.ceil(self.mc_samples / n_classes))
        self._mc_base = self._make_mc_base(seed, d, per_class, n_classes)
        mi, err = self._integrate_classes(
            jax.tree.map(lambda a: a[None], stacked), self.class_frequencies_[None]
        )
        factor = _UNITS[self.units]
        self.mi_ = float(mi[0]) * factor
        self.mc_error_ = float(err[0]) * factor
        self.fit_time_ = time.perf_counter() - start
        return self

    def _make_mc_base(self, seed: int, d: int, size: int, n_classes: int):
        """Independent base samples per class: z (C, size, d), u (C, size)."""
        from bayes_gmm_mi._mi import class_base_samples

        return class_base_samples(seed, size, d, n_classes)

    def _integrate_classes(self, params: GMMParams, freqs: np.ndarray):
        """MI (nats) and MC error of a batch: params (B, C, K, ...), freqs (B, C)."""
        return integrate_classes(params, freqs, *self._mc_base)

    def estimate_mi(self, n_bootstrap: int | None = None, *, method: str | None = None) -> MIResult:
        """MI with its uncertainty, reusing each class's component choice.

        ``"bootstrap"``: each replicate resamples the rows (so the class
        frequencies vary too) and refits every class's mixture by EM,
        warm-started from its full fit. ``"vi"``/``"mcmc"``: each class's
        mixture gets its own posterior (started from its EM fit), the class
        frequencies a Dirichlet(counts + 1) posterior (uniform prior), and draw
        i of chain j of every class is combined into one MI draw.

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
        import jax

        self._check_fitted()
        method = self.method if method is None else method
        self._check_method_params(method)
        if method != "bootstrap":
            return self._estimate_posterior(method)
        b = self.n_bootstrap if n_bootstrap is None else check_int(n_bootstrap, "n_bootstrap", 0)
        start = time.perf_counter()
        n, n_classes, d = self.n_samples_, len(self.classes_), self._x.shape[1]
        info = {
            "class_selection_scores": dict(self.class_selection_scores_),
            "class_n_components": dict(self.class_n_components_),
            "class_frequencies": dict(zip(self.classes_.tolist(), self.class_frequencies_.tolist())),
            "fit_time_s": self.fit_time_,
        }
        draws = np.empty(0)
        if b > 0:
            rng = np.random.default_rng([self._seed, 2])
            counts = np.zeros((b, self._rows.shape[0]), np.float32)
            counts[:, :n] = rng.multinomial(n, np.full(n, 1.0 / n), size=b)
            class_params, freqs, not_converged = [], np.zeros((b, n_classes)), 0
            with progress_bar(self.progress, b * n_classes, "bootstrap") as bar:
                for c in range(n_classes):
                    idx = self._class_index[c]
                    weights = np.zeros((b, self._class_rows[c].shape[0]), np.float32)
                    weights[:, : idx.size] = counts[:, idx]
                    freqs[:, c] = weights.sum(axis=1) / n
                    full = self._class_params[c]
                    res, _ = self._run_fits(
                        np.zeros(b, np.int32), weights, weights, self._class_k[c],
                        _component_bucket(self._class_k[c]), start=full, on_chunk=bar.update,
                        x=self._class_x[c],
                    )
                    # A class drawn (almost) empty keeps its full-data fit; its
                    # frequency, hence its weight in the MI, is (almost) 0 anyway.
                    thin = weights.sum(axis=1) < d + 1
                    params = jax.tree.map(
                        lambda r, f: np.where(thin.reshape((-1,) + (1,) * (r.ndim - 1)), f[None], r),
                        res.params, full,
                    )
                    not_converged += int(b - res.converged.sum())
                    class_params.append(_pad_components(params, self._k_pad))
            stacked = jax.tree.map(lambda *a: np.stack(a, axis=1), *class_params)
            mi, _ = self._integrate_classes(stacked, freqs)
            draws = mi * _UNITS[self.units]
            info["bootstrap_not_converged"] = not_converged
            if not_converged:
                warnings.warn(
                    f"EM did not converge in {not_converged} of {b * n_classes} class refits "
                    f"(max_iter={self.max_iter}); their MI is still used. Increase max_iter.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
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
            quantity="mi",
        )

    def _estimate_posterior(self, method: str) -> MIResult:
        """Per-class mixture posteriors × Dirichlet class frequencies → MI draws."""
        import jax

        from bayes_gmm_mi._bayes import (
            check_and_diagnose,
            draws_to_params,
            rng_key,
            sample_posterior,
            warn_thin_components,
        )

        start = time.perf_counter()
        settings = self._sampler_settings()
        n_classes, d = len(self.classes_), self._x.shape[1]
        outs = []
        for c in range(n_classes):
            warn_thin_components(self._class_params[c], int(self.class_counts_[c]), d)
            outs.append(sample_posterior(method, self._class_x[c], self._class_rows[c],
                                         self._class_params[c],
                                         settings, rng_key(self._seed, 100 + c)))
        n_chains = outs[0]["n_chains"]
        lead = outs[0]["parameters"]["weights"].shape[:2]
        total = lead[0] * lead[1]
        stacked = jax.tree.map(
            lambda *a: np.stack(a, axis=1),
            *[_pad_components(draws_to_params(o["parameters"]), self._k_pad) for o in outs],
        )
        freqs = np.random.default_rng([self._seed, 5]).dirichlet(
            self.class_counts_ + 1.0, size=total)
        t0 = time.perf_counter()
        mi, err = self._integrate_classes(stacked, freqs)
        info: dict[str, Any] = {
            "class_n_components": dict(self.class_n_components_),
            "class_frequencies": dict(zip(self.classes_.tolist(),
                                          self.class_frequencies_.tolist())),
            "fit_time_s": self.fit_time_,
            "sampling_time_s": sum(o["info"]["sampling_time_s"] for o in outs),
            "integration_time_s": time.perf_counter() - t0,
        }
        sample_stats = None
        if method == "mcmc":
            stats = [o["sample_stats"] for o in outs]
            sample_stats = {
                "diverging": np.any([s["diverging"] for s in stats], axis=0),
                "tree_depth": np.max([s["tree_depth"] for s in stats], axis=0),
                "n_steps": np.sum([s["n_steps"] for s in stats], axis=0),
            }
        mi = np.asarray(mi, np.float64).reshape(lead)
        check_and_diagnose(mi, method, sample_stats, n_chains, info)
        parameters = {"class_frequencies": freqs.reshape(lead + (n_classes,))}
        for label, out in zip(self.classes_.tolist(), outs):
            for name, value in out["parameters"].items():
                parameters[f"{name}[{label}]"] = value
        factor = _UNITS[self.units]
        return MIResult(
            point_estimate=self.mi_,
            draws=mi.reshape(-1) * factor,
            units=self.units,
            n_components=self.n_components_,
            method=method,
            mc_error=float(np.mean(err)) * factor,
            n_samples=self.n_samples_,
            info=info,
            n_chains=n_chains,
            parameters=parameters,
            sample_stats=sample_stats,
            wall_time=time.perf_counter() - start,
            quantity="mi",
        )
