"""Notebook 09's lab: train and compare the three bAbI readers, score where they look, and the story widget.

Defined in: notebooks/09_question_answering.ipynb

The data is :mod:`course_lib.babi`; the readers are :mod:`course_lib.models.lstm_reader`,
:mod:`course_lib.models.memnet` and :mod:`course_lib.models.transformer_reader`.
``tools/train_babi.py`` trains the shipped readers (every reader × 2 tasks × :data:`SHIPPED_SEEDS`) with
:data:`RECIPES`; the notebook loads them and retrains one live.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from pathlib import Path

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F

from ..babi import BabiQuestion, babi_words, build_vocabulary, load_babi, vectorize
from ..checks import (
    check_choice,
    check_flag,
    check_instance,
    check_int,
    check_path,
    check_seed,
    check_tensor,
    check_text,
)
from ..config import CHECKPOINT_DIR, set_seed
from ..data import WordTokenizer
from ..errors import ArgumentError, ArgumentTypeError, CheckpointError
from ..models.lstm_reader import LSTMReader, LSTMReaderConfig
from ..models.memnet import MemN2N, MemN2NConfig
from ..models.transformer_reader import TransformerReader, TransformerReaderConfig
from ..nn_utils import eval_mode
from ..plots import _check_ax, _check_labels, _check_plot_table
from ..train import load_checkpoint, save_checkpoint, train
from ..widgets import HTML, InputError, Panel, require_text
from .exercises import Hint, exercise

READERS = ("lstm", "memnet1", "memnet3", "transformer")
LABELS = {
    "lstm": "LSTM reader",
    "memnet1": "MemN2N, 1 hop",
    "memnet3": "MemN2N, 3 hops",
    "transformer": "Transformer reader",
}
MEMORY_SIZE, SENTENCE_LEN = 50, 8


@dataclass(frozen=True)
class QARecipe:
    """How one reader is built and trained on one bAbI task.

    Defined in: notebooks/09_question_answering.ipynb
    """

    reader: str
    n_embd: int = 50
    n_hidden: int = 100  # LSTM
    n_layer: int = 2  # Transformer
    n_head: int = 2  # Transformer
    dropout: float = 0.0
    lr: float = 5e-3
    batch_size: int = 32
    epochs: int = 20
    grad_clip: float = 40.0  # the paper clips the gradient norm at 40
    position_encoding: bool = True  # memory network: PE (False: bag of words)
    temporal_encoding: bool = True  # memory network: learned recency vectors
    linear_start: int = 0  # memory network: epochs without the hops' softmax first (LS, §4.2)

    def __post_init__(self):
        check_choice(self.reader, "reader", READERS)


RECIPES = {  # (reader, task) → recipe; task 1 is learned in an epoch or two, task 2 needs more
    **{(r, 1): QARecipe(r, epochs=5) for r in ("memnet1", "memnet3")},
    **{(r, 2): QARecipe(r, epochs=20, linear_start=4) for r in ("memnet1", "memnet3")},
    ("lstm", 1): QARecipe("lstm", n_hidden=64, lr=3e-3, batch_size=64, epochs=4, grad_clip=5.0),
    ("lstm", 2): QARecipe("lstm", n_hidden=64, lr=3e-3, batch_size=64, epochs=4, grad_clip=5.0),
    ("transformer", 1): QARecipe("transformer", n_embd=64, dropout=0.1, lr=3e-3, epochs=4, grad_clip=1.0),
    ("transformer", 2): QARecipe("transformer", n_embd=64, dropout=0.1, lr=3e-3, epochs=8, grad_clip=1.0),
}
#: seeds of the shipped readers: three for the 3-hop memory network (the goal is a median of three seeds); one
#: for the LSTM and Transformer baselines and the 1-hop ablation (the time to train the checkpoints ran out; more
#: seeds: ``python tools/train_babi.py --readers lstm transformer --seeds 1 2``)
SHIPPED_SEEDS = {"lstm": (0,), "memnet1": (0,), "memnet3": (0, 1, 2), "transformer": (0,)}


def checkpoint_path(reader: str, task: int, seed: int) -> Path:
    """Where the shipped reader for (reader, task, seed) lives.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_choice(reader, "reader", READERS)
    task = check_int(task, "task", min=1, max=20)
    seed = check_seed(seed)
    return CHECKPOINT_DIR / "babi" / f"{reader}_task{task}_seed{seed}.pt"


