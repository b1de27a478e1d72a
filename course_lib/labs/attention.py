"""Notebook 04's lab: the √d slider, the attention-pattern viewer, the small training runs and the exercise check.

Defined in: notebooks/04_attention.ipynb

The lessons (attention, masks, heads, the Transformer block) are in :mod:`course_lib.attention` and
:mod:`course_lib.models.gpt`; this module builds the panels, figures and experiments around them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes

from ..attention import entropy, softmax_jacobian_norm
from ..checks import check_flag, check_float, check_instance, check_int, check_seed, check_tensor, check_text
from ..data import CharTokenizer, get_lm_batch
from ..errors import ArgumentError, ArgumentTypeError
from ..nn_utils import eval_mode
from ..plots import heatmap
from ..train import cosine_schedule, evaluate_lm, lm_cross_entropy, train
from ..widgets import InputError, Panel, require_text
from .exercises import Hint, exercise


def saturation_panel(n_keys: int = 12, seed: int = 0) -> Panel:
    """Widget: a slider for the width d → one query's attention row with and without ÷√d.

    The title reports each row's entropy and softmax-Jacobian norm (the gradient size).

    Defined in: notebooks/04_attention.ipynb
    """
    n_keys = check_int(n_keys, "n_keys", min=1, max=1000)
    seed = check_seed(seed)

    def render(d: int):
        d = check_int(d, "d", max=100_000)
        if d < 1:
            raise InputError(f"d must be a positive width, got {d}")
        g = torch.Generator().manual_seed(check_seed(seed))
        q = torch.randn(1, d, generator=g, dtype=torch.float64)
        k = torch.randn(n_keys, d, generator=g, dtype=torch.float64)
        frames, info = [], {}
        for label, scale in (("÷√d", 1 / math.sqrt(d)), ("none", 1.0)):
            wts = torch.softmax((q @ k.T).squeeze(0) * scale, -1)
            info[label] = (entropy(wts).item(), softmax_jacobian_norm(wts).item())
            frames.append(pd.DataFrame({"key": np.arange(n_keys), "weight": wts.numpy(), "scaling": label}))
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        sns.barplot(data=pd.concat(frames), x="key", y="weight", hue="scaling", ax=ax)
        ax.set_ylim(0, 1)
        ax.set_ylabel("attention weight")
        (es, js), (eu, ju) = info["÷√d"], info["none"]
        ax.set_title(
            f"d={d}: entropy {es:.2f} vs {eu:.2f} nats (uniform {math.log(n_keys):.2f}); "
            f"gradient size {js:.3f} vs {ju:.3f}",
            fontsize=10,
        )
        return fig

    slider = w.SelectionSlider(options=[2**i for i in range(0, 13)], value=64, description="d", continuous_update=False)
    return Panel(
        {"d": slider}, render, title=f"Why divide by √d: one query, {n_keys} keys, with (÷√d) and without scaling"
    )


def _labels(text: str) -> list[str]:
    return ["␣" if c == " " else "⏎" if c == "\n" else c for c in text]


def head_figure(maps, text: str, layer: int, head: int, ax=None):
    """Heatmap of one head's attention on ``text``: rows are queries, columns the keys they may attend to.

    ``maps`` is a list over layers of (H, T, T) weights for ``text`` (one sequence). The title reports the
    head's mean weight on the previous character. Returns the figure.

    Defined in: notebooks/04_attention.ipynb
    """
    if not isinstance(maps, (list, tuple)) or not maps:
        raise ArgumentTypeError(f"maps must be a list over layers of (H, T, T) weights, got {type(maps).__name__}")
    for m in maps:
        check_tensor(m, "maps' items", dim=3, dtype="float")
    check_text(text, "text")
    layer = check_int(layer, "layer", min=0, max=len(maps) - 1)
    head = check_int(head, "head", min=0, max=maps[layer].size(0) - 1)
    if maps[layer].shape[1:] != (len(text), len(text)):
        raise ArgumentError(
            f"maps hold ({maps[layer].size(1)}, {maps[layer].size(2)}) weights per head, "
            f"but text has {len(text)} characters"
        )
    if ax is not None:
        check_instance(ax, "ax", Axes, "matplotlib Axes")
    a = maps[layer][head]  # (T, T)
    T = a.size(-1)
    prev = a[torch.arange(1, T), torch.arange(T - 1)].mean().item()
    labels = _labels(text)
    if ax is None:
        size = max(5.0, 0.16 * T + 1.5)
        _, ax = plt.subplots(figsize=(size + 1, size))
    heatmap(
        a,
        xticklabels=labels,
        yticklabels=labels,
        ax=ax,
        annot=False,
        vmin=0,
        vmax=1,
        xlabel="key (attended to)",
        ylabel="query (predicting the next char)",
    )
    ax.tick_params(labelsize=7)
    ax.set_title(f"layer {layer}, head {head}: mean weight on previous char {prev:.2f}", fontsize=10)
    return ax.figure


def attention_viewer_panel(model, tokenizer, passages: dict[str, str], max_chars: int = 64) -> Panel:
    """Widget: choose layer, head and passage (or type your own and press Enter) → that head's attention heatmap.

    ``model`` has ``attention_maps(idx)`` (a list over layers of (B, H, T, T)), e.g. the course's
    GPT; ``tokenizer`` is a :class:`course_lib.data.CharTokenizer`. The title reports the head's
    mean weight on the previous character. Unknown characters or an empty box raise
    :class:`InputError` (shown kindly in the panel).

    Defined in: notebooks/04_attention.ipynb
    """
    if not hasattr(model, "attention_maps"):
        raise ArgumentTypeError(
            f"model must have attention_maps(idx), e.g. the course's GPT; got {type(model).__name__}"
        )
    check_instance(tokenizer, "tokenizer", CharTokenizer)
    if not isinstance(passages, dict):
        raise ArgumentTypeError(f"passages must be a dict {{name: text}}, got {type(passages).__name__}")
    if not passages:
        raise ArgumentError("give at least one passage, e.g. {'Romeo': 'But, soft! what light ...'}")
    block = getattr(getattr(model, "config", None), "block_size", None)
    max_chars = check_int(max_chars, "max_chars", min=2)
    max_chars = max_chars if block is None else min(max_chars, block)  # the model reads at most block_size
    for name, passage in passages.items():
        check_text(name, "a passage name")
        check_text(passage, f"passages[{name!r}]")
        bad = tokenizer.unknown(passage[:max_chars])
        if bad or len(passage) < 2:
            raise ArgumentError(
                f"passages[{name!r}] must have at least two characters, all in the model's vocabulary"
                + (f"; these are not: {''.join(bad)!r}" if bad else "")
            )
    own = "(type your own)"

    @lru_cache(maxsize=32)
    def maps_for(text: str):
        with torch.no_grad():
            return [m[0] for m in model.attention_maps(torch.tensor([tokenizer.encode(text)]))]  # [(H, T, T)]

    def render(layer: int, head: int, passage: str, text: str):
        if passage == own:
            text = require_text(text, "a passage (a few words)")
        elif passage in passages:
            text = passages[passage]
        else:
            raise InputError(f"unknown passage {passage!r}; choose one of {list(passages)}")
        text = text[:max_chars]
        bad = tokenizer.unknown(text)
        if bad:
            raise InputError(f"these characters are not in the model's vocabulary: {''.join(bad)!r}")
        if len(text) < 2:
            raise InputError("type at least two characters")
        maps = maps_for(text)
        if not 0 <= layer < len(maps) or not 0 <= head < maps[0].size(0):
            raise InputError(f"layer must be 0..{len(maps) - 1} and head 0..{maps[0].size(0) - 1}")
        return head_figure(maps, text, layer, head)

    first = next(iter(passages))
    first_maps = maps_for(passages[first][:max_chars])
    n_layer, H = len(first_maps), first_maps[0].size(0)
    controls = {
        "layer": w.IntSlider(value=0, min=0, max=n_layer - 1, description="layer", continuous_update=False),
        "head": w.IntSlider(value=0, min=0, max=H - 1, description="head", continuous_update=False),
        "passage": w.Dropdown(options=list(passages) + [own], value=first, description="passage"),
        "text": w.Text(
            value="",
            placeholder="your passage, then Enter",
            description="text",
            continuous_update=False,  # redraw on Enter (or leaving the box), not on every keystroke
            layout=w.Layout(width="420px"),
        ),
    }
    return Panel(controls, render, title="Attention pattern of one head (rows: queries, columns: keys)")


# ----------------------------------------------------------------------------- the Transformer's parts, measured


def grad_norms_by_layer(model, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Gradient norm of each Transformer block's parameters for one batch (the loss on ``x`` → ``y``).

    Defined in: notebooks/04_attention.ipynb
    """
    check_instance(model, "model", torch.nn.Module, "GPT")
    check_tensor(x, "x", dim=2, dtype="integer")
    check_tensor(y, "y", dim=2, dtype="integer")
    model.zero_grad(set_to_none=True)
    lm_cross_entropy(model(x), y).backward()
    norms = []
    for block in model.blocks:
        g = [p.grad.flatten() for p in block.parameters() if p.grad is not None]
        norms.append(torch.cat(g).norm().item())
    model.zero_grad(set_to_none=True)
    return norms


