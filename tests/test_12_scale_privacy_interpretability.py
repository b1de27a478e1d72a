"""Tests for notebook 12: the power-law fit, data-parallel training (a real 2-process DDP step), int8
quantisation, canaries and exposure, DP-SGD through opacus, linear probes with control tasks, integrated
gradients (captum against the definition) and the attribution widget."""

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.attribution import captum_token_attributions, integrated_gradients
from course_lib.config import CHECKPOINT_DIR
from course_lib.data import CharTokenizer, load_shakespeare
from course_lib.distributed import ddp_matches_single_process, shard
from course_lib.errors import ArgumentError
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.privacy import (
    ALPHABET,
    Canary,
    canary_exposure,
    canary_training_text,
    expected_exposure_unseen,
    exposure_from_rank,
    exposure_skewnormal,
    insert_canaries,
    make_canaries,
    rank_of,
    secret_index,
    secret_log_likelihoods,
    text_windows,
)
from course_lib.probes import char_task_labels, control_labels, fit_linear_probe, gpt_hidden_states
from course_lib.quantize import int8_symmetric, quantize_int8, state_dict_bytes
from course_lib.scaling import (
    fit_power_law,
    fit_power_law_with_floor,
    load_gpt_set,
    round_to_half,
    save_gpt_set,
)


@pytest.fixture(scope="module")
def tok():
    return CharTokenizer.from_text(load_shakespeare())


def tiny_gpt(seed=0, block=32, n_layer=1, n_embd=16, n_head=2):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=65, block_size=block, n_layer=n_layer, n_head=n_head, n_embd=n_embd)).eval()


# ---------------------------------------------------------------- scaling


def test_power_law_fit_recovers_a_known_exponent_with_a_covering_interval():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e3, 1e7, 8)
    for alpha in (0.05, 0.3, 0.76):
        y = 5.0 * x**-alpha * np.exp(rng.normal(0, 0.01, len(x)))
        fit = fit_power_law(x, y)
        assert fit.alpha_low < alpha < fit.alpha_high
        assert abs(fit.alpha - alpha) < 0.01
        assert fit.r2 > 0.99
    exact = fit_power_law(x, 3 * x**-0.2)  # no noise: exact, zero-width interval
    assert math.isclose(exact.alpha, 0.2, rel_tol=1e-9) and math.isclose(exact.a, 3, rel_tol=1e-9)
    assert np.allclose(exact.predict(x), 3 * x**-0.2)


def test_power_law_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    x = np.geomspace(1e3, 1e6, 6)
    covered = 0
    for _ in range(400):
        y = 2.0 * x**-0.1 * np.exp(rng.normal(0, 0.02, len(x)))
        f = fit_power_law(x, y)
        covered += f.alpha_low < 0.1 < f.alpha_high
    assert 0.92 <= covered / 400 <= 0.98


def test_power_law_with_a_floor_recovers_the_floor_and_the_exponent():
    x = np.geomspace(1e3, 1e8, 12)
    y = 1.2 + 40 * x**-0.35
    f = fit_power_law_with_floor(x, y, grid=600)
    assert abs(f.offset - 1.2) < 0.02 and abs(f.alpha - 0.35) < 0.02
    lo, hi = fit_power_law(x, y + 0.0).predict_interval(x)
    assert (lo <= hi).all()


def test_power_law_refuses_bad_input():
    with pytest.raises(ArgumentError, match="at least 3"):
        fit_power_law([1, 2], [1, 1])
    with pytest.raises(ArgumentError, match="positive"):
        fit_power_law([0, 1, 2], [1, 1, 1])
    with pytest.raises(ArgumentError, match="exceed offset"):
        fit_power_law([1, 2, 3], [1, 2, 3], offset=1.5)


