"""Tests for notebook 04: attention from scratch (course_lib.attention) and the GPT (course_lib.models.gpt)."""

import math
import re

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from torch import nn

matplotlib.use("agg")

from course_lib import attention as A  # noqa: E402
from course_lib.data import CharTokenizer  # noqa: E402
from course_lib.generate import generate  # noqa: E402
from course_lib.labs import attention as LA  # noqa: E402
from course_lib.models.gpt import GPT, GPTConfig  # noqa: E402
from course_lib.widgets import InputError  # noqa: E402


def small_gpt(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(vocab_size=11, block_size=32, n_layer=2, n_head=2, n_embd=16)
    cfg.update(kw)
    return GPT(GPTConfig(**cfg)).eval()


# --- scaled dot-product attention --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_manual_attention_equals_pytorch_on_random_shapes(seed):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: int(torch.randint(1, 7, (1,), generator=g))  # noqa: E731
    lead = tuple(r() for _ in range(int(torch.randint(0, 3, (1,), generator=g))))
    T_q, T_k, d, d_v = r(), r(), r(), r()
    q = torch.randn(*lead, T_q, d, generator=g)
    k = torch.randn(*lead, T_k, d, generator=g)
    v = torch.randn(*lead, T_k, d_v, generator=g)
    out, w = A.scaled_dot_product_attention(q, k, v)
    assert out.shape == (*lead, T_q, d_v) and w.shape == (*lead, T_q, T_k)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w.sum(-1), torch.ones(*lead, T_q))
    # a random mask where every query may see at least one key, broadcast over the leading dims
    mask = torch.rand(T_q, T_k, generator=g) < 0.6
    mask[torch.arange(T_q), torch.randint(0, T_k, (T_q,), generator=g)] = True
    out_m, w_m = A.scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(out_m, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-5, rtol=1e-5)
    assert (w_m[..., ~mask] == 0).all()
    # causal mask
    if T_q == T_k:
        out_c, _ = A.scaled_dot_product_attention(q, k, v, mask=A.causal_mask(T_q))
        torch.testing.assert_close(out_c, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5, rtol=1e-5)


def test_fully_masked_query_row_gives_zeros_not_nan():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 4, requires_grad=True) for _ in range(3))
    mask = torch.tensor([[True, False, False], [False, False, False], [True, True, True]])
    out, w = A.scaled_dot_product_attention(q, k, v, mask=mask)
    assert torch.isfinite(out).all() and torch.isfinite(w).all()
    assert (out[:, 1] == 0).all() and (w[:, 1] == 0).all()
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))


def test_gradcheck_on_double_inputs():
    torch.manual_seed(0)
    q = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(3, 5) < 0.7
    mask[:, 0] = True
    mask[2] = False  # one fully masked row too
    assert torch.autograd.gradcheck(lambda a, b, c: A.scaled_dot_product_attention(a, b, c)[0], (q, k, v))
    assert torch.autograd.gradcheck(lambda a, b, c: A.scaled_dot_product_attention(a, b, c, mask=mask)[0], (q, k, v))


def test_clear_errors_for_bad_shapes():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    with pytest.raises(ValueError, match=r"same last dimension d.*\(2, 3, 4\).*\(2, 5, 8\)"):
        A.scaled_dot_product_attention(q, torch.randn(2, 5, 8), v)
    with pytest.raises(ValueError, match="same number of keys T_k"):
        A.scaled_dot_product_attention(q, k, torch.randn(2, 4, 6))
    with pytest.raises(ValueError, match="leading"):
        A.scaled_dot_product_attention(q, torch.randn(3, 5, 4), torch.randn(3, 5, 6))
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) does not broadcast"):
        A.scaled_dot_product_attention(q, k, v, mask=torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool tensor"):
        A.scaled_dot_product_attention(q, k, v, mask=torch.ones(3, 5))
    with pytest.raises(ValueError, match=r"\(B, T, n_embd=8\)"):
        A.MultiHeadAttention(8, 2)(torch.randn(2, 3, 6))
    with pytest.raises(ValueError, match="divisible"):
        A.MultiHeadAttention(10, 3)


def test_masks():
    assert A.causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    # two new queries after three cached keys: positions 3 and 4
    assert A.causal_mask(2, 5).tolist() == [[True] * 4 + [False], [True] * 5]
    pm = A.padding_mask([2, 3], 4)
    assert pm.shape == (2, 1, 4) and pm[0, 0].tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="0..4"):
        A.padding_mask([5], 4)


