"""The permutation test of independence (issue 15): known answers only.

A valid permutation test with P permutations gives p = k / (P + 1); under
independence P(p ≤ k / (P + 1)) = k / (P + 1). The calibration over many seeds is
measured by ``python -m studies.independence`` (results/summary.md); here a
handful of seeds with bounds that a valid test passes with probability > 0.999.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi._independence import adjust_p_values
from bayes_gmm_mi._pipeline import permutation
from bayes_gmm_mi._pipeline.settings import fit_settings

N = 500
P = 19


def _gaussian(rho: float, seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([15, seed])
    x = rng.standard_normal(n)
    return x, rho * x + math.sqrt(1 - rho**2) * rng.standard_normal(n)


def test_strong_dependence_gives_the_smallest_possible_p_value():
    x, y = _gaussian(0.6, 0)
    res = bm.independence_test(x, y, n_permutations=P, random_state=0)
    assert res.p_value == pytest.approx(1 / (P + 1))
    assert res.p_value == pytest.approx(res.resolution)
    assert res.null.shape == (P,) and res.n_permutations == P
    assert res.statistic > np.max(res.null)
    # rho = 0.6: MI 0.223 nats; the null of a pair this size is near 0.
    assert 0.15 < res.statistic < 0.30 and np.max(res.null) < 0.05
    assert res.representation == "rank"
    assert "p_value=0.05" in repr(res)


def test_the_statistic_is_the_estimators_own_point_estimate():
    """transform="auto": the statistic is the normal-scores fit's MI (transform="rank")."""
    x, y = _gaussian(0.6, 1)
    res = bm.independence_test(x, y, n_permutations=3, random_state=5)
    est = bm.GMMMI(transform="rank", n_bootstrap=0, random_state=5).fit(x, y)
    # A fit in a batch of data sets and a lone fit agree to float32 round-off of EM.
    assert res.statistic == pytest.approx(est.mi_, rel=1e-3, abs=1e-4)
    assert res.n_components == est.n_components_


@pytest.mark.slow
def test_p_values_under_independence_are_not_always_small():
    """Ten independent Gaussian pairs, one batched pass (the core the API calls).

    With P = 19, a valid test has P(p > 0.05) = 19/20 for each pair. At least 6 of
    10 above 0.05 fails with probability P(Binomial(10, 0.05) ≥ 5) = 6e-5 (and at
    least 7 would fail with probability 1.0e-3, so 6 is the bound that a valid test
    passes with probability > 0.999).
    """
    pairs = [_gaussian(0.0, 100 + s) for s in range(10)]
    settings = fit_settings(bm.GMMMI().get_params())
    from bayes_gmm_mi import _mi

    fits = permutation.continuous_null(
        [(x[:, None], y[:, None]) for x, y in pairs], list(range(10)), [""] * 10,
        transform="rank", settings=settings, terms=_mi.mi_terms(1, 2), mc_samples=20_000,
        seed=7, n_permutations=P)
    p = permutation.p_value(fits.values[:, 0], fits.values[:, 1:])
    fail = sum(math.comb(10, k) * 0.05**k * 0.95 ** (10 - k) for k in range(5, 11))
    assert fail < 1e-3
    assert np.sum(p > 0.05) >= 6, p
    assert np.all((p >= 1 / (P + 1)) & (p <= 1))


def test_same_random_state_gives_the_same_p_value():
    x, y = _gaussian(0.1, 2)
    first = bm.independence_test(x, y, n_permutations=9, random_state=11)
    again = bm.independence_test(x, y, n_permutations=9, random_state=11)
    other = bm.independence_test(x, y, n_permutations=9, random_state=12)
    assert first.p_value == again.p_value
    np.testing.assert_array_equal(first.null, again.null)
    assert first.statistic == again.statistic
    assert not np.array_equal(first.null, other.null)


