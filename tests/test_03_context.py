"""Tests for notebook 03 (context representation): course_lib.pooling and course_lib.sentiment."""

import pandas as pd
import pytest
import torch

from course_lib import sentiment as S
from course_lib.embeddings import load_glove
from course_lib.errors import InputError
from course_lib.labs.context import explain_sentence, pooled_word_recall, sentence_panel
from course_lib.plots import bar_with_errors
from course_lib.pooling import AttentionPooling, max_pool, mean_pool


def _padded(seqs):
    T = max(len(s) for s in seqs)
    D = seqs[0].shape[1]
    x = torch.full((len(seqs), T, D), float("nan"))  # padding is NaN: it must never be read
    mask = torch.zeros(len(seqs), T, dtype=torch.bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
        mask[i, : len(s)] = True
    return x, mask


def test_pooling_with_padding_equals_pooling_alone():
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randn(n, 4, generator=g) for n in (1, 3, 5)]
    x, mask = _padded(seqs)
    for pool in (mean_pool, max_pool):
        batched = pool(x, mask)
        assert batched.shape == (3, 4)
        for i, s in enumerate(seqs):
            alone = pool(s[None], torch.ones(1, len(s), dtype=torch.bool))[0]
            assert torch.equal(batched[i], alone)
    assert torch.allclose(mean_pool(x, mask)[2], seqs[2].mean(0))
    assert torch.equal(max_pool(x, mask)[2], seqs[2].max(0).values)


def test_pooling_forgets_word_order():
    e = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))  # the, dog, bit, man, (unused)
    a = e[[0, 1, 2, 0, 3]][None]  # the dog bit the man
    b = e[[0, 3, 2, 0, 1]][None]  # the man bit the dog
    m = torch.ones(1, 5, dtype=torch.bool)
    assert torch.allclose(mean_pool(a, m), mean_pool(b, m)) and torch.equal(max_pool(a, m), max_pool(b, m))


def test_pooling_errors():
    x = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"mask has shape \(2, 4\).*expected mask of shape \(B, T\) = \(2, 3\)"):
        mean_pool(x, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"row\(s\) \[1\].*all padding"):
        max_pool(x, torch.tensor([[True, False, False], [False, False, False]]))
    with pytest.raises(TypeError, match="bool"):
        mean_pool(x, torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        mean_pool(torch.zeros(3, 4), torch.ones(3, 4, dtype=torch.bool))


def test_attention_weights_sum_to_one_and_ignore_padding():
    torch.manual_seed(0)
    pool = AttentionPooling(4)
    seqs = [torch.randn(n, 4) for n in (2, 5)]
    x, mask = _padded(seqs)
    pooled, w = pool(x, mask)
    assert torch.allclose(w.sum(1), torch.ones(2))
    assert (w[~mask] == 0).all() and (w[mask] > 0).all()
    assert not torch.isnan(pooled).any()
    alone, _ = pool(seqs[0][None], torch.ones(1, 2, dtype=torch.bool))
    assert torch.allclose(pooled[0], alone[0], atol=1e-6)
    assert torch.autograd.gradcheck(
        lambda t: pool.double()(t, torch.ones(1, 3, dtype=torch.bool))[0],
        (torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True),),
    )


def test_data_parsing_and_stratified_split():
    df = S.load_sentiment()
    assert len(df) == 3000 and df.groupby("source").size().tolist() == [1000, 1000, 1000]
    assert not df.text.str.contains("\t").any() and (df.text.str.len() > 0).all()
    text = 'Good\u0085 film "really  \t1\nbad\t0\n'
    parsed = S.parse_labelled_lines(text)  # NEL inside a sentence and a stray quote do not split or swallow rows
    assert parsed.label.tolist() == [1, 0] and parsed.text[0] == 'Good\u0085 film "really'
    a, b = S.stratified_split(df, seed=0), S.stratified_split(df, seed=0)
    assert all(a[k].equals(b[k]) for k in a)
    sizes = {k: v.groupby(["source", "label"]).size().tolist() for k, v in a.items()}
    assert sizes == {"train": [300] * 6, "val": [100] * 6, "test": [100] * 6}
    together = pd.concat(list(a.values())).sort_values(["source", "label", "text"]).reset_index(drop=True)
    assert together.equals(df.sort_values(["source", "label", "text"]).reset_index(drop=True))  # a partition


