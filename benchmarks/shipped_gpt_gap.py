"""Where the shipped GPT's remaining loss lies: more context, or generalisation? (issue 17's 1.45 goal)

Loads the shipped character GPT (``data/checkpoints/shakespeare_char_gpt.pt``) and scores it

* on the whole validation text (last 10%) with sliding windows of stride 64, 32 and 16 (every character
  predicted from at least 64, 96 and 112 characters of its 128-character context): if the loss fell with the
  stride, the model would use context beyond 64 characters, and a longer context would be a lever;
* on the training text it learned from (first 90%) and on the validation text, both with non-overlapping
  windows: the generalisation gap, the other place the loss could come from.

Usage: python benchmarks/shipped_gpt_gap.py [--record]
(``--record`` writes the table to docs/results/bench.json as ``bench.shipped_gpt_gap``, which the README shows.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRIDES = (64, 32, 16)


def late_progress(hist, fraction: float = 1 / 8) -> dict:
    """How much the training and validation losses fell over the last ``fraction`` of the training steps.

    ``hist``: the training history stored in the checkpoint (``course_lib.train.train``'s columns ``step``,
    ``loss`` (averaged over each logging window) and ``val_loss`` (on the first 16,384 validation characters,
    at each evaluation)). Each end of the span is the evaluation nearest to it; the training loss there is the
    mean of the logged windows of the 100 steps before it.
    """
    import pandas as pd

    h = pd.DataFrame(hist)
    evals = h.dropna(subset=["val_loss"])
    last = evals.iloc[-1]
    start = evals.iloc[(evals["step"] - last["step"] * (1 - fraction)).abs().argmin()]

    def train_loss(step):
        return h[(h["step"] > step - 100) & (h["step"] <= step)]["loss"].mean()

    return {
        "from_step": int(start["step"]),
        "to_step": int(last["step"]),
        "train_fall": float(train_loss(start["step"]) - train_loss(last["step"])),
        "val_fall": float(start["val_loss"] - last["val_loss"]),
    }


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="write the table to docs/results/bench.json")
    args = ap.parse_args(argv)

    from course_lib.char_lm import load_char_lm, shakespeare_char_data
    from course_lib.train import evaluate_lm

    model, _tok, hist, _info = load_char_lm("gpt")
    _tok, train_ids, val_ids = shakespeare_char_data()
    T = model.max_context
    rows = []

    def score(text: str, ids, stride: int | None) -> None:
        t0 = time.perf_counter()
        loss = evaluate_lm(model, ids, T, batch_size=64, stride=stride)
        least = T - stride if stride else 0
        rows.append(
            {
                "text": text,
                "windows": f"sliding, stride {stride}" if stride else "non-overlapping",
                "context at least": least,
                "characters": len(ids) - 1,
                "loss (nats/char)": loss,
            }
        )
        print(
            f"{text:<28} {rows[-1]['windows']:<20} {loss:.4f} nats/char ({time.perf_counter() - t0:.0f} s)", flush=True
        )

    for stride in STRIDES:
        score("validation (last 10%)", val_ids, stride)
    score("validation (last 10%)", val_ids, None)
    score("training text (first 90%)", train_ids, None)
    gap = rows[-2]["loss (nats/char)"] - rows[-1]["loss (nats/char)"]
    print(f"generalisation gap (validation − training, non-overlapping): {gap:.4f} nats/char")
    late = late_progress(hist)
    val_change = f"fell {late['val_fall']:.3f}" if late["val_fall"] >= 0 else f"rose {-late['val_fall']:.3f}"
    print(
        f"from step {late['from_step']:,} to {late['to_step']:,}: training loss fell {late['train_fall']:.3f}, "
        f"validation loss (first 16,384 characters) {val_change} nats/char"
    )
    if args.record:
        import pandas as pd

        from course_lib.results import record, record_table

        os.environ["COURSE_RECORD"], os.environ["COURSE_FAST"] = "1", "0"  # a benchmark run is always "full"
        record_table("bench.shipped_gpt_gap", pd.DataFrame(rows), {"loss (nats/char)": ".4f", "characters": ",d"})
        record("bench.shipped_gpt_gap_nats", gap, fmt=".2f")
        for key, fmt in (("from_step", ",d"), ("to_step", ",d"), ("train_fall", ".3f"), ("val_fall", ".3f")):
            record(f"bench.shipped_gpt_late_{key}", late[key], fmt=fmt)
        record("bench.shipped_gpt_late_val_change", val_change)  # "fell 0.007" or "rose 0.011", for the README
    return rows


if __name__ == "__main__":
    main()
