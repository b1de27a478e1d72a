"""Train notebook 10's shipped SASRec on MovieLens ml-latest-small (leave-one-out training part) from a seed.

Writes ``data/checkpoints/movielens_sasrec.pt`` (weights, config, recipe, history with the validation
HR@10 after every epoch) with ``course_lib.recsys.SASREC_RECIPE`` and replaces its line in
``data/SHA256SUMS``. It reads only the training part of the split (each user's interactions except the
last two), so the validation and test items stay unseen. Same seed and thread count → the same file.

Usage: python tools/train_recommender.py [--seed 0] [--threads 1] [--epochs N (trial only)] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch

from course_lib.data import update_checksums
from course_lib.models.sasrec import SASRecConfig
from course_lib.movielens import load_movielens
from course_lib.recsys import (
    SASREC_RECIPE,
    evaluate,
    leave_one_out,
    load_sasrec,
    sasrec_checkpoint_path,
    sasrec_scores,
    sasrec_windows,
    save_sasrec,
    train_sasrec,
)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=None, help="override the recipe (a trial; do not ship)")
    ap.add_argument("--out", type=Path, default=None, help="write here instead of data/checkpoints (trials)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ml = load_movielens()
    split = leave_one_out(ml.ratings, ml.n_items)
    r = dict(SASREC_RECIPE)
    if args.epochs is not None:
        r["epochs"] = args.epochs
    config = SASRecConfig(vocab_size=split.n_items, **r["model"])
    per_epoch = math.ceil(len(sasrec_windows(split.train, config.block_size)) / r["batch_size"])
    model, hist = train_sasrec(
        split,
        config,
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        lr=r["lr"],
        negatives=r["negatives"],
        seed=args.seed,
        eval_every=per_epoch,
    )
    val = evaluate(sasrec_scores(model), split, "val")
    info = {
        "recipe": r,
        "seed": args.seed,
        "threads": args.threads,
        "params": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(hist.attrs["train_seconds"], 1),
        "val_hr": float(val.hr.mean()),
        "val_ndcg": float(val.ndcg.mean()),
    }
    path = sasrec_checkpoint_path() if args.out is None else args.out / "movielens_sasrec.pt"
    save_sasrec(path, model, hist, info)
    print(f"SASRec: {info['params']:,} params, {info['train_seconds']} s; val HR@10 {info['val_hr']:.3f} → {path}")
    if args.out is None:
        update_checksums([path])
        load_sasrec(path)
        print("data/SHA256SUMS updated; checkpoint verified.")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
