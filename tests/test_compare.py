"""compare(): the bootstrap-vs-Bayesian table, from results with known draws."""

import math

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import MIResult


def _result(draws, method="bootstrap", n_chains=1, units="nat", **info):
    point = float(np.median(draws)) if np.size(draws) else 0.4
    return MIResult(point_estimate=point, draws=np.asarray(draws),
                    units=units, n_components=2, method=method, mc_error=1e-3,
                    n_samples=500, info=info, n_chains=n_chains, wall_time=1.5)


def _shortest_interval(draws, prob):
    """Independent HDI: the shortest window holding ceil(prob * n) sorted draws."""
    s = np.sort(draws)
    m = int(math.floor(prob * s.size))
    widths = s[m:] - s[: s.size - m]
    i = int(np.argmin(widths))
    return s[i], s[i + m]


@pytest.fixture()
def results():
    rng = np.random.default_rng(0)
    boot = _result(rng.normal(0.40, 0.02, 200))
    vi = _result(rng.normal(0.41, 0.03, 400), method="vi")
    mcmc = _result(rng.gamma(20.0, 0.02, 800), method="mcmc", n_chains=4,
                   r_hat=1.003, ess_bulk=750.0, divergences=0)
    return boot, vi, mcmc


def test_one_row_per_result_with_the_right_numbers(results):
    table = bm.compare(list(results), prob=0.9, interval="percentile", truth=0.42)
    assert list(table.index) == ["bootstrap", "vi", "mcmc"]
    for (_, row), res in zip(table.iterrows(), results):
        assert row["mean"] == pytest.approx(res.draws.mean())
        assert row["sd"] == pytest.approx(res.draws.std(ddof=1))
        lo, hi = np.percentile(res.draws, [5, 95])
        assert (row["lower"], row["upper"]) == pytest.approx((lo, hi))
        assert row["covers"] == (lo <= 0.42 <= hi)
        assert row["error"] == pytest.approx(res.draws.mean() - 0.42)
        assert row["n_draws"] == res.draws.size and row["wall_time_s"] == 1.5
    assert table.loc["mcmc", "r_hat"] == 1.003 and table.loc["mcmc", "ess_bulk"] == 750.0
    assert np.isnan(table.loc["bootstrap", "r_hat"]) and np.isnan(table.loc["vi", "ess_bulk"])
    assert table.attrs == {"prob": 0.9, "interval": "percentile", "units": "nat"}


def test_hdi_is_the_shortest_interval(results):
    table = bm.compare(results[2], prob=0.8)  # skewed gamma draws: HDI != percentiles
    lo, hi = _shortest_interval(results[2].draws, 0.8)
    assert table.loc["mcmc", "lower"] == pytest.approx(lo, abs=2e-3)
    assert table.loc["mcmc", "upper"] == pytest.approx(hi, abs=2e-3)
    width = table.loc["mcmc", "upper"] - table.loc["mcmc", "lower"]
    p_lo, p_hi = np.percentile(results[2].draws, [10, 90])
    assert width <= (p_hi - p_lo) + 1e-9


def test_dict_names_rows_and_duplicates_are_numbered(results):
    boot, vi, _ = results
    assert list(bm.compare({"freq": boot, "bayes": vi}).index) == ["freq", "bayes"]
    assert list(bm.compare([boot, boot]).index) == ["bootstrap", "bootstrap#2"]


def test_no_draws_gives_nan_interval():
    table = bm.compare([_result(np.empty(0))], truth=0.3)
    assert np.isnan(table.iloc[0]["lower"]) and not table.iloc[0]["covers"]


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda r: bm.compare([]), ValueError, "at least one MIResult"),
        (lambda r: bm.compare([r[0], 0.4]), TypeError, "takes MIResult objects.*got float"),
        (lambda r: bm.compare(r, prob=1.5), ValueError, r"prob must be a number in \(0, 1\); got 1.5"),
        (lambda r: bm.compare(r, interval="eti"), ValueError, "interval must be 'hdi' or 'percentile'; got 'eti'"),
        (lambda r: bm.compare([r[0], _result(np.ones(3), units="bit")]), ValueError, "different units"),
    ],
)
def test_bad_input(results, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(results)


def test_result_chains_and_validation():
    r = _result(np.arange(12.0), method="mcmc", n_chains=3)
    assert r.chains.shape == (3, 4)
    np.testing.assert_array_equal(r.chains[1], [4, 5, 6, 7])
    with pytest.raises(ValueError, match="n_chains=5 equal chains"):
        _result(np.arange(12.0), n_chains=5)


def test_to_arviz_of_a_bootstrap_result_is_one_chain():
    r = _result(np.linspace(0.3, 0.5, 30))
    idata = r.to_arviz()
    assert idata.posterior["mi"].shape == (1, 30)
    assert idata.posterior.attrs["method"] == "bootstrap"
    with pytest.raises(ValueError, match="no draws to convert"):
        _result(np.empty(0)).to_arviz()
