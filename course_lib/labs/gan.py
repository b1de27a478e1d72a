"""Notebook 07's lab: GAN training on the ring of Gaussians, snapshots, the loss panels, the Gumbel-softmax study.

Defined in: notebooks/07_gan.ipynb

The models are in :mod:`course_lib.models.gan`; the correct and the article's losses are lessons in
:mod:`course_lib.losses`; the data and the mode count in :mod:`course_lib.toy_data`.
"""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..checks import (
    check_choice,
    check_flag,
    check_float,
    check_instance,
    check_int,
    check_seed,
    check_tensor,
    check_text,
)
from ..errors import ArgumentError, ArgumentTypeError
from ..generate import gumbel_softmax_sample
from ..losses import article_discriminator_loss, article_generator_loss, discriminator_loss, generator_loss
from ..models.gan import GAN, GANConfig
from ..toy_data import mode_coverage, ring_of_gaussians
from ..train import train
from ..widgets import InputError, Panel
from .exercises import Hint, exercise

LOSS_KINDS = ("non_saturating", "minimax", "article", "article_d", "article_max")


def gan_losses(kind: str = "non_saturating"):
    """``(d_loss, g_loss)`` for ``train(gan, get_batch, [d_loss, g_loss], [d_opt, g_opt], ...)``.

    A batch is ``(real (B, 2), z (B, latent_dim))``. ``kind``:

    * ``"non_saturating"``: :func:`~course_lib.losses.discriminator_loss` and the non-saturating
      :func:`~course_lib.losses.generator_loss` (the correct, practical GAN);
    * ``"minimax"``: the same discriminator, generator minimises log(1 − D(G(z)));
    * ``"article"``: the article's L_D = −log(D(x) + D(G(z))) and L_G = −log D(x), as printed;
    * ``"article_d"``: the article's L_D with the correct non-saturating L_G (isolates the L_D flaw);
    * ``"article_max"``: the correct L_D, and the generator *maximises* its (non-saturating) loss, as
      §4.1.3.2's sentence says ("最大化生成器的损失函数").

    Defined in: notebooks/07_gan.ipynb
    """
    check_choice(kind, "kind", LOSS_KINDS)

    def d_loss(model: GAN, batch):
        real, z = batch
        fake = model.G(z).detach()  # the D step does not train G
        real_logits, fake_logits = model.D(real), model.D(fake)  # (B,), (B,)
        if kind in ("article", "article_d"):
            loss = article_discriminator_loss(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        else:
            loss = discriminator_loss(real_logits, fake_logits)
        return {"loss": loss, "D_real": torch.sigmoid(real_logits).mean(), "D_fake": torch.sigmoid(fake_logits).mean()}

    def g_loss(model: GAN, batch):
        real, z = batch
        if kind == "article":  # −log D(x): only real data, G does not appear
            return article_generator_loss(torch.sigmoid(model.D(real)))
        loss = generator_loss(model.D(model.G(z)), "minimax" if kind == "minimax" else "non_saturating")
        return -loss if kind == "article_max" else loss

    return d_loss, g_loss


MAX_STEPS = 100_000  # training steps of one GAN at most (the notebook trains 1,500)
MAX_SAMPLES = 1_000_000  # batch size, evaluation samples and Gumbel samples at most


def train_gan(
    kind: str = "non_saturating",
    steps: int = 1500,
    seed: int = 0,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_d: float | None = None,
    snapshot_every: int = 250,
    n_eval: int = 2000,
    std: float = 0.05,
    config: GANConfig | None = None,
    progress: bool = True,
):
    """Train a :class:`GAN` on the ring of 8 Gaussians with :func:`course_lib.train.train`.

    Adam (β₁ = 0.5) with learning rate ``lr`` for G and ``lr_d`` (default: ``lr``) for D. Every
    ``snapshot_every`` steps, ``n_eval`` samples from a fixed noise batch are stored and scored with
    :func:`mode_coverage`. Returns ``(model, history, snapshots)``, ``snapshots`` a dict
    ``{step: samples as a (n_eval, 2) array}``.

    Defined in: notebooks/07_gan.ipynb
    """
    check_choice(kind, "kind", LOSS_KINDS)
    check_int(steps, "steps", min=1, max=MAX_STEPS)
    check_int(snapshot_every, "snapshot_every", min=1)
    check_seed(seed)
    check_int(batch_size, "batch_size", min=1, max=MAX_SAMPLES)
    lr = check_float(lr, "lr", min=0.0, max=10.0, min_open=True)
    lr_d = lr if lr_d is None else check_float(lr_d, "lr_d", min=0.0, max=10.0, min_open=True)
    check_int(n_eval, "n_eval", min=1, max=MAX_SAMPLES)
    std = check_float(std, "std", min=0.0, min_open=True)
    if config is not None:
        check_instance(config, "config", GANConfig)
    check_flag(progress, "progress")
    torch.manual_seed(check_seed(seed))
    generator = torch.Generator().manual_seed(check_seed(seed))
    config = config or GANConfig()
    model = GAN(config)
    d_loss, g_loss = gan_losses(kind)
    d_opt = torch.optim.Adam(model.D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    z_eval = torch.randn(n_eval, config.latent_dim, generator=torch.Generator().manual_seed(1000 + seed))
    snapshots: dict[int, np.ndarray] = {}

    def get_batch(step):
        real, _ = ring_of_gaussians(batch_size, std=std, generator=generator)
        return real, torch.randn(batch_size, config.latent_dim, generator=generator)

    def eval_fn(m):
        s = m.G(z_eval)
        snapshots[len(snapshots) * snapshot_every] = s.numpy().copy()
        cov = mode_coverage(s, std=std)
        return {"modes_captured": cov["modes_captured"], "high_quality": cov["high_quality"]}

    hist = train(
        model,
        get_batch,
        [d_loss, g_loss],
        [d_opt, g_opt],
        steps,
        eval_every=snapshot_every,
        eval_fn=eval_fn,
        log_every=max(1, steps // 30),
        progress=progress,
        desc=f"GAN ({kind}, seed {seed}" + (f", D lr {lr_d:g})" if lr_d != lr else ")"),
    )
    # the training loop also evaluates after the last step; key that snapshot by the real step
    if steps % snapshot_every:
        last = max(snapshots)
        snapshots[steps] = snapshots.pop(last)
    model.eval()
    return model, hist, snapshots


def _check_snapshots(snapshots, name: str) -> dict:
    """``snapshots`` must be ``train_gan``'s third output: a non-empty ``{step: (N, 2) array of samples}``."""
    if not isinstance(snapshots, dict) or not snapshots:
        raise ArgumentTypeError(f"{name} must be a non-empty dict {{step: samples}}, got {type(snapshots).__name__}")
    for step, samples in snapshots.items():
        check_int(step, f"a step of {name}", min=0)
        shape = getattr(samples, "shape", None)
        if not isinstance(samples, (np.ndarray, torch.Tensor)) or len(shape) != 2 or shape[1] != 2 or not shape[0]:
            raise ArgumentError(f"{name}[{step}] must be an (N, 2) array of samples, got {_shape(samples)}")
        if not np.isfinite(np.asarray(samples, dtype=float)).all():
            raise ArgumentError(f"{name}[{step}] holds NaN or infinite samples")
    return snapshots


def _check_runs(runs, what: str) -> dict:
    if not isinstance(runs, dict):
        raise ArgumentTypeError(f"runs must be a dict {{name: snapshots}}, got {type(runs).__name__}")
    if not runs:
        raise ArgumentError(f"{what} needs at least one run: {{name: snapshots}}")
    for name, snaps in runs.items():
        check_text(name, "a run name")
        _check_snapshots(snaps, f"runs[{name!r}]")
    return runs


def _shape(x) -> str:
    return f"shape {tuple(x.shape)}" if hasattr(x, "shape") else type(x).__name__


FRAME = 3.0  # the plots show [-FRAME, FRAME]²; the ring has radius 2


def _draw_samples(ax, samples, real, title):
    ax.scatter(real[:, 0], real[:, 1], s=3, c="lightgray")
    inside = (np.abs(samples) < FRAME).all(axis=1)
    ax.scatter(samples[inside, 0], samples[inside, 1], s=3, c="C3", alpha=0.6)
    if not inside.all():
        ax.text(
            0,
            -FRAME + 0.25,
            f"{1 - inside.mean():.0%} off the frame",
            ha="center",
            fontsize=8,
            color="C3",
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1},
        )
    ax.set_xlim(-FRAME, FRAME)
    ax.set_ylim(-FRAME, FRAME)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def plot_snapshot_grid(runs: dict[str, dict[int, np.ndarray]], steps: list[int] | None = None, std: float = 0.05):
    """A grid of generator samples (red) over real data (grey): one row per run, one column per step.

    Each panel says how many of the 8 modes are captured and the share of high-quality samples; the row's
    name is on its left. Samples outside the frame are counted, not drawn.

    Defined in: notebooks/07_gan.ipynb
    """
    _check_runs(runs, "plot_snapshot_grid")
    std = check_float(std, "std", min=0.0, min_open=True)
    if steps is not None:
        if isinstance(steps, str) or not isinstance(steps, (list, tuple, range)):
            raise ArgumentTypeError(f"steps must be a list of steps, got {type(steps).__name__}")
        for step in steps:
            check_int(step, "steps", min=0)
            lacking = [name for name, snaps in runs.items() if step not in snaps]
            if lacking:
                raise ArgumentError(f"steps: runs {lacking} have no snapshot at step {step}")
    steps = steps or sorted(next(iter(runs.values())))
    real = ring_of_gaussians(1000, std=std, generator=torch.Generator().manual_seed(0))[0].numpy()
    fig, axes = plt.subplots(len(runs), len(steps), figsize=(1.9 * len(steps) + 0.8, 2.1 * len(runs)), squeeze=False)
    for i, (name, snaps) in enumerate(runs.items()):
        for j, st in enumerate(steps):
            cov = mode_coverage(torch.as_tensor(snaps[st]), std=std)
            _draw_samples(
                axes[i, j], snaps[st], real, f"step {st}: {cov['modes_captured']}/8, HQ {cov['high_quality']:.0%}"
            )
        axes[i, 0].set_ylabel(name, fontsize=9)
    fig.tight_layout()
    return fig


def snapshot_panel(runs: dict[str, dict[int, np.ndarray]], std: float = 0.05) -> Panel:
    """A run dropdown and a step slider over stored snapshots (``train_gan``'s third output).

    Defined in: notebooks/07_gan.ipynb
    """
    _check_runs(runs, "snapshot_panel")
    std = check_float(std, "std", min=0.0, min_open=True)
    names = list(runs)
    all_steps = sorted(set().union(*[set(s) for s in runs.values()]))
    real = ring_of_gaussians(1000, std=std, generator=torch.Generator().manual_seed(0))[0].numpy()

    def render(run, step):
        if run not in runs:
            raise InputError(f"unknown run {run!r}; choose one of {names}")
        if step not in runs[run]:
            raise InputError(f"run {run!r} has no snapshot at step {step}; it has {sorted(runs[run])}")
        s = runs[run][step]
        cov = mode_coverage(torch.as_tensor(s), std=std)
        fig, ax = plt.subplots(figsize=(4.4, 4.4))
        _draw_samples(
            ax, s, real, f"{run}, step {step}:\n{cov['modes_captured']}/8 modes, {cov['high_quality']:.0%} high quality"
        )
        return fig

    controls = {
        "run": w.Dropdown(options=names, value=names[0], description="run", layout=w.Layout(width="22em")),
        "step": w.SelectionSlider(options=all_steps, value=all_steps[-1], description="step", continuous_update=False),
    }
    return Panel(controls, render, title="GAN samples over training")


def mode_history(snapshots: dict[int, np.ndarray], std: float = 0.05) -> pd.DataFrame:
    """For each stored step: modes captured, high-quality share, and which modes (e.g. ``"0 1 2 5"``).

    A run whose set of captured modes keeps changing is *oscillating*; one stuck below 8 has *dropped* modes.

    Defined in: notebooks/07_gan.ipynb
    """
    _check_snapshots(snapshots, "snapshots")
    std = check_float(std, "std", min=0.0, min_open=True)
    rows = []
    for st in sorted(snapshots):
        cov = mode_coverage(torch.as_tensor(snapshots[st]), std=std)
        which = [str(k) for k, v in enumerate(cov["per_mode"]) if v >= 0.02]
        rows.append(
            {"step": st, "modes": cov["modes_captured"], "high_quality": cov["high_quality"], "which": " ".join(which)}
        )
    return pd.DataFrame(rows)


def gan_training_panel(
    cache: dict | None = None,
    steps: int = 1500,
    snapshot_every: int = 250,
    seeds: int = 10,
    lr_d: float = 5e-3,
    seed: int = 0,
) -> Panel:
    """Train a ring GAN with the correct losses for a chosen seed and discriminator learning rate, and show it.

    ``cache`` maps ``(lr_d, seed)`` to snapshots already trained (``train_gan(..., lr_d=lr_d, seed=seed)``'s
    third output, with the same ``steps`` and ``snapshot_every``), so those choices show at once; any other
    choice trains live (a few seconds) and is added to the cache. ``lr_d`` and ``seed`` are shown first.

    Defined in: notebooks/07_gan.ipynb
    """
    cache = {} if cache is None else check_instance(cache, "cache", dict, "dict {(lr_d, seed): snapshots} or None")
    check_int(steps, "steps", min=1)
    check_int(snapshot_every, "snapshot_every", min=1)
    seeds = check_int(seeds, "seeds", min=1, max=1000)
    check_int(seed, "seed", min=0, max=seeds - 1)
    options = [("1e-3 (same as G)", 1e-3), ("5e-3 (5× G's)", 5e-3)]
    check_choice(lr_d, "lr_d", [v for _, v in options])

    def render(lr_d, seed):
        if not isinstance(seed, int) or not 0 <= seed < seeds:
            raise InputError(f"choose a seed between 0 and {seeds - 1}")
        if (lr_d, seed) not in cache:
            _, _, cache[(lr_d, seed)] = train_gan(
                "non_saturating", steps=steps, seed=seed, lr_d=lr_d, snapshot_every=snapshot_every, progress=False
            )
        snaps = cache[(lr_d, seed)]
        shown = sorted(snaps)[:: max(1, len(snaps) // 5)]
        shown = shown if max(snaps) in shown else [*shown, max(snaps)]
        fig = plot_snapshot_grid({f"D lr {lr_d:g}, seed {seed}": snaps}, steps=shown)
        fig.suptitle(f"correct losses, D learning rate {lr_d:g}, seed {seed}", fontsize=10)
        fig.tight_layout()
        return fig

    controls = {
        "lr_d": w.Dropdown(options=options, value=lr_d, description="D lr"),
        "seed": w.BoundedIntText(value=seed, min=0, max=seeds - 1, description="seed"),
    }
    return Panel(controls, render, title="Train a GAN: does it keep all 8 modes?")


def discriminator_loss_table(d_real: float, d_fake: float) -> pd.DataFrame:
    """Both discriminator losses and their slopes in D(G(z)) at one point (D(x), D(G(z))).

    Defined in: notebooks/07_gan.ipynb
    """
    for name, v in (("D(x)", d_real), ("D(G(z))", d_fake)):
        if not (isinstance(v, (int, float)) and 0.0 < v < 1.0):
            raise InputError(f"{name} must be a probability strictly between 0 and 1, got {v!r}")
    dr = torch.tensor([float(d_real)], dtype=torch.float64)
    df = torch.tensor([float(d_fake)], dtype=torch.float64, requires_grad=True)
    rows = []
    for name, fn in (
        ("correct: −[log D(x) + log(1 − D(G(z)))]", lambda a, b: -(torch.log(a) + torch.log1p(-b)).mean()),
        ("article: −log(D(x) + D(G(z)))", article_discriminator_loss),
    ):
        loss = fn(dr, df)
        (grad,) = torch.autograd.grad(loss, df)
        rows.append(
            {
                "loss": name,
                "value": round(loss.item(), 4),
                "∂L_D/∂D(G(z))": round(grad.item(), 4),
                "gradient descent pushes D(G(z))": "down (fakes → fake)" if grad.item() > 0 else "UP (fakes → real)",
            }
        )
    return pd.DataFrame(rows)


def discriminator_loss_panel() -> Panel:
    """Two sliders D(x) and D(G(z)) → the correct and the article's L_D, with the direction each one pushes.

    Defined in: notebooks/07_gan.ipynb
    """
    controls = {
        "d_real": w.FloatSlider(value=0.9, min=0.01, max=0.99, step=0.01, description="D(x)"),
        "d_fake": w.FloatSlider(value=0.1, min=0.01, max=0.99, step=0.01, description="D(G(z))"),
    }
    return Panel(controls, discriminator_loss_table, title="The article's L_D against the correct one")


def gumbel_softmax_study(
    logits: torch.Tensor, reward: torch.Tensor, taus, n: int = 4000, seed: int = 0
) -> pd.DataFrame:
    """Bias and variance of the Gumbel-softmax gradient of E_{token ~ softmax(logits)}[reward[token]].

    For each temperature: the mean largest entry of a relaxed sample (1 = one-hot, what real text
    looks like), the bias ‖E[ĝ] − ∇‖ of the relaxed gradient against the exact one
    ∇ = p ⊙ (reward − p·reward), and its total variance (sum over logits, per single sample).
    The per-sample gradient is computed in closed form, ``y ⊙ (reward − y·reward) / tau`` (the same
    as autograd through :func:`gumbel_softmax_sample`; the tests check this).

    Defined in: notebooks/07_gan.ipynb
    """
    check_tensor(logits, "logits", dim=1, dtype="float", finite=True)
    check_tensor(reward, "reward", shape=tuple(logits.shape), finite=True)
    if isinstance(taus, (str, torch.Tensor)) or not isinstance(taus, (list, tuple, range)):
        raise ArgumentTypeError(f"taus must be a list of temperatures, got {type(taus).__name__}")
    taus = [check_float(tau, "taus", min=0.0, min_open=True) for tau in taus]
    n = check_int(n, "n", min=2, max=MAX_SAMPLES)
    logits = logits.detach().double()
    reward = reward.double()
    p = F.softmax(logits, -1)
    exact = p * (reward - (p * reward).sum())  # (V,)
    rows = []
    for tau in taus:
        g = torch.Generator().manual_seed(check_seed(seed))
        y = gumbel_softmax_sample(logits, tau, generator=g, n=n)  # (n, V)
        # gradient of y·reward with respect to the logits, one row per sample (what autograd gives):
        # ∂(y·r)/∂logits = y ⊙ (r − y·r) / tau
        grads = y * (reward - (y * reward).sum(-1, keepdim=True)) / tau  # (n, V)
        rows.append(
            {
                "tau": tau,
                "one_hotness": round(float(y.max(-1).values.mean()), 4),
                "bias": round(float((grads.mean(0) - exact).norm()), 4),
                "variance": round(float(grads.var(0).sum()), 4),
            }
        )
    return pd.DataFrame(rows)


def _effective_modes_reference(per_mode) -> float:
    p = torch.as_tensor(per_mode, dtype=torch.float64)
    p = p / p.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


@exercise(
    "07.1",
    "a function effective_modes(per_mode) returning exp(entropy) of the shares normalised to sum to 1",
    wrong=lambda: lambda per_mode: sum(1 for v in per_mode if v > 0),
)
def _check_effective_modes(answer):
    cases = [
        ([0.125] * 8, "an even spread over the 8 modes should score 8"),
        ([0.9, 0, 0, 0, 0, 0, 0, 0], "a sampler that covers one mode should score 1"),
        ([0.3, 0.3, 0, 0, 0, 0, 0, 0], "shares that do not add up to 1 ([0.3, 0.3, 0, …]) must be normalised first: 2"),
        ([0.9, 0.1, 0, 0, 0, 0, 0, 0], "[0.9, 0.1, 0, …] covers two modes, but unevenly: about 1.38, not 2"),
        ([0.2, 0.1, 0.05, 0.05, 0, 0.3, 0.2, 0.1], "a mixed case"),
    ]
    for shares, what in cases:
        got = answer(list(shares))
        if not isinstance(got, (int, float)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
            raise Hint(f"effective_modes should return one number, got {type(got).__name__}")
        if abs(float(got) - _effective_modes_reference(shares)) > 1e-6:
            raise Hint(
                f"Not yet: {what} (your function gave {float(got):.3f}). Normalise the shares so they add up "
                "to 1, leave out the zero shares, and use the entropy, not a count."
            )
