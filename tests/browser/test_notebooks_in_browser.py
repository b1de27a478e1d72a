"""The course in a real browser: JupyterLab opens, runs and shows notebooks 00, 04 and 05 as a learner sees them.

One JupyterLab server (fast mode, ``COURSE_FAST=1``) and one headless Chromium for the whole file; each
notebook is opened through JupyterLab's URL, checked to open and close without becoming "modified",
opened again from the file browser and run with Run → Run All Cells. Then, in the page:

* no cell shows an error, and every code cell ran;
* every widget renders as controls (not "Loading widget…", not a model-not-found error);
* tqdm progress bars render as bars (not tqdm's text fallback, not "IProgress not found");
* every course :class:`~course_lib.widgets.Panel` (found by its title) shows exactly what its render
  function returns for the values on screen, and keeps doing so when the test types into its text
  boxes, moves its sliders and picks options (controls found by their labels). The expected output is
  computed by the notebook's own kernel through ``Panel.refresh``'s code, so it uses the notebook's
  models and data and the lab functions in ``course_lib.labs`` (see ``labdriver.KernelProbe``).
  Panels built by the lab functions below also get scripted inputs, including the empty and unknown
  inputs that must produce a friendly message.

Skips with the reason when Playwright or Chromium is missing (see ``conftest.py``).
"""

from __future__ import annotations

import json
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labdriver import TIMINGS, KernelProbe, NotebookPage, connection_file, decode_png, norm_space, save_failure

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["00_start_here", "04_attention", "05_text_generation"]

# The lab functions whose panels each notebook must show (matched through the render function's module
# and qualified name, so a notebook can change how it calls them).
REQUIRED_PANELS = {
    "00_start_here": ["course_lib.labs.tour.speaker_panel"],
    "04_attention": ["course_lib.labs.attention.saturation_panel", "course_lib.labs.attention.attention_viewer_panel"],
    "05_text_generation": ["course_lib.labs.generation.sampling_panel"],
}


@dataclass
class Step:
    """One learner action on a panel: ``kind`` is "type", "select" or "slide" (``value``: text, option
    label or a regular expression for one, or a number of arrow-key presses, the sign chosen to stay in range).
    ``error``: True when the panel must answer with its friendly message, False when it must not, None: either.
    """

    control: str
    kind: str
    value: object
    error: bool | None = None
    changes: bool = True


# Scripted inputs per lab function (control names are the render function's keyword arguments).
SCENARIOS = {
    "course_lib.labs.tour.speaker_panel": [
        Step("name", "type", "juliet", error=False),
        Step("name", "type", "", error=True),
        Step("name", "type", "ROMOE", error=True),
    ],
    "course_lib.labs.attention.saturation_panel": [
        Step("d", "slide", 1, error=False),
        Step("d", "slide", 3, error=False),
    ],
    "course_lib.labs.attention.attention_viewer_panel": [
        Step("layer", "slide", 1, error=False),
        Step("head", "slide", 1, error=False),
        Step("passage", "select", re.compile(r"type your own"), error=True),  # the text box is still empty
        Step("text", "type", "ROMEO@home", error=True),  # '@' is not in Tiny Shakespeare
        Step("text", "type", "ROMEO: to be or not", error=False),
    ],
    "course_lib.labs.generation.sampling_panel": [
        Step("prompt", "type", "", error=True),
        Step("prompt", "type", "ROMEO@", error=True),  # '@' is not in Tiny Shakespeare
        Step("prompt", "type", "JULIET:", error=False),
        Step("temperature", "slide", 10, error=False),  # 0.8 → 1.3: a few steps may not change 40 sampled characters
        Step("strategy", "select", "greedy", error=False),
        Step("length", "slide", 2, error=False),
    ],
}


@dataclass
class RunNotebook:
    name: str
    page: NotebookPage
    probe: KernelProbe
    artifacts: Path
    source: str
    opened_clean: dict = field(default_factory=dict)


@pytest.fixture(scope="module", params=NOTEBOOKS)
def notebook(request, lab_server, browser_context, artifacts):
    """Open, check clean, close, reopen, Run All: one notebook, shared by the tests below."""
    name = request.param
    rel = f"notebooks/{name}.ipynb"
    path = REPO / rel
    before = path.read_bytes()
    nb_page = NotebookPage(browser_context.new_page(), lab_server, rel)
    folder = artifacts / name
    probe = None
    try:
        TIMINGS[f"{name}: open"] = nb_page.open()
        time.sleep(2)  # time for any late metadata change to show as "modified"
        clean = {"dirty": nb_page.is_dirty()}
        nb_page.screenshot(folder / "opened.png")
        clean["dialogs"] = nb_page.close_tab()
        clean["file_unchanged"] = path.read_bytes() == before
        if clean["dialogs"]:  # answer JupyterLab's "save changes?" without saving
            nb_page.page.get_by_role("button", name=re.compile("Discard|Don't Save", re.I)).first.click()
        nb_page.reopen_from_file_browser()
        TIMINGS[f"{name}: run all (fast mode)"] = nb_page.run_all()
        nb_page.screenshot(folder / "after-run-all.png")
        probe = KernelProbe(connection_file(lab_server, rel))
    except Exception:
        save_failure(nb_page, artifacts, f"{name}-setup")
        raise
    yield RunNotebook(name, nb_page, probe, folder, path.read_text(encoding="utf-8"), clean)
    if probe is not None:
        probe.close()
    nb_page.page.close()
    lab_server.shutdown_session(rel)
    assert path.read_bytes() == before, f"{rel} was changed on disk by the browser test"


