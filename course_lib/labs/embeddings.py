"""Notebook 02's lab: neighbours, word-group scatter and analogy panels, and the word-group figure.

Defined in: notebooks/02_word_embeddings.ipynb

The embeddings, their training and the tables the panels show are lessons in :mod:`course_lib.embeddings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as w
import matplotlib.pyplot as plt

from ..embeddings import WordVectors, analogy_table, neighbours_table, pca_2d
from ..plots import labelled_scatter
from ..widgets import InputError, Panel


def neighbours_panel(models: Mapping[str, WordVectors], word: str = "king", k: int = 8) -> Panel:
    """Widget: type a word → its nearest neighbours under every model, side by side.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    controls = {
        "word": w.Text(value=word, description="word", continuous_update=False),
        "k": w.IntSlider(value=k, min=1, max=20, description="k", continuous_update=False),
    }
    return Panel(controls, lambda word, k: neighbours_table(models, word, k), title="Nearest neighbours (cosine)")


def word_groups_figure(wv: WordVectors, groups: Mapping[str, Sequence[str]], chosen: Sequence[str]):
    """A 2-D PCA scatter of the words of the ``chosen`` groups (words missing from ``wv`` are skipped and named).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    chosen = list(chosen)
    if not chosen:
        raise InputError("Pick at least one word group (ctrl/cmd-click to pick several).")
    unknown_groups = [g for g in chosen if g not in groups]
    if unknown_groups:
        raise InputError(f"Unknown group(s) {unknown_groups}; choose from {list(groups)}.")
    words, hue, missing = [], [], []
    for g in chosen:
        for x in groups[g]:
            if x in wv and x not in words:
                words.append(x)
                hue.append(g)
            elif x not in wv:
                missing.append(x)
    if len(words) < 2:
        raise InputError(f"Fewer than two of these words are in the vocabulary of {wv.name}; pick more groups.")
    pts = pca_2d(wv.vectors[[wv.index[x] for x in words]])
    fig, ax = plt.subplots(figsize=(7, 5))
    labelled_scatter(pts, words, hue=hue, ax=ax, title=f"{wv.name}: PCA of {len(words)} word vectors")
    if missing:
        ax.text(0.0, -0.1, "not in vocabulary: " + ", ".join(missing[:12]), transform=ax.transAxes, fontsize=8)
    return fig


def scatter_panel(
    models: Mapping[str, WordVectors], groups: Mapping[str, Sequence[str]], chosen: Sequence[str] | None = None
) -> Panel:
    """Widget: pick a model and word groups → 2-D PCA scatter of their vectors.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    names = list(models)
    controls = {
        "model": w.Dropdown(options=names, value=names[0], description="vectors"),
        "chosen": w.SelectMultiple(
            options=list(groups),
            value=tuple(chosen or list(groups)[:3]),
            description="groups",
            rows=min(8, len(groups)),
        ),
    }
    return Panel(
        controls,
        lambda model, chosen: word_groups_figure(models[model], groups, chosen),
        title="Word groups in 2-D (PCA)",
    )


def analogy_panel(models: Mapping[str, WordVectors], a: str = "man", b: str = "woman", c: str = "king") -> Panel:
    """Widget: ``a`` is to ``b`` as ``c`` is to ? (3CosAdd), every model side by side.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    controls = {
        x: w.Text(value=v, description=x, continuous_update=False, layout=w.Layout(width="180px"))
        for x, v in (("a", a), ("b", b), ("c", c))
    }
    return Panel(controls, lambda a, b, c: analogy_table(models, a, b, c), title="Analogies: a is to b as c is to ?")
