"""Tests for notebook 05: sampling (course_lib.generate), the LSTM and GPT language models, the
article's program and its fixes (course_lib.article_program), checkpoints (course_lib.char_lm) and
the benchmark's schedule."""

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import article_program as ap
from course_lib.article import PROGRAM
from course_lib.article_program import (
    GENERATE_TEXT,
    HYPERPARAMETERS,
    article_function,
    article_window_update,
    build_article_model,
    build_lm_dataset,
    categorical_crossentropy,
    count_token_reads,
    distinct_n,
    fixed_window_update,
    logits_cross_entropy,
    loop_period,
    run_program,
    softmax_then_log_loss,
    sparse_categorical_crossentropy,
    undefined_names,
)
from course_lib.char_lm import CHECKPOINTS, SHIPPED_RECIPES, load_char_lm, save_char_lm, shakespeare_char_data
from course_lib.data import get_lm_batch
from course_lib.generate import (
    encode_prompt,
    generate,
    generate_text,
    next_token_distribution,
    sample_next,
    strategy_kwargs,
    top_k_filter,
    top_p_filter,
)
from course_lib.labs import generation as lab
from course_lib.labs.generation import render_generation, sampling_panel
from course_lib.models.lstm_lm import LSTMLM, LSTMConfig
from course_lib.train import CheckpointError, lm_cross_entropy, load_checkpoint, train
from course_lib.widgets import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data():
    return shakespeare_char_data()


def small_lstm(vocab=65, seed=0):
    torch.manual_seed(seed)
    return LSTMLM(LSTMConfig(vocab_size=vocab, n_embd=32, n_hidden=96))


def small_gpt(vocab=65, block=32, seed=0):
    from course_lib.models.gpt import GPT, GPTConfig

    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab, block_size=block, n_layer=2, n_head=2, n_embd=64, dropout=0.0))


MODELS = {"lstm": small_lstm, "gpt": small_gpt}


# ---------------------------------------------------------------- models


@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_forward_shapes_and_step_matches_forward(kind):
    model = MODELS[kind]().eval()
    x = torch.randint(0, 65, (3, 20))
    logits = model(x)
    assert logits.shape == (3, 20, 65)
    # reading the text in two pieces with the carried state/cache gives the same logits
    a, state = model.forward_step(x[:, :12], None)
    b, _ = model.forward_step(x[:, 12:], state)
    assert torch.allclose(torch.cat([a, b], 1), logits, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gpt"])
def test_initial_loss_is_log_vocab(kind, data):
    tok, train_ids, _ = data
    model = MODELS[kind]()
    x, y = get_lm_batch(train_ids, 32, 16, generator=torch.Generator().manual_seed(0))
    loss = lm_cross_entropy(model(x), y).item()
    assert abs(loss - math.log(tok.vocab_size)) < 0.1, loss


@pytest.mark.parametrize("kind,lr", [("lstm", 1e-2), ("gpt", 3e-3)])
def test_overfits_one_fixed_batch(kind, lr, data):
    _, train_ids, _ = data
    model = MODELS[kind]()
    batch = get_lm_batch(train_ids, 32, 4, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    before = lm_cross_entropy(model(batch[0]), batch[1]).item()
    train(model, lambda s: batch, lambda m, b: lm_cross_entropy(m(b[0]), b[1]), opt, 150, progress=False)
    assert before > 4.0
    final = lm_cross_entropy(model(batch[0]), batch[1]).item()
    assert final < 0.3, final


def test_lstm_rejects_bad_input():
    model = small_lstm()
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(torch.randint(0, 65, (10,)))
    with pytest.raises(ValueError, match="0..64"):
        model(torch.tensor([[70]]))
    with pytest.raises(ValueError, match="n_hidden"):
        LSTMConfig(n_hidden=0)


# ---------------------------------------------------------------- filters and sampling


def test_top_k_keeps_exactly_k_without_ties():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 40, generator=g)
    for k in (1, 3, 10, 39):
        out = top_k_filter(logits, k)
        assert (torch.isfinite(out).sum(-1) == k).all()
        # the kept ones are the k largest and unchanged
        kept_vals = torch.topk(logits, k, -1).values
        assert torch.equal(
            torch.sort(out[torch.isfinite(out)].view(50, k), -1).values, torch.sort(kept_vals, -1).values
        )
    assert torch.equal(top_k_filter(logits, 40), logits)
    assert torch.equal(top_k_filter(logits, 100), logits)


def test_top_k_keeps_ties_at_the_boundary():
    logits = torch.tensor([[3.0, 1.0, 2.0, 2.0, 0.0]])
    out = top_k_filter(logits, 2)
    assert torch.isfinite(out).tolist() == [[True, False, True, True, False]]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, None])