def test_gpt_set_round_trip_in_float16(tmp_path):
    models = {"a": round_to_half(tiny_gpt(0)), "b": round_to_half(tiny_gpt(1, n_layer=2, n_embd=32))}
    path = save_gpt_set(tmp_path / "set.pt", models, extra={"note": "x"})
    back, extra = load_gpt_set(path)
    assert extra == {"note": "x"}
    x = torch.randint(0, 65, (2, 10))
    for k, m in models.items():
        assert torch.equal(back[k](x), m(x))  # rounded before saving: identical after loading
    assert back["a"].lm_head.weight is back["a"].wte.weight  # weight tying survives


# ---------------------------------------------------------------- data parallel


def test_shard_splits_the_global_batch_evenly_and_refuses_uneven_batches():
    x = torch.arange(12).view(6, 2)
    parts = [shard((x,), r, 3)[0] for r in range(3)]
    assert torch.equal(torch.cat(parts), x)
    with pytest.raises(ArgumentError, match="evenly"):
        shard((x,), 0, 4)


def _can_spawn() -> str | None:
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        return "this torch build has no gloo backend"
    try:
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot start a Python subprocess here ({e})"
    return None


@pytest.mark.skipif(_can_spawn() is not None, reason=str(_can_spawn()))
def test_one_ddp_step_on_two_processes_equals_one_step_on_the_union_batch():
    from course_lib.labs.scale import ddp_equivalence

    result = ddp_equivalence()
    # the step itself moves weights by ~lr = 3e-3; the two runs differ only by float rounding in the all-reduce
    assert result["max_step"] > 1e-3
    assert result["match"], result
    assert result["max_difference"] < 1e-5


@pytest.mark.skipif(_can_spawn() is not None, reason=str(_can_spawn()))
def test_one_launch_checks_equivalence_and_measures_throughput():
    """Notebook 12 starts torchrun once: the tiny equivalence step, then the timed run."""
    from course_lib.labs.scale import ddp_throughput

    row = ddp_throughput(2, 1, steps=2, warmup_steps=0, check_equivalence=True)
    assert row["world_size"] == 2 and row["threads"] == 1 and row["tokens_per_s"] > 0
    assert row["match"] and row["max_difference"] < 1e-5 and row["max_step"] > 1e-3, row


def test_single_process_throughput_runs_here_and_restores_the_threads():
    from course_lib.labs.scale import ddp_throughput

    before = torch.get_num_threads()
    row = ddp_throughput(1, 1, steps=1, warmup_steps=0)
    assert row["world_size"] == 1 and row["threads"] == 1 and row["params"] > 700_000
    assert torch.get_num_threads() == before
    with pytest.raises(ArgumentError, match="check_equivalence"):
        ddp_throughput(1, 1, check_equivalence=True)


