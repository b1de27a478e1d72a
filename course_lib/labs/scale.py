"""Notebook 12's lab: the scaling plots, the data-parallel runs, the quantisation table, the canary
and probe studies, head ablations and the attribution widget.

Defined in: notebooks/12_scale_privacy_interpretability.ipynb

The ideas live in :mod:`course_lib.scaling`, :mod:`course_lib.distributed`, :mod:`course_lib.quantize`,
:mod:`course_lib.privacy`, :mod:`course_lib.probes` and :mod:`course_lib.attribution`; this module runs
them on the course's data and draws the results.
"""

from __future__ import annotations

import html as _html
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from ..attribution import captum_token_attributions, integrated_gradients
from ..checks import (
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_mask,
    check_seed,
    check_tensor,
    check_text,
    check_token_ids,
)
from ..config import MAX_THREADS, ROOT
from ..data import CharTokenizer
from ..distributed import ddp_matches_single_process, single_process_step
from ..errors import ArgumentError, ArgumentTypeError
from ..models.gpt import GPT
from ..models.sentence_classifier import EmbeddingClassifier
from ..probes import char_task_labels, control_labels, fit_linear_probe, gpt_hidden_states
from ..quantize import generation_speed, quantize_int8, state_dict_bytes
from ..scaling import PowerLawFit
from ..train import evaluate_lm
from ..widgets import HTML, InputError, Panel, require_text
from .context import _check_classifier
from .exercises import Hint, exercise

MAX_STEPS_IG = 1024  # integrated-gradients steps at most (the panel offers up to 64)


def _check_frame(frame, name: str, columns) -> pd.DataFrame:
    """``frame`` must be a non-empty DataFrame with ``columns`` (the table the lab's own function returns)."""
    check_instance(frame, name, pd.DataFrame)
    lacking = [c for c in columns if c not in frame.columns]
    if lacking or frame.empty:
        raise ArgumentError(f"{name} must be a non-empty table with the columns {list(columns)}; it lacks {lacking}")
    return frame


def _check_fits(**fits) -> None:
    for name, fit in fits.items():
        check_instance(fit, name, PowerLawFit)


DDP_SCRIPT = ROOT / "benchmarks" / "ddp_shakespeare.py"


