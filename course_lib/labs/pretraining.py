"""Notebook 11's lab: the label-efficiency experiment, its plot, and the fill-in-the-blank widget.

Defined in: notebooks/11_pretraining_finetuning.ipynb

The ideas (BPE, the two objectives, fine-tuning, LoRA) are in :mod:`course_lib.bpe`,
:mod:`course_lib.pretraining` and :mod:`course_lib.lora`; this module runs the grid of
label counts × methods × seeds and builds the interactive panels.
"""

from __future__ import annotations

import copy
import html
import time

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.axes import Axes
from tqdm.auto import tqdm

from .. import pretraining as P
from ..checks import (
    MAX_SEED,
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_seed,
    check_tensor,
    check_text,
)
from ..errors import ArgumentError, ArgumentTypeError
from ..lora import apply_lora
from ..sentiment import build_tokenizer, encode, make_classifier
from ..widgets import HTML, InputError, Panel, require_text
from .exercises import Hint, exercise

METHODS = ("full fine-tuning", "LoRA", "linear probe", "from scratch", "bag-of-words")

#: Fine-tuning recipes per method (learning rate and epochs over the labelled sentences), chosen once
#: on the validation split and then used unchanged for every label count and seed.
FT_RECIPES = {
    "full fine-tuning": {"lr": 1e-3},
    "LoRA": {"lr": 3e-3, "r": 8, "alpha": 16.0},
    "from scratch": {"lr": 1e-3},
    "bag-of-words": {"lr": 2e-2},
    "linear probe": {"l2": 1e-2},
}