# --- multi-head attention ------------------------------------------------------------------------


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_multihead_equals_nn_multiheadattention(use_sdpa):
    torch.manual_seed(0)
    d, H, B, T_q, T_k = 12, 3, 2, 5, 7
    ref = nn.MultiheadAttention(d, H, batch_first=True)
    nn.init.normal_(ref.in_proj_bias)
    nn.init.normal_(ref.out_proj.bias)
    mine = A.MultiHeadAttention(d, H, use_sdpa=use_sdpa)
    with torch.no_grad():
        for proj, w_, b_ in zip(
            (mine.q_proj, mine.k_proj, mine.v_proj), ref.in_proj_weight.chunk(3), ref.in_proj_bias.chunk(3)
        ):
            proj.weight.copy_(w_)
            proj.bias.copy_(b_)
        mine.out_proj.weight.copy_(ref.out_proj.weight)
        mine.out_proj.bias.copy_(ref.out_proj.bias)
    x, mem = torch.randn(B, T_q, d), torch.randn(B, T_k, d)
    # self-attention, causal
    cm = A.causal_mask(T_q)
    exp, exp_w = ref(x, x, x, attn_mask=~cm, average_attn_weights=False)  # nn.MHA: True = NOT allowed
    out, w, _ = mine(x, causal=True, need_weights=True)
    torch.testing.assert_close(out, exp, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w, exp_w, atol=1e-5, rtol=1e-5)
    out2, w2, _ = mine(x, causal=True)
    torch.testing.assert_close(out2, exp, atol=1e-5, rtol=1e-5)
    assert (w2 is None) == use_sdpa
    # cross-attention with key padding
    lengths = torch.tensor([7, 4])
    pad = A.padding_mask(lengths, T_k)  # (B, 1, T_k)
    exp, _ = ref(x, mem, mem, key_padding_mask=~pad[:, 0])
    out, _, _ = mine(x, mem, mem, mask=pad[:, None])
    torch.testing.assert_close(out, exp, atol=1e-5, rtol=1e-5)


def test_permutation_equivariance_without_positions():
    torch.manual_seed(0)
    block = A.TransformerBlock(16, 4).eval()
    x = torch.randn(2, 9, 16)
    perm = torch.randperm(9)
    y, _, _ = block(x, causal=False)
    y_perm, _, _ = block(x[:, perm], causal=False)
    torch.testing.assert_close(y_perm, y[:, perm], atol=1e-5, rtol=1e-5)
    # with position encodings added, it is not
    pe = A.SinusoidalPositionalEncoding(9, 16)
    z, _, _ = block(pe(x), causal=False)
    z_perm, _, _ = block(pe(x[:, perm]), causal=False)
    assert (z_perm - z[:, perm]).abs().max() > 1e-2


def test_positional_encodings():
    pe = A.sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16) and pe.abs().max() <= 1.0
    assert pe[0, 0::2].abs().max() == 0 and (pe[0, 1::2] == 1).all()
    # PE[t]·PE[t+k] depends on the offset k only
    dots = (pe[:-5] * pe[5:]).sum(-1)
    assert dots.std() < 1e-4
    with pytest.raises(ValueError, match="n_embd must be even"):
        A.sinusoidal_positions(5, 7)
    learned = A.LearnedPositionalEncoding(8, 4)
    x = torch.zeros(1, 3, 4)
    torch.testing.assert_close(learned(x, offset=2), learned.weight[2:5][None])
    with pytest.raises(ValueError, match="outside the 8 positions"):
        learned(x, offset=6)


