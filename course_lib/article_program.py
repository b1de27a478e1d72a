"""The article's §5.2 Keras program, kept as text, ported faithfully to PyTorch, and its defects made testable.

Defined in: notebooks/05_text_generation.ipynb

The course does not install Keras/TensorFlow. :data:`ARTICLE_KERAS_PROGRAM` is the program as
printed in §5.2; :class:`KerasStyleLSTM` is a line-by-line port of its model (Embedding → LSTM →
Dense with a *softmax*), :func:`keras_categorical_crossentropy` ports the loss it compiles with,
and :data:`ARTICLE_GENERATE_TEXT` is the article's own ``generate_text`` function, which is plain
Python + NumPy and so runs unchanged against the port's Keras-like ``predict``.

Each defect is isolated in a small function so it can be shown failing in the notebook and
tested in ``tests/test_05_text_generation.py``:

* :func:`undefined_names` — names the program uses but never defines (``np``, ``x_train``, ``y_train``);
* :func:`article_window_update` vs :func:`fixed_window_update` — ``current_sequence[:, :-1]`` drops
  the *newest* token, ``[:, 1:]`` drops the oldest;
* :func:`build_lm_dataset` — the missing ``x_train, y_train`` (inputs and next-token targets);
* :func:`count_token_reads` — re-reading the window at every step versus carrying the LSTM state;
* :func:`loop_period` and :func:`distinct_n` — greedy decoding falls into a cycle / repeats itself.
"""

from __future__ import annotations

import ast
import builtins
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The program of §5.2 as printed in the article (its Chinese comments included).
ARTICLE_KERAS_PROGRAM = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Embedding, LSTM, Dense

# 定义参数
vocab_size = 10000
embedding_dim = 256
lstm_units = 512
max_length = 100

# 构建模型
model = Sequential([
    Embedding(vocab_size, embedding_dim, input_length=max_length),
    LSTM(lstm_units, return_sequences=True),
    Dense(vocab_size, activation='softmax')
])

# 编译模型
model.compile(optimizer='adam', loss='categorical_crossentropy')

# 训练模型
model.fit(x_train, y_train, epochs=10, batch_size=64)

# 生成文本
def generate_text(model, start_sequence, num_generate=100):
    generated = []
    current_sequence = np.array(start_sequence)
    for _ in range(num_generate):
        predictions = model.predict(current_sequence)
        next_token = np.argmax(predictions[0, -1, :])
        generated.append(next_token)
        current_sequence = np.append(current_sequence[:, :-1], [[next_token]], axis=1)
    return generated

start_sequence = [1] * 10
generated_text = generate_text(model, start_sequence)
print(generated_text)
"""

#: The article's ``generate_text`` function, cut verbatim out of :data:`ARTICLE_KERAS_PROGRAM`.
ARTICLE_GENERATE_TEXT = (
    ARTICLE_KERAS_PROGRAM[
        ARTICLE_KERAS_PROGRAM.index("def generate_text") : ARTICLE_KERAS_PROGRAM.index("start_sequence = [1]")
    ].rstrip()
    + "\n"
)


def undefined_names(source: str) -> list[str]:
    """Names a program reads but never defines, imports or gets from Python's builtins (sorted).

    A static check with :mod:`ast`: ``undefined_names(ARTICLE_KERAS_PROGRAM)`` finds ``np``
    (NumPy used, never imported) and ``x_train``, ``y_train`` (the training data, never built).

    Defined in: notebooks/05_text_generation.ipynb
    """
    tree = ast.parse(source)
    defined = set(dir(builtins))
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                defined.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
            if not isinstance(node, ast.ClassDef):
                args = node.args
                for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                    if a is not None:
                        defined.add(a.arg)
    return sorted(used - defined)


class KerasStyleLSTM(nn.Module):
    """Faithful PyTorch port of the article's Keras model: Embedding → LSTM → Dense(softmax).

    ``forward(idx (B, T)) → probabilities (B, T, V)`` — like the Keras model, it outputs a softmax,
    not logits. ``predict(x)`` mimics ``keras.Model.predict``: NumPy in, NumPy out, and it insists
    on a batch ``(B, T)`` as Keras does.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, vocab_size: int = 10000, embedding_dim: int = 256, lstm_units: int = 512):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)  # Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, lstm_units, batch_first=True)  # LSTM(lstm_units, return_sequences=True)
        self.dense = nn.Linear(lstm_units, vocab_size)  # Dense(vocab_size, activation='softmax')
        self.predict_calls = 0
        self.tokens_read = 0

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(idx))  # (B, T, lstm_units)
        return torch.softmax(self.dense(out), dim=-1)  # (B, T, V) probabilities

    @torch.no_grad()
    def predict(self, x) -> np.ndarray:
        """Keras-style ``predict``: a NumPy batch of token ids (B, T) → probabilities (B, T, V)."""
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(
                f"predict expects a batch of sequences with shape (batch, time), got shape {x.shape}; "
                "a single prompt must be wrapped as [[...]] (the article passes the flat list [1] * 10)"
            )
        if not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"predict expects integer token ids, got dtype {x.dtype}")
        self.eval()
        self.predict_calls += 1
        self.tokens_read += int(x.size)
        return self(torch.as_tensor(x, dtype=torch.long)).numpy()