def test_the_script_and_the_lab_agree_on_sizes():
    """The in-process run trains what the script trains, and the check model is ddp_equivalence's."""
    import importlib.util

    from course_lib.labs import scale as lab

    spec = importlib.util.spec_from_file_location("ddp_script", lab.DDP_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    defaults = script.parse_args([])
    assert lab.DDP_SIZE == {"n_layer": defaults.n_layer, "n_head": defaults.n_head, "n_embd": defaults.n_embd}
    assert (defaults.block_size, defaults.lr, defaults.seed) == (64, 3e-3, 0)
    assert script.CHECK_SIZE == lab.TINY and script.CHECK_BATCH == 8


def test_ddp_comparison_detects_a_different_model():
    a, b = tiny_gpt(0), tiny_gpt(1)
    same, worst = ddp_matches_single_process(a.state_dict(), b)
    assert not same and worst > 1e-3
    assert ddp_matches_single_process(a.state_dict(), a) == (True, 0.0)


def test_torchrun_is_the_launcher_the_notebook_documents():
    assert (
        shutil.which("torchrun")
        or subprocess.run([sys.executable, "-m", "torch.distributed.run", "--help"], capture_output=True).returncode
        == 0
    )


# ---------------------------------------------------------------- quantisation


def test_int8_rule_matches_pytorchs_observer_and_outputs_stay_close():
    model = tiny_gpt(0, block=32, n_layer=2, n_embd=64, n_head=4)
    q = quantize_int8(model)
    ours, scale = int8_symmetric(model.blocks[0].attn.q_proj.weight.detach())
    theirs = q.blocks[0].attn.q_proj.weight()
    assert torch.equal(ours, theirs.int_repr())
    assert math.isclose(scale, theirs.q_scale(), rel_tol=1e-6)
    x = torch.randint(0, 65, (4, 32))
    with torch.no_grad():
        a, b = model(x), q(x)
    assert (a - b).abs().max() < 0.05 * a.std() * 10  # within half a logit-std; int8 error is ~1%
    assert (a.argmax(-1) == b.argmax(-1)).float().mean() > 0.9
    assert state_dict_bytes(q) < state_dict_bytes(model) / 2
    assert q is not model and isinstance(model.blocks[0].attn.q_proj, torch.nn.Linear)  # the original is untouched


# ---------------------------------------------------------------- canaries and exposure


def test_exhaustive_secret_likelihoods_match_full_forward_passes(tok):
    model = tiny_gpt(0)
    prefix = "the code of Abcde is "
    scores = secret_log_likelihoods(model, tok, prefix, length=3, max_batch=100)  # forces several chunks
    assert scores.shape == (26**3,)
    assert float(torch.logsumexp(scores, 0)) < 0  # the secrets are some of all continuations
    for secret in ("aaa", "zqx", "mkp", "zzz"):
        ids = torch.tensor([tok.encode(prefix + secret)])
        logp = F.log_softmax(model(ids), -1)[0]
        ref = sum(float(logp[len(prefix) - 1 + j, ids[0, len(prefix) + j]]) for j in range(3))
        assert abs(float(scores[secret_index(secret)]) - ref) < 1e-4


def test_exposure_is_monotone_in_rank_and_bounded():
    n = 26**4
    values = [exposure_from_rank(r, n) for r in (1, 2, 10, 1000, n)]
    assert values[0] == pytest.approx(math.log2(n)) and values[-1] == 0.0
    assert all(a > b for a, b in zip(values, values[1:]))
    scores = torch.tensor([0.5, -1.0, 2.0, 0.5])
    assert [rank_of(scores, i) for i in range(4)] == [2, 4, 1, 2]
    with pytest.raises(ArgumentError):
        exposure_from_rank(0, n)


def test_expected_exposure_of_an_unseen_canary_matches_brute_force_and_tends_to_1_over_ln2():
    for n in (1, 2, 7, 100):
        brute = np.mean([math.log2(n) - math.log2(r) for r in range(1, n + 1)])
        assert expected_exposure_unseen(n) == pytest.approx(brute, abs=1e-9)
    assert expected_exposure_unseen(26**4) == pytest.approx(1 / math.log(2), abs=1e-4)


def test_never_inserted_canaries_have_about_the_expected_exposure(tok):
    model = tiny_gpt(3)
    scores = secret_log_likelihoods(model, tok, "the code of Qwert is ", length=3)
    rng = np.random.default_rng(0)
    secrets = rng.integers(0, len(scores), 400)  # canaries the model never saw: uniform over the space
    exposures = [exposure_from_rank(rank_of(scores, int(i)), len(scores)) for i in secrets]
    assert np.mean(exposures) == pytest.approx(expected_exposure_unseen(len(scores)), abs=0.25)


def test_skew_normal_exposure_reads_the_tail_of_a_known_distribution():
    from scipy import stats

    sample = stats.skewnorm.rvs(4.0, loc=10, scale=2, size=20000, random_state=0)
    q = 1e-6
    x = stats.skewnorm.ppf(q, 4.0, loc=10, scale=2)
    exposure, params = exposure_skewnormal(x, sample)
    assert exposure == pytest.approx(-math.log2(q), rel=0.1)
    assert params[0] > 1


def test_canary_exposure_of_a_memorised_secret_is_maximal(tok):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=32, n_layer=1, n_head=2, n_embd=32))
    canary = Canary("the code of Zorba is ", "qxkv", 100)
    ids = torch.tensor([tok.encode(canary.text)])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):  # memorise the line
        opt.zero_grad()
        F.cross_entropy(model(ids[:, :-1])[0], ids[0, 1:]).backward()
        opt.step()
    e = canary_exposure(model.eval(), tok, Canary(canary.prefix, canary.secret[:3], 100), n_sample=500)
    assert e["rank"] == 1 and e["exposure"] == pytest.approx(math.log2(26**3))
    assert e["exposure_skewnormal"] > 5