def test_top_k_rejects_bad_k(bad):
    with pytest.raises((ValueError, TypeError), match="top_k"):
        top_k_filter(torch.randn(1, 5), bad)


def test_top_p_keeps_the_smallest_set_reaching_p():
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        logits = torch.randn(12, generator=g) * 2
        p = float(torch.rand(1, generator=g)) * 0.98 + 0.01
        kept = torch.isfinite(top_p_filter(logits, p))
        probs = torch.softmax(logits.double(), -1)
        mass = probs[kept].sum().item()
        assert mass >= p - 1e-9
        # dropping the least likely kept token would fall below p: the set is the smallest
        assert mass - probs[kept].min().item() < p
        # and it is the top of the ranking: every kept token is more likely than every dropped one
        if (~kept).any():
            assert probs[kept].min() > probs[~kept].max()


def test_top_p_boundary_is_exact():
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.15, 0.10]], dtype=torch.float64))
    kept = lambda p: int(torch.isfinite(top_p_filter(logits, p)).sum())  # noqa: E731
    assert kept(0.5) == 1  # the first token alone reaches 0.5
    assert kept(0.75) == 2  # 0.5 + 0.25 reaches 0.75 exactly: the third token is not needed
    assert kept(0.7501) == 3  # a hair above 0.75 needs the third
    assert kept(0.9) == 3 and kept(0.9001) == 4


def test_top_p_edge_cases():
    logits = torch.tensor([[5.0, 1.0, 0.0, -1.0]])
    assert torch.isfinite(top_p_filter(logits, 1e-6)).sum() == 1  # at least one token, the most likely
    assert torch.isfinite(top_p_filter(logits, 1.0)).all()
    tied = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the top three are tied: all or none
    assert torch.isfinite(top_p_filter(tied, 0.3)).tolist() == [[True, True, True, False]]
    for bad in (0.0, 1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="top_p"):
            top_p_filter(logits, bad)
    with pytest.raises(TypeError, match="top_p must be a number"):
        top_p_filter(logits, "0.9")


def test_temperature_to_zero_is_greedy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 30, generator=g) * 3
    greedy = logits.argmax(-1)
    assert torch.equal(sample_next(logits, temperature=0.0), greedy)
    for t in (1e-3, 1e-6, 1e-30):  # no overflow to NaN even for absurdly small temperatures
        for seed in range(3):
            assert torch.equal(
                sample_next(logits, temperature=t, generator=torch.Generator().manual_seed(seed)), greedy
            )


