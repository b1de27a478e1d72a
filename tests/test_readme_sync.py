"""The README's numbers, tables, course map and errata are generated, and agree with their sources."""

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from course_lib import results

ROOT = Path(__file__).resolve().parent.parent


def _sync():
    spec = importlib.util.spec_from_file_location("sync_readme", ROOT / "tools" / "sync_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_is_generated_from_the_results_files():
    sync = _sync()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sync.render(text) == text, (
        "README.md disagrees with docs/results/ or the course map: run tools/sync_readme.py"
    )


def test_facilitator_schedules_are_generated_from_the_measured_times():
    sync = _sync()
    path = ROOT / "docs" / "facilitators.md"
    text = path.read_text(encoding="utf-8")
    assert "<!-- schedule:start -->" in text
    assert sync.render_facilitators(text) == text, "docs/facilitators.md is out of date: run tools/sync_readme.py"
    rows = [{"notebook": "04_attention.ipynb", "mode": "fast", "wall_s": "30"}]
    table = sync.schedules_markdown(rows)
    assert "| `04_attention` | fast | 0.5 min | 35 min |" in table and "fits" in table


def test_render_fills_markers_and_refuses_unknown_keys():
    sync = _sync()
    res = {
        "04.speedup": {"value": 4.126, "fmt": ".1f"},
        "05.models": {"columns": ["model", "loss"], "rows": [["GPT", 1.5], ["LSTM", None]], "formats": {"loss": ".3f"}},
    }
    text = "x <!--r:04.speedup-->9.9<!--/r-->×\n<!--table:05.models-->\nold\n<!--/table-->\n"
    out = sync.render(text, results=res, budget_rows=[])
    assert "<!--r:04.speedup-->4.1<!--/r-->×" in out
    assert "| GPT | 1.500 |" in out and "| LSTM | — |" in out and "old" not in out
    with pytest.raises(sync.SyncError, match="04.unknown"):
        sync.render("<!--r:04.unknown-->1<!--/r-->", results=res, budget_rows=[])


def test_record_writes_only_when_recording_in_full_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_RECORD", "1")
    assert results.record("04.x", 1.25, ".2f", results_dir=tmp_path) == 1.25
    assert not (tmp_path / "04.json").exists()  # fast mode never writes
    monkeypatch.setenv("COURSE_FAST", "0")
    results.record("04.x", 1.25, ".2f", results_dir=tmp_path)
    results.record_table(
        "04.t", pd.DataFrame({"a": [1, 2], "b": [0.5, float("nan")]}), {"b": ".1f"}, results_dir=tmp_path
    )
    data = json.loads((tmp_path / "04.json").read_text())
    assert data["04.x"]["value"] == 1.25 and data["04.t"]["rows"] == [[1, 0.5], [2, None]]
    assert results.load_results(tmp_path)["04.x"]["fmt"] == ".2f"
    monkeypatch.setenv("COURSE_RECORD", "0")
    results.record("04.y", 2.0, results_dir=tmp_path)
    assert "04.y" not in json.loads((tmp_path / "04.json").read_text())


def test_record_refuses_bad_keys_values_and_formats():
    with pytest.raises(ValueError, match="key must look like"):
        results.record("Speedup", 1.0)
    with pytest.raises(TypeError, match="number, string or bool"):
        results.record("04.obj", object())
    with pytest.raises(ValueError):
        results.record("04.fmt", 1.0, fmt="q")
