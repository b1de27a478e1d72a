"""The training loop's fast path (issue 17): compilation with its fallback, bfloat16 autocast, fused AdamW.

Each lever must give the same training as the plain path: the same loss on a fixed batch within float
tolerance (bfloat16 within a stated, looser tolerance), and the fallback when compilation is unavailable
must leave training unchanged apart from a one-line notice.
"""

import math
import os

import pytest
import torch

from course_lib import train as T
from course_lib.models.gpt import GPT, GPTConfig
from course_lib.nn_utils import make_adamw

# ----------------------------------------------------------------------------- helpers


def _tiny_gpt(seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16))


def _fixed_batch(seed=1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 11, (4, 8), generator=generator)
    return x, torch.roll(x, -1, dims=1)


def lm_loss(model, batch):
    x, y = batch
    return T.lm_cross_entropy(model(x), y)


def _run(steps=4, fused=False, **kwargs):
    """Train the tiny GPT on one fixed batch; return (history, model)."""
    model = _tiny_gpt()
    opt = make_adamw(model, lr=1e-2, fused=fused)
    batch = _fixed_batch()
    hist = T.train(model, lambda step: batch, lm_loss, opt, steps, log_every=1, progress=False, **kwargs)
    return hist, model


# ----------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "flags, machine, system, expected",
    [
        ({"avx2", "fma", "f16c"}, "x86_64", "Linux", False),  # this course's build machine: AMD EPYC, AVX2 only
        ({"avx512f", "avx512bw", "avx512vl"}, "x86_64", "Linux", False),  # AVX-512 without BF16: emulated
        ({"avx512f", "avx512_bf16"}, "x86_64", "Linux", True),  # Cooper Lake, Zen 4
        ({"amx_bf16", "amx_tile"}, "x86_64", "Linux", True),  # Sapphire Rapids
        ({"avx512_bf16"}, "AMD64", "Windows", True),
        ({"asimd", "bf16", "i8mm"}, "aarch64", "Linux", True),  # Graviton 3, Neoverse V1
        ({"asimd", "fp"}, "aarch64", "Linux", False),  # Graviton 2, Raspberry Pi
        ({"bf16"}, "arm64", "Darwin", False),  # macOS: PyTorch has no fast CPU bfloat16 kernels there
        (set(), "riscv64", "Linux", False),
    ],
)
def test_native_bf16_detection(flags, machine, system, expected):
    assert T._native_bf16(flags, machine, system) is expected


def test_cpu_info_describes_this_machine():
    info = T.cpu_info()
    assert set(info) == {"cpu", "machine", "threads", "simd", "native_bf16", "cxx_compiler"}
    assert info["threads"] == torch.get_num_threads()
    assert isinstance(info["cpu"], str) and info["cpu"]
    flags = T._cpu_flags()
    if flags:  # Linux: the answer follows the flags of /proc/cpuinfo
        import platform

        assert info["native_bf16"] is T._native_bf16(flags, platform.machine(), platform.system())


def test_cpu_flags_are_read_from_proc_cpuinfo():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo on this system")
    flags = T._cpu_flags()
    assert flags, "/proc/cpuinfo exists but no flags line was found"
    if os.uname().machine == "x86_64":
        assert "sse2" in flags  # every x86-64 CPU has SSE2


def test_find_cxx_compiler_looks_where_inductor_does():
    found = {"g++": "/usr/bin/g++", "cl": "C:/VS/cl.exe", "/opt/cxx": "/opt/cxx"}
    assert T._find_cxx_compiler({}, "Linux", found.get) == "/usr/bin/g++"
    assert T._find_cxx_compiler({"CXX": "/opt/cxx"}, "Linux", found.get) == "/opt/cxx"
    assert T._find_cxx_compiler({}, "Windows", found.get) == "C:/VS/cl.exe"
    assert T._find_cxx_compiler({}, "Windows", {}.get) is None  # Windows without Visual Studio's build tools
    assert T._find_cxx_compiler({}, "Darwin", {"clang++": "/usr/bin/clang++"}.get) == "/usr/bin/clang++"


