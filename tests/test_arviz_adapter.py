"""The ArviZ adapter gives the same containers and numbers under ArviZ 0.23 and 1.x.

Python 3.11 installs ArviZ 0.23 (``InferenceData``), Python >= 3.12 ArviZ 1.x
(``xarray.DataTree``); these tests run under whichever is installed and check the
version-specific facts for that one. No sampler runs here: the results are built
by hand, so the file takes about a second.
"""

from __future__ import annotations

import logging
import math
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

from bayes_gmm_mi import MIResult, _arviz
from bayes_gmm_mi._arviz import (
    arviz_major_version,
    group_names,
    hdi,
    import_arviz,
)
from bayes_gmm_mi._bayes import chain_diagnostics

ROOT = pathlib.Path(__file__).resolve().parents[1]

# ArviZ's estimators for the draws of `_ar_chains()`: rank-normalised split R-hat
# and bulk/tail ESS (Vehtari et al. 2021). The tests below recompute them with
# plain numpy, and compare with these values, which ArviZ 0.23.4 and ArviZ 1.3
# both give.
REFERENCE_DIAGNOSTICS = {
    "r_hat": 1.00611525601959,
    "ess_bulk": 412.08325850946244,
    "ess_tail": 809.5414101488996,
}


def _ar_chains(n_chains: int = 4, n_draws: int = 400, seed: int = 3) -> np.ndarray:
    """Autocorrelated chains (AR(1), phi = 0.6) with a small offset per chain."""
    rng = np.random.default_rng(seed)
    x = np.empty((n_chains, n_draws))
    x[:, 0] = rng.normal(size=n_chains)
    for t in range(1, n_draws):
        x[:, t] = 0.6 * x[:, t - 1] + rng.normal(size=n_chains)
    return x + 0.05 * np.arange(n_chains)[:, None]


def _z_scale(ary: np.ndarray) -> np.ndarray:
    from scipy.stats import norm, rankdata

    ranks = rankdata(ary, method="average").reshape(ary.shape)
    return norm.ppf((ranks - 0.375) / (ary.size + 0.25))


def _split(ary: np.ndarray) -> np.ndarray:
    half = ary.shape[1] // 2
    return np.vstack([ary[:, :half], ary[:, -half:]])


