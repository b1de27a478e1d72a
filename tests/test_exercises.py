"""Every notebook's exercise has a check with hints, tested both ways.

The notebooks' own solutions pass their checks when the test command runs the notebooks (strict mode:
``COURSE_EXERCISES_STRICT=1`` turns a failed check into a failed cell). Here every check must reject a
plausible wrong answer with a specific hint, and every notebook must have at least one checked exercise.
"""

import importlib
import json
from pathlib import Path

import pytest

from course_lib.labs import exercises as X

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _registered():
    for lab in X.LABS.values():
        if (ROOT / "course_lib" / "labs" / f"{lab}.py").exists():
            importlib.import_module(f"course_lib.labs.{lab}")
    return sorted(X.REGISTRY)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_checks_its_exercises(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    calls = [c for c in cells if c["cell_type"] == "code" and 'check("' in "".join(c["source"])]
    solutions = [
        c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).lstrip().startswith("# SOLUTION")
    ]
    assert solutions, f"{path.name} has no exercise (a '# SOLUTION' cell)"
    assert calls, f'{path.name}: no cell calls check("{path.stem[:2]}.k", answer) after its exercise'
    for c in calls:
        src = "".join(c["source"])
        ex_id = src.split('check("', 1)[1].split('"', 1)[0]
        assert ex_id.startswith(path.stem[:2] + "."), f"{path.name} checks {ex_id}, another notebook's exercise"
        X.load(ex_id)


@pytest.mark.parametrize("ex_id", _registered())
def test_check_rejects_a_plausible_wrong_answer_with_a_hint(ex_id, monkeypatch):
    monkeypatch.setenv("COURSE_EXERCISES_STRICT", "0")
    ex = X.load(ex_id)
    result = X.check(ex_id, ex.wrong())
    assert not result.correct and len(result.message) > 20, result
    assert "Traceback" not in result.message


def test_no_answer_gets_a_friendly_message_and_strict_mode_fails(monkeypatch):
    ids = _registered()
    if not ids:
        pytest.skip("no exercise registered yet")
    monkeypatch.setenv("COURSE_EXERCISES_STRICT", "0")
    r = X.check(ids[0], ...)
    assert not r.correct and "No answer yet" in r.message and "✗" in r._repr_html_()
    monkeypatch.setenv("COURSE_EXERCISES_STRICT", "1")
    with pytest.raises(AssertionError, match="solution does not pass"):
        X.check(ids[0], ...)
    with pytest.raises(ValueError, match="no exercise"):
        X.check(ids[0][:3] + "99", 1)
