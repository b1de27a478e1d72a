"""Tests for course_lib.losses (VAE part) and course_lib.models.vae (notebook 06)."""

import math

import matplotlib.pyplot as plt
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_lib.data import WordTokenizer
from course_lib.errors import ArgumentError
from course_lib.labs.vae import (
    beta_panel,
    encode_sentences,
    errata_markdown,
    interpolation_panel,
    interpolation_table,
    order_sensitivity,
    plot_prior_grid,
    sample_quality,
    sentence_vae_loss,
    shuffled_pair_check,
    summarize_article_model,
    summarize_toy_vae,
    toy_log_likelihood,
    toy_vae_loss,
    train_article_autoencoder,
    train_article_objective,
    train_case_study,
    train_toy_vae,
)
from course_lib.losses import (
    article_case_study_loss,
    article_decoder_loss,
    article_encoder_loss,
    article_vae_loss,
    gaussian_kl,
    iwae_bound,
    kl_anneal_weight,
    reconstruction_nll,
    reparameterize,
    standard_normal_log_prob,
    vae_loss,
)
from course_lib.models.vae import SentenceVAE, SentenceVAEConfig, ToyVAE, ToyVAEConfig
from course_lib.toy_data import distance_to_spiral, spiral_curve, spiral_log_density, toy_spiral
from course_lib.train import train

SENTENCES = [
    "Tom is happy.",
    "Mary is sad.",
    "I am hungry.",
    "Tom hit Mary.",
    "Mary hit Tom.",
    "We went home.",
    "I like cats.",
    "You are late.",
]


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        B, d = torch.randint(1, 9, (2,), generator=g).tolist()
        mu = 3 * torch.randn(B, d, generator=g, dtype=torch.float64)
        logvar = 4 * torch.randn(B, d, generator=g, dtype=torch.float64)
        ours = gaussian_kl(mu, logvar)
        ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
        assert ours.shape == (B,)
        torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)


def test_kl_nonnegative_and_exactly_zero_at_prior():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(1000, 5, generator=g), 3 * torch.randn(1000, 5, generator=g)
    assert (gaussian_kl(mu, logvar) >= 0).all()
    zero = gaussian_kl(torch.zeros(4, 7), torch.zeros(4, 7))
    assert torch.equal(zero, torch.zeros(4))


def test_gaussian_kl_rejects_bad_shapes():
    with pytest.raises(ArgumentError, match="same shape"):
        gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 4))


