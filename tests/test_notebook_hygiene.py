"""Notebooks are committed clean, titled with their article section, and their exercise versions are current."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers and numbers == list(range(len(numbers))), [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_or_widget_state(path):
    nb = _load(path)
    assert "widgets" not in nb.get("metadata", {}), "widget state saved: run tools/strip_notebooks.py"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, (
                f"cell {i} holds outputs: run `python tools/strip_notebooks.py {path.relative_to(ROOT)}`"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_quotes_article_section_in_chinese(path):
    first = _load(path)["cells"][0]
    title = "".join(first["source"]).splitlines()[0]
    assert first["cell_type"] == "markdown" and title.startswith(f"# {path.name[:2]} · ")
    if path.name[:2] != "00":
        assert re.search(r"§\d", title), f"title names no article section: {title}"
        assert re.search(r"[\u4e00-\u9fff]", title), f"title quotes no Chinese heading: {title}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] != "00"], ids=lambda p: p.name)
def test_notebook_has_an_exercise_with_a_solution_and_a_summary(path):
    cells = _load(path)["cells"]
    text = ["".join(c["source"]) for c in cells]
    assert any(t.lstrip().startswith("**Exercise") for c, t in zip(cells, text) if c["cell_type"] == "markdown")
    assert any(t.lstrip().startswith("# SOLUTION") for c, t in zip(cells, text) if c["cell_type"] == "code")
    assert any(re.match(r"#+ .*(Summary|summary)", t.lstrip()) for t in text)


def test_no_notebook_swallows_errors_or_evals_input():
    for path in NOTEBOOKS:
        src = "\n".join("".join(c["source"]) for c in _load(path)["cells"] if c["cell_type"] == "code")
        assert not re.search(r"except[^\n:]*:\s*\n\s*pass\b", src), path.name
        assert not re.search(r"\beval\(", src), path.name


def test_clean_versions_are_generated_and_current(tmp_path):
    spec = importlib.util.spec_from_file_location("make_clean", ROOT / "tools" / "make_clean_notebooks.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    for fresh in tool.generate(tmp_path):
        committed = ROOT / "clean" / fresh.name
        assert committed.exists(), f"clean/{fresh.name} missing: run python tools/make_clean_notebooks.py"
        assert committed.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
            f"clean/{fresh.name} is out of date: run python tools/make_clean_notebooks.py"
        )
    extra = {p.name for p in (ROOT / "clean").glob("*.ipynb")} - {p.name for p in NOTEBOOKS}
    assert not extra, f"clean/ has notebooks with no source notebook: {extra}"
