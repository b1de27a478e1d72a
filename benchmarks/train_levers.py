"""Each lever of the training loop's fast path, measured on/off with interleaved A/B runs on the same machine.

The model, batch and context of the language-model benchmark (``benchmarks/lm_shakespeare.py``: the course's
GPT on Tiny Shakespeare characters). For every lever, the two arms train copies of the same model; they take
turns, ``--steps`` steps each per round, for ``--rounds`` rounds, so that a change in machine load hits both arms
alike. Reported per lever: tokens/s of each arm (median over rounds) and the median of the per-round ratios
B/A, with its range. Levers:

* ``optimizer``: AdamW as a per-parameter loop, ``foreach`` (batched per group) and ``fused`` (one kernel);
* ``compile``: ``torch.compile`` of the forward and loss (and their backward), with the compile time
  measured on its own and the training time after which compiling pays for itself;
* ``bf16``: bfloat16 autocast, only where the CPU has native bfloat16 (``--bf16-emulated`` measures it anyway);
* ``batching``: ``course_lib.data.get_lm_batch`` (one indexing operation) against a per-sample Python loop;
* ``threads``: 1 thread against ``--threads`` threads;
* ``dropout``: no dropout against dropout 0.1 (not a lever of the loop but of the recipe: what regularising costs
  per step on a CPU, where drawing the dropout masks is not free).

Wall-clock figures on a busy machine are noisy; ``--clock cpu`` measures this process's CPU time instead
(meaningful for one thread only, ``--threads 1``: with several threads it also counts their waiting).

Usage: python benchmarks/lm_shakespeare.py is the benchmark; this script explains its settings:
    python benchmarks/train_levers.py [--threads 2] [--rounds 5] [--steps 20] [--clock wall|cpu] [--record [NAME]]
    python benchmarks/train_levers.py --only compile --n-embd 192 --n-head 6 --block-size 128 --batch-size 16 \\
        --record levers_shipped      # the compile lever on the shipped GPT's size
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone without installing

from course_lib import train as T
from course_lib.char_lm import shakespeare_char_data
from course_lib.data import get_lm_batch
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.nn_utils import make_adamw
from course_lib.perf import cpu_seconds, flops_per_token, matmul_peak_flops

LEVERS = ("optimizer", "compile", "bf16", "batching", "threads", "dropout")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--threads", type=int, default=2, help="threads of every arm (the 'threads' lever compares 1 with this)"
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="training steps per arm per round")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    p.add_argument("--only", choices=LEVERS, action="append", help="measure only this lever (repeatable)")
    p.add_argument(
        "--warm-cache", action="store_true", help="keep torch.compile's cache (default: a fresh one, a cold compile)"
    )
    p.add_argument("--bf16-emulated", action="store_true", help="measure bf16 even without native support")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument(
        "--record",
        nargs="?",
        const="levers",
        default=None,
        metavar="NAME",
        help="record the table under bench.NAME (default bench.levers; docs/results)",
    )
    return p.parse_args(argv)


def python_loop_batch(data, block_size, batch_size, generator):
    """nanoGPT's batching: one slice per sample, stacked (the per-sample Python work the course avoids)."""
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in ix])
    return x, y


def lm_loss(model, batch):
    x, y = batch
    return T.lm_cross_entropy(model(x), y)  # (B, T, V) vs (B, T)


class Arm:
    """One side of an A/B comparison: its own copy of the model and optimizer, trained in turns."""

    def __init__(self, name, model, args, train_ids, *, optimizer=None, loss_fn=lm_loss, batch_fn=None, **train_kw):
        self.name, self.model, self.args = name, copy.deepcopy(model), args
        self.opt = make_adamw(self.model, lr=1e-3, **(optimizer or {"fused": True}))
        self.loss_fn, self.train_kw, self.rates = loss_fn, train_kw, []
        self.threads = train_kw.pop("threads", args.threads)
        generator = torch.Generator().manual_seed(0)
        batch_fn = batch_fn or get_lm_batch
        self.get_batch = lambda step: batch_fn(train_ids, args.block_size, args.batch_size, generator=generator)

    def run(self, steps, clock):
        torch.set_num_threads(self.threads)
        hist = T.train(
            self.model, self.get_batch, self.loss_fn, self.opt, steps, progress=False, clock=clock, **self.train_kw
        )
        rate = steps * self.args.batch_size * self.args.block_size / hist.attrs["train_seconds"]
        self.rates.append(rate)
        return rate


def compare(lever, a: Arm, b: Arm, args, clock, note="") -> dict:
    for arm in (a, b):  # warm-up (and compilation) outside the measurement
        arm.run(2, clock)
    ratios = []
    for r in range(args.rounds):
        first, second = (a, b) if r % 2 == 0 else (b, a)  # alternate the order too
        first.run(args.steps, clock)
        second.run(args.steps, clock)
        ratios.append(b.rates[-1] / a.rates[-1])
    row = {
        "lever": lever,
        "A": a.name,
        "B": b.name,
        "A tokens/s": statistics.median(a.rates),
        "B tokens/s": statistics.median(b.rates),
        "B/A": statistics.median(ratios),
        "B/A min": min(ratios),
        "B/A max": max(ratios),
        "note": note,
    }
    print(
        f"{lever:10s} {a.name:>22s} {row['A tokens/s']:9,.0f} tok/s | {b.name:>22s} {row['B tokens/s']:9,.0f} tok/s"
        f" | B/A {row['B/A']:.3f} (range {row['B/A min']:.3f}–{row['B/A max']:.3f}) {note}",
        flush=True,
    )
    return row


