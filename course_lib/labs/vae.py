"""Notebook 06's lab: training and summarising the toy and sentence VAEs, their figures and panels.

Defined in: notebooks/06_vae.ipynb

The models are in :mod:`course_lib.models.vae`; the objectives (ELBO, KL, the reparameterisation
trick, the article's losses) are lessons in :mod:`course_lib.losses`.
"""

from __future__ import annotations

import html

import ipywidgets as w
import matplotlib.pyplot as plt
import torch

from ..data import WordTokenizer, word_split
from ..losses import article_encoder_loss, kl_anneal_weight, reparameterize, vae_loss
from ..models.vae import SentenceVAE, SentenceVAEConfig, ToyVAE, ToyVAEConfig
from ..nn_utils import eval_mode
from ..train import train
from ..widgets import HTML, InputError, Panel, require_text


def toy_vae_loss(model: ToyVAE, batch: dict) -> dict:
    """Loss for :func:`course_lib.train.train`: the negative ELBO with ``batch["beta"]``.

    ``batch`` is ``{"x": (B, D), "beta": float}``, optionally with ``"encoder_weight"``: a weight λ
    on the article's §4.2.1 term ``‖x − z‖²`` added to the loss (to see what it does). The extra
    term is logged as ``"x_minus_z"``.

    Defined in: notebooks/06_vae.ipynb
    """
    mean, mu, logvar, z = model(batch["x"])
    out = vae_loss(mean, batch["x"], mu, logvar, beta=batch.get("beta", 1.0), kind="gaussian")
    lam = batch.get("encoder_weight", 0.0)
    if lam:
        extra = article_encoder_loss(batch["x"], z)
        out["loss"] = out["loss"] + lam * extra
        out["x_minus_z"] = extra
    return out


def train_toy_vae(
    x: torch.Tensor,
    beta: float = 1.0,
    steps: int = 1000,
    batch_size: int = 256,
    seed: int = 0,
    encoder_weight: float = 0.0,
    lr: float = 3e-3,
    config: ToyVAEConfig | None = None,
    progress: bool = True,
):
    """Train a :class:`ToyVAE` on the rows of ``x`` with :func:`course_lib.train.train`; returns ``(model, history)``.

    Defined in: notebooks/06_vae.ipynb
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = ToyVAE(config)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def get_batch(step):
        idx = torch.randint(len(x), (batch_size,), generator=g)
        return {"x": x[idx], "beta": beta, "encoder_weight": encoder_weight}

    hist = train(
        model,
        get_batch,
        toy_vae_loss,
        opt,
        steps,
        log_every=max(1, steps // 20),
        progress=progress,
        desc=f"toy VAE β={beta:g}" + (f" +λ‖x−z‖² (λ={encoder_weight:g})" if encoder_weight else ""),
    )
    model.eval()
    return model, hist


@torch.no_grad()
def summarize_toy_vae(model: ToyVAE, x: torch.Tensor, t: torch.Tensor, n_prior: int = 1000, seed: int = 0) -> dict:
    """What the β widget shows for one trained model: reconstructions, latent means, prior samples, numbers.

    Returns plain arrays and floats: ``x``, ``t``, ``recon`` (decoder mean at z = mu), ``mu``,
    ``prior`` (decoder mean at z ~ N(0, I)), and ``recon_nll``, ``kl``, ``neg_elbo`` (nats/point,
    with beta = 1), ``prior_near_data`` (share of prior samples within 0.5 of a data point).

    Defined in: notebooks/06_vae.ipynb
    """
    g = torch.Generator().manual_seed(seed)
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, g)
    parts = vae_loss(model.decode(z), x, mu, logvar, beta=1.0)
    prior = model.decode(torch.randn(n_prior, model.config.latent_dim, generator=g))
    near = (torch.cdist(prior, x).min(dim=1).values < 0.5).float().mean().item()
    return {
        "x": x.numpy(),
        "t": t.numpy(),
        "recon": model.decode(mu).numpy(),
        "mu": mu.numpy(),
        "prior": prior.numpy(),
        "recon_nll": parts["recon"].item(),
        "kl": parts["kl"].item(),
        "neg_elbo": parts["loss"].item(),
        "prior_near_data": near,
    }


def plot_toy_vae(summary: dict, title: str = ""):
    """Three panels: data and reconstructions, the latent means coloured by position on the spiral, prior samples.

    Defined in: notebooks/06_vae.ipynb
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    s = summary
    axes[0].scatter(s["x"][:, 0], s["x"][:, 1], s=4, c="lightgray", label="data")
    axes[0].scatter(s["recon"][:, 0], s["recon"][:, 1], s=4, c=s["t"], cmap="viridis", label="reconstruction")
    axes[0].set_title("data (grey) and reconstructions")
    axes[1].scatter(s["mu"][:, 0], s["mu"][:, 1], s=4, c=s["t"], cmap="viridis")
    circle = plt.Circle((0, 0), 2, fill=False, ls="--", color="gray")
    axes[1].add_patch(circle)
    axes[1].set_title("latent means μ(x) (colour = position t)")
    axes[2].scatter(s["x"][:, 0], s["x"][:, 1], s=4, c="lightgray")
    axes[2].scatter(s["prior"][:, 0], s["prior"][:, 1], s=4, c="C3")
    axes[2].set_title("decoded prior samples z ~ N(0, I)")
    for ax in (axes[0], axes[2]):
        ax.set_xlim(-5, 5)
        ax.set_ylim(-5, 5)
    for ax in axes:
        ax.set_aspect("equal", adjustable="box")
    fig.suptitle(
        title
        or (
            f"recon −log p(x|z) = {s['recon_nll']:.2f}, KL = {s['kl']:.2f}, "
            f"−ELBO = {s['neg_elbo']:.2f} nats; prior samples near data: {s['prior_near_data']:.0%}"
        )
    )
    fig.tight_layout()
    return fig


