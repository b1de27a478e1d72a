"""Losses of the variational autoencoder and the GAN, and the article's versions of them, side by side.

Defined in: notebooks/06_vae.ipynb

Correct losses:

* :func:`gaussian_kl`, :func:`reparameterize` and :func:`vae_loss`: the negative ELBO of a VAE
  (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"), ``recon + beta * KL``
  (Higgins et al. 2017 for ``beta``).
* :func:`discriminator_loss` and :func:`generator_loss`: the GAN losses of Goodfellow et al. 2014,
  "Generative Adversarial Nets", computed from logits so that they never overflow.

The article's formulas, implemented verbatim so the notebooks can run them beside the correct ones:

* :func:`article_vae_loss` (§4.1.3.1): a log-likelihood used as a loss (wrong sign), no encoder, no KL.
* :func:`article_encoder_loss` (§4.2.1): ``‖x − z‖²``, data compared with a latent code.
* :func:`article_discriminator_loss` (§4.1.3.2/§4.2.2): ``−log(D(x) + D(G(z)))``.
* :func:`article_generator_loss` (§4.1.3.2/§4.2.2): ``−log D(x)``, which does not depend on G.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

VAE_KINDS = ("gaussian", "bernoulli", "categorical")
GENERATOR_KINDS = ("non_saturating", "minimax")


def _check_mu_logvar(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise TypeError(f"mu and logvar must be tensors, got {type(mu).__name__} and {type(logvar).__name__}")
    if mu.shape != logvar.shape or mu.dim() < 1:
        raise ValueError(
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


def reconstruction_nll(recon: torch.Tensor, target: torch.Tensor, kind: str = "gaussian") -> torch.Tensor:
    """−log p(x | z) per example, shape (B,).

    * ``"gaussian"``: ``recon`` is the mean (B, D) of N(mean, I); includes the ``D/2 · log 2π`` constant.
    * ``"bernoulli"``: ``recon`` holds logits (B, D), ``target`` values in [0, 1].
    * ``"categorical"``: ``recon`` holds logits (B, T, V), ``target`` token ids (B, T); positions
      whose target is ``-100`` (padding) are ignored, as in ``F.cross_entropy``. Summed over T.

    Defined in: notebooks/06_vae.ipynb
    """
    if kind not in VAE_KINDS:
        raise ValueError(f"kind must be one of {VAE_KINDS}, got {kind!r}")
    if kind == "categorical":
        if recon.dim() != 3 or target.shape != recon.shape[:2]:
            raise ValueError(
                f"categorical: expected logits (B, T, V) and target ids (B, T), "
                f"got {tuple(recon.shape)} and {tuple(target.shape)}"
            )
        B, T, V = recon.shape
        nll = F.cross_entropy(
            recon.reshape(B * T, V), target.reshape(B * T), ignore_index=-100, reduction="none"
        )  # (B*T,)
        return nll.view(B, T).sum(-1)  # (B,)
    if recon.shape != target.shape:
        raise ValueError(
            f"{kind}: recon and target must have the same shape (B, D), "
            f"got {tuple(recon.shape)} and {tuple(target.shape)}"
        )
    flat_r, flat_t = recon.reshape(len(recon), -1), target.reshape(len(target), -1)  # (B, D)
    if kind == "gaussian":
        return 0.5 * (flat_t - flat_r).pow(2).sum(-1) + 0.5 * flat_r.shape[1] * math.log(2 * math.pi)
    return F.binary_cross_entropy_with_logits(flat_r, flat_t, reduction="none").sum(-1)


def vae_loss(
    recon_logits_or_mean: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    kind: str = "gaussian",
) -> dict[str, torch.Tensor]:
    """The negative ELBO, ``E_q[−log p(x|z)] + beta · KL(q(z|x) ‖ p(z))``, averaged over the batch.

    Returns ``{"loss": recon + beta·kl, "recon": recon, "kl": kl}`` (scalars, nats per example), the
    dict :func:`course_lib.train.train` optimises ("loss") and logs (the rest). ``kind`` is
    ``"gaussian"`` (unit-variance Gaussian decoder, ``recon`` is its mean), ``"bernoulli"`` (logits)
    or ``"categorical"`` (logits (B, T, V) over a vocabulary, targets (B, T), ``-100`` = padding);
    see :func:`reconstruction_nll`. ``beta = 1`` gives the true ELBO; ``beta`` < 1 during KL annealing.

    Defined in: notebooks/06_vae.ipynb
    """
    if not (isinstance(beta, (int, float)) and beta >= 0 and math.isfinite(beta)):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    _check_mu_logvar(mu, logvar)
    if len(mu) != len(target):
        raise ValueError(f"mu has {len(mu)} rows but target has {len(target)}: one latent code per example")
    recon = reconstruction_nll(recon_logits_or_mean, target, kind).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


def article_vae_loss(recon_logits_or_mean: torch.Tensor, target: torch.Tensor, kind: str = "gaussian") -> torch.Tensor:
    """The article's §4.1.3.1 VAE objective, verbatim: ``L = log p(x | z)`` used as a loss to minimise.

    Two errors: the sign (minimising a log-likelihood makes the data *less* likely) and what is
    missing (no encoder q(z|x), no KL term; z is just drawn from the prior). Returns the batch mean.
    Compare :func:`vae_loss`, the negative ELBO.

    Defined in: notebooks/06_vae.ipynb
    """
    return -reconstruction_nll(recon_logits_or_mean, target, kind).mean()


def article_encoder_loss(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The article's §4.2.1 "encoder loss" ``‖x − z‖²`` (batch mean of the squared distance).

    It compares data ``x`` (B, D) with a latent code ``z`` (B, d). When ``D != d`` it is not
    defined, and this function raises; when ``D == d`` it can be computed, and it pulls the code
    towards the data (see notebooks/06_vae.ipynb for what that does to a trained VAE). No VAE
    objective contains such a term.

    Defined in: notebooks/06_vae.ipynb
    """
    if x.dim() != 2 or z.dim() != 2 or x.shape[0] != z.shape[0]:
        raise ValueError(f"expected x (B, D) and z (B, d), got {tuple(x.shape)} and {tuple(z.shape)}")
    if x.shape[1] != z.shape[1]:
        raise ValueError(
            f"‖x − z‖² is undefined: the data has D = {x.shape[1]} dimensions but the latent code "
            f"has d = {z.shape[1]}; a VAE's loss never compares x with z"
        )
    return (x - z).pow(2).sum(-1).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """GAN discriminator loss ``−[log D(x) + log(1 − D(G(z)))]``, each term averaged over its batch.

    Takes the discriminator's *logits* ``a`` (D = sigmoid(a)) and uses
    ``−log σ(a) = softplus(−a)`` and ``−log(1 − σ(a)) = softplus(a)``, which are finite for any
    logit (no ``log(0)`` for a logit of ±100). Equals ``BCE(D(x), 1) + BCE(D(G(z)), 0)``.

    Defined in: notebooks/07_gan.ipynb
    """
    if real_logits.dim() == 0 or fake_logits.dim() == 0:
        raise ValueError("discriminator_loss expects batches of logits, shape (B,) or (B, 1), not scalars")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """GAN generator loss from the discriminator's logits on generated samples.

    * ``"minimax"``: minimise ``log(1 − D(G(z)))`` = ``−softplus(a)`` (Goodfellow et al. 2014, eq. 1);
      its gradient vanishes when D confidently rejects the fakes (D(G(z)) ≈ 0), early in training.
    * ``"non_saturating"``: minimise ``−log D(G(z))`` = ``softplus(−a)`` (the paper's practical
      recommendation, §3); same fixed point, strong gradients when D(G(z)) ≈ 0.

    Defined in: notebooks/07_gan.ipynb
    """
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    raise ValueError(f"kind must be one of {GENERATOR_KINDS}, got {kind!r}")


def _check_prob(p: torch.Tensor, name: str) -> None:
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of probabilities, got {type(p).__name__}")
    if p.numel() and (p.min() < 0 or p.max() > 1):
        raise ValueError(
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
    if anneal_steps <= 0:
        return 1.0
    return min(1.0, step / anneal_steps)
