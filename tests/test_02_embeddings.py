"""Tests for notebook 02 (word embeddings): course_lib.embeddings."""

import math

import pytest
import torch

from course_lib import embeddings as E
from course_lib.data import load_shakespeare
from course_lib.errors import ArgumentError
from course_lib.labs import embeddings as LE
from course_lib.models.skipgram import SkipGram, SkipGramConfig


def test_skipgram_loss_matches_hand_computation():
    v = torch.tensor([[1.0, 0.0]])
    u_pos = torch.tensor([[2.0, 1.0]])  # u·v = 2
    u_neg = torch.tensor([[[1.0, 5.0], [-1.0, 0.0]]])  # u·v = 1 and −1
    # −log σ(2) − log σ(−1) − log σ(1)
    expected = -(math.log(1 / (1 + math.exp(-2))) + math.log(1 / (1 + math.exp(1))) + math.log(1 / (1 + math.exp(-1))))
    assert E.skipgram_loss(v, u_pos, u_neg).item() == pytest.approx(expected, rel=1e-6)
    # the mean over a batch of two identical rows is the same number
    assert E.skipgram_loss(v.repeat(2, 1), u_pos.repeat(2, 1), u_neg.repeat(2, 1, 1)).item() == pytest.approx(
        expected, rel=1e-6
    )


def test_skipgram_loss_rejects_bad_shapes():
    with pytest.raises(ArgumentError, match=r"\(B, K, D\)"):
        E.skipgram_loss(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3))


