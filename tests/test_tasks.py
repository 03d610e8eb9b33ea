"""Tests for the validation tasks (bayes_gmm_mi._tasks, via bayes_gmm_mi.datasets).

Every ``.mi`` is checked against a computation that does not use the
module's formula: scipy's entropies and a Monte Carlo average of the log
density ratio with scipy densities (Student t), a quadrature of the
trapezoidal density written out here (uniform noise), 2-D / 1-D grid
integrals of the joint density (bimodal, categorical), and log-determinants
and canonical correlations of the population covariance (canonical); for
the two tasks added for issue 14, scipy's semicircle entropy and a
quadrature of the chord density (disk), and an exact midpoint sum of the
piecewise-constant joint density written with scipy's uniform densities
(diagonal blocks).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, stats

from bayes_gmm_mi._tasks import DiagonalBlocks, UniformDisk
from bayes_gmm_mi.datasets import (
    INDEPENDENT_KINDS,
    VALIDATION_TASKS,
    AdditiveUniformNoise,
    BimodalMarginal,
    CanonicalGaussian,
    CategoricalGaussian,
    Independent,
    StudentT,
    ValidationTask,
    get_validation_task,
)

NEW_CLASSES = [
    StudentT,
    AdditiveUniformNoise,
    BimodalMarginal,
    CanonicalGaussian,
    CategoricalGaussian,
    Independent,
    UniformDisk,
    DiagonalBlocks,
]


def _trapezoid(y: np.ndarray, x: np.ndarray, axis: int = -1) -> np.ndarray:
    return integrate.trapezoid(y, x, axis=axis)


# --------------------------------------------------------------------------- #
# Student t
# --------------------------------------------------------------------------- #
def _t_mi_from_scipy_entropies(rho: float, dof: float) -> float:
    """I = h(X) + h(Y) - h(X, Y) with scipy's closed-form entropies."""
    joint = stats.multivariate_t(loc=[0.0, 0.0], shape=[[1.0, rho], [rho, 1.0]], df=dof)
    return 2.0 * float(stats.t(dof).entropy()) - float(joint.entropy())


def _t_log_ratio(x: np.ndarray, y: np.ndarray, rho: float, dof: float) -> np.ndarray:
    joint = stats.multivariate_t(loc=[0.0, 0.0], shape=[[1.0, rho], [rho, 1.0]], df=dof)
    return joint.logpdf(np.column_stack([x, y])) - stats.t.logpdf(x, dof) - stats.t.logpdf(y, dof)


