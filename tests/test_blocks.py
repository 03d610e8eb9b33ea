"""Blocks of up to 32 columns in all: known answers, the limit, the two linear-algebra paths.

Known answers only: the MI of Gaussian blocks with given canonical correlations
(``-1/2 Σ log(1 - ρ²)``), the conditional MI and the entropy of Gaussians from
their log-determinants. Gaussian data give K = 1, which the selection reaches
on its own here (the rows support no more than a few components at D = 16-32).
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import _em, _linalg
from bayes_gmm_mi._pipeline import memory
from bayes_gmm_mi._pipeline.select import max_supported_components, n_parameters
from bayes_gmm_mi._validation import MAX_DIMENSIONS
from bayes_gmm_mi.datasets import CanonicalGaussian
from bayes_gmm_mi.exceptions import MisspecificationWarning

#: Quick settings for the known answers: one representation, a short bootstrap,
#: fewer Monte Carlo points (MC error ≈ 0.005 nats).
FAST = dict(transform=None, n_bootstrap=8, mc_samples=20_000, random_state=0)


def _spd(rng: np.random.Generator, shape: tuple[int, ...], d: int) -> np.ndarray:
    a = rng.normal(size=shape + (d, d))
    return a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(d)


def _logdet(cov: np.ndarray, idx: list[int]) -> float:
    return float(np.linalg.slogdet(cov[np.ix_(idx, idx)])[1])


# --------------------------------------------------------------- linear algebra
@pytest.mark.parametrize("d", [2, 3, 5, 8, 12])
def test_general_and_unrolled_algebra_agree(d):
    rng = np.random.default_rng(d)
    spd = jnp.asarray(_spd(rng, (3, 4), d), jnp.float32)
    low_u = _linalg._cholesky_unrolled(spd, 1e-12)
    low_g = _linalg._cholesky_general(spd, 1e-12)
    scale = float(jnp.max(jnp.abs(low_u)))
    np.testing.assert_allclose(low_g, low_u, rtol=0, atol=2e-5 * scale)
    np.testing.assert_allclose(low_g, np.linalg.cholesky(np.asarray(spd, np.float64)),
                               rtol=0, atol=2e-5 * scale)
    inv_u = _linalg._inv_lower_unrolled(low_g)
    inv_g = _linalg._inv_lower_general(low_g)
    np.testing.assert_allclose(inv_g, inv_u, rtol=0, atol=2e-5 * float(jnp.max(jnp.abs(inv_u))))
    assert np.allclose(np.triu(np.asarray(low_g), 1), 0.0)
    assert np.allclose(np.triu(np.asarray(inv_g), 1), 0.0)


def test_general_path_is_chosen_above_the_crossover():
    assert _linalg.unrolled(_linalg.UNROLL_MAX_DIM)
    assert not _linalg.unrolled(_linalg.UNROLL_MAX_DIM + 1)
    assert not _linalg.unrolled(_linalg.UNROLL_MAX_DIM_EM + 1, em=True)
    rng = np.random.default_rng(0)
    cov = _spd(rng, (5,), 32)
    low, prec = (np.asarray(m, np.float64)
                 for m in _linalg.precision_cholesky(jnp.asarray(cov, jnp.float32)))
    np.testing.assert_allclose(low @ np.swapaxes(low, -1, -2), cov, rtol=1e-4,
                               atol=1e-4 * np.abs(cov).max())
    # P Pᵀ = Σ⁻¹, checked as Σ P Pᵀ = I (Σ⁻¹ itself is ill-conditioned in float32).
    np.testing.assert_allclose(cov @ prec @ np.swapaxes(prec, -1, -2),
                               np.broadcast_to(np.eye(32), cov.shape), atol=2e-2)


@pytest.mark.parametrize("d", [4, 12, 32])
def test_singular_and_indefinite_matrices_give_finite_factors(d):
    ones = np.ones((d, d))                                   # rank 1
    zero = np.zeros((d, d))
    indefinite = np.eye(d) - 2.0 * np.eye(d)[::-1]           # eigenvalues -1 and 3
    stack = jnp.asarray(np.stack([ones, zero, indefinite]), jnp.float32)
    for low, prec in (_linalg.precision_cholesky(stack),
                      (_linalg._cholesky_general(stack, 1e-12),
                       _linalg._inv_lower_general(_linalg._cholesky_general(stack, 1e-12)))):
        assert np.all(np.isfinite(np.asarray(low)))
        assert np.all(np.isfinite(np.asarray(prec)))


def test_general_em_step_and_density_agree_with_the_unrolled_ones(monkeypatch):
    rng = np.random.default_rng(1)
    d, k = 5, 3
    x = jnp.asarray(rng.normal(size=(300, d)), jnp.float32)
    means = jnp.asarray(rng.normal(size=(k, d)), jnp.float32)
    cov = jnp.asarray(_spd(rng, (k,), d), jnp.float32)
    resp = jax.nn.softmax(jnp.asarray(rng.normal(size=(300, k)), jnp.float32), axis=1)
    weight = jnp.asarray(rng.poisson(1.0, 300), jnp.float32)
    prev = _em.GMMParams(jnp.full((k,), 1 / k), means, cov)
    out = {}
    for path, limit in (("unrolled", 99), ("general", 0)):
        monkeypatch.setattr(_linalg, "UNROLL_MAX_DIM_EM", limit)
        out[path] = (_em.component_log_prob(x, means, cov),
                     _em._m_step(x, weight, resp, prev, 1e-6))
    np.testing.assert_allclose(out["general"][0], out["unrolled"][0], rtol=1e-5, atol=1e-4)
    for a, b in zip(out["general"][1], out["unrolled"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ known answers
def test_mi_of_8_plus_8_gaussian_blocks():
    task = CanonicalGaussian(rhos=(0.8, 0.6, 0.4), dx=8, dy=8)
    x, y = task.sample(1500, random_state=0)
    truth = -0.5 * sum(math.log(1 - r * r) for r in (0.8, 0.6, 0.4))
    assert task.mi == pytest.approx(truth)
    res = bm.mutual_information(x, y, **FAST)
    assert res.n_components == 1                  # 1500 rows support 1 component at D = 16
    # Sampling sd ≈ 0.035 and bias ≈ dx·dy/(2n) = 0.021 nats at n = 1500.
    assert res.mean == pytest.approx(truth, abs=0.12)
    lo, hi = res.interval(0.95)
    assert lo < res.mean < hi and hi - lo < 0.3


@pytest.mark.slow
def test_mi_of_16_plus_16_gaussian_blocks():
    task = CanonicalGaussian(rhos=(0.9, 0.7, 0.5, 0.3), dx=16, dy=16)
    x, y = task.sample(3000, random_state=1)
    res = bm.mutual_information(x, y, **FAST)
    assert res.n_components == 1                  # 3000 rows support 1 component at D = 32
    # The plug-in bias ≈ dx·dy/(2n) = 0.043 nats at n = 3000 (sampling sd ≈ 0.03) is
    # estimated by the bootstrap and removed from the draws: the interval holds the truth
    # (the percentile interval of the raw replicates is about 0.085 too high).
    assert np.all(res.info["bias_correction"] == pytest.approx(-0.043, abs=0.015))
    low, high = res.interval(0.95)
    assert low <= task.mi <= high


def test_conditional_mi_of_gaussian_blocks():
    # (x, y, z) = w M with w standard normal: x, y depend on z and, given z,
    # on each other through a shared noise; the truth from log-determinants.
    rng = np.random.default_rng(3)
    dx, dy, dz = 4, 4, 8
    d = dx + dy + dz
    m = np.zeros((d + dx, d))                     # latent (z, e_x, e_y, e_shared) -> (x, y, z)
    m[:dz, dx + dy:] = np.eye(dz)
    m[:dz, :dx + dy] = 0.4 * rng.normal(size=(dz, dx + dy))
    m[dz:dz + dx, :dx] = np.eye(dx)
    m[dz + dx:dz + dx + dy, dx:dx + dy] = np.eye(dy)
    m[dz + dx + dy:, :dx] = 0.8 * np.eye(dx)
    m[dz + dx + dy:, dx:dx + dy] = 0.8 * np.eye(dy)[:dx]
    cov = m.T @ m
    xs, ys, zs = list(range(dx)), list(range(dx, dx + dy)), list(range(dx + dy, d))
    truth = 0.5 * (_logdet(cov, xs + zs) + _logdet(cov, ys + zs) - _logdet(cov, zs)
                   - _logdet(cov, xs + ys + zs))
    w = rng.normal(size=(1500, d + dx))
    data = w @ m
    res = bm.conditional_mutual_information(data[:, :dx], data[:, dx:dx + dy], data[:, dx + dy:],
                                            **FAST)
    # Given z, x_i and y_i share 0.8·e_shared_i: correlation 0.64 / 1.64 for 4 pairs.
    rho = 0.64 / 1.64
    assert truth == pytest.approx(-2.0 * math.log(1 - rho * rho), rel=1e-9)   # 0.330 nats
    assert res.mean == pytest.approx(truth, abs=0.08)


def test_entropy_of_a_16_dimensional_gaussian():
    rng = np.random.default_rng(4)
    d = 16
    a = rng.normal(size=(d, d)) / math.sqrt(d)
    cov = a @ a.T + 0.5 * np.eye(d)
    truth = 0.5 * (d * math.log(2 * math.pi * math.e) + np.linalg.slogdet(cov)[1])
    x = rng.multivariate_normal(np.zeros(d), cov, size=1500)
    res = bm.entropy(x, **{k: v for k, v in FAST.items() if k != "transform"})
    # sd ≈ ½·sqrt(2D/n) = 0.073 nats and bias ≈ -D(D+1)/(4n) = -0.045 at n = 1500.
    assert res.n_components == 1
    assert res.mean == pytest.approx(truth, abs=0.3)


# ------------------------------------------------------------ the limit and K
def test_more_than_32_columns_are_refused_with_the_reason():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 20)), rng.normal(size=(300, 13))
    assert MAX_DIMENSIONS == 32
    with pytest.raises(ValueError, match=r"33 columns in all \(20 \+ 13\); the mixture kernels "
                                         r"support at most 32, because .*\(561 at D = 32\)") as info:
        bm.mutual_information(x, y)
    assert "\n" not in str(info.value) and "Reduce the dimension" in str(info.value)
    with pytest.raises(ValueError, match=r"x has 33 columns; .* at most 32, because"):
        bm.mutual_information(np.column_stack([x, y]), rng.integers(0, 2, 300),
                              discrete_y=True)
    with pytest.raises(ValueError, match=r"at most 32"):
        bm.conditional_mutual_information(x, y[:, :6], y[:, 6:])


def test_component_limit_follows_the_parameter_count():
    assert n_parameters(1, 32) == 560 and n_parameters(2, 2) == 11
    # ROWS_PER_PARAMETER = 5 rows per parameter of a component (D + D(D+1)/2 + 1).
    np.testing.assert_array_equal(max_supported_components(np.array([5000, 2804, 2805]), 32),
                                  [1, 0, 1])
    assert int(max_supported_components(5000, 16)) == 6
    assert int(max_supported_components(5000, 2)) == 166


def test_rows_that_support_no_component_warn_and_fit_one():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))   # D = 10: 330 rows needed
    with pytest.warns(MisspecificationWarning, match=r"300 rows are fewer than the 330 that one "
                                                     r"Gaussian in 10 dimension\(s\) needs"):
        res = bm.mutual_information(x, y, transform=None, n_bootstrap=0, mc_samples=2000,
                                    random_state=0)
    assert res.n_components == 1


def test_memory_check_counts_the_dimension_and_the_guide():
    small = memory.needs(rows=5000, dim=2, k_pad=8, mc_samples=100_000, n_bootstrap=50)
    large = memory.needs(rows=5000, dim=32, k_pad=8, mc_samples=100_000, n_bootstrap=50)
    assert sum(n.nbytes for n in large) > 5 * sum(n.nbytes for n in small)
    guide = memory.needs(rows=5000, dim=32, k_pad=64, vi_guide=True)
    with pytest.raises(memory.MemoryLimitError, match=r"variational guide \(35_903 × 35_903"):
        memory.check(guide, "mutual_information()")
    # The defaults at D = 32 stay far below the limit, for every method.
    for vi in (False, True):
        request = memory.needs(rows=5000, dim=32, data_sets=2, k_pad=8, mc_samples=100_000,
                               n_bootstrap=50, draws=2000, vi_guide=vi)
        assert sum(n.nbytes for n in request) < memory.DEFAULT_MEMORY_LIMIT / 2


# ------------------------------------------------------------ posterior methods
@pytest.mark.slow
@pytest.mark.parametrize("dx", [16])
def test_vi_and_mcmc_run_on_blocks(dx):
    task = CanonicalGaussian(rhos=(0.8, 0.6), dx=dx, dy=dx)
    x, y = task.sample(1500 if dx == 8 else 3000, random_state=2)
    quick = dict(transform=None, mc_samples=2000, random_state=0, n_components=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # short chains: ESS warnings
        vi = bm.mutual_information(x, y, method="vi", svi_steps=200, num_samples=100, **quick)
        mc = bm.mutual_information(x, y, method="mcmc", num_chains=1, num_warmup=30,
                                   num_samples=30, **quick)
    for res in (vi, mc):
        draws = np.asarray(res.draws)
        assert np.all(np.isfinite(draws)) and draws.size >= 30
        # Short runs: only a loose check (bias ≈ dx²/(2n) + the prior's pull).
        assert res.mean == pytest.approx(task.mi, abs=0.35)
