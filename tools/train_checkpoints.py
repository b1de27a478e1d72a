"""Train the course's shipped checkpoints (character LSTM and GPT on Tiny Shakespeare) from a seed.

Writes ``data/checkpoints/shakespeare_char_lstm.pt`` and ``data/checkpoints/shakespeare_char_gpt.pt``
(weights, model config, the 65-character vocabulary, the training recipe, the training history and
the validation loss, all in one file that loads with ``torch.load(..., weights_only=True)``) and
replaces their lines in ``data/SHA256SUMS``.

The recipes live in ``course_lib.char_lm.SHIPPED_RECIPES``: notebook 05's live recipes
(``char_lm.RECIPES``) trained on about seven times as many characters (1,200 steps, batch 24 and a
128-character context). Same seed and same thread count give the same weights (about 5 minutes for
the LSTM and 8 for the GPT on one quiet core).

Usage: python tools/train_checkpoints.py [--only lstm|gpt] [--seed 0] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from course_lib.char_lm import (
    CHECKPOINTS,
    SHIPPED_RECIPES,
    load_char_lm,
    save_char_lm,
    shakespeare_char_data,
    timed_eval,
    train_char_lm,
)  # noqa: E402
from course_lib.data import update_checksums  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=sorted(CHECKPOINTS), action="append", help="train only this model (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="PyTorch threads (the shipped files were trained with 1; another count can change the last bits)",
    )
    ap.add_argument(
        "--steps", type=int, default=None, help="override the recipe's steps (for a quick trial; do not ship)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = shakespeare_char_data()
    tok, _, val_ids = data
    written = []
    for kind in args.only or ["lstm", "gpt"]:
        model, hist, info = train_char_lm(kind, steps=args.steps, seed=args.seed, data=data, recipes=SHIPPED_RECIPES)
        val, secs = timed_eval(model, val_ids, info["recipe"]["block_size"])
        info.update(
            {"val_loss_full": round(val, 4), "val_bits_full": round(val / math.log(2), 4), "threads": args.threads}
        )
        path = save_char_lm(CHECKPOINTS[kind], model, tok, hist, info)
        written.append(path)
        print(
            f"{kind}: {info['params']:,} params, {info['tokens']:,} tokens in {info['train_seconds']} s; "
            f"val {val:.4f} nats/char = {val / math.log(2):.4f} bits/char (full validation set, {secs:.1f} s) "
            f"→ {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)"
        )
    update_checksums(written)
    for p in written:  # check the round trip through the verified loader
        load_char_lm(p)
    print("data/SHA256SUMS updated; checkpoints verified.")


if __name__ == "__main__":
    main()
