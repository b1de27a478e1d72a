"""Train notebook 08's shipped translators from a seed: GRU without attention, GRU with attention, GPT.

Writes ``data/checkpoints/translation_<kind>.pt`` (weights in float16, config, French/English or joint
vocabulary, recipe, training history, and the held-out scores of the saved weights; loads with
``torch.load(..., weights_only=True)``) and replaces their lines in ``data/SHA256SUMS``. The recipes are
``course_lib.labs.translation.SHIPPED_RECIPES``: the three models see the same data (the tutorial's
pairs, split by sentence with seed 0), the same batches per step and the same number of steps.
Same seed and thread count give the same weights.

Usage: python tools/train_translation.py [--only gru|gru_attention|gpt ...] [--seed 0] [--threads 1]
       [--steps N (a quick trial; do not ship)]
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
from course_lib.labs.translation import (  # noqa: E402
    CHECKPOINTS,
    KINDS,
    SHIPPED_RECIPES,
    evaluate,
    load_translator,
    save_translator,
    train_translator,
    translation_data,
)
from course_lib.nn_utils import count_parameters  # noqa: E402
from course_lib.translation import Translator  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (the shipped files were trained with 1)")
    ap.add_argument("--steps", type=int, default=None, help="override the recipe's steps (a quick trial; do not ship)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = translation_data()
    for kind in args.only:
        recipe = SHIPPED_RECIPES[kind]
        t0 = time.perf_counter()
        model, toks, hist = train_translator(recipe, data, seed=args.seed, steps=args.steps, progress=False)
        seconds = time.perf_counter() - t0
        info = {
            "seed": args.seed,
            "threads": args.threads,
            "train_seconds": round(seconds, 1),
            "params": count_parameters(model),
            "steps": int(hist.attrs["steps_done"]),
        }
        path = save_translator(CHECKPOINTS[kind], model, toks, recipe, hist, info)
        update_checksums([path])
        loaded, toks, *_ = load_translator(kind)  # score the weights as shipped (float16 → float32)
        tr = Translator(loaded, *toks)
        val = evaluate(tr, data["val"])
        print(
            f"{kind}: {info['params']:,} parameters, {info['steps']} steps in {seconds:.0f} s; validation sacreBLEU "
            f"{val['bleu']:.1f} (greedy) → {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.1f} MB)",
            flush=True,
        )
    print("data/SHA256SUMS updated; checkpoints verified.")


if __name__ == "__main__":
    main()