def keras_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Port of Keras' ``categorical_crossentropy`` on probabilities (its ``from_logits=False`` default).

    ``y_true`` must be one-hot with the same shape as ``y_pred`` (B, T, V); like Keras it rescales
    ``y_pred`` to sum to 1, clips it to [1e-7, 1 − 1e-7] and returns −Σ y_true · log y_pred per
    position (B, T). Integer targets (B, T) — what a language model has — raise Keras' shape error.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Shapes {tuple(y_true.shape)} and {tuple(y_pred.shape)} are incompatible "
            "(categorical_crossentropy wants one-hot targets shaped like the predictions; "
            "integer targets need sparse_categorical_crossentropy — or logits with F.cross_entropy)"
        )
    eps = 1e-7
    y_pred = y_pred / y_pred.sum(-1, keepdim=True)
    y_pred = y_pred.clamp(eps, 1 - eps)
    return -(y_true * torch.log(y_pred)).sum(-1)  # (B, T)


def article_window_update(current_sequence, next_token: int):
    """The article's update ``np.append(current_sequence[:, :-1], [[next_token]], axis=1)``.

    It keeps the window length but throws away the *newest* token (the last column) instead of
    the oldest, so the window freezes on the prompt's first tokens plus the latest prediction.
    Works on NumPy arrays and torch tensors of shape (B, T) (B = 1, as in the article).

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_window(current_sequence)
    return _append_column(current_sequence[:, :-1], next_token)


def fixed_window_update(current_sequence, next_token: int):
    """The correct sliding window: drop the *oldest* token, append the new one: ``[:, 1:]``.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_window(current_sequence)
    return _append_column(current_sequence[:, 1:], next_token)


def _check_window(seq) -> None:
    if getattr(seq, "ndim", None) != 2:
        raise ValueError(
            f"the window must be a batch of token ids (B, T), got shape {tuple(np.shape(seq))} "
            "(the article's prompt [1] * 10 is a flat list: wrap it as [[1] * 10])"
        )


def _append_column(seq, next_token):
    if isinstance(seq, torch.Tensor):
        col = torch.full((seq.shape[0], 1), int(next_token), dtype=seq.dtype)
        return torch.cat([seq, col], dim=1)  # (B, T)
    return np.append(seq, np.full((seq.shape[0], 1), int(next_token), dtype=seq.dtype), axis=1)  # (B, T)


