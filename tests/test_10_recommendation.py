"""Tests for notebook 10: MovieLens loading, the leave-one-out protocol, full-ranking metrics, the
baselines, BPR, SASRec's causal mask, content vectors and the recommendation widget."""

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import recsys as R
from course_lib.errors import ArgumentError, InputError
from course_lib.models.mf_bpr import MFBPR, MFConfig
from course_lib.models.sasrec import SASRec, SASRecConfig
from course_lib.movielens import load_movielens, title_words


@pytest.fixture(scope="module")
def ml():
    return load_movielens()


@pytest.fixture(scope="module")
def split(ml):
    return R.leave_one_out(ml.ratings, ml.n_items)


def toy_ratings():
    # user 0 watches 5, 3, 9, 1 (in time order, given shuffled); user 1 watches 2, 4, 6 (two at the same second)
    return pd.DataFrame(
        {
            "user": [0, 0, 0, 0, 1, 1, 1],
            "item": [9, 5, 1, 3, 6, 2, 4],
            "timestamp": [30, 10, 40, 20, 7, 5, 7],
        }
    )


# ---------------------------------------------------------------- data and protocol


def test_movielens_counts_and_indices(ml):
    assert len(ml.ratings) == 100_836 and len(ml.movies) == 9_742 and len(ml.tags) == 3_683
    assert ml.n_users == 610 and ml.n_items == 9_743
    assert ml.ratings.item.min() >= 1 and ml.ratings.item.max() <= 9_742
    assert ml.title(1) == "Toy Story (1995)"
    assert not ml.ratings.duplicated(["user", "item"]).any()
    assert title_words("Shawshank Redemption, The (1994)") == ["shawshank", "redemption", "the"]


def test_leave_one_out_on_a_hand_example():
    s = R.leave_one_out(toy_ratings(), n_items=10)
    assert s.train == [[5, 3], [2]] and s.val == [9, 4] and s.test == [1, 6]  # tie at t=7 broken by item id
    assert s.histories("val") == [[5, 3], [2]] and s.histories("test") == [[5, 3, 9], [2, 4]]
    with pytest.raises(ArgumentError, match="fewer than 3"):
        R.leave_one_out(toy_ratings().iloc[:5], n_items=10)


def test_leave_one_out_never_leaks_the_test_item(ml, split):
    last_time = ml.ratings.groupby("user").timestamp.max()
    for u in range(split.n_users):
        assert split.test[u] not in split.train[u] and split.test[u] != split.val[u]
        assert split.val[u] not in split.train[u]
    assert sum(len(t) for t in split.train) + 2 * split.n_users == len(ml.ratings)
    # the test item is (one of) the user's latest
    r = ml.ratings.set_index(["user", "item"]).timestamp
    assert all(r[(u, split.test[u])] == last_time[u] for u in range(split.n_users))
    # the training counts never include a held-out interaction
    counts = split.train_counts()
    full = np.bincount(ml.ratings.item, minlength=ml.n_items)
    held = np.bincount(np.r_[split.val, split.test], minlength=ml.n_items)
    assert np.array_equal(counts, full - held)


# ---------------------------------------------------------------- metrics


def test_ranks_hr_and_ndcg_on_a_hand_computed_ranking():
    #              item: 0     1    2    3    4    5
    scores = torch.tensor([[9.0, 0.9, 0.8, 0.7, 0.95, 0.1]])
    # seen = {4}; the padding id 0 never counts; ranking of the rest: 1 (0.9), 2, 3, 5
    assert R.rank_targets(scores, [3], [[4]]).tolist() == [2]
    assert R.rank_targets(scores, [1], [[4]]).tolist() == [0]
    assert R.rank_targets(scores, [3], [[]]).tolist() == [3]  # without excluding seen item 4 it ranks 3rd → 4th
    hr, ndcg = R.hit_ndcg([0, 2, 9, 10], k=10)
    assert hr.tolist() == [1, 1, 1, 0]
    assert np.allclose(ndcg, [1.0, 1 / np.log2(4), 1 / np.log2(11), 0.0])
    # ties count against the target: constant scores get no credit
    assert R.rank_targets(torch.ones(1, 6), [3], [[]]).tolist() == [4]
    with pytest.raises(ArgumentError, match="in their history"):
        R.rank_targets(scores, [4], [[4]])