def test_permutations_derive_from_the_seed_and_their_index():
    a = permutation.permutation(3, 0, 50)
    assert np.array_equal(a, permutation.permutation(3, 0, 50))
    assert not np.array_equal(a, permutation.permutation(3, 1, 50))
    assert np.array_equal(np.sort(a), np.arange(50))


def test_p_value_formula():
    null = np.array([0.1, 0.2, 0.3, 0.4])
    assert permutation.p_value(0.25, null) == pytest.approx(3 / 5)
    assert permutation.p_value(0.5, null) == pytest.approx(1 / 5)
    assert permutation.p_value(0.4, null) == pytest.approx(2 / 5)   # ties count as ≥
    assert permutation.p_value(0.0, null) == pytest.approx(1.0)


def test_categorical_labels_are_permuted():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 1000)
    x = rng.standard_normal(1000)
    independent = bm.independence_test(x, labels, discrete_y=True, n_permutations=P,
                                       random_state=1)
    # Small-sample bias: the estimate alone is clearly above 0, and so is the null.
    assert independent.statistic > 0.005 and np.median(independent.null) > 0.005
    assert independent.p_value > 0.05
    dependent = bm.independence_test(x + 0.5 * (labels % 2), labels, discrete_y=True,
                                     n_permutations=P, random_state=1)
    assert dependent.p_value == pytest.approx(1 / (P + 1))
    assert dependent.statistic > np.max(dependent.null)


def test_estimators_offer_the_test_with_their_settings():
    x, y = _gaussian(0.6, 4)
    res = bm.GMMMI(random_state=0, transform=None).independence_test(x, y, n_permutations=9)
    assert res.representation == "data" and res.p_value == pytest.approx(0.1)
    labels = np.where(x > 0, "a", "b")
    res = bm.GMMCategoricalMI(random_state=0).independence_test(y, labels, n_permutations=9)
    assert res.p_value == pytest.approx(0.1)


def test_units_scale_the_statistic_and_the_null():
    x, y = _gaussian(0.6, 5)
    nat = bm.independence_test(x, y, n_permutations=4, random_state=0)
    bit = bm.independence_test(x, y, n_permutations=4, random_state=0, units="bit")
    assert bit.statistic == pytest.approx(nat.statistic / math.log(2))
    np.testing.assert_allclose(bit.null, nat.null / math.log(2))
    assert bit.p_value == nat.p_value


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                        (True, TypeError), ("99", TypeError)])
def test_bad_n_permutations_is_refused_clearly(bad, error):
    x, y = _gaussian(0.6, 0, n=100)
    with pytest.raises(error, match="n_permutations must be an integer ≥ 1"):
        bm.independence_test(x, y, n_permutations=bad)


def test_unknown_and_bad_options_are_refused():
    x, y = _gaussian(0.6, 0, n=100)
    with pytest.raises(TypeError, match="Did you mean 'n_permutations'"):
        bm.independence_test(x, y, n_permutation=9)
    with pytest.raises(TypeError, match="unknown option 'n_bootstrap'"):
        bm.independence_test(x, y, n_bootstrap=9)
    with pytest.raises(ValueError, match="transform"):
        bm.independence_test(x, y, transform="ranks")
    with pytest.raises(TypeError, match="discrete_y"):
        bm.independence_test(x, y, discrete_y="yes")


def test_matrix_p_values_for_an_independent_and_a_dependent_pair():
    x, y = _gaussian(0.6, 6)
    z = np.random.default_rng(9).standard_normal(N)
    res = bm.mi_matrix(np.column_stack([x, z]), y[:, None], n_bootstrap=0, n_permutations=P,
                       random_state=0)
    p = res.p_value.values
    assert p.shape == (2, 1)
    assert p[0, 0] == pytest.approx(1 / (P + 1))      # (x, y): rho = 0.6
    assert p[1, 0] > 0.05                              # (z, y): independent
    assert res.info["n_permutations"] == P and res.info["p_value_adjust"] is None
    holm = bm.mi_matrix(np.column_stack([x, z]), y[:, None], n_bootstrap=0,
                        n_permutations=P, random_state=0, adjust="holm")
    np.testing.assert_allclose(holm.info["p_value_unadjusted"], p)
    assert np.all(holm.p_value.values >= p)
    assert bm.mi_matrix(np.column_stack([x, z]), y[:, None], n_bootstrap=0,
                        random_state=0).p_value is None


