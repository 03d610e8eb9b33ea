"""The mixture as a NumPyro model: identity with EM, site conversions, priors."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from numpyro import handlers

from bayes_gmm_mi import GMMMI, _em, datasets
from bayes_gmm_mi._em import GMMParams
from bayes_gmm_mi.model import (
    GaussianMixture,
    Priors,
    active_components,
    gmm_model,
    log_likelihood,
    params_to_sites,
    sites_to_params,
)


@pytest.fixture(scope="module")
def fitted():
    x, y = datasets.GammaExponential().sample(1500, random_state=0)
    est = GMMMI(n_components=3, random_state=0, tol=1e-7, mc_samples=1000).fit(x, y)
    return est


def _random_mixture(rng, k, d):
    a = rng.normal(size=(k, d, d))
    cov = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(d)
    w = rng.uniform(0.2, 1.0, k)
    return GMMParams(w / w.sum(), rng.normal(size=(k, d)), cov)


# ------------------------------------------------------- the mixture density
@jax.jit
def _ours_and_reference_log_prob(weights, means, chol, x):
    """Our mixture's log-density and an independent reference's: NumPyro's
    MixtureSameFamily of MultivariateNormal. In one compiled program: run op by
    op, each of their few dozen operations would be compiled on its own (seconds)."""
    ours = GaussianMixture(weights, means, chol)
    ref = dist.MixtureSameFamily(
        dist.Categorical(probs=weights),
        dist.MultivariateNormal(means, scale_tril=chol),
    )
    return ours.log_prob(x), ref.log_prob(x)


@pytest.mark.parametrize("k, d", [(1, 1), (3, 2), (4, 3)])
def test_gaussian_mixture_matches_numpyro_reference(k, d):
    rng = np.random.default_rng(k * 10 + d)
    p = _random_mixture(rng, k, d)
    chol = np.linalg.cholesky(p.covariances)
    x = rng.normal(size=(50, d)) * 2.0
    args = [jnp.asarray(a, jnp.float32) for a in (p.weights, p.means, chol, x)]
    ours, ref = _ours_and_reference_log_prob(*args)
    assert ours.shape == (50,)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert GaussianMixture(*args[:3]).event_shape == (d,)


def test_gaussian_mixture_samples_have_the_mixture_moments():
    rng = np.random.default_rng(0)
    p = _random_mixture(rng, 3, 2)
    chol = np.linalg.cholesky(p.covariances)
    mix = GaussianMixture(jnp.asarray(p.weights), jnp.asarray(p.means), jnp.asarray(chol))
    draws = np.asarray(mix.sample(jax.random.key(0), (200_000,)))
    mean = p.weights @ p.means
    second = np.einsum("k,kij->ij", p.weights,
                       p.covariances + np.einsum("ki,kj->kij", p.means, p.means))
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(draws.T), second - np.outer(mean, mean), atol=0.06)


# ---------------------------------------------------------------- identity
def test_model_likelihood_equals_em_lower_bound(fitted):
    est = fitted
    params = active_components(est._fitted.mixture())
    assert params.weights.shape == (3,)
    rows = np.asarray(est._fitted.data.x[0])[est._fitted.data.rows[0] > 0]
    assert rows.shape == (1500, 2)
    total = float(log_likelihood(rows, params_to_sites(params)))
    assert total / rows.shape[0] == pytest.approx(est.lower_bound_, rel=1e-4)


def test_weighted_model_likelihood_equals_em_weighted_mean(fitted):
    est = fitted
    x_pad = np.asarray(est._fitted.data.x[0])
    n = int(est._fitted.data.rows[0].sum())
    rng = np.random.default_rng(7)
    counts = np.zeros(x_pad.shape[0], np.float32)
    counts[:n] = rng.multinomial(n, np.full(n, 1.0 / n))
    assert (counts == 0).sum() > x_pad.shape[0] - n  # padding plus rows not drawn
    params = active_components(est._fitted.mixture())
    model_total = float(log_likelihood(x_pad, params_to_sites(params), sample_weight=counts))
    # Independent code path: EM's own per-row log-density on the padded params.
    em_mean = float(_em.weighted_mean_log_likelihood(jnp.asarray(x_pad), jnp.asarray(counts),
                                                     est._fitted.mixture()))
    assert model_total / counts.sum() == pytest.approx(em_mean, rel=1e-4)
    # The weights matter: unweighted on the real rows differs.
    plain = float(log_likelihood(x_pad[:n], params_to_sites(params))) / n
    assert plain != pytest.approx(em_mean, rel=1e-6)


def test_zero_weight_rows_do_not_count(rng):
    params = _random_mixture(rng, 2, 2)
    x = rng.normal(size=(50, 2)).astype(np.float32)
    junk = np.full((10, 2), 1e3, np.float32)  # would dominate if counted
    w = np.r_[np.ones(50), np.zeros(10)].astype(np.float32)
    sites = params_to_sites(params)
    padded = log_likelihood(np.r_[x, junk], sites, sample_weight=w)
    assert np.isfinite(float(padded))
    assert float(padded) == pytest.approx(float(log_likelihood(x, sites)), rel=1e-5)
    # Integer weights are multiplicities: same as repeating rows.
    w2 = np.r_[np.full(50, 2.0), np.zeros(10)].astype(np.float32)
    doubled = log_likelihood(np.r_[x, junk], sites, sample_weight=w2)
    assert float(doubled) == pytest.approx(float(log_likelihood(np.r_[x, x], sites)), rel=1e-5)


def test_model_likelihood_matches_scipy(rng):
    from scipy.stats import multivariate_normal

    params = _random_mixture(rng, 3, 2)
    x = rng.normal(size=(40, 2))
    dens = sum(
        params.weights[j] * multivariate_normal(params.means[j], params.covariances[j]).pdf(x)
        for j in range(3)
    )
    assert float(log_likelihood(x.astype(np.float32), params)) == pytest.approx(
        np.log(dens).sum(), rel=1e-5
    )


def test_log_density_applies_the_weights(rng):
    """SVI/MCMC see the weights: NumPyro's joint log-density uses scale and mask."""
    from numpyro.infer.util import log_density

    params = _random_mixture(rng, 2, 2)
    sites = params_to_sites(params)
    x = rng.normal(size=(30, 2)).astype(np.float32)
    w = rng.integers(0, 3, 30).astype(np.float32)
    joint = jax.jit(lambda s, w: log_density(gmm_model, (x, 2, Priors(), w), {}, s)[0])
    ld_w, ld_1 = joint(sites, w), joint(sites, None)
    lp = _em.log_likelihood(jnp.asarray(x), GMMParams(*(jnp.asarray(a, jnp.float32) for a in params)))
    expected = float(ld_1) - float(jnp.sum(lp)) + float(jnp.sum(w * lp))
    assert float(ld_w) == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------- conversions