def test_canaries_are_inserted_the_right_number_of_times_at_line_starts():
    text = "a\nbb\nccc\n" * 50
    cans = make_canaries(counts=(0, 1, 10), per_count=2, seed=3)
    assert len({c.prefix for c in cans}) == len(cans)
    assert all(len(c.secret) == 4 and set(c.secret) <= set(ALPHABET) for c in cans)
    out = insert_canaries(text, cans, seed=0)
    for c in cans:
        assert out.count(c.text) == c.insertions
    stripped = out
    for c in cans:
        stripped = stripped.replace(c.text, "")
    assert stripped == text
    assert insert_canaries(text, cans, seed=0) == out  # seeded
    base = canary_training_text(text, cans, seed=0, recipe={"train_chars": 100})
    assert base == insert_canaries(text[:100], cans, seed=0)


def test_text_windows_are_consecutive_and_shifted_by_one():
    ids = torch.arange(100)
    X, Y = text_windows(ids, 16)
    assert X.shape == (6, 16) and torch.equal(X[1], torch.arange(16, 32)) and torch.equal(Y, X + 1)


def test_dp_sgd_without_noise_or_clipping_equals_plain_sgd_with_tied_weights():
    import copy

    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    from course_lib.train import lm_cross_entropy

    torch.manual_seed(0)
    X = torch.randint(0, 65, (8, 17))
    model = tiny_gpt(0).train()
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    net, opt, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=opt,
        data_loader=DataLoader(TensorDataset(X[:, :-1], X[:, 1:]), batch_size=8),
        noise_multiplier=0.0,
        max_grad_norm=1e6,
        grad_sample_mode="functorch",
        poisson_sampling=False,
    )
    for x, y in loader:
        opt.zero_grad()
        lm_cross_entropy(net(x), y).backward()
        opt.step()
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    ref_opt.zero_grad()
    lm_cross_entropy(ref(X[:, :-1]), X[:, 1:]).backward()
    ref_opt.step()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6), name


def test_dp_training_reaches_its_privacy_budget():
    from course_lib.privacy import train_window_lm

    ids = torch.randint(0, 65, (20_000,))
    recipe = {"model": {"n_layer": 1, "n_head": 2, "n_embd": 16}, "block_size": 16, "batch_size": 32, "epochs": 1}
    _, hist, info = train_window_lm(ids[:16_000], ids[16_000:], 65, recipe=recipe, dp_epsilon=4.0, progress=False)
    assert info["dp"] and 3.0 < info["epsilon"] <= 4.05
    assert info["noise_multiplier"] > 0.3
    assert math.isfinite(info["val_loss"])


# ---------------------------------------------------------------- probes


def test_char_task_labels_on_a_known_text():
    text = "ROMEO:\nO my love\n"
    lab = char_task_labels(text)
    assert lab["speaker_name"].tolist() == [1, 1, 1, 1, 1, 0, 0] + [0] * 10
    assert lab["vowel"][:5].tolist() == [0, 1, 0, 1, 1]
    assert lab["word_position"][7:17].tolist() == [0, -1, 0, 1, -1, 0, 1, 2, 3, -1]


