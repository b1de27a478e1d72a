"""Run notebooks top to bottom in a fresh kernel and record wall time and peak memory.

For each notebook and mode (full, fast) it starts a new kernel, executes every cell, and records
the wall time of the execution and the kernel process's peak resident memory (VmHWM on Linux,
otherwise the largest RSS seen while polling). Results go to docs/notebook_budget.csv, and the
table between the markers in README.md is regenerated from it.

Usage: python tools/measure_notebooks.py [--modes full,fast] [notebooks/NN_topic.ipynb ...]
"""

import argparse
import csv
import datetime as dt
import os
import platform
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "docs" / "notebook_budget.csv"
README = ROOT / "README.md"
START, END = "<!-- budget:start -->", "<!-- budget:end -->"
LIMITS = {"full": 180, "fast": 60}
LIMIT_OVERRIDES = {("05_text_generation.ipynb", "full"): 300}
# notebook → (article section and Chinese heading, what you build): the README's course map
COURSE_MAP = {
    "00_start_here.ipynb": ("—", "the tour: fast/full mode, widgets, progress bars, the environment check"),
    "01_background_ngram.ipynb": (
        "§1 背景介绍",
        "Kneser–Ney character n-grams (n = 0…8), the baseline; a first neural LM",
    ),
    "02_word_embeddings.ipynb": (
        "§2.1 词汇嵌入, §4.1.1",
        "skip-gram with negative sampling, PPMI-SVD, compared with GloVe",
    ),
    "03_context_representation.ipynb": (
        "§2.2 上下文表示, §4.1.2, §6.4",
        "mean/max/attention pooling; a sentiment classifier",
    ),
    "04_attention.ipynb": ("§2.3 注意力机制, §7.3", "attention, multi-head, a Transformer LM, the KV cache"),
    "05_text_generation.ipynb": (
        "§2.4 文本生成, §5 项目实践",
        "the article's program fixed; LSTM vs GPT; top-k/top-p sampling",
    ),
    "06_vae.ipynb": (
        "§3.2.1, §4.1.3.1, §4.2.1 (VAE)",
        "ELBO vs the article's loss; reparameterisation; a sentence VAE",
    ),
    "07_gan.ipynb": (
        "§3.2.2, §4.1.3.2, §4.2.2, §3.3 (GAN)",
        "the article's GAN losses vs the correct ones; mode collapse",
    ),
}


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
        self.stop = threading.Event()

    def run(self):
        me = psutil.Process()
        while not self.stop.is_set():
            for child in me.children(recursive=True):
                self.peak_kb = max(self.peak_kb, _peak_kb(child))
            time.sleep(0.05)


def run_notebook(path: Path, mode: str, threads: int, save_dir: Path | None = None) -> dict:
    env_before = dict(os.environ)
    os.environ["COURSE_FAST"] = "1" if mode == "fast" else "0"
    os.environ["COURSE_THREADS"] = str(threads)
    os.environ.setdefault("MPLBACKEND", "agg")
    nb = nbformat.read(path, as_version=4)
    watcher = MemoryWatcher()
    watcher.start()
    t0 = time.perf_counter()
    try:
        NotebookClient(
            nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    finally:
        wall = time.perf_counter() - t0
        watcher.stop.set()
        watcher.join()
        os.environ.clear()
        os.environ.update(env_before)
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
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


def markdown_table(rows: list[dict]) -> str:
    by_nb: dict[str, dict] = {}
    for r in rows:
        by_nb.setdefault(r["notebook"], {})[r["mode"]] = r
    lines = [
        "| notebook | article section | what you build | full mode | peak memory (full) | fast mode | peak memory (fast) | in budget |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for nb in sorted(set(by_nb) | set(COURSE_MAP)):
        cells, ok = list(COURSE_MAP.get(nb, ("?", "?"))), True
        for mode in ("full", "fast"):
            r = by_nb.get(nb, {}).get(mode)
            if r is None:
                cells += ["not measured", ""]
                ok = False
                continue
            t, m = float(r["wall_s"]), float(r["peak_mb"])
            limit = LIMIT_OVERRIDES.get((nb, mode), LIMITS[mode])
            ok = ok and t <= limit and m <= 1536
            cells += [f"{t / 60:.1f} min" if mode == "full" else f"{t:.0f} s", f"{m:.0f} MB"]
        lines.append(f"| `{nb.removesuffix('.ipynb')}` | " + " | ".join(cells) + f" | {'yes' if ok else 'NO'} |")
    any_row = rows[0]
    lines.append("")
    lines.append(
        f"Measured by `python tools/measure_notebooks.py` with {any_row['threads']} PyTorch threads on a "
        f"{any_row['cpus']}-CPU {any_row['machine']} machine ({max(r['date'] for r in rows)}); wall time of a fresh "
        "kernel running every cell, peak resident memory of the kernel process."
    )
    return "\n".join(lines)


def update_readme(rows: list[dict]) -> None:
    if not README.exists():
        return
    text = README.read_text(encoding="utf-8")
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(head + START + "\n" + markdown_table(rows) + "\n" + END + tail, encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="default: every notebook in notebooks/")
    ap.add_argument("--modes", default="full,fast")
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
    if not modes or any(m not in LIMITS for m in modes):
        ap.error(f"--modes takes a comma-separated list of {sorted(LIMITS)}, got {args.modes!r}")
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    rows = load_rows()
    for path in paths:
        for mode in modes:
            r = run_notebook(path, mode, args.threads, args.save_executed)
            print(f"{r['notebook']:<32} {mode:<5} {r['wall_s']:>7.1f} s  {r['peak_mb']:>6} MB", flush=True)
            rows = [x for x in rows if not (x["notebook"] == r["notebook"] and x["mode"] == mode)] + [r]
            save_rows(rows)
    update_readme(rows)
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
