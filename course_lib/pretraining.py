"""Pretraining on unlabelled text (causal LM and masked LM), then fine-tuning on a few labels.

Defined in: notebooks/11_pretraining_finetuning.ipynb

The two stages of §9.3, on a laptop:

* **The corpus** (:func:`pretraining_corpus`): unlabelled modern English already in ``data/``: the
  English Tatoeba sentences and the text (no labels) of the review sentences of notebook 03, *minus
  every sentence of notebook 03's test split*, so the fine-tuned models are scored on sentences they
  have never seen, not even unlabelled.
* **Two objectives on the same text and budget.** The GPT (``course_lib.models.gpt``) predicts each
  next token (causal LM; Radford et al. 2018). The BERT (``course_lib.models.bert``) sees the whole
  sentence and predicts the 15% of tokens that were hidden (masked LM; Devlin et al. 2019, §3.1):
  of the chosen positions 80% become ``[MASK]``, 10% a random token, 10% stay unchanged
  (:func:`mask_tokens`), so the model cannot rely on seeing ``[MASK]`` and must keep a good vector
  for every token.
* **Fine-tuning** (:class:`TextClassifier`): the pretrained network reads a sentence, its vectors
  are pooled and one linear layer gives the sentiment logit. Variants: everything trained (full
  fine-tuning), only the linear layer on frozen features (a linear probe), or low-rank adapters
  (LoRA, :mod:`course_lib.lora`); the same network from random weights is the control.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .bpe import BPETokenizer
from .checks import (
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_mask,
    check_probability,
    check_recipe,
    check_seed,
    check_tensor,
    check_text,
    check_token_ids,
)
from .config import CHECKPOINT_DIR
from .data import load_text
from .errors import ArgumentError, ArgumentTypeError, CheckpointError
from .models.bert import BERT
from .models.gpt import GPT
from .nn_utils import eval_mode
from .pooling import mean_pool
from .sentiment import load_sentiment, stratified_split

SPECIALS = ("[PAD]", "[EOS]", "[MASK]")
TATOEBA_FILE = "tatoeba_eng_short/eng_short.txt"
TATOEBA_SENTENCES = 41_168
PRETRAIN_CHECKPOINTS = {"gpt": CHECKPOINT_DIR / "pretrained_gpt.pt", "bert": CHECKPOINT_DIR / "pretrained_bert.pt"}


# ----------------------------------------------------------------------------------------------
# The corpus
# ----------------------------------------------------------------------------------------------
def _check_tokenizer(tokenizer) -> BPETokenizer:
    """A BPE tokenizer with notebook 11's special tokens (:func:`train_tokenizer`)."""
    check_instance(tokenizer, "tokenizer", BPETokenizer, "BPETokenizer (from train_tokenizer)")
    missing = [s for s in SPECIALS if s not in tokenizer.specials]
    if missing:
        raise ArgumentError(f"tokenizer lacks the special tokens {missing}: build it with train_tokenizer")
    return tokenizer


def _check_texts(texts, name: str = "texts") -> list[str]:
    if isinstance(texts, pd.Series):
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise ArgumentTypeError(f"{name} must be a list of sentences (strings), got {type(texts).__name__}")
    return list(texts)


def _check_frame(df, name: str, columns: Sequence[str]) -> pd.DataFrame:
    check_instance(df, name, pd.DataFrame)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ArgumentError(f"{name} must have the columns {', '.join(columns)}; it has {list(df.columns)}")
    return df


def _check_stream(stream, name: str, block_size: int) -> torch.Tensor:
    check_tensor(stream, name, dim=1, dtype="integer")
    if len(stream) <= block_size + 1:
        raise ArgumentError(
            f"{name} has {len(stream)} tokens; a block of {block_size} needs more than {block_size + 1}"
        )
    return stream


def _check_kind(kind) -> str:
    return check_choice(kind, "kind", ("gpt", "bert"))


def _check_batch(model, ids, mask, batch_size) -> int:
    check_instance(model, "model", nn.Module, "sentence classifier (an nn.Module called as model(ids, mask))")
    check_tensor(ids, "ids", dim=2, dtype="integer")
    check_mask(mask, "mask", tuple(ids.shape), exact_dims=True)
    if len(ids) and not mask.any(1).all():
        raise ArgumentError("mask must mark at least one real token in every sentence")
    return check_int(batch_size, "batch_size", min=1)


