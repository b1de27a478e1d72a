"""Pooling a sequence of vectors into one: masked mean, masked max and attention pooling.

Defined in: notebooks/03_context_representation.ipynb

The article's §2.2 context representation takes word vectors e_1 … e_T and pools them:

    mean:  c = (1/T) Σ_t e_t            max:  c_j = max_t e_{t,j}

Batches pad sentences to the same length T, so every function here takes a boolean ``mask``
(B, T), True where a token is real, and ignores padded positions *exactly* (a padded batch gives the
same vectors as each sentence pooled alone). Both pools are permutation-invariant: word order is lost.
:class:`AttentionPooling` (a learned query; cf. Bahdanau et al. 2015, Lin et al. 2017) replaces
the uniform 1/T weights with learned, input-dependent ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .checks import MAX_WIDTH, check_int
from .errors import ArgumentError, ArgumentTypeError


def _check(x: torch.Tensor, mask: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ArgumentError(
            f"{fn}: x must be a tensor of shape (B, T, D), got "
            f"{type(x).__name__} with shape {tuple(getattr(x, 'shape', ()))}"
        )
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise ArgumentTypeError(
            f"{fn}: mask must be a bool tensor (B, T), True where a token is real; got "
            f"{getattr(mask, 'dtype', type(mask).__name__)} (convert with mask.bool())"
        )
    if mask.shape != x.shape[:2]:
        raise ArgumentError(
            f"{fn}: mask has shape {tuple(mask.shape)} but x has shape {tuple(x.shape)}; "
            f"expected mask of shape (B, T) = {tuple(x.shape[:2])}"
        )
    empty = (~mask.any(1)).nonzero().flatten().tolist()
    if empty:
        raise ArgumentError(
            f"{fn}: row(s) {empty[:10]} of the mask are all padding; every sequence needs "
            "at least one real token (there is nothing to pool)"
        )


def mean_pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the real positions: x (B, T, D), mask bool (B, T) → (B, D).

    Defined in: notebooks/03_context_representation.ipynb
    """
    _check(x, mask, "mean_pool")
    m = mask.unsqueeze(-1)  # (B, T, 1)
    total = torch.where(m, x, torch.zeros((), dtype=x.dtype, device=x.device)).sum(1)  # (B, D); padding never read
    return total / mask.sum(1, keepdim=True).to(x.dtype)  # (B, D)


def max_pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum over the real positions: x (B, T, D), mask bool (B, T) → (B, D).

    Defined in: notebooks/03_context_representation.ipynb
    """
    _check(x, mask, "max_pool")
    filled = x.masked_fill(~mask.unsqueeze(-1), -math.inf)  # (B, T, D); padding can never win
    return filled.amax(1)  # (B, D)


class AttentionPooling(nn.Module):
    """Attention pooling with one learned query q: weights a = softmax_t(q · k_t / sqrt(D)), c = Σ_t a_t x_t.

    Keys are k_t = W x_t (a learned linear map). Padded positions get weight exactly 0.
    ``forward(x (B, T, D), mask (B, T))`` returns ``(pooled (B, D), weights (B, T))``.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, dim: int):
        check_int(dim, "dim", min=1, max=MAX_WIDTH)
        super().__init__()
        self.dim = dim
        self.key = nn.Linear(dim, dim, bias=False)
        self.query = nn.Parameter(torch.randn(dim) / math.sqrt(dim))  # (D,)

    def weights(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, T): non-negative, summing to 1 over the real tokens, 0 on padding."""
        _check(x, mask, "AttentionPooling")
        if x.shape[-1] != self.dim:
            raise ArgumentError(f"AttentionPooling was built for D={self.dim}, got x with D={x.shape[-1]}")
        scores = self.key(x) @ self.query / math.sqrt(self.dim)  # (B, T)
        return scores.masked_fill(~mask, -math.inf).softmax(dim=1)  # (B, T)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        a = self.weights(x, mask)  # (B, T)
        pooled = torch.einsum("bt,btd->bd", a, torch.where(mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype)))
        return pooled, a  # (B, D), (B, T)
