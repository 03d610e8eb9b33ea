"""transform="auto": two representations of the same rows, one honest estimate.

Known answers only: the closed-form MI of a bivariate Gaussian, MI = 0 of
independent columns, the exact MI of the uniform-noise pair; and the paired
bootstrap arithmetic of the agreement check on synthetic draws.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import GMMMI, MisspecificationWarning, datasets
from bayes_gmm_mi._pipeline import models

RHO = 0.6
TRUE_GAUSSIAN = -0.5 * math.log(1 - RHO**2)


@pytest.fixture(scope="module")
def gaussian():
    return datasets.BivariateGaussian(RHO).sample(2000, random_state=0)


def test_auto_pools_both_representations_without_warning_on_a_gaussian(gaussian):
    x, y = gaussian
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a clean call on clean data warns nothing
        est = GMMMI(random_state=0, n_bootstrap=30).fit(x, y)
        res = est.estimate_mi()
    assert est.representations_ == ("data", "rank")
    assert set(est.mi_by_representation_) == {"data", "rank"}
    for value in est.mi_by_representation_.values():
        assert abs(value - TRUE_GAUSSIAN) < 0.03
    # The point estimate is the primary (data-coordinates) fit; the draws are
    # both representations' replicates, the first third the primary's, then the
    # primary's moved to the MI of its fit at a larger K (the choice of K).
    assert res.point_estimate == pytest.approx(est.mi_by_representation_["data"])
    assert res.draws.shape == (90,) and res.n_chains == 3 and res.n_models == 3
    reps = res.info["representations"]
    np.testing.assert_allclose(res.draws[:30], reps["data"]["draws"])
    np.testing.assert_allclose(res.draws[30:60], reps["rank"]["draws"])
    larger = res.info["larger_k"]
    k = est.n_components_
    assert larger["n_components"] == max(k + 2, math.ceil(1.5 * k))
    np.testing.assert_allclose(res.draws[60:], reps["data"]["draws"] + larger["difference"],
                               rtol=1e-6)
    # A Gaussian needs one component: more components barely move its MI.
    assert abs(larger["difference"]) < 0.01
    assert not res.info["agreement"]["disagree"]
    low, high = res.interval(0.95)
    assert low <= TRUE_GAUSSIAN <= high


def test_one_representation_when_asked(gaussian):
    x, y = gaussian
    for transform, name in ((None, "data"), ("rank", "rank")):
        est = GMMMI(random_state=0, n_bootstrap=10, transform=transform).fit(x, y)
        res = est.estimate_mi()
        assert est.representations_ == (name,)
        assert res.draws.shape == (10,) and "agreement" not in res.info
        assert "larger_k" not in res.info and res.n_models == 1   # one model, as asked
    # The primary fit of "auto" is the transform=None fit (one data set in a batch
    # of two against a batch of one: equal up to float32 EM noise, far below the
    # Monte Carlo error of 2e-3 and any change of K).
    auto = GMMMI(random_state=0, n_bootstrap=0).fit(x, y)
    data = GMMMI(random_state=0, n_bootstrap=0, transform=None).fit(x, y)
    assert auto.mi_ == pytest.approx(data.mi_, abs=1e-4)
    assert auto.n_components_ == data.n_components_


def test_independent_uniforms_are_consistent_with_zero_and_flagged():
    rng = np.random.default_rng(1)
    u, v = rng.uniform(size=(2, 2000))
    with pytest.warns(MisspecificationWarning, match="normal scores") as caught:
        res = bm.mutual_information(u, v, random_state=0)
    # The data coordinates alone (the default before issue 14, the same fits): a
    # confident, wrong dependence.
    assert np.quantile(res.info["representations"]["data"]["draws"], 0.025) > 0.01
    # The warning points at this file (the caller's line), not into the package.
    assert {w.filename for w in caught if w.category is MisspecificationWarning} == {__file__}
    assert res.info["agreement"]["disagree"]
    assert res.interval(0.95)[0] <= max(res.mc_error, 1e-3)


def test_uniform_noise_pair_is_covered_at_2000_rows_by_default():
    task = datasets.get_validation_task("uniform-noise")
    x, y = task.sample(2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MisspecificationWarning)
        res = bm.mutual_information(x, y, random_state=0)
    low, high = res.interval(0.95)
    assert low <= task.mi <= high


def test_entropy_fits_the_data_coordinates_only(gaussian):
    x, _ = gaussian
    auto = bm.entropy(x, random_state=0, n_bootstrap=5)
    none = bm.entropy(x, random_state=0, n_bootstrap=5, transform=None)
    assert "representations" not in auto.info and auto.draws.shape == (5,)
    np.testing.assert_allclose(auto.draws, none.draws, atol=1e-6)


def test_kl_auto_fits_both_representations_with_pooled_ranks(gaussian):
    x, y = gaussian
    kl = bm.kl_divergence(x, y, random_state=0, n_bootstrap=5)
    assert set(kl.info["representations"]) == {"data", "rank"} and kl.draws.shape == (10,)
    # x and y have the same distribution here: both fits read about 0.
    for rep in kl.info["representations"].values():
        assert abs(rep["mi"]) < 0.02


@pytest.mark.slow
def test_variational_draws_pool_the_representations_as_chains(gaussian):
    x, y = gaussian
    est = GMMMI(n_components=1, random_state=0, num_samples=200, svi_steps=300).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisspecificationWarning)
        res = est.estimate_mi(method="vi")
    assert res.n_chains == 2 and res.draws.shape == (400,)
    assert res.parameters is None and res.sample_stats is None
    # Each representation's posterior draws are centred on its EM fit and widened
    # about it to the bootstrap's spread (never narrowed); the unshifted draws, the
    # shifts and the scales are kept.
    scale = res.info["posterior_scale"]
    assert scale.shape == (2,) and np.all(scale >= 1.0)
    assert np.all(scale < 1.6)   # a Gaussian: the posterior matches the sampling spread
    fits = np.repeat([est.mi_by_representation_["data"], est.mi_by_representation_["rank"]], 200)
    for half, name in ((slice(0, 200), "data"), (slice(200, 400), "rank")):
        assert np.median(res.draws[half]) == pytest.approx(est.mi_by_representation_[name],
                                                           abs=1e-9)
    centred = res.info["posterior_draws"] + np.repeat(res.info["centring_shift"], 200)
    np.testing.assert_allclose(fits + np.repeat(scale, 200) * (centred - fits), res.draws)
    for rep in res.info["representations"].values():
        assert rep["parameters"]["means"].shape[:2] == (1, 200)
        assert abs(np.mean(rep["draws"]) - TRUE_GAUSSIAN) < 0.03
    assert res.to_arviz().posterior["mi"].shape == (2, 200)


def test_posterior_spread_is_calibrated_to_the_bootstrap_never_narrowed():
    rng = np.random.default_rng(0)
    fits = np.array([0.5, 0.2])
    values = fits[:, None] + rng.normal(0.0, 0.01, size=(2, 4000))
    replicates = fits[:, None] + np.stack([rng.normal(0.0, 0.03, 2000),
                                           rng.normal(0.0, 0.005, 2000)])
    out, scale = models.calibrate_spread(values, fits, replicates)
    assert scale[0] == pytest.approx(3.0, rel=0.05) and scale[1] == 1.0
    assert np.std(out[0]) == pytest.approx(0.03, rel=0.05)
    np.testing.assert_allclose(out[1], values[1])
    np.testing.assert_allclose(np.median(out, axis=1), np.median(values, axis=1), atol=1e-3)


class TestAgreementCheck:
    """The arithmetic of models.check_agreement on synthetic draws."""

    def _draws(self, shift: float, paired: bool) -> np.ndarray:
        rng = np.random.default_rng(0)
        common = rng.normal(0.3, 0.02, 400)
        other = common + rng.normal(0, 0.002, 400) if paired else rng.normal(0.3, 0.02, 400)
        return np.stack([common, other + shift])

    def test_paired_replicates_detect_a_material_shift(self):
        draws = self._draws(-0.05, paired=True)
        fits = np.array([0.3, 0.25])
        with pytest.warns(MisspecificationWarning, match="standard errors apart"):
            out = models.check_agreement(("data", "rank"), fits, np.zeros(2), draws,
                                         paired=True, units="nat", factor=1.0)
        # sd of the paired difference ~0.002; 0.05 is 2.5 sd of the draws themselves.
        assert out["disagree"] and out["z"] > 10 and out["difference"] == pytest.approx(0.05)
        assert out["shift"] == pytest.approx(2.5, rel=0.15)

    def test_a_resolved_but_small_shift_does_not_warn(self):
        # 0.01 is ~5 sd of the paired difference, but half an sd of either estimate:
        # the pooled interval is barely wider, so there is nothing to warn about.
        draws = self._draws(-0.01, paired=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = models.check_agreement(("data", "rank"), np.array([0.3, 0.29]), np.zeros(2),
                                         draws, paired=True, units="nat", factor=1.0)
        assert out["z"] > 3 and out["shift"] < 1 and not out["disagree"]

    def test_independent_posteriors_need_a_larger_shift(self):
        draws = self._draws(-0.01, paired=False)
        fits = np.array([0.3, 0.29])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = models.check_agreement(("data", "rank"), fits, np.zeros(2), draws,
                                         paired=False, units="nat", factor=1.0)
        # sd of the difference sqrt(2) * 0.02: 0.01 is 0.35 of it.
        assert not out["disagree"] and out["z"] == pytest.approx(0.01 / (0.02 * math.sqrt(2)),
                                                                 rel=0.15)

    def test_monte_carlo_error_counts_in_the_difference(self):
        draws = self._draws(-0.05, paired=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = models.check_agreement(("data", "rank"), np.array([0.3, 0.25]),
                                         np.array([0.02, 0.02]), draws, paired=True,
                                         units="nat", factor=1.0)
        assert out["z"] < 3 and not out["disagree"]

    def test_pool_stacks_the_representations_as_chains(self):
        values = np.arange(12.0).reshape(2, 6)            # 2 representations x 3 chains x 2
        pooled, n_chains = models.pool(values, 3)
        assert n_chains == 6
        np.testing.assert_array_equal(pooled.reshape(6, 2)[3], [6.0, 7.0])

    def test_merge_keeps_the_worst_diagnostics(self):
        merged = models.merge_diagnostics([{"r_hat": 1.001, "ess_bulk": 900, "divergences": 0},
                                           {"r_hat": 1.02, "ess_bulk": 300, "divergences": 0}])
        assert merged == {"r_hat": 1.02, "ess_bulk": 300, "divergences": 0}


# ------------------------------------------------------------------ categorical y
def test_categorical_auto_pools_and_shares_the_class_frequencies():
    task = datasets.get_validation_task("categorical")
    x, labels = task.sample(1500, random_state=0)
    est = bm.GMMCategoricalMI(random_state=0, n_components=1, num_samples=100, svi_steps=300)
    est.fit(x, labels)
    assert est.representations_ == ("data", "rank")
    assert est.mi_ == pytest.approx(est.mi_by_representation_["data"])
    boot = est.estimate_mi(n_bootstrap=20)
    assert boot.draws.shape == (40,) and boot.n_chains == 2
    low, high = boot.interval(0.95)
    assert low <= task.mi <= high
    vi = est.estimate_mi(method="vi")
    reps = vi.info["representations"]
    # One Dirichlet draw of the class frequencies serves both representations.
    np.testing.assert_array_equal(reps["data"]["parameters"]["class_frequencies"],
                                  reps["rank"]["parameters"]["class_frequencies"])
    assert vi.draws.shape == (200,)


# ------------------------------------------------------------------------ mi_matrix
def test_mi_matrix_auto_reads_zero_for_independent_uniform_columns():
    rng = np.random.default_rng(0)
    n = 2000
    import pandas as pd

    table = pd.DataFrame({"u1": rng.uniform(size=n), "u2": rng.uniform(size=n)})
    table["g"] = 0.8 * table["u1"] + 0.2 * rng.normal(size=n)
    with pytest.warns(MisspecificationWarning, match="cells"):
        new = bm.mi_matrix(table, n_bootstrap=10, random_state=0)
    cell = {"x": "u1", "y": "u2"}
    # The data coordinates alone (the default before issue 14): the independent
    # uniforms read a dependence well above 0.
    data_fit = new.info["point_by_representation"]["data"]     # (x, y) in the matrix's order
    xs, ys = list(new.point_estimate.coords["x"].values), list(new.point_estimate.coords["y"].values)
    i, j = xs.index("u1"), ys.index("u2")
    assert float(data_fit[i, j]) > 0.01
    assert float(new.interval(0.95)[0].sel(cell)) <= 2e-3
    assert new.draws.sizes["draw"] == 30 and new.n_models == 3
    assert ("u1", "u2") in new.info["disagree"]
    # The dependent pair agrees in both representations.
    assert ("u1", "g") not in new.info["disagree"]


# --------------------------------------------------------------------------- ties
def test_ties_get_distinct_normal_scores_and_a_discrete_column_is_refused():
    from bayes_gmm_mi._validation import gaussianise_ranks

    values = np.array([[1.0], [2.0], [2.0], [2.0], [3.0]])
    scores = gaussianise_ranks(values)[:, 0]
    assert len(np.unique(scores)) == 5                     # ties broken, not averaged
    assert scores[0] < scores[1:4].min() and scores[1:4].max() < scores[4]
    np.testing.assert_array_equal(scores, gaussianise_ranks(values)[:, 0])  # deterministic
    rng = np.random.default_rng(0)
    likert = rng.integers(1, 6, 500).astype(float)
    with pytest.raises(ValueError, match="5 distinct values in 500 rows"):
        bm.mutual_information(likert, rng.normal(size=500), n_bootstrap=0, random_state=0)


def test_the_interval_is_the_union_of_the_models_intervals():
    from bayes_gmm_mi import MIResult

    rng = np.random.default_rng(0)
    a, b = rng.normal(0.2, 0.01, 400), rng.normal(0.3, 0.01, 400)
    res = MIResult(point_estimate=0.2, draws=np.concatenate([a, b]), units="nat",
                   n_components=1, method="bootstrap", mc_error=0.0, n_samples=1000,
                   n_chains=2, n_models=2)
    low, high = res.interval(0.95)
    assert low == pytest.approx(np.percentile(a, 2.5))
    assert high == pytest.approx(np.percentile(b, 97.5))
    # One model: the ordinary central percentile interval of the draws.
    one = MIResult(point_estimate=0.2, draws=a, units="nat", n_components=1,
                   method="bootstrap", mc_error=0.0, n_samples=1000)
    assert one.interval(0.68) == pytest.approx(tuple(np.percentile(a, [16, 84])))
    with pytest.raises(ValueError, match="n_models=2"):
        MIResult(point_estimate=0.2, draws=a, units="nat", n_components=1,
                 method="bootstrap", mc_error=0.0, n_samples=1000, n_models=2)


def test_larger_k_rule():
    # max(k + patience, ceil(1.5 k)), within what the rows support; None when none is larger.
    assert models.larger_components(1, 2, 50) == 3
    assert models.larger_components(6, 2, 50) == 9
    assert models.larger_components(8, 1, 50) == 12
    assert models.larger_components(8, 2, 10) == 10
    assert models.larger_components(5, 2, 5) is None


def test_with_larger_k_moves_a_copy_of_the_primary_draws():
    values = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    out = models.with_larger_k(values, 0.2, 0.25)
    np.testing.assert_allclose(out, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.15, 0.25, 0.35]])
    low, high = models.union_interval(out.reshape(-1), 3, 0.5)
    assert low == pytest.approx(0.15) and high == pytest.approx(0.55)


def test_uniform_disk_interval_covers_the_exact_mi_through_the_choice_of_k():
    # The uniform disk (MI = log(pi) - 1): the held-out score chooses K = 7 here and
    # the fit reads 0.107; without the larger-K fit the 95 % interval ended at 0.1436,
    # below the truth 0.1447 (calibration data set 9; the same miss on 4 of 19 data
    # sets at N = 1000, docs/validation.md section 11).
    from studies.calibration.study import sample_dataset

    truth = datasets.get_validation_task("disk").mi
    x, y = sample_dataset("disk", 1000, 9)
    res = bm.mutual_information(x, y, random_state=1009)
    assert res.info["larger_k"]["n_components"] > res.n_components
    assert res.info["larger_k"]["difference"] > 0.01       # more components, more MI
    low, high = res.interval(0.95)
    assert low <= truth <= high


def test_mi_matrix_cells_span_their_larger_k_fit():
    # A uniform disk (more components: more MI, the truth log(pi) - 1 above the
    # cross-validated fit) and a Gaussian pair (more components: the same MI).
    import pandas as pd

    from studies.calibration.study import sample_dataset

    x, y = sample_dataset("disk", 1000, 9)
    g, h = datasets.BivariateGaussian(RHO).sample(1000, random_state=1)
    res = bm.mi_matrix(pd.DataFrame({"x": x, "g": g}), pd.DataFrame({"y": y, "h": h}),
                       n_bootstrap=20, random_state=0)
    assert res.n_models == 3 and res.draws.sizes["draw"] == 60
    point = res.point_estimate.values
    larger = res.info["larger_k_point"]
    draws = res.draws.transpose("x", "y", "draw").values
    np.testing.assert_allclose(draws[..., 40:], draws[..., :20] - point[..., None]
                               + larger[..., None], rtol=1e-5, atol=1e-7)
    assert larger[0, 0] > point[0, 0] + 0.005                 # disk: x, y
    assert abs(larger[1, 1] - point[1, 1]) < 0.01              # Gaussian: g, h
    low, high = (q.values for q in res.interval(0.95))
    assert low[0, 0] <= datasets.get_validation_task("disk").mi <= high[0, 0]
    assert low[1, 1] <= TRUE_GAUSSIAN <= high[1, 1]


def test_a_fixed_k_adds_no_larger_k_model():
    # The user chose K: there is no choice of K to span.
    import pandas as pd

    x, y = datasets.BivariateGaussian(RHO).sample(400, random_state=2)
    res = bm.mutual_information(x, y, n_components=2, n_bootstrap=5, random_state=0)
    assert res.n_models == 2 and "larger_k" not in res.info
    m = bm.mi_matrix(pd.DataFrame({"x": x, "y": y}), n_components=2, n_bootstrap=5,
                     random_state=0)
    assert m.n_models == 2 and "larger_k_point" not in m.info
