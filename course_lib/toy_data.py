"""Small synthetic data sets whose answers are known: a 2-D spiral (notebook 06) and a ring of Gaussians (07).

Defined in: notebooks/06_vae.ipynb

On toy data a model's behaviour can be checked against the truth: the spiral is a 1-D curve in
2-D (what does a 2-D latent space make of it?), and the ring's 8 modes can be counted (which of them
does a GAN's generator cover?).
"""

from __future__ import annotations

import math

import torch


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
