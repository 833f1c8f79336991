"""TinyLLM equals Hugging Face's LlamaForCausalLM and GPT2LMHeadModel with the same weights.

transformers is a test-only extra (``pip install -e .[ref]``); the models are built from configs,
nothing is downloaded. Our random weights are copied into the reference model, so any difference
in the math (norm placement, RoPE layout, GQA head sharing, GELU variant, ...) shows up in the
logits, which must agree within 1e-5 in float32.
"""

from __future__ import annotations

import pytest
import torch
from hf_reference import copy_into, hf_llama, ids_for, random_model
from torch.testing import assert_close

from tinyllm.config import ModelConfig, gpt2_style, llama_style
from tinyllm.generate import generate
from tinyllm.model import TinyLLM

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


def hf_gpt2(config: ModelConfig, model: TinyLLM) -> torch.nn.Module:
    hf_config = transformers.GPT2Config(
        vocab_size=config.vocab_size,
        n_positions=config.context_length,
        n_embd=config.d_model,
        n_layer=config.n_layers,
        n_head=config.n_heads,
        n_inner=config.d_ff,
        activation_function="gelu_new",  # GPT-2's tanh approximation
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=config.eps,
        attn_implementation="eager",
        bos_token_id=None,
        eos_token_id=None,
    )
    reference = transformers.GPT2LMHeadModel(hf_config).eval()
    ours = dict(model.state_dict())
    # GPT-2 stores linear layers as Conv1D, whose weight is the transpose of nn.Linear's, and
    # fuses q, k and v into one c_attn.
    tensors = {
        "transformer.wte.weight": ours["embed_tokens.weight"],
        "transformer.wpe.weight": ours["embed_positions.weight"],
        "transformer.ln_f.weight": ours["norm.weight"],
        "transformer.ln_f.bias": ours["norm.bias"],
        "lm_head.weight": ours["lm_head.weight"],
    }
    for i in range(config.n_layers):
        ours_i, hf_i = f"layers.{i}.", f"transformer.h.{i}."
        qkv = [ours_i + f"self_attn.{p}_proj" for p in "qkv"]
        for part in ("weight", "bias"):
            tensors[hf_i + f"ln_1.{part}"] = ours[ours_i + f"input_layernorm.{part}"]
            tensors[hf_i + f"ln_2.{part}"] = ours[ours_i + f"post_attention_layernorm.{part}"]
        tensors[hf_i + "attn.c_attn.weight"] = torch.cat([ours[p + ".weight"] for p in qkv]).T
        tensors[hf_i + "attn.c_attn.bias"] = torch.cat([ours[p + ".bias"] for p in qkv])
        for hf_name, our_name in (
            ("attn.c_proj", "self_attn.o_proj"),
            ("mlp.c_fc", "mlp.up_proj"),
            ("mlp.c_proj", "mlp.down_proj"),
        ):
            tensors[hf_i + hf_name + ".weight"] = ours[ours_i + our_name + ".weight"].T
            tensors[hf_i + hf_name + ".bias"] = ours[ours_i + our_name + ".bias"]
    if "lm_head.weight" not in reference.state_dict():
        tensors.pop("lm_head.weight")
    copy_into(reference, tensors)
    return reference


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
