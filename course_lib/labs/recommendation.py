"""Notebook 10's lab: the model comparison harness, its plots, and the "pick movies you like" widget.

Defined in: notebooks/10_recommendation.ipynb

The protocol, metrics and models are in :mod:`course_lib.recsys` and ``course_lib/models``; this module
runs them side by side and builds the interactive panel around them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F

from .. import recsys as R
from ..checks import check_float, check_instance, check_int, check_seed, check_tensor, check_text
from ..errors import ArgumentError, ArgumentTypeError
from ..plots import _check_plot_table
from ..widgets import HTML, InputError, Panel, closest_matches
from .exercises import Hint, exercise


# ----------------------------------------------------------------------------------------------
# Comparing models
# ----------------------------------------------------------------------------------------------
def results_table(per_user: dict[str, pd.DataFrame], users=None) -> pd.DataFrame:
    """:func:`course_lib.recsys.metric_summary` with rounded columns, as the notebook shows it.

    Defined in: notebooks/10_recommendation.ipynb
    """
    t = R.metric_summary(per_user, users)
    return t.round({c: 3 for c in t.columns if c not in ("model", "users")})


def plot_results(table: pd.DataFrame, title: str, ax=None):
    """HR@10 and NDCG@10 per model with their 95% intervals over users (two panels).

    Defined in: notebooks/10_recommendation.ipynb
    """
    _check_plot_table(table, "table", ("model", "HR@10", "HR lo", "HR hi", "NDCG@10", "NDCG lo", "NDCG hi"), ax, 2)
    check_text(title, "title")
    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 0.45 * len(table) + 1.6), sharey=True)
    for a, (metric, lo, hi) in zip(ax, (("HR@10", "HR lo", "HR hi"), ("NDCG@10", "NDCG lo", "NDCG hi"))):
        y = np.arange(len(table))
        colours = sns.color_palette("colorblind", len(table))
        a.errorbar(
            table[metric],
            y,
            xerr=[table[metric] - table[lo], table[hi] - table[metric]],
            fmt="none",
            ecolor="grey",
            capsize=3,
        )
        a.scatter(table[metric], y, c=colours, s=50, zorder=3)
        a.set_yticks(y, table.model)
        a.set_xlabel(f"{metric} (95% interval over users)")
        a.set_xlim(left=0)
        a.invert_yaxis()
    ax[0].set_title(title, loc="left")
    plt.tight_layout()
    return ax


def sampled_hr(scores_fn, split: R.LeaveOneOut, n_negatives: int = 100, k: int = 10, seed: int = 0) -> float:
    """HR@k when the held-out item is ranked against only ``n_negatives`` random unseen items (the
    shortcut Krichene & Rendle 2020 warn against), for comparison with the full ranking.

    Defined in: notebooks/10_recommendation.ipynb
    """
    scores_fn = R._check_score_fn(scores_fn, "scores_fn")
    split = R._check_split(split)
    n_negatives = check_int(n_negatives, "n_negatives", min=1, max=100_000)
    k = check_int(k, "k", min=1)
    rng = np.random.default_rng(check_seed(seed))
    hists, targets = split.histories("test"), split.targets("test")
    for u in range(split.n_users):
        if len(set(hists[u]) | {int(targets[u]), 0}) >= split.n_items:
            raise ArgumentError(f"user {u} has seen every item of split: no negatives are left to sample")
    scores = scores_fn(hists, np.arange(split.n_users))
    check_tensor(scores, "scores_fn's scores", shape=(split.n_users, split.n_items))
    hits = []
    for u in range(split.n_users):
        seen = set(hists[u]) | {int(targets[u]), 0}
        cand = []
        while len(cand) < n_negatives:
            c = int(rng.integers(1, split.n_items))
            if c not in seen:
                cand.append(c)
        s = scores[u, cand]
        rank = int((s >= scores[u, int(targets[u])]).sum())
        hits.append(rank < k)
    return float(np.mean(hits))


# ----------------------------------------------------------------------------------------------
# The widget: pick movies, get a top-10 with a reason for each
# ----------------------------------------------------------------------------------------------
_ARTICLE = re.compile(r"^(.*), (The|A|An|Les|La|Le|Il|Das|Der|Die|El)(\s*\(.*)?$")


def normalise_title(title: str) -> str:
    """Lower case, year and punctuation dropped, a trailing article moved to the front:
    ``"Matrix, The (1999)"`` → ``"the matrix"``.

    Defined in: notebooks/10_recommendation.ipynb
    """
    t = re.sub(r"\s*\(\d{4}\)\s*$", "", check_text(title, "title").strip())
    m = _ARTICLE.match(t)
    if m:
        t = f"{m.group(2)} {m.group(1)}{m.group(3) or ''}"
    return " ".join(re.findall(r"[^\W_]+", t.lower()))


class TitleIndex:
    """Find a movie from what a learner types: an exact title, or a title without its year or with its
    article in front (``"the matrix"``); ambiguous or unknown input raises :class:`InputError` with
    suggestions. Among several movies with the same name, the most rated one is taken.

    Defined in: notebooks/10_recommendation.ipynb
    """

    def __init__(self, movies: pd.DataFrame, counts: np.ndarray):
        check_instance(movies, "movies", pd.DataFrame)
        if "item" not in movies.columns or "title" not in movies.columns or movies.empty:
            raise ArgumentError("movies must be a non-empty table with the columns item and title")
        if not all(isinstance(t, str) for t in movies.title):
            raise ArgumentTypeError("movies' titles must be strings")
        items = [check_int(i, "movies' items", min=0) for i in movies.item]
        if not isinstance(counts, (np.ndarray, list, tuple)) or len(counts) <= max(items):
            raise ArgumentError(f"counts must be an array with one rating count per item 0..{max(items)}")
        self.titles = dict(zip(movies.item, movies.title))
        self.exact = {t.lower(): i for i, t in self.titles.items()}
        self.counts = counts
        self.norm: dict[str, list[int]] = {}
        for i, t in self.titles.items():
            self.norm.setdefault(normalise_title(t), []).append(i)
        self.popular = sorted(self.titles, key=lambda i: (-counts[i], self.titles[i]))

    def options(self, n: int = 3000) -> list[str]:
        """The ``n`` most rated titles (suggestions for the search boxes)."""
        return [self.titles[i] for i in self.popular[:n]]

    def find(self, text: str) -> int:
        q = text.strip()
        if q.lower() in self.exact:
            return self.exact[q.lower()]
        hits = self.norm.get(normalise_title(q), [])
        if hits:
            return max(hits, key=lambda i: self.counts[i])
        key = normalise_title(q)
        contains = [i for i in self.popular if key and key in normalise_title(self.titles[i])][:5]
        close = closest_matches(key, list(self.norm), n=5)
        ideas = [self.titles[i] for i in contains] + [
            self.titles[max(self.norm[c], key=lambda i: self.counts[i])] for c in close
        ]
        ideas = list(dict.fromkeys(ideas))[:5]
        hint = f" Did you mean: {'; '.join(ideas)}?" if ideas else " Try a well-known title such as 'Toy Story'."
        raise InputError(f"No movie called {q!r} in MovieLens.{hint}")


@dataclass
class Recommender:
    """A model for the widget: ``score(history) → (n_items,)`` and ``reason(history, item) → str``.

    Defined in: notebooks/10_recommendation.ipynb
    """

    name: str
    score: Callable[[list[int]], torch.Tensor]
    reason: Callable[[list[int], int], str]


def make_recommenders(split: R.LeaveOneOut, knn: R.ItemKNN, item_vectors, sasrec, titles: dict[int, str],
                      content=None, content_decay: float = 1.0) -> dict[str, Recommender]:  # fmt: skip
    """The widget's models: most popular, item-kNN, item2vec, SASRec (and content vectors if ``content``,
    :func:`course_lib.recsys.content_matrix`'s sparse matrix, is given), each with its reason: the picked
    movie most similar to the recommendation, or the one SASRec's last layer attends to most.

    Defined in: notebooks/10_recommendation.ipynb
    """
    from ..models.sasrec import SASRec

    split = R._check_split(split)
    check_instance(knn, "knn", R.ItemKNN, "ItemKNN (from recsys.ItemKNN(split))")
    check_tensor(item_vectors, "item_vectors", shape=(split.n_items, None), dtype="float", finite=True)
    if sasrec is not None:
        check_instance(sasrec, "sasrec", SASRec, "SASRec model or None")
    if not isinstance(titles, dict):
        raise ArgumentTypeError(f"titles must be a dict {{item id: title}}, got {type(titles).__name__}")
    if content is not None:
        check_tensor(content, "content", shape=(split.n_items, None), dtype="float")
    content_decay = check_float(content_decay, "content_decay", min=0.0)
    counts = split.train_counts()
    pop = torch.as_tensor(counts, dtype=torch.float32)
    unit = F.normalize(torch.as_tensor(item_vectors).float(), dim=1)

    def most_similar(sims: torch.Tensor, history: list[int], what: str) -> str:
        j = int(torch.argmax(sims))
        return f"{what} {sims[j]:.2f} to “{titles[history[j]]}”"

    recs = {
        "most popular": Recommender(
            "most popular", lambda h: pop.clone(), lambda h, i: f"{counts[i]} ratings in the training data"
        ),
        "item-kNN": Recommender(
            "item-kNN",
            lambda h: knn([h])[0],
            lambda h, i: most_similar(knn.similarity(h, [i])[:, 0], h, "co-watched, cosine"),
        ),
        "item2vec": Recommender(
            "item2vec",
            lambda h: R.embedding_scores(item_vectors)([h])[0],
            lambda h, i: most_similar(unit[h] @ unit[i], h, "embedding cosine"),
        ),
    }
    if sasrec is not None:

        def sas_reason(h, i):
            x = R.left_pad([h], sasrec.config.block_size)
            a = sasrec.attention_maps(x)[-1][0, :, -1].mean(0)  # (T,) last layer, newest position, mean over heads
            real = a[-len(h[-sasrec.config.block_size :]) :]
            j = int(torch.argmax(real))
            picked = h[-sasrec.config.block_size :][j]
            return f"attends most to “{titles[picked]}” (weight {real[j]:.2f})"

        recs["SASRec"] = Recommender("SASRec", lambda h: R.sasrec_scores(sasrec)([h])[0], sas_reason)
    if content is not None:
        content_fn = R.content_scores(content, content_decay)

        def content_reason(h, i):
            rows = content.index_select(0, torch.as_tensor(list(h) + [i])).to_dense()  # (len(h) + 1, F)
            return most_similar(rows[:-1] @ rows[-1], h, "content cosine")

        recs["content (genres, titles, tags)"] = Recommender(
            "content (genres, titles, tags)", lambda h: content_fn([h])[0], content_reason
        )
    return recs


def recommend(recommender: Recommender, history: Sequence[int], titles: dict[int, str], genres: dict[int, str],
              k: int = 10) -> pd.DataFrame:  # fmt: skip
    """Top-``k`` unseen movies for a history, with each one's reason.

    Defined in: notebooks/10_recommendation.ipynb
    """
    check_instance(recommender, "recommender", Recommender)
    for name, table in (("titles", titles), ("genres", genres)):
        if not isinstance(table, dict) or not table:
            raise ArgumentTypeError(f"{name} must be a non-empty dict {{item: text}}, got {type(table).__name__}")
    if isinstance(history, (str, dict)) or not isinstance(history, (list, tuple, range, np.ndarray)):
        raise ArgumentTypeError(f"history must be a list of item ids, got {type(history).__name__}")
    h = [check_int(i, "history", min=1) for i in history]
    unknown = [i for i in h if i not in titles]
    if unknown:
        raise ArgumentError(f"history holds items that titles does not know: {unknown[:5]}")
    k = check_int(k, "k", min=1, max=10_000)
    s = recommender.score(h)
    if not isinstance(s, torch.Tensor) or s.dim() != 1 or len(s) <= max(h, default=0):
        raise ArgumentError("recommender.score(history) must return a 1-D tensor with one score per item")
    s = s.clone().float()
    s[0] = -float("inf")
    s[h] = -float("inf")
    top = [i for i in torch.argsort(s, descending=True, stable=True)[:k].tolist() if s[i] > -float("inf")]
    lacking = [i for i in top if i not in titles or i not in genres]
    if lacking:
        raise ArgumentError(f"titles and genres must name every item the recommender scores; they lack {lacking[:5]}")
    return pd.DataFrame(
        {
            "rank": range(1, len(top) + 1),
            "movie": [titles[i] for i in top],
            "genres": [genres[i].replace("|", ", ") for i in top],
            "why": [recommender.reason(h, i) for i in top],
        }
    )


def recommendation_panel(recommenders: dict[str, Recommender], index: TitleIndex, genres: dict[int, str],
                         picks: Sequence[str] = ("Toy Story (1995)", "Finding Nemo (2003)", "")) -> Panel:  # fmt: skip
    """Widget: up to four movies you like (search boxes with suggestions) and a model → a top-10 with reasons.

    Unknown titles, no movie at all, or the same movie twice are answered with a clear message.

    Defined in: notebooks/10_recommendation.ipynb
    """
    if not isinstance(recommenders, dict) or not recommenders:
        raise ArgumentTypeError(
            f"recommenders must be a non-empty dict {{name: Recommender}}, got {type(recommenders).__name__}"
        )
    for name, r in recommenders.items():
        check_text(name, "a recommender name")
        check_instance(r, f"recommenders[{name!r}]", Recommender)
    check_instance(index, "index", TitleIndex)
    if not isinstance(genres, dict):
        raise ArgumentTypeError(f"genres must be a dict {{item: genres}}, got {type(genres).__name__}")
    if isinstance(picks, str) or not isinstance(picks, (list, tuple)):
        raise ArgumentTypeError(f"picks must be a list of titles, got {type(picks).__name__}")
    for p in picks:
        check_text(p, "picks")
    options = index.options()
    boxes = {}
    for n in range(4):
        boxes[f"movie{n + 1}"] = w.Combobox(
            value=picks[n] if n < len(picks) else "",
            options=options,
            placeholder="type to search a title",
            description=f"movie {n + 1}",
            ensure_option=False,
            continuous_update=False,
            layout=w.Layout(width="380px"),
        )
    names = list(recommenders)
    controls = {**boxes, "model": w.Dropdown(options=names, value=names[min(1, len(names) - 1)], description="model")}

    def render(model, **movies):
        typed = [v for v in movies.values() if v and v.strip()]
        if not typed:
            raise InputError("Type at least one movie you like in a search box above (e.g. 'Toy Story').")
        history = [index.find(v) for v in typed]
        if len(set(history)) != len(history):
            raise InputError("The same movie is picked twice; pick different movies.")
        table = recommend(recommenders[model], history, index.titles, genres)
        picked = ", ".join(html.escape(index.titles[i]) for i in history)
        rows = "".join(
            f"<tr><td>{r.rank}</td><td>{html.escape(r.movie)}</td><td>{html.escape(r.genres)}</td>"
            f"<td>{html.escape(r.why)}</td></tr>"
            for r in table.itertuples()
        )
        return HTML(
            f"<div>You picked: <b>{picked}</b>. Top 10 from <b>{html.escape(model)}</b>:</div>"
            f"<table><tr><th>#</th><th>movie</th><th>genres</th><th>why</th></tr>{rows}</table>"
        )

    return Panel(controls, render, title="Pick movies you like → recommendations, each with a reason")


# ----------------------------------------------------------------------------------------------
# Exercise 10.1: top-k item-kNN
# ----------------------------------------------------------------------------------------------
class _TinyKNN:
    """A stand-in for :class:`course_lib.recsys.ItemKNN` on a random similarity matrix (no ties)."""

    def __init__(self, n_items: int = 30, seed: int = 0):
        g = torch.Generator().manual_seed(check_seed(seed))
        a = torch.rand(n_items, n_items, generator=g)
        self.S = (a + a.T) / 2  # (I, I) symmetric, distinct values
        self.S[0] = 0.0  # id 0 is padding
        self.S[:, 0] = 0.0
        self.n_items = n_items
        self.decay = 0.8

    def weights(self, histories) -> torch.Tensor:
        H = torch.zeros(len(histories), self.n_items)
        for u, h in enumerate(histories):
            if len(h):
                w_ = self.decay ** torch.arange(len(h) - 1, -1, -1, dtype=torch.float32)
                H[u].index_put_((torch.as_tensor(list(h)),), w_, accumulate=True)
        return H

    def similarity(self, items, candidates=None) -> torch.Tensor:
        rows = self.S[list(items)]
        return rows.clone() if candidates is None else rows[:, list(candidates)].clone()

    def __call__(self, histories, users=None) -> torch.Tensor:
        return self.weights(histories) @ self.S


def _topk_reference(knn, k: int):
    S = knn.similarity(range(knn.n_items))
    S.fill_diagonal_(0.0)
    v, j = S.topk(k, dim=1)
    pruned = torch.zeros_like(S).scatter_(1, j, v)
    return lambda histories, users=None: knn.weights(histories) @ pruned


@exercise(
    "10.1",
    "a function topk_item_knn(knn, k) returning a score function histories -> (B, n_items) scores",
    wrong=lambda: lambda knn, k: knn,
)
def _check_topk_item_knn(answer):
    histories = [[3, 7, 12], [25], [1, 2, 3, 4, 5, 6]]
    for n_items, k in ((30, 5), (40, 1)):
        knn = _TinyKNN(n_items, seed=k)
        fn = answer(knn, k)
        if not callable(fn):
            raise Hint(f"topk_item_knn should return a function of the histories, got {type(fn).__name__}")
        got = torch.as_tensor(fn(histories), dtype=torch.float32)
        if got.is_sparse or got.layout != torch.strided:
            got = got.to_dense()
        want = _topk_reference(knn, k)(histories)
        if tuple(got.shape) != tuple(want.shape):
            raise Hint(f"expected scores of shape {tuple(want.shape)} (users × items), got {tuple(got.shape)}")
        if not torch.allclose(got, want, atol=1e-4):
            full = knn(histories)
            if torch.allclose(got, full, atol=1e-4):
                raise Hint(f"These are item-kNN's scores with every neighbour: keep only each movie's k = {k} largest.")
            raise Hint(
                f"Not yet (k = {k}): for each movie i keep only the k largest similarities sim(i, j) with j ≠ i "
                "(a movie is not its own neighbour), set the others to 0, then score as item-kNN does: "
                "the user's recency weights times the pruned similarity matrix."
            )