def test_sampling_follows_the_softmax_and_is_seeded():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(20000, 1)
    ids = sample_next(logits, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(ids, minlength=4).double() / len(ids)
    assert torch.allclose(freq, torch.softmax(logits[0].double(), -1), atol=0.015)
    a = sample_next(logits[:50], temperature=1.3, top_k=3, generator=torch.Generator().manual_seed(7))
    b = sample_next(logits[:50], temperature=1.3, top_k=3, generator=torch.Generator().manual_seed(7))
    c = sample_next(logits[:50], temperature=1.3, top_k=3, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a != 3).all()  # top_k=3 never picks the 4th token


def test_sample_next_clear_errors():
    with pytest.raises(ValueError, match=r"\(B, V\)"):
        sample_next(torch.randn(5))
    with pytest.raises(ValueError, match="temperature"):
        sample_next(torch.randn(1, 5), temperature=-1)
    with pytest.raises(ValueError, match="NaN"):
        sample_next(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(TypeError, match="logits must be a float tensor"):
        sample_next(torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match=r"\+inf"):
        sample_next(torch.tensor([[0.0, float("inf")]]))


# ---------------------------------------------------------------- the generation loop


class _WindowRecorder(torch.nn.Module):
    """A fake model with a context of 8 tokens that records what generate() asks it to read."""

    max_context = 8

    def __init__(self):
        super().__init__()
        self.calls = []  # (tokens read now, tokens already in the cache)

    def forward_step(self, idx, state):
        past = 0 if state is None else state
        assert past + idx.size(1) <= self.max_context, "the cache overflowed the context"
        self.calls.append((idx.size(1), past))
        logits = torch.zeros(idx.size(0), idx.size(1), 5)
        logits[..., 1] = 1.0
        return logits, past + idx.size(1)


def test_kv_cache_overflow_reencodes_the_newest_half_of_the_context():
    model = _WindowRecorder()
    out = generate(model, torch.zeros(1, 3, dtype=torch.long), 20, temperature=0.0)
    assert out.shape == (1, 23)
    resets = [n for n, past in model.calls if past == 0]
    assert resets[0] == 3  # the prompt
    assert resets[1:] and all(n == 4 for n in resets[1:])  # a full cache keeps max_context // 2 = 4 tokens
    assert all(n == 1 for n, past in model.calls if past > 0)  # otherwise one new token per step


def test_lstm_cached_generation_equals_uncached():
    model = small_lstm()
    prompt = torch.randint(0, 65, (2, 7))
    for kw in ({"temperature": 0.0}, {"temperature": 1.0, "top_p": 0.9}):
        a = generate(model, prompt, 60, use_cache=True, generator=torch.Generator().manual_seed(3), **kw)
        b = generate(model, prompt, 60, use_cache=False, generator=torch.Generator().manual_seed(3), **kw)
        assert a.shape == (2, 67) and torch.equal(a, b)
        assert torch.equal(a[:, :7], prompt)


def test_gpt_generation_within_and_beyond_the_context():
    model = small_gpt(block=16)
    prompt = torch.randint(0, 65, (1, 5))
    a = generate(model, prompt, 11, temperature=0.0, use_cache=True)  # fits in the 16-token context
    b = generate(model, prompt, 11, temperature=0.0, use_cache=False)
    assert torch.equal(a, b)
    long = generate(model, prompt, 40, temperature=0.0)  # runs past the context: the cache is re-encoded
    assert long.shape == (1, 45) and torch.equal(long[:, :16], a)


def test_generate_clear_errors():
    model = small_lstm()
    with pytest.raises(ValueError, match="batch"):
        generate(model, torch.tensor([1] * 10), 5)  # the article's flat prompt
    with pytest.raises(ValueError, match="empty"):
        generate(model, torch.zeros(1, 0, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, torch.ones(1, 3, dtype=torch.long), -1)
    model.train()
    generate(model, torch.ones(1, 3, dtype=torch.long), 2)
    assert model.training  # the mode is restored


def test_token_reads_state_window_and_prefix():
    model = small_lstm()
    prompt = torch.ones(1, 10, dtype=torch.long)
    n = 30
    state = count_token_reads(model, prompt, n, "state carried")
    window = count_token_reads(model, prompt, n, "fixed window (article)")
    prefix = count_token_reads(model, prompt, n, "growing prefix")
    assert state["tokens_read"] == 10 + n - 1  # linear, one read per new token
    assert window["tokens_read"] == 10 * n  # linear, ten reads per new token
    assert prefix["tokens_read"] == sum(10 + i for i in range(n))  # quadratic
    assert torch.equal(state["ids"], prefix["ids"])  # the LSTM's state is the whole prefix
    assert (
        count_token_reads(model, torch.ones(1, 3, dtype=torch.long), 5, "fixed window (article)", window=4)[
            "tokens_read"
        ]
        == 3 + 4 * 4
    )
    with pytest.raises(ValueError, match="loop"):
        count_token_reads(model, prompt, 3, "beam")


# ---------------------------------------------------------------- the article's program and its fixes


def test_port_sizes_equal_the_printed_hyperparameters():
    # the printed values, read independently of the module: the assignments in the program's text
    printed = dict(
        re.findall(r"^(vocab_size|embedding_dim|hidden_size|batch_size|learning_rate) = ([\d.]+)$", PROGRAM, re.M)
    )
    assert {k: float(v) for k, v in printed.items()} == {k: float(v) for k, v in HYPERPARAMETERS.items()}
    V, E, H = int(printed["vocab_size"]), int(printed["embedding_dim"]), int(printed["hidden_size"])
    assert (V, E, H) == (10000, 100, 128)
    torch.manual_seed(0)
    model = build_article_model(V, E, H)
    emb, lstm, dense = model.layers
    assert emb.table.weight.shape == (V, E)
    assert lstm.cell.input_size == E and lstm.cell.hidden_size == H and lstm.return_sequences
    assert dense.linear.weight.shape == (V, H) and dense.activation == "softmax"
    assert model.keras_parameter_count() == V * E + 4 * H * (E + H) + 4 * H + H * V + V == 2_407_248
    # the program's own lines build the same model through the port
    namespace = run_program(stop_before="model.fit(")
    assert namespace["model"].keras_parameter_count() == model.keras_parameter_count()
    assert [type(layer) for layer in namespace["model"].layers] == [type(layer) for layer in model.layers]
    assert namespace["batch_size"] == 64 and namespace["learning_rate"] == 0.001
    out = model(torch.randint(0, V, (2, 5)))
    assert out.shape == (2, 5, V) and torch.allclose(out.sum(-1), torch.ones(2, 5))  # a softmax, as Dense(softmax)


def test_the_program_stops_at_x_train_then_at_the_loss():
    assert undefined_names(PROGRAM) == ["np", "x_train", "y_train"]
    assert undefined_names("import numpy as np\nx = np.zeros(3)\ndef f(a):\n    return a + x\n") == []
    with pytest.raises(NameError, match="x_train"):
        run_program()
    with pytest.raises(ValueError, match=r"Shapes \(4, 6\) and \(4, 6, 10000\) are incompatible"):
        run_program(x_train=np.ones((4, 6), dtype=np.int64), y_train=np.ones((4, 6), dtype=np.int64))


def test_the_articles_generate_text_as_printed_raises_what_the_notebook_says():
    assert GENERATE_TEXT in PROGRAM and GENERATE_TEXT.startswith("def generate_text(input_sequence, model")
    torch.manual_seed(0)
    model = build_article_model(65, 16, 32)
    input_sequence = [1] * 10  # the program's own prompt
    with pytest.raises(NameError, match="name 'np' is not defined"):
        article_function(numpy=False)(input_sequence, model)
    with_numpy = article_function()
    for prompt in ([1] * 10, [[1] * 10]):  # a flat list, and the list of lists the course once suggested
        with pytest.raises(TypeError, match="list indices must be integers or slices, not tuple"):
            with_numpy(prompt, model, max_length=2)
    calls_before, reads_before = model.predict_calls, model.tokens_read
    out = with_numpy(np.array([[1] * 10]), model, max_length=5)  # fix 2
    assert isinstance(out, str) and len(out.split()) == 5 and all(0 <= int(i) < 65 for i in out.split())
    assert model.predict_calls - calls_before == 5 and model.tokens_read - reads_before == 5 * 10  # the window re-read
    # argmax without an axis: one flattened position for a batch of two
    preds = model.predict(np.array([[1] * 4, [2] * 4]))
    assert preds.shape == (2, 4, 65) and model.predict([1] * 4).shape == (4, 1, 65)  # TF 2's expand_1d
    flat = int(np.argmax(preds[:, -1, :]))
    assert flat == int(np.argmax(preds[:, -1, :].reshape(-1)))
    fixed = ap.patch(GENERATE_TEXT, "current_sequence[:, :-1]", "current_sequence[:, 1:]")
    assert "current_sequence[:, 1:]" in fixed and "[:, :-1]" not in fixed
    with pytest.raises(ValueError, match="exactly once"):
        ap.patch(GENERATE_TEXT, "np.", "numpy.")


def test_the_port_trains_with_the_sparse_loss_and_scores_like_a_course_model():
    from course_lib.train import evaluate_lm

    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 3, 4] * 60)
    x, y = build_lm_dataset(ids, 10)
    model = build_article_model(5, 8, 16)
    model.compile(optimizer=ap.Adam(0.05), loss="sparse_categorical_crossentropy")
    hist = model.fit(x, y, batch_size=8, epochs=20, progress=False)
    assert hist["loss"].iloc[-1] < 0.2 < 1.0 < hist["loss"].iloc[0] and hist["epoch"].iloc[-1] == 20
    direct = sparse_categorical_crossentropy(y, model(x)).mean().item()
    assert evaluate_lm(ap.as_logits(model), ids, 10) == pytest.approx(direct, abs=1e-4)
    with pytest.raises(ValueError, match="compile"):
        build_article_model(5, 8, 16).fit(x, y)


def test_window_updates():
    seq = np.array([[10, 11, 12, 13]])
    assert article_window_update(seq, 99).tolist() == [[10, 11, 12, 99]]  # the newest token (13) is lost
    assert fixed_window_update(seq, 99).tolist() == [[11, 12, 13, 99]]  # the oldest (10) is dropped
    w = np.array([[1, 2, 3]])
    for nxt in (4, 5, 6, 7):
        w = fixed_window_update(w, nxt)
    assert w.tolist() == [[5, 6, 7]]  # always the newest tokens
    w = np.array([[1, 2, 3]])
    for nxt in (4, 5, 6, 7):
        w = article_window_update(w, nxt)
    assert w.tolist() == [[1, 2, 7]]  # frozen on the prompt's start + the latest token
    with pytest.raises(ValueError, match=r"\(1, T\)"):
        fixed_window_update(np.array([1, 2, 3]), 4)


def test_keras_losses_and_the_logits_fix():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 7)
    y = torch.randint(0, 7, (2, 5))
    with pytest.raises(ValueError, match="incompatible"):
        categorical_crossentropy(y, torch.softmax(logits, -1))  # integer targets, as an LM has
    ref = F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1), reduction="none").view(2, 5)
    one_hot = F.one_hot(y, 7).float()
    assert torch.allclose(categorical_crossentropy(one_hot, torch.softmax(logits, -1)), ref, atol=1e-5)
    assert torch.allclose(sparse_categorical_crossentropy(y, torch.softmax(logits, -1)), ref, atol=1e-5)
    extreme = torch.tensor([[0.0, 120.0], [50.0, -60.0]])
    targets = torch.tensor([0, 1])
    assert math.isinf(softmax_then_log_loss(extreme, targets).item())
    fixed = logits_cross_entropy(extreme, targets)
    assert math.isfinite(fixed.item()) and abs(fixed.item() - 115.0) < 1e-3
    clipped = sparse_categorical_crossentropy(targets, torch.softmax(extreme, -1))
    assert clipped.max().item() == pytest.approx(-math.log(1e-7), rel=1e-4)  # Keras' clip caps the loss at 16.1


