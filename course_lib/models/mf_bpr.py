"""Matrix factorisation for implicit feedback, trained with BPR, in one readable file.

Defined in: notebooks/10_recommendation.ipynb

Each user u and item i get a vector (p_u, q_i ∈ R^C) and each item a bias b_i; the score is

    x_ui = p_u · q_i + b_i

(Koren, Bell & Volinsky 2009, "Matrix Factorization Techniques for Recommender Systems" — the Netflix
Prize family). With only "who watched what" (no negative examples), BPR (Rendle, Freudenthaler,
Gantner & Schmidt-Thieme 2009, "BPR: Bayesian Personalized Ranking from Implicit Feedback") trains
the scores so that an item the user chose outranks an item drawn at random:
loss = −log σ(x_ui − x_uj) (:func:`course_lib.recsys.bpr_loss`), with L2 regularisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..checks import MAX_WIDTH, check_instance, check_int


@dataclass
class MFConfig:
    """Sizes of a :class:`MFBPR`.

    Defined in: notebooks/10_recommendation.ipynb
    """

    n_users: int
    n_items: int  # including the padding id 0
    n_embd: int = 64

    def __post_init__(self):
        for name in ("n_users", "n_items"):
            check_int(getattr(self, name), f"MFConfig.{name}", min=1, max=10_000_000)
        check_int(self.n_embd, "MFConfig.n_embd", min=1, max=MAX_WIDTH)


class MFBPR(nn.Module):
    """User and item vectors with item biases: ``score(users, items)`` = p_u · q_i + b_i.

    ``forward(users (B,), pos (B,), neg (B,))`` → ``(x_ui, x_uj)``; ``all_scores(users)`` → (B, n_items).

    Defined in: notebooks/10_recommendation.ipynb
    """

    def __init__(self, config: MFConfig):
        check_instance(config, "config", MFConfig)
        super().__init__()
        self.config = c = config
        self.user = nn.Embedding(c.n_users, c.n_embd)  # (U, C) p_u
        self.item = nn.Embedding(c.n_items, c.n_embd)  # (I, C) q_i
        self.item_bias = nn.Embedding(c.n_items, 1)  # (I, 1) b_i
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (self.user(users) * self.item(items)).sum(-1) + self.item_bias(items).squeeze(-1)  # (B,)

    def forward(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor):
        return self.score(users, pos), self.score(users, neg)  # (B,), (B,)

    def all_scores(self, users: torch.Tensor) -> torch.Tensor:
        return self.user(users) @ self.item.weight.T + self.item_bias.weight.T  # (B, C) @ (C, I) → (B, I)
