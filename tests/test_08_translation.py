"""Notebook 08: the data and its split, tokenisation, masks, beam search, BLEU and the three translators."""

import itertools
import math
import random

import numpy as np
import pytest
import sacrebleu
import torch
import torch.nn.functional as F

from course_lib.beam_search import Hypothesis, beam_search, greedy_search, select_rows
from course_lib.data import WordTokenizer
from course_lib.errors import ArgumentError
from course_lib.labs import translation as T
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.models.seq2seq import AdditiveAttention, Seq2Seq, Seq2SeqConfig
from course_lib.translation import (
    IGNORE,
    SEP,
    Pair,
    Translator,
    bleu_from_statistics,
    bleu_statistics,
    build_joint_tokenizer,
    build_tokenizers,
    corpus_bleu,
    corpus_chrf,
    gpt_batch,
    gpt_translation_loss,
    load_pairs,
    paired_bootstrap,
    seq2seq_batch,
    seq2seq_loss,
    split_pairs,
    tutorial_keeps,
    tutorial_normalize,
)


@pytest.fixture(scope="module")
def pairs():
    return load_pairs()


@pytest.fixture(scope="module")
def split(pairs):
    return split_pairs(pairs)


# ----------------------------------------------------------------------------- data


def test_tutorial_filter_and_counts(pairs):
    assert len(pairs) == 11822  # the PyTorch tutorial's filter gives 11,822 pairs (shared data README)
    assert tutorial_normalize("Je suis désolé !") == "je suis desole !"
    assert tutorial_normalize("I'm OK.") == "i m ok"
    assert tutorial_keeps("I'm fat.", "Je suis gros.")
    assert not tutorial_keeps("Go.", "Va !")  # no English prefix
    assert all(tutorial_keeps(p.english, p.french) for p in pairs[:500])
    assert any("é" in p.french for p in pairs)  # the original text is kept, accents included


def test_split_by_sentence_has_no_shared_sentence(pairs, split):
    assert sum(len(v) for v in split.values()) == len(pairs)
    for lang in ("english", "french"):
        sides = {k: {getattr(p, lang) for p in v} for k, v in split.items()}
        for a, b in itertools.combinations(sides, 2):
            assert not sides[a] & sides[b], (lang, a, b)
    n = len(pairs)
    assert 0.1 * n <= len(split["test"]) < 0.1 * n + 40 and 0.1 * n <= len(split["val"]) < 0.1 * n + 40
    assert split_pairs(pairs) == split  # deterministic
    assert split_pairs(pairs, seed=1)["test"] != split["test"]


def test_tokenisation_round_trips(split):
    src, tgt = build_tokenizers(split["train"])
    src2, tgt2 = (WordTokenizer.from_dict(t.to_dict()) for t in (src, tgt))
    for p in split["train"][:1000]:
        for tok, tok2, text in ((src, src2, p.french), (tgt, tgt2, p.english)):
            ids = tok.encode(text)
            assert tok.unk_id not in ids
            assert tok.tokenize(tok.decode(ids)) == tok.tokenize(text)
            assert tok2.encode(text) == ids
    joint = build_joint_tokenizer(split["train"])
    assert joint.stoi[SEP] == 4 and joint.tokenize(joint.decode(joint.encode("J'ai froid."))) == ["j'ai", "froid", "."]


def test_batches_align_inputs_and_targets():
    pairs = [Pair("je suis là .", "i am here ."), Pair("il est grand .", "he is tall .")]
    src, tgt = build_tokenizers(pairs)
    b = seq2seq_batch(pairs, src, tgt)
    assert b["tgt_in"][0, 0] == tgt.bos_id and b["tgt_out"][0, len(tgt.encode("i am here ."))] == tgt.eos_id
    assert torch.equal(b["tgt_in"][:, 1:], b["tgt_out"][:, :-1].masked_fill(b["tgt_out"][:, :-1] == tgt.eos_id, 0))
    joint = build_joint_tokenizer(pairs)
    g = gpt_batch(pairs[:1], joint)
    x, y = g["x"][0].tolist(), g["y"][0].tolist()
    n_src = len(joint.encode("je suis là ."))
    assert x[n_src] == joint.stoi[SEP] and y[:n_src] == [IGNORE] * n_src
    assert y[n_src:] == joint.encode("i am here .") + [joint.eos_id]
    assert x[n_src + 1 :] == joint.encode("i am here .")


