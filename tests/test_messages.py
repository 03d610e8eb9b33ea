"""Extreme scales and messages (issue 15, points 5 and 6; CLI exit status 2).

Every test checks a known answer (the MI of a correlated Gaussian pair,
``-0.5 log(1 - rho^2)``; the entropy of a standard normal, ``0.5 log(2 pi e)``)
or the words of a message, never a number pinned from our own output.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

import bayes_gmm_mi as bm
from bayes_gmm_mi import MIResult
from bayes_gmm_mi._pipeline import memory

RHO = 0.6
TRUE_MI = -0.5 * math.log(1 - RHO**2)                       # 0.2231 nats
NORMAL_ENTROPY = 0.5 * math.log(2 * math.pi * math.e)       # 1.4189 nats
N = 1000
FAST = dict(n_bootstrap=5, random_state=0, transform=None)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(0)
    x = r.normal(size=N)
    return x, RHO * x + math.sqrt(1 - RHO**2) * r.normal(size=N)


@pytest.fixture(scope="module")
def result(pair) -> MIResult:
    """One small bootstrap result (3 replicates: one short chain) shared by several tests."""
    x, y = pair
    return bm.mutual_information(x, y, n_bootstrap=3, random_state=0, transform=None)


# --------------------------------------------------------------- a: extreme scales
@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_extreme_scales_give_the_mi_of_unscaled_data(pair, factor):
    x, y = pair
    plain = bm.mutual_information(x, y, **FAST)
    scaled = bm.mutual_information(x * factor, y, **FAST)
    # MI is invariant to the scale: the same fit, the same draws.
    assert scaled.point_estimate == pytest.approx(plain.point_estimate, rel=1e-6)
    np.testing.assert_allclose(scaled.draws, plain.draws, rtol=1e-6)
    assert np.all(np.isfinite(scaled.draws)) and scaled.std > 0
    assert abs(scaled.point_estimate - TRUE_MI) < 0.05


def test_entropy_of_huge_values_is_shifted_by_the_log_of_the_scale(pair):
    x, _ = pair
    plain = bm.entropy(x, n_bootstrap=0, random_state=0)
    huge = bm.entropy(x * 1e200, n_bootstrap=0, random_state=0)
    assert math.isfinite(huge.point_estimate)
    # H(aX) = H(X) + log a, with log(1e200) = 460.5 nats.
    assert huge.point_estimate - math.log(1e200) == pytest.approx(plain.point_estimate,
                                                                  abs=1e-6)
    assert abs(plain.point_estimate - NORMAL_ENTROPY) < 0.08


def test_standardise_is_exact_and_overflow_free():
    from bayes_gmm_mi._validation import standardise, standardise_logscale

    x = np.random.default_rng(1).normal(size=(500, 2)) * [3.0, 0.01] + [5.0, -2.0]
    scaled, loc, scale = standardise(x)
    # Ordinary data: the same numbers as a plain (x - mean) / std.
    np.testing.assert_array_equal(scaled, (x - x.mean(0)) / x.std(0))
    for factor in (1e300, 1e-300):
        big, _, big_scale, log_scale = standardise_logscale(x * factor)
        np.testing.assert_allclose(big, scaled, atol=1e-12)
        np.testing.assert_allclose(log_scale, np.log(x.std(0)) + math.log(factor), rtol=1e-12)
        assert np.all(np.isfinite(big_scale))


def test_a_column_that_cannot_be_standardised_is_refused():
    from bayes_gmm_mi._validation import standardise

    data = np.column_stack([np.arange(10.0), np.full(10, 7.0)])
    with pytest.raises(ValueError, match=r"column 1 .*cannot be standardised.*standard "
                                         r"deviation is 0\.0.*constant"):
        standardise(data)


# ----------------------------------------------------- b: the CLI at extreme scales
def _write_csv(path, **columns) -> str:
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False)
    return str(path)


def test_cli_gives_the_mi_of_data_of_order_1e300(pair, tmp_path, capsys, restore_jax_cache):
    from bayes_gmm_mi.cli import main

    x, y = pair
    csv = _write_csv(tmp_path / "scaled.csv", big=x * 1e300, y=y)
    code = main(["estimate", csv, "--x", "big", "--y", "y", "--bootstrap", "5", "--seed", "0",
                 "--transform", "none", "--no-cache", "--json"])
    import json

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert abs(out["point_estimate"] - TRUE_MI) < 0.05
    assert out["std"] > 0.001                       # not "0.0000 ± 0.0000"


def test_cli_says_when_replicates_are_not_finite():
    from bayes_gmm_mi.cli import _summary_lines

    some = MIResult(0.2, np.array([0.2, np.nan, 0.21, np.nan, 0.19]), "nat", 2, "bootstrap",
                    1e-3, 1000)
    text = "\n".join(_summary_lines(some, "nat"))
    assert "2 of 5 replicates (NaN or inf)" in text
    every = MIResult(0.2, np.full(4, np.nan), "nat", 2, "bootstrap", 1e-3, 1000)
    text = "\n".join(_summary_lines(every, "nat"))
    assert "n/a (4 of 4 bootstrap replicates are not finite" in text
    assert "no bootstrap replicates" not in text
    empty = MIResult(0.2, np.empty(0), "nat", 2, "bootstrap", 1e-3, 1000)
    assert "no bootstrap replicates" in "\n".join(_summary_lines(empty, "nat"))


# ---------------------------------------------------------- c: EM cannot hang
def test_max_iter_beyond_the_hard_limit_is_refused(pair):
    from bayes_gmm_mi._pipeline.settings import MAX_EM_ITERATIONS

    x, y = pair
    with pytest.raises(ValueError, match=r"max_iter must be an integer from 1 to 100_000; got "
                                         r"1_000_000_000\..*tol"):
        bm.mutual_information(x, y, max_iter=10**9)
    assert MAX_EM_ITERATIONS == 100_000
    with pytest.raises(ValueError, match="max_iter"):
        bm.GMMMI(max_iter=MAX_EM_ITERATIONS + 1).fit(x, y)


def test_em_stops_at_a_nan_log_likelihood():
    import jax
    import jax.numpy as jnp

    from bayes_gmm_mi import _em

    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    x[5, 0] = np.nan
    start = _em.GMMParams(jnp.array([0.5, 0.5]), jnp.array([[-1.0, 0.0], [1.0, 0.0]]),
                          jnp.broadcast_to(jnp.eye(2), (2, 2, 2)))
    # max_iter is huge: without the NaN stop the loop would run 10**6 iterations.
    res = jax.jit(_em.fit_em)(jnp.asarray(x), jnp.ones(64), start, 1e-6, 1e-5, 10**6)
    assert int(res.n_iter) <= 2
    assert not bool(res.converged)


# --------------------------------------------------------- d: did you mean
@pytest.mark.parametrize("call, typo, meant", [
    (lambda x, y: bm.mutual_information(x, y, n_bootstraps=10), "n_bootstraps", "n_bootstrap"),
    (lambda x, y: bm.mutual_information(x, y, random_sate=0), "random_sate", "random_state"),
    (lambda x, y: bm.mutual_information(x, y, unit="bit"), "unit", "units"),
    (lambda x, y: bm.mutual_information(x, y, discrete=True), "discrete", "discrete_y"),
    (lambda x, y: bm.conditional_mutual_information(x, y, x, n_bootstraps=1), "n_bootstraps",
     "n_bootstrap"),
    (lambda x, y: bm.entropy(x, methods="vi"), "methods", "method"),
    (lambda x, y: bm.kl_divergence(x, y, revers=True), "revers", "reverse"),
    (lambda x, y: bm.kl_divergence(x, y, n_component=2), "n_component", "n_components"),
    (lambda x, y: bm.mi_matrix(np.column_stack([x, y]), n_bootstraps=1), "n_bootstraps",
     "n_bootstrap"),
    (lambda x, y: bm.mi_matrix(np.column_stack([x, y]), memory_limits="1GB"),
     "memory_limits", "memory_limit"),
])
def test_a_typo_gets_the_closest_of_all_option_names(pair, call, typo, meant):
    with pytest.raises(TypeError, match=rf"unknown option '{typo}'\. Did you mean '{meant}'\?"):
        call(*pair)


def test_an_unknown_option_without_a_close_name_lists_them_all(pair):
    with pytest.raises(TypeError, match=r"unknown option 'zzz'\. Valid options: .*method.*"
                                        r"n_bootstrap.*progress.*random_state.*units"):
        bm.mutual_information(*pair, zzz=1)


# ------------------------------------------- e: continuous labels, short message
def test_continuous_labels_get_a_short_message(pair):
    x, y = pair
    with pytest.raises(ValueError) as info:
        bm.mutual_information(x, y, discrete_y=True)
    message = str(info.value)
    assert len(message) < 300 and "\n" not in message
    assert "every class needs at least" in message
    assert f"({N - 3} more of {N} classes)" in message
    assert "look like a continuous variable" in message and "discrete_y=False" in message


# -------------------------------------------------- f: not an array of numbers
def _generator():
    yield from range(N)


@pytest.mark.parametrize("value, words", [
    (None, r"got None"),
    (_generator(), r"got a generator.*list\(x\)"),
    ({"a": [1.0, 2.0]}, r"got a dict"),
    ({1.0, 2.0}, r"got a set.*no order"),
    (3.5, r"got a single number"),
    ("values.csv", r"got a string"),
])
def test_what_is_not_an_array_gets_a_type_error_naming_it(pair, value, words):
    _, y = pair
    with pytest.raises(TypeError, match=r"^x must be an array-like of numbers of shape \(n,\) "
                                        r"or \(n, d\).*" + words):
        bm.mutual_information(value, y)


def test_labels_that_are_not_an_array_get_a_type_error(pair):
    x, _ = pair
    with pytest.raises(TypeError, match=r"^labels must be an array-like of class labels of "
                                        r"shape \(n,\).*got None"):
        bm.mutual_information(x, None, discrete_y=True)


def test_a_sparse_matrix_is_told_to_call_toarray(pair):
    sparse = pytest.importorskip("scipy.sparse")
    x, _ = pair
    with pytest.raises(TypeError, match=r"^y must be an array-like.*scipy sparse matrix "
                                        r"\(csr_matrix\)\. Pass y\.toarray\(\)"):
        bm.mutual_information(x, sparse.csr_matrix(x[:, None]))
    with pytest.raises(TypeError, match=r"^a must be an array-like.*toarray"):
        bm.mi_matrix(sparse.csr_matrix(np.eye(5)))


# ------------------------------------------------------------- g: a row vector
def test_a_row_vector_is_not_called_constant(pair):
    x, y = pair
    for call in (lambda: bm.mutual_information(x[None, :], y),
                 lambda: bm.entropy(x[None, :]),
                 lambda: bm.GMMCategoricalMI().fit(x[None, :], y > 0)):
        with pytest.raises(ValueError, match=rf"^x has shape \(1, {N}\): one row of {N} "
                                             rf"columns; did you mean a column .*x\.ravel\(\).*"
                                             r"x\.T"):
            call()


# ------------------------------------------------------------ h: memory_limit
@pytest.mark.parametrize("text, expected", [("1GB", 10**9), ("512MiB", 512 * 2**20),
                                            ("1.5 gib", int(1.5 * 2**30)), (4096, 4096)])
def test_memory_limit_sizes(text, expected):
    assert memory.parse_bytes(text) == expected


@pytest.mark.parametrize("value, exc, words", [
    ([1], TypeError, r"got \[1\] \(list\)"),
    (True, TypeError, r"got True \(bool\)"),
    ("lots", ValueError, r"got 'lots'\. Units: B, KB"),
    (-5, ValueError, r"got -5"),
])
def test_a_bad_memory_limit_is_refused_clearly(pair, value, exc, words):
    x, y = pair
    with pytest.raises(exc, match=r"^memory_limit must be a positive number of bytes.*" + words):
        bm.mi_matrix(np.column_stack([x, y]), memory_limit=value)


def test_memory_limit_as_a_string_is_applied(pair):
    x, y = pair
    # Accepted as a string, and enforced: 1 KB is far too little for any matrix.
    with pytest.raises(MemoryError, match=r"over the memory limit of 0\.0 GiB.*pair_batch"):
        bm.mi_matrix(np.column_stack([x, y]), memory_limit="1KB")


# ------------------------------------------------- i: categorical as one string
def test_categorical_as_one_string_is_one_column_name(pair):
    import pandas as pd

    x, y = pair
    with pytest.raises(ValueError, match=r"do not exist: \['shape'\]"):
        bm.mi_matrix(np.column_stack([x, y]), categorical="shape")
    frame = pd.DataFrame({"x": x, "shape": (y > 0).astype(int)})
    matrix = bm.mi_matrix(frame, categorical="shape", n_bootstrap=0, random_state=0,
                          transform=None, mc_samples=20_000)
    assert matrix.info["kinds"] == {"x": "continuous", "shape": "categorical"}
    # MI between a Gaussian and the sign of a correlated one (rho = 0.6): ~0.133 nats.
    truth = _mi_with_sign(RHO)
    assert abs(float(matrix.point_estimate.loc["x", "shape"]) - truth) < 0.05
    with pytest.raises(TypeError, match=r"categorical must hold column names"):
        bm.mi_matrix(frame, categorical=[0])


def _mi_with_sign(rho: float) -> float:
    """I(X; sign Y) for a standard bivariate normal pair, by quadrature."""
    from scipy import integrate, stats

    def integrand(x: float) -> float:
        p = stats.norm.cdf(rho * x / math.sqrt(1 - rho**2))
        h = -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)
        return stats.norm.pdf(x) * h

    return math.log(2) - integrate.quad(integrand, -10, 10)[0]


# ------------------------------------------------------ j: numpy probabilities
@pytest.mark.parametrize("prob", [np.float32(0.9), np.float64(0.9), 0.9])
def test_interval_accepts_numpy_floats(result, prob):
    assert result.interval(prob) == pytest.approx(result.interval(0.9), abs=1e-6)


def test_probability_checks_name_the_argument(result):
    with pytest.raises(ValueError, match=r"prob must be a number in \(0, 1\); got 95\. "
                                         r"E\.g\. 0\.95"):
        result.interval(95)
    with pytest.raises(TypeError, match=r"prob must be a real number in \(0, 1\).*'0\.9' "
                                        r"\(str\)"):
        result.interval("0.9")


def test_matrix_interval_and_compare_accept_numpy_floats(result):
    import xarray as xr

    from bayes_gmm_mi._matrix import MIMatrix

    draws = xr.DataArray(np.random.default_rng(0).normal(0.2, 0.01, (1, 1, 40)),
                         dims=("x", "y", "draw"), coords={"x": ["a"], "y": ["b"]})
    point = draws.isel(draw=0, drop=True)
    matrix = MIMatrix(draws, point, point * 0, point * 0 + 1, "nat")
    low, high = matrix.interval(np.float32(0.9))
    expected = np.percentile(draws.values[0, 0], [5, 95])
    np.testing.assert_allclose([float(low[0, 0]), float(high[0, 0])], expected, rtol=1e-6)
    table = bm.compare([result], prob=np.float32(0.9))
    assert len(table) == 1


# ---------------------------------------------------- k: up-front memory check
HUGE_MC = dict(mc_samples=10**9)
HUGE_BOOT = dict(n_bootstrap=10**7)    # 10**7 replicates × 1000 rows: ~120 GB of counts


@pytest.mark.parametrize("call, setting", [
    (lambda x, y: bm.mutual_information(x, y, **HUGE_MC), "mc_samples"),
    (lambda x, y: bm.mutual_information(x, y, **HUGE_BOOT), "n_bootstrap"),
    (lambda x, y: bm.mutual_information(x, y, method="vi", num_samples=10**9), "num_samples"),
    (lambda x, y: bm.mutual_information(x, y, method="mcmc", num_samples=10**8), "num_samples"),
    (lambda x, y: bm.conditional_mutual_information(x, y, x + y, **HUGE_BOOT), "n_bootstrap"),
    (lambda x, y: bm.entropy(x, **HUGE_MC), "mc_samples"),
    (lambda x, y: bm.kl_divergence(x, y, **HUGE_BOOT), "n_bootstrap"),
    (lambda x, y: bm.mutual_information(x, y > 0, discrete_y=True, **HUGE_BOOT), "n_bootstrap"),
    (lambda x, y: bm.mi_matrix(np.column_stack([x, y]), **HUGE_BOOT), "n_bootstrap"),
    (lambda x, y: bm.mi_matrix(np.column_stack([x, y]), **HUGE_MC), "mc_samples"),
])
def test_huge_requests_are_refused_up_front_with_advice(pair, call, setting):
    with pytest.raises(ValueError) as info:
        call(*pair)
    message = str(info.value)
    assert isinstance(info.value, MemoryError)           # and a MemoryError
    assert "\n" not in message
    assert "would need about" in message and "GiB, over the memory limit of 4.0 GiB" in message
    assert f"Lower {setting} to at most about" in message
    assert memory.MEMORY_ENV_VAR in message


def test_the_estimate_stage_checks_its_own_request(pair):
    x, y = pair
    est = bm.GMMMI(n_bootstrap=5, random_state=0, transform=None).fit(x, y)
    with pytest.raises(ValueError, match=r"n_bootstrap=3_000_000 replicates × 1000 rows.*"
                                         r"Lower n_bootstrap"):
        est.estimate_mi(n_bootstrap=3_000_000)


def test_the_memory_limit_comes_from_the_environment(pair, monkeypatch):
    x, y = pair
    monkeypatch.setenv(memory.MEMORY_ENV_VAR, "1MB")
    with pytest.raises(MemoryError, match=r"over the memory limit of 0\.0 GiB.*mc_samples"):
        bm.mutual_information(x, y)
    monkeypatch.setenv(memory.MEMORY_ENV_VAR, "plenty")
    with pytest.raises(ValueError, match=r"the environment variable BAYES_GMM_MI_MEMORY_LIMIT "
                                         r"must be a positive number of bytes"):
        bm.mutual_information(x, y)


def test_ordinary_requests_are_far_below_the_limit():
    # The default settings at 100 000 rows, 8 columns, both representations.
    request = memory.needs(rows=100_000, dim=8, data_sets=2, k_pad=64, mc_samples=100_000,
                           n_bootstrap=200)
    assert sum(need.nbytes for need in request) < memory.DEFAULT_MEMORY_LIMIT / 4


# ------------------------------------------------ l: ArviZ logs nothing
def test_arviz_summary_of_a_short_bootstrap_result_logs_nothing(result, caplog):
    from bayes_gmm_mi._arviz import import_arviz

    az = import_arviz()
    assert result.chains.shape == (1, 3)     # the case ArviZ 0.23 logged about
    with caplog.at_level(logging.WARNING):
        summary = az.summary(result.to_arviz())
    assert not [r for r in caplog.records if "Shape validation" in r.getMessage()]
    assert float(summary.loc["mi", "mean"]) == pytest.approx(result.mean, abs=1e-3)


def test_arviz_messages_about_other_data_still_pass():
    from bayes_gmm_mi._arviz import _OneChainRhatFilter

    keep = _OneChainRhatFilter()
    keep.shapes.add((1, 3))

    def passes(message: str) -> bool:
        return keep.filter(logging.LogRecord("arviz", logging.WARNING, __file__, 1, message,
                                             None, None))

    assert not passes("Shape validation failed: input_shape: (1, 3), "
                      "minimum_shape: (chains=1, draws=4)")
    assert passes("Shape validation failed: input_shape: (3, 2), "
                  "minimum_shape: (chains=1, draws=4)")


# ------------------------------------------- n: the CLI refuses with status 2
def test_cli_refused_data_exit_2_with_one_line(pair, tmp_path, capsys, restore_jax_cache):
    from bayes_gmm_mi.cli import main

    x, y = pair
    csv = _write_csv(tmp_path / "refused.csv", x=x, y=y, flat=np.ones(N))
    code = main(["estimate", csv, "--x", "flat", "--y", "y", "--bootstrap", "2", "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("bayes-gmm-mi: error: x is constant")
    assert "(x is column 'flat', y is column 'y')" in lines[0]


def test_cli_memory_refusal_exit_2(pair, tmp_path, capsys, restore_jax_cache):
    from bayes_gmm_mi.cli import main

    x, y = pair
    csv = _write_csv(tmp_path / "big.csv", x=x, y=y)
    code = main(["estimate", csv, "--x", "x", "--y", "y", "--bootstrap", "3000000",
                 "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "over the memory limit" in err and "n_bootstrap" in err
