"""Recommendation as careful recommender papers evaluate it: leave-one-out, full ranking, intervals.

Defined in: notebooks/10_recommendation.ipynb

* **Protocol** (:func:`leave_one_out`): each user's interactions ordered by time; the last one is
  the test item, the one before the validation item, the rest is training data. Every item the
  user has already seen is removed from the ranking, and the held-out item is ranked against
  **all** other items (:func:`rank_targets`): sampling 100 negatives instead flatters models and can
  reorder them (Krichene & Rendle 2020, "On Sampled Metrics for Item Recommendation").
* **Metrics** for one held-out item at rank r (0 = top): HR@10 = 1[r < 10] and
  NDCG@10 = 1[r < 10] / log₂(r + 2); reported with 95% bootstrap intervals over users
  (:func:`metric_summary`).
* **Models** (every one is a function from users' histories to a score per item):
  most popular (:func:`popularity_scores`); item-to-item co-occurrence (item-kNN with cosine
  similarity; Sarwar et al. 2001, Linden, Smith & York 2003 — Amazon's method;
  :class:`ItemKNN`); item2vec (skip-gram of notebook 02 on users' histories; Barkan & Koenigstein
  2016; :func:`train_item2vec`); matrix factorisation with BPR (Rendle et al. 2009;
  :func:`bpr_loss`, ``course_lib.models.mf_bpr``); a causal Transformer over item ids (SASRec;
  Kang & McAuley 2018; ``course_lib.models.sasrec``); and content vectors for cold start
  (:func:`content_matrix`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .checks import (
    MAX_WIDTH,
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_probability,
    check_seed,
    check_tensor,
)
from .errors import ArgumentError, ArgumentTypeError

ScoreFn = Callable[[Sequence[Sequence[int]], np.ndarray], torch.Tensor]


# ----------------------------------------------------------------------------------------------
# Protocol
# ----------------------------------------------------------------------------------------------
@dataclass
class LeaveOneOut:
    """Per user (index u): ``train[u]`` (time-ordered item ids), ``val[u]`` and ``test[u]`` (one item each).

    ``histories("val")`` is what a model may read when predicting the validation item (the training
    items); ``histories("test")`` adds the validation item (the test item comes after it).

    Defined in: notebooks/10_recommendation.ipynb
    """

    train: list[list[int]]
    val: list[int]
    test: list[int]
    n_items: int  # including the padding id 0

    @property
    def n_users(self) -> int:
        return len(self.train)

    def histories(self, stage: str) -> list[list[int]]:
        if stage == "val":
            return [list(s) for s in self.train]
        if stage == "test":
            return [list(s) + [v] for s, v in zip(self.train, self.val)]
        raise ArgumentError(f"stage must be 'val' or 'test', got {stage!r}")

    def targets(self, stage: str) -> np.ndarray:
        if stage not in ("val", "test"):
            raise ArgumentError(f"stage must be 'val' or 'test', got {stage!r}")
        return np.asarray(self.val if stage == "val" else self.test)

    def train_counts(self) -> np.ndarray:
        """How often each item occurs in the training part (n_items,)."""
        counts = np.zeros(self.n_items, dtype=np.int64)
        for s in self.train:
            np.add.at(counts, np.asarray(s, dtype=np.int64), 1)
        return counts


MAX_ITEMS = 10_000_000  # item ids above this are refused: a (users, items) matrix would not fit in memory


def _check_split(split) -> LeaveOneOut:
    return check_instance(split, "split", LeaveOneOut, "LeaveOneOut (from leave_one_out)")


def _check_seqs(seqs, name: str, n_items: int | None = None) -> list[list[int]]:
    """Lists of item ids (each in 0 … n_items − 1 when ``n_items`` is given), as plain ints."""
    if not isinstance(seqs, (list, tuple)) or not all(isinstance(s, (list, tuple, np.ndarray)) for s in seqs):
        raise ArgumentTypeError(f"{name} must be a list of item-id lists, got {type(seqs).__name__}")
    hi = MAX_ITEMS if n_items is None else n_items - 1
    return [[check_int(i, f"each item id in {name}", min=0, max=hi) for i in s] for s in seqs]


def _check_score_fn(fn, name: str):
    if not callable(fn):
        raise ArgumentTypeError(f"{name} must be a score function (histories, users) → scores, got {type(fn).__name__}")
    return fn


def leave_one_out(ratings: pd.DataFrame, n_items: int, min_items: int = 3) -> LeaveOneOut:
    """Split interactions (columns user, item, timestamp) per user by time: last → test, previous → val.

    Ties in time are broken by item id (a fixed, documented order). Users need ``min_items``
    interactions (at least one left for training).

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_int(min_items, "min_items", min=3)
    check_instance(ratings, "ratings", pd.DataFrame)
    n_items = check_int(n_items, "n_items", min=1, max=MAX_ITEMS)
    for col in ("user", "item", "timestamp"):
        if col not in ratings:
            raise ArgumentError(f"ratings need a {col!r} column; got {list(ratings.columns)}")
    if len(ratings) and not (ratings.item.between(1, n_items - 1).all()):
        raise ArgumentError(f"ratings' item ids must be in 1 … n_items − 1 = {n_items - 1}")
    df = ratings.sort_values(["user", "timestamp", "item"], kind="stable")
    seqs = df.groupby("user", sort=True).item.apply(list)
    if len(seqs) and seqs.index.tolist() != list(range(len(seqs))):
        raise ArgumentError("user indices must be 0 … n_users − 1 with no gaps")
    short = [u for u, s in seqs.items() if len(s) < min_items]
    if short:
        raise ArgumentError(f"users {short[:5]} have fewer than {min_items} interactions")
    return LeaveOneOut([s[:-2] for s in seqs], [s[-2] for s in seqs], [s[-1] for s in seqs], int(n_items))