def test_reparameterize_mean_variance_and_gradient():
    g = torch.Generator().manual_seed(2)
    mu = torch.tensor([[1.5, -2.0, 0.0]]).expand(200_000, 3).clone().requires_grad_(True)
    logvar = torch.log(torch.tensor([[0.25, 4.0, 1.0]])).expand(200_000, 3).clone().requires_grad_(True)
    z = reparameterize(mu, logvar, generator=g)
    torch.testing.assert_close(z.mean(0), torch.tensor([1.5, -2.0, 0.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(z.var(0), torch.tensor([0.25, 4.0, 1.0]), atol=0.03, rtol=0.02)
    z.sum().backward()  # gradients flow to mu and logvar: dz/dmu = 1
    assert torch.equal(mu.grad, torch.ones_like(mu))
    assert logvar.grad.abs().sum() > 0
    # reproducible with a generator
    a = reparameterize(torch.zeros(3, 2), torch.zeros(3, 2), torch.Generator().manual_seed(5))
    b = reparameterize(torch.zeros(3, 2), torch.zeros(3, 2), torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_vae_loss_parts_and_kinds():
    g = torch.Generator().manual_seed(3)
    x, mean = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    mu, logvar = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)
    out = vae_loss(mean, x, mu, logvar, beta=0.5)
    expected_recon = -Normal(mean, 1.0).log_prob(x).sum(-1).mean()
    torch.testing.assert_close(out["recon"], expected_recon)
    torch.testing.assert_close(out["kl"], gaussian_kl(mu, logvar).mean())
    torch.testing.assert_close(out["loss"], out["recon"] + 0.5 * out["kl"])
    # categorical with padding ignored
    logits = torch.randn(2, 3, 5, generator=g)
    tgt = torch.tensor([[1, 2, -100], [4, -100, -100]])
    nll = reconstruction_nll(logits, tgt, "categorical")
    lp = logits.log_softmax(-1)
    torch.testing.assert_close(nll, torch.stack([-(lp[0, 0, 1] + lp[0, 1, 2]), -lp[1, 0, 4]]))
    # bernoulli
    bl = torch.randn(6, 4, generator=g)
    bt = (torch.rand(6, 4, generator=g) > 0.5).float()
    torch.testing.assert_close(
        reconstruction_nll(bl, bt, "bernoulli"),
        torch.nn.functional.binary_cross_entropy_with_logits(bl, bt, reduction="none").sum(-1),
    )
    with pytest.raises(ArgumentError, match="kind"):
        vae_loss(mean, x, mu, logvar, kind="poisson")
    with pytest.raises(ArgumentError, match="beta"):
        vae_loss(mean, x, mu, logvar, beta=-1.0)


def test_reconstruction_nll_with_sigma_matches_torch_normal():
    g = torch.Generator().manual_seed(4)
    x, mean = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    for log_sigma in (0.0, math.log(0.15), torch.tensor([0.1, -0.5, 1.0], dtype=torch.float64)):
        ref = -Normal(mean, torch.as_tensor(log_sigma, dtype=torch.float64).exp()).log_prob(x).sum(-1)
        torch.testing.assert_close(reconstruction_nll(mean, x, "gaussian", log_sigma), ref)


def test_observation_noise_is_a_hidden_beta():
    # σ = 1, β = 1 equals σ0², β = 1/σ0² up to a constant factor σ0² and an additive constant: same gradients
    g = torch.Generator().manual_seed(5)
    mean = torch.randn(8, 2, generator=g, dtype=torch.float64, requires_grad=True)
    mu = torch.randn(8, 2, generator=g, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(8, 2, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(8, 2, generator=g, dtype=torch.float64)
    s0 = 0.15
    a = vae_loss(mean, x, mu, logvar, beta=1.0)["loss"]
    b = vae_loss(mean, x, mu, logvar, beta=1 / s0**2, log_sigma=math.log(s0))["loss"]
    const = s0**2 * 2 * (math.log(s0) + 0.5 * math.log(2 * math.pi)) - math.log(2 * math.pi)
    torch.testing.assert_close((s0**2 * b - a).item(), const)
    ga = torch.autograd.grad(a, [mean, mu, logvar], retain_graph=True)
    gb = torch.autograd.grad(b, [mean, mu, logvar])
    for u, v in zip(ga, gb):
        torch.testing.assert_close(s0**2 * v, u)


def test_standard_normal_log_prob_and_iwae_bound_exact_at_true_posterior():
    g = torch.Generator().manual_seed(6)
    z = torch.randn(7, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(standard_normal_log_prob(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    # linear-Gaussian model: z ~ N(0,1), x|z ~ N(wz + b, 1); with q = the true posterior every weight equals p(x)
    w, b, x = 2.0, 0.5, torch.tensor([3.0, -1.0], dtype=torch.float64)
    post_var = 1 / (1 + w**2)
    mu = (w * (x - b) * post_var)[:, None]  # (B, 1)
    logvar = torch.full_like(mu, math.log(post_var))
    zk = mu + math.sqrt(post_var) * torch.randn(50, 2, 1, generator=g, dtype=torch.float64)  # (K, B, 1)
    log_px_z = Normal(w * zk[..., 0] + b, 1.0).log_prob(x)  # (K, B)
    exact = Normal(b, math.sqrt(w**2 + 1)).log_prob(x)
    torch.testing.assert_close(iwae_bound(log_px_z, zk, mu, logvar), exact)
    # with a poor proposal it is a lower estimate that rises with K (on average)
    bad_mu = torch.zeros_like(mu)
    bad_lv = torch.zeros_like(logvar)
    est = []
    for k in (1, 1000):
        zk = torch.randn(k, 2, 1, generator=g, dtype=torch.float64)
        est.append(iwae_bound(Normal(w * zk[..., 0] + b, 1.0).log_prob(x), zk, bad_mu, bad_lv))
    assert (est[0] < exact).all() and (est[1] - exact).abs().max() < 0.1
    with pytest.raises(ArgumentError, match=r"\(K, B, d\)"):
        iwae_bound(log_px_z, zk[..., 0], mu, logvar)


def test_article_vae_loss_as_printed_has_both_signs_wrong():
    x = torch.zeros(4, 2, dtype=torch.float64)
    good, bad = torch.zeros(4, 2, dtype=torch.float64), torch.full((4, 2), 3.0, dtype=torch.float64)
    z0, zfar = torch.zeros(4, 2, dtype=torch.float64), torch.full((4, 2), 3.0, dtype=torch.float64)
    # the exact value: log p(x|z) + λ log p(z) with σ = 1, D = d = 2, x̂ = x, z = 0: −log 2π − λ log 2π
    torch.testing.assert_close(article_vae_loss(good, x, z0, lam=1.0).item(), -2 * math.log(2 * math.pi))
    # a better reconstruction and a code nearer the prior both give a HIGHER article loss
    assert article_vae_loss(good, x, z0, lam=1.0) > article_vae_loss(bad, x, z0, lam=1.0)
    assert article_vae_loss(good, x, z0, lam=1.0) > article_vae_loss(good, x, zfar, lam=1.0)
    assert article_vae_loss(good, x, zfar, lam=0.0) == article_vae_loss(good, x, z0, lam=0.0)
    assert vae_loss(good, x, z0, z0)["loss"] < vae_loss(bad, x, z0, z0)["loss"]
    with pytest.raises(ArgumentError, match="one latent code per example"):
        article_vae_loss(good, x, torch.zeros(3, 2), lam=1.0)


def test_article_encoder_and_decoder_losses():
    with pytest.raises(ArgumentError, match="undefined"):
        article_encoder_loss(torch.zeros(5, 784), torch.zeros(5, 16))
    torch.testing.assert_close(article_encoder_loss(torch.ones(3, 2), torch.zeros(3, 2)), torch.tensor(2.0))
    torch.testing.assert_close(article_encoder_loss(torch.ones(3, 2), torch.ones(3, 2), lam=0.5), torch.tensor(1.0))
    # its minimum over z is at z = x / (1 + λ), with value λ/(1 + λ)·‖x‖²
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    lam = 1.5
    z = (x / (1 + lam)).requires_grad_(True)
    (grad,) = torch.autograd.grad(article_encoder_loss(x, z, lam), z)
    assert grad.abs().max() < 1e-12
    torch.testing.assert_close(article_encoder_loss(x, z.detach(), lam), lam / (1 + lam) * x.pow(2).sum(-1).mean())
    torch.testing.assert_close(article_decoder_loss(x, x + 1), torch.tensor(2.0, dtype=torch.float64))
    with pytest.raises(ArgumentError, match="x_prime"):
        article_decoder_loss(x, torch.zeros(2, 3, dtype=torch.float64))


def test_article_case_study_loss_ignores_h_and_order_and_has_a_closed_form_minimum():
    g = torch.Generator().manual_seed(7)
    e = torch.randn(10, 4, generator=g, dtype=torch.float64)
    enc, dec = torch.nn.Linear(4, 4).double(), torch.nn.Linear(4, 4).double()
    h = e.mean(0).requires_grad_(True)
    loss = article_case_study_loss(e, enc, dec, lam=1.0)
    assert torch.autograd.grad(loss, h, allow_unused=True)[0] is None
    perm = torch.randperm(10, generator=g)
    torch.testing.assert_close(article_case_study_loss(e[perm], enc, dec, lam=1.0), loss)
    lam = 3.0
    with torch.no_grad():
        enc.weight.copy_(torch.eye(4) / (1 + lam))
        enc.bias.zero_()
        dec.weight.copy_(torch.eye(4) * (1 + lam))
        dec.bias.zero_()
    best = article_case_study_loss(e, enc, dec, lam=lam)
    torch.testing.assert_close(best, lam / (1 + lam) * e.pow(2).sum(-1).mean())
    with pytest.raises(ArgumentError, match="undefined"):
        article_case_study_loss(e, torch.nn.Linear(4, 2).double(), torch.nn.Linear(2, 4).double())


def test_train_case_study_approaches_its_closed_form_minimum():
    g = torch.Generator().manual_seed(8)
    e = torch.randn(30, 5, generator=g)
    enc, dec, hist = train_case_study(e, lam=1.0, steps=400, lr=3e-2, progress=False)
    with torch.no_grad():
        final = article_case_study_loss(e, enc, dec, 1.0).item()
    minimum = 0.5 * e.pow(2).sum(-1).mean().item()
    assert hist["loss"].iloc[0] > 2 * minimum and minimum - 1e-5 <= final < 1.3 * minimum


def test_spiral_density_is_normalised_and_distances_are_right():
    side = torch.arange(-5.5, 5.5, 0.05)
    grid = torch.cartesian_prod(side, side)  # (N, 2)
    total = spiral_log_density(grid, n_grid=600).exp().sum().item() * 0.05**2
    assert abs(total - 1.0) < 2e-3
    t = torch.linspace(0, 1, 50)
    assert distance_to_spiral(spiral_curve(t)).max() < 0.01  # the curve is sampled at 4,000 points
    assert abs(distance_to_spiral(torch.zeros(1, 2)).item() - 1.0) < 1e-3  # nearest: the start (1, 0)
    q = sample_quality(spiral_curve(torch.rand(500, generator=torch.Generator().manual_seed(0))), spiral_curve(t))
    assert q["on_spiral"] == 1.0 and q["covers_data"] == 1.0
    disc = 4 * torch.rand(500, 2, generator=torch.Generator().manual_seed(1)) - 2
    assert sample_quality(disc, spiral_curve(t))["on_spiral"] < 0.6
    with pytest.raises(ArgumentError, match=r"\(N, 2\)"):
        spiral_log_density(torch.zeros(3))


def test_toy_vae_sigma_learned_or_fixed_and_learning_lowers_it():
    fixed = ToyVAE(ToyVAEConfig(obs_sigma=1.0))
    assert "log_sigma" in dict(fixed.named_buffers()) and "log_sigma" not in dict(fixed.named_parameters())
    with pytest.raises(ArgumentError, match="obs_sigma"):
        ToyVAEConfig(obs_sigma=0.0)
    x, _ = toy_spiral(256, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = ToyVAE()
    assert isinstance(model.log_sigma, torch.nn.Parameter)
    with torch.no_grad():
        model.log_sigma.fill_(math.log(0.5))
    torch.manual_seed(1)
    out = toy_vae_loss(model, {"x": x, "beta": 1.0})
    out["loss"].backward()
    torch.manual_seed(1)
    with torch.no_grad():
        mean, *_ = model(x)
    # d/d log σ of mean_B [ Σ_j (x_j − m_j)²/(2σ²) + log σ ] = 1 − mean_B (x_j − m_j)²/σ², per coordinate
    expected = 1 - ((x - mean) ** 2).mean(0) / 0.25
    torch.testing.assert_close(model.log_sigma.grad, expected, rtol=1e-4, atol=1e-5)
    trained, hist = train_toy_vae(x, steps=20, progress=False)
    assert "sigma" in hist and hist["sigma"].iloc[-1] != 1.0
    assert trained.sample(7).shape == (7, 2) and trained.sample(3, noise=False).shape == (3, 2)


def test_article_objective_readings_and_the_421_autoencoder():
    x, _ = toy_spiral(1000, generator=torch.Generator().manual_seed(0))
    _, printed = train_article_objective(x, "as printed", steps=40, progress=False)
    assert (
        printed["loss"].iloc[-1] < printed["loss"].iloc[0]
        and printed["sq_error"].iloc[-1] > 10 * printed["sq_error"].iloc[0]
    )
    model, fixed = train_article_objective(x, "sign fixed", steps=60, progress=False)
    assert fixed["sq_error"].iloc[-1] < fixed["sq_error"].iloc[0]
    s = summarize_article_model(model, x[:200], "sign fixed")
    assert set(s) == {"sq_error", "code_rms", "on_spiral", "covers_data"}
    with pytest.raises(ArgumentError, match="reading"):
        train_article_objective(x, "charitable", steps=1, progress=False)
    ae, hist = train_article_autoencoder(x, lam=1.0, steps=300, lr=1e-2, progress=False)
    assert {"encoder_loss.loss", "decoder_loss.loss"} <= set(hist.columns)
    with torch.no_grad():
        _, z = ae(x[:200])
    assert (z - x[:200] / 2).abs().mean() < 0.1  # the closed form z = x / (1 + λ)


def test_one_step_lowers_toy_vae_loss_on_fixed_batch():
    torch.manual_seed(0)
    x, _ = toy_spiral(256, generator=torch.Generator().manual_seed(0))
    model = ToyVAE()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    batch = {"x": x, "beta": 1.0}

    def fixed_loss(m):
        torch.manual_seed(123)  # same ε before and after the step
        return toy_vae_loss(m, batch)["loss"].item()

    before = fixed_loss(model)
    torch.manual_seed(123)
    out = toy_vae_loss(model, batch)
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    assert fixed_loss(model) < before


def _tiny_sentence_setup(**kw):
    tok = WordTokenizer.from_texts(SENTENCES)
    data = encode_sentences(tok, SENTENCES, max_tokens=6)
    model = SentenceVAE(SentenceVAEConfig(tok.vocab_size, n_embd=16, n_hidden=32, latent_dim=4, **kw))
    return tok, data, model


def test_encode_sentences_layout():
    tok, data, _ = _tiny_sentence_setup()
    ids = tok.encode("Tom is happy.")
    assert data["enc"][0, :5].tolist() == ids + [tok.eos_id] and data["enc"][0, 5] == tok.pad_id
    assert data["dec"][0, :5].tolist() == [tok.bos_id] + ids
    assert data["tgt"][0, 4] == tok.eos_id and data["tgt"][0, 5] == -100
    with pytest.raises(ArgumentError, match="max_tokens"):
        encode_sentences(tok, ["Tom is happy and Mary is sad."], max_tokens=3)


def test_sentence_vae_trains_with_train_loop_and_lowers_loss():
    tok, data, model = _tiny_sentence_setup(word_dropout=0.2, rnn="lstm")
    torch.manual_seed(0)
    batch = dict(data, beta=1.0)
    model.eval()  # no word dropout for the fixed-batch comparison
    torch.manual_seed(1)
    before = sentence_vae_loss(model, batch)["loss"].item()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    hist = train(
        model,
        lambda s: dict(data, beta=kl_anneal_weight(s, 20)),
        sentence_vae_loss,
        opt,
        40,
        progress=False,
        log_every=10,
    )
    assert {"loss", "recon", "kl", "beta"} <= set(hist.columns)
    model.eval()
    torch.manual_seed(1)
    assert sentence_vae_loss(model, batch)["loss"].item() < before - 1.0


def test_kl_anneal_weight():
    assert kl_anneal_weight(0, 100) == 0.0 and kl_anneal_weight(50, 100) == 0.5 and kl_anneal_weight(500, 100) == 1.0
    assert kl_anneal_weight(0, 0) == 1.0


def test_mean_pooled_encoder_ignores_word_order_but_rnn_does_not():
    tok, data, mean_model = _tiny_sentence_setup(encoder="mean")
    mean_model.eval()
    check = shuffled_pair_check(mean_model, tok, "Tom hit Mary.", "Mary hit Tom.")
    assert check["max_abs_diff_mu"] < 1e-6 and check["decoded_a"] == check["decoded_b"]
    assert order_sensitivity(mean_model, data) < 1e-6
    _, _, rnn_model = _tiny_sentence_setup(encoder="rnn")
    rnn_model.eval()
    assert shuffled_pair_check(rnn_model, tok, "Tom hit Mary.", "Mary hit Tom.")["max_abs_diff_mu"] > 1e-4
    assert order_sensitivity(rnn_model, data) > 1e-3
    with pytest.raises(ArgumentError, match="same words"):
        shuffled_pair_check(rnn_model, tok, "Tom hit Mary.", "Tom is happy.")


def test_beta_panel_summaries_and_log_likelihood():
    x, t = toy_spiral(300, generator=torch.Generator().manual_seed(0))
    summaries = {}
    for beta in (0.5, 2.0):
        model, _ = train_toy_vae(x, beta=beta, steps=5, batch_size=64, progress=False)
        summaries[beta] = summarize_toy_vae(model, x, t, n_prior=100, k=16)
    s = summaries[0.5]
    assert set(s) >= {"recon_nll", "kl", "neg_elbo", "log_px", "sigma", "on_spiral", "covers_data", "mu", "prior"}
    assert s["log_px"] >= -s["neg_elbo"] - 0.05  # the importance-weighted estimate is (nearly always) above the ELBO
    ll = toy_log_likelihood(model, x[:20], k=8)
    assert ll.shape == (20,) and torch.isfinite(ll).all()
    panel = beta_panel(summaries)
    assert panel.error is None and panel.text.startswith("[figure] β = 2")
    panel.controls["beta"].value = 0.5
    assert "β = 0.5" in panel.text and "KL" in panel.text and "log p(x)" in panel.text
    with pytest.raises(ArgumentError):
        beta_panel({})
    fig = plot_prior_grid({"a": s, "b": summaries[2.0]})
    assert len(fig.axes) == 4
    plt.close(fig)


def test_errata_markdown_lists_this_notebooks_headings():
    text = errata_markdown("06_vae").data
    assert "7 · The §4.3 case study" in text and text.count("\n") >= 5
    with pytest.raises(ArgumentError, match="no erratum"):
        errata_markdown("99_nothing")


def test_interpolation_panel_driven():
    tok, _, model = _tiny_sentence_setup()
    model.eval()
    panel = interpolation_panel(model, tok, a="Tom is happy.", b="Mary is sad.", n_steps=4)
    assert panel.error is None and panel.text.count("α =") == 5
    panel.controls["alpha"].value = 0.3
    assert "α = 0.30" in panel.text and panel.text.count("α =") == 6
    panel.controls["a"].value = "   "
    assert panel.error is not None and "Type" in panel.error
    panel.controls["a"].value = "zebras flamingos"
    assert "vocabulary" in panel.error
    panel.controls["a"].value = "Tom likes zebras."
    assert panel.error is None and "zebras" in panel.text and "not in the vocabulary" in panel.text
    table = interpolation_table({"m": model}, tok, "Tom is happy.", "Mary is sad.", n_steps=3)
    assert list(table.columns) == ["α", "m"] and len(table) == 4
