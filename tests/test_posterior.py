"""Posterior inference (NUTS, SVI) on the mixture model and MI per draw."""

import math

import jax
import numpy as np
import pytest
from numpyro.diagnostics import split_gelman_rubin

from bayes_gmm_mi import GMMMI, datasets
from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi._posterior import run_nuts, run_svi

TRUE_MI = -0.5 * math.log(1.0 - 0.36)

def _state(est):
    """(padded standardised data, row weights, EM fit) of a fitted GMMMI."""
    fitted = est._fitted
    return fitted.data.x[0], fitted.data.rows[0], fitted.mixture()


def mi_of_draws(draws, est):
    """MI (chain, draw) of sampler draws, integrated with the estimator's base samples."""
    from bayes_gmm_mi._bayes import draws_to_params
    from bayes_gmm_mi._pipeline.integrate import integrate

    lead = draws["weights"].shape[:2]
    sites = {name: draws[name] for name in ("weights", "means", "scales", "corr_chol")
             if name in draws}
    mi, _ = integrate(draws_to_params(sites), est._terms, est._base)
    return mi.reshape(lead)



@pytest.fixture(scope="module")
def gaussian_fit():
    x, y = datasets.BivariateGaussian(0.6).sample(2000, random_state=0)
    return GMMMI(n_components=1, random_state=0, n_bootstrap=0).fit(x, y)


def _check_draws(draws, chains, samples, k, d):
    assert draws["weights"].shape == (chains, samples, k)
    assert draws["means"].shape == (chains, samples, k, d)
    assert draws["scales"].shape == (chains, samples, k, d)
    assert draws["corr_chol"].shape == (chains, samples, k, d, d)
    np.testing.assert_allclose(draws["weights"].sum(-1), 1.0, atol=1e-5)
    assert np.all(draws["scales"] > 0)


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs, name, value",
    [
        (dict(num_warmup=10, num_samples=0, num_chains=2), "num_samples", "0"),
        (dict(num_warmup=10, num_samples=10, num_chains=0), "num_chains", "0"),
        (dict(num_warmup=0, num_samples=10, num_chains=2), "num_warmup", "0"),
        (dict(num_warmup=10, num_samples=2.5, num_chains=2), "num_samples", "2.5"),
        (dict(num_warmup=10, num_samples=True, num_chains=2), "num_samples", "True"),
    ],
)
def test_run_nuts_rejects_bad_counts(gaussian_fit, kwargs, name, value):
    est = gaussian_fit
    with pytest.raises(ValueError, match=name) as info:
        run_nuts(*_state(est), rng_key=jax.random.PRNGKey(0), **kwargs)
    assert value in str(info.value)


@pytest.mark.parametrize(
    "kwargs, name, value",
    [
        (dict(num_steps=10, num_samples=0), "num_samples", "0"),
        (dict(num_steps=0, num_samples=10), "num_steps", "0"),
        (dict(num_steps=10, num_samples=10, learning_rate=-1.0), "learning_rate", "-1.0"),
    ],
)
def test_run_svi_rejects_bad_arguments(gaussian_fit, kwargs, name, value):
    est = gaussian_fit
    with pytest.raises(ValueError, match=name) as info:
        run_svi(*_state(est), rng_key=jax.random.PRNGKey(0), **kwargs)
    assert value in str(info.value)


def test_rejects_all_zero_weights(gaussian_fit):
    est = gaussian_fit
    with pytest.raises(ValueError, match="no positive"):
        x_pad, rows, fit = _state(est)
        run_svi(x_pad, np.zeros_like(rows), fit, num_steps=5, num_samples=5,
                rng_key=jax.random.PRNGKey(0))


# ------------------------------------------------------------- draws_to_params
def test_draws_to_params_keeps_the_chain_and_draw_order():
    from bayes_gmm_mi._bayes import draws_to_params

    rng = np.random.default_rng(0)
    chains, samples, k, d = 3, 7, 2, 2
    w = rng.dirichlet(np.ones(k), size=(chains, samples)).astype(np.float32)
    means = rng.normal(size=(chains, samples, k, d)).astype(np.float32)
    scales = rng.uniform(0.5, 2.0, size=(chains, samples, k, d)).astype(np.float32)
    draws = {
        "weights": w,
        "means": means,
        "scales": scales,
        "corr_chol": np.broadcast_to(np.eye(d, dtype=np.float32), (chains, samples, k, d, d)),
    }
    params = draws_to_params(draws)
    assert isinstance(params, GMMParams)
    assert params.covariances.shape == (chains * samples, k, d, d)
    np.testing.assert_allclose(params.weights.reshape(chains, samples, k), w)
    np.testing.assert_allclose(params.means.reshape(chains, samples, k, d), means)
    np.testing.assert_allclose(
        np.diagonal(params.covariances, axis1=-2, axis2=-1).reshape(chains, samples, k, d),
        scales**2, rtol=1e-5)