def test_build_lm_dataset():
    x, y = build_lm_dataset(list(range(11)), 4)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    x, _ = build_lm_dataset(torch.arange(11), 4, stride=2)
    assert x.shape == (4, 4)
    with pytest.raises(ValueError, match="at least"):
        build_lm_dataset([1, 2], 4)


def test_distinct_n():
    assert distinct_n("a b a b a b", 2) == pytest.approx(2 / 5)
    assert distinct_n("to be or not to be", 1) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="fewer"):
        distinct_n("one", 2)


def test_loop_period():
    assert loop_period([5, 1, 2, 3, 1, 2, 3, 1, 2, 3]) == 3
    assert loop_period([7, 7, 7, 7]) == 1
    assert loop_period([1, 2, 3, 4, 5, 6]) is None


# ---------------------------------------------------------------- text in, text out; the widget


@pytest.fixture(scope="module")
def tok(data):
    return data[0]


def test_encode_prompt_and_generate_text(tok):
    model = small_lstm()
    assert encode_prompt(tok, "ROMEO:").shape == (1, 6)
    with pytest.raises(InputError, match="Type a prompt"):
        encode_prompt(tok, "")
    with pytest.raises(InputError, match="'é'"):
        encode_prompt(tok, "café")
    text = generate_text(model, tok, "ROMEO:", 30, strategy="top-k", top_k=5, seed=1)
    assert text.startswith("ROMEO:") and len(text) == 36
    assert text == generate_text(model, tok, "ROMEO:", 30, strategy="top-k", top_k=5, seed=1)
    with pytest.raises(ValueError, match="length must be an integer with 0 ≤ length ≤ 2000"):  # was an hours-long loop
        generate_text(model, tok, "ROMEO:", 2**64)
    assert strategy_kwargs("greedy", 0.7) == {"temperature": 0.0, "top_k": None, "top_p": None}
    with pytest.raises(ValueError, match="strategy"):
        strategy_kwargs("beam")


