"""Notebook 08's lab: training recipes for the three translators, evaluation tables, plots and the widget.

Defined in: notebooks/08_translation.ipynb

The ideas (data split, decoding, BLEU) are in :mod:`course_lib.translation` and
:mod:`course_lib.beam_search`; the models in :mod:`course_lib.models.seq2seq` and
:mod:`course_lib.models.gpt`. ``tools/train_translation.py`` trains the shipped checkpoints with
:data:`SHIPPED_RECIPES`; the notebook trains the same models briefly with :data:`LIVE_RECIPES`.
"""

from __future__ import annotations

import copy
import html
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from ..checks import (
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_path,
    check_seed,
    check_tensor,
    check_text,
)
from ..config import CHECKPOINT_DIR, set_seed
from ..data import WordTokenizer
from ..errors import ArgumentError, ArgumentTypeError
from ..models.gpt import GPT, GPTConfig
from ..models.seq2seq import Seq2Seq, Seq2SeqConfig
from ..nn_utils import make_adamw
from ..plots import _check_ax, _check_labels, _check_plot_table, heatmap
from ..train import cosine_schedule, load_checkpoint, save_checkpoint, train
from ..translation import (
    IGNORE,
    Pair,
    Translator,
    bleu_statistics,
    build_joint_tokenizer,
    build_tokenizers,
    corpus_bleu,
    corpus_chrf,
    gpt_batch,
    gpt_translation_loss,
    load_pairs,
    seq2seq_batch,
    seq2seq_loss,
    split_pairs,
)
from ..widgets import HTML, InputError, Panel, closest_matches, require_text
from .exercises import Hint, exercise

KINDS = ("gru", "gru_attention", "gpt")
LABELS = {"gru": "GRU, no attention", "gru_attention": "GRU + attention", "gpt": "decoder-only GPT"}


@dataclass(frozen=True)
class TranslationRecipe:
    """How one translator is built and trained (the same data and split for all three kinds).

    Defined in: notebooks/08_translation.ipynb
    """

    kind: str
    n_embd: int = 256
    n_hidden: int = 256  # GRU width (seq2seq)
    n_layer: int = 4  # GPT
    n_head: int = 4  # GPT
    dropout: float = 0.2
    min_freq: int = 2  # words seen once in training become <unk> (smaller, faster models)
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    steps: int = 1000
    warmup: int = 100
    grad_clip: float = 1.0
    eval_every: int = 250

    def __post_init__(self):
        check_choice(self.kind, "kind", KINDS)


_BASE = {  # small enough to train on a shared CPU: 128-wide GRUs, a 4-layer 128-wide GPT
    "gru": TranslationRecipe("gru", n_embd=128, n_hidden=128),
    "gru_attention": TranslationRecipe("gru_attention", n_embd=128, n_hidden=128),
    "gpt": TranslationRecipe("gpt", n_embd=128, n_layer=4, n_head=4),
}
#: the notebook's live runs: a few hundred steps, to watch the curves move
LIVE_RECIPES = {k: replace(r, steps=300, eval_every=100) for k, r in _BASE.items()}
#: the shipped checkpoints (tools/train_translation.py): the same recipes, trained longer. The GPT got a third of
#: the GRUs' steps: on the shared CPU the checkpoints were made on, 1,500 GPT steps did not fit in the time left
SHIPPED_RECIPES = {k: replace(r, steps=1500, eval_every=250) for k, r in _BASE.items()}
SHIPPED_RECIPES["gpt"] = replace(SHIPPED_RECIPES["gpt"], steps=500, eval_every=100)
CHECKPOINTS = {k: CHECKPOINT_DIR / f"translation_{k}.pt" for k in KINDS}


def translation_data(seed: int = 0) -> dict[str, list[Pair]]:
    """The bundled pairs split by sentence (80 / 10 / 10, ``seed`` 0: the split every model uses).

    Defined in: notebooks/08_translation.ipynb
    """
    return split_pairs(load_pairs(), val_frac=0.1, test_frac=0.1, seed=seed)


