"""The layering rule of CONTRIBUTING.md, enforced by reading every module's imports (lazy ones included).

core ← ui, concepts ← models ← labs: a model file imports no training loop, widget or plot; a concept module
imports no widget or plot; only labs import both models and widgets. And importing the GPT in a fresh
interpreter loads no widget, plotting or table library.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "course_lib"

CORE = {"__init__", "config", "errors", "checks", "nn_utils", "data", "train", "results", "course", "source",
        "article", "env"}  # fmt: skip
UI = {"widgets", "plots"}
UI_PACKAGES = {"ipywidgets", "matplotlib", "seaborn"}


def layer(module: str) -> str:
    parts = module.split(".")[1:]  # drop "course_lib"
    if not parts or parts[0] in CORE:
        return "core"
    if parts[0] == "models":
        return "models"
    if parts[0] == "labs":
        return "labs"
    return "ui" if parts[0] in UI else "concepts"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__") if rel.name == "__init__" else ".".join(rel.parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at the top or inside functions."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            for a in node.names:  # "from . import attention" imports a module
                out.add(f"{target}.{a.name}")
    return out


ALLOWED = {
    "core": {"core"},
    "ui": {"core", "ui"},
    "concepts": {"core", "concepts", "models"},
    "models": {"core", "concepts", "models"},
    "labs": {"core", "ui", "concepts", "models", "labs"},
}


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def violations() -> list[str]:
    problems = []
    for path in sorted(PKG.rglob("*.py")):
        me = module_name(path)
        mine = layer(me)
        for target in sorted(imports(path)):
            top = target.split(".")[0]
            if top in UI_PACKAGES and mine not in ("ui", "labs"):
                problems.append(f"{me} ({mine}) imports {target}: only ui and labs modules may")
            if top != "course_lib" or not _is_module(target):
                continue
            theirs = layer(target)
            if theirs not in ALLOWED[mine]:
                problems.append(f"{me} ({mine}) imports {target} ({theirs})")
            if mine == "models" and target == "course_lib.train":
                problems.append(f"{me} (a model file) imports the training loop course_lib.train")
    return problems


def test_layers_are_respected():
    problems = violations()
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_model_that_imports_widgets(tmp_path, monkeypatch):
    bad = PKG / "models" / "_layer_probe.py"
    bad.write_text("from ..widgets import Panel\nfrom ..train import train\n", encoding="utf-8")
    try:
        found = [p for p in violations() if "_layer_probe" in p]
    finally:
        bad.unlink()
    assert any("widgets" in p for p in found) and any("training loop" in p for p in found)


@pytest.mark.parametrize("module", ["course_lib.models.gpt", "course_lib.models.lstm_lm", "course_lib.generate"])
def test_importing_a_model_loads_no_ui_or_table_library(module):
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in ('ipywidgets', 'seaborn', 'matplotlib', 'pandas') if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"importing {module} loaded {out.stdout.strip()}"
