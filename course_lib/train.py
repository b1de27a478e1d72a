"""The course's one training loop, language-model loss helpers and safe checkpoints.

Defined in: notebooks/01_background_ngram.ipynb

Every model in the course (skip-gram, classifiers, LSTM, GPT, VAE, GAN) is trained by
:func:`train`. It needs four things:

* ``model``: an ``nn.Module``;
* ``get_batch(step)``: returns the batch for this step (any object the loss understands);
* ``loss_fn(model, batch)``: returns a scalar loss tensor, or a dict of tensors whose ``"loss"``
  entry is optimised and whose other entries are logged (e.g. a VAE's reconstruction and KL);
* ``optimizer``: a ``torch.optim`` optimizer.

Adversarial training (a GAN) takes turns between objectives: pass ``loss_fn`` and ``optimizer`` as
equal-length lists and each step applies them in order to the same batch.
"""
from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .data import read_checksums, sha256_file, _relative_to_data
from .config import DATA_DIR

LossFn = Callable[[nn.Module, Any], "torch.Tensor | Mapping[str, torch.Tensor]"]


def _as_metrics(out, name: str) -> dict[str, torch.Tensor]:
    if isinstance(out, torch.Tensor):
        if out.dim() != 0:
            raise ValueError(f"{name} must return a scalar loss, got a tensor of shape {tuple(out.shape)}")
        return {"loss": out}
    if isinstance(out, Mapping):
        if "loss" not in out:
            raise ValueError(f"{name} returned a dict without a 'loss' entry (keys: {sorted(out)})")
        return dict(out)
    raise TypeError(f"{name} must return a scalar tensor or a dict with 'loss', got {type(out).__name__}")


