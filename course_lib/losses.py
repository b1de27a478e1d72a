"""Losses of the variational autoencoder and the GAN, and the article's versions of them, side by side.

Defined in: notebooks/06_vae.ipynb

Correct losses:

* :func:`gaussian_kl`, :func:`reparameterize`, :func:`reconstruction_nll` and :func:`vae_loss`: the negative
  ELBO of a VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"), ``recon + beta * KL``
  (Higgins et al. 2017 for ``beta``); :func:`iwae_bound`, an importance-weighted estimate of log p(x)
  (Burda et al. 2016) that tightens the ELBO as the number of samples grows.
* :func:`discriminator_loss` and :func:`generator_loss`: the GAN losses of Goodfellow et al. 2014,
  "Generative Adversarial Nets", computed from logits so that they never overflow.

The article's formulas, implemented as printed so the notebooks can run them beside the correct ones
(the printed formulas are quoted in :data:`course_lib.article.QUOTES`):

* :func:`article_vae_loss` (§4.1.3.1): ``1/N Σ [log p(x|z) + λ log p(z)]``, a log-likelihood used as a loss.
* :func:`article_encoder_loss` (§4.2.1): ``1/N Σ [‖x − z‖² + λ‖z‖²]``, data compared with a latent code.
* :func:`article_decoder_loss` (§4.2.1): ``1/N Σ ‖x − x′‖²``, a separate loss for the decoder.
* :func:`article_case_study_loss` (§4.3): the two summed over the words of a text, with one θ.
* :func:`article_discriminator_loss` (§4.1.3.2/§4.2.2): ``−log(D(x) + D(G(z)))``.
* :func:`article_generator_loss` (§4.1.3.2/§4.2.2): ``−log D(x)``, which does not depend on G.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import check_choice, check_float, check_int, check_tensor
from .errors import ArgumentError, ArgumentTypeError

VAE_KINDS = ("gaussian", "bernoulli", "categorical")
GENERATOR_KINDS = ("non_saturating", "minimax")
LOG_2PI = math.log(2 * math.pi)


def _check_mu_logvar(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise ArgumentTypeError(f"mu and logvar must be tensors, got {type(mu).__name__} and {type(logvar).__name__}")
    if mu.shape != logvar.shape or mu.dim() < 1:
        raise ArgumentError(
            f"mu and logvar must have the same shape (..., d) with d the latent size, "
            f"got {tuple(mu.shape)} and {tuple(logvar.shape)}"
        )


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) ‖ N(0, I) ), summed over the last dimension.

    ``mu`` and ``logvar`` have shape (B, d) (any leading shape works); the result has shape (B,).
    Closed form: ``0.5 * Σ_j (mu_j² + σ_j² − 1 − log σ_j²)``; it is ≥ 0, and exactly 0 when
    ``mu = 0`` and ``logvar = 0`` (the posterior equals the prior).

    Defined in: notebooks/06_vae.ipynb
    """
    _check_mu_logvar(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)  # (B,)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample z = mu + σ · ε with ε ~ N(0, I), σ = exp(logvar / 2): differentiable in mu and logvar.

    The randomness is moved into ε, which does not depend on the parameters, so gradients flow
    through ``mu`` and ``logvar`` (the "reparameterisation trick", Kingma & Welling 2014, §2.4).
    ``generator`` (a ``torch.Generator``) makes the draw reproducible. Shape of the result = shape of ``mu``.

    Defined in: notebooks/06_vae.ipynb
    """
    _check_mu_logvar(mu, logvar)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)  # (B, d)
    return mu + torch.exp(0.5 * logvar) * eps


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last dimension: ``−½‖z‖² − (d/2)·log 2π``, shape (B,).

    The prior p(z) of a VAE, as a log-density.

    Defined in: notebooks/06_vae.ipynb
    """
    if not isinstance(z, torch.Tensor) or z.dim() < 1:
        raise ArgumentError(f"z must be a tensor of shape (..., d), got {type(z).__name__}")
    return -0.5 * z.pow(2).sum(-1) - 0.5 * z.shape[-1] * LOG_2PI


def _check_recon(recon: torch.Tensor, target: torch.Tensor, kind: str) -> None:
    check_choice(kind, "kind", VAE_KINDS)
    check_tensor(recon, "recon", dtype="float")
    check_tensor(target, "target")
    if kind == "categorical":
        if recon.dim() != 3 or target.shape != recon.shape[:2]:
            raise ArgumentError(
                f"categorical: expected logits (B, T, V) and target ids (B, T), "
                f"got {tuple(recon.shape)} and {tuple(target.shape)}"
            )
    elif recon.shape != target.shape:
        raise ArgumentError(
            f"{kind}: recon and target must have the same shape (B, D), "
            f"got {tuple(recon.shape)} and {tuple(target.shape)}"
        )