# ----------------------------------------------------------------------------- models and masks


def _tiny_seq2seq(attention, V_src=11, V=9, seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(Seq2SeqConfig(V_src, V, n_embd=16, n_hidden=16, attention=attention, dropout=0.0)).eval()


@pytest.mark.parametrize("attention", [False, True])
def test_padding_never_changes_the_output(attention):
    model = _tiny_seq2seq(attention)
    src = torch.tensor([[5, 6, 7]])
    padded = torch.tensor([[5, 6, 7, 0, 0, 0], [8, 9, 10, 5, 6, 7]])
    tgt = torch.tensor([[2, 4, 5, 6]])
    with torch.no_grad():
        alone, w_alone = model(src, tgt, return_attention=True)
        both, w_both = model(padded, tgt.repeat(2, 1), return_attention=True)
    torch.testing.assert_close(both[0], alone[0], atol=1e-5, rtol=1e-5)
    if attention:
        assert torch.all(w_both[0, :, 3:] == 0)  # padding is never attended
        torch.testing.assert_close(w_both[0].sum(-1), torch.ones(4))
        torch.testing.assert_close(w_both[0, :, :3], w_alone[0])


def test_additive_attention_matches_its_formula():
    torch.manual_seed(0)
    att = AdditiveAttention(4, 6, 5)
    q, mem = torch.randn(2, 4), torch.randn(2, 3, 6)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    ctx, wts = att(q, att.keys(mem), mem, mask)
    for b in range(2):
        scores = torch.stack([att.v(torch.tanh(att.W_q(q[b]) + att.W_k(mem[b, j]))).squeeze() for j in range(3)])
        scores[~mask[b]] = -math.inf
        expect = torch.softmax(scores, 0)
        torch.testing.assert_close(wts[b], expect)
        torch.testing.assert_close(ctx[b], expect @ mem[b])


def test_gpt_translation_loss_equals_the_full_cross_entropy():
    pairs = [Pair("je suis là .", "i am here ."), Pair("il est très grand .", "he is very tall .")]
    tok = build_joint_tokenizer(pairs)
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=32, n_layer=2, n_head=2, n_embd=16))
    b = gpt_batch(pairs, tok)
    full = F.cross_entropy(gpt(b["x"]).flatten(0, 1), b["y"].flatten(), ignore_index=IGNORE)
    torch.testing.assert_close(gpt_translation_loss(gpt, b), full)


