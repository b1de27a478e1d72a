"""Notebook 06's lab: training and summarising the toy and sentence VAEs, their figures and panels.

Defined in: notebooks/06_vae.ipynb

The models are in :mod:`course_lib.models.vae`; the objectives (ELBO, KL, the reparameterisation
trick, the article's losses) are lessons in :mod:`course_lib.losses`.
"""

from __future__ import annotations

import html
import math

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from ..article import ERRATA
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
from ..data import WordTokenizer, word_split
from ..errors import ArgumentError, ArgumentTypeError
from ..losses import (
    article_case_study_loss,
    article_decoder_loss,
    article_encoder_loss,
    article_vae_loss,
    iwae_bound,
    kl_anneal_weight,
    reconstruction_nll,
    reparameterize,
    vae_loss,
)
from ..models.vae import SentenceVAE, SentenceVAEConfig, ToyAutoencoder, ToyVAE, ToyVAEConfig
from ..nn_utils import eval_mode
from ..results import md
from ..toy_data import SPIRAL_NOISE, distance_to_spiral
from ..train import train
from ..widgets import HTML, InputError, Panel, require_text
from .exercises import Hint, exercise


def toy_vae_loss(model: ToyVAE, batch: dict) -> dict:
    """Loss for :func:`course_lib.train.train`: the negative ELBO of a :class:`ToyVAE` with ``batch["beta"]``.

    ``batch`` is ``{"x": (B, D), "beta": float}``, optionally with ``"encoder_weight"``: a weight λ on the
    article's §4.2.1 term ``‖x − z‖²`` added to the loss (to see what it does; logged as ``"x_minus_z"``).
    The decoder's σ is the model's ``log_sigma`` (learned or fixed); its mean is logged as ``"sigma"``.

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(model, "model", ToyVAE)
    if not isinstance(batch, dict) or "x" not in batch:
        raise ArgumentError(f"batch must be a dict {{'x': (B, D) points, 'beta': float}}, got {batch!r:.60}")
    _check_toy(model, batch["x"], "batch['x']")
    for key in ("beta", "encoder_weight"):
        if key in batch:
            check_float(batch[key], f"batch[{key!r}]", min=0.0)
    mean, mu, logvar, z = model(batch["x"])
    out = vae_loss(mean, batch["x"], mu, logvar, beta=batch.get("beta", 1.0), log_sigma=model.log_sigma)
    out["sigma"] = model.log_sigma.detach().exp().mean()
    lam = batch.get("encoder_weight", 0.0)
    if lam:
        extra = article_encoder_loss(batch["x"], z)
        out["loss"] = out["loss"] + lam * extra
        out["x_minus_z"] = extra
    return out


MAX_STEPS = 100_000  # training steps of one lab run at most (the notebook's longest run takes a few thousand)
MAX_BATCH = 1 << 16  # rows per batch at most


def _check_train_args(x, steps, batch_size, seed, lr, progress, data_dim: int | None = 2) -> None:
    """The arguments every toy training run of this lab shares, checked before a model is built."""
    check_tensor(x, "x", dim=2, dtype="float", finite=True)
    if not len(x) or (data_dim is not None and x.shape[1] != data_dim):
        raise ArgumentError(f"x must be a non-empty (N, {data_dim}) tensor of points, got shape {tuple(x.shape)}")
    check_int(steps, "steps", min=1, max=MAX_STEPS)
    check_int(batch_size, "batch_size", min=1, max=MAX_BATCH)
    check_seed(seed)
    check_float(lr, "lr", min=0.0, max=10.0, min_open=True)
    check_flag(progress, "progress")


def _train_toy(model, x, loss_fn, steps, batch_size, seed, lr, progress, desc, extra=None, optimizers=None):
    """Minibatches of ``x`` (and the ``extra`` batch entries) for ``train``; Adam unless ``optimizers`` is given."""
    generator = torch.Generator().manual_seed(check_seed(seed))
    _check_train_args(x, steps, batch_size, seed, lr, progress, data_dim=None)
    steps = check_int(steps, "steps", min=1)
    batch_size = check_int(batch_size, "batch_size", min=1)
    lr = check_float(lr, "lr", min=0.0, min_open=True)
    for name, value in (extra or {}).items():
        if not isinstance(value, torch.Tensor):
            check_float(value, name)
    opts = optimizers or torch.optim.Adam(model.parameters(), lr=lr)

    def get_batch(step):
        idx = torch.randint(len(x), (batch_size,), generator=generator)
        return {"x": x[idx], **(extra or {})}

    hist = train(model, get_batch, loss_fn, opts, steps, log_every=max(1, steps // 25), progress=progress, desc=desc)
    model.eval()
    return hist


def train_toy_vae(
    x: torch.Tensor,
    beta: float = 1.0,
    steps: int = 1000,
    batch_size: int = 256,
    seed: int = 0,
    encoder_weight: float = 0.0,
    lr: float = 1e-2,
    config: ToyVAEConfig | None = None,
    progress: bool = True,
    desc: str | None = None,
):
    """Train a :class:`ToyVAE` on the rows of ``x`` with :func:`course_lib.train.train`; returns ``(model, history)``.

    Defined in: notebooks/06_vae.ipynb
    """
    beta = check_float(beta, "beta", min=0.0)
    encoder_weight = check_float(encoder_weight, "encoder_weight", min=0.0)
    if config is not None:
        check_instance(config, "config", ToyVAEConfig)
    _check_train_args(x, steps, batch_size, seed, lr, progress, (config or ToyVAEConfig()).data_dim)
    if desc is not None:
        check_text(desc, "desc")
    torch.manual_seed(check_seed(seed))
    model = ToyVAE(config)
    sig = "σ learned" if model.config.obs_sigma is None else f"σ = {model.config.obs_sigma:g}"
    desc = desc or (f"toy VAE β={beta:g}, {sig}" + (f" +{encoder_weight:g}·‖x−z‖²" if encoder_weight else ""))
    extra = {"beta": beta, "encoder_weight": encoder_weight}
    hist = _train_toy(model, x, toy_vae_loss, steps, batch_size, seed, lr, progress, desc, extra)
    return model, hist


def _check_toy(model, x, name: str = "x", types=ToyVAE) -> None:
    check_instance(model, "model", types)
    check_tensor(x, name, dim=2, dtype="float", finite=True)
    if not len(x) or x.shape[1] != model.config.data_dim:
        raise ArgumentError(
            f"{name} must be a non-empty (N, {model.config.data_dim}) tensor of points, got shape {tuple(x.shape)}"
        )


def toy_log_likelihood(model: ToyVAE, x: torch.Tensor, k: int = 256, seed: int = 0) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) (nats) for each row of ``x`` (N, D), with ``k`` samples.

    Uses :func:`course_lib.losses.iwae_bound` with the model's encoder as the proposal q(z|x).

    Defined in: notebooks/06_vae.ipynb
    """
    _check_toy(model, x)
    k = check_int(k, "k", min=1, max=100_000)
    generator = torch.Generator().manual_seed(check_seed(seed))
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, d)
        z = mu + (0.5 * logvar).exp() * torch.randn((k, *mu.shape), generator=generator)  # (K, N, d): z_k ~ q(z|x)
        mean = model.decode(z.reshape(-1, z.shape[-1])).reshape(k, len(x), -1)  # (K, N, D)
        log_px_z = -reconstruction_nll(mean.reshape(k * len(x), -1), x.repeat(k, 1), "gaussian", model.log_sigma)
        return iwae_bound(log_px_z.view(k, len(x)), z, mu, logvar)  # (N,)


