"""Sentence sentiment (§6.4) on the UCI "Sentiment Labelled Sentences": data, five classifiers, explanations.

Defined in: notebooks/03_context_representation.ipynb

Data: 3,000 review sentences, 1,000 from each of Amazon, IMDb and Yelp, half positive (Kotzias,
Denil, de Freitas, Smyth, KDD 2015; CC BY 4.0). Split once, with a fixed seed, stratified by site
and label, so every model is scored on the same held-out test sentences.

Classifiers (one :class:`SentenceClassifier`, five ``kind`` s), all ending in one linear logit:

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
import html as _html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .data import WordTokenizer, load_text
from .pooling import AttentionPooling, max_pool, mean_pool
from .widgets import HTML, InputError, Panel, require_text

SOURCES = {
    "amazon": "sentiment_labelled_sentences/amazon_cells_labelled.txt",
    "imdb": "sentiment_labelled_sentences/imdb_labelled.txt",
    "yelp": "sentiment_labelled_sentences/yelp_labelled.txt",
}
KINDS = ("bow", "mean", "max", "bilstm", "attention")
MAX_LEN = 100


def parse_labelled_lines(text: str, source: str = "?") -> pd.DataFrame:
    """Parse ``sentence<TAB>label`` lines into a DataFrame (text, label, source).

    The file is split on ``"\\n"`` only (``str.splitlines`` would also split on the U+0085 characters
    inside two IMDb sentences) and each line on its *last* tab; no CSV quoting (stray quotes would
    swallow rows, which is how ``pandas.read_csv`` loses 252 IMDb sentences).

    Defined in: notebooks/03_context_representation.ipynb
    """
    rows = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        parts = line.rsplit("\t", 1)
        if len(parts) != 2 or parts[1].strip() not in ("0", "1"):
            raise ValueError(f"{source}, line {n}: expected 'sentence<TAB>0 or 1', got {line[:80]!r}")
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
        raise ValueError(f"expected 500 sentences per site and label, got {counts.to_dict()}")
    return df


def stratified_split(df: pd.DataFrame, fractions=(0.6, 0.2, 0.2), seed: int = 0) -> dict[str, pd.DataFrame]:
    """Seeded train/val/test split, stratified by (source, label): each group is shuffled and cut by ``fractions``.

    Defined in: notebooks/03_context_representation.ipynb
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    rng = np.random.default_rng(seed)
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
def build_tokenizer(texts, glove=None) -> WordTokenizer:
    """Vocabulary = every word of the training ``texts`` (most frequent first), plus every GloVe word if ``glove`` is given.

    Defined in: notebooks/03_context_representation.ipynb
    """
    tok = WordTokenizer.from_texts(texts, min_freq=1)
    if glove is None:
        return tok
    extra = [w for w in glove.words if w not in tok.stoi]
    return WordTokenizer(tok.itos[len(WordTokenizer.SPECIALS) :] + extra)


def encode(tokenizer: WordTokenizer, texts, max_len: int = MAX_LEN):
    """Padded ids (B, T) and mask (B, T) (True = real token). Unknown words are dropped; an empty result keeps one ``<unk>``.

    Defined in: notebooks/03_context_representation.ipynb
    """
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
@dataclass
class ClassifierConfig:
    """Sizes of a :class:`SentenceClassifier`.

    Defined in: notebooks/03_context_representation.ipynb
    """

    vocab_size: int
    kind: str = "mean"  # one of KINDS
    dim: int = 50  # embedding size (GloVe: 50)
    hidden: int = 32  # BiLSTM hidden size per direction
    dropout: float = 0.3


