"""Tests for the course's core: config, data, tokenizers, training loop, checkpoints, plots, widgets.

The n-gram model's tests are in test_01_background_ngram.py.
"""

import math
import shutil

import ipywidgets as w
import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

matplotlib.use("agg")

from course_lib import config, data, env, ngram, plots, show_source, train, widgets  # noqa: E402
from course_lib.data import CharTokenizer, DataFileError, WordTokenizer  # noqa: E402
from course_lib.labs import tour  # noqa: E402

# --- config -----------------------------------------------------------------------------------


def test_fast_mode_follows_environment(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.is_fast() and config.choose(full=100, fast=5) == 5
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not config.is_fast() and config.choose(full=100, fast=5) == 100


def test_set_seed_makes_all_generators_repeat():
    def draw():
        g = config.set_seed(123)
        return (
            np.random.rand(),
            torch.rand(1).item(),
            torch.rand(1, generator=g).item(),
            __import__("random").random(),
        )

    assert draw() == draw()
    with pytest.raises(TypeError, match="integer seed"):
        config.set_seed(1.5)


def test_paths_do_not_depend_on_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (config.DATA_DIR / "SHA256SUMS").exists()
    assert len(data.load_shakespeare()) == 1_115_394


def test_device_and_threads():
    assert config.get_device().type in ("cpu", "cuda")
    assert config.available_cpus() >= 1
    before = torch.get_num_threads()
    assert config.configure_threads(1) == 1 and torch.get_num_threads() == 1
    config.configure_threads(before)


# --- data ---------------------------------------------------------------------------------------


def test_every_listed_data_file_verifies():
    sums = data.read_checksums()
    assert "tinyshakespeare/input.txt" in sums
    for rel in sums:
        data.verify_file(rel)


def test_every_data_file_is_listed():
    listed = set(data.read_checksums())
    for p in config.DATA_DIR.rglob("*"):
        rel = p.relative_to(config.DATA_DIR).as_posix()
        if p.is_file() and rel != "SHA256SUMS":
            assert rel in listed, f"data/{rel} is not in data/SHA256SUMS"


@pytest.fixture
def fake_data_dir(tmp_path, monkeypatch):
    """A copy of data/ layout in a temp folder, so tests can damage files safely."""
    d = tmp_path / "data"
    (d / "tinyshakespeare").mkdir(parents=True)
    shutil.copy(config.DATA_DIR / "tinyshakespeare" / "input.txt", d / "tinyshakespeare" / "input.txt")
    shutil.copy(config.SHA256SUMS, d / "SHA256SUMS")
    monkeypatch.setattr(data, "DATA_DIR", d)
    monkeypatch.setattr(data, "SHA256SUMS", d / "SHA256SUMS")
    monkeypatch.setattr(data.read_checksums, "__defaults__", (d / "SHA256SUMS",))
    return d


def test_corrupting_one_byte_names_the_file(fake_data_dir):
    f = fake_data_dir / "tinyshakespeare" / "input.txt"
    raw = bytearray(f.read_bytes())
    raw[1000] ^= 0x01
    f.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"data/tinyshakespeare/input.txt is corrupted.*git checkout"):
        data.load_text("tinyshakespeare/input.txt")


def test_missing_file_says_how_to_restore(fake_data_dir):
    (fake_data_dir / "tinyshakespeare" / "input.txt").unlink()
    with pytest.raises(DataFileError, match=r"data/tinyshakespeare/input.txt is missing"):
        data.load_text("tinyshakespeare/input.txt")


def test_unlisted_file_is_refused(fake_data_dir):
    (fake_data_dir / "extra.txt").write_text("hello")
    with pytest.raises(DataFileError, match="not listed in data/SHA256SUMS"):
        data.load_text("extra.txt")


def test_train_val_split_is_first_90_percent():
    seq = list(range(100))
    tr, va = data.train_val_split(seq)
    assert tr == list(range(90)) and va == list(range(90, 100))
    with pytest.raises(ValueError):
        data.train_val_split(seq, 1.0)


def test_lm_batches_are_shifted_contiguous_blocks():
    d = torch.arange(1000)
    x, y = data.get_lm_batch(d, block_size=16, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 16)
    assert torch.equal(y, x + 1)  # contiguous, shifted by one
    x2, _ = data.get_lm_batch(d, 16, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)
    with pytest.raises(ValueError, match="1-D tensor"):
        data.get_lm_batch(d.view(10, 100), 4, 2)


