"""Drive the course in a real JupyterLab with a real browser (Playwright + the system's Chromium).

Used by ``tests/browser/``; nothing here is course content. Three pieces:

* :class:`LabServer` starts ``python -m jupyter lab`` on a free loopback port with a random token,
  in throw-away Jupyter config/runtime/settings folders (autosave off, so a test never writes a
  notebook), and waits until it answers.
* :class:`NotebookPage` opens a notebook through JupyterLab's own URL, runs it with the "Run All
  Cells" menu item, and reads what the page shows: cell prompts, error outputs, widget views,
  progress bars, and the course's :class:`course_lib.widgets.Panel` s (found by their titles, controls
  by their labels).
* :class:`KernelProbe` connects to the notebook's own kernel (its connection file) and asks it what
  a panel *should* show for the values the browser set: it finds the panel object by title and calls
  ``Panel.refresh``'s own code on a stand-in, so the expected output comes from the same render
  function, with the notebook's models and data, without touching the live widgets.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMINGS: dict[str, float] = {}  # what took how long (printed at the end of the run)


def find_chromium() -> str | None:
    """The system Chromium (``COURSE_CHROMIUM`` overrides); ``None`` when there is none."""
    candidates = [os.environ.get("COURSE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    candidates += [shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    """User settings for the test's JupyterLab: no autosave (never write a notebook), no news pop-up."""
    files = {
        "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    }
    for rel, value in files.items():
        path = settings_dir / "@jupyterlab" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")


@dataclass
class LabServer:
    """A JupyterLab server for one test session (call :meth:`start`, then :meth:`stop`)."""

    root_dir: Path
    workdir: Path
    env_overrides: dict = field(default_factory=dict)
    port: int = 0
    token: str = ""
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime_dir(self) -> Path:
        return self.workdir / "runtime"

    @property
    def log_path(self) -> Path:
        return self.workdir / "jupyterlab.log"

    def start(self, timeout: float = 180.0) -> float:
        """Start the server and wait until its REST API answers; returns the seconds it took."""
        self.port, self.token = free_port(), secrets.token_hex(24)
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
            "IPYTHONDIR": "ipython",
        }
        env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_TOKEN", "JUPYTER_PATH")}
        for var, sub in dirs.items():
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.workdir / sub)
        _write_settings(self.workdir / "lab-settings")
        env.update(self.env_overrides)
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        t0 = time.monotonic()
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root_dir)
        log.close()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return time.monotonic() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() - t0 > timeout:
                    self.stop()
                    raise RuntimeError(
                        f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.25)

    def api(self, method: str, path: str, body=None):
        """Call the server's REST API with the token; returns the decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def session_for(self, rel_path: str) -> dict | None:
        for s in self.api("GET", "/api/sessions"):
            if s.get("path") == rel_path:
                return s
        return None

    def kernel_state(self, rel_path: str) -> str | None:
        s = self.session_for(rel_path)
        return None if s is None else s["kernel"]["execution_state"]

    def shutdown_session(self, rel_path: str) -> None:
        s = self.session_for(rel_path)
        if s is not None:
            self.api("DELETE", f"/api/sessions/{s['id']}")

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)


# ------------------------------------------------------------------------------------------------
# The notebook's kernel, asked directly
# ------------------------------------------------------------------------------------------------

_KERNEL_HELPERS = r'''
def _course_browser_panels():
    """Every live course Panel: title, builder, controls (what the browser test needs to find it)."""
    import gc, html, json, re
    from course_lib.widgets import Panel
    out = []
    for p in gc.get_objects():
        if not issubclass(type(p), Panel):  # type(), not isinstance(): gc also yields dead weakref proxies
            continue
        head = p.widget.children[0] if p.widget.children else None
        raw = getattr(head, "value", "") if head is not None and head.__class__.__name__ == "HTML" else ""
        title = html.unescape(re.sub(r"<[^>]+>", "", raw)) if raw.startswith("<b>") else None
        render = p.render
        builder = f"{getattr(render, '__module__', '?')}.{getattr(render, '__qualname__', '?')}".split(".<locals>")[0]
        controls = {}
        for key, c in p.controls.items():
            info = {"description": getattr(c, "description", ""), "type": type(c).__name__,
                    "value": c.label if hasattr(c, "_options_labels") else c.value}
            for attr in ("min", "max", "step"):
                if hasattr(c, attr):
                    info[attr] = getattr(c, attr)
            if hasattr(c, "_options_labels"):
                info["options"] = list(c._options_labels)
            controls[key] = info
        out.append({"title": title, "builder": builder, "controls": controls})
    print(json.dumps(out, default=str))


def _course_browser_expected(title, wanted):
    """What the panel titled ``title`` shows for the control values ``wanted``, through Panel.refresh's code."""
    import base64, gc, html, json, math, re, types
    from course_lib.widgets import Panel

    def same(a, b):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
        return a == b

    def title_of(p):
        head = p.widget.children[0] if p.widget.children else None
        raw = getattr(head, "value", "") if head is not None else ""
        return html.unescape(re.sub(r"<[^>]+>", "", raw)) if isinstance(raw, str) and raw.startswith("<b>") else None

    panels = [p for p in gc.get_objects() if issubclass(type(p), Panel) and title_of(p) == title]
    def shown(c):  # what the learner sees: a selection control's label, otherwise its value
        return c.label if hasattr(c, "_options_labels") else c.value

    matching = [p for p in panels if all(k in p.controls and same(shown(p.controls[k]), v) for k, v in wanted.items())]
    if not matching:
        print(json.dumps({"found": len(panels), "matching": 0,
                          "values": [{k: shown(c) for k, c in p.controls.items()} for p in panels]}, default=str))
        return
    results = []
    for p in matching:
        values = dict(p.values())
        probe = types.SimpleNamespace(
            render=p.render, values=lambda values=values: values, result=None, text="", error=None,
            _html=types.SimpleNamespace(value=""),
            _image=types.SimpleNamespace(value=b"", layout=types.SimpleNamespace(display="none")),
        )
        probe._show_html = types.MethodType(Panel._show_html, probe)
        Panel.refresh(probe)  # the panel's own code path: render(**values) -> HTML / figure / message
        shows_image = probe._image.layout.display != "none"
        results.append({
            "values": values, "html": probe._html.value, "text": probe.text, "error": probe.error,
            "png": base64.b64encode(probe._image.value).decode() if shows_image else None,
        })
    print(json.dumps({"found": len(panels), "matching": len(matching), "results": results}, default=str))
