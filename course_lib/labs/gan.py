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

from ..generate import gumbel_softmax_sample
from ..losses import article_discriminator_loss, article_generator_loss, discriminator_loss, generator_loss
from ..models.gan import GAN, GANConfig
from ..toy_data import mode_coverage, ring_of_gaussians
from ..train import train
from ..widgets import InputError, Panel

LOSS_KINDS = ("non_saturating", "minimax", "article", "article_d")


def gan_losses(kind: str = "non_saturating"):
    """``(d_loss, g_loss)`` for ``train(gan, get_batch, [d_loss, g_loss], [d_opt, g_opt], ...)``.

    A batch is ``(real (B, 2), z (B, latent_dim))``. ``kind``:

    * ``"non_saturating"``: :func:`~course_lib.losses.discriminator_loss` and the non-saturating
      :func:`~course_lib.losses.generator_loss` (the correct, practical GAN);
    * ``"minimax"``: the same discriminator, generator minimises log(1 − D(G(z)));
    * ``"article"``: the article's L_D = −log(D(x) + D(G(z))) and L_G = −log D(x), verbatim;
    * ``"article_d"``: the article's L_D with the correct non-saturating L_G (isolates the L_D flaw).

    Defined in: notebooks/07_gan.ipynb
    """
    if kind not in LOSS_KINDS:
        raise ValueError(f"kind must be one of {LOSS_KINDS}, got {kind!r}")

    def d_loss(model: GAN, batch):
        real, z = batch
        fake = model.G(z).detach()  # the D step does not train G
        real_logits, fake_logits = model.D(real), model.D(fake)  # (B,), (B,)
        if kind.startswith("article"):
            loss = article_discriminator_loss(torch.sigmoid(real_logits), torch.sigmoid(fake_logits))
        else:
            loss = discriminator_loss(real_logits, fake_logits)
        return {"loss": loss, "D_real": torch.sigmoid(real_logits).mean(), "D_fake": torch.sigmoid(fake_logits).mean()}

    def g_loss(model: GAN, batch):
        real, z = batch
        if kind == "article":  # −log D(x): only real data, G does not appear
            return article_generator_loss(torch.sigmoid(model.D(real)))
        return generator_loss(model.D(model.G(z)), "minimax" if kind == "minimax" else "non_saturating")

    return d_loss, g_loss


def train_gan(
    kind: str = "non_saturating",
    steps: int = 1500,
    seed: int = 0,
    batch_size: int = 256,
    lr: float = 1e-3,
    snapshot_every: int = 250,
    n_eval: int = 2000,
    std: float = 0.05,
    config: GANConfig | None = None,
    progress: bool = True,
):
    """Train a :class:`GAN` on the ring of 8 Gaussians with :func:`course_lib.train.train`.

    Every ``snapshot_every`` steps, ``n_eval`` samples from a fixed noise batch are stored and scored
    with :func:`mode_coverage`. Returns ``(model, history, snapshots)``, ``snapshots`` a dict
    ``{step: samples as a (n_eval, 2) array}``.

    Defined in: notebooks/07_gan.ipynb
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    config = config or GANConfig()
    model = GAN(config)
    d_loss, g_loss = gan_losses(kind)
    d_opt = torch.optim.Adam(model.D.parameters(), lr=lr, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    z_eval = torch.randn(n_eval, config.latent_dim, generator=torch.Generator().manual_seed(1000 + seed))
    snapshots: dict[int, np.ndarray] = {}

    def get_batch(step):
        real, _ = ring_of_gaussians(batch_size, std=std, generator=g)
        return real, torch.randn(batch_size, config.latent_dim, generator=g)

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
        desc=f"GAN ({kind}, seed {seed})",
    )
    # the training loop also evaluates after the last step; key that snapshot by the real step
    if steps % snapshot_every:
        last = max(snapshots)
        snapshots[steps] = snapshots.pop(last)
    model.eval()
    return model, hist, snapshots


def _draw_samples(ax, samples, real, title):
    ax.scatter(real[:, 0], real[:, 1], s=3, c="lightgray")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="C3", alpha=0.6)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def plot_snapshot_grid(runs: dict[str, dict[int, np.ndarray]], steps: list[int] | None = None, std: float = 0.05):
    """A grid of generator samples (red) over real data (grey): one row per run, one column per step.

    Defined in: notebooks/07_gan.ipynb
    """
    if not runs:
        raise ValueError("plot_snapshot_grid needs at least one run: {name: snapshots}")
    steps = steps or sorted(next(iter(runs.values())))
    real = ring_of_gaussians(1000, std=std, generator=torch.Generator().manual_seed(0))[0].numpy()
    fig, axes = plt.subplots(len(runs), len(steps), figsize=(1.9 * len(steps), 2.0 * len(runs)), squeeze=False)
    for i, (name, snaps) in enumerate(runs.items()):
        for j, st in enumerate(steps):
            cov = mode_coverage(torch.as_tensor(snaps[st]), std=std)
            _draw_samples(
                axes[i, j],
                snaps[st],
                real,
                f"{name}\nstep {st}: {cov['modes_captured']}/8, HQ {cov['high_quality']:.0%}",
            )
    fig.tight_layout()
    return fig


def snapshot_panel(runs: dict[str, dict[int, np.ndarray]], std: float = 0.05) -> Panel:
    """A run dropdown and a step slider over stored snapshots (``train_gan``'s third output).

    Defined in: notebooks/07_gan.ipynb
    """
    if not runs:
        raise ValueError("snapshot_panel needs at least one run: {name: snapshots}")
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
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        _draw_samples(
            ax, s, real, f"{run}, step {step}: {cov['modes_captured']}/8 modes, {cov['high_quality']:.0%} high quality"
        )
        return fig

    controls = {
        "run": w.Dropdown(options=names, value=names[0], description="run"),
        "step": w.SelectionSlider(options=all_steps, value=all_steps[-1], description="step", continuous_update=False),
    }
    return Panel(controls, render, title="GAN samples over training")


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
    logits = logits.detach().double()
    reward = reward.double()
    p = F.softmax(logits, -1)
    exact = p * (reward - (p * reward).sum())  # (V,)
    rows = []
    for tau in taus:
        g = torch.Generator().manual_seed(seed)
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
