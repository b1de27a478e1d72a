"""Sentence sentiment (§6.4) on the UCI "Sentiment Labelled Sentences": data, five classifiers, explanations.

Defined in: notebooks/03_context_representation.ipynb

Data: 3,000 review sentences, 1,000 from each of Amazon, IMDb and Yelp, half positive (Kotzias,
Denil, de Freitas, Smyth, KDD 2015; CC BY 4.0). Split once, with a fixed seed, stratified by site
and label, so every model is scored on the same held-out test sentences.

Classifiers (:mod:`course_lib.models.sentence_classifier`; :func:`make_classifier` builds one by name), all
ending in one linear logit:

* ``"bow"``: bag-of-words logistic regression (logit = Σ over distinct words of a weight + bias);
* ``"mean"`` / ``"max"``: word embeddings, masked mean / max pooling (:mod:`course_lib.pooling`), linear;
* ``"bilstm"``: a bidirectional LSTM (Hochreiter & Schmidhuber 1997) reads the sentence; its two final states, linear;
* ``"attention"``: attention pooling with a learned query (:class:`course_lib.pooling.AttentionPooling`), linear.

Embeddings start random or from the bundled GloVe vectors (``init="glove"``; fine-tuned).
Words never seen in training are dropped from the input (a sentence with no known word keeps one
``<unk>`` whose vector is zero).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .checks import (
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_mask,
    check_probability,
    check_seed,
    check_tensor,
    check_text,
)
from .data import WordTokenizer, load_text
from .embeddings import WordVectors
from .errors import ArgumentError, ArgumentTypeError, DataFileError
from .models.sentence_classifier import KINDS, BagOfWordsClassifier, ClassifierConfig, EmbeddingClassifier
from .nn_utils import eval_mode

SOURCES = {
    "amazon": "sentiment_labelled_sentences/amazon_cells_labelled.txt",
    "imdb": "sentiment_labelled_sentences/imdb_labelled.txt",
    "yelp": "sentiment_labelled_sentences/yelp_labelled.txt",
}
MAX_LEN = 100
MAX_CLASSIFIER_WIDTH = 4096  # wider embeddings or LSTMs are refused (GloVe has 50 dimensions)


def parse_labelled_lines(text: str, source: str = "?") -> pd.DataFrame:
    """Parse ``sentence<TAB>label`` lines into a DataFrame (text, label, source).

    The file is split on ``"\\n"`` only (``str.splitlines`` would also split on the U+0085 characters
    inside two IMDb sentences) and each line on its *last* tab; no CSV quoting (stray quotes would
    swallow rows, which is how ``pandas.read_csv`` loses 252 IMDb sentences).

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_text(text, "text")
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        parts = line.rsplit("\t", 1)
        if len(parts) != 2 or parts[1].strip() not in ("0", "1"):
            raise ArgumentError(f"{source}, line {n}: expected 'sentence<TAB>0 or 1', got {line[:80]!r}")
        rows.append((parts[0].strip(), int(parts[1]), source))
    return pd.DataFrame(rows, columns=["text", "label", "source"])


def load_sentiment() -> pd.DataFrame:
    """All 3,000 sentences as a DataFrame with columns text, label (1 = positive) and source (amazon/imdb/yelp).

    Defined in: notebooks/03_context_representation.ipynb
    """
    frames = [parse_labelled_lines(load_text(path), source) for source, path in SOURCES.items()]
    df = pd.concat(frames, ignore_index=True)
    counts = df.groupby(["source", "label"]).size()
    if not (counts == 500).all():
        raise DataFileError(f"expected 500 sentences per site and label, got {counts.to_dict()}")
    return df


