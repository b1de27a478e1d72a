"""The set-up files agree with each other: pins, Binder, CI, README commands."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins(path):
    pins = {}
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_requirements_are_pinned_commented_and_install_the_package():
    lines = [l for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    for line in lines:
        assert "#" in line, f"requirements line without a comment saying who needs it: {line}"
        spec = line.split("#")[0].strip()
        assert "==" in spec or spec == "-e .", f"not pinned exactly: {spec}"
    assert _pins("requirements.txt")["torch"], "torch must be pinned exactly"


def test_binder_pins_match_requirements_with_cpu_torch():
    root, binder = _pins("requirements.txt"), _pins("binder/requirements.txt")
    assert binder.pop("torch") == root.pop("torch") + "+cpu"
    assert binder == root
    assert "download.pytorch.org/whl/cpu" in (ROOT / "binder/requirements.txt").read_text()
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"


def test_readme_has_exactly_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lab = (
        "python -m pip install -r requirements.txt && "
        "python -m jupyter lab --ServerApp.root_dir=. notebooks/00_start_here.ipynb"
    )
    test = "python -m pip install -r requirements-dev.txt && python -m pytest"
    assert lab in readme and test in readme
    assert test in (ROOT / ".ci/run").read_text()
    for text in (readme, (ROOT / ".ci/run").read_text()):
        assert (
            "NotebookApp.token=''" not in text
            and "ServerApp.token=''" not in text
            and "--no-browser --ip=0.0.0.0" not in text
        )