def test_control_labels_depend_on_the_type_only_and_keep_the_label_distribution():
    rng = np.random.default_rng(0)
    types = rng.integers(0, 500, 20000)
    labels = rng.choice([0, 1, 2], size=20000, p=[0.7, 0.2, 0.1])
    labels[:100] = -1
    ctrl = control_labels(types, labels, seed=1)
    assert (ctrl[:100] == -1).all()
    for t in np.unique(types[100:])[:50]:
        assert len(set(ctrl[100:][types[100:] == t])) == 1
    shares = np.bincount(ctrl[100:], minlength=3) / len(ctrl[100:])
    assert abs(shares[0] - 0.7) < 0.1 and abs(shares[2] - 0.1) < 0.07


def test_probe_reads_a_linear_signal_and_control_task_exposes_memorisation():
    g = torch.Generator().manual_seed(0)
    n, n_types = 3000, 20
    types = torch.randint(0, n_types, (n,), generator=g)
    context = torch.randint(0, 2, (n,), generator=g)  # a property not determined by the type
    onehot = F.one_hot(types, n_types).float()
    signal = torch.cat([onehot, context[:, None].float() * 2 - 1, torch.randn(n, 10, generator=g)], 1)
    noise = torch.cat([onehot, torch.randn(n, 11, generator=g)], 1)
    tr, te = slice(0, 2000), slice(2000, None)
    good = fit_linear_probe(signal[tr], context[tr], signal[te], context[te])
    blind = fit_linear_probe(noise[tr], context[tr], noise[te], context[te])
    assert good["test_acc"] > 0.98 and blind["test_acc"] < 0.6
    ctrl = torch.as_tensor(control_labels(types.numpy(), context.numpy(), seed=0))
    memorised = fit_linear_probe(noise[tr], ctrl[tr], noise[te], ctrl[te])
    assert memorised["test_acc"] > 0.98  # a control task is solvable from type identity alone
    assert good["test_acc"] - memorised["test_acc"] < 0.05  # so on these features selectivity is ~0 …
    assert good["test_acc"] - blind["test_acc"] > 0.3  # … while the task itself is linearly decodable


def test_hidden_states_reproduce_the_models_logits():
    model = tiny_gpt(0, n_layer=2)
    x = torch.randint(0, 65, (2, 12))
    states = gpt_hidden_states(model, x)
    assert len(states) == 3 and states[-1].shape == (2, 12, 16)
    assert torch.allclose(model.lm_head(model.ln_f(states[-1])), model(x), atol=1e-6)


# ---------------------------------------------------------------- attribution


@pytest.fixture(scope="module")
def sentiment_models():
    from course_lib import sentiment as S

    df = S.load_sentiment()
    splits = S.stratified_split(df, seed=0)
    tok = S.build_tokenizer(splits["train"].text)
    xy = {k: (*S.encode(tok, v.text), torch.tensor(v.label.to_numpy())) for k, v in splits.items()}
    out = {}
    for kind in ("mean", "attention"):
        m = S.make_classifier(kind, tok, seed=0)
        S.fit_classifier(m, xy["train"], xy["val"], epochs=2, seed=0, progress=False, **S.HPARAMS[kind])
        out[kind] = m.eval()
    ids, mask = S.encode(tok, list(splits["test"].text[:16]))
    return out, tok, ids, mask


def test_captum_integrated_gradients_match_the_definition_and_are_complete(sentiment_models):
    models, _, ids, mask = sentiment_models
    for model in models.values():
        ours = integrated_gradients(model, ids, mask, n_steps=128)
        theirs, delta = captum_token_attributions(model, ids, mask, n_steps=128)
        assert (ours - theirs).abs().max() < 1e-3
        assert delta.abs().max() < 1e-3
        with torch.no_grad():
            gap = model(ids, mask) - model(torch.zeros_like(ids), mask)
        assert torch.allclose(theirs.sum(1), gap, atol=1e-3)  # completeness