def _check_tokenizers(recipe, tokenizers) -> tuple:
    n = 1 if recipe.kind == "gpt" else 2
    if not isinstance(tokenizers, tuple) or len(tokenizers) != n:
        want = "(joint,)" if n == 1 else "(french, english)"
        raise ArgumentError(
            f"tokenizers must be the tuple {want} of make_tokenizers for a {recipe.kind}, got {tokenizers!r:.60}"
        )
    for tok in tokenizers:
        check_instance(tok, "tokenizers", WordTokenizer)
    return tokenizers


def _check_pairs(pairs, name: str) -> list:
    if isinstance(pairs, str) or not isinstance(pairs, (list, tuple)) or not pairs:
        raise ArgumentTypeError(f"{name} must be a non-empty list of translation Pairs, got {type(pairs).__name__}")
    for p in pairs:
        check_instance(p, name, Pair, "translation Pair")
    return list(pairs)


def build_model(recipe: TranslationRecipe, tokenizers: tuple) -> torch.nn.Module:
    """A fresh model of ``recipe.kind`` sized for the tokenizers ``(src, tgt)`` or ``(joint,)``.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(recipe, "recipe", TranslationRecipe)
    _check_tokenizers(recipe, tokenizers)
    r = recipe
    if r.kind == "gpt":
        (tok,) = tokenizers
        return GPT(
            GPTConfig(
                vocab_size=tok.vocab_size,
                block_size=32,
                n_layer=r.n_layer,
                n_head=r.n_head,
                n_embd=r.n_embd,
                dropout=r.dropout,
                bias=True,
            )
        )
    src, tgt = tokenizers
    return Seq2Seq(
        Seq2SeqConfig(
            src_vocab_size=src.vocab_size,
            vocab_size=tgt.vocab_size,
            n_embd=r.n_embd,
            n_hidden=r.n_hidden,
            attention=r.kind == "gru_attention",
            dropout=r.dropout,
            pad_id=src.pad_id,
        )
    )


def make_tokenizers(recipe: TranslationRecipe, train_pairs) -> tuple:
    """``(french, english)`` word vocabularies for a GRU, ``(joint,)`` for the GPT, from the training pairs.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(recipe, "recipe", TranslationRecipe)
    _check_pairs(train_pairs, "train_pairs")
    if recipe.kind == "gpt":
        return (build_joint_tokenizer(train_pairs, recipe.min_freq),)
    return build_tokenizers(train_pairs, recipe.min_freq)


def _batcher(recipe, tokenizers):
    if recipe.kind == "gpt":
        return lambda pairs: gpt_batch(pairs, tokenizers[0])
    return lambda pairs: seq2seq_batch(pairs, *tokenizers)


def _loss(recipe):
    fn = gpt_translation_loss if recipe.kind == "gpt" else seq2seq_loss

    def loss_fn(model, batch):
        return fn(model, batch, label_smoothing=recipe.label_smoothing if model.training else 0.0)

    return loss_fn


