"""Tests for notebook 01 (background: n-grams and a first neural LM): course_lib.ngram, labs.ngram, models.mlp_lm."""

import math
from collections import Counter

import numpy as np
import pytest
import torch

from course_lib import data, ngram
from course_lib.data import CharTokenizer
from course_lib.errors import ArgumentError
from course_lib.labs.ngram import _add_one_bits, ngram_sampler_panel
from course_lib.models.mlp_lm import MLPLanguageModel, MLPLMConfig
from course_lib.widgets import InputError


@pytest.fixture(scope="module")
def shakespeare_ids():
    text = data.load_shakespeare()
    tok = CharTokenizer.from_text(text)
    return tok, np.array(tok.encode(text))


def test_uniform_model_perplexity_is_vocabulary_size(shakespeare_ids):
    tok, ids = shakespeare_ids
    m = ngram.KneserNeyLM(0, tok.vocab_size).fit(ids[:1000])
    assert m.perplexity(ids[:500]) == pytest.approx(65.0)


@pytest.mark.parametrize("order", [1, 2, 4, 7])
def test_ngram_probabilities_sum_to_one(shakespeare_ids, order):
    tok, ids = shakespeare_ids
    m = ngram.KneserNeyLM(order, tok.vocab_size).fit(ids[:200_000])
    rng = np.random.default_rng(order)
    for _ in range(5):
        start = rng.integers(200_000, len(ids) - 10)
        p = m.next_distribution(ids[start : start + order])
        assert p.shape == (65,) and (p > 0).all() and p.sum() == pytest.approx(1.0, abs=1e-12)
    p = m.next_distribution(tok.encode("Zq"))  # a context never seen: falls back, still sums to 1
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_ngram_nll_matches_explicit_chain_rule(shakespeare_ids):
    tok, ids = shakespeare_ids
    m = ngram.KneserNeyLM(3, tok.vocab_size).fit(ids[:100_000])
    seq = ids[100_000:100_050]
    by_hand = -np.mean([np.log(m.next_distribution(seq[max(0, i - 2) : i])[seq[i]]) for i in range(len(seq))])
    assert m.nll(seq) == pytest.approx(by_hand, rel=1e-10)


def test_kneser_ney_bigram_matches_the_formula_by_hand():
    """Order 2 on a tiny text, against Chen & Goodman's interpolated KN written out with Counters."""
    ids = np.array([0, 1, 2, 0, 1, 0, 2, 2, 1, 0])
    V = 3
    m = ngram.KneserNeyLM(2, V).fit(ids)
    bigrams = Counter(zip(ids[:-1], ids[1:]))
    n1 = sum(c == 1 for c in bigrams.values())
    n2 = sum(c == 2 for c in bigrams.values())
    D2 = min(max(n1 / (n1 + 2 * n2), 0.05), 0.95)
    cont = Counter(b for (_, b) in bigrams)  # continuation counts: distinct left neighbours
    c1 = Counter(cont.values())
    D1 = min(max(c1[1] / (c1[1] + 2 * c1[2]), 0.05), 0.95) if c1[1] + c1[2] else 0.5
    total1 = sum(cont.values())
    p1 = {w: (max(cont[w] - D1, 0) + D1 * len(cont) / V) / total1 for w in range(V)}
    for h in range(V):
        c_h = sum(c for (a, _), c in bigrams.items() if a == h)
        types = sum(1 for (a, _) in bigrams if a == h)
        want = [(max(bigrams[(h, w)] - D2, 0) + D2 * types * p1[w]) / c_h for w in range(V)]
        assert m.next_distribution([h]) == pytest.approx(want, rel=1e-12)


def test_higher_order_fits_training_text_better_but_overfits(shakespeare_ids):
    tok, ids = shakespeare_ids
    tr, va = data.train_val_split(ids)
    orders = (1, 3, 6, 8)
    nll = {n: ngram.KneserNeyLM(n, tok.vocab_size).fit(tr) for n in orders}
    train_nll = [nll[n].nll(tr[:50_000]) for n in orders]
    val_nll = {n: nll[n].nll(va, context=tr) for n in orders}
    assert train_nll == sorted(train_nll, reverse=True)  # more context always fits training data better
    assert val_nll[6] < val_nll[3] < val_nll[1]
    assert val_nll[8] > val_nll[6]  # data sparsity: validation turns up