def test_opening_and_closing_does_not_modify_the_notebook(notebook):
    clean = notebook.opened_clean
    stored = json.loads(notebook.source).get("metadata", {}).get("language_info", {})
    assert not clean["dirty"], (
        f"{notebook.name}: JupyterLab marks the notebook modified right after opening it. It does so whenever the "
        f"kernel's language_info differs from the notebook's in any field, the Python version included: the notebook "
        f"says {stored.get('version')!r}, this Python is {platform.python_version()!r}. "
        "Run `python tools/strip_notebooks.py` with the course's Python."
    )
    assert not clean["dialogs"], f"{notebook.name}: closing the untouched notebook asked: {clean['dialogs']}"
    assert clean["file_unchanged"], f"{notebook.name}: opening and closing changed the file"


def test_every_cell_runs_without_an_error_output(notebook):
    page = notebook.page
    errors = page.error_outputs()
    assert not errors, f"{notebook.name}: {len(errors)} error output(s); the first:\n{errors[0][:3000]}"
    prompts = page.code_cell_prompts()
    not_run = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
    assert prompts and not not_run, f"{notebook.name}: code cells without an execution count: {not_run} ({prompts})"


def test_every_widget_renders_as_controls(notebook):
    page = notebook.page
    problems = page.unrendered_widgets()
    assert not problems, f"{notebook.name}: widgets that did not render:\n" + "\n".join(t[:300] for t in problems)
    n = page.widget_outputs().count()
    assert n > 0, f"{notebook.name}: no widget output at all"
    panels = page.panels()
    assert panels, f"{notebook.name}: no course Panel (a VBox titled <b>…</b>) found in the page"
    for p in panels:
        out = page.panel_output(p["index"])
        assert norm_space(out["text"]) or out["png"], f"{notebook.name}: panel {p['title']!r} shows nothing"
        page.screenshot(notebook.artifacts / f"panel-{p['index']}-{_slug(p['title'])}.png", page.panel(p["index"]))


def test_progress_bars_render_as_bars(notebook):
    page = notebook.page
    texts = page.all_output_texts()
    assert not [t for t in texts if "IProgress not found" in t], f"{notebook.name}: tqdm could not find ipywidgets"
    text_bars = [t for t in texts if re.search(r"\d+%\|.*\|\s*\d+/\d+", t)]
    assert not text_bars, f"{notebook.name}: tqdm fell back to text bars: {text_bars[0][:300]!r}"
    if "train(" not in notebook.source and "tqdm" not in notebook.source:
        pytest.skip(f"{notebook.name} has no training loop or tqdm loop")
    bars = page.progress_bars()
    assert bars.count() > 0, f"{notebook.name}: trains but shows no progress bar widget"
    for i in range(bars.count()):
        bar = bars.nth(i)
        inner = bar.locator(".progress-bar").first
        width = inner.evaluate("(e) => e.getBoundingClientRect().width")
        failed = "danger" in (inner.get_attribute("class") or "")  # a run that stopped at its first step, on purpose
        assert width > 0 or failed, f"{notebook.name}: progress bar {i} is empty (width {width})"
        row = bar.locator("xpath=..")  # tqdm's HBox: description, bar, counts
        assert re.search(r"\d+/\d+", row.text_content() or ""), f"{notebook.name}: bar {i} has no n/total counter"
        if i < 3:
            page.screenshot(notebook.artifacts / f"progress-bar-{i}.png", row)


def test_panels_react_as_their_render_functions_say(notebook):
    page, probe = notebook.page, notebook.probe
    kernel_panels = {p["title"]: p for p in probe.panels() if p["title"]}
    dom_panels = page.panels()
    builders = {kernel_panels[p["title"]]["builder"] for p in dom_panels if p["title"] in kernel_panels}
    for required in REQUIRED_PANELS[notebook.name]:
        assert required in builders, (
            f"{notebook.name}: no panel built by {required} is shown; panels on the page: "
            f"{[(p['title'], kernel_panels.get(p['title'], {}).get('builder')) for p in dom_panels]}"
        )
    for p in dom_panels:
        info = kernel_panels.get(p["title"])
        assert info is not None, f"{notebook.name}: panel {p['title']!r} is on the page but not in the kernel"
        _check_shows(page, probe, p, {}, f"{p['title']!r} as first shown")
        steps = SCENARIOS.get(info["builder"]) or _generic_steps(info)
        for n, step in enumerate(steps, 1):
            _do_step(notebook, p, info, step, n)


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-")[:40].lower()