@torch.no_grad()
def sample_quality(samples: torch.Tensor, x_val: torch.Tensor, tol: float = 2 * SPIRAL_NOISE) -> dict:
    """Two numbers for points generated from the prior, judged against the known spiral.

    * ``on_spiral``: share of ``samples`` (N, 2) within ``tol`` of the noiseless spiral (are they data-like?);
    * ``covers_data``: share of held-out points ``x_val`` (M, 2) with a sample within ``tol`` (is all of the
      spiral generated?).

    A structureless disc of samples covers the data but is rarely on the spiral; a collapsed model does
    neither. The defaults judge decoded means (noise-free), so a perfect model scores 1 and 1.

    Defined in: notebooks/06_vae.ipynb
    """
    for name, value in (("samples", samples), ("x_val", x_val)):
        check_tensor(value, name, dim=2, dtype="float", finite=True)
        if not len(value) or value.shape[1] != 2:
            raise ArgumentError(f"{name} must be a non-empty (N, 2) tensor of points, got shape {tuple(value.shape)}")
    tol = check_float(tol, "tol", min=0.0, min_open=True)
    samples = torch.as_tensor(samples, dtype=torch.float32)
    on = (distance_to_spiral(samples) < tol).float().mean().item()
    covers = torch.cdist(torch.as_tensor(x_val, dtype=torch.float32), samples).min(dim=1).values < tol
    return {"on_spiral": on, "covers_data": covers.float().mean().item()}


@torch.no_grad()
def summarize_toy_vae(
    model: ToyVAE, x: torch.Tensor, t: torch.Tensor, n_prior: int = 1000, seed: int = 0, k: int = 256
) -> dict:
    """What the figures and tables show for one trained :class:`ToyVAE`, as plain arrays and floats.

    Arrays: ``x``, ``t``, ``recon`` (decoder mean at z = mu), ``mu``, ``prior`` (decoder means at z ~ N(0, I)).
    Numbers (nats per point, held-out ``x``): ``recon_nll``, ``kl``, ``neg_elbo`` (β = 1),
    ``log_px`` (importance-weighted, ``k`` samples), ``sigma`` (the decoder's σ), ``recon_sq`` (mean
    ‖x − decode(mu)‖²), and :func:`sample_quality`'s ``on_spiral`` and ``covers_data`` for the prior samples.

    Defined in: notebooks/06_vae.ipynb
    """
    _check_toy(model, x)
    check_tensor(t, "t", shape=(len(x),), dtype="float", finite=True)
    n_prior = check_int(n_prior, "n_prior", min=1, max=1_000_000)
    k = check_int(k, "k", min=1, max=100_000)
    generator = torch.Generator().manual_seed(check_seed(seed))
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator)
    parts = vae_loss(model.decode(z), x, mu, logvar, beta=1.0, log_sigma=model.log_sigma)
    prior = model.sample(n_prior, generator=generator, noise=False)
    recon = model.decode(mu)
    return {
        "x": x.numpy(),
        "t": t.numpy(),
        "recon": recon.numpy(),
        "mu": mu.numpy(),
        "prior": prior.numpy(),
        "recon_nll": parts["recon"].item(),
        "kl": parts["kl"].item(),
        "neg_elbo": parts["loss"].item(),
        "log_px": toy_log_likelihood(model, x, k=k, seed=seed).mean().item(),
        "sigma": model.log_sigma.exp().mean().item(),
        "recon_sq": (recon - x).pow(2).sum(-1).mean().item(),
        **sample_quality(prior, x),
    }


