"""The article's §5.2 program: a faithful PyTorch port that runs its own lines, and each of its defects made testable.

Defined in: notebooks/05_text_generation.ipynb

The course does not install TensorFlow. The program itself is :data:`course_lib.article.PROGRAM`, byte for
byte. This module ports the few Keras pieces it uses, keeping the program's structure — the *functional*
API (``Input(shape=(None,))`` → ``embedding(inputs)`` → ``lstm(x)`` → ``dense(x)`` →
``Model(inputs=inputs, outputs=outputs)``), ``compile``, ``fit`` and ``predict`` — so that the program's
own lines run unchanged against the port (:func:`run_program`), and its ``generate_text`` function, which is
plain Python + NumPy, runs exactly as printed (:data:`GENERATE_TEXT`, :func:`article_function`).

* :data:`HYPERPARAMETERS` — the sizes the program sets (read from its text with :mod:`ast`);
* :func:`build_article_model` — the program's model, line by line (``vocab_size`` may be the course's
  65 characters instead of 10,000 words);
* :func:`undefined_names` — names the program reads but never defines (``np``, ``x_train``, ``y_train``);
* :func:`categorical_crossentropy` / :func:`sparse_categorical_crossentropy` — Keras' losses on probabilities;
* :func:`article_window_update` / :func:`fixed_window_update` — ``[:, :-1]`` drops the newest token;
* :func:`count_token_reads` — re-reading a fixed window, re-reading the whole prefix, carrying the state;
* :func:`loop_period`, :func:`distinct_n` — greedy decoding falls into a cycle.
"""

from __future__ import annotations

import ast
import builtins
import math
import time
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .article import PROGRAM
from .checks import (
    MAX_WIDTH,
    check_choice,
    check_flag,
    check_float,
    check_int,
    check_seed,
    check_tensor,
    check_text,
    check_token_ids,
)
from .errors import ArgumentError, ArgumentTypeError
from .nn_utils import eval_mode
from .train import train


def _hyperparameters(source: str) -> dict[str, float | int]:
    """Top-level ``name = number`` assignments of a program (its hyper-parameters), in order."""
    out = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, (int, float))
        ):
            out[node.targets[0].id] = node.value.value
    return out


#: The program's hyper-parameters, read from its text (vocab_size, embedding_dim, hidden_size, batch_size …).
HYPERPARAMETERS = _hyperparameters(PROGRAM)

#: The article's ``generate_text`` function, cut verbatim out of the printed program.
GENERATE_TEXT = PROGRAM[
    PROGRAM.index("def generate_text") : PROGRAM.index("return generated_text") + len("return generated_text")
]

#: The program without its three TensorFlow import lines (the port provides those names).
PROGRAM_BODY = PROGRAM.split("\n", 3)[3]


def _parse(source, name: str) -> ast.Module:
    """``ast.parse`` of a program's text; text that is not Python is an :class:`ArgumentError` naming it."""
    check_text(source, name, max_len=100_000)
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError) as e:
        raise ArgumentError(f"{name} is not valid Python: {e}") from None


def undefined_names(source: str) -> list[str]:
    """Names a program reads but never defines, imports or gets from Python's builtins (sorted).

    A static check with :mod:`ast`: the §5.2 program uses ``np`` (NumPy, never imported) and
    ``x_train``, ``y_train`` (the training data, never built).

    Defined in: notebooks/05_text_generation.ipynb
    """
    tree = _parse(source, "source")
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


# ----------------------------------------------------------------------------- the Keras pieces, ported


class _Symbol:
    """What a Keras layer returns when it is called on ``Input``: the layers applied so far and the width."""

    def __init__(self, layers: list, width: int | None):
        self.layers, self.width = layers, width