def _rhat_plain(ary: np.ndarray) -> float:
    n = ary.shape[1]
    between = n * np.var(ary.mean(axis=1), ddof=1)
    within = np.mean(np.var(ary, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _rhat_rank(ary: np.ndarray) -> float:
    split = _split(ary)
    folded = np.abs(split - np.median(split))
    return max(_rhat_plain(_z_scale(split)), _rhat_plain(_z_scale(folded)))


def _ess(ary: np.ndarray) -> float:
    """ESS of (chain, draw) draws, Geyer's initial monotone positive sequence."""
    m, n = ary.shape
    centred = ary - ary.mean(axis=1, keepdims=True)
    acov = np.array([np.correlate(c, c, "full")[n - 1:] / n for c in centred])
    chain_var = acov[:, 0] * n / (n - 1)
    mean_var = chain_var.mean()
    var_plus = mean_var * (n - 1) / n + (np.var(ary.mean(axis=1), ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # pairs (rho[2k] + rho[2k+1]) while positive, made monotone
    pairs = []
    for k in range(0, n - 1, 2):
        p = rho[k] + rho[k + 1]
        if p <= 0:
            break
        pairs.append(min(p, pairs[-1]) if pairs else p)
    tau = -1.0 + 2.0 * sum(pairs)
    return float(m * n / tau)


def _result(draws: np.ndarray, *, method: str = "bootstrap", n_chains: int = 1,
            parameters: dict | None = None, sample_stats: dict | None = None) -> MIResult:
    draws = np.asarray(draws, np.float64)
    return MIResult(point_estimate=float(np.median(draws)) if draws.size else 0.4, draws=draws.reshape(-1), units="nat",
                    n_components=2, method=method, mc_error=1e-3, n_samples=500,
                    n_chains=n_chains, parameters=parameters, sample_stats=sample_stats,
                    wall_time=1.0)


def _mcmc_result(n_chains: int = 4, n_draws: int = 50, k: int = 2, d: int = 2) -> MIResult:
    rng = np.random.default_rng(0)
    lead = (n_chains, n_draws)
    parameters = {
        "weights": rng.dirichlet(np.ones(k), size=lead),
        "means": rng.normal(size=lead + (k, d)),
        "scales": rng.gamma(2.0, size=lead + (k, d)),
        "corr_chol": np.broadcast_to(np.eye(d), lead + (k, d, d)).copy(),
    }
    sample_stats = {
        "diverging": np.zeros(lead, bool),
        "tree_depth": np.full(lead, 3, np.int64),
        "n_steps": np.full(lead, 7, np.int64),
    }
    draws = 0.4 + 0.02 * rng.normal(size=lead)
    return _result(draws, method="mcmc", n_chains=n_chains, parameters=parameters,
                   sample_stats=sample_stats)


def test_the_installed_arviz_is_the_one_for_this_python():
    az = import_arviz()
    major = arviz_major_version()
    assert major == (1 if sys.version_info >= (3, 12) else 0)
    if major == 0:
        assert az.__version__.startswith("0.23")


def test_mcmc_result_has_the_groups_variables_dims_and_attrs():
    res = _mcmc_result()
    data = res.to_arviz()
    if arviz_major_version() >= 1:
        import xarray as xr

        assert isinstance(data, xr.DataTree)
    else:
        assert type(data).__name__ == "InferenceData"
    assert set(group_names(data)) == {"posterior", "sample_stats"}
    post = data.posterior
    assert post["mi"].dims == ("chain", "draw")
    np.testing.assert_allclose(post["mi"].values, res.chains)
    assert post["weights"].dims == ("chain", "draw", "component")
    assert post["means"].dims == ("chain", "draw", "component", "dim")
    assert post["scales"].dims == ("chain", "draw", "component", "dim")
    assert post["corr_chol"].dims == ("chain", "draw", "component", "dim", "dim2")
    np.testing.assert_allclose(post["means"].values, res.parameters["means"])
    assert {"diverging", "tree_depth", "n_steps"} <= set(data.sample_stats.data_vars)
    assert data.sample_stats["diverging"].dims == ("chain", "draw")
    assert data.sample_stats["diverging"].dtype == bool
    for attrs in (post.attrs, data.sample_stats.attrs, data.attrs):
        assert attrs["method"] == "mcmc"
        assert attrs["units"] == "nat"
        assert attrs["n_components"] == 2 and attrs["n_samples"] == 500
        assert attrs["point_estimate"] == pytest.approx(res.point_estimate, abs=1e-12)
        assert attrs["mc_error"] == pytest.approx(1e-3, abs=1e-15)
        assert attrs["inference_library"] == "bayes_gmm_mi"


def test_categorical_class_frequencies_have_a_class_dim():
    rng = np.random.default_rng(1)
    res = _result(0.3 + 0.01 * rng.normal(size=(2, 20)), method="vi", n_chains=2,
                  parameters={"class_frequencies": rng.dirichlet(np.ones(3), size=(2, 20)),
                              "means[low]": rng.normal(size=(2, 20, 2, 1))})
    post = res.to_arviz().posterior
    assert post["class_frequencies"].dims == ("chain", "draw", "class")
    assert post["means[low]"].dims == ("chain", "draw", "component", "dim")


def test_summary_works_and_matches_the_adapter_diagnostics():
    az = import_arviz()
    res = _mcmc_result(n_draws=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = az.summary(res.to_arviz(), var_names=["mi"])
    diag = chain_diagnostics(res.chains)
    row = summary.loc["mi"]
    assert float(row["mean"]) == pytest.approx(res.mean, abs=1e-3)
    assert float(row["sd"]) == pytest.approx(res.std, rel=0.02)
    assert float(row["r_hat"]) == pytest.approx(diag["r_hat"], abs=0.01)
    assert float(row["ess_bulk"]) == pytest.approx(diag["ess_bulk"], abs=1.0)
    # The whole posterior (every mixture parameter) summarises too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant corr_chol entries
        full = az.summary(res.to_arviz())
    assert "mi" in full.index and len(full.index) > 1


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_bootstrap_result_is_one_chain_and_summarises_quietly():
    az = import_arviz()
    # 37 draws: a shape no other test summarises (ArviZ 0.23 logs a message once).
    res = _result(np.linspace(0.3, 0.5, 37))
    data = res.to_arviz()
    assert data.posterior["mi"].shape == (1, 37)
    assert data.posterior.attrs["method"] == "bootstrap"
    assert group_names(data) == ["posterior"]
    # ArviZ 1.x logs through a named logger; ArviZ 0.23 through `arviz._log`, a
    # logger instance outside the logging registry (so caplog would not see it).
    loggers = [logging.getLogger("arviz_stats.base.stats_utils")]
    if isinstance(getattr(az, "_log", None), logging.Logger):
        loggers.append(az._log)
    records = _Records()
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(records)
        lg.setLevel(logging.DEBUG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            summary = az.summary(data)
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(records)
            lg.setLevel(level)
    assert float(summary.loc["mi", "mean"]) == pytest.approx(0.4, abs=1e-3)
    assert math.isnan(float(summary.loc["mi", "r_hat"]))  # one chain: no R-hat
    assert not [m for m in records.messages if "Shape validation failed" in m]


def test_other_shape_messages_still_pass_the_filter():
    keep = _arviz._OneChainRhatFilter()

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("arviz", logging.WARNING, __file__, 1, msg, None, None)

    assert not keep.filter(record(
        "Shape validation failed: input_shape: (1, 30), minimum_shape: (chains=2, draws=4)"))
    assert keep.filter(record(
        "Shape validation failed: input_shape: (1, 3), minimum_shape: (chains=2, draws=4)"))
    assert keep.filter(record(
        "Shape validation failed: input_shape: (4, 2), minimum_shape: (chains=1, draws=4)"))
    assert keep.filter(record("Array contains NaN-value."))


def test_no_draws_is_a_clear_error():
    with pytest.raises(ValueError, match="no draws to convert"):
        _result(np.empty(0)).to_arviz()


def test_chain_diagnostics_match_independent_formulas():
    x = _ar_chains()
    diag = chain_diagnostics(x)
    assert set(diag) == {"r_hat", "ess_bulk", "ess_tail"}
    assert diag["r_hat"] == pytest.approx(_rhat_rank(x), abs=1e-6)
    assert diag["ess_bulk"] == pytest.approx(_ess(_z_scale(_split(x))), rel=1e-3)
    # Tail ESS: the smaller ESS of the 5% and 95% quantile indicators. ArviZ's
    # autocorrelation sum adds a last term the plain formula above leaves out,
    # so it is checked loosely against that and tightly against the value both
    # ArviZ 0.23.4 and 1.3 give (they agree to every digit).
    split = _split(x)
    tails = [_ess((split <= np.quantile(split, q)).astype(float)) for q in (0.05, 0.95)]
    assert diag["ess_tail"] == pytest.approx(min(tails), rel=0.02)
    assert diag == pytest.approx(REFERENCE_DIAGNOSTICS, rel=1e-9)


def test_chain_diagnostics_of_one_chain_and_bad_shapes():
    x = _ar_chains(n_chains=1)
    one = chain_diagnostics(x)
    assert math.isnan(one["r_hat"]) and one["ess_bulk"] > 10
    flat = chain_diagnostics(x.reshape(-1))
    assert flat["ess_bulk"] == pytest.approx(one["ess_bulk"], rel=1e-12)
    with pytest.raises(ValueError, match=r"shape \(chain, draw\)"):
        chain_diagnostics(np.zeros((2, 3, 4)))


def test_hdi_is_the_shortest_interval():
    draws = np.random.default_rng(5).gamma(2.0, size=4000)
    low, high = hdi(draws, 0.9)
    s = np.sort(draws)
    m = math.floor(0.9 * s.size)
    i = int(np.argmin(s[m:] - s[: s.size - m]))
    assert low == pytest.approx(s[i], abs=1e-12) and high == pytest.approx(s[i + m], abs=1e-12)
    assert hdi(draws.reshape(4, -1), 0.9) == pytest.approx((low, high), abs=1e-12)


def test_import_and_plain_calls_emit_no_warning(tmp_path):
    """A fresh interpreter: importing, converting and summarising warn nothing.

    ArviZ 0.23 announces its refactor with a FutureWarning once a day, keyed on a
    stamp file in the user cache; a fresh cache directory makes it due.
    """
    code = (
        "import numpy as np, bayes_gmm_mi as bgm\n"
        "from bayes_gmm_mi._arviz import import_arviz, hdi\n"
        "from bayes_gmm_mi._bayes import chain_diagnostics\n"
        "az = import_arviz()\n"
        "r = bgm.MIResult(point_estimate=0.4, draws=np.linspace(0.3, 0.5, 40), units='nat',\n"
        "                 n_components=2, method='mcmc', mc_error=0.0, n_samples=100, n_chains=4)\n"
        "s = az.summary(r.to_arviz(), var_names=['mi'])\n"
        "chain_diagnostics(r.chains); hdi(r.draws, 0.9)\n"
        "print(az.__version__)\n"
    )
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "MPLBACKEND": "Agg",
           # keep matplotlib's font cache where it is (it also follows XDG_CACHE_HOME)
           "MPLCONFIGDIR": os.environ.get("MPLCONFIGDIR", os.path.join(cache, "matplotlib"))}
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.strip() == import_arviz().__version__
