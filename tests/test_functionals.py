"""Conditional MI, multivariate MI, entropy and KL divergence against closed forms."""

import math
import warnings

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import DegenerateComponentWarning

COV3 = np.array([[1.0, 0.6, 0.5], [0.6, 1.0, 0.4], [0.5, 0.4, 1.0]])


def _logdet(idx):
    return math.log(np.linalg.det(COV3[np.ix_(idx, idx)]))


def _inside(res, truth, slack=0.0):
    low, high = res.interval(0.95)
    return low - slack <= truth <= high + slack


@pytest.fixture(scope="module")
def trivariate():
    return np.random.default_rng(1).multivariate_normal(np.zeros(3), COV3, size=3000)


# ------------------------------------------------------------ conditional MI
def test_cmi_of_a_trivariate_gaussian_matches_closed_form(trivariate):
    # I(X;Y|Z) = ½ log(|Σ_xz| |Σ_yz| / (|Σ_z| |Σ_xyz|)).
    truth = 0.5 * (_logdet([0, 2]) + _logdet([1, 2]) - _logdet([2]) - _logdet([0, 1, 2]))
    d = trivariate
    res = bm.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2], n_components=1,
                                            n_bootstrap=30, random_state=0)
    assert res.quantity == "cmi" and "cmi=" in repr(res)
    assert _inside(res, truth, slack=res.mc_error)
    # Differs from the unconditional MI: conditioning matters here.
    mi = -0.5 * math.log(1 - COV3[0, 1] ** 2)
    assert abs(res.mean - mi) > 5 * res.std


@pytest.mark.slow  # N = 3000 in 4 dimensions, 30 replicates
def test_cmi_is_zero_when_independent_given_z():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(3000, 2))
    x = z @ [1.0, 1.0] + rng.normal(size=3000)  # corr(x, y) = 2/3 through z alone
    y = z @ [1.0, 1.0] + rng.normal(size=3000)
    res = bm.conditional_mutual_information(x, y, z, n_bootstrap=30, random_state=0)
    assert res.point_estimate < 0.01
    assert res.interval(0.95)[0] < 0.01
    # ... while the unconditional MI is clearly positive.
    marginal = bm.mutual_information(x, y, n_bootstrap=0, random_state=0).point_estimate
    assert marginal == pytest.approx(-0.5 * math.log(1 - (2 / 3) ** 2), abs=0.04)


def test_cmi_with_z_a_copy_of_x_warns_and_stays_finite(trivariate):
    d = trivariate
    with pytest.warns(DegenerateComponentWarning, match="column 0 of x and column 0 of z"):
        res = bm.conditional_mutual_information(d[:, 0], d[:, 1], 2.0 * d[:, 0] + 1.0,
                                                n_components=1, n_bootstrap=5, random_state=0)
    assert np.isfinite(res.point_estimate) and np.all(np.isfinite(res.draws))


def test_cmi_bad_input(trivariate):
    d = trivariate
    with pytest.raises(ValueError, match=r"same number of rows \(paired samples\); got x: 3000, y: 3000, z: 2999"):
        bm.conditional_mutual_information(d[:, 0], d[:, 1], d[:-1, 2])
    with pytest.raises(ValueError, match="quadrature.*MI of two scalar variables only"):
        bm.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2], integration="quadrature")
    with pytest.raises(TypeError, match="unknown option 'n_boot'"):
        bm.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2], n_boot=3)


# ------------------------------------------------------------- multivariate
def _canonical_pair(rhos, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(rhos)))
    noise = rng.normal(size=(n, len(rhos)))
    y = x * np.asarray(rhos) + noise * np.sqrt(1.0 - np.asarray(rhos) ** 2)
    # Mix the columns of each block: MI is invariant to invertible maps of X and of Y.
    return x @ [[1.0, 0.5], [-0.3, 1.0]], y @ [[2.0, 0.0], [1.0, 1.0]]


def test_multivariate_mi_matches_canonical_correlations():
    rhos = (0.8, 0.5)
    truth = -0.5 * sum(math.log(1 - r * r) for r in rhos)
    x, y = _canonical_pair(rhos, 3000, seed=3)
    res = bm.mutual_information(x, y, n_bootstrap=30, random_state=0)
    assert _inside(res, truth, slack=res.mc_error)
    assert abs(res.mean - truth) < 0.05


@pytest.mark.slow  # N = 2000 in 4 dimensions, 30 replicates
def test_independent_blocks_have_mi_near_zero():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    res = bm.mutual_information(x, y, n_components=1, n_bootstrap=30, random_state=0)
    assert res.point_estimate < 0.01 and res.interval(0.95)[0] < 0.005