# ----------------------------------------------------------------------------- data


def qa_vocabulary() -> WordTokenizer:
    """One vocabulary for both tasks: every word of their training files.

    Defined in: notebooks/09_question_answering.ipynb
    """
    return build_vocabulary(load_babi(1, "train") + load_babi(2, "train"))


def qa_data(task: int, tok: WordTokenizer) -> dict[str, dict]:
    """Task ``task`` as tensors: ``train`` (the first 9,000 training questions), ``val`` (the last 1,000:
    whole stories, none shared with ``train``) and ``test`` (the official 1,000), each with its questions.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_instance(tok, "tok", WordTokenizer)
    train_q = load_babi(task, "train")
    n_val = len(train_q) // 10
    parts = {"train": train_q[:-n_val], "val": train_q[-n_val:], "test": load_babi(task, "test")}
    out = {}
    for name, qs in parts.items():
        t = vectorize(qs, tok, MEMORY_SIZE, SENTENCE_LEN)
        t["questions"] = qs
        out[name] = t
    out["vocab_size"] = tok.vocab_size
    return out


# ----------------------------------------------------------------------------- readers


def build_reader(recipe: QARecipe, vocab_size: int) -> torch.nn.Module:
    """A fresh reader of ``recipe.reader`` for a vocabulary of ``vocab_size`` words.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_instance(recipe, "recipe", QARecipe)
    vocab_size = check_int(vocab_size, "vocab_size", min=1, max=1_000_000)
    r = recipe
    if r.reader == "lstm":
        return LSTMReader(LSTMReaderConfig(vocab_size, r.n_embd, r.n_hidden, r.dropout))
    if r.reader == "transformer":
        return TransformerReader(
            TransformerReaderConfig(vocab_size, r.n_embd, r.n_head, r.n_layer, MEMORY_SIZE, SENTENCE_LEN, r.dropout)
        )
    hops = 1 if r.reader == "memnet1" else 3
    return MemN2N(
        MemN2NConfig(vocab_size, r.n_embd, hops, MEMORY_SIZE, SENTENCE_LEN, r.position_encoding, r.temporal_encoding)
    )


BATCH_KEYS = ("story", "question", "mask", "tokens", "lengths", "answer")
READER_TYPES = (LSTMReader, MemN2N, TransformerReader)


def _check_batch(model, batch, name: str = "batch") -> dict:
    """``model`` must be a reader of :func:`build_reader` and ``batch`` a split (or batch) of :func:`qa_data`."""
    check_instance(model, "model", READER_TYPES, "bAbI reader (build_reader)")
    if not isinstance(batch, dict) or any(k not in batch for k in BATCH_KEYS):
        raise ArgumentError(f"{name} must be a dict from qa_data / vectorize with the keys {list(BATCH_KEYS)}")
    n = len(batch["answer"]) if isinstance(batch["answer"], torch.Tensor) else None
    vocab = model.config.vocab_size
    for key in BATCH_KEYS:
        value = batch[key]
        check_tensor(value, f"{name}[{key!r}]", dtype="bool" if key == "mask" else "integer")
        if value.dim() == 0 or len(value) != n or not n:
            raise ArgumentError(f"{name}'s tensors must all have the same number of questions (at least one)")
        if (
            key != "mask"
            and value.numel()
            and (int(value.min()) < 0 or (key != "lengths" and int(value.max()) >= vocab))
        ):
            raise ArgumentError(f"{name}[{key!r}] must hold token ids in 0..{vocab - 1}")
    return batch


def _rows(t: dict, idx: torch.Tensor) -> dict:
    return {k: v[idx] for k, v in t.items() if isinstance(v, torch.Tensor)}


def _trim(batch: dict) -> dict:
    """Drop all-padding memory slots and token columns (faster; the models mask them anyway)."""
    M = max(1, int(batch["mask"].sum(1).max()))
    T = int(batch["lengths"].max())
    out = dict(batch)
    for k in ("story", "mask", "support"):
        out[k] = batch[k][:, :M]
    out["tokens"] = batch["tokens"][:, :T]
    return out