def build_lm_dataset(ids, seq_len: int, stride: int | None = None):
    """The ``x_train, y_train`` the article never builds: inputs and next-token targets.

    Cuts ``ids`` (1-D) into windows of ``seq_len`` (every ``stride`` tokens, default
    non-overlapping); ``y[i, t] = ids[start_i + t + 1]`` — the target is the input shifted by one.
    Returns two LongTensors (N, seq_len).

    Defined in: notebooks/05_text_generation.ipynb
    """
    ids = torch.as_tensor(ids, dtype=torch.long)
    if ids.dim() != 1:
        raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
    stride = seq_len if stride is None else stride
    if seq_len < 1 or stride < 1:
        raise ValueError(f"seq_len and stride must be >= 1, got {seq_len}, {stride}")
    if len(ids) < seq_len + 1:
        raise ValueError(f"need at least {seq_len + 1} tokens for one window of {seq_len}, got {len(ids)}")
    starts = torch.arange(0, len(ids) - seq_len, stride)  # (N,)
    offsets = torch.arange(seq_len)
    x = ids[starts[:, None] + offsets]  # (N, seq_len)
    y = ids[starts[:, None] + offsets + 1]  # (N, seq_len)
    return x, y


class _CountingModel(nn.Module):
    """Wraps a model with ``forward_step`` and counts how many tokens it is made to read."""

    def __init__(self, model):
        super().__init__()
        self.inner = model
        self.max_context = getattr(model, "max_context", None)
        self.tokens_read = 0

    def forward_step(self, idx, state=None):
        self.tokens_read += idx.numel()
        return self.inner.forward_step(idx, state)


def count_token_reads(model, prompt: torch.Tensor, n_new: int, use_cache: bool) -> dict:
    """How many token positions the model processes to generate ``n_new`` tokens, and how long it takes.

    ``use_cache=False`` is the article's way (re-read everything at every step: about
    n·T + n²/2 reads); ``use_cache=True`` carries the state (one read per new token).
    Returns ``{"tokens_read": int, "seconds": float}`` (greedy decoding).

    Defined in: notebooks/05_text_generation.ipynb
    """
    from .generate import generate

    counter = _CountingModel(model)
    t0 = time.perf_counter()
    out = generate(counter, prompt, n_new, temperature=0.0, use_cache=use_cache)
    return {"tokens_read": counter.tokens_read, "seconds": time.perf_counter() - t0, "ids": out}


def loop_period(ids, min_repeats: int = 3, max_period: int = 200) -> int | None:
    """Smallest period p such that the end of ``ids`` is the same p tokens repeated ≥ ``min_repeats`` times.

    ``None`` when the tail is not periodic. Greedy decoding of a language model usually ends in
    such a cycle (``"the the the ..."``); sampling does not.

    Defined in: notebooks/05_text_generation.ipynb
    """
    seq = [int(i) for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids)]
    for p in range(1, min(max_period, len(seq) // min_repeats) + 1):
        tail = seq[-p * min_repeats :]
        if all(tail[i] == tail[i % p] for i in range(len(tail))):
            return p
    return None


def distinct_n(text: str, n: int = 2) -> float:
    """Share of distinct word n-grams among all word n-grams of ``text`` ("distinct-n", Li et al. 2016).

    1.0 means no n-gram of words repeats; repetitive text (greedy decoding) scores low.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    words = text.split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        raise ValueError(f"the text has fewer than {n} words")
    return len(set(grams)) / len(grams)


def softmax_then_log_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The naive route: softmax, then log of the probability of the target (no clipping).

    Overflows to ``inf`` once a target's probability underflows to 0 in float32, where
    ``F.cross_entropy(logits, targets)`` (log-softmax) stays finite. Logits (N, V), targets (N,).

    Defined in: notebooks/05_text_generation.ipynb
    """
    probs = torch.softmax(logits, dim=-1)  # (N, V)
    return -torch.log(probs.gather(-1, targets[:, None])).mean()


def logits_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The fix: integer targets with logits — ``F.cross_entropy`` applies log-softmax stably.

    Defined in: notebooks/05_text_generation.ipynb
    """
    return F.cross_entropy(logits, targets)