def train(model: nn.Module, get_batch: Callable[[int], Any],
          loss_fn: LossFn | Sequence[LossFn], optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer],
          steps: int, *, eval_every: int | None = None, eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
          lr_schedule: Callable[[int], float] | None = None, grad_clip: float | None = None,
          log_every: int = 10, max_seconds: float | None = None, progress: bool = True,
          desc: str = "training") -> pd.DataFrame:
    """Train ``model`` for ``steps`` optimizer steps and return the history as a DataFrame.

    * ``eval_fn(model)`` (run every ``eval_every`` steps and after the last step, in ``eval`` mode
      under ``torch.no_grad``) returns a dict of metrics, e.g. ``{"val_loss": 1.9}``.
    * ``lr_schedule(step)`` returns the learning rate for that step (set on every parameter group).
    * ``grad_clip``: clip the global gradient norm to this value.
    * ``max_seconds``: stop early once this much wall time has passed (a compute budget).
    * Training metrics are averaged over each ``log_every`` window.

    History columns: ``step`` (optimizer steps done), ``time_s`` (seconds since start, evaluation
    time excluded), ``lr``, the averaged training metrics (``loss``, ...) and the evaluation
    metrics (NaN on rows without an evaluation). A NaN or infinite loss stops training with an
    error that says at which step.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    loss_fns = list(loss_fn) if isinstance(loss_fn, (list, tuple)) else [loss_fn]
    optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer]
    if len(loss_fns) != len(optimizers):
        raise ValueError(f"got {len(loss_fns)} loss functions but {len(optimizers)} optimizers; pass one optimizer per loss")
    if steps < 0 or int(steps) != steps:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    if log_every < 1:
        raise ValueError(f"log_every must be >= 1, got {log_every}")
    names = [getattr(f, "__name__", f"loss{i}") for i, f in enumerate(loss_fns)]
    prefixes = [""] if len(loss_fns) == 1 else [f"{n}." if n != "<lambda>" else f"loss{i}." for i, n in enumerate(names)]

    rows: list[dict] = []
    window: dict[str, list[float]] = {}
    train_time = 0.0
    lr = optimizers[0].param_groups[0]["lr"]

    def run_eval(step: int) -> dict:
        if eval_fn is None:
            return {}
        was_training = model.training
        model.eval()
        with torch.no_grad():
            metrics = eval_fn(model)
        model.train(was_training)
        if not isinstance(metrics, Mapping):
            raise TypeError(f"eval_fn must return a dict of metrics, got {type(metrics).__name__}")
        return {k: float(v) for k, v in metrics.items()}

    def flush(step: int, evaluated: dict) -> None:
        row = {"step": step, "time_s": round(train_time, 3), "lr": lr}
        row.update({k: sum(v) / len(v) for k, v in window.items() if v})
        row.update(evaluated)
        rows.append(row)
        window.clear()

    if eval_fn is not None:
        flush(0, run_eval(0))
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, leave=True)
    step = 0
    for step in bar:
        t0 = time.perf_counter()
        if lr_schedule is not None:
            lr = float(lr_schedule(step - 1))
            for opt in optimizers:
                for g in opt.param_groups:
                    g["lr"] = lr
        batch = get_batch(step - 1)
        for prefix, fn, opt in zip(prefixes, loss_fns, optimizers):
            metrics = _as_metrics(fn(model, batch), getattr(fn, "__name__", "loss_fn"))
            loss = metrics["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss.item()} at step {step}: lower the learning "
                                         "rate or clip gradients (grad_clip=1.0)")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                params = [p for g in opt.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            for k, v in metrics.items():
                window.setdefault(prefix + k, []).append(float(v.detach()) if isinstance(v, torch.Tensor) else float(v))
        train_time += time.perf_counter() - t0
        do_eval = eval_fn is not None and ((eval_every and step % eval_every == 0) or step == steps)
        out_of_time = max_seconds is not None and train_time >= max_seconds
        if do_eval or step % log_every == 0 or step == steps or out_of_time:
            evaluated = run_eval(step) if (do_eval or (out_of_time and eval_fn is not None)) else {}
            flush(step, evaluated)
            shown = {k: f"{v:.3f}" for k, v in rows[-1].items() if k not in ("step", "time_s", "lr") and v == v}
            bar.set_postfix(shown, refresh=False)
        if out_of_time:
            break
    bar.close()
    hist = pd.DataFrame(rows)
    hist.attrs["steps_done"] = step
    hist.attrs["train_seconds"] = train_time
    return hist


def lm_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats/token) for logits (B, T, V) and targets (B, T).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (B, T, V) and targets (B, T), got {tuple(logits.shape)} and {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


@torch.no_grad()
def evaluate_lm(model: nn.Module, data: torch.Tensor, block_size: int, batch_size: int = 32,
                max_tokens: int | None = None) -> float:
    """Mean cross-entropy (nats/token) of a language model over ``data`` cut into consecutive blocks.

    Deterministic: non-overlapping windows from the start of ``data`` (each predicts ``block_size``
    tokens from at most ``block_size`` tokens of context), ``max_tokens`` limits how much is scored.
    ``model(x)`` must return logits (B, T, V) (or a tuple whose first item is the logits).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    n = len(data) - 1 if max_tokens is None else min(len(data) - 1, max_tokens)
    n_blocks = n // block_size
    if n_blocks == 0:
        raise ValueError(f"need more than {block_size} tokens to evaluate, got {len(data)}")
    starts = torch.arange(n_blocks) * block_size
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    offsets = torch.arange(block_size)
    for i in range(0, n_blocks, batch_size):
        s = starts[i:i + batch_size]
        x = data[s[:, None] + offsets]
        y = data[s[:, None] + offsets + 1]
        out = model(x)
        logits = out[0] if isinstance(out, tuple) else out
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return total / count


