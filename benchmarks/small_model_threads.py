"""Small models and threads: 1 against 2 PyTorch threads, on a quiet machine and on a busy one.

Trains notebook 06's 2-D VAE (``ToyVAE``, about 9,000 parameters, batch 256) for ``--steps`` steps with
one and with two PyTorch threads, first on a quiet machine, then while a competing process keeps one
CPU busy (a plain Python loop, like a browser tab or a second kernel would) — each setting
``--repeats`` times, best time kept.

On a 2-core machine a second thread helps such tiny operations a little when the machine is quiet,
and costs several times that when it is not: each operation waits for the thread that lost its CPU.
Hence the advice to set ``COURSE_THREADS=1`` on a busy machine.

Usage: python benchmarks/small_model_threads.py [--steps 300] [--repeats 3] [--record]
(``--record`` writes the table to docs/results/bench.json, which the README shows.)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _spin(stop) -> None:  # a CPU-bound competitor: one busy core
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def time_training(threads: int, steps: int, repeats: int) -> float:
    """Best wall time (s) of ``steps`` toy-VAE steps with ``threads`` PyTorch threads."""
    import torch

    from course_lib.labs.vae import train_toy_vae
    from course_lib.toy_data import toy_spiral

    x, _ = toy_spiral(4000, generator=torch.Generator().manual_seed(0))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        train_toy_vae(x, steps=5, progress=False)  # warm-up: imports, allocator
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            train_toy_vae(x, steps=steps, progress=False)
            best = min(best, time.perf_counter() - t0)
        return best
    finally:
        torch.set_num_threads(before)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write the table to docs/results/bench.json")
    args = ap.parse_args(argv)
    rows = []
    for machine in ("quiet", "one CPU busy"):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if machine != "quiet" else None
        if spinner is not None:
            spinner.start()
            time.sleep(0.5)
        try:
            for threads in (1, 2):
                s = time_training(threads, args.steps, args.repeats)
                rows.append({"machine": machine, "threads": threads, "seconds": s, "ms per step": 1e3 * s / args.steps})
                print(f"{machine:<13} {threads} thread(s): {s:6.2f} s ({1e3 * s / args.steps:.1f} ms/step)", flush=True)
        finally:
            if spinner is not None:
                stop.set()
                spinner.join()
    if args.record:
        import pandas as pd

        from course_lib.results import record_table

        os.environ["COURSE_RECORD"], os.environ["COURSE_FAST"] = "1", "0"  # a benchmark run is always "full"
        record_table("bench.small_model_threads", pd.DataFrame(rows), {"seconds": ".2f", "ms per step": ".1f"})
    return rows


if __name__ == "__main__":
    main()