# ----------------------------------------------------------------------------------------------
# Ranking metrics
# ----------------------------------------------------------------------------------------------
def rank_targets(scores: torch.Tensor, targets: Sequence[int], seen: Sequence[Sequence[int]]) -> torch.Tensor:
    """0-based rank of each user's target among all items (U,), seen items and the padding id 0 excluded.

    ``scores`` (U, n_items). An item scoring exactly as the target counts as above it (ties are
    broken against the target, so a model that scores everything alike gets no credit).

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_tensor(scores, "scores", dim=2)
    if not isinstance(targets, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"targets must be a list of item ids, got {type(targets).__name__}")
    targets = [check_int(t, "each target", min=1, max=scores.size(1) - 1) for t in targets]
    seen = _check_seqs(seen, "seen", scores.size(1))
    if scores.size(0) != len(targets) or len(seen) != len(targets):
        raise ArgumentError(
            f"expected scores (U, n_items) with U = len(targets) = len(seen); got {tuple(scores.shape)}, "
            f"{len(targets)} targets, {len(seen)} histories"
        )
    s = scores.detach().to(torch.float64).clone()
    t = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    for u, items in enumerate(seen):
        if t[u].item() in set(items):
            raise ArgumentError(f"user {u}'s target item {t[u].item()} is in their history: it would be excluded")
        s[u, list(items)] = -math.inf
    s[:, 0] = -math.inf
    target_score = s[torch.arange(len(t)), t]  # (U,)
    above = (s >= target_score[:, None]).sum(1) - 1  # the target itself is counted once
    return above


def hit_ndcg(ranks, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Per-user HR@k = 1[rank < k] and NDCG@k = 1[rank < k] / log₂(rank + 2) (one relevant item).

    Defined in: notebooks/10_recommendation.ipynb
    """
    k = check_int(k, "k", min=1)
    if isinstance(ranks, torch.Tensor):
        ranks = ranks.numpy()
    if not isinstance(ranks, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"ranks must be a list or array of ranks, got {type(ranks).__name__}")
    r = np.asarray(ranks)
    if r.dtype.kind not in "iuf" or r.ndim != 1 or not np.isfinite(r).all() or (r < 0).any():
        raise ArgumentError(f"ranks must be a 1-D array of ranks ≥ 0 (0 = top), got {r.dtype} {r.shape}")
    r = r.astype(np.float64)
    hit = (r < k).astype(np.float64)
    return hit, hit / np.log2(r + 2)