'''


class KernelProbe:
    """A second client of a notebook's kernel (through its connection file) for the expected outputs."""

    def __init__(self, connection_file: Path):
        from jupyter_client import BlockingKernelClient

        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.run(_KERNEL_HELPERS)

    def run(self, code: str, timeout: float = 120.0) -> str:
        """Execute code silently in the kernel (no history, no prompt number); return its stdout."""
        chunks: list[str] = []
        errors: list[str] = []

        def hook(msg):
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                chunks.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        reply = self.client.execute_interactive(
            code, silent=False, store_history=False, output_hook=hook, timeout=timeout, allow_stdin=False
        )
        if reply["content"]["status"] != "ok" or errors:
            raise RuntimeError("code sent to the notebook's kernel failed:\n" + "\n".join(errors))
        return "".join(chunks)

    def panels(self) -> list[dict]:
        return json.loads(self.run("_course_browser_panels()"))

    def expected(self, title: str, wanted: dict) -> dict:
        return json.loads(self.run(f"_course_browser_expected({title!r}, {json.loads(json.dumps(wanted))!r})"))

    def close(self) -> None:
        self.client.stop_channels()


# ------------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------------

_PANELS_JS = r"""
() => {
  // A course Panel is a VBox whose first child is an HTML widget holding <b>title</b>.
  const found = [];
  document.querySelectorAll('.jp-Notebook .widget-vbox').forEach((box) => {
    const head = box.firstElementChild;
    if (!head || !head.classList.contains('widget-html')) return;
    const b = head.querySelector('.widget-html-content > b');
    if (!b) return;
    const cell = box.closest('.jp-Cell');
    const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
    box.setAttribute('data-course-panel', String(found.length));
    found.push({index: found.length, title: b.textContent, cell: cells.indexOf(cell)});
  });
  return found;
}
"""

_PANEL_OUTPUT_JS = r"""
async (box) => {
  const kids = Array.from(box.children);
  const htmls = kids.filter((k) => k.classList.contains('widget-html'));
  const out = htmls.length > 1 ? htmls[htmls.length - 1] : null;
  const img = kids.find((k) => k.tagName === 'IMG' && k.classList.contains('widget-image'));
  let png = null;
  if (img && getComputedStyle(img).display !== 'none' && img.src) {
    const buf = await (await fetch(img.src)).arrayBuffer();
    let s = '';
    const bytes = new Uint8Array(buf);
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    png = btoa(s);
  }
  return {text: out ? out.textContent : null, png: png};
}
"""

_TEXT_OF_HTML_JS = "(s) => { const d = document.createElement('div'); d.innerHTML = s; return d.textContent; }"


def norm_space(s: str | None) -> str:
    return " ".join((s or "").split())


class NotebookPage:
    """One notebook open in JupyterLab in a Playwright page."""

    def __init__(self, page, server: LabServer, rel_path: str):
        self.page, self.server, self.rel_path = page, server, rel_path
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))

    # -- opening, closing, running ---------------------------------------------------------------
    def open(self, timeout: float = 120.0) -> float:
        """Open the notebook through JupyterLab's URL; wait until its kernel is idle. Returns seconds."""
        t0 = time.monotonic()
        self.page.goto(self.server.url(f"/lab/tree/{self.rel_path}?reset"), timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout - (time.monotonic() - t0))
        return time.monotonic() - t0

    def wait_kernel_idle(self, timeout: float = 120.0, settle: float = 1.5) -> None:
        """Until the server reports the notebook's kernel idle and the page's kernel status says so too."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.kernel_state(self.rel_path) == "idle" and self.status_bar_idle():
                time.sleep(settle)
                if self.server.kernel_state(self.rel_path) == "idle":
                    return
            time.sleep(0.25)
        raise TimeoutError(f"the kernel of {self.rel_path} is not idle after {timeout:.0f} s")

    def status_bar_idle(self) -> bool:
        text = self.page.locator(".jp-StatusBar-Widget").all_text_contents()
        return any("Idle" in t for t in text)

    def tab(self):
        name = Path(self.rel_path).name
        return self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name)

    def is_dirty(self) -> bool:
        return "jp-mod-dirty" in (self.tab().first.get_attribute("class") or "")

    def close_tab(self) -> list[str]:
        """Close the notebook's tab with its close icon; returns the texts of any dialog that appears."""
        self.tab().first.locator(".lm-TabBar-tabCloseIcon").click()
        dialogs = []
        try:
            self.page.wait_for_selector(".jp-Dialog", timeout=3000)
            dialogs = self.page.locator(".jp-Dialog").all_text_contents()
        except Exception as e:  # noqa: BLE001  (Playwright's TimeoutError: no dialog is what we hope for)
            if "Timeout" not in type(e).__name__:
                raise
        return dialogs

    def reopen_from_file_browser(self, timeout: float = 60.0) -> None:
        """Open the notebook again by double-clicking it in JupyterLab's file browser."""
        name = Path(self.rel_path).name
        item = self.page.locator(".jp-DirListing-item", has_text=name).first
        item.dblclick()
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def run_all(self, timeout: float = 600.0) -> float:
        """Run → Run All Cells (JupyterLab's menu); wait until no cell is queued or running. Returns seconds."""
        t0 = time.monotonic()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.page.wait_for_function(  # the first cell is queued or has run
            "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))"
            ".some((p) => /\\[(\\*|\\d+)\\]/.test(p.textContent))",
            timeout=60_000,
        )
        deadline = t0 + timeout
        quiet, idle_since = 0, None
        while time.monotonic() < deadline:
            busy = self.page.evaluate(
                "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))"
                ".filter((p) => p.textContent.includes('*')).length"
            )
            idle = self.server.kernel_state(self.rel_path) == "idle"
            idle_since = (idle_since or time.monotonic()) if idle else None
            quiet = quiet + 1 if busy == 0 and idle else 0
            if quiet >= 3:
                return time.monotonic() - t0
            # After an error JupyterLab can leave a queued cell showing [*] with the kernel idle: the run is
            # over (the tests then report the error and the cells that did not run).
            if idle_since is not None and time.monotonic() - idle_since > 20:
                return time.monotonic() - t0
            time.sleep(0.5)
        prompts = self.code_cell_prompts()
        running = [i for i, t in enumerate(prompts) if "*" in t]
        raise TimeoutError(
            f"{self.rel_path}: cells still queued or running after {timeout:.0f} s: code cells {running} of "
            f"{len(prompts)}; kernel {self.server.kernel_state(self.rel_path)}"
        )

    # -- reading the page ------------------------------------------------------------------------------
    def code_cell_prompts(self) -> list[str]:
        return [
            t.strip()
            for t in self.page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea .jp-InputPrompt").all_text_contents()
        ]

    def error_outputs(self) -> list[str]:
        """Texts of error outputs (a traceback or an error name line) in any cell."""
        texts = self.page.locator(
            ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_text_contents()
        return [
            t
            for t in texts
            if re.search(r"Traceback \(most recent call last\)|^\s*-{20,}\s*\n?\s*\w+(Error|Exception)", t)
        ]

    def all_output_texts(self) -> list[str]:
        return self.page.locator(".jp-Notebook .jp-OutputArea-output").all_text_contents()

    def widget_outputs(self):
        """Outputs rendered by the widget manager (a widget view is the output's own child)."""
        return self.page.locator(".jp-Notebook .jp-OutputArea-output:has(> .jupyter-widgets)")

    def unrendered_widgets(self) -> list[str]:
        """Outputs where a widget should be but is not: the manager's placeholders and errors, or a widget's
        plain-text repr (what JupyterLab shows when the widget manager is missing)."""
        bad = []
        for t in self.all_output_texts():
            if re.search(r"Loading widget|Error displaying widget|model not found|Failed to load model", t, re.I):
                bad.append(t)
        plain = self.page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type='text/plain']")
        widget_repr = r"\s*(VBox|HBox|Box|[A-Z]\w*(Slider|Progress|Text|Dropdown|HTML))\((children|value|description)="
        bad += [t for t in plain.all_text_contents() if re.match(widget_repr, t)]
        return bad

    def progress_bars(self):
        return self.page.locator(".jp-Notebook .jp-OutputArea-output .jupyter-widgets .widget-hprogress")

    def panels(self) -> list[dict]:
        return self.page.evaluate(_PANELS_JS)

    def panel(self, index: int):
        return self.page.locator(f"[data-course-panel='{index}']")

    def panel_output(self, index: int) -> dict:
        return self.panel(index).evaluate(_PANEL_OUTPUT_JS)

    def text_of_html(self, s: str) -> str:
        return self.page.evaluate(_TEXT_OF_HTML_JS, s)

    # -- controls (found by their labels) ---------------------------------------------------------------
    def control(self, index: int, description: str):
        return (
            self.panel(index)
            .locator(".widget-inline-hbox")
            .filter(has=self.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(description)}$")))
            .first
        )

    def type_text(self, index: int, description: str, value: str) -> None:
        box = self.control(index, description).locator("input, textarea").first
        box.fill(value)
        box.press("Enter")

    def choose(self, index: int, description: str, label: str) -> None:
        self.control(index, description).locator("select").select_option(label=label)

    def nudge_slider(self, index: int, description: str, steps: int) -> str:
        """Move a slider by keyboard (its handle focused, arrow keys); returns the readout text after."""
        ctl = self.control(index, description)
        handle = ctl.locator(".noUi-handle").first
        handle.focus()
        for _ in range(abs(steps)):
            handle.press("ArrowRight" if steps > 0 else "ArrowLeft")
        handle.blur()
        readout = ctl.locator(".widget-readout").first
        last, stable_since = None, time.monotonic()
        while time.monotonic() - stable_since < 1.0:  # until the readout has not changed for a second
            now = readout.text_content().strip()
            if now != last:
                last, stable_since = now, time.monotonic()
            time.sleep(0.2)
        return last

    def screenshot(self, path: Path, locator=None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        (locator or self.page).screenshot(path=str(path))
        return path


def decode_png(b64: str | None) -> bytes | None:
    return None if b64 is None else base64.b64decode(b64)


def connection_file(server: LabServer, rel_path: str) -> Path:
    session = server.session_for(rel_path)
    if session is None:
        raise RuntimeError(f"no kernel session for {rel_path}")
    path = server.runtime_dir / f"kernel-{session['kernel']['id']}.json"
    if not path.exists():
        raise RuntimeError(f"kernel connection file missing: {path}")
    return path


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="course-lab-"))


def save_failure(nb_page, artifacts: Path, name: str) -> list[Path]:
    """The page's screenshot and the browser's console log, for a failed check."""
    folder = artifacts / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]
    saved = []
    try:
        saved.append(nb_page.screenshot(folder / f"{stem}.png"))
    except Exception as e:  # noqa: BLE001  (a dead page still gets its console log saved below)
        (folder / f"{stem}.screenshot-error.txt").write_text(repr(e), encoding="utf-8")
    log = folder / f"{stem}.console.log"
    log.write_text("\n".join(nb_page.console) + "\n", encoding="utf-8")
    saved.append(log)
    return saved