@torch.no_grad()
def loss_by_position(model, ids: torch.Tensor, T: int, n_windows: int = 64) -> torch.Tensor:
    """Mean next-token loss (nats) at each position 0 … T − 1 of ``n_windows`` evenly spaced windows of ``ids``.

    Position t is predicted from the t tokens before it in its window: the curve shows how a model uses
    (or fails to use) its context, and what happens at positions beyond the longest it was trained on.

    Defined in: notebooks/04_attention.ipynb
    """
    check_instance(model, "model", torch.nn.Module, "GPT")
    check_tensor(ids, "ids", dim=1, dtype="integer")
    T = check_int(T, "T", min=1)
    n_windows = check_int(n_windows, "n_windows", min=1, max=100_000)
    if len(ids) < T + 2:
        raise ArgumentError(f"ids has {len(ids)} tokens; windows of T={T} need at least {T + 2}")
    starts = torch.linspace(0, len(ids) - T - 2, n_windows).long()  # (N,)
    offsets = torch.arange(T)
    x, y = ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]  # (N, T)
    with eval_mode(model):
        logits = model(x)  # (N, T, V)
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
    return nll.view(y.shape).mean(0)  # (T,)


# ----------------------------------------------------------------------------- small training harnesses


MAX_STEPS = 100_000  # training steps of one run at most (the notebook's longest run takes 200)
MAX_CONTEXT = 4096  # training and evaluation windows at most