def pretraining_corpus(seed: int = 0) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The unlabelled pretraining sentences, and notebook 03's labelled split for fine-tuning.

    Returns ``(corpus, splits)``: ``corpus`` has columns ``text`` and ``source`` (``"tatoeba"`` or
    ``"reviews"``) and no label; ``splits`` is ``stratified_split(load_sentiment(), seed=seed)``,
    notebook 03's exact train/val/test split. Every sentence whose text occurs in the test split is
    left out of the corpus, by text: a few review sentences occur twice in the data, and one Tatoeba
    sentence ("I really liked that.") is also a test review.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    splits = stratified_split(load_sentiment(), fractions=(0.6, 0.2, 0.2), seed=seed)
    test = set(splits["test"].text)
    tatoeba = [s for s in load_text(TATOEBA_FILE).split("\n") if s and s not in test]
    reviews = [t for t in pd.concat([splits["train"], splits["val"]]).text if t not in test]
    corpus = pd.DataFrame(
        {"text": tatoeba + reviews, "source": ["tatoeba"] * len(tatoeba) + ["reviews"] * len(reviews)}
    )
    return corpus, splits


def train_tokenizer(texts: Sequence[str], vocab_size: int = 2048) -> BPETokenizer:
    """The byte-level BPE every pretrained model of notebook 11 uses, with ``[PAD]``, ``[EOS]``, ``[MASK]``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    return BPETokenizer.train(texts, vocab_size, specials=SPECIALS)


def token_stream(tokenizer: BPETokenizer, texts: Sequence[str]) -> torch.Tensor:
    """All sentences as one 1-D id tensor, each followed by ``[EOS]`` (how GPTs pack documents).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    eos = _check_tokenizer(tokenizer).special_id("[EOS]")
    texts = _check_texts(texts)
    out: list[int] = []
    for t in texts:
        out.extend(tokenizer.encode(t))
        out.append(eos)
    return torch.tensor(out, dtype=torch.long)