SUMMARY_KEYS = ("x", "t", "recon", "mu", "prior", "recon_nll", "kl", "neg_elbo", "log_px", "sigma",
                "on_spiral", "covers_data")  # fmt: skip


def _check_summary(summary, name: str) -> dict:
    """``summary`` must be :func:`summarize_toy_vae`'s dict."""
    if not isinstance(summary, dict) or any(k not in summary for k in SUMMARY_KEYS):
        raise ArgumentError(f"{name} must be a dict from summarize_toy_vae(model, x, t), got {summary!r:.60}")
    return summary


def plot_toy_vae(summary: dict, title: str = "", axes=None):
    """Three panels: data and reconstructions, the latent means coloured by position on the spiral, prior samples.

    Draws into ``axes`` (three matplotlib axes) when given, e.g. one row of a bigger figure.

    Defined in: notebooks/06_vae.ipynb
    """
    s = _check_summary(summary, "summary")
    check_text(title, "title")
    if axes is not None and (not isinstance(axes, (list, tuple, np.ndarray)) or len(axes) != 3):
        raise ArgumentTypeError(f"axes must be three matplotlib Axes, got {type(axes).__name__}")
    own = axes is None
    if own:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    else:
        fig = axes[0].figure
    axes[0].scatter(s["x"][:, 0], s["x"][:, 1], s=4, c="lightgray", label="data")
    axes[0].scatter(s["recon"][:, 0], s["recon"][:, 1], s=4, c=s["t"], cmap="viridis", label="reconstruction")
    axes[0].set_title("data (grey), reconstructions decode(μ(x))", fontsize=10)
    axes[1].scatter(s["mu"][:, 0], s["mu"][:, 1], s=4, c=s["t"], cmap="viridis")
    axes[1].add_patch(plt.Circle((0, 0), 2, fill=False, ls="--", color="gray"))
    axes[1].set_title("codes μ(x) (colour = position t); circle: |z| = 2", fontsize=10)
    axes[2].scatter(s["x"][:, 0], s["x"][:, 1], s=4, c="lightgray")
    axes[2].scatter(s["prior"][:, 0], s["prior"][:, 1], s=4, c="C3")
    axes[2].set_title(
        f"decoded prior samples: {s['on_spiral']:.0%} on the spiral, cover {s['covers_data']:.0%} of it", fontsize=10
    )
    for ax in (axes[0], axes[2]):
        ax.set_xlim(-5, 5)
        ax.set_ylim(-5, 5)
    for ax in axes:
        ax.set_aspect("equal", adjustable="datalim" if ax is axes[1] else "box")
    if title or own:
        fig.suptitle(
            title
            or (
                f"log p(x) ≈ {s['log_px']:.2f} nats, −ELBO = {s['neg_elbo']:.2f} (recon {s['recon_nll']:.2f} "
                f"+ KL {s['kl']:.2f}), σ = {s['sigma']:.2f}"
            )
        )
    fig.tight_layout()
    return fig


ARTICLE_READINGS = ("as printed", "sign fixed", "sign fixed, z from the prior")


def train_article_objective(
    x: torch.Tensor,
    reading: str = "as printed",
    lam: float = 1.0,
    steps: int = 300,
    batch_size: int = 256,
    seed: int = 0,
    lr: float = 3e-3,
    sigma: float = SPIRAL_NOISE,
    progress: bool = True,
):
    """Train the article's §4.1.3.1 objective ``1/N Σ [log p(x|z) + λ log p(z)]`` on 2-D points; ``(model, history)``.

    The decoder is Gaussian with the data's noise ``sigma``. The article does not say where z comes from;
    the readings tried here:

    * ``"as printed"``: z = Encoder(x) (§4.2.1's deterministic encoder), the objective minimised as written;
    * ``"sign fixed"``: the same, with the sign flipped (minimise −log p(x|z) − λ log p(z)): an autoencoder
      with a penalty ``λ‖z‖²/2`` on its codes;
    * ``"sign fixed, z from the prior"``: no encoder; z ~ N(0, I) is decoded and scored against each x.

    The model is a :class:`~course_lib.models.vae.ToyAutoencoder`. History columns: ``loss``, ``sq_error``
    (mean ‖x − x′‖²) and ``code_rms`` (root mean square of the codes).

    Defined in: notebooks/06_vae.ipynb
    """
    check_choice(reading, "reading", ARTICLE_READINGS)
    lam = check_float(lam, "lam", min=0.0)
    sigma = check_float(sigma, "sigma", min=0.0, min_open=True)
    _check_train_args(x, steps, batch_size, seed, lr, progress)
    torch.manual_seed(check_seed(seed))
    model = ToyAutoencoder()
    log_sigma = math.log(sigma)
    sign = 1.0 if reading == "as printed" else -1.0

    def loss_fn(m, batch):
        x_b = batch["x"]
        if reading == "sign fixed, z from the prior":
            z = torch.randn(len(x_b), m.config.latent_dim)  # (B, d): no encoder
            x_prime = m.decoder(z)
        else:
            x_prime, z = m(x_b)
        loss = sign * article_vae_loss(x_prime, x_b, z, lam, log_sigma=log_sigma)
        return {"loss": loss, "sq_error": (x_b - x_prime).pow(2).sum(-1).mean(), "code_rms": z.pow(2).mean().sqrt()}

    hist = _train_toy(model, x, loss_fn, steps, batch_size, seed, lr, progress, f"§4.1.3.1 {reading}")
    return model, hist