# ----------------------------------------------------------------------------------------------
# Scaling
# ----------------------------------------------------------------------------------------------
def scaling_table(runs: list[dict], peak_flops: float | None = None) -> pd.DataFrame:
    """The runs of the scaling study as a table: set, size, parameters, tokens, FLOPs, seconds, MFU, loss.

    MFU (model FLOPs utilisation) = training FLOPs / training seconds / ``peak_flops`` (the matmul
    peak measured on the machine that trained them, :func:`course_lib.perf.matmul_peak_flops`).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    keys = ("set", "size", "params", "params_non_embedding", "tokens", "flops", "train_seconds", "val_loss")
    if isinstance(runs, (str, dict)) or not isinstance(runs, (list, tuple)):
        raise ArgumentTypeError(f"runs must be a list of run records (dicts), got {type(runs).__name__}")
    for r in runs:
        if not isinstance(r, dict) or any(k not in r for k in keys):
            raise ArgumentError(f"each run must be a dict with the keys {list(keys)}, got {r!r:.80}")
    if peak_flops is not None:
        peak_flops = check_float(peak_flops, "peak_flops", min=0.0, min_open=True)
    t = pd.DataFrame(
        columns=["set", "size", "params", "non-embedding params", "tokens", "FLOPs", "train s", "val nats/char"],
        data=[
            {
                "set": r["set"],
                "size": r["size"],
                "params": r["params"],
                "non-embedding params": r["params_non_embedding"],
                "tokens": r["tokens"],
                "FLOPs": r["flops"],
                "train s": r["train_seconds"],
                "val nats/char": r["val_loss"],
            }
            for r in runs
        ],
    )
    if peak_flops:
        t["MFU"] = t["FLOPs"] / t["train s"] / peak_flops
    return t


def plot_scaling(table: pd.DataFrame, fit: PowerLawFit, fit_floor: PowerLawFit, x: str = "non-embedding params"):
    """Two panels: loss against parameters (log–log, both fits and the pure law's band) and against FLOPs.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_text(x, "x")
    _check_frame(table, "table", ["set", "size", "FLOPs", "val nats/char", x])
    _check_fits(fit=fit, fit_floor=fit_floor)
    same = table[table["set"] == "same tokens"]
    if same.empty:
        raise ArgumentError("table has no run of the set 'same tokens' to plot against size")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    sns.scatterplot(data=same, x=x, y="val nats/char", s=60, ax=ax, label="trained (same 1.2M characters)", zorder=3)
    grid = np.geomspace(same[x].min() / 2, same[x].max() * 100, 100)
    lo, hi = fit.predict_interval(grid)
    ax.plot(grid, fit.predict(grid), label=f"power law: α = {fit.alpha:.3f}")
    ax.fill_between(grid, lo, hi, alpha=0.2, label=f"{fit.confidence:.0%} band of the fitted line")
    ax.plot(
        grid,
        fit_floor.predict(grid),
        ls="--",
        label=f"with a floor E = {fit_floor.offset:.2f}: α = {fit_floor.alpha:.2f}",
    )
    ax.axvspan(same[x].max(), grid[-1], color="grey", alpha=0.08)
    ax.text(same[x].max() * 1.3, ax.get_ylim()[1] * 0.97, "extrapolation", fontsize=9, va="top", color="grey")
    ax.set(xscale="log", yscale="log", xlabel=f"{x} (log)", ylabel="validation nats/char (log)", title="Loss vs size")
    ax.legend(fontsize="small")
    ax = axes[1]
    sns.scatterplot(data=table, x="FLOPs", y="val nats/char", hue="set", style="set", s=70, ax=ax)
    for _, r in table.iterrows():
        ax.annotate(r["size"], (r["FLOPs"], r["val nats/char"]), xytext=(4, 3), textcoords="offset points", fontsize=8)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="training FLOPs (log)",
        ylabel="validation nats/char (log)",
        title="Loss vs compute",
    )
    fig.tight_layout()
    return fig


def extrapolation_table(fit: PowerLawFit, fit_floor: PowerLawFit, params: list[float]) -> pd.DataFrame:
    """What the two fits predict at the given sizes, with the pure law's band.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    _check_fits(fit=fit, fit_floor=fit_floor)
    if isinstance(params, (str, dict)) or not isinstance(params, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(f"params must be a list of model sizes, got {type(params).__name__}")
    p = np.asarray([check_float(v, "params", min=1.0, max=1e15) for v in params], dtype=float)
    lo, hi = fit.predict_interval(p)
    return pd.DataFrame(
        {
            "non-embedding params": p.astype(int),
            "power law": fit.predict(p),
            "band low": lo,
            "band high": hi,
            "with floor": fit_floor.predict(p),
        }
    )


# ----------------------------------------------------------------------------------------------
# Data parallel: torchrun subprocesses
# ----------------------------------------------------------------------------------------------
def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("COURSE_THREADS", None)  # the script sets its threads from --threads
    # a session of its own, so that a timeout stops torchrun's workers too (killing torchrun alone would leave
    # them waiting forever for their peer)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=os.name == "posix",
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.communicate()
        raise RuntimeError(
            f"{' '.join(cmd)} did not finish within {timeout:g} s; it and its workers were stopped"
        ) from None
    out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return out


def torchrun_command(nproc: int, *script_args: str) -> list[str]:
    """The command that starts ``benchmarks/ddp_shakespeare.py`` on ``nproc`` local processes with torchrun.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_int(nproc, "nproc", min=1, max=os.cpu_count() or 1)
    for arg in script_args:
        check_text(arg, "script_args")
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        str(DDP_SCRIPT),
        *script_args,
    ]


TINY = {"n_layer": 2, "n_head": 2, "n_embd": 32}