def reconstruction_nll(
    recon: torch.Tensor, target: torch.Tensor, kind: str = "gaussian", log_sigma: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """−log p(x | z) per example, shape (B,).

    * ``"gaussian"``: ``recon`` is the mean (B, D) of N(mean, σ²I) with ``log_sigma`` = log σ (a number or a
      tensor broadcastable to (B, D); 0 means σ = 1): ``½‖(x − mean)/σ‖² + Σ log σ + (D/2)·log 2π``.
    * ``"bernoulli"``: ``recon`` holds logits (B, D), ``target`` values in [0, 1].
    * ``"categorical"``: ``recon`` holds logits (B, T, V), ``target`` token ids (B, T); positions
      whose target is ``-100`` (padding) are ignored, as in ``F.cross_entropy``. Summed over T.

    Defined in: notebooks/06_vae.ipynb
    """
    _check_recon(recon, target, kind)
    if kind != "categorical" and recon.dim() == 0:
        raise ArgumentError("recon must have shape (B, D), got a scalar")
    if isinstance(log_sigma, torch.Tensor):
        flat = (len(recon), recon[0].numel()) if recon.dim() else ()
        try:
            ok = torch.broadcast_shapes(log_sigma.shape, flat) == flat
        except RuntimeError:
            ok = False
        if not ok:
            raise ArgumentError(
                f"log_sigma must be a number or a tensor broadcastable to recon (B, D) = {flat}, "
                f"got shape {tuple(log_sigma.shape)}"
            )
    else:
        log_sigma = check_float(log_sigma, "log_sigma")
    if kind == "categorical":
        B, T, V = recon.shape
        nll = F.cross_entropy(recon.reshape(B * T, V), target.reshape(B * T), ignore_index=-100, reduction="none")
        return nll.view(B, T).sum(-1)  # (B,)
    flat_r, flat_t = recon.reshape(len(recon), -1), target.reshape(len(target), -1)  # (B, D)
    if kind == "gaussian":
        log_sigma = torch.as_tensor(log_sigma, dtype=flat_r.dtype).expand_as(flat_r)  # (B, D)
        z2 = ((flat_t - flat_r) / log_sigma.exp()).pow(2)
        return 0.5 * z2.sum(-1) + log_sigma.sum(-1) + 0.5 * flat_r.shape[1] * LOG_2PI
    return F.binary_cross_entropy_with_logits(flat_r, flat_t, reduction="none").sum(-1)


def _check_one_code_per_example(codes: torch.Tensor, target: torch.Tensor, name: str = "mu") -> None:
    check_tensor(codes, name)
    check_tensor(target, "target")
    if codes.dim() == 0:
        raise ArgumentError(f"{name} must have shape (B, d), one latent code per example; got a scalar")
    if target.dim() == 0 or len(codes) != len(target):
        raise ArgumentError(f"got {len(codes)} latent codes for {len(target)} examples: one latent code per example")


def vae_loss(
    recon_logits_or_mean: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    kind: str = "gaussian",
    log_sigma: torch.Tensor | float = 0.0,
) -> dict[str, torch.Tensor]:
    """The negative ELBO, ``E_q[−log p(x|z)] + beta · KL(q(z|x) ‖ p(z))``, averaged over the batch.

    Returns ``{"loss": recon + beta·kl, "recon": recon, "kl": kl}`` (scalars, nats per example), the
    dict :func:`course_lib.train.train` optimises ("loss") and logs (the rest). ``kind`` is
    ``"gaussian"`` (a Gaussian decoder: ``recon`` is its mean, ``log_sigma`` its log standard deviation,
    fixed or learned), ``"bernoulli"`` (logits) or ``"categorical"`` (logits (B, T, V) over a
    vocabulary, targets (B, T), ``-100`` = padding); see :func:`reconstruction_nll`. ``beta = 1`` gives
    the true ELBO; ``beta`` < 1 during KL annealing.

    Defined in: notebooks/06_vae.ipynb
    """
    check_float(beta, "beta", min=0.0)
    _check_mu_logvar(mu, logvar)
    _check_one_code_per_example(mu, target)
    recon = reconstruction_nll(recon_logits_or_mean, target, kind, log_sigma).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


def iwae_bound(log_px_given_z: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) from K samples z_k ~ q(z|x), per example, shape (B,).

    ``log p(x) ≈ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x)``, with ``log_px_given_z`` (K, B), ``z`` (K, B, d)
    and the posterior ``mu``, ``logvar`` (B, d). With K = 1 its expectation is the ELBO; it rises towards
    log p(x) as K grows (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders").

    Defined in: notebooks/06_vae.ipynb
    """
    _check_mu_logvar(mu, logvar)
    check_tensor(log_px_given_z, "log_px_given_z", dtype="float")
    check_tensor(z, "z", dtype="float")
    if z.dim() != 3 or z.shape[1:] != mu.shape or log_px_given_z.shape != z.shape[:2]:
        raise ArgumentError(
            f"expected log_px_given_z (K, B), z (K, B, d) and mu (B, d), got {tuple(log_px_given_z.shape)}, "
            f"{tuple(z.shape)} and {tuple(mu.shape)}"
        )
    log_q = -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(-1)  # (K, B)
    log_w = log_px_given_z + standard_normal_log_prob(z) - log_q  # (K, B)
    return torch.logsumexp(log_w, dim=0) - math.log(len(z))  # (B,)


def article_vae_loss(
    recon_mean: torch.Tensor,
    target: torch.Tensor,
    z: torch.Tensor,
    lam: float = 1.0,
    log_sigma: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    """The article's §4.1.3.1 "loss", as printed: ``L = 1/N Σ_n [log p(x|z; θ) + λ log p(z; θ)]``.

    ``p(x|z)`` is a Gaussian decoder (mean ``recon_mean`` (B, D), log σ ``log_sigma``), ``p(z)`` the prior
    N(0, I) evaluated at the codes ``z`` (B, d). Minimised as a loss, both terms have the wrong sign: the
    first rewards decoding *away* from the data, the second codes *far* from the prior. Nothing says where
    z comes from, and there is no KL term. Compare :func:`vae_loss`, the negative ELBO.

    Defined in: notebooks/06_vae.ipynb
    """
    check_float(lam, "lam", min=0.0)
    _check_one_code_per_example(z, target, "z")
    log_px_z = -reconstruction_nll(recon_mean, target, "gaussian", log_sigma)  # (B,)
    return (log_px_z + lam * standard_normal_log_prob(z)).mean()


def _check_same_size(x: torch.Tensor, z: torch.Tensor, what: str) -> None:
    check_tensor(x, "x", dtype="float")
    check_tensor(z, what, dtype="float")
    if x.dim() != 2 or z.dim() != 2 or x.shape[0] != z.shape[0]:
        raise ArgumentError(f"expected x (B, D) and {what} (B, d), got {tuple(x.shape)} and {tuple(z.shape)}")
    if x.shape[1] != z.shape[1]:
        raise ArgumentError(
            f"‖x − {what}‖² is undefined: the data has D = {x.shape[1]} dimensions but the {what} "
            f"has d = {z.shape[1]}; a VAE's loss never compares x with z"
        )


def article_encoder_loss(x: torch.Tensor, z: torch.Tensor, lam: float = 0.0) -> torch.Tensor:
    """The article's §4.2.1 encoder loss, as printed: ``L_enc = 1/N Σ_n [‖x − z‖² + λ‖z‖²]``.

    It compares data ``x`` (B, D) with its code ``z`` (B, d). When ``D != d`` (always, for text) it is
    not defined, and this function raises; when ``D == d`` it can be computed, and its minimum over z is
    at ``z = x / (1 + λ)``: a shrunken copy of the data. ``λ‖z‖²`` is a penalty on the code's size, not
    the KL divergence to a prior.

    Defined in: notebooks/06_vae.ipynb
    """
    check_float(lam, "lam", min=0.0)
    _check_same_size(x, z, "z")
    return ((x - z).pow(2).sum(-1) + lam * z.pow(2).sum(-1)).mean()


def article_decoder_loss(x: torch.Tensor, x_prime: torch.Tensor) -> torch.Tensor:
    """The article's §4.2.1 decoder loss, as printed: ``L_dec = 1/N Σ_n ‖x − x′‖²`` with x′ = Decoder(z).

    A squared error: the log-likelihood of a Gaussian decoder with σ² = ½, up to a constant. The article
    trains it *separately* from the encoder's loss; a VAE has one objective for both.

    Defined in: notebooks/06_vae.ipynb
    """
    _check_same_size(x, x_prime, "x_prime")
    return (x - x_prime).pow(2).sum(-1).mean()


def article_case_study_loss(word_vectors: torch.Tensor, encoder, decoder, lam: float = 1.0) -> torch.Tensor:
    """The article's §4.3 loss, as printed, for the word vectors e_t = Word2Vec(x_t) of one text (T, D):

    ``L = 1/T Σ_t [‖e_t − Enc(e_t)‖² + λ‖Enc(e_t)‖²] + 1/T Σ_t ‖e_t − Dec(Enc(e_t))‖²``.

    Every term is one word on its own: the pooled vector h = 1/T Σ_t e_t that §4.3 computes first never
    enters, the order of the words does not matter, and ``Enc`` must keep the D dimensions of a word
    vector for ``e_t − Enc(e_t)`` to exist.

    Defined in: notebooks/06_vae.ipynb
    """
    check_tensor(word_vectors, "word_vectors", dim=2, dtype="float")
    for name, f in (("encoder", encoder), ("decoder", decoder)):
        if not callable(f):
            raise ArgumentTypeError(f"{name} must be a function or module (T, D) → (T, D), got {type(f).__name__}")
    z = encoder(word_vectors)  # (T, D)
    return article_encoder_loss(word_vectors, z, lam) + article_decoder_loss(word_vectors, decoder(z))


def _check_logits(*logits: torch.Tensor) -> None:
    for a in logits:
        if not isinstance(a, torch.Tensor):
            raise ArgumentTypeError(f"expected a tensor of logits, got {type(a).__name__}")
        if a.dim() == 0:
            raise ArgumentError("expected batches of logits, shape (B,) or (B, 1), not scalars")
        check_tensor(a, "logits", dtype="float")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """GAN discriminator loss ``−[log D(x) + log(1 − D(G(z)))]``, each term averaged over its batch.

    Takes the discriminator's *logits* ``a`` (D = sigmoid(a)) and uses
    ``−log σ(a) = softplus(−a)`` and ``−log(1 − σ(a)) = softplus(a)``, which are finite for any
    logit (no ``log(0)`` for a logit of ±100). Equals ``BCE(D(x), 1) + BCE(D(G(z)), 0)``.

    Defined in: notebooks/07_gan.ipynb
    """
    _check_logits(real_logits, fake_logits)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """GAN generator loss from the discriminator's logits on generated samples.

    * ``"minimax"``: minimise ``log(1 − D(G(z)))`` = ``−softplus(a)`` (Goodfellow et al. 2014, eq. 1);
      its gradient vanishes when D confidently rejects the fakes (D(G(z)) ≈ 0), early in training.
    * ``"non_saturating"``: minimise ``−log D(G(z))`` = ``softplus(−a)`` (the paper's practical
      recommendation, §3); same fixed point, strong gradients when D(G(z)) ≈ 0.

    Defined in: notebooks/07_gan.ipynb
    """
    check_choice(kind, "kind", GENERATOR_KINDS)
    _check_logits(fake_logits)
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()  # −log D(G(z))
    return -F.softplus(fake_logits).mean()  # log(1 − D(G(z)))


def _check_prob(p: torch.Tensor, name: str) -> None:
    if not isinstance(p, torch.Tensor):
        raise ArgumentTypeError(f"{name} must be a tensor of probabilities, got {type(p).__name__}")
    if p.numel() and (p.min() < 0 or p.max() > 1):
        raise ArgumentError(
            f"{name} must hold probabilities in [0, 1] (apply torch.sigmoid to logits first), "
            f"got values in [{p.min().item():.3g}, {p.max().item():.3g}]"
        )


def article_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The article's discriminator loss, verbatim: ``L_D = −log(D(x) + D(G(z)))`` on probabilities (batch mean).

    Its minimum is at D(x) = D(G(z)) = 1: it rewards the discriminator for calling fakes real.
    Compare :func:`discriminator_loss`.

    Defined in: notebooks/07_gan.ipynb
    """
    _check_prob(d_real, "d_real")
    _check_prob(d_fake, "d_fake")
    if d_real.shape != d_fake.shape:
        raise ArgumentError(
            f"d_real and d_fake must have the same shape (one fake per real example), "
            f"got {tuple(d_real.shape)} and {tuple(d_fake.shape)}"
        )
    return -torch.log(d_real + d_fake).mean()


def article_generator_loss(d_real: torch.Tensor) -> torch.Tensor:
    """The article's generator loss, verbatim: ``L_G = −log D(x; θ_D)`` (batch mean).

    It is computed on *real* data only, so it does not depend on the generator: its gradient with
    respect to every generator parameter is exactly zero. Compare :func:`generator_loss`.

    Defined in: notebooks/07_gan.ipynb
    """
    _check_prob(d_real, "d_real")
    return -torch.log(d_real).mean()


def kl_anneal_weight(step: int, anneal_steps: int) -> float:
    """KL weight β for KL annealing: rises linearly from 0 to 1 over ``anneal_steps``, then stays 1.

    ``anneal_steps=0`` means no annealing (β = 1 from the first step).

    Defined in: notebooks/06_vae.ipynb
    """
    check_int(step, "step", min=0)
    check_int(anneal_steps, "anneal_steps", min=0)
    if anneal_steps == 0:
        return 1.0
    return min(1.0, step / anneal_steps)
