"""d2l's rule: every public course_lib item names the notebook that defines it, and that notebook uses it."""

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


def _notebook_text(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


def test_every_public_item_names_an_existing_notebook_that_mentions_it():
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
        text = cache.setdefault(path, _notebook_text(path))
        if not re.search(rf"\b{re.escape(name)}\b", text):
            problems.append(f"{module}.{name}: {m.group(1)} never mentions {name}")
    assert not problems, "\n".join(problems)