@pytest.mark.parametrize(
    "rho, dof", [(0.6, 3.0), (0.0, 1.0), (-0.9, 0.7), (0.3, 30.0), (0.95, 5.0)]
)
def test_student_t_mi_matches_scipy_entropies(rho: float, dof: float) -> None:
    assert StudentT(rho, dof).mi == pytest.approx(
        _t_mi_from_scipy_entropies(rho, dof), rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("rho, dof", [(0.6, 3.0), (0.0, 1.5)])
def test_student_t_mi_matches_monte_carlo(rho: float, dof: float) -> None:
    # E[log p(x, y) - log p(x) - log p(y)] over 200k draws of scipy's sampler.
    xy = stats.multivariate_t(
        loc=[0.0, 0.0], shape=[[1.0, rho], [rho, 1.0]], df=dof
    ).rvs(size=200_000, random_state=np.random.default_rng(1))
    lr = _t_log_ratio(xy[:, 0], xy[:, 1], rho, dof)
    se = lr.std(ddof=1) / math.sqrt(lr.size)
    assert abs(lr.mean() - StudentT(rho, dof).mi) < 4.0 * se
    # The module's own sampler gives the same average.
    x, y = StudentT(rho, dof).sample(200_000, random_state=2)
    lr = _t_log_ratio(x, y, rho, dof)
    se = lr.std(ddof=1) / math.sqrt(lr.size)
    assert abs(lr.mean() - StudentT(rho, dof).mi) < 4.0 * se


def test_student_t_limits_and_monotonicity() -> None:
    gauss = -0.5 * math.log(1.0 - 0.6**2)
    dofs = (0.5, 1.0, 3.0, 10.0, 100.0, 299.0, 301.0, 2000.0, 1e6)
    mis = [StudentT(0.6, d).mi for d in dofs]
    assert all(a > b for a, b in zip(mis, mis[1:]))
    assert all(m > gauss for m in mis)
    assert mis[-1] - gauss == pytest.approx(1.0 / (2.0 * 1e6**2), rel=1e-5)
    # The asymptotic branch (dof > 300) joins the direct formula (dof <= 300).
    excess = lambda d: StudentT(0.0, d).mi  # noqa: E731
    assert excess(300.0) == pytest.approx(excess(300.0 * (1 + 1e-12)), abs=1e-12)
    for d in (300.0, 301.0, 1000.0):
        assert excess(d) == pytest.approx(_t_mi_from_scipy_entropies(0.0, d), abs=1e-11)


def test_student_t_sampler_marginals() -> None:
    x, y = StudentT(0.6, 3.0).sample(20_000, random_state=3)
    assert stats.kstest(x, stats.t(3.0).cdf).pvalue > 1e-3
    assert stats.kstest(y, stats.t(3.0).cdf).pvalue > 1e-3
    # Kendall's tau of an elliptical law is (2/pi) arcsin(rho).
    tau = stats.kendalltau(x[:5000], y[:5000]).statistic
    assert tau == pytest.approx(2.0 / math.pi * math.asin(0.6), abs=0.03)


# --------------------------------------------------------------------------- #
# Additive uniform noise
# --------------------------------------------------------------------------- #
def _uniform_noise_mi_quad(eps: float) -> float:
    # p_Y(y) = |[0, 1] cap [y - eps, y]| / eps; I = h(Y) - h(Y | X), h(Y | X) = log eps.
    def p(y: float) -> float:
        return max(0.0, min(y, 1.0) - max(y - eps, 0.0)) / eps

    def integrand(y: float) -> float:
        v = p(y)
        return -v * math.log(v) if v > 0.0 else 0.0

    mass, _ = integrate.quad(p, 0.0, 1.0 + eps, points=[min(eps, 1.0), max(eps, 1.0)])
    assert mass == pytest.approx(1.0, abs=1e-10)
    h_y, _ = integrate.quad(
        integrand, 0.0, 1.0 + eps, points=[min(eps, 1.0), max(eps, 1.0)],
        epsabs=1e-12, epsrel=1e-12, limit=200,
    )
    return h_y - math.log(eps)


@pytest.mark.parametrize("eps", [0.05, 0.5, 1.0, 1.7, 4.0])
def test_uniform_noise_mi_matches_quadrature(eps: float) -> None:
    assert AdditiveUniformNoise(eps).mi == pytest.approx(
        _uniform_noise_mi_quad(eps), abs=1e-9
    )


def test_uniform_noise_mi_matches_monte_carlo() -> None:
    # E[log p(y | x) - log p(y)] with the trapezoid density, over the sampler.
    eps = 0.5
    x, y = AdditiveUniformNoise(eps).sample(100_000, random_state=4)
    p_y = (np.minimum(y, 1.0) - np.maximum(y - eps, 0.0)) / eps
    lr = -math.log(eps) - np.log(p_y)
    se = lr.std(ddof=1) / math.sqrt(lr.size)
    assert abs(lr.mean() - AdditiveUniformNoise(eps).mi) < 4.0 * se


def test_uniform_noise_support() -> None:
    x, y = AdditiveUniformNoise(0.3).sample(10_000, random_state=5)
    assert x.min() >= 0.0 and x.max() < 1.0
    d = y - x
    assert d.min() >= 0.0 and d.max() < 0.3 + 1e-12
    assert stats.kstest(d / 0.3, "uniform").pvalue > 1e-3


# --------------------------------------------------------------------------- #
# Uniform disk (issue 14)
# --------------------------------------------------------------------------- #
def _semicircle_entropy_quad(radius: float) -> float:
    """-integral p log p of the chord density p(x) = 2 sqrt(R^2 - x^2) / (pi R^2)."""
    r2 = radius * radius

    def p(t: float) -> float:
        return 2.0 * math.sqrt(max(r2 - t * t, 0.0)) / (math.pi * r2)

    def integrand(t: float) -> float:
        v = p(t)
        return -v * math.log(v) if v > 0.0 else 0.0

    mass, _ = integrate.quad(p, -radius, radius, epsabs=1e-13)
    assert mass == pytest.approx(1.0, abs=1e-10)
    h, _ = integrate.quad(integrand, -radius, radius, epsabs=1e-13, epsrel=1e-12, limit=200)
    return h


@pytest.mark.parametrize("radius", [1.0, 0.3, 7.0])
def test_disk_mi_matches_semicircle_entropy(radius: float) -> None:
    # h(X) = h(Y) by quadrature and from scipy's semicircular law; the area
    # (for h(X, Y) = log area) by quadrature of the chord length.
    h_quad = _semicircle_entropy_quad(radius)
    h_scipy = float(stats.semicircular(scale=radius).entropy())
    assert h_quad == pytest.approx(h_scipy, abs=1e-9)
    area, _ = integrate.quad(
        lambda t: 2.0 * math.sqrt(max(radius * radius - t * t, 0.0)), -radius, radius,
        epsabs=1e-13,
    )
    assert area == pytest.approx(math.pi * radius * radius, rel=1e-10)
    mi = 2.0 * h_quad - math.log(area)
    ds = UniformDisk(radius)
    assert ds.mi == pytest.approx(mi, abs=1e-9)
    assert ds.mi == pytest.approx(0.14472988584940, abs=1e-12)


def test_disk_mi_matches_monte_carlo() -> None:
    # E[log p(x, y) - log p(x) - log p(y)] over the sampler, scipy marginals.
    radius = 2.0
    ds = UniformDisk(radius)
    x, y = ds.sample(100_000, random_state=6)
    marg = stats.semicircular(scale=radius)
    lr = -math.log(math.pi * radius**2) - marg.logpdf(x) - marg.logpdf(y)
    se = lr.std(ddof=1) / math.sqrt(lr.size)
    assert abs(lr.mean() - ds.mi) < 4.0 * se


def test_disk_support_and_uniformity() -> None:
    radius = 1.5
    x, y = UniformDisk(radius).sample(20_000, random_state=7)
    rr = (x * x + y * y) / radius**2
    assert rr.max() <= 1.0 + 1e-12
    # Uniform on the disk <=> r^2 / R^2 ~ U(0, 1) and the angle ~ U(0, 2 pi).
    assert stats.kstest(rr, "uniform").pvalue > 1e-3
    angle = (np.arctan2(y, x) + 2 * math.pi) % (2 * math.pi)
    assert stats.kstest(angle / (2 * math.pi), "uniform").pvalue > 1e-3
    # Each margin is the semicircle law.
    assert stats.kstest(x, stats.semicircular(scale=radius).cdf).pvalue > 1e-3
    assert stats.kstest(y, stats.semicircular(scale=radius).cdf).pvalue > 1e-3


def test_disk_moments() -> None:
    radius = 1.0
    x, y = UniformDisk(radius).sample(200_000, random_state=8)
    n = x.size

    def close(values: np.ndarray, truth: float) -> None:
        se = values.std(ddof=1) / math.sqrt(n)
        assert abs(values.mean() - truth) < 5.0 * se

    close(x, 0.0)
    close(y, 0.0)
    close(x**2, radius**2 / 4)
    close(y**2, radius**2 / 4)
    close(x**4, radius**4 / 8)
    close(x * y, 0.0)  # uncorrelated ...
    close(x**2 * y**2, radius**4 / 24)  # ... but not independent (R^4 / 16)
    assert abs(radius**4 / 24 - radius**4 / 16) > 20 * (x**2 * y**2).std() / math.sqrt(n)


# --------------------------------------------------------------------------- #
# Diagonal blocks (issue 14)
# --------------------------------------------------------------------------- #
def _blocks_mi_grid(levels: int, width: float, step: float) -> tuple[float, float]:
    """(total mass, MI) by a midpoint sum of the joint density, scipy uniforms.

    The density is constant on every grid cell when ``width`` and 1 are
    multiples of ``step``, so the midpoint sum is exact (up to rounding).
    """
    t = (np.arange(round(levels / step)) + 0.5) * step
    comp = np.stack(
        [stats.uniform(loc=k, scale=width).pdf(t) for k in range(levels)]
    ) / levels  # (levels, cells): p(k) p(t | k)
    p_x = comp.sum(axis=0)
    joint = comp.T @ (comp * levels)  # sum_k p(k) p(x | k) p(y | k)
    mass = float(joint.sum() * step * step)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = joint / np.outer(p_x, p_x)
        integrand = np.where(joint > 0, joint * np.log(ratio), 0.0)
    return mass, float(integrand.sum() * step * step)


@pytest.mark.parametrize(
    "levels, width", [(5, 0.5), (2, 0.3), (7, 0.85), (3, 0.05), (12, 0.95)]
)
def test_blocks_mi_matches_grid_sum(levels: int, width: float) -> None:
    mass, mi = _blocks_mi_grid(levels, width, step=0.05)
    assert mass == pytest.approx(1.0, abs=1e-9)
    assert DiagonalBlocks(levels, width).mi == pytest.approx(mi, abs=1e-9)
    assert DiagonalBlocks(levels, width).mi == pytest.approx(math.log(levels), rel=1e-12)


def test_blocks_log_ratio_is_log_levels_on_the_sampler() -> None:
    # Pointwise log p(x, y) - log p(x) - log p(y), scipy densities: log L everywhere.
    levels, width = 5, 0.5
    x, y = DiagonalBlocks(levels, width).sample(20_000, random_state=9)
    px = sum(stats.uniform(loc=k, scale=width).pdf(x) for k in range(levels)) / levels
    py = sum(stats.uniform(loc=k, scale=width).pdf(y) for k in range(levels)) / levels
    pxy = sum(
        stats.uniform(loc=k, scale=width).pdf(x) * stats.uniform(loc=k, scale=width).pdf(y)
        for k in range(levels)
    ) / levels
    assert np.all(pxy > 0)
    np.testing.assert_allclose(np.log(pxy) - np.log(px) - np.log(py), math.log(levels))


def test_blocks_support() -> None:
    levels, width = 6, 0.4
    x, y = DiagonalBlocks(levels, width).sample(30_000, random_state=10)
    kx, ky = np.floor(x), np.floor(y)
    np.testing.assert_array_equal(kx, ky)  # same block
    assert kx.min() == 0 and kx.max() == levels - 1
    fx, fy = x - kx, y - ky
    assert fx.min() >= 0.0 and fx.max() < width
    assert fy.min() >= 0.0 and fy.max() < width
    counts = np.bincount(kx.astype(int), minlength=levels)
    assert stats.chisquare(counts).pvalue > 1e-3  # K uniform
    assert stats.kstest(fx / width, "uniform").pvalue > 1e-3
    assert stats.kstest(fy / width, "uniform").pvalue > 1e-3
    # Within a block, the offsets are independent of each other.
    assert abs(stats.spearmanr(fx, fy).statistic) < 4.0 / math.sqrt(x.size)


def test_blocks_moments() -> None:
    levels, width = 5, 0.5
    x, y = DiagonalBlocks(levels, width).sample(200_000, random_state=11)
    n = x.size
    mean = (levels - 1) / 2 + width / 2
    var = (levels**2 - 1) / 12 + width**2 / 12
    cov = (levels**2 - 1) / 12
    for v in (x, y):
        assert abs(v.mean() - mean) < 5.0 * v.std(ddof=1) / math.sqrt(n)
        dev = (v - mean) ** 2
        assert abs(dev.mean() - var) < 5.0 * dev.std(ddof=1) / math.sqrt(n)
    prod = (x - mean) * (y - mean)
    assert abs(prod.mean() - cov) < 5.0 * prod.std(ddof=1) / math.sqrt(n)


def test_new_tasks_resolve_in_the_calibration_study() -> None:
    # The study looks names up in VALIDATION_TASKS; the new tasks need no change there.
    from studies.calibration import study as cal

    resolved = cal._resolve_tasks(["disk", "diagonal-blocks"])
    assert [t.name for t in resolved] == ["disk", "diagonal-blocks"]
    assert [t.truth for t in resolved] == [math.log(math.pi) - 1.0, math.log(5.0)]
    assert all(t.dx == t.dy == 1 and not t.discrete_y for t in resolved)
    x, y = cal.sample_dataset("diagonal-blocks", 50, 0)
    np.testing.assert_array_equal(np.floor(x), np.floor(y))


# --------------------------------------------------------------------------- #
# Bimodal marginal
# --------------------------------------------------------------------------- #
def _bimodal_mi_grid(mean: float, sd: float, noise: float, w: float) -> float:
    # Joint density on a grid; p(y) by integrating the joint over x on the
    # same grid; I = integral p(x, y) log(p(y | x) / p(y)).
    xs = np.linspace(-mean - 12 * sd, mean + 12 * sd, 1501)
    ys = np.linspace(-mean - 12 * (sd + noise), mean + 12 * (sd + noise), 1801)
    p_x = (1 - w) * stats.norm.pdf(xs, -mean, sd) + w * stats.norm.pdf(xs, mean, sd)
    log_p_y_x = stats.norm.logpdf(ys[None, :], xs[:, None], noise)
    joint = p_x[:, None] * np.exp(log_p_y_x)
    p_y = _trapezoid(joint, xs, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(joint > 0, joint * (log_p_y_x - np.log(p_y)[None, :]), 0.0)
    return float(_trapezoid(_trapezoid(integrand, ys, axis=1), xs))


@pytest.mark.parametrize(
    "params", [dict(), dict(mean=1.5, sd=0.3, noise_sd=0.4, weight=0.3), dict(mean=0.5)]
)
def test_bimodal_mi_matches_grid_integral(params: dict) -> None:
    ds = BimodalMarginal(**params)
    ref = _bimodal_mi_grid(ds.mean, ds.sd, ds.noise_sd, ds.weight)
    assert ds.mi == pytest.approx(ref, abs=1e-6)


def test_bimodal_sampler() -> None:
    ds = BimodalMarginal(mean=2.0, sd=0.5, noise_sd=1.0, weight=0.3)
    x, y = ds.sample(50_000, random_state=6)
    assert np.mean(x > 0) == pytest.approx(0.3, abs=0.01)
    assert np.std(y - x) == pytest.approx(1.0, rel=0.02)
    assert np.std(x[x > 0]) == pytest.approx(0.5, rel=0.03)


# --------------------------------------------------------------------------- #
# Canonical correlations
# --------------------------------------------------------------------------- #
def _logdet(a: np.ndarray) -> float:
    sign, val = np.linalg.slogdet(a)
    assert sign > 0
    return float(val)


@pytest.mark.parametrize(
    "rhos, dx, dy, seed",
    [((0.8, 0.4), 2, 2, 0), ((0.9,), 1, 3, 1), ((0.5, -0.7, 0.2), 4, 3, 7), ((), 2, 2, 0)],
)
def test_canonical_mi_matches_logdet_and_canonical_correlations(
    rhos: tuple, dx: int, dy: int, seed: int
) -> None:
    ds = CanonicalGaussian(rhos=rhos, dx=dx, dy=dy, mixing_seed=seed)
    s = ds.covariance
    assert s.shape == (dx + dy, dx + dy)
    np.testing.assert_allclose(s, s.T, atol=1e-12)
    sxx, syy, sxy = s[:dx, :dx], s[dx:, dx:], s[:dx, dx:]
    ref = 0.5 * (_logdet(sxx) + _logdet(syy) - _logdet(s))
    assert ds.mi == pytest.approx(ref, abs=1e-10)
    # Canonical correlations = singular values of Sxx^-1/2 Sxy Syy^-1/2.
    lx = np.linalg.cholesky(sxx)
    ly = np.linalg.cholesky(syy)
    m = np.linalg.solve(lx, sxy) @ np.linalg.inv(ly).T
    sv = np.linalg.svd(m, compute_uv=False)
    expected = sorted([abs(r) for r in rhos] + [0.0] * (min(dx, dy) - len(rhos)), reverse=True)
    np.testing.assert_allclose(sv, expected, atol=1e-10)
    # Mixing makes the blocks non-diagonal (non-trivial task).
    if dx > 1:
        assert np.max(np.abs(sxx - np.diag(np.diag(sxx)))) > 0.05


def test_canonical_sample_covariance() -> None:
    ds = CanonicalGaussian(rhos=(0.8, 0.4), dx=2, dy=3, mixing_seed=3)
    x, y = ds.sample(100_000, random_state=8)
    assert x.shape == (100_000, 2) and y.shape == (100_000, 3)
    emp = np.cov(np.hstack([x, y]), rowvar=False)
    np.testing.assert_allclose(emp, ds.covariance, atol=0.05)
    # mixing depends on mixing_seed only, MI does not depend on it.
    other = CanonicalGaussian(rhos=(0.8, 0.4), dx=2, dy=3, mixing_seed=4)
    assert not np.allclose(other.covariance, ds.covariance)
    assert other.mi == ds.mi
    np.testing.assert_array_equal(ds.mixing[0], CanonicalGaussian((0.8, 0.4), 2, 3, 3).mixing[0])


# --------------------------------------------------------------------------- #
# Categorical x continuous
# --------------------------------------------------------------------------- #
def _categorical_mi_grid(freqs, means, sds) -> float:
    # I = H(C) - E_x[H(C | X)], posterior class probabilities on a grid.
    p, m, s = (np.asarray(v, dtype=float) for v in (freqs, means, sds))
    xs = np.linspace(np.min(m - 14 * s), np.max(m + 14 * s), 40_001)
    joint = p[:, None] * stats.norm.pdf(xs[None, :], m[:, None], s[:, None])
    p_x = joint.sum(axis=0)
    post = joint / p_x
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(post > 0, post * np.log(post), 0.0).sum(axis=0)
    h_c = -float(np.sum(p * np.log(p)))
    return h_c - float(_trapezoid(p_x * ent, xs))


@pytest.mark.parametrize(
    "freqs, means, sds",
    [
        ((0.6, 0.3, 0.1), (-1.0, 0.5, 2.0), (1.0, 0.5, 0.75)),
        ((0.9, 0.1), (0.0, 0.0), (1.0, 3.0)),
        ((0.05, 0.15, 0.3, 0.5), (-3.0, -1.0, 1.0, 3.0), (0.3, 0.3, 0.3, 0.3)),
    ],
)
def test_categorical_mi_matches_posterior_entropy(freqs, means, sds) -> None:
    ds = CategoricalGaussian(freqs=freqs, means=means, sds=sds)
    ref = _categorical_mi_grid(freqs, means, sds)
    assert ds.mi == pytest.approx(ref, abs=1e-7)
    assert 0.0 < ds.mi < -sum(p * math.log(p) for p in freqs)


def test_categorical_sampler() -> None:
    ds = CategoricalGaussian(
        freqs=(0.7, 0.2, 0.1), means=(0.0, 3.0, -3.0), sds=(1.0, 0.5, 2.0),
        labels=("low", "mid", "high"),
    )
    x, lab = ds.sample(100_000, random_state=9)
    assert x.shape == (100_000,) and x.dtype == np.float64
    assert lab.shape == (100_000,) and lab.dtype.kind == "U"
    for name, p, mu, sd in zip(ds.labels, ds.freqs, ds.means, ds.sds):
        sel = lab == name
        se = math.sqrt(p * (1 - p) / lab.size)
        assert abs(sel.mean() - p) < 4 * se
        assert x[sel].mean() == pytest.approx(mu, abs=5 * sd / math.sqrt(sel.sum()))
        assert x[sel].std() == pytest.approx(sd, rel=0.03)
    assert CategoricalGaussian().labels == ("a", "b", "c")
    assert CategoricalGaussian().discrete_y is True


# --------------------------------------------------------------------------- #
# MI = 0 controls
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("kind", list(INDEPENDENT_KINDS))
def test_independent_controls(kind: str) -> None:
    ds = Independent(kind)
    assert ds.mi == 0.0
    x, y = ds.sample(20_000, random_state=10)
    # Chi-square test of independence on a 5 x 5 table of quantile bins.
    bx = np.searchsorted(np.quantile(x, [0.2, 0.4, 0.6, 0.8]), x)
    by = np.searchsorted(np.quantile(y, [0.2, 0.4, 0.6, 0.8]), y)
    table = np.zeros((5, 5))
    np.add.at(table, (bx, by), 1)
    assert stats.chi2_contingency(table).pvalue > 1e-3
    assert abs(stats.spearmanr(x, y).statistic) < 0.03


def test_independent_marginals() -> None:
    x, y = Independent("gamma-uniform").sample(20_000, random_state=11)
    assert stats.kstest(x, stats.gamma(2.0).cdf).pvalue > 1e-3
    assert stats.kstest(y, "uniform").pvalue > 1e-3
    x, y = Independent("bimodal-student-t").sample(20_000, random_state=11)
    assert stats.kstest(y, stats.t(3.0).cdf).pvalue > 1e-3
    assert np.mean(np.abs(x) < 0.5) < 0.01  # two separated modes


# --------------------------------------------------------------------------- #
# Shapes, reproducibility, parameter validation
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_reproducible_and_shapes(cls) -> None:
    ds = cls()
    x1, y1 = ds.sample(50, random_state=123)
    x2, y2 = ds.sample(50, random_state=123)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = ds.sample(50, random_state=124)
    assert not np.array_equal(x1, x3)
    rng = np.random.default_rng(0)
    xa, _ = ds.sample(50, random_state=rng)
    xb, _ = ds.sample(50, random_state=rng)
    assert not np.array_equal(xa, xb)  # a Generator advances
    assert x1.shape[0] == y1.shape[0] == 50
    assert x1.dtype == np.float64
    assert math.isfinite(ds.mi) and ds.mi >= 0.0
    assert isinstance(ds.discrete_y, bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.foo = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_bad_n_and_seed(cls) -> None:
    with pytest.raises(ValueError, match="n must be a positive int"):
        cls().sample(0)
    with pytest.raises(TypeError, match="n must be a positive int"):
        cls().sample(10.0)
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        cls().sample(10, random_state=-1)


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: StudentT(rho=1.0), ValueError, r"rho must be in \(-1, 1\); got 1.0"),
        (lambda: StudentT(rho=-1.5), ValueError, r"rho must be in \(-1, 1\)"),
        (lambda: StudentT(dof=0.0), ValueError, "dof must be > 0; got 0.0"),
        (lambda: StudentT(dof=-2), ValueError, "dof must be > 0"),
        (lambda: StudentT(dof=math.inf), ValueError, "dof must be finite"),
        (lambda: StudentT(dof="3"), TypeError, "dof must be a real number"),
        (lambda: AdditiveUniformNoise(0.0), ValueError, "epsilon must be > 0; got 0.0"),
        (lambda: AdditiveUniformNoise(-1.0), ValueError, "epsilon must be > 0"),
        (lambda: BimodalMarginal(mean=0.0), ValueError, "mean must be > 0"),
        (lambda: BimodalMarginal(sd=-1.0), ValueError, "sd must be > 0"),
        (lambda: BimodalMarginal(noise_sd=0.0), ValueError, "noise_sd must be > 0"),
        (lambda: BimodalMarginal(weight=1.0), ValueError, r"weight must be in \(0, 1\)"),
        (lambda: CanonicalGaussian(rhos=(1.0,)), ValueError, r"rhos\[0\] must be in \(-1, 1\)"),
        (lambda: CanonicalGaussian(rhos=(0.5, 0.5, 0.5)), ValueError,
         r"at most min\(dx, dy\) = 2 canonical correlations"),
        (lambda: CanonicalGaussian(dx=0), ValueError, "dx must be an int >= 1; got 0"),
        (lambda: CanonicalGaussian(dy=2.0), TypeError, "dy must be an int"),
        (lambda: CanonicalGaussian(rhos=0.5), TypeError, "rhos must be a sequence"),
        (lambda: CanonicalGaussian(mixing_seed=-1), ValueError, "mixing_seed must be an int >= 0"),
        (lambda: CategoricalGaussian(freqs=(0.5, 0.3, 0.1)), ValueError,
         "freqs must sum to 1; got sum 0.9"),
        (lambda: CategoricalGaussian(freqs=(1.2, -0.2, 0.0)), ValueError, r"freqs\[1\] must be > 0"),
        (lambda: CategoricalGaussian(freqs=(1.0,), means=(0.0,), sds=(1.0,)), ValueError,
         "at least 2 classes"),
        (lambda: CategoricalGaussian(means=(0.0, 1.0)), ValueError,
         "freqs, means and sds must have the same length; got 3, 2 and 3"),
        (lambda: CategoricalGaussian(sds=(1.0, 0.0, 1.0)), ValueError, r"sds\[1\] must be > 0"),
        (lambda: CategoricalGaussian(labels=("a", "a", "b")), ValueError, "labels must be distinct"),
        (lambda: CategoricalGaussian(labels=("a", "b")), ValueError, "one name per class"),
        (lambda: CategoricalGaussian(labels=(1, 2, 3)), TypeError, "labels must all be str"),
        (lambda: UniformDisk(radius=0.0), ValueError, "radius must be > 0; got 0.0"),
        (lambda: UniformDisk(radius=math.nan), ValueError, "radius must be finite"),
        (lambda: DiagonalBlocks(width=1.0), ValueError, r"width must be in \(0, 1\); got 1.0"),
        (lambda: DiagonalBlocks(width=1.5), ValueError, r"width must be in \(0, 1\); got 1.5"),
        (lambda: DiagonalBlocks(width=0.0), ValueError, r"width must be in \(0, 1\); got 0.0"),
        (lambda: DiagonalBlocks(width="0.5"), TypeError, "width must be a real number"),
        (lambda: DiagonalBlocks(levels=1), ValueError, "levels must be an int >= 2; got 1"),
        (lambda: DiagonalBlocks(levels=-3), ValueError, "levels must be an int >= 2; got -3"),
        (lambda: DiagonalBlocks(levels=5.0), TypeError, "levels must be an int >= 2"),
        (lambda: Independent("gausian"), ValueError, "Did you mean 'gaussian'"),
        (lambda: Independent(3), TypeError, "kind must be a str"),
    ],
)
def test_bad_parameters(make, exc, match) -> None:
    with pytest.raises(exc, match=match):
        make()


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #
EXPECTED_NAMES = {
    "gaussian", "half-cube", "sinh", "normal-cdf", "student-t", "uniform-noise",
    "bimodal", "gamma-exponential", "weinman", "canonical-2x2", "categorical",
    "independent", "independent-gamma-uniform",
    # Added for issue 14.
    "disk", "diagonal-blocks",
}


