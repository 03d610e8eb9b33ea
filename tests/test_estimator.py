"""GMMMI: the scikit-learn contract, fitted attributes, selection, reproducibility."""

import math
import warnings

import jax
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.mixture import GaussianMixture

from bayes_gmm_mi import GMMMI, ConvergenceWarning, MIResult, datasets, mutual_information


def _clusters(rng, n=1500):
    centres = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, -1.0]])
    return np.concatenate([rng.multivariate_normal(c, [[1.0, 0.6], [0.6, 1.0]], n // 3)
                           for c in centres])


def test_init_only_stores_and_clone_works():
    est = GMMMI(n_components=3, n_init=5, init="random", random_state=7)
    assert est.get_params()["n_init"] == 5
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "weights_")
    copy.set_params(n_init=2, selection="bic")
    assert copy.n_init == 2 and copy.selection == "bic"
    assert repr(copy) == (
        "GMMMI(n_components=3, selection='bic', n_init=2, init='random', random_state=7)"
    )
    with pytest.raises(ValueError, match=r"invalid parameter 'ninit' for GMMMI; valid parameters:"):
        copy.set_params(ninit=2)
    # __init__ does no validation (scikit-learn convention): errors come from fit
    GMMMI(n_init=-3)


def test_fit_returns_self_and_sets_attributes(rng):
    x, y = datasets.BivariateGaussian(0.5).sample(1000, random_state=1)
    est = GMMMI(random_state=0)
    assert est.fit(x, y) is est
    for name in ("weights_", "means_", "covariances_", "n_components_", "selection_scores_",
                 "converged_", "n_iter_", "mi_", "mc_error_", "lower_bound_"):
        assert hasattr(est, name), name
    assert est.weights_.shape == (est.n_components_,)
    assert est.means_.shape == (est.n_components_, 2)
    assert est.covariances_.shape == (est.n_components_, 2, 2)
    assert est.weights_.sum() == pytest.approx(1.0)
    assert est.converged_


def test_single_component_parameters_in_data_units(rng):
    xy = rng.multivariate_normal([5.0, -2.0], [[4.0, 1.5], [1.5, 1.0]], size=2000)
    x, y = 10.0 * xy[:, 0] + 3.0, xy[:, 1]
    est = GMMMI(n_components=1, random_state=0).fit(x, y)
    data = np.column_stack([x, y])
    np.testing.assert_allclose(est.means_[0], data.mean(0), rtol=1e-4)
    np.testing.assert_allclose(est.covariances_[0], np.cov(data.T, bias=True), rtol=1e-3)
    rho = np.corrcoef(x, y)[0, 1]
    assert est.mi_ == pytest.approx(-0.5 * math.log(1 - rho**2), abs=5 * est.mc_error_)


def test_log_likelihood_matches_sklearn(rng):
    data = _clusters(rng)
    est = GMMMI(n_components=3, random_state=0, tol=1e-7).fit(data[:, 0], data[:, 1])
    scaled = (data - est.loc_) / est.scale_
    gm = GaussianMixture(3, reg_covar=1e-6, tol=1e-8, n_init=5, random_state=0).fit(scaled)
    assert est.lower_bound_ == pytest.approx(gm.score(scaled), abs=2e-4)
    order = np.argsort(est.means_[:, 0])
    gm_means = np.sort(gm.means_ * est.scale_ + est.loc_, axis=0)
    np.testing.assert_allclose(est.means_[order, 0], gm_means[:, 0], atol=1e-2)


@pytest.mark.parametrize("selection", ["cv", "bic", "aic"])
def test_selection_finds_three_separated_clusters(rng, selection):
    data = _clusters(rng)
    est = GMMMI(selection=selection, random_state=0).fit(data[:, 0], data[:, 1])
    assert est.n_components_ == 3
    assert set(est.selection_scores_) >= {1, 2, 3, 4}
    best = (max if selection == "cv" else min)(est.selection_scores_, key=est.selection_scores_.get)
    assert best == 3