def test_softmax_saturation_without_scaling():
    t = A.softmax_saturation(dims=(4, 64, 1024), n_keys=16, n_queries=256)
    scaled, raw = t[t.scaling == "÷√d"].set_index("d"), t[t.scaling == "none"].set_index("d")
    assert (scaled.score_std - 1).abs().max() < 0.1
    assert abs(raw.score_std[1024] / math.sqrt(1024) - 1) < 0.1
    assert raw.entropy[1024] < 0.3 < 1.8 < scaled.entropy.min()  # unscaled rows are almost one-hot
    assert raw.jacobian_norm[1024] < 0.2 * scaled.jacobian_norm[1024]
    assert raw.entropy.is_monotonic_decreasing
    p = torch.tensor([[0.25] * 4, [1.0, 0, 0, 0]])
    torch.testing.assert_close(A.entropy(p), torch.tensor([math.log(4), 0.0]))
    # closed-form Jacobian norm against autograd
    s = torch.randn(5, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda z: torch.softmax(z, -1), s)
    torch.testing.assert_close(A.softmax_jacobian_norm(torch.softmax(s, -1)), J.norm())


def test_head_pattern_scores_finds_a_previous_token_head():
    T = 6
    prev = torch.zeros(1, T, T)
    prev[0, 0, 0] = 1
    prev[0, torch.arange(1, T), torch.arange(T - 1)] = 1
    uniform = A.causal_mask(T).float() / torch.arange(1, T + 1)[:, None]
    maps = [torch.stack([prev, uniform[None]], dim=1)]  # (1, 2, T, T)
    ids = torch.tensor([[1, 0, 2, 3, 0, 4]])  # 0 = space
    t = A.head_pattern_scores(maps, ids=ids, space_ids=[0])
    assert t.loc[0, "previous"] == pytest.approx(1.0) and t.loc[0, "mean_distance"] == pytest.approx(1.0)
    assert t.loc[1, "previous"] < 0.5 and t.loc[1, "current"] < 0.5
    assert t.loc[0, "last_space"] == pytest.approx(2 / 4)  # queries 2 and 5 have a space just before


# --- GPT -------------------------------------------------------------------------------------------


def test_gpt_shapes_tying_and_errors():
    m = small_gpt()
    x = torch.randint(0, 11, (3, 20))
    assert m(x).shape == (3, 20, 11)
    assert m.lm_head.weight is m.wte.weight and m.max_context == 32
    assert m.num_params() == sum(p.numel() for p in m.parameters())
    with pytest.raises(ValueError, match="exceeds block_size=32"):
        m(torch.zeros(1, 33, dtype=torch.long))
    with pytest.raises(ValueError, match=r"0..10"):
        m(torch.full((1, 3), 11))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        m(torch.zeros(5, dtype=torch.long))
    _, cache = m.forward_step(x)
    with pytest.raises(ValueError, match="after 20 cached tokens"):
        m.forward_step(torch.zeros(3, 13, dtype=torch.long), cache)
    opt = m.configure_optimizer(1e-3, 0.1)
    assert all(p.dim() == 2 for p in opt.param_groups[0]["params"])
    assert all(p.dim() == 1 for p in opt.param_groups[1]["params"])


@pytest.mark.parametrize("positions", ["learned", "sinusoidal", "rope", "none"])
def test_gpt_sdpa_path_equals_manual_path_and_steps_equal_forward(positions):
    m = small_gpt(positions=positions)
    x = torch.randint(0, 11, (2, 25))
    fast = m(x)
    m.set_use_sdpa(False)
    torch.testing.assert_close(m(x), fast, atol=1e-5, rtol=1e-5)
    m.set_use_sdpa(True)
    for use_sdpa in (True, False):
        m.set_use_sdpa(use_sdpa)
        logits, cache = m.forward_step(x[:, :10])
        pieces = [logits]
        for s, e in ((10, 11), (11, 18), (18, 25)):
            logits, cache = m.forward_step(x[:, s:e], cache)
            pieces.append(logits)
        assert cache[0][0].shape == (2, 2, 25, 8)
        torch.testing.assert_close(torch.cat(pieces, 1), fast, atol=1e-5, rtol=1e-5)
    maps = m.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 25, 25)
    torch.testing.assert_close(maps[1].sum(-1), torch.ones(2, 2, 25))
    assert (maps[0].triu(1) == 0).all()