def test_char_tokenizer_round_trip_and_unknowns(tmp_path):
    text = data.load_shakespeare()[:5000]
    tok = CharTokenizer.from_text(text)
    assert tok.decode(tok.encode(text)) == text
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("€uro")
    tok_unk = CharTokenizer.from_text("abc", unk="?")
    assert tok_unk.decode(tok_unk.encode("abz")) == "ab?"
    tok.save(tmp_path / "v.json")
    again = CharTokenizer.load(tmp_path / "v.json")
    assert again.itos == tok.itos and again.encode("First") == tok.encode("First")


def test_shakespeare_has_65_characters():
    assert CharTokenizer.from_text(data.load_shakespeare()).vocab_size == 65


def test_word_tokenizer_round_trip_unknowns_and_save(tmp_path):
    tok = WordTokenizer.from_texts(["The cat sat.", "The dog sat!"], min_freq=1)
    assert tok.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and tok.pad_id == 0
    ids = tok.encode("the cat sat .", add_bos=True, add_eos=True)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert tok.decode(ids) == "the cat sat."
    assert tok.encode("the zebra")[1] == tok.unk_id
    tok.save(tmp_path / "w.json")
    assert WordTokenizer.load(tmp_path / "w.json").itos == tok.itos
    assert data.word_split("Don't stop!") == ["don't", "stop", "!"]


# --- training loop and checkpoints -------------------------------------------------------------


def _bigram_problem():
    text = data.load_shakespeare()[:20000]
    tok = CharTokenizer.from_text(text)
    ids = torch.tensor(tok.encode(text))
    model = nn.Sequential(nn.Embedding(tok.vocab_size, 32), nn.Linear(32, tok.vocab_size))
    g = torch.Generator().manual_seed(0)

    def get_batch(step):
        return data.get_lm_batch(ids, 32, 16, generator=g)

    def loss_fn(m, batch):
        x, y = batch
        return train.lm_cross_entropy(m(x), y)

    return tok, ids, model, get_batch, loss_fn


def test_training_loop_lowers_loss_on_real_text():
    config.set_seed(0)
    tok, ids, model, get_batch, loss_fn = _bigram_problem()
    start = train.evaluate_lm(model, ids[:4000], block_size=32)
    assert abs(start - math.log(tok.vocab_size)) < 0.3  # untrained ≈ uniform
    hist = train.train(
        model,
        get_batch,
        loss_fn,
        torch.optim.AdamW(model.parameters(), 3e-2),
        steps=150,
        eval_every=50,
        eval_fn=lambda m: {"val_loss": train.evaluate_lm(m, ids[:4000], 32)},
        progress=False,
    )
    assert isinstance(hist, pd.DataFrame)
    assert {"step", "time_s", "lr", "loss", "val_loss"} <= set(hist.columns)
    evals = hist["val_loss"].dropna()
    assert list(hist.loc[evals.index, "step"]) == [0, 50, 100, 150]
    assert evals.iloc[-1] < start - 0.8  # a bigram model learns a lot in 150 steps
    assert hist.attrs["steps_done"] == 150


def test_grad_clip_limits_the_update_to_exactly_the_clip_norm():
    model = nn.Linear(3, 1, bias=False)
    nn.init.zeros_(model.weight)
    before = model.weight.detach().clone()
    x = torch.full((4, 3), 100.0)  # a huge gradient: its norm is far above the clip value
    train.train(
        model,
        lambda s: x,
        lambda m, b: m(b).sum(),
        torch.optim.SGD(model.parameters(), lr=1.0),
        steps=1,
        grad_clip=0.5,
        progress=False,
    )
    step = (model.weight.detach() - before).norm().item()
    assert step == pytest.approx(0.5, rel=1e-5)  # SGD with lr 1: the update is the clipped gradient


def test_cosine_schedule_warms_up_linearly_then_decays_exactly():
    lr = train.cosine_schedule(1.0, steps=10, warmup=4, min_lr=0.0)
    assert [lr(s) for s in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])  # step 3 reaches the peak
    assert lr(4) == pytest.approx(1.0)  # the decay starts from the peak
    assert lr(7) == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 6)))
    assert lr(10) == pytest.approx(0.0) and lr(50) == pytest.approx(0.0)
    flat = train.cosine_schedule(2.0, steps=5)
    assert flat(0) == pytest.approx(2.0) and flat(5) == pytest.approx(0.0)


class _PositionModel(nn.Module):
    """Logits that reveal where in its window each prediction is made: CE at window position t is g(t)."""

    def forward(self, x):
        B, T = x.shape
        logits = torch.zeros(B, T, 3, dtype=torch.float64)
        logits[..., 1] = torch.arange(T, dtype=torch.float64)  # the wrong token gets more likely with t
        return logits