def ddp_equivalence(size: dict = TINY, batch_size: int = 8, seed: int = 0, timeout: float = 300) -> dict:
    """One DDP step on 2 processes (torchrun, gloo) against one single-process step on the union batch.

    Returns the largest weight difference, the size of the step itself (for scale) and whether they match.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    if not isinstance(size, dict) or set(size) != set(TINY):
        raise ArgumentError(f"size must be a dict with the keys {sorted(TINY)}, got {size!r:.80}")
    for key in TINY:
        check_int(size[key], f"size[{key!r}]", min=1, max=1024)
    check_int(batch_size, "batch_size", min=2, max=1024)
    check_seed(seed)
    check_float(timeout, "timeout", min=0.0, min_open=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ddp.pt"
        args = [
            "--steps",
            "1",
            "--warmup-steps",
            "0",
            "--batch-size",
            str(batch_size),
            "--seed",
            str(seed),
            "--save-params",
            str(path),
            "--quiet",
        ]
        args += ["--n-layer", str(size["n_layer"]), "--n-head", str(size["n_head"]), "--n-embd", str(size["n_embd"])]
        _run(torchrun_command(2, *args), timeout)
        ddp_state = torch.load(path, weights_only=True)
    return _compare_with_single_process(ddp_state, size, batch_size, seed)


def _compare_with_single_process(ddp_state: dict, size: dict, batch_size: int, seed: int) -> dict:
    """DDP's weights after one step against one single-process step on the union batch (to 1e-5)."""
    from ..char_lm import shakespeare_char_data
    from ..distributed import make_model

    tok, train_ids, _ = shakespeare_char_data()
    reference = single_process_step(train_ids, tok.vocab_size, size, batch_size=batch_size, seed=seed)
    init = make_model(tok.vocab_size, 64, size, seed).state_dict()
    same, worst = ddp_matches_single_process(ddp_state, reference, atol=1e-5)
    step = max((reference.state_dict()[k] - init[k]).abs().max().item() for k in init)
    return {"match": same, "max_difference": worst, "max_step": step}


#: The model the throughput runs train: the script's default size (L4·d128, 0.8M parameters).
DDP_SIZE = {"n_layer": 4, "n_head": 4, "n_embd": 128}


def ddp_throughput(
    processes: int,
    threads: int,
    steps: int = 40,
    batch_size: int = 16,
    warmup_steps: int = 3,
    timeout: float = 600,
    check_equivalence: bool = False,
) -> dict:
    """Characters/s of ``processes`` × ``threads`` training the L4·d128 GPT on the same global batch.

    Several processes are started by torchrun (DDP, gloo) running ``benchmarks/ddp_shakespeare.py``; one
    process needs no launcher, so it runs the same ``train_data_parallel`` in this process (with ``threads``
    threads for the run). ``load`` is the system's 1-minute load average just after the run: above the
    number of cores, other programs competed.

    With ``check_equivalence`` (several processes only) the same launch first takes one DDP step with the
    tiny check model and the row gets :func:`ddp_equivalence`'s ``match``, ``max_difference`` and
    ``max_step``: one torchrun start-up (several seconds) instead of two.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from ..char_lm import shakespeare_char_data
    from ..distributed import train_data_parallel

    processes = check_int(processes, "processes", min=1, max=os.cpu_count() or 1)
    threads = check_int(threads, "threads", min=1, max=MAX_THREADS)
    steps = check_int(steps, "steps", min=1, max=100_000)
    batch_size = check_int(batch_size, "batch_size", min=processes, max=4096)
    warmup_steps = check_int(warmup_steps, "warmup_steps", min=0, max=1000)
    check_float(timeout, "timeout", min=0.0, min_open=True)
    if check_flag(check_equivalence, "check_equivalence") and processes < 2:
        raise ArgumentError("check_equivalence needs processes >= 2 (it compares DDP with one process)")
    if processes == 1:
        tok, train_ids, _ = shakespeare_char_data()
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            model, info = train_data_parallel(
                train_ids, tok.vocab_size, DDP_SIZE, steps, batch_size, warmup_steps=warmup_steps, progress=False
            )
        finally:
            torch.set_num_threads(before)
        info["params"] = model.num_params()
        equivalence = {}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path, check = Path(tmp) / "info.json", Path(tmp) / "check.pt"
            args = [
                "--steps",
                str(steps),
                "--warmup-steps",
                str(warmup_steps),
                "--batch-size",
                str(batch_size),
                "--threads",
                str(threads),
                "--json",
                str(path),
                "--quiet",
            ]
            if check_equivalence:
                args += ["--check-equivalence", str(check)]
            _run(torchrun_command(processes, *args), timeout)
            info = json.loads(path.read_text())
            equivalence = {}
            if check_equivalence:  # the script's CHECK_SIZE and CHECK_BATCH are TINY and 8 (a test checks)
                equivalence = _compare_with_single_process(torch.load(check, weights_only=True), TINY, 8, 0)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"setup": f"{processes} process(es) × {threads} thread(s)", **info, "load": load, **equivalence}


# ----------------------------------------------------------------------------------------------
# Quantisation
# ----------------------------------------------------------------------------------------------
def quantisation_table(model, val_ids: torch.Tensor, prompt: torch.Tensor, new_tokens: int, eval_tokens: int | None):
    """float32 against int8 (dynamic): size on disk, validation loss, generation speed with and without the KV cache.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    q = quantize_int8(model)
    T = model.config.block_size
    rows = []
    for name, m in (("float32", model), ("int8 dynamic", q)):
        rows.append(
            {
                "model": name,
                "size MB": state_dict_bytes(m) / 1e6,
                "val nats/char": evaluate_lm(m, val_ids, T, batch_size=64, max_tokens=eval_tokens),
                "tokens/s (KV cache)": generation_speed(m, prompt, new_tokens, use_cache=True),
                "tokens/s (no cache)": generation_speed(m, prompt, new_tokens, use_cache=False),
            }
        )
    return pd.DataFrame(rows), q