def test_same_seed_same_numbers_other_seed_other_draws():
    x, y = datasets.GammaExponential().sample(800, random_state=3)
    a = mutual_information(x, y, n_bootstrap=10, random_state=42)
    b = mutual_information(x, y, n_bootstrap=10, random_state=42)
    c = mutual_information(x, y, n_bootstrap=10, random_state=43)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.point_estimate == b.point_estimate
    assert not np.array_equal(a.draws, c.draws)
    gen = mutual_information(x, y, n_bootstrap=10, random_state=np.random.default_rng(5))
    assert isinstance(gen, MIResult)


def test_estimate_mi_reuses_fit_and_matches_one_call():
    x, y = datasets.BivariateGaussian(0.7).sample(600, random_state=0)
    est = GMMMI(random_state=11, n_bootstrap=8).fit(x, y)
    k = est.n_components_
    res = est.estimate_mi()
    assert est.n_components_ == k and res.n_components == k
    one = mutual_information(x, y, random_state=11, n_bootstrap=8)
    np.testing.assert_array_equal(res.draws, one.draws)
    # One block per representation, and one for the primary's fit at a larger K.
    assert len(est.estimate_mi(n_bootstrap=3).draws) == 3 * (len(est.representations_) + 1)


def test_units_bits_are_nats_over_log2():
    x, y = datasets.BivariateGaussian(0.6).sample(500, random_state=0)
    nat = mutual_information(x, y, n_bootstrap=5, random_state=1)
    bit = mutual_information(x, y, n_bootstrap=5, random_state=1, units="bit")
    assert bit.units == "bit"
    np.testing.assert_allclose(bit.draws * math.log(2), nat.draws, rtol=1e-6)
    assert bit.mc_error * math.log(2) == pytest.approx(nat.mc_error, rel=1e-6)
    assert "bits" in repr(bit)


def test_input_containers_give_identical_results():
    x, y = datasets.BivariateGaussian(0.6).sample(400, random_state=2)
    ref = mutual_information(x, y, n_bootstrap=4, random_state=0)
    for xx, yy in [(list(x), list(y)), (pd.Series(x), pd.Series(y)), (x[:, None], y[:, None])]:
        other = mutual_information(xx, yy, n_bootstrap=4, random_state=0)
        np.testing.assert_array_equal(other.draws, ref.draws)


def test_quadrature_agrees_with_monte_carlo():
    x, y = datasets.GammaExponential().sample(1500, random_state=0)
    mc = GMMMI(random_state=0, n_bootstrap=0).fit(x, y)
    quad = GMMMI(random_state=0, n_bootstrap=0, integration="quadrature").fit(x, y)
    assert quad.mc_error_ == 0.0
    assert abs(quad.mi_ - mc.mi_) < 4 * mc.mc_error_


def test_no_bootstrap_gives_point_estimate_only():
    x, y = datasets.BivariateGaussian(0.6).sample(500, random_state=0)
    res = mutual_information(x, y, n_bootstrap=0, random_state=0)
    assert res.draws.size == 0 and res.mean == res.point_estimate
    assert math.isnan(res.std) and all(math.isnan(v) for v in res.interval())


