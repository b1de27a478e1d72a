"""Scaling laws in miniature: train GPTs of several sizes, count their compute, fit a power law.

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

Kaplan et al. (2020, "Scaling Laws for Neural Language Models") found that a Transformer language
model's loss falls as a power of its size when data and compute are not the bottleneck,
L(N) ≈ (N_c / N)^α_N, and Hoffmann et al. (2022, "Training Compute-Optimal Large Language Models",
"Chinchilla") that, for a fixed compute budget C ≈ 6·N·D, parameters N and tokens D should grow
together. This module holds the recipe of the course's small study and the fit:

* :data:`SIZES` — the GPT sizes (``n_layer``, ``n_head``, ``n_embd``); :data:`SCALING_RECIPE` — one
  training recipe for all of them (same batch, context, learning-rate schedule);
* :func:`train_gpt_tokens` — trains one size for a token budget with ``course_lib.train.train`` and
  counts its training FLOPs with ``course_lib.perf.flops_per_token`` (forward + backward, 6·N + 12·L·T·d);
* :func:`fit_power_law` — least squares on log–log axes, the exponent with a t-interval, and an
  optional irreducible loss ``offset`` (L = offset + a·x^(−α));
* :func:`fit_power_law_with_floor` — the offset chosen by least squares too (a profile over a grid),
  to show how much an extrapolation depends on a term the data barely constrain.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .checks import check_flag, check_float, check_instance, check_int, check_recipe, check_seed, check_tensor
from .data import get_lm_batch
from .errors import ArgumentError, ArgumentTypeError
from .models.gpt import GPT, GPTConfig
from .perf import flops_per_token
from .train import cosine_schedule, evaluate_lm, lm_cross_entropy, train

#: The sizes of the study: (n_layer, n_head, n_embd), smallest first; about 4 thousand to 0.8 million parameters.
SIZES: tuple[dict, ...] = (
    {"n_layer": 1, "n_head": 2, "n_embd": 16},
    {"n_layer": 2, "n_head": 2, "n_embd": 32},
    {"n_layer": 2, "n_head": 4, "n_embd": 48},
    {"n_layer": 3, "n_head": 4, "n_embd": 64},
    {"n_layer": 4, "n_head": 4, "n_embd": 96},
    {"n_layer": 4, "n_head": 4, "n_embd": 128},
)

#: One recipe for every size: same characters per step, same context, same schedule shape.
SCALING_RECIPE: dict = {
    "block_size": 64,
    "batch_size": 16,
    "tokens": 614_400,  # 600 steps × 16 × 64: about 0.6 of a pass over the training text
    "lr": 4e-3,
    "min_lr": 1e-4,
    "warmup": 50,
    "weight_decay": 0.1,
    "grad_clip": 1.0,
}


def size_name(size: dict) -> str:
    """A short label for a size, e.g. ``"L4·d128"``.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    _check_size(size)
    return f"L{size['n_layer']}·d{size['n_embd']}"


def _check_size(size) -> dict:
    check_instance(size, "size", dict)
    if not {"n_layer", "n_embd"} <= set(size) or not set(size) <= {"n_layer", "n_head", "n_embd"}:
        raise ArgumentError(f"size must set n_layer, n_embd (and n_head), as in SIZES; got {sorted(size)}")
    return size


