"""Notebook 02's lab: neighbours, word-group scatter and analogy panels, the word-group figure, the exercise's check.

Defined in: notebooks/02_word_embeddings.ipynb

The embeddings, their training and the tables the panels show are lessons in :mod:`course_lib.embeddings`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes

from ..checks import _shown, check_instance, check_int, check_text
from ..embeddings import WordVectors, _check_models, analogy_table, cooccurrence_matrix, neighbours_table, pca_2d
from ..errors import ArgumentError, ArgumentTypeError
from ..plots import labelled_scatter
from ..widgets import InputError, Panel
from .exercises import Hint, exercise


def neighbours_panel(models: Mapping[str, WordVectors], word: str = "king", k: int = 8) -> Panel:
    """Widget: type a word → its nearest neighbours under every model, side by side.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_models(models)
    check_text(word, "word")
    k = check_int(k, "k", min=1, max=20)
    controls = {
        "word": w.Text(value=word, description="word", continuous_update=False),
        "k": w.IntSlider(value=k, min=1, max=20, description="k", continuous_update=False),
    }
    return Panel(controls, lambda word, k: neighbours_table(models, word, k), title="Nearest neighbours (cosine)")


def _check_groups(groups) -> Mapping[str, Sequence[str]]:
    """``groups`` must be a non-empty ``{group name: [word, ...]}`` dict."""
    if not isinstance(groups, Mapping) or not groups:
        raise ArgumentTypeError(f"groups must be a non-empty dict {{name: [word, ...]}}, got {type(groups).__name__}")
    for name, words in groups.items():
        check_text(name, "a group name")
        if isinstance(words, str) or not isinstance(words, Sequence) or not all(isinstance(x, str) for x in words):
            raise ArgumentTypeError(f"groups[{name!r}] must be a list of words, got {_shown(words)}")
    return groups


def word_groups_figure(wv: WordVectors, groups: Mapping[str, Sequence[str]], chosen: Sequence[str], ax=None):
    """A 2-D PCA scatter of the words of the ``chosen`` groups (words missing from ``wv`` are skipped and named).

    Draws on ``ax`` when given (several models side by side) and returns the figure.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_instance(wv, "wv", WordVectors)
    groups = _check_groups(groups)
    if isinstance(chosen, str) or not isinstance(chosen, Sequence):
        raise ArgumentTypeError(f"chosen must be a list of group names, got {type(chosen).__name__}")
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
    pts = pca_2d(wv.vectors[[wv.index[x] for x in words]])  # (N, 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    check_instance(ax, "ax", Axes, "matplotlib Axes")
    labelled_scatter(pts, words, hue=hue, ax=ax, title=f"{wv.name}: PCA of {len(words)} word vectors")
    if missing:
        ax.text(0.0, -0.1, "not in vocabulary: " + ", ".join(missing[:12]), transform=ax.transAxes, fontsize=8)
    return ax.figure


def scatter_panel(
    models: Mapping[str, WordVectors], groups: Mapping[str, Sequence[str]], chosen: Sequence[str] | None = None
) -> Panel:
    """Widget: pick a model and word groups → 2-D PCA scatter of their vectors.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    names = list(_check_models(models))
    groups = _check_groups(groups)
    if chosen is not None and (isinstance(chosen, str) or not isinstance(chosen, Sequence)):
        raise ArgumentTypeError(f"chosen must be a list of group names, got {type(chosen).__name__}")
    if chosen is not None and any(g not in groups for g in chosen):
        raise ArgumentError(f"chosen must name groups of {list(groups)}; got {list(chosen)}")
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
    _check_models(models)
    for x, v in (("a", a), ("b", b), ("c", c)):
        check_text(v, x)
    controls = {
        x: w.Text(value=v, description=x, continuous_update=False, layout=w.Layout(width="180px"))
        for x, v in (("a", a), ("b", b), ("c", c))
    }
    return Panel(controls, lambda a, b, c: analogy_table(models, a, b, c), title="Analogies: a is to b as c is to ?")


# ----------------------------------------------------------------------------------------------
# Exercise 02.1: what skip-gram's dynamic window counts
# ----------------------------------------------------------------------------------------------
def _weighted_cooccurrence(ids, vocab_size: int, window: int) -> torch.Tensor:
    """Reference: symmetric counts where a pair at distance d ≤ window counts (window − d + 1) / window."""
    ids = torch.as_tensor(ids).long()
    counts = torch.zeros(vocab_size * vocab_size, dtype=torch.float64)
    for d in range(1, window + 1):
        a, b = ids[:-d], ids[d:]
        weight = torch.full((len(a),), (window - d + 1) / window, dtype=torch.float64)
        counts.index_add_(0, a * vocab_size + b, weight)
        counts.index_add_(0, b * vocab_size + a, weight)
    return counts.view(vocab_size, vocab_size)


@exercise(
    "02.1",
    "a function weighted_cooccurrence(ids, vocab_size, window) returning the (V, V) counts in which a pair at "
    "distance d counts (window − d + 1) / window",
    wrong=lambda: cooccurrence_matrix,
)
def _check_weighted_cooccurrence(answer):
    if not callable(answer):
        raise Hint("weighted_cooccurrence should be a function of (ids, vocab_size, window) that returns a matrix.")
    generator = torch.Generator().manual_seed(11)
    for V, n, window in ((5, 40, 1), (6, 60, 3), (4, 30, 4), (7, 80, 2)):
        ids = torch.randint(V, (n,), generator=generator)
        got = torch.as_tensor(answer(ids.clone(), V, window), dtype=torch.float64)
        want = _weighted_cooccurrence(ids, V, window)
        case = f"On a hidden case ({n} ids, a vocabulary of {V}, window {window})"
        if got.shape != want.shape:
            raise Hint(f"{case} the result should be a ({V}, {V}) matrix, got shape {tuple(got.shape)}.")
        if torch.allclose(got, want, atol=1e-6):
            continue
        if not torch.allclose(got, got.T, atol=1e-6):
            raise Hint(f"{case} your matrix is not symmetric: count each pair in both directions, C[a, b] and C[b, a].")
        plain = cooccurrence_matrix(ids, V, window).double()
        if torch.allclose(got, plain, atol=1e-6):
            raise Hint(
                f"{case} every pair counts 1. With a window drawn uniformly from 1 … window, a word at distance d is "
                "used only when the drawn window is at least d: weight it by that probability."
            )
        if torch.allclose(got.sum(), want.sum(), atol=1e-6):
            raise Hint(f"{case} the total weight is right but it sits on the wrong pairs: check which ids you pair.")
        raise Hint(
            f"{case} your counts differ: a neighbour (d = 1) should count 1 and a word at the window's edge "
            "(d = window) should count 1 / window."
        )
