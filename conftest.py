"""pytest set-up for the whole course.

* Notebooks run in fast mode (COURSE_FAST=1) unless the caller set COURSE_FAST already.
* Cells marked ``# NBVAL_CHECK_OUTPUT`` are compared with the outputs recorded in
  ``tests/nbval_expected/NN_topic.json`` (notebooks themselves are committed without outputs).
  Record them with ``python tools/record_expected_outputs.py notebooks/NN_topic.ipynb``.
"""

import json
import os
from pathlib import Path

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("COURSE_EXERCISES_STRICT", "1")  # a notebook's own solution must pass its exercise check
os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

EXPECTED_DIR = Path(__file__).parent / "tests" / "nbval_expected"


def _expected(nb_name: str, cache: dict) -> dict:
    if nb_name not in cache:
        path = EXPECTED_DIR / f"{Path(nb_name).stem}.json"
        cache[nb_name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return cache[nb_name]


def pytest_collection_modifyitems(session, config, items):
    cache: dict = {}
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or "NBVAL_CHECK_OUTPUT" not in cell.get("source", ""):
            continue
        nb_name = Path(str(item.fspath)).name
        outputs = _expected(nb_name, cache).get(cell.get("id", ""))
        if outputs is None:  # the cell then fails, and its diff says what to do
            outputs = [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": f"<no recorded output for cell {cell.get('id')}: run "
                    f"`python tools/record_expected_outputs.py notebooks/{nb_name}`>\n",
                }
            ]
        import nbformat

        cell["outputs"] = [nbformat.from_dict(o) for o in outputs]
        cell["execution_count"] = 1  # nbval only compares cells that were "run"