def test_sampling_panel(tok):
    models = {"LSTM": small_lstm()}
    panel = sampling_panel(models, tok, prompt="KING:", length=20)
    assert panel.error is None and panel.text.startswith("KING:") and len(panel.text) == 25
    panel.controls["strategy"].value = "greedy"
    greedy = panel.text
    panel.controls["temperature"].value = 1.7  # ignored by greedy
    assert panel.text == greedy
    panel.controls["prompt"].value = ""
    assert panel.error and "Type a prompt" in panel.error
    panel.controls["prompt"].value = "你好"
    assert panel.error and "'你'" in panel.error and "'好'" in panel.error
    panel.controls["prompt"].value = "To be"
    assert panel.error is None and panel.text.startswith("To be")
    with pytest.raises(InputError, match="Unknown model"):
        render_generation(models, tok, "GPT", "a", "greedy", 1.0, 5, 0.9, 10)


def test_panel_reads_backslash_n_as_a_line_break_and_disables_unused_sliders(tok):
    model = small_lstm()
    assert lab.unescape_prompt("ROMEO:\\n") == "ROMEO:\n"
    panel = sampling_panel({"LSTM": model}, tok, length=20)  # the default prompt: ROMEO:\n, as typed in the box
    assert panel.controls["prompt"].value == "ROMEO:\\n"
    assert panel.error is None and panel.text.startswith("ROMEO:\n") and len(panel.text) == len("ROMEO:\n") + 20
    expected = {"greedy": (True, True, True), "sample": (False, True, True), "top-k": (False, False, True),
                "top-p": (False, True, False)}  # fmt: skip
    for strategy, (temperature_off, k_off, p_off) in expected.items():
        panel.controls["strategy"].value = strategy
        c = panel.controls
        assert (c["temperature"].disabled, c["top_k"].disabled, c["top_p"].disabled) == (temperature_off, k_off, p_off)
    same = render_generation({"m": model}, tok, "m", "To\\nbe", "greedy", 1.0, 5, 0.9, 10)
    assert same == generate_text(model, tok, "To\nbe", 10, "greedy")


