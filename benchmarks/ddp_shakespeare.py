"""Data-parallel training of the course's GPT on Tiny Shakespeare with DistributedDataParallel (gloo, CPU).

One machine, two processes (each with one thread)::

    torchrun --standalone --nproc_per_node=2 benchmarks/ddp_shakespeare.py --threads 1

The same script alone is the single-process baseline (here with two threads)::

    python benchmarks/ddp_shakespeare.py --threads 2

Several machines (run the same command on each; node 0's address is the rendezvous point)::

    # machine 0 (address 10.0.0.1)            # machine 1
    torchrun --nnodes=2 --nproc_per_node=2 \\    torchrun --nnodes=2 --nproc_per_node=2 \\
      --rdzv-backend=c10d \\                       --rdzv-backend=c10d \\
      --rdzv-endpoint=10.0.0.1:29500 \\            --rdzv-endpoint=10.0.0.1:29500 \\
      --rdzv-id=shakespeare \\                     --rdzv-id=shakespeare \\
      benchmarks/ddp_shakespeare.py               benchmarks/ddp_shakespeare.py

torchrun starts the processes and gives each its ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; the script
joins the group (``gloo``; on GPUs one would use ``nccl`` and one process per GPU), every rank draws the same
global batch and trains on its share, and DDP averages the gradients in ``backward()``.

``--save-params PATH`` writes rank 0's weights after training (the test compares one DDP step with one
single-process step on the union batch); ``--check-equivalence PATH`` does that one-step check with a tiny
model first and then the timed run, in one launch (notebook 12); ``--json PATH`` writes the throughput figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a fresh clone without installing

import torch
import torch.distributed as dist

from course_lib.char_lm import shakespeare_char_data
from course_lib.distributed import init_distributed, train_data_parallel

#: The model and global batch of the equivalence check (``--check-equivalence``): small, so the check is fast.
CHECK_SIZE = {"n_layer": 2, "n_head": 2, "n_embd": 32}
CHECK_BATCH = 8


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=40, help="optimizer steps (timed)")
    p.add_argument("--warmup-steps", type=int, default=3, help="untimed steps before the timed ones")
    p.add_argument("--batch-size", type=int, default=16, help="global batch (windows), split over the processes")
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="PyTorch threads per process")
    p.add_argument("--no-clip", action="store_true", help="no gradient clipping")
    p.add_argument("--save-params", type=Path, default=None, help="write rank 0's weights here after training")
    p.add_argument("--json", type=Path, default=None, help="write rank 0's throughput figures here")
    p.add_argument(
        "--check-equivalence",
        type=Path,
        default=None,
        help="first take one step with the tiny check model (2 layers × 32, global batch 8) and write rank 0's "
        "weights here (notebook 12 compares them with one single-process step), then do the timed run",
    )
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rank, world = init_distributed("gloo")
    tok, train_ids, _ = shakespeare_char_data()
    if args.check_equivalence:  # one launch, two jobs: the equivalence check, then the throughput run
        check_model, _ = train_data_parallel(
            train_ids, tok.vocab_size, CHECK_SIZE, 1, batch_size=CHECK_BATCH, seed=args.seed, progress=False
        )
        if rank == 0:
            torch.save(check_model.state_dict(), args.check_equivalence)
    size = {"n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd}
    model, info = train_data_parallel(
        train_ids,
        tok.vocab_size,
        size,
        args.steps,
        batch_size=args.batch_size,
        block_size=args.block_size,
        lr=args.lr,
        seed=args.seed,
        grad_clip=None if args.no_clip else 1.0,
        progress=False if args.quiet else None,
        warmup_steps=args.warmup_steps,
    )
    info["params"] = model.num_params()
    if rank == 0:
        if args.save_params:
            torch.save(model.state_dict(), args.save_params)
        if args.json:
            args.json.write_text(json.dumps(info, indent=1))
        print(
            f"{world} process(es) × {info['threads']} thread(s): {info['tokens_per_s']:,.0f} characters/s "
            f"({args.steps} steps of {args.batch_size} × {args.block_size}, {info['params']:,} parameters)"
        )
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return info


if __name__ == "__main__":
    main()
