"""Tests of the ``bayes-gmm-mi`` command line (bayes_gmm_mi.cli)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_gmm_mi import __version__, configure_compilation_cache
from bayes_gmm_mi.cli import DEMO_DATASETS, main
from bayes_gmm_mi.datasets import DATASETS, BivariateGaussian, GammaExponential

PREFIX = "bayes-gmm-mi: error:"
RHO = 0.8
N_CSV = 1000
FAST = ["--bootstrap", "5", "--no-cache", "--method", "bootstrap"]


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path, monkeypatch, restore_jax_cache):
    """Never let a test write to the user's real cache directory; afterwards, give
    the rest of the session its own compilation cache back (conftest.py)."""
    monkeypatch.setenv("BAYES_GMM_MI_CACHE_DIR", str(tmp_path / "jax-cache"))


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory) -> Path:
    """A CSV with a known-MI Gaussian pair plus columns that must be rejected."""
    x, y = BivariateGaussian(rho=RHO).sample(N_CSV, random_state=123)
    frame = pd.DataFrame(
        {
            "a": x,
            "b": y,
            "label": ["cat" if i % 2 else "dog" for i in range(N_CSV)],
            "flag": [bool(i % 2) for i in range(N_CSV)],
            "holes": np.where(np.arange(N_CSV) % 100 == 7, np.nan, y),
            "const": np.full(N_CSV, 3.0),
        }
    )
    path = tmp_path_factory.mktemp("csv") / "gauss.csv"
    frame.to_csv(path, index=False)
    return path


def _run(capsys, argv):
    """Call main() in-process; return (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, argv) -> dict:
    code, out, err = _run(capsys, argv)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out  # one JSON object, nothing else on stdout
    return json.loads(lines[0])


def _assert_one_line_error(code, out, err, pattern):
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(PREFIX), err
    assert re.search(pattern, lines[0]), lines[0]


# --------------------------------------------------------------------------- #
# Parser-level behaviour (no estimate)
# --------------------------------------------------------------------------- #
def test_version(capsys):
    code, out, _ = _run(capsys, ["--version"])
    assert code == 0
    assert __version__ in out


def test_no_command_is_usage_error(capsys):
    code, out, err = _run(capsys, [])
    assert code == 2
    assert "usage:" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--n", "0"],
        ["demo", "--bootstrap", "-1"],
        ["demo", "--units", "dB"],
        ["demo", "--components", "zero"],
        ["demo", "--method", "hmc"],
        ["demo", "--chains", "0"],
        ["demo", "--warmup", "0"],
        ["demo", "--draws", "-3"],
        ["estimate", "x.csv", "--x", "a", "--y", "b", "--method", "all"],  # demo only
        ["estimate", "x.csv", "--x", "a"],  # --y missing
    ],
)
def test_bad_options_are_usage_errors(capsys, argv):
    code, _, err = _run(capsys, argv)
    assert code == 2
    assert "usage:" in err
    assert "Traceback" not in err


def test_demo_dataset_names_match_library():
    assert set(DEMO_DATASETS) == set(DATASETS)


