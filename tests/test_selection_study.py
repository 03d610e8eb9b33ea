"""The issue-14 pilot study runs, resumes and summarises (studies/selection)."""

import json

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
