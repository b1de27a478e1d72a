"""Notebook 04's lab: the √d slider and the attention-pattern viewer.

Defined in: notebooks/04_attention.ipynb

The lessons (attention, masks, heads, the Transformer block) are in :mod:`course_lib.attention` and
:mod:`course_lib.models.gpt`; this module only builds the interactive panels around them.
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

from ..attention import entropy, softmax_jacobian_norm
from ..plots import heatmap
from ..widgets import InputError, Panel, require_text


def saturation_panel(n_keys: int = 12, seed: int = 0) -> Panel:
    """Widget: a slider for the width d → one query's attention row with and without ÷√d.

    The title reports each row's entropy and softmax-Jacobian norm (the gradient size).

    Defined in: notebooks/04_attention.ipynb
    """

    def render(d: int):
        d = int(d)
        if d < 1:
            raise InputError(f"d must be a positive width, got {d}")
        g = torch.Generator().manual_seed(seed)
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


def attention_viewer_panel(model, tokenizer, passages: dict[str, str], max_chars: int = 64) -> Panel:
    """Widget: choose layer, head and passage (or type your own) → that head's attention heatmap.

    ``model`` has ``attention_maps(idx)`` (a list over layers of (B, H, T, T)), e.g. the course's
    GPT; ``tokenizer`` is a :class:`course_lib.data.CharTokenizer`. The title reports the head's
    mean weight on the previous character. Unknown characters or an empty box raise
    :class:`InputError` (shown kindly in the panel).

    Defined in: notebooks/04_attention.ipynb
    """
    if not passages:
        raise ValueError("give at least one passage, e.g. {'Romeo': 'But, soft! what light ...'}")
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
        a = maps[layer][head]  # (T, T)
        prev = a[torch.arange(1, len(text)), torch.arange(len(text) - 1)].mean().item()
        labels = [repr(c)[1:-1] if c in " \n" else c for c in text]
        labels = ["␣" if c == " " else c for c in labels]
        size = max(5.0, 0.16 * len(text) + 1.5)
        fig, ax = plt.subplots(figsize=(size + 1, size))
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
        return fig

    first = next(iter(passages))
    first_maps = maps_for(passages[first][:max_chars])
    n_layer, H = len(first_maps), first_maps[0].size(0)
    controls = {
        "layer": w.IntSlider(value=0, min=0, max=n_layer - 1, description="layer", continuous_update=False),
        "head": w.IntSlider(value=0, min=0, max=H - 1, description="head", continuous_update=False),
        "passage": w.Dropdown(options=list(passages) + [own], value=first, description="passage"),
        "text": w.Text(value="", placeholder="your own passage (choose '(type your own)')", description="text"),
    }
    return Panel(controls, render, title="Attention pattern of one head (rows: queries, columns: keys)")