def training_flops(model: GPT, tokens: int) -> float:
    """Training FLOPs of ``model`` for ``tokens`` tokens: tokens × :func:`course_lib.perf.flops_per_token`.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", GPT)
    tokens = check_int(tokens, "tokens", min=0)
    c = model.config
    return float(tokens) * flops_per_token(model, c.n_layer, c.block_size, c.n_embd)


#: The most training characters train_gpt_tokens accepts (a thousand times Tiny Shakespeare; days on a CPU).
MAX_TOKENS = 10**9


def train_gpt_tokens(
    size: dict,
    tokens: int,
    data,
    seed: int = 0,
    recipe: dict | None = None,
    eval_every: int | None = None,
    eval_tokens: int = 16384,
    progress: bool = True,
):
    """Train a GPT of ``size`` on ``tokens`` training characters; return ``(model, history, info)``.

    ``data`` is ``(tokenizer, train_ids, val_ids)`` (``char_lm.shakespeare_char_data()``). The number
    of steps is ``tokens // (batch_size × block_size)``; the cosine schedule spans exactly those steps.
    ``info`` holds the parameter counts (all, and without the embeddings as Kaplan et al. count them),
    FLOPs per token and in total, the training seconds and the final validation loss on the whole
    validation text.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    _check_size(size)
    recipe = check_recipe(recipe, SCALING_RECIPE)
    tokens = check_int(tokens, "tokens", min=1, max=MAX_TOKENS)
    seed = check_seed(seed)
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    check_int(eval_tokens, "eval_tokens", min=1)
    if not isinstance(data, (tuple, list)) or len(data) != 3:
        raise ArgumentTypeError(f"data must be (tokenizer, train_ids, val_ids), got {type(data).__name__}")
    for name, ids in (("data[1] (train_ids)", data[1]), ("data[2] (val_ids)", data[2])):
        check_tensor(ids, name, dim=1, dtype="integer")
    B, T = recipe["batch_size"], recipe["block_size"]
    steps = tokens // (B * T)
    if steps < 1:
        raise ArgumentError(f"tokens={tokens} is less than one batch ({B} × {T} = {B * T} characters)")
    tok, train_ids, val_ids = data
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=T, dropout=0.0, bias=False, **size))
    optimizer = model.configure_optimizer(lr=recipe["lr"], weight_decay=recipe["weight_decay"])

    def get_batch(step):
        return get_lm_batch(train_ids, T, B, generator=generator)  # x, y: (B, T)

    def loss_fn(model, batch):
        x, y = batch
        return lm_cross_entropy(model(x), y)  # logits (B, T, V) vs targets (B, T)

    def eval_fn(model):
        return {"val_loss": evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=eval_tokens)}

    every = eval_every or max(1, steps // 8)
    hist = train(
        model,
        get_batch,
        loss_fn,
        optimizer,
        steps,
        eval_every=every,
        eval_fn=eval_fn,
        lr_schedule=cosine_schedule(
            recipe["lr"], steps, warmup=min(recipe["warmup"], steps // 2), min_lr=recipe["min_lr"]
        ),
        grad_clip=recipe["grad_clip"],
        log_every=max(1, every // 4),
        progress=progress,
        desc=f"{size_name(size)} ({model.num_params():,} params)",
    )
    t0 = time.perf_counter()
    val = evaluate_lm(model, val_ids, T, batch_size=64)
    done = hist.attrs["steps_done"] * B * T
    info = {
        "size": size_name(size),
        **size,
        "params": model.num_params(),
        "params_non_embedding": model.num_params(non_embedding=True),
        "flops_per_token": flops_per_token(model, size["n_layer"], T, size["n_embd"]),
        "tokens": done,
        "flops": training_flops(model, done),
        "steps": hist.attrs["steps_done"],
        "train_seconds": round(hist.attrs["train_seconds"], 2),
        "val_loss": val,
        "eval_seconds": round(time.perf_counter() - t0, 2),
        "seed": seed,
        "threads": torch.get_num_threads(),
        "recipe": recipe,
    }
    return model, hist, info


@dataclass
class PowerLawFit:
    """A fitted L(x) = offset + a·x^(−alpha), with a confidence interval for ``alpha``.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """

    a: float
    alpha: float
    alpha_low: float
    alpha_high: float
    offset: float = 0.0
    confidence: float = 0.95
    r2: float = math.nan
    n_points: int = 0
    residual_std: float = math.nan  # standard deviation of the residuals of log(y − offset)
    log_a_se: float = math.nan
    alpha_se: float = math.nan
    x_mean_log: float = math.nan
    sxx: float = math.nan
    t_crit: float = math.nan
    extra: dict = field(default_factory=dict)

    def predict(self, x) -> np.ndarray:
        """The fitted curve at ``x`` (NumPy array out)."""
        x = np.asarray(x, dtype=float)
        return self.offset + self.a * x ** (-self.alpha)

    def predict_interval(self, x) -> tuple[np.ndarray, np.ndarray]:
        """A pointwise confidence band for the fitted curve (not for a new run) at ``x``.

        The band of the regression line in log–log space, mapped back; it grows with the distance of
        log x from the data's centre, which is what makes extrapolation uncertain even when the law holds.
        """
        lx = np.log(np.asarray(x, dtype=float))
        se = self.residual_std * np.sqrt(1 / self.n_points + (lx - self.x_mean_log) ** 2 / self.sxx)
        centre = math.log(self.a) - self.alpha * lx
        return (
            self.offset + np.exp(centre - self.t_crit * se),
            self.offset + np.exp(centre + self.t_crit * se),
        )


def _check_xy(x, y, offset: float):
    try:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"x and y must be sequences of numbers, got {type(x).__name__} and {type(y).__name__}"
        ) from None
    if x.ndim != 1 or x.shape != y.shape:
        raise ArgumentError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if len(x) < 3:
        raise ArgumentError(f"a power-law fit with an interval needs at least 3 points, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()) or (x <= 0).any():
        raise ArgumentError("x must be positive and x, y finite")
    if (y <= offset).any():
        raise ArgumentError(f"every y must exceed offset={offset} (the loss floor); the smallest y is {y.min():.4g}")
    return x, y


def fit_power_law(x, y, offset: float = 0.0, confidence: float = 0.95) -> PowerLawFit:
    """Fit y = offset + a·x^(−α) by least squares on log(y − offset) against log x.

    The slope's standard error gives a t-interval for α with n − 2 degrees of freedom (the usual
    regression interval: it assumes independent, equal-variance errors on the log scale, and it is
    conditional on ``offset``).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from scipy import stats

    offset = check_float(offset, "offset")
    confidence = check_float(confidence, "confidence", min=0.0, max=1.0, min_open=True, max_open=True)
    x, y = _check_xy(x, y, offset)
    lx, ly = np.log(x), np.log(y - offset)
    n = len(x)
    mx = lx.mean()
    sxx = float(((lx - mx) ** 2).sum())
    if sxx == 0:
        raise ArgumentError("all x are equal: a slope cannot be fitted")
    slope = float(((lx - mx) * (ly - ly.mean())).sum() / sxx)
    intercept = float(ly.mean() - slope * mx)
    resid = ly - (intercept + slope * lx)
    ss_res = float((resid**2).sum())
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    s = math.sqrt(ss_res / (n - 2))
    se_slope = s / math.sqrt(sxx)
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 2))
    alpha = -slope
    return PowerLawFit(
        a=math.exp(intercept),
        alpha=alpha,
        alpha_low=alpha - t * se_slope,
        alpha_high=alpha + t * se_slope,
        offset=offset,
        confidence=confidence,
        r2=1 - ss_res / ss_tot if ss_tot > 0 else math.nan,
        n_points=n,
        residual_std=s,
        log_a_se=s * math.sqrt(1 / n + mx**2 / sxx),
        alpha_se=se_slope,
        x_mean_log=float(mx),
        sxx=sxx,
        t_crit=t,
    )


MAX_GRID = 10_000  # floors tried by the two fits below (one least-squares fit each)


def fit_power_law_with_floor(x, y, grid: int = 400, confidence: float = 0.95) -> PowerLawFit:
    """Fit y = E + a·x^(−α) with the floor E chosen too: the E in [0, min y) with the smallest squared error.

    For each E on a grid the model is linear in log–log space (:func:`fit_power_law`); the E whose fit
    has the least squared error in y is kept. The interval for α is conditional on that E, so it is
    too narrow; the point of this fit is to compare its extrapolation with the pure power law's.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    grid = check_int(grid, "grid", min=2, max=MAX_GRID)
    confidence = check_float(confidence, "confidence", min=0.0, max=1.0, min_open=True, max_open=True)
    x, y = _check_xy(x, y, 0.0)
    best, best_sse = None, math.inf
    for e in np.linspace(0.0, float(y.min()), grid, endpoint=False):
        f = fit_power_law(x, y, offset=float(e), confidence=confidence)
        sse = float(((f.predict(x) - y) ** 2).sum())
        if sse < best_sse:
            best, best_sse = f, sse
    best.extra["sse"] = best_sse
    return best


def save_gpt_set(path, models: dict, extra: dict | None = None, half: bool = True):
    """Save several GPTs in one checkpoint (an ``nn.ModuleDict``), in float16 when ``half`` (half the bytes).

    ``models`` maps a name (letters, digits, ``_``) to a :class:`~course_lib.models.gpt.GPT`; their
    configs are stored so :func:`load_gpt_set` can rebuild them. Call :func:`round_to_half` on the
    models *before* measuring anything, so what is measured is what is shipped.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: tools/train_scale_privacy_models.py
    """
    from dataclasses import asdict

    from torch import nn

    from .train import save_checkpoint

    if not isinstance(models, dict) or not models or not all(isinstance(m, GPT) for m in models.values()):
        raise ArgumentTypeError(f"models must map names to GPT models, got {models!r:.60}")
    if not all(isinstance(k, str) and k.isidentifier() for k in models):
        raise ArgumentError(f"the names of models must be letters, digits and _, got {list(models)!r:.60}")
    if extra is not None:
        check_instance(extra, "extra", dict)
    half = check_flag(half, "half")
    bundle = nn.ModuleDict(models)
    if half:
        bundle = bundle.half()
    configs = {name: asdict(m.config) for name, m in models.items()}
    out = save_checkpoint(
        path, bundle, config={"configs": configs, "dtype": "float16" if half else "float32"}, extra=extra
    )
    if half:
        bundle.float()
    return out


def round_to_half(model: GPT) -> GPT:
    """Round every weight to float16 and back (in place): the model then equals its float16 checkpoint.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    Used by: tools/train_scale_privacy_models.py
    """
    check_instance(model, "model", torch.nn.Module, "torch.nn.Module")
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def load_gpt_set(path, verify: bool = True) -> tuple[dict, dict]:
    """Load a checkpoint written by :func:`save_gpt_set`: ``({name: GPT in float32, eval mode}, extra)``.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from torch import nn

    from .errors import CheckpointError
    from .train import load_checkpoint

    payload = load_checkpoint(path, verify=verify)
    configs = payload["config"].get("configs")
    if not isinstance(configs, dict):
        raise CheckpointError(f"{path} is a course checkpoint but not a set of GPTs (no 'configs' entry)")
    bundle = nn.ModuleDict({name: GPT(GPTConfig(**cfg)) for name, cfg in configs.items()})
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    try:
        bundle.load_state_dict(state)
    except RuntimeError as e:
        raise CheckpointError(f"the weights in {path} do not fit the stored configs: {str(e).splitlines()[0]}") from e
    bundle.eval()
    return dict(bundle.items()), payload["extra"]


def plausible_floors(x, y, grid: int = 400, confidence: float = 0.95) -> tuple[float, float]:
    """The range of floors E the data cannot rule out: ``(E_low, E_high)`` for L = E + a·x^(−α).

    For each E on a grid in [0, min y) the power law is fitted (:func:`fit_power_law`) and its squared
    error in y computed; a floor is kept when adding it as a free parameter does not significantly improve
    on it (the F-test for one extra parameter: SSE(E) ≤ SSE_min · (1 + F(1, n − 3) / (n − 3))). With few
    noisy points the range is wide, and every E in it gives another extrapolation.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from scipy import stats

    grid = check_int(grid, "grid", min=2, max=MAX_GRID)
    confidence = check_float(confidence, "confidence", min=0.0, max=1.0, min_open=True, max_open=True)
    x, y = _check_xy(x, y, 0.0)
    if len(x) < 4:
        raise ArgumentError(f"a floor and a power law need at least 4 points, got {len(x)}")
    floors = np.linspace(0.0, float(y.min()), grid, endpoint=False)
    sse = np.array([float(((fit_power_law(x, y, offset=float(e)).predict(x) - y) ** 2).sum()) for e in floors])
    n = len(x)
    limit = sse.min() * (1 + float(stats.f.ppf(confidence, 1, n - 3)) / (n - 3))
    kept = floors[sse <= limit]
    return float(kept.min()), float(kept.max())
