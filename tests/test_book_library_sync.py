"""d2l's rule: every public course_lib item names the notebook that defines it, and that notebook uses it in code.

"Uses" means a code cell imports it, calls it, refers to it as an attribute (``gen.sample_next``) or shows it
with ``show_source``: a name that only appears in a notebook's prose does not count.
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


def code_names(path: Path) -> set[str]:
    """Every name a notebook's code cells import, call, reference or read as an attribute."""
    names: set[str] = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines())
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.name.split(".")[-1])
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
        if name not in cache.setdefault(path, code_names(path)):
            problems.append(f"{module}.{name}: {m.group(1)} never uses {name} in code (import, call or show_source)")
    assert not problems, "\n".join(problems)
