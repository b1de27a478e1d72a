"""Notebook 03's lab: the sentence explainer and its panel, the fixed-length experiment, the exercise's check.

Defined in: notebooks/03_context_representation.ipynb

Data, classifiers, training and the statistics are lessons in :mod:`course_lib.sentiment`,
:mod:`course_lib.pooling` and :mod:`course_lib.models.sentence_classifier`.
"""

from __future__ import annotations

import html as _html

import ipywidgets as w
import numpy as np
import torch
from torch import nn

from ..checks import check_instance, check_int, check_seed, check_text
from ..data import WordTokenizer
from ..embeddings import WordVectors
from ..errors import ArgumentError, ArgumentTypeError
from ..models.sentence_classifier import BagOfWordsClassifier, EmbeddingClassifier
from ..sentiment import MAX_LEN, encode, predict_proba
from ..widgets import HTML, InputError, Panel, require_text
from .exercises import Hint, exercise

MAX_CHARS = 5_000  # the explainer refuses longer text (it would only grey out words the model never reads)


def _check_classifier(model, tokenizer, name: str = "model") -> None:
    """``model`` must be a sentence classifier of :func:`~course_lib.sentiment.make_classifier` over ``tokenizer``."""
    check_instance(model, name, (BagOfWordsClassifier, EmbeddingClassifier), "sentence classifier (make_classifier)")
    check_instance(tokenizer, "tokenizer", WordTokenizer)
    if model.cfg.vocab_size != tokenizer.vocab_size:
        raise ArgumentError(
            f"{name} was built for {model.cfg.vocab_size} words but the tokenizer has {tokenizer.vocab_size}: "
            "pass the tokenizer the model was trained with"
        )


def explain_sentence(model: nn.Module, tokenizer: WordTokenizer, sentence: str) -> HTML:
    """HTML: the predicted sentiment and every word coloured by its contribution (green = positive, red = negative).

    Unknown words are shown grey (the model ignores them); known words after the first ``MAX_LEN``
    (100), which the model never reads, are struck through and said so. Raises :class:`InputError` for an
    empty sentence, one with no known word, or one longer than ``MAX_CHARS`` characters.

    Defined in: notebooks/03_context_representation.ipynb
    """
    _check_classifier(model, tokenizer)
    check_text(sentence, "sentence")
    sentence = require_text(sentence, "a sentence (e.g. 'The battery life is great')")
    if len(sentence) > MAX_CHARS:
        raise InputError(f"The explainer reads up to {MAX_CHARS:,} characters; this text has {len(sentence):,}.")
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
    parts, j, unread = [], 0, 0
    for word in words:
        if word not in tokenizer.stoi:
            parts.append(f'<span style="color:#999" title="not in the vocabulary: ignored">{_html.escape(word)}</span>')
            continue
        if j >= len(contrib):  # encode() keeps the first MAX_LEN known words
            unread += 1
            parts.append(
                f'<span style="color:#999;text-decoration:line-through" title="after the first {MAX_LEN} known '
                f'words: the model does not read it">{_html.escape(word)}</span>'
            )
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
    if unread:
        head += (
            f" The model reads the first {MAX_LEN} known words only: the {unread} later one(s) are struck through "
            "(grey: not in the vocabulary)."
        )
    return HTML(f"<div>{head}</div><div style='line-height:2em;font-size:1.1em'>{' '.join(parts)}</div>")


def sentence_panel(models: dict, sentence: str = "The food was not good at all.") -> Panel:
    """Widget: type a sentence, pick a model → predicted sentiment and each word's contribution, highlighted.

    ``models`` maps a name to ``(model, tokenizer)`` (e.g. the ``trained`` dict of :func:`compare_models`).

    Defined in: notebooks/03_context_representation.ipynb
    """
    if not isinstance(models, dict) or not models:
        raise ArgumentTypeError(
            f"models must be a non-empty dict {{name: (model, tokenizer)}}, got {type(models).__name__}"
        )
    for name, pair in models.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ArgumentTypeError(f"models[{name!r}] must be a (model, tokenizer) pair, got {type(pair).__name__}")
        _check_classifier(*pair, name=f"models[{name!r}]")
    check_text(sentence, "sentence")
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