def test_params_to_sites_round_trip(fitted, rng):
    params = active_components(fitted._fitted.mixture())
    sites = params_to_sites(params)
    assert set(sites) == {"weights", "means", "scales", "corr_chol"}
    back = sites_to_params(sites)
    np.testing.assert_allclose(back.covariances, params.covariances, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.means, params.means)
    np.testing.assert_allclose(back.weights, params.weights, rtol=1e-6)
    # Correlation factors are valid: lower triangular, unit-norm rows, positive diagonal.
    corr = np.asarray(sites["corr_chol"])
    np.testing.assert_allclose(np.triu(corr, 1), 0.0)
    np.testing.assert_allclose(np.linalg.norm(corr, axis=-1), 1.0, rtol=1e-6)
    assert np.all(np.diagonal(corr, axis1=-2, axis2=-1) > 0)
    # And in higher dimension, by hand.
    p3 = _random_mixture(rng, 4, 3)
    s3 = params_to_sites(p3)
    chol = np.asarray(s3["scales"])[..., :, None] * np.asarray(s3["corr_chol"])
    np.testing.assert_allclose(chol @ np.swapaxes(chol, -1, -2), p3.covariances, rtol=1e-5, atol=1e-6)


def test_active_components_drops_padding(fitted):
    assert np.asarray(fitted._fitted.mixture().weights).shape == (fitted._fitted.fits.weights.shape[1],)
    active = active_components(fitted._fitted.mixture())
    assert active.means.shape == (3, 2) and active.covariances.shape == (3, 2, 2)
    assert np.all(active.weights > 0)
    assert float(np.sum(active.weights)) == pytest.approx(1.0, abs=1e-6)


def test_params_to_sites_rejects_zero_weight(fitted):
    with pytest.raises(ValueError, match="positive.*active_components"):
        params_to_sites(fitted._fitted.mixture())
    with pytest.raises(ValueError, match="no component"):
        active_components(GMMParams(np.zeros(2), np.zeros((2, 2)), np.tile(np.eye(2), (2, 1, 1))))