def test_skipgram_gradients_match_finite_differences():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    u = torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    n = torch.randn(3, 2, 4, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(E.skipgram_loss, (v, u, n))


def test_skipgram_module_is_a_table_lookup():
    m = SkipGram(SkipGramConfig(vocab_size=10, n_embd=4))
    ids = torch.tensor([3, 7])
    one_hot = torch.nn.functional.one_hot(ids, 10).float()
    assert torch.equal(m.inp(ids), m.inp.weight[ids])
    assert torch.allclose(one_hot @ m.inp.weight, m.inp(ids))
    # context vectors start at zero, so every dot product is 0 and the loss is (K + 1) log 2
    loss = m(ids, ids, torch.tensor([[1, 2, 3], [4, 5, 6]]))
    assert loss.item() == pytest.approx(4 * math.log(2), rel=1e-6)


def test_pairs_dynamic_window_and_subsampling():
    ids = torch.arange(4, 20)
    pairs = E.skipgram_pairs(ids, window=1)
    assert len(pairs) == 2 * (len(ids) - 1)  # window 1: each neighbour in both directions
    assert set(map(tuple, pairs.tolist())) >= {(4, 5), (5, 4)}
    pairs = E.skipgram_pairs(ids, window=3, generator=torch.Generator().manual_seed(0))
    assert ((pairs[:, 0] - pairs[:, 1]).abs() <= 3).all() and ((pairs[:, 0] - pairs[:, 1]).abs() >= 1).all()
    counts = torch.tensor([0, 0, 0, 0, 1000, 1])
    keep = E.keep_probability(counts, t=1e-3)
    assert keep[5] == 1.0 and keep[4] < 0.1 and keep[0] == 0.0
    noise = E.noise_distribution(torch.tensor([0, 16, 1]))
    assert noise[0] == 0 and noise[1] / noise[2] == pytest.approx(16**0.75)


def test_skipgram_training_reduces_loss_on_real_text():
    corpus = E.build_corpus(E.corpus_words(load_shakespeare()[:60_000]), min_count=3)
    model, hist, pps = E.train_skipgram(corpus, n_embd=16, epochs=2, batch_size=1024, seed=0, heldout=0.1)
    assert hist.heldout_loss.iloc[0] == pytest.approx(6 * math.log(2), rel=1e-6)  # step 0: u = 0, every σ = 1/2
    assert hist.step.iloc[0] == 0 and math.isnan(hist.loss.iloc[0])  # step 0 has no training loss yet
    assert hist.heldout_loss.dropna().iloc[-1] < hist.heldout_loss.iloc[0] - 0.3
    assert hist.loss.dropna().iloc[-1] < hist.loss.dropna().iloc[0] - 0.3
    steps = hist.attrs["epoch_steps"]
    assert len(steps) == 2 and 0 < steps[0] < steps[1] == hist.attrs["steps_done"]
    assert pps > 0 and hist.attrs["pairs"] > 0
    with pytest.raises(ArgumentError, match="heldout"):
        E.train_skipgram(corpus, heldout=0.9)


def test_heldout_pairs_are_never_trained_on():
    """With heldout, the pairs come from the first part of the text only: a word that occurs only at the end of the
    corpus keeps its initial (zero) context vector."""
    corpus = E.build_corpus(E.corpus_words(load_shakespeare()[:30_000]), min_count=1)
    cut = len(corpus.ids) - int(round(0.2 * len(corpus.ids)))
    only_late = sorted(set(corpus.ids[cut:].tolist()) - set(corpus.ids[:cut].tolist()))
    assert only_late
    model, _, _ = E.train_skipgram(corpus, n_embd=8, epochs=1, batch_size=512, seed=0, heldout=0.2)
    # a word never seen in training is never a centre word, so its centre vector (the embedding we keep) keeps its
    # initial value (train_skipgram seeds the global generator with `seed` just before building the model)
    torch.manual_seed(0)
    init = SkipGram(SkipGramConfig(corpus.vocab_size, 8)).inp.weight
    assert torch.equal(model.inp.weight.detach()[only_late], init[only_late].detach())


def test_truncated_svd_matches_the_full_svd():
    g = torch.Generator().manual_seed(0)
    low_rank = torch.randn(40, 5, generator=g) @ torch.randn(5, 30, generator=g)  # rank 5
    vec = E.truncated_svd(low_rank, 5)
    u, s, _ = torch.linalg.svd(low_rank, full_matrices=False)
    ref = u[:, :5] * s[:5].sqrt()
    # columns equal up to sign; the Gram matrix (what cosine neighbours use) equals U S U^T exactly
    assert torch.allclose(vec @ vec.T, ref @ ref.T, atol=1e-3)
    assert torch.equal(E.truncated_svd(low_rank, 5), vec)  # seeded: repeats exactly
    with pytest.raises(ArgumentError, match="dim"):
        E.truncated_svd(low_rank, 31)


def test_weighted_cooccurrence_is_what_skipgram_pairs_count_on_average():
    """The exercise's claim: with a window drawn from 1 … W, a pair at distance d is used with probability
    (W − d + 1) / W, so the counts of skipgram_pairs average to the weighted co-occurrence matrix."""
    ids = torch.tensor([4, 5, 6, 4, 7, 5, 6, 7, 4, 6, 5, 4])
    V, W, draws = 8, 3, 4000
    total = torch.zeros(V, V, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    for _ in range(draws):
        p = E.skipgram_pairs(ids, window=W, generator=g)
        total.index_put_((p[:, 0], p[:, 1]), torch.ones(len(p), dtype=torch.float64), accumulate=True)
    expected = LE._weighted_cooccurrence(ids, V, W)
    assert torch.allclose(total / draws, expected, atol=0.05)
    assert torch.equal(LE._weighted_cooccurrence(ids, V, 1), E.cooccurrence_matrix(ids, V, 1).double())


def test_ppmi_by_hand():
    counts = torch.tensor([[0.0, 2.0], [2.0, 4.0]])
    m = E.ppmi(counts, alpha=1.0)
    # P(0,1) = 2/8, P(0) = 2/8, P(1) = 6/8 → PMI = log((1/4) / (1/4 · 3/4)) = log(4/3)
    assert m[0, 1].item() == pytest.approx(math.log(4 / 3), rel=1e-5)
    assert m[0, 0] == 0  # never seen together: 0, not −inf
    assert m[1, 1] == 0  # PMI = log(0.5 / 0.75²) < 0 → clipped to 0
    c = E.cooccurrence_matrix(torch.tensor([4, 5, 4]), 6, window=1)
    assert c[4, 5] == 2 and c[5, 4] == 2 and c.sum() == 4


def test_glove_round_trip_and_bundled_file(tmp_path):
    wv = E.WordVectors(["a", "b'c", "ünï"], torch.tensor([[0.1, -2.5e-8], [3.0, 1 / 3], [0.0, -0.0]]))
    back = E.parse_glove(E.format_glove(wv))
    assert back.words == wv.words and torch.equal(back.vectors, wv.vectors)
    glove = E.load_glove()
    assert len(glove) == 10_000 and glove.dim == 50 and glove.words[:3] == ["the", ",", "."]
    assert glove.vector("the")[0].item() == pytest.approx(0.418)
    assert glove.analogy("man", "woman", "king", k=1)[0][0] == "queen"
    with pytest.raises(ArgumentError, match="line 2"):
        E.parse_glove("a 1 2\nb 1 x\n")


def test_neighbours_are_deterministic_and_exclude_the_word():
    wv = E.WordVectors(["x", "y", "z", "w"], torch.tensor([[1.0, 0], [1, 0], [2, 0], [0, 1]]))
    nb = wv.neighbours("x", k=3)
    assert [w for w, _ in nb] == ["y", "z", "w"]  # y and z tie at 1.0: vocabulary order
    assert nb == wv.neighbours("x", k=3)
    with pytest.raises(KeyError, match="Close spellings: king"):
        E.WordVectors(["king", "queen"], torch.eye(2)).neighbours("kingg")
    acc, n = E.category_accuracy(wv, {"a": ["x", "y"], "b": ["w", "z"]})
    assert n == 4 and acc == pytest.approx(0.5)  # z's nearest is x (cat a), w's nearest is x: 2 of 4 right


def test_analogy_3cosadd():
    wv = E.WordVectors(
        ["man", "woman", "king", "queen", "apple"],
        torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [-1, 0, 0]]),
    )
    assert wv.analogy("man", "woman", "king", k=1)[0][0] == "queen"
    acc, n = E.analogy_accuracy(wv, E.gender_analogies([("man", "woman"), ("king", "queen")]))
    assert n == 4 and acc == 1.0