class SentenceClassifier(nn.Module):
    """One logit per sentence from one of five encoders (``kind``: bow, mean, max, bilstm, attention).

    ``forward(ids (B, T), mask (B, T))`` returns logits (B,); P(positive) = sigmoid(logit).
    :meth:`contributions` splits each logit into per-token parts.

    Defined in: notebooks/03_context_representation.ipynb
    """

    def __init__(self, cfg: ClassifierConfig, embeddings: torch.Tensor | None = None):
        super().__init__()
        if cfg.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {cfg.kind!r}")
        self.cfg = cfg
        if cfg.kind == "bow":
            if embeddings is not None:
                raise ValueError("a bag-of-words model has no embeddings to initialise")
            self.bow = nn.Linear(cfg.vocab_size, 1)
            nn.init.zeros_(self.bow.weight)
            return
        self.emb = nn.Embedding(cfg.vocab_size, cfg.dim, padding_idx=0)
        if embeddings is not None:
            if embeddings.shape != (cfg.vocab_size, cfg.dim):
                raise ValueError(
                    f"embeddings must have shape {(cfg.vocab_size, cfg.dim)}, got {tuple(embeddings.shape)}"
                )
            with torch.no_grad():
                self.emb.weight.copy_(embeddings)
        with torch.no_grad():
            self.emb.weight[:2].zero_()  # <pad>, <unk>: zero vectors
        self.drop = nn.Dropout(cfg.dropout)
        if cfg.kind == "bilstm":
            self.lstm = nn.LSTM(cfg.dim, cfg.hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * cfg.hidden, 1)
        else:
            if cfg.kind == "attention":
                self.attn = AttentionPooling(cfg.dim)
            self.head = nn.Linear(cfg.dim, 1)

    def bag(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Binary bag-of-words (B, V): 1 where a word occurs in the sentence."""
        x = torch.zeros(ids.shape[0], self.cfg.vocab_size)
        x.scatter_(1, ids, mask.float())  # (B, V); padding adds 0
        return (x > 0).float()

    def encode(self, ids: torch.Tensor, mask: torch.Tensor):
        """The pooled sentence vector (B, D') and, for attention, the weights (B, T)."""
        e = self.emb(ids)  # (B, T, D)
        k = self.cfg.kind
        if k == "mean":
            return mean_pool(e, mask), None
        if k == "max":
            return max_pool(e, mask), None
        if k == "attention":
            return self.attn(e, mask)
        lengths = mask.sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (2, B, H), forward and backward final states
        return torch.cat([h[0], h[1]], dim=1), None  # (B, 2H)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ids.shape != mask.shape or ids.dim() != 2:
            raise ValueError(
                f"expected ids and mask of the same shape (B, T), got {tuple(ids.shape)} and {tuple(mask.shape)}"
            )
        if self.cfg.kind == "bow":
            return self.bow(self.bag(ids, mask)).squeeze(-1)  # (B,)
        pooled, _ = self.encode(ids, mask)
        return self.head(self.drop(pooled)).squeeze(-1)  # (B,)

    @torch.no_grad()
    def contributions(self, ids: torch.Tensor, mask: torch.Tensor):
        """Per-token contributions (B, T) to the logit, and attention weights (B, T) or None.

        Exact for bow/mean/max/attention: logit = bias + Σ_t contribution_t (bow: each distinct word
        once, at its first position; max: token t gets w_j·x_tj for the dimensions j it wins;
        attention: a_t · w·x_t). For the BiLSTM there is no such split: contribution_t is the drop in
        the logit when word t is removed (occlusion).
        """
        was = self.training
        self.eval()
        k = self.cfg.kind
        attn = None
        if k == "bow":
            w = self.bow.weight[0]  # (V,)
            first = torch.zeros_like(mask)
            for b in range(ids.shape[0]):
                seen = set()
                for t in range(ids.shape[1]):
                    if mask[b, t] and int(ids[b, t]) not in seen:
                        seen.add(int(ids[b, t]))
                        first[b, t] = True
            contrib = torch.where(first, w[ids], torch.zeros(()))
        elif k in ("mean", "max", "attention"):
            e = self.emb(ids)  # (B, T, D)
            w = self.head.weight[0]  # (D,)
            if k == "mean":
                contrib = (e @ w) / mask.sum(1, keepdim=True)
            elif k == "max":
                filled = e.masked_fill(~mask.unsqueeze(-1), -math.inf)
                winner = filled.argmax(1)  # (B, D) which token wins each dimension
                wins = F.one_hot(winner, ids.shape[1]).transpose(1, 2).float()  # (B, T, D)
                contrib = (wins * e * w).sum(-1)
            else:
                _, attn = self.attn(e, mask)
                contrib = attn * (e @ w)
            contrib = contrib * mask
        else:
            full = self(ids, mask)  # (B,)
            contrib = torch.zeros(ids.shape, dtype=torch.float32)
            for t in range(ids.shape[1]):
                m = mask.clone()
                m[:, t] = False
                ok = mask[:, t] & m.any(1)
                if ok.any():
                    contrib[ok, t] = full[ok] - self(ids[ok], m[ok])
        self.train(was)
        return contrib, attn


def glove_matrix(tokenizer: WordTokenizer, glove, seed: int = 0) -> torch.Tensor:
    """A (V, 50) embedding matrix: GloVe rows for words GloVe knows, random N(0, σ²) rows otherwise (σ = GloVe's std).

    Defined in: notebooks/03_context_representation.ipynb
    """
    g = torch.Generator().manual_seed(seed)
    std = float(glove.vectors.std())
    m = torch.randn(tokenizer.vocab_size, glove.dim, generator=g) * std
    for w, i in tokenizer.stoi.items():
        if w in glove.index:
            m[i] = glove.vectors[glove.index[w]]
    return m


def make_classifier(
    kind: str,
    tokenizer: WordTokenizer,
    glove=None,
    seed: int = 0,
    dim: int = 50,
    hidden: int = 32,
    dropout: float = 0.3,
) -> SentenceClassifier:
    """A seeded :class:`SentenceClassifier`; with ``glove`` its embeddings start from GloVe, else from N(0, σ²).

    Defined in: notebooks/03_context_representation.ipynb
    """
    torch.manual_seed(seed)
    cfg = ClassifierConfig(
        vocab_size=tokenizer.vocab_size,
        kind=kind,
        dim=dim if glove is None else glove.dim,
        hidden=hidden,
        dropout=dropout,
    )
    if kind == "bow" or glove is None:
        model = SentenceClassifier(cfg)
        if kind != "bow":
            with torch.no_grad():
                model.emb.weight.normal_(0, 0.4)  # about GloVe-50d's spread
                model.emb.weight[:2].zero_()
        return model
    return SentenceClassifier(cfg, glove_matrix(tokenizer, glove, seed))


# ----------------------------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------------------------
@torch.no_grad()
def predict_proba(
    model: SentenceClassifier, ids: torch.Tensor, mask: torch.Tensor, batch_size: int = 256
) -> torch.Tensor:
    """P(positive) for every sentence, shape (N,).

    Defined in: notebooks/03_context_representation.ipynb
    """
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(ids), batch_size):
        m = mask[i : i + batch_size]
        T = int(m.sum(1).max())
        out.append(torch.sigmoid(model(ids[i : i + batch_size, :T], m[:, :T])))
    model.train(was)
    return torch.cat(out)


def fit_classifier(
    model: SentenceClassifier,
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
    """Train with :func:`course_lib.train.train` (Adam, binary cross-entropy); keep the weights with the best validation accuracy.

    Batches hold sentences of similar length (each epoch: shuffle, sort runs of 10 batches by length,
    shuffle the batches), so little time is spent on padding.

    ``train_xy`` and ``val_xy`` are ``(ids, mask, labels)``. Returns the history (with ``val_acc``).

    Defined in: notebooks/03_context_representation.ipynb
    """
    from .train import train

    ids, mask, y = train_xy
    n = len(ids)
    g = torch.Generator().manual_seed(seed)
    lengths = mask.sum(1)
    batches = []  # per epoch: shuffle, sort chunks of 10 batches by length (less padding), shuffle the batches
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        chunk = 10 * batch_size
        epoch_batches = []
        for c in range(0, n, chunk):
            part = perm[c : c + chunk]
            part = part[torch.sort(lengths[part], stable=True).indices]
            epoch_batches += list(part.split(batch_size))
        batches += [epoch_batches[i] for i in torch.randperm(len(epoch_batches), generator=g).tolist()]
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
    torch.manual_seed(seed)
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
    """Mean test accuracy per (model, init) over seeds, its std over seeds, and a 95% CI half-width for n_test sentences.

    The CI is the binomial normal approximation 1.96·sqrt(p(1−p)/n): the uncertainty from having
    only ``n_test`` test sentences, which is larger than the seed-to-seed spread here.

    Defined in: notebooks/03_context_representation.ipynb
    """
    g = results.groupby(["model", "init"], sort=False)
    t = g.agg(
        test_acc=("test_acc", "mean"),
        seed_std=("test_acc", "std"),
        val_acc=("val_acc", "mean"),
        seeds=("seed", "count"),
    ).reset_index()
    t["seed_std"] = t["seed_std"].fillna(0.0)
    t["ci95"] = 1.96 * np.sqrt(t.test_acc * (1 - t.test_acc) / n_test)
    t["label"] = t.model + " (" + t.init + ")"
    return t


def paired_bootstrap(correct_a: torch.Tensor, correct_b: torch.Tensor, n_boot: int = 2000, seed: int = 0):
    """Mean accuracy difference a − b over the same test sentences and its 95% bootstrap interval.

    ``correct_*`` (N,) are per-sentence scores in [0, 1] (e.g. the fraction of seeds that got it right).

    Defined in: notebooks/03_context_representation.ipynb
    """
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"expected two (N,) arrays of the same length, got {a.shape} and {b.shape}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), (n_boot, len(a)))
    diffs = (a[idx] - b[idx]).mean(1)
    return float((a - b).mean()), float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))


# ----------------------------------------------------------------------------------------------
# The sentence widget
# ----------------------------------------------------------------------------------------------
def explain_sentence(model: SentenceClassifier, tokenizer: WordTokenizer, sentence: str) -> HTML:
    """HTML: the predicted sentiment and every word coloured by its contribution (green = positive, red = negative).

    Unknown words are shown grey (the model ignores them). Raises :class:`InputError` for an empty
    sentence or one with no known word.

    Defined in: notebooks/03_context_representation.ipynb
    """
    sentence = require_text(sentence, "a sentence (e.g. 'The battery life is great')")
    words = tokenizer.tokenize(sentence)
    known = [w for w in words if w in tokenizer.stoi]
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
    for w in words:
        if w not in tokenizer.stoi or j >= len(contrib):
            parts.append(f'<span style="color:#999" title="not in the vocabulary: ignored">{_html.escape(w)}</span>')
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
            f'title="{tip}">{_html.escape(w)}{sub}</span>'
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
    import ipywidgets as w

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
