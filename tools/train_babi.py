"""Train notebook 09's shipped bAbI readers from seeds: every reader × task × seed.

Writes ``data/checkpoints/babi/<reader>_task<task>_seed<seed>.pt`` (weights, config, recipe, vocabulary,
training history, test accuracy and support hits; loads with ``torch.load(..., weights_only=True)``) and
replaces their lines in ``data/SHA256SUMS``. The recipes are ``course_lib.labs.qa.RECIPES`` (per reader and
task; the memory networks start linearly on task 2), the seeds ``SHIPPED_SEEDS``; the data
is ``course_lib.labs.qa.qa_data`` (train on the first 9,000 questions, validate on the last 1,000,
test on the official 1,000). Same seed and thread count give the same weights.

Usage: python tools/train_babi.py [--readers lstm memnet1 memnet3 transformer] [--tasks 1 2]
       [--seeds 0 1 2 (default: SHIPPED_SEEDS of each reader)] [--threads 1] [--epochs N (a quick trial; do not ship)]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from course_lib.data import update_checksums  # noqa: E402
from course_lib.labs.qa import (  # noqa: E402
    READERS,
    RECIPES,
    SHIPPED_SEEDS,
    checkpoint_path,
    load_reader,
    predict,
    qa_data,
    qa_vocabulary,
    save_reader,
    support_hit_rate,
    train_reader,
)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    ap.add_argument("--tasks", nargs="+", type=int, choices=(1, 2), default=[1, 2])
    ap.add_argument("--seeds", nargs="+", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (the shipped files were trained with 1)")
    ap.add_argument(
        "--epochs", type=int, default=None, help="override the recipe's epochs (a quick trial; do not ship)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tok = qa_vocabulary()
    written = []
    for task in args.tasks:
        data = qa_data(task, tok)
        for reader in args.readers:
            recipe = RECIPES[reader, task]
            for seed in args.seeds or SHIPPED_SEEDS[reader]:
                t0 = time.perf_counter()
                model, hist = train_reader(recipe, data, seed=seed, epochs=args.epochs, progress=False)
                seconds = time.perf_counter() - t0
                p = predict(model, data["test"])
                info = {
                    "task": task,
                    "seed": seed,
                    "test_accuracy": float(p["correct"].float().mean()),
                    "val_accuracy": float(hist["val_acc"].dropna().iloc[-1]),
                    "train_seconds": round(seconds, 1),
                    "threads": args.threads,
                }
                if p["attention"] is not None:
                    info["support_hits"] = support_hit_rate(p["attention"], data["test"]["support"]).tolist()
                path = checkpoint_path(reader, task, seed)
                save_reader(path, model, recipe, tok, hist, info)
                written.append(path)
                print(
                    f"task {task} {reader:12s} seed {seed}: test accuracy {100 * info['test_accuracy']:.1f}% "
                    f"(val {100 * info['val_accuracy']:.1f}%) in {seconds:.0f} s → {path.relative_to(ROOT)}",
                    flush=True,
                )
                update_checksums([path])
    for path in written:  # the round trip through the verified loader
        reader, task, seed = path.stem.split("_")
        load_reader(reader, int(task[4:]), int(seed[4:]))
    print(f"{len(written)} checkpoints written; data/SHA256SUMS updated; all reload.")


if __name__ == "__main__":
    main()
