import jax.numpy as jnp
import numpy as np
import pytest

from bayes_gmm_mi._linalg import cholesky, inv_lower, precision_cholesky


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_cholesky_matches_numpy(rng, d):
    a = rng.normal(size=(7, d, d))
    spd = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(d)
    ours = np.asarray(cholesky(jnp.asarray(spd, jnp.float32)))
    np.testing.assert_allclose(ours, np.linalg.cholesky(spd), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_inverse_and_precision_factor(rng, d):
    a = rng.normal(size=(5, d, d))
    cov = a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(d)
    low, prec = (np.asarray(m, np.float64) for m in precision_cholesky(jnp.asarray(cov, jnp.float32)))
    np.testing.assert_allclose(
        np.asarray(inv_lower(jnp.asarray(low))) @ low, np.broadcast_to(np.eye(d), low.shape), atol=1e-4
    )
    # P @ P.T is the precision matrix, and P is upper triangular.
    np.testing.assert_allclose(prec @ np.swapaxes(prec, -1, -2), np.linalg.inv(cov), rtol=1e-3, atol=1e-4)
    assert np.allclose(np.tril(prec, -1), 0.0)


def test_indefinite_matrix_gives_finite_factor():
    bad = jnp.asarray([[[1.0, 2.0], [2.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]], jnp.float32)
    low, prec = precision_cholesky(bad)
    assert np.all(np.isfinite(np.asarray(low)))
    assert np.all(np.isfinite(np.asarray(prec)))
