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

The fast path, each lever measured on/off by ``benchmarks/train_levers.py`` and kept only where it helped:

* ``compile=True`` runs ``loss_fn`` (the model's forward and the loss, and their backward) through
  ``torch.compile``. It needs a C++ compiler; where none is found, or compilation fails, training goes on
  without it after a one-line notice. Compiling costs tens of seconds before the first step, so only long
  runs (the checkpoint scripts) turn it on; ``COURSE_COMPILE=0`` switches it off everywhere.
* ``bf16=True`` / ``"auto"`` runs the forward pass under bfloat16 autocast; ``"auto"`` only where the CPU has
  native bfloat16 arithmetic (AVX-512-BF16 or AMX on x86, the BF16 extension on Arm), see :func:`cpu_info`.
* ``course_lib.nn_utils.make_adamw`` builds a fused AdamW (one kernel for every parameter) where PyTorch has one.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checks import check_flag, check_float, check_instance, check_int, check_path, check_tensor, check_text
from .config import DATA_DIR
from .data import _relative_to_data, read_checksums, sha256_file
from .errors import ArgumentError, ArgumentTypeError, CheckpointError
from .nn_utils import count_parameters, eval_mode  # noqa: F401  (count_parameters: re-exported)

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


def train(
    model: nn.Module,
    get_batch: Callable[[int], Any],
    loss_fn: LossFn | Sequence[LossFn],
    optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer],
    steps: int,
    *,
    eval_every: int | None = None,
    eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    grad_clip: float | None = None,
    log_every: int = 10,
    max_seconds: float | None = None,
    progress: bool = True,
    desc: str = "training",
    compile: bool = False,
    bf16: bool | str = False,
    ema: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> pd.DataFrame:
    """Train ``model`` for ``steps`` optimizer steps and return the history as a DataFrame.

    * ``eval_fn(model)`` (run every ``eval_every`` steps and after the last step, in ``eval`` mode
      under ``torch.no_grad``) returns a dict of metrics, e.g. ``{"val_loss": 1.9}``.
    * ``lr_schedule(step)`` returns the learning rate for that step (set on every parameter group).
    * ``grad_clip``: clip the global gradient norm to this value.
    * ``max_seconds``: stop early once this much wall time has passed (a compute budget).
    * Training metrics are averaged over each ``log_every`` window.
    * ``compile``: run ``loss_fn`` through ``torch.compile`` (falls back to plain PyTorch with a one-line
      notice where no C++ compiler is found or compilation fails). ``bf16``: bfloat16 autocast for the
      loss computation (``"auto"``: only where the CPU has native bfloat16, :func:`cpu_info`).
    * ``ema``: also keep an exponential moving average of the weights with this decay (Polyak averaging;
      0.9995 averages over roughly the last 2,000 steps), bias-corrected as Adam corrects its moments, so
      early averages are not pulled toward the initial weights. Evaluations score the averaged weights and
      the model ends holding them (:class:`WeightAverage`); ``history.attrs["last_step_state"]`` keeps the
      last step's own weights (a ``state_dict``) for comparison.
    * ``clock``: the clock that measures training time (``time.perf_counter``: wall time; a benchmark on a
      busy machine may pass the process's CPU time instead).

    History columns: ``step`` (optimizer steps done), ``time_s`` (seconds since start, evaluation
    time excluded), ``lr``, the averaged training metrics (``loss``, ...) and the evaluation
    metrics (NaN on rows without an evaluation). A NaN or infinite loss stops training with an
    error that says at which step.

    It trains with PyTorch's current thread count (``course_lib`` sets it to the CPUs it may use). On a
    busy machine small models train faster with one thread (``COURSE_THREADS=1``):
    ``benchmarks/small_model_threads.py`` measures it, and the README shows the table.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    loss_fns, optimizers, steps = _check_train_args(loss_fn, optimizer, steps, log_every, grad_clip, max_seconds)
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    for value, name in ((get_batch, "get_batch"), (eval_fn, "eval_fn"), (lr_schedule, "lr_schedule")):
        if not callable(value) and not (value is None and name != "get_batch"):
            raise ArgumentTypeError(f"{name} must be a function, got {type(value).__name__}")
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    check_text(desc, "desc", max_len=200)
    names = [getattr(f, "__name__", f"loss{i}") for i, f in enumerate(loss_fns)]
    runners = [_LossRunner(f, compile=compile, name=n) for f, n in zip(loss_fns, names)]
    autocast = _autocast_context(bf16)
    average = None if ema is None else WeightAverage(model, ema)
    prefixes = (
        [""] if len(loss_fns) == 1 else [f"{n}." if n != "<lambda>" else f"loss{i}." for i, n in enumerate(names)]
    )

    rows: list[dict] = []
    window: dict[str, list[float]] = {}
    train_time = 0.0
    lr = optimizers[0].param_groups[0]["lr"]

    def run_eval(step: int) -> dict:
        if eval_fn is None:
            return {}
        with eval_mode(model), torch.no_grad(), average.swapped_in() if average else nullcontext():
            metrics = eval_fn(model)
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
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not check_flag(progress, "progress"), leave=True)
    step = 0
    for step in bar:
        t0 = clock()
        if lr_schedule is not None:
            lr = float(lr_schedule(step - 1))
            for opt in optimizers:
                for g in opt.param_groups:
                    g["lr"] = lr
        batch = get_batch(step - 1)
        for prefix, runner, opt in zip(prefixes, runners, optimizers):
            metrics = runner.forward_backward(model, batch, opt, step, autocast)
            if grad_clip is not None:
                params = [p for g in opt.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            for k, v in metrics.items():
                window.setdefault(prefix + k, []).append(float(v.detach()) if isinstance(v, torch.Tensor) else float(v))
        if average is not None:
            average.update()
        train_time += clock() - t0
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
    last_step = None
    if average is not None:  # keep the last step's weights (to compare), then end holding the average
        last_step = {k: v.detach().clone() for k, v in model.state_dict().items()}
        average.copy_to_model()
    bad = [name for name, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise FloatingPointError(
            f"after step {step} these parameters hold NaN or inf: {bad[:5]}; lower the "
            "learning rate or clip gradients (grad_clip=1.0)"
        )
    hist = pd.DataFrame(rows)
    hist.attrs["steps_done"] = step
    hist.attrs["train_seconds"] = train_time
    if last_step is not None:
        hist.attrs["last_step_state"] = last_step
    return hist


class WeightAverage:
    """An exponential moving average of a model's floating-point parameters (Polyak averaging).

    After update ``t`` it holds ``Σᵢ (1−d)·d^(t−i)·θᵢ / (1 − d^t)``: the weights of the last ~``1/(1−d)``
    steps, averaged, with the bias correction Adam uses (the shadow starts at zero, so dividing by
    ``1 − d^t`` makes the weights sum to one). Averaging the last stretch of training cancels part of the
    step-to-step noise of the optimizer; on the shipped GPT's recipe it scores lower validation losses than
    the last step's weights (README, "The shipped GPT").

    Used by: course_lib/train.py
    Defined in: notebooks/05_text_generation.ipynb
    """

    def __init__(self, model: nn.Module, decay: float):
        check_instance(model, "model", nn.Module, "torch.nn.Module")
        self.decay = check_float(decay, "ema", min=0.0, max=1.0, max_open=True)
        self.params = [p for p in model.parameters() if p.is_floating_point()]
        self.shadow = [torch.zeros_like(p) for p in self.params]
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Fold the model's current weights into the average."""
        self.updates += 1
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.decay)

    @torch.no_grad()
    def averaged(self) -> list[torch.Tensor]:
        """The bias-corrected average, one tensor per parameter (the current weights before any update)."""
        if self.updates == 0:
            return [p.detach().clone() for p in self.params]
        scale = 1.0 / (1.0 - self.decay**self.updates)
        return [s * scale for s in self.shadow]

    @torch.no_grad()
    def copy_to_model(self) -> None:
        """Put the averaged weights into the model (for good)."""
        for p, a in zip(self.params, self.averaged()):
            p.copy_(a)

    @contextmanager
    def swapped_in(self):
        """Context manager: the model holds the averaged weights inside, its own weights again after."""
        with torch.no_grad():
            saved = [p.detach().clone() for p in self.params]
            self.copy_to_model()
        try:
            yield
        finally:
            with torch.no_grad():
                for p, s in zip(self.params, saved):
                    p.copy_(s)