def test_non_convergence_warns_and_still_answers():
    x, y = datasets.GammaExponential().sample(500, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        res = mutual_information(x, y, n_components=3, max_iter=2, n_bootstrap=3, random_state=0)
    messages = [str(w.message) for w in record]
    # Two representations (transform="auto"): 2 final fits, 2 x 3 bootstrap refits.
    assert any("EM did not converge in 2 of 2 fits in max_iter=2" in m for m in messages)
    assert any("did not converge in 6 of 6 bootstrap refits" in m for m in messages)
    assert np.isfinite(res.mean)


def test_discrete_valued_variable_is_refused_or_dequantised(rng):
    """x takes 3 values: a mixture density would collapse onto them (issue 15): refused
    with advice by default; ``dequantise=True`` gives a finite answer."""
    x = rng.integers(0, 3, 1000).astype(float)
    y = x + rng.normal(size=1000)
    with pytest.raises(ValueError, match=r"x has 3 distinct values in 1000 rows.*dequantise"):
        mutual_information(x, y, n_bootstrap=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mutual_information(x, y, n_bootstrap=5, random_state=0, dequantise=True)
    assert np.all(np.isfinite(res.draws)) and np.isfinite(res.point_estimate)


def test_library_prints_nothing_and_progress_goes_to_stderr(capsys):
    x, y = datasets.BivariateGaussian(0.6).sample(400, random_state=0)
    mutual_information(x, y, n_bootstrap=4, random_state=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    mutual_information(x, y, n_bootstrap=4, random_state=0, progress=True)
    out = capsys.readouterr()
    assert out.out == "" and "bootstrap" in out.err


def test_result_summary_and_repr():
    x, y = datasets.BivariateGaussian(0.6).sample(500, random_state=0)
    res = mutual_information(x, y, n_bootstrap=20, random_state=0)
    low, high = res.interval(0.9)
    assert low <= res.mean <= high
    summary = res.to_dict()
    # 20 x (2 representations + the primary one's larger-K block)
    assert summary["method"] == "bootstrap" and summary["n_draws"] == 60
    assert summary["interval"] == list(res.interval(0.95))
    assert "MIResult(mi=" in repr(res) and "nats" in repr(res)


def test_kernels_compile_once_per_shape_bucket():
    """Different data, K, fold or replicate counts in one row bucket reuse the kernels."""
    from bayes_gmm_mi import _em

    x, y = datasets.GammaExponential().sample(1000, random_state=0)
    mutual_information(x, y, random_state=0, n_bootstrap=5)
    before = _em.fit_batch._cache_size()
    x, y = datasets.BivariateGaussian(0.3).sample(1010, random_state=0)  # same bucket (1024)
    mutual_information(x, y, random_state=1, n_bootstrap=40, n_init=2, n_folds=3)
    mutual_information(x, y, random_state=1, n_bootstrap=3, n_components=7)
    assert _em.fit_batch._cache_size() == before


def test_repeated_points_drop_components_with_a_warning(rng):
    """Five distinct (x, y) points, each repeated: asking for 10 components leaves 5.

    The fit degenerates to five needle-thin Gaussians, whose MI is that of a uniform
    five-valued variable with itself: log 5.
    """
    from bayes_gmm_mi import DegenerateComponentWarning

    xy = np.repeat(rng.normal(size=(5, 2)), 20, axis=0)
    with pytest.warns(DegenerateComponentWarning, match=r"5 of 10 mixture components emptied"):
        est = GMMMI(n_components=10, random_state=0, n_bootstrap=0).fit(xy[:, 0], xy[:, 1])
    assert est.n_components_ == 5
    assert est.mi_ == pytest.approx(math.log(5), abs=1e-3)


def test_non_converged_selection_fits_are_logged(caplog):
    import logging

    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    with caplog.at_level(logging.INFO, logger="bayes_gmm_mi"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GMMMI(max_iter=3, n_bootstrap=0, random_state=0).fit(x, y)
    assert any("did not converge" in r.getMessage() and "selection fits" in r.getMessage()
               for r in caplog.records)


def test_draws_integrated_as_differences_agree_with_full_integrals():
    """Bootstrap replicates: fit value + stratified difference ≈ a full 10^5-point integral."""
    x, y = datasets.GammaExponential().sample(1000, random_state=4)
    from bayes_gmm_mi._pipeline.engine import integrate_draws
    from bayes_gmm_mi._pipeline.integrate import integrate
    from bayes_gmm_mi._pipeline.uncertainty import BOOTSTRAP, Request

    est = GMMMI(random_state=2, n_bootstrap=0).fit(x, y)
    rng = np.random.default_rng(0)
    counts = rng.multinomial(est.n_samples_, np.full(est.n_samples_, 1.0 / est.n_samples_),
                             size=12).astype(np.float32)
    draws = BOOTSTRAP.draw(est._fitted, Request(counts=counts))
    near, near_err = integrate_draws(draws, est._fitted, est._terms, est._base, *est._fit_value)
    near, near_err = near[0], near_err[0]
    replicates = jax.tree.map(lambda a: a[0], draws.params)
    full, full_err = integrate(replicates, est._terms, est._base)
    # Both estimate the same integrals; their errors are at most the sum of the two.
    assert np.all(np.abs(near - full) < 4 * (near_err + full_err))
    assert np.std(near) == pytest.approx(np.std(full), rel=0.25)
