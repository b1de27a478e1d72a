"""d2l's rule: every public course_lib item names the notebook that defines it, and that notebook uses it in code.

"Uses" means a code cell imports it, calls it, refers to it as an attribute (``gen.sample_next``) or shows it
with ``show_source``: a name that only appears in a notebook's prose does not count.

Support code that a learner never calls directly (the exercise registry's decorator, the helpers a training script
or the DDP benchmark calls) says so instead: ``Used by: tools/train_x.py`` (or a ``course_lib``/``benchmarks`` file),
and that file must use the name in its code.
"""

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import course_lib

ROOT = Path(__file__).resolve().parent.parent


def _public_items():
    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != module.__name__:
                continue  # imported from elsewhere
            yield module.__name__, name, obj


def _names_in(src: str, names: set[str]) -> None:
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.name.split(".")[-1])


def code_names(path: Path) -> set[str]:
    """Every name a notebook's code cells (or a Python file's code) import, call, reference or read as an attribute."""
    names: set[str] = set()
    if path.suffix == ".py":
        _names_in(path.read_text(encoding="utf-8"), names)
        return names
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        _names_in("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()), names)
    return names


def test_code_names_sees_imports_calls_and_attributes_but_not_prose(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["We talk about prose_only here."]},
            {"cell_type": "code", "source": ["%matplotlib inline\n", "from m import imported\n", "x = mod.attr(1)\n"]},
        ]
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    names = code_names(path)
    assert {"imported", "attr", "mod", "x"} <= names and "prose_only" not in names


def test_every_public_item_names_an_existing_notebook_that_uses_it_in_code():
    problems, cache = [], {}
    items = list(_public_items())
    assert len(items) > 20
    for module, name, obj in items:
        m = re.search(r"Defined in: (notebooks/\S+\.ipynb)", inspect.getdoc(obj) or "")
        if not m:
            problems.append(f"{module}.{name}: docstring lacks 'Defined in: notebooks/NN_topic.ipynb'")
            continue
        path = ROOT / m.group(1)
        if not path.exists():
            problems.append(f"{module}.{name}: {m.group(1)} does not exist")
            continue
        if name in cache.setdefault(path, code_names(path)):
            continue
        used_by = re.search(r"Used by: ((?:course_lib|tools|benchmarks)/\S+\.py)", inspect.getdoc(obj) or "")
        if used_by:
            user = ROOT / used_by.group(1)
            if not user.exists():
                problems.append(f"{module}.{name}: 'Used by: {used_by.group(1)}' does not exist")
            elif name not in cache.setdefault(user, code_names(user)):
                problems.append(f"{module}.{name}: {used_by.group(1)} never uses {name} in code")
            continue
        problems.append(f"{module}.{name}: {m.group(1)} never uses {name} in code (import, call or show_source)")
    assert not problems, "\n".join(problems)