def _models():
    return {
        "A": E.WordVectors(
            ["king", "queen", "night", "day"], torch.tensor([[1.0, 0.1], [1, 0.2], [0, 1], [0.1, 1]]), "A"
        ),
        "B": E.WordVectors(["king", "queen", "love"], torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), "B"),
    }


def test_neighbours_panel_inputs():
    panel = LE.neighbours_panel(_models(), word="king", k=2)
    assert panel.error is None and list(panel.result["A"]) == ["queen", "day"]
    panel.controls["word"].value = "  "
    assert panel.error and "Type a word" in panel.text
    panel.controls["word"].value = "kinng"
    assert panel.error and "not in the vocabulary" in panel.text and "king" in panel.text
    panel.controls["word"].value = "love"  # known to B only
    assert panel.error is None and panel.result["A"][0] == "(not in vocabulary)" and panel.result["B"][0] == "queen"


def test_scatter_and_analogy_panels():
    groups = {"royal": ["king", "queen"], "time": ["night", "day", "tomorrow"]}
    panel = LE.scatter_panel(_models(), groups, chosen=["royal", "time"])
    assert panel.error is None and panel.text.startswith("[figure]")
    panel.controls["chosen"].value = ()
    assert panel.error and "Pick at least one" in panel.text
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    assert LE.word_groups_figure(_models()["A"], groups, ["royal"], ax=axes[1]) is fig
    assert len(axes[1].texts) == 2 and not axes[0].texts  # drawn on the axes it was given
    plt.close(fig)
    ap = LE.analogy_panel(_models(), a="king", b="queen", c="night")
    assert ap.error is None and ap.result["A"][0].startswith("day")
    ap.controls["c"].value = "nihgt"
    assert ap.error and "night" in ap.text
    ap.controls["a"].value = ""
    assert ap.error and "Type" in ap.text


def test_pca_2d_shape_and_repeatability():
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    p = E.pca_2d(x)
    assert p.shape == (6, 2) and torch.allclose(p, E.pca_2d(x))
    assert p[:, 0].var() >= p[:, 1].var()
