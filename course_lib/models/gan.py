"""A small GAN for 2-D data (notebook 07 trains it on a ring of 8 Gaussians): generator, discriminator, the pair.

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

from dataclasses import dataclass

import torch
from torch import nn

from ..checks import check_instance, check_int
from ..nn_utils import mlp


@dataclass
class GANConfig:
    """Sizes of the generator and discriminator MLPs.

    Defined in: notebooks/07_gan.ipynb
    """

    data_dim: int = 2
    latent_dim: int = 4  # size of the noise z
    n_hidden: int = 128
    n_layer: int = 3  # Linear layers per network

    def __post_init__(self):
        for name in ("data_dim", "latent_dim", "n_hidden", "n_layer"):
            check_int(getattr(self, name), f"GANConfig.{name}", min=1)


class Generator(nn.Module):
    """G: noise z (B, latent_dim) → sample (B, data_dim).

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig):
        check_instance(config, "config", GANConfig)
        super().__init__()
        self.net = mlp(config.latent_dim, config.n_hidden, config.data_dim, config.n_layer, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, data_dim)


class Discriminator(nn.Module):
    """D: sample (B, data_dim) → logit (B,); D(x) = sigmoid(logit) is the probability "x is real".

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig):
        check_instance(config, "config", GANConfig)
        super().__init__()
        self.net = mlp(config.data_dim, config.n_hidden, 1, config.n_layer, nn.LeakyReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (B,)


class GAN(nn.Module):
    """The pair (G, D) in one module, so that :func:`course_lib.train.train` can hold it.

    Defined in: notebooks/07_gan.ipynb
    """

    def __init__(self, config: GANConfig | None = None):
        if config is not None:
            check_instance(config, "config", GANConfig)
        super().__init__()
        self.config = config = config or GANConfig()
        self.G = Generator(config)
        self.D = Discriminator(config)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.G(torch.randn(n, self.config.latent_dim, generator=generator))  # (n, data_dim)