def test_same_seed_agrees_more_than_different_seeds_at_high_temperature(tok):
    model = small_lstm()
    table = lab.seed_agreement(model, tok, prompts=("ab", "cd"), temperatures=(0.5, 50.0), length=40, seeds=range(2))
    a = table.pivot(index="temperature", columns="seeds", values="agreement")
    assert set(table.columns) == {"temperature", "seeds", "agreement"} and len(table) == 4
    assert a.loc[50.0, "same seed"] > 0.9 > 0.2 > a.loc[50.0, "different seeds"]  # near-uniform: the noise decides
    # the mechanism: multinomial(p) with a seeded generator == argmax p / e, e the generator's exponential noise
    for seed in range(20):
        p = torch.softmax(torch.randn(1, 30, generator=torch.Generator().manual_seed(99 + seed)), -1)
        e = torch.empty_like(p).exponential_(1, generator=torch.Generator().manual_seed(seed))
        assert torch.multinomial(p, 1, generator=torch.Generator().manual_seed(seed)).item() == (p / e).argmax().item()


def test_dynamics_run_records_train_and_validation_loss_and_survives_divergence(data):
    _, train_ids, val_ids = data
    h = lab.dynamics_run(train_ids[:5000], val_ids[:3000], steps=10, lr=3e-3, eval_every=5, eval_tokens=512,
                         n_embd=16, batch_size=4, block_size=16)  # fmt: skip
    assert {"step", "lr", "loss", "val_loss", "train_eval_loss"} <= set(h.columns) and not h.attrs["diverged"]
    assert h.dropna(subset=["val_loss"])["step"].tolist() == [0, 5, 10]
    const = lab.dynamics_run(train_ids[:5000], val_ids[:3000], steps=6, lr=1e-3, schedule="constant", warmup=2,
                             eval_every=6, eval_tokens=512, n_embd=16, batch_size=4, block_size=16)  # fmt: skip
    assert const["lr"].iloc[-1] == pytest.approx(1e-3)
    blown = lab.dynamics_run(train_ids[:5000], val_ids[:3000], steps=30, lr=1e9, eval_every=10, eval_tokens=512,
                             n_embd=16, batch_size=4, block_size=16, weight_decay=0.0)  # fmt: skip
    assert blown.attrs["diverged"] is True or blown["val_loss"].dropna().iloc[-1] > 3.0
    with pytest.raises(ValueError, match="schedule"):
        lab.dynamics_run(train_ids, val_ids, steps=1, lr=1e-3, schedule="step")


