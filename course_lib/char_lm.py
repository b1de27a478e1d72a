"""The course's two character language models on Tiny Shakespeare: data, recipes, training, checkpoints.

Defined in: notebooks/05_text_generation.ipynb

One place decides how the LSTM and the GPT of notebook 05 are trained, so the notebook's live
run (full mode), ``tools/train_checkpoints.py`` (which writes the shipped checkpoints) and later
notebooks that load them all agree:

* data: the Tiny Shakespeare characters, vocabulary = the sorted set of all 65 characters of
  the text, first 90% train / last 10% validation (as notebook 01 and nanoGPT's ``shakespeare_char``);
* the **same token budget** for both live models: ``steps × batch_size × block_size`` characters;
* the shipped GPT's recipe (``SHIPPED_RECIPES["gpt"]``): the best measured in half an hour on two cores
  (``tools/sweep_gpt.py --grid checkpoint``), trained by ``tools/train_checkpoints.py``;
* training with ``course_lib.train.train`` (AdamW, warm-up + cosine decay, gradient clipping);
* checkpoints written with ``train.save_checkpoint``: weights, model config, vocabulary, recipe,
  training history and validation loss in one file, loaded safely with ``weights_only=True``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch

from .checks import check_flag, check_instance, check_int, check_seed, check_tensor, check_text
from .config import CHECKPOINT_DIR
from .data import CharTokenizer, get_lm_batch, load_shakespeare, train_val_split
from .errors import ArgumentError, ArgumentTypeError
from .models.lstm_lm import LSTMLM, LSTMConfig
from .nn_utils import make_adamw
from .train import (
    MAX_STEPS,
    CheckpointError,
    cosine_schedule,
    evaluate_lm,
    lm_cross_entropy,
    load_checkpoint,
    save_checkpoint,
    train,
)

#: Training recipes. Both models see the same characters: steps × batch_size × block_size.
RECIPES = {
    "lstm": {
        "model": {"n_embd": 64, "n_hidden": 384, "n_layer": 1, "dropout": 0.0},
        "steps": 700,
        "batch_size": 12,
        "block_size": 64,
        "lr": 4e-3,
        "min_lr": 1e-4,
        "warmup": 50,
        "weight_decay": 0.0,
        "grad_clip": 1.0,
    },
    "gpt": {
        "model": {"n_layer": 4, "n_head": 4, "n_embd": 128, "dropout": 0.0, "bias": False},
        "steps": 700,
        "batch_size": 12,
        "block_size": 64,
        "lr": 5e-3,
        "min_lr": 1e-4,
        "warmup": 50,
        "weight_decay": 0.1,
        "grad_clip": 1.0,
    },
}

#: The shipped checkpoints, trained by ``tools/train_checkpoints.py``. The LSTM: notebook 05's recipe
#: trained on about seven times as many characters
#: (1,200 × 24 × 128 = 3.7 million) with a 128-character context.
#: The GPT: the recipe chosen by measurement (``tools/sweep_gpt.py --grid checkpoint``, table in the
#: README) to beat notebook 01's Kneser–Ney baseline within half an hour on two cores.
SHIPPED_RECIPES = {
    "lstm": {**RECIPES["lstm"], "steps": 1200, "batch_size": 24, "block_size": 128, "lr": 4e-3},
    "gpt": {
        "model": {"n_layer": 4, "n_head": 6, "n_embd": 192, "dropout": 0.0, "bias": False, "positions": "rope"},
        "steps": 16000,
        "batch_size": 8,
        "block_size": 128,
        "lr": 2e-3,
        "min_lr": 1e-4,
        "warmup": 100,
        "weight_decay": 0.3,
        "grad_clip": 1.0,
        "ema": 0.999,  # the weights averaged over roughly the last 1,000 steps (train.WeightAverage)
        "weights_dtype": "float16",  # stored in half precision (half the file); losses are the stored weights'
    },
}

CHECKPOINTS = {"lstm": CHECKPOINT_DIR / "shakespeare_char_lstm.pt", "gpt": CHECKPOINT_DIR / "shakespeare_char_gpt.pt"}


def shakespeare_char_data():
    """``(tokenizer, train_ids, val_ids)``: Tiny Shakespeare as character ids, first 90% / last 10%.

    Defined in: notebooks/05_text_generation.ipynb
    """
    text = load_shakespeare()
    tok = CharTokenizer.from_text(text)  # 65 characters
    ids = torch.tensor(tok.encode(text), dtype=torch.long)  # (N,)
    train_ids, val_ids = train_val_split(ids, 0.9)
    return tok, train_ids, val_ids


def build_model(kind: str, vocab_size: int, block_size: int, **model_config):
    """A fresh LSTM (``kind="lstm"``) or GPT (``kind="gpt"``) for a vocabulary and context length.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if kind == "lstm":
        return LSTMLM(LSTMConfig(vocab_size=vocab_size, **model_config))
    if kind == "gpt":
        from .models.gpt import GPT, GPTConfig

        return GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, **model_config))
    raise ArgumentError(f"unknown model kind {kind!r}; expected 'lstm' or 'gpt'")