def test_params_to_sites_rejects_bad_covariance():
    cov = np.array([[[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="positive definite"):
        params_to_sites(GMMParams(np.ones(1), np.zeros((1, 2)), cov))


# ------------------------------------------------------------------- model
def test_prior_trace_shapes():
    x = np.zeros((20, 2), np.float32)
    tr = handlers.trace(handlers.seed(gmm_model, jax.random.key(0))).get_trace(x, 3)
    tr = {name: {**site, "value": np.asarray(site["value"])} for name, site in tr.items()}
    assert tr["weights"]["value"].shape == (3,)
    assert tr["means"]["value"].shape == (3, 2)
    assert tr["scales"]["value"].shape == (3, 2)
    assert tr["corr_chol"]["value"].shape == (3, 2, 2)
    assert tr["obs"]["is_observed"] and tr["obs"]["value"].shape == (20, 2)
    scales = tr["scales"]["value"]
    assert np.all(scales > 0)
    expected = dist.HalfNormal(Priors().scale_prior).log_prob(scales).sum(-1)
    np.testing.assert_allclose(tr["scales"]["fn"].log_prob(scales), expected, rtol=1e-6)
    assert float(jnp.sum(tr["weights"]["value"])) == pytest.approx(1.0, abs=1e-5)


def test_prior_predictive_samples_data():
    pred = numpyro.infer.Predictive(gmm_model, num_samples=5)
    out = pred(jax.random.key(1), None, 3, data_shape=(40, 2))
    assert out["obs"].shape == (5, 40, 2)
    assert out["corr_chol"].shape == (5, 3, 2, 2)
    assert np.all(np.isfinite(out["obs"]))
    with pytest.raises(ValueError, match="data_shape"):
        pred(jax.random.key(1), None, 3)


def test_one_dimension_has_no_correlation_site(rng):
    x = rng.normal(size=(25, 1)).astype(np.float32)
    tr = handlers.trace(handlers.seed(gmm_model, 0)).get_trace(x, 2)
    assert "corr_chol" not in tr
    params = GMMParams(np.array([0.3, 0.7]), np.array([[-1.0], [1.0]]), np.array([[[0.5]], [[2.0]]]))
    from scipy.stats import norm

    dens = 0.3 * norm(-1, np.sqrt(0.5)).pdf(x[:, 0]) + 0.7 * norm(1, np.sqrt(2.0)).pdf(x[:, 0])
    assert float(log_likelihood(x, params)) == pytest.approx(np.log(dens).sum(), rel=1e-5)


def test_model_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        handlers.seed(gmm_model, 0)(np.zeros(5), 2)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(5,\)"):
        handlers.seed(gmm_model, 0)(np.zeros((5, 2)), 2, sample_weight=np.ones(4))


@pytest.mark.slow
def test_nuts_from_em_solution_runs(rng):
    from numpyro.infer import MCMC, NUTS, init_to_value

    x = np.r_[rng.normal(-2, 0.5, (150, 2)), rng.normal(2, 0.7, (150, 2))].astype(np.float32)
    params = GMMParams(
        np.array([0.5, 0.5]),
        np.array([[-2.0, -2.0], [2.0, 2.0]]),
        np.stack([0.25 * np.eye(2), 0.49 * np.eye(2)]),
    )
    kernel = NUTS(gmm_model, init_strategy=init_to_value(values=params_to_sites(params)))
    mcmc = MCMC(kernel, num_warmup=100, num_samples=100, num_chains=1, progress_bar=False)
    mcmc.run(jax.random.key(0), x, 2)
    draws = mcmc.get_samples()
    assert draws["means"].shape == (100, 2, 2)
    for value in draws.values():
        assert np.all(np.isfinite(value))
    # Started in a well-separated mode, the chain stays there (no label switch).
    np.testing.assert_allclose(np.mean(draws["means"], axis=0), params.means, atol=0.3)


# ------------------------------------------------------------------ priors
def test_priors_defaults_and_frozen():
    p = Priors()
    assert (p.weight_concentration, p.mean_scale, p.scale_prior, p.lkj_concentration) == (
        2.0, 3.0, 2.5, 2.0,
    )
    with pytest.raises(AttributeError):
        p.mean_scale = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "field, value",
    [
        ("weight_concentration", 0.0),
        ("mean_scale", -1.0),
        ("scale_prior", float("inf")),
        ("lkj_concentration", float("nan")),
        ("mean_scale", "3"),
        ("scale_prior", True),
    ],
)
def test_priors_validation(field, value):
    with pytest.raises(ValueError, match=rf"Priors\.{field} must be a positive finite real number; got"):
        Priors(**{field: value})


def test_priors_change_the_prior_density():
    sites = params_to_sites(GMMParams(np.array([0.4, 0.6]), np.zeros((2, 2)), np.tile(np.eye(2), (2, 1, 1))))
    from numpyro.infer.util import log_density

    x = np.zeros((3, 2), np.float32)
    a, _ = log_density(gmm_model, (x, 2, Priors()), {}, sites)
    b, _ = log_density(gmm_model, (x, 2, Priors(scale_prior=0.5)), {}, sites)
    assert float(a) != pytest.approx(float(b))
