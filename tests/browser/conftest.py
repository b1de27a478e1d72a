"""Fixtures of the real-browser tests: one JupyterLab server and one headless Chromium for the whole run.

The tests skip, with the reason, when Playwright (requirements-dev.txt) or a system Chromium
(``apt-get install chromium``, or ``COURSE_CHROMIUM=/path/to/chrome``) is missing, so a learner's plain
``python -m pytest`` passes without them. ``COURSE_BROWSER_TESTS=required`` (set by ``.ci/run``) turns
that skip into a failure; ``COURSE_BROWSER_TESTS=off`` skips them on purpose.

Screenshots of every checked widget go to ``COURSE_BROWSER_ARTIFACTS`` (default: a
``course-browser-artifacts`` folder in the system's temporary folder), printed at the end of the run;
a failing test adds the page's screenshot and the browser's console log there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from labdriver import CHROMIUM_ARGS, TIMINGS, LabServer, find_chromium, make_workdir, save_failure

REPO = Path(__file__).resolve().parents[2]
_STATE: dict = {"artifacts": None, "skip": None}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if os.environ.get("COURSE_BROWSER_TESTS", "").lower() == "off":
        return "COURSE_BROWSER_TESTS=off"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (python -m pip install -r requirements-dev.txt)"
    if find_chromium() is None:
        return "no Chromium found (Debian/Ubuntu: apt-get install chromium; or set COURSE_CHROMIUM to a Chrome binary)"
    return None


def _require_browser() -> None:
    reason = browser_unavailable()
    if reason is None:
        return
    _STATE["skip"] = reason
    if os.environ.get("COURSE_BROWSER_TESTS", "").lower() == "required":
        pytest.fail(f"browser tests required (COURSE_BROWSER_TESTS=required) but cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    _require_browser()
    default = Path(tempfile.gettempdir()) / "course-browser-artifacts"
    path = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS") or default)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    _STATE["artifacts"] = path
    return path


@pytest.fixture(scope="session")
def lab_server(artifacts):
    server = LabServer(REPO, make_workdir(), {"COURSE_FAST": os.environ.get("COURSE_FAST", "1")})
    TIMINGS["JupyterLab server start"] = server.start()
    yield server
    server.stop()
    shutil.copy(server.log_path, artifacts / "jupyterlab.log")
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_context(lab_server, artifacts):
    from playwright.sync_api import sync_playwright

    user_data = Path(tempfile.mkdtemp(prefix="course-chromium-"))
    pw = sync_playwright().start()
    t0 = time.monotonic()
    context = pw.chromium.launch_persistent_context(
        str(user_data),
        executable_path=find_chromium(),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1300},
    )
    TIMINGS["Chromium start"] = time.monotonic() - t0
    yield context
    context.close()
    pw.stop()
    shutil.rmtree(user_data, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    nb = item.funcargs.get("notebook") if hasattr(item, "funcargs") else None
    if report.failed and nb is not None and _STATE["artifacts"] is not None:
        saved = save_failure(nb.page, _STATE["artifacts"], f"{item.name}-{report.when}")
        report.sections.append(("browser artifacts", "\n".join(str(p) for p in saved)))


def pytest_terminal_summary(terminalreporter):
    if _STATE["skip"]:
        terminalreporter.write_line(f"browser tests skipped: {_STATE['skip']}", yellow=True)
    if _STATE["artifacts"] is not None:
        terminalreporter.write_sep("-", "browser tests")
        for what, secs in TIMINGS.items():
            terminalreporter.write_line(f"{what}: {secs:.1f} s")
        terminalreporter.write_line(f"widget screenshots and failure artifacts: {_STATE['artifacts']}")