def test_gpt_is_causal_by_perturbation():
    m = small_gpt()
    x = torch.randint(0, 11, (2, 20))
    for t in (0, 7, 18):
        x2 = x.clone()
        x2[:, t + 1 :] = torch.randint(0, 11, x2[:, t + 1 :].shape)
        x2[:, t + 1 :] = (x2[:, t + 1 :] + 1) % 11  # surely different
        a, b = m(x), m(x2)
        torch.testing.assert_close(a[:, : t + 1], b[:, : t + 1], atol=1e-6, rtol=1e-6)
        assert (a[:, t + 1 :] - b[:, t + 1 :]).abs().max() > 1e-4


def test_gpt2_scaled_initialisation_of_residual_projections():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=8, n_head=4, n_embd=256))
    scaled = 0.02 / math.sqrt(2 * 8)
    for block in m.blocks:
        for proj in (block.attn.out_proj, block.mlp.proj):  # they write into the residual stream
            assert proj.weight.std().item() == pytest.approx(scaled, rel=0.05)
        for lin in (block.attn.q_proj, block.mlp.fc):
            assert lin.weight.std().item() == pytest.approx(0.02, rel=0.05)


def test_cached_generation_equals_uncached_greedy():
    m = small_gpt(seed=3)
    with torch.no_grad():
        m.wte.weight.mul_(40)  # spread the logits so greedy choices are clear-cut
    prompt = torch.randint(0, 11, (2, 4), generator=torch.Generator().manual_seed(1))
    for use_sdpa in (True, False):
        m.set_use_sdpa(use_sdpa)
        new = m.max_context - prompt.size(1) + 1  # fills the whole context window
        a = generate(m, prompt, new, temperature=0, use_cache=True)
        b = generate(m, prompt, new, temperature=0, use_cache=False)
        assert a.shape == (2, 4 + new) and torch.equal(a, b)
        assert len(set(a[0].tolist())) > 2  # not a degenerate constant sequence
    # beyond the window both still run (the cache is re-encoded when full)
    assert m.generate(prompt, 40, temperature=0).shape == (2, 44)


def test_gpt_learns_a_pattern_quickly():
    torch.manual_seed(0)
    m = GPT(GPTConfig(vocab_size=5, block_size=20, n_layer=1, n_head=2, n_embd=16)).train()
    opt = m.configure_optimizer(3e-2, 0.0)
    seq = torch.tensor([0, 1, 2, 3, 4] * 4)[None]  # a period-5 cycle
    x, y = seq[:, :-1], seq[:, 1:]
    first = None
    for _ in range(60):
        loss = F.cross_entropy(m(x).reshape(-1, 5), y.reshape(-1))
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first == pytest.approx(math.log(5), abs=0.1) and loss.item() < 0.05


# --- widgets ---------------------------------------------------------------------------------------


def test_saturation_panel():
    panel = LA.saturation_panel()
    for d in (4, 1024):
        panel.controls["d"].value = d
        assert panel.error is None and panel.text.startswith(f"[figure] d={d}:")
        es, eu = map(float, re.search(r"entropy ([\d.]+) vs ([\d.]+)", panel.text).groups())
        js, ju = map(float, re.search(r"gradient size ([\d.]+) vs ([\d.]+)", panel.text).groups())
        if d == 1024:
            assert eu < 0.5 < es and ju < js
    matplotlib.pyplot.close("all")


