"""Does notebook 04's 256-character context help its GPT? The full-size trial against notebook 05's recipe.

Trains the same GPT (4 layers, 4 heads, 128 dims) on Tiny Shakespeare under four recipes (each notebook's
recipe at its own size, and each with the other's context) and scores each on the whole validation text
with the same sliding-window evaluation (windows of 64 characters, stride 32: every character predicted
from at least 32 before it), and with its own context (stride half of it):

* ``04``: notebook 04's recipe — windows growing from 32 to 256 characters, about 1,000 characters per step,
  1,000 steps, peak learning rate 3e-3;
* ``04, context 64``: the same, with 64-character windows throughout;
* ``05``: notebook 05's live recipe (``course_lib.char_lm.RECIPES["gpt"]``) — 64-character windows, 12 per
  step (768 characters), 700 steps, peak learning rate 5e-3;
* ``05, context 256``: the same, with 256-character windows (3 per step).

Notebook 04 runs a shortened version of this comparison itself; this script is the full-size one
("measured offline"). About 5 minutes per recipe on one quiet core.

Usage: python tools/context_ablation_04.py [--threads 1] [--only 04 ...] [--record]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from course_lib.char_lm import RECIPES, shakespeare_char_data  # noqa: E402
from course_lib.labs.attention import CONTEXT_RECIPES, train_gpt  # noqa: E402
from course_lib.results import record_table  # noqa: E402
from course_lib.train import evaluate_lm  # noqa: E402

OUT = Path(os.environ.get("ABLATION_OUT", "/tmp"))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", action="append", choices=sorted(CONTEXT_RECIPES), help="run only this recipe")
    ap.add_argument("--record", action="store_true", help="write the table to docs/results/04.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tok, train_ids, val_ids = shakespeare_char_data()
    rows = []
    for name in args.only or list(CONTEXT_RECIPES):
        recipe = CONTEXT_RECIPES[name]
        model, hist = train_gpt(train_ids, val_ids, eval_tokens=16384, desc=name, **recipe, **RECIPES["gpt"]["model"])
        hist.to_csv(OUT / f"context_ablation_{name.replace(', ', '_').replace(' ', '')}.csv", index=False)
        own = model.config.block_size
        row = {
            "recipe": name,
            "steps": recipe["steps"],
            "characters seen": hist.attrs["tokens"],
            "peak lr": recipe["lr"],
            "val, context 64": evaluate_lm(model, val_ids, 64, stride=32),
            "val, own context": evaluate_lm(model, val_ids, own, stride=own // 2),
            "own context": own,
        }
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.record:
        os.environ["COURSE_RECORD"] = "1"
        record_table("04.context_ablation_offline", table, {"val, context 64": ".3f", "val, own context": ".3f"})


if __name__ == "__main__":
    main()