@pytest.mark.parametrize("kind", ["gru", "gru_attention", "gpt"])
def test_each_model_overfits_a_tiny_batch(kind):
    pairs = [
        Pair("Je suis là.", "I am here."),
        Pair("Il est grand.", "He is tall."),
        Pair("Elle est petite.", "She is small."),
        Pair("Nous sommes prêts.", "We are ready."),
    ]
    recipe = T.TranslationRecipe(
        kind, n_embd=32, n_hidden=32, n_layer=2, n_head=2, dropout=0.0, label_smoothing=0.0, min_freq=1
    )
    toks = T.make_tokenizers(recipe, pairs)
    torch.manual_seed(0)
    model = T.build_model(recipe, toks)
    batch = gpt_batch(pairs, toks[0]) if kind == "gpt" else seq2seq_batch(pairs, *toks)
    loss_fn = gpt_translation_loss if kind == "gpt" else seq2seq_loss
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = loss_fn(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    out = Translator(model, *toks).translate([p.french for p in pairs])
    assert [o[0].text for o in out] == [p.english.lower() for p in pairs]


# ----------------------------------------------------------------------------- beam search


def _toy_step(V=4, H=6, seed=0):
    """A tiny recurrent 'model': its next-token distribution depends on the whole prefix."""
    g = torch.Generator().manual_seed(seed)
    emb, U, out = torch.randn(V + 1, H, generator=g), torch.randn(H, H, generator=g), torch.randn(H, V, generator=g)

    def step(tokens, h):
        h = torch.tanh(emb[tokens] + h @ U * 0.8)
        return torch.log_softmax(2.0 * h @ out, -1), h

    return step


def _sequence_logprob(step, seq, eos, bos, H=6):
    h, tok, total = torch.zeros(1, H), torch.tensor([bos]), 0.0
    for t in seq:
        logp, h = step(tok, h)
        total += float(logp[0, t])
        tok = torch.tensor([t])
    return total


def _enumerate(step, V, eos, bos, max_len):
    """Every possible output: w_1…w_k <eos> (k < max_len) and every max_len-token sequence without <eos>."""
    words = [v for v in range(V) if v != eos]
    best = []
    for k in range(max_len + 1):
        for seq in itertools.product(words, repeat=k):
            full = list(seq) + ([eos] if k < max_len else [])
            best.append((_sequence_logprob(step, full, eos, bos), seq))
    return sorted(best, reverse=True)


@pytest.mark.parametrize("seed", range(6))
def test_beam_search_finds_the_enumerated_optimum_and_beam_1_is_greedy(seed):
    V, eos, bos, max_len = 4, 0, 4, 4
    step = _toy_step(V, seed=seed)
    exhaustive = _enumerate(step, V, eos, bos, max_len)  # 1 + 3 + 9 + 27 + 81 = 121 outputs
    assert len(exhaustive) == 121
    h0 = torch.zeros(1, 6)
    wide = beam_search(step, h0, 1, bos, eos, max_len, beam_size=121, n_best=10)[0]
    assert [h.tokens for h in wide] == [s for _, s in exhaustive[:10]]
    for h, (score, _) in zip(wide, exhaustive):
        assert h.score == pytest.approx(score, abs=1e-5)
    greedy = greedy_search(step, h0, 1, bos, eos, max_len)[0]
    beam1 = beam_search(step, h0, 1, bos, eos, max_len, beam_size=1)[0][0]
    assert beam1.tokens == greedy.tokens and beam1.score == pytest.approx(greedy.score)
    assert greedy.score <= exhaustive[0][0] + 1e-6
    beam3 = beam_search(step, h0, 1, bos, eos, max_len, beam_size=3)[0][0]
    assert greedy.score - 1e-6 <= beam3.score <= exhaustive[0][0] + 1e-6


def test_beam_search_beats_greedy_somewhere_and_batches_agree():
    V, eos, bos, max_len = 4, 0, 4, 4
    gains = []
    for seed in range(30):
        step = _toy_step(V, seed=seed)
        h0 = torch.zeros(1, 6)
        gains.append(
            beam_search(step, h0, 1, bos, eos, max_len, beam_size=3)[0][0].score
            - greedy_search(step, h0, 1, bos, eos, max_len)[0].score
        )
    assert min(gains) >= -1e-6 and max(gains) > 0.1  # never worse, sometimes clearly better
    step = _toy_step(V, seed=3)
    h0 = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    batched = beam_search(step, h0, 3, bos, eos, max_len, beam_size=3)
    for i in range(3):
        alone = beam_search(step, h0[i : i + 1], 1, bos, eos, max_len, beam_size=3)[0]
        assert [h.tokens for h in batched[i]] == [h.tokens for h in alone]


def test_searches_refuse_unusable_arguments_with_course_errors():
    """Found by fuzzing: a huge max_len ran for ever, a tensor as step or reorder, out-of-range rows."""
    step, h0 = _toy_step(4, seed=0), torch.zeros(2, 6)
    with pytest.raises(ArgumentError, match="max_len"):
        greedy_search(step, h0, 2, 4, 0, 2**64)
    with pytest.raises(TypeError, match="step must be a function"):
        beam_search(torch.zeros(2), h0, 2, 4, 0, 3)
    with pytest.raises(TypeError, match="reorder must be a function"):
        beam_search(step, h0, 2, 4, 0, 3, reorder=torch.zeros(2))
    with pytest.raises(ArgumentError, match="bos_id"):
        greedy_search(step, h0, 2, -1, 0, 3)
    with pytest.raises(ArgumentError, match="index must pick rows 0..1"):
        select_rows((h0, {"c": h0}), torch.tensor([0, 2]))
    with pytest.raises(TypeError, match="index must be a integer tensor"):
        select_rows(h0, torch.tensor([0.0]))
    assert select_rows((h0, None), torch.tensor([1, 1]))[0].shape == (2, 6)


def test_beam_1_equals_greedy_on_the_translators():
    pairs = load_pairs()[:300]
    toks = build_tokenizers(pairs)
    model = _tiny_seq2seq(True, toks[0].vocab_size, toks[1].vocab_size)
    tr = Translator(model, *toks, max_len=8)
    src = [p.french for p in pairs[:40]]
    greedy = [t[0].text for t in tr.translate(src, beam_size=1)]
    state = model.encode(seq2seq_batch(pairs[:40], *toks)["src"])

    def step(tokens, state):
        logits, state, _ = model.step(tokens, state)
        return torch.log_softmax(logits, -1), state

    beam1 = beam_search(step, state, 40, toks[1].bos_id, toks[1].eos_id, 8, beam_size=1)
    assert [tr.detokenize(b[0].tokens) for b in beam1] == greedy
    joint = build_joint_tokenizer(pairs)
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=joint.vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=16)).eval()
    trg = Translator(gpt, joint, max_len=6)
    together = trg.translate(src[:12], beam_size=3, n_best=2)
    for s, t in zip(src[:12], together):
        assert [x.text for x in trg.translate([s], beam_size=3, n_best=2)[0]] == [x.text for x in t]