# ----------------------------------------------------------------------------------------------
# Privacy
# ----------------------------------------------------------------------------------------------
def exposure_frame(models_extra: dict) -> pd.DataFrame:
    """One row per (model, canary): insertions, rank, exact and skew-normal exposure, from the checkpoint's data.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    if not isinstance(models_extra, dict):
        raise ArgumentTypeError(
            f"models_extra must be a dict {{name: checkpoint extra}}, got {type(models_extra).__name__}"
        )
    exposure_keys = ("insertions", "secret", "rank", "exposure", "exposure_skewnormal")
    for name, info in models_extra.items():
        ok = isinstance(info, dict) and "dp" in info and isinstance(info.get("exposures"), list)
        ok = ok and (not info["dp"] or isinstance(info.get("epsilon"), (int, float)))
        if not ok or any(not isinstance(e, dict) or any(k not in e for k in exposure_keys) for e in info["exposures"]):
            raise ArgumentError(
                f"models_extra[{name!r}] must be a checkpoint's extra dict with 'dp', 'epsilon' and 'exposures' "
                f"(each with {list(exposure_keys)})"
            )
    rows = []
    for info in models_extra.values():
        label = "non-private" if not info["dp"] else f"DP-SGD ε={info['epsilon']:.1f}"
        for e in info["exposures"]:
            rows.append(
                {
                    "model": label,
                    **{k: e[k] for k in ("insertions", "secret", "rank", "exposure", "exposure_skewnormal")},
                }
            )
    return pd.DataFrame(rows)


def plot_exposure(frame: pd.DataFrame, space: int, unseen: float):
    """Exposure against insertions (log scale, 0 drawn at the left), one line per model.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    _check_frame(frame, "frame", ["insertions", "exposure", "model"])
    space = check_int(space, "space", min=2)
    unseen = check_float(unseen, "unseen")
    f = frame.assign(x=frame["insertions"].replace(0, 0.3))
    fig, ax = plt.subplots(figsize=(7.5, 4.3))
    sns.lineplot(data=f, x="x", y="exposure", hue="model", style="model", markers=True, errorbar=("pi", 100), ax=ax)
    ax.axhline(np.log2(space), ls=":", color="grey", label=f"maximum log2 |R| = {np.log2(space):.1f}")
    ax.axhline(unseen, ls="--", color="grey", lw=1, label=f"expected for an unseen canary ({unseen:.2f})")
    ax.set(xscale="log", xlabel="times the canary is in the training text (0 drawn at 0.3)", ylabel="exposure (bits)")
    ax.set_xticks([0.3, 1, 10, 100], ["0", "1", "10", "100"])
    ax.set_title("Memorisation: exposure of the canaries (line: mean of 3; band: min–max)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
# Probes and heads
# ----------------------------------------------------------------------------------------------
_PROBE_CHUNK = 64  # windows per forward pass in probe_study


def probe_study(model, tokenizer, text: str, n_train: int, n_test: int, seed: int = 0) -> pd.DataFrame:
    """Probe accuracy by layer for every task of :data:`course_lib.probes.TASKS` and its control task.

    One row per (task, labels, layer); ``labels`` is ``"property"`` (the task's real labels) or ``"control"``.
    The text is cut into windows of ``block_size`` characters; positions are sampled (seeded) and split
    into ``n_train`` training and ``n_test`` test positions per task.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", GPT)
    check_instance(tokenizer, "tokenizer", CharTokenizer)
    check_text(text, "text")
    n_train = check_int(n_train, "n_train", min=1, max=1_000_000)
    n_test = check_int(n_test, "n_test", min=1, max=1_000_000)
    T = model.config.block_size
    if tokenizer.unknown(text):
        raise ArgumentError(f"text has characters the tokenizer does not know: {''.join(tokenizer.unknown(text))!r}")
    if len(text) < T:
        raise ArgumentError(f"text must hold at least one window of block_size={T} characters, got {len(text)}")
    n_win = len(text) // T
    ids = torch.tensor(tokenizer.encode(text[: n_win * T])).view(n_win, T)
    types = ids.reshape(-1).numpy()
    labels = char_task_labels(text[: n_win * T])
    rng = np.random.default_rng(check_seed(seed))
    picks = {}
    for task, y in labels.items():
        valid = np.flatnonzero(y >= 0)
        picks[task] = rng.choice(valid, size=min(len(valid), n_train + n_test), replace=False)
    # keep the residual stream only at the sampled positions: the whole text's states for every layer would
    # take n_layer + 1 copies of (N, C), and one forward pass over all windows its attention matrices too
    needed = np.unique(np.concatenate(list(picks.values())))  # sorted positions in the flattened text
    row_of = {int(p): i for i, p in enumerate(needed)}
    states = None
    for w0 in range(0, n_win, _PROBE_CHUNK):
        hs = gpt_hidden_states(model, ids[w0 : w0 + _PROBE_CHUNK])  # n_layer + 1 of (b, T, C)
        lo, hi = w0 * T, min(n_win, w0 + _PROBE_CHUNK) * T
        here = needed[(needed >= lo) & (needed < hi)]
        if states is None:
            states = [torch.empty(len(needed), h.shape[-1]) for h in hs]  # [(n_needed, C)]
        rows_here = [row_of[int(p)] for p in here]
        for layer, h in enumerate(hs):
            states[layer][rows_here] = h.reshape(-1, h.shape[-1])[here - lo]
    rows = []
    for task, y in labels.items():
        ctrl = control_labels(types, y, seed=seed)
        pick = np.array([row_of[int(p)] for p in picks[task]])
        tr, te = picks[task][:n_train], picks[task][n_train:]
        r_tr, r_te = pick[:n_train], pick[n_train:]
        for kind, lab in (("property", y), ("control", ctrl)):
            yt = torch.as_tensor(lab)
            for layer, X in enumerate(states):
                r = fit_linear_probe(X[r_tr], yt[tr], X[r_te], yt[te])
                rows.append({"task": task, "labels": kind, "layer": layer, **r})
    return pd.DataFrame(rows)


def plot_probes(frame: pd.DataFrame):
    """Probe test accuracy by layer: the property (solid) and its control task (dashed), one panel per task.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    _check_frame(frame, "frame", ["task", "labels", "layer", "test_acc", "majority"])
    if not (frame["labels"] == "property").any():
        raise ArgumentError("frame has no 'property' rows (probe_study's output has one per task and layer)")
    tasks = list(dict.fromkeys(frame["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.8), sharey=True)
    for ax, task in zip(np.atleast_1d(axes), tasks):
        f = frame[frame["task"] == task]
        sns.lineplot(data=f, x="layer", y="test_acc", hue="labels", style="labels", markers=True, ax=ax)
        maj = f[f["labels"] == "property"]["majority"].iloc[0]
        ax.axhline(maj, color="grey", ls=":", label="majority class")
        ax.set(title=task, xlabel="layer (0 = embeddings)", ylabel="probe test accuracy")
        ax.set_xticks(sorted(f["layer"].unique()))
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


@torch.no_grad()
def head_ablation(model, val_ids: torch.Tensor, eval_tokens: int) -> pd.DataFrame:
    """The rise in validation loss when one attention head's output is set to zero, for every head.

    A forward pre-hook on each layer's ``out_proj`` zeroes that head's slice of the concatenated heads.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", GPT)
    check_tensor(val_ids, "val_ids", dim=1, dtype="integer")
    if eval_tokens is not None:
        check_int(eval_tokens, "eval_tokens", min=1)
    T, H, C = model.config.block_size, model.config.n_head, model.config.n_embd
    d = C // H
    base = evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=eval_tokens)
    rows = []
    for layer, block in enumerate(model.blocks):
        for h in range(H):

            def zero_head(module, inputs, h=h):
                x = inputs[0].clone()
                x[..., h * d : (h + 1) * d] = 0
                return (x,)

            handle = block.attn.out_proj.register_forward_pre_hook(zero_head)
            try:
                loss = evaluate_lm(model, val_ids, T, batch_size=64, max_tokens=eval_tokens)
            finally:
                handle.remove()
            rows.append({"layer": layer, "head": h, "loss rise": loss - base})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Attribution widget
# ----------------------------------------------------------------------------------------------
def attribution_html(model, tokenizer, sentence: str, n_steps: int = 32) -> HTML:
    """HTML: the prediction and each word coloured by its integrated-gradients attribution (captum).

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    from ..sentiment import encode, predict_proba

    _check_classifier(model, tokenizer)
    check_text(sentence, "sentence")
    n_steps = check_int(n_steps, "n_steps", min=1, max=MAX_STEPS_IG)
    sentence = require_text(sentence, "a review sentence (e.g. 'The battery died after a day')")
    words = tokenizer.tokenize(sentence)
    known = [w for w in words if w in tokenizer.stoi]
    if not known:
        raise InputError(
            f"None of the words {words[:8]} is in the model's vocabulary; try an everyday review sentence."
        )
    ids, mask = encode(tokenizer, [sentence])
    p = float(predict_proba(model, ids, mask)[0])
    attr, delta = captum_token_attributions(model, ids, mask, n_steps=n_steps)
    a = attr[0].tolist()
    scale = max(1e-6, max(abs(v) for v in a))
    parts, j = [], 0
    for w in words:
        if w not in tokenizer.stoi or j >= len(a):
            parts.append(f'<span style="color:#999" title="not in the vocabulary: ignored">{_html.escape(w)}</span>')
            continue
        v = a[j]
        j += 1
        rgb = "0,150,60" if v >= 0 else "200,30,30"
        parts.append(
            f'<span style="background:rgba({rgb},{min(1.0, abs(v) / scale) * 0.8:.2f});padding:1px 3px;'
            f'border-radius:3px" title="IG {v:+.3f}">{_html.escape(w)}'
            f'<sub style="font-size:0.7em">{v:+.2f}</sub></span>'
        )
    label = "positive" if p > 0.5 else "negative"
    head = (
        f"<b>{label}</b> (P(positive) = {p:.2f}). Integrated gradients ({n_steps} steps, zero baseline): "
        f"green pushes towards positive, red towards negative; they add up to the logit's change from the "
        f"baseline (completeness gap {float(delta[0]):+.4f})."
    )
    return HTML(f"<div>{head}</div><div style='line-height:2em;font-size:1.1em'>{' '.join(parts)}</div>")


def attribution_panel(model, tokenizer, sentences: list[str]) -> Panel:
    """Widget: pick a test sentence (or type one) → its words coloured by integrated gradients.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    import ipywidgets as w

    _check_classifier(model, tokenizer)
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise ArgumentTypeError(f"sentences must be a list of sentences, got {type(sentences).__name__}")
    if not sentences:
        raise ArgumentError("give at least one sentence to choose from")
    for sentence in sentences:
        check_text(sentence, "sentences")
    own = "(type your own below)"

    def render(sentence: str, text: str, steps: int):
        if sentence == own:
            return attribution_html(model, tokenizer, text, n_steps=int(steps))
        if sentence not in sentences:
            raise InputError(f"choose one of the listed sentences or {own!r}")
        return attribution_html(model, tokenizer, sentence, n_steps=int(steps))

    controls = {
        "sentence": w.Dropdown(
            options=list(sentences) + [own], value=sentences[0], description="sentence", layout=w.Layout(width="640px")
        ),
        "text": w.Text(
            value="",
            placeholder="your own sentence",
            description="text",
            continuous_update=False,
            layout=w.Layout(width="640px"),
        ),
        "steps": w.SelectionSlider(
            options=[4, 8, 16, 32, 64], value=32, description="IG steps", continuous_update=False
        ),
    }
    return Panel(controls, render, title="Integrated gradients: which words pushed the sentiment decision?")


def ig_check(model, ids: torch.Tensor, mask: torch.Tensor, n_steps: int = 64) -> dict:
    """captum's attributions against the from-scratch Riemann sum, and the completeness gap.

    Defined in: notebooks/12_scale_privacy_interpretability.ipynb
    """
    check_instance(model, "model", EmbeddingClassifier, "embedding sentence classifier (make_classifier)")
    check_token_ids(ids, "ids", model.cfg.vocab_size)
    check_tensor(ids, "ids", dim=2)
    check_mask(mask, "mask", tuple(ids.shape), exact_dims=True)
    if mask.shape != ids.shape:
        raise ArgumentError(f"mask must have the shape of ids {tuple(ids.shape)}, got {tuple(mask.shape)}")
    n_steps = check_int(n_steps, "n_steps", min=1, max=MAX_STEPS_IG)
    mine = integrated_gradients(model, ids, mask, n_steps=n_steps)
    theirs, delta = captum_token_attributions(model, ids, mask, n_steps=n_steps)
    return {
        "max |captum − ours|": float((mine - theirs).abs().max()),
        "max |completeness gap|": float(delta.abs().max()),
    }


def _exercise_reference() -> dict[str, float]:
    from ..config import CHECKPOINT_DIR
    from ..scaling import fit_power_law, load_gpt_set

    _, study = load_gpt_set(CHECKPOINT_DIR / "scaling_study.pt")
    runs = scaling_table(study["runs"], peak_flops=study["matmul_peak_flops"])
    same = runs[runs["set"] == "same tokens"].reset_index(drop=True)
    N, L = same["non-embedding params"].to_numpy(), same["val nats/char"].to_numpy()
    return {
        "without the smallest": fit_power_law(N[1:], L[1:]).alpha,
        "all six, all parameters": fit_power_law(same["params"].to_numpy(), L).alpha,
        "all six, non-embedding (above)": fit_power_law(N, L).alpha,
    }


@exercise(
    "12.1",
    "a dict mapping 'without the smallest' and 'all six, all parameters' to a fitted power law "
    "(scaling.fit_power_law) or its exponent α",
    wrong=lambda: {"without the smallest": 0.0, "all six, all parameters": 0.0},
)
def _check_scaling_variants(answer):
    if not isinstance(answer, dict):
        raise Hint("Make a dict: {'without the smallest': fit, 'all six, all parameters': fit}.")
    reference = _exercise_reference()
    for key in ("without the smallest", "all six, all parameters"):
        if key not in answer:
            raise Hint(f"The dict needs the key {key!r} (it has {sorted(map(str, answer))}).")
        got = getattr(answer[key], "alpha", answer[key])
        if not isinstance(got, (int, float, np.floating)):
            raise Hint(f"{key!r}: give a PowerLawFit or its exponent α as a number, got {type(got).__name__}.")
        if abs(float(got) - reference[key]) > 1e-6:
            if abs(float(got) - reference["all six, non-embedding (above)"]) < 1e-6:
                raise Hint(f"{key!r} has the same α as the fit above: did you change the data you fit?")
            hint = (
                "drop the first (smallest) model from both N and L: N[1:], L[1:]"
                if key == "without the smallest"
                else "use the 'params' column (every parameter, embeddings included) for x, with the same L"
            )
            raise Hint(f"{key!r}: α = {float(got):.4f} is not the refit's exponent; {hint}.")
