"""Layers against PyTorch's own: attention vs SDPA, norms, GELU, softmax, cross-entropy, RoPE, GQA."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from tinyllm.attention import (
    CausalSelfAttention,
    attention,
    attention_weights,
    causal_mask,
    repeat_kv,
    softmax,
)
from tinyllm.config import ModelConfig
from tinyllm.embeddings import SinusoidalPositions, one_hot_lookup, sinusoidal_positions
from tinyllm.layers import GeluMLP, LayerNorm, RMSNorm, SwiGLU, gelu
from tinyllm.model import cross_entropy, log_softmax
from tinyllm.rope import (
    RotaryEmbedding,
    apply_rope,
    interleaved_to_half_permutation,
    rope_cos_sin,
    rotate_half,
    rotate_interleaved,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, scale=1.0, requires_grad=False):
    return (torch.randn(*shape, generator=gen(seed)) * scale).requires_grad_(requires_grad)


# --- softmax, cross-entropy, GELU -----------------------------------------------------------


def test_softmax_equals_torch_including_huge_and_masked_inputs():
    x = randn(4, 7, 33, scale=5.0)
    assert_close(softmax(x), torch.softmax(x, dim=-1))
    assert_close(softmax(x, dim=1), torch.softmax(x, dim=1))
    huge = torch.tensor([[1e4, 1e4 - 1.0, -1e4], [3e38, 0.0, -3e38]])
    assert_close(softmax(huge), torch.softmax(huge, dim=-1))
    assert torch.isfinite(softmax(huge)).all()
    masked = torch.tensor([[0.5, float("-inf"), 2.0]])
    out = softmax(masked)
    assert out[0, 1] == 0.0
    assert_close(out, torch.softmax(masked, dim=-1))


def test_cross_entropy_equals_torch_with_ignore_index_and_large_logits():
    logits = randn(50, 40, scale=30.0, requires_grad=True)
    targets = torch.randint(0, 40, (50,), generator=gen(1))
    targets[::7] = -100
    ours = cross_entropy(logits, targets)
    ref = F.cross_entropy(logits, targets, ignore_index=-100)
    assert_close(ours, ref)
    (g_ours,) = torch.autograd.grad(ours, logits)
    (g_ref,) = torch.autograd.grad(ref, logits)
    assert_close(g_ours, g_ref)
    assert_close(log_softmax(logits * 100), torch.log_softmax(logits * 100, dim=-1))


def test_gelu_equals_torch_tanh_gelu():
    x = torch.linspace(-8, 8, 1001)
    assert_close(gelu(x), F.gelu(x, approximate="tanh"))
    # ...and is close to (not equal to) the exact erf GELU.
    assert (gelu(x) - F.gelu(x)).abs().max() < 1e-3


# --- norms -----------------------------------------------------------------------------------


def test_rmsnorm_equals_torch_rmsnorm():
    ours, ref = RMSNorm(48, eps=1e-5), nn.RMSNorm(48, eps=1e-5)
    with torch.no_grad():
        ours.weight.copy_(randn(48, seed=3) + 1.0)
        ref.weight.copy_(ours.weight)
    x = randn(3, 5, 48, seed=4, scale=3.0, requires_grad=True)
    assert_close(ours(x), ref(x))
    (g_ours,) = torch.autograd.grad(ours(x).square().sum(), x)
    (g_ref,) = torch.autograd.grad(ref(x).square().sum(), x)
    assert_close(g_ours, g_ref)
    # A bf16 model: normalised in float32 inside, result back in bf16.
    xb = x.detach().bfloat16()
    out = ours.bfloat16()(xb)
    assert out.dtype == torch.bfloat16
    assert_close(out.float(), ref(xb.float()), atol=5e-2, rtol=2e-2)


@pytest.mark.parametrize("bias", [True, False])
def test_layernorm_equals_torch_layernorm(bias):
    ours, ref = LayerNorm(48, eps=1e-5, bias=bias), nn.LayerNorm(48, eps=1e-5, bias=bias)
    with torch.no_grad():
        ours.weight.copy_(randn(48, seed=5) + 1.0)
        ref.weight.copy_(ours.weight)
        if bias:
            ours.bias.copy_(randn(48, seed=6))
            ref.bias.copy_(ours.bias)
    x = randn(3, 5, 48, seed=7, scale=3.0) + 2.0
    assert_close(ours(x), ref(x))


# --- embeddings and positions ----------------------------------------------------------------


def test_one_hot_lookup_equals_embedding():
    emb = nn.Embedding(30, 8)
    ids = torch.randint(0, 30, (2, 9), generator=gen(8))
    assert_close(one_hot_lookup(ids, emb.weight), emb(ids))


def test_sinusoidal_positions_match_the_paper_formula():
    table = sinusoidal_positions(50, 16)
    for pos in (0, 1, 17, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    layer = SinusoidalPositions(50, 16)
    assert_close(layer(torch.tensor([[3, 4]])), table[[3, 4]][None])
    assert list(layer.state_dict()) == []  # nothing to learn, nothing saved


# --- MLPs --------------------------------------------------------------------------------------


def test_mlps_compute_their_formulas():
    x = randn(2, 5, 16, seed=9)
    g = GeluMLP(16, 64, bias=True)
    assert_close(g(x), g.down_proj(gelu(g.up_proj(x))))
    s = SwiGLU(16, 48)
    expected = s.down_proj(F.silu(s.gate_proj(x)) * s.up_proj(x))
    assert_close(s(x), expected)
    assert_close(F.silu(s.gate_proj(x)), s.gate_proj(x) * torch.sigmoid(s.gate_proj(x)))


# --- attention ---------------------------------------------------------------------------------


def test_causal_mask_with_and_without_cached_prefix():
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]).bool())
    # 2 new queries after 3 cached keys: they sit at positions 3 and 4.
    assert torch.equal(causal_mask(2, 5), torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]).bool())


@pytest.mark.parametrize(("q_len", "k_len"), [(9, 9), (1, 9), (4, 9)])
def test_attention_equals_sdpa_forward_and_gradients(q_len, k_len):
    q = randn(2, 3, q_len, 8, seed=10, requires_grad=True)
    k = randn(2, 3, k_len, 8, seed=11, requires_grad=True)
    v = randn(2, 3, k_len, 8, seed=12, requires_grad=True)
    mask = causal_mask(q_len, k_len)
    ours = attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert_close(ours, ref, atol=1e-6, rtol=1e-5)
    if q_len == k_len:
        assert_close(
            ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6, rtol=1e-5
        )
    upstream = randn(*ours.shape, seed=13)
    grads_ours = torch.autograd.grad(ours, (q, k, v), upstream)
    grads_ref = torch.autograd.grad(ref, (q, k, v), upstream)
    for a, b in zip(grads_ours, grads_ref, strict=True):
        assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_attention_dropout_keeps_the_expected_output():
    # Inverted dropout: surviving weights are scaled by 1/(1-p), so on average the output is
    # the same as without dropout.
    q, k, v = randn(1, 1, 4, 8, seed=30), randn(1, 1, 4, 8, seed=31), randn(1, 1, 4, 8, seed=32)
    q, k, v = (t.expand(20000, 1, 4, 8) for t in (q, k, v))
    torch.manual_seed(0)
    dropped = attention(q, k, v, causal_mask(4), dropout_p=0.3)
    clean = attention(q[:1], k[:1], v[:1], causal_mask(4))
    assert not torch.allclose(dropped[0], clean[0])
    assert_close(dropped.mean(0, keepdim=True), clean, atol=0.06, rtol=0)  # ~7 standard errors


def test_attention_weights_are_causal_and_normalised():
    q, k = randn(1, 2, 6, 4, seed=14), randn(1, 2, 6, 4, seed=15)
    w = attention_weights(q, k, causal_mask(6))
    assert_close(w.sum(-1), torch.ones(1, 2, 6))
    assert (w.triu(diagonal=1) == 0).all()
    # First token can only look at itself.
    assert_close(w[..., 0, 0], torch.ones(1, 2))


def test_repeat_kv_equals_repeat_interleave():
    x = randn(2, 3, 5, 4, seed=16)
    assert torch.equal(repeat_kv(x, 4), torch.repeat_interleave(x, 4, dim=1))
    assert repeat_kv(x, 1) is x
    # The expand step is a view: stride 0 along the repeated axis, no new memory.
    view = x[:, :, None].expand(2, 3, 4, 5, 4)
    assert view.stride(2) == 0 and view.data_ptr() == x.data_ptr()


def small_config(**changes) -> ModelConfig:
    fields = dict(
        vocab_size=50,
        context_length=32,
        d_model=32,
        n_layers=1,
        n_heads=4,
        positions="learned",
        norm="layernorm",
        mlp="gelu",
        bias=False,
    )
    fields.update(changes)
    return ModelConfig(**fields)


def test_gqa_with_all_kv_heads_equals_torch_multihead_attention():
    cfg = small_config(n_kv_heads=4)
    ours = CausalSelfAttention(cfg).eval()
    ref = nn.MultiheadAttention(cfg.d_model, cfg.n_heads, bias=False, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
        ref.out_proj.weight.copy_(ours.o_proj.weight)
    x = randn(2, 7, cfg.d_model, seed=17)
    expected, _ = ref(
        x, x, x, attn_mask=~causal_mask(7), need_weights=False
    )  # True = blocked there
    assert_close(ours(x), expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])
def test_gqa_module_equals_reference_with_shared_kv_heads(n_kv_heads):
    cfg = small_config(n_kv_heads=n_kv_heads)
    layer = CausalSelfAttention(cfg)
    x = randn(2, 6, cfg.d_model, seed=18, requires_grad=True)
    b, t, h, hd = 2, 6, cfg.n_heads, cfg.head_dim
    q = layer.q_proj(x).view(b, t, h, hd).transpose(1, 2)
    k = layer.k_proj(x).view(b, t, n_kv_heads, hd).transpose(1, 2)
    v = layer.v_proj(x).view(b, t, n_kv_heads, hd).transpose(1, 2)
    group = h // n_kv_heads  # query head i uses kv head i // group
    k, v = k[:, torch.arange(h) // group], v[:, torch.arange(h) // group]
    out = attention(q, k, v, causal_mask(t)).transpose(1, 2).reshape(b, t, h * hd)
    expected, ours = layer.o_proj(out), layer(x)
    assert_close(ours, expected, atol=1e-6, rtol=1e-5)
    # Gradients too: the module lets SDPA share the kv heads (enable_gqa) instead of copying.
    grads = [torch.autograd.grad(y.square().sum(), (x, layer.k_proj.weight)) for y in (ours, expected)]
    for ours_grad, expected_grad in zip(*grads, strict=True):
        assert_close(ours_grad, expected_grad, atol=1e-5, rtol=1e-5)
    assert layer.k_proj.weight.shape == (n_kv_heads * hd, cfg.d_model)


# --- RoPE ----------------------------------------------------------------------------------------


def test_rotations_are_the_90_degree_turns():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert torch.equal(rotate_half(x), torch.tensor([-3.0, -4.0, 1.0, 2.0]))
    assert torch.equal(rotate_interleaved(x), torch.tensor([-2.0, 1.0, -4.0, 3.0]))


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_rope_is_a_rotation_of_each_pair(layout):
    x = randn(1, 1, 5, 8, seed=19)
    cos, sin = rope_cos_sin(torch.arange(5), 8, layout=layout)
    y = apply_rope(x, cos, sin, layout)
    assert_close(y.norm(dim=-1), x.norm(dim=-1))
    assert_close(y[..., 0, :], x[..., 0, :])  # position 0: angle 0
    # Pair 0 at position m is turned by exactly m radians.
    i, j = (0, 4) if layout == "half" else (0, 1)
    for m in range(5):
        c, s = math.cos(m), math.sin(m)
        x0, x1 = x[0, 0, m, i], x[0, 0, m, j]
        assert y[0, 0, m, i].item() == pytest.approx((x0 * c - x1 * s).item(), abs=1e-5)
        assert y[0, 0, m, j].item() == pytest.approx((x0 * s + x1 * c).item(), abs=1e-5)


def test_rope_half_and_interleaved_give_identical_scores_after_permuting_q_k_weights():
    d_model, n_heads, hd, seq = 32, 4, 8, 10
    wq, wk = randn(n_heads * hd, d_model, seed=20), randn(n_heads * hd, d_model, seed=21)
    x = randn(1, seq, d_model, seed=22)
    perm = interleaved_to_half_permutation(hd)
    # Permute the rows of every head: head h's row r (half layout) = row perm[r] (interleaved).
    rows = (torch.arange(n_heads)[:, None] * hd + perm[None, :]).reshape(-1)

    def scores(wq, wk, layout):
        q = (x @ wq.T).view(1, seq, n_heads, hd).transpose(1, 2)
        k = (x @ wk.T).view(1, seq, n_heads, hd).transpose(1, 2)
        cos, sin = rope_cos_sin(torch.arange(seq), hd, layout=layout)
        q, k = apply_rope(q, cos, sin, layout), apply_rope(k, cos, sin, layout)
        return q @ k.transpose(-2, -1)

    interleaved = scores(wq, wk, "interleaved")
    half = scores(wq[rows], wk[rows], "half")
    assert_close(half, interleaved, atol=1e-5, rtol=1e-5)
    # Without the permutation they differ: the test can fail.
    assert not torch.allclose(scores(wq, wk, "half"), interleaved, atol=1e-3)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_rope_score_depends_only_on_relative_position(layout):
    hd = 16
    q, k = randn(hd, seed=23), randn(hd, seed=24)

    def score(m, n):
        cos, sin = rope_cos_sin(torch.tensor([m, n]), hd, layout=layout)
        qm = apply_rope(q[None, None, None], cos[:1], sin[:1], layout)
        kn = apply_rope(k[None, None, None], cos[1:], sin[1:], layout)
        return (qm * kn).sum().item()

    for offset in (0, 3, 17):
        reference = score(offset, 0)
        for n in (1, 5, 40, 200):
            assert score(n + offset, n) == pytest.approx(reference, abs=1e-4)
    # ...and it does depend on the offset.
    assert abs(score(3, 0) - score(17, 0)) > 1e-2


def test_rotary_cache_grows_on_demand_and_matches_direct_computation():
    rope = RotaryEmbedding(8, initial_length=4)
    assert rope.cached_length == 4
    positions = torch.tensor([[0, 5, 99]])
    cos, sin = rope(positions)
    assert rope.cached_length >= 100
    ref_cos, ref_sin = rope_cos_sin(positions, 8)
    assert_close(cos, ref_cos)
    assert_close(sin, ref_sin)
    assert cos.shape == (1, 3, 8)
    assert list(rope.state_dict()) == []  # rebuilt, never saved
