"""The nearest-neighbour estimates and the check of the mixture's interval against them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

import bayes_gmm_mi as bm
from bayes_gmm_mi._pipeline import knn
from bayes_gmm_mi.exceptions import MisspecificationWarning


def _gaussian_pair(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    x = r.normal(size=n)
    return x, rho * x + math.sqrt(1 - rho**2) * r.normal(size=n)


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.9])
def test_ksg_matches_the_gaussian_closed_form(rho: float) -> None:
    x, y = _gaussian_pair(4000, rho, seed=3)
    est = knn.ksg_mi(x, y)
    truth = -0.5 * math.log(1 - rho**2)
    # The per-point standard error is rough (the terms are correlated): 5 of them.
    assert abs(est.mi - truth) < 5 * est.se + 0.01
    assert est.n_rows == 4000 and est.n_neighbors == 3 and est.name == "KSG"


def test_ksg_of_blocks_matches_the_closed_form() -> None:
    r = np.random.default_rng(5)
    rhos = np.array([0.8, 0.5])
    x = r.normal(size=(3000, 2))
    y = x * rhos + r.normal(size=(3000, 2)) * np.sqrt(1 - rhos**2)
    truth = -0.5 * float(np.sum(np.log(1 - rhos**2)))
    est = knn.ksg_mi(x, y)
    # KSG is biased low in more dimensions; within 10 % here.
    assert abs(est.mi - truth) < 0.1 * truth


def test_ksg_agrees_with_scikit_learn() -> None:
    x, y = _gaussian_pair(3000, 0.7, seed=11)
    ours = knn.ksg_mi(x, y).mi
    theirs = float(mutual_info_regression(x[:, None], y, n_neighbors=3, random_state=0)[0])
    # scikit-learn works on standardised values with a little noise, we on
    # normal scores: the same estimator on different coordinates.
    assert ours == pytest.approx(theirs, abs=0.04)


def test_ksg_is_invariant_to_monotone_maps() -> None:
    x, y = _gaussian_pair(1500, 0.5, seed=2)
    a = knn.ksg_mi(x, y)
    b = knn.ksg_mi(np.exp(x), y**3)
    assert a.mi == pytest.approx(b.mi, abs=1e-12)


def test_labelled_mi_of_a_threshold_is_log_2() -> None:
    x = np.random.default_rng(0).normal(size=3000)
    est = knn.labelled_mi(x, np.where(x > 0, "pos", "neg"))
    assert est.mi == pytest.approx(math.log(2), abs=0.01)
    assert est.name == "Ross"


def test_labelled_mi_agrees_with_scikit_learn() -> None:
    r = np.random.default_rng(4)
    labels = r.integers(0, 3, 3000)
    x = labels + r.normal(size=3000)
    ours = knn.labelled_mi(x, labels).mi
    theirs = float(mutual_info_classif(x[:, None], labels, n_neighbors=3, random_state=0)[0])
    assert ours == pytest.approx(theirs, abs=0.03)


def test_rows_beyond_the_cap_are_subsampled() -> None:
    x, y = _gaussian_pair(knn.MAX_ROWS + 500, 0.6, seed=9)
    assert knn.ksg_mi(x, y).n_rows == knn.MAX_ROWS


def test_too_few_rows_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="more than n_neighbors"):
        knn.ksg_mi(np.arange(3.0), np.arange(3.0))


def test_the_check_fires_only_beyond_both_errors() -> None:
    est = knn.KnnEstimate(mi=0.70, se=0.002, n_rows=2000, n_neighbors=3, name="Ross")
    assert knn.check_against_knn(0.65, est)["below"]
    assert not knn.check_against_knn(0.69, est)["below"]
    noisy = est._replace(se=0.03)
    assert not knn.check_against_knn(0.65, noisy)["below"]


def test_threshold_labels_warn_that_the_interval_is_below_the_knn_estimate() -> None:
    # y = 1[x > 0]: MI = log 2 exactly; half-normal classes are not Gaussian and
    # the mixture's interval sits below the truth.
    x = np.random.default_rng(0).normal(size=2000)
    with pytest.warns(MisspecificationWarning, match="nearest-neighbour") as record:
        res = bm.mutual_information(x, x > 0, discrete_y=True, random_state=0,
                                    n_bootstrap=20)
    assert any(w.filename == __file__ for w in record)
    check = res.info["knn_check"]
    assert check["below"] and check["estimator"] == "Ross"
    assert check["knn_mi"] == pytest.approx(math.log(2), abs=0.01)


def test_a_clean_gaussian_pair_passes_the_check_silently() -> None:
    x, y = _gaussian_pair(2000, 0.6, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = bm.mutual_information(x, y, random_state=0, n_bootstrap=20)
    check = res.info["knn_check"]
    assert not check["below"]
    assert check["knn_mi"] == pytest.approx(-0.5 * math.log(1 - 0.36), abs=5 * check["knn_se"])


def test_entropy_has_no_knn_check() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    res = bm.entropy(x, random_state=0, n_bootstrap=5)
    assert "knn_check" not in res.info