def nats_to_bits(nats: float) -> float:
    """Convert nats (natural-log loss) to bits: divide by ln 2.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    return nats / math.log(2)


def cosine_schedule(base_lr: float, steps: int, warmup: int = 0, min_lr: float = 0.0) -> Callable[[int], float]:
    """Linear warm-up for ``warmup`` steps, then cosine decay from ``base_lr`` to ``min_lr``.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    def lr(step: int) -> float:
        if warmup and step < warmup:
            return base_lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, steps - warmup))
        return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))
    return lr


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, corrupted or not a course checkpoint.

    Defined in: notebooks/05_text_generation.ipynb
    """


def weights_digest(state_dict) -> str:
    """SHA-256 of a state dict's names, shapes, dtypes and values (in name order).

    :func:`save_checkpoint` stores it in every checkpoint and :func:`load_checkpoint` checks it,
    so damaged weights are caught even in a file outside ``data/`` (PyTorch's zip reader does not
    check its own CRCs: overwritten bytes inside a tensor would otherwise load silently).

    Defined in: notebooks/05_text_generation.ipynb
    """
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, config: Mapping | None = None,
                    extra: Mapping | None = None) -> Path:
    """Save ``model``'s weights with its config and any extra plain data (vocabulary, metrics).

    Only tensors, numbers, strings, lists and dicts are stored, so the file loads with
    ``torch.load(..., weights_only=True)`` (no arbitrary code runs when loading).

    Defined in: notebooks/05_text_generation.ipynb
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    payload = {"format": "course_lib-checkpoint-v1", "state_dict": state, "weights_sha256": weights_digest(state),
               "config": dict(config or {}), "extra": dict(extra or {})}
    torch.save(payload, path)
    return path


def load_checkpoint(path: str | Path, model: nn.Module | None = None, verify: bool = True) -> dict:
    """Load a checkpoint saved by :func:`save_checkpoint`, safely (``weights_only=True``).

    Files inside ``data/`` are first checked against ``data/SHA256SUMS`` (``verify=True``), and the
    weights always against the :func:`weights_digest` stored with them.
    If ``model`` is given, its weights are loaded (strictly). Returns the payload dict with
    ``state_dict``, ``config`` and ``extra``. Raises :class:`CheckpointError` with a clear message.

    Defined in: notebooks/05_text_generation.ipynb
    """
    path = Path(path)
    shown = str(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {shown} is missing. The course's checkpoints are made by "
                              "`python tools/train_checkpoints.py` (or restore them with `git checkout -- data/checkpoints`).")
    if verify and path.resolve().is_relative_to(DATA_DIR.resolve()):
        rel = _relative_to_data(path)
        expected = read_checksums().get(rel)
        if expected is not None and sha256_file(path) != expected:
            raise CheckpointError(f"checkpoint data/{rel} is corrupted (its sha256 differs from data/SHA256SUMS). "
                                  f"Restore it with `git checkout -- data/{rel}` or retrain it with `python tools/train_checkpoints.py`.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types (pickle, zip, RuntimeError) for a damaged file
        reason = str(e).splitlines()[0].split(". ")[0][:160]  # torch's first sentence
        raise CheckpointError(f"checkpoint {shown} could not be read ({type(e).__name__}: {reason}). "
                              "It is corrupted or not a course checkpoint.") from e
    if not isinstance(payload, dict) or payload.get("format") != "course_lib-checkpoint-v1":
        raise CheckpointError(f"{shown} is not a course_lib checkpoint (expected a dict with format "
                              "'course_lib-checkpoint-v1', written by save_checkpoint)")
    if weights_digest(payload["state_dict"]) != payload.get("weights_sha256"):
        raise CheckpointError(f"checkpoint {shown} is corrupted: its weights do not match the checksum stored with them. "
                              "Restore it (`git checkout -- data/checkpoints`) or retrain it (`python tools/train_checkpoints.py`).")
    if model is not None:
        try:
            model.load_state_dict(payload["state_dict"])
        except RuntimeError as e:
            raise CheckpointError(f"the weights in {shown} do not fit this model: {str(e).splitlines()[0]} "
                                  f"(checkpoint config: {payload['config']})") from e
    return payload


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