def test_a_one_column_block_equals_a_vector():
    rng = np.random.default_rng(5)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    a = bm.mutual_information(x, y, n_bootstrap=3, random_state=0)
    b = bm.mutual_information(x[:, None], y.reshape(-1, 1), n_bootstrap=3, random_state=0)
    assert a.point_estimate == b.point_estimate
    np.testing.assert_array_equal(a.draws, b.draws)


# ------------------------------------------------------------------ entropy
def test_entropy_of_a_gaussian_and_its_scale_equivariance():
    rng = np.random.default_rng(6)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    x = rng.multivariate_normal([1.0, -2.0], cov, size=3000)
    truth = 0.5 * math.log(np.linalg.det(2 * math.pi * math.e * cov))
    res = bm.entropy(x, n_components=1, n_bootstrap=30, random_state=0)
    assert res.quantity == "entropy"
    assert _inside(res, truth, slack=res.mc_error)
    # H(a X) = H(X) + d log a, exactly (same seed, same standardised data).
    scaled = bm.entropy(10.0 * x, n_components=1, n_bootstrap=30, random_state=0)
    assert scaled.point_estimate == pytest.approx(res.point_estimate + 2 * math.log(10.0), abs=1e-4)
    np.testing.assert_allclose(scaled.draws, res.draws + 2 * math.log(10.0), atol=1e-4)


def test_entropy_refuses_the_rank_transform():
    with pytest.raises(ValueError, match="transform='rank' changes entropy"):
        bm.entropy(np.random.default_rng(0).normal(size=100), transform="rank")


# --------------------------------------------------------------------- KL
def test_kl_between_gaussian_marginals_matches_closed_form():
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 1.0, size=4000)
    b = rng.normal(1.0, 2.0, size=4000)
    forward = math.log(2.0) + (1.0 + 1.0) / 8.0 - 0.5      # KL(N(0,1) || N(1,4))
    backward = math.log(0.5) + (4.0 + 1.0) / 2.0 - 0.5     # KL(N(1,4) || N(0,1))
    fwd = bm.kl_divergence(a, b, n_components=1, n_bootstrap=30, random_state=0)
    rev = bm.kl_divergence(a, b, reverse=True, n_components=1, n_bootstrap=30, random_state=0)
    assert fwd.quantity == "kl" and rev.quantity == "kl_reverse"
    assert abs(fwd.mean - forward) < 4 * fwd.std + 0.01
    assert abs(rev.mean - backward) < 4 * rev.std + 0.01
    # KL does not change when both variables are mapped by the same affine map.
    moved = bm.kl_divergence(3 * a + 7, 3 * b + 7, n_components=1, n_bootstrap=0, random_state=0)
    assert moved.point_estimate == pytest.approx(fwd.point_estimate, abs=2e-3)


def test_kl_bad_input():
    a = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="same number of columns .* got 2 and 1"):
        bm.kl_divergence(a, a[:, 0])
    with pytest.raises(TypeError, match="reverse must be True or False; got 'yes'"):
        bm.kl_divergence(a, a, reverse="yes")


def test_kl_of_pooled_normal_scores_matches_the_closed_form():
    r = np.random.default_rng(1)
    a, b = r.normal(size=2000), r.normal(1.0, 1.0, size=2000)
    # Any common monotone map of both leaves KL unchanged: exp() of both.
    res = bm.kl_divergence(np.exp(a), np.exp(b), transform="rank", n_bootstrap=30,
                           random_state=0)
    assert abs(res.point_estimate - 0.5) < 4 * res.std + 0.02


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kl_of_two_samples_of_one_uniform_is_consistent_with_zero(seed):
    """Hostile-user finding #13: two uniform samples read KL 0.017-0.030 with a 95 %
    interval excluding 0; the pooled normal scores and the bias correction cover it."""
    r = np.random.default_rng(seed)
    a, b = r.uniform(size=2000), r.uniform(size=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.MisspecificationWarning)  # the hard edges
        res = bm.kl_divergence(a, b, random_state=0)
    assert res.interval(0.95)[0] <= 0.0
    assert res.info["bias_correction"].shape == (2,)


# ---------------------------------------------------------------- posterior
@pytest.mark.slow
def test_posterior_cmi_covers_the_truth(trivariate):
    truth = 0.5 * (_logdet([0, 2]) + _logdet([1, 2]) - _logdet([2]) - _logdet([0, 1, 2]))
    d = trivariate
    with warnings.catch_warnings():
        warnings.simplefilter("error", bm.ConvergenceWarning)
        res = bm.conditional_mutual_information(
            d[:, 0], d[:, 1], d[:, 2], method="vi", n_components=1, random_state=0,
            num_samples=300)
    assert res.method == "vi" and res.quantity == "cmi"
    assert _inside(res, truth, slack=res.mc_error)