def test_select_rows_walks_nested_states():
    state = (torch.arange(3), [torch.arange(6).view(3, 2), None], {"k": torch.arange(3)})
    out = select_rows(state, torch.tensor([2, 0]))
    assert out[0].tolist() == [2, 0] and out[1][0].tolist() == [[4, 5], [0, 1]] and out[2]["k"].tolist() == [2, 0]
    assert isinstance(Hypothesis((1,), -1.0, True, -1.0).tokens, tuple)


# ----------------------------------------------------------------------------- BLEU


def test_bleu_of_a_reference_against_itself_is_100():
    refs = ["I am here.", "He is very tall.", "They're waiting for you at home."]
    assert corpus_bleu(refs, refs)[0].score == pytest.approx(100.0)
    assert bleu_from_statistics(sum(bleu_statistics(r, r) for r in refs)) == pytest.approx(100.0)


def test_bleu_matches_sacrebleu_on_a_hand_case():
    hyps = ["the cat is on the mat .", "he is a teacher ."]
    refs = ["The cat sits on the mat.", "He is a good teacher."]
    # by hand: hyp tokens 7 + 5 = 12, ref 7 + 6 = 13; n-gram matches 6+5, 4+3, 2+1, 1+0 of 7+5, 6+4, 5+3, 4+2
    stats = sum(bleu_statistics(h, r) for h, r in zip(hyps, refs))
    assert stats.tolist() == [12, 13, 11, 7, 3, 1, 12, 10, 8, 6]
    by_hand = (
        100
        * math.exp(1 - 13 / 12)
        * math.exp((math.log(11 / 12) + math.log(7 / 10) + math.log(3 / 8) + math.log(1 / 6)) / 4)
    )
    ours = bleu_from_statistics(stats)
    theirs = sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score
    assert ours == pytest.approx(by_hand) and ours == pytest.approx(theirs)
    score, signature = corpus_bleu(hyps, refs)
    assert score.score == pytest.approx(theirs) and "case:lc" in signature and "tok:13a" in signature
    assert "nrefs:1" in corpus_chrf(hyps, refs)[1]


def test_bleu_matches_sacrebleu_on_random_subsets(split):
    rng = random.Random(0)
    eng = [p.english for p in split["test"]]
    for _ in range(20):
        idx = rng.sample(range(len(eng)), 40)
        refs = [eng[i] for i in idx]
        hyps = [" ".join(rng.sample(r.lower().split(), max(1, len(r.split()) - rng.randint(0, 2)))) for r in refs]
        stats = np.stack([bleu_statistics(h, r) for h, r in zip(hyps, refs)])
        assert bleu_from_statistics(stats.sum(0)) == pytest.approx(
            sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score
        )