def train_gpt(
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    *,
    steps: int,
    batch_tokens: int = 1024,
    context=64,
    lr: float = 3e-3,
    warmup: int = 20,
    min_lr: float | None = None,
    weight_decay: float = 0.1,
    eval_every: int | None = None,
    eval_tokens: int = 8192,
    eval_context: int | None = None,
    seed: int = 0,
    desc: str = "GPT",
    progress: bool = True,
    **config,
):
    """Train a small :class:`~course_lib.models.gpt.GPT` on character ids; return ``(model, history)``.

    ``context`` is the training window (an int) or a function ``step → window`` (a sequence-length
    warm-up); each batch holds about ``batch_tokens`` characters (``batch_tokens // window`` windows).
    ``config`` goes to :class:`~course_lib.models.gpt.GPTConfig` (``block_size`` defaults to the largest
    window). AdamW, warm-up + cosine decay to ``min_lr`` (default ``lr / 10``), gradient clipping at 1.
    ``val_loss`` is measured every ``eval_every`` steps on the first ``eval_tokens`` validation characters
    with windows of ``eval_context`` (default: the model's ``block_size``) and a stride of half of it.

    Defined in: notebooks/04_attention.ipynb
    """
    from ..models.gpt import GPT, GPTConfig

    steps = check_int(steps, "steps", min=0, max=MAX_STEPS)
    batch_tokens = check_int(batch_tokens, "batch_tokens", min=1, max=1 << 20)
    lr = check_float(lr, "lr", min=0.0, max=10.0, min_open=True)
    warmup = check_int(warmup, "warmup", min=0)
    if min_lr is not None:
        check_float(min_lr, "min_lr", min=0.0, max=lr)
    weight_decay = check_float(weight_decay, "weight_decay", min=0.0)
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    eval_tokens = check_int(eval_tokens, "eval_tokens", min=1)
    check_text(desc, "desc")
    check_flag(progress, "progress")
    check_tensor(train_ids, "train_ids", dim=1, dtype="integer")
    check_tensor(val_ids, "val_ids", dim=1, dtype="integer")
    if not callable(context):
        check_int(context, "context", min=1, max=MAX_CONTEXT)
    if eval_context is not None:
        check_int(eval_context, "eval_context", min=1, max=MAX_CONTEXT)
    if not len(train_ids) or not len(val_ids) or int(min(train_ids.min(), val_ids.min())) < 0:
        raise ArgumentError("train_ids and val_ids must be non-empty and hold token ids ≥ 0")
    window = context if callable(context) else (lambda step: context)
    config.setdefault("block_size", max(window(s) for s in range(steps)) if steps else window(0))
    config.setdefault("vocab_size", int(max(train_ids.max(), val_ids.max())) + 1)
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    model = GPT(GPTConfig(**config))
    opt = model.configure_optimizer(lr=lr, weight_decay=weight_decay)
    ctx = eval_context or model.config.block_size

    seen = [0]

    def get_batch(step):
        T = window(step)
        x, y = get_lm_batch(train_ids, T, max(1, batch_tokens // T), generator=generator)  # (B, T)
        seen[0] += x.numel()
        return x, y

    def loss_fn(model, batch):
        x, y = batch
        return lm_cross_entropy(model(x), y)

    def eval_fn(model):
        return {"val_loss": evaluate_lm(model, val_ids, ctx, max_tokens=eval_tokens, stride=max(1, ctx // 2))}

    history = train(
        model,
        get_batch,
        loss_fn,
        opt,
        steps,
        eval_every=eval_every or max(1, steps // 5),
        eval_fn=eval_fn,
        lr_schedule=cosine_schedule(lr, steps, warmup=warmup, min_lr=lr / 10 if min_lr is None else min_lr),
        grad_clip=1.0,
        log_every=max(1, min(25, steps // 10)),
        progress=progress,
        desc=desc,
    )
    history.attrs["tokens"] = seen[0]
    return model, history


class SequenceWarmup:
    """Training windows that grow from ``start`` to ``block_size`` characters by steps of ``start``.

    ``SequenceWarmup(256, steps=1200)(step)`` is 32 at first and 256 from 7/16 of the steps on (Li et al.
    2022, "The stability-efficiency dilemma": short sequences first).

    Defined in: notebooks/04_attention.ipynb
    """

    def __init__(self, block_size: int, steps: int, start: int = 32):
        self.block_size = check_int(block_size, "block_size", min=1)
        self.steps = check_int(steps, "steps", min=1)
        self.start = check_int(start, "start", min=1)

    def __call__(self, step: int) -> int:
        return min(self.block_size, self.start * (1 + 16 * step // self.steps))


#: The recipes compared in notebook 04 (shortened there) and in ``tools/context_ablation_04.py`` (full size):
#: notebook 04's GPT recipe and notebook 05's (``char_lm.RECIPES["gpt"]``), each with the other's context.
CONTEXT_RECIPES = {
    "04": dict(context=SequenceWarmup(256, 1000), batch_tokens=1024, steps=1000, lr=3e-3, warmup=100, min_lr=3e-4),
    "04, context 64": dict(context=64, batch_tokens=1024, steps=1000, lr=3e-3, warmup=100, min_lr=3e-4),
    "05": dict(context=64, batch_tokens=768, steps=700, lr=5e-3, warmup=50, min_lr=1e-4),
    "05, context 256": dict(context=256, batch_tokens=768, steps=700, lr=5e-3, warmup=50, min_lr=1e-4),
}


# ----------------------------------------------------------------------------- the exercise


def _layer0_by_hand_wrong(model, ids):  # a plausible mistake: the scores are not divided by √d
    from ..attention import causal_mask

    block, H = model.blocks[0], model.config.n_head
    d = model.config.n_embd // H
    h = block.ln1(model._embed(ids, 0))
    q, k = block.attn.q_proj(h), block.attn.k_proj(h)
    out = []
    for i in range(H):
        s = q[..., i * d : (i + 1) * d] @ k[..., i * d : (i + 1) * d].transpose(-2, -1)
        out.append(torch.softmax(s.masked_fill(~causal_mask(ids.size(1)), float("-inf")), -1))
    return torch.stack(out, 1)


@exercise(
    "04.1",
    "a function layer0_attention(model, ids) that recomputes, from the weights of model.blocks[0], the attention "
    "weights of every head of layer 0 for ids (B, T): a tensor (B, H, T, T)",
    wrong=lambda: _layer0_by_hand_wrong,
)
def _check_layer0_attention(answer):
    from ..models.gpt import GPT, GPTConfig

    if not callable(answer):
        raise Hint("layer0_attention must be a function: def layer0_attention(model, ids): ...")
    for seed, (n_head, n_embd, T) in enumerate(((2, 16, 7), (4, 32, 12))):
        torch.manual_seed(100 + seed)
        model = GPT(GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=n_head, n_embd=n_embd))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.3)  # weights far from the initialisation: every step shows
        ids = torch.randint(0, 11, (2, T), generator=torch.Generator().manual_seed(check_seed(seed)))
        with torch.no_grad():
            got = answer(model, ids)
            want = model.attention_maps(ids)[0]
        got = torch.as_tensor(got)
        if got.shape != want.shape:
            raise Hint(f"Expected shape (B, H, T, T) = {tuple(want.shape)}, got {tuple(got.shape)}.")
        if not torch.allclose(got, want, atol=1e-5):
            if torch.allclose(got.sum(-1), torch.ones_like(got.sum(-1)), atol=1e-4):
                raise Hint(
                    "Each row sums to 1 but the weights differ: check the token + position embedding, ln1, the "
                    "slice of each head, the division by √(head size) and the causal mask."
                )
            raise Hint("Each row of attention weights must be a softmax over the keys (it sums to 1).")