def test_seen_items_are_excluded_from_the_ranking(split):
    pop = R.popularity_scores(split)
    per_user = R.evaluate(pop, split, "test")
    counts = split.train_counts().astype(float)
    hist = split.histories("test")
    for u in (0, 17, 300):
        s = counts.copy()
        s[0] = -np.inf
        s[hist[u]] = -np.inf
        t = split.test[u]
        assert per_user["rank"][u] == int((s >= s[t]).sum()) - 1
    assert per_user.hr.between(0, 1).all()


def test_bootstrap_interval_contains_the_mean_and_shrinks():
    rng = np.random.default_rng(0)
    small, big = rng.integers(0, 2, 100), rng.integers(0, 2, 10_000)
    m, lo, hi = R.bootstrap_interval(small)
    assert lo <= m <= hi
    m2, lo2, hi2 = R.bootstrap_interval(big)
    assert hi2 - lo2 < (hi - lo) / 5
    assert abs((hi2 - lo2) / 2 - 1.96 * big.std() / 100) < 0.003


# ---------------------------------------------------------------- models


def test_bpr_loss_gradient_by_finite_differences():
    torch.manual_seed(0)
    pos = torch.randn(7, dtype=torch.float64, requires_grad=True)
    neg = torch.randn(7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(R.bpr_loss, (pos, neg))
    # and the closed form: d/dpos = −σ(neg − pos) / B
    R.bpr_loss(pos, neg).backward()
    assert torch.allclose(pos.grad, -torch.sigmoid(neg - pos).detach() / 7)
    assert torch.allclose(neg.grad, -pos.grad)


def test_mf_scores_agree_with_all_scores():
    torch.manual_seed(0)
    m = MFBPR(MFConfig(n_users=4, n_items=9, n_embd=5))
    u = torch.tensor([0, 3])
    full = m.all_scores(u)
    for b, user in enumerate(u.tolist()):
        for i in range(9):
            assert torch.allclose(full[b, i], m.score(torch.tensor([user]), torch.tensor([i]))[0], atol=1e-6)


def test_sasrec_does_not_peek_at_future_items():
    torch.manual_seed(0)
    m = SASRec(SASRecConfig(vocab_size=30, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.0)).eval()
    x = torch.tensor([[0, 0, 3, 7, 1, 9, 4, 2]])
    out = m(x)
    y = x.clone()
    y[0, 5:] = torch.tensor([11, 12, 13])  # change the future
    out2 = m(y)
    assert torch.allclose(out[0, :5], out2[0, :5], atol=1e-6) and not torch.allclose(out[0, 5:], out2[0, 5:])
    maps = m.attention_maps(x)
    for w in maps:  # no weight above the diagonal, none on padding keys from real queries
        assert torch.allclose(w[0].triu(1), torch.zeros(()))
        assert torch.allclose(w[0, :, 2:, :2], torch.zeros(()))
    # left padding does not change what the newest position predicts
    short = torch.tensor([[3, 7, 1, 9, 4, 2]])
    padded = torch.tensor([[0, 0, 3, 7, 1, 9, 4, 2]])
    m2 = SASRec(SASRecConfig(vocab_size=30, block_size=8, n_layer=1, n_head=1, n_embd=8, dropout=0.0)).eval()
    with torch.no_grad():
        m2.wpe.weight.zero_()  # without positions the two inputs differ only by padding
    assert torch.allclose(m2.last_scores(short), m2.last_scores(padded), atol=1e-5)


def test_left_pad_and_windows():
    assert R.left_pad([[1, 2, 3], [4]], 2).tolist() == [[2, 3], [0, 4]]
    w = R.sasrec_windows([[1, 2, 3, 4, 5]], 2)
    assert w.tolist() == [[3, 4, 5], [1, 2, 3]]  # every item but the first is a target exactly once


def test_sasrec_training_never_meets_an_empty_batch():
    rng = np.random.default_rng(0)
    rows = [(u, int(i), t) for u in range(7) for t, i in enumerate(rng.choice(np.arange(1, 30), 9, replace=False))]
    s = R.leave_one_out(pd.DataFrame(rows, columns=["user", "item", "timestamp"]), n_items=30)
    cfg = SASRecConfig(vocab_size=30, block_size=4, n_layer=1, n_head=1, n_embd=8)
    for negatives in (None, 5):  # 7 users x 2 windows = 14 windows, batch 4: the last batch of each run is partial
        model, hist = R.train_sasrec(s, cfg, epochs=3, batch_size=4, negatives=negatives, progress=False)
        assert hist.attrs["steps_done"] == 11 and np.isfinite(hist.loss).all()


def test_item_knn_equals_explicit_cosine_sum(split):
    knn = R.ItemKNN(split)
    X = R.interaction_matrix(split.train, split.n_items)
    norms = X.sum(0).sqrt()
    hist = [split.train[5][:4]]
    got = knn(hist)[0]
    for j in (1, 50, 318, 2571):
        want = sum(float(X[:, i] @ X[:, j]) / float(norms[i] * norms[j]) if norms[j] > 0 else 0.0 for i in hist[0])
        assert abs(float(got[j]) - want) < 1e-4
    assert torch.allclose(knn.similarity([1], [1]), torch.ones(1, 1), atol=1e-5)


def test_item2vec_pairs_never_cross_users():
    g = torch.Generator().manual_seed(0)
    pairs = R.item2vec_pairs([[1, 2, 3], [10, 11]], window=5, generator=g)
    users = {1: 0, 2: 0, 3: 0, 10: 1, 11: 1}
    assert all(users[a] == users[b] for a, b in pairs.tolist())


def test_content_vectors_are_unit_and_exclude_held_out_tags(ml, split):
    held = {(u, i) for u, i in enumerate(split.val)} | {(u, i) for u, i in enumerate(split.test)}
    C, vocab = R.content_matrix(ml.movies, ml.tags, held)
    dense_rows = C.index_select(0, torch.tensor([1, 2, 100])).to_dense()
    assert torch.allclose(dense_rows.norm(dim=1), torch.ones(3), atol=1e-5)
    assert "genre:Animation" in vocab and "title:toy" in vocab
    # a held-out pair's tag words are not used when only that user tagged the movie with them
    t = ml.tags
    for u, i in held:
        mine = t[(t.user == u) & (t.item == i)]
        if len(mine):
            others = t[(t.item == i) & (t.user != u)]
            words = {f"tag:{w}" for tag in mine.tag for w in title_words(tag)}
            other_words = {f"tag:{w}" for tag in others.tag for w in title_words(tag)}
            row = C.index_select(0, torch.tensor([i])).to_dense()[0]
            for w in words - other_words:
                if w in vocab:
                    assert row[vocab.index(w)] == 0
            break


# ---------------------------------------------------------------- the widget


@pytest.fixture(scope="module")
def widget_parts(ml, split):
    from course_lib.labs import recommendation as L

    torch.manual_seed(0)
    sas = SASRec(SASRecConfig(vocab_size=split.n_items, block_size=8, n_layer=1, n_head=1, n_embd=8)).eval()
    titles = dict(zip(ml.movies.item, ml.movies.title))
    genres = dict(zip(ml.movies.item, ml.movies.genres))
    recs = L.make_recommenders(split, R.ItemKNN(split), torch.randn(split.n_items, 8), sas, titles)
    return L, recs, L.TitleIndex(ml.movies, split.train_counts()), titles, genres


def test_title_search_finds_movies_and_suggests_spellings(widget_parts):
    L, _, index, titles, _ = widget_parts
    assert titles[index.find("Toy Story (1995)")] == "Toy Story (1995)"
    assert titles[index.find("the matrix")] == "Matrix, The (1999)"
    assert titles[index.find("  TOY STORY ")] == "Toy Story (1995)"
    with pytest.raises(InputError, match="Did you mean.*Matrix"):
        index.find("Matrixx")
    with pytest.raises(InputError, match="No movie called"):
        index.find("qqqqzzzz")
    assert L.normalise_title("Shawshank Redemption, The (1994)") == "the shawshank redemption"


def test_recommendations_exclude_picks_and_explain_themselves(widget_parts):
    L, recs, index, titles, genres = widget_parts
    picks = [index.find("Toy Story (1995)"), index.find("Finding Nemo (2003)")]
    for name, rec in recs.items():
        table = L.recommend(rec, picks, titles, genres)
        assert len(table) == 10 and not set(table.movie) & {titles[i] for i in picks}
        assert table.why.str.len().gt(0).all(), name
    knn_table = L.recommend(recs["item-kNN"], picks, titles, genres)
    assert knn_table.why.str.contains("Toy Story|Finding Nemo").all()
    assert L.recommend(recs["SASRec"], picks, titles, genres).why.str.contains("attends most to").all()


def test_recommendation_panel_answers_bad_input_clearly(widget_parts):
    L, recs, index, _, genres = widget_parts
    panel = L.recommendation_panel(recs, index, genres)
    assert panel.error is None and "Top 10" in panel.text
    for box in ("movie1", "movie2", "movie3"):
        panel.controls[box].value = ""
    assert "at least one movie" in panel.error
    panel.controls["movie1"].value = "Toy Storyy"
    assert "No movie called" in panel.error and "Toy Story" in panel.error
    panel.controls["movie1"].value = "toy story"
    panel.controls["movie2"].value = "Toy Story (1995)"
    assert "twice" in panel.error
    panel.controls["movie2"].value = "<script>alert(1)</script>"
    assert "<script>" not in panel._html.value  # what the learner typed is escaped


def test_recsys_arguments_are_checked_with_course_errors():
    """Found by fuzzing (issue 12): a wrong split, history or target raised raw exceptions before."""
    from course_lib.errors import ArgumentTypeError

    split = R.LeaveOneOut(train=[[1, 2], [3]], val=[3, 1], test=[4, 2], n_items=5)
    with pytest.raises(ArgumentTypeError, match="split must be a LeaveOneOut"):
        R.popularity_scores(split.train)
    with pytest.raises(ArgumentError, match="each item id in seqs"):
        R.interaction_matrix([[1, 9]], n_items=5)
    with pytest.raises(ArgumentError, match="each target"):
        R.rank_targets(torch.zeros(1, 5), [7], [[]])
    with pytest.raises(ArgumentError, match="item ids must be in 1"):
        R.leave_one_out(toy_ratings(), n_items=5)
    with pytest.raises(ArgumentError, match="ranks must be"):
        R.hit_ndcg([0, -1])


def test_recommend_lists_only_scorable_unseen_items_and_checks_its_arguments():
    """A top-k longer than the unseen items stops at them (never the padding item 0 nor a watched movie);
    a history with unknown items or a score of the wrong shape is refused with a course error."""
    from course_lib.errors import ArgumentTypeError
    from course_lib.labs import recommendation as L

    titles = {1: "A (2000)", 2: "B (2001)", 3: "C (2002)"}
    genres = {1: "Drama", 2: "Comedy", 3: "Drama|Comedy"}
    rec = L.Recommender("flat", lambda h: torch.tensor([0.0, 3.0, 2.0, 1.0]), lambda h, i: "flat")
    table = L.recommend(rec, [2], titles, genres, k=10)
    assert table.movie.tolist() == ["A (2000)", "C (2002)"]
    with pytest.raises(ArgumentError, match="history"):
        L.recommend(rec, [7], titles, genres)
    with pytest.raises(ArgumentTypeError, match="history"):
        L.recommend(rec, "A (2000)", titles, genres)
    short = L.Recommender("short", lambda h: torch.zeros(2), lambda h, i: "")
    with pytest.raises(ArgumentError, match="one score per item"):
        L.recommend(short, [3], titles, genres)
