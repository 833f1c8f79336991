"""Int8 weight-only quantisation: each weight within half a step of its int8 value, a quarter of
the bytes, and a LoRA adapter that trains on top of the frozen int8 base (the QLoRA idea)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tinyllm.config import llama_style
from tinyllm.lora import add_lora, count_trainable, merge
from tinyllm.model import TinyLLM
from tinyllm.quantize import Int8Linear, quantize_int8, weight_bytes

CONFIG = llama_style(vocab_size=97, context_length=32, d_model=32, n_heads=4, n_kv_heads=2,
                     n_layers=2, d_ff=64)


@settings(max_examples=30, deadline=None)
@given(out_features=st.integers(1, 24), in_features=st.integers(1, 24),
       scale=st.floats(1e-4, 1e3), seed=st.integers(0, 2**16), bias=st.booleans())
def test_every_weight_is_within_half_a_step_and_row_maxima_are_exact(out_features, in_features,
                                                                      scale, seed, bias):
    torch.manual_seed(seed)
    linear = nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        linear.weight.mul_(scale)
    q = Int8Linear(linear)
    assert q.weight_int8.dtype == torch.int8 and q.scale.shape == (out_features, 1)
    error = (q.weight - linear.weight).abs()
    assert (error <= q.scale / 2 * (1 + 1e-5) + 1e-12).all()
    # absmax: each row's largest weight maps to +-127, so no number is clipped
    assert (q.weight_int8.abs().amax(dim=1) == 127).all()
    x = torch.randn(3, in_features)
    expected = x @ q.weight.T + (linear.bias if bias else 0)
    assert torch.allclose(q(x), expected, atol=1e-5, rtol=1e-5)


def test_quantized_model_is_a_quarter_of_the_linear_bytes_and_close_in_output():
    torch.manual_seed(0)
    model = TinyLLM(CONFIG).eval()
    ids = torch.randint(0, CONFIG.vocab_size, (2, 16))
    before, bytes_before = model(ids)[0], weight_bytes(model)
    linear = {n: m.weight.numel() for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    replaced = quantize_int8(model)
    assert set(replaced) == set(linear) - {"lm_head"}  # the tied head stays float
    assert all(isinstance(model.get_submodule(n), Int8Linear) for n in replaced)
    saved = sum(linear[n] for n in replaced) * 3 - sum(model.get_submodule(n).scale.numel() * 4 for n in replaced)
    assert bytes_before - weight_bytes(model) == saved
    after = model(ids)[0]
    assert (after - before).abs().max() < 0.05 * before.abs().max()


def test_quantizing_after_add_lora_keeps_the_adapter_float_and_trainable():
    torch.manual_seed(0)
    model = TinyLLM(CONFIG)
    add_lora(model, r=4, targets="all-linear")
    before = count_trainable(model)[0]
    quantized = quantize_int8(model)
    assert quantized and not [name for name in quantized if ".lora_" in name]
    assert count_trainable(model)[0] == before > 0


def test_lora_trains_on_an_int8_base_and_refuses_to_merge_into_it():
    torch.manual_seed(0)
    model = TinyLLM(CONFIG)
    quantize_int8(model)
    base = {k: v.clone() for k, v in model.state_dict().items()}
    add_lora(model, r=4, targets="all-linear")
    trainable, _ = count_trainable(model)
    assert trainable == sum(p.numel() for n, p in model.named_parameters() if ".lora_" in n)
    ids = torch.randint(0, CONFIG.vocab_size, (2, 16))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        _, loss = model(ids[:, :-1], ids[:, 1:])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    state = model.state_dict()
    for key, value in base.items():  # the int8 base and every float weight are unchanged
        assert torch.equal(state[key.replace("_proj.", "_proj.base_layer.")
                                 if key.split(".")[-2].endswith("_proj") else key], value)
    with pytest.raises(ValueError, match="int8 base"):
        merge(model)