def stratified_split(df: pd.DataFrame, fractions=(0.6, 0.2, 0.2), seed: int = 0) -> dict[str, pd.DataFrame]:
    """Seeded train/val/test split, stratified by (source, label): each group is shuffled and cut by ``fractions``.

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(df, "df", pd.DataFrame)
    missing = [c for c in ("source", "label") if c not in df.columns]
    if missing:
        raise ArgumentError(f"df must have the columns source and label (see load_sentiment()); missing {missing}")
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise ArgumentTypeError(f"fractions must be three numbers (train, val, test), got {fractions!r}")
    fractions = [check_float(f, "fractions", min=0.0, max=1.0, min_open=True) for f in fractions]
    if abs(sum(fractions) - 1) > 1e-9:
        raise ArgumentError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    rng = np.random.default_rng(check_seed(seed))
    parts = {"train": [], "val": [], "test": []}
    for _, group in df.groupby(["source", "label"], sort=True):
        idx = group.index.to_numpy()[rng.permutation(len(group))]
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        parts["train"].append(idx[:n_train])
        parts["val"].append(idx[n_train : n_train + n_val])
        parts["test"].append(idx[n_train + n_val :])
    return {k: df.loc[np.sort(np.concatenate(v))].reset_index(drop=True) for k, v in parts.items()}


# ----------------------------------------------------------------------------------------------
# Vocabulary and encoding
# ----------------------------------------------------------------------------------------------
def _check_texts(texts, name: str = "texts") -> list[str]:
    """A list (or Series) of sentences, as a list of str."""
    if isinstance(texts, (str, bytes, dict, torch.Tensor)) or not isinstance(texts, Iterable):
        raise ArgumentTypeError(f"{name} must be a list (or Series) of sentences, got {type(texts).__name__}")
    texts = list(texts)
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise ArgumentTypeError(f"{name} must hold strings, got {bad[0]!r:.40} ({type(bad[0]).__name__})")
    return texts


def build_tokenizer(texts, glove=None) -> WordTokenizer:
    """Vocabulary: every word of the training ``texts`` (most frequent first), plus every GloVe word if given.

    Defined in: notebooks/03_context_representation.ipynb
    """
    texts = _check_texts(texts)
    if glove is not None:
        check_instance(glove, "glove", WordVectors)
    tok = WordTokenizer.from_texts(texts, min_freq=1)
    if glove is None:
        return tok
    extra = [w for w in glove.words if w not in tok.stoi]
    return WordTokenizer(tok.itos[len(WordTokenizer.SPECIALS) :] + extra)


def encode(tokenizer: WordTokenizer, texts, max_len: int = MAX_LEN):
    """Padded ids (B, T) and mask (B, T) (True = real token); unknown words dropped, an empty result keeps ``<unk>``.

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(tokenizer, "tokenizer", WordTokenizer)
    texts = _check_texts(texts)
    if not texts:
        raise ArgumentError("texts must hold at least one sentence")
    max_len = check_int(max_len, "max_len", min=1)
    seqs = []
    for t in texts:
        ids = [tokenizer.stoi[w] for w in tokenizer.tokenize(t) if w in tokenizer.stoi][:max_len]
        seqs.append(ids or [tokenizer.unk_id])
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), tokenizer.pad_id, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = True
    return ids, mask


# ----------------------------------------------------------------------------------------------
# The classifier
# ----------------------------------------------------------------------------------------------
def glove_matrix(tokenizer: WordTokenizer, glove, seed: int = 0) -> torch.Tensor:
    """A (V, 50) embedding matrix: GloVe rows for words GloVe knows, random N(0, σ²) rows otherwise (σ = GloVe's std).

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(tokenizer, "tokenizer", WordTokenizer)
    check_instance(glove, "glove", WordVectors)
    generator = torch.Generator().manual_seed(check_seed(seed))
    std = float(glove.vectors.std())
    m = torch.randn(tokenizer.vocab_size, glove.dim, generator=generator) * std
    for w, i in tokenizer.stoi.items():
        if w in glove.index:
            m[i] = glove.vectors[glove.index[w]]
    return m


def make_classifier(
    kind: str,
    tokenizer: WordTokenizer,
    glove=None,
    seed: int = 0,
    n_embd: int = 50,
    n_hidden: int = 32,
    dropout: float = 0.3,
) -> nn.Module:
    """A seeded classifier: ``"bow"`` → :class:`~course_lib.models.sentence_classifier.BagOfWordsClassifier`,
    otherwise an :class:`~course_lib.models.sentence_classifier.EmbeddingClassifier` with that encoder; with
    ``glove`` its embeddings start from GloVe, else from N(0, σ²).

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_choice(kind, "kind", KINDS)
    check_instance(tokenizer, "tokenizer", WordTokenizer)
    if glove is not None:
        check_instance(glove, "glove", WordVectors)
    check_probability(dropout, "dropout", allow_one=False)
    check_int(n_embd, "n_embd", min=1, max=MAX_CLASSIFIER_WIDTH)
    check_int(n_hidden, "n_hidden", min=1, max=MAX_CLASSIFIER_WIDTH)
    torch.manual_seed(check_seed(seed))
    cfg = ClassifierConfig(
        vocab_size=tokenizer.vocab_size,
        kind=kind,
        n_embd=n_embd if glove is None else glove.dim,
        n_hidden=n_hidden,
        dropout=dropout,
    )
    if kind == "bow":
        if glove is not None:
            raise ArgumentError("a bag-of-words model has no embeddings to initialise: pass glove=None")
        return BagOfWordsClassifier(cfg)
    if glove is None:
        model = EmbeddingClassifier(cfg)
        with torch.no_grad():
            model.emb.weight.normal_(0, 0.4)  # about GloVe-50d's spread
            model.emb.weight[:2].zero_()
        return model
    return EmbeddingClassifier(cfg, glove_matrix(tokenizer, glove, seed))