# ----------------------------------------------------------------------------------------------
# §2.2's "fixed-length vector": how much of a sentence survives mean pooling?
# ----------------------------------------------------------------------------------------------
def pooled_word_recall(glove: WordVectors, lengths, n_sentences: int = 200, vocab: int = 5_000, seed: int = 0):
    """For random bags of T distinct words: the share of them among the T words nearest to their mean vector.

    Each bag draws T distinct words from the ``vocab`` most frequent GloVe words; the mean of their
    (unit-length) vectors is the fixed-length "context representation" of §2.2. Reading back the T
    vocabulary words with the highest cosine to it recovers all T when nothing is lost; the recall
    falls as T grows, because a 50-number vector cannot hold an arbitrary bag of many words.
    Returns a DataFrame with one row per T: ``words`` (T), ``recall`` (mean share), ``n`` (bags).

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(glove, "glove", WordVectors)
    vocab = check_int(vocab, "vocab", min=1, max=len(glove.words))
    n_sentences = check_int(n_sentences, "n_sentences", min=1, max=100_000)
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__"):
        raise ArgumentTypeError(f"lengths must be a list of sentence lengths, got {type(lengths).__name__}")
    lengths = [check_int(n, "each length", min=1, max=10_000) for n in lengths]
    import pandas as pd

    generator = torch.Generator().manual_seed(check_seed(seed))
    unit = torch.nn.functional.normalize(glove.vectors[:vocab], dim=1)  # (V', D)
    rows = []
    for T in lengths:
        hits = []
        for _ in range(n_sentences):
            bag = torch.randperm(vocab, generator=generator)[:T]  # (T,) distinct word ids
            mean = unit[bag].mean(0)  # (D,) the pooled vector
            top = torch.topk(unit @ mean, T).indices  # the T words nearest to it
            hits.append(len(set(top.tolist()) & set(bag.tolist())) / T)
        rows.append({"words": int(T), "recall": float(np.mean(hits)), "n": n_sentences})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Exercise 03.1: a mean-pooling classifier on frozen GloVe vectors
# ----------------------------------------------------------------------------------------------
def _fine_tuned_mean(tokenizer, glove, seed):
    from ..sentiment import make_classifier

    return make_classifier("mean", tokenizer, glove, seed=seed)


@exercise(
    "03.1",
    "a function frozen_classifier(tokenizer, glove, seed) returning a mean-pooling classifier whose GloVe "
    "embeddings do not change in training",
    wrong=lambda: _fine_tuned_mean,
)
def _check_frozen(answer):
    from ..embeddings import load_glove
    from ..sentiment import build_tokenizer

    if not callable(answer):
        raise Hint("frozen_classifier should be a function of (tokenizer, glove, seed) that returns a model.")
    glove = load_glove()
    texts = ["the food was great", "awful service , never again", "great value", "the worst movie ever"] * 8
    labels = torch.tensor([1, 0, 1, 0] * 8)
    tok = build_tokenizer(texts[:4], glove)
    model = answer(tok, glove, 3)
    if not isinstance(model, nn.Module) or not hasattr(model, "emb"):
        raise Hint("Return the classifier itself (a model with an .emb embedding table), e.g. from S.make_classifier.")
    if getattr(getattr(model, "cfg", None), "kind", None) != "mean":
        raise Hint("The exercise asks for the mean-pooling classifier: make_classifier('mean', ...).")
    rows = [tok.stoi[x] for x in ("food", "great", "awful", "movie")]
    start = model.emb.weight.detach().clone()
    if not torch.equal(start[rows], torch.stack([glove.vector(x) for x in ("food", "great", "awful", "movie")])):
        raise Hint("The embeddings should start from GloVe: pass glove to make_classifier.")
    if model.emb.weight.requires_grad:
        raise Hint("The embedding table still learns: switch off its gradient (requires_grad_(False)) before training.")
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if not any(n.startswith("head") for n in trainable):
        raise Hint("Freeze the embeddings only: the linear head on top must still learn.")
    head = model.head.weight.detach().clone()
    ids, mask = encode(tok, texts)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)  # as fit_classifier builds it: every parameter
    model.train()
    for _ in range(5):
        loss = nn.functional.binary_cross_entropy_with_logits(model(ids, mask), labels.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if not torch.equal(model.emb.weight.detach(), start):
        raise Hint("The embeddings changed during training: freeze them before the optimiser is built.")
    if torch.equal(model.head.weight.detach(), head):
        raise Hint("The head did not learn anything in training: only the embeddings should be frozen.")