def evaluate(score_fn: ScoreFn, split: LeaveOneOut, stage: str = "test", k: int = 10, batch: int = 128) -> pd.DataFrame:
    """Rank every user's held-out item with ``score_fn(histories, users) → (B, n_items)``.

    Returns one row per user: ``user``, ``target``, ``rank``, ``hr``, ``ndcg``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    _check_score_fn(score_fn, "score_fn")
    split = _check_split(split)
    check_choice(stage, "stage", ("val", "test"))
    k, batch = check_int(k, "k", min=1), check_int(batch, "batch", min=1)
    hists, targets = split.histories(stage), split.targets(stage)
    users = np.arange(split.n_users)
    ranks = []
    for i in range(0, len(users), batch):
        u = users[i : i + batch]
        h = [hists[j] for j in u]
        scores = score_fn(h, u)
        if tuple(scores.shape) != (len(u), split.n_items):
            raise ArgumentError(f"score_fn must return ({len(u)}, {split.n_items}) scores, got {tuple(scores.shape)}")
        ranks.append(rank_targets(scores, targets[u], h))
    rank = torch.cat(ranks).numpy()
    hr, ndcg = hit_ndcg(rank, k)
    return pd.DataFrame({"user": users, "target": targets, "rank": rank, "hr": hr, "ndcg": ndcg})


def bootstrap_interval(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` (one per user) and its percentile bootstrap interval, resampling users.

    Defined in: notebooks/10_recommendation.ipynb
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ArgumentError(f"values must be a non-empty 1-D array, got shape {v.shape}")
    n_boot = check_int(n_boot, "n_boot", min=1, max=1_000_000)
    level = check_probability(level, "level", allow_zero=False, allow_one=False)
    rng = np.random.default_rng(check_seed(seed))
    means = v[rng.integers(0, len(v), (n_boot, len(v)))].mean(1)
    a = (1 - level) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def metric_summary(per_user: dict[str, pd.DataFrame], users=None) -> pd.DataFrame:
    """One row per model: HR@10 and NDCG@10 with 95% bootstrap intervals over users (optionally a subset).

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_instance(per_user, "per_user", dict)
    for name, df in per_user.items():
        check_instance(df, f"per_user[{name!r}]", pd.DataFrame, "DataFrame (from evaluate)")
        if not {"user", "hr", "ndcg"} <= set(df.columns):
            raise ArgumentError(f"per_user[{name!r}] must have the columns user, hr, ndcg (from evaluate)")
    if users is not None and not isinstance(users, (list, tuple, np.ndarray, pd.Series, set, range)):
        raise ArgumentTypeError(f"users must be None or a list of user indices, got {type(users).__name__}")
    rows = []
    for name, df in per_user.items():
        d = df if users is None else df[df.user.isin(users)]
        hr, hr_lo, hr_hi = bootstrap_interval(d.hr)
        nd, nd_lo, nd_hi = bootstrap_interval(d.ndcg)
        rows.append(
            {"model": name, "users": len(d), "HR@10": hr, "HR lo": hr_lo, "HR hi": hr_hi,
             "NDCG@10": nd, "NDCG lo": nd_lo, "NDCG hi": nd_hi}
        )  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Baselines
# ----------------------------------------------------------------------------------------------
def popularity_scores(split: LeaveOneOut) -> ScoreFn:
    """Most popular: every user gets the items ranked by their number of training interactions.

    Defined in: notebooks/10_recommendation.ipynb
    """
    counts = torch.as_tensor(_check_split(split).train_counts(), dtype=torch.float32)

    def score(histories, users):
        return counts.expand(len(histories), -1).clone()

    return score


def interaction_matrix(seqs: Sequence[Sequence[int]], n_items: int) -> torch.Tensor:
    """Binary user × item matrix (U, n_items) of the given histories.

    Defined in: notebooks/10_recommendation.ipynb
    """
    n_items = check_int(n_items, "n_items", min=1, max=MAX_ITEMS)
    seqs = _check_seqs(seqs, "seqs", n_items)
    X = torch.zeros(len(seqs), n_items)
    for u, s in enumerate(seqs):
        if len(s):
            X[u, torch.as_tensor(list(s))] = 1.0
    return X


