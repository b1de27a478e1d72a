"""Train the course's shipped checkpoints (character LSTM and GPT on Tiny Shakespeare) from a seed.

Writes ``data/checkpoints/shakespeare_char_lstm.pt`` and ``data/checkpoints/shakespeare_char_gpt.pt``
(weights, model config, the 65-character vocabulary, the training recipe, the training history and
the validation losses, all in one file that loads with ``torch.load(..., weights_only=True)``) and
replaces their lines in ``data/SHA256SUMS``. After the GPT it rewrites the recipe line ("Shipped GPT recipe:") of
the docs that state it (:data:`RECIPE_DOCS`), and the checksum of the checkpoints' data card with it.

The recipes live in ``course_lib.char_lm.SHIPPED_RECIPES``. The LSTM: notebook 05's live recipe trained
on about seven times as many characters (1,200 steps, batch 24, a 128-character context). The GPT: the recipe
chosen by measurement (``tools/sweep_gpt.py --grid checkpoint``, the README's table) to beat notebook 01's
Kneser–Ney baseline within half an hour on two cores; it is trained with ``torch.compile`` where a C++
compiler is present (the same numbers within float rounding, about 10% faster per step at this size;
``benchmarks/train_levers.py``) and stored in float16 when the recipe says so (``weights_dtype``), which
halves the file; the losses reported are those of the stored weights.

Both validation losses are on the full last 10%: ``val_loss_sliding`` with a sliding window of stride
``block_size // 2`` (every character predicted from at least half the model's context, as Kneser–Ney always
has its full history) and ``val_loss_full`` with non-overlapping windows (the first characters of each window
see little context). The seed fixes the initial weights and the batches, but on two threads with compilation two
runs are not bit-for-bit the same (most likely the order of the parallel sums): they end about 0.01 nats/char
apart (the README's runs table and its text).

Usage (the shipped GPT; about 30 minutes on two quiet cores):
    python tools/train_checkpoints.py --only gpt --threads 2 --record
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch

from course_lib.char_lm import (
    CHECKPOINTS,
    SHIPPED_RECIPES,
    load_char_lm,
    save_char_lm,
    shakespeare_char_data,
    train_char_lm,
)
from course_lib.data import update_checksums
from course_lib.perf import cpu_seconds
from course_lib.train import cpu_info, evaluate_lm

#: Every document that states the shipped GPT's recipe does so on one line, after this marker; the script
#: rewrites that line from the recipe it trained (``tests/test_shipped_gpt.py`` checks they agree).
RECIPE_MARKER = "Shipped GPT recipe:"
RECIPE_DOCS = (ROOT / "README.md", ROOT / "data/checkpoints/README.md", ROOT / "docs/drafts/17_gpt_recipe.md")


def recipe_sentence(recipe: dict, seed: int = 0) -> str:
    """The GPT recipe as the docs state it (one line)."""
    m, r = recipe["model"], recipe
    dtype = r.get("weights_dtype", "float32")
    positions = {"learned": "learned positions", "rope": "rotary positions (RoPE)"}.get(
        m.get("positions", "learned"), f"{m.get('positions')} positions"
    )
    return (
        f"{m['n_layer']} layers × {m['n_embd']} dims ({m['n_head']} heads), {positions}, context {r['block_size']}, "
        f"dropout {m['dropout']:g}, batch {r['batch_size']}, {r['steps']:,} steps, peak learning rate "
        f"{r['lr']:g} (warm-up {r['warmup']} steps, cosine decay to {r['min_lr']:g}), AdamW weight decay "
        f"{r['weight_decay']:g}, gradient clipping {r['grad_clip']:g}"
        + (f", exponential moving average of the weights (decay {r['ema']:g})" if r.get("ema") else "")
        + (", bfloat16 autocast in training" if r.get("bf16") else "")
        + f", seed {seed}, weights stored in {dtype}"
    )


def restate_recipe(recipe: dict, seed: int, docs=RECIPE_DOCS) -> list[Path]:
    """Rewrite the line after :data:`RECIPE_MARKER` in each of ``docs`` that has one; return the files changed.

    The checkpoints' data card (``data/checkpoints/README.md``) is checksummed in ``data/SHA256SUMS``: the
    caller updates its sum with the checkpoints'.
    """
    sentence = recipe_sentence(recipe, seed)
    changed = []
    for path in docs:
        path = Path(path)
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        lines = [
            f"{line.split(RECIPE_MARKER, 1)[0]}{RECIPE_MARKER} {sentence}" if RECIPE_MARKER in line else line
            for line in text.split("\n")
        ]
        new = "\n".join(lines)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=sorted(CHECKPOINTS), action="append", help="train only this model (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="PyTorch threads (recorded in the file; another count can change the last bits of the weights)",
    )
    ap.add_argument("--no-compile", action="store_true", help="train the GPT without torch.compile")
    ap.add_argument(
        "--steps", type=int, default=None, help="override the recipe's steps (for a quick trial; do not ship)"
    )
    ap.add_argument("--record", action="store_true", help="record the figures under train_checkpoints.* keys")
    ap.add_argument(
        "--out-dir", type=Path, default=None, help="write here instead of data/checkpoints (a trial: no checksums)"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = shakespeare_char_data()
    tok, _, val_ids = data
    info_cpu = cpu_info()
    print(f"CPU: {info_cpu['cpu']}; {args.threads} thread(s); C++ compiler: {info_cpu['cxx_compiler']}", flush=True)
    written, figures = [], {}
    for kind in args.only or ["lstm", "gpt"]:
        recipe = SHIPPED_RECIPES[kind]
        steps = args.steps or recipe["steps"]
        c0, w0 = cpu_seconds(), time.perf_counter()
        model, hist, info = train_char_lm(
            kind,
            steps=args.steps,
            seed=args.seed,
            data=data,
            recipes=SHIPPED_RECIPES,
            compile=kind == "gpt" and not args.no_compile,
            eval_every=max(1, steps // 30) if kind == "gpt" else None,
        )
        wall_s, cpu_s = time.perf_counter() - w0, cpu_seconds() - c0
        stored = model
        dtype = recipe.get("weights_dtype", "float32")
        if dtype != "float32":  # round the weights to the stored precision first: the losses are the file's
            stored = copy.deepcopy(model).to(getattr(torch, dtype))
            model.load_state_dict(stored.state_dict())  # float32 model holding exactly the stored values
        T = recipe["block_size"]
        val = evaluate_lm(model, val_ids, T, batch_size=64)
        sliding = evaluate_lm(model, val_ids, T, batch_size=64, stride=T // 2)
        if "last_step_state" in hist.attrs:  # trained with a weight average: score the last step's own weights too
            last = copy.deepcopy(model)
            last.load_state_dict(hist.attrs["last_step_state"])
            last.to(getattr(torch, dtype)).float()  # rounded as the stored weights are
            info["val_loss_sliding_last_step"] = round(evaluate_lm(last, val_ids, T, batch_size=64, stride=T // 2), 4)
        info.update(
            {
                "val_loss_full": round(val, 4),
                "val_bits_full": round(val / math.log(2), 4),
                "val_loss_sliding": round(sliding, 4),
                "val_bits_sliding": round(sliding / math.log(2), 4),
                "eval_stride": T // 2,
                "threads": args.threads,
                "compiled": kind == "gpt" and not args.no_compile and info_cpu["cxx_compiler"] is not None,
                "weights_dtype": dtype,
                "wall_seconds": round(wall_s, 1),
                "cpu_seconds": round(cpu_s, 1),
                "cpu": info_cpu["cpu"],
                "cpu_kernels": info_cpu["simd"],
                "torch": str(torch.__version__),
                "python": platform.python_version(),
            }
        )
        target = CHECKPOINTS[kind] if args.out_dir is None else args.out_dir / CHECKPOINTS[kind].name
        path = save_char_lm(target, stored, tok, hist, info)
        written.append(path)
        size_mb = path.stat().st_size / 1e6
        figures[kind] = {**info, "size_mb": size_mb}
        print(
            f"{kind}: {info['params']:,} params, {info['tokens']:,} tokens in {wall_s / 60:.1f} min "
            f"({cpu_s / 60:.1f} CPU-min); validation (full last 10%): sliding window {sliding:.4f} nats/char "
            f"= {sliding / math.log(2):.4f} bits/char, non-overlapping {val:.4f} → {path} "
            f"({size_mb:.2f} MB, {dtype})",
            flush=True,
        )
    if args.out_dir is None:
        restated = []
        if "gpt" in figures and args.steps is None:  # the docs state the shipped recipe, not a quick trial's
            restated = restate_recipe(SHIPPED_RECIPES["gpt"], args.seed)
            print("recipe line rewritten in: " + (", ".join(str(p.relative_to(ROOT)) for p in restated) or "none"))
        card = ROOT / "data/checkpoints/README.md"
        update_checksums(written + ([card] if card in restated else []))
    for p in written:  # check the round trip through the verified loader
        load_char_lm(p, verify=args.out_dir is None)
    print("data/SHA256SUMS updated; checkpoints verified." if args.out_dir is None else f"written to {args.out_dir}")
    if args.record and args.steps is None and args.out_dir is None:
        os.environ["COURSE_RECORD"] = "1"
        os.environ["COURSE_FAST"] = "0"
        from course_lib.results import record

        for kind, f in figures.items():
            key = f"train_checkpoints.{kind}"
            record(f"{key}_val_sliding", f["val_loss_sliding"], fmt=".3f")
            record(f"{key}_val_full", f["val_loss_full"], fmt=".3f")
            record(f"{key}_bits_sliding", f["val_bits_sliding"], fmt=".3f")
            record(f"{key}_params", f["params"], fmt=",d")
            record(f"{key}_tokens", f["tokens"], fmt=",d")
            record(f"{key}_minutes", f["wall_seconds"] / 60, fmt=".1f")
            record(f"{key}_threads", f["threads"], fmt="d")
            record(f"{key}_size_mb", f["size_mb"], fmt=".1f")
            record(f"{key}_cpu", f["cpu"])
            record(f"{key}_cpu_kernels", f["cpu_kernels"])
            if "val_loss_sliding_last_step" in f:
                record(f"{key}_val_sliding_last_step", f["val_loss_sliding_last_step"], fmt=".3f")
        if "gpt" in figures:
            record_gpt_run(figures["gpt"])


#: Every half-hour GPT run this script has recorded, one row each (the README's table of recipes tried).
RUNS_CSV = ROOT / "docs" / "sweeps" / "gpt_checkpoint_runs.csv"
#: Columns added to the runs table after its first rows, with what those rows used: every earlier run decayed
#: the weights by 0.1 and had no weight average; which CPU's vector units ran them was not recorded ("").
RUN_COLUMNS_ADDED = {"weight_decay": 0.1, "ema": 0, "kernels": ""}


def record_gpt_run(f: dict, path: Path = RUNS_CSV) -> None:
    """Add this GPT run to ``path`` (replacing a row with the same recipe) and record the table for the README."""
    import pandas as pd

    r, m = f["recipe"], f["recipe"]["model"]
    row = {
        "n_layer": m["n_layer"],
        "n_embd": m["n_embd"],
        "n_head": m["n_head"],
        "block_size": r["block_size"],
        "batch_size": r["batch_size"],
        "lr": r["lr"],
        "weight_decay": r["weight_decay"],
        "dropout": m["dropout"],
        "positions": m.get("positions", "learned"),
        "ema": r.get("ema") or 0,  # the weight average's decay; 0: the last step's weights
        "steps": r["steps"],
        "tokens": f["tokens"],
        "minutes": round(f["wall_seconds"] / 60, 1),
        "kernels": f.get("cpu_kernels") or "",  # the CPU's vector units (AVX2, AVX512): the minutes depend on them
        "val_loss_sliding": f["val_loss_sliding"],
        "val_loss": f["val_loss_full"],
    }
    old = pd.read_csv(path, keep_default_na=False) if path.exists() else pd.DataFrame(columns=[*row, "shipped"])
    for col, before in RUN_COLUMNS_ADDED.items():  # rows recorded before a column existed
        if len(old) and col not in old:
            old.insert(list(row).index(col), col, before)
    recipe_cols = list(row)[: list(row).index("steps") + 1]  # a rerun of the same recipe replaces its row
    same = (old[recipe_cols] == pd.Series(row)[recipe_cols]).all(axis=1) if len(old) else []
    runs = pd.concat([old[~same] if len(old) else old, pd.DataFrame([row])], ignore_index=True)
    runs["shipped"] = [False] * (len(runs) - 1) + [True]
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.to_csv(path, index=False)
    record_gpt_runs_table(runs)


def record_gpt_runs_table(runs) -> None:
    """Record the table of half-hour GPT runs (``docs/sweeps/gpt_checkpoint_runs.csv``) for the README."""
    from course_lib.results import record_table

    shown = runs.rename(
        columns={"val_loss_sliding": "val sliding", "val_loss": "val non-overlapping", "minutes": "min (2 threads)"}
    )
    record_table(
        "train_checkpoints.gpt_runs",
        shown,
        formats={
            "lr": "g",
            "weight_decay": "g",
            "dropout": "g",
            "ema": "g",
            "steps": ",d",
            "tokens": ",d",
            "val sliding": ".3f",
            "val non-overlapping": ".3f",
        },
    )


if __name__ == "__main__":
    main()