# ----------------------------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def predict_proba(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """P(positive) for every sentence, shape (N,).

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(model, "model", nn.Module, "torch.nn.Module")
    check_tensor(ids, "ids", dim=2, dtype="integer")
    check_mask(mask, "mask", ids.shape, exact_dims=True)
    if mask.shape != ids.shape:
        raise ArgumentError(f"mask must have the shape of ids {tuple(ids.shape)}, got {tuple(mask.shape)}")
    if len(ids) and not mask.any(1).all():
        raise ArgumentError("every row of mask needs at least one True (a real token)")
    batch_size = check_int(batch_size, "batch_size", min=1)
    out = []
    with eval_mode(model):
        for i in range(0, len(ids), batch_size):
            m = mask[i : i + batch_size]
            T = int(m.sum(1).max())
            out.append(torch.sigmoid(model(ids[i : i + batch_size, :T], m[:, :T])))
    return torch.cat(out)


def _check_xy(xy, name: str):
    """``(ids (N, T) integer, mask (N, T) bool, labels (N,) of 0/1)``, N ≥ 1, every row with a real token."""
    if not isinstance(xy, (tuple, list)) or len(xy) != 3:
        raise ArgumentTypeError(f"{name} must be a tuple (ids, mask, labels), got {type(xy).__name__}")
    ids, mask, y = xy
    check_tensor(ids, f"{name} ids", dim=2, dtype="integer")
    check_tensor(mask, f"{name} mask", shape=tuple(ids.shape), dtype="bool")
    check_tensor(y, f"{name} labels", shape=(len(ids),), dtype="integer")
    if len(ids) == 0 or not mask.any(1).all():
        raise ArgumentError(f"{name} needs at least one sentence, each with a True (real token) in its mask")
    if ((y != 0) & (y != 1)).any():
        raise ArgumentError(f"{name} labels must be 0 or 1")
    return ids, mask, y


