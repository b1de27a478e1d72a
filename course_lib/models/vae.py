"""Variational autoencoders: a 2-D toy VAE and a sentence VAE, with the widgets of notebook 06.

Defined in: notebooks/06_vae.ipynb

References:
* D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (the ELBO, the
  reparameterisation trick).
* I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
  Framework", ICLR 2017 (the weight beta on the KL term).
* S. R. Bowman, L. Vilnis, O. Vinyals, A. M. Dai, R. Jozefowicz, S. Bengio, "Generating Sentences
  from a Continuous Space", CoNLL 2016 (the sentence VAE, KL annealing, word dropout, posterior
  collapse, interpolation between sentences).
* Y. Burda, R. Grosse, R. Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016
  (the "active units" measure of how many latent dimensions are used).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as w
import matplotlib.pyplot as plt
import torch
from torch import nn

from ..data import WordTokenizer, word_split
from ..losses import article_encoder_loss, reparameterize, vae_loss
from ..train import train
from ..widgets import HTML, InputError, Panel, require_text

# ----------------------------------------------------------------------------------------------
# A VAE on 2-D toy data
# ----------------------------------------------------------------------------------------------


def toy_spiral(n: int, generator: torch.Generator | None = None, noise: float = 0.15):
    """``n`` points on a noisy 2-D spiral and their position ``t`` ∈ [0, 1] along it.

    Returns ``x`` (n, 2) and ``t`` (n,). The radius grows from 1 to 4 over 1.5 turns, so the data
    lie near a 1-D curve inside 2-D space: a good test of what a 2-D latent space learns.

    Defined in: notebooks/06_vae.ipynb
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of points, got {n}")
    t = torch.rand(n, generator=generator)  # (n,)
    angle = 3 * math.pi * t
    r = 1 + 3 * t
    x = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)  # (n, 2)
    return x + noise * torch.randn(n, 2, generator=generator), t


@dataclass
class ToyVAEConfig:
    """Sizes of :class:`ToyVAE`.

    Defined in: notebooks/06_vae.ipynb
    """

    data_dim: int = 2
    latent_dim: int = 2
    hidden: int = 64


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_out)
    )


class ToyVAE(nn.Module):
    """A VAE for vectors: MLP encoder → (mu, logvar) → z = mu + σε → MLP decoder → mean of N(mean, I).

    Defined in: notebooks/06_vae.ipynb
    """

    def __init__(self, config: ToyVAEConfig = ToyVAEConfig()):
        super().__init__()
        self.config = config
        self.encoder = _mlp(config.data_dim, config.hidden, 2 * config.latent_dim)
        self.decoder = _mlp(config.latent_dim, config.hidden, config.data_dim)

    def encode(self, x: torch.Tensor):
        if x.dim() != 2 or x.shape[1] != self.config.data_dim:
            raise ValueError(f"expected x of shape (B, {self.config.data_dim}), got {tuple(x.shape)}")
        mu, logvar = self.encoder(x).chunk(2, dim=-1)  # (B, d), (B, d)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, D)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """Returns ``(mean, mu, logvar, z)``: the decoder's mean (B, D), the posterior (B, d) ×2, the sample (B, d)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)  # (B, d)
        return self.decode(z), mu, logvar, z


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
    config: ToyVAEConfig = ToyVAEConfig(),
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


# ----------------------------------------------------------------------------------------------
# A sentence VAE (Bowman et al. 2016)
# ----------------------------------------------------------------------------------------------


@dataclass
class SentenceVAEConfig:
    """Sizes and options of :class:`SentenceVAE`.

    ``encoder="rnn"`` reads the sentence with a GRU/LSTM (Bowman et al.); ``encoder="mean"`` is the
    article's §4.3 case study: the mean of the word vectors, which cannot see word order.
    ``word_dropout``: probability of replacing each decoder input word by ``<unk>`` while training.

    Defined in: notebooks/06_vae.ipynb
    """

    vocab_size: int
    emb_dim: int = 64
    hidden: int = 128
    latent_dim: int = 16
    rnn: str = "gru"
    encoder: str = "rnn"
    word_dropout: float = 0.0
    pad_id: int = 0
    unk_id: int = 1
    bos_id: int = 2
    eos_id: int = 3