# --------------------------------------------------------------------------- #
# Errors in the input: one line on stderr, exit status 2
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "cols, pattern",
    [
        (["--x", "a", "--y", "nope"], r"'nope' not found.*available columns: 'a', 'b', 'label'"),
        (["--x", "label", "--y", "b"], r"column 'label' is not numeric.*'dog'.*--discrete-x"),
        (["--x", "a", "--y", "flag"], r"column 'flag' holds True/False.*--discrete-y"),
        (["--x", "a", "--y", "holes"], r"column 'holes' has 10 missing \(NaN\) value\(s\)"),
        (["--x", "a", "--y", "a"], r"same column 'a'"),
    ],
)
def test_estimate_column_errors(capsys, csv_path, cols, pattern):
    code, out, err = _run(capsys, ["estimate", csv_path, *cols, *FAST])
    _assert_one_line_error(code, out, err, pattern)


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "does-not-exist.csv"
    code, out, err = _run(capsys, ["estimate", missing, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err, r"file not found: .*does-not-exist\.csv")


def test_empty_file_and_header_only(capsys, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, out, err = _run(capsys, ["estimate", empty, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err, r"empty\.csv is empty")

    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    code, out, err = _run(capsys, ["estimate", header, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err, r"no data rows")


def test_directory_instead_of_file(capsys, tmp_path):
    code, out, err = _run(capsys, ["estimate", tmp_path, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err, r"is a directory")


def test_too_few_rows(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("a,b\n1.0,2.0\n2.0,1.5\n3.5,4.0\n")
    code, out, err = _run(capsys, ["estimate", path, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err, r"(?i)rows|samples")


def test_library_error_constant_column(capsys, csv_path):
    code, out, err = _run(capsys, ["estimate", csv_path, "--x", "a", "--y", "const", *FAST])
    _assert_one_line_error(code, out, err, r"constant")


def test_library_error_too_many_components(capsys, tmp_path):
    path = tmp_path / "small.csv"
    x, y = BivariateGaussian(rho=0.5).sample(30, random_state=0)
    pd.DataFrame({"a": x, "b": y}).to_csv(path, index=False)
    code, out, err = _run(
        capsys, ["estimate", path, "--x", "a", "--y", "b", "--components", "1000", *FAST]
    )
    _assert_one_line_error(code, out, err, r"(?i)component")


def test_demo_unknown_dataset(capsys):
    code, out, err = _run(capsys, ["demo", "--dataset", "gama-exponential", *FAST])
    _assert_one_line_error(code, out, err, r"unknown dataset 'gama-exponential'.*gamma-exponential")


# --------------------------------------------------------------------------- #
# demo
# --------------------------------------------------------------------------- #
def test_demo_summary(capsys):
    code, out, err = _run(capsys, ["demo", "--n", "400", "--dataset", "gamma-exponential", *FAST])
    assert code == 0, err
    assert "Traceback" not in err
    truth = GammaExponential(alpha=1.0, log=True).mi
    assert "gamma-exponential" in out
    assert "N = 400" in out
    assert f"{truth:.4f} nats" in out
    for label in ("MI:", "95% interval:", "truth:", "truth inside:", "components:",
                  "time:", "compile + estimate", "bootstrap"):
        assert label in out, out


def test_demo_json_in_bits(capsys):
    # The default data set: a bivariate Gaussian with correlation 0.6.
    d = _json(capsys, ["demo", "--n", "400", "--units", "bit", "--json", *FAST])
    assert d["units"] == "bit"
    assert d["dataset"] == "gaussian"
    # 2 representations and the data one at a larger K: 3 x 5 draws
    assert d["n"] == 400 and d["n_samples"] == 400 and d["n_draws"] == 15
    assert d["truth"] == pytest.approx(-0.5 * math.log(1 - 0.6**2) / math.log(2), rel=1e-6)
    low, high = d["interval"]
    assert d["truth_in_interval"] == (low <= d["truth"] <= high)
    assert abs(d["mi"] - d["truth"]) < 0.25  # bits; N=400, loose
    assert {"total", "data", "compile_and_estimate", "fit", "bootstrap"} <= set(d["time_s"])
    assert d["time_s"]["total"] >= d["time_s"]["compile_and_estimate"] > 0


def test_demo_gaussian_dataset(capsys):
    d = _json(capsys, ["demo", "--dataset", "gaussian", "--n", "400", "--json", *FAST])
    assert d["truth"] == pytest.approx(BivariateGaussian().mi)


TINY_POSTERIOR = ["--chains", "2", "--warmup", "30", "--draws", "30", "--svi-steps", "50"]


@pytest.mark.slow
def test_demo_all_methods_side_by_side(capsys):
    code, out, err = _run(capsys, ["demo", "--dataset", "gaussian", "--n", "300", "--bootstrap",
                                   "5", "--no-cache", "--components", "1", *TINY_POSTERIOR])
    assert code == 0, err
    assert "Traceback" not in err
    for method in ("bootstrap", "vi", "mcmc"):
        assert re.search(rf"^{method}\s+\d\.\d{{4}}\s+\d\.\d{{4}}\s+\[", out, re.M), out
    assert "R-hat" in out and "truth in" in out and f"{BivariateGaussian().mi:.4f}" in out
    # Short chains: the diagnostics warning reaches the user as one line.
    assert "bayes-gmm-mi: warning: MCMC diagnostics" in err


@pytest.mark.slow
def test_demo_all_methods_json(capsys):
    d = _json(capsys, ["demo", "--dataset", "gaussian", "--n", "300", "--bootstrap", "5",
                       "--no-cache", "--json", "--components", "1", *TINY_POSTERIOR])
    assert set(d["methods"]) == {"bootstrap", "vi", "mcmc"}
    assert d["method"] == "bootstrap"
    mcmc = d["methods"]["mcmc"]
    # transform="auto": each representation's chains, pooled.
    assert mcmc["n_chains"] == 4 and mcmc["n_draws"] == 120
    assert {"r_hat", "ess_bulk", "divergences"} <= set(mcmc)
    assert d["methods"]["vi"]["n_draws"] == 60
    for res in d["methods"].values():
        low, high = res["interval"]
        assert res["truth_in_interval"] == (low <= d["truth"] <= high)
        assert res["point_estimate"] == d["point_estimate"]  # one EM fit for all


# --------------------------------------------------------------------------- #
# estimate
# --------------------------------------------------------------------------- #
def test_estimate_json_close_to_truth(capsys, csv_path):
    truth = -0.5 * math.log(1 - RHO**2)
    d = _json(capsys, ["estimate", csv_path, "--x", "a", "--y", "b", "--bootstrap", "10",
                       "--seed", "1", "--json", "--no-cache"])
    assert d["file"] == str(csv_path) and d["x"] == "a" and d["y"] == "b"
    assert d["units"] == "nat" and d["method"] == "bootstrap"
    assert d["n_samples"] == N_CSV and d["n_draws"] == 30     # 10 x 3 models
    low, high = d["interval"]
    assert 0 < low < high < 2 * truth
    assert high - low < 0.5
    assert low <= d["mi"] <= high
    assert abs(d["mi"] - truth) < 0.1
    assert d["std"] > 0


@pytest.mark.slow
def test_estimate_with_vi(capsys, csv_path):
    code, out, err = _run(capsys, ["estimate", csv_path, "--x", "a", "--y", "b", "--seed", "1",
                                   "--method", "vi", "--svi-steps", "300", "--draws", "200",
                                   "--no-cache", "--components", "1"])
    assert code == 0, err
    assert "vi (2 × 200 posterior draws: data and rank representations pooled)" in out
    assert "posterior" in out  # the time line names the posterior step


def test_estimate_bits_is_nats_over_ln2(capsys, csv_path):
    base = ["estimate", csv_path, "--x", "a", "--y", "b", "--seed", "7", "--json", *FAST]
    nat = _json(capsys, base)
    bit = _json(capsys, [*base, "--units", "bit"])
    assert bit["units"] == "bit"
    for key in ("mi", "point_estimate", "std"):
        assert nat[key] / bit[key] == pytest.approx(math.log(2), rel=1e-6), key
    for n_lim, b_lim in zip(nat["interval"], bit["interval"]):
        assert n_lim / b_lim == pytest.approx(math.log(2), rel=1e-6)


def test_estimate_same_seed_is_reproducible(capsys, csv_path):
    argv = ["estimate", csv_path, "--x", "b", "--y", "a", "--seed", "3", "--json", *FAST]
    code1, out1, _ = _run(capsys, argv)
    code2, out2, _ = _run(capsys, argv)
    assert code1 == code2 == 0
    first, second = json.loads(out1), json.loads(out2)
    assert first.pop("wall_time_s") > 0 and second.pop("wall_time_s") > 0  # timings differ
    assert first == second


def test_estimate_fixed_components_and_summary(capsys, csv_path):
    code, out, err = _run(capsys, ["estimate", csv_path, "--x", "a", "--y", "b",
                                   "--components", "2", "--seed", "0", *FAST])
    assert code == 0, err
    assert err == ""  # nothing but the result without --progress
    assert re.search(r"components:\s+2\n", out), out
    for label in ("gauss.csv", "x = 'a', y = 'b'", "N = 1000", "MI:", "nats", "95% interval:"):
        assert label in out, out


def test_estimate_progress_goes_to_stderr(capsys, csv_path):
    code, out, err = _run(capsys, ["estimate", csv_path, "--x", "a", "--y", "b", "--seed", "0",
                                   "--json", "--progress", *FAST])
    assert code == 0
    json.loads(out)  # stdout still holds only the JSON object
    assert err.strip() != ""


def test_estimate_reads_stdin(capsys, csv_path, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(csv_path.read_text()))
    d = _json(capsys, ["estimate", "-", "--x", "a", "--y", "b", "--seed", "0", "--json", *FAST])
    assert d["file"] == "-" and d["n_samples"] == N_CSV


# --------------------------------------------------------------------------- #
# Persistent compilation cache
# --------------------------------------------------------------------------- #
def test_configure_compilation_cache(tmp_path):
    import jax

    try:
        used = configure_compilation_cache(True, tmp_path / "c")
        assert used == tmp_path / "c" and used.is_dir()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "c")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0
        assert jax.config.jax_enable_compilation_cache
    finally:
        assert configure_compilation_cache(False) is None
    assert not jax.config.jax_enable_compilation_cache


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYES_GMM_MI_CACHE_DIR", str(tmp_path / "from-env"))
    try:
        assert configure_compilation_cache(True) == tmp_path / "from-env"
    finally:
        configure_compilation_cache(False)


def test_uncreatable_cache_dir_warns_and_continues(capsys, caplog, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("BAYES_GMM_MI_CACHE_DIR", str(blocker / "jax"))
    code, out, err = _run(capsys, ["demo", "--n", "300", "--bootstrap", "5", "--json", "--method", "bootstrap"])
    assert code == 0, err
    json.loads(out)
    assert "continuing without the cache" in caplog.text


def test_no_cache_creates_nothing(capsys, tmp_path, monkeypatch):
    target = tmp_path / "never"
    monkeypatch.setenv("BAYES_GMM_MI_CACHE_DIR", str(target))
    code, _, err = _run(capsys, ["demo", "--n", "300", *FAST])
    assert code == 0, err
    assert not target.exists()


# --------------------------------------------------------------------------- #
# The installed console script
# --------------------------------------------------------------------------- #
@pytest.mark.slow  # a new Python process: imports and compiles from scratch
def test_console_script_demo(tmp_path):
    script = Path(sys.executable).with_name("bayes-gmm-mi")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    cache = tmp_path / "jax-cache"
    env = {**os.environ, "BAYES_GMM_MI_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [str(script), "demo", "--n", "400", "--dataset", "gamma-exponential", "--bootstrap", "5",
         "--method", "bootstrap"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "MI:" in proc.stdout and "truth:" in proc.stdout
    assert f"{GammaExponential().mi:.4f}" in proc.stdout
    # The persistent compilation cache was switched on and written.
    assert cache.is_dir() and any(cache.iterdir())


def test_transform_option_chooses_the_representations(capsys, csv_path):
    base = ["estimate", csv_path, "--x", "a", "--y", "b", "--seed", "3", "--json", *FAST]
    auto = _json(capsys, base)
    none = _json(capsys, [*base, "--transform", "none"])
    rank = _json(capsys, [*base, "--transform", "rank"])
    # auto: both representations and the data one at a larger K; one model otherwise
    assert auto["n_draws"] == 15 and none["n_draws"] == rank["n_draws"] == 5
    # The point estimate of "auto" is the data-coordinates fit.
    # (batches of two and one data sets: equal up to float32 EM noise)
    assert auto["point_estimate"] == pytest.approx(none["point_estimate"], abs=1e-4)
    truth = -0.5 * math.log(1 - RHO**2)
    for d in (auto, none, rank):
        assert abs(d["point_estimate"] - truth) < 0.1


def test_discrete_columns_are_refused_with_exit_2_or_estimated_by_counts(capsys, tmp_path):
    """Issue 15: two independent 1-5 scales read 0.21 nats through the CLI before."""
    r = np.random.default_rng(0)
    path = tmp_path / "likert.csv"
    pd.DataFrame({"a": r.integers(1, 6, 2000), "b": r.integers(1, 6, 2000)}).to_csv(
        path, index=False)
    code, out, err = _run(capsys, ["estimate", path, "--x", "a", "--y", "b", *FAST])
    _assert_one_line_error(code, out, err,
                           r"x has 5 distinct values.*--discrete-x or --discrete-y.*"
                           r"--dequantise.*x is column 'a'")
    result = _json(capsys, ["estimate", path, "--x", "a", "--y", "b", "--discrete-x",
                            "--discrete-y", "--json", "--seed", "0", *FAST])
    low, high = result["interval"]
    assert low <= 0.0 <= high and result["n_components"] == 0