def _g(t):
    return math.log(math.exp(t) + 2.0)  # −log softmax(logits)[0] when logits = (0, t, 0)


@pytest.mark.parametrize("stride", [None, 8, 4, 1])
def test_evaluate_lm_scores_each_token_once_with_the_stated_context(stride):
    T, n = 16, 16 + 8 * 6  # n − T is a multiple of every stride tested
    data = torch.zeros(n + 1, dtype=torch.long)
    got = train.evaluate_lm(_PositionModel(), data, T, batch_size=5, stride=stride)
    if stride is None:
        expected = sum(_g(j % T) for j in range(n)) / n
    else:
        windows = (n - T) // stride + 1
        scored = [_g(t) for t in range(T)] + [_g(t) for _ in range(windows - 1) for t in range(T - stride, T)]
        assert len(scored) == n  # every token once
        expected = sum(scored) / n
    assert got == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="stride"):
        train.evaluate_lm(_PositionModel(), data, T, stride=T + 1)


def test_training_loop_logs_dict_losses_schedules_and_budget():
    tok, ids, model, get_batch, _ = _bigram_problem()

    def loss_fn(m, batch):
        x, y = batch
        ce = train.lm_cross_entropy(m(x), y)
        return {"loss": ce, "ce_bits": ce / math.log(2)}

    sched = train.cosine_schedule(1e-2, steps=20, warmup=5)
    hist = train.train(
        model,
        get_batch,
        loss_fn,
        torch.optim.SGD(model.parameters(), 1e-2),
        steps=20,
        lr_schedule=sched,
        log_every=5,
        progress=False,
    )
    assert "ce_bits" in hist and np.allclose(hist["ce_bits"], hist["loss"] / math.log(2))
    assert hist["lr"].iloc[0] == pytest.approx(sched(4))
    short = train.train(
        model,
        get_batch,
        loss_fn,
        torch.optim.SGD(model.parameters(), 1e-2),
        steps=10_000,
        max_seconds=0.2,
        progress=False,
    )
    assert short.attrs["steps_done"] < 10_000


def test_training_loop_alternates_two_objectives():
    model = nn.Linear(1, 1, bias=False)
    a, b = torch.optim.SGD([model.weight], 0.1), torch.optim.SGD([model.weight], 0.1)
    calls = []

    def up(m, batch):
        calls.append("up")
        return (m.weight - 1).pow(2).sum()

    def down(m, batch):
        calls.append("down")
        return (m.weight + 1).pow(2).sum()

    hist = train.train(model, lambda s: None, [up, down], [a, b], steps=3, progress=False, log_every=1)
    assert calls == ["up", "down"] * 3
    assert {"up.loss", "down.loss"} <= set(hist.columns)
    with pytest.raises(ValueError, match="one optimizer per loss"):
        train.train(model, lambda s: None, [up, down], a, steps=1, progress=False)


def test_weight_average_is_the_bias_corrected_exponential_average():
    """Closed form: after t updates, Σᵢ (1−d)·d^(t−i)·θᵢ / (1 − d^t), computed here by hand in float64."""
    model = nn.Linear(3, 2).double()
    d = 0.9
    avg = train.WeightAverage(model, d)
    assert torch.equal(avg.averaged()[0], model.weight)  # before any update: the weights themselves
    seen = []
    for i in range(7):
        with torch.no_grad():
            model.weight.copy_(torch.full((2, 3), float(i * i)))
            model.bias.copy_(torch.tensor([float(i), -float(i)]))
        seen.append((model.weight.detach().clone(), model.bias.detach().clone()))
        avg.update()
    t = len(seen)
    norm = 1 - d**t
    want_w = sum((1 - d) * d ** (t - 1 - i) * w for i, (w, _) in enumerate(seen)) / norm
    want_b = sum((1 - d) * d ** (t - 1 - i) * b for i, (_, b) in enumerate(seen)) / norm
    got_w, got_b = avg.averaged()
    assert torch.allclose(got_w, want_w, rtol=1e-12) and torch.allclose(got_b, want_b, rtol=1e-12)
    with avg.swapped_in():  # the model holds the average inside ...
        assert torch.allclose(model.weight, want_w, rtol=1e-12)
    assert torch.equal(model.weight, seen[-1][0])  # ... and its own weights after
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="ema"):
            train.WeightAverage(model, bad)


