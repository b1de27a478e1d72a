"""Data-parallel training with ``torch.distributed``: the same GPT step on several processes (or machines).

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

DistributedDataParallel (DDP; Li et al. 2020, "PyTorch Distributed") runs one copy of the model per
process. Each step, every process takes its own share of the batch, computes the loss and gradients
on it, and during ``backward()`` the processes **all-reduce** their gradients (sum, then divide by the
number of processes), so every copy applies the same averaged gradient and the copies stay identical.
With equal shares, the average of the shares' mean-loss gradients *is* the gradient of the mean loss on
the whole batch: one DDP step on k processes equals one single-process step on the union of their
batches (:func:`ddp_matches_single_process` checks it).

The processes are started by ``torchrun``, which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` for each of them; :func:`init_distributed` reads them. On CPUs the backend is ``gloo``;
on NVIDIA GPUs it would be ``nccl``. ``benchmarks/ddp_shakespeare.py`` is the runnable script.
"""

from __future__ import annotations

import os
import time

import torch
import torch.distributed as dist
from torch import nn

from .checks import check_flag, check_float, check_instance, check_int, check_seed, check_tensor
from .data import get_lm_batch
from .errors import ArgumentError, ArgumentTypeError
from .models.gpt import GPT, GPTConfig
from .train import lm_cross_entropy, train


def init_distributed(backend: str = "gloo") -> tuple[int, int]:
    """Join the process group ``torchrun`` set up; return ``(rank, world_size)`` (``(0, 1)`` when not under torchrun).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: benchmarks/ddp_shakespeare.py
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def shard(batch: tuple[torch.Tensor, ...], rank: int, world_size: int) -> tuple[torch.Tensor, ...]:
    """This process's share of a global batch: rows ``rank·B/k … (rank+1)·B/k − 1`` of every tensor.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/distributed.py
    """
    world_size = check_int(world_size, "world_size", min=1)
    rank = check_int(rank, "rank", min=0, max=world_size - 1)
    if not isinstance(batch, (tuple, list)) or not batch:
        raise ArgumentTypeError(f"batch must be a tuple of tensors (e.g. x, y), got {type(batch).__name__}")
    for i, t in enumerate(batch):
        check_tensor(t, f"batch[{i}]", dim=range(1, 9))
    B = batch[0].size(0)
    if any(t.size(0) != B for t in batch):
        raise ArgumentError(
            f"every tensor of batch must have the same first size (the batch), got {[len(t) for t in batch]}"
        )
    if B % world_size:
        raise ArgumentError(f"the global batch ({B}) must split evenly over {world_size} processes")
    n = B // world_size
    return tuple(t[rank * n : (rank + 1) * n] for t in batch)


def make_model(vocab_size: int, block_size: int, size: dict, seed: int) -> GPT:
    """The GPT every process builds: same seed, so the same initial weights on every rank.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(size, "size", dict)
    unknown = sorted(set(size) - {"n_layer", "n_head", "n_embd"})
    if unknown:
        raise ArgumentError(f"size may only set n_layer, n_head and n_embd, got {unknown}")
    torch.manual_seed(check_seed(seed))
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, dropout=0.0, bias=False, **size))


def train_data_parallel(
    train_ids: torch.Tensor,
    vocab_size: int,
    size: dict,
    steps: int,
    batch_size: int = 16,
    block_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    grad_clip: float | None = 1.0,
    progress: bool | None = None,
    warmup_steps: int = 0,
) -> tuple[nn.Module, dict]:
    """Train a GPT for ``steps`` steps, data-parallel over the processes of the group (or alone).

    Every rank draws the *same* global batch of ``batch_size`` windows (one seeded generator) and keeps
    its :func:`shard`; the model is wrapped in ``DistributedDataParallel`` when there are several
    processes, and trained by the course's one loop, ``course_lib.train.train`` (progress bar on rank 0).
    ``warmup_steps`` extra steps run first and are not timed (the first steps pay for memory allocation
    and, under DDP, for building the gradient buckets). Returns ``(model, info)``: the unwrapped model
    and the throughput in characters per second over all ranks, over the timed steps.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    steps = check_int(steps, "steps", min=1)
    seed = check_seed(seed)
    batch_size, block_size = check_int(batch_size, "batch_size", min=1), check_int(block_size, "block_size", min=1)
    if progress is not None:
        check_flag(progress, "progress")
    check_tensor(train_ids, "train_ids", dim=1, dtype="integer")
    if len(train_ids) <= block_size:
        raise ArgumentError(
            f"train_ids has {len(train_ids)} tokens; a block of {block_size} needs at least {block_size + 1}"
        )
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    model = make_model(vocab_size, block_size, size, seed)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optimizer = model.configure_optimizer(lr=lr, weight_decay=0.1)
    generator = torch.Generator().manual_seed((seed + 1) % 2**63)

    def get_batch(step):
        return shard(get_lm_batch(train_ids, block_size, batch_size, generator=generator), rank, world)

    def loss_fn(net, batch):
        x, y = batch  # this rank's share: (B / world, T)
        return lm_cross_entropy(net(x), y)

    warmup_steps = check_int(warmup_steps, "warmup_steps", min=0)
    if warmup_steps:
        train(net, get_batch, loss_fn, optimizer, warmup_steps, grad_clip=grad_clip, progress=False)
    t0 = time.perf_counter()
    hist = train(
        net,
        get_batch,
        loss_fn,
        optimizer,
        steps,
        grad_clip=grad_clip,
        progress=(rank == 0) if progress is None else progress,
        desc=f"rank {rank}/{world}",
    )
    wall = time.perf_counter() - t0
    info = {
        "rank": rank,
        "world_size": world,
        "threads": torch.get_num_threads(),
        "steps": steps,
        "train_seconds": hist.attrs["train_seconds"],
        "wall_seconds": wall,
        "tokens_per_s": steps * batch_size * block_size / hist.attrs["train_seconds"],
        "final_loss": float(hist["loss"].iloc[-1]),
    }
    return model, info


def single_process_step(
    train_ids: torch.Tensor,
    vocab_size: int,
    size: dict,
    batch_size: int = 16,
    block_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    grad_clip: float | None = 1.0,
) -> GPT:
    """The reference: one ordinary training step on the whole global batch, in this process.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/labs/scale.py
    """
    model, _ = train_data_parallel(
        train_ids, vocab_size, size, 1, batch_size, block_size, lr, seed, grad_clip, progress=False
    )
    return model


def ddp_matches_single_process(ddp_state: dict, reference: nn.Module, atol: float = 1e-6) -> tuple[bool, float]:
    """Whether the weights after a DDP step equal the reference's: ``(all close, max |difference|)``.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: course_lib/labs/scale.py
    """
    check_instance(reference, "reference", nn.Module, "torch.nn.Module")
    if not isinstance(ddp_state, dict) or not all(isinstance(v, torch.Tensor) for v in ddp_state.values()):
        raise ArgumentTypeError(
            f"ddp_state must be a model's state_dict (names → tensors), got {type(ddp_state).__name__}"
        )
    atol = check_float(atol, "atol", min=0.0)
    ref = reference.state_dict()
    if set(ddp_state) != set(ref):
        raise ArgumentError(f"the two models have different parameters: {sorted(set(ddp_state) ^ set(ref))[:5]}")
    shapes = [k for k in ref if ddp_state[k].shape != ref[k].shape]
    if shapes:
        raise ArgumentError(f"the two models have parameters of different shapes: {shapes[:5]}")
    worst = max((ddp_state[k].float() - ref[k].float()).abs().max().item() for k in ref)
    return worst <= atol, worst
