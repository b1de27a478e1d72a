"""Notebook 01's lab: the n-gram sampler panel (order, temperature, prompt → sampled Shakespeare).

Defined in: notebooks/01_background_ngram.ipynb
"""

from __future__ import annotations

import ipywidgets as w

from ..ngram import ngram_sample_text
from ..widgets import Panel


def ngram_sampler_panel(models: dict, tokenizer):
    """A widget: choose the order n, the temperature, a prompt and a length; read the sample.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    orders = sorted(models)
    controls = {
        "prompt": w.Text(value="ROMEO:\n", description="prompt", continuous_update=False),
        "n": w.SelectionSlider(options=orders, value=orders[len(orders) // 2], description="order n"),
        "temperature": w.FloatSlider(
            value=1.0, min=0.1, max=2.0, step=0.1, description="temperature", continuous_update=False
        ),
        "length": w.IntSlider(value=200, min=20, max=600, step=20, description="length", continuous_update=False),
        "seed": w.IntText(value=0, description="seed"),
    }
    return Panel(
        controls, lambda **v: ngram_sample_text(models, tokenizer, **v), title="Sample from a character n-gram model"
    )