def _generic_steps(info: dict) -> list[Step]:
    """For a panel without a script: each control once (sliders a step, drop-downs another option, text empty)."""
    steps = []
    for key, c in info["controls"].items():
        kind = c["type"]
        if kind.endswith("Slider"):
            steps.append(Step(key, "slide", 1))
        elif kind in ("Dropdown", "Select", "RadioButtons") and len(c.get("options", [])) > 1:
            current = c.get("options").index(c["value"]) if c["value"] in c.get("options") else 0
            steps.append(Step(key, "select", c["options"][(current + 1) % len(c["options"])]))
        elif kind in ("Text", "Textarea"):
            steps.append(Step(key, "type", ""))
    return steps


def _do_step(notebook: RunNotebook, p: dict, info: dict, step: Step, n: int) -> None:
    page, probe = notebook.page, notebook.probe
    control = info["controls"].get(step.control)
    assert control is not None, f"panel {p['title']!r} has no control {step.control!r}: {list(info['controls'])}"
    label, where = control["description"], f"{p['title']!r}, step {n}: {step.kind} {step.control}={step.value!r}"
    before = page.panel_output(p["index"])
    if step.kind == "type":
        page.type_text(p["index"], label, step.value)
        wanted = step.value
    elif step.kind == "select":
        options = control.get("options", [])
        if isinstance(step.value, re.Pattern):
            wanted = next((o for o in options if step.value.search(o)), None)
            assert wanted is not None, f"{where}: no option matches; options {options}"
        else:
            wanted = step.value
        page.choose(p["index"], label, wanted)
    elif step.kind == "slide":
        current = _current_value(probe, p["title"], step.control)
        steps = int(step.value)
        at_top = control.get("max") is not None and _num(current) >= _num(control["max"])
        if at_top or (control["type"] == "SelectionSlider" and _is_last_option(control, current)):
            steps = -steps
        readout = page.nudge_slider(p["index"], label, steps)
        wanted = _num(readout) if control["type"] != "SelectionSlider" else readout
    else:
        raise AssertionError(f"unknown step kind {step.kind}")
    shown = _check_shows(page, probe, p, {step.control: wanted}, where)
    if step.error is True:
        assert shown["error"], f"{where}: the render function accepted this input; expected a friendly message"
        assert norm_space(shown["browser"]["text"]).startswith("⚠"), f"{where}: the message is not shown as a warning"
    elif step.error is False:
        assert not shown["error"], f"{where}: unexpected message {shown['error']!r}"
    if step.changes:
        assert shown["browser"] != before, f"{where}: the panel's output did not change"
    page.screenshot(notebook.artifacts / f"panel-{p['index']}-{_slug(p['title'])}-step{n}.png", page.panel(p["index"]))


def _current_value(probe: KernelProbe, title: str, key: str):
    values = [p["controls"][key]["value"] for p in probe.panels() if p["title"] == title]
    return values[0] if values else None


def _is_last_option(control: dict, current) -> bool:
    options = control.get("options") or []
    return bool(options) and str(current) == str(options[-1])


def _num(s):
    if isinstance(s, (int, float)):
        return s
    s = str(s).strip()
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


def _check_shows(page: NotebookPage, probe: KernelProbe, p: dict, wanted: dict, where: str, timeout=90.0) -> dict:
    """Wait until the kernel's panel holds ``wanted`` and the page shows what the render function returns for it."""
    deadline = time.monotonic() + timeout
    while True:
        expected = probe.expected(p["title"], wanted)  # asked again each time: the kernel may still be catching up
        browser = page.panel_output(p["index"])
        seen = (norm_space(browser["text"]), decode_png(browser["png"]))
        for r in expected.get("results", []):
            if seen == (norm_space(page.text_of_html(r["html"])), decode_png(r["png"])):
                return {"browser": browser, "error": r["error"], "values": r["values"]}
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not expected.get("matching"):
        raise AssertionError(
            f"{where}: the kernel's panel never took the value set in the browser {wanted}; its values: "
            f"{json.dumps(expected.get('values'), default=str)[:500]}"
        )
    r = expected["results"][0]
    raise AssertionError(
        f"{where}: the page does not show what the render function returns for {wanted} "
        f"(kernel values {json.dumps(r['values'], default=str)[:300]}).\n"
        f"  page text:     {seen[0][:400]!r}\n  expected text: {norm_space(page.text_of_html(r['html']))[:400]!r}\n"
        f"  page image: {len(seen[1] or b'')} bytes, expected image: {len(decode_png(r['png']) or b'')} bytes"
    )
