"""Categorical × continuous MI: per-class mixtures weighted by observed frequencies."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayes_gmm_mi as bm
from bayes_gmm_mi import GMMCategoricalMI
from bayes_gmm_mi._categorical import encode_labels

FREQS = np.array([0.1, 0.3, 0.6])
MUS = np.array([-2.0, 0.0, 1.5])
SDS = np.array([1.0, 0.7, 1.2])


def _truth(freqs=FREQS):
    """I = H(X) − Σ p_c H(X|c), H(X) by adaptive quadrature (independent of the package)."""
    def density(t):
        return sum(f * stats.norm.pdf(t, m, s) for f, m, s in zip(freqs, MUS, SDS))

    hx = integrate.quad(lambda t: -density(t) * math.log(density(t)), -15, 15, limit=200)[0]
    hc = sum(f * 0.5 * math.log(2 * math.pi * math.e * s * s) for f, s in zip(freqs, SDS))
    return hx - hc


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(0)
    codes = rng.choice(3, size=3000, p=FREQS)
    return rng.normal(MUS[codes], SDS[codes]), codes


@pytest.fixture(scope="module")
def result(sample):
    x, codes = sample
    labels = np.array(["low", "mid", "high"])[codes]
    return bm.mutual_information(x, labels, discrete_y=True, random_state=0)


def test_unequal_frequencies_truth_inside_interval(result):
    truth = _truth()
    low, high = result.interval(0.95)
    assert low < truth < high
    assert abs(result.mean - truth) < 0.03
    # Weighting the classes equally (a known bug elsewhere) would give a different value.
    assert abs(_truth(np.full(3, 1 / 3)) - truth) > 0.05


def test_string_and_integer_labels_give_the_same_result(sample, result):
    x, codes = sample
    as_ints = bm.mutual_information(x, codes + 7, discrete_y=True, random_state=0)
    assert as_ints.point_estimate == result.point_estimate
    np.testing.assert_array_equal(as_ints.draws, result.draws)
    as_category = bm.mutual_information(
        x, pd.Series(pd.Categorical(np.array(["l", "m", "h"])[codes])), discrete_y=True,
        random_state=0)
    assert as_category.point_estimate == result.point_estimate


def test_fitted_attributes(sample):
    x, codes = sample
    est = GMMCategoricalMI(random_state=0, n_bootstrap=5).fit(x, codes)
    assert list(est.classes_) == list(pd.unique(codes))
    np.testing.assert_allclose(est.class_frequencies_.sum(), 1.0)
    assert est.class_counts_.sum() == 3000
    assert set(est.class_n_components_) == set(est.classes_)
    assert est.estimate_mi().draws.shape == (5 * len(est.representations_),)


def test_stated_mc_error_matches_the_spread_over_monte_carlo_seeds():
    # Fixed fit; only the Monte Carlo base samples change. The stated error must be
    # the standard deviation of the estimate over base samples (it was 2.4x too small
    # when the classes shared their base samples).
    import jax

    rng = np.random.default_rng(3)
    p = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
    y = rng.choice(5, size=5000, p=p)
    x = rng.normal(y * 1.0, 0.5 + y / 10)
    est = GMMCategoricalMI(n_bootstrap=0, mc_samples=20_000, random_state=0,
                           transform=None).fit(x, y)
    from bayes_gmm_mi._pipeline.integrate import class_base_samples, integrate_classes

    fits = jax.tree.map(lambda a: a[None], est._fitted.fits)
    values, stated = [], []
    for seed in range(24):
        base = class_base_samples(100 + seed, 20_000, 1, 5)
        mi, err = integrate_classes(fits, est.class_frequencies_[None], base)
        values.append(float(mi[0]))
        stated.append(float(err[0]))
    ratio = np.std(values, ddof=1) / np.mean(stated)
    # An sd from 24 values is within +-35% of the truth with high probability.
    assert 0.65 < ratio < 1.5, ratio


def test_labels_independent_of_x_give_mi_near_zero():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    labels = rng.choice(["a", "b", "c"], size=2000, p=[0.2, 0.3, 0.5])
    res = bm.mutual_information(x, labels, discrete_y=True, n_bootstrap=20, random_state=0)
    assert res.point_estimate < 0.01
    assert res.interval(0.95)[0] < 0.005


def test_multivariate_x_with_classes():
    rng = np.random.default_rng(2)
    codes = rng.choice(2, size=2000, p=[0.4, 0.6])
    x = rng.normal(size=(2000, 2)) + np.where(codes[:, None] == 0, [-1.0, 0.5], [1.0, -0.5])
    res = bm.mutual_information(x, codes, discrete_y=True, n_components=1, n_bootstrap=10,
                                random_state=0)
    # Two Gaussians with identity covariance: MI by Monte Carlo with scipy.
    pts = rng.normal(size=(200_000, 2))
    lab = rng.choice(2, size=200_000, p=[0.4, 0.6])
    pts += np.where(lab[:, None] == 0, [-1.0, 0.5], [1.0, -0.5])
    dens = [stats.multivariate_normal([-1.0, 0.5]).pdf(pts), stats.multivariate_normal([1.0, -0.5]).pdf(pts)]
    mix = 0.4 * dens[0] + 0.6 * dens[1]
    truth = float(np.mean(np.log(np.where(lab == 0, dens[0], dens[1]) / mix)))
    assert abs(res.mean - truth) < 4 * res.std + 0.01


@pytest.mark.parametrize(
    "labels, pattern",
    [
        (np.full(300, "only"), r"single class \('only'\)"),
        (np.array(["a"] * 291 + ["b"] * 9), r"every class needs at least 10 rows to fit its mixture; 'b' has 9"),
        (np.array(["a", None] * 150, dtype=object), r"1?50 missing value\(s\).*row 1"),
        (np.array(["a", "b"] * 100), r"same number of rows; got 300 and 200"),
        (np.array(["a", "b"] * 150).reshape(150, 2), r"one-dimensional .*got shape \(150, 2\)"),
    ],
)
def test_bad_labels(labels, pattern):
    x = np.random.default_rng(0).normal(size=300)
    with pytest.raises(ValueError, match=pattern):
        bm.mutual_information(x, labels, discrete_y=True, n_bootstrap=0)


def test_nan_label_is_missing():
    codes, classes = encode_labels(pd.Series([1.0, 2.0, 1.0]), 3)
    assert list(codes) == [0, 1, 0] and list(classes) == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"1 missing value\(s\) \(None/NaN\), the first at row 2"):
        encode_labels([1.0, 2.0, float("nan")], 3)


def test_rare_class_error_names_class_and_count():
    x = np.random.default_rng(0).normal(size=300)
    labels = np.array(["common"] * 296 + ["rare"] * 4)
    with pytest.raises(ValueError, match=r"'rare' has 4\. Merge rare classes"):
        bm.mutual_information(x, labels, discrete_y=True)


def test_discrete_y_must_be_bool(sample):
    x, codes = sample
    with pytest.raises(TypeError, match="discrete_y must be True or False"):
        bm.mutual_information(x, codes, discrete_y="yes")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["vi", "mcmc"])
def test_posterior_categorical_mi_covers_truth(sample, method):
    import warnings

    x, codes = sample
    # One representation: the test reads the posterior sites of one model.
    est = GMMCategoricalMI(random_state=0, n_components=1, num_warmup=300, num_samples=300,
                           transform=None)
    est.fit(x, np.array(["low", "mid", "high"])[codes])
    with warnings.catch_warnings():
        warnings.simplefilter("error", bm.ConvergenceWarning)
        res = est.estimate_mi(method=method)
    truth = _truth()
    low, high = res.interval(0.95)
    assert res.method == method and low < truth < high
    # The class frequencies have a Dirichlet(counts + 1) posterior.
    freqs = res.parameters["class_frequencies"]
    assert freqs.shape == res.chains.shape + (3,)
    expected = (est.class_counts_ + 1) / (est.class_counts_.sum() + 3)
    np.testing.assert_allclose(freqs.reshape(-1, 3).mean(0), expected, atol=0.005)
    assert "means[mid]" in res.parameters
    idata = res.to_arviz()
    assert idata.posterior["class_frequencies"].dims == ("chain", "draw", "class")
