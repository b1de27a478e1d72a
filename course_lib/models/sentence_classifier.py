"""Sentence classifiers for notebook 03: bag-of-words, and word embeddings + an encoder + one logit.

Defined in: notebooks/03_context_representation.ipynb

Two models, five encoders, one logit per sentence (P(positive) = sigmoid(logit)):

* :class:`BagOfWordsClassifier`: logistic regression on which words occur (the classic baseline);
* :class:`EmbeddingClassifier`: ``emb`` (word vectors) → an **encoder** that turns the (B, T, C)
  word vectors into one sentence vector → dropout → ``head`` (one logit). The encoders are small
  modules, chosen by name from :data:`ENCODERS`:

  - ``"mean"`` / ``"max"``: masked mean / max pooling (the article's §4.1.2 formulas);
  - ``"attention"``: attention pooling with a learned query (Bahdanau-style scoring; Lin et al. 2017);
  - ``"bilstm"``: a bidirectional LSTM (Hochreiter & Schmidhuber 1997); its two final states.

Every classifier takes ``(ids (B, T), mask (B, T))`` and returns logits (B,); ``contributions``
splits each logit into per-token parts, exactly where the encoder allows it (by occlusion otherwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import MAX_WIDTH, check_choice, check_instance, check_int, check_probability, check_tensor
from ..errors import ArgumentError
from ..nn_utils import eval_mode
from ..pooling import AttentionPooling, max_pool, mean_pool

KINDS = ("bow", "mean", "max", "bilstm", "attention")


@dataclass
class ClassifierConfig:
    """Sizes of a sentence classifier; ``kind`` names the model (``"bow"``) or the encoder.

    Defined in: notebooks/03_context_representation.ipynb
    """

    vocab_size: int
    kind: str = "mean"  # one of KINDS
    n_embd: int = 50  # word-vector size (GloVe: 50)
    n_hidden: int = 32  # BiLSTM hidden size per direction
    dropout: float = 0.3

    def __post_init__(self):
        check_choice(self.kind, "kind", KINDS)
        check_int(self.vocab_size, "vocab_size", min=2, max=10_000_000)
        check_int(self.n_embd, "n_embd", min=1, max=MAX_WIDTH)
        check_int(self.n_hidden, "n_hidden", min=1, max=MAX_WIDTH)
        check_probability(self.dropout, "dropout", allow_one=False)


def _check_batch(ids: torch.Tensor, mask: torch.Tensor) -> None:
    if ids.dim() != 2 or ids.shape != mask.shape:
        raise ArgumentError(
            f"expected ids and mask of the same shape (B, T), got {tuple(ids.shape)} and {tuple(mask.shape)}"
        )


def _check_prefix_mask(mask: torch.Tensor) -> None:
    """The LSTM packs each sentence by its length: its real tokens must come first, padding after."""
    if (mask[:, 1:] & ~mask[:, :-1]).any():
        raise ArgumentError("mask must mark each sentence's real tokens first and its padding after (no holes)")


class BagOfWordsClassifier(nn.Module):
    """Logistic regression on a binary bag of words: logit = Σ over distinct words w of weight_w + bias.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        self.cfg = cfg
        self.bow = nn.Linear(cfg.vocab_size, 1)
        nn.init.zeros_(self.bow.weight)

    def bag(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Binary bag-of-words (B, V): 1 where a word occurs in the sentence."""
        x = torch.zeros(ids.shape[0], self.cfg.vocab_size)
        x.scatter_(1, ids, mask.float())  # (B, V); padding adds 0
        return (x > 0).float()

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check_batch(ids, mask)
        return self.bow(self.bag(ids, mask)).squeeze(-1)  # (B,)

    @torch.no_grad()
    def contributions(self, ids: torch.Tensor, mask: torch.Tensor):
        """Per-token parts (B, T) of the logit (each distinct word once, at its first position), and None."""
        w = self.bow.weight[0]  # (V,)
        first = torch.zeros_like(mask)
        for b in range(ids.shape[0]):
            seen: set[int] = set()
            for t in range(ids.shape[1]):
                if mask[b, t] and int(ids[b, t]) not in seen:
                    seen.add(int(ids[b, t]))
                    first[b, t] = True
        return torch.where(first, w[ids], torch.zeros(())), None


class MeanEncoder(nn.Module):
    """Masked mean of the word vectors: (B, T, C) → (B, C); contributions exact.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        self.out_dim = cfg.n_embd

    def forward(self, e: torch.Tensor, mask: torch.Tensor):
        return mean_pool(e, mask), None  # (B, C), no weights

    def contributions(self, e, mask, w):
        return (e @ w) / mask.sum(1, keepdim=True), None  # (B, T): logit = bias + Σ_t contribution_t


class MaxEncoder(nn.Module):
    """Masked element-wise maximum: (B, T, C) → (B, C); token t owns the dimensions it wins.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        self.out_dim = cfg.n_embd

    def forward(self, e: torch.Tensor, mask: torch.Tensor):
        return max_pool(e, mask), None

    def contributions(self, e, mask, w):
        winner = e.masked_fill(~mask.unsqueeze(-1), -math.inf).argmax(1)  # (B, C): which token wins each dimension
        wins = F.one_hot(winner, e.shape[1]).transpose(1, 2).float()  # (B, T, C)
        return (wins * e * w).sum(-1), None


class AttentionEncoder(nn.Module):
    """Attention pooling with a learned query (:class:`course_lib.pooling.AttentionPooling`); returns its weights.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        self.attn = AttentionPooling(cfg.n_embd)
        self.out_dim = cfg.n_embd

    def forward(self, e: torch.Tensor, mask: torch.Tensor):
        return self.attn(e, mask)  # (B, C), (B, T)

    def contributions(self, e, mask, w):
        _, a = self.attn(e, mask)
        return a * (e @ w), a  # (B, T): a_t · w·x_t


class BiLSTMEncoder(nn.Module):
    """A bidirectional LSTM reads the sentence; its forward and backward final states, concatenated (B, 2H).

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        self.lstm = nn.LSTM(cfg.n_embd, cfg.n_hidden, batch_first=True, bidirectional=True)
        self.out_dim = 2 * cfg.n_hidden

    def forward(self, e: torch.Tensor, mask: torch.Tensor):
        _check_prefix_mask(mask)
        lengths = mask.sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (2, B, H), forward and backward final states
        return torch.cat([h[0], h[1]], dim=1), None  # (B, 2H)

    contributions = None  # no exact split: the classifier falls back to occlusion


#: Encoder name → class (the registry :func:`course_lib.sentiment.make_classifier` picks from).
ENCODERS: dict[str, type[nn.Module]] = {
    "mean": MeanEncoder,
    "max": MaxEncoder,
    "attention": AttentionEncoder,
    "bilstm": BiLSTMEncoder,
}


class EmbeddingClassifier(nn.Module):
    """Word embeddings (``emb``) → ``encoder`` → dropout → ``head``: one logit per sentence.

    ``embeddings`` (V, C), if given, initialises ``emb`` (e.g. GloVe); ``<pad>`` and ``<unk>`` (ids 0, 1)
    are zero vectors.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig, embeddings: torch.Tensor | None = None):
        check_instance(cfg, "cfg", ClassifierConfig)
        super().__init__()
        if cfg.kind not in ENCODERS:
            raise ArgumentError(f"kind must name an encoder, one of {tuple(ENCODERS)}; got {cfg.kind!r}")
        self.cfg = cfg
        self.emb = nn.Embedding(cfg.vocab_size, cfg.n_embd, padding_idx=0)
        if embeddings is not None:
            check_tensor(embeddings, "embeddings", dtype="float", finite=True)
            if embeddings.shape != (cfg.vocab_size, cfg.n_embd):
                raise ArgumentError(
                    f"embeddings must have shape {(cfg.vocab_size, cfg.n_embd)}, got {tuple(embeddings.shape)}"
                )
            with torch.no_grad():
                self.emb.weight.copy_(embeddings)
        with torch.no_grad():
            self.emb.weight[:2].zero_()  # <pad>, <unk>: zero vectors
        self.encoder = ENCODERS[cfg.kind](cfg)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(self.encoder.out_dim, 1)

    def encode(self, ids: torch.Tensor, mask: torch.Tensor):
        """The sentence vector (B, D') and, for attention, the weights (B, T)."""
        return self.encoder(self.emb(ids), mask)  # emb: (B, T, C)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _check_batch(ids, mask)
        pooled, _ = self.encode(ids, mask)
        return self.head(self.drop(pooled)).squeeze(-1)  # (B,)

    @torch.no_grad()
    def contributions(self, ids: torch.Tensor, mask: torch.Tensor):
        """Per-token contributions (B, T) to the logit, and attention weights (B, T) or None.

        Exact for mean/max/attention (logit = bias + Σ_t contribution_t). For the BiLSTM there is no such
        split: contribution_t is the drop in the logit when word t is removed from the sentence (occlusion; the
        words after it move up one place, so the LSTM reads the sentence without it).
        """
        with eval_mode(self):
            if self.encoder.contributions is not None:
                contrib, attn = self.encoder.contributions(self.emb(ids), mask, self.head.weight[0])
                return contrib * mask, attn
            full = self(ids, mask)  # (B,)
            contrib = torch.zeros(ids.shape, dtype=torch.float32)
            for t in range(ids.shape[1]):
                ok = mask[:, t] & (mask.sum(1) > 1)  # sentences that have a word t and another word
                if ok.any():
                    rest = [i for i in range(ids.shape[1]) if i != t]  # the sentence without word t, closed up
                    contrib[ok, t] = full[ok] - self(ids[ok][:, rest], mask[ok][:, rest])
            return contrib, None
