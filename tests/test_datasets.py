"""Tests for bayes_gmm_mi.datasets.

Every closed-form ``.mi`` is checked against an independent numerical
integral of ``p(x, y) log(p(x, y) / (p(x) p(y)))`` built from the joint
density written out here (not from the module), with marginals that are
themselves checked by integrating the joint.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayes_gmm_mi.datasets import (
    DATASETS,
    TRANSFORMS,
    BivariateGaussian,
    GammaExponential,
    OrderedWeinman,
    TransformedGaussian,
    get_dataset,
)

EULER_GAMMA = 0.5772156649015329  # independent of scipy/numpy constants


# --------------------------------------------------------------------------- #
# Independent densities and numerical MI integrals
# --------------------------------------------------------------------------- #
def _gaussian_log_joint(x: float, y: float, rho: float) -> float:
    s = 1.0 - rho * rho
    return -math.log(2 * math.pi) - 0.5 * math.log(s) - (
        x * x - 2 * rho * x * y + y * y
    ) / (2 * s)


def _std_normal_logpdf(t: float) -> float:
    return -0.5 * math.log(2 * math.pi) - 0.5 * t * t


def _gaussian_mi_numeric(rho: float) -> float:
    def integrand(y: float, x: float) -> float:
        lp = _gaussian_log_joint(x, y, rho)
        return math.exp(lp) * (lp - _std_normal_logpdf(x) - _std_normal_logpdf(y))

    val, err = integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-11, epsrel=1e-10)
    assert err < 1e-7
    return val


def _gamma_exp_log_joint(x: float, y: float, alpha: float) -> float:
    # x**alpha * exp(-x (1 + y)) / Gamma(alpha)
    return alpha * math.log(x) - x * (1.0 + y) - math.lgamma(alpha)


def _gamma_logpdf(x: float, alpha: float) -> float:
    return (alpha - 1.0) * math.log(x) - x - math.lgamma(alpha)


def _lomax_logpdf(y: float, alpha: float) -> float:
    return math.log(alpha) - (alpha + 1.0) * math.log1p(y)


def _gamma_exp_mi_numeric(alpha: float) -> float:
    # Integrate in log coordinates u = log x, v = log y (Jacobian x * y), where
    # the density is smooth and its mass is spread over a moderate range.
    def integrand(v: float, u: float) -> float:
        x, y = math.exp(u), math.exp(v)
        lp = _gamma_exp_log_joint(x, y, alpha)
        ratio = lp - _gamma_logpdf(x, alpha) - _lomax_logpdf(y, alpha)
        return math.exp(lp + u + v) * ratio

    u_lo, u_hi = -45.0 / alpha, math.log(alpha + 60.0)
    # Given x, x*y ~ Exp(1): log y = log E - u with log E in [-40, 4.5].
    val, err = integrate.dblquad(
        integrand, u_lo, u_hi, lambda u: -u - 40.0, lambda u: -u + 4.5,
        epsabs=1e-10, epsrel=1e-9,
    )
    assert err < 1e-6
    return val


def _hypoexp_pdf(y: float, a: float, b: float) -> float:
    """Density of X + E, X ~ Exp(a), E ~ Exp(b) (convolution), stable at a ~ b."""
    lo, hi = min(a, b), max(a, b)
    d = hi - lo
    g = -math.expm1(-d * y) / d if d > 0 else y
    return a * b * math.exp(-lo * y) * g


def _weinman_mi_numeric(a: float, b: float) -> float:
    # Joint of (X, E = Y - X): a b exp(-a x - b e), x, e > 0 (unit Jacobian).
    def integrand(e: float, x: float) -> float:
        y = x + e
        log_joint = math.log(a) - a * x + math.log(b) - b * e
        log_px = math.log(a) - a * x
        p = math.exp(log_joint)
        if p == 0.0:
            return 0.0
        return p * (log_joint - log_px - math.log(_hypoexp_pdf(y, a, b)))

    val, err = integrate.dblquad(
        integrand, 0.0, 45.0 / a, 0.0, 45.0 / b, epsabs=1e-11, epsrel=1e-10
    )
    assert err < 1e-7
    return val


# --------------------------------------------------------------------------- #
# Closed-form MI vs independent computations
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("rho", [-0.95, -0.3, 0.0, 0.1, 0.6, 0.99])
def test_gaussian_mi_formula(rho: float) -> None:
    expected = -0.5 * np.log(1.0 - rho**2)
    assert BivariateGaussian(rho).mi == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert TransformedGaussian(rho).mi == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_gaussian_mi_numeric_integral() -> None:
    rho = 0.7
    assert BivariateGaussian(rho).mi == pytest.approx(_gaussian_mi_numeric(rho), abs=1e-8)


def test_transformed_gaussian_default_value() -> None:
    # Value quoted in the project brief for rho=0.75 with the default maps.
    assert TransformedGaussian().mi == pytest.approx(0.4133, abs=5e-5)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_lomax_marginal_matches_joint(alpha: float) -> None:
    # The Y marginal used in the numeric MI is checked by integrating the joint.
    for y in (0.05, 1.0, 7.0):
        val, _ = integrate.quad(
            lambda x: math.exp(_gamma_exp_log_joint(x, y, alpha)), 0, np.inf,
            epsabs=1e-13, epsrel=1e-11,
        )
        assert val == pytest.approx(math.exp(_lomax_logpdf(y, alpha)), rel=1e-8)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_gamma_exponential_mi_numeric(alpha: float) -> None:
    ds = GammaExponential(alpha=alpha)
    assert ds.mi == pytest.approx(_gamma_exp_mi_numeric(alpha), abs=1e-7)


def test_gamma_exponential_mi_alpha_one() -> None:
    assert GammaExponential(1.0).mi == pytest.approx(1.0 - EULER_GAMMA, abs=1e-14)
    assert GammaExponential(1.0, log=False).mi == GammaExponential(1.0).mi


@pytest.mark.parametrize(
    ("a", "b"), [(2.0, 1.0), (0.5, 2.0), (3.0, 0.5), (1.0, 1.0 + 1e-5)]
)
def test_hypoexponential_marginal_matches_joint(a: float, b: float) -> None:
    for y in (0.01, 0.7, 5.0):
        val, _ = integrate.quad(
            lambda x: a * math.exp(-a * x) * b * math.exp(-b * (y - x)), 0.0, y,
            epsabs=1e-14, epsrel=1e-12,
        )
        assert val == pytest.approx(_hypoexp_pdf(y, a, b), rel=1e-9)


WEINMAN_CASES = [
    (1.0, 1.0),  # a = 2, b = 1
    (1.0, 3.0),  # a = 2, b = 1/3: X small relative to E, low MI
    (8.0, 0.5),  # a = 1/4, b = 2: other branch (rate of X smaller)
    (3.0, 1.5),  # theta0 == 2 * theta1: equal rates, Gamma(2) marginal
    (2.0, 1.0 + 1e-6),  # nearly equal rates
    (2.0, 1.0 - 1e-6),
    (2.0, 1.0 + 1e-3),
]


@pytest.mark.parametrize(("theta0", "theta1"), WEINMAN_CASES)
def test_weinman_mi_numeric(theta0: float, theta1: float) -> None:
    a, b = 2.0 / theta0, 1.0 / theta1
    ds = OrderedWeinman(theta0=theta0, theta1=theta1)
    assert ds.mi == pytest.approx(_weinman_mi_numeric(a, b), abs=1e-8)


def test_weinman_equal_rates_is_euler_gamma() -> None:
    # a == b: Y ~ Gamma(2, 1/a), h(Y) = 2 - log a - digamma(2), h(E) = 1 - log a.
    a = 0.8
    h_y = 2.0 - math.log(a) - (1.0 - EULER_GAMMA)
    h_e = 1.0 - math.log(a)
    ds = OrderedWeinman(theta0=2.0 / a, theta1=1.0 / a)
    assert ds.mi == pytest.approx(h_y - h_e, abs=1e-14)
    assert ds.mi == pytest.approx(EULER_GAMMA, abs=1e-14)
    # Gamma(2) entropy from scipy, independently.
    assert h_y == pytest.approx(stats.gamma(2, scale=1 / a).entropy(), abs=1e-12)


def test_weinman_mi_continuous_through_equal_rates() -> None:
    mis = [OrderedWeinman(2.0, 1.0 + eps).mi for eps in (-1e-12, -1e-9, 0.0, 1e-9, 1e-12)]
    assert np.all(np.isfinite(mis))
    np.testing.assert_allclose(mis, EULER_GAMMA, atol=1e-8)


def test_weinman_mi_scale_invariant() -> None:
    assert OrderedWeinman(1.0, 3.0).mi == pytest.approx(OrderedWeinman(7.0, 21.0).mi, abs=1e-13)
    assert OrderedWeinman(1.0, 3.0, log=True).mi == OrderedWeinman(1.0, 3.0).mi


@pytest.mark.parametrize("cls", [BivariateGaussian, GammaExponential, OrderedWeinman,
                                 TransformedGaussian])
def test_mi_is_python_float(cls: type) -> None:
    mi = cls().mi
    assert type(mi) is float and mi >= 0.0


# --------------------------------------------------------------------------- #
# Sampling: large-sample moment checks, tolerances from the sample size
# --------------------------------------------------------------------------- #
N = 200_000


@pytest.mark.parametrize("rho", [-0.8, 0.0, 0.6])
def test_gaussian_sample_moments(rho: float) -> None:
    x, y = BivariateGaussian(rho).sample(N, random_state=1)
    se_mean = 1.0 / math.sqrt(N)
    assert abs(x.mean()) < 5 * se_mean and abs(y.mean()) < 5 * se_mean
    # SE of a sample variance of a normal: sqrt(2/N).
    assert abs(x.var() - 1) < 5 * math.sqrt(2 / N)
    assert abs(y.var() - 1) < 5 * math.sqrt(2 / N)
    r = np.corrcoef(x, y)[0, 1]
    assert abs(r - rho) < 5 * (1 - rho**2) / math.sqrt(N) + 1e-12


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_gamma_exponential_sample(alpha: float) -> None:
    x, y = GammaExponential(alpha, log=False).sample(N, random_state=2)
    assert np.all(x > 0) and np.all(y > 0)
    # E[X] = Var[X] = alpha.
    assert abs(x.mean() - alpha) < 5 * math.sqrt(alpha / N)
    # X * Y | X ~ Exp(1), so X * Y ~ Exp(1) independent of X.
    xy = x * y
    assert abs(xy.mean() - 1.0) < 5 / math.sqrt(N)
    assert abs(stats.spearmanr(x, xy)[0]) < 5 / math.sqrt(N)
    # Lomax tail: P(Y > t) = (1 + t)**-alpha.
    for t in (0.5, 3.0):
        p = (1 + t) ** -alpha
        assert abs(np.mean(y > t) - p) < 5 * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize("ds_cls", [GammaExponential, OrderedWeinman])
def test_log_option_is_log_of_raw_sample(ds_cls: type) -> None:
    x, y = ds_cls(log=False).sample(1000, random_state=3)
    lx, ly = ds_cls(log=True).sample(1000, random_state=3)
    np.testing.assert_allclose(np.exp(lx), x, rtol=1e-12)
    np.testing.assert_allclose(np.exp(ly), y, rtol=1e-10)


def test_gamma_exponential_default_is_log() -> None:
    lx, ly = GammaExponential().sample(N, random_state=4)
    # log of Gamma(1) = Exp(1): E[log X] = digamma(1) = -euler_gamma.
    assert abs(lx.mean() + EULER_GAMMA) < 5 * math.sqrt(math.pi**2 / 6 / N)
    assert np.all(np.isfinite(ly))


@pytest.mark.parametrize(("theta0", "theta1"), [(1.0, 1.0), (4.0, 0.5), (2.0, 1.0)])
def test_weinman_sample(theta0: float, theta1: float) -> None:
    x, y = OrderedWeinman(theta0, theta1).sample(N, random_state=5)
    assert np.all(x > 0) and np.all(y > x)
    mean_x, mean_e = theta0 / 2, theta1
    assert abs(x.mean() - mean_x) < 5 * mean_x / math.sqrt(N)  # sd of Exp = mean
    e = y - x
    assert abs(e.mean() - mean_e) < 5 * mean_e / math.sqrt(N)
    assert abs(stats.spearmanr(x, e)[0]) < 5 / math.sqrt(N)


_INVERSES = {
    "identity": lambda t: t,
    "sinh": np.arcsinh,
    "signed_power": lambda t: np.sign(t) * np.abs(t) ** (2.0 / 3.0),
    "cube": np.cbrt,
    "normal_cdf": special.ndtri,
    "exp": np.log,
    "arcsinh": np.sinh,
}


def test_inverse_table_covers_all_transforms() -> None:
    assert set(_INVERSES) == set(TRANSFORMS)
    assert {"identity", "sinh", "signed_power", "cube", "normal_cdf", "exp"} <= set(TRANSFORMS)


@pytest.mark.parametrize("tx", TRANSFORMS)
def test_transformed_gaussian_inverse_recovers_rho(tx: str) -> None:
    rho, n = 0.75, 100_000
    ty = "signed_power" if tx != "signed_power" else "sinh"
    x, y = TransformedGaussian(rho, tx, ty).sample(n, random_state=6)
    u, v = _INVERSES[tx](x), _INVERSES[ty](y)
    assert np.all(np.isfinite(u)) and np.all(np.isfinite(v))
    assert abs(u.mean()) < 5 / math.sqrt(n) and abs(u.std() - 1) < 5 * math.sqrt(0.5 / n)
    r = np.corrcoef(u, v)[0, 1]
    assert abs(r - rho) < 5 * (1 - rho**2) / math.sqrt(n)
    # Ranks are unchanged by monotone maps.
    assert stats.spearmanr(x, y)[0] == pytest.approx(stats.spearmanr(u, v)[0], abs=1e-12)


def test_transformed_gaussian_spearman_matches_theory() -> None:
    rho, n = 0.75, N
    x, y = TransformedGaussian(rho).sample(n, random_state=7)
    # Spearman correlation of a bivariate normal: (6/pi) arcsin(rho/2).
    expected = 6 / math.pi * math.asin(rho / 2)
    assert abs(stats.spearmanr(x, y)[0] - expected) < 5 * (1 - expected**2) / math.sqrt(n) * 1.2


def test_transformed_gaussian_default_is_heavy_tailed() -> None:
    x, y = TransformedGaussian().sample(N, random_state=8)
    assert stats.kurtosis(x) > 3 and stats.kurtosis(y) > 0.5  # normal: 0


# --------------------------------------------------------------------------- #
# Shapes, dtypes, reproducibility
# --------------------------------------------------------------------------- #
ALL = [BivariateGaussian(), GammaExponential(), GammaExponential(log=False),
       OrderedWeinman(), OrderedWeinman(log=True), TransformedGaussian()]


@pytest.mark.parametrize("ds", ALL, ids=repr)
@pytest.mark.parametrize("n", [1, 7])
def test_sample_shape_dtype(ds, n: int) -> None:
    x, y = ds.sample(n, random_state=0)
    assert x.shape == (n,) and y.shape == (n,)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("ds", ALL, ids=repr)
def test_reproducibility(ds) -> None:
    x1, y1 = ds.sample(50, random_state=123)
    x2, y2 = ds.sample(50, random_state=123)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, y3 = ds.sample(50, random_state=124)
    assert not np.array_equal(x1, x3) and not np.array_equal(y1, y3)
    # A Generator is used as given (seeded the same -> same stream) and advanced.
    gen = np.random.default_rng(123)
    x4, y4 = ds.sample(50, random_state=gen)
    np.testing.assert_array_equal(x1, x4)
    np.testing.assert_array_equal(y1, y4)
    x5, _ = ds.sample(50, random_state=gen)
    assert not np.array_equal(x4, x5)
    # None draws fresh entropy.
    x6, _ = ds.sample(50)
    assert x6.shape == (50,)
    # numpy integer seeds behave like int seeds.
    np.testing.assert_array_equal(ds.sample(50, random_state=np.int64(123))[0], x1)


def test_frozen_and_repr() -> None:
    ds = BivariateGaussian(0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.rho = 0.5  # type: ignore[misc]
    assert "BivariateGaussian" in repr(ds) and "0.3" in repr(ds)
    assert BivariateGaussian(0.3) == BivariateGaussian(0.3)
    assert isinstance(BivariateGaussian(0).rho, float)


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #
def test_registry() -> None:
    assert set(DATASETS) == {"gaussian", "gamma-exponential", "weinman", "transformed-gaussian"}
    for name, cls in DATASETS.items():
        ds = get_dataset(name)
        assert isinstance(ds, cls)
        assert ds.name == name
    ds = get_dataset("weinman", theta0=3.0, theta1=0.5, log=True)
    assert ds == OrderedWeinman(3.0, 0.5, True)
    assert get_dataset("transformed-gaussian", rho=0.2, transform_x="exp").transform_x == "exp"


def test_get_dataset_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'gausian'.*gaussian.*gamma-exponential"
                                         r".*weinman.*transformed-gaussian.*Did you mean 'gaussian'"):
        get_dataset("gausian")
    with pytest.raises(ValueError, match="valid names"):
        get_dataset("zzz")
    with pytest.raises(TypeError, match="valid parameters"):
        get_dataset("gaussian", alpha=1.0)


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("rho", [1.0, -1.0, 1.5, float("nan"), float("inf")])
def test_bad_rho(rho: float) -> None:
    with pytest.raises(ValueError, match="rho"):
        BivariateGaussian(rho)
    with pytest.raises(ValueError, match="rho"):
        TransformedGaussian(rho)


def test_bad_rho_message() -> None:
    with pytest.raises(ValueError, match=r"rho must be in \(-1, 1\); got 1\.0"):
        BivariateGaussian(1.0)
    with pytest.raises(TypeError, match="rho must be a real number"):
        BivariateGaussian("0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rho"):
        BivariateGaussian(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [0.0, -1.0])
def test_bad_alpha(alpha: float) -> None:
    with pytest.raises(ValueError, match=r"alpha must be > 0; got"):
        GammaExponential(alpha)


@pytest.mark.parametrize(("theta0", "theta1", "bad"), [(0.0, 1.0, "theta0"), (-2.0, 1.0, "theta0"),
                                                       (1.0, 0.0, "theta1"), (1.0, -0.1, "theta1")])
def test_bad_theta(theta0: float, theta1: float, bad: str) -> None:
    with pytest.raises(ValueError, match=rf"{bad} must be > 0; got"):
        OrderedWeinman(theta0, theta1)


def test_bad_log_flag() -> None:
    with pytest.raises(TypeError, match="log must be True or False"):
        GammaExponential(1.0, log="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("ds", ALL, ids=repr)
def test_bad_n(ds) -> None:
    with pytest.raises(ValueError, match=r"n must be a positive int.*got 0"):
        ds.sample(0)
    with pytest.raises(ValueError, match="positive int"):
        ds.sample(-5)
    with pytest.raises(TypeError, match=r"n must be a positive int; got 2\.5"):
        ds.sample(2.5)
    with pytest.raises(TypeError, match="positive int"):
        ds.sample(True)
    with pytest.raises(TypeError, match="positive int"):
        ds.sample(10.0)
    assert ds.sample(np.int64(3))[0].shape == (3,)


def test_bad_random_state() -> None:
    with pytest.raises(TypeError, match="random_state"):
        BivariateGaussian().sample(5, random_state=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw", ["transform_x", "transform_y"])
def test_unknown_transform(kw: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown {kw} 'sin'.*identity.*sinh.*signed_power"
                                         r".*cube.*normal_cdf.*exp"):
        TransformedGaussian(**{kw: "sin"})
    with pytest.raises(TypeError, match=kw):
        TransformedGaussian(**{kw: 3})


@pytest.mark.parametrize("alpha", [0.01, 0.3, 2.5])
def test_gamma_exponential_log_scale_moments(alpha: float) -> None:
    # log X of a Gamma(alpha): mean digamma(alpha), variance trigamma(alpha);
    # finite even when X itself would underflow (tiny alpha).
    lx, ly = GammaExponential(alpha).sample(N, random_state=9)
    assert np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))
    sd = math.sqrt(special.polygamma(1, alpha))
    assert abs(lx.mean() - special.digamma(alpha)) < 5 * sd / math.sqrt(N)
    # log(X * Y) = log E with E ~ Exp(1): mean -euler_gamma, variance pi^2/6.
    assert abs((lx + ly).mean() + EULER_GAMMA) < 5 * math.sqrt(math.pi**2 / 6 / N)