# -------------------------------------------------------------------- samplers
@pytest.mark.slow  # ~4 s: compiling the SVI program dominates
def test_svi_shapes_and_loss(gaussian_fit):
    est = gaussian_fit
    draws = run_svi(*_state(est), num_steps=50, num_samples=20,
                    rng_key=jax.random.PRNGKey(0))
    _check_draws(draws, 1, 20, 1, 2)
    assert draws["loss"].shape == (50,)
    assert np.all(np.isfinite(draws["loss"]))


@pytest.mark.slow  # compiles the SVI program unless another test did
def test_svi_divergence_raises_floating_point_error(gaussian_fit, monkeypatch):
    import bayes_gmm_mi._posterior as post

    est = gaussian_fit
    real_program = post._svi_program

    def nan_program(*args, **kwargs):
        losses, draws = real_program(*args, **kwargs)
        return losses.at[-1].set(np.nan), draws

    monkeypatch.setattr(post, "_svi_program", nan_program)
    with pytest.raises(FloatingPointError, match="learning_rate"):
        run_svi(*_state(est), num_steps=5, num_samples=5,
                rng_key=jax.random.PRNGKey(0))


@pytest.mark.slow
def test_svi_loss_decreases(gaussian_fit):
    est = gaussian_fit
    draws = run_svi(*_state(est), num_steps=300, num_samples=5,
                    rng_key=jax.random.PRNGKey(0), learning_rate=0.05)
    # The guide starts at scale 0.1, far wider than this posterior: the ELBO improves.
    assert draws["loss"][-50:].mean() < draws["loss"][:50].mean()


@pytest.mark.slow
def test_second_call_reuses_compiled_programs(gaussian_fit):
    import bayes_gmm_mi._posterior as post

    est = gaussian_fit
    kw = dict(rng_key=jax.random.PRNGKey(3))
    run_svi(*_state(est), num_steps=7, num_samples=3, **kw)
    run_nuts(*_state(est), num_warmup=3, num_samples=2, num_chains=2, **kw)
    before = dict(post.TRACE_COUNTS)
    # Same shapes and settings, other key, learning rate, jitter and chain count.
    other = jax.random.PRNGKey(4)
    svi = run_svi(*_state(est), num_steps=7, num_samples=3, rng_key=other,
                  learning_rate=0.02)
    nuts = run_nuts(*_state(est), num_warmup=3, num_samples=2, num_chains=3,
                    rng_key=other, jitter=0.05)
    assert post.TRACE_COUNTS == before
    assert svi["loss"].shape == (7,)
    _check_draws(nuts, 3, 2, 1, 2)
    # A new setting compiles a new program.
    run_svi(*_state(est), num_steps=8, num_samples=3, **kw)
    assert post.TRACE_COUNTS["svi"] == before["svi"] + 1


@pytest.mark.slow
def test_nuts_posterior_mi_covers_truth(gaussian_fit):
    est = gaussian_fit
    draws = run_nuts(*_state(est), num_warmup=200, num_samples=200,
                     num_chains=4, rng_key=jax.random.PRNGKey(0))
    _check_draws(draws, 4, 200, 1, 2)
    for stat in ("diverging", "num_steps", "tree_depth"):
        assert draws[stat].shape == (4, 200)
    assert draws["diverging"].dtype == bool
    assert not draws["diverging"].any()

    mi = mi_of_draws(draws, est)
    assert mi.shape == (4, 200)
    assert abs(mi.mean() - TRUE_MI) < 0.03
    lo, hi = np.quantile(mi, [0.025, 0.975])
    assert lo < TRUE_MI < hi
    assert float(split_gelman_rubin(mi)) < 1.05


@pytest.mark.slow
def test_svi_posterior_mi_covers_truth(gaussian_fit):
    est = gaussian_fit
    draws = run_svi(*_state(est), num_steps=1000, num_samples=1000,
                    rng_key=jax.random.PRNGKey(1))
    mi = mi_of_draws(draws, est)
    assert mi.shape == (1, 1000)
    assert abs(mi.mean() - TRUE_MI) < 0.03
    lo, hi = np.quantile(mi, [0.025, 0.975])
    assert lo < TRUE_MI < hi