def beta_panel(summaries: dict[float, dict]) -> Panel:
    """A β slider over precomputed toy VAEs (``{beta: summarize_toy_vae(...)}``): the widget is instant.

    Defined in: notebooks/06_vae.ipynb
    """
    if not summaries:
        raise ValueError("beta_panel needs at least one trained model: {beta: summarize_toy_vae(model, x, t)}")
    betas = sorted(summaries)

    def render(beta):
        if beta not in summaries:
            raise InputError(f"β = {beta} was not precomputed; choose one of {betas}")
        s = summaries[beta]
        return plot_toy_vae(
            s,
            title=f"β = {beta:g}: recon {s['recon_nll']:.2f} nats, KL {s['kl']:.2f} nats, "
            f"prior samples near data {s['prior_near_data']:.0%}",
        )

    slider = w.SelectionSlider(options=betas, value=betas[len(betas) // 2], description="β", continuous_update=False)
    return Panel({"beta": slider}, render, title="β-VAE: reconstruction against KL")


def encode_sentences(tok: WordTokenizer, sentences: list[str], max_tokens: int) -> dict:
    """Tensors for the sentence VAE: ``enc`` (N, T), ``dec`` (N, T), ``tgt`` (N, T) with T = max_tokens + 1.

    ``enc`` = words + ``<eos>`` (padded with ``<pad>``), ``dec`` = ``<bos>`` + words, ``tgt`` =
    words + ``<eos>`` with padding marked ``-100`` (ignored by the loss).

    Defined in: notebooks/06_vae.ipynb
    """
    T = max_tokens + 1
    enc = torch.full((len(sentences), T), tok.pad_id, dtype=torch.long)
    dec = torch.full((len(sentences), T), tok.pad_id, dtype=torch.long)
    tgt = torch.full((len(sentences), T), -100, dtype=torch.long)
    for i, s in enumerate(sentences):
        ids = tok.encode(s)
        if len(ids) > max_tokens:
            raise ValueError(f"sentence {i} has {len(ids)} tokens, more than max_tokens={max_tokens}: {s!r}")
        n = len(ids) + 1
        enc[i, :n] = torch.tensor(ids + [tok.eos_id])
        dec[i, :n] = torch.tensor([tok.bos_id] + ids)
        tgt[i, :n] = enc[i, :n]
    return {"enc": enc, "dec": dec, "tgt": tgt}


def sentence_vae_loss(model: SentenceVAE, batch: dict) -> dict:
    """Loss for :func:`course_lib.train.train`: negative ELBO of a batch ``{"enc", "dec", "tgt", "beta"}``.

    Also logs ``beta``. Reconstruction and KL are in nats per sentence.

    Defined in: notebooks/06_vae.ipynb
    """
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
    g = torch.Generator().manual_seed(generator_seed)
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
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = SentenceVAE(config)
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


def _known_ids(model: SentenceVAE, tok: WordTokenizer, sentence: str, what: str):
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
    z = z[None] if z.dim() == 1 else z
    return [tok.decode(ids) for ids in model.greedy(z, max_len=max_len)]


def interpolation_panel(
    model: SentenceVAE, tok: WordTokenizer, a: str = "I am happy.", b: str = "Tom went home.", n_steps: int = 8
) -> Panel:
    """Two sentences and a slider α: decode z = (1 − α)·mu(a) + α·mu(b) greedily; the whole path is listed.

    Defined in: notebooks/06_vae.ipynb
    """

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
        raise ValueError(f"{a!r} and {b!r} must contain the same words in a different order")
    mu_a, mu_b = encode_text(model, tok, a), encode_text(model, tok, b)
    da, db = decode_latent(model, tok, torch.stack([mu_a, mu_b]))
    return {"max_abs_diff_mu": float((mu_a - mu_b).abs().max()), "decoded_a": da, "decoded_b": db}


def order_sensitivity(model: SentenceVAE, data: dict, n: int = 500, seed: int = 0) -> float:
    """Mean ‖mu(sentence) − mu(words shuffled)‖ over up to ``n`` sentences of ``data`` (``encode_sentences`` output).

    Zero means the encoder cannot tell a sentence from any reordering of its words.

    Defined in: notebooks/06_vae.ipynb
    """
    g = torch.Generator().manual_seed(seed)
    enc = data["enc"][:n].clone()  # (n, T)
    shuffled = enc.clone()
    for i in range(len(enc)):
        L = int((enc[i] != model.config.pad_id).sum()) - 1  # words before <eos>
        shuffled[i, :L] = enc[i, :L][torch.randperm(L, generator=g)]
    with torch.no_grad():
        mu, _ = model.encode(enc)
        mu_s, _ = model.encode(shuffled)
    return float((mu - mu_s).norm(dim=1).mean())
