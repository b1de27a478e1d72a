"""Counting compute: a Transformer's training FLOPs per token, and this machine's matmul peak (for MFU).

Defined in: notebooks/05_text_generation.ipynb

Model FLOPs utilisation (MFU) = the FLOPs a model's training really needs per second, divided by
the best float32 matrix-multiply throughput measured on the same machine with the same threads
(PaLM, Chowdhery et al. 2022, appendix B; nanoGPT). The benchmark, the checkpoint scripts and the
scaling study of notebook 12 all count compute with these two functions.
"""

from __future__ import annotations

import math
import os
import time

import torch
from torch import nn

from .checks import check_instance, check_int


def matmul_peak_flops(threads: int | None = None, n: int = 1024, repeats: int = 8) -> float:
    """Best float32 throughput (FLOP/s) of an n×n by n×n matrix product, with ``threads`` threads.

    ``threads=None`` uses PyTorch's current setting; a number is used for this measurement only (the
    setting is restored afterwards). The best of ``repeats`` runs (after two warm-up products) is
    reported: the peak this machine reaches, not a typical value.

    Defined in: notebooks/05_text_generation.ipynb
    """
    n = check_int(n, "n", min=16, max=8192)
    repeats = check_int(repeats, "repeats", min=1)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads", min=1, max=256))
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            a @ b  # warm-up
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return 2 * n**3 / best


def flops_per_token(model: nn.Module, n_layer: int, block_size: int, n_embd: int) -> float:
    """Training FLOPs per token of a GPT, as in PaLM / nanoGPT: 6·N + 12·L·T·d (forward + backward).

    N counts the parameters once (a tied embedding/output matrix once) and leaves out learned
    position embeddings (a lookup, no multiply); 12·L·T·d is attention's QKᵀ and AV products.

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    for arg, v in (("n_layer", n_layer), ("block_size", block_size), ("n_embd", n_embd)):
        check_int(v, arg, min=1)
    n = sum(p.numel() for p in model.parameters())
    wpe = getattr(model, "wpe", None)
    if isinstance(getattr(wpe, "weight", None), nn.Parameter):
        n -= wpe.weight.numel()
    return 6 * n + 12 * n_layer * block_size * n_embd


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (``torch.compile``'s C++ compiler runs as one), in seconds.

    The clock of a benchmark on a busy machine (``course_lib.train.train(clock=cpu_seconds)``): with one thread it
    counts the work done, not the time spent waiting for a CPU.

    Defined in: notebooks/05_text_generation.ipynb
    Used by: benchmarks/lm_shakespeare.py
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
