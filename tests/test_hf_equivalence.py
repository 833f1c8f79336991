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


# Each variant: our config preset, its Hugging Face twin, and the fields that vary.
CONFIGS = {
    "llama-mha-untied": (llama_style, hf_llama, dict(d_model=64, n_heads=4, n_kv_heads=4, n_layers=2,
                                                     tie_embeddings=False)),
    "llama-gqa-tied": (llama_style, hf_llama, dict(d_model=64, n_heads=8, n_kv_heads=2, n_layers=2,
                                                   rope_theta=500.0)),
    "llama-mqa-bias": (llama_style, hf_llama, dict(d_model=48, n_heads=6, n_kv_heads=1, n_layers=3,
                                                   bias=True, eps=1e-6, d_ff=100)),
    "llama-gqa-interleaved": (llama_style, hf_llama, dict(d_model=64, n_heads=4, n_kv_heads=2, n_layers=2,
                                                          rope_layout="interleaved")),
    "gpt2-4-heads": (gpt2_style, hf_gpt2, dict(d_model=64, n_heads=4, n_layers=2)),
    "gpt2-3-heads-d_ff-100": (gpt2_style, hf_gpt2, dict(d_model=48, n_heads=3, n_layers=3, d_ff=100)),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_tinyllm_equals_its_transformers_twin(name):
    style, twin, fields = CONFIGS[name]
    config = style(vocab_size=101, context_length=64, **fields)
    ours = random_model(config, seed=len(name))
    reference = twin(config, ours)
    ids = ids_for(config)
    with torch.no_grad():
        expected = reference(ids, labels=ids)
        logits, loss = ours(ids[:, :-1], ids[:, 1:])
        full = ours(ids)
    assert expected.logits.abs().max() > 1.0  # the comparison is not between near-zeros
    assert_close(full, expected.logits, atol=1e-5, rtol=0)
    assert_close(loss, expected.loss, atol=1e-5, rtol=0)


def test_llama_style_greedy_generation_equals_transformers_generate():
    config = llama_style(vocab_size=101, context_length=64, **CONFIGS["llama-gqa-tied"][2])
    ours = random_model(config, seed=5)
    reference = hf_llama(config, ours)
    ids = ids_for(config, batch=1, seq=8)
    expected = reference.generate(ids, max_new_tokens=30, do_sample=False, min_new_tokens=30)
    assert torch.equal(generate(ours, ids, 30, temperature=0), expected)
