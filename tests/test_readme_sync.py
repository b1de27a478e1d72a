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


def _budget_csv(path, rows):
    cols = ["notebook", "mode", "wall_s", "peak_mb", "threads", "cpus", "machine", "date", "load", "cpu_s"]
    lines = [",".join(cols)] + [",".join(str(r.get(c, "")) for c in cols) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_binder_advice_says_fast_mode_only_when_one_cpu_is_too_slow(tmp_path, monkeypatch):
    from course_lib import course

    csv_path = tmp_path / "budget.csv"
    monkeypatch.setattr(course, "BUDGET_CSV", csv_path)
    base = {"notebook": "05_text_generation.ipynb", "peak_mb": 900, "cpus": 2, "machine": "x86_64", "date": "d"}
    _budget_csv(
        csv_path,
        [
            {**base, "mode": "full", "wall_s": 250.0, "threads": 2},
            {**base, "mode": "fast", "wall_s": 30.0, "threads": 2},
            {**base, "mode": "full-1cpu", "wall_s": course.ONE_CPU_LIMIT_S + 1, "threads": 1},
        ],
    )
    text = course.binder_advice(5)
    assert "full mode 4.2 min on 2 threads" in text and "fast mode 30 s" in text
    assert "use fast mode" in text and "%env COURSE_FAST=1" in text
    _budget_csv(csv_path, [{**base, "mode": "full-1cpu", "wall_s": course.ONE_CPU_LIMIT_S - 1, "threads": 1}])
    assert "use fast mode" not in course.binder_advice("05") and "on one CPU" in course.binder_advice("05")
    assert "not been measured" in course.binder_advice("04")
    with pytest.raises(ValueError, match="no notebook"):
        course.binder_advice(99)


def test_course_map_one_cpu_column_marks_contended_runs_by_cpu_share():
    sync = _sync()
    base = {"notebook": "13_review.ipynb", "peak_mb": "400", "cpus": "2", "machine": "x86_64", "date": "d"}
    rows = [
        {**base, "mode": "full", "wall_s": "10", "threads": "2", "load": "1.0"},
        {**base, "mode": "fast", "wall_s": "7", "threads": "2", "load": "1.0"},
        {**base, "mode": "full-1cpu", "wall_s": "100", "threads": "1", "load": "4.0", "cpu_s": "97"},
    ]
    table = sync.course_map(rows)
    assert "| 1.7 min | yes |" in table  # the load of 4 does not mark a run that had 97% of its CPU
    assert "different number of threads" not in table  # the 1-CPU column's one thread is not a note
    rows[2]["cpu_s"] = "60"
    assert "| 1.7 min * | yes |" in sync.course_map(rows)
