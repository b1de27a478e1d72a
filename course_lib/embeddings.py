"""Word embeddings: skip-gram with negative sampling, PPMI + truncated SVD, GloVe vectors, and how to judge them.

Defined in: notebooks/02_word_embeddings.ipynb

Three ways to get a d-dimensional vector per word, compared in notebook 02 on the same queries:

* **Skip-gram with negative sampling** (SGNS; Mikolov, Sutskever, Chen, Corrado, Dean 2013,
  "Distributed Representations of Words and Phrases and their Compositionality"). Each (centre,
  context) pair seen in a window is pushed together and K words drawn from the unigram^0.75
  distribution are pushed apart:

      loss = −log σ(u_o · v_c) − Σ_{k=1..K} log σ(−u_k · v_c)

  Frequent words are subsampled (the word2vec C code's rule: keep a word with probability
  (sqrt(f/t) + 1) · t/f, f its relative frequency).
* **PPMI + truncated SVD** (count-based; Levy, Goldberg, Dagan 2015, "Improving Distributional
  Similarity with Lessons Learned from Word Embeddings"): count co-occurrences in a window, take the
  positive pointwise mutual information with context-distribution smoothing (α = 0.75), keep the
  top-d singular directions. Levy & Goldberg (2014) showed SGNS implicitly factorises a shifted PMI
  matrix, so the two are close relatives.
* **GloVe** (Pennington, Socher, Manning 2014): the bundled 10,000 most frequent words of the
  6B-token, 50-d release, the "trained at scale" reference.

Vectors are compared by cosine similarity; analogies use 3CosAdd (Mikolov et al. 2013):
``a : b :: c : ?`` → the word x (not a, b or c) maximising cos(x, b̂ − â + ĉ).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .checks import (
    MAX_WIDTH,
    check_float,
    check_instance,
    check_int,
    check_seed,
    check_tensor,
    check_text,
    check_token_ids,
    closest_matches,
    require_text,
)
from .data import WordTokenizer, load_text, word_split
from .errors import ArgumentError, ArgumentTypeError, InputError
from .models.skipgram import SkipGram, SkipGramConfig, skipgram_loss  # noqa: F401  (skipgram_loss: the lesson's loss)

GLOVE_FILE = "glove_6B_50d_10k/glove.6B.50d.10k.txt"


# ----------------------------------------------------------------------------------------------
# Word vectors: a vocabulary plus a matrix, with cosine neighbours and analogies
# ----------------------------------------------------------------------------------------------
class WordVectors:
    """A vocabulary (list of words) and one vector per word, with cosine neighbours and analogies.

    ``vectors`` is a (V, D) tensor (or array); row i is the vector of ``words[i]``. Every query
    is deterministic: ties are broken by vocabulary order.

    Defined in: notebooks/02_word_embeddings.ipynb
    """

    def __init__(self, words: Sequence[str], vectors, name: str = ""):
        if isinstance(words, (str, bytes, torch.Tensor, np.ndarray)) or not isinstance(words, Iterable):
            raise ArgumentTypeError(f"words must be a list of strings, got {type(words).__name__}")
        words = list(words)
        bad = [w for w in words if not isinstance(w, str)]
        if bad:
            raise ArgumentTypeError(f"words must be a list of strings, got {bad[0]!r} ({type(bad[0]).__name__})")
        check_text(name, "name")
        if not isinstance(vectors, torch.Tensor):
            vectors = np.asarray(vectors)
            if not np.issubdtype(vectors.dtype, np.number):
                raise ArgumentTypeError(f"vectors must be a (V, D) matrix of numbers, got dtype {vectors.dtype}")
        vec = torch.as_tensor(vectors.detach() if isinstance(vectors, torch.Tensor) else vectors)
        vec = vec.to(torch.float32).cpu()
        if vec.dim() != 2:
            raise ArgumentError(f"vectors must be a (V, D) matrix, got shape {tuple(vec.shape)}")
        if len(words) != vec.shape[0]:
            raise ArgumentError(f"got {len(words)} words but {vec.shape[0]} vectors")
        self.words: list[str] = list(words)
        self.index: dict[str, int] = {}
        for i, w in enumerate(self.words):
            if w in self.index:
                raise ArgumentError(f"the word {w!r} appears twice in the vocabulary")
            self.index[w] = i
        self.vectors = vec  # (V, D)
        self.unit = F.normalize(vec, dim=1)  # (V, D), rows of length 1 (a zero row stays zero)
        self.name = name

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __repr__(self) -> str:
        return f"WordVectors({self.name!r}, {len(self)} words × {self.dim} dims)"

    def _id(self, word: str) -> int:
        if word not in self.index:
            near = closest_matches(word, self.words, n=5)
            hint = f" Close spellings: {', '.join(near)}." if near else ""
            raise KeyError(
                f"{word!r} is not in the vocabulary of {self.name or 'these vectors'} ({len(self)} words).{hint}"
            )
        return self.index[word]

    def vector(self, word: str) -> torch.Tensor:
        """The (D,) vector of ``word`` (KeyError with close spellings when unknown)."""
        return self.vectors[self._id(word)]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def _top(self, scores: torch.Tensor, k: int, exclude: Iterable[int] = ()) -> list[tuple[str, float]]:
        scores = scores.clone()
        for i in exclude:
            scores[i] = -math.inf
        order = torch.sort(scores, descending=True, stable=True).indices[:k]  # stable: ties keep vocabulary order
        return [(self.words[i], float(scores[i])) for i in order.tolist()]

    def neighbours(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded)."""
        i = self._id(word)
        return self._top(self.unit @ self.unit[i], k, exclude=[i])

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """3CosAdd: ``a`` is to ``b`` as ``c`` is to ? → words maximising cos(x, b̂ − â + ĉ), a, b, c excluded."""
        ia, ib, ic = self._id(a), self._id(b), self._id(c)
        target = self.unit[ib] - self.unit[ia] + self.unit[ic]  # (D,)
        return self._top(self.unit @ F.normalize(target, dim=0), k, exclude=[ia, ib, ic])

    def restrict(self, words: Iterable[str]) -> WordVectors:
        """The same vectors for a subset of words (in the order given; unknown words raise KeyError)."""
        words = list(words)
        return WordVectors(words, self.vectors[[self._id(w) for w in words]], name=self.name)


