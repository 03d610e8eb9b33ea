"""studies.calibration: the study runs, resumes from its cache, and is summarised right.

The study lives outside the package (studies/calibration/); pyproject.toml's pytest
setting ``pythonpath = ["."]`` puts the repository root on sys.path for this import.
``cal`` is the module that holds the functions (the tests patch its private helpers).
"""

import json
import math
import sys

import numpy as np
import pytest

from studies.calibration import study as cal

TINY = {"bootstrap": {"n_bootstrap": 5}}


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    cache = tmp_path_factory.mktemp("calib") / "records"
    records = cal.run_study(["gaussian"], [200], 2, ["bootstrap", "ksg"], cache,
                            random_state=0, settings=TINY)
    return cache, records


def test_study_runs_end_to_end_and_writes_its_records(tiny_study):
    cache, records = tiny_study
    assert len(records) == 4
    files = sorted(cache.glob("*.json"))
    assert len(files) == 4
    assert {(r["method"], r["dataset"]) for r in records} == {
        ("bootstrap", 0), ("bootstrap", 1), ("ksg", 0), ("ksg", 1)}
    assert all(r["ok"] and not r["from_cache"] for r in records)
    stored = json.loads(files[0].read_text())
    assert stored["truth"] == pytest.approx(0.5 * math.log(1 / 0.64))
    boot = [r for r in records if r["method"] == "bootstrap"][0]
    low, high = boot["intervals"]["percentile"]["0.95"]
    # 5 replicates x (2 representations + the data one moved to its larger-K fit)
    assert low < boot["estimate"] < high and boot["n_draws"] == 15
    assert boot["time_s"] >= boot["fit_time_s"] > 0

    table = cal.summarise(records)
    assert list(table["method"]) == ["bootstrap", "ksg"]
    assert (table["n_ok"] == 2).all()
    ksg = table[table["method"] == "ksg"].iloc[0]
    assert math.isnan(ksg["coverage_95"]) and math.isnan(ksg["width_95"])
    assert 0 < table.iloc[0]["width_95"] < 1


def test_resuming_recomputes_nothing(tiny_study, monkeypatch):
    cache, _ = tiny_study
    mtimes = {p: p.stat().st_mtime_ns for p in cache.glob("*.json")}

    def boom(*args, **kwargs):
        raise AssertionError("a cached record was recomputed")

    monkeypatch.setattr(cal, "_run_ours", boom)
    monkeypatch.setattr(cal, "_run_ksg", boom)
    again = cal.run_study(["gaussian"], [200], 2, ["bootstrap", "ksg"], cache, settings=TINY)
    assert len(again) == 4 and all(r["from_cache"] for r in again)
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.json")} == mtimes


def test_more_data_sets_compute_only_the_new_ones(tiny_study, monkeypatch):
    cache, _ = tiny_study
    calls = []
    real = cal._run_ksg

    def counting(t, x, y, seed, settings, base):
        calls.append(base["dataset"])
        return real(t, x, y, seed, settings, base)

    monkeypatch.setattr(cal, "_run_ksg", counting)
    out = cal.run_study(["gaussian"], [200], 3, ["ksg"], cache, settings=TINY)
    assert calls == [2]
    assert [r["from_cache"] for r in out] == [True, True, False]
    # cached_only returns what is there and computes nothing
    calls.clear()
    cached = cal.run_study(["gaussian"], [200], 5, ["ksg"], cache, cached_only=True)
    assert calls == [] and len(cached) == 3


def test_other_settings_make_other_records(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cal, "_run_ksg",
                        lambda t, x, y, seed, settings, base: calls.append(1) or dict(
                            base, ok=True, estimate=0.1, time_s=0.0))
    cal.run_study(["gaussian"], [200], 1, ["ksg"], tmp_path)
    cal.run_study(["gaussian"], [200], 1, ["ksg"], tmp_path, settings={"ksg": {"n_neighbors": 5}})
    assert len(calls) == 2 and len(list(tmp_path.glob("*.json"))) == 2