def train_article_autoencoder(
    x: torch.Tensor,
    lam: float = 1.0,
    steps: int = 1000,
    batch_size: int = 256,
    seed: int = 0,
    lr: float = 3e-3,
    progress: bool = True,
):
    """Train §4.2.1 as printed: the encoder on ``L_enc = ‖x − z‖² + λ‖z‖²``, the decoder on ``L_dec = ‖x − x′‖²``.

    Two losses, two optimizers (the encoder's loss moves only the encoder, the decoder's only the decoder),
    applied in turn to each batch by :func:`course_lib.train.train`. Returns ``(model, history)`` with a
    :class:`~course_lib.models.vae.ToyAutoencoder`. The encoder's best answer is known in closed form:
    z = x / (1 + λ).

    Defined in: notebooks/06_vae.ipynb
    """
    lam = check_float(lam, "lam", min=0.0)
    _check_train_args(x, steps, batch_size, seed, lr, progress)
    torch.manual_seed(check_seed(seed))
    model = ToyAutoencoder()

    def encoder_loss(m, batch):
        return article_encoder_loss(batch["x"], m.encoder(batch["x"]), lam)

    def decoder_loss(m, batch):
        z = m.encoder(batch["x"]).detach()  # L_dec trains the decoder only
        return article_decoder_loss(batch["x"], m.decoder(z))

    opts = [torch.optim.Adam(model.encoder.parameters(), lr=lr), torch.optim.Adam(model.decoder.parameters(), lr=lr)]
    hist = _train_toy(
        model, x, [encoder_loss, decoder_loss], steps, batch_size, seed, lr, progress, "§4.2.1 L_enc, L_dec", None, opts
    )
    return model, hist