def split_corpus(corpus: pd.DataFrame, val_frac: float = 0.05, seed: int = 0):
    """Seeded split of the pretraining sentences into ``(train, val)`` DataFrames (validation: the loss curves).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_probability(val_frac, "val_frac", allow_zero=False, allow_one=False)
    check_instance(corpus, "corpus", pd.DataFrame)
    rng = np.random.default_rng(check_seed(seed))
    order = rng.permutation(len(corpus))
    n_val = int(round(val_frac * len(corpus)))
    val = corpus.iloc[np.sort(order[:n_val])].reset_index(drop=True)
    train = corpus.iloc[np.sort(order[n_val:])].reset_index(drop=True)
    return train, val


def training_stream(
    tokenizer: BPETokenizer, train: pd.DataFrame, review_weight: int = 1, seed: int = 0
) -> torch.Tensor:
    """The pretraining token stream: every training sentence once, the review sentences ``review_weight``
    times, in a seeded random order, each followed by ``[EOS]``.

    Repeating the in-domain sentences is task-adaptive pretraining (Gururangan et al. 2020, "Don't Stop
    Pretraining"): the reviews are a small share of the text but the domain of the task.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_int(review_weight, "review_weight", min=1, max=1000)
    _check_tokenizer(tokenizer)
    _check_frame(train, "train", ("text", "source"))
    texts = train.text.tolist() + train.text[train.source == "reviews"].tolist() * (review_weight - 1)
    order = np.random.default_rng(check_seed(seed)).permutation(len(texts))
    return token_stream(tokenizer, [texts[i] for i in order])


# ----------------------------------------------------------------------------------------------
# Masked-LM corruption
# ----------------------------------------------------------------------------------------------
def mask_tokens(
    ids: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    special_ids: Sequence[int] = (),
    p: float = 0.15,
    generator: torch.Generator | None = None,
):
    """BERT's corruption: choose 15% of the positions; of those 80% → ``[MASK]``, 10% → random, 10% kept.

    ``ids`` (B, T). Special tokens (``special_ids``: padding, ``[EOS]`` …) are never chosen, and a
    random replacement is never a special token. Returns ``(inputs, labels)``: ``labels`` holds the
    original id at the chosen positions and −100 elsewhere (ignored by ``F.cross_entropy``).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    vocab_size = check_int(vocab_size, "vocab_size", min=2, max=10_000_000)
    check_token_ids(ids, "ids", vocab_size)
    check_tensor(ids, "ids", dim=2)
    check_int(mask_id, "mask_id", min=0, max=vocab_size - 1)
    check_probability(p, "p")
    if generator is not None:
        check_instance(generator, "generator", torch.Generator)
    if not isinstance(special_ids, (list, tuple)):
        raise ArgumentTypeError(f"special_ids must be a list of token ids, got {type(special_ids).__name__}")
    special_ids = [check_int(i, "each of special_ids", min=0, max=vocab_size - 1) for i in special_ids]
    special = torch.zeros(vocab_size, dtype=torch.bool)
    special[special_ids] = True
    if special.all():
        raise ArgumentError("special_ids name every token: none is left to mask or to draw")
    allowed = ~special[ids]  # (B, T)
    chosen = (torch.rand(ids.shape, generator=generator) < p) & allowed
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    u = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (u < 0.8)
    to_random = chosen & (u >= 0.8) & (u < 0.9)  # the last 10% stay unchanged
    normal = (~special).nonzero().flatten()  # (V',) ids a random replacement may take
    random_ids = normal[torch.randint(len(normal), ids.shape, generator=generator)]
    inputs = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(to_random, random_ids, inputs)
    return inputs, labels


def mlm_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) over the chosen positions only (labels ≠ −100): logits (B, T, V), labels (B, T).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_tensor(logits, "logits", dim=3, dtype="float")
    check_tensor(labels, "labels", shape=tuple(logits.shape[:2]), dtype="integer")
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)


# ----------------------------------------------------------------------------------------------
# Hidden states of either backbone
# ----------------------------------------------------------------------------------------------
def hidden_states(backbone: nn.Module, idx: torch.Tensor) -> torch.Tensor:
    """The last layer's vectors (B, T, C) of a course GPT (causal) or BERT (bidirectional).

    The GPT reads right-padded batches correctly without a mask: causal attention never looks at the
    padding after a sentence. The BERT hides padding keys itself (``pad_id``).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    if isinstance(backbone, BERT):
        return backbone.encode(idx)
    if isinstance(backbone, GPT):
        backbone._check_ids(idx)
        x = backbone.wte(idx)  # (B, T, C)
        if backbone.wpe is not None:
            x = backbone.wpe(x)
        x = backbone.drop(x)
        for block in backbone.blocks:
            x, _, _ = block(x, causal=True)
        return backbone.ln_f(x)  # (B, T, C)
    raise ArgumentTypeError(f"backbone must be a course GPT or BERT, got {type(backbone).__name__}")


# ----------------------------------------------------------------------------------------------
# Fine-tuning
# ----------------------------------------------------------------------------------------------
def encode_batch(tokenizer: BPETokenizer, texts: Sequence[str], max_len: int = 64):
    """Right-padded ids (B, T) and mask (B, T) for sentences, each ending with ``[EOS]`` (cut to ``max_len``).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_int(max_len, "max_len", min=2)
    _check_tokenizer(tokenizer)
    texts = _check_texts(texts)
    if not texts:
        raise ArgumentError("texts must hold at least one sentence")
    pad, eos = tokenizer.special_id("[PAD]"), tokenizer.special_id("[EOS]")
    seqs = [tokenizer.encode(t)[: max_len - 1] + [eos] for t in texts]
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = True
    return ids, mask


class TextClassifier(nn.Module):
    """A backbone (GPT or BERT) → pooled sentence vector → dropout → one sentiment logit.

    ``pool="mean"`` averages the real tokens' vectors; ``pool="last"`` takes the vector at the final
    ``[EOS]`` (for a GPT the only position that has read the whole sentence, as GPT-1 classifies).
    ``forward(ids (B, T), mask (B, T))`` → logits (B,).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """

    def __init__(self, backbone: nn.Module, pool: str = "mean", dropout: float = 0.1):
        super().__init__()
        check_instance(backbone, "backbone", (GPT, BERT), "course GPT or BERT")
        check_choice(pool, "pool", ("mean", "last"))
        self.backbone, self.pool = backbone, pool
        self.drop = nn.Dropout(check_probability(dropout, "dropout", allow_one=False))
        self.head = nn.Linear(backbone.config.n_embd, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The pooled sentence vectors (B, C)."""
        h = hidden_states(self.backbone, ids)  # (B, T, C)
        if self.pool == "mean":
            return mean_pool(h, mask)
        last = mask.sum(1) - 1  # (B,) position of [EOS]
        return h[torch.arange(len(ids)), last]  # (B, C)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(ids, mask))).squeeze(-1)  # (B,)


@torch.no_grad()
def sentence_features(
    model: TextClassifier, ids: torch.Tensor, mask: torch.Tensor, batch_size: int = 256
) -> torch.Tensor:
    """The pooled vectors (N, C) of a :class:`TextClassifier`'s backbone, in eval mode (for a linear probe).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    batch_size = _check_batch(model, ids, mask, batch_size)
    check_instance(model, "model", TextClassifier)
    out = []
    with eval_mode(model):
        for i in range(0, len(ids), batch_size):
            m = mask[i : i + batch_size]
            T = int(m.sum(1).max())
            out.append(model.features(ids[i : i + batch_size, :T], m[:, :T]))
    return torch.cat(out)


def fit_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, l2: float = 1e-2) -> torch.Tensor:
    """A linear probe: L2-regularised logistic regression on frozen features, fitted to convergence (L-BFGS).

    Features are standardised with the training mean and spread. Returns the logits of ``test_x``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_tensor(train_x, "train_x", dim=2, dtype="float", finite=True)
    check_tensor(test_x, "test_x", dim=2, dtype="float", finite=True)
    check_tensor(train_y, "train_y", shape=(len(train_x),))
    if test_x.size(1) != train_x.size(1):
        raise ArgumentError(f"test_x must have train_x's {train_x.size(1)} features, got {test_x.size(1)}")
    if len(train_x) < 2 or not ((train_y == 0) | (train_y == 1)).all():
        raise ArgumentError("train_y must hold labels 0 or 1 for at least two sentences")
    l2 = check_float(l2, "l2", min=0.0)
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-6
    a, b = (train_x - mu) / sd, (test_x - mu) / sd
    w = torch.zeros(a.size(1), dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    a64, y = a.double(), train_y.double()
    opt = torch.optim.LBFGS([w, bias], max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(a64 @ w + bias, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return (b.double() @ w + bias).detach().float()


def label_subset(train: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` labelled training sentences drawn with ``seed``, half positive and half negative.

    ``n`` ≥ the training split's size returns the whole split (in a seeded order).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_int(n, "n", min=2)
    _check_frame(train, "train", ("text", "label"))
    rng = np.random.default_rng(check_seed(seed))
    if n >= len(train):
        return train.iloc[rng.permutation(len(train))].reset_index(drop=True)
    parts = []
    for label, k in ((0, n // 2), (1, n - n // 2)):
        group = train.index[train.label == label].to_numpy()
        parts.append(rng.choice(group, size=k, replace=False))
    idx = np.concatenate(parts)
    return train.loc[idx[rng.permutation(len(idx))]].reset_index(drop=True)


@torch.no_grad()
def predict_logits(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits (N,) of a sentence classifier ``model(ids, mask)``, in eval mode, batch by batch.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    batch_size = _check_batch(model, ids, mask, batch_size)
    out = []
    with eval_mode(model):
        for i in range(0, len(ids), batch_size):
            m = mask[i : i + batch_size]
            T = int(m.sum(1).max())
            out.append(model(ids[i : i + batch_size, :T], m[:, :T]))
    return torch.cat(out)


def finetune(
    model: nn.Module,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    lr: float,
    batch_size: int = 32,
    weight_decay: float = 0.01,
    warmup: int = 10,
    seed: int = 0,
    progress: bool = False,
    desc: str = "fine-tuning",
) -> pd.DataFrame:
    """Train every parameter with ``requires_grad`` for ``steps`` steps (binary cross-entropy, AdamW,
    warm-up then linear decay to 0, as BERT), on mini-batches drawn without replacement, epoch after
    epoch (sentences of similar length batched together, as in notebook 03). No validation set, no
    early stopping: with 50 labels a 600-sentence validation set would be twelve times the training
    data (Perez, Kiela & Cho 2021, "True Few-Shot Learning"). Returns the history of
    :func:`course_lib.train.train`.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from .nn_utils import make_adamw
    from .train import train

    check_int(steps, "steps", min=1)
    batch_size = _check_batch(model, ids, mask, batch_size)
    check_tensor(labels, "labels", shape=(len(ids),))
    if not len(ids):
        raise ArgumentError("ids must hold at least one sentence")
    lr = check_float(lr, "lr", min=0.0, min_open=True)
    weight_decay, warmup = check_float(weight_decay, "weight_decay", min=0.0), check_int(warmup, "warmup", min=0)
    check_text(desc, "desc")
    n = len(ids)
    g = torch.Generator().manual_seed(check_seed(seed))
    B = min(batch_size, n)
    lengths = mask.sum(1)
    order: list[torch.Tensor] = []
    while len(order) < steps:  # each epoch: shuffle, sort runs of 8 batches by length (less padding), shuffle batches
        perm = torch.randperm(n, generator=g)
        batches = []
        for c in range(0, n, 8 * B):
            part = perm[c : c + 8 * B]
            batches += list(part[torch.sort(lengths[part], stable=True).indices].split(B))
        order += [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
    opt = make_adamw(model, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.999))

    def schedule(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        return lr * max(0.0, (steps - step) / max(1, steps - warmup))

    def get_batch(step: int):
        idx = order[step]
        m = mask[idx]
        T = int(m.sum(1).max())
        return ids[idx, :T], m[:, :T], labels[idx].float()

    def loss_fn(model, batch):
        x, m, y = batch
        return F.binary_cross_entropy_with_logits(model(x, m), y)

    torch.manual_seed(check_seed(seed))  # dropout masks
    return train(
        model,
        get_batch,
        loss_fn,
        opt,
        steps,
        lr_schedule=schedule,
        grad_clip=1.0,
        log_every=max(1, steps // 10),
        progress=progress,
        desc=desc,
    )


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of sentences whose logit has the sign of the label (1 = positive).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_tensor(logits, "logits", dim=1, dtype="float")
    check_tensor(labels, "labels", shape=(len(logits),))
    return float(((logits > 0).long() == labels).float().mean())


# ----------------------------------------------------------------------------------------------
# Pretraining recipes and the loop
# ----------------------------------------------------------------------------------------------
#: The shipped pretraining recipe (``tools/train_pretrained.py``); both objectives get the same model
#: size, text, batch and number of steps.
PRETRAIN_RECIPE = {
    "vocab_size": 2048,
    "model": {"n_layer": 2, "n_head": 4, "n_embd": 128, "dropout": 0.1},
    "review_weight": 4,
    "block_size": 64,
    "batch_size": 32,
    "steps": 1000,
    "lr": 2e-3,
    "min_lr": 1e-4,
    "warmup": 100,
    "weight_decay": 0.1,
    "grad_clip": 1.0,
    "mask_p": 0.15,
}


def build_backbone(kind: str, vocab_size: int, pad_id: int, block_size: int = 128, **model) -> nn.Module:
    """A fresh GPT (``kind="gpt"``, causal LM) or BERT (``kind="bert"``, masked LM) of the given size.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from .models.bert import BERTConfig
    from .models.gpt import GPTConfig

    _check_kind(kind)
    unknown = sorted(set(model) - {"n_layer", "n_head", "n_embd", "dropout"})
    if unknown:
        raise ArgumentError(f"the model sizes may be n_layer, n_head, n_embd and dropout, got {unknown}")
    if kind == "gpt":
        return GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, bias=True, **model))
    if kind == "bert":
        return BERT(BERTConfig(vocab_size=vocab_size, block_size=block_size, pad_id=pad_id, **model))
    raise ArgumentError(f"kind must be 'gpt' or 'bert', got {kind!r}")


def lm_batches(stream: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator):
    """Random contiguous blocks (B, T + 1) of the token stream (inputs are ``[:, :-1]``, next tokens ``[:, 1:]``).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    block_size, batch_size = check_int(block_size, "block_size", min=1), check_int(batch_size, "batch_size", min=1)
    _check_stream(stream, "stream", block_size)
    check_instance(generator, "generator", torch.Generator)
    starts = torch.randint(len(stream) - block_size - 1, (batch_size,), generator=generator)
    return stream[starts[:, None] + torch.arange(block_size + 1)]  # (B, T + 1)


def pretrain_loss(kind: str, tokenizer: BPETokenizer, mask_p: float = 0.15, generator=None):
    """The loss function of one objective for :func:`course_lib.train.train`: ``loss_fn(model, block)``.

    ``"gpt"``: next-token cross-entropy over all positions. ``"bert"``: cross-entropy over the
    masked positions of :func:`mask_tokens` (with ``generator`` for the random choices).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    _check_kind(kind)
    _check_tokenizer(tokenizer)
    mask_p = check_probability(mask_p, "mask_p")
    if generator is not None:
        check_instance(generator, "generator", torch.Generator)
    specials = [tokenizer.special_id(s) for s in tokenizer.specials]
    mask_id = tokenizer.special_id("[MASK]")

    def clm(model, block):
        logits = model(block[:, :-1])  # (B, T, V)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), block[:, 1:].reshape(-1))

    def mlm(model, block):
        x, y = mask_tokens(block[:, :-1], mask_id, tokenizer.vocab_size, specials, mask_p, generator)
        return mlm_cross_entropy(model(x), y)

    if kind == "gpt":
        return clm
    if kind == "bert":
        return mlm
    raise ArgumentError(f"kind must be 'gpt' or 'bert', got {kind!r}")


@torch.no_grad()
def evaluate_pretraining(
    model,
    kind: str,
    tokenizer: BPETokenizer,
    stream: torch.Tensor,
    block_size: int,
    max_blocks: int = 64,
    seed: int = 1234,
) -> float:
    """Validation loss (nats per predicted token) on consecutive blocks of ``stream``; the masked LM's
    corruption is drawn with a fixed ``seed`` so every evaluation sees the same masks.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(model, "model", (GPT, BERT), "course GPT or BERT")
    _check_kind(kind)
    block_size, max_blocks = check_int(block_size, "block_size", min=1), check_int(max_blocks, "max_blocks", min=1)
    check_tensor(stream, "stream", dim=1, dtype="integer")
    n = min(max_blocks, (len(stream) - 1) // (block_size + 1))
    if n < 1:
        raise ArgumentError(f"the validation stream has {len(stream)} tokens; need more than {block_size + 1}")
    blocks = stream[: n * (block_size + 1)].view(n, block_size + 1)
    loss_fn = pretrain_loss(kind, tokenizer, generator=torch.Generator().manual_seed(check_seed(seed)))
    with eval_mode(model):
        return float(loss_fn(model, blocks))


def pretrain(
    kind: str,
    tokenizer: BPETokenizer,
    train_stream: torch.Tensor,
    val_stream: torch.Tensor,
    recipe: dict | None = None,
    steps: int | None = None,
    seed: int = 0,
    eval_every: int | None = None,
    max_seconds: float | None = None,
    progress: bool = True,
):
    """Pretrain a GPT (causal LM) or a BERT (masked LM) with :func:`course_lib.train.train`.

    Returns ``(model, history, info)``; ``history`` has ``val_loss`` (nats per predicted token on
    ``val_stream``) every ``eval_every`` steps. ``recipe`` defaults to :data:`PRETRAIN_RECIPE`.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from .nn_utils import make_adamw
    from .train import cosine_schedule, train

    _check_kind(kind)
    _check_tokenizer(tokenizer)
    r = check_recipe(recipe, PRETRAIN_RECIPE)
    check_int(r["block_size"], "recipe['block_size']", min=1)
    check_int(r["batch_size"], "recipe['batch_size']", min=1)
    _check_stream(train_stream, "train_stream", r["block_size"])
    _check_stream(val_stream, "val_stream", r["block_size"])
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    check_flag(progress, "progress")
    if steps is not None:
        r["steps"] = check_int(steps, "steps", min=1)
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = build_backbone(kind, tokenizer.vocab_size, tokenizer.special_id("[PAD]"), **r["model"])
    opt = make_adamw(model, lr=r["lr"], weight_decay=r["weight_decay"], betas=(0.9, 0.99))
    T, B, n = r["block_size"], r["batch_size"], r["steps"]
    loss_fn = pretrain_loss(kind, tokenizer, r["mask_p"], generator)
    every = eval_every or max(1, n // 10)
    hist = train(
        model,
        lambda step: lm_batches(train_stream, T, B, generator),
        loss_fn,
        opt,
        n,
        eval_every=every,
        eval_fn=lambda m: {"val_loss": evaluate_pretraining(m, kind, tokenizer, val_stream, T)},
        lr_schedule=cosine_schedule(r["lr"], n, warmup=r["warmup"], min_lr=r["min_lr"]),
        grad_clip=r["grad_clip"],
        log_every=max(1, every // 4),
        max_seconds=max_seconds,
        progress=progress,
        desc=f"{kind} pretraining ({sum(p.numel() for p in model.parameters()):,} params)",
    )
    info = {
        "kind": kind,
        "recipe": r,
        "seed": seed,
        "params": sum(p.numel() for p in model.parameters()),
        "tokens_seen": hist.attrs["steps_done"] * B * T,
        "train_seconds": round(hist.attrs["train_seconds"], 1),
    }
    return model, hist, info


def corpus_statistics(corpus: pd.DataFrame, splits: dict, tokenizer: BPETokenizer) -> dict:
    """Sizes of the pretraining text: sentences, characters, words and BPE tokens (no ``[EOS]``), per
    source, and how many sentences were left out because they are test sentences.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from .data import word_split

    _check_frame(corpus, "corpus", ("text", "source"))
    check_instance(splits, "splits", dict)
    for part in ("train", "val", "test"):
        if part not in splits:
            raise ArgumentError(f"splits must have train, val and test tables (pretraining_corpus), no {part!r}")
        _check_frame(splits[part], f"splits[{part!r}]", ("text",))
    _check_tokenizer(tokenizer)
    tokens = {src: sum(len(tokenizer.encode(t)) for t in d.text) for src, d in corpus.groupby("source")}
    n_review_texts = len(splits["train"]) + len(splits["val"])
    return {
        "sentences": len(corpus),
        "tatoeba_sentences": int((corpus.source == "tatoeba").sum()),
        "review_sentences": int((corpus.source == "reviews").sum()),
        "review_sentences_left_out": n_review_texts - int((corpus.source == "reviews").sum()),
        "tatoeba_sentences_left_out": int(TATOEBA_SENTENCES - (corpus.source == "tatoeba").sum()),
        "test_sentences": len(splits["test"]),
        "characters": int(corpus.text.str.len().sum()),
        "words": int(sum(len(word_split(t)) for t in corpus.text)),
        "tokens": int(sum(tokens.values())),
        "tatoeba_tokens": int(tokens.get("tatoeba", 0)),
        "review_tokens": int(tokens.get("reviews", 0)),
        "vocab_size": tokenizer.vocab_size,
    }


def save_pretrained(path, model: nn.Module, tokenizer: BPETokenizer, history: pd.DataFrame, info: dict):
    """Write a pretrained backbone: weights, config, the tokenizer's merges, recipe and history (plain data).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from dataclasses import asdict

    from .train import save_checkpoint

    check_instance(model, "model", (GPT, BERT), "course GPT or BERT")
    _check_tokenizer(tokenizer)
    check_instance(history, "history", pd.DataFrame)
    check_instance(info, "info", dict)
    if info.get("kind") not in ("gpt", "bert"):
        raise ArgumentError(f"info['kind'] must be 'gpt' or 'bert', got {info.get('kind')!r}")
    hist = {
        c: [None if (isinstance(v, float) and math.isnan(v)) else v for v in history[c].tolist()]
        for c in history.columns
    }
    extra = {"kind": info["kind"], "tokenizer": tokenizer.to_dict(), "info": info, "history": hist}
    return save_checkpoint(path, model, config=asdict(model.config), extra=extra)


def load_pretrained(kind_or_path, verify: bool = True):
    """Load a shipped (``"gpt"``, ``"bert"``) or saved pretrained backbone: ``(model, tokenizer, history, info)``.

    The file is checked against ``data/SHA256SUMS`` (for files in ``data/``) and its own digest, and
    read with ``weights_only=True``; any problem raises :class:`~course_lib.errors.CheckpointError`.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    from .models.bert import BERTConfig
    from .models.gpt import GPTConfig
    from .train import load_checkpoint

    path = PRETRAIN_CHECKPOINTS.get(kind_or_path, kind_or_path) if isinstance(kind_or_path, str) else kind_or_path
    payload = load_checkpoint(path, verify=verify)
    extra = payload["extra"]
    for key in ("kind", "tokenizer", "info", "history"):
        if key not in extra:
            raise CheckpointError(f"{path} is a course checkpoint but not a pretrained backbone (no {key!r} entry)")
    tokenizer = BPETokenizer.from_dict(extra["tokenizer"])
    kind = extra["kind"]
    if kind == "gpt":
        model = GPT(GPTConfig(**payload["config"]))
    elif kind == "bert":
        model = BERT(BERTConfig(**payload["config"]))
    else:
        raise CheckpointError(f"{path}: unknown model kind {kind!r}")
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(f"the weights in {path} do not fit a {kind}: {str(e).splitlines()[0]}") from e
    model.eval()
    history = pd.DataFrame({k: [math.nan if v is None else v for v in vals] for k, vals in extra["history"].items()})
    return model, tokenizer, history, extra["info"]