def test_nucleus_records_and_grouping(tok):
    model = small_lstm()
    sizes, previous = lab.record_nucleus(model, tok, "ROMEO:\n", 30, p=0.9, seed=0)
    assert len(sizes) == len(previous) == 30 and previous[0] == "\n" and all(1 <= n <= 65 for n in sizes)
    table = lab.nucleus_by_previous([3, 5, 7, 1], "a a ", min_count=2)
    assert table.to_dict("list") == {"after": ["a", "␣"], "mean nucleus": [5.0, 3.0], "steps": [2, 2]}
    with pytest.raises(ValueError, match="previous"):
        lab.nucleus_by_previous([1, 2], "a")


def test_plot_model_curves_colours_by_model_and_styles_by_run():
    import matplotlib

    matplotlib.use("agg")
    import pandas as pd

    h = pd.DataFrame({"step": [0, 10], "val_loss": [4.0, 2.0]})
    ax = lab.plot_model_curves({"GPT live": h, "GPT shipped": h, "LSTM live": h}, "step", ngram=1.5)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"GPT", "LSTM", "live", "shipped", "order-6 Kneser–Ney"} <= set(labels)
    matplotlib.pyplot.close("all")


def test_next_token_distribution_flattens_with_temperature(tok):
    model = small_lstm()
    table = next_token_distribution(model, tok, "the ", temperatures=(0.5, 1.0, 2.0), top=65)
    sums = table.groupby("temperature")["prob"].sum()
    assert np.allclose(sums.values, 1.0, atol=1e-5)
    peak = table.groupby("temperature")["prob"].max()
    assert peak[0.5] > peak[1.0] > peak[2.0]


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path, tok):
    model = small_lstm()
    hist = train(
        model,
        lambda s: (torch.randint(0, 65, (2, 8)),) * 2,
        lambda m, b: lm_cross_entropy(m(b[0]), b[1]),
        torch.optim.SGD(model.parameters(), 0.1),
        3,
        progress=False,
    )
    path = save_char_lm(tmp_path / "m.pt", model, tok, hist, {"kind": "lstm", "params": model.num_params()})
    loaded, tok2, hist2, info = load_char_lm(path)
    x = torch.randint(0, 65, (2, 9))
    assert torch.equal(loaded(x), model.eval()(x))
    assert tok2.itos == tok.itos and info["params"] == model.num_params()
    assert list(hist2["loss"]) == pytest.approx(list(hist["loss"]))