def test_longest_seen_context_is_the_back_off_depth():
    ids = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    m = ngram.KneserNeyLM(4, 4).fit(ids)
    # the first positions have 0, 1, 2 characters of history; "0 1 2" and "1 2 0" were seen; a history that ends in
    # 3 has no seen context at all; "3 1" backs off to "1", "3 1 2" to "1 2"
    depth = m.longest_seen_context([0, 1, 2, 0, 3, 1, 2, 0, 3, 3, 3, 3], context=[])
    assert depth.tolist() == [0, 1, 2, 3, 3, 0, 1, 2, 3, 0, 0, 0]
    seen = m.context_seen([0, 1, 2, 0, 3, 1, 2, 0], context=[])
    assert (seen == (m.longest_seen_context([0, 1, 2, 0, 3, 1, 2, 0], context=[]) == 3)).all()
    with pytest.raises(ArgumentError, match="not been fitted"):
        ngram.KneserNeyLM(3, 4).longest_seen_context([0, 1])


def test_ngram_sampling_is_seeded_and_checked(shakespeare_ids):
    tok, ids = shakespeare_ids
    m = ngram.KneserNeyLM(4, tok.vocab_size).fit(ids[:100_000])
    a = m.sample(tok.encode("ROMEO:"), 50, seed=3)
    assert a == m.sample(tok.encode("ROMEO:"), 50, seed=3) and len(a) == 50
    greedy = tok.encode("ROMEO:")
    for _ in range(20):
        greedy.append(int(np.argmax(m.next_distribution(greedy))))
    assert m.sample(tok.encode("ROMEO:"), 20, temperature=0.01, seed=2) == greedy[6:]  # T → 0 is greedy
    with pytest.raises(ArgumentError, match="temperature"):
        m.sample([0], 5, temperature=0)
    with pytest.raises(ArgumentError, match="seed"):
        m.sample([0], 5, seed=-1)
    with pytest.raises(ArgumentError, match="token ids must be in"):
        m.fit([0, 99])
    with pytest.raises(ArgumentError, match="integers"):
        m.fit([0.5, 1.0])
    with pytest.raises(ArgumentError, match="order"):
        ngram.KneserNeyLM(-1, 65)


def test_ngram_panel_samples_and_rejects_bad_prompts_and_seeds(shakespeare_ids):
    tok, ids = shakespeare_ids
    models = {n: ngram.KneserNeyLM(n, tok.vocab_size).fit(ids[:50_000]) for n in (2, 4)}
    text = ngram.ngram_sample_text(models, tok, "ROMEO:", 4, 1.0, 30, seed=0)
    assert text.startswith("ROMEO:") and len(text) == 36
    assert text == ngram.ngram_sample_text(models, tok, "ROMEO:", 4, 1.0, 30, seed=0)
    panel = ngram_sampler_panel(models, tok)
    assert panel.error is None and panel.text.startswith("ROMEO:")
    panel.controls["prompt"].value = ""
    assert "Type a prompt" in panel.error
    panel.controls["prompt"].value = "naïve"
    assert "'ï'" in panel.error
    panel.controls["prompt"].value = "KING"
    assert panel.error is None and panel.text.startswith("KING")
    with pytest.raises(InputError, match="No model of order 7"):
        ngram.ngram_sample_text(models, tok, "a", 7, 1.0, 5)
    with pytest.raises(ArgumentError, match="seed"):  # a panel shows this as a message (widgets.Panel)
        ngram.ngram_sample_text(models, tok, "a", 4, 1.0, 5, seed=-1)
    assert panel.controls["seed"].min == 0  # the seed box itself cannot go negative
    # found by fuzzing: models of the wrong kind, mixed keys and huge lengths failed deep inside
    with pytest.raises(TypeError, match="models"):
        ngram.ngram_sample_text({4: "not a model"}, tok, "a", 4, 1.0, 5)
    with pytest.raises(InputError, match="No model of order 3; choose one of"):
        ngram.ngram_sample_text({**models, "a": models[2]}, tok, "a", 3, 1.0, 5)
    with pytest.raises(ArgumentError, match="length"):
        ngram.ngram_sample_text(models, tok, "a", 4, 1.0, 10**9)