# ----------------------------------------------------------------------------------------------
# GloVe text format
# ----------------------------------------------------------------------------------------------
def parse_glove(text: str, name: str = "GloVe") -> WordVectors:
    """Parse GloVe text format (``word v1 … vD`` per line, single spaces, no header).

    Lines are split on ``"\\n"`` only and each line on its last D spaces, so odd characters in a
    word cannot shift the numbers. Raises ValueError naming the bad line.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_text(text, "text")
    check_text(name, "name")
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        raise ArgumentError("no vectors found: the GloVe text is empty")
    dim = len(lines[0].rstrip().split(" ")) - 1
    if dim < 1:
        raise ArgumentError(f"line 1 has no numbers: {lines[0][:80]!r}")
    words, rows = [], []
    for n, line in enumerate(lines, 1):
        parts = line.rstrip().rsplit(" ", dim)
        if len(parts) != dim + 1:
            raise ArgumentError(
                f"line {n}: expected a word and {dim} numbers, got {len(parts) - 1} fields: {line[:80]!r}"
            )
        try:
            rows.append([float(x) for x in parts[1:]])
        except ValueError:
            raise ArgumentError(f"line {n}: the {dim} values after the word must be numbers: {line[:80]!r}") from None
        words.append(parts[0])
    return WordVectors(words, np.asarray(rows, dtype=np.float32), name=name)


def format_glove(wv: WordVectors) -> str:
    """Write vectors in GloVe text format; each value is the shortest decimal that round-trips its float32.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_instance(wv, "wv", WordVectors)
    bad = [w for w in wv.words if not w or " " in w or "\n" in w]
    if bad:
        raise ArgumentError(
            f"GloVe text format cannot store words that are empty or contain spaces/newlines: {bad[:5]}"
        )
    arr = wv.vectors.numpy().astype(np.float32)
    fmt = lambda x: np.format_float_positional(x, unique=True, trim="-")  # noqa: E731
    return "".join(w + " " + " ".join(fmt(x) for x in row) + "\n" for w, row in zip(wv.words, arr))