def test_paired_bootstrap():
    refs = [p.english for p in load_pairs()[:200]]
    good = [r.lower() for r in refs]
    bad = [" ".join(r.lower().split()[:-1]) for r in refs]
    a = np.stack([bleu_statistics(h, r) for h, r in zip(good, refs)])
    b = np.stack([bleu_statistics(h, r) for h, r in zip(bad, refs)])
    res = paired_bootstrap(a, b, n_samples=200, seed=0)
    assert res["bleu_a"] == pytest.approx(100.0) and res["diff_lo"] > 0 and res["p_a_better"] == 1.0
    assert res["a_lo"] <= res["bleu_a"] <= res["a_hi"]
    same = paired_bootstrap(a, a, n_samples=50)
    assert same["diff_lo"] == same["diff_hi"] == 0.0
    assert paired_bootstrap(a, b, n_samples=50, seed=3) == paired_bootstrap(a, b, n_samples=50, seed=3)
    with pytest.raises(ArgumentError):
        paired_bootstrap(a, b[:10])


# ----------------------------------------------------------------------------- checkpoints and the widget


def test_translator_checkpoint_round_trip(tmp_path):
    pairs = load_pairs()[:200]
    recipe = T.TranslationRecipe("gru_attention", n_embd=16, n_hidden=16, steps=3, eval_every=3)
    data = {"train": pairs[:150], "val": pairs[150:], "test": pairs[150:]}
    model, toks, hist = T.train_translator(recipe, data, steps=3, progress=False)
    path = T.save_translator(tmp_path / "t.pt", model, toks, recipe, hist, {"note": "test"})
    T.CHECKPOINTS["gru_attention_test"] = path
    try:
        loaded, toks2, recipe2, hist2, info = T.load_translator("gru_attention", path=path)
    finally:
        T.CHECKPOINTS.pop("gru_attention_test")
    assert recipe2 == recipe and info == {"note": "test"} and toks2[0].itos == toks[0].itos
    assert list(hist2["val_loss"].dropna()) == pytest.approx(list(hist["val_loss"].dropna()))
    for name, p in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], p.half().float())


def test_translation_panel_answers_kindly():
    pairs = load_pairs()[:300]
    toks = build_tokenizers(pairs)
    model = _tiny_seq2seq(True, toks[0].vocab_size, toks[1].vocab_size)
    panel = T.translation_panel({"GRU + attention": Translator(model, *toks, max_len=8)})
    assert panel.error is None and "beam" in panel.text
    panel.controls["sentence"].value = "   "
    assert panel.result is None and "Type a French sentence" in panel.error
    panel.controls["sentence"].value = "Je suis xylophonique <b>!"
    assert "xylophonique" in panel.error and "<b>" not in panel._html.value
    panel.controls["sentence"].value = pairs[0].french
    assert panel.error is None and panel.result is not None


def test_translation_arguments_are_checked_with_course_errors():
    """Found by fuzzing (issue 12): these raised raw AttributeError / IndexError / TypeError before."""
    from course_lib.errors import ArgumentTypeError
    from course_lib.translation import Pair, bleu_from_statistics, pad_sequences, sentence_groups, split_pairs

    with pytest.raises(ArgumentTypeError, match="pairs must be a list of Pair"):
        split_pairs("je suis prêt")
    with pytest.raises(ArgumentTypeError, match="pairs"):
        sentence_groups([Pair("a", "b"), "c"])
    with pytest.raises(ArgumentError, match="stats must be numbers of shape"):
        bleu_from_statistics(np.zeros(3))
    with pytest.raises(ArgumentTypeError, match="stats"):
        bleu_from_statistics(None)
    with pytest.raises(ArgumentTypeError, match="seqs"):
        pad_sequences(float("nan"))
    assert pad_sequences([[1, 2], [3]], pad_id=-100).tolist() == [[1, 2], [3, -100]]