def test_integrated_gradients_equal_exact_contributions_for_a_linear_model(sentiment_models):
    models, _, ids, mask = sentiment_models
    contrib, _ = models["mean"].contributions(ids, mask)
    attr, _ = captum_token_attributions(models["mean"], ids, mask, n_steps=8)
    assert torch.allclose(attr, contrib, atol=1e-5)


def test_attribution_panel_answers_bad_input_kindly_and_escapes(sentiment_models):
    from course_lib.labs.scale import attribution_panel

    models, tok, _, _ = sentiment_models
    panel = attribution_panel(models["attention"], tok, ["The food was great.", "Terrible service."])
    assert "P(positive)" in panel.text and panel.error is None
    panel.controls["sentence"].value = "(type your own below)"
    assert panel.error and "Type" in panel.text
    panel.controls["text"].value = "zzqqxx wwvvkk"
    assert panel.error and "vocabulary" in panel.text
    panel.controls["text"].value = "<script>great</script> food"
    assert panel.error is None and "<script>" not in panel.result and "&lt;" in panel.result  # "<" is a token


# ---------------------------------------------------------------- shipped checkpoints


@pytest.mark.parametrize("name", ["scaling_study.pt", "canary_models.pt"])
def test_shipped_checkpoints_load_verified(name):
    models, extra = load_gpt_set(CHECKPOINT_DIR / name)
    assert models and all(isinstance(m, GPT) for m in models.values())
    if name == "scaling_study.pt":
        same = [r for r in extra["runs"] if r["set"] == "same tokens"]
        assert len(same) >= 5 and len({r["tokens"] for r in same}) == 1
        compute = [r for r in extra["runs"] if r["set"] == "same compute"]
        assert len(compute) >= 3
        flops = [r["flops"] for r in compute]
        assert max(flops) / min(flops) < 1.02  # compute-matched to within one batch
    else:
        assert {0, 1, 10, 100} <= {c["insertions"] for c in extra["canaries"]}
        assert any(info["dp"] for info in extra["models"].values())


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_subprocess_timeout_stops_torchruns_workers_too(tmp_path):
    # torchrun killed alone leaves its workers waiting for their peer forever: _run stops the whole group
    import os
    import time

    from course_lib.labs import scale as lab_scale

    pid_file = tmp_path / "worker.pid"
    worker = "import time; time.sleep(120)"
    parent = (
        f"import subprocess, sys, time; w = subprocess.Popen([sys.executable, '-c', {worker!r}]); "
        f"open({str(pid_file)!r}, 'w').write(str(w.pid)); time.sleep(120)"
    )
    with pytest.raises(RuntimeError, match="did not finish within 2 s; it and its workers were stopped"):
        lab_scale._run([sys.executable, "-c", parent], timeout=2)
    pid = int(pid_file.read_text())
    deadline = time.time() + 10
    alive = True
    while alive and time.time() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            alive = False
    assert not alive, "the worker outlived the timeout"


def test_scale_and_privacy_arguments_are_checked_with_course_errors():
    """Found by fuzzing (issue 12): these raised raw ValueError / TypeError / RuntimeError before."""
    from course_lib.errors import ArgumentTypeError
    from course_lib.privacy import exposure_skewnormal, insert_canaries, train_window_lm
    from course_lib.scaling import plausible_floors

    x, y = [1e3, 1e4, 1e5, 1e6], [3.0, 2.4, 2.0, 1.8]
    with pytest.raises(ArgumentError, match="confidence"):
        plausible_floors(x, y, grid=10, confidence=float("nan"))
    with pytest.raises(ArgumentTypeError, match="canaries"):
        insert_canaries("a\nb\n", "not canaries")
    with pytest.raises(ArgumentTypeError, match="sample_log_ppl"):
        exposure_skewnormal(1.0, ["a"] * 12)
    with pytest.raises(ArgumentTypeError, match="recipe"):
        train_window_lm(torch.arange(64) % 5, torch.arange(32) % 5, 5, recipe=torch.ones(3))
