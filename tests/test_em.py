"""The weighted EM kernel against scikit-learn and against its own invariances."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from bayes_gmm_mi import _em
from bayes_gmm_mi._em import GMMParams, fit_em, initialise, log_likelihood


def _three_clusters(rng, n=900):
    centres = np.array([[-3.0, 0.0], [0.0, 3.0], [3.0, -1.0]])
    covs = [np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([[0.5, 0.0], [0.0, 0.3]]),
            np.array([[0.8, -0.3], [-0.3, 0.6]])]
    parts = [rng.multivariate_normal(c, s, size=n // 3) for c, s in zip(centres, covs)]
    return np.concatenate(parts).astype(np.float32)


@jax.jit
def _fit_em(x, w, p0, tol, max_iter):
    return fit_em(x, w, p0, 1e-6, tol, max_iter)


@jax.jit(static_argnames=("k_pad", "init"))
def _init(key, x, w, k, k_pad, init):
    return initialise(key, x, w, k, k_pad, init, 1e-6)


def _fit(x, weights, k, k_pad=8, init="kmeans", seed=0, tol=1e-6):
    x = jnp.asarray(x)
    w = jnp.asarray(weights, jnp.float32)
    return _fit_em(x, w, _init(jax.random.key(seed), x, w, k, k_pad, init), tol, 2000)


def test_log_likelihood_equals_sklearn_score_samples(rng):
    x = _three_clusters(rng)
    gm = GaussianMixture(3, random_state=0).fit(x)
    params = GMMParams(jnp.asarray(gm.weights_, jnp.float32), jnp.asarray(gm.means_, jnp.float32),
                       jnp.asarray(gm.covariances_, jnp.float32))
    ours = np.asarray(log_likelihood(jnp.asarray(x), params))
    np.testing.assert_allclose(ours, gm.score_samples(x), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("init", _em.INIT_METHODS)
def test_em_reaches_sklearn_optimum(rng, init):
    x = _three_clusters(rng)
    gm = GaussianMixture(3, tol=1e-8, reg_covar=1e-6, n_init=5, random_state=0).fit(x)
    best = max(float(_fit(x, np.ones(len(x)), 3, init=init, seed=s).log_lik) for s in range(3))
    assert best == pytest.approx(gm.score(x), abs=2e-4)


def test_padding_components_and_rows_change_nothing(rng):
    x = _three_clusters(rng)
    a = _fit(x, np.ones(len(x)), 3, k_pad=3)
    padded = np.concatenate([x, rng.normal(50.0, 1.0, size=(100, 2)).astype(np.float32)])
    w = np.concatenate([np.ones(len(x)), np.zeros(100)])
    b = _fit(padded, w, 3, k_pad=8)
    assert float(b.log_lik) == pytest.approx(float(a.log_lik), abs=1e-5)
    assert np.sum(np.asarray(b.params.weights) > 0) == 3


def test_count_weights_equal_duplicated_rows(rng):
    """A bootstrap replicate as weights is the same fit as the resampled data."""
    x = _three_clusters(rng, n=300)
    counts = rng.multinomial(len(x), np.full(len(x), 1 / len(x))).astype(np.float32)
    start = _fit(x, np.ones(len(x)), 3).params
    weighted = _fit_em(jnp.asarray(x), jnp.asarray(counts), start, 1e-7, 500)
    dup = np.repeat(x, counts.astype(int), axis=0)
    repeated = _fit_em(jnp.asarray(dup), jnp.ones(len(dup)), start, 1e-7, 500)
    np.testing.assert_allclose(weighted.params.means, repeated.params.means, atol=2e-4)
    np.testing.assert_allclose(weighted.params.covariances, repeated.params.covariances, atol=2e-4)
    assert float(weighted.log_lik) == pytest.approx(float(repeated.log_lik), abs=1e-5)


def test_degenerate_data_gives_finite_fit(rng):
    """Three distinct x values: components collapse onto lines; no NaN, no error."""
    x = np.column_stack([rng.integers(0, 3, 600), rng.normal(size=600)]).astype(np.float32)
    res = _fit(x, np.ones(len(x)), 6)
    assert np.isfinite(float(res.log_lik))
    assert np.all(np.isfinite(np.asarray(res.params.covariances)))


def test_empty_component_is_dropped_and_counted():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(200, 2)), jnp.float32)
    w = jnp.ones(200)
    far = GMMParams(jnp.asarray([0.5, 0.5, 0.0]), jnp.asarray([[0.0, 0.0], [1e4, 1e4], [0.0, 0.0]]),
                    jnp.broadcast_to(jnp.eye(2) * 1e-3, (3, 2, 2)))
    res = _fit_em(x, w, far, 1e-6, 100)
    assert int(res.n_dropped) == 1
    assert np.isfinite(float(res.log_lik))
    np.testing.assert_allclose(np.asarray(res.params.weights), [1.0, 0.0, 0.0], atol=1e-6)


def test_fit_batch_members_match_single_fits(rng):
    """The fixed-capacity batch returns what one fit per member returns."""
    x = _three_clusters(rng, n=300)
    from bayes_gmm_mi._batching import pad_to_capacity

    w = np.ones((3, len(x)), np.float32)
    w[1, ::2] = 0
    seeds = np.array([1, 2, 3], np.int32)
    s, tw, sw = pad_to_capacity((seeds, w, w))
    blank = GMMParams(np.zeros(8, np.float32), np.zeros((8, 2), np.float32),
                      np.broadcast_to(np.eye(2, dtype=np.float32), (8, 2, 2)))
    fits, scores = _em.fit_batch(s, jnp.asarray(x), tw, sw, 3, 3, blank, False, k_pad=8,
                                 init="kmeans", reg_covar=1e-6, tol=1e-5, max_iter=1000)
    for i in range(3):
        one = _fit(x, w[i], 3, seed=int(seeds[i]), tol=1e-5)
        assert float(fits.log_lik[i]) == pytest.approx(float(one.log_lik), abs=1e-5)
        assert float(scores[i]) == pytest.approx(float(one.log_lik), abs=1e-5)
    assert np.all(np.asarray(fits.log_lik[3:]) == 0)  # members past n_members untouched
