"""Test helpers shared by the equivalence tests: random tinyllm models and their Hugging Face
``LlamaForCausalLM`` or ``GPT2LMHeadModel`` twin with the same weights, each mapped here
independently of ``tinyllm.hf``.

transformers is imported inside `hf_llama` and `hf_gpt2` only, so a test module can import this file and
still run its other tests where the reference extra is not installed.
"""

from __future__ import annotations

import torch

from tinyllm.config import ModelConfig
from tinyllm.model import TinyLLM
from tinyllm.rope import interleaved_to_half_permutation


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


def hf_llama(config: ModelConfig, model: TinyLLM) -> torch.nn.Module:
    """``transformers.LlamaForCausalLM`` with ``model``'s weights (``model`` is Llama-style)."""
    import transformers

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


def hf_gpt2(config: ModelConfig, model: TinyLLM) -> torch.nn.Module:
    """``transformers.GPT2LMHeadModel`` with ``model``'s weights (``model`` is GPT-2-style)."""
    import transformers

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
        tie_word_embeddings=config.tie_embeddings,
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