def test_data_sets_are_reproducible_and_distinct():
    x0, y0 = cal.sample_dataset("gaussian", 50, 0, random_state=0)
    x0b, _ = cal.sample_dataset("gaussian", 50, 0, random_state=0)
    x1, _ = cal.sample_dataset("gaussian", 50, 1, random_state=0)
    np.testing.assert_array_equal(x0, x0b)
    assert not np.allclose(x0, x1)


def test_gmmmi_runner_protocol_with_a_stand_in(tmp_path):
    # A stand-in for GMM-MI's runner (same protocol), run by this interpreter.
    script = tmp_path / "fake_runner.py"
    script.write_text(
        "import json, sys\n"
        "import numpy as np\n"
        "d = np.load(sys.argv[1])\n"
        "json.dump({'ok': True, 'mi': 0.2, 'std': 0.05, 'time_s': 0.01,\n"
        "           'n_components': int(d['x'].size)}, open(sys.argv[2], 'w'))\n")
    runner = cal.GMMMIRunner(sys.executable, script, timeout_s=60)
    (rec,) = cal.run_study(["gaussian"], [30], 1, ["gmmmi"], tmp_path / "c", gmmmi=runner)
    assert rec["ok"] and rec["estimate"] == 0.2 and rec["n_components"] == 30
    low, high = rec["intervals"]["normal"]["0.95"]
    assert (low, high) == pytest.approx((0.2 - 1.959964 * 0.05, 0.2 + 1.959964 * 0.05), abs=1e-6)
    assert rec["intervals"]["normal"]["0.68"][1] == pytest.approx(0.2 + 0.994458 * 0.05, abs=1e-6)
    # a task with a 2-D x does not apply to GMM-MI (nor KSG): no record at all
    assert cal.run_study(["canonical-2x2"], [30], 1, ["gmmmi", "ksg"], tmp_path / "d",
                         gmmmi=runner) == []
    assert not cal.method_applies("ksg", "canonical-2x2")
    assert cal.method_applies("gmmmi", "gaussian") and cal.method_applies("mcmc", "canonical-2x2")


def _rec(method, estimate, lo95, hi95, lo68, hi68, truth=1.0, kind="percentile", **kw):
    return {"task": "t", "n": 100, "method": method, "truth": truth, "ok": True,
            "estimate": estimate, "std": 0.1, "time_s": 2.0,
            "intervals": {kind: {"0.95": [lo95, hi95], "0.68": [lo68, hi68]}}, **kw}


def test_summarise_hand_made_records():
    records = [
        _rec("bootstrap", 0.9, 0.8, 1.05, 0.85, 0.95),   # 95 covers, 68 misses
        _rec("bootstrap", 1.1, 0.95, 1.3, 1.0, 1.2),     # both cover
        _rec("bootstrap", 1.2, 1.1, 1.4, 1.15, 1.25),    # both miss
        _rec("bootstrap", 1.0, 0.7, 1.3, 0.9, 1.1),      # both cover
        {"task": "t", "n": 100, "method": "bootstrap", "truth": 1.0, "ok": False,
         "estimate": None, "error": "boom"},
    ]
    row = cal.summarise(records).iloc[0]
    assert row["n_records"] == 5 and row["n_ok"] == 4 and row["n_failed"] == 1
    assert row["bias"] == pytest.approx(0.05)
    assert row["rmse"] == pytest.approx(math.sqrt((0.01 + 0.01 + 0.04) / 4))
    assert row["bias_se"] == pytest.approx(np.std([0.9, 1.1, 1.2, 1.0], ddof=1) / 2)
    assert row["coverage_95"] == pytest.approx(0.75)
    assert row["coverage_95_se"] == pytest.approx(math.sqrt(0.75 * 0.25 / 4))
    assert row["coverage_68"] == pytest.approx(0.5)
    assert row["width_95"] == pytest.approx((0.25 + 0.35 + 0.3 + 0.6) / 4)
    assert row["coverage_95_low"] < 0.75 < row["coverage_95_high"]
    assert row["time_mean_s"] == 2.0 and row["rel_bias"] == pytest.approx(0.05)