def main(argv=None):
    args = parse_args(argv)
    if not args.warm_cache:  # time a cold compilation, as a learner's first run has it
        import tempfile

        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="course-levers-inductor-")
    clock = cpu_seconds if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    info = T.cpu_info()
    _, train_ids, _ = shakespeare_char_data()
    torch.manual_seed(0)
    config = GPTConfig(
        vocab_size=65,
        block_size=args.block_size,
        n_layer=args.n_layer,
        n_head=args.n_head,
        n_embd=args.n_embd,
    )
    model = GPT(config)
    fpt = flops_per_token(model, config.n_layer, config.block_size, config.n_embd)
    peak = matmul_peak_flops(args.threads)
    print(
        f"CPU: {info['cpu']} ({info['machine']}, {info['simd']}); native bf16: {info['native_bf16']}; "
        f"C++ compiler: {info['cxx_compiler']}; float32 matmul peak, {args.threads} thread(s): "
        f"{peak / 1e9:.1f} GFLOP/s\n"
        f"model: {config.n_layer} layers × {config.n_embd} dims, context {config.block_size}, batch "
        f"{args.batch_size}; {args.rounds} rounds × {args.steps} steps per arm; clock: {args.clock}\n"
        f"A and B take turns; {args.threads} thread(s) unless the lever is 'threads'.",
        flush=True,
    )
    rows = []
    levers = args.only or LEVERS
    if "optimizer" in levers:
        loop = Arm("AdamW loop", model, args, train_ids, optimizer={"fused": False, "foreach": False})
        for name, opt in (("AdamW foreach", {"foreach": True}), ("AdamW fused", {"fused": True})):
            rows.append(compare("optimizer", loop, Arm(name, model, args, train_ids, optimizer=opt), args, clock))
            loop.rates.clear()
    if "compile" in levers:
        if info["cxx_compiler"] is None:
            print("compile    skipped: no C++ compiler on this machine", flush=True)
        else:
            compiled_loss = torch.compile(lm_loss)
            eager = Arm("eager", model, args, train_ids)
            comp = Arm("torch.compile", model, args, train_ids, loss_fn=compiled_loss)
            t0 = clock()
            comp.run(1, clock)  # compiles forward and backward
            compile_s = clock() - t0
            row = compare("compile", eager, comp, args, clock)
            gain = 1 - 1 / row["B/A"]  # share of each step's time saved
            breakeven = compile_s / gain if gain > 0 else float("inf")
            row["note"] = f"compile {compile_s:.0f} s; pays off after {breakeven:.0f} s of training"
            print(f"{'':10s} {row['note']}", flush=True)
            rows.append(row)
    if "bf16" in levers:
        if info["native_bf16"] or args.bf16_emulated:
            note = "" if info["native_bf16"] else "emulated: this CPU has no native bf16"
            rows.append(
                compare(
                    "bf16",
                    Arm("float32", model, args, train_ids),
                    Arm("bf16 autocast", model, args, train_ids, bf16=True),
                    args,
                    clock,
                    note,
                )
            )
        else:
            print("bf16       skipped: this CPU has no native bfloat16 (--bf16-emulated measures it anyway)")
    if "batching" in levers:
        rows.append(
            compare(
                "batching",
                Arm("per-sample Python loop", model, args, train_ids, batch_fn=python_loop_batch),
                Arm("get_lm_batch", model, args, train_ids),
                args,
                clock,
            )
        )
    if "threads" in levers and args.threads > 1:
        rows.append(
            compare(
                "threads",
                Arm("1 thread", model, args, train_ids, threads=1),
                Arm(f"{args.threads} threads", model, args, train_ids, threads=args.threads),
                args,
                clock,
                "wall clock only" if args.clock == "wall" else "CPU clock counts every thread: not comparable",
            )
        )
    if "dropout" in levers:
        dropped = GPT(dataclasses.replace(config, dropout=0.1))
        dropped.load_state_dict(model.state_dict())  # the same weights: only the masks differ
        rows.append(
            compare(
                "dropout",
                Arm("dropout 0", model, args, train_ids),
                Arm("dropout 0.1", dropped, args, train_ids),
                args,
                clock,
            )
        )
    print(
        f"\nmodel FLOPs per token {fpt / 1e6:.2f} M; MFU = tokens/s × FLOPs per token / peak ({args.threads} threads):"
    )
    for r in rows:
        print(
            f"  {r['lever']:10s} {r['A']:>22s} {100 * r['A tokens/s'] * fpt / peak:5.1f}%   "
            f"{r['B']:>22s} {100 * r['B tokens/s'] * fpt / peak:5.1f}%"
        )
    if args.record:
        import pandas as pd

        os.environ["COURSE_RECORD"] = "1"
        os.environ["COURSE_FAST"] = "0"
        from course_lib.results import record, record_table

        record(f"bench.{args.record}_cpu", info["cpu"])
        record(
            f"bench.{args.record}_model",
            f"{config.n_layer} layers × {config.n_embd} dims, context {config.block_size}, batch {args.batch_size}",
        )
        record_table(
            f"bench.{args.record}",
            pd.DataFrame(rows)[["lever", "A", "B", "A tokens/s", "B tokens/s", "B/A", "note"]],
            formats={"A tokens/s": ",.0f", "B tokens/s": ",.0f", "B/A": ".2f"},
        )
    return rows


if __name__ == "__main__":
    main()
