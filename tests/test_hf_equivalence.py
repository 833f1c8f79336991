"""TinyLLM equals Hugging Face's LlamaForCausalLM and GPT2LMHeadModel with the same weights.

transformers is a test-only extra (``pip install -e .[ref]``); the models are built from configs,
nothing is downloaded. Our random weights are copied into the reference model, so any difference
in the math (norm placement, RoPE layout, GQA head sharing, GELU variant, ...) shows up in the
logits, which must agree within 1e-5 in float32.
"""

from __future__ import annotations

import pytest
import torch
from hf_reference import hf_gpt2, hf_llama, ids_for, random_model
from torch.testing import assert_close

from tinyllm.config import gpt2_style, llama_style
from tinyllm.generate import generate

transformers = pytest.importorskip(
    "transformers", reason="needs the reference extra: pip install -e .[ref]"
)


# --- Llama ----------------------------------------------------------------------------------------


LLAMA_CONFIGS = {
    "mha-untied": dict(d_model=64, n_heads=4, n_kv_heads=4, n_layers=2, tie_embeddings=False),
    "gqa-tied": dict(d_model=64, n_heads=8, n_kv_heads=2, n_layers=2, rope_theta=500.0),
    "mqa-bias": dict(
        d_model=48, n_heads=6, n_kv_heads=1, n_layers=3, bias=True, eps=1e-6, d_ff=100
    ),
    "gqa-interleaved": dict(
        d_model=64, n_heads=4, n_kv_heads=2, n_layers=2, rope_layout="interleaved"
    ),
}


@pytest.mark.parametrize("name", list(LLAMA_CONFIGS))
def test_llama_style_equals_transformers_llama(name):
    config = llama_style(vocab_size=101, context_length=64, **LLAMA_CONFIGS[name])
    ours = random_model(config, seed=len(name))
    reference = hf_llama(config, ours)
    ids = ids_for(config)
    with torch.no_grad():
        expected = reference(ids, labels=ids)
        logits, loss = ours(ids[:, :-1], ids[:, 1:])
        full = ours(ids)
    assert expected.logits.abs().max() > 1.0  # the comparison is not between near-zeros
    assert_close(full, expected.logits, atol=1e-5, rtol=0)
    assert_close(loss, expected.loss, atol=1e-5, rtol=0)


def test_llama_style_greedy_generation_equals_transformers_generate():
    config = llama_style(vocab_size=101, context_length=64, **LLAMA_CONFIGS["gqa-tied"])
    ours = random_model(config, seed=5)
    reference = hf_llama(config, ours)
    ids = ids_for(config, batch=1, seq=8)
    expected = reference.generate(ids, max_new_tokens=30, do_sample=False, min_new_tokens=30)
    assert torch.equal(generate(ours, ids, 30, temperature=0), expected)


# --- GPT-2 ----------------------------------------------------------------------------------------


GPT2_CONFIGS = {
    "4-heads": dict(d_model=64, n_heads=4, n_layers=2),
    "3-heads-d_ff-100": dict(d_model=48, n_heads=3, n_layers=3, d_ff=100),
}


@pytest.mark.parametrize("name", list(GPT2_CONFIGS))
def test_gpt2_style_equals_transformers_gpt2(name):
    config = gpt2_style(vocab_size=101, context_length=64, **GPT2_CONFIGS[name])
    ours = random_model(config, seed=len(name))
    reference = hf_gpt2(config, ours)
    ids = ids_for(config)
    with torch.no_grad():
        expected = reference(ids, labels=ids)
        logits, loss = ours(ids[:, :-1], ids[:, 1:])
        full = ours(ids)
    assert expected.logits.abs().max() > 1.0
    assert_close(full, expected.logits, atol=1e-5, rtol=0)
    assert_close(loss, expected.loss, atol=1e-5, rtol=0)