class Input(_Symbol):
    """Port of ``tf.keras.layers.Input(shape=(None,))``: a batch of token-id sequences of any length.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, shape=(None,)):
        if not isinstance(shape, (tuple, list)) or tuple(shape) != (None,):
            raise ArgumentError(f"the port supports Input(shape=(None,)) (sequences of ids), got shape={shape}")
        super().__init__([], None)


class _Layer(nn.Module):
    """A Keras layer: called on a symbol it records itself (and builds its weights); on a tensor it computes."""

    def __call__(self, x):
        if isinstance(x, _Symbol):
            self.build(x.width)
            return _Symbol(x.layers + [self], self.units)
        return super().__call__(x)

    def build(self, width):  # pragma: no cover - every layer overrides it
        raise NotImplementedError


class Embedding(_Layer):
    """Port of ``Embedding(input_dim, output_dim)``: ids (B, T) → vectors (B, T, output_dim).

    Keras' default initialisation: uniform in ±0.05.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, input_dim: int, output_dim: int):
        super().__init__()
        self.units = check_int(output_dim, "output_dim", min=1, max=MAX_WIDTH)
        self.table = nn.Embedding(check_int(input_dim, "input_dim", min=1, max=10_000_000), self.units)
        nn.init.uniform_(self.table.weight, -0.05, 0.05)

    def build(self, width):
        if width is not None:
            raise ArgumentError("Embedding must be the first layer: it reads token ids, not vectors")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.table(ids)  # (B, T, output_dim)


class LSTM(_Layer):
    """Port of ``LSTM(units, return_sequences=True)``: vectors (B, T, C) → states (B, T, units).

    The weights are created when the layer is first called on a symbol (Keras builds layers lazily);
    initialisation as Keras: Glorot-uniform input weights, orthogonal recurrent weights, forget-gate
    bias 1. PyTorch's LSTM keeps two bias vectors where Keras keeps one (4 × units more parameters).

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, units: int, return_sequences: bool = False):
        super().__init__()
        self.units = check_int(units, "units", min=1, max=MAX_WIDTH)
        self.return_sequences = check_flag(return_sequences, "return_sequences")
        self.cell = None

    def build(self, width):
        if width is None:
            raise ArgumentError("LSTM reads vectors: put an Embedding before it")
        self.cell = nn.LSTM(width, self.units, batch_first=True)
        H = self.units
        for i in range(4):  # gates i, f, g, o
            nn.init.xavier_uniform_(self.cell.weight_ih_l0[i * H : (i + 1) * H])
            nn.init.orthogonal_(self.cell.weight_hh_l0[i * H : (i + 1) * H])
        with torch.no_grad():
            self.cell.bias_ih_l0.zero_()
            self.cell.bias_hh_l0.zero_()
            self.cell.bias_ih_l0[H : 2 * H] = 1.0  # unit_forget_bias=True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.cell(x)  # (B, T, units)
        return out if self.return_sequences else out[:, -1]


class Dense(_Layer):
    """Port of ``Dense(units, activation=None | 'softmax')`` on the last axis.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, units: int, activation: str | None = None):
        super().__init__()
        self.units = check_int(units, "units", min=1, max=10_000_000)
        self.activation = check_choice(activation, "activation", (None, "softmax"))
        self.linear = None

    def build(self, width):
        if width is None:
            raise ArgumentError("Dense reads vectors: put an Embedding before it")
        self.linear = nn.Linear(width, self.units)
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)  # (B, T, units)
        return torch.softmax(z, dim=-1) if self.activation == "softmax" else z