def test_registry_contents() -> None:
    assert set(VALIDATION_TASKS) == EXPECTED_NAMES
    for name, factory in VALIDATION_TASKS.items():
        task = factory()
        assert isinstance(task, ValidationTask)
        assert task.name == name
        assert task.discrete_y is (name == "categorical")
        assert math.isfinite(task.mi) and task.mi >= 0.0
        assert task.mi == task.dataset.mi
        x, y = task.sample(40, random_state=1)
        x2, y2 = get_validation_task(name).sample(40, random_state=1)
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
        assert x.shape[0] == y.shape[0] == 40
        if name == "canonical-2x2":
            assert x.shape == (40, 2) and y.shape == (40, 2)
        else:
            assert x.shape == (40,) and y.shape == (40,)


def test_registry_truths() -> None:
    gauss = -0.5 * math.log(1.0 - 0.6**2)
    for name in ("gaussian", "half-cube", "sinh", "normal-cdf"):
        assert get_validation_task(name).mi == pytest.approx(gauss, rel=1e-12)
    assert get_validation_task("independent").mi == 0.0
    assert get_validation_task("gamma-exponential").mi == pytest.approx(
        1.0 - 0.5772156649015329, rel=1e-12
    )
    assert get_validation_task("canonical-2x2").mi == pytest.approx(
        -0.5 * (math.log(1 - 0.64) + math.log(1 - 0.16)), rel=1e-12
    )
    assert get_validation_task("uniform-noise").mi == pytest.approx(0.25 + math.log(2.0))
    # Ordered Weinman with theta0 = theta1 = 1: a = 2, b = 1, z = 2:
    # I = euler_gamma + log(1/1) + digamma(2) - log(2) = 1 - log 2.
    assert get_validation_task("weinman").mi == pytest.approx(1.0 - math.log(2.0), rel=1e-12)
    assert get_validation_task("disk").mi == pytest.approx(0.1447298858494, abs=1e-12)
    assert get_validation_task("diagonal-blocks").mi == pytest.approx(math.log(5.0), rel=1e-12)