def load_glove(path: str | Path = GLOVE_FILE, max_words: int | None = None) -> WordVectors:
    """Load GloVe vectors from ``data/`` (checksum verified); default: the bundled 10k × 50-d file.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    if max_words is not None:
        max_words = check_int(max_words, "max_words", min=1)
    text = load_text(path)
    if max_words is not None:
        text = "\n".join(text.split("\n", max_words)[:max_words])
    return parse_glove(text, name="GloVe")


# ----------------------------------------------------------------------------------------------
# Corpus → ids
# ----------------------------------------------------------------------------------------------
@dataclass
class Corpus:
    """A corpus as word ids: ``ids`` (N,) int64, its ``tokenizer`` and each id's ``counts`` (V,).

    Ids 0–3 are the tokenizer's special tokens (count 0); words under ``min_count`` are dropped
    from ``ids`` (as word2vec does).

    Defined in: notebooks/02_word_embeddings.ipynb
    """

    ids: torch.Tensor
    tokenizer: WordTokenizer
    counts: torch.Tensor

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def word_vectors(self, matrix: torch.Tensor, name: str) -> WordVectors:
        """Wrap a (V, D) matrix indexed by this corpus's ids, dropping the special tokens."""
        n = len(WordTokenizer.SPECIALS)
        return WordVectors(self.tokenizer.itos[n:], matrix[n:], name=name)