def _gpt_class():
    from .models.gpt import GPT

    return GPT


def _model_config(model) -> dict:
    return asdict(model.config)


def train_char_lm(
    kind: str,
    steps: int | None = None,
    seed: int = 0,
    eval_every: int | None = None,
    eval_tokens: int = 16384,
    data=None,
    progress: bool = True,
    recipes: dict | None = None,
    compile: bool = False,
    **overrides,
):
    """Train the course's LSTM or GPT on Tiny Shakespeare with :data:`RECIPES` (``overrides`` replace entries).

    ``recipes=SHIPPED_RECIPES`` trains the longer recipe of the shipped checkpoints; ``compile=True``
    compiles the forward and backward (``course_lib.train.train``; worth it for runs of many minutes).

    Returns ``(model, history, info)``: ``history`` from ``train.train`` with ``val_loss`` measured on
    the first ``eval_tokens`` characters of the validation text every ``eval_every`` steps (and at
    the end), ``info`` = the recipe, parameter count, tokens seen and training seconds.

    Defined in: notebooks/05_text_generation.ipynb
    """
    recipes = RECIPES if recipes is None else check_instance(recipes, "recipes", dict, "dict {kind: recipe}")
    check_text(kind, "kind")
    if kind not in recipes:
        raise ArgumentError(f"unknown model kind {kind!r}; expected one of {list(recipes)}")
    recipe = {**recipes[kind], **overrides}
    if steps is not None:
        recipe["steps"] = check_int(steps, "steps", min=1, max=MAX_STEPS)
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    eval_tokens = check_int(eval_tokens, "eval_tokens", min=1)
    progress = check_flag(progress, "progress")
    if data is not None:
        if not isinstance(data, (tuple, list)) or len(data) != 3:
            raise ArgumentTypeError("data must be (tokenizer, train_ids, val_ids), as shakespeare_char_data() returns")
        check_instance(data[0], "data's tokenizer", CharTokenizer)
        for ids, name in ((data[1], "data's train_ids"), (data[2], "data's val_ids")):
            check_tensor(ids, name, dim=1, dtype="integer")
    tok, train_ids, val_ids = data if data is not None else shakespeare_char_data()
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = build_model(kind, tok.vocab_size, recipe["block_size"], **recipe["model"])
    opt = make_adamw(model, lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    B, T = recipe["batch_size"], recipe["block_size"]

    def get_batch(step):
        return get_lm_batch(train_ids, T, B, generator=generator)  # x, y: (B, T)

    def loss_fn(model, batch):
        x, y = batch
        return lm_cross_entropy(model(x), y)  # logits (B, T, V) vs targets (B, T)

    def eval_fn(model):
        return {"val_loss": evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=eval_tokens)}

    n = recipe["steps"]
    every = eval_every or max(1, n // 10)
    hist = train(
        model,
        get_batch,
        loss_fn,
        opt,
        n,
        eval_every=every,
        eval_fn=eval_fn,
        lr_schedule=cosine_schedule(recipe["lr"], n, warmup=recipe["warmup"], min_lr=recipe["min_lr"]),
        grad_clip=recipe["grad_clip"],
        log_every=max(1, every // 4),
        progress=progress,
        desc=f"{kind} ({model.num_params():,} params)",
        compile=compile,
        bf16=recipe.get("bf16", False),
        ema=recipe.get("ema"),
    )
    info = {
        "kind": kind,
        "recipe": recipe,
        "seed": seed,
        "params": model.num_params(),
        "tokens": hist.attrs["steps_done"] * B * T,
        "train_seconds": round(hist.attrs["train_seconds"], 1),
        "eval_tokens": eval_tokens,
    }
    return model, hist, info


def save_char_lm(path, model, tokenizer: CharTokenizer, history: pd.DataFrame, info: dict) -> Path:
    """Write a checkpoint: weights + model config + vocabulary + recipe + history (plain data only).

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_instance(model, "model", (LSTMLM, _gpt_class()), "course LSTMLM or GPT")
    check_instance(tokenizer, "tokenizer", CharTokenizer)
    check_instance(history, "history", pd.DataFrame, "DataFrame (the history train_char_lm returns)")
    check_instance(info, "info", dict, "dict (the info train_char_lm returns)")
    if "kind" not in info:
        raise ArgumentError("info must have a 'kind' entry ('lstm' or 'gpt'), as train_char_lm returns")
    hist = {
        c: [None if (isinstance(v, float) and math.isnan(v)) else v for v in history[c].tolist()]
        for c in history.columns
    }
    extra = {"kind": info["kind"], "vocab": tokenizer.to_dict(), "info": info, "history": hist}
    return save_checkpoint(path, model, config=_model_config(model), extra=extra)


def load_char_lm(kind_or_path, verify: bool = True):
    """Load a shipped (or any saved) character LM: returns ``(model, tokenizer, history, info)``.

    ``kind_or_path`` is ``"lstm"``, ``"gpt"`` or a checkpoint path. The file is checked against
    ``data/SHA256SUMS`` and read with ``weights_only=True``; problems raise ``CheckpointError``.

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_instance(kind_or_path, "kind_or_path", (str, Path), "'lstm', 'gpt' or a checkpoint path")
    path = Path(CHECKPOINTS.get(kind_or_path, kind_or_path))
    payload = load_checkpoint(path, verify=verify)
    extra = payload["extra"]
    for key in ("kind", "vocab", "info", "history"):
        if key not in extra:
            raise CheckpointError(f"{path} is a course checkpoint but not a character LM (no {key!r} entry)")
    try:
        tok = CharTokenizer.from_dict(extra["vocab"])
        config = dict(payload["config"])
        kind = extra["kind"]
        if kind not in ("lstm", "gpt"):
            raise CheckpointError(f"{path}: unknown model kind {kind!r}; expected 'lstm' or 'gpt'")
        model = build_model(
            kind,
            tok.vocab_size,
            config.get("block_size", 1),
            **{k: v for k, v in config.items() if k not in ("vocab_size", "block_size")},
        )
    except (TypeError, ValueError) as e:  # a config or vocabulary the models do not accept
        raise CheckpointError(f"{path} holds a character-LM description the course cannot build: {e}") from e
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(
            f"the weights in {path} do not fit a {kind} with config {config}: {str(e).splitlines()[0]}"
        ) from e
    model.eval()
    history = pd.DataFrame({k: [math.nan if v is None else v for v in vals] for k, vals in extra["history"].items()})
    return model, tok, history, extra["info"]


def timed_eval(
    model, val_ids: torch.Tensor, block_size: int, max_tokens: int | None = None, stride: int | None = None
) -> tuple[float, float]:
    """``(val nats/char, seconds)`` of :func:`course_lib.train.evaluate_lm` on the validation ids.

    ``stride=None`` scores non-overlapping windows; ``stride=block_size // 2`` is the sliding-window
    evaluation (every character predicted from at least half the context).

    Defined in: notebooks/05_text_generation.ipynb
    """
    t0 = time.perf_counter()
    v = evaluate_lm(model, val_ids, block_size, batch_size=64, max_tokens=max_tokens, stride=stride)
    return v, time.perf_counter() - t0
