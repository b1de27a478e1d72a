"""A small GAN on 2-D data (a ring of 8 Gaussians), mode-coverage metrics and the widgets of notebook 07.

Defined in: notebooks/07_gan.ipynb

References:
* I. Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (the minimax game, the
  non-saturating generator loss, the optimal discriminator D* = p_data / (p_data + p_g)).
* L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein, "Unrolled Generative Adversarial Networks",
  ICLR 2017 (the ring of 8 Gaussians as a test of mode collapse).
* A. Srivastava, L. Valkov, C. Russell, M. Gutmann, C. Sutton, "VEEGAN", NeurIPS 2017
  (mode coverage: a sample is "high quality" within 3 standard deviations of a mode).
* E. Jang, S. Gu, B. Poole, "Categorical Reparameterization with Gumbel-Softmax", ICLR 2017, and
  C. Maddison, A. Mnih, Y. W. Teh, "The Concrete Distribution", ICLR 2017.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..losses import article_discriminator_loss, article_generator_loss, discriminator_loss, generator_loss
from ..train import train
from ..widgets import InputError, Panel

# ----------------------------------------------------------------------------------------------
# Data and metrics
# ----------------------------------------------------------------------------------------------


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``n_modes`` centres (n_modes, 2) evenly spaced on a circle of the given radius.

    Defined in: notebooks/07_gan.ipynb
    """
    if n_modes < 1:
        raise ValueError(f"n_modes must be >= 1, got {n_modes}")
    a = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return radius * torch.stack([torch.cos(a), torch.sin(a)], dim=1)  # (K, 2)


def ring_of_gaussians(
    n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, generator: torch.Generator | None = None
):
    """``n`` samples (n, 2) from a mixture of ``n_modes`` equal Gaussians on a ring, and their mode ids (n,).

    Defined in: notebooks/07_gan.ipynb
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of samples, got {n}")
    mode = torch.randint(n_modes, (n,), generator=generator)  # (n,)
    x = ring_centers(n_modes, radius)[mode] + std * torch.randn(n, 2, generator=generator)  # (n, 2)
    return x, mode


def mode_coverage(
    samples: torch.Tensor, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, min_share: float = 0.02
) -> dict:
    """How well ``samples`` (N, 2) cover the ring: the VEEGAN-style metrics.

    * a sample is *high quality* when it lies within 3·std of its nearest mode centre;
    * a mode is *captured* when at least ``min_share`` of all samples are high-quality samples
      of that mode (a perfect sampler gives each mode 1/n_modes ≈ 12.5% for 8 modes).

    Returns ``{"modes_captured": int, "high_quality": float, "per_mode": list of shares}``.

    Defined in: notebooks/07_gan.ipynb
    """
    s = torch.as_tensor(samples, dtype=torch.float32)
    if s.dim() != 2 or s.shape[1] != 2:
        raise ValueError(f"expected samples of shape (N, 2), got {tuple(s.shape)}")
    d = torch.cdist(s, ring_centers(n_modes, radius))  # (N, K)
    dist, nearest = d.min(dim=1)
    hq = dist < 3 * std  # (N,)
    per_mode = torch.bincount(nearest[hq], minlength=n_modes).float() / len(s)  # (K,)
    return {
        "modes_captured": int((per_mode >= min_share).sum()),
        "high_quality": float(hq.float().mean()),
        "per_mode": [round(float(v), 4) for v in per_mode],
    }


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------


@dataclass
class GANConfig:
    """Sizes of the generator and discriminator MLPs.

    Defined in: notebooks/07_gan.ipynb
    """

    data_dim: int = 2
    z_dim: int = 4
    hidden: int = 128
    n_layers: int = 3


def _mlp(n_in: int, hidden: int, n_out: int, n_layers: int, act) -> nn.Sequential:
    layers, d = [], n_in
    for _ in range(n_layers - 1):
        layers += [nn.Linear(d, hidden), act()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, n_out))


class Generator(nn.Module):
    """G: noise z (B, z_dim) → sample (B, data_dim).

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig):
        super().__init__()
        self.net = _mlp(config.z_dim, config.hidden, config.data_dim, config.n_layers, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, data_dim)


class Discriminator(nn.Module):
    """D: sample (B, data_dim) → logit (B,); D(x) = sigmoid(logit) is the probability "x is real".

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig):
        super().__init__()
        self.net = _mlp(config.data_dim, config.hidden, 1, config.n_layers, nn.LeakyReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (B,)


class GAN(nn.Module):
    """The pair (G, D) in one module, so that :func:`course_lib.train.train` can hold it.

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig = GANConfig()):
        super().__init__()
        self.config = config
        self.G = Generator(config)
        self.D = Discriminator(config)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.G(torch.randn(n, self.config.z_dim, generator=generator))  # (n, data_dim)


# ----------------------------------------------------------------------------------------------
# Losses for the training loop
# ----------------------------------------------------------------------------------------------

LOSS_KINDS = ("non_saturating", "minimax", "article", "article_d")


def gan_losses(kind: str = "non_saturating"):
    """``(d_loss, g_loss)`` for ``train(gan, get_batch, [d_loss, g_loss], [d_opt, g_opt], ...)``.

    A batch is ``(real (B, 2), z (B, z_dim))``. ``kind``:

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
    config: GANConfig = GANConfig(),
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
    model = GAN(config)
    d_loss, g_loss = gan_losses(kind)
    d_opt = torch.optim.Adam(model.D.parameters(), lr=lr, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(model.G.parameters(), lr=lr, betas=(0.5, 0.999))
    z_eval = torch.randn(n_eval, config.z_dim, generator=torch.Generator().manual_seed(1000 + seed))
    snapshots: dict[int, np.ndarray] = {}

    def get_batch(step):
        real, _ = ring_of_gaussians(batch_size, std=std, generator=g)
        return real, torch.randn(batch_size, config.z_dim, generator=g)

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


# ----------------------------------------------------------------------------------------------
# Plots and widgets
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Text is discrete: the Gumbel-softmax relaxation
# ----------------------------------------------------------------------------------------------


def gumbel_softmax_sample(
    logits: torch.Tensor, tau: float, generator: torch.Generator | None = None, n: int = 1
) -> torch.Tensor:
    """``n`` relaxed one-hot samples (n, V) = softmax((logits + Gumbel noise) / tau), differentiable in logits.

    As tau → 0 they become one-hot samples of ``softmax(logits)`` (Jang et al. 2017; Maddison et al. 2017).

    Defined in: notebooks/07_gan.ipynb
    """
    if tau <= 0:
        raise ValueError(f"the temperature tau must be > 0, got {tau}")
    u = torch.rand(n, logits.shape[-1], generator=generator, dtype=logits.dtype).clamp_(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(u))  # (n, V)
    return F.softmax((logits + gumbel) / tau, dim=-1)


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