#: train() refuses more optimizer steps than this (hours of training: pass max_seconds for a time budget).
MAX_STEPS = 1_000_000


def _check_train_args(loss_fn, optimizer, steps, log_every, grad_clip, max_seconds):
    loss_fns = list(loss_fn) if isinstance(loss_fn, (list, tuple)) else [loss_fn]
    optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer]
    if len(loss_fns) != len(optimizers):
        raise ArgumentError(
            f"got {len(loss_fns)} loss functions but {len(optimizers)} optimizers; pass one optimizer per loss"
        )
    for fn in loss_fns:
        if not callable(fn):
            raise ArgumentTypeError(f"loss_fn must be a function (model, batch) -> loss, got {type(fn).__name__}")
    for opt in optimizers:
        if not isinstance(opt, torch.optim.Optimizer):
            raise ArgumentTypeError(f"optimizer must be a torch.optim.Optimizer, got {type(opt).__name__}")
    steps = check_int(steps, "steps", min=0, max=MAX_STEPS)
    check_int(log_every, "log_every", min=1)
    if grad_clip is not None:
        check_float(grad_clip, "grad_clip", min=0.0, min_open=True)
    if max_seconds is not None:
        check_float(max_seconds, "max_seconds", min=0.0, min_open=True)
    return loss_fns, optimizers, steps