def test_training_with_ema_ends_with_the_average_of_the_plain_trajectory():
    """train(ema=d) follows the same weights as train() (its evaluations swap the average in and out again)
    and ends holding their average; the evaluations score the averaged weights."""

    def run(ema):
        torch.manual_seed(0)
        model = nn.Linear(4, 1, bias=False).double()
        xs = torch.randn(6, 16, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        trajectory = []

        def get_batch(step):
            trajectory.append(model.weight.detach().clone())  # the weights after `step` steps
            return xs[step]

        def loss_fn(m, x):
            return (m(x) - x.sum(1, keepdim=True)).pow(2).mean()

        hist = train.train(
            model,
            get_batch,
            loss_fn,
            torch.optim.SGD(model.parameters(), 0.05),
            steps=6,
            eval_every=2,
            eval_fn=lambda m: {"w0": float(m.weight[0, 0])},
            progress=False,
            log_every=1,
            ema=ema,
        )
        return model.weight.detach().clone(), trajectory, hist

    plain_w, plain_traj, _ = run(None)
    ema_w, ema_traj, hist = run(0.5)
    for a, b in zip(plain_traj, ema_traj):
        assert torch.equal(a, b)
    steps_after = [*plain_traj[1:], plain_w]  # weights after steps 1..6
    norm = 1 - 0.5**6
    want = sum(0.5 * 0.5 ** (5 - i) * w for i, w in enumerate(steps_after)) / norm
    assert torch.allclose(ema_w, want, rtol=1e-12)
    assert not torch.allclose(ema_w, plain_w)  # the average is not the last step's weights ...
    assert torch.equal(hist.attrs["last_step_state"]["weight"], plain_w)  # ... which the history keeps
    assert hist["w0"].dropna().iloc[-1] == pytest.approx(float(want[0, 0]), rel=1e-12)


def test_training_loop_stops_on_nan():
    model = nn.Linear(1, 1)
    with pytest.raises(FloatingPointError, match="step 1"):
        train.train(
            model,
            lambda s: None,
            lambda m, b: m.weight.sum() * float("nan"),
            torch.optim.SGD(model.parameters(), 0.1),
            steps=3,
            progress=False,
        )


def test_checkpoint_round_trip_and_corruption(tmp_path):
    model = nn.Linear(4, 3)
    path = train.save_checkpoint(tmp_path / "m.pt", model, config={"d": 4}, extra={"itos": list("abc")})
    fresh = nn.Linear(4, 3)
    payload = train.load_checkpoint(path, fresh)
    assert payload["config"] == {"d": 4} and payload["extra"]["itos"] == list("abc")
    assert torch.equal(fresh.weight, model.weight)
    with pytest.raises(train.CheckpointError, match="do not fit this Linear: .*size mismatch"):
        train.load_checkpoint(path, nn.Linear(5, 3))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 64] = b"\x00" * 64
    (tmp_path / "bad.pt").write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(train.CheckpointError, match="could not be read"):
        train.load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(train.CheckpointError, match="missing"):
        train.load_checkpoint(tmp_path / "nope.pt")
    payload = torch.load(path, weights_only=True)  # an intact zip whose weights were changed afterwards
    payload["state_dict"]["weight"].add_(1.0)
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(train.CheckpointError, match="do not match the checksum"):
        train.load_checkpoint(tmp_path / "tampered.pt")
    payload = torch.load(path, weights_only=True)  # one changed character in the vocabulary is caught too
    payload["extra"]["itos"][1] = "x"
    torch.save(payload, tmp_path / "vocab.pt")
    with pytest.raises(train.CheckpointError, match="do not match the checksum"):
        train.load_checkpoint(tmp_path / "vocab.pt")


# --- plots, source, env --------------------------------------------------------------------------


def test_plots_draw_what_they_are_given():
    plots.set_theme()
    hist = pd.DataFrame({"step": [0, 10, 20], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, 1.9]})
    ax = plots.plot_history({"a": hist, "b": hist}, baselines={"n-gram": 2.5})
    assert len(ax.get_lines()) >= 5
    with pytest.raises(ValueError, match="no column"):
        plots.plot_history(hist, y="acc")
    ax = plots.heatmap(np.eye(3), list("abc"), list("xyz"))
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abc")
    with pytest.raises(ValueError, match="2-D"):
        plots.heatmap(np.zeros(3))
    ax = plots.labelled_scatter(np.random.rand(4, 2), list("abcd"), hue=["x", "x", "y", "y"])
    assert len(ax.texts) == 4
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.labelled_scatter(np.random.rand(4, 3), list("abcd"))
    table = pd.DataFrame({"model": ["a", "b"], "acc": [0.7, 0.8], "ci": [0.02, 0.03]})
    assert len(plots.bar_with_errors(table, "model", "acc", err="ci").patches) == 2
    import matplotlib.pyplot as plt

    plt.close("all")