@pytest.mark.parametrize("name", ["half-cube", "sinh", "normal-cdf"])
def test_monotone_tasks_are_maps_of_the_gaussian(name: str) -> None:
    # Same seed: the same underlying normal pair, so identical ranks.
    gx, gy = get_validation_task("gaussian").sample(500, random_state=12)
    x, y = get_validation_task(name).sample(500, random_state=12)
    np.testing.assert_array_equal(np.argsort(gx), np.argsort(x))
    np.testing.assert_array_equal(np.argsort(gy), np.argsort(y))


def test_get_validation_task_errors() -> None:
    with pytest.raises(ValueError, match="Did you mean 'student-t'"):
        get_validation_task("student_t")
    with pytest.raises(ValueError, match="valid names are gaussian"):
        get_validation_task("nope")
    with pytest.raises(TypeError, match="name must be a str"):
        get_validation_task(1)


def test_gaussian_mixture_entropy_helper_matches_closed_form() -> None:
    # A one-component "mixture" has h = 0.5 log(2 pi e s^2).
    from bayes_gmm_mi._tasks import _gaussian_mixture_entropy

    h = _gaussian_mixture_entropy([1.0], [3.0], [0.7])
    assert h == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 0.49), abs=1e-10)
    # Two far-apart equal components: h = log 2 + Gaussian entropy.
    h = _gaussian_mixture_entropy([0.5, 0.5], [-100.0, 100.0], [1.0, 1.0])
    assert h == pytest.approx(math.log(2) + 0.5 * math.log(2 * math.pi * math.e), abs=1e-10)
