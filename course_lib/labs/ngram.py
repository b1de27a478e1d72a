"""Notebook 01's lab: the n-gram sampler panel and the check of the add-one exercise.

Defined in: notebooks/01_background_ngram.ipynb
"""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np

from ..checks import check_instance, check_int
from ..data import CharTokenizer
from ..errors import ArgumentTypeError
from ..ngram import KneserNeyLM, ngram_sample_text
from ..widgets import Panel
from .exercises import Hint, exercise


def ngram_sampler_panel(models: dict, tokenizer):
    """A widget: choose the order n, the temperature, a prompt and a length; read the sample.

    Defined in: notebooks/01_background_ngram.ipynb
    """
    if not isinstance(models, dict) or not models:
        raise ArgumentTypeError(
            f"models must be a non-empty dict {{order n: KneserNeyLM}}, got {type(models).__name__}"
        )
    for n, model in models.items():
        check_int(n, "an order n of models", min=1)
        check_instance(model, f"models[{n}]", KneserNeyLM)
    check_instance(tokenizer, "tokenizer", CharTokenizer)
    orders = sorted(models)
    controls = {
        "prompt": w.Text(value="ROMEO:\n", description="prompt", continuous_update=False),
        "n": w.SelectionSlider(options=orders, value=orders[len(orders) // 2], description="order n"),
        "temperature": w.FloatSlider(
            value=1.0, min=0.1, max=2.0, step=0.1, description="temperature", continuous_update=False
        ),
        "length": w.IntSlider(value=200, min=20, max=600, step=20, description="length", continuous_update=False),
        "seed": w.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed"),
    }
    return Panel(
        controls, lambda **v: ngram_sample_text(models, tokenizer, **v), title="Sample from a character n-gram model"
    )


# ----------------------------------------------------------------------------------------------
# Exercise 01.1: add-one smoothing, measured for n = 2 … 6
# ----------------------------------------------------------------------------------------------
def _add_one_bits(train_ids, val_ids, n: int, vocab_size: int, extra: float = 1.0, bits: bool = True) -> float:
    """Reference: add-``extra`` n-gram model scored on validation positions n − 1 … end (bits or nats/char)."""
    tr, va = np.asarray(train_ids, dtype=np.int64), np.asarray(val_ids, dtype=np.int64)

    def codes(a):  # the n-gram ending at each position i >= n - 1, packed into one integer
        m = len(a) - n + 1
        c = np.zeros(m, dtype=np.int64)
        for j in range(n):
            c = c * vocab_size + a[j : j + m]
        return c

    grams, counts = np.unique(codes(tr), return_counts=True)
    ctx_of_gram = grams // vocab_size
    ctx, start = np.unique(ctx_of_gram, return_index=True)
    ctx_counts = np.add.reduceat(counts, start)
    q = codes(va)

    def lookup(keys, values, query):
        i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.where(keys[i] == query, values[i], 0)

    p = (lookup(grams, counts, q) + extra) / (lookup(ctx, ctx_counts, q // vocab_size) + extra * vocab_size)
    nats = float(-np.log(p).mean())
    return nats / math.log(2) if bits else nats


def _hidden_cases():
    rng = np.random.default_rng(2024)
    for n, V in ((1, 4), (2, 5), (3, 5), (4, 3), (3, 7)):
        p = rng.dirichlet(np.full(V, 0.5))  # skewed character frequencies, so smoothing matters
        train = rng.choice(V, size=400, p=p)
        val = rng.choice(V, size=120, p=p)
        yield n, V, train, val


@exercise(
    "01.1",
    "a function add_one_bits(train_ids, val_ids, n, vocab_size) returning the validation bits/char of the add-one "
    "n-gram model",
    wrong=lambda: lambda train_ids, val_ids, n, vocab_size: _add_one_bits(train_ids, val_ids, n, vocab_size, bits=0),
)
def _check_add_one(answer):
    if not callable(answer):
        raise Hint("add_one_bits should be a function of (train_ids, val_ids, n, vocab_size); you gave a value.")
    for n, V, train, val in _hidden_cases():
        got = answer(train.copy(), val.copy(), n, V)
        want = _add_one_bits(train, val, n, V)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise Hint(
                f"add_one_bits should return one number (bits per character), got {type(got).__name__}."
            ) from None
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        case = f"On a hidden case (n = {n}, a vocabulary of {V})"
        if math.isclose(got, want * math.log(2), rel_tol=1e-6):
            raise Hint(f"{case} your value is in nats: divide the mean of −ln P by ln 2 to get bits.")
        raise Hint(
            f"{case} your bits/char is {got:.4f}, but the add-one model gives a different value. Check that c(h) "
            "counts the training n-grams that start with h (not every occurrence of h), that the denominator adds "
            "V, and that you score the validation positions n − 1 … end."
        )
