"""Small helpers every model and training script shares: evaluation mode, AdamW groups, parameter counts.

Defined in: notebooks/01_background_ngram.ipynb

They live here, below the models and the training loop, so that a model file can use them without
importing the training loop, widgets or plots.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .checks import MAX_WIDTH, check_float, check_instance, check_int
from .errors import ArgumentTypeError


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model):`` switches dropout off and restores the previous mode afterwards.

    The mode is restored even when the body raises, so an interrupted evaluation never leaves a
    model in the wrong mode for training.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def make_adamw(
    model: nn.Module,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    betas: tuple[float, float] = (0.9, 0.99),
    fused: bool | None = None,
    **kwargs,
) -> torch.optim.AdamW:
    """AdamW with weight decay on weight matrices and embeddings only (not biases or LayerNorm gains).

    The rule of nanoGPT and GPT-2: decay every parameter with 2 or more dimensions. ``fused=None``
    (the default) uses PyTorch's fused AdamW, one kernel for all parameters (2–3× faster steps than the
    per-parameter loop on a small GPT; ``benchmarks/train_levers.py``), where every parameter is a
    floating-point tensor on the CPU or a GPU and ``foreach`` is not asked for. Other keyword arguments
    (``foreach`` …) go to ``torch.optim.AdamW``.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    lr = check_float(lr, "lr", min=0.0)
    weight_decay = check_float(weight_decay, "weight_decay", min=0.0)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ArgumentTypeError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    betas = tuple(check_float(b, "betas", min=0.0, max=1.0, max_open=True) for b in betas)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if fused is None:
        fused = (
            kwargs.get("foreach") is None
            and bool(params)
            and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
        )
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=fused or None, **kwargs)


def mlp(n_in: int, n_hidden: int, n_out: int, n_layer: int = 3, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """A multi-layer perceptron: ``n_layer`` Linear layers of width ``n_hidden``, ``act`` between them.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    for value, name in ((n_in, "n_in"), (n_hidden, "n_hidden"), (n_out, "n_out")):
        check_int(value, name, min=1, max=MAX_WIDTH)
    check_int(n_layer, "n_layer", min=1, max=1000)
    if not (isinstance(act, type) and issubclass(act, nn.Module)):
        raise ArgumentTypeError(f"act must be a torch.nn.Module class such as nn.ReLU, got {act!r:.60}")
    layers, d = [], n_in
    for _ in range(n_layer - 1):
        layers += [nn.Linear(d, n_hidden), act()]
        d = n_hidden
    return nn.Sequential(*layers, nn.Linear(d, n_out))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (a tied weight counted once).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