def fit_classifier(
    model: nn.Module,
    train_xy,
    val_xy,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 5e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    desc: str | None = None,
):
    """Train with :func:`course_lib.train.train` (Adam, binary cross-entropy); keep the best validation weights.

    Batches hold sentences of similar length (each epoch: shuffle, sort runs of 10 batches by length,
    shuffle the batches), so little time is spent on padding.

    ``train_xy`` and ``val_xy`` are ``(ids, mask, labels)``. Returns the history (with ``val_acc``).

    Defined in: notebooks/03_context_representation.ipynb
    """
    from .train import train

    check_instance(model, "model", nn.Module, "torch.nn.Module")
    ids, mask, y = _check_xy(train_xy, "train_xy")
    _check_xy(val_xy, "val_xy")
    epochs = check_int(epochs, "epochs", min=1, max=10_000)
    batch_size = check_int(batch_size, "batch_size", min=1)
    lr = check_float(lr, "lr", min=0.0, min_open=True)
    weight_decay = check_float(weight_decay, "weight_decay", min=0.0)
    if desc is not None:
        check_text(desc, "desc", max_len=200)
    n = len(ids)
    generator = torch.Generator().manual_seed(check_seed(seed))
    lengths = mask.sum(1)
    batches = []  # per epoch: shuffle, sort chunks of 10 batches by length (less padding), shuffle the batches
    for _ in range(epochs):
        perm = torch.randperm(n, generator=generator)
        chunk = 10 * batch_size
        epoch_batches = []
        for c in range(0, n, chunk):
            part = perm[c : c + chunk]
            part = part[torch.sort(lengths[part], stable=True).indices]
            epoch_batches += list(part.split(batch_size))
        batches += [epoch_batches[i] for i in torch.randperm(len(epoch_batches), generator=generator).tolist()]
    steps_per_epoch = len(batches) // epochs
    best = {"acc": -1.0, "state": None}

    def get_batch(step):
        idx = batches[step]
        m = mask[idx]
        T = int(m.sum(1).max())
        return ids[idx, :T], m[:, :T], y[idx].float()

    def loss_fn(model, batch):
        x, m, t = batch
        return F.binary_cross_entropy_with_logits(model(x, m), t)

    def eval_fn(model):
        acc = float(((predict_proba(model, val_xy[0], val_xy[1]) > 0.5).long() == val_xy[2]).float().mean())
        if acc > best["acc"]:
            best["acc"], best["state"] = acc, copy.deepcopy(model.state_dict())
        return {"val_acc": acc}

    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    torch.manual_seed(check_seed(seed))
    hist = train(
        model,
        get_batch,
        loss_fn,
        opt,
        len(batches),
        eval_every=steps_per_epoch,
        eval_fn=eval_fn,
        log_every=steps_per_epoch,
        progress=progress,
        desc=desc or f"{model.cfg.kind}",
    )
    model.load_state_dict(best["state"])
    hist.attrs["best_val_acc"] = best["acc"]
    return hist


# Hyper-parameters per kind (chosen on the validation split, not the test split).
HPARAMS = {
    "bow": dict(lr=2e-2, weight_decay=1e-4),
    "mean": dict(lr=1e-2),
    "max": dict(lr=1e-2),
    "bilstm": dict(lr=5e-3),
    "attention": dict(lr=1e-2),
}


def compare_models(splits: dict, glove, kinds=KINDS, seeds=(0, 1, 2), epochs: int = 10, progress: bool = False):
    """Train every kind × {random, GloVe} init × seed; score on the test split.

    Returns ``(results, predictions, trained)``: ``results`` has one row per run (model, init, seed,
    val_acc, test_acc); ``predictions[(kind, init)]`` is a (seeds, N_test) tensor of P(positive);
    ``trained[(kind, init)]`` is ``(model, tokenizer)`` of the first seed (for widgets and error analysis).

    Defined in: notebooks/03_context_representation.ipynb
    """
    from tqdm.auto import tqdm

    check_instance(splits, "splits", dict, "dict of DataFrames (train, val, test), as stratified_split returns")
    for s in ("train", "val", "test"):
        if not isinstance(splits.get(s), pd.DataFrame) or not {"text", "label"} <= set(splits[s].columns):
            raise ArgumentError(f"splits[{s!r}] must be a DataFrame with columns text and label")
    check_instance(glove, "glove", WordVectors)
    if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)):
        raise ArgumentTypeError(f"kinds must be a list of model kinds from {KINDS}, got {kinds!r:.60}")
    kinds = [check_choice(k, "kinds", KINDS) for k in kinds]
    if not isinstance(seeds, (list, tuple, range)):
        raise ArgumentTypeError(f"seeds must be a list of seeds, got {seeds!r:.60}")
    seeds = [check_seed(s, "seeds") for s in seeds]
    epochs = check_int(epochs, "epochs", min=1, max=10_000)
    progress = check_flag(progress, "progress")
    toks = {"random": build_tokenizer(splits["train"].text), "GloVe": build_tokenizer(splits["train"].text, glove)}
    enc = {}
    for init, tok in toks.items():
        enc[init] = {
            s: (*encode(tok, splits[s].text), torch.tensor(splits[s].label.to_numpy()))
            for s in ("train", "val", "test")
        }
    runs = [(k, init, s) for k in kinds for init in (("random",) if k == "bow" else ("random", "GloVe")) for s in seeds]
    rows, preds, trained = [], {}, {}
    for kind, init, seed in tqdm(runs, desc="models × inits × seeds"):
        model = make_classifier(kind, toks[init], glove if init == "GloVe" else None, seed=seed)
        e = enc[init]
        hist = fit_classifier(
            model,
            e["train"],
            e["val"],
            epochs=epochs,
            seed=seed,
            progress=progress,
            desc=f"{kind}/{init}/seed {seed}",
            **HPARAMS[kind],
        )
        p = predict_proba(model, e["test"][0], e["test"][1])
        acc = float(((p > 0.5).long() == e["test"][2]).float().mean())
        rows.append({"model": kind, "init": init, "seed": seed, "val_acc": hist.attrs["best_val_acc"], "test_acc": acc})
        preds.setdefault((kind, init), []).append(p)
        if (kind, init) not in trained:
            trained[(kind, init)] = (model, toks[init])
    preds = {k: torch.stack(v) for k, v in preds.items()}
    return pd.DataFrame(rows), preds, trained


