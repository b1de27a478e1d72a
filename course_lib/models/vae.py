"""Variational autoencoders: a VAE for small vectors (2-D toy data) and a sentence VAE.

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

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..checks import check_choice, check_float, check_instance, check_int, check_probability
from ..errors import ArgumentError
from ..losses import reparameterize
from ..nn_utils import mlp


@dataclass
class ToyVAEConfig:
    """Sizes of :class:`ToyVAE`, and its decoder's observation noise.

    ``obs_sigma``: the standard deviation σ of the Gaussian decoder p(x|z) = N(mean(z), σ²I). ``None``
    (the default) learns log σ, one per data dimension; a number fixes it. A fixed σ that is larger than
    the data's real noise acts as a hidden KL weight β = σ² / σ_data² (notebook 06 shows it).

    Defined in: notebooks/06_vae.ipynb
    """

    data_dim: int = 2
    latent_dim: int = 2
    n_hidden: int = 64
    obs_sigma: float | None = None

    def __post_init__(self):
        for name in ("data_dim", "latent_dim", "n_hidden"):
            check_int(getattr(self, name), f"ToyVAEConfig.{name}", min=1)
        if self.obs_sigma is not None:
            check_float(self.obs_sigma, "ToyVAEConfig.obs_sigma", min=0.0, min_open=True)


class ToyVAE(nn.Module):
    """A VAE for vectors: MLP encoder → (mu, logvar) → z = mu + σε → MLP decoder → N(mean, σ_x² I).

    ``log_sigma`` (D,) is the decoder's log standard deviation: a learned parameter, or a fixed buffer
    when ``config.obs_sigma`` is a number.

    Defined in: notebooks/06_vae.ipynb
    """

    def __init__(self, config: ToyVAEConfig | None = None):
        if config is not None:
            check_instance(config, "config", ToyVAEConfig)
        super().__init__()
        self.config = config = config or ToyVAEConfig()
        self.encoder = mlp(config.data_dim, config.n_hidden, 2 * config.latent_dim)
        self.decoder = mlp(config.latent_dim, config.n_hidden, config.data_dim)
        if config.obs_sigma is None:
            self.log_sigma = nn.Parameter(torch.zeros(config.data_dim))  # (D,), learned
        else:
            self.register_buffer("log_sigma", torch.full((config.data_dim,), math.log(config.obs_sigma)))

    def encode(self, x: torch.Tensor):
        """``x`` (B, D) → the posterior's ``mu, logvar`` (B, d) each."""
        if x.dim() != 2 or x.shape[1] != self.config.data_dim:
            raise ArgumentError(f"expected x of shape (B, {self.config.data_dim}), got {tuple(x.shape)}")
        mu, logvar = self.encoder(x).chunk(2, dim=-1)  # (B, d), (B, d)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean (B, D) for codes ``z`` (B, d)."""
        return self.decoder(z)  # (B, D)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """Returns ``(mean, mu, logvar, z)``: the decoder's mean (B, D), the posterior (B, d) ×2, the sample (B, d)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)  # (B, d)
        return self.decode(z), mu, logvar, z

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, noise: bool = True) -> torch.Tensor:
        """``n`` new points (n, D): z ~ N(0, I), then x ~ N(decode(z), σ_x² I) (or the mean when ``noise=False``)."""
        z = torch.randn(n, self.config.latent_dim, generator=generator)  # (n, d)
        mean = self.decode(z)
        if not noise:
            return mean
        return mean + self.log_sigma.exp() * torch.randn(mean.shape, generator=generator)


@dataclass
class ToyAutoencoderConfig:
    """Sizes of :class:`ToyAutoencoder`.

    Defined in: notebooks/06_vae.ipynb
    """

    data_dim: int = 2
    latent_dim: int = 2
    n_hidden: int = 64


class ToyAutoencoder(nn.Module):
    """What the article's §4.2.1 describes: a deterministic ``z = Encoder(x; θ)`` and ``x′ = Decoder(z; θ)``.

    No posterior, no sampling: the same x always gives the same z. The article's losses
    (:func:`~course_lib.losses.article_encoder_loss`, :func:`~course_lib.losses.article_decoder_loss`,
    :func:`~course_lib.losses.article_vae_loss`) are trained on it in notebook 06.

    Defined in: notebooks/06_vae.ipynb
    """

    def __init__(self, config: ToyAutoencoderConfig | None = None):
        if config is not None:
            check_instance(config, "config", ToyAutoencoderConfig)
        super().__init__()
        self.config = config = config or ToyAutoencoderConfig()
        self.encoder = mlp(config.data_dim, config.n_hidden, config.latent_dim)
        self.decoder = mlp(config.latent_dim, config.n_hidden, config.data_dim)

    def forward(self, x: torch.Tensor):
        """Returns ``(x_prime, z)``: the reconstruction (B, D) and the code (B, d)."""
        z = self.encoder(x)  # (B, d)
        return self.decoder(z), z


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
    n_embd: int = 64
    n_hidden: int = 128
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
        check_instance(config, "config", SentenceVAEConfig)
        super().__init__()
        check_choice(config.rnn, "rnn", ("gru", "lstm"))
        check_choice(config.encoder, "encoder", ("rnn", "mean"))
        check_probability(config.word_dropout, "word_dropout", allow_one=False)
        self.config = config
        c = config
        rnn = nn.GRU if c.rnn == "gru" else nn.LSTM
        self.embed = nn.Embedding(c.vocab_size, c.n_embd, padding_idx=c.pad_id)
        if c.encoder == "rnn":
            self.enc_rnn = rnn(c.n_embd, c.n_hidden, batch_first=True)
            enc_out = c.n_hidden
        else:
            self.enc_rnn = None
            enc_out = c.n_embd
        self.to_mu = nn.Linear(enc_out, c.latent_dim)
        self.to_logvar = nn.Linear(enc_out, c.latent_dim)
        self.z_to_h = nn.Linear(c.latent_dim, c.n_hidden)
        self.dec_rnn = rnn(c.n_embd + c.latent_dim, c.n_hidden, batch_first=True)
        self.out = nn.Linear(c.n_hidden, c.vocab_size)

    def encode(self, enc: torch.Tensor):
        """``enc`` (B, T) → ``mu, logvar`` (B, d)."""
        if enc.dim() != 2:
            raise ArgumentError(f"expected token ids of shape (B, T), got {tuple(enc.shape)}")
        mask = enc != self.config.pad_id  # (B, T)
        lengths = mask.sum(1)  # (B,)
        if (lengths == 0).any():
            raise ArgumentError("every sentence needs at least one token (an all-padding row has no encoding)")
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
