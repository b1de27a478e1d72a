"""Tests for course_lib.losses (GAN part) and course_lib.models.gan (notebook 07)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.errors import ArgumentError
from course_lib.generate import gumbel_softmax_sample
from course_lib.labs.gan import (
    discriminator_loss_panel,
    discriminator_loss_table,
    gan_losses,
    gan_training_panel,
    gumbel_softmax_study,
    mode_history,
    plot_snapshot_grid,
    snapshot_panel,
    train_gan,
)
from course_lib.losses import article_discriminator_loss, article_generator_loss, discriminator_loss, generator_loss
from course_lib.models.gan import GAN, GANConfig
from course_lib.toy_data import mode_coverage, ring_centers, ring_of_gaussians
from course_lib.widgets import InputError


def test_discriminator_loss_equals_bce():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        # float64 and moderate logits: the probability form loses precision once sigmoid saturates
        r = 3 * torch.randn(64, generator=g, dtype=torch.float64)
        f = 3 * torch.randn(32, generator=g, dtype=torch.float64)
        ours = discriminator_loss(r, f)
        via_probs = F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r)) + F.binary_cross_entropy(
            torch.sigmoid(f), torch.zeros_like(f)
        )
        via_logits = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + F.binary_cross_entropy_with_logits(
            f, torch.zeros_like(f)
        )
        torch.testing.assert_close(ours, via_probs, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(ours, via_logits, rtol=1e-12, atol=1e-12)


def test_losses_finite_for_extreme_logits():
    big = torch.tensor([100.0, -100.0])
    for real, fake in ((big, big), (-big, big), (big, -big)):
        assert torch.isfinite(discriminator_loss(real, fake))
        for kind in ("non_saturating", "minimax"):
            assert torch.isfinite(generator_loss(fake, kind))
    # the exact value: D sure and right -> ~0; D sure and wrong -> ~200
    torch.testing.assert_close(discriminator_loss(torch.tensor([100.0]), torch.tensor([-100.0])), torch.tensor(0.0))
    torch.testing.assert_close(discriminator_loss(torch.tensor([-100.0]), torch.tensor([100.0])), torch.tensor(200.0))
    x = torch.tensor([100.0], requires_grad=True)
    discriminator_loss(-x, x).backward()
    assert torch.isfinite(x.grad).all()


def test_generator_losses_values_and_gradients():
    a = torch.tensor([-3.0, 0.0, 2.0], requires_grad=True)
    d = torch.sigmoid(a)
    torch.testing.assert_close(generator_loss(a, "non_saturating"), -torch.log(d).mean())
    torch.testing.assert_close(generator_loss(a, "minimax"), torch.log(1 - d).mean())
    (g_ns,) = torch.autograd.grad(generator_loss(a, "non_saturating"), a)
    (g_mm,) = torch.autograd.grad(generator_loss(a, "minimax"), a)
    # d/da: non-saturating -(1 - D)/n, minimax -D/n: minimax vanishes when D(G(z)) -> 0
    torch.testing.assert_close(g_ns, -(1 - d.detach()) / 3)
    torch.testing.assert_close(g_mm, -d.detach() / 3)
    assert g_mm[0].abs() < 0.02 < g_ns[0].abs()
    with pytest.raises(ArgumentError, match="kind"):
        generator_loss(a, "wasserstein")


def test_article_discriminator_loss_rewards_calling_fakes_real():
    # the flaw: for any D(x), L_D is lowest when D(G(z)) -> 1
    d_fake = torch.linspace(0.0, 1.0, 101)
    for dr in (0.1, 0.5, 0.9, 0.99):
        vals = torch.stack([article_discriminator_loss(torch.tensor([dr]), df[None]) for df in d_fake])
        assert vals.argmin() == 100  # D(G(z)) = 1
        assert (vals[1:] < vals[:-1]).all()  # strictly decreasing in D(G(z))
    # the correct loss goes the other way
    correct = [discriminator_loss(torch.logit(torch.tensor([0.9])), torch.logit(torch.tensor([p]))) for p in (0.1, 0.9)]
    assert correct[0] < correct[1]
    # minimising it by gradient descent on logits drives D(G(z)) to 1
    logits = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=1.0)
    for _ in range(500):
        loss = article_discriminator_loss(torch.sigmoid(logits[:1]), torch.sigmoid(logits[1:]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.sigmoid(logits[1]) > 0.95 and torch.sigmoid(logits[0]) > 0.95
    with pytest.raises(ArgumentError, match="probabilities"):
        article_discriminator_loss(torch.tensor([2.0]), torch.tensor([0.5]))


def test_article_generator_loss_gives_zero_generator_gradient():
    torch.manual_seed(0)
    gan = GAN(GANConfig(n_hidden=16))
    real, _ = ring_of_gaussians(32, generator=torch.Generator().manual_seed(0))
    _, g_loss = gan_losses("article")
    loss = g_loss(gan, (real, torch.randn(32, 4)))
    grads = torch.autograd.grad(loss, list(gan.G.parameters()), allow_unused=True)
    assert all(gr is None or torch.equal(gr, torch.zeros_like(gr)) for gr in grads)
    assert torch.allclose(loss, article_generator_loss(torch.sigmoid(gan.D(real))))
    # while the correct generator loss does move G
    _, g_ok = gan_losses("non_saturating")
    grads = torch.autograd.grad(g_ok(gan, (real, torch.randn(32, 4))), list(gan.G.parameters()))
    assert sum(gr.abs().sum() for gr in grads) > 0


def test_one_step_lowers_gan_losses_on_fixed_batch():
    torch.manual_seed(0)
    gan = GAN(GANConfig(n_hidden=32))
    g = torch.Generator().manual_seed(1)
    batch = (ring_of_gaussians(256, generator=g)[0], torch.randn(256, 4, generator=g))
    d_loss, g_loss = gan_losses("non_saturating")
    for fn, params in ((d_loss, gan.D.parameters()), (g_loss, gan.G.parameters())):
        opt = torch.optim.SGD(params, lr=0.05)
        out = fn(gan, batch)
        before = out["loss"] if isinstance(out, dict) else out
        opt.zero_grad()
        before.backward()
        opt.step()
        after = fn(gan, batch)
        after = after["loss"] if isinstance(after, dict) else after
        assert after.item() < before.item()


def test_mode_coverage_on_known_samplers():
    g = torch.Generator().manual_seed(0)
    perfect, _ = ring_of_gaussians(4000, generator=g)
    cov = mode_coverage(perfect)
    assert cov["modes_captured"] == 8 and cov["high_quality"] > 0.98
    one_mode = ring_centers()[3] + 0.05 * torch.randn(1000, 2, generator=g)
    cov = mode_coverage(one_mode)
    assert cov["modes_captured"] == 1 and cov["per_mode"][3] > 0.98
    assert mode_coverage(torch.zeros(100, 2))["high_quality"] == 0.0
    with pytest.raises(ArgumentError, match=r"\(N, 2\)"):
        mode_coverage(torch.zeros(10, 3))


def test_train_gan_and_snapshot_panel():
    model, hist, snaps = train_gan(
        "non_saturating", steps=30, snapshot_every=10, n_eval=200, config=GANConfig(n_hidden=16), progress=False
    )
    assert sorted(snaps) == [0, 10, 20, 30]
    assert {"d_loss.loss", "g_loss.loss", "modes_captured", "high_quality"} <= set(hist.columns)
    _, _, snaps_art = train_gan(
        "article", steps=25, snapshot_every=10, n_eval=200, config=GANConfig(n_hidden=16), progress=False
    )
    assert sorted(snaps_art) == [0, 10, 20, 25]
    # the article's L_G never moves the generator
    assert (snaps_art[0] == snaps_art[25]).all()
    panel = snapshot_panel({"correct": snaps, "article": snaps_art})
    assert panel.error is None and panel.text.startswith("[figure] correct, step 30")
    panel.controls["run"].value = "article"
    assert panel.error is not None and "no snapshot at step 30" in panel.error
    panel.controls["step"].value = 20
    assert panel.error is None and "article, step 20" in panel.text


def test_discriminator_loss_panel_driven():
    panel = discriminator_loss_panel()
    assert panel.error is None and "article" in panel.text
    table = panel.result
    art = table[table["loss"].str.startswith("article")].iloc[0]
    assert art["gradient descent pushes D(G(z))"].startswith("UP")
    panel.controls["d_fake"].value = 0.9
    art = panel.result[panel.result["loss"].str.startswith("article")].iloc[0]
    assert abs(art["value"] - (-torch.log(torch.tensor(1.8)).item())) < 1e-3
    with pytest.raises(InputError, match=r"D\(x\) must be a probability strictly between 0 and 1, got 1.5"):
        discriminator_loss_table(1.5, 0.5)


def test_gumbel_softmax_gradient_and_tradeoff():
    logits = torch.tensor([1.0, 0.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    reward = torch.tensor([1.0, -1.0, 2.0, 0.0], dtype=torch.float64)
    y = gumbel_softmax_sample(logits, 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y.sum(-1), torch.ones(1, dtype=torch.float64))
    (auto,) = torch.autograd.grad((y * reward).sum(), logits)
    closed = (y * (reward - (y * reward).sum(-1, keepdim=True)) / 0.5).sum(0)
    torch.testing.assert_close(auto, closed)
    table = gumbel_softmax_study(logits, reward, taus=[0.1, 1.0, 5.0], n=2000)
    # low temperature: nearly one-hot, little bias, large variance; high temperature: the opposite
    assert table["one_hotness"].is_monotonic_decreasing
    assert table["variance"].iloc[0] > table["variance"].iloc[-1]
    assert table["bias"].iloc[0] < table["bias"].iloc[-1]
    # a sampled token id carries no gradient
    tok = torch.multinomial(torch.softmax(logits, -1), 1)
    assert not tok.requires_grad


def test_maximising_the_generator_loss_reverses_its_gradient():
    torch.manual_seed(0)
    gan = GAN(GANConfig(n_hidden=16))
    batch = (ring_of_gaussians(64, generator=torch.Generator().manual_seed(0))[0], torch.randn(64, 4))
    _, g_ok = gan_losses("non_saturating")
    _, g_max = gan_losses("article_max")
    torch.testing.assert_close(g_max(gan, batch), -g_ok(gan, batch))
    with pytest.raises(ArgumentError, match="kind"):
        gan_losses("wgan")


def test_mode_history_counts_modes_and_changes():
    g = torch.Generator().manual_seed(0)
    centers = ring_centers()
    two = torch.cat(
        [centers[[1]] + 0.01 * torch.randn(100, 2, generator=g), centers[[5]] + 0.01 * torch.randn(100, 2, generator=g)]
    )
    snaps = {0: torch.zeros(200, 2).numpy(), 10: two.numpy(), 20: ring_of_gaussians(800, generator=g)[0].numpy()}
    h = mode_history(snaps)
    assert h["modes"].tolist() == [0, 2, 8] and h["which"].tolist()[1] == "1 5"
    assert h["high_quality"].iloc[1] == 1.0


def test_snapshot_grid_counts_samples_off_the_frame():
    far = {0: np.full((50, 2), 10.0), 5: ring_of_gaussians(50, generator=torch.Generator().manual_seed(0))[0].numpy()}
    fig = plot_snapshot_grid({"far away": far})
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "100% off the frame" in texts and fig.axes[0].get_ylabel() == "far away"
    plt.close(fig)
    with pytest.raises(ArgumentError):
        plot_snapshot_grid({})


def test_gan_training_panel_uses_the_cache_and_trains_live():
    _, _, snaps = train_gan(
        "non_saturating", steps=20, seed=0, snapshot_every=10, config=GANConfig(n_hidden=16), progress=False
    )
    cache = {(5e-3, 0): snaps}
    panel = gan_training_panel(cache, steps=20, snapshot_every=10, seeds=3, lr_d=5e-3, seed=0)
    assert panel.error is None and "seed 0" in panel.text and "5e-3" not in panel.text
    panel.controls["seed"].value = 2  # not cached: trains live (20 steps), then cached
    assert panel.error is None and (5e-3, 2) in cache and "seed 2" in panel.text
    with pytest.raises(ArgumentError, match="seed"):
        gan_training_panel(cache, steps=20, seeds=3, seed=5)
    with pytest.raises(ArgumentError, match="lr_d"):
        gan_training_panel(cache, steps=20, lr_d=0.1)
    plt.close("all")
