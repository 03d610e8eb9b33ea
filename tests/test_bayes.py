"""Posterior MI through the public API: method="vi"/"mcmc", diagnostics, bad input."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import bayes_gmm_mi as bm
from bayes_gmm_mi import GMMMI, ConvergenceWarning, DegenerateComponentWarning, datasets
from bayes_gmm_mi._arviz import group_names, import_arviz
from bayes_gmm_mi._bayes import ESS_MIN, RHAT_MAX, as_priors, warn_on_diagnostics
from bayes_gmm_mi.model import Priors

RHO = 0.6
TRUE_GAUSSIAN = -0.5 * math.log(1.0 - RHO**2)

# A 3-component mixture with clearly separated, differently correlated components.
MIX_W = np.array([0.3, 0.5, 0.2])
MIX_MU = np.array([[-3.0, -2.0], [0.0, 1.5], [3.5, -1.0]])
MIX_COV = np.array([
    [[1.0, 0.7], [0.7, 1.0]],
    [[0.8, -0.4], [-0.4, 1.2]],
    [[0.5, 0.0], [0.0, 0.6]],
])


def _mixture_sample(n, seed):
    rng = np.random.default_rng(seed)
    comp = rng.choice(3, size=n, p=MIX_W)
    chol = np.linalg.cholesky(MIX_COV)
    z = rng.standard_normal((n, 2))
    return MIX_MU[comp] + np.einsum("nij,nj->ni", chol[comp], z)


def _mixture_log_densities(points):
    """log p(x, y), log p(x), log p(y) of the 3-component mixture, with scipy."""
    joint = np.stack([
        stats.multivariate_normal(MIX_MU[k], MIX_COV[k]).logpdf(points) for k in range(3)
    ], axis=1)
    mx = np.stack([
        stats.norm(MIX_MU[k, 0], math.sqrt(MIX_COV[k, 0, 0])).logpdf(points[:, 0])
        for k in range(3)
    ], axis=1)
    my = np.stack([
        stats.norm(MIX_MU[k, 1], math.sqrt(MIX_COV[k, 1, 1])).logpdf(points[:, 1])
        for k in range(3)
    ], axis=1)
    lw = np.log(MIX_W)
    return logsumexp(joint + lw, 1), logsumexp(mx + lw, 1), logsumexp(my + lw, 1)


@pytest.fixture(scope="module")
def mixture_truth():
    """MI of the 3-component mixture by plain Monte Carlo with scipy (SE ≈ 0.002)."""
    pts = _mixture_sample(400_000, seed=12345)
    lj, lx, ly = _mixture_log_densities(pts)
    terms = lj - lx - ly
    return float(terms.mean()), float(terms.std() / math.sqrt(terms.size))


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        (dict(method="hmc"), ValueError, r"method must be one of .*'mcmc'.*got 'hmc'"),
        (dict(method="MCMC"), ValueError, r"Did you mean 'mcmc'"),
        (dict(method="mcmc", num_samples=0), ValueError, r"num_samples must be an integer ≥ 1; got 0"),
        (dict(method="mcmc", num_chains=0), ValueError, r"num_chains must be an integer ≥ 1; got 0"),
        (dict(method="mcmc", num_warmup=0), ValueError, r"num_warmup must be an integer ≥ 1; got 0"),
        (dict(method="vi", svi_steps=0), ValueError, r"svi_steps must be an integer ≥ 1; got 0"),
        (dict(method="vi", num_samples=2.5), TypeError, r"num_samples must be an integer"),
        (dict(method="vi", svi_learning_rate=-0.1), ValueError, r"svi_learning_rate must be in \(0"),
        (dict(method="vi", priors="flat"), TypeError, r"priors must be None, .*Priors.*got str"),
        (dict(method="vi", priors={"mean_sd": 1.0}), ValueError, r"unknown hyper-parameter.*mean_sd"),
        (dict(method="vi", priors={"mean_scale": -1.0}), ValueError, r"mean_scale must be a positive"),
    ],
)
def test_bad_method_settings_are_rejected_before_fitting(kwargs, exc, pattern):
    x, y = datasets.BivariateGaussian(RHO).sample(50, random_state=0)
    with pytest.raises(exc, match=pattern):
        bm.mutual_information(x, y, random_state=0, **kwargs)


def test_estimate_mi_rejects_unknown_method_after_fit():
    x, y = datasets.BivariateGaussian(RHO).sample(200, random_state=0)
    est = GMMMI(n_components=1, n_bootstrap=2, random_state=0).fit(x, y)
    with pytest.raises(ValueError, match=r"method must be one of"):
        est.estimate_mi(method="laplace")


def test_priors_accepts_dict_and_instance():
    assert as_priors(None) == Priors()
    assert as_priors({"mean_scale": 2.0}) == Priors(mean_scale=2.0)
    p = Priors(lkj_concentration=3.0)
    assert as_priors(p) is p


# ------------------------------------------------------ diagnostics → warnings
@pytest.mark.parametrize(
    "info, chains, pattern",
    [
        (dict(r_hat=1.05, ess_bulk=2000.0, divergences=0), 4, r"R-hat of the MI draws is 1\.050"),
        (dict(r_hat=1.0, ess_bulk=120.0, divergences=0), 4, r"bulk ESS of the MI draws is 120"),
        (dict(r_hat=1.0, ess_bulk=2000.0, divergences=3), 4, r"3 divergent transitions"),
        (dict(r_hat=math.nan, ess_bulk=2000.0, divergences=0), 4, r"R-hat .* nan"),
    ],
)
def test_poor_diagnostics_warn(info, chains, pattern):
    with pytest.warns(ConvergenceWarning, match=pattern):
        warn_on_diagnostics(info, chains)


def test_good_diagnostics_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_on_diagnostics(dict(r_hat=RHAT_MAX - 1e-3, ess_bulk=ESS_MIN, divergences=0), 4)
        # One chain: R-hat is not a criterion.
        warn_on_diagnostics(dict(r_hat=1.2, ess_bulk=ESS_MIN + 1, divergences=0), 1)


# ------------------------------------------------------- known answers (slow)
@pytest.fixture(scope="module")
def gaussian_results():
    x, y = datasets.BivariateGaussian(RHO).sample(2000, random_state=0)
    # One representation (transform=None): these tests check one mixture's
    # posterior, its sites and chains (transform="auto" pools two: test_representations.py).
    est = GMMMI(n_components=1, random_state=0, num_warmup=300, num_samples=300,
                transform=None).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the chains must be healthy
        out = {m: est.estimate_mi(method=m) for m in ("bootstrap", "vi", "mcmc")}
    return est, out


@pytest.mark.slow
@pytest.mark.parametrize("method", ["vi", "mcmc"])
def test_gaussian_posterior_covers_truth(gaussian_results, method):
    _, res = gaussian_results
    r = res[method]
    assert r.method == method
    assert abs(r.mean - TRUE_GAUSSIAN) < 0.02
    low, high = r.interval(0.95)
    assert low < TRUE_GAUSSIAN < high
    # The posterior spread is of the size of the sampling error of MI for a
    # Gaussian pair: sd ≈ rho^2 / sqrt(N) (delta method) ≈ 0.008 at N = 2000.
    assert 0.004 < r.std < 0.03
    # Monte Carlo error of the integral is reported separately and is small.
    assert 0 < r.mc_error < r.std


@pytest.mark.slow
def test_mcmc_result_layout_and_rhat(gaussian_results):
    _, res = gaussian_results
    r = res["mcmc"]
    assert r.n_chains == 4 and r.draws.shape == (1200,) and r.chains.shape == (4, 300)
    assert set(r.parameters) == {"weights", "means", "scales", "corr_chol"}
    assert r.parameters["means"].shape == (4, 300, 1, 2)
    assert set(r.sample_stats) == {"diverging", "tree_depth", "n_steps"}
    # R-hat on 4 chains, cross-checked with NumPyro's independent implementation.
    from numpyro.diagnostics import split_gelman_rubin

    assert abs(r.info["r_hat"] - float(split_gelman_rubin(r.chains))) < 0.01
    assert r.info["r_hat"] < RHAT_MAX and r.info["ess_bulk"] >= ESS_MIN
    assert r.info["divergences"] == 0
    # The EM point estimate is shared by every method.
    assert len({round(v.point_estimate, 12) for v in res.values()}) == 1


@pytest.mark.slow
def test_arviz_summary_runs_on_every_method(gaussian_results):
    az = import_arviz()
    _, res = gaussian_results
    for method, r in res.items():
        idata = r.to_arviz()
        post = idata.posterior
        assert post["mi"].dims == ("chain", "draw")
        assert post["mi"].shape == r.chains.shape
        np.testing.assert_allclose(post["mi"].values.ravel(), r.draws)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ArviZ warns about one-chain R-hat
            summary = az.summary(idata, var_names=["mi"])
        assert summary.loc["mi", "mean"] == pytest.approx(r.mean, abs=1e-3)
        if method == "mcmc":
            assert {"diverging", "tree_depth"} <= set(idata.sample_stats.data_vars)
            assert "means" in post and post["means"].dims == ("chain", "draw", "component", "dim")
            assert summary.loc["mi", "r_hat"] == pytest.approx(r.info["r_hat"], abs=0.01)
        if method == "bootstrap":
            assert post["mi"].shape == (1, 50)
            assert "sample_stats" not in group_names(idata)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["vi", "mcmc"])
def test_three_component_mixture_posterior_covers_truth(method, mixture_truth):
    truth, truth_se = mixture_truth
    data = _mixture_sample(2000, seed=7)
    # The data are a 3-component Gaussian mixture: the data-coordinates model is
    # exact (transform=None); "auto" would pool a misfit normal-score model.
    est = GMMMI(n_components=3, random_state=1, num_warmup=300, num_samples=300,
                transform=None)
    est.fit(data[:, 0], data[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        r = est.estimate_mi(method=method)
    low, high = r.interval(0.95)
    assert low - 3 * truth_se < truth < high + 3 * truth_se
    assert abs(r.mean - truth) < 0.05


def test_three_component_truth_agrees_with_grid_integration(mixture_truth):
    # Two independent computations of the same integral: Monte Carlo (fixture)
    # and a Riemann sum of p log(p / (p_x p_y)) on a fine grid.
    truth, se = mixture_truth
    gx, gy = np.linspace(-9.0, 9.5, 700), np.linspace(-7.0, 8.0, 700)
    xx, yy = np.meshgrid(gx, gy, indexing="ij")
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    lj, lx, ly = _mixture_log_densities(pts)
    cell = (gx[1] - gx[0]) * (gy[1] - gy[0])
    grid = float(np.sum(np.exp(lj) * (lj - lx - ly)) * cell)
    assert se < 0.003
    assert abs(grid - truth) < 4 * se + 1e-3


# --------------------------------------------------------- numerical trouble
@pytest.mark.slow
def test_too_many_components_warn_and_still_answer():
    x, y = datasets.BivariateGaussian(RHO).sample(40, random_state=3)
    est = GMMMI(n_components=12, random_state=0, svi_steps=200, num_samples=100,
                transform=None).fit(x, y)
    with pytest.warns(DegenerateComponentWarning, match="do not support that many components"):
        r = est.estimate_mi(method="vi")
    assert np.all(np.isfinite(r.draws)) and r.draws.size == 100


@pytest.mark.slow
def test_diverging_svi_gives_a_clear_error_not_nan():
    x, y = datasets.BivariateGaussian(RHO).sample(300, random_state=0)
    est = GMMMI(n_components=1, random_state=0, svi_steps=50, num_samples=20,
                svi_learning_rate=1e30).fit(x, y)
    with pytest.raises(FloatingPointError, match="svi_learning_rate|learning_rate"):
        est.estimate_mi(method="vi")
