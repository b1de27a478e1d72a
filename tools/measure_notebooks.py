"""Run notebooks top to bottom in a fresh kernel and record wall time and peak memory.

For each notebook and mode it starts a new kernel, executes every cell, and records the wall time of the
execution and the kernel process's peak resident memory (VmHWM on Linux, otherwise the largest RSS seen
while polling) in docs/notebook_budget.csv. Modes:

* ``full``: what a learner runs (2 threads by default). The kernel has ``COURSE_RECORD=1``, so the figures
  the notebook records (``course_lib.results.record``) are written to ``docs/results/NN.json``;
* ``fast``: what the tests run (``COURSE_FAST=1``);
* ``full-1cpu``: full mode with the kernel pinned to one CPU and one thread, as on a Binder session.

Afterwards the README's generated parts are regenerated (``tools/sync_readme.py``).

Usage: python tools/measure_notebooks.py [--modes full,fast,full-1cpu] [--save-executed DIR] [notebooks/NN_*.ipynb ...]
"""

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "docs" / "notebook_budget.csv"
MODES = ("full", "fast", "full-1cpu")  # full-1cpu: full mode pinned to one CPU (a Binder-sized machine)


def _peak_kb(proc: psutil.Process) -> int:
    """Peak resident memory of a process in kB: VmHWM on Linux, else (or if unreadable) its current RSS."""
    status = Path(f"/proc/{proc.pid}/status")
    if status.exists():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:  # the process ended between the check and the read: use RSS below
            status = None
    try:
        return proc.memory_info().rss // 1024
    except psutil.Error:  # the process has ended: it contributes nothing more
        return 0


class MemoryWatcher(threading.Thread):
    """Polls every child process of this one (the kernel) and keeps the largest peak seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.cpu_s: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self):
        me = psutil.Process()
        while not self.stop.is_set():
            for child in me.children(recursive=True):
                self.peak_kb = max(self.peak_kb, _peak_kb(child))
                try:
                    t = child.cpu_times()
                except psutil.Error:  # the process has ended: its last sample stands
                    continue
                self.cpu_s[child.pid] = t.user + t.system
            time.sleep(0.2)  # VmHWM keeps the peak between polls; polling faster slowed the kernel it measures

    @property
    def total_cpu_s(self) -> float:
        """CPU seconds used by the kernel and everything it started (last sample of each process)."""
        return sum(self.cpu_s.values())


def run_notebook(path: Path, mode: str, threads: int, save_dir: Path | None = None) -> dict:
    env_before = dict(os.environ)
    affinity_before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    os.environ["COURSE_FAST"] = "1" if mode == "fast" else "0"
    os.environ["COURSE_RECORD"] = "1" if mode == "full" else "0"
    if mode == "full-1cpu":
        threads = 1
        if affinity_before is None:
            raise SystemExit("full-1cpu needs os.sched_setaffinity (Linux)")
        os.sched_setaffinity(0, {min(affinity_before)})  # the kernel inherits the affinity
    os.environ["COURSE_THREADS"] = str(threads)
    os.environ.setdefault("MPLBACKEND", "agg")
    nb = nbformat.read(path, as_version=4)
    watcher = MemoryWatcher()
    watcher.start()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    try:
        client = NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        if mode == "full-1cpu" and len(affinity_before) > 1:
            # the kernel has inherited its one CPU: move this process (and the memory watcher) off it
            client.on_notebook_start = lambda **_: os.sched_setaffinity(0, affinity_before - {min(affinity_before)})
        client.execute()
    finally:
        wall = time.perf_counter() - t0
        watcher.stop.set()
        watcher.join()
        os.environ.clear()
        os.environ.update(env_before)
        if affinity_before is not None:
            os.sched_setaffinity(0, affinity_before)
    if save_dir is not None:  # keep the executed notebook, to read its numbers (never commit these)
        save_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save_dir / f"{path.stem}.{mode}.ipynb")
    return {
        "notebook": path.name,
        "mode": mode,
        "wall_s": round(wall, 1),
        "peak_mb": round(watcher.peak_kb / 1024),
        "threads": threads,
        "cpus": psutil.cpu_count(),
        "machine": platform.machine(),
        "date": dt.date.today().isoformat(),
        # the 1-minute load average before and after (the larger): above the CPU count, other jobs shared the
        # machine and the wall time overstates what a quiet machine needs (the course map marks such rows)
        "load": round(max(load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")), 1),
        # CPU seconds of the kernel and its subprocesses: on one pinned CPU, cpu_s / wall_s is the share of that
        # CPU the notebook got (near 1: nothing else ran on it, whatever the load average says)
        "cpu_s": round(watcher.total_cpu_s, 1),
    }


def load_rows() -> list[dict]:
    if not CSV.exists():
        return []
    with open(CSV, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def save_rows(rows: list[dict]) -> None:
    CSV.parent.mkdir(exist_ok=True)
    rows = sorted(rows, key=lambda r: (r["notebook"], r["mode"]))
    with open(CSV, "w", newline="", encoding="utf-8") as f:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(f, fieldnames=fields, restval="")
        w.writeheader()
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="default: every notebook in notebooks/")
    ap.add_argument("--modes", default="full,fast", help=f"comma-separated, from {', '.join(MODES)}")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--save-executed",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write each executed notebook (with outputs) to DIR, outside the repository",
    )
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        ap.error(f"--modes takes a comma-separated list of {', '.join(MODES)}, got {args.modes!r}")
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    rows = load_rows()
    for path in paths:
        for mode in modes:
            r = run_notebook(path, mode, args.threads, args.save_executed)
            print(f"{r['notebook']:<32} {mode:<5} {r['wall_s']:>7.1f} s  {r['peak_mb']:>6} MB", flush=True)
            rows = [x for x in rows if not (x["notebook"] == r["notebook"] and x["mode"] == mode)] + [r]
            save_rows(rows)
    subprocess.run([sys.executable, str(ROOT / "tools" / "sync_readme.py")], check=False)


if __name__ == "__main__":
    main()