# ----------------------------------------------------------------------------- compilation and its fallback


def test_compile_disabled_by_the_environment_falls_back_with_a_one_line_notice(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_COMPILE", "0")
    plain, _ = _run()
    capsys.readouterr()
    fallback, _ = _run(compile=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "COURSE_COMPILE=0" in out and "without compilation" in out
    assert fallback["loss"].tolist() == plain["loss"].tolist()  # the plain path, exactly


def test_compile_without_a_compiler_falls_back(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_COMPILE", raising=False)
    monkeypatch.setattr(T, "_find_cxx_compiler", lambda *a, **k: None)
    plain, _ = _run()
    capsys.readouterr()
    fallback, _ = _run(compile=True)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "C++ compiler" in out
    assert fallback["loss"].tolist() == plain["loss"].tolist()


def test_compile_that_fails_at_the_first_step_falls_back_and_training_goes_on(monkeypatch, capsys):
    """A compiler that is found but does not work (a broken toolchain): Inductor raises, training continues."""
    import torch._dynamo
    import torch._inductor.config as inductor_config

    monkeypatch.delenv("COURSE_COMPILE", raising=False)
    monkeypatch.setattr(T, "_find_cxx_compiler", lambda *a, **k: "/nonexistent/g++")
    plain, plain_model = _run()
    capsys.readouterr()
    torch._dynamo.reset()
    # a compiler that does not exist, and no cached kernels (so Inductor really has to compile)
    with inductor_config.patch({"cpp.cxx": ("/nonexistent/g++",), "fx_graph_cache": False}):
        try:
            fallback, model = _run(compile=True)
        finally:
            torch._dynamo.reset()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "torch.compile failed" in out and "without compilation" in out
    assert fallback["loss"].tolist() == plain["loss"].tolist()
    for a, b in zip(model.parameters(), plain_model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.skipif(T._find_cxx_compiler() is None, reason="torch.compile needs a C++ compiler")
def test_compiled_training_gives_the_plain_losses(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_COMPILE", raising=False)
    plain, plain_model = _run(steps=3)
    torch._dynamo.reset()
    try:
        compiled, model = _run(steps=3, compile=True)
    finally:
        torch._dynamo.reset()
    assert "Note:" not in capsys.readouterr().out  # it really compiled
    torch.testing.assert_close(
        torch.tensor(compiled["loss"].tolist()), torch.tensor(plain["loss"].tolist()), rtol=1e-5, atol=1e-5
    )
    for a, b in zip(model.parameters(), plain_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_fast_path_arguments_are_checked():
    from course_lib.errors import ArgumentError, ArgumentTypeError

    with pytest.raises(ArgumentError, match="bf16"):
        _run(steps=1, bf16="yes")
    with pytest.raises(ArgumentTypeError, match="compile"):
        _run(steps=1, compile="auto")


# ----------------------------------------------------------------------------- bfloat16 autocast

#: How far bfloat16 autocast may move the loss of the tiny GPT (nats/token): bfloat16 keeps 8 bits of
#: mantissa (relative error 2⁻⁸ ≈ 0.4% per rounding), so a loss near ln 11 ≈ 2.4 may move by about 0.01.
BF16_LOSS_TOLERANCE = 0.03


def test_bf16_autocast_keeps_the_loss_within_tolerance():
    """Forced on (where the CPU lacks native bfloat16 PyTorch emulates it: slow but correct)."""
    plain, _ = _run(steps=20)
    bf16, model = _run(steps=20, bf16=True)
    diff = (torch.tensor(bf16["loss"].tolist()) - torch.tensor(plain["loss"].tolist())).abs()
    assert diff.max() < BF16_LOSS_TOLERANCE, diff
    assert bf16["loss"].iloc[-1] < bf16["loss"].iloc[0] - 0.5  # and it still learns
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay float32


def test_bf16_auto_follows_the_detection(monkeypatch):
    seen = []

    def spy_loss(model, batch):
        seen.append(torch.is_autocast_enabled("cpu"))
        return lm_loss(model, batch)

    model = _tiny_gpt()
    batch = _fixed_batch()
    for native in (False, True):
        monkeypatch.setattr(T, "cpu_info", lambda native=native: {"native_bf16": native})
        T.train(model, lambda s: batch, spy_loss, make_adamw(model), 1, progress=False, bf16="auto")
    assert seen == [False, True]


# ----------------------------------------------------------------------------- fused AdamW


def test_make_adamw_is_fused_by_default_on_the_cpu_and_not_with_foreach():
    model = _tiny_gpt()
    assert make_adamw(model).defaults["fused"] is True
    assert not make_adamw(model, foreach=True).defaults["fused"]
    assert not make_adamw(model, fused=False).defaults["fused"]


def test_fused_adamw_trains_like_the_per_parameter_loop():
    loop, loop_model = _run(steps=10, fused=False)
    fused, fused_model = _run(steps=10, fused=True)
    torch.testing.assert_close(
        torch.tensor(fused["loss"].tolist()), torch.tensor(loop["loss"].tolist()), rtol=1e-5, atol=1e-5
    )
    for a, b in zip(fused_model.parameters(), loop_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- the training clock


def test_train_measures_time_with_the_given_clock():
    ticks = iter(range(0, 1000, 5))  # every call advances 5 "seconds"
    hist, _ = _run(steps=10, clock=lambda: float(next(ticks)), max_seconds=12)
    assert hist.attrs["steps_done"] == 3  # 5 s per step: the budget of 12 s is spent after 3 steps
    assert hist.attrs["train_seconds"] == 15.0


# ----------------------------------------------------------------------------- the scripts, run small


def _small_data():
    """Tiny Shakespeare cut down: the first 20,000 training and 2,048 validation characters."""
    from course_lib.char_lm import shakespeare_char_data

    tok, train_ids, val_ids = shakespeare_char_data()
    return tok, train_ids[:20_000], val_ids[:2048]


def test_the_benchmark_runs_and_reports_each_run(monkeypatch, capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import lm_shakespeare as bench

    monkeypatch.setattr(bench, "shakespeare_char_data", _small_data)
    before = torch.get_num_threads()
    try:
        results = bench.main(["--runs", "course100", "--budget", "1", "--threads", "1", "--eval-tokens", "512"])
    finally:
        torch.set_num_threads(before)
    out = capsys.readouterr().out
    r = results["course100"]
    assert "CPU:" in out and "course recipe:" in out and "nanoGPT recipe:" in out  # the header states the setting
    assert 1.0 <= r["train_seconds"] < 3.0 and r["steps"] >= 1  # the budget is the training clock
    assert r["tokens"] == r["steps"] * bench.COURSE_RECIPE["block_size"] * bench.COURSE_RECIPE["batch_size"]
    assert max(r["val_loss_sliding"], r["val_loss"]) < math.log(65) + 0.5  # scored both ways, after 1 s of training
    assert 0 < r["mfu"] < 1 and r["tokens_per_s"] > 0
    assert "goal 1" in out  # the 100 s goal is judged only for a 100 s budget: here it says the budget differs


def test_the_levers_benchmark_measures_each_arm(capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import train_levers

    before = torch.get_num_threads()
    try:
        rows = train_levers.main(
            ["--warm-cache", "--threads", "2", "--rounds", "1", "--steps", "2",
             "--only", "optimizer", "--only", "batching", "--only", "threads", "--only", "dropout",
             "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--block-size", "16", "--batch-size", "4"]
        )  # fmt: skip
    finally:
        torch.set_num_threads(before)
    assert [r["lever"] for r in rows] == ["optimizer", "optimizer", "batching", "threads", "dropout"]
    assert [r["B"] for r in rows] == ["AdamW foreach", "AdamW fused", "get_lm_batch", "2 threads", "dropout 0.1"]
    assert all(r["A tokens/s"] > 0 and r["B tokens/s"] > 0 and r["B/A"] > 0 for r in rows)
    assert "native bf16" in capsys.readouterr().out