def summarise(results: pd.DataFrame, n_test: int) -> pd.DataFrame:
    """Mean test accuracy per (model, init) over seeds, its std over seeds, and a 95% CI half-width (n_test sentences).

    The CI is the binomial normal approximation 1.96·sqrt(p(1−p)/n): the uncertainty from having
    only ``n_test`` test sentences, which is larger than the seed-to-seed spread here.

    Defined in: notebooks/03_context_representation.ipynb
    """
    check_instance(results, "results", pd.DataFrame, "DataFrame (the first result of compare_models)")
    missing = sorted({"model", "init", "seed", "val_acc", "test_acc"} - set(results.columns))
    if missing:
        raise ArgumentError(f"results must have the columns of compare_models' table; missing {missing}")
    n_test = check_int(n_test, "n_test", min=1)
    groups = results.groupby(["model", "init"], sort=False)
    t = groups.agg(
        test_acc=("test_acc", "mean"),
        seed_std=("test_acc", "std"),
        val_acc=("val_acc", "mean"),
        seeds=("seed", "count"),
    ).reset_index()
    t["seed_std"] = t["seed_std"].fillna(0.0)
    t["ci95"] = 1.96 * np.sqrt(t.test_acc * (1 - t.test_acc) / n_test)
    t["label"] = t.model + " (" + t.init + ")"
    return t


def _as_scores(value, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ArgumentTypeError(f"{name} must be an (N,) array of scores in [0, 1], got {type(value).__name__}")
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"{name} must be an (N,) array of scores in [0, 1], got {type(value).__name__}"
        ) from None
    if a.ndim != 1 or len(a) == 0 or not np.isfinite(a).all():
        raise ArgumentError(f"{name} must be a non-empty (N,) array of finite scores, got shape {a.shape}")
    return a


def paired_bootstrap(correct_a: torch.Tensor, correct_b: torch.Tensor, n_boot: int = 2000, seed: int = 0):
    """Mean accuracy difference a − b over the same test sentences and its 95% bootstrap interval.

    ``correct_*`` (N,) are per-sentence scores in [0, 1] (e.g. the fraction of seeds that got it right).

    Defined in: notebooks/03_context_representation.ipynb
    """
    a, b = _as_scores(correct_a, "correct_a"), _as_scores(correct_b, "correct_b")
    n_boot = check_int(n_boot, "n_boot", min=1, max=100_000)
    if a.shape != b.shape or a.ndim != 1:
        raise ArgumentError(f"expected two (N,) arrays of the same length, got {a.shape} and {b.shape}")
    rng = np.random.default_rng(check_seed(seed))
    idx = rng.integers(0, len(a), (n_boot, len(a)))
    diffs = (a[idx] - b[idx]).mean(1)
    return float((a - b).mean()), float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))