def test_attention_viewer_panel():
    tok = CharTokenizer("abc de")
    m = small_gpt(vocab_size=tok.vocab_size)
    panel = LA.attention_viewer_panel(m, tok, {"one": "abc abc", "two": "dead bee"})
    assert panel.error is None and panel.text.startswith("[figure] layer 0, head 0: mean weight on previous char")
    panel.controls["layer"].value = 1
    panel.controls["head"].value = 1
    panel.controls["passage"].value = "two"
    assert panel.text.startswith("[figure] layer 1, head 1:")
    a = m.attention_maps(torch.tensor([tok.encode("dead bee")]))[1][0, 1]
    prev = a[torch.arange(1, 8), torch.arange(7)].mean().item()
    assert f"{prev:.2f}" in panel.text
    panel.controls["passage"].value = "(type your own)"
    assert panel.result is None and "Type a passage" in panel.error
    panel.controls["text"].value = "abz"
    assert "not in the model's vocabulary: 'z'" in panel.error
    panel.controls["text"].value = "bad cab"
    assert panel.error is None and panel.text.startswith("[figure] layer 1, head 1:")
    matplotlib.pyplot.close("all")


def test_dropout_is_random_in_training_and_off_in_eval():
    for use_sdpa in (True, False):
        m = small_gpt(dropout=0.2, use_sdpa=use_sdpa)
        x = torch.randint(0, 11, (2, 12))
        m.train()
        assert not torch.equal(m(x), m(x))
        m.eval()
        torch.testing.assert_close(m(x), m(x))
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(dropout=1.0)
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=30, n_head=4)


def test_widget_inputs_that_cannot_be_used_raise_input_error():
    panel = LA.saturation_panel()
    with pytest.raises(InputError, match="positive width"):
        panel.render(d=0)
    tok = CharTokenizer("abc de")
    viewer = LA.attention_viewer_panel(small_gpt(vocab_size=tok.vocab_size), tok, {"one": "abc abc"})
    viewer.controls["passage"].value = "(type your own)"
    viewer.controls["text"].value = "a"
    assert "at least two characters" in viewer.error
    with pytest.raises(InputError, match="unknown passage"):
        viewer.render(layer=0, head=0, passage="nope", text="")
    with pytest.raises(InputError, match="layer must be 0..1"):
        viewer.render(layer=5, head=0, passage="one", text="")
    with pytest.raises(ValueError, match="at least one passage"):
        LA.attention_viewer_panel(small_gpt(vocab_size=tok.vocab_size), tok, {})
    matplotlib.pyplot.close("all")


# --- the Transformer's parts, rotary positions, and the notebook's experiments ----------------------------------


def test_rotary_scores_depend_on_the_offset_only_and_keep_lengths():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(1, 2, 1, 8, generator=g, dtype=torch.float64)
    k = torch.randn(1, 2, 1, 8, generator=g, dtype=torch.float64)

    def score(t, s):
        return (A.apply_rotary(q, offset=t) * A.apply_rotary(k, offset=s)).sum(-1)

    torch.testing.assert_close(score(7, 3), score(107, 103), atol=1e-4, rtol=0)
    assert (score(7, 3) - score(7, 6)).abs().max() > 1e-3
    torch.testing.assert_close(A.apply_rotary(q, offset=11).norm(dim=-1), q.norm(dim=-1))
    # positions 0..T-1 in one call == one position at a time
    x = torch.randn(1, 2, 5, 8, generator=g)
    torch.testing.assert_close(A.apply_rotary(x)[:, :, 3:4], A.apply_rotary(x[:, :, 3:4], offset=3))
    with pytest.raises(ValueError, match="even"):
        A.apply_rotary(torch.randn(1, 1, 2, 5))


@pytest.mark.parametrize("norm,residual", [("pre", True), ("post", True), ("none", True), ("pre", False)])
def test_block_variants_compute_their_formulas(norm, residual):
    torch.manual_seed(0)
    block = A.TransformerBlock(16, 2, norm=norm, residual=residual).eval()
    x = torch.randn(2, 5, 16)
    y, _, _ = block(x)

    def attn(h):
        return block.attn(h, causal=True)[0]

    keep = (lambda t: t) if residual else (lambda t: torch.zeros_like(t))
    if norm == "post":
        h = block.ln1(keep(x) + attn(x))
        want = block.ln2(keep(h) + block.mlp(h))
    else:
        h = keep(x) + attn(block.ln1(x))
        want = keep(h) + block.mlp(block.ln2(h))
    torch.testing.assert_close(y, want)
    assert isinstance(block.ln1, nn.Identity) == (norm == "none")
    with pytest.raises(ValueError, match="norm"):
        A.TransformerBlock(16, 2, norm="sandwich")


