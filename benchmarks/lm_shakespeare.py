"""Character-level Tiny Shakespeare benchmark: the course's GPT recipe against nanoGPT's CPU recipe, side by side.

One command trains, on this machine and in this run, with the course's own training loop
(``course_lib.train.train``):

* ``course100``: the course's recipe (:data:`COURSE_RECIPE`) for a wall-clock budget of 100 s;
* ``course40``: the same recipe for 40 s (its learning-rate schedule compressed into the shorter budget);
* ``nanogpt``: nanoGPT's documented CPU recipe in the same harness (:data:`NANOGPT_RECIPE`: 4 layers, 4 heads,
  128 dims, context 64, batch 12, 2,000 iterations, learning rate 1e-3 with 100 warm-up steps and a cosine
  decay to 1e-4, no dropout, AdamW β₂ = 0.99, weight decay 0.1, gradient clipping 1.0).

For each run it prints the validation loss in nats/char on the full last 10% of
``data/tinyshakespeare/input.txt`` (nanoGPT's ``shakespeare_char`` split and 65-character vocabulary),
scored on consecutive non-overlapping windows of the run's context (as nanoGPT's estimate: every position of
a window counts) and, beside it, with the sliding window (stride = context / 2); a loss-vs-time curve (a
validation subset of ``--eval-tokens`` characters); the training throughput (tokens/s) and the model FLOPs
utilisation (MFU) against the float32 matmul peak the script measures with the same threads. Then the goals,
side by side: the course recipe at ≤ 1.65 nats/char in 100 s, and below nanoGPT's final loss within 40 s.

Evaluation time is excluded from the budgets (``train()`` measures training time only); the course recipe's
schedule (warm-up, then cosine decay to ``min_lr``) runs on that training clock and ends with the budget.
The header states the CPU, its features and what the run used (threads, fused AdamW, torch.compile, bf16).

Usage:
    python benchmarks/lm_shakespeare.py                      # the three runs, about 4 minutes on 2 cores
    python benchmarks/lm_shakespeare.py --record             # also record the figures under bench.* keys
    python benchmarks/lm_shakespeare.py --runs course100 --budget 60 --out curve.csv
    python benchmarks/lm_shakespeare.py --clock cpu --threads 1   # on a busy machine: budgets in CPU seconds
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone without installing

from course_lib.char_lm import shakespeare_char_data
from course_lib.data import get_lm_batch
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.nn_utils import make_adamw
from course_lib.perf import cpu_seconds, flops_per_token, matmul_peak_flops
from course_lib.train import MAX_STEPS, cosine_schedule, cpu_info, evaluate_lm, lm_cross_entropy, train

#: The course's benchmark recipe: the model chosen by ``tools/sweep_gpt.py --grid bench`` (table in the README; batch
#: 12 at lr 1e-2 there, on an AVX2 machine), with the batch and learning rate re-tuned on an AVX-512 machine with
#: bfloat16, where larger batches pay (the README's benchmark section).
COURSE_RECIPE = {
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 64,
    "block_size": 64,
    "batch_size": 24,
    "lr": 1.5e-2,
    "min_lr": 1e-4,
    "warmup": 50,
    "weight_decay": 0.1,
    "beta2": 0.99,
    "grad_clip": 1.0,
    "positions": "learned",
}

#: nanoGPT's CPU recipe (README of karpathy/nanoGPT: config/train_shakespeare_char.py with
#: --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
#: --lr_decay_iters=2000 --dropout=0.0), in this harness.
NANOGPT_RECIPE = {
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 128,
    "block_size": 64,
    "batch_size": 12,
    "lr": 1e-3,
    "min_lr": 1e-4,
    "warmup": 100,
    "weight_decay": 0.1,
    "beta2": 0.99,
    "grad_clip": 1.0,
    "positions": "learned",
    "steps": 2000,
}

RUNS = ("course100", "course40", "nanogpt")
GOAL_100S = 1.65


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {', '.join(RUNS)}")
    p.add_argument("--budget", type=float, default=100.0, help="the budget of the course100 run (seconds)")
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="budgets in wall-clock seconds, or in this process's CPU seconds (a busy machine; use 1 thread)",
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the forward/backward (compile time counts)")
    p.add_argument("--bf16", choices=("auto", "on", "off"), default="auto", help="bfloat16 autocast")
    p.add_argument("--eval-tokens", type=int, default=16384, help="validation characters per curve point")
    p.add_argument("--eval-interval", type=float, default=10.0, help="seconds of training between curve points")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", type=Path, default=None, help="write every run's loss-vs-time curve to this CSV file")
    p.add_argument("--record", action="store_true", help="record the figures under bench.* (docs/results/bench.json)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    args = p.parse_args(argv)
    args.runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    bad = [r for r in args.runs if r not in RUNS]
    if bad or not args.runs or args.threads < 1 or args.budget <= 0:
        p.error(f"--runs takes names from {RUNS}; --threads >= 1; --budget > 0")
    return args


class TrainClockSchedule:
    """Warm-up for ``warmup`` steps, then cosine decay from ``lr`` to ``min_lr`` over the time budget.

    The clock is training time only: the time spent in evaluation is subtracted (the benchmark's
    evaluation function reports it through :meth:`add_pause`).
    """

    def __init__(self, lr: float, min_lr: float, warmup: int, budget_s: float, clock=time.perf_counter):
        self.lr, self.min_lr, self.warmup, self.budget, self.clock = lr, min_lr, warmup, budget_s, clock
        self.start: float | None = None
        self.paused = 0.0

    def add_pause(self, seconds: float) -> None:
        if self.start is not None:  # before the first step nothing is running yet
            self.paused += seconds

    def elapsed(self) -> float:
        return 0.0 if self.start is None else self.clock() - self.start - self.paused

    def __call__(self, step: int) -> float:
        if self.start is None:
            self.start = self.clock()
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, self.elapsed() / self.budget)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))


class StepClock:
    """Elapsed training time for a step-scheduled run (nanoGPT's), with evaluation pauses subtracted."""

    def __init__(self, clock):
        self.clock, self.start, self.paused = clock, None, 0.0

    def add_pause(self, seconds: float) -> None:
        if self.start is not None:
            self.paused += seconds

    def elapsed(self) -> float:
        if self.start is None:
            self.start = self.clock()
        return self.clock() - self.start - self.paused


def run_one(name: str, args, data, peak: float) -> dict:
    """Train one run and return its figures (printed as it goes)."""
    tok, train_ids, val_ids = data
    recipe = dict(NANOGPT_RECIPE if name == "nanogpt" else COURSE_RECIPE)
    budget = None if name == "nanogpt" else (40.0 if name == "course40" else args.budget)
    clock = cpu_seconds if args.clock == "cpu" else time.perf_counter
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    config = GPTConfig(
        vocab_size=tok.vocab_size,
        block_size=recipe["block_size"],
        n_layer=recipe["n_layer"],
        n_head=recipe["n_head"],
        n_embd=recipe["n_embd"],
        dropout=0.0,
        bias=False,
        positions=recipe["positions"],
    )
    model = GPT(config)
    opt = make_adamw(model, lr=recipe["lr"], weight_decay=recipe["weight_decay"], betas=(0.9, recipe["beta2"]))
    fused = bool(opt.defaults.get("fused"))
    T, B = recipe["block_size"], recipe["batch_size"]
    if budget is None:
        steps, max_seconds = recipe["steps"], None
        schedule = cosine_schedule(recipe["lr"], steps, warmup=recipe["warmup"], min_lr=recipe["min_lr"])
        timer = StepClock(clock)
    else:
        steps, max_seconds = MAX_STEPS, budget  # the budget ends the run long before
        schedule = timer = TrainClockSchedule(recipe["lr"], recipe["min_lr"], recipe["warmup"], budget, clock)
    curve: list[dict] = []
    state = {"step": 0, "next_eval": 0.0}

    def get_batch(step):
        state["step"] = step + 1
        return get_lm_batch(train_ids, T, B, generator=generator)  # x, y: (B, T)

    def loss_fn(model, batch):
        x, y = batch
        return lm_cross_entropy(model(x), y)  # (B, T, V) vs (B, T)

    def add_point(t_train):
        t0 = clock()
        val = evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=args.eval_tokens)
        timer.add_pause(clock() - t0)
        s = state["step"]
        curve.append({"run": name, "time_s": round(t_train, 2), "step": s, "tokens": s * T * B, "val_subset": val})
        if not args.quiet:
            print(f"  {name:9s} t={t_train:6.1f}s  step {s:5d}  val(subset) {val:.4f}", flush=True)

    def eval_fn(model):
        t_train = timer.elapsed()
        if t_train >= state["next_eval"] and (budget is None or state["next_eval"] < budget):
            add_point(t_train)
            state["next_eval"] += args.eval_interval
        return {}

    hist = train(
        model,
        get_batch,
        loss_fn,
        opt,
        steps,
        eval_every=1,
        eval_fn=eval_fn,
        lr_schedule=schedule,
        grad_clip=recipe["grad_clip"],
        max_seconds=max_seconds,
        progress=False,
        log_every=MAX_STEPS,
        desc=name,
        compile=args.compile,
        bf16={"auto": "auto", "on": True, "off": False}[args.bf16],
        clock=clock,
    )
    done, train_s = hist.attrs["steps_done"], hist.attrs["train_seconds"]
    if not curve or curve[-1]["step"] != done:
        add_point(train_s)
    t0 = time.perf_counter()
    val = evaluate_lm(model, val_ids, T, batch_size=64)
    val_sliding = evaluate_lm(model, val_ids, T, batch_size=64, stride=T // 2)
    eval_s = time.perf_counter() - t0
    tok_s = done * T * B / train_s
    fpt = flops_per_token(model, config.n_layer, config.block_size, config.n_embd)
    r = {
        "run": name,
        "recipe": recipe,
        "budget_s": budget,
        "steps": done,
        "tokens": done * T * B,
        "train_seconds": train_s,
        "val_loss": val,
        "val_loss_sliding": val_sliding,
        "tokens_per_s": tok_s,
        "mfu": fpt * tok_s / peak,
        "params": model.num_params(),
        "fused_adamw": fused,
        "final_eval_seconds": eval_s,
        "curve": curve,
    }
    print(
        f"{name}: {done} steps, {r['tokens']:,} tokens in {train_s:.1f} s → val {val:.4f} nats/char "
        f"(sliding {val_sliding:.4f}); {tok_s:,.0f} tokens/s; MFU {100 * r['mfu']:.1f}%",
        flush=True,
    )
    return r


def describe(recipe: dict) -> str:
    r = recipe
    sched = f"{r['steps']} steps" if "steps" in r else "the time budget"
    return (
        f"{r['n_layer']} layers × {r['n_embd']} dims ({r['n_head']} heads), context {r['block_size']}, batch "
        f"{r['batch_size']}, lr {r['lr']:g} (warm-up {r['warmup']}, cosine to {r['min_lr']:g} over {sched}), "
        f"AdamW β₂ {r['beta2']:g}, weight decay {r['weight_decay']:g}, clip {r['grad_clip']:g}, no dropout"
    )


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    info = cpu_info()
    data = shakespeare_char_data()
    peak = matmul_peak_flops(args.threads)
    bf16_used = {"auto": info["native_bf16"], "on": True, "off": False}[args.bf16]
    compile_used = args.compile and info["cxx_compiler"] is not None and os.environ.get("COURSE_COMPILE") != "0"
    print(
        f"CPU: {info['cpu']} ({info['machine']}); PyTorch kernels: {info['simd']}; native bf16: "
        f"{info['native_bf16']}; C++ compiler: {info['cxx_compiler'] or 'none'}\n"
        f"used: {args.threads} thread(s); fused AdamW; torch.compile {'on' if compile_used else 'off'}; "
        f"bf16 autocast {'on' if bf16_used else 'off'}; clock: {args.clock}; float32 matmul peak "
        f"{peak / 1e9:.1f} GFLOP/s\n"
        f"course recipe: {describe(COURSE_RECIPE)}\nnanoGPT recipe: {describe(NANOGPT_RECIPE)}",
        flush=True,
    )
    results = {name: run_one(name, args, data, peak) for name in RUNS if name in args.runs}
    print_summary(args, results)
    if args.out is not None:
        import pandas as pd

        args.out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame([c for r in results.values() for c in r["curve"]]).to_csv(args.out, index=False)
        print(f"curves written to {args.out}")
    if args.record:
        record_results(args, info, peak, results, compile_used, bf16_used)
    return results


def print_summary(args, results: dict) -> None:
    print(
        f"\n{'run':10s} {'budget':>8s} {'steps':>6s} {'tokens':>10s} {'train s':>8s} {'val':>7s} "
        f"{'sliding':>7s} {'tokens/s':>9s} {'MFU':>6s}"
    )
    for r in results.values():
        budget = f"{r['budget_s']:g} s" if r["budget_s"] else f"{r['recipe']['steps']} it"
        print(
            f"{r['run']:10s} {budget:>8s} {r['steps']:6d} {r['tokens']:10,d} {r['train_seconds']:8.1f} "
            f"{r['val_loss']:7.4f} {r['val_loss_sliding']:7.4f} {r['tokens_per_s']:9,.0f} {100 * r['mfu']:5.1f}%"
        )
    print("(val: full last 10%, non-overlapping windows of the run's context, nats/char; sliding: stride = context/2)")
    c100, c40, nano = (results.get(k) for k in RUNS)
    if c100 and c100["budget_s"] == 100:
        ok = "met" if c100["val_loss"] <= GOAL_100S else "NOT met"
        print(f"goal 1: ≤ {GOAL_100S} nats/char in 100 s: {c100['val_loss']:.4f} → {ok}")
    elif c100:
        print(f"goal 1 (≤ {GOAL_100S} nats/char in 100 s) not judged: this run's budget was {c100['budget_s']:g} s")
    if c40 and nano:
        ok = "met" if c40["val_loss"] < nano["val_loss"] else "NOT met"
        print(
            f"goal 2: below nanoGPT's final loss ({nano['val_loss']:.4f} after {nano['train_seconds']:.1f} s) "
            f"within 40 s: {c40['val_loss']:.4f} → {ok}; time ratio nanoGPT/course "
            f"{nano['train_seconds'] / c40['train_seconds']:.2f}×"
        )
    if c100 and nano:
        print(
            f"side by side: tokens/s course/nanoGPT {c100['tokens_per_s'] / nano['tokens_per_s']:.2f}; "
            f"loss course (100 s) − nanoGPT (final) {c100['val_loss'] - nano['val_loss']:+.4f} nats/char"
        )


def record_results(args, info, peak, results, compile_used, bf16_used) -> None:
    import pandas as pd

    os.environ["COURSE_RECORD"] = "1"
    os.environ["COURSE_FAST"] = "0"
    from course_lib.results import record, record_table

    record("bench.cpu", info["cpu"])
    record("bench.recipe", describe(COURSE_RECIPE))
    record("bench.nanogpt_recipe", describe(NANOGPT_RECIPE))
    record("bench.threads", args.threads, fmt="d")
    record("bench.clock", args.clock)
    record("bench.matmul_peak_gflops", peak / 1e9, fmt=".0f")
    record(
        "bench.features",
        f"fused AdamW; torch.compile {'on' if compile_used else 'off'}; bf16 {'on' if bf16_used else 'off'}",
    )
    for name, r in results.items():
        record(f"bench.{name}_val", r["val_loss"], fmt=".3f")
        record(f"bench.{name}_val_sliding", r["val_loss_sliding"], fmt=".3f")
        record(f"bench.{name}_seconds", r["train_seconds"], fmt=".0f")
        record(f"bench.{name}_tokens_per_s", r["tokens_per_s"], fmt=",.0f")
        record(f"bench.{name}_mfu_pct", 100 * r["mfu"], fmt=".1f")
    if "course100" in results and results["course100"]["budget_s"] == 100:
        record("bench.goal_100s", "met" if results["course100"]["val_loss"] <= GOAL_100S else "not met")
    if "course40" in results and "nanogpt" in results:
        met = results["course40"]["val_loss"] < results["nanogpt"]["val_loss"]
        record("bench.goal_40s", "met" if met else "not met")
        record(
            "bench.time_ratio_vs_nanogpt",
            results["nanogpt"]["train_seconds"] / results["course40"]["train_seconds"],
            fmt=".1f",
        )
    rows = [
        {
            "run": {
                "course100": "course recipe, 100 s",
                "course40": "course recipe, 40 s",
                "nanogpt": "nanoGPT's CPU recipe, 2,000 iterations",
            }[r["run"]],
            "seconds": r["train_seconds"],
            "tokens": r["tokens"],
            "val nats/char": r["val_loss"],
            "sliding": r["val_loss_sliding"],
            "tokens/s": r["tokens_per_s"],
            "MFU %": 100 * r["mfu"],
        }
        for r in results.values()
    ]
    record_table(
        "bench.runs",
        pd.DataFrame(rows),
        formats={
            "seconds": ".0f",
            "tokens": ",d",
            "val nats/char": ".3f",
            "sliding": ".3f",
            "tokens/s": ",.0f",
            "MFU %": ".1f",
        },
    )
    if {"course100", "course40", "nanogpt"} <= set(results):  # one row per machine, kept across runs
        from course_lib.results import load_results

        old = load_results().get("bench.machines", {"columns": [], "rows": []})
        row = {
            "CPU": info["cpu"],
            "kernels": info["simd"],  # two machines can share a model name ("AMD EPYC") and differ in vector units
            "threads": args.threads,
            "course recipe": f"batch {COURSE_RECIPE['batch_size']}, lr {COURSE_RECIPE['lr']:g}"
            + (", bf16" if bf16_used else ""),
            "matmul GFLOP/s": peak / 1e9,
            "course 100 s": results["course100"]["val_loss"],
            "course 40 s": results["course40"]["val_loss"],
            "nanoGPT": results["nanogpt"]["val_loss"],
            "nanoGPT s": results["nanogpt"]["train_seconds"],
            "tokens/s": results["course100"]["tokens_per_s"],
            "date": time.strftime("%Y-%m-%d"),
        }
        kept = [dict(zip(old["columns"], r)) for r in old["rows"]]
        key = ("CPU", "kernels", "threads")
        kept = [r for r in kept if tuple(r.get(k) for k in key) != tuple(row[k] for k in key)]
        record_table(
            "bench.machines",
            pd.DataFrame([*kept, row], columns=list(row)),
            formats={
                "matmul GFLOP/s": ".0f",
                "course 100 s": ".3f",
                "course 40 s": ".3f",
                "nanoGPT": ".3f",
                "nanoGPT s": ".0f",
                "tokens/s": ",.0f",
            },
        )
    curve = results.get("course100", {"curve": []})["curve"]
    if curve:
        record_table(
            "bench.curve",
            pd.DataFrame(
                {"seconds": [round(c["time_s"]) for c in curve], "nats/char (subset)": [c["val_subset"] for c in curve]}
            ),
            formats={"nats/char (subset)": ".2f"},
        )


if __name__ == "__main__":
    main()