def test_corrupted_checkpoint_fails_clearly(tmp_path, tok):
    model = small_lstm()
    path = save_char_lm(tmp_path / "m.pt", model, tok, __import__("pandas").DataFrame({"step": [0]}), {"kind": "lstm"})
    raw = bytearray(path.read_bytes())
    bad = tmp_path / "bad.pt"
    bad.write_bytes(raw[: len(raw) // 2])  # truncated
    with pytest.raises(CheckpointError, match="corrupted or not a course checkpoint"):
        load_char_lm(bad)
    # overwrite bytes in the middle of the weights: the zip still reads, the weights checksum does not match
    payload_at = len(raw) // 3
    raw[payload_at : payload_at + 64] = bytes(255 - b for b in raw[payload_at : payload_at + 64])
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_char_lm(bad)
    with pytest.raises(CheckpointError, match="missing"):
        load_char_lm(tmp_path / "nowhere.pt")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a course_lib checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_corrupted_shipped_checkpoint_fails_the_hash_check(tmp_path, monkeypatch):
    from course_lib import train as train_mod

    shipped = CHECKPOINTS["lstm"]
    if not shipped.exists():
        pytest.skip("run tools/train_checkpoints.py first")
    copy = shipped.parent / "_test_corrupted_copy.pt"
    raw = bytearray(shipped.read_bytes())
    raw[-100] ^= 0xFF
    copy.write_bytes(bytes(raw))
    rel = copy.relative_to(shipped.parents[1]).as_posix()
    real = train_mod.read_checksums()
    expected = real[shipped.relative_to(shipped.parents[1]).as_posix()]
    monkeypatch.setattr(train_mod, "read_checksums", lambda: {**real, rel: expected})
    try:
        with pytest.raises(CheckpointError, match="corrupted"):
            load_char_lm(copy)
    finally:
        copy.unlink()


def test_shipped_checkpoints_load_and_gpt_beats_lstm(data):
    from course_lib.train import evaluate_lm

    if not all(p.exists() for p in CHECKPOINTS.values()):
        pytest.skip("run tools/train_checkpoints.py first")
    vals = {}
    for kind, path in CHECKPOINTS.items():
        model, tok, hist, info = load_char_lm(kind)
        assert tok.itos == data[0].itos and path.stat().st_size < 6e6
        r = SHIPPED_RECIPES[kind]
        assert info["kind"] == kind and info["tokens"] == r["steps"] * r["batch_size"] * r["block_size"]
        curve = hist["val_loss"].dropna()
        assert curve.iloc[-1] < curve.iloc[0] - 2.0  # trained: from ~ln 65 = 4.17 to below 2.2
        vals[kind] = evaluate_lm(model, data[2], r["block_size"])  # the whole validation text, as the script scores it
        assert vals[kind] == pytest.approx(info["val_loss_full"], abs=1e-3)  # the stored figure is the file's
    assert vals["gpt"] < vals["lstm"] < 2.0


# ---------------------------------------------------------------- the benchmark's pieces


def test_benchmark_schedule_and_flops():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import lm_shakespeare as bench

    args = bench.parse_args([])
    assert args.budget == 100 and args.threads == 2
    s = bench.TrainClockSchedule(lr=1e-3, min_lr=1e-4, warmup=10, budget_s=100.0)
    assert s(0) == pytest.approx(1e-4) and s(9) == pytest.approx(1e-3)
    s.start -= 50.0  # pretend half the budget has passed
    assert s(100) == pytest.approx(1e-4 + 0.5 * 9e-4 * (1 + math.cos(math.pi * 0.5)), rel=1e-2)
    s.start -= 60.0
    assert s(200) == pytest.approx(1e-4)
    before = torch.get_num_threads()
    assert bench.matmul_peak_flops(1, n=128, repeats=2) > 1e8
    assert torch.get_num_threads() == before  # the thread count is for the measurement only


def test_article_function_accepts_only_a_generate_text_definition():
    """Found by fuzzing (issue 12): any other text ran at import time or raised a raw KeyError."""
    from course_lib.errors import ArgumentError

    with pytest.raises(ArgumentError, match="generate_text"):
        ap.article_function(source="x = 1\n")
    with pytest.raises(ArgumentError, match="not valid Python"):
        ap.article_function(source="def generate_text(:\n")
    assert callable(ap.article_function(source=ap.patch(ap.GENERATE_TEXT, "max_length=50", "max_length=5")))