def test_summarise_picks_the_interval_kind_per_method():
    both = {"percentile": {"0.95": [0.5, 0.9], "0.68": [0.6, 0.8]},   # misses truth 1
            "hdi": {"0.95": [0.8, 1.2], "0.68": [0.9, 1.1]},          # covers it
            "normal": {"0.95": [0.8, 1.2], "0.68": [0.9, 1.1]}}
    records = [{"task": "t", "n": 100, "method": m, "truth": 1.0, "estimate": 0.7,
                "intervals": both} for m in ("bootstrap", "mcmc", "gmmmi", "ksg")]
    pct = cal.summarise(records).set_index("method")
    hdi = cal.summarise(records, interval="hdi").set_index("method")
    assert pct.loc["bootstrap", "coverage_95"] == 0 and hdi.loc["bootstrap", "coverage_95"] == 0
    assert pct.loc["mcmc", "coverage_95"] == 0 and hdi.loc["mcmc", "coverage_95"] == 1
    assert pct.loc["gmmmi", "coverage_95"] == 1  # GMM-MI: always mean ± z sd
    assert math.isnan(pct.loc["ksg", "coverage_95"])
    assert hdi.attrs["interval"] == "hdi"


def test_pooled_coverage_and_markdown():
    records = [_rec("vi", 1.0, 0.9, 1.1, 0.95, 1.05), _rec("vi", 1.0, 1.1, 1.2, 1.1, 1.2)]
    records += [dict(_rec("vi", 0.05, 0.0, 0.1, 0.01, 0.09, truth=0.0), task="zero")]
    table = cal.summarise(records)
    pooled = cal.pooled_coverage(table)
    assert len(pooled) == 1 and pooled.iloc[0]["n_estimates"] == 2   # zero-truth task left out
    assert pooled.iloc[0]["coverage_95"] == pytest.approx(0.5)
    text = cal.format_summary(table)
    assert text.startswith("| task | N |") and "| zero | 100 | vi |" in text


def test_wilson_interval():
    low, high = cal.wilson_interval(19, 20, 0.95)
    assert low == pytest.approx(0.7639, abs=1e-4) and high == pytest.approx(0.9911, abs=1e-4)
    assert cal.wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in cal.wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes <= trials"):
        cal.wilson_interval(5, 3)


def test_figures(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [_rec(m, e, 0.8, 1.2, 0.9, 1.1) for m in ("bootstrap", "mcmc") for e in (0.95, 1.05)]
    records += [dict(r, n=1000) for r in records]
    records += [{"task": "t", "n": 100, "method": "ksg", "truth": 1.0, "estimate": 0.9, "time_s": 0.01}]
    table = cal.summarise(records)
    for fig in (cal.plot_bias(table), cal.plot_coverage(table), cal.plot_time(table)):
        assert fig.axes
        plt.close(fig)
    with pytest.raises(TypeError, match="DataFrame"):
        cal.plot_bias(records)
    with pytest.raises(ValueError, match="stat must be"):
        cal.plot_time(table, stat="max")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"tasks": ["gausian"]}, ValueError, "valid tasks are .*gaussian"),
    ({"tasks": 5}, TypeError, "tasks must be a list"),
    ({"tasks": [3]}, TypeError, "name \\(str\\) or a ValidationTask"),
    ({"tasks": []}, ValueError, "tasks is empty"),
    ({"methods": ["bootsrap"]}, ValueError, "valid methods are bootstrap, vi, mcmc, ksg, gmmmi"),
    ({"methods": ["ksg", "ksg"]}, ValueError, "repeated"),
    ({"sizes": [10]}, ValueError, "sizes must be ints >= 20"),
    ({"sizes": [200.0]}, TypeError, "sizes must hold ints"),
    ({"n_datasets": 0}, ValueError, "n_datasets must be ints >= 1"),
    ({"n_datasets": {"vi": 2}}, ValueError, "not in methods"),
    ({"methods": ["gmmmi"]}, ValueError, "needs gmmmi=GMMMIRunner"),
    ({"settings": {"ksg": {"k": 3}}}, ValueError, "valid options are n_neighbors"),
    ({"settings": {"svm": {}}}, ValueError, "unknown method 'svm'"),
    ({"fit_options": {"method": "vi"}}, ValueError, "reserved"),
    ({"random_state": -1}, ValueError, "random_state"),
    ({"progress": "yes"}, TypeError, "progress"),
    ({"retry_failed": "always"}, ValueError, "retry_failed must be"),
])
def test_run_study_rejects_bad_arguments(tmp_path, kwargs, error, match):
    args = {"tasks": ["gaussian"], "sizes": [200], "n_datasets": 1, "methods": ["ksg"],
            "cache_dir": tmp_path}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        cal.run_study(**args)
    assert not list(tmp_path.glob("*.json"))


