"""Notebook 05's lab: the sampling panel, training-dynamics runs, the seed experiment, plots, the exercise check.

Defined in: notebooks/05_text_generation.ipynb

The sampler and the generation loop are lessons in :mod:`course_lib.generate`; the models in
:mod:`course_lib.models`; the article's program in :mod:`course_lib.article_program`.
"""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.axes import Axes

from ..checks import (
    MAX_SEED,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_probability,
    check_seed,
    check_tensor,
    check_text,
)
from ..data import Tokenizer, get_lm_batch
from ..errors import ArgumentError, ArgumentTypeError
from ..generate import STRATEGIES, generate, generate_text, top_p_filter
from ..models.gpt import GPT, GPTConfig
from ..train import cosine_schedule, evaluate_lm, lm_cross_entropy, train
from ..widgets import InputError, Panel
from .exercises import Hint, exercise

SHOW = {" ": "␣", "\n": "⏎"}
MAX_LENGTH = 2000  # characters generated at most by the lab's widgets and experiments (a few seconds on a laptop)
MAX_STEPS = 10_000  # training steps of one dynamics run at most
MAX_SIZE = 1024  # widths, context length and batch size of a dynamics run at most


def _check_lm(model, tokenizer, name: str = "model") -> None:
    """``model`` must drive generation (``forward_step``) and ``tokenizer`` be one of the course's tokenizers."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "forward_step"):
        raise ArgumentTypeError(
            f"{name} must be a character language model with forward_step (a GPT or an LSTM), "
            f"got {type(model).__name__}"
        )
    check_instance(tokenizer, "tokenizer", Tokenizer, "course tokenizer (e.g. a CharTokenizer)")
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    if vocab is not None and vocab != tokenizer.vocab_size:
        raise ArgumentError(
            f"{name} predicts {vocab} tokens but the tokenizer has {tokenizer.vocab_size}: "
            "pass the tokenizer the model was trained with"
        )


def _check_models(models, tokenizer) -> dict:
    """``models`` must be a non-empty ``{name: language model}`` dict, all over ``tokenizer``."""
    if not isinstance(models, dict) or not models:
        raise ArgumentTypeError(f'models must be a non-empty dict such as {{"GPT": gpt}}, got {type(models).__name__}')
    for name, model in models.items():
        check_text(name, "a model name")
        _check_lm(model, tokenizer, f"models[{name!r}]")
    return models


def unescape_prompt(prompt: str) -> str:
    """A prompt typed in a one-line text box: the two characters ``\\n`` stand for a line break.

    Tiny Shakespeare has no backslash, so ``\\n`` cannot mean anything else; ``ROMEO:\\n`` is the speaker's
    name followed by a new line, as in the play.

    Defined in: notebooks/05_text_generation.ipynb
    """
    return prompt.replace("\\n", "\n") if isinstance(prompt, str) else prompt


def render_generation(
    models: dict,
    tokenizer,
    model: str,
    prompt: str,
    strategy: str,
    temperature: float,
    top_k: int,
    top_p: float,
    length: int,
    seed: int = 0,
) -> str:
    """Widget logic: generated text for the chosen model and settings (raises ``InputError`` on bad input).

    ``\\n`` in the prompt is a line break (:func:`unescape_prompt`).

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_models(models, tokenizer)
    check_text(model, "model")
    check_text(strategy, "strategy")
    if model not in models:
        raise InputError(f"Unknown model {model!r}; choose one of {', '.join(models)}.")
    if strategy not in STRATEGIES:
        raise InputError(f"Unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}.")
    temperature = check_float(temperature, "temperature")
    if strategy != "greedy" and not temperature > 0:
        raise InputError("Temperature must be above 0 for sampling (greedy is the T → 0 limit: pick 'greedy').")
    if not 1 <= check_int(length, "length") <= MAX_LENGTH:
        raise InputError(f"Length must be between 1 and {MAX_LENGTH} characters, got {length}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"The seed must be a whole number from 0 to {MAX_SEED:,}; got {seed!r}.")
    prompt = unescape_prompt(prompt)
    return generate_text(models[model], tokenizer, prompt, int(length), strategy, temperature, top_k, top_p, seed)


def sampling_panel(models: dict, tokenizer, prompt: str = "ROMEO:\\n", length: int = 200):
    """A :class:`~course_lib.widgets.Panel`: model, prompt, strategy, temperature, k, p, length, seed → text.

    ``models`` maps a display name to a model with ``forward_step`` (e.g. ``{"GPT": gpt, "LSTM": lstm}``).
    Type ``\\n`` in the prompt for a line break. The k slider is active only for top-k, the p slider only
    for top-p, the temperature for every strategy but greedy.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if isinstance(models, dict) and not models:
        raise ArgumentError('sampling_panel needs at least one model, e.g. {"GPT": gpt}')
    _check_models(models, tokenizer)
    check_text(prompt, "prompt")
    length = check_int(length, "length", min=1, max=1000)  # the slider shows at least 10
    style = {"description_width": "initial"}
    controls = {
        "model": w.Dropdown(options=list(models), description="model"),
        "prompt": w.Text(
            value=prompt,
            description="prompt",
            placeholder="type \\n for a line break",
            continuous_update=False,
            layout=w.Layout(width="320px"),
        ),
        "strategy": w.Dropdown(options=list(STRATEGIES), value="top-p", description="strategy"),
        "temperature": w.FloatSlider(
            value=0.8, min=0.05, max=2.0, step=0.05, description="temperature", continuous_update=False, style=style
        ),
        "top_k": w.IntSlider(value=10, min=1, max=tokenizer.vocab_size, description="k", continuous_update=False),
        "top_p": w.FloatSlider(value=0.9, min=0.05, max=1.0, step=0.05, description="p", continuous_update=False),
        "length": w.IntSlider(value=length, min=10, max=1000, step=10, description="length", continuous_update=False),
        "seed": w.IntText(value=0, description="seed"),
    }

    def enable(change=None):
        strategy = controls["strategy"].value
        controls["top_k"].disabled = strategy != "top-k"
        controls["top_p"].disabled = strategy != "top-p"
        controls["temperature"].disabled = strategy == "greedy"

    controls["strategy"].observe(enable, names="value")
    enable()

    def render(**values):
        return render_generation(models, tokenizer, **values)

    return Panel(controls, render, title="Sample from a character language model (\\n in the prompt = a line break)")


# ----------------------------------------------------------------------------- the seed experiment


def seed_agreement(
    model,
    tokenizer,
    prompts=("ROMEO:\n", "JULIET:\n"),
    temperatures=(0.5, 1.0, 2.0, 4.0),
    length: int = 200,
    seeds=range(5),
) -> pd.DataFrame:
    """How often two different prompts get the same next character, with the same seed and with different seeds.

    For each temperature and seed, both prompts are continued for ``length`` characters (pure sampling);
    ``agreement`` is the share of positions where the two continuations hold the same character.
    ``seeds`` compares seed s with seed s (same) and with seed s + 1000 (different). Columns:
    ``temperature``, ``seeds`` ("same seed" / "different seeds"), ``agreement`` (mean over the seeds).

    Defined in: notebooks/05_text_generation.ipynb
    """
    _check_lm(model, tokenizer)
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)) or len(prompts) != 2:
        raise ArgumentTypeError(f"prompts must be a pair of prompts, got {prompts!r:.60}")
    for prompt in prompts:
        check_text(prompt, "prompts")
    if isinstance(temperatures, (str, torch.Tensor)) or not isinstance(temperatures, (list, tuple, range)):
        raise ArgumentTypeError(f"temperatures must be a list of numbers, got {type(temperatures).__name__}")
    temperatures = [check_float(t, "temperatures", min=0.0, min_open=True) for t in temperatures]
    length = check_int(length, "length", min=1, max=MAX_LENGTH)
    if isinstance(seeds, (str, torch.Tensor)) or not isinstance(seeds, (list, tuple, range)):
        raise ArgumentTypeError(f"seeds must be a list or range of integers, got {type(seeds).__name__}")
    seeds = [check_int(s, "seeds", min=0, max=MAX_SEED - 1000) for s in seeds]
    rows = []
    for t in temperatures:
        for label, offset in (("same seed", 0), ("different seeds", 1000)):
            shares = []
            for s in seeds:
                a = generate_text(model, tokenizer, prompts[0], length, "sample", temperature=t, seed=s)
                b = generate_text(model, tokenizer, prompts[1], length, "sample", temperature=t, seed=s + offset)
                a, b = a[len(prompts[0]) :], b[len(prompts[1]) :]
                shares.append(float(np.mean([x == y for x, y in zip(a, b)])))
            rows.append({"temperature": t, "seeds": label, "agreement": float(np.mean(shares))})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- training dynamics


def _check_ids(ids, name: str) -> torch.Tensor:
    check_tensor(ids, name, dim=1, dtype="integer")
    if ids.numel() and int(ids.min()) < 0:
        raise ArgumentError(f"{name} must hold token ids ≥ 0, got min {int(ids.min())}")
    return ids


def dynamics_run(
    train_ids: torch.Tensor,
    val_ids: torch.Tensor,
    *,
    steps: int,
    lr: float,
    schedule: str = "cosine",
    warmup: int = 0,
    dropout: float = 0.0,
    n_layer: int = 2,
    n_head: int = 4,
    n_embd: int = 64,
    block_size: int = 64,
    batch_size: int = 16,
    weight_decay: float = 0.1,
    eval_every: int = 25,
    eval_tokens: int = 8192,
    seed: int = 0,
    desc: str = "run",
    progress: bool = False,
) -> pd.DataFrame:
    """One short training run of a small GPT for the training-dynamics experiments; returns its history.

    ``schedule``: ``"cosine"`` (linear warm-up for ``warmup`` steps, then cosine decay to ``lr / 10``) or
    ``"constant"`` (``lr`` throughout, after the same warm-up). Every ``eval_every`` steps the history gets
    ``val_loss`` (first ``eval_tokens`` validation characters) and ``train_eval_loss`` (the first
    ``eval_tokens`` characters of ``train_ids``), both in nats/char with non-overlapping windows, so that
    overfitting shows as the two curves parting. A run whose loss diverges stops early and keeps its
    history (``history.attrs["diverged"]``).

    Defined in: notebooks/05_text_generation.ipynb
    """
    train_ids = _check_ids(train_ids, "train_ids")
    val_ids = _check_ids(val_ids, "val_ids")
    steps = check_int(steps, "steps", min=1, max=MAX_STEPS)
    lr = check_float(lr, "lr", min=0.0, max=1e30, min_open=True)  # float32 cannot hold a higher rate (1e9 diverges)
    if not isinstance(schedule, str) or schedule not in ("cosine", "constant"):
        raise ArgumentError(f"schedule must be 'cosine' or 'constant', got {schedule!r:.60}")
    warmup = check_int(warmup, "warmup", min=0)
    dropout = check_probability(dropout, "dropout", allow_one=False)
    n_layer = check_int(n_layer, "n_layer", min=1, max=24)
    n_embd = check_int(n_embd, "n_embd", min=1, max=MAX_SIZE)
    n_head = check_int(n_head, "n_head", min=1, max=n_embd)
    block_size = check_int(block_size, "block_size", min=1, max=MAX_SIZE)
    batch_size = check_int(batch_size, "batch_size", min=1, max=MAX_SIZE)
    weight_decay = check_float(weight_decay, "weight_decay", min=0.0)
    eval_every = check_int(eval_every, "eval_every", min=1)
    eval_tokens = check_int(eval_tokens, "eval_tokens", min=1)
    check_text(desc, "desc")
    check_flag(progress, "progress")
    if len(train_ids) <= block_size or len(val_ids) <= block_size:
        raise ArgumentError(
            f"train_ids and val_ids must be longer than block_size={block_size}; "
            f"got {len(train_ids)} and {len(val_ids)}"
        )
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    vocab = int(max(train_ids.max(), val_ids.max())) + 1
    config = GPTConfig(vocab_size=vocab, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                       dropout=dropout)  # fmt: skip
    model = GPT(config)
    opt = model.configure_optimizer(lr=lr, weight_decay=weight_decay)
    if schedule == "cosine":
        lr_schedule = cosine_schedule(lr, steps, warmup=warmup, min_lr=lr / 10)
    else:

        def lr_schedule(step):
            return lr * (step + 1) / warmup if step < warmup else lr

    def loss_fn(model, batch):
        return lm_cross_entropy(model(batch[0]), batch[1])

    def eval_fn(model):
        return {
            "val_loss": evaluate_lm(model, val_ids, block_size, max_tokens=eval_tokens),
            "train_eval_loss": evaluate_lm(model, train_ids, block_size, max_tokens=eval_tokens),
        }

    try:
        history = train(
            model,
            lambda step: get_lm_batch(train_ids, block_size, batch_size, generator=generator),
            loss_fn,
            opt,
            steps,
            eval_every=eval_every,
            eval_fn=eval_fn,
            lr_schedule=lr_schedule,
            grad_clip=1.0,
            log_every=max(1, eval_every // 5),
            progress=progress,
            desc=desc,
        )
        history.attrs["diverged"] = False
    except FloatingPointError:  # a too-high learning rate: report it as diverged, with what was reached
        history = pd.DataFrame({"step": [0], "val_loss": [float("inf")], "train_eval_loss": [float("inf")]})
        history.attrs["diverged"] = True
    return history


# ----------------------------------------------------------------------------- plots


def plot_model_curves(curves: dict, x: str, ax=None, ngram: float | None = None, title: str = ""):
    """Validation curves of several runs: colour = model (the part of the name before a space), style = the rest.

    ``curves`` maps names such as ``"GPT live"`` / ``"GPT shipped"`` to histories with ``val_loss`` and the
    column ``x``; ``ngram`` draws the Kneser–Ney baseline. Returns the axes.

    Defined in: notebooks/05_text_generation.ipynb
    """
    if not isinstance(curves, dict) or not curves:
        raise ArgumentTypeError(f"curves must be a non-empty dict {{name: history}}, got {type(curves).__name__}")
    check_text(x, "x")
    for name, h in curves.items():
        check_text(name, "a name of curves")
        check_instance(h, f"curves[{name!r}]", pd.DataFrame)
        if x not in h.columns or "val_loss" not in h.columns:
            raise ArgumentError(f"curves[{name!r}] must have the columns {x!r} and 'val_loss', got {list(h.columns)}")
    if ngram is not None:
        ngram = check_float(ngram, "ngram")
    check_text(title, "title")
    if ax is not None:
        check_instance(ax, "ax", Axes, "matplotlib Axes")
    frames = []
    for name, h in curves.items():
        model, _, run = name.partition(" ")
        frame = h[[x, "val_loss"]].dropna()
        frames.append(frame.assign(model=model, run=run or "run"))
    data = pd.concat(frames, ignore_index=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    sns.lineplot(data=data, x=x, y="val_loss", hue="model", style="run", markers=True, dashes=True, ax=ax)
    if ngram is not None:
        ax.axhline(ngram, ls=":", color="black", lw=1.2, label="order-6 Kneser–Ney")
    ax.set_ylabel("validation loss (nats/char)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def nucleus_by_previous(sizes, previous: str, min_count: int = 5) -> pd.DataFrame:
    """Mean top-p nucleus size grouped by the character the step follows (␣ = space, ⏎ = newline).

    ``sizes[i]`` is the nucleus size at step i and ``previous[i]`` the character just before it. Keeps
    characters seen at least ``min_count`` times; sorted by mean size, largest first. Columns: ``after``,
    ``mean nucleus``, ``steps``.

    Defined in: notebooks/05_text_generation.ipynb
    """
    check_text(previous, "previous")
    if isinstance(sizes, (str, dict)) or not hasattr(sizes, "__len__"):
        raise ArgumentTypeError(f"sizes must be a list of nucleus sizes, got {type(sizes).__name__}")
    for size in sizes:
        check_int(size, "sizes", min=0)
    min_count = check_int(min_count, "min_count", min=1)
    if len(sizes) != len(previous):
        raise ArgumentError(f"got {len(sizes)} sizes but {len(previous)} previous characters")
    frame = pd.DataFrame({"after": [SHOW.get(c, c) for c in previous], "size": list(sizes)})
    table = frame.groupby("after")["size"].agg(["mean", "count"]).reset_index()
    table.columns = ["after", "mean nucleus", "steps"]
    return table[table.steps >= min_count].sort_values("mean nucleus", ascending=False, ignore_index=True)


def record_nucleus(model, tokenizer, prompt: str, n: int, p: float = 0.9, seed: int = 0):
    """Sample ``n`` characters with top-p and record, at each step, the nucleus size and the previous character.

    Returns ``(sizes, previous)`` (a list of ints and a string of the same length).

    Defined in: notebooks/05_text_generation.ipynb
    """
    from ..generate import encode_prompt, sample_next

    _check_lm(model, tokenizer)
    ids = encode_prompt(tokenizer, prompt)  # (1, T)
    n = check_int(n, "n", min=1, max=MAX_LENGTH)
    p = check_probability(p, "p", allow_zero=False)
    generator = torch.Generator().manual_seed(check_seed(seed))
    sizes = []

    def sampler(logits):  # (1, V) → (1,)
        sizes.append(int(torch.isfinite(top_p_filter(logits, p)).sum()))
        return sample_next(logits, temperature=1.0, top_p=p, generator=generator)

    out = generate(model, ids, n, sample_fn=sampler)
    text = tokenizer.decode(out[0])
    previous = text[len(prompt) - 1 : -1]  # the character each step follows
    return sizes, previous


# ----------------------------------------------------------------------------- the exercise


def _reference_nucleus_size(logits: torch.Tensor, p: float) -> torch.Tensor:
    return torch.isfinite(top_p_filter(logits, p)).sum(-1)


@exercise(
    "05.1",
    "a function nucleus_size(logits, p) that returns, for logits of shape (B, V), how many tokens each row's "
    "top-p nucleus keeps (a LongTensor of shape (B,))",
    wrong=lambda: lambda logits, p: (torch.softmax(logits, -1).sort(-1, descending=True).values.cumsum(-1) < p).sum(-1),
)
def _check_nucleus_size(answer):
    if not callable(answer):
        raise Hint("nucleus_size must be a function: def nucleus_size(logits, p): ...")
    generator = torch.Generator().manual_seed(1234)
    cases = [(torch.randn(6, 65, generator=generator) * s, p) for s, p in ((1.0, 0.9), (3.0, 0.5), (0.3, 0.99))]
    exact = torch.log(torch.tensor([[0.5, 0.25, 0.15, 0.10]], dtype=torch.float64))
    cases += [(exact, 0.7501), (exact, 0.9001), (torch.tensor([[4.0, 0.0, 0.0]]), 1e-3)]
    for logits, p in cases:
        got = answer(logits.clone(), p)
        got = torch.as_tensor(got)
        want = _reference_nucleus_size(logits, p)
        if got.shape != want.shape:
            raise Hint(f"For logits of shape {tuple(logits.shape)} return one count per row: {tuple(want.shape)}.")
        if not torch.equal(got.long(), want.long()):
            if (got.long() == want.long() - 1).any():
                raise Hint(
                    "One token short somewhere: the nucleus keeps tokens until their mass *reaches* p, so it "
                    "includes the token that crosses p (and at least one token)."
                )
            raise Hint(
                f"With p = {p} your counts {got.tolist()} differ from the nucleus sizes. Sort the probabilities "
                "in decreasing order and count how many are needed for their sum to reach p."
            )
