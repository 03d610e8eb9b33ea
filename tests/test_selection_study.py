"""The issue-14 pilot study runs, resumes and summarises (studies/selection)."""

import json

import pytest

from studies.selection.__main__ import run, summarise


def test_the_pilot_runs_resumes_and_summarises(tmp_path):
    run(["gaussian", "independent"], 200, 1, ["data"], tmp_path)
    records = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [r["task"] for r in records] == ["gaussian", "independent"]
    gaussian = records[0]
    assert gaussian["lo95"] <= gaussian["lo68"] <= gaussian["hi68"] <= gaussian["hi95"]
    assert abs(gaussian["truth"] - 0.2231) < 1e-3
    run(["gaussian", "independent"], 200, 1, ["data"], tmp_path)  # nothing to redo
    assert len((tmp_path / "records.jsonl").read_text().splitlines()) == 2
    text = summarise(tmp_path)
    assert "| 200 | gaussian | data | 1 |" in text
    # Pooled over MI > 0 (the Gaussian only) and over MI = 0 (the independent task).
    assert "| 200 | data | 1 |" in text and text.rstrip().endswith("|")
    # The same summary from the records on disk.
    assert summarise(tmp_path) == text


def test_the_larger_k_study_runs_resumes_and_reproduces_the_library_interval(tmp_path):
    from studies.larger_k.__main__ import interval
    from studies.larger_k.__main__ import run as run_larger
    from studies.larger_k.__main__ import summarise as summary

    run_larger(200, 1, "bootstrap", tmp_path, ["gaussian"])
    path = tmp_path / "records_bootstrap_200.jsonl"
    (rec,) = [json.loads(line) for line in path.read_text().splitlines()]
    # The offline interval of the default rule is the one the library returned.
    lo, hi = interval(rec, "max(+2, 1.5x)")
    assert (lo, hi) == pytest.approx((rec["lo95"], rec["hi95"]), rel=1e-9)
    assert rec["alt"][str(rec["larger_k"]["n_components"])] == pytest.approx(
        rec["larger_k"]["mi"], rel=1e-6)
    # Without a larger K: the union of the two representations' intervals, inside it.
    lo0, hi0 = interval(rec, None)
    assert lo <= lo0 <= hi0 <= hi
    run_larger(200, 1, "bootstrap", tmp_path, ["gaussian"])          # nothing to redo
    assert len(path.read_text().splitlines()) == 1
    text = summary(tmp_path)
    assert "| gaussian | 1 |" in text and "max(+2, 1.5x)" in text