class Adam:
    """Port of ``tf.keras.optimizers.Adam(learning_rate)`` (β₁ 0.9, β₂ 0.999, ε 1e-7), bound at ``compile``.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, learning_rate: float = 0.001):
        self.learning_rate = check_float(learning_rate, "learning_rate", min=0.0, min_open=True)

    def bind(self, parameters) -> torch.optim.Adam:
        return torch.optim.Adam(parameters, lr=self.learning_rate, betas=(0.9, 0.999), eps=1e-7)


def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Port of Keras' ``categorical_crossentropy`` on probabilities (``from_logits=False``): (B, T).

    ``y_true`` must be one-hot, shaped like ``y_pred`` (B, T, V). Like Keras it rescales ``y_pred`` to sum
    to 1, clips it to [1e-7, 1 − 1e-7] and returns −Σ y_true · log y_pred. Integer targets (B, T) — what a
    language model has — raise Keras' shape error.

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_tensor(y_true, "y_true")
    check_tensor(y_pred, "y_pred", dtype="float")
    if y_true.shape != y_pred.shape:
        raise ArgumentError(
            f"Shapes {tuple(y_true.shape)} and {tuple(y_pred.shape)} are incompatible "
            "(categorical_crossentropy wants one-hot targets shaped like the predictions; "
            "integer targets need sparse_categorical_crossentropy)"
        )
    y_pred = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return -(y_true * torch.log(y_pred)).sum(-1)  # (B, T)


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Port of Keras' ``sparse_categorical_crossentropy`` on probabilities: integer targets (B, T) → (B, T).

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_tensor(y_true, "y_true", dtype="integer")
    check_tensor(y_pred, "y_pred", dtype="float", dim=range(1, 9))
    if y_true.shape != y_pred.shape[:-1]:
        raise ArgumentError(f"targets {tuple(y_true.shape)} must be the predictions' shape without its last axis")
    check_token_ids(y_true, "y_true", y_pred.shape[-1])
    p = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return -torch.log(p.gather(-1, y_true[..., None].long())).squeeze(-1)  # (B, T)


LOSSES = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


class Model(nn.Module):
    """Port of ``tf.keras.Model(inputs=inputs, outputs=outputs)`` with ``compile``, ``fit`` and ``predict``.

    ``forward(ids (B, T))`` → the last layer's output (probabilities (B, T, V) for the §5.2 model).
    ``predict(x)`` behaves like TF 2's Keras: NumPy (or a list) in, NumPy out, and a 1-D input of N ids is
    read as a batch of N one-token sequences (Keras' ``expand_1d``). It counts its calls and the token
    positions it reads. ``fit`` runs the course's training loop over shuffled mini-batches, epoch by epoch.

    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, inputs: Input, outputs: _Symbol):
        super().__init__()
        if not isinstance(inputs, Input) or not isinstance(outputs, _Symbol) or not outputs.layers:
            raise ArgumentTypeError("Model(inputs=Input(...), outputs=<layers called on the input>)")
        self.layers = nn.ModuleList(outputs.layers)
        self.loss, self.optimizer = None, None
        self.predict_calls, self.tokens_read = 0, 0

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = ids
        for layer in self.layers:
            x = layer(x)
        return x

    def compile(self, optimizer="adam", loss="categorical_crossentropy") -> None:
        optimizer = Adam() if optimizer == "adam" else optimizer
        if not isinstance(optimizer, Adam):
            raise ArgumentTypeError(f"the port supports the Adam optimizer, got {optimizer!r}")
        self.loss = LOSSES[check_choice(loss, "loss", tuple(LOSSES))]
        self.optimizer = optimizer.bind(self.parameters())

    def fit(self, x, y, batch_size: int = 32, epochs: int = 1, seed: int = 0, progress: bool = True):
        """Train on inputs ``x`` and targets ``y`` (arrays of equal length); returns the history (a DataFrame)."""
        if self.optimizer is None:
            raise ArgumentError("call model.compile(optimizer=..., loss=...) before model.fit")
        x, y = torch.as_tensor(np.asarray(x)), torch.as_tensor(np.asarray(y))
        if len(x) != len(y) or len(x) == 0:
            raise ArgumentError(f"x and y must hold the same number of examples (> 0), got {len(x)} and {len(y)}")
        batch_size, epochs = check_int(batch_size, "batch_size", min=1), check_int(epochs, "epochs", min=1)
        per_epoch = math.ceil(len(x) / batch_size)
        generator = torch.Generator().manual_seed(check_seed(seed))
        order = torch.cat([torch.randperm(len(x), generator=generator) for _ in range(epochs)])  # shuffled epochs

        def get_batch(step):
            epoch, i = divmod(step, per_epoch)
            rows = order[epoch * len(x) + i * batch_size : epoch * len(x) + min(len(x), (i + 1) * batch_size)]
            return x[rows].long(), y[rows]

        def loss_fn(model, batch):
            return model.loss(batch[1], model(batch[0])).mean()

        history = train(self, get_batch, loss_fn, self.optimizer, epochs * per_epoch, progress=progress,
                        log_every=max(1, per_epoch // 20), desc="model.fit")  # fmt: skip
        history["epoch"] = history["step"] / per_epoch
        return history

    @torch.no_grad()
    def predict(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[:, None]  # TF 2's Keras (data_adapter.expand_1d): N ids = a batch of N one-token sequences
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise ArgumentError(f"predict expects token ids of shape (batch, time), got {x.dtype} {x.shape}")
        self.predict_calls += 1
        self.tokens_read += int(x.size)
        with eval_mode(self):
            return self(torch.as_tensor(x, dtype=torch.long)).numpy()

    def keras_parameter_count(self) -> int:
        """Parameters as Keras counts them (its LSTM has one bias vector per gate, PyTorch's two)."""
        extra = sum(4 * layer.units for layer in self.layers if isinstance(layer, LSTM))
        return sum(p.numel() for p in self.parameters()) - extra


class _LogProbs(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return torch.log(self.model(ids).clamp_min(1e-30))  # (B, T, V) log-probabilities


def as_logits(model: Model) -> nn.Module:
    """The port returns probabilities; this view returns their logarithm, which every logits-based tool accepts.

    ``softmax(log p) = p``, so ``course_lib.train.evaluate_lm(as_logits(model), ...)`` scores the port
    like any course model.

    Defined in: notebooks/05_text_generation.ipynb
    """
    return _LogProbs(model)


#: ``tf`` as far as the program uses it: ``tf.keras.layers.Input`` and ``tf.keras.optimizers.Adam``.
tf = SimpleNamespace(keras=SimpleNamespace(layers=SimpleNamespace(Input=Input), optimizers=SimpleNamespace(Adam=Adam)))


def run_program(stop_before: str | None = None, **names) -> dict:
    """Execute the §5.2 program's own lines (all but its three imports) against the port; return its namespace.

    The port provides ``tf``, ``Embedding``, ``LSTM``, ``Dense`` and ``Model``; ``names`` adds others (for
    example ``x_train=...``). The program runs in a fresh namespace and raises whatever it raises.
    ``stop_before="model.fit("`` runs only the lines before the first one that contains that text.

    Defined in: notebooks/05_text_generation.ipynb
    """
    body = PROGRAM_BODY
    if stop_before is not None:
        if stop_before not in body:
            raise ArgumentError(f"{stop_before!r} does not occur in the program")
        body = body[: body.index(stop_before)].rsplit("\n", 1)[0] + "\n"
    namespace = {"tf": tf, "Embedding": Embedding, "LSTM": LSTM, "Dense": Dense, "Model": Model, **names}
    exec(compile(body, "article §5.2", "exec"), namespace)  # a constant string: the article's program
    return namespace


def article_function(numpy: bool = True, source: str = GENERATE_TEXT):
    """The article's ``generate_text``, compiled from its printed text in a fresh namespace (``np`` only if asked).

    ``source`` may be a corrected copy (see :func:`patch`).

    Defined in: notebooks/05_text_generation.ipynb
    """
    namespace = {"np": np} if check_flag(numpy, "numpy") else {}
    tree = _parse(source, "source")
    if not any(isinstance(s, ast.FunctionDef) and s.name == "generate_text" for s in tree.body) or not all(
        isinstance(s, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for s in tree.body
    ):
        raise ArgumentError("source must define the function generate_text (and nothing else but imports)")
    code = compile(tree, "article §5.2", "exec")
    exec(code, namespace)  # a constant string: the article's function
    return namespace["generate_text"]


def patch(source: str, old: str, new: str) -> str:
    """``source`` with the one occurrence of ``old`` replaced by ``new`` (an error if it is not there exactly once).

    Defined in: notebooks/05_text_generation.ipynb
    """
    source, old, new = check_text(source, "source"), check_text(old, "old"), check_text(new, "new")
    if not old:
        raise ArgumentError("old must be the text to replace, got ''")
    if source.count(old) != 1:
        raise ArgumentError(f"{old!r} occurs {source.count(old)} times in the source; expected exactly once")
    return source.replace(old, new)


def build_article_model(vocab_size: int, embedding_dim: int, hidden_size: int) -> Model:
    """The §5.2 model, line by line: Embedding → LSTM(return_sequences=True) → Dense(softmax), functional API.

    Defined in: notebooks/05_text_generation.ipynb
    """
    embedding = Embedding(vocab_size, embedding_dim)
    lstm = LSTM(hidden_size, return_sequences=True)
    dense = Dense(vocab_size, activation="softmax")
    inputs = Input(shape=(None,))
    x = embedding(inputs)
    x = lstm(x)
    outputs = dense(x)
    return Model(inputs=inputs, outputs=outputs)


# ----------------------------------------------------------------------------- the generation loop's defects


def article_window_update(current_sequence, predicted_word: int):
    """The article's update ``np.concatenate([current_sequence[:, :-1], [[predicted_word]]], axis=1)``.

    It keeps the window's length but throws away its *last* column — the newest token — so the window
    freezes on the prompt's first tokens plus the latest prediction. ``current_sequence`` is (1, T).

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_window(current_sequence)
    predicted_word = check_int(predicted_word, "predicted_word", min=0)
    return np.concatenate([current_sequence[:, :-1], [[predicted_word]]], axis=1)


def fixed_window_update(current_sequence, predicted_word: int):
    """The sliding window: drop the *oldest* token and append the new one, ``[:, 1:]``.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_window(current_sequence)
    predicted_word = check_int(predicted_word, "predicted_word", min=0)
    return np.concatenate([current_sequence[:, 1:], [[predicted_word]]], axis=1)


def _check_window(seq) -> None:
    integer = (isinstance(seq, np.ndarray) and seq.dtype.kind in "iu") or (
        isinstance(seq, torch.Tensor) and not seq.is_floating_point() and seq.dtype != torch.bool
    )
    if not integer or seq.ndim != 2 or seq.shape[0] != 1:
        raise ArgumentError(
            f"the window must be one sequence of ids, shape (1, T), got {type(seq).__name__} "
            f"{tuple(np.shape(seq))} (the article's prompt [1] * 10 is a flat list: use np.array([[1] * 10]))"
        )


def build_lm_dataset(ids, seq_len: int, stride: int | None = None):
    """The ``x_train, y_train`` the program never builds: windows of ids and the same windows shifted by one.

    Cuts ``ids`` (1-D) into windows of ``seq_len`` every ``stride`` ids (default: non-overlapping);
    ``y[i, t] = ids[start_i + t + 1]``. Returns two LongTensors (N, seq_len).

    Defined in: notebooks/05_text_generation.ipynb
    """
    if isinstance(ids, (list, tuple)):
        ids = torch.tensor([check_int(i, "each id", min=0, max=2**63 - 1) for i in ids], dtype=torch.long)
    elif isinstance(ids, np.ndarray) and ids.dtype.kind in "iu":
        ids = torch.as_tensor(ids, dtype=torch.long)
    ids = check_tensor(ids, "ids", dtype="integer").long()
    if ids.dim() != 1:
        raise ArgumentError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
    seq_len = check_int(seq_len, "seq_len", min=1)
    stride = seq_len if stride is None else check_int(stride, "stride", min=1)
    if len(ids) < seq_len + 1:
        raise ArgumentError(f"need at least {seq_len + 1} ids for one window of {seq_len}, got {len(ids)}")
    starts = torch.arange(0, len(ids) - seq_len, stride)  # (N,)
    offsets = torch.arange(seq_len)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]  # (N, seq_len) each


class _CountingModel(nn.Module):
    """Wraps a model with ``forward_step``, counts the token positions it reads, and can limit its context."""

    def __init__(self, model, max_context):
        super().__init__()
        self.inner, self.max_context, self.tokens_read = model, max_context, 0

    def forward_step(self, idx, state=None):
        self.tokens_read += idx.numel()
        return self.inner.forward_step(idx, state)


LOOPS = ("state carried", "fixed window (article)", "growing prefix")


def count_token_reads(model, prompt: torch.Tensor, n_new: int, loop: str, window: int = 10) -> dict:
    """Generate ``n_new`` tokens greedily one of three ways; count the positions read and time it.

    * ``"state carried"``: one new token per step, the LSTM state (or KV cache) carried — n reads;
    * ``"fixed window (article)"``: every step re-reads the last ``window`` tokens from scratch, as the
      article's loop does with its 10-token window — about window · n reads: linear, with a large constant;
    * ``"growing prefix"``: every step re-reads everything so far — about n²/2 reads: quadratic.

    Returns ``{"tokens_read", "seconds", "ids"}`` (the generated batch, prompt included).

    Defined in: notebooks/05_text_generation.ipynb
    """
    from .generate import generate

    check_choice(loop, "loop", LOOPS)
    if not hasattr(model, "forward_step"):
        raise ArgumentTypeError(
            f"model must be a language model with forward_step (a GPT or an LSTM LM), got {type(model).__name__}"
        )
    limit = getattr(model, "max_context", None)
    if loop == "fixed window (article)":
        limit = check_int(window, "window", min=1) if limit is None else min(limit, window)
    counter = _CountingModel(model, limit)
    t0 = time.perf_counter()
    out = generate(counter, prompt, n_new, temperature=0.0, use_cache=loop == "state carried")
    return {"tokens_read": counter.tokens_read, "seconds": time.perf_counter() - t0, "ids": out}


def loop_period(ids, min_repeats: int = 3, max_period: int = 200) -> int | None:
    """Smallest period p such that the end of ``ids`` is the same p tokens repeated ≥ ``min_repeats`` times.

    ``None`` when the tail is not periodic. Greedy decoding of a language model usually ends in such a cycle.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if isinstance(ids, torch.Tensor):
        check_tensor(ids, "ids", dim=1, dtype="integer")
    elif not isinstance(ids, (list, tuple)):
        raise ArgumentTypeError(f"ids must be a list or 1-D tensor of token ids, got {type(ids).__name__}")
    min_repeats = check_int(min_repeats, "min_repeats", min=1)
    max_period = check_int(max_period, "max_period", min=1)
    seq = [check_int(i, "each id") for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids)]
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
    n = check_int(n, "n", min=1)
    words = check_text(text, "text").split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        raise ArgumentError(f"the text has fewer than {n} words")
    return len(set(grams)) / len(grams)


def softmax_then_log_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The naive route: softmax, then the log of the target's probability (no clipping). Logits (N, V), targets (N,).

    It becomes ``inf`` once a target's probability underflows to 0 in float32, where ``F.cross_entropy``
    (log-softmax) stays finite.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_logits_targets(logits, targets)
    probs = torch.softmax(logits, dim=-1)  # (N, V)
    return -torch.log(probs.gather(-1, targets[:, None])).mean()


def logits_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The fix: integer targets with logits — ``F.cross_entropy`` applies log-softmax stably.

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_logits_targets(logits, targets)
    return F.cross_entropy(logits, targets)


def _check_logits_targets(logits, targets) -> None:
    check_tensor(logits, "logits", dim=2, dtype="float")
    check_tensor(targets, "targets", shape=(logits.size(0),), dtype="long")
    check_token_ids(targets, "targets", logits.size(1))
