"""mi_matrix and the disentanglement metrics on synthetic latents with known answers."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import bayes_gmm_mi as bm  # noqa: E402
from bayes_gmm_mi.plotting import plot_mi_matrix  # noqa: E402

N = 2000


def _gauss_mi(rho2):
    return -0.5 * math.log(1.0 - rho2)


@pytest.fixture(scope="module")
def synthetic():
    """Factors f0, f1 (continuous), shape (categorical, 3 levels, unequal frequencies);
    latents: z0 = f0 + noise, z1 = f0 + f1 + noise (mixes two), z2 = pure noise,
    z3 = shape code + small noise."""
    rng = np.random.default_rng(0)
    factors = pd.DataFrame({
        "f0": rng.normal(size=N),
        "f1": rng.normal(size=N),
        "shape": pd.Categorical(rng.choice(["sq", "el", "tr"], size=N, p=[0.2, 0.3, 0.5])),
    })
    code = factors["shape"].cat.codes.to_numpy()
    latents = pd.DataFrame({
        "z0": factors.f0 + 0.5 * rng.normal(size=N),
        "z1": factors.f0 + factors.f1 + 0.5 * rng.normal(size=N),
        "z2": rng.normal(size=N),
        "z3": 4.0 * code + rng.normal(size=N) * 0.3,
    })
    matrix = bm.mi_matrix(latents, factors, n_bootstrap=20, random_state=0)
    return latents, factors, matrix


def test_labels_dims_and_shapes(synthetic):
    _, _, m = synthetic
    assert m.point_estimate.dims == ("x", "y")
    assert list(m.point_estimate.coords["x"].values) == ["z0", "z1", "z2", "z3"]
    assert list(m.point_estimate.coords["y"].values) == ["f0", "f1", "shape"]
    # 20 replicates x (2 representations + the primary one moved to its larger-K fits)
    assert m.draws.shape == (4, 3, 60) and m.n_models == 3
    low, high = m.interval(0.9)
    assert low.dims == ("x", "y") and bool((low <= high).all())
    ds = m.to_dataset()
    assert {"mi_mean", "mi_std", "mi_low95", "mi_high95", "draws"} <= set(ds.data_vars)
    assert m.info["kinds"]["shape"] == "categorical" and m.info["kinds"]["f0"] == "continuous"


def test_magnitudes_match_closed_forms(synthetic):
    _, _, m = synthetic
    mean, std = m.mean(), m.std()

    def close(x, y, truth):
        value = float(mean.sel(x=x, y=y))
        assert abs(value - truth) < 4 * float(std.sel(x=x, y=y)) + 0.02, (x, y, value, truth)

    close("z0", "f0", _gauss_mi(1 / 1.25))            # ρ² = 1 / (1 + 0.25)
    close("z1", "f0", _gauss_mi(1 / 2.25))            # ρ² = 1 / (2 + 0.25)
    close("z1", "f1", _gauss_mi(1 / 2.25))
    close("z0", "f1", 0.0)
    # Separated classes (4 apart, noise 0.3): MI ≈ H(shape), the plug-in entropy.
    h_shape = m.info["entropy"]["shape"][0]
    close("z3", "shape", h_shape)
    # The pure-noise latent has MI ≈ 0 with every factor.
    assert float(mean.sel(x="z2").max()) < 0.01


def test_rankings(synthetic):
    _, _, m = synthetic
    pe = m.point_estimate.to_pandas()
    assert pe["f0"].idxmax() == "z0" and pe["f1"].idxmax() == "z1"
    assert pe["shape"].idxmax() == "z3"


def test_matches_pairwise_mutual_information(synthetic):
    # Each cell equals what the one-pair API gives at the same settings (same K choice
    # rules and MC budget); the seeds differ, so compare within the errors.
    latents, factors, m = synthetic
    single = bm.mutual_information(latents["z1"], factors["f0"], n_bootstrap=20, random_state=3)
    cell = float(m.mean().sel(x="z1", y="f0"))
    assert abs(single.mean - cell) < 3 * (single.std + float(m.std().sel(x="z1", y="f0")))


def test_mig_matches_its_closed_form():
    rng = np.random.default_rng(1)
    f = rng.normal(size=3000)
    # z_a carries f with ρ² = 0.8, z_b with ρ² = 0.5: MIG = (I_a − I_b) / log(20).
    za = f + 0.5 * rng.normal(size=3000)
    zb = f + 1.0 * rng.normal(size=3000)
    m = bm.mi_matrix(np.column_stack([za, zb]), f, n_bootstrap=30, random_state=0)
    table = bm.mig(m)
    truth = (_gauss_mi(0.8) - _gauss_mi(0.5)) / math.log(20)
    row = table.loc["b0"]
    assert abs(row["mean"] - truth) < 4 * row["std"] + 0.005
    assert row["top_latent"] == "a0" and row["second_latent"] == "a1"
    assert row["normaliser"] == pytest.approx(math.log(20))
    assert table.loc["mean", "estimate"] == pytest.approx(row["estimate"])


def test_mig_of_a_categorical_factor_uses_its_entropy(synthetic):
    _, _, m = synthetic
    table = bm.mig(m)
    h = m.info["entropy"]["shape"][0]
    assert table.loc["shape", "normaliser"] == pytest.approx(h)
    pe = m.point_estimate.to_pandas()["shape"].sort_values(ascending=False)
    assert table.loc["shape", "estimate"] == pytest.approx((pe.iloc[0] - pe.iloc[1]) / h)
    assert 0.7 < table.loc["shape", "mean"] <= 1.0


def test_modularity_and_latent_dependence(synthetic):
    latents, _, m = synthetic
    mod = bm.modularity(m)
    # z0 and z3 each carry one factor; z1 mixes f0 and f1 equally: modularity ≈ 1 − 1/2.
    assert mod.loc["z0", "estimate"] > 0.95 and mod.loc["z3", "estimate"] > 0.95
    assert abs(mod.loc["z1", "estimate"] - 0.5) < 0.1
    ll = bm.mi_matrix(latents[["z0", "z1", "z2"]], n_bootstrap=10, random_state=0)
    assert np.isnan(ll.point_estimate.values.diagonal()).all()
    np.testing.assert_allclose(ll.point_estimate.values, ll.point_estimate.values.T)
    dep = bm.latent_dependence(ll)
    # z0–z1 share f0: ρ² = 1 / (1.25 · 2.25).
    assert dep.loc["max_mi", "pair"] == "z0 – z1"
    assert abs(dep.loc["max_mi", "estimate"] - _gauss_mi(1 / (1.25 * 2.25))) < 0.03
    with pytest.raises(ValueError, match="latent × factor matrix"):
        bm.mig(ll)
    with pytest.raises(ValueError, match="latent–latent matrix"):
        bm.latent_dependence(m)


def test_same_seed_same_matrix():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(300, 3))
    one = bm.mi_matrix(a, n_bootstrap=5, random_state=4)
    two = bm.mi_matrix(a, n_bootstrap=5, random_state=4)
    np.testing.assert_array_equal(one.draws.values, two.draws.values)


def test_without_bootstrap_the_point_estimates_stand_alone():
    # n_bootstrap=0: every kind of pair still gets its point estimate (the same as
    # with draws, which do not touch the full-data fit), and no draws.
    rng = np.random.default_rng(6)
    a = pd.DataFrame(rng.normal(size=(300, 2)), columns=["p", "q"])
    a["q"] += a["p"]
    a["c"] = pd.Categorical(rng.choice(["u", "v"], size=300))
    a["d"] = pd.Categorical(rng.choice(["u", "v"], size=300))
    bare = bm.mi_matrix(a, n_bootstrap=0, random_state=0)
    drawn = bm.mi_matrix(a, n_bootstrap=3, random_state=0)
    assert bare.draws.sizes["draw"] == 0
    np.testing.assert_allclose(bare.point_estimate.values, drawn.point_estimate.values)
    np.testing.assert_array_equal(bare.mean().values, bare.point_estimate.values)
    low, high = bare.interval()
    assert np.isnan(bare.std().values).all() and np.isnan(low.values).all()
    assert np.isnan(high.values).all()


def test_pair_batches_give_the_same_numbers_as_one_batch():
    rng = np.random.default_rng(5)
    a = pd.DataFrame(rng.normal(size=(400, 3)), columns=["p", "q", "r"])
    a["q"] += a["p"]
    b = pd.DataFrame({"s": a["p"] + rng.normal(size=400),
                      "t": pd.Categorical(rng.choice(["u", "v"], size=400))})
    whole = bm.mi_matrix(a, b, n_bootstrap=4, random_state=1)
    one_by_one = bm.mi_matrix(a, b, n_bootstrap=4, random_state=1, pair_batch=1)
    # Each pair's seeds and the shared bootstrap counts do not depend on the batching;
    # only the padding of shapes can (float32 sums in another order).
    np.testing.assert_allclose(one_by_one.draws.values, whole.draws.values, atol=2e-4)
    np.testing.assert_array_equal(one_by_one.n_components.values, whole.n_components.values)


def test_heatmap(synthetic):
    _, _, m = synthetic
    fig, ax = plt.subplots()
    assert plot_mi_matrix(m, ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 12 and all("±" in t for t in texts)
    np.testing.assert_allclose(ax.images[0].get_array(), m.mean().values)
    plt.close(fig)


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda a: bm.mi_matrix(a, a[:100]), ValueError, r"column 'b0' has 100, expected 300"),
        (lambda a: bm.mi_matrix(np.column_stack([a[:, 0], np.ones(300)])), ValueError,
         r"column 'a1'.* is constant"),
        (lambda a: bm.mi_matrix(a, np.array(["x"] * 300)), ValueError, r"single level \('x'\)"),
        (lambda a: bm.mi_matrix(a[:, :1]), ValueError, r"at least two columns"),
        (lambda a: bm.mi_matrix(a, categorical=["zz"]), ValueError, r"do not exist: \['zz'\]"),
        (lambda a: bm.mi_matrix(a, n_boot=2), TypeError, r"unknown option 'n_boot'"),
        (lambda a: bm.mi_matrix(a, memory_limit=1000), MemoryError,
         r"would need about .* GiB .*smaller batches of pairs \(pair_batch=\.\.\.\)"),
    ],
)
def test_bad_input(call, exc, pattern):
    a = np.random.default_rng(0).normal(size=(300, 3))
    with pytest.raises(exc, match=pattern):
        call(a)


def test_rank_transform_removes_the_spurious_mi_of_hard_edges():
    # Independent uniform columns: the truth is 0. Their hard edges are fitted only
    # approximately by a Gaussian mixture; normal scores of the ranks have none.
    rng = np.random.default_rng(8)
    u = pd.DataFrame(rng.uniform(size=(2000, 2)), columns=["u", "v"])
    u["w"] = np.exp(u["u"] * 3)  # a monotone map of u: MI(u, w) is infinite, large here
    ranked = bm.mi_matrix(u, n_bootstrap=10, random_state=0, transform="rank")
    mean = ranked.mean().to_pandas()
    low, _ = ranked.interval(0.95)
    assert mean.loc["u", "v"] < 0.01 and low.to_pandas().loc["u", "v"] < 0.005
    assert mean.loc["u", "w"] > 1.0
    with pytest.raises(ValueError, match="transform"):
        bm.mi_matrix(u, n_bootstrap=0, transform="log")
