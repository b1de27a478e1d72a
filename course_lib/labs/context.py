"""Notebook 03's lab: the sentence explainer (each word coloured by its contribution) and its panel.

Defined in: notebooks/03_context_representation.ipynb

Data, classifiers, training and the statistics are lessons in :mod:`course_lib.sentiment`,
:mod:`course_lib.pooling` and :mod:`course_lib.models.sentence_classifier`.
"""

from __future__ import annotations

import html as _html

import ipywidgets as w
from torch import nn

from ..data import WordTokenizer
from ..sentiment import encode, predict_proba
from ..widgets import HTML, InputError, Panel, require_text


def explain_sentence(model: nn.Module, tokenizer: WordTokenizer, sentence: str) -> HTML:
    """HTML: the predicted sentiment and every word coloured by its contribution (green = positive, red = negative).

    Unknown words are shown grey (the model ignores them). Raises :class:`InputError` for an empty
    sentence or one with no known word.

    Defined in: notebooks/03_context_representation.ipynb
    """
    sentence = require_text(sentence, "a sentence (e.g. 'The battery life is great')")
    words = tokenizer.tokenize(sentence)
    known = [word for word in words if word in tokenizer.stoi]
    if not known:
        raise InputError(
            f"None of the words {words[:8]} is in this model's vocabulary "
            f"({tokenizer.vocab_size} words); try an everyday review sentence."
        )
    ids, mask = encode(tokenizer, [sentence])
    p = float(predict_proba(model, ids, mask)[0])
    contrib, attn = model.contributions(ids, mask)
    contrib = contrib[0].tolist()
    scale = max(1e-6, max(abs(c) for c in contrib))
    parts, j = [], 0
    for word in words:
        if word not in tokenizer.stoi or j >= len(contrib):
            parts.append(f'<span style="color:#999" title="not in the vocabulary: ignored">{_html.escape(word)}</span>')
            continue
        c = contrib[j]
        a = attn[0, j].item() if attn is not None else None
        j += 1
        alpha = min(1.0, abs(c) / scale) * 0.8
        rgb = "0,150,60" if c >= 0 else "200,30,30"
        tip = f"contribution {c:+.3f}" + (f", attention {a:.2f}" if a is not None else "")
        sub = f'<sub style="font-size:0.7em">{a:.2f}</sub>' if a is not None else ""
        parts.append(
            f'<span style="background:rgba({rgb},{alpha:.2f});padding:1px 3px;border-radius:3px" '
            f'title="{tip}">{_html.escape(word)}{sub}</span>'
        )
    label = "positive" if p > 0.5 else "negative"
    what = {
        "bilstm": "drop in the logit when the word is removed (occlusion)",
        "attention": "attention weight × word score (subscripts: attention weights)",
    }.get(model.cfg.kind, "exact share of the logit")
    head = (
        f"<b>{label}</b> (P(positive) = {p:.2f}) — model: {model.cfg.kind}. "
        f"Colour: each word's contribution to the logit ({what}); green pushes positive, red negative."
    )
    return HTML(f"<div>{head}</div><div style='line-height:2em;font-size:1.1em'>{' '.join(parts)}</div>")


def sentence_panel(models: dict, sentence: str = "The food was not good at all.") -> Panel:
    """Widget: type a sentence, pick a model → predicted sentiment and each word's contribution, highlighted.

    ``models`` maps a name to ``(model, tokenizer)`` (e.g. the ``trained`` dict of :func:`compare_models`).

    Defined in: notebooks/03_context_representation.ipynb
    """
    names = list(models)
    controls = {
        "sentence": w.Text(
            value=sentence, description="sentence", continuous_update=False, layout=w.Layout(width="520px")
        ),
        "model": w.Dropdown(options=names, value=names[0], description="model"),
    }
    return Panel(
        controls,
        lambda sentence, model: explain_sentence(*models[model], sentence),
        title="Sentiment: which words pushed the decision?",
    )