def test_show_source_shows_the_real_code():
    src = show_source(ngram.KneserNeyLM)
    assert "class KneserNeyLM" in src.code and "course_lib/ngram.py" in src.where
    assert "<span" in src._repr_html_()
    with pytest.raises(TypeError, match="function, class or module"):
        show_source(42)


def test_check_env_reports_pins():
    table = env.check_env(verbose=False)
    assert "torch" in set(table["package"])
    pinned = env._read_pins()["torch"]  # whatever requirements.txt pins, not a literal copied here
    assert table.set_index("package").loc["torch", "pinned"] == pinned
    assert table.attrs["facts"]["torch threads"] >= 1


# --- widgets pattern -----------------------------------------------------------------------------


def test_panel_pattern_renders_text_tables_figures_and_friendly_errors():
    def render(word, n):
        word = widgets.require_text(word, "a word")
        if word == "table":
            return pd.DataFrame({"n": list(range(n))})
        if word == "plot":
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots()
            ax.set_title("a plot")
            return fig
        return widgets.HTML(f"<b>{word * n}</b>")

    panel = widgets.Panel({"word": w.Text(value=""), "n": w.IntSlider(value=2, min=1, max=5)}, render)
    assert panel.error == "Type a word in the box above." and panel.result is None
    panel.controls["word"].value = "ab"
    assert panel.error is None and panel.text == "abab"
    panel.controls["n"].value = 3
    assert panel.text == "ababab"
    panel.controls["word"].value = "table"
    assert isinstance(panel.result, pd.DataFrame) and len(panel.result) == 3
    panel.controls["word"].value = "plot"
    assert panel.text == "[figure] a plot" and panel._image.value[:4] == b"\x89PNG"


def test_panel_does_not_hide_bugs():
    def render(x):
        return 1 / 0

    with pytest.raises(ZeroDivisionError):
        widgets.Panel({"x": w.Text(value="a")}, render)


def test_closest_matches_suggests_spellings():
    assert "romeo" in widgets.closest_matches("romoe", ["romeo", "juliet", "king"])


# --- notebook 00 widgets -------------------------------------------------------------------------------


def test_tour_speaker_panel_handles_valid_empty_and_misspelt_names():

    text = data.load_shakespeare()
    counts = tour.speaker_counts(text)
    assert counts["ROMEO"] > 100 and counts["JULIET"] > 100
    panel = tour.speaker_panel(text)
    assert panel.text.startswith("ROMEO speaks") and panel.error is None
    panel.controls["name"].value = "  "
    assert panel.error.startswith("Type a character's name")
    panel.controls["name"].value = "Julliet"
    assert "Did you mean JULIET" in panel.error
    panel.controls["name"].value = "xyzzy"
    assert "No character called 'XYZZY'" in panel.error


def test_data_inventory_lists_every_file_as_ok():

    inv = tour.data_inventory()
    assert (inv["sha256 check"] == "ok").all() and "data/tinyshakespeare/input.txt" in set(inv["file"])


def test_check_choice_compares_types_first():
    """Found by fuzzing (issue 12): a tensor given where a choice belongs raised PyTorch's 'Boolean value of
    Tensor ... is ambiguous' from inside the check; a float equal to an int choice is refused too."""
    from course_lib.checks import check_choice
    from course_lib.errors import ArgumentError

    assert check_choice(2, "task", (1, 2)) == 2
    for bad in (torch.tensor([]), torch.tensor([1, 2]), 1.0, "1"):
        with pytest.raises(ArgumentError, match="task must be one of 1, 2"):
            check_choice(bad, "task", (1, 2))


def test_check_recipe_merges_known_entries_and_names_unknown_ones():
    from course_lib.checks import check_recipe
    from course_lib.errors import ArgumentError, ArgumentTypeError

    defaults = {"lr": 0.01, "steps": 10}
    assert check_recipe(None, defaults) == defaults and check_recipe(None, defaults) is not defaults
    assert check_recipe({"lr": 0.1}, defaults) == {"lr": 0.1, "steps": 10}
    with pytest.raises(ArgumentError, match=r"recipe has unknown entries \['epochs'\]; it may set lr, steps"):
        check_recipe({"epochs": 3}, defaults)
    with pytest.raises(ArgumentTypeError, match="recipe must be a dict"):
        check_recipe([("lr", 0.1)], defaults)
