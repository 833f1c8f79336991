"""A GPT-2-style ``TinyLLM`` under Hugging Face's ``GPT2LMHeadModel`` names, and back.

Beyond the course (README, "Beyond the course"); `tinyllm.hf` calls these for a model with
LayerNorm, learned positions, a GELU MLP and biases (``gpt2_style``, notebook 06), and for a
folder whose ``config.json`` says ``"model_type": "gpt2"`` — OpenAI's GPT-2 itself included.

Two differences in how GPT-2 stores the same weights:

* its linear layers are ``Conv1D``, which computes ``x @ W + b``: ``W`` is the transpose of
  ``nn.Linear``'s weight, ``(in_features, out_features)``;
* one ``c_attn`` projects to queries, keys and values at once: its ``W`` is our ``q_proj``,
  ``k_proj`` and ``v_proj`` weights side by side, ``(d_model, 3 * d_model)``.

The names otherwise map one to one (``ln_1`` is ``input_layernorm``, ``c_fc`` is ``up_proj``...).
"""

from __future__ import annotations

import torch

from tinyllm.config import ModelConfig

#: Our name inside ``layers.N.`` -> GPT-2's inside ``transformer.h.N.`` (Conv1D ones transposed).
LAYER_NAMES = {
    "input_layernorm": "ln_1", "post_attention_layernorm": "ln_2",
    "self_attn.o_proj": "attn.c_proj", "mlp.up_proj": "mlp.c_fc", "mlp.down_proj": "mlp.c_proj",
}
#: Outside the layers: ours -> GPT-2's.
OUTER_NAMES = {"embed_tokens": "transformer.wte", "embed_positions": "transformer.wpe", "norm": "transformer.ln_f"}
CONV1D = ("attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def gpt2_problems(config: ModelConfig) -> list[str]:
    """Why ``config`` is not a GPT-2 (an empty list when it is one)."""
    problems = [f"{name}={getattr(config, name)!r}" for name, value in
                (("norm", "layernorm"), ("positions", "learned"), ("mlp", "gelu"), ("bias", True))
                if getattr(config, name) != value]
    if config.n_kv_heads != config.n_heads:
        problems.append(f"n_kv_heads={config.n_kv_heads} (GPT-2 has one key/value head per query head)")
    return problems


def gpt2_config(config: ModelConfig, eos_token_id: int | None = None) -> dict:
    """``config.json`` of ``GPT2LMHeadModel`` for a GPT-2-style ``config``."""
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": config.vocab_size, "n_positions": config.context_length,
        "n_embd": config.d_model, "n_layer": config.n_layers, "n_head": config.n_heads,
        "n_inner": config.d_ff, "activation_function": "gelu_new",  # GELU's tanh form, as ours
        "layer_norm_epsilon": config.eps, "tie_word_embeddings": config.tie_embeddings,
        "resid_pdrop": config.dropout, "embd_pdrop": config.dropout, "attn_pdrop": config.dropout,
        "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False, "bos_token_id": eos_token_id, "eos_token_id": eos_token_id,
        "pad_token_id": None, "initializer_range": 0.02, "dtype": "float32", "use_cache": True,
    }


def gpt2_state_dict(state: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """Our ``state_dict`` under ``GPT2LMHeadModel``'s names (a tied head stored once)."""
    tensors = {}
    for ours, theirs in OUTER_NAMES.items():
        for part in ("weight", "bias"):
            if f"{ours}.{part}" in state:
                tensors[f"{theirs}.{part}"] = state[f"{ours}.{part}"]
    if not config.tie_embeddings:
        tensors["lm_head.weight"] = state["lm_head.weight"]
    for i in range(config.n_layers):
        ours, theirs = f"layers.{i}.", f"transformer.h.{i}."
        qkv = [f"{ours}self_attn.{p}_proj" for p in "qkv"]
        tensors[theirs + "attn.c_attn.weight"] = torch.cat([state[p + ".weight"] for p in qkv]).T
        tensors[theirs + "attn.c_attn.bias"] = torch.cat([state[p + ".bias"] for p in qkv])
        for our_name, their_name in LAYER_NAMES.items():
            weight = state[f"{ours}{our_name}.weight"]
            tensors[f"{theirs}{their_name}.weight"] = weight.T if their_name in CONV1D else weight
            tensors[f"{theirs}{their_name}.bias"] = state[f"{ours}{our_name}.bias"]
    return tensors


def config_from_gpt2(hf: dict) -> ModelConfig:
    """The ``ModelConfig`` of a Hugging Face GPT-2 ``config.json`` (a dict).

    Raises:
        ValueError: a GPT-2 variant TinyLLM does not compute (exact GELU, scaled attention...).
    """
    problems = []
    if hf.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        problems.append(f"activation_function={hf['activation_function']!r} "
                        "(TinyLLM's GELU is the tanh form, gelu_new)")
    for name, value in (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                        ("add_cross_attention", False)):
        if hf.get(name, value) != value:
            problems.append(f"{name}={hf[name]!r}")
    if problems:
        raise ValueError("this GPT-2 cannot be a TinyLLM: " + "; ".join(problems))
    return ModelConfig(
        vocab_size=hf["vocab_size"], context_length=hf["n_positions"], d_model=hf["n_embd"],
        n_layers=hf["n_layer"], n_heads=hf["n_head"], n_kv_heads=hf["n_head"],
        d_ff=hf.get("n_inner") or 4 * hf["n_embd"], norm="layernorm", positions="learned",
        mlp="gelu", bias=True, tie_embeddings=bool(hf.get("tie_word_embeddings", True)),
        eps=hf.get("layer_norm_epsilon", 1e-5),
    )


def weights_from_gpt2(tensors: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """GPT-2's tensors (``transformer.`` prefix or not, as OpenAI's own files) under our names.

    Tensors that are not weights are dropped: old files store each layer's causal mask as
    ``attn.bias`` (and ``attn.masked_bias``), which the model rebuilds. Unknown names are kept
    as they are, so that the caller's check reports them.
    """
    tensors = {(n if n.startswith(("transformer.", "lm_head.")) else "transformer." + n): t
               for n, t in tensors.items() if not n.endswith((".attn.bias", ".attn.masked_bias"))}
    renames = {f"{theirs}.{part}": f"{ours}.{part}" for ours, theirs in OUTER_NAMES.items()
               for part in ("weight", "bias")} | {"lm_head.weight": "lm_head.weight"}
    for i in range(config.n_layers):
        for our_name, their_name in LAYER_NAMES.items():
            for part in ("weight", "bias"):
                renames[f"transformer.h.{i}.{their_name}.{part}"] = f"layers.{i}.{our_name}.{part}"
    weights = {}
    for name, tensor in tensors.items():
        if name.endswith((".attn.c_attn.weight", ".attn.c_attn.bias")):
            layer = name.split(".")[2]
            part = name.rsplit(".", 1)[1]
            rows = tensor.T if part == "weight" else tensor  # (3 * d_model, d_model) or (3 * d_model,)
            for proj, value in zip("qkv", rows.chunk(3), strict=True):
                weights[f"layers.{layer}.self_attn.{proj}_proj.{part}"] = value
        elif name in renames:
            transposed = any(f".{c}.weight" in name for c in CONV1D)
            weights[renames[name]] = tensor.T if transposed else tensor
        else:
            weights[name] = tensor
    return {name: t.contiguous() for name, t in weights.items()}
