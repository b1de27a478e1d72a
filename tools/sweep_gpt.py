"""Choose the course GPT's recipes by measurement: train a grid of configurations and write a table.

Two grids: ``bench`` (the language-model benchmark's recipe: what is best in 40–100 s) and ``checkpoint``
(the shipped GPT: what is best in half an hour). Every configuration is trained by
``course_lib.char_lm.train_char_lm`` (the course's training loop, AdamW, warm-up and cosine decay to
``min_lr`` over the run) on Tiny Shakespeare's first 90% and scored on the full last 10%: non-overlapping
windows of the configuration's context and, with ``--sliding``, the sliding window of stride
``block_size // 2`` (every character predicted from at least half the context).

Fair comparison on a busy machine: each configuration's throughput (tokens per CPU-second of one thread)
is measured first, in interleaved rounds, as a ratio to the grid's first configuration. ``--tokens`` is
the first configuration's budget; with ``--equal-time`` (the default) every other configuration gets the
tokens it would process in the same time (budget × its throughput ratio), so the table compares recipes
at equal training time, which is what a wall-clock goal asks. ``--compiled-threads N`` times each
configuration as the shipped GPT trains instead (N threads, ``torch.compile``, wall clock, on a quiet machine),
while the training itself stays on one thread (the losses do not depend on it), so two sweeps can share two
cores. Configurations that differ only in learning rate share one measurement. Rows are appended to ``--out`` as they
finish (a rerun skips the configurations already there).

Usage:
    python tools/sweep_gpt.py --grid bench --tokens 820000 --out docs/sweeps/gpt_bench.csv --record
    python tools/sweep_gpt.py --grid checkpoint --tokens 2300000 --sliding --out docs/sweeps/gpt_checkpoint.csv --record
    python tools/sweep_gpt.py --grid checkpoint --compiled-threads 2 --tokens 2300000 --sliding \
        --out docs/sweeps/gpt_checkpoint_compiled.csv --only "4x192 T128 B8 lr2e-3" --record  # (and the rope rows)
    python tools/sweep_gpt.py --grid bench --throughput-only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd
import torch

from course_lib.char_lm import build_model, shakespeare_char_data, train_char_lm
from course_lib.data import get_lm_batch
from course_lib.nn_utils import make_adamw
from course_lib.train import evaluate_lm, lm_cross_entropy


def _recipe(n_layer, n_head, n_embd, block_size, batch_size, lr, dropout=0.0, positions="learned", **kw):
    model = {"n_layer": n_layer, "n_head": n_head, "n_embd": n_embd, "dropout": dropout, "bias": False}
    if positions != "learned":
        model["positions"] = positions
    recipe = {
        "model": model,
        "steps": 0,  # set from the token budget
        "batch_size": batch_size,
        "block_size": block_size,
        "lr": lr,
        "min_lr": 1e-4,
        "warmup": 50,
        "weight_decay": 0.1,
        "grad_clip": 1.0,
    }
    recipe.update(kw)
    return recipe


#: name → recipe. The first entry of each grid is its reference (throughput ratio 1).
GRIDS = {
    "bench": {
        "4x128 T64 B12 lr5e-3": _recipe(4, 4, 128, 64, 12, 5e-3),  # the benchmark's recipe before issue 17
        "4x128 T128 B6 lr5e-3": _recipe(4, 4, 128, 128, 6, 5e-3),
        "4x96 T64 B12 lr6e-3": _recipe(4, 4, 96, 64, 12, 6e-3),
        "4x128 T64 B12 lr8e-3": _recipe(4, 4, 128, 64, 12, 8e-3),
        "3x128 T64 B12 lr6e-3": _recipe(3, 4, 128, 64, 12, 6e-3),
        "4x64 T64 B12 lr1e-2": _recipe(4, 4, 64, 64, 12, 1e-2),
        "4x128 T64 B16 lr6e-3": _recipe(4, 4, 128, 64, 16, 6e-3),
        "4x128 T64 B8 lr5e-3": _recipe(4, 4, 128, 64, 8, 5e-3),
    },
    "checkpoint": {
        "4x192 T128 B16 lr3e-3": _recipe(4, 6, 192, 128, 16, 3e-3, warmup=100),  # shipped (second run)
        "4x192 T128 B16 lr3e-3 rope": _recipe(4, 6, 192, 128, 16, 3e-3, positions="rope", warmup=100),
        "4x192 T128 B16 lr5e-3": _recipe(4, 6, 192, 128, 16, 5e-3, warmup=100),
        "4x192 T256 B8 lr3e-3": _recipe(4, 6, 192, 256, 8, 3e-3, warmup=100),
        "4x192 T128 B8 lr2e-3": _recipe(4, 6, 192, 128, 8, 2e-3, warmup=100),
        "4x256 T128 B16 lr2.5e-3": _recipe(4, 8, 256, 128, 16, 2.5e-3, warmup=100),
        "4x192 T128 B8 lr2e-3 rope": _recipe(4, 6, 192, 128, 8, 2e-3, positions="rope", warmup=100),
        "4x192 T128 B8 lr3e-3 rope": _recipe(4, 6, 192, 128, 8, 3e-3, positions="rope", warmup=100),
        "4x192 T128 B8 lr4e-3 rope": _recipe(4, 6, 192, 128, 8, 4e-3, positions="rope", warmup=100),
        "4x192 T128 B8 lr1.5e-3 rope": _recipe(4, 6, 192, 128, 8, 1.5e-3, positions="rope", warmup=100),
        "6x160 T128 B8 lr2e-3 rope": _recipe(6, 5, 160, 128, 8, 2e-3, positions="rope", warmup=100),
        "4x192 T128 B4 lr1.5e-3 rope": _recipe(4, 6, 192, 128, 4, 1.5e-3, positions="rope", warmup=100),
        "4x192 T128 B4 lr2e-3 rope": _recipe(4, 6, 192, 128, 4, 2e-3, positions="rope", warmup=100),
    },
}


#: every configuration of every grid, by name
GRID_RECIPES = {name: recipe for grid in GRIDS.values() for name, recipe in grid.items()}


def _summary(recipe) -> dict:
    m = recipe["model"]
    return {
        "n_layer": m["n_layer"],
        "n_embd": m["n_embd"],
        "n_head": m["n_head"],
        "block_size": recipe["block_size"],
        "batch_size": recipe["batch_size"],
        "lr": recipe["lr"],
        "dropout": m["dropout"],
        "positions": m.get("positions", "learned"),
    }


def _shape(recipe) -> str:
    """What sets a configuration's speed: the model and the batch's shape (not lr or schedule)."""
    return json.dumps([recipe["model"], recipe["block_size"], recipe["batch_size"]], sort_keys=True)


def measure_throughput(
    grid: dict, train_ids, rounds: int = 5, tokens: int = 12288, compiled_threads: int = 0
) -> dict[str, float]:
    """Tokens per CPU-second of each configuration (one thread), measured in interleaved rounds.

    ``compiled_threads=N``: tokens per wall-clock second instead, on N threads with ``torch.compile``, as the
    shipped GPT trains (``tools/train_checkpoints.py``); compilation is done before timing.
    Configurations of the same shape (they differ only in lr or schedule) are measured once and share it.
    """
    clock = time.perf_counter if compiled_threads else time.process_time
    threads = torch.get_num_threads()
    if compiled_threads:
        torch.set_num_threads(compiled_threads)
    arms = {}
    for r in grid.values():
        if _shape(r) in arms:
            continue
        torch.manual_seed(0)
        model = build_model("gpt", 65, r["block_size"], **r["model"])
        loss_fn = lambda model, x, y: lm_cross_entropy(model(x), y)  # noqa: E731 (logits (B, T, V) vs (B, T))
        loss_fn = torch.compile(loss_fn) if compiled_threads else loss_fn
        arms[_shape(r)] = (model, make_adamw(model, lr=1e-4), r["block_size"], r["batch_size"], loss_fn)
    generator = torch.Generator().manual_seed(0)
    rates: dict[str, list[float]] = {key: [] for key in arms}
    for _ in range(rounds + 1):  # the first round warms up and is dropped
        for key, (model, opt, T, B, loss_fn) in arms.items():
            steps = max(2, tokens // (T * B))
            t0 = clock()
            for _ in range(steps):
                x, y = get_lm_batch(train_ids, T, B, generator=generator)
                loss = loss_fn(model, x, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
            rates[key].append(steps * T * B / (clock() - t0))
    torch.set_num_threads(threads)
    return {name: statistics.median(rates[_shape(r)][1:]) for name, r in grid.items()}


def measured_ratios(grid: dict, train_ids, out: Path | None, compiled_threads: int = 0) -> dict[str, dict]:
    """Throughput ratio of each configuration to the grid's first, cached beside ``out`` (``.rates.json``;
    ``.rates-compiled<N>.json`` with ``compiled_threads=N``).

    Configurations not in the cache are measured together with the reference, in the same session (so the
    ratio does not depend on how busy the machine was), and added to it.
    """
    suffix = f".rates-compiled{compiled_threads}.json" if compiled_threads else ".rates.json"
    path = None if out is None else out.with_suffix(suffix)
    cache = json.loads(path.read_text()) if path is not None and path.exists() else {}
    ref = next(iter(grid))
    for name in grid:  # a configuration of an already measured shape (another lr) shares that measurement
        same = [n for n in cache if n in GRID_RECIPES and _shape(GRID_RECIPES[n]) == _shape(grid[name])]
        if name not in cache and same:
            cache[name] = cache[same[0]]
    missing = [name for name in grid if name not in cache]
    if missing:
        subset = {name: grid[name] for name in dict.fromkeys([ref, *missing])}
        rates = measure_throughput(subset, train_ids, compiled_threads=compiled_threads)
        for name in missing:
            cache[name] = {"tokens_per_cpu_s": rates[name], "ratio": rates[name] / rates[ref]}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cache, indent=1) + "\n")
    for name in grid:
        c = cache[name]
        unit = f"tokens/s ({compiled_threads} threads, compiled)" if compiled_threads else "tokens/CPU-s"
        print(f"{name:32s} {c['tokens_per_cpu_s']:8,.0f} {unit}  ratio {c['ratio']:.2f}", flush=True)
    return cache


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", choices=sorted(GRIDS), required=True)
    ap.add_argument("--tokens", type=int, default=820_000, help="training tokens of the grid's first configuration")
    ap.add_argument("--equal-tokens", action="store_true", help="give every configuration --tokens (not equal time)")
    ap.add_argument("--sliding", action="store_true", help="also score with the sliding window (stride T/2)")
    ap.add_argument("--only", action="append", help="train only this configuration (repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--throughput-only", action="store_true")
    ap.add_argument(
        "--compiled-threads",
        type=int,
        default=0,
        help="time each configuration as the shipped GPT trains (N threads, torch.compile, wall clock) for equal time",
    )
    ap.add_argument("--record", action="store_true", help="record --out's table as sweep_gpt.<grid> (docs/results)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # throughput ratios and CPU seconds are per thread
    data = shakespeare_char_data()
    tok, train_ids, val_ids = data
    grid = GRIDS[args.grid]
    only = [n for n in grid if not args.only or n in args.only or n == next(iter(grid))]
    ratios = measured_ratios({n: grid[n] for n in only}, train_ids, args.out, args.compiled_threads)
    if args.throughput_only:
        return
    done = set()
    if args.out is not None and args.out.exists():
        done = set(pd.read_csv(args.out)["name"])
    for name, recipe in grid.items():
        if (args.only and name not in args.only) or name in done:
            continue
        ratio = 1.0 if args.equal_tokens else ratios[name]["ratio"]
        T, B = recipe["block_size"], recipe["batch_size"]
        steps = max(1, round(args.tokens * ratio / (T * B)))
        c0, w0 = time.process_time(), time.perf_counter()
        model, hist, info = train_char_lm(
            "gpt", steps=steps, seed=args.seed, data=data, progress=False, recipes={"gpt": recipe}, eval_every=steps
        )
        cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - w0
        row = {"name": name, **_summary(recipe), "params": info["params"]}
        row["tokens_per_cpu_s"] = round(ratios[name]["tokens_per_cpu_s"])
        row.update({"time_ratio": round(ratio, 3), "steps": steps, "tokens": steps * T * B})
        row["val_loss"] = round(evaluate_lm(model, val_ids, T, batch_size=64), 4)
        if args.sliding:
            row["val_loss_sliding"] = round(evaluate_lm(model, val_ids, T, batch_size=64, stride=T // 2), 4)
        row.update({"train_cpu_s": round(cpu_s), "train_wall_s": round(wall_s), "seed": args.seed})
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame([row]).to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
    if args.out is not None and args.out.exists():
        table = pd.read_csv(args.out).sort_values("val_loss")
        print(table.to_string(index=False))
        print(
            f"best: {table.iloc[0]['name']} ({table.iloc[0]['val_loss']:.4f} nats/char); natural log; "
            f"bits = nats / {math.log(2):.4f}"
        )
        if args.record:
            record_sweep(args.grid + (f"_compiled{args.compiled_threads}" if args.compiled_threads else ""), table)


def record_sweep(grid: str, table: pd.DataFrame) -> None:
    """Record the sweep's table (best first) for the README: ``sweep_gpt.bench``, ``sweep_gpt.checkpoint``,
    ``sweep_gpt.checkpoint_compiled2`` (timed with ``--compiled-threads 2``)."""
    os.environ["COURSE_RECORD"] = "1"
    os.environ["COURSE_FAST"] = "0"
    from course_lib.results import record_table

    cols = ["n_layer", "n_embd", "n_head", "block_size", "batch_size", "lr", "dropout", "positions", "params"]
    cols += ["time_ratio", "tokens", "val_loss"] + (["val_loss_sliding"] if "val_loss_sliding" in table else [])
    shown = table[cols].rename(
        columns={"time_ratio": "speed vs first", "val_loss": "val nats/char", "val_loss_sliding": "sliding"}
    )
    formats = {
        "params": ",d",
        "speed vs first": ".2f",
        "tokens": ",d",
        "val nats/char": ".3f",
        "lr": "g",
        "dropout": "g",
    }
    if "sliding" in shown:
        formats["sliding"] = ".3f"
    record_table(f"sweep_gpt.{grid}", shown, formats=formats)


if __name__ == "__main__":
    main()
