"""Notebook 05's lab: the sampling panel (model, prompt, strategy, temperature, k, p, length, seed → text).

Defined in: notebooks/05_text_generation.ipynb

The sampler and the generation loop it drives are lessons in :mod:`course_lib.generate`.
"""

from __future__ import annotations

import ipywidgets as w

from ..checks import MAX_SEED
from ..errors import ArgumentError
from ..generate import STRATEGIES, generate_text
from ..widgets import InputError, Panel


def render_generation(
    models: dict,
    tokenizer,
    model: str,
    prompt: str,
    strategy: str,
    temperature: float,
    top_k: int,
    top_p: float,
    length: int,
    seed: int = 0,
) -> str:
    """Widget logic: generated text for the chosen model and settings (raises ``InputError`` on bad input).

    Defined in: notebooks/05_text_generation.ipynb
    """
    if model not in models:
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(models)}.")
    if strategy not in STRATEGIES:
        raise InputError(f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    if strategy != "greedy" and not temperature > 0:
        raise InputError("Temperature must be above 0 for sampling (greedy is the T → 0 limit: pick 'greedy').")
    if not 1 <= int(length) <= 2000:
        raise InputError(f"Length must be between 1 and 2000 characters, got {length}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED:,}; got {seed!r}.")
    return generate_text(models[model], tokenizer, prompt, int(length), strategy, temperature, top_k, top_p, seed)


def sampling_panel(models: dict, tokenizer, prompt: str = "ROMEO:", length: int = 200):
    """A :class:`~course_lib.widgets.Panel`: model, prompt, strategy, temperature, k, p, length, seed → text.

    ``models`` maps a display name to a model with ``forward_step`` (e.g. ``{"GPT": gpt, "LSTM": lstm}``).

    Defined in: notebooks/05_text_generation.ipynb
    """
    if not models:
        raise ArgumentError('sampling_panel needs at least one model, e.g. {"GPT": gpt}')
    style = {"description_width": "initial"}
    controls = {
        "model": w.Dropdown(options=list(models), description="model"),
        "prompt": w.Text(value=prompt, description="prompt", continuous_update=False),
        "strategy": w.Dropdown(options=list(STRATEGIES), value="top-p", description="strategy"),
        "temperature": w.FloatSlider(
            value=0.8, min=0.05, max=2.0, step=0.05, description="temperature", continuous_update=False, style=style
        ),
        "top_k": w.IntSlider(value=10, min=1, max=tokenizer.vocab_size, description="k", continuous_update=False),
        "top_p": w.FloatSlider(value=0.9, min=0.05, max=1.0, step=0.05, description="p", continuous_update=False),
        "length": w.IntSlider(value=length, min=10, max=1000, step=10, description="length", continuous_update=False),
        "seed": w.IntText(value=0, description="seed"),
    }

    def render(**values):
        return render_generation(models, tokenizer, **values)

    return Panel(controls, render, title="Sample from a character language model")