def ft_steps(n: int, batch_size: int = 32) -> int:
    """Optimizer steps for ``n`` labelled sentences: more epochs when there are fewer labels
    (15 epochs at 50 labels, 6 at 300, 2 at 1,800, interpolated in log n), at least 20 steps.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    n = check_int(n, "n", min=1)
    batch_size = check_int(batch_size, "batch_size", min=1)
    epochs = float(np.interp(np.log(n), np.log([50, 300, 1800]), [15, 6, 2]))
    return max(20, int(round(epochs * n / batch_size)))


def run_label_efficiency(
    backbone,
    tokenizer,
    splits: dict[str, pd.DataFrame],
    sizes=(50, 100, 300, 1000, 1800),
    seeds=(0, 1, 2),
    methods=METHODS,
    pool: str = "mean",
    progress: bool = True,
):
    """Train every method on ``n`` labels of notebook 03's training split, for every n and seed, and score
    it on the test split. Seed s draws the labelled subset (:func:`~course_lib.pretraining.label_subset`)
    and the random parts (new head, dropout, from-scratch weights).

    Returns ``(results, correct)``: one row per run (method, labels, seed, test_acc, seconds) and
    ``correct[(method, n)]`` = a (seeds, N_test) bool tensor (which test sentences each seed got right).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(backbone, "backbone", (P.BERT, P.GPT), "BERT or GPT backbone")
    P._check_tokenizer(tokenizer)
    if not isinstance(splits, dict) or any(k not in splits for k in ("train", "test")):
        raise ArgumentTypeError(f"splits must be a dict with 'train' and 'test' tables, got {type(splits).__name__}")
    for part in ("train", "test"):
        P._check_frame(splits[part], f"splits[{part!r}]", ("text", "label"))
        P._check_texts(splits[part].text.tolist(), f"splits[{part!r}].text")
        if not len(splits[part]) or not splits[part].label.isin([0, 1]).all():
            raise ArgumentError(f"splits[{part!r}] must hold sentences labelled 0 or 1")
    if splits["train"].label.nunique() < 2:
        raise ArgumentError("splits['train'] must hold sentences of both labels")
    sizes = _check_ints(sizes, "sizes", min=2, max=len(splits["train"]))
    seeds = _check_ints(seeds, "seeds", min=0, max=MAX_SEED)
    if isinstance(methods, str) or not isinstance(methods, (list, tuple)) or not methods:
        raise ArgumentTypeError(f"methods must be a non-empty list of method names, got {type(methods).__name__}")
    methods = [check_choice(m, "each method", METHODS) for m in methods]
    check_choice(pool, "pool", ("mean", "last"))
    progress = check_flag(progress, "progress")
    test = splits["test"]
    y_test = torch.tensor(test.label.to_numpy())
    t_ids, t_mask = P.encode_batch(tokenizer, test.text.tolist())
    train = splits["train"]
    bow_tok = build_tokenizer(train.text)
    b_ids, b_mask = encode(bow_tok, test.text)
    probe_feats = None
    if "linear probe" in methods:
        probe_model = P.TextClassifier(backbone, pool=pool)
        probe_feats = {
            "train": P.sentence_features(probe_model, *P.encode_batch(tokenizer, train.text.tolist())),
            "test": P.sentence_features(probe_model, t_ids, t_mask),
        }
    rows, correct = [], {}
    runs = [(m, n, s) for n in sizes for m in methods for s in seeds]
    for method, n, seed in tqdm(runs, desc="label-efficiency runs", disable=not progress):
        t0 = time.perf_counter()
        sub = P.label_subset(train, n, seed)
        y = torch.tensor(sub.label.to_numpy())
        rec = FT_RECIPES[method]
        if method == "linear probe":
            pos = train.reset_index(drop=True).text
            idx = [int(np.flatnonzero(pos.to_numpy() == t)[0]) for t in sub.text]
            logits = P.fit_probe(probe_feats["train"][idx], y, probe_feats["test"], l2=rec["l2"])
        elif method == "bag-of-words":
            model = make_classifier("bow", bow_tok, seed=seed)
            ids, mask = encode(bow_tok, sub.text)
            P.finetune(model, ids, mask, y, ft_steps(n), lr=rec["lr"], weight_decay=0.0, seed=seed)
            logits = P.predict_logits(model, b_ids, b_mask)
        else:
            torch.manual_seed(check_seed(seed))
            if method == "from scratch":
                c = backbone.config
                base = P.build_backbone(
                    "bert" if isinstance(backbone, P.BERT) else "gpt",
                    c.vocab_size,
                    tokenizer.special_id("[PAD]"),
                    block_size=c.block_size,
                    n_layer=c.n_layer,
                    n_head=c.n_head,
                    n_embd=c.n_embd,
                    dropout=c.dropout,
                )
            else:
                base = copy.deepcopy(backbone)
            model = P.TextClassifier(base, pool=pool)
            if method == "LoRA":
                apply_lora(model, targets=("q_proj", "v_proj"), r=rec["r"], alpha=rec["alpha"], trainable=("head",))
            ids, mask = P.encode_batch(tokenizer, sub.text.tolist())
            P.finetune(model, ids, mask, y, ft_steps(n), lr=rec["lr"], seed=seed)
            logits = P.predict_logits(model, t_ids, t_mask)
        right = (logits > 0).long() == y_test
        correct.setdefault((method, n), []).append(right)
        rows.append(
            {
                "method": method,
                "labels": n,
                "seed": seed,
                "test_acc": float(right.float().mean()),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
    return pd.DataFrame(rows), {k: torch.stack(v) for k, v in correct.items()}


def _check_ints(values, name: str, *, min: int, max: int) -> list[int]:
    """A non-empty list of integers in ``[min, max]``."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, range)) or not len(values):
        raise ArgumentTypeError(f"{name} must be a non-empty list of integers, got {type(values).__name__}")
    return [check_int(v, f"each of {name}", min=min, max=max) for v in values]


def summarise_runs(results: pd.DataFrame, correct: dict, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean test accuracy per (method, labels) over seeds, the seed spread, and a 95% bootstrap interval
    over the test sentences (of the accuracy averaged over seeds).

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(results, "results", pd.DataFrame)
    if any(c not in results.columns for c in ("method", "labels", "test_acc")):
        raise ArgumentError(f"results must have the columns method, labels and test_acc; got {list(results.columns)}")
    if not isinstance(correct, dict) or not correct:
        raise ArgumentTypeError(
            f"correct must be a non-empty dict {{(method, labels): tensor}}, got {type(correct).__name__}"
        )
    for key, right in correct.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ArgumentError(f"correct's keys must be (method, labels) pairs, got {key!r:.60}")
        check_tensor(right, f"correct[{key!r}]", dim=2, dtype="bool")
        if not right.numel():
            raise ArgumentError(f"correct[{key!r}] is empty: it needs (seeds, N_test) answers")
    n_boot = check_int(n_boot, "n_boot", min=1, max=100_000)
    rng = np.random.default_rng(check_seed(seed))
    rows = []
    for (method, n), right in correct.items():
        per_sentence = right.float().mean(0).numpy()  # (N_test,) share of seeds that got it right
        idx = rng.integers(0, len(per_sentence), (n_boot, len(per_sentence)))
        boots = per_sentence[idx].mean(1)
        accs = results[(results.method == method) & (results.labels == n)].test_acc
        rows.append(
            {
                "method": method,
                "labels": n,
                "seeds": len(accs),
                "test_acc": float(per_sentence.mean()),
                "lo": float(np.quantile(boots, 0.025)),
                "hi": float(np.quantile(boots, 0.975)),
                "seed_std": float(accs.std(ddof=1)) if len(accs) > 1 else 0.0,
            }
        )
    return pd.DataFrame(rows)


def plot_label_efficiency(summary: pd.DataFrame, anchor: float | None = None, ax=None, title: str | None = None):
    """Test accuracy against the number of labels (log scale), one line per method, 95% intervals as bands.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    check_instance(summary, "summary", pd.DataFrame)
    if summary.empty or any(c not in summary.columns for c in ("method", "labels", "test_acc", "lo", "hi")):
        raise ArgumentError("summary must be a non-empty table from summarise_runs (method, labels, test_acc, lo, hi)")
    if anchor is not None:
        anchor = check_float(anchor, "anchor")
    if title is not None:
        check_text(title, "title")
    if ax is not None:
        check_instance(ax, "ax", Axes, "matplotlib Axes")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.8))
    colours = dict(zip(METHODS, sns.color_palette("colorblind", len(METHODS))))
    for method, d in summary.groupby("method", sort=False):
        d = d.sort_values("labels")
        c = colours.get(method)
        ax.plot(d.labels, d.test_acc, marker="o", color=c, label=method)
        ax.fill_between(d.labels, d.lo, d.hi, color=c, alpha=0.15)
    if anchor is not None:
        ax.axhline(anchor, ls="--", color="grey", lw=1, label=f"notebook 03's best ({anchor:.3f})")
    ax.axhline(0.5, ls=":", color="black", lw=0.8)
    ax.set_xscale("log")
    ticks = sorted(summary.labels.unique())
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("labelled training sentences (log scale)")
    ax.set_ylabel("test accuracy (600 sentences)")
    ax.set_title(title or "Label efficiency: what pretraining buys", loc="left")
    ax.legend(fontsize="small", loc="lower right")
    return ax


