"""Character-level Tiny Shakespeare benchmark: the course's GPT, a fixed wall-clock budget, on CPU.

Trains ``course_lib.models.gpt.GPT`` with the course's own training loop
(``course_lib.train.train(max_seconds=...)``) for a wall-clock budget (default 100 s, 2 threads)
and prints:

* validation loss in nats/char on the last 10% of ``data/tinyshakespeare/input.txt`` — the same
  split and vocabulary as nanoGPT's ``shakespeare_char`` (vocabulary = sorted set of all 65
  characters of the whole text; the first 90% trains), scored on consecutive non-overlapping
  windows of ``block_size`` characters;
* a compact loss-vs-time curve (validation on a fixed subset of ``--eval-tokens`` characters);
* training throughput (tokens/s) and model FLOPs utilisation (MFU) against the float32 matmul
  throughput this script measures on the same machine, with the same threads, in the same run.

Evaluation time is excluded from the budget (``train()`` measures training time only), and the
learning-rate schedule (linear warm-up, then cosine decay to ``--min-lr``) runs on that same
training clock, so it ends exactly when the budget does.

Reference (nanoGPT's documented CPU recipe: 4 layers, 4 heads, 128 dims, block 64, batch 12,
2,000 iterations, lr 1e-3, no dropout): validation loss 1.886 in about 100 s on 2 cores, about
17k tokens/s. Reproduce that configuration with::

    python benchmarks/lm_shakespeare.py --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 \\
        --batch-size 12 --lr 1e-3 --min-lr 1e-4 --warmup 100

The defaults are the course's recipe, found by measurement (see the README): nanoGPT's model and
batch (4 layers, 4 heads, 128 dims, block 64, batch 12) with a 5× higher peak learning rate (5e-3; at a
fixed 600k characters: 1e-3 → 2.177, 3e-3 → 2.019, 6e-3 → 2.007 nats/char on a validation subset),
50 warm-up steps and a cosine decay to 1e-4 that ends exactly when the wall-clock budget does. Larger
batches or a 128-character context gave more tokens/s but far fewer optimizer steps in the budget and
a worse loss (batch 24 × block 128: 2.408 at 600k characters).

Usage: python benchmarks/lm_shakespeare.py [--budget 100] [--threads 2] [--out curve.csv]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone without installing

from course_lib.data import CharTokenizer, get_lm_batch, load_shakespeare, train_val_split  # noqa: E402
from course_lib.perf import flops_per_token, matmul_peak_flops  # noqa: E402
from course_lib.train import evaluate_lm, lm_cross_entropy, train  # noqa: E402

NANOGPT_REFERENCE = {"val_loss": 1.886, "seconds": 100, "tokens_per_s": 17_000}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--budget", type=float, default=100.0, help="training wall-clock budget in seconds (evaluation excluded)"
    )
    p.add_argument("--threads", type=int, default=2, help="PyTorch intra-op threads")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64, help="context length in characters")
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--lr", type=float, default=5e-3, help="peak learning rate (AdamW)")
    p.add_argument("--min-lr", type=float, default=1e-4, help="learning rate at the end of the cosine decay")
    p.add_argument("--warmup", type=int, default=50, help="linear warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument(
        "--eval-tokens",
        type=int,
        default=16384,
        help="characters of the validation set (from its start) scored for each curve point",
    )
    p.add_argument("--eval-interval", type=float, default=10.0, help="seconds of training between curve points")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", type=Path, default=None, help="write the loss-vs-time curve to this CSV file")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    args = p.parse_args(argv)
    if args.budget <= 0 or args.threads < 1 or args.n_embd % args.n_head:
        p.error("need --budget > 0, --threads >= 1 and --n-embd divisible by --n-head")
    return args


class TrainClockSchedule:
    """Warm-up for ``warmup`` steps, then cosine decay from ``lr`` to ``min_lr`` over the time budget.

    The clock is training time only: the time spent in evaluation is subtracted (the benchmark's
    evaluation function reports it through :meth:`add_pause`).
    """

    def __init__(self, lr: float, min_lr: float, warmup: int, budget_s: float):
        self.lr, self.min_lr, self.warmup, self.budget = lr, min_lr, warmup, budget_s
        self.start: float | None = None
        self.paused = 0.0

    def add_pause(self, seconds: float) -> None:
        if self.start is not None:  # before the first step nothing is running yet
            self.paused += seconds

    def elapsed(self) -> float:
        return 0.0 if self.start is None else time.perf_counter() - self.start - self.paused

    def __call__(self, step: int) -> float:
        if self.start is None:
            self.start = time.perf_counter()
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, self.elapsed() / self.budget)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))


def run(args: argparse.Namespace) -> dict:
    """Train for the budget and return the figures (also printed)."""
    from course_lib.models.gpt import GPT, GPTConfig

    torch.set_num_threads(args.threads)
    text = load_shakespeare()
    tok = CharTokenizer.from_text(text)  # sorted set of all characters: 65, as shakespeare_char
    data = torch.tensor(tok.encode(text), dtype=torch.long)
    train_ids, val_ids = train_val_split(data, 0.9)

    peak = matmul_peak_flops(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    config = GPTConfig(
        vocab_size=tok.vocab_size,
        block_size=args.block_size,
        n_layer=args.n_layer,
        n_head=args.n_head,
        n_embd=args.n_embd,
        dropout=0.0,
        bias=False,
    )
    model = GPT(config)
    if hasattr(model, "configure_optimizer"):
        opt = model.configure_optimizer(args.lr, args.weight_decay)
        for g in opt.param_groups:
            g["betas"] = (0.9, args.beta2)
    else:
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=args.lr,
            betas=(0.9, args.beta2),
        )
    schedule = TrainClockSchedule(args.lr, args.min_lr, args.warmup, args.budget)
    tokens_per_step = args.batch_size * args.block_size
    curve: list[dict] = []
    next_eval = [0.0]

    def get_batch(step):
        return get_lm_batch(train_ids, args.block_size, args.batch_size, generator=gen)

    def loss_fn(model, batch):
        x, y = batch
        return lm_cross_entropy(model(x), y)  # (B, T, V) vs (B, T)

    def eval_fn(model):
        t_train = schedule.elapsed()
        if t_train < next_eval[0] or next_eval[0] >= args.budget:  # the last point is added after training
            return {}
        t0 = time.perf_counter()
        val = evaluate_lm(model, val_ids, args.block_size, batch_size=64, max_tokens=args.eval_tokens)
        schedule.add_pause(time.perf_counter() - t0)
        steps = eval_fn.step
        curve.append(
            {
                "time_s": round(t_train, 2),
                "step": steps,
                "tokens": steps * tokens_per_step,
                "val_loss_subset": round(val, 4),
            }
        )
        if not args.quiet:
            print(f"  t={t_train:6.1f}s  step {steps:5d}  val(subset) {val:.4f}", flush=True)
        next_eval[0] += args.eval_interval
        return {"val_loss_subset": val}

    eval_fn.step = 0

    def counted_get_batch(step):
        eval_fn.step = step + 1
        return get_batch(step)

    if not args.quiet:
        print(
            f"GPT {config}\n{model.num_params():,} parameters; "
            f"{tokens_per_step} tokens/step; budget {args.budget:g} s on {args.threads} thread(s)",
            flush=True,
        )
    hist = train(
        model,
        counted_get_batch,
        loss_fn,
        opt,
        steps=10**9,
        eval_every=1,
        eval_fn=eval_fn,
        lr_schedule=schedule,
        grad_clip=args.grad_clip,
        max_seconds=args.budget,
        progress=False,
        log_every=10**9,
        desc="benchmark",
    )
    steps, train_s = hist.attrs["steps_done"], hist.attrs["train_seconds"]
    if not curve or curve[-1]["step"] != steps:  # the last point of the curve: the end of the budget
        val = evaluate_lm(model, val_ids, args.block_size, batch_size=64, max_tokens=args.eval_tokens)
        curve.append(
            {
                "time_s": round(train_s, 2),
                "step": steps,
                "tokens": steps * tokens_per_step,
                "val_loss_subset": round(val, 4),
            }
        )
    t0 = time.perf_counter()
    val_full = evaluate_lm(model, val_ids, args.block_size, batch_size=64)
    eval_s = time.perf_counter() - t0
    tok_s = steps * tokens_per_step / train_s
    fpt = flops_per_token(model, config.n_layer, config.block_size, config.n_embd)
    result = {
        "val_loss": val_full,
        "val_bits": val_full / math.log(2),
        "steps": steps,
        "train_seconds": train_s,
        "tokens": steps * tokens_per_step,
        "tokens_per_s": tok_s,
        "model_flops_per_s": fpt * tok_s,
        "matmul_peak_flops_per_s": peak,
        "mfu": fpt * tok_s / peak,
        "final_eval_seconds": eval_s,
        "curve": curve,
    }
    print_summary(args, config, result)
    if args.out is not None:
        import pandas as pd

        args.out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(curve).to_csv(args.out, index=False)
        print(f"curve written to {args.out}")
    return result


def print_summary(args, config, r: dict) -> None:
    print(f"\nloss vs training time (validation subset of {args.eval_tokens:,} chars; nats/char)")
    print("   time_s   step     tokens  val_loss")
    for c in r["curve"]:
        print(f"  {c['time_s']:7.1f} {c['step']:6d} {c['tokens']:10,d}  {c['val_loss_subset']:.4f}")
    ref = NANOGPT_REFERENCE
    print(
        f"\nrecipe: n_layer={config.n_layer} n_head={config.n_head} n_embd={config.n_embd} "
        f"block_size={config.block_size} batch_size={args.batch_size} lr={args.lr:g}→{args.min_lr:g} "
        f"(warm-up {args.warmup} steps, cosine over the budget) weight_decay={args.weight_decay:g} "
        f"beta2={args.beta2:g} grad_clip={args.grad_clip:g} threads={args.threads} seed={args.seed}"
    )
    print(
        f"validation loss (full last 10%, {config.block_size}-char windows): {r['val_loss']:.4f} nats/char "
        f"= {r['val_bits']:.4f} bits/char   [nanoGPT CPU reference: {ref['val_loss']} in ~{ref['seconds']} s]"
    )
    print(
        f"trained {r['steps']} steps, {r['tokens']:,} tokens in {r['train_seconds']:.1f} s "
        f"(evaluation excluded; final evaluation took {r['final_eval_seconds']:.1f} s)"
    )
    print(
        f"throughput: {r['tokens_per_s']:,.0f} tokens/s   model: {r['model_flops_per_s'] / 1e9:.2f} GFLOP/s   "
        f"matmul peak (float32, {args.threads} threads): {r['matmul_peak_flops_per_s'] / 1e9:.2f} GFLOP/s   "
        f"MFU: {100 * r['mfu']:.1f}%"
    )


if __name__ == "__main__":
    run(parse_args())