def test_summarise_rejects_bad_input():
    good = _rec("vi", 1.0, 0.9, 1.1, 0.95, 1.05)
    with pytest.raises(ValueError, match="interval must be one of"):
        cal.summarise([good], interval="central")
    with pytest.raises(ValueError, match="at least one record"):
        cal.summarise([])
    with pytest.raises(ValueError, match="lacks the field 'truth'"):
        cal.summarise([{k: v for k, v in good.items() if k != "truth"}])
    with pytest.raises(ValueError, match="no 'estimate'"):
        cal.summarise([dict(good, estimate=None)])
    with pytest.raises(TypeError, match="must be a dict"):
        cal.summarise([1.0])
    with pytest.raises(ValueError, match="levels must be in"):
        cal.summarise([good], levels=[95])
    with pytest.raises(ValueError, match="disagree on the truth"):
        cal.summarise([good, dict(good, truth=2.0)])


def test_gmmmi_runner_validates_paths(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        cal.GMMMIRunner(tmp_path / "nope", tmp_path / "nope.py")
    with pytest.raises(TypeError, match="must be a path"):
        cal.GMMMIRunner(3, sys.executable)


def test_wilson_interval_holds_p_at_the_ends():
    for k, n in [(0, 7), (7, 7), (20, 20), (3, 3)]:
        low, high = cal.wilson_interval(k, n, 0.95)
        assert low <= k / n <= high


def test_gmmmi_timeouts_stop_the_group(tmp_path):
    script = tmp_path / "slow_runner.py"
    script.write_text("import time\ntime.sleep(30)\n")
    runner = cal.GMMMIRunner(sys.executable, script, timeout_s=0.5, max_timeouts=1)
    recs = cal.run_study(["gaussian"], [30], 3, ["gmmmi"], tmp_path / "c", gmmmi=runner)
    assert len(recs) == 1 and recs[0]["error"].startswith("timeout")
    assert len(list((tmp_path / "c").glob("*.json"))) == 1  # skipped data sets are not cached
    with pytest.raises(ValueError, match="max_timeouts"):
        cal.GMMMIRunner(sys.executable, script, max_timeouts=0)


def test_basic_bootstrap_interval_and_point_bias():
    # replicates shifted up by the bias: percentile misses truth 1, basic (reflected) covers it
    rec = _rec("bootstrap", 1.3, 1.1, 1.5, 1.2, 1.4, point_estimate=1.15)
    pct = cal.summarise([rec]).iloc[0]
    basic = cal.summarise([rec], bootstrap_interval="basic").iloc[0]
    assert pct["coverage_95"] == 0 and basic["coverage_95"] == 1
    assert basic["width_95"] == pytest.approx(0.4)
    assert pct["bias"] == pytest.approx(0.3) and pct["bias_point"] == pytest.approx(0.15)
    with pytest.raises(ValueError, match="bootstrap_interval must be"):
        cal.summarise([rec], bootstrap_interval="bca")
