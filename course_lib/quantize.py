"""Post-training int8 quantisation of the course's GPT, and how to measure what it buys.

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

*Dynamic* quantisation (Jacob et al. 2018; PyTorch's ``quantize_dynamic``) stores every ``nn.Linear``
weight matrix as 8-bit integers with one float scale per matrix, and at run time quantises each
input on the fly, multiplies in integers and rescales. Weights shrink 4× (float32 → int8); embeddings,
LayerNorms and attention's softmax stay in float. Nothing is retrained.

:func:`int8_symmetric` is the weight rule written out (scale = max|w| / 127.5, q = round(w / scale)
clamped to [−128, 127]); the notebook checks that it gives the same integers as PyTorch's observer.

In the pinned torch (2.13) ``torch.ao.quantization`` still works but warns that it is deprecated in
favour of the separate ``torchao`` package; :func:`quantize_int8` uses it and silences exactly that
warning, which the notebook explains.
"""

from __future__ import annotations

import copy
import io
import time
import warnings

import torch
from torch import nn

from .checks import check_instance, check_int, check_tensor
from .errors import ArgumentError


def int8_symmetric(weight: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Symmetric per-tensor int8 quantisation of a weight: ``(q int8 tensor, scale)`` with w ≈ q·scale.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    w = check_tensor(weight, "weight", dtype="float", finite=True)
    if not w.numel():
        raise ArgumentError("weight must have at least one element")
    amax = float(w.abs().max())
    scale = amax / 127.5 if amax > 0 else 1.0
    return torch.clamp(torch.round(w / scale), -128, 127).to(torch.int8), scale


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` replaced by a dynamically quantised int8 one.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*deprecated", category=UserWarning)
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)
    return q


def state_dict_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: the size on disk of the weights.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return len(buf.getvalue())


@torch.no_grad()
def generation_speed(
    model: nn.Module, prompt: torch.Tensor, new_tokens: int = 200, use_cache: bool = True, repeats: int = 3
) -> float:
    """Tokens per second when sampling ``new_tokens`` after ``prompt`` (1, T): the best of ``repeats`` runs.

    Uses :func:`course_lib.generate.generate` with a fixed seed, so every run produces the same tokens.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from .generate import generate

    new_tokens = check_int(new_tokens, "new_tokens", min=1, max=4096)
    best = float("inf")
    for _ in range(check_int(repeats, "repeats", min=1, max=100)):
        t0 = time.perf_counter()
        generate(model, prompt, new_tokens, generator=torch.Generator().manual_seed(0), use_cache=use_cache)
        best = min(best, time.perf_counter() - t0)
    return new_tokens / best