def train_case_study(
    word_vectors: torch.Tensor,
    lam: float = 1.0,
    steps: int = 500,
    seed: int = 0,
    lr: float = 1e-2,
    progress: bool = True,
):
    """Train §4.3's loss (:func:`~course_lib.losses.article_case_study_loss`) on one text's word vectors (T, D).

    The encoder and decoder are linear maps D → D (the loss needs Enc(e) to have a word vector's size).
    Returns ``(encoder, decoder, history)``. The loss's minimum is known in closed form,
    λ/(1 + λ) · mean_t ‖e_t‖², reached when the encoder shrinks each vector by 1/(1 + λ) and the decoder undoes
    it; from a random start gradient descent approaches it slowly (the encoder can squeeze a direction that the
    decoder then blows up again).

    Defined in: notebooks/06_vae.ipynb
    """
    lam = check_float(lam, "lam", min=0.0)
    check_tensor(word_vectors, "word_vectors", dim=2, dtype="float", finite=True)
    if not word_vectors.numel() or word_vectors.shape[1] > 4096:
        raise ArgumentError(
            f"word_vectors must be a non-empty (T, D) tensor with D ≤ 4096, got {tuple(word_vectors.shape)}"
        )
    check_int(steps, "steps", min=1, max=MAX_STEPS)
    check_float(lr, "lr", min=0.0, max=10.0, min_open=True)
    check_flag(progress, "progress")
    torch.manual_seed(check_seed(seed))
    D = word_vectors.shape[1]
    pair = nn.ModuleDict({"encoder": nn.Linear(D, D), "decoder": nn.Linear(D, D)})

    def loss_fn(m, batch):
        return article_case_study_loss(batch, m["encoder"], m["decoder"], lam)

    hist = train(
        pair,
        lambda step: word_vectors,
        loss_fn,
        torch.optim.Adam(pair.parameters(), lr=lr),
        steps,
        log_every=max(1, steps // 25),
        progress=progress,
        desc="§4.3 loss",
    )
    pair.eval()
    return pair["encoder"], pair["decoder"], hist


@torch.no_grad()
def summarize_article_model(model: ToyAutoencoder, x_val: torch.Tensor, reading: str, seed: int = 0) -> dict:
    """Held-out numbers for a model trained by :func:`train_article_objective` or :func:`train_article_autoencoder`.

    ``sq_error`` (mean ‖x − x′‖² on ``x_val``; for the no-encoder reading, against decoded prior samples),
    ``code_rms`` (root mean square of the codes), and :func:`sample_quality` of decoded prior samples.

    Defined in: notebooks/06_vae.ipynb
    """
    check_choice(reading, "reading", (*ARTICLE_READINGS, "§4.2.1"))
    _check_toy(model, x_val, "x_val", ToyAutoencoder)
    generator = torch.Generator().manual_seed(check_seed(seed))
    z_prior = torch.randn(len(x_val), model.config.latent_dim, generator=generator)  # (N, d)
    prior = model.decoder(z_prior)
    if reading == "sign fixed, z from the prior":
        x_prime, z = prior, z_prior
    else:
        x_prime, z = model(x_val)
    return {
        "sq_error": (x_val - x_prime).pow(2).sum(-1).mean().item(),
        "code_rms": z.pow(2).mean().sqrt().item(),
        **sample_quality(prior, x_val),
    }


def plot_prior_grid(summaries: dict, title: str = ""):
    """One column per model (``{name: summarize_toy_vae(...)}``): codes μ(x) on top, decoded prior samples below.

    Defined in: notebooks/06_vae.ipynb
    """
    if not isinstance(summaries, dict):
        raise ArgumentTypeError(f"summaries must be a dict {{name: summary}}, got {type(summaries).__name__}")
    if not summaries:
        raise ArgumentError("plot_prior_grid needs at least one summary: {name: summarize_toy_vae(...)}")
    for name, s in summaries.items():
        _check_summary(s, f"summaries[{name!r}]")
    check_text(title, "title")
    fig, axes = plt.subplots(2, len(summaries), figsize=(3.3 * len(summaries), 6.6), squeeze=False)
    for j, (name, s) in enumerate(summaries.items()):
        top, bottom = axes[0, j], axes[1, j]
        top.scatter(s["mu"][:, 0], s["mu"][:, 1], s=3, c=s["t"], cmap="viridis")
        top.add_patch(plt.Circle((0, 0), 2, fill=False, ls="--", color="gray"))
        top.set_title(f"{name}\ncodes μ(x), KL {s['kl']:.2f} nats", fontsize=9)
        top.set_aspect("equal", adjustable="datalim")
        bottom.scatter(s["x"][:, 0], s["x"][:, 1], s=3, c="lightgray")
        bottom.scatter(s["prior"][:, 0], s["prior"][:, 1], s=3, c="C3")
        bottom.set_title(f"prior samples: {s['on_spiral']:.0%} on the spiral\nlog p(x) ≈ {s['log_px']:.2f}", fontsize=9)
        bottom.set_xlim(-5, 5)
        bottom.set_ylim(-5, 5)
        bottom.set_aspect("equal", adjustable="box")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def errata_markdown(notebook: str):
    """The article's errata that ``notebook`` demonstrates, as a Markdown table (from ``article.ERRATA``).

    Defined in: notebooks/06_vae.ipynb
    """
    check_text(notebook, "notebook")
    rows = [e for e in ERRATA if e.notebook == notebook]
    if not rows:
        raise ArgumentError(f"no erratum points at {notebook!r}")

    def cell(text: str) -> str:
        return text.replace("|", "&#124;").replace("\n", " ")

    lines = [
        "| § | the article says | what is wrong | what is right | shown under |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {e.section} | {cell(e.quote)} | {cell(e.problem)} | {cell(e.correction)} | {cell(e.heading)} |"
        for e in rows
    ]
    return md("\n".join(lines))


def beta_panel(summaries: dict[float, dict]) -> Panel:
    """A β slider over trained toy VAEs (``{beta: summarize_toy_vae(...)}``): switching is instant.

    Defined in: notebooks/06_vae.ipynb
    """
    if not isinstance(summaries, dict):
        raise ArgumentTypeError(f"summaries must be a dict {{beta: summary}}, got {type(summaries).__name__}")
    if not summaries:
        raise ArgumentError("beta_panel needs at least one trained model: {beta: summarize_toy_vae(model, x, t)}")
    for beta, s in summaries.items():
        check_float(beta, "a β of summaries", min=0.0)
        _check_summary(s, f"summaries[{beta!r}]")
    betas = sorted(summaries)

    def render(beta):
        if beta not in summaries:
            raise InputError(f"β = {beta} was not trained; choose one of {betas}")
        s = summaries[beta]
        return plot_toy_vae(
            s,
            title=f"β = {beta:g}: log p(x) ≈ {s['log_px']:.2f} nats, KL {s['kl']:.2f} nats, σ = {s['sigma']:.2f}, "
            f"prior samples on the spiral {s['on_spiral']:.0%}",
        )

    slider = w.SelectionSlider(options=betas, value=betas[len(betas) // 2], description="β", continuous_update=False)
    return Panel({"beta": slider}, render, title="β-VAE: reconstruction against KL")


def encode_sentences(tok: WordTokenizer, sentences: list[str], max_tokens: int) -> dict:
    """Tensors for the sentence VAE: ``enc`` (N, T), ``dec`` (N, T), ``tgt`` (N, T) with T = max_tokens + 1.

    ``enc`` = words + ``<eos>`` (padded with ``<pad>``), ``dec`` = ``<bos>`` + words, ``tgt`` =
    words + ``<eos>`` with padding marked ``-100`` (ignored by the loss).

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(tok, "tok", WordTokenizer)
    max_tokens = check_int(max_tokens, "max_tokens", min=1, max=10_000)
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise ArgumentTypeError(f"sentences must be a list of sentences, got {type(sentences).__name__}")
    for s in sentences:
        check_text(s, "sentences")
    T = max_tokens + 1
    enc = torch.full((len(sentences), T), tok.pad_id, dtype=torch.long)
    dec = torch.full((len(sentences), T), tok.pad_id, dtype=torch.long)
    tgt = torch.full((len(sentences), T), -100, dtype=torch.long)
    for i, s in enumerate(sentences):
        ids = tok.encode(s)
        if len(ids) > max_tokens:
            raise ArgumentError(f"sentence {i} has {len(ids)} tokens, more than max_tokens={max_tokens}: {s!r}")
        n = len(ids) + 1
        enc[i, :n] = torch.tensor(ids + [tok.eos_id])
        dec[i, :n] = torch.tensor([tok.bos_id] + ids)
        tgt[i, :n] = enc[i, :n]
    return {"enc": enc, "dec": dec, "tgt": tgt}


def _check_sentence_data(data, name: str, model) -> dict:
    """``data`` must be :func:`encode_sentences`'s dict of (N, T) id tensors, over ``model``'s vocabulary."""
    if not isinstance(data, dict) or any(k not in data for k in ("enc", "dec", "tgt")):
        raise ArgumentError(
            f"{name} must be a dict from encode_sentences with 'enc', 'dec' and 'tgt', got {data!r:.60}"
        )
    shape = getattr(data["enc"], "shape", None)
    for key in ("enc", "dec", "tgt"):
        check_tensor(data[key], f"{name}[{key!r}]", dim=2, dtype="integer", shape=shape)
    vocab = model.config.vocab_size
    enc, dec, tgt = data["enc"], data["dec"], data["tgt"]
    if not enc.numel() or int(min(enc.min(), dec.min())) < 0 or int(max(enc.max(), dec.max())) >= vocab:
        raise ArgumentError(f"{name} must hold at least one sentence of token ids in 0..{vocab - 1}")
    if int(tgt.max()) >= vocab or int(tgt.min()) < -100:
        raise ArgumentError(f"{name} must hold token ids in 0..{vocab - 1} (targets may be -100: padding)")
    if "beta" in data:
        check_float(data["beta"], f"{name}['beta']", min=0.0)
    return data


def sentence_vae_loss(model: SentenceVAE, batch: dict) -> dict:
    """Loss for :func:`course_lib.train.train`: negative ELBO of a batch ``{"enc", "dec", "tgt", "beta"}``.

    Also logs ``beta``. Reconstruction and KL are in nats per sentence.

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(model, "model", SentenceVAE)
    _check_sentence_data(batch, "batch", model)
    logits, mu, logvar = model(batch["enc"], batch["dec"])
    out = vae_loss(logits, batch["tgt"], mu, logvar, beta=batch.get("beta", 1.0), kind="categorical")
    out["beta"] = torch.tensor(float(batch.get("beta", 1.0)))
    return out


@torch.no_grad()
def sentence_vae_metrics(model: SentenceVAE, data: dict, generator_seed: int = 0) -> dict:
    """Validation numbers: ``val_recon``, ``val_kl`` (nats/sentence), ``val_neg_elbo`` and ``active_units``.

    A latent dimension is *active* when the variance, over sentences, of its posterior mean exceeds
    0.01 (Burda et al. 2016); a collapsed posterior has none.

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(model, "model", SentenceVAE)
    _check_sentence_data(data, "data", model)
    g = torch.Generator().manual_seed(check_seed(generator_seed, "generator_seed"))
    with eval_mode(model):
        logits, mu, logvar = model(data["enc"], data["dec"], generator=g)
        parts = vae_loss(logits, data["tgt"], mu, logvar, beta=1.0, kind="categorical")
    active = int((mu.var(dim=0) > 0.01).sum())
    return {
        "val_recon": parts["recon"].item(),
        "val_kl": parts["kl"].item(),
        "val_neg_elbo": parts["loss"].item(),
        "active_units": active,
    }


def train_sentence_vae(
    config: SentenceVAEConfig,
    train_data: dict,
    val_data: dict,
    steps: int,
    anneal_steps: int = 0,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    eval_every: int | None = None,
    desc: str = "sentence VAE",
    progress: bool = True,
):
    """Train a :class:`SentenceVAE` with :func:`course_lib.train.train`; returns ``(model, history)``.

    ``anneal_steps`` > 0 turns on linear KL annealing (:func:`kl_anneal_weight`); word dropout is in ``config``.

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(config, "config", SentenceVAEConfig)
    steps = check_int(steps, "steps", min=1, max=MAX_STEPS)
    anneal_steps = check_int(anneal_steps, "anneal_steps", min=0)
    batch_size = check_int(batch_size, "batch_size", min=1, max=MAX_BATCH)
    lr = check_float(lr, "lr", min=0.0, max=10.0, min_open=True)
    if eval_every is not None:
        check_int(eval_every, "eval_every", min=1)
    check_text(desc, "desc")
    check_flag(progress, "progress")
    torch.manual_seed(check_seed(seed))
    g = torch.Generator().manual_seed(check_seed(seed))
    model = SentenceVAE(config)
    _check_sentence_data(train_data, "train_data", model)
    _check_sentence_data(val_data, "val_data", model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(train_data["enc"])

    def get_batch(step):
        idx = torch.randint(n, (batch_size,), generator=g)
        return {
            "enc": train_data["enc"][idx],
            "dec": train_data["dec"][idx],
            "tgt": train_data["tgt"][idx],
            "beta": kl_anneal_weight(step, anneal_steps),
        }

    hist = train(
        model,
        get_batch,
        sentence_vae_loss,
        opt,
        steps,
        eval_every=eval_every or max(1, steps // 10),
        eval_fn=lambda m: sentence_vae_metrics(m, val_data),
        grad_clip=5.0,
        log_every=max(1, steps // 40),
        progress=progress,
        desc=desc,
    )
    model.eval()
    return model, hist


def _check_sentence_vae(model, tok) -> None:
    check_instance(model, "model", SentenceVAE)
    check_instance(tok, "tok", WordTokenizer)
    if model.config.vocab_size != tok.vocab_size:
        raise ArgumentError(
            f"model was built for {model.config.vocab_size} words but tok has {tok.vocab_size}: "
            "pass the tokenizer the model was trained with"
        )


def _known_ids(model: SentenceVAE, tok: WordTokenizer, sentence: str, what: str):
    _check_sentence_vae(model, tok)
    if sentence is not None and not isinstance(sentence, str):
        raise InputError(f"{what} must be text, got {type(sentence).__name__}")
    text = require_text(sentence, what)
    words = word_split(text, lower=tok.lower)
    if not words:
        raise InputError(f'{what} has no words; type a short English sentence such as "Tom is happy."')
    unknown = [wd for wd in words if wd not in tok.stoi]
    if len(unknown) == len(words):
        raise InputError(
            f"none of the words of {text!r} is in the vocabulary of {tok.vocab_size} words; "
            'try a short everyday sentence ("I am hungry.")'
        )
    ids = tok.encode(text)
    return torch.tensor([ids + [tok.eos_id]]), unknown  # (1, T)


@torch.no_grad()
def encode_text(model: SentenceVAE, tok: WordTokenizer, sentence: str) -> torch.Tensor:
    """The posterior mean mu (d,) of one sentence (raises :class:`InputError` for empty/unknown input).

    Defined in: notebooks/06_vae.ipynb
    """
    enc, _ = _known_ids(model, tok, sentence, "a sentence")
    return model.encode(enc)[0][0]  # (d,)


@torch.no_grad()
def decode_latent(model: SentenceVAE, tok: WordTokenizer, z: torch.Tensor, max_len: int = 10) -> list[str]:
    """Greedy sentences for latent codes z (B, d) or (d,).

    Defined in: notebooks/06_vae.ipynb
    """
    _check_sentence_vae(model, tok)
    check_tensor(z, "z", dim=(1, 2), dtype="float", finite=True)
    z = z[None] if z.dim() == 1 else z
    if z.shape[-1] != model.config.latent_dim or not len(z):
        raise ArgumentError(f"z must have (B, {model.config.latent_dim}) codes, got shape {tuple(z.shape)}")
    max_len = check_int(max_len, "max_len", min=1, max=1000)
    return [tok.decode(ids) for ids in model.greedy(z, max_len=max_len)]


def interpolation_table(
    models: dict[str, SentenceVAE], tok: WordTokenizer, a: str, b: str, n_steps: int = 6
) -> pd.DataFrame:
    """Greedy sentences along z = (1 − α)·μ(a) + α·μ(b), one column per model: the interpolation as a table.

    Defined in: notebooks/06_vae.ipynb
    """
    check_int(n_steps, "n_steps", min=1, max=100)
    if not isinstance(models, dict) or not models:
        raise ArgumentTypeError(f"models must be a non-empty dict {{name: SentenceVAE}}, got {type(models).__name__}")
    for name, model in models.items():
        check_text(name, "a model name")
        check_instance(model, f"models[{name!r}]", SentenceVAE)
    alphas = [i / n_steps for i in range(n_steps + 1)]
    table = {"α": [f"{al:.2f}" for al in alphas]}
    for name, model in models.items():
        mu_a, mu_b = encode_text(model, tok, a), encode_text(model, tok, b)
        table[name] = decode_latent(model, tok, torch.stack([(1 - al) * mu_a + al * mu_b for al in alphas]))
    return pd.DataFrame(table)


def interpolation_panel(
    model: SentenceVAE, tok: WordTokenizer, a: str = "I am happy.", b: str = "Tom went home.", n_steps: int = 8
) -> Panel:
    """Two sentences and a slider α: decode z = (1 − α)·mu(a) + α·mu(b) greedily; the whole path is listed.

    Defined in: notebooks/06_vae.ipynb
    """
    _check_sentence_vae(model, tok)
    check_text(a, "a")
    check_text(b, "b")
    n_steps = check_int(n_steps, "n_steps", min=1, max=100)

    def render(a, b, alpha):
        enc_a, unk_a = _known_ids(model, tok, a, "a first sentence")
        enc_b, unk_b = _known_ids(model, tok, b, "a second sentence")
        with torch.no_grad():
            mu_a, mu_b = model.encode(enc_a)[0][0], model.encode(enc_b)[0][0]
            alphas = sorted(set([round(i / n_steps, 3) for i in range(n_steps + 1)] + [round(float(alpha), 3)]))
            sents = decode_latent(model, tok, torch.stack([(1 - al) * mu_a + al * mu_b for al in alphas]))
        rows = []
        for al, s in zip(alphas, sents):
            mark = al == round(float(alpha), 3)
            text = html.escape(f"α = {al:.2f}: {s}")
            rows.append(f"<li><b>→ {text}</b></li>" if mark else f"<li>{text}</li>")
        note = ""
        if unk_a or unk_b:
            note = f"<p><i>not in the vocabulary (read as &lt;unk&gt;): {html.escape(', '.join(unk_a + unk_b))}</i></p>"
        return HTML(f"<ul>{''.join(rows)}</ul>{note}")

    controls = {
        "a": w.Text(value=a, description="sentence A", continuous_update=False),
        "b": w.Text(value=b, description="sentence B", continuous_update=False),
        "alpha": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="α", continuous_update=False),
    }
    return Panel(controls, render, title="Interpolating between two sentences in latent space")


def shuffled_pair_check(model: SentenceVAE, tok: WordTokenizer, a: str, b: str) -> dict:
    """Encode two sentences with the same words in another order; how far apart are their codes?

    Returns ``{"max_abs_diff_mu": float, "decoded_a": str, "decoded_b": str}`` (decoded from mu).

    Defined in: notebooks/06_vae.ipynb
    """
    if sorted(word_split(a)) != sorted(word_split(b)):
        raise ArgumentError(f"{a!r} and {b!r} must contain the same words in a different order")
    mu_a, mu_b = encode_text(model, tok, a), encode_text(model, tok, b)
    da, db = decode_latent(model, tok, torch.stack([mu_a, mu_b]))
    return {"max_abs_diff_mu": float((mu_a - mu_b).abs().max()), "decoded_a": da, "decoded_b": db}


def order_sensitivity(model: SentenceVAE, data: dict, n: int = 500, seed: int = 0) -> float:
    """Mean ‖mu(sentence) − mu(words shuffled)‖ over up to ``n`` sentences of ``data`` (``encode_sentences`` output).

    Zero means the encoder cannot tell a sentence from any reordering of its words.

    Defined in: notebooks/06_vae.ipynb
    """
    check_instance(model, "model", SentenceVAE)
    _check_sentence_data(data, "data", model)
    n = check_int(n, "n", min=1)
    g = torch.Generator().manual_seed(check_seed(seed))
    enc = data["enc"][:n].clone()  # (n, T)
    shuffled = enc.clone()
    for i in range(len(enc)):
        L = int((enc[i] != model.config.pad_id).sum()) - 1  # words before <eos>
        shuffled[i, :L] = enc[i, :L][torch.randperm(L, generator=g)]
    with torch.no_grad():
        mu, _ = model.encode(enc)
        mu_s, _ = model.encode(shuffled)
    return float((mu - mu_s).norm(dim=1).mean())


def _kl_reference(mu1, logvar1, mu2, logvar2):
    return 0.5 * (logvar2 - logvar1 + (logvar1.exp() + (mu1 - mu2) ** 2) / logvar2.exp() - 1).sum(-1)


@exercise(
    "06.1",
    "a function kl_diag_gaussians(mu1, logvar1, mu2, logvar2) returning KL(N1 ‖ N2) summed over the last dimension",
    wrong=lambda: (
        lambda mu1, logvar1, mu2, logvar2: 0.5 * (logvar2 - logvar1 + logvar1.exp() + (mu1 - mu2) ** 2 - 1).sum(-1)
    ),
)
def _check_kl_diag_gaussians(answer):
    generator = torch.Generator().manual_seed(2024)
    mu1, logvar1, mu2, logvar2 = (torch.randn(40, 3, generator=generator, dtype=torch.float64) for _ in range(4))
    out = answer(mu1, logvar1, mu2, logvar2)
    if not isinstance(out, torch.Tensor) or out.shape != (40,):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise Hint(
            f"For inputs of shape (40, 3) the answer should have shape (40,), one KL per row; got {shape}. "
            "Sum over the last dimension."
        )
    zeros = torch.zeros_like(mu1)
    if not torch.allclose(answer(mu1, logvar1, zeros, zeros), _kl_reference(mu1, logvar1, zeros, zeros), atol=1e-8):
        raise Hint(
            "Not yet right even against N(0, I): with mu2 = 0 and logvar2 = 0 it must equal gaussian_kl(mu1, logvar1)."
        )
    if not torch.allclose(out, _kl_reference(mu1, logvar1, mu2, logvar2), atol=1e-8):
        raise Hint(
            "Right against N(0, I) but not for a general N2: both σ1² and (μ1 − μ2)² are divided by σ2² = exp(logvar2)."
        )