def test_nats_to_bits_keeps_the_type_it_is_given():
    import pandas as pd

    from course_lib.train import nats_to_bits

    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
    series = nats_to_bits(pd.Series([math.log(2), 2 * math.log(2)]))
    assert isinstance(series, pd.Series) and series.tolist() == pytest.approx([1.0, 2.0])
    assert isinstance(nats_to_bits(torch.tensor([math.log(4)])), torch.Tensor)
    with pytest.raises(TypeError, match="nats"):
        nats_to_bits("2.0")


def _add_one_by_hand(train, val, n, V):
    grams = Counter(tuple(train[i : i + n]) for i in range(len(train) - n + 1))
    ctx = Counter()
    for g, c in grams.items():
        ctx[g[:-1]] += c
    logp = [
        math.log((grams[tuple(val[i - n + 1 : i + 1])] + 1) / (ctx[tuple(val[i - n + 1 : i])] + V))
        for i in range(n - 1, len(val))
    ]
    return -np.mean(logp) / math.log(2)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_add_one_reference_matches_counting_by_hand(n):
    rng = np.random.default_rng(n)
    train, val = rng.integers(0, 6, 500).tolist(), rng.integers(0, 6, 80).tolist()
    assert _add_one_bits(train, val, n, 6) == pytest.approx(_add_one_by_hand(train, val, n, 6), rel=1e-12)


def test_add_one_beats_nothing_for_long_contexts(shakespeare_ids):
    """The exercise's finding: add-one is close to Kneser–Ney for n = 2 and far worse for n = 6."""
    tok, ids = shakespeare_ids
    tr, va = data.train_val_split(ids)
    kn = {n: ngram.KneserNeyLM(n, tok.vocab_size).fit(tr) for n in (2, 6)}
    gap = {
        n: _add_one_bits(tr, va, n, tok.vocab_size) + kn[n].log_probs(va, context=tr)[n - 1 :].mean() / math.log(2)
        for n in (2, 6)
    }
    assert abs(gap[2]) < 0.05 and gap[6] > 1.0


def test_mlp_language_model_sees_only_its_window():
    torch.manual_seed(0)
    m = MLPLanguageModel(MLPLMConfig(vocab_size=65, block_size=3))
    x = torch.randint(65, (2, 10))
    out = m(x)
    assert out.shape == (2, 10, 65)
    x2 = x.clone()
    x2[:, 2] = (x2[:, 2] + 1) % 65  # position 2 is in the window of outputs 2, 3, 4 only
    changed = (m(x2) - out).abs().amax(dim=(0, 2)) > 0
    assert changed.tolist() == [False, False, True, True, True] + [False] * 5
    with pytest.raises(ValueError, match="2 dimensions"):
        m(x[0])
    with pytest.raises(ValueError, match="token ids"):
        m(x + 65)
    with pytest.raises(ValueError, match="block_size"):
        MLPLMConfig(block_size=0)


def test_context_counts_are_the_raw_counts_of_each_history():
    ids = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    m = ngram.KneserNeyLM(3, 3).fit(ids)
    # trigrams: 012, 120, 201, 012, 120, 201 → contexts "01", "12", "20" are each followed by a character twice
    assert m.context_counts([0, 1, 2, 2, 0], context=[]).tolist() == [0, 0, 2, 2, 0]  # short, short, 01, 12, 22
    rng = np.random.default_rng(0)
    train, val = rng.integers(0, 4, 3000), rng.integers(0, 4, 200)
    m = ngram.KneserNeyLM(5, 4).fit(train)
    by_hand = Counter(tuple(train[i : i + 4]) for i in range(len(train) - 4))  # 4-char contexts with a successor
    want = [by_hand[tuple(val[i - 4 : i])] if i >= 4 else 0 for i in range(len(val))]
    assert m.context_counts(val, context=[]).tolist() == want
    assert (m.context_seen(val, context=[]) == (np.array(want) > 0)).all()