# ----------------------------------------------------------------------------- the fast path


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux: ``flags`` on x86, ``Features`` on Arm); empty elsewhere."""
    try:
        text = open("/proc/cpuinfo", encoding="utf-8", errors="replace").read()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def _cpu_model() -> str:
    try:
        text = open("/proc/cpuinfo", encoding="utf-8", errors="replace").read()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("model name", "hardware", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _native_bf16(flags: set[str], machine: str, system: str) -> bool:
    """True where the CPU multiplies bfloat16 natively, so that autocast can pay off.

    x86: AVX-512-BF16 (``avx512_bf16``) or AMX (``amx_bf16``); 64-bit Arm on Linux: the BF16 extension
    (``bf16``). Elsewhere (AVX2-only x86, macOS, unknown) False: PyTorch then emulates bfloat16, which is
    slower than float32.
    """
    machine = machine.lower()
    if machine in ("x86_64", "amd64", "i686", "x86"):
        return bool({"avx512_bf16", "amx_bf16"} & flags)
    if machine in ("aarch64", "arm64") and system == "Linux":
        return "bf16" in flags
    return False


def _find_cxx_compiler(env=None, system: str | None = None, which=shutil.which) -> str | None:
    """The C++ compiler ``torch.compile`` (Inductor) would use, or None.

    ``$CXX`` first, then g++, c++ or clang++ (cl, MSVC's compiler, on Windows).
    """
    env = os.environ if env is None else env
    system = platform.system() if system is None else system
    candidates = [env["CXX"]] if env.get("CXX") else []
    candidates += ["cl"] if system == "Windows" else ["g++", "c++", "clang++"]
    for name in candidates:
        found = which(name)
        if found:
            return found
    return None


def _compile_disabled_by_env() -> bool:
    return os.environ.get("COURSE_COMPILE", "").strip().lower() in ("0", "false", "no", "off")


def cpu_info() -> dict:
    """What this machine offers the training loop, as a dict (printed by the benchmark).

    ``cpu`` (model name), ``machine`` (architecture), ``threads`` (PyTorch intra-op threads), ``simd``
    (the vector instructions PyTorch's kernels use, e.g. ``AVX2``), ``native_bf16`` (bfloat16
    arithmetic in hardware: what ``bf16="auto"`` needs) and ``cxx_compiler`` (what ``compile=True``
    needs; None where there is none, e.g. Windows without Visual Studio's build tools).

    Defined in: notebooks/05_text_generation.ipynb
    """
    machine = platform.machine()
    flags = _cpu_flags()
    native = _native_bf16(flags, machine, platform.system())
    if not flags and machine.lower() in ("x86_64", "amd64"):  # no /proc/cpuinfo (Windows, macOS): ask PyTorch
        native = bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return {
        "cpu": _cpu_model(),
        "machine": machine,
        "threads": torch.get_num_threads(),
        "simd": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": native,
        "cxx_compiler": _find_cxx_compiler(),
    }


def _autocast_context(bf16: bool | str):
    """``torch.autocast`` to bfloat16 on the CPU when asked (``"auto"``: only with native bfloat16)."""
    if bf16 == "auto":
        bf16 = cpu_info()["native_bf16"]
    elif not isinstance(bf16, bool):
        raise ArgumentError(f"bf16 must be True, False or 'auto', got {bf16!r}")
    if not bf16:
        return nullcontext
    return lambda: torch.autocast("cpu", dtype=torch.bfloat16)


def _compile_errors() -> tuple[type[BaseException], ...]:
    import torch._dynamo.exc
    import torch._inductor.exc

    return (torch._dynamo.exc.TorchDynamoException, torch._inductor.exc.CppCompileError)


class _LossRunner:
    """Runs one loss function, forward and backward: compiled when asked and possible, plain otherwise."""

    def __init__(self, fn: LossFn, compile: bool, name: str):
        self.fn, self.name, self.compiled = fn, name, None
        if not isinstance(compile, bool):
            raise ArgumentTypeError(f"compile must be True or False, got {compile!r}")
        if not compile:
            return
        if _compile_disabled_by_env():
            _notice("COURSE_COMPILE=0 is set")
        elif _find_cxx_compiler() is None:
            _notice("torch.compile needs a C++ compiler and none was found (g++, clang++ or MSVC's cl)")
        else:
            self.compiled = torch.compile(fn)

    def _run(self, fn, model, batch, opt, step, autocast) -> dict:
        with autocast():
            metrics = _as_metrics(fn(model, batch), getattr(self.fn, "__name__", "loss_fn"))
        loss = metrics["loss"]
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the loss became {loss.item()} at step {step}: lower the learning "
                "rate or clip gradients (grad_clip=1.0)"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        return metrics

    def forward_backward(self, model, batch, opt, step, autocast) -> dict:
        """Loss and gradients for one batch (gradients left in ``.grad``); returns the metrics."""
        if self.compiled is None:
            return self._run(self.fn, model, batch, opt, step, autocast)
        try:
            return self._run(self.compiled, model, batch, opt, step, autocast)
        except _compile_errors() as e:  # compilation failed (no working compiler, unsupported code): go on without
            self.compiled = None
            _notice(f"torch.compile failed ({type(e).__name__}: {_first_line(e, 120)})")
            return self._run(self.fn, model, batch, opt, step, autocast)


def _notice(reason: str) -> None:
    print(f"Note: {reason}; training without compilation (same results, somewhat slower).", flush=True)


def lm_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats/token) for logits (B, T, V) and targets (B, T).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    check_tensor(logits, "logits", dim=3, dtype="float")
    check_tensor(targets, "targets", dtype="integer")
    if targets.shape != logits.shape[:2]:
        raise ArgumentError(
            f"expected logits (B, T, V) and targets (B, T), got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


@torch.no_grad()
def evaluate_lm(
    model: nn.Module,
    data: torch.Tensor,
    block_size: int,
    batch_size: int = 32,
    max_tokens: int | None = None,
    stride: int | None = None,
) -> float:
    """Mean cross-entropy (nats/token) of a language model over ``data`` (a 1-D tensor of token ids).

    * ``stride=None``: consecutive non-overlapping windows of ``block_size`` tokens. Cheap, but the first
      tokens of each window are predicted from little or no context.
    * ``stride=s`` (sliding window): a window starts every ``s`` tokens; the first window scores all its
      tokens, every later one only its last ``s``, so each token (after the first window) is predicted from
      at least ``block_size − s`` tokens of context. ``stride=block_size // 2`` gives every token at least
      half the model's context — the fair way to compare with an n-gram model, which always has its full
      history. Each token is scored exactly once either way.

    ``max_tokens`` limits how many tokens are scored (from the start). Deterministic. ``model(x)`` must
    return logits (B, T, V) (or a tuple whose first item is the logits).

    Defined in: notebooks/01_background_ngram.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    check_tensor(data, "data", dim=1, dtype="integer")
    block_size = check_int(block_size, "block_size", min=1)
    check_int(batch_size, "batch_size", min=1)
    n = len(data) - 1 if max_tokens is None else min(len(data) - 1, check_int(max_tokens, "max_tokens", min=1))
    if n < block_size:
        raise ArgumentError(f"need more than {block_size} tokens to evaluate, got {len(data)}")
    step = block_size if stride is None else check_int(stride, "stride", min=1, max=block_size)
    # windows [start, start + block_size); window w scores its positions >= first[w]
    starts = list(range(0, n - block_size + 1, step))
    if starts[-1] + block_size < n:  # the tail: one more window ending exactly at n
        starts.append(n - block_size)
    first = [0] + [prev + block_size - st for prev, st in zip(starts, starts[1:])]  # already-scored prefix
    total, count = 0.0, 0
    offsets = torch.arange(block_size)
    with eval_mode(model):
        for i in range(0, len(starts), batch_size):
            s = torch.tensor(starts[i : i + batch_size])
            x = data[s[:, None] + offsets]  # (B, T)
            y = data[s[:, None] + offsets + 1]  # (B, T)
            out = model(x)
            logits = out[0] if isinstance(out, tuple) else out  # (B, T, V)
            nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
            keep = offsets[None, :] >= torch.tensor(first[i : i + batch_size])[:, None]  # (B, T) not yet scored
            total += nll.view(y.shape)[keep].sum().item()
            count += int(keep.sum())
    return total / count


def nats_to_bits(nats: float) -> float:
    """Convert nats (natural-log loss) to bits: divide by ln 2.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if isinstance(nats, torch.Tensor) and nats.dim() > 0:  # element-wise, the same type back
        check_tensor(nats, "nats", dtype="float")
        return nats / math.log(2)
    if isinstance(nats, (np.ndarray, pd.Series)):
        if not np.issubdtype(nats.dtype, np.number):
            raise ArgumentTypeError(f"nats must hold numbers, got dtype {nats.dtype}")
        return nats / math.log(2)
    if isinstance(nats, torch.Tensor):
        check_float(nats, "nats")
        return nats / math.log(2)
    return check_float(nats, "nats") / math.log(2)


def cosine_schedule(base_lr: float, steps: int, warmup: int = 0, min_lr: float = 0.0) -> Callable[[int], float]:
    """Linear warm-up for ``warmup`` steps, then cosine decay from ``base_lr`` to ``min_lr``.

    Defined in: notebooks/01_background_ngram.ipynb
    """

    base_lr = check_float(base_lr, "base_lr", min=0.0)
    steps = check_int(steps, "steps", min=0)
    warmup = check_int(warmup, "warmup", min=0)
    min_lr = check_float(min_lr, "min_lr", min=0.0)

    def lr(step: int) -> float:
        if warmup and step < warmup:
            return base_lr * (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, steps - warmup))
        return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))

    return lr


CHECKPOINT_FORMAT = "course_lib-checkpoint-v2"


def _feed(h, obj, where: str) -> None:
    """Feed a checkpoint's plain data into hash ``h`` canonically; refuse what ``weights_only`` cannot load."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{tuple(t.shape)}{t.dtype}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())  # reshape: 0-dim tensors too
    elif isinstance(obj, Mapping):
        h.update(f"D{len(obj)}|".encode())
        for k in sorted(obj, key=repr):
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise CheckpointError(f"{where}: dictionary keys must be strings or integers, got {k!r}")
            _feed(h, k, where)
            _feed(h, obj[k], f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        h.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}|".encode())
        for i, v in enumerate(obj):
            _feed(h, v, f"{where}[{i}]")
    elif obj is None or isinstance(obj, (bool, int, float, str)):
        h.update(f"{type(obj).__name__}:{obj!r}|".encode())
    else:
        raise CheckpointError(
            f"{where} is a {type(obj).__name__}, which torch.load(weights_only=True) cannot "
            "load: store tensors, numbers, strings, None, lists and dicts only "
            "(convert NumPy arrays with .tolist() or torch.as_tensor, Paths with str)"
        )


def checkpoint_digest(state_dict: Mapping, config: Mapping, extra: Mapping) -> str:
    """SHA-256 of everything a checkpoint holds: weights, config and extras (vocabulary, history …).

    :func:`save_checkpoint` stores it and :func:`load_checkpoint` checks it, so one changed byte
    anywhere in the file is caught when it is loaded, not later when a decoded word comes out wrong
    (PyTorch's zip reader does not check its own CRCs). It also refuses, at save time, any value that
    ``torch.load(..., weights_only=True)`` would not load back.

    Defined in: notebooks/05_text_generation.ipynb
    """
    for value, name in ((state_dict, "state_dict"), (config, "config"), (extra, "extra")):
        check_instance(value, name, Mapping, "dict")
    h = hashlib.sha256()
    _feed(h, {"state_dict": dict(state_dict), "config": dict(config), "extra": dict(extra)}, "checkpoint")
    return h.hexdigest()


def save_checkpoint(
    path: str | Path, model: nn.Module, config: Mapping | None = None, extra: Mapping | None = None
) -> Path:
    """Save ``model``'s weights with its config and any extra plain data (vocabulary, metrics).

    Only tensors, numbers, strings, None, lists and dicts are allowed (checked here, with a message
    naming the offending entry), so the file loads with ``torch.load(..., weights_only=True)``: no
    arbitrary code runs when loading. The write is atomic (a temporary file, then a rename), so an
    interrupted save never leaves half a checkpoint behind.

    Defined in: notebooks/05_text_generation.ipynb
    """
    path = check_path(path, "path", must_exist=False)
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for value, name in ((config, "config"), (extra, "extra")):
        if value is not None:
            check_instance(value, name, Mapping, "dict")
    state = model.state_dict()
    config, extra = dict(config or {}), dict(extra or {})
    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": state,
        "config": config,
        "extra": extra,
        "sha256": checkpoint_digest(state, config, extra),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _first_line(e: Exception, limit: int = 200) -> str:
    text = " ".join(str(e).split())
    return (text[:limit] + "…") if len(text) > limit else (text or "no message")


def load_checkpoint(path: str | Path, model: nn.Module | None = None, verify: bool = True) -> dict:
    """Load a checkpoint saved by :func:`save_checkpoint`, safely (``weights_only=True``).

    Files inside ``data/`` must be listed in ``data/SHA256SUMS`` and match it (``verify=True``);
    every checkpoint is also checked against the :func:`checkpoint_digest` stored in it. If
    ``model`` is given, its weights are loaded (strictly). Returns the payload dict with
    ``state_dict``, ``config`` and ``extra``. Raises :class:`CheckpointError` with a clear message.

    Defined in: notebooks/05_text_generation.ipynb
    """
    path = check_path(path, "path", must_exist=False)
    if model is not None:
        check_instance(model, "model", nn.Module, "torch.nn.Module")
    shown = str(path)
    restore = (
        "Restore it with `git checkout -- data/checkpoints` or remake it with the script named in "
        "data/checkpoints/README.md."
    )
    if not path.exists():
        raise CheckpointError(f"checkpoint {shown} is missing. {restore}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {shown} is not a file (it is a directory or a special file)")
    if check_flag(verify, "verify") and path.resolve().is_relative_to(DATA_DIR.resolve()):
        rel = _relative_to_data(path)
        expected = read_checksums().get(rel)
        if expected is None:
            raise CheckpointError(
                f"checkpoint data/{rel} is not listed in data/SHA256SUMS, so it cannot be "
                "verified; add its line (see data/README.md)"
            )
        if sha256_file(path) != expected:
            raise CheckpointError(
                f"checkpoint data/{rel} is corrupted (its sha256 differs from data/SHA256SUMS). {restore}"
            )
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {shown} is empty (0 bytes). {restore}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types (pickle, zip, RuntimeError) for a damaged file
        raise CheckpointError(
            f"checkpoint {shown} could not be read ({type(e).__name__}: {_first_line(e)}). "
            "It is corrupted or not a course checkpoint."
        ) from e
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{shown} is not a course_lib checkpoint (expected a dict with format "
            f"{CHECKPOINT_FORMAT!r}, written by save_checkpoint)"
        )
    try:
        digest = checkpoint_digest(payload["state_dict"], payload["config"], payload["extra"])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint {shown} is incomplete or damaged ({_first_line(e)})") from e
    if digest != payload.get("sha256"):
        raise CheckpointError(
            f"checkpoint {shown} is corrupted: its contents do not match the checksum stored with them. {restore}"
        )
    if model is not None:
        try:
            model.load_state_dict(payload["state_dict"])
        except RuntimeError as e:
            raise CheckpointError(
                f"the weights in {shown} do not fit this {type(model).__name__}: {_first_line(e, 400)} "
                f"(checkpoint config: {payload['config']})"
            ) from e
    return payload