def reader_forward(model: torch.nn.Module, batch: dict):
    """``(logits (B, V), attention or None)`` of any reader on a batch from :func:`qa_data`.

    The attention is the memory network's (B, hops, M), or the Transformer reader's last-layer
    weights from the question to the sentences, averaged over heads, (B, 1, M).

    Defined in: notebooks/09_question_answering.ipynb
    """
    _check_batch(model, batch)
    if isinstance(model, LSTMReader):
        return model(batch["tokens"], batch["lengths"]), None
    if isinstance(model, MemN2N):
        return model(batch["story"], batch["question"], batch["mask"])
    logits, maps = model(batch["story"], batch["question"], batch["mask"], need_weights=not model.training)
    if maps is None:
        return logits, None
    return logits, maps[-1][:, :, 0, 1:].mean(1, keepdim=True)  # (B, 1, M): question → sentences


def qa_loss(model, batch) -> dict:
    """Cross-entropy of the answer word, and the batch accuracy (logged).

    Defined in: notebooks/09_question_answering.ipynb
    """
    logits, _ = reader_forward(model, batch)
    return {
        "loss": F.cross_entropy(logits, batch["answer"]),
        "acc": (logits.argmax(-1) == batch["answer"]).float().mean(),
    }


@torch.no_grad()
def predict(model, t: dict, batch_size: int = 500) -> dict:
    """Predictions on a whole split: ``answer`` ids (N,), ``correct`` (N,) and ``attention`` (N, K, M) or None.

    Defined in: notebooks/09_question_answering.ipynb
    """
    _check_batch(model, t, "t")
    batch_size = check_int(batch_size, "batch_size", min=1)
    answers, attention = [], []
    n = len(t["answer"])
    with eval_mode(model):
        for i in range(0, n, batch_size):
            b = _rows(t, torch.arange(i, min(n, i + batch_size)))
            logits, att = reader_forward(model, b)
            answers.append(logits.argmax(-1))
            if att is not None:
                attention.append(att)
    pred = torch.cat(answers)
    return {
        "answer": pred,
        "correct": pred == t["answer"],
        "attention": torch.cat(attention) if attention else None,
    }