def test_contributions_add_up_to_the_logit():
    tok = S.build_tokenizer(["good food", "bad service here", "not good"])
    ids, mask = S.encode(tok, ["good food good", "bad here", "zzz"])
    assert mask.tolist()[2] == [True, False, False]  # unknown word dropped, one <unk> kept
    for kind in ("bow", "mean", "max", "attention"):
        model = S.make_classifier(kind, tok, seed=0)
        with torch.no_grad():
            if kind == "bow":
                model.bow.weight.normal_()
            model.eval()
            contrib, attn = model.contributions(ids, mask)
            bias = (model.bow if kind == "bow" else model.head).bias
            assert torch.allclose(contrib.sum(1) + bias, model(ids, mask), atol=1e-5), kind
            assert (contrib[~mask] == 0).all()
            if kind == "attention":
                assert torch.allclose(attn.sum(1), torch.ones(3))


def test_classifier_trains_above_chance_on_real_subset():
    df = S.load_sentiment()
    splits = S.stratified_split(df[df.source == "yelp"].reset_index(drop=True), seed=0)
    tok = S.build_tokenizer(splits["train"].text)
    xy = {k: (*S.encode(tok, v.text), torch.tensor(v.label.to_numpy())) for k, v in splits.items()}
    model = S.make_classifier("mean", tok, seed=0)
    hist = S.fit_classifier(model, xy["train"], xy["val"], epochs=6, seed=0, progress=False, **S.HPARAMS["mean"])
    acc = ((S.predict_proba(model, *xy["test"][:2]) > 0.5).long() == xy["test"][2]).float().mean().item()
    assert acc > 0.65 and hist.attrs["best_val_acc"] > 0.65  # 200 test sentences, chance = 0.5


def test_bilstm_and_glove_init():
    glove = load_glove()
    tok = S.build_tokenizer(["the food was great", "awful"], glove)
    model = S.make_classifier("bilstm", tok, glove, seed=0)
    assert torch.equal(model.emb.weight[tok.stoi["food"]], glove.vector("food"))
    ids, mask = S.encode(tok, ["great food", "awful awful awful the"])
    assert model(ids, mask).shape == (2,)
    # padding does not change the BiLSTM's output
    alone = model.eval()(ids[:1, :2], mask[:1, :2])
    assert torch.allclose(model(ids, mask)[:1], alone, atol=1e-6)


def test_sentence_panel_inputs_and_summary():
    tok = S.build_tokenizer(["good food", "bad service"])
    models = {
        "mean": (S.make_classifier("mean", tok, seed=0), tok),
        "bilstm": (S.make_classifier("bilstm", tok, seed=0), tok),
    }
    panel = sentence_panel(models, sentence="good food xyz")
    assert panel.error is None and ("positive" in panel.text or "negative" in panel.text)
    assert "xyz" in panel.text and "not in the vocabulary" in panel.result
    panel.controls["model"].value = "bilstm"
    assert panel.error is None and "occlusion" in panel.text
    panel.controls["sentence"].value = ""
    assert panel.error and "Type a sentence" in panel.text
    panel.controls["sentence"].value = "qwerty asdf"
    assert panel.error and "None of the words" in panel.text
    res = pd.DataFrame(
        {
            "model": ["bow", "bow"],
            "init": ["random"] * 2,
            "seed": [0, 1],
            "val_acc": [0.8, 0.8],
            "test_acc": [0.8, 0.82],
        }
    )
    t = S.summarise(res, n_test=600)
    assert t.test_acc[0] == pytest.approx(0.81) and t.ci95[0] == pytest.approx(1.96 * (0.81 * 0.19 / 600) ** 0.5)
    diff, lo, hi = S.paired_bootstrap(torch.ones(50), torch.zeros(50))
    assert diff == lo == hi == 1.0