def test_matrix_test_options_are_validated():
    data = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(ValueError, match="n_permutations must be an integer ≥ 0"):
        bm.mi_matrix(data, n_permutations=-1)
    with pytest.raises(ValueError, match="adjust must be None, 'holm' or 'bh'"):
        bm.mi_matrix(data, n_permutations=9, adjust="bonferroni")


def test_multiple_testing_adjustments():
    p = np.array([0.01, 0.04, 0.03])
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(adjust_p_values(p, "bh"), [0.03, 0.04, 0.04])
    np.testing.assert_allclose(adjust_p_values(p, None), p)
    np.testing.assert_allclose(adjust_p_values(np.array([0.5, 0.9]), "holm"), [1.0, 1.0])


def test_a_huge_number_of_permutations_is_refused_up_front():
    """10**9 permuted copies: the row orders alone need terabytes (a hostile user's
    script held 21 GB before it was stopped); refused before any work, one line."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 300))
    with pytest.raises(MemoryError, match=r"row orders of the permuted copies.*Lower n_permutations"):
        bm.independence_test(x, y, n_permutations=10**9)


def test_the_estimator_method_suggests_a_misspelt_keyword():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 100))
    with pytest.raises(TypeError, match=r"GMMMI.independence_test\(\).*Did you mean 'n_permutations'"):
        bm.GMMMI(random_state=0).independence_test(x, y, n_permutation=19)


# ------------------------------------------------------------ discrete x and y
def test_two_discrete_variables_reject_at_the_nominal_rate_when_independent():
    """Both discrete: the corrected MI of the table, y's codes permuted — an exact
    test, so P(p ≤ 0.05) = 0.05 under independence (200 seeds: within 3 binomial
    standard errors)."""
    seeds = 200
    rejected = 0
    for seed in range(seeds):
        r = np.random.default_rng(seed)
        a, b = r.integers(0, 4, 300), r.choice(["u", "v", "w"], 300)
        res = bm.independence_test(a, b, discrete_x=True, discrete_y=True, n_permutations=39,
                                   random_state=seed)
        rejected += res.p_value <= 0.05
    assert rejected / seeds <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / seeds)
    assert rejected >= 1   # not a test that never rejects
    assert res.representation == "counts" and res.n_components == 0


def test_two_dependent_discrete_variables_give_the_smallest_p_value():
    r = np.random.default_rng(1)
    a = r.integers(0, 4, 500)
    b = np.where(r.random(500) < 0.5, a, r.integers(0, 4, 500))
    res = bm.independence_test(a, b, discrete_x=True, discrete_y=True, random_state=0)
    assert res.p_value == pytest.approx(res.resolution)
    # The statistic is the table's corrected MI: 0 < it < log 4.
    assert 0.1 < res.statistic < math.log(4)


def test_discrete_x_alone_swaps_the_roles():
    r = np.random.default_rng(2)
    y = r.normal(size=300)
    labels = (y + r.normal(size=300) > 0).astype(int)
    swapped = bm.independence_test(labels, y, discrete_x=True, n_permutations=9,
                                   random_state=0)
    direct = bm.independence_test(y, labels, discrete_y=True, n_permutations=9,
                                  random_state=0)
    assert swapped.p_value == direct.p_value
    assert swapped.statistic == pytest.approx(direct.statistic, rel=1e-6)


def test_discrete_x_must_be_a_bool():
    with pytest.raises(TypeError, match="discrete_x must be True or False"):
        bm.independence_test([0, 1] * 10, [1, 0] * 10, discrete_x="yes")