class SentenceVAE(nn.Module):
    """Sentence VAE: encoder → (mu, logvar) → z → RNN decoder conditioned on z at every step.

    Encoder input ``enc`` (B, T): word ids then ``<eos>``, right-padded with ``<pad>``.
    Decoder input ``dec`` (B, T): ``<bos>`` then the words (teacher forcing); z sets the decoder's
    initial state and is also concatenated to every input embedding.

    Defined in: notebooks/06_vae.ipynb
    """

    def __init__(self, config: SentenceVAEConfig):
        super().__init__()
        if config.rnn not in ("gru", "lstm") or config.encoder not in ("rnn", "mean"):
            raise ValueError(
                f"rnn must be 'gru' or 'lstm' and encoder 'rnn' or 'mean', got {config.rnn!r}, {config.encoder!r}"
            )
        if not 0.0 <= config.word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), got {config.word_dropout}")
        self.config = config
        c = config
        rnn = nn.GRU if c.rnn == "gru" else nn.LSTM
        self.embed = nn.Embedding(c.vocab_size, c.emb_dim, padding_idx=c.pad_id)
        if c.encoder == "rnn":
            self.enc_rnn = rnn(c.emb_dim, c.hidden, batch_first=True)
            enc_out = c.hidden
        else:
            self.enc_rnn = None
            enc_out = c.emb_dim
        self.to_mu = nn.Linear(enc_out, c.latent_dim)
        self.to_logvar = nn.Linear(enc_out, c.latent_dim)
        self.z_to_h = nn.Linear(c.latent_dim, c.hidden)
        self.dec_rnn = rnn(c.emb_dim + c.latent_dim, c.hidden, batch_first=True)
        self.out = nn.Linear(c.hidden, c.vocab_size)

    def encode(self, enc: torch.Tensor):
        """``enc`` (B, T) → ``mu, logvar`` (B, d)."""
        if enc.dim() != 2:
            raise ValueError(f"expected token ids of shape (B, T), got {tuple(enc.shape)}")
        mask = enc != self.config.pad_id  # (B, T)
        lengths = mask.sum(1)  # (B,)
        if (lengths == 0).any():
            raise ValueError("every sentence needs at least one token (an all-padding row has no encoding)")
        e = self.embed(enc)  # (B, T, E)
        if self.enc_rnn is None:  # the article's §4.3: mean of the word vectors (order is lost)
            h = (e * mask[..., None]).sum(1) / lengths[:, None]  # (B, E)
        else:
            out, _ = self.enc_rnn(e)  # (B, T, H); right padding leaves positions < length untouched
            h = out[torch.arange(len(enc)), lengths - 1]  # (B, H): state after the last real token
        return self.to_mu(h), self.to_logvar(h)

    def _init_state(self, z: torch.Tensor):
        h0 = torch.tanh(self.z_to_h(z))[None]  # (1, B, H)
        return h0 if self.config.rnn == "gru" else (h0, torch.zeros_like(h0))

    def decode(self, z: torch.Tensor, dec: torch.Tensor, state=None):
        """Logits (B, T, V) for decoder inputs ``dec`` (B, T) given z (B, d); also returns the RNN state."""
        e = self.embed(dec)  # (B, T, E)
        zz = z[:, None, :].expand(-1, dec.shape[1], -1)  # (B, T, d)
        out, state = self.dec_rnn(torch.cat([e, zz], dim=-1), self._init_state(z) if state is None else state)
        return self.out(out), state  # (B, T, V)

    def forward(self, enc: torch.Tensor, dec: torch.Tensor, generator: torch.Generator | None = None):
        """Returns ``(logits (B, T, V), mu (B, d), logvar (B, d))``; word dropout is applied when training."""
        mu, logvar = self.encode(enc)
        z = reparameterize(mu, logvar, generator)  # (B, d)
        if self.training and self.config.word_dropout > 0:
            drop = torch.rand(dec.shape, generator=generator) < self.config.word_dropout  # (B, T)
            drop &= (dec != self.config.pad_id) & (dec != self.config.bos_id)
            dec = dec.masked_fill(drop, self.config.unk_id)
        logits, _ = self.decode(z, dec)
        return logits, mu, logvar

    @torch.no_grad()
    def greedy(self, z: torch.Tensor, max_len: int = 10) -> list[list[int]]:
        """Greedy decoding from latent codes z (B, d): the most likely word at each step, until ``<eos>``."""
        B = len(z)
        tok = torch.full((B, 1), self.config.bos_id, dtype=torch.long)
        state, outs = None, []
        for _ in range(max_len):
            logits, state = self.decode(z, tok, state)  # (B, 1, V)
            tok = logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
            outs.append(tok)
        ids = torch.cat(outs, dim=1).tolist()  # (B, max_len)
        return [row[: row.index(self.config.eos_id)] if self.config.eos_id in row else row for row in ids]


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


def kl_anneal_weight(step: int, anneal_steps: int) -> float:
    """KL weight β for KL annealing: rises linearly from 0 to 1 over ``anneal_steps``, then stays 1.

    ``anneal_steps=0`` means no annealing (β = 1 from the first step).

    Defined in: notebooks/06_vae.ipynb
    """
    if anneal_steps <= 0:
        return 1.0
    return min(1.0, step / anneal_steps)


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
    was = model.training
    model.eval()
    logits, mu, logvar = model(data["enc"], data["dec"], generator=g)
    parts = vae_loss(logits, data["tgt"], mu, logvar, beta=1.0, kind="categorical")
    model.train(was)
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