def test_explainer_marks_words_after_the_first_100_as_unread_not_unknown():
    tok = S.build_tokenizer(["good food", "bad service"])
    model = S.make_classifier("mean", tok, seed=0)
    long_text = " ".join(["good"] * 100 + ["bad", "food", "zzz"])  # 102 known words, then an unknown one
    html = explain_sentence(model, tok, long_text)
    assert html.count('title="not in the vocabulary') == 1  # only "zzz"
    assert html.count("does not read it") == 2 and "the 2 later one(s) are struck through" in html
    short = explain_sentence(model, tok, "good food zzz")
    assert "does not read it" not in short and "struck through" not in short
    # the colours are exactly the contributions of the words the model read
    ids, mask = S.encode(tok, [long_text])
    assert ids.shape == (1, S.MAX_LEN)
    with pytest.raises(InputError, match="5,000 characters"):
        explain_sentence(model, tok, "good " * 2_000)


def test_explainer_escapes_what_it_echoes():
    tok = S.build_tokenizer(["good food"])
    html = explain_sentence(S.make_classifier("mean", tok, seed=0), tok, "good <script>alert(1)</script>")
    assert "<script>" not in html and "&lt;" in html


def test_pooled_word_recall_is_perfect_for_one_word_and_falls_with_length():
    glove = load_glove()
    table = pooled_word_recall(glove, [1, 2, 8], n_sentences=30, vocab=2_000)
    assert table.recall.iloc[0] == 1.0  # the mean of one unit vector is that vector
    assert table.recall.iloc[2] < table.recall.iloc[1] < 1.0
    assert table.equals(pooled_word_recall(glove, [1, 2, 8], n_sentences=30, vocab=2_000))  # seeded


def test_bar_with_errors_puts_each_error_bar_on_its_own_bar_with_hue():
    import matplotlib.pyplot as plt

    t = pd.DataFrame(
        {
            "model": ["bow", "mean", "mean", "max", "max"],
            "init": ["random", "GloVe", "random", "random", "GloVe"],
            "acc": [0.80, 0.82, 0.81, 0.83, 0.84],
            "ci": [0.01, 0.02, 0.03, 0.04, 0.05],
        }
    )
    ax = bar_with_errors(t, "model", "acc", err="ci", hue="init")
    from matplotlib.container import ErrorbarContainer

    bars = {(round(b.get_x() + b.get_width() / 2, 3), round(b.get_height(), 3)) for b in ax.patches if b.get_height()}
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == len(t)
    for c in errorbars:  # each error bar: centred on a bar's top, its half-length that row's ci
        ((x, y),) = c.lines[0].get_xydata()
        (_, y0), (_, y1) = c.lines[2][0].get_segments()[0]
        assert (round(x, 3), round(y, 3)) in bars
        assert abs(y1 - y0) / 2 == pytest.approx(float(t[(t.acc - y).abs() < 1e-9].ci.iloc[0]))
    plt.close("all")


def test_bilstm_occlusion_removes_the_word_not_the_last_word():
    """Occlusion must score each word by the sentence read without it (a regression: a mask with a hole made the
    packed LSTM drop the *last* word instead, so every word got the same contribution)."""
    tok = S.build_tokenizer(["the food was not good at all", "great service"])
    model = S.make_classifier("bilstm", tok, seed=0).eval()
    words = "the food was not good".split()
    ids, mask = S.encode(tok, [" ".join(words)])
    contrib, _ = model.contributions(ids, mask)
    with torch.no_grad():
        full = model(ids, mask)
        for t in range(len(words)):
            without = " ".join(words[:t] + words[t + 1 :])
            assert contrib[0, t].item() == pytest.approx((full - model(*S.encode(tok, [without])))[0].item(), abs=1e-5)
    assert len({round(c, 5) for c in contrib[0].tolist()}) == len(words)  # different words, different parts
    with pytest.raises(ValueError, match="no holes"):
        model(ids, torch.tensor([[True, False, True, True, True]]))