def test_mlp_is_position_wise_with_gelu():
    torch.manual_seed(0)
    mlp = A.MLP(8)
    x = torch.randn(2, 4, 8)
    torch.testing.assert_close(mlp(x), mlp.proj(F.gelu(mlp.fc(x))))
    torch.testing.assert_close(mlp(x)[:, 2:3], mlp(x[:, 2:3]))  # each position on its own


def test_sequence_warmup_and_train_gpt():
    w = LA.SequenceWarmup(256, steps=1200)
    assert [w(s) for s in (0, 74, 75, 524, 525, 1199)] == [32, 32, 64, 224, 256, 256]
    ids = torch.tensor([0, 1, 2, 3, 4, 5, 6] * 300)
    model, hist = LA.train_gpt(ids, ids[:400], steps=40, batch_tokens=128, context=LA.SequenceWarmup(32, 40, start=8),
                               lr=1e-2, warmup=5, n_layer=1, n_head=2, n_embd=16, eval_every=20, eval_tokens=256,
                               progress=False)  # fmt: skip
    assert model.config.block_size == 32 and model.config.vocab_size == 7
    assert hist.attrs["tokens"] == sum(
        128 // w_ * w_ for w_ in (LA.SequenceWarmup(32, 40, start=8)(s) for s in range(40))
    )
    v = hist["val_loss"].dropna()
    assert len(v) == 3 and v.iloc[-1] < 0.5 < v.iloc[0]  # a period-7 cycle is learned
    assert set(LA.CONTEXT_RECIPES) == {"04", "04, context 64", "05", "05, context 256"}


def test_loss_by_position_and_grad_norms():
    m = small_gpt()
    ids = torch.randint(0, 11, (300,), generator=torch.Generator().manual_seed(0))
    per_pos = LA.loss_by_position(m, ids, 16, n_windows=5)
    starts = torch.linspace(0, len(ids) - 16 - 2, 5).long()
    x = ids[starts[:, None] + torch.arange(16)]
    y = ids[starts[:, None] + torch.arange(16) + 1]
    want = F.cross_entropy(m(x).reshape(-1, 11), y.reshape(-1), reduction="none").view(5, 16).mean(0)
    torch.testing.assert_close(per_pos, want)
    norms = LA.grad_norms_by_layer(m, x, y)
    assert len(norms) == 2 and all(n > 0 for n in norms)
    assert all(p.grad is None for p in m.parameters())  # left clean


def test_head_figure_and_the_viewer_waits_for_enter():
    tok = CharTokenizer("abc de")
    m = small_gpt(vocab_size=tok.vocab_size)
    maps = [a[0] for a in m.attention_maps(torch.tensor([tok.encode("abc de")]))]
    fig = LA.head_figure(maps, "abc de", 1, 0)
    prev = maps[1][0][torch.arange(1, 6), torch.arange(5)].mean().item()
    assert fig.axes[0].get_title() == f"layer 1, head 0: mean weight on previous char {prev:.2f}"
    viewer = LA.attention_viewer_panel(m, tok, {"one": "abc abc"})
    box = viewer.controls["text"]
    assert box.continuous_update is False and box.placeholder and box.layout.width
    matplotlib.pyplot.close("all")


def test_attention_viewer_reads_at_most_the_models_context_and_checks_passages():
    """Passages longer than the model's block_size are cut to it (not a crash in attention_maps); a passage
    with characters outside the vocabulary is refused when the panel is built."""
    from course_lib.errors import ArgumentError

    tok = CharTokenizer.from_text("the cat sat on the mat. ROMEO:")
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=8)).eval()
    panel = LA.attention_viewer_panel(model, tok, {"long": "the cat sat on the mat. " * 3})
    assert panel.error is None
    assert panel.result is not None
    with pytest.raises(ArgumentError, match="vocabulary"):
        LA.attention_viewer_panel(model, tok, {"bad": "the dog"})
