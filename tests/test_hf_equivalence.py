"""TinyLLM equals Hugging Face's LlamaForCausalLM and GPT2LMHeadModel with the same weights.

transformers is a test-only extra (``pip install -e .[ref]``); the models are built from configs,
nothing is downloaded. Our random weights are copied into the reference model, so any difference
in the math (norm placement, RoPE layout, GQA head sharing, GELU variant, ...) shows up in the
logits, which must agree within 1e-5 in float32.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from tinyllm.config import ModelConfig, gpt2_style, llama_style
from tinyllm.generate import generate
from tinyllm.model import TinyLLM
from tinyllm.rope import interleaved_to_half_permutation

transformers = pytest.importorskip(
    "transformers", reason="needs the reference extra: pip install -e .[ref]"
)



def random_model(config: ModelConfig, seed: int) -> TinyLLM:
    """A TinyLLM whose every parameter is random (norm gains and biases too, so that swapping
    any two of them would change the logits), scaled to give logits of a few units."""
    torch.manual_seed(seed)
    model = TinyLLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.mul_(4.0)
            elif name.endswith("norm.weight") or "layernorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:  # biases
                p.copy_(0.1 * torch.randn_like(p))
    return model


def copy_into(reference: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy every reference parameter from ``tensors``; a missing or misshapen one is an error."""
    ref_state = reference.state_dict()
    assert set(ref_state) == set(tensors), set(ref_state) ^ set(tensors)
    with torch.no_grad():
        for name, value in tensors.items():
            assert ref_state[name].shape == value.shape, name
            ref_state[name].copy_(value)


def ids_for(config: ModelConfig, batch: int = 2, seq: int = 24, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, config.vocab_size, (batch, seq), generator=torch.Generator().manual_seed(seed)
    )


# --- Llama ----------------------------------------------------------------------------------------


def hf_llama(config: ModelConfig, model: TinyLLM) -> torch.nn.Module:
    hf_config = transformers.LlamaConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.d_model,
        intermediate_size=config.d_ff,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        num_key_value_heads=config.n_kv_heads,
        max_position_embeddings=config.context_length,
        rms_norm_eps=config.eps,
        rope_parameters={"rope_type": "default", "rope_theta": config.rope_theta},
        tie_word_embeddings=config.tie_embeddings,
        attention_bias=config.bias,
        mlp_bias=config.bias,
        attn_implementation="eager",  # the written-out path, not SDPA: an independent reference
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
    )
    reference = transformers.LlamaForCausalLM(hf_config).eval()
    tensors = {}
    for name, value in model.state_dict().items():
        tensors[name if name.startswith("lm_head") else "model." + name] = value
    if config.rope_layout == "interleaved":
        # Hugging Face's Llama uses the half layout: permute each head's q/k rows (and biases).
        perm = interleaved_to_half_permutation(config.head_dim)
        for name in list(tensors):
            for proj, heads in (("q_proj", config.n_heads), ("k_proj", config.n_kv_heads)):
                if f"self_attn.{proj}." in name:
                    rows = (torch.arange(heads)[:, None] * config.head_dim + perm).reshape(-1)
                    tensors[name] = tensors[name][rows]
    if "lm_head.weight" not in reference.state_dict():
        tensors.pop("lm_head.weight")
    copy_into(reference, tensors)
    return reference


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
