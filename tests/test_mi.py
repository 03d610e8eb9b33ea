"""MI integrals of a fitted mixture against closed forms and each other."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from bayes_gmm_mi._batching import pad_to_capacity
from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi._mi import (
    functional_difference_batch,
    functional_monte_carlo_batch,
    mi_quadrature_batch,
    mi_terms,
    sample_mixture,
)

S = 50_000


def _mi_mc(params, n, z, u):
    """Monte Carlo MI of a batch of 2-D mixtures (X = the first column)."""
    return functional_monte_carlo_batch(params, n, z, u, mi_terms(1, 2))


def _base(seed=0, d=2):
    rng = np.random.default_rng(seed)
    return (jnp.asarray(rng.standard_normal((S, d)), jnp.float32),
            jnp.asarray(rng.random(S), jnp.float32))


def _batch(*params):
    stacked = GMMParams(*(np.stack([np.asarray(getattr(p, f), np.float32) for p in params])
                          for f in GMMParams._fields))
    return pad_to_capacity(stacked), len(params)


def _gaussian(rho):
    return GMMParams(np.array([1.0, 0.0, 0.0]), np.zeros((3, 2)),
                     np.array([[[1.0, rho], [rho, 1.0]], np.eye(2), np.eye(2)]))


MIXTURE = GMMParams(np.array([0.3, 0.5, 0.2]), np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 2.5]]),
                    np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.3, -0.1], [-0.1, 0.5]],
                              [[0.6, 0.0], [0.0, 0.2]]]))


def _mixture_pdf(p, x, y):
    return sum(w * stats.multivariate_normal(m, c).pdf(np.stack([x, y], -1))
               for w, m, c in zip(p.weights, p.means, p.covariances))


def _marginal_pdf(p, v, axis):
    return sum(w * stats.norm(m[axis], np.sqrt(c[axis, axis])).pdf(v)
               for w, m, c in zip(p.weights, p.means, p.covariances))


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.95])
def test_single_gaussian_matches_closed_form(rho):
    batch, n = _batch(_gaussian(rho))
    z, u = _base()
    mi, err = _mi_mc(batch, n, z, u)
    truth = -0.5 * np.log(1 - rho**2)
    assert abs(float(mi[0]) - truth) < 4 * float(err[0]) + 1e-6
    assert float(mi_quadrature_batch(batch, n)[0]) == pytest.approx(truth, abs=1e-5)


def test_mixture_mc_and_quadrature_agree_with_direct_integration():
    """Truth: p log(p / (px py)) of the analytic densities on a fine grid (Simpson)."""
    gx = np.linspace(-7, 7, 1401)
    gy = np.linspace(-6, 7.5, 1351)
    xx, yy = np.meshgrid(gx, gy, indexing="ij")
    p = _mixture_pdf(MIXTURE, xx, yy)
    px = _marginal_pdf(MIXTURE, gx, 0)[:, None]
    py = _marginal_pdf(MIXTURE, gy, 1)[None, :]
    f = np.where(p > 0, p * np.log(np.maximum(p, 1e-300) / (px * py)), 0.0)
    truth = integrate.simpson(integrate.simpson(f, x=gy, axis=1), x=gx)
    batch, n = _batch(MIXTURE)
    z, u = _base()
    mi, err = _mi_mc(batch, n, z, u)
    assert abs(float(mi[0]) - truth) < 4 * float(err[0])
    assert float(mi_quadrature_batch(batch, n)[0]) == pytest.approx(truth, abs=2e-4)


def test_common_random_numbers_and_batch_independence():
    batch, n = _batch(MIXTURE, _gaussian(0.5), MIXTURE)
    z, u = _base()
    mi, _ = _mi_mc(batch, n, z, u)
    assert float(mi[0]) == float(mi[2])  # same mixture, same base samples: same number
    alone, _ = _mi_mc(_batch(_gaussian(0.5))[0], 1, z, u)
    assert float(alone[0]) == pytest.approx(float(mi[1]), abs=1e-6)


def test_sampling_reproduces_mixture_moments():
    z, u = _base(3)
    pts = np.asarray(sample_mixture(jax.tree.map(jnp.asarray, GMMParams(
        *(np.asarray(a, np.float32) for a in MIXTURE))), z, u), np.float64)
    w, m, c = MIXTURE
    mean = w @ m
    second = sum(wi * (ci + np.outer(mi, mi)) for wi, mi, ci in zip(w, m, c))
    np.testing.assert_allclose(pts.mean(0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(pts.T, bias=True), second - np.outer(mean, mean), atol=0.05)


def test_zero_weight_components_are_never_sampled():
    p = GMMParams(np.array([0.0, 1.0, 0.0], np.float32),
                  np.array([[100.0, 100.0], [0.0, 0.0], [-100.0, -100.0]], np.float32),
                  np.broadcast_to(np.eye(2, dtype=np.float32), (3, 2, 2)))
    z, u = _base()
    pts = np.asarray(sample_mixture(p, z, u))
    assert np.abs(pts).max() < 10


def test_compacting_padded_components_changes_no_integral():
    """The estimator integrates only active components; padding must not matter."""
    from bayes_gmm_mi._pipeline.mixtures import compact as _compact

    padded = GMMParams(np.array([0.0, 0.3, 0.0, 0.5, 0.2, 0.0], np.float32),
                       np.concatenate([np.zeros((1, 2)), MIXTURE.means[:1], np.ones((1, 2)),
                                       MIXTURE.means[1:], np.zeros((1, 2))]).astype(np.float32),
                       np.concatenate([np.eye(2)[None], MIXTURE.covariances[:1], np.eye(2)[None],
                                       MIXTURE.covariances[1:], np.eye(2)[None]]).astype(np.float32))
    batch = jax.tree.map(lambda a: a[None], padded)
    small = _compact(batch)
    assert small.weights.shape == (1, 4)  # three active components → bucket of 4
    np.testing.assert_allclose(np.sort(small.weights[0]), [0.0, 0.2, 0.3, 0.5], atol=1e-7)
    full_q = mi_quadrature_batch(pad_to_capacity(batch), 1)[0]
    small_q = mi_quadrature_batch(pad_to_capacity(small), 1)[0]
    assert float(small_q) == pytest.approx(float(full_q), abs=1e-6)


def _gauss_mi(rho):
    return -0.5 * np.log(1.0 - rho**2)


def test_difference_to_a_reference_matches_closed_forms():
    """Gaussians near a reference: MI(ρ') − MI(ρ) from the closed form, within 4 stated se."""
    z = _base(7)[0][:4000]
    ref = GMMParams(*(np.asarray(a, np.float32) for a in _gaussian(0.6)))
    rhos = [0.6, 0.55, 0.62, 0.7]
    batch, n = _batch(*[_gaussian(r) for r in rhos])
    diff, err = functional_difference_batch(batch, ref, n, z, mi_terms(1, 2))
    diff, err = np.asarray(diff)[:n], np.asarray(err)[:n]
    truth = np.array([_gauss_mi(r) - _gauss_mi(0.6) for r in rhos])
    assert abs(diff[0]) < 1e-6 and err[0] < 1e-6  # the reference itself: no difference
    assert np.all(np.abs(diff - truth) < 4 * err + 1e-6), (diff, truth, err)
    # Stratified common random numbers: 4000 base points give the difference to
    # better than 0.003 nats (a full integral of each would need ~10^5 points).
    assert np.all(err[1:] < 3e-3)


def test_difference_of_a_perturbed_mixture_matches_direct_integration():
    """Reference value (quadrature) + the MC difference = the member's quadrature value."""
    rng = np.random.default_rng(1)
    w = MIXTURE.weights * np.exp(0.05 * rng.standard_normal(3))
    member = GMMParams(w / w.sum(), MIXTURE.means + 0.05 * rng.standard_normal((3, 2)),
                       MIXTURE.covariances * 1.05)
    batch, n = _batch(member, MIXTURE)
    truth = np.asarray(mi_quadrature_batch(batch, n))[:n]
    ref = GMMParams(*(np.asarray(a, np.float32) for a in MIXTURE))
    z = _base(11)[0][:4000]
    diff, err = functional_difference_batch(batch, ref, n, z, mi_terms(1, 2))
    assert abs(float(diff[0]) - (truth[0] - truth[1])) < 4 * float(err[0]) + 2e-4
    assert abs(float(diff[1])) < 1e-6