def train_translator(
    recipe: TranslationRecipe,
    data: dict[str, list[Pair]],
    seed: int = 0,
    steps: int | None = None,
    progress: bool = True,
    val_bleu: bool = False,
):
    """Train one translator with the course's loop; returns ``(model, tokenizers, history)``.

    Random training batches (seeded), AdamW with a warm-up then cosine decay, gradient clipping,
    label smoothing; validation loss (nats per English token, no smoothing) every ``eval_every`` steps,
    and with ``val_bleu=True`` the greedy sacreBLEU of the validation set too.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(recipe, "recipe", TranslationRecipe)
    if not isinstance(data, dict) or any(k not in data for k in ("train", "val")):
        raise ArgumentTypeError(f"data must be a dict with 'train' and 'val' lists of Pairs, got {type(data).__name__}")
    _check_pairs(data["train"], "data['train']")
    _check_pairs(data["val"], "data['val']")
    seed = check_seed(seed)
    steps = recipe.steps if steps is None else check_int(steps, "steps", min=1)
    progress = check_flag(progress, "progress")
    val_bleu = check_flag(val_bleu, "val_bleu")
    generator = set_seed(seed)
    tokenizers = make_tokenizers(recipe, data["train"])
    model = build_model(recipe, tokenizers)
    batch_of = _batcher(recipe, tokenizers)
    train_pairs = data["train"]
    val_batches = [batch_of(data["val"][i : i + 256]) for i in range(0, len(data["val"]), 256)]
    loss_fn = _loss(recipe)

    def get_batch(step):
        idx = torch.randint(len(train_pairs), (recipe.batch_size,), generator=generator)
        return batch_of([train_pairs[i] for i in idx.tolist()])

    def eval_fn(model):
        total = sum(float(loss_fn(model, b)) * _n_targets(b) for b in val_batches)
        out = {"val_loss": total / sum(_n_targets(b) for b in val_batches)}
        if val_bleu:
            out["val_bleu"] = evaluate(Translator(model, *tokenizers), data["val"])["bleu"]
        return out

    optimizer = make_adamw(model, lr=recipe.lr, weight_decay=recipe.weight_decay)
    hist = train(
        model,
        get_batch,
        loss_fn,
        optimizer,
        steps,
        eval_every=min(recipe.eval_every, steps),
        eval_fn=eval_fn,
        lr_schedule=cosine_schedule(recipe.lr, steps, warmup=min(recipe.warmup, steps // 10), min_lr=recipe.lr / 10),
        grad_clip=recipe.grad_clip,
        log_every=max(1, min(50, steps // 20)),
        progress=progress,
        desc=LABELS[recipe.kind],
    )
    return model, tokenizers, hist


def _n_targets(batch) -> int:
    """Positions that carry a loss: English tokens and ``<eos>`` (never padding or the French prompt)."""
    if "tgt_out" in batch:
        return int((batch["tgt_out"] != 0).sum())  # pad_id is 0
    return int((batch["y"] != IGNORE).sum())


# ----------------------------------------------------------------------------- checkpoints


def save_translator(path, model, tokenizers, recipe: TranslationRecipe, history: pd.DataFrame, info: dict) -> Path:
    """Save a translator: weights in float16 (half the file; BLEU is measured on the reloaded weights),
    config, vocabularies, recipe, training history and ``info``.

    Defined in: notebooks/08_translation.ipynb
    """
    path = check_path(path, "path", must_exist=False)
    if not path.name or path.is_dir():
        raise ArgumentError(f"path must name a checkpoint file, got the folder {str(path)!r:.80}")
    check_instance(recipe, "recipe", TranslationRecipe)
    check_instance(model, "model", GPT if recipe.kind == "gpt" else Seq2Seq, f"{recipe.kind} model (from build_model)")
    _check_tokenizers(recipe, tokenizers)
    check_instance(history, "history", pd.DataFrame, "DataFrame (from train_translator)")
    check_instance(info, "info", dict)
    half = copy.deepcopy(model).half()
    extra = {
        "recipe": asdict(recipe),
        "tokenizers": [t.to_dict() for t in tokenizers],
        "history": {c: [None if (isinstance(v, float) and math.isnan(v)) else v for v in history[c]] for c in history},
        "info": dict(info),
    }
    return save_checkpoint(path, half, config=asdict(model.config), extra=extra)


def load_translator(kind: str, path: str | Path | None = None):
    """The shipped translator of ``kind``: ``(model, tokenizers, recipe, history, info)``, float32, eval mode.

    Defined in: notebooks/08_translation.ipynb
    """
    check_choice(kind, "kind", KINDS)
    path = CHECKPOINTS[kind] if path is None else check_path(path, "path")
    extra = load_checkpoint(path)["extra"]
    recipe = TranslationRecipe(**extra["recipe"])
    tokenizers = tuple(WordTokenizer.from_dict(d) for d in extra["tokenizers"])
    model = build_model(recipe, tokenizers).half()
    load_checkpoint(path, model)
    history = pd.DataFrame({k: pd.to_numeric(pd.Series(v, dtype=object)) for k, v in extra["history"].items()})
    return model.float().eval(), tokenizers, recipe, history, extra["info"]


# ----------------------------------------------------------------------------- evaluation


def evaluate(translator: Translator, pairs, beam_size: int = 1, length_penalty: float = 0.0) -> dict:
    """Translate ``pairs``' French and score against their English: sacreBLEU, chrF, length ratio,
    per-sentence BLEU statistics (for the bootstrap) and the hypotheses.

    Defined in: notebooks/08_translation.ipynb
    """
    check_instance(translator, "translator", Translator)
    pairs = _check_pairs(pairs, "pairs")
    beam_size = check_int(beam_size, "beam_size", min=1, max=32)
    length_penalty = check_float(length_penalty, "length_penalty", min=0.0, max=10.0)
    hyps = [t[0].text for t in translator.translate([p.french for p in pairs], beam_size, length_penalty)]
    refs = [p.english for p in pairs]
    bleu, bleu_sig = corpus_bleu(hyps, refs)
    chrf, chrf_sig = corpus_chrf(hyps, refs)
    return {
        "bleu": bleu.score,
        "chrf": chrf.score,
        "length_ratio": bleu.sys_len / bleu.ref_len,
        "stats": np.stack([bleu_statistics(h, r) for h, r in zip(hyps, refs)]),
        "hypotheses": hyps,
        "bleu_signature": bleu_sig,
        "chrf_signature": chrf_sig,
    }


def bleu_by_length(stats: dict[str, np.ndarray], lengths, bins=((1, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 14))):
    """Corpus BLEU of each system on the test sentences grouped by French length (in words).

    ``stats``: ``{system: per-sentence bleu_statistics (N, 10)}``; ``lengths``: (N,) source lengths.
    Returns a long DataFrame (system, words, sentences, BLEU).

    Defined in: notebooks/08_translation.ipynb
    """
    from ..translation import bleu_from_statistics

    if not isinstance(stats, dict) or not stats:
        raise ArgumentTypeError(
            f"stats must be a non-empty dict {{system: (N, 10) statistics}}, got {type(stats).__name__}"
        )
    if isinstance(lengths, (str, dict)) or not hasattr(lengths, "__len__"):
        raise ArgumentTypeError(f"lengths must be a list of source lengths, got {type(lengths).__name__}")
    lengths = np.array([check_int(n, "lengths", min=0) for n in lengths], dtype=int)
    for name, s in stats.items():
        check_text(name, "a system name of stats")
        if not isinstance(s, np.ndarray) or s.shape != (len(lengths), 10) or not np.isfinite(s).all():
            raise ArgumentError(
                f"stats[{name!r}] must be a finite ({len(lengths)}, 10) array of bleu_statistics, one row per sentence"
            )
    if isinstance(bins, (str, dict)) or not isinstance(bins, (list, tuple)):
        raise ArgumentTypeError(f"bins must be a list of (lo, hi) length ranges, got {type(bins).__name__}")
    for b in bins:
        if not isinstance(b, (list, tuple)) or len(b) != 2:
            raise ArgumentError(f"bins must hold (lo, hi) pairs, got {b!r:.40}")
        check_int(b[1], "bins", min=check_int(b[0], "bins", min=0))
    rows = []
    for name, s in stats.items():
        for lo, hi in bins:
            sel = (lengths >= lo) & (lengths <= hi)
            if sel.any():
                label = f"{lo}" if lo == hi else f"{lo}–{hi}"
                rows.append(
                    {
                        "system": name,
                        "words": label,
                        "sentences": int(sel.sum()),
                        "BLEU": bleu_from_statistics(s[sel].sum(0)),
                    }
                )
    return pd.DataFrame(rows)


def plot_bleu_by_length(table: pd.DataFrame, ax=None):
    """Line plot of :func:`bleu_by_length`: BLEU against source length, one line per system.

    Defined in: notebooks/08_translation.ipynb
    """
    _check_plot_table(table, "table", ("system", "words", "sentences", "BLEU"), ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4))
    sns.pointplot(data=table, x="words", y="BLEU", hue="system", ax=ax, markers="o")
    counts = table.drop_duplicates("words").set_index("words")["sentences"]
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels([f"{w}\n({n})" for w, n in counts.items()])
    ax.set(xlabel="French sentence length in words (number of test sentences)", ylabel="sacreBLEU")
    ax.set_title("Held-out BLEU by source length")
    ax.legend(title=None, fontsize="small")
    return ax


def plot_alignment(weights: torch.Tensor, source_tokens, target_tokens, ax=None, title: str | None = None):
    """The attention of the GRU decoder as a heatmap: one row per English word written, one column per French word.

    Defined in: notebooks/08_translation.ipynb
    """
    check_tensor(weights, "weights", dim=2, dtype="float", finite=True)
    source_tokens = _check_labels(source_tokens, "source_tokens", weights.size(1))
    target_tokens = _check_labels(target_tokens, "target_tokens", weights.size(0))
    if title is not None:
        check_text(title, "title")
    _check_ax(ax)
    w_ = weights.detach().numpy()
    fig_size = (0.6 * len(source_tokens) + 2.5, 0.45 * len(target_tokens) + 1.5)
    ax = heatmap(
        w_,
        xticklabels=list(source_tokens),
        yticklabels=list(target_tokens),
        ax=ax,
        annot=max(w_.shape) <= 10,
        fmt=".1f",
        vmin=0,
        vmax=1,
        figsize=fig_size,
        xlabel="French (source)",
        ylabel="English (written)",
        cbar=False,
    )
    ax.tick_params(axis="x", rotation=45)
    ax.tick_params(axis="y", rotation=0)
    if title:
        ax.set_title(title)
    return ax


def translation_panel(translators: dict[str, Translator], example: str = "Je suis très fatigué.") -> Panel:
    """Widget: type a French sentence, pick a model and a beam width; see the translation, the beam's
    alternatives with their log-probabilities and (for the GRU with attention) the attention map.

    Words outside the training vocabulary are answered with a message that lists them (and close
    known spellings); an empty box asks for a sentence.

    Defined in: notebooks/08_translation.ipynb
    """
    import base64

    from ..plots import figure_to_png

    if not isinstance(translators, dict) or not translators:
        raise ArgumentTypeError(
            f"translators must be a non-empty dict {{name: Translator}}, got {type(translators).__name__}"
        )
    for name, tr in translators.items():
        check_text(name, "a translator name")
        check_instance(tr, f"translators[{name!r}]", Translator)
    check_text(example, "example")
    names = list(translators)

    def render(sentence: str, model: str, beam: int):
        text = require_text(sentence, "a French sentence")
        tr = translators[model]
        unknown = tr.unknown_words(text)
        if unknown:
            hints = []
            for u in unknown[:5]:
                close = closest_matches(u, tr.src_tok.itos[4:], n=3)
                hints.append(f"{u!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
            raise InputError(
                f"Not in the French vocabulary this model learned from its training pairs: {'; '.join(hints)}. "
                "Try words from the example sentences."
            )
        n_words = len(tr.src_tok.tokenize(text))
        if n_words > 14:
            raise InputError(f"The models were trained on sentences of at most 14 words; this one has {n_words}.")
        hyps = tr.translate([text], beam_size=int(beam), n_best=int(beam))[0]
        rows = "".join(
            f"<tr><td>{i + 1}</td><td>{html.escape(h.text)}</td><td>{h.score:.2f}</td>"
            f"<td>{h.score / (len(h.tokens) + 1):.2f}</td></tr>"
            for i, h in enumerate(hyps)
        )
        head = "greedy" if beam == 1 else f"beam {int(beam)}"
        out = (
            f"<p><b>{html.escape(model)}</b>, {head}: <b>{html.escape(hyps[0].text)}</b></p>"
            "<table><tr><th>#</th><th>translation</th><th>log-prob</th><th>per token</th></tr>"
            f"{rows}</table>"
        )
        if tr.kind == "seq2seq" and tr.model.attn is not None:
            weights = tr.attention(text, hyps[0].tokens)
            fig, ax = plt.subplots()
            plot_alignment(
                weights,
                tr.src_tok.tokenize(text),
                list(hyps[0].tokens) + ["<eos>"],
                ax=ax,
                title="Where the decoder looked",
            )
            fig.set_size_inches(0.6 * n_words + 2.5, 0.45 * (len(hyps[0].tokens) + 1) + 1.5)
            png = base64.b64encode(figure_to_png(fig)).decode()
            out += f'<img src="data:image/png;base64,{png}"/>'
        else:
            out += "<p><i>This model has no encoder–decoder attention to show (pick GRU + attention).</i></p>"
        return HTML(out)

    controls = {
        "sentence": w.Text(
            value=example, description="French", continuous_update=False, layout=w.Layout(width="420px")
        ),
        "model": w.Dropdown(
            options=names,
            value=LABELS["gru_attention"] if LABELS["gru_attention"] in names else names[0],
            description="model",
        ),
        "beam": w.IntSlider(value=5, min=1, max=8, description="beam", continuous_update=False),
    }
    return Panel(controls, render, title="Translate French → English: beam alternatives and attention")


# ----------------------------------------------------------------------------- the exercise

_CLIP_CASES = [  # (hypothesis tokens, reference tokens, n, what the case tests)
    (
        "the the the the".split(),
        "the cat is here".split(),
        1,
        "a repeated word counts at most as often as in the reference",
    ),
    ("the cat the cat".split(), "the cat sat on the mat".split(), 2, "bigrams are clipped too"),
    ("i am happy".split(), "i am very happy".split(), 2, "an n-gram of the hypothesis absent from the reference"),
    ("he is a teacher".split(), "he is a good teacher".split(), 3, "trigrams"),
    ("yes".split(), "yes".split(), 2, "a hypothesis shorter than n has no n-grams (total 0)"),
    ("tom is tom is tom".split(), "tom is here and tom is there".split(), 2, "clipping with a count of 2"),
]


def _sacrebleu_counts(hyp: list[str], ref: list[str], n: int) -> tuple[int, int]:
    """sacrebleu's own clipped matches and totals for one sentence (the independent reference)."""
    import sacrebleu

    score = sacrebleu.corpus_bleu([" ".join(hyp)], [[" ".join(ref)]], lowercase=True)
    return int(score.counts[n - 1]), int(score.totals[n - 1])


@exercise(
    "08.1",
    "a function clipped_matches(hyp, ref, n) → (matches, total) for lists of words",
    wrong=lambda: (
        lambda hyp, ref, n: (
            sum(
                tuple(hyp[i : i + n]) in {tuple(ref[j : j + n]) for j in range(len(ref) - n + 1)}
                for i in range(len(hyp) - n + 1)
            ),
            max(len(hyp) - n + 1, 0),
        )
    ),
)
def _check_clipped_matches(answer):
    for hyp, ref, n, what in _CLIP_CASES:
        want = _sacrebleu_counts(hyp, ref, n)
        got = answer(list(hyp), list(ref), n)
        if not isinstance(got, tuple) or len(got) != 2:
            raise Hint(f"clipped_matches should return a pair (matches, total), got {got!r}")
        if tuple(int(v) for v in got) != want:
            raise Hint(
                f"Not yet — {what}: for hyp={' '.join(hyp)!r}, ref={' '.join(ref)!r}, n={n} sacrebleu counts "
                f"{want[0]} matches of {want[1]} n-grams, your function {got}. Count the hypothesis n-grams with a "
                "Counter and credit each at most as often as it occurs in the reference."
            )
