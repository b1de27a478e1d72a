"""Small synthetic data sets whose answers are known: a 2-D spiral (notebook 06) and a ring of Gaussians (07).

Defined in: notebooks/06_vae.ipynb

On toy data a model's behaviour can be checked against the truth: the spiral is a 1-D curve in
2-D (what does a 2-D latent space make of it?), and the ring's 8 modes can be counted (which of them
does a GAN's generator cover?).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .checks import check_float, check_int, check_probability, check_tensor
from .errors import ArgumentError, ArgumentTypeError

#: The standard deviation of the noise around the spiral (per coordinate).
SPIRAL_NOISE = 0.15
MAX_POINTS = 10_000_000  # more points than this are refused (they would not fit a learner's memory)
MAX_GRID = 1_000_000  # integration grid points


def spiral_curve(t: torch.Tensor) -> torch.Tensor:
    """The noiseless spiral at positions ``t`` ∈ [0, 1] (any shape (...)): points (..., 2).

    Radius ``1 + 3t``, angle ``3πt``: 1.5 turns from radius 1 to radius 4.

    Defined in: notebooks/06_vae.ipynb
    """
    if not isinstance(t, torch.Tensor):
        a = np.asarray(t) if isinstance(t, (list, tuple, np.ndarray, int, float)) else None
        if a is None or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise ArgumentTypeError(f"t must be a tensor (or array) of positions in [0, 1], got {type(t).__name__}")
        t = torch.as_tensor(a)
    t = t if t.is_floating_point() else t.float()
    angle, r = 3 * math.pi * t, 1 + 3 * t
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=-1)


def toy_spiral(n: int, generator: torch.Generator | None = None, noise: float = SPIRAL_NOISE):
    """``n`` points on a noisy 2-D spiral and their position ``t`` ∈ [0, 1] along it.

    ``t`` is uniform on [0, 1], and each point is ``spiral_curve(t)`` plus Gaussian noise of standard
    deviation ``noise`` in each coordinate. Returns ``x`` (n, 2) and ``t`` (n,). The data lie near a
    1-D curve inside 2-D space: a good test of what a 2-D latent space learns.

    Defined in: notebooks/06_vae.ipynb
    """
    check_int(n, "n", min=1, max=MAX_POINTS)
    check_float(noise, "noise", min=0.0)
    t = torch.rand(n, generator=generator)  # (n,)
    return spiral_curve(t) + noise * torch.randn(n, 2, generator=generator), t


def spiral_log_density(x: torch.Tensor, noise: float = SPIRAL_NOISE, n_grid: int = 4000) -> torch.Tensor:
    """The exact log-density log p(x) (nats) of :func:`toy_spiral`'s distribution at points ``x`` (N, 2).

    ``p(x) = ∫₀¹ N(x; spiral_curve(t), noise²·I) dt``, computed by the midpoint rule on ``n_grid`` values of
    t (float64). The mean over held-out points is the best log-likelihood any model can reach on average
    (minus the entropy of the data): the reference for a VAE's log p(x).

    Defined in: notebooks/06_vae.ipynb
    """
    check_float(noise, "noise", min=1e-6)
    check_int(n_grid, "n_grid", min=1, max=MAX_GRID)
    x = torch.as_tensor(check_tensor(x, "x"), dtype=torch.float64)
    if x.dim() != 2 or x.shape[1] != 2:
        raise ArgumentError(f"expected points of shape (N, 2), got {tuple(x.shape)}")
    t = (torch.arange(n_grid, dtype=torch.float64) + 0.5) / n_grid
    c = spiral_curve(t)  # (G, 2), float64
    d2 = torch.cdist(x, c).pow(2)  # (N, G)
    log_n = -d2 / (2 * noise**2) - math.log(2 * math.pi * noise**2)
    return torch.logsumexp(log_n, dim=1) - math.log(n_grid)  # (N,)


def distance_to_spiral(x: torch.Tensor, n_grid: int = 4000) -> torch.Tensor:
    """Distance (N,) from each point of ``x`` (N, 2) to the nearest point of the noiseless spiral.

    Defined in: notebooks/06_vae.ipynb
    """
    check_int(n_grid, "n_grid", min=1, max=MAX_GRID)
    x = torch.as_tensor(check_tensor(x, "x"), dtype=torch.float32)
    if x.dim() != 2 or x.shape[1] != 2:
        raise ArgumentError(f"expected points of shape (N, 2), got {tuple(x.shape)}")
    t = (torch.arange(n_grid, dtype=torch.float32) + 0.5) / n_grid
    return torch.cdist(x, spiral_curve(t)).min(dim=1).values


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``n_modes`` centres (n_modes, 2) evenly spaced on a circle of the given radius.

    Defined in: notebooks/07_gan.ipynb
    """
    check_int(n_modes, "n_modes", min=1, max=MAX_POINTS)
    radius = check_float(radius, "radius", min=0.0)
    a = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return radius * torch.stack([torch.cos(a), torch.sin(a)], dim=1)  # (K, 2)


def ring_of_gaussians(
    n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, generator: torch.Generator | None = None
):
    """``n`` samples (n, 2) from a mixture of ``n_modes`` equal Gaussians on a ring, and their mode ids (n,).

    Defined in: notebooks/07_gan.ipynb
    """
    check_int(n, "n", min=1, max=MAX_POINTS)
    check_int(n_modes, "n_modes", min=1, max=MAX_POINTS)
    std = check_float(std, "std", min=0.0)
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
    if not isinstance(samples, np.ndarray):
        check_tensor(samples, "samples")
    check_int(n_modes, "n_modes", min=1, max=MAX_POINTS)
    std = check_float(std, "std", min=0.0)
    min_share = check_probability(min_share, "min_share")
    s = torch.as_tensor(samples, dtype=torch.float32)
    if s.dim() != 2 or s.shape[1] != 2:
        raise ArgumentError(f"expected samples of shape (N, 2), got {tuple(s.shape)}")
    d = torch.cdist(s, ring_centers(n_modes, radius))  # (N, K)
    dist, nearest = d.min(dim=1)
    hq = dist < 3 * std  # (N,)
    per_mode = torch.bincount(nearest[hq], minlength=n_modes).float() / len(s)  # (K,)
    return {
        "modes_captured": int((per_mode >= min_share).sum()),
        "high_quality": float(hq.float().mean()),
        "per_mode": [round(float(v), 4) for v in per_mode],
    }