def support_hit_rate(attention: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Per hop, the share of questions whose most-attended sentence is a supporting fact.

    ``attention`` (N, K, M), ``support`` (N, M) bool → (K,).

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_tensor(attention, "attention", dim=3, dtype="float", finite=True)
    check_tensor(support, "support", dtype="bool", shape=(attention.size(0), attention.size(2)))
    if not attention.numel():
        raise ArgumentError(
            f"attention must hold at least one question, hop and sentence, got {tuple(attention.shape)}"
        )
    top = attention.argmax(-1)  # (N, K)
    return support.gather(1, top).float().mean(0)  # (K,)


def _bucketed_batches(lengths: torch.Tensor, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One epoch of batches: a random order, sorted by length within chunks of 20 batches, batches shuffled."""
    perm = torch.randperm(len(lengths), generator=generator)
    chunk = 20 * batch_size
    batches = []
    for c in range(0, len(perm) - batch_size + 1, chunk):
        part = perm[c : c + chunk]
        part = part[torch.argsort(lengths[part], stable=True)]
        batches += [part[i : i + batch_size] for i in range(0, len(part) - batch_size + 1, batch_size)]
    order = torch.randperm(len(batches), generator=generator)
    return [batches[i] for i in order]


def train_reader(recipe: QARecipe, data: dict, seed: int = 0, epochs: int | None = None, progress: bool = True):
    """Train one reader with the course's loop (Adam, shuffled mini-batches, gradient clipping);
    returns ``(model, history)``; validation accuracy after every epoch.

    Defined in: notebooks/09_question_answering.ipynb
    """
    seed = check_seed(seed)
    check_instance(recipe, "recipe", QARecipe)
    epochs = recipe.epochs if epochs is None else check_int(epochs, "epochs", min=1, max=1000)
    check_flag(progress, "progress")
    if not isinstance(data, dict) or any(k not in data for k in ("train", "val", "vocab_size")):
        raise ArgumentError("data must be qa_data's dict with 'train', 'val' and 'vocab_size'")
    generator = set_seed(seed)
    model = build_reader(recipe, data["vocab_size"])
    _check_batch(model, data["train"], "data['train']")
    _check_batch(model, data["val"], "data['val']")
    train_t = data["train"]
    per_epoch = len(_bucketed_batches(train_t["lengths"], recipe.batch_size, torch.Generator()))
    batches: list[torch.Tensor] = []

    def get_batch(step):
        i = step % per_epoch
        if i == 0:  # a new epoch: shuffle, then group questions of similar story length (less padding)
            batches[:] = _bucketed_batches(train_t["lengths"], recipe.batch_size, generator)
            if isinstance(model, MemN2N):
                model.linear_start = step // per_epoch < recipe.linear_start
        return _trim(_rows(train_t, batches[i]))

    def eval_fn(model):
        p = predict(model, data["val"])
        return {"val_acc": float(p["correct"].float().mean())}

    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    steps = epochs * per_epoch
    hist = train(
        model,
        get_batch,
        qa_loss,
        optimizer,
        steps,
        eval_every=per_epoch,
        eval_fn=eval_fn,
        lr_schedule=lambda s: recipe.lr * (0.5 ** (s // max(1, steps // 4))),
        grad_clip=recipe.grad_clip,
        log_every=max(1, per_epoch // 4),
        progress=progress,
        desc=f"{LABELS[recipe.reader]} (seed {seed})",
    )
    hist["epoch"] = hist["step"] / per_epoch
    return model, hist


def save_reader(path, model, recipe: QARecipe, tok: WordTokenizer, history: pd.DataFrame, info: dict) -> Path:
    """Save a trained reader with its recipe, vocabulary, history and results.

    Defined in: notebooks/09_question_answering.ipynb
    """
    check_path(path, "path", must_exist=False)
    check_instance(model, "model", READER_TYPES, "bAbI reader (build_reader)")
    check_instance(recipe, "recipe", QARecipe)
    _check_reader(model, tok)
    check_instance(history, "history", pd.DataFrame)
    check_instance(info, "info", dict)
    hist = {
        c: [None if v != v else float(v) for v in history[c]]
        for c in ("step", "loss", "acc", "val_acc")
        if c in history
    }
    extra = {"recipe": asdict(recipe), "vocab": tok.to_dict(), "history": hist, "info": dict(info)}
    return save_checkpoint(path, model, config=asdict(model.config), extra=extra)


def load_reader(reader: str, task: int, seed: int):
    """A shipped reader: ``(model, recipe, history, info)`` (checksum- and digest-verified, eval mode).

    Defined in: notebooks/09_question_answering.ipynb
    """
    path = checkpoint_path(reader, task, seed)
    extra = load_checkpoint(path)["extra"]
    recipe = QARecipe(**extra["recipe"])
    tok = WordTokenizer.from_dict(extra["vocab"])
    model = build_reader(recipe, tok.vocab_size)
    load_checkpoint(path, model)
    if recipe.reader != reader:
        raise CheckpointError(f"{path} holds a {recipe.reader} reader, not {reader}")
    history = pd.DataFrame({k: pd.to_numeric(pd.Series(v, dtype=object)) for k, v in extra["history"].items()})
    return model.eval(), recipe, history, extra["info"]


# ----------------------------------------------------------------------------- the widget


def _check_reader(model, tok, name: str = "model") -> None:
    check_instance(model, name, READER_TYPES, "bAbI reader (build_reader)")
    check_instance(tok, "tok", WordTokenizer)
    if model.config.vocab_size != tok.vocab_size:
        raise ArgumentError(
            f"{name} was built for {model.config.vocab_size} words but tok has {tok.vocab_size}: "
            "pass the vocabulary the reader was trained with"
        )


def answer_question(model, tok: WordTokenizer, story: list[str], question: str) -> dict:
    """Run a reader on a story (a list of sentences) and a question a learner typed.

    Returns ``answer``, its ``probability``, the ``top`` 3 answers and ``attention`` (K, n) over the
    story's sentences in story order (None for the LSTM). Unknown words raise
    :class:`~course_lib.widgets.InputError` naming them.

    Defined in: notebooks/09_question_answering.ipynb
    """
    _check_reader(model, tok)
    if isinstance(story, str) or not isinstance(story, (list, tuple)):
        raise ArgumentTypeError(f"story must be a list of sentences, got {type(story).__name__}")
    for s in story:
        check_text(s, "story")
    if question is not None and not isinstance(question, str):
        raise InputError(f"The question must be text, got {type(question).__name__}.")
    question = require_text(question, "a question, e.g. 'Where is Mary?'")
    story = [s.strip() for s in story if s.strip()]
    if not story:
        raise InputError("The story is empty: give at least one sentence, one per line.")
    words = [wd for s in story + [question] for wd in babi_words(s)]
    unknown = sorted({wd for wd in words if wd not in tok or wd in WordTokenizer.SPECIALS})
    if unknown:
        raise InputError(
            f"Unknown word(s): {', '.join(unknown)}. The readers know only the {tok.vocab_size - 4} words of bAbI "
            "tasks 1–2 (people: Mary, John, Sandra, Daniel; places: kitchen, garden, office, hallway, bathroom, "
            "bedroom)."
        )
    too_long = [s for s in story + [question] if len(babi_words(s)) > SENTENCE_LEN]
    if too_long:
        raise InputError(f"Sentences have at most {SENTENCE_LEN} words; this one has more: {too_long[0]!r}")
    if len(story) > MEMORY_SIZE:
        raise InputError(f"The memory holds the last {MEMORY_SIZE} sentences; the story has {len(story)}.")
    q = BabiQuestion(tuple(story), question, tok.itos[4], (), 0)
    batch = vectorize([q], tok, MEMORY_SIZE, SENTENCE_LEN)
    with eval_mode(model), torch.no_grad():
        logits, att = reader_forward(model, _trim(batch))
    probs = torch.softmax(logits[0], -1)
    top = probs.topk(3)
    out = {
        "answer": tok.itos[int(top.indices[0])],
        "probability": float(top.values[0]),
        "top": [(tok.itos[int(i)], float(p)) for p, i in zip(top.values, top.indices)],
        "attention": None,
    }
    if att is not None:
        n = len(story)
        out["attention"] = att[0, :, :n].flip(-1)  # slot 0 = most recent → story order
    return out


def story_panel(models: dict[str, torch.nn.Module], tok: WordTokenizer, tests: dict[int, list[BabiQuestion]]) -> Panel:
    """Widget: pick a test story of task 1 or 2 (or type your own story and question) and a reader;
    see its answer and, for each hop, how much attention every sentence got (★ = a supporting fact).

    Defined in: notebooks/09_question_answering.ipynb
    """
    if not isinstance(models, dict) or not models:
        raise ArgumentTypeError(f"models must be a non-empty dict {{name: reader}}, got {type(models).__name__}")
    for name, model in models.items():
        check_text(name, "a reader name")
        _check_reader(model, tok, f"models[{name!r}]")
    if not isinstance(tests, dict) or not tests:
        raise ArgumentTypeError(
            f"tests must be a non-empty dict {{task: [BabiQuestion, ...]}}, got {type(tests).__name__}"
        )
    for task, qs in tests.items():
        check_int(task, "a task of tests", min=1, max=20)
        if not isinstance(qs, (list, tuple)) or not qs or not all(isinstance(q, BabiQuestion) for q in qs):
            raise ArgumentError(f"tests[{task}] must be a non-empty list of BabiQuestion (load_babi's)")
    names = list(models)

    def render(reader: str, task: int, example: int, question: str, own_story: str):
        qs = tests[int(task)]
        if not 0 <= int(example) < len(qs):
            raise InputError(f"example must be 0 … {len(qs) - 1}")
        item = qs[int(example)]
        own = [s for s in own_story.split("\n") if s.strip()]
        story = own if own else list(item.story)
        asked = question.strip() or item.question
        res = answer_question(models[reader], tok, story[-MEMORY_SIZE:], asked)
        known = not own and not question.strip()
        offset = max(0, len(story) - MEMORY_SIZE)
        rows = []
        att = res["attention"]
        K = 0 if att is None else att.size(0)
        for i, s in enumerate(story[offset:]):
            star = " ★" if known and (i + offset) in item.supporting else ""
            cells = ""
            for k in range(K):
                a = float(att[k, i])
                cells += f'<td style="background:rgba(214,39,40,{a:.2f});text-align:right">{a:.2f}</td>'
            rows.append(f"<tr><td>{i + 1 + offset}</td><td>{html.escape(s)}{star}</td>{cells}</tr>")
        hops = "".join(f"<th>{'hop ' + str(k + 1) if K > 1 else 'attention'}</th>" for k in range(K))
        truth = f" (dataset answer: <b>{html.escape(item.answer)}</b>)" if known else ""
        note = "" if K else "<p><i>The LSTM reader has no attention to show: it reads every word in order.</i></p>"
        top = ", ".join(f"{html.escape(a)} {p:.0%}" for a, p in res["top"])
        return HTML(
            f"<p>Q: <b>{html.escape(asked)}</b> → {html.escape(reader)} answers <b>{html.escape(res['answer'])}</b> "
            f"({res['probability']:.0%}){truth}. Top 3: {top}.</p>{note}"
            f"<table><tr><th>#</th><th>sentence</th>{hops}</tr>{''.join(rows)}</table>"
        )

    controls = {
        "reader": w.Dropdown(options=names, value=names[0], description="reader"),
        "task": w.Dropdown(options=sorted(tests), value=2 if 2 in tests else min(tests), description="task"),
        "example": w.IntSlider(value=0, min=0, max=min(len(v) for v in tests.values()) - 1, description="test story"),
        "question": w.Text(value="", description="question", placeholder="blank: the dataset's question"),
        "own_story": w.Textarea(value="", description="own story", placeholder="optional: one sentence per line"),
    }
    return Panel(controls, render, title="Ask a reader: its answer and where each hop looks (★ supporting fact)")


def plot_accuracy(table: pd.DataFrame, ax=None):
    """Test accuracy of each reader on each task, one dot per seed and the median as a bar.

    ``table`` has columns ``reader``, ``task``, ``seed``, ``accuracy`` (%).

    Defined in: notebooks/09_question_answering.ipynb
    """
    _check_plot_table(table, "table", ("reader", "task", "accuracy"), ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(data=table, x="reader", y="accuracy", hue="task", estimator=np.median, errorbar=None, alpha=0.5, ax=ax)
    sns.stripplot(data=table, x="reader", y="accuracy", hue="task", dodge=True, ax=ax, legend=False, size=6)
    ax.set(
        ylabel="test accuracy (%)",
        xlabel="",
        ylim=(0, 101),
        title="bAbI test accuracy: median (bar) and each seed (dots)",
    )
    ax.tick_params(axis="x", rotation=10)
    return ax


def plot_hop_attention(attention: torch.Tensor, story: list[str], supporting=(), ax=None, title: str | None = None):
    """Heatmap of a memory network's attention (K, n) over a story's sentences (★ = supporting fact).

    Defined in: notebooks/09_question_answering.ipynb
    """
    from ..plots import heatmap

    check_tensor(attention, "attention", dim=2, dtype="float", finite=True)
    story = _check_labels(story, "story", attention.size(1))
    if isinstance(supporting, (str, torch.Tensor)) or not isinstance(supporting, (list, tuple, set, range)):
        raise ArgumentTypeError(f"supporting must be a list of sentence indices, got {type(supporting).__name__}")
    for i in supporting:
        check_int(i, "supporting", min=0, max=len(story) - 1)
    if title is not None:
        check_text(title, "title")
    _check_ax(ax)
    labels = [f"{s}{' ★' if i in supporting else ''}" for i, s in enumerate(story)]
    K = attention.size(0)
    ax = heatmap(
        attention.T,
        xticklabels=[f"hop {k + 1}" for k in range(K)],
        yticklabels=labels,
        ax=ax,
        annot=True,
        fmt=".2f",
        vmin=0,
        vmax=1,
        figsize=(2.2 + 1.1 * K, 0.35 * len(story) + 1.2),
        cbar=False,
    )
    ax.tick_params(axis="y", rotation=0)
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------- the exercise


@exercise(
    "09.1",
    "a function where_is(story, question) → place, for task 1 (story: a list of sentences)",
    wrong=lambda: (
        lambda story, question: next(babi_words(s)[-1] for s in story if babi_words(s)[0] == babi_words(question)[-1])
    ),
)
def _check_where_is(answer):
    for q in load_babi(1, "test")[::7][:120]:
        got = answer(list(q.story), q.question)
        if not isinstance(got, str):
            raise Hint(f"where_is should return a place as a string, got {type(got).__name__}")
        if got.strip().lower() != q.answer:
            moves = [s for s in q.story if babi_words(s)[0] == babi_words(q.question)[-1]]
            raise Hint(
                f"Not yet: for {q.question!r} the answer is {q.answer!r}, your function said {got!r}. The person's "
                f"moves in that story, in order: {moves}. Which one tells where they are now?"
            )