class ItemKNN:
    """Item-to-item collaborative filtering: sim(i, j) = cosine of the items' user columns.

    score(user, j) = Σ over the user's items i of sim(i, j)·w_i, where w_i = ``decay`` ** (steps
    back from the most recent item) (``decay=1``: all items count the same). Computed without the
    (I × I) matrix: with X the training user × item matrix and D its column counts,
    S = D^-½ XᵀX D^-½, so H S = ((H D^-½) Xᵀ)(X D^-½).

    Defined in: notebooks/10_recommendation.ipynb
    """

    def __init__(self, split: LeaveOneOut, decay: float = 1.0):
        split = _check_split(split)
        decay = check_float(decay, "decay", min=0.0)
        self.X = interaction_matrix(split.train, split.n_items)  # (U, I)
        counts = self.X.sum(0)
        self.inv_sqrt = torch.where(counts > 0, counts.clamp_min(1).rsqrt(), torch.zeros_like(counts))  # (I,)
        self.Xn = self.X * self.inv_sqrt  # (U, I): X D^-½
        self.decay = float(decay)
        self.n_items = split.n_items

    def weights(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        H = torch.zeros(len(histories), self.n_items)
        for u, h in enumerate(histories):
            if len(h):
                w = self.decay ** torch.arange(len(h) - 1, -1, -1, dtype=torch.float32)
                H[u].index_put_((torch.as_tensor(list(h)),), w, accumulate=True)
        return H

    def __call__(self, histories, users=None) -> torch.Tensor:
        H = self.weights(histories) * self.inv_sqrt  # (B, I): H D^-½
        return (H @ self.X.T) @ self.Xn  # (B, I) @ (I, U) → (B, U); @ (U, I) → (B, I)

    def similarity(self, items: Sequence[int], candidates: Sequence[int] | None = None) -> torch.Tensor:
        """Cosine similarities (len(items), len(candidates) or n_items) between item columns."""
        a = self.Xn[:, list(items)]  # (U, n)
        b = self.Xn if candidates is None else self.Xn[:, list(candidates)]
        return a.T @ b


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking (Rendle et al. 2009): mean of −log σ(x_ui − x_uj).

    ``pos`` (B,) scores of items the user chose, ``neg`` (B,) scores of sampled other items.

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_tensor(pos, "pos", dtype="float")
    check_tensor(neg, "neg", dtype="float")
    if pos.shape != neg.shape:
        raise ArgumentError(f"pos and neg must have the same shape, got {tuple(pos.shape)} and {tuple(neg.shape)}")
    return -F.logsigmoid(pos - neg).mean()


# ----------------------------------------------------------------------------------------------
# item2vec: notebook 02's skip-gram on users' histories
# ----------------------------------------------------------------------------------------------
def item2vec_pairs(seqs: Sequence[Sequence[int]], window: int, generator: torch.Generator) -> torch.Tensor:
    """(centre, context) item pairs (P, 2) from each user's history separately (no pair crosses users),
    with notebook 02's :func:`course_lib.embeddings.skipgram_pairs` (dynamic window).

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .embeddings import skipgram_pairs

    seqs = _check_seqs(seqs, "seqs")
    window = check_int(window, "window", min=1)
    check_instance(generator, "generator", torch.Generator)
    parts = [skipgram_pairs(torch.as_tensor(list(s)), window, None, generator) for s in seqs if len(s) > 1]
    return torch.cat(parts) if parts else torch.zeros(0, 2, dtype=torch.long)


def train_item2vec(
    split: LeaveOneOut,
    dim: int = 64,
    window: int = 5,
    negatives: int = 5,
    epochs: int = 5,
    batch_size: int = 2048,
    lr: float = 0.01,
    seed: int = 0,
    progress: bool = True,
):
    """item2vec: notebook 02's :class:`~course_lib.embeddings.SkipGram`, trained on item pairs from
    users' training histories, with negatives from the count^0.75 distribution. Returns ``(model, history)``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .embeddings import SkipGram, SkipGramConfig, noise_distribution
    from .train import cosine_schedule, train

    split = _check_split(split)
    dim, window = check_int(dim, "dim", min=1, max=MAX_WIDTH), check_int(window, "window", min=1)
    negatives, epochs = check_int(negatives, "negatives", min=1), check_int(epochs, "epochs", min=1, max=1000)
    batch_size = check_int(batch_size, "batch_size", min=1)
    lr, progress = check_float(lr, "lr", min=0.0, min_open=True), check_flag(progress, "progress")

    g = torch.Generator().manual_seed(check_seed(seed))
    torch.manual_seed(check_seed(seed))
    pairs = torch.cat([item2vec_pairs(split.train, window, g) for _ in range(epochs)])
    pairs = pairs[torch.randperm(len(pairs), generator=g)]
    noise = noise_distribution(torch.as_tensor(split.train_counts()))
    model = SkipGram(SkipGramConfig(split.n_items, dim))
    steps = max(1, len(pairs) // batch_size)

    def get_batch(step):
        b = pairs[step * batch_size : (step + 1) * batch_size]
        neg = torch.multinomial(noise, len(b) * negatives, replacement=True, generator=g).view(len(b), negatives)
        return b[:, 0], b[:, 1], neg

    hist = train(
        model,
        get_batch,
        lambda m, b: m(*b),
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        lr_schedule=cosine_schedule(lr, steps, min_lr=lr / 20),
        log_every=max(1, steps // 20),
        progress=progress,
        desc="item2vec",
    )
    return model, hist


def embedding_scores(vectors: torch.Tensor, decay: float = 1.0) -> ScoreFn:
    """Score items by the summed cosine similarity of their vectors to the user's items (weighted by
    ``decay`` ** steps back, as :class:`ItemKNN`). ``vectors`` (n_items, D).

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_tensor(vectors, "vectors", dim=2, dtype="float")
    decay = check_float(decay, "decay", min=0.0)
    unit = F.normalize(vectors.detach().float(), dim=1)  # (I, D)

    def score(histories, users=None):
        prof = torch.zeros(len(histories), unit.size(1))
        for u, h in enumerate(histories):
            w = decay ** torch.arange(len(h) - 1, -1, -1, dtype=torch.float32)  # (len,)
            prof[u] = (w[:, None] * unit[list(h)]).sum(0)
        return prof @ unit.T  # (B, I)

    return score


# ----------------------------------------------------------------------------------------------
# Content: genres, title words and tags, for items with few ratings
# ----------------------------------------------------------------------------------------------
def content_matrix(movies: pd.DataFrame, tags: pd.DataFrame, exclude: set[tuple[int, int]] = frozenset()):
    """TF-IDF content vectors (n_items, F) from genres, title words and tag words, L2-normalised.

    ``exclude`` holds (user, item) pairs whose tags must not be used: the held-out interactions
    (a user's tag on a movie says they watched it). Returns ``(matrix, feature names)``; row 0
    (padding) is zero.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .movielens import title_words

    check_instance(movies, "movies", pd.DataFrame)
    check_instance(tags, "tags", pd.DataFrame)
    for name, df, cols in (("movies", movies, ("item", "title", "genres")), ("tags", tags, ("user", "item", "tag"))):
        if not set(cols) <= set(df.columns):
            raise ArgumentError(f"{name} must have the columns {', '.join(cols)}; got {list(df.columns)}")
    if not isinstance(exclude, (set, frozenset)):
        raise ArgumentTypeError(f"exclude must be a set of (user, item) pairs, got {type(exclude).__name__}")
    docs: list[list[str]] = [[] for _ in range(len(movies) + 1)]
    for item, title, genres in zip(movies.item, movies.title, movies.genres):
        docs[item] += [f"genre:{g}" for g in genres.split("|") if g != "(no genres listed)"]
        docs[item] += [f"title:{w}" for w in title_words(title)]
    for user, item, tag in zip(tags.user, tags.item, tags.tag):
        if (int(user), int(item)) not in exclude:
            docs[item] += [f"tag:{w}" for w in title_words(tag)]
    from collections import Counter

    vocab = sorted({f for d in docs for f in d})
    index = {f: j for j, f in enumerate(vocab)}
    df = np.zeros(len(vocab))
    for d in docs:
        for f in set(d):
            df[index[f]] += 1
    idf = np.log((len(docs) - 1) / np.maximum(df, 1)) + 1.0
    rows, cols, vals = [], [], []
    for i, d in enumerate(docs):
        counts = Counter(d)
        w = {f: c * idf[index[f]] for f, c in counts.items()}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        for f, x in w.items():
            rows.append(i)
            cols.append(index[f])
            vals.append(x / norm)
    size = (len(docs), len(vocab))
    C = torch.sparse_coo_tensor([rows, cols], torch.tensor(vals, dtype=torch.float32), size, check_invariants=True)
    return C.coalesce(), vocab


def blend(first: ScoreFn, second: ScoreFn, weight: float) -> ScoreFn:
    """A hybrid: each user's scores from ``first`` and ``second``, each divided by that user's largest
    absolute score, added with ``weight`` on the second (e.g. item-kNN plus content for rare items).

    Defined in: notebooks/10_recommendation.ipynb
    """
    _check_score_fn(first, "first")
    _check_score_fn(second, "second")
    weight = check_float(weight, "weight")

    def score(histories, users):
        a, b = first(histories, users), second(histories, users)
        a = a / a.abs().amax(1, keepdim=True).clamp_min(1e-12)
        b = b / b.abs().amax(1, keepdim=True).clamp_min(1e-12)
        return a + weight * b

    return score


def content_scores(C: torch.Tensor, decay: float = 1.0) -> ScoreFn:
    """Score items by the cosine of their content vector with the user's summed content vectors
    (weighted by ``decay`` ** steps back). ``C`` is :func:`content_matrix`'s sparse (n_items, F) matrix.

    Defined in: notebooks/10_recommendation.ipynb
    """

    check_tensor(C, "C", dim=2, dtype="float")
    decay = check_float(decay, "decay", min=0.0)
    rows = C.coalesce() if C.is_sparse else C.to_sparse().coalesce()
    C_csr = rows.to_sparse_csr()  # (I, F)
    CT_csr = rows.t().coalesce().to_sparse_csr()  # (F, I)

    def score(histories, users=None):
        H = torch.zeros(len(histories), C.size(0))
        for u, h in enumerate(histories):
            w = decay ** torch.arange(len(h) - 1, -1, -1, dtype=torch.float32)
            H[u].index_put_((torch.as_tensor(list(h)),), w, accumulate=True)
        profile = CT_csr @ H.T  # (F, B): the users' summed content vectors
        return (C_csr @ profile).T  # (I, B) → (B, I)

    return score


# ----------------------------------------------------------------------------------------------
# Training the two neural recommenders
# ----------------------------------------------------------------------------------------------
def train_mf_bpr(
    split: LeaveOneOut,
    n_embd: int = 64,
    steps: int = 3000,
    batch_size: int = 1024,
    lr: float = 5e-3,
    reg: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
):
    """Matrix factorisation (``course_lib.models.mf_bpr``) trained with :func:`bpr_loss` on
    (user, chosen item, random other item) triples from the training part. Returns ``(model, history)``.

    The negative j is drawn uniformly from all items the user has not interacted with in training;
    ``reg`` is the L2 weight on the vectors of the batch (Rendle et al. 2009).

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .models.mf_bpr import MFBPR, MFConfig
    from .train import cosine_schedule, train

    split = _check_split(split)
    n_embd, steps = check_int(n_embd, "n_embd", min=1, max=MAX_WIDTH), check_int(steps, "steps", min=1)
    batch_size = check_int(batch_size, "batch_size", min=1)
    lr, reg = check_float(lr, "lr", min=0.0, min_open=True), check_float(reg, "reg", min=0.0)
    progress = check_flag(progress, "progress")

    g = torch.Generator().manual_seed(check_seed(seed))
    torch.manual_seed(check_seed(seed))
    users = torch.as_tensor(np.concatenate([[u] * len(s) for u, s in enumerate(split.train)]), dtype=torch.long)
    items = torch.as_tensor(np.concatenate([list(s) for s in split.train]), dtype=torch.long)
    seen = interaction_matrix(split.train, split.n_items).bool()  # (U, I)
    model = MFBPR(MFConfig(split.n_users, split.n_items, n_embd))

    def get_batch(step):
        idx = torch.randint(len(users), (batch_size,), generator=g)
        u, i = users[idx], items[idx]
        j = torch.randint(1, split.n_items, (batch_size,), generator=g)
        for _ in range(5):  # redraw negatives the user has seen (1.7% of draws on average)
            bad = seen[u, j]
            if not bad.any():
                break
            j[bad] = torch.randint(1, split.n_items, (int(bad.sum()),), generator=g)
        return u, i, j

    def loss_fn(m, batch):
        u, i, j = batch
        x_ui, x_uj = m(u, i, j)
        l2 = m.user(u).pow(2).sum(-1) + m.item(i).pow(2).sum(-1) + m.item(j).pow(2).sum(-1)
        bpr = bpr_loss(x_ui, x_uj)
        return {"loss": bpr + reg * l2.mean(), "bpr": bpr}

    hist = train(
        model,
        get_batch,
        loss_fn,
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        lr_schedule=cosine_schedule(lr, steps, min_lr=lr / 20),
        log_every=max(1, steps // 20),
        progress=progress,
        desc="MF-BPR",
    )
    return model, hist


def mf_scores(model) -> ScoreFn:
    """Scores of a trained :class:`~course_lib.models.mf_bpr.MFBPR` for the given users (its user vectors).

    Defined in: notebooks/10_recommendation.ipynb
    """

    def score(histories, users):
        with torch.no_grad():
            return model.all_scores(torch.as_tensor(np.asarray(users), dtype=torch.long))

    return score


def left_pad(histories: Sequence[Sequence[int]], block_size: int) -> torch.Tensor:
    """The last ``block_size`` items of each history, left-padded with 0: (B, block_size).

    Defined in: notebooks/10_recommendation.ipynb
    """
    block_size = check_int(block_size, "block_size", min=1, max=MAX_WIDTH)
    histories = _check_seqs(histories, "histories")
    out = torch.zeros(len(histories), block_size, dtype=torch.long)
    for u, h in enumerate(histories):
        h = list(h)[-block_size:]
        if h:
            out[u, block_size - len(h) :] = torch.as_tensor(h)
    return out


def sasrec_windows(seqs: Sequence[Sequence[int]], block_size: int) -> torch.Tensor:
    """Every training sequence cut, from its end, into windows of ``block_size + 1`` items
    (left-padded): (N, block_size + 1). Inputs are ``[:, :-1]``, next items ``[:, 1:]``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    block_size = check_int(block_size, "block_size", min=1, max=MAX_WIDTH)
    rows = []
    for s in _check_seqs(seqs, "seqs"):
        end = len(s)
        while end > 1:
            rows.append(s[max(0, end - block_size - 1) : end])
            end -= block_size
    return left_pad(rows, block_size + 1)


def train_sasrec(
    split: LeaveOneOut,
    config=None,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    eval_every: int | None = None,
    max_steps: int | None = None,
    negatives: int | None = 1024,
    progress: bool = True,
):
    """Train a :class:`~course_lib.models.sasrec.SASRec` on the training sequences with a language
    model's loss: at every real position, the cross-entropy of the next item.

    ``negatives=None`` computes the full softmax over all items. ``negatives=K`` (the default) uses a
    **sampled softmax** (Jean et al. 2015, how large-vocabulary language models were trained; Yi et
    al. 2019 for recommenders): the next item competes with K items drawn from the training popularity
    q (shared by the batch), every logit corrected by −log q so the estimate stays close to the full
    softmax; a drawn item equal to the target is removed. About 9× cheaper here, which matters on a CPU.
    ``eval_every`` (steps) adds the validation HR@10 to the history; ``max_steps`` stops early (the
    learning-rate schedule still spans ``epochs``). Returns ``(model, history)``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .models.sasrec import SASRec, SASRecConfig
    from .nn_utils import make_adamw
    from .train import cosine_schedule, train

    split = _check_split(split)
    config = SASRecConfig(vocab_size=split.n_items) if config is None else config
    check_instance(config, "config", SASRecConfig)
    if config.vocab_size < split.n_items:
        raise ArgumentError(
            f"config.vocab_size must be at least split.n_items = {split.n_items}, got {config.vocab_size}"
        )
    epochs, batch_size = check_int(epochs, "epochs", min=1, max=1000), check_int(batch_size, "batch_size", min=1)
    lr, weight_decay = check_float(lr, "lr", min=0.0, min_open=True), check_float(weight_decay, "weight_decay", min=0.0)
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    if negatives is not None:
        negatives = check_int(negatives, "negatives", min=1)
    progress = check_flag(progress, "progress")
    g = torch.Generator().manual_seed(check_seed(seed))
    torch.manual_seed(check_seed(seed))
    model = SASRec(config)
    windows = sasrec_windows(split.train, config.block_size)  # (N, T + 1)
    order = torch.cat([torch.randperm(len(windows), generator=g) for _ in range(epochs)])
    steps = math.ceil(len(order) / batch_size)  # the last batch may be smaller, never empty
    per_epoch = math.ceil(steps / epochs)

    def get_batch(step):
        return windows[order[step * batch_size : (step + 1) * batch_size]]

    counts = torch.as_tensor(split.train_counts(), dtype=torch.float64)
    q = (counts / counts.sum()).clamp_min(1e-12)  # (I,) proposal: training popularity (padding id 0: 0)
    log_q = torch.log(q).float()

    def loss_fn(m, w):
        x, y = w[:, :-1], w[:, 1:]
        real = y != 0  # padding positions predict nothing
        h, y = m.hidden(x)[real], y[real]  # (N, C), (N,)
        if negatives is None:
            return F.cross_entropy(h @ m.item.weight.T, y)  # (N, I): every item
        neg = torch.multinomial(q.float(), negatives, replacement=True, generator=g)  # (K,) shared by the batch
        pos = (h * m.item(y)).sum(-1, keepdim=True) - log_q[y][:, None]  # (N, 1)
        other = h @ m.item(neg).T - log_q[neg][None, :]  # (N, K)
        other = other.masked_fill(neg[None, :] == y[:, None], -math.inf)  # the target is not its own negative
        return F.cross_entropy(torch.cat([pos, other], 1), torch.zeros(len(y), dtype=torch.long))

    def eval_fn(m):
        return {"val_hr": float(evaluate(sasrec_scores(m), split, "val").hr.mean())}

    hist = train(
        model,
        get_batch,
        loss_fn,
        make_adamw(model, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98)),
        steps if max_steps is None else min(steps, check_int(max_steps, "max_steps", min=1)),
        eval_every=eval_every,
        eval_fn=eval_fn if eval_every else None,
        lr_schedule=cosine_schedule(lr, steps, warmup=min(50, steps // 10), min_lr=lr / 20),
        grad_clip=1.0,
        log_every=max(1, per_epoch),
        progress=progress,
        desc=f"SASRec ({sum(p.numel() for p in model.parameters()):,} params)",
    )
    return model, hist


def sasrec_scores(model) -> ScoreFn:
    """Scores after each user's newest item from a :class:`~course_lib.models.sasrec.SASRec` (eval mode).

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .nn_utils import eval_mode

    def score(histories, users=None):
        with torch.no_grad(), eval_mode(model):
            return model.last_scores(left_pad(histories, model.config.block_size))

    return score


#: The shipped SASRec (``tools/train_recommender.py``): the paper's small model (2 blocks, 1 head,
#: 64 dims, dropout 0.2, the last 50 items), trained for 20 epochs with the next-item cross-entropy
#: (a sampled softmax over 1,024 popularity-drawn items).
SASREC_RECIPE = {
    "model": {"block_size": 50, "n_layer": 2, "n_head": 1, "n_embd": 64, "dropout": 0.2},
    "epochs": 20,
    "batch_size": 64,
    "lr": 2e-3,
    "negatives": 1024,
}


def sasrec_checkpoint_path():
    """Where the shipped SASRec checkpoint lives: ``data/checkpoints/movielens_sasrec.pt``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .config import CHECKPOINT_DIR

    return CHECKPOINT_DIR / "movielens_sasrec.pt"


def save_sasrec(path, model, history: pd.DataFrame, info: dict):
    """Write a trained SASRec with its config, recipe and history (plain data; ``save_checkpoint``).

    Defined in: notebooks/10_recommendation.ipynb
    """
    from dataclasses import asdict

    from .models.sasrec import SASRec
    from .train import save_checkpoint

    check_instance(model, "model", SASRec)
    check_instance(history, "history", pd.DataFrame)
    check_instance(info, "info", dict)

    hist = {
        c: [None if (isinstance(v, float) and math.isnan(v)) else v for v in history[c].tolist()]
        for c in history.columns
    }
    return save_checkpoint(path, model, config=asdict(model.config), extra={"info": info, "history": hist})


def load_sasrec(path=None, verify: bool = True):
    """Load the shipped (or a saved) SASRec: ``(model, history, info)``, checked and read with ``weights_only=True``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from .errors import CheckpointError
    from .models.sasrec import SASRec, SASRecConfig
    from .train import load_checkpoint

    path = sasrec_checkpoint_path() if path is None else path
    payload = load_checkpoint(path, verify=verify)
    if "history" not in payload["extra"] or "info" not in payload["extra"]:
        raise CheckpointError(f"{path} is a course checkpoint but not a SASRec recommender")
    model = SASRec(SASRecConfig(**payload["config"]))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(f"the weights in {path} do not fit a SASRec: {str(e).splitlines()[0]}") from e
    model.eval()
    h = payload["extra"]["history"]
    history = pd.DataFrame({k: [math.nan if v is None else v for v in vals] for k, vals in h.items()})
    return model, history, payload["extra"]["info"]