# ----------------------------------------------------------------------------------------------
# Widgets
# ----------------------------------------------------------------------------------------------
def _check_masked_model(model, tokenizer) -> None:
    """``model`` must be the course's BERT and ``tokenizer`` its BPE tokenizer (with ``[MASK]`` and ``[EOS]``)."""
    from ..bpe import BPETokenizer
    from ..models.bert import BERT

    check_instance(model, "model", BERT)
    check_instance(tokenizer, "tokenizer", BPETokenizer)
    if any(s not in tokenizer.specials for s in ("[MASK]", "[EOS]")):
        raise ArgumentError("tokenizer must have the specials [MASK] and [EOS] (pretraining.train_tokenizer's)")
    if model.config.vocab_size != tokenizer.vocab_size:
        raise ArgumentError(
            f"model predicts {model.config.vocab_size} tokens but the tokenizer has {tokenizer.vocab_size}: "
            "pass the tokenizer the model was trained with"
        )


def fill_mask(model, tokenizer, sentence: str, top: int = 5) -> pd.DataFrame:
    """The masked model's top guesses for every ``[MASK]`` in ``sentence`` (one token per ``[MASK]``).

    A ``[MASK]`` takes the space before it (as RoBERTa's ``<mask>`` does), so ``"was [MASK]."``
    asks for a token such as " great". Raises :class:`InputError` when there is no ``[MASK]``.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    _check_masked_model(model, tokenizer)
    if sentence is not None and not isinstance(sentence, str):
        raise InputError(f"The sentence must be text, got {type(sentence).__name__}.")
    top = check_int(top, "top", min=1, max=tokenizer.vocab_size)
    text = require_text(sentence, "a sentence with [MASK] where a word is missing, e.g. 'The food was [MASK].'")
    if "[MASK]" not in text:
        raise InputError("Put [MASK] (capital letters, square brackets) where the missing word goes.")
    parts = text.split("[MASK]")
    mask_id = tokenizer.special_id("[MASK]")
    ids: list[int] = []
    for i, part in enumerate(parts):
        if i > 0:
            ids.append(mask_id)
        if i < len(parts) - 1:
            part = part.rstrip(" ")  # the mask takes the space before it
        ids.extend(tokenizer.encode(part))
    ids.append(tokenizer.special_id("[EOS]"))
    if len(ids) > model.config.block_size:
        raise InputError(f"That is {len(ids)} tokens; the model reads at most {model.config.block_size}.")
    x = torch.tensor([ids])
    with torch.no_grad():
        probs = torch.softmax(model.eval()(x)[0], -1)  # (T, V)
    specials = [tokenizer.special_id(s) for s in tokenizer.specials]
    probs[:, specials] = 0
    rows = []
    for k, pos in enumerate([i for i, t in enumerate(ids) if t == mask_id]):
        p, j = probs[pos].topk(top)
        for rank, (pp, jj) in enumerate(zip(p.tolist(), j.tolist()), 1):
            rows.append({"mask": k + 1, "rank": rank, "guess": tokenizer.token_str(jj), "probability": round(pp, 3)})
    return pd.DataFrame(rows)


def fill_mask_panel(model, tokenizer, sentence: str = "The food was [MASK] and the service was slow.") -> Panel:
    """Widget: type a sentence with ``[MASK]`` → the masked model's top-5 guesses, filled in.

    Defined in: notebooks/11_pretraining_finetuning.ipynb
    """
    _check_masked_model(model, tokenizer)
    check_text(sentence, "sentence")

    def render(sentence: str):
        table = fill_mask(model, tokenizer, sentence)
        best = table[table["rank"] == 1].guess.tolist()
        parts = [html.escape(p) for p in sentence.strip().split("[MASK]")]
        safe = parts[0]
        for guess, part in zip(best, parts[1:]):
            safe = safe.rstrip(" ") + f" <b><u>{html.escape(guess.strip())}</u></b>" + part
        rows = "".join(
            f"<tr><td>{r.mask}</td><td>{r.rank}</td><td><code>{html.escape(repr(r.guess))}</code></td>"
            f"<td>{r.probability:.3f}</td></tr>"
            for r in table.itertuples()
        )
        return HTML(
            f"<div style='font-size:1.1em'>{safe}</div>"
            f"<table><tr><th>[MASK]</th><th>rank</th><th>guess (token)</th><th>probability</th></tr>{rows}</table>"
        )

    box = w.Text(value=sentence, description="sentence", continuous_update=False, layout=w.Layout(width="560px"))
    return Panel({"sentence": box}, render, title="Fill in the blank with the masked language model")


# ----------------------------------------------------------------------------------------------
# Exercise 11.1: a linear probe on every layer
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def _layer_features_reference(net, ids, mask):
    from ..nn_utils import eval_mode
    from ..pooling import mean_pool

    with eval_mode(net):
        causal = not isinstance(net, P.BERT)
        key_mask = None if causal else net.key_mask(ids)
        x = net.wte(ids)  # (B, T, C)
        x = net.wpe(x) if net.wpe is not None else x
        feats = [mean_pool(x, mask)]
        for block in net.blocks:
            x, _, _ = block(x, mask=key_mask, causal=causal)
            feats.append(mean_pool(x, mask))
        feats[-1] = mean_pool(net.ln_f(x), mask)
    return feats


def _wrong_layer_features(net, ids, mask):
    from ..pooling import mean_pool

    return [mean_pool(P.hidden_states(net, ids), mask)] * (len(net.blocks) + 1)


@exercise(
    "11.1",
    "a function layer_features(net, ids, mask) returning a list of (B, C) averaged vectors, one per layer",
    wrong=lambda: _wrong_layer_features,
)
def _check_layer_features(answer):
    ids = torch.tensor([[5, 9, 11, 3, 0, 0], [7, 7, 2, 8, 4, 6]])
    mask = ids != 0
    for kind in ("gpt", "bert"):
        torch.manual_seed(0)
        net = P.build_backbone(kind, 16, 0, block_size=8, n_layer=2, n_head=2, n_embd=8, dropout=0.1)
        want = _layer_features_reference(net, ids, mask)
        got = answer(net, ids, mask)
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            raise Hint(
                f"For a {len(net.blocks)}-block network return a list of {len(want)} tensors: after the embedding "
                f"(layer 0) and after each block; got {type(got).__name__}"
                + (f" of length {len(got)}" if isinstance(got, (list, tuple)) else "")
            )
        for layer, (g, w_) in enumerate(zip(got, want)):
            g = torch.as_tensor(g)
            if tuple(g.shape) != tuple(w_.shape):
                raise Hint(f"layer {layer}: expected averaged vectors of shape {tuple(w_.shape)}, got {tuple(g.shape)}")
            if not torch.allclose(g.float(), w_, atol=1e-5):
                raise Hint(
                    f"Not yet ({kind.upper()}, layer {layer}): average each layer's vectors over the real tokens "
                    "(mean_pool with the mask), in eval mode (no dropout); layer 0 is token plus position "
                    "embedding, the BERT hides padding keys (net.key_mask) and the GPT attends causally; apply "
                    "the final LayerNorm (net.ln_f) after the last block only."
                )
