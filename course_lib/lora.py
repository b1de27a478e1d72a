"""LoRA: fine-tune a large weight matrix through a small low-rank correction.

Defined in: notebooks/11_pretraining_finetuning.ipynb

Hu et al. 2022 ("LoRA: Low-Rank Adaptation of Large Language Models", §4.1): keep the pretrained
weight W (out × in) frozen and learn ΔW = B A with A (r × in) and B (out × r), r ≪ min(in, out):

    y = x Wᵀ + b + (α / r) · x Aᵀ Bᵀ

* A starts random (Kaiming-uniform, as ``nn.Linear``), B starts at **zero**, so at step 0 the model
  is exactly the pretrained one;
* only A and B (r·(in + out) numbers per layer) are trained, instead of in·out;
* after training, ΔW can be added into W (:meth:`LoRALinear.merged`): no extra cost at inference.

:func:`apply_lora` swaps chosen ``nn.Linear`` layers of a model (by name, e.g. the attention's
``q_proj`` and ``v_proj``, the paper's choice) for :class:`LoRALinear` and freezes everything else.
The course checks it against Hugging Face's ``peft`` on a toy layer (``tests/test_11_pretraining_finetuning.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .checks import check_float, check_instance, check_int, check_probability
from .errors import ArgumentError, ArgumentTypeError


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable rank-``r`` update ``(alpha / r) · B A``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise ArgumentTypeError(f"LoRA wraps an nn.Linear, got {type(base).__name__}")
        r = check_int(r, "r", min=1, max=min(base.in_features, base.out_features))
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha = r, check_float(alpha, "alpha", min=0.0, min_open=True)
        self.scaling = self.alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))  # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))  # (out, r): zero, so ΔW = 0 at the start
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # nn.Linear's (and peft's) initialisation
        self.drop = nn.Dropout(check_probability(dropout, "dropout", allow_one=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.drop(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling  # (..., out)

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` with W + (α/r)·B A: the same function, no adapter left."""
        out = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.scaling * self.lora_B @ self.lora_A)
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        return out


def apply_lora(
    model: nn.Module,
    targets: Sequence[str] = ("q_proj", "v_proj"),
    r: int = 8,
    alpha: float = 16.0,
    dropout: float = 0.0,
    trainable: Sequence[str] = (),
) -> nn.Module:
    """Replace every ``nn.Linear`` whose name ends with one of ``targets`` by a :class:`LoRALinear`, in place.

    Every other parameter is frozen, except those whose name starts with one of ``trainable`` (e.g.
    ``("head",)`` for a classifier's new output layer). Returns the model.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    for name, names in (("targets", targets), ("trainable", trainable)):
        if not isinstance(names, (list, tuple)) or not all(isinstance(t, str) for t in names):
            raise ArgumentTypeError(
                f"{name} must be a list of layer names, e.g. ('q_proj', 'v_proj'), got {names!r:.60}"
            )
    check_int(r, "r", min=1)
    check_float(alpha, "alpha", min=0.0, min_open=True)
    check_probability(dropout, "dropout", allow_one=False)
    if not targets:
        raise ArgumentError("targets must name at least one kind of layer, e.g. ('q_proj', 'v_proj')")
    for p in model.parameters():
        p.requires_grad_(False)
    found = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and any(name == t or name.endswith("." + t) for t in targets)
    ]
    if not found:
        raise ArgumentError(f"no nn.Linear in the model is named like {list(targets)}")
    for name, m in found:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(m, r=r, alpha=alpha, dropout=dropout))
    for name, p in model.named_parameters():
        if any(name.startswith(t) for t in trainable):
            p.requires_grad_(True)
    return model


def lora_parameter_count(model: nn.Module) -> int:
    """Number of LoRA parameters in ``model``: Σ over wrapped layers of r · (in + out).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    return sum(m.lora_A.numel() + m.lora_B.numel() for m in model.modules() if isinstance(m, LoRALinear))