def corpus_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` without punctuation (``course_lib.data.word_split``, alphanumerics kept).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    return [w for w in word_split(text, lower=True) if w[0].isalnum()]


def build_corpus(words: Sequence[str], min_count: int = 5) -> Corpus:
    """Vocabulary of the words seen at least ``min_count`` times (most frequent first) and the corpus as ids.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    if isinstance(words, (str, bytes)) or not isinstance(words, Sequence):
        raise ArgumentTypeError(f"words must be a list of strings, got {type(words).__name__}")
    min_count = check_int(min_count, "min_count", min=1)
    if min_count < 1:
        raise ArgumentError(f"min_count must be >= 1, got {min_count}")
    counts = Counter(words)
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if not ranked:
        raise ArgumentError(f"no word occurs {min_count} times or more in a corpus of {len(words)} words")
    tok = WordTokenizer(ranked)
    ids = torch.tensor([tok.stoi[w] for w in words if w in tok.stoi and counts[w] >= min_count], dtype=torch.long)
    c = torch.zeros(tok.vocab_size, dtype=torch.long)
    for w in ranked:
        c[tok.stoi[w]] = counts[w]
    return Corpus(ids, tok, c)


# ----------------------------------------------------------------------------------------------
# Skip-gram with negative sampling
# ----------------------------------------------------------------------------------------------
def keep_probability(counts: torch.Tensor, t: float = 1e-3) -> torch.Tensor:
    """word2vec's subsampling: P(keep w) = min(1, (sqrt(f/t) + 1) · t/f), f = count / total.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_tensor(counts, "counts", dim=1)
    t = check_float(t, "t", min=0.0, min_open=True)
    f = counts.double() / counts.sum()
    p = (torch.sqrt(f / t) + 1) * t / f.clamp_min(1e-30)
    return torch.where(counts > 0, p.clamp(max=1.0), torch.zeros_like(p)).float()


def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """The negative-sampling distribution: P(w) ∝ count(w)^0.75 (zero for words never seen).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_tensor(counts, "counts", dim=1)
    power = check_float(power, "power")
    p = counts.double().clamp_min(0) ** power
    if p.sum() <= 0:
        raise ArgumentError("all counts are zero: cannot build a noise distribution")
    return (p / p.sum()).float()


def skipgram_pairs(
    ids: torch.Tensor, window: int = 5, keep: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(centre, context) id pairs, shape (P, 2), with word2vec's dynamic window.

    Words are first subsampled with ``keep`` (a per-id keep probability, or None for no
    subsampling). For each centre a window size b ~ Uniform{1..window} is drawn and every word at
    distance ≤ b on either side is a context (nearer words are used more often).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_int(window, "window", min=1)
    check_tensor(ids, "ids", dim=1, dtype="integer")
    if keep is not None:
        check_tensor(keep, "keep", dim=1, dtype="float")
        ids = ids[torch.rand(len(ids), generator=generator) < keep[ids]]
    n = len(ids)
    b = torch.randint(1, window + 1, (n,), generator=generator)  # (N,) window size per centre
    out = []
    for d in range(1, window + 1):
        if d >= n:
            break
        c = torch.arange(n - d)
        right = b[c] >= d  # centre c sees the word d to its right
        out.append(torch.stack([ids[c[right]], ids[c[right] + d]], 1))
        c2 = torch.arange(d, n)
        left = b[c2] >= d  # centre c2 sees the word d to its left
        out.append(torch.stack([ids[c2[left]], ids[c2[left] - d]], 1))
    if not out:
        return torch.zeros(0, 2, dtype=torch.long)
    return torch.cat(out)


def train_skipgram(
    corpus: Corpus,
    n_embd: int = 100,
    window: int = 5,
    negatives: int = 5,
    epochs: float = 1.0,
    batch_size: int = 4096,
    lr: float = 0.01,
    subsample: float | None = 1e-3,
    seed: int = 0,
    heldout: float = 0.0,
    eval_fn=None,
    max_seconds: float | None = None,
    desc: str = "skip-gram",
):
    """Train SGNS on ``corpus`` with :func:`course_lib.train.train`; return ``(model, history, pairs_per_second)``.

    Pairs are regenerated (new subsampling, new window sizes) for every epoch; a fractional
    ``epochs`` trains on that share of the pairs. Adam with a cosine-decaying learning rate.
    ``heldout`` (a fraction, e.g. 0.1) keeps the last part of the text out of training: the history then
    has a ``heldout_loss`` column, the loss on up to 20,000 of its pairs with fixed negatives, measured
    from step 0 (where it is exactly (K + 1) ln 2). ``eval_fn(model)``, if given, returns more metrics to log
    at the same steps (e.g. a check-set score of ``model.embeddings``). ``history.attrs["epoch_steps"]`` holds
    the step at which each epoch ends.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    from .train import cosine_schedule, train

    check_instance(corpus, "corpus", Corpus, "Corpus (from build_corpus)")
    n_embd = check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH)
    epochs = check_float(epochs, "epochs", min=0.0, min_open=True, max=1000.0)
    window = check_int(window, "window", min=1, max=100)
    negatives = check_int(negatives, "negatives", min=1, max=100)
    batch_size = check_int(batch_size, "batch_size", min=1)
    lr = check_float(lr, "lr", min=0.0, min_open=True)
    if subsample is not None:
        subsample = check_float(subsample, "subsample", min=0.0)
    if eval_fn is not None and not callable(eval_fn):
        raise ArgumentTypeError(f"eval_fn must be a function of the model, got {type(eval_fn).__name__}")
    check_text(desc, "desc", max_len=200)
    heldout = check_float(heldout, "heldout", min=0.0, max=0.5)
    seed = check_seed(seed)
    generator = torch.Generator().manual_seed(check_seed(seed))
    torch.manual_seed(check_seed(seed))
    keep = keep_probability(corpus.counts, subsample) if subsample else None
    noise = noise_distribution(corpus.counts)
    cut = len(corpus.ids) - int(round(heldout * len(corpus.ids)))
    train_ids, heldout_ids = corpus.ids[:cut], corpus.ids[cut:]
    chunks = [skipgram_pairs(train_ids, window, keep, generator) for _ in range(math.ceil(epochs))]
    chunks = [c[torch.randperm(len(c), generator=generator)] for c in chunks]
    n_pairs = int(round(epochs / math.ceil(epochs) * sum(len(c) for c in chunks)))
    pairs = torch.cat(chunks)[:n_pairs]
    steps = max(1, len(pairs) // batch_size)
    epoch_steps = [min(steps, int(sum(len(c) for c in chunks[: i + 1]) // batch_size)) for i in range(len(chunks))]
    model = SkipGram(SkipGramConfig(corpus.vocab_size, n_embd))
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def get_batch(step):
        b = pairs[step * batch_size : (step + 1) * batch_size]  # (B, 2)
        neg = torch.multinomial(noise, len(b) * negatives, replacement=True, generator=generator)
        return b[:, 0], b[:, 1], neg.view(len(b), negatives)  # (B,), (B,), (B, K)

    def loss_fn(m, batch):
        return m(*batch)

    extra_eval, eval_fn = eval_fn, None
    log_every = max(1, steps // 50)
    if heldout > 0 or extra_eval is not None:
        held = skipgram_pairs(heldout_ids, window, keep, torch.Generator().manual_seed(seed + 1))
        held = held[torch.randperm(len(held), generator=torch.Generator().manual_seed(seed + 2))[:20_000]]
        held_neg = (
            torch.multinomial(
                noise, len(held) * negatives, replacement=True, generator=torch.Generator().manual_seed(seed + 3)
            ).view(len(held), negatives)
            if len(held)
            else torch.zeros(0, negatives, dtype=torch.long)  # a held-out part too short to hold a pair
        )

        def eval_fn(m):
            metrics = {"heldout_loss": m(held[:, 0], held[:, 1], held_neg)} if len(held) else {}
            return {**metrics, **(extra_eval(m) if extra_eval is not None else {})}

    hist = train(
        model,
        get_batch,
        loss_fn,
        opt,
        steps,
        lr_schedule=cosine_schedule(lr, steps, min_lr=lr / 20),
        log_every=log_every,
        eval_every=log_every if eval_fn else None,
        eval_fn=eval_fn,
        max_seconds=max_seconds,
        desc=desc,
    )
    seconds = hist.attrs["train_seconds"]
    pairs_done = hist.attrs["steps_done"] * batch_size
    hist.attrs["pairs"] = pairs_done
    hist.attrs["epoch_steps"] = epoch_steps
    hist.attrs["log_every"] = log_every
    return model, hist, pairs_done / max(seconds, 1e-9)


# ----------------------------------------------------------------------------------------------
# PPMI + truncated SVD
# ----------------------------------------------------------------------------------------------
def cooccurrence_matrix(ids: torch.Tensor, vocab_size: int, window: int = 4) -> torch.Tensor:
    """Symmetric (V, V) co-occurrence counts: C[a, b] = times b occurs within ``window`` words of a.

    Dense, so meant for vocabularies up to ~10k words (a 10k × 10k float32 matrix is 400 MB).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_int(vocab_size, "vocab_size", min=1)
    check_int(window, "window", min=1)
    check_token_ids(ids, "ids", vocab_size)
    check_tensor(ids, "ids", dim=1)
    if vocab_size > 10_000:
        raise ArgumentError(
            f"cooccurrence_matrix is dense; a vocabulary of {vocab_size} words needs "
            f"{vocab_size**2 * 4 / 1e9:.1f} GB. Raise min_count to shrink the vocabulary."
        )
    ids = ids.long()
    counts = torch.zeros(vocab_size * vocab_size, dtype=torch.float32)
    for d in range(1, min(window, len(ids) - 1) + 1):  # farther pairs do not exist
        a, b = ids[:-d], ids[d:]
        ones = torch.ones(len(a))
        counts.index_add_(0, a * vocab_size + b, ones)
        counts.index_add_(0, b * vocab_size + a, ones)
    return counts.view(vocab_size, vocab_size)


def _check_square(counts) -> None:
    if not isinstance(counts, torch.Tensor) or counts.dim() != 2 or counts.shape[0] != counts.shape[1]:
        raise ArgumentError(f"counts must be a square (V, V) tensor, got {tuple(getattr(counts, 'shape', ()))}")


def ppmi(counts: torch.Tensor, alpha: float = 0.75) -> torch.Tensor:
    """Positive PMI with context-distribution smoothing: max(0, log P(w,c) / (P(w) P_α(c))).

    P_α(c) ∝ count(c)^α (α = 0.75, Levy et al. 2015) lowers the PMI of rare contexts.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_square(counts)
    check_tensor(counts, "counts", finite=True)
    if counts.numel() == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise ArgumentError("counts must be non-negative co-occurrence counts, not all zero")
    alpha = check_float(alpha, "alpha", min=0.0, max=10.0, min_open=True)
    c = counts.double()
    total = c.sum()
    pw = c.sum(1, keepdim=True) / total  # (V, 1)
    cc = c.sum(0, keepdim=True) ** alpha
    pc = cc / cc.sum()  # (1, V)
    with torch.no_grad():
        pmi = torch.log(c / total) - torch.log(pw) - torch.log(pc)
    pmi = torch.where(c > 0, pmi, torch.zeros_like(pmi))
    return pmi.clamp_min(0).float()


def truncated_svd(matrix: torch.Tensor, dim: int = 100, seed: int = 0) -> torch.Tensor:
    """The rows of ``matrix`` (V, V') reduced to their top-``dim`` singular directions: U·sqrt(S), shape (V, dim).

    Uses ``torch.svd_lowrank`` (randomised, seeded here so results repeat); its leading columns are the
    best rank-k reductions for every k ≤ ``dim``, so ``truncated_svd(m, 300)[:, :50]`` ≈ ``truncated_svd(m, 50)``.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_tensor(matrix, "matrix", dim=2, dtype="float")
    check_int(dim, "dim", min=1, max=min(matrix.shape))
    with torch.random.fork_rng():
        torch.manual_seed(check_seed(seed))
        u, s, _ = torch.svd_lowrank(matrix, q=dim, niter=4)
    return u * s.sqrt()  # (V, dim)


def ppmi_svd(corpus: Corpus, dim: int = 100, window: int = 4, alpha: float = 0.75, seed: int = 0) -> torch.Tensor:
    """Count-based embeddings: co-occurrence counts → PPMI → the top-``dim`` SVD directions, shape (V, dim).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_instance(corpus, "corpus", Corpus, "Corpus (from build_corpus)")
    m = ppmi(cooccurrence_matrix(corpus.ids, corpus.vocab_size, window), alpha)  # (V, V)
    return truncated_svd(m, dim, seed)  # (V, dim)


# ----------------------------------------------------------------------------------------------
# Evaluation on a small hand-written check set
# ----------------------------------------------------------------------------------------------
def category_accuracy(wv: WordVectors, categories: Mapping[str, Sequence[str]]) -> tuple[float, int]:
    """1-nearest-neighbour category accuracy: for each check word, is its nearest *other check word* in its category?

    Returns (accuracy, number of words scored). Words missing from ``wv`` are skipped, so pass
    categories already restricted to a shared vocabulary when comparing methods.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_instance(wv, "wv", WordVectors)
    check_instance(categories, "categories", Mapping, "dict {category: list of words}")
    for cat, ws in categories.items():
        if isinstance(ws, str) or not isinstance(ws, (list, tuple)) or not all(isinstance(w, str) for w in ws):
            raise ArgumentTypeError(f"categories[{cat!r:.40}] must be a list of words, got {ws!r:.60}")
    words, labels = [], []
    for cat, ws in categories.items():
        for w in ws:
            if w in wv and w not in words:
                words.append(w)
                labels.append(cat)
    if len(words) < 2:
        raise ArgumentError("fewer than two check words are in the vocabulary")
    u = wv.unit[[wv.index[w] for w in words]]  # (N, D)
    sim = u @ u.T
    sim.fill_diagonal_(-math.inf)
    nn_idx = torch.sort(sim, dim=1, descending=True, stable=True).indices[:, 0]
    hits = [labels[j] == labels[i] for i, j in enumerate(nn_idx.tolist())]
    return sum(hits) / len(hits), len(hits)


def _check_tuples(items, name: str, n: int) -> None:
    """A list of ``n``-tuples of words."""
    if isinstance(items, (str, bytes, dict)) or not isinstance(items, (list, tuple)):
        raise ArgumentTypeError(f"{name} must be a list of {n}-tuples of words, got {type(items).__name__}")
    for q in items:
        if not isinstance(q, (tuple, list)) or len(q) != n or not all(isinstance(w, str) for w in q):
            raise ArgumentTypeError(f"{name} must be a list of {n}-tuples of words, got the item {q!r:.60}")


def analogy_accuracy(wv: WordVectors, questions: Sequence[tuple[str, str, str, str]]) -> tuple[float, int]:
    """Top-1 3CosAdd accuracy on analogy questions ``(a, b, c, d)`` meaning a : b :: c : d.

    Returns (accuracy, number of questions scored); questions with a word missing from ``wv`` are skipped.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    check_instance(wv, "wv", WordVectors)
    _check_tuples(questions, "questions", 4)
    scored = [q for q in questions if all(w in wv for w in q)]
    if not scored:
        raise ArgumentError("no analogy question has all four words in the vocabulary")
    hits = sum(wv.analogy(a, b, c, k=1)[0][0] == d for a, b, c, d in scored)
    return hits / len(scored), len(scored)


def gender_analogies(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """All analogy questions a : b :: c : d from a list of (male, female) pairs, both directions.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_tuples(pairs, "pairs", 2)
    qs = []
    for i, (a, b) in enumerate(pairs):
        for j, (c, d) in enumerate(pairs):
            if i != j:
                qs.append((a, b, c, d))
                qs.append((b, a, d, c))
    return qs


def pca_2d(x: torch.Tensor) -> torch.Tensor:
    """Project rows of ``x`` (N, D) on their top two principal components → (N, 2) (signs fixed for repeatability).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    if not isinstance(x, np.ndarray):
        check_tensor(x, "x")
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() != 2 or x.shape[0] < 2:
        raise ArgumentError(f"pca_2d needs a (N, D) matrix with N >= 2, got {tuple(x.shape)}")
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)
    comps = vh[:2]  # (2, D)
    signs = torch.sign(comps[torch.arange(len(comps)), comps.abs().argmax(1)])
    comps = comps * signs[:, None]
    out = xc @ comps.T
    if out.shape[1] < 2:
        out = torch.cat([out, torch.zeros(len(out), 2 - out.shape[1], dtype=out.dtype)], 1)
    return out.float()


# ----------------------------------------------------------------------------------------------
# Tables the explorer panels of notebook 02 show (the panels are in course_lib.labs.embeddings)
# ----------------------------------------------------------------------------------------------
def _check_models(models) -> Mapping[str, WordVectors]:
    """``models`` must be a non-empty ``{name: WordVectors}`` dict."""
    if not isinstance(models, Mapping) or not models:
        raise ArgumentTypeError(f"models must be a non-empty dict {{name: WordVectors}}, got {type(models).__name__}")
    for name, wv in models.items():
        check_instance(wv, f"models[{name!r}]", WordVectors)
    return models


def _unknown_word_error(word: str, models: Mapping[str, WordVectors]) -> InputError:
    vocab = set()
    for wv in models.values():
        vocab.update(wv.words)
    near = closest_matches(word, sorted(vocab), n=5)
    hint = f" Did you mean: {', '.join(near)}?" if near else " Try a common word such as 'king', 'love' or 'night'."
    return InputError(f"'{word}' is not in the vocabulary of {' / '.join(models)}.{hint}")


def neighbours_table(models: Mapping[str, WordVectors], word: str, k: int = 8) -> pd.DataFrame:
    """Top-``k`` cosine neighbours of ``word`` for each model, side by side (one column pair per model).

    Raises :class:`InputError` for an empty word or one that no model knows (with close spellings).

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_models(models)
    k = check_int(k, "k", min=1, max=1000)
    word = require_text(word, "a word").lower()
    if not any(word in wv for wv in models.values()):
        raise _unknown_word_error(word, models)
    table = {"rank": list(range(1, k + 1))}
    for name, wv in models.items():
        if word in wv:
            nb = wv.neighbours(word, k)
            nb += [("", float("nan"))] * (k - len(nb))  # a vocabulary smaller than k + 1
            table[name] = [w for w, _ in nb]
            table[f"{name} cos"] = [round(s, 3) for _, s in nb]
        else:
            table[name] = ["(not in vocabulary)"] + [""] * (k - 1)
            table[f"{name} cos"] = [float("nan")] * k
    return pd.DataFrame(table)


def analogy_table(models: Mapping[str, WordVectors], a: str, b: str, c: str, k: int = 5) -> pd.DataFrame:
    """3CosAdd answers to ``a : b :: c : ?`` for each model that knows all three words.

    Defined in: notebooks/02_word_embeddings.ipynb
    """
    _check_models(models)
    k = check_int(k, "k", min=1, max=1000)
    words = [require_text(x, f"a word in box {n}").lower() for x, n in ((a, "a"), (b, "b"), (c, "c"))]
    for x in words:
        if not any(x in wv for wv in models.values()):
            raise _unknown_word_error(x, models)
    table = {"rank": list(range(1, k + 1))}
    for name, wv in models.items():
        missing = [x for x in words if x not in wv]
        if missing:
            table[name] = [f"(no '{missing[0]}')"] + [""] * (k - 1)
        else:
            answers = [f"{x} ({s:.2f})" for x, s in wv.analogy(*words, k=k)]
            table[name] = answers + [""] * (k - len(answers))
    return pd.DataFrame(table)
