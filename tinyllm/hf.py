"""To and from Hugging Face: a ``TinyLLM`` as a ``transformers`` model folder, and back.

Beyond the course (README, "Beyond the course")::

    python -m tinyllm export --format hf base exported/base

writes ``config.json``, ``generation_config.json``, ``model.safetensors``, ``tokenizer.json``
and ``tokenizer_config.json``, which ``AutoModelForCausalLM.from_pretrained(folder)`` and
``AutoTokenizer.from_pretrained(folder)`` load offline (tests/test_hf_export.py checks equal
logits and token ids). Writing needs only ``json`` and ``safetensors``; transformers is not
imported here. `load_hf` reads such a folder (or any local Llama or GPT-2 checkpoint folder
of ``transformers``) into a ``TinyLLM``, and `load_hf_tokenizer` its byte-level BPE
``tokenizer.json`` into a `BPETokenizer`.

Two architectures have a Hugging Face twin: a model with RMSNorm, RoPE and SwiGLU
(``llama_style``) is a ``LlamaForCausalLM``; one with LayerNorm, learned positions, GELU and
biases (``gpt2_style``) is a ``GPT2LMHeadModel`` (`tinyllm.hf_gpt2`); any other mix is refused.
Our parameter names are already Llama's (``layers.0.self_attn.q_proj.weight``); Hugging Face
puts the decoder under ``model.`` and keeps ``lm_head`` outside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open

from tinyllm.chat import ASSISTANT, CHAT_TOKENS, END, USER
from tinyllm.checkpoint import save_atomically
from tinyllm.config import ModelConfig
from tinyllm.hf_gpt2 import (
    config_from_gpt2,
    gpt2_config,
    gpt2_problems,
    gpt2_state_dict,
    weights_from_gpt2,
)
from tinyllm.hf_tokenizer import HFTokenizerError, hf_tokenizer_json, tokenizer_from_hf_json
from tinyllm.model import TinyLLM
from tinyllm.rope import interleaved_to_half_permutation
from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer

#: ``tinyllm.chat.render`` and ``prompt_for`` in Jinja, for ``tokenizer.apply_chat_template``.
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    f"{{% if m['role'] == 'user' %}}{USER}{{% elif m['role'] == 'assistant' %}}{ASSISTANT}"
    "{% else %}{{ raise_exception('roles are user and assistant') }}{% endif %}"
    f"{{{{ m['content'] }}}}{END}{{% endfor %}}"
    f"{{% if add_generation_prompt %}}{ASSISTANT}{{% endif %}}"
)


class HFFormatError(ValueError):
    """A model that has no Hugging Face twin, or a folder we cannot read."""


def architecture(config: ModelConfig) -> str:
    """``"llama"`` or ``"gpt2"``: which Hugging Face model ``config`` is.

    Raises:
        HFFormatError: a mix of the two (LayerNorm with RoPE, say), which has no Hugging Face twin.
    """
    llama = [f"{name}={getattr(config, name)!r}" for name, value in
             (("norm", "rmsnorm"), ("positions", "rope"), ("mlp", "swiglu")) if getattr(config, name) != value]
    if not llama:
        return "llama"
    if not gpt2_problems(config):
        return "gpt2"
    raise HFFormatError(f"only Llama-style (norm='rmsnorm', positions='rope', mlp='swiglu') and "
                        f"GPT-2-style models (norm='layernorm', positions='learned', mlp='gelu', "
                        f"bias=True, n_kv_heads=n_heads) export to Hugging Face; this config is not "
                        f"a Llama ({', '.join(llama)}) nor a GPT-2 ({', '.join(gpt2_problems(config))})")


def hf_config(config: ModelConfig, eos_token_id: int | None = None) -> dict:
    """``config.json`` of ``LlamaForCausalLM`` (or ``GPT2LMHeadModel``) for ``config``."""
    if architecture(config) == "gpt2":
        return gpt2_config(config, eos_token_id)
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": config.vocab_size, "hidden_size": config.d_model,
        "intermediate_size": config.d_ff, "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads, "num_key_value_heads": config.n_kv_heads,
        "head_dim": config.head_dim, "max_position_embeddings": config.context_length,
        "rms_norm_eps": config.eps, "hidden_act": "silu",
        # transformers 5 reads rope_parameters, 4.x reads rope_theta: write both.
        "rope_theta": config.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": config.rope_theta},
        "tie_word_embeddings": config.tie_embeddings,
        "attention_bias": config.bias, "mlp_bias": config.bias, "attention_dropout": 0.0,
        "bos_token_id": None, "eos_token_id": eos_token_id, "pad_token_id": None,
        "initializer_range": 0.02, "dtype": "float32", "use_cache": True,
    }


def hf_state_dict(model: TinyLLM) -> dict[str, torch.Tensor]:
    """``model``'s weights under ``LlamaForCausalLM``'s (or ``GPT2LMHeadModel``'s) names, float32;
    a tied head is stored once."""
    config = model.config
    if architecture(config) == "gpt2":
        tensors = gpt2_state_dict(model.state_dict(), config)
        return {name: t.detach().float().contiguous() for name, t in tensors.items()}
    tensors = {}
    for name, value in model.state_dict().items():
        if name == "lm_head.weight":
            if not config.tie_embeddings:
                tensors[name] = value
            continue
        tensors["model." + name] = value
    if config.rope_layout == "interleaved":
        # Hugging Face rotates the half layout: reorder each head's q/k rows (and biases) so
        # that the pairs RoPE rotates together land where rotate_half expects them.
        perm = interleaved_to_half_permutation(config.head_dim)
        for name in tensors:
            for proj, heads in (("q_proj", config.n_heads), ("k_proj", config.n_kv_heads)):
                if f"self_attn.{proj}." in name:
                    rows = (torch.arange(heads)[:, None] * config.head_dim + perm).reshape(-1)
                    tensors[name] = tensors[name][rows]
    return {name: t.detach().float().contiguous() for name, t in tensors.items()}


def export_hf(model: TinyLLM, tokenizer: BPETokenizer, folder: str | os.PathLike) -> Path:
    """Write ``model`` and ``tokenizer`` as a Hugging Face folder (float32 weights); returns it.

    The end-of-sequence token is ``<|end|>`` when the tokenizer has the chat tokens (a chat
    model, which also gets `CHAT_TEMPLATE`), else ``<|endoftext|>``; special tokens stay special
    (never split).
    """
    architecture(model.config)  # refuse a model with no Hugging Face twin before writing anything
    if tokenizer.n_vocab != model.config.vocab_size:
        raise HFFormatError(f"the tokenizer has {tokenizer.n_vocab} ids but the model's vocab_size "
                            f"is {model.config.vocab_size}; export the tokenizer the model was trained with")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special = tokenizer.special_tokens
    chat = set(CHAT_TOKENS) <= set(special)
    eos = END if chat else ENDOFTEXT if ENDOFTEXT in special else None
    eos_id = special[eos] if eos else None
    save_atomically(folder / "model.safetensors", hf_state_dict(model), {"format": "pt"})
    documents = {
        "config.json": hf_config(model.config, eos_id),
        "generation_config.json": {"eos_token_id": eos_id, "bos_token_id": None, "pad_token_id": None},
        "tokenizer.json": hf_tokenizer_json(tokenizer),
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": eos, "bos_token": None,
            "model_max_length": model.config.context_length, "add_bos_token": False,
            "clean_up_tokenization_spaces": False,
            **({"chat_template": CHAT_TEMPLATE} if chat else {}),
        },
    }
    for name, document in documents.items():
        temporary = folder / f".{name}.tmp"
        temporary.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, folder / name)
    return folder


def config_from_hf(hf: dict) -> ModelConfig:
    """The ``ModelConfig`` of a Hugging Face Llama or GPT-2 ``config.json`` (a dict)."""
    if hf.get("model_type") == "gpt2":
        try:
            return config_from_gpt2(hf)
        except ValueError as error:
            raise HFFormatError(str(error)) from None
    if hf.get("model_type") != "llama":
        raise HFFormatError(f"model_type={hf.get('model_type')!r}: only Llama and GPT-2 folders "
                            "load into TinyLLM")
    rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    problems = []
    if hf.get("hidden_act", "silu") != "silu":
        problems.append(f"hidden_act={hf['hidden_act']!r} (TinyLLM's SwiGLU uses silu)")
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        problems.append(f"rope scaling {rope!r} (TinyLLM has plain RoPE)")
    if hf.get("attention_bias", False) != hf.get("mlp_bias", False):
        problems.append("attention_bias != mlp_bias (TinyLLM has one bias switch)")
    head_dim = hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"]
    if head_dim * hf["num_attention_heads"] != hf["hidden_size"]:
        problems.append(f"head_dim={head_dim} is not hidden_size / num_attention_heads")
    if problems:
        raise HFFormatError("this Llama cannot be a TinyLLM: " + "; ".join(problems))
    return ModelConfig(
        vocab_size=hf["vocab_size"], context_length=hf["max_position_embeddings"],
        d_model=hf["hidden_size"], n_layers=hf["num_hidden_layers"],
        n_heads=hf["num_attention_heads"],
        n_kv_heads=hf.get("num_key_value_heads") or hf["num_attention_heads"],
        d_ff=hf["intermediate_size"], norm="rmsnorm", positions="rope", mlp="swiglu",
        rope_theta=float(rope.get("rope_theta", hf.get("rope_theta", 10000.0))),
        rope_layout="half", bias=bool(hf.get("attention_bias", False)),
        tie_embeddings=bool(hf.get("tie_word_embeddings", False)), eps=hf.get("rms_norm_eps", 1e-6),
    )


def load_hf(folder: str | os.PathLike) -> TinyLLM:
    """A ``TinyLLM`` (float32, eval mode) from a local Hugging Face Llama or GPT-2 folder.

    Reads ``config.json`` and ``model.safetensors`` (or the shards named in
    ``model.safetensors.index.json``).
    """
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise HFFormatError(f"{folder} has no config.json; give a folder written by save_pretrained "
                            "or `python -m tinyllm export --format hf`")
    hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config = config_from_hf(hf)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        files = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    elif (folder / "model.safetensors").is_file():
        files = ["model.safetensors"]
    else:
        raise HFFormatError(f"{folder} has no model.safetensors; save the model with "
                            "save_pretrained(folder, safe_serialization=True)")
    weights = {}
    for file in files:
        with safe_open(folder / file, framework="pt") as f:
            for name in f.keys():
                if not name.endswith("rotary_emb.inv_freq"):  # a cache older Llama files stored
                    weights[name.removeprefix("model.")] = f.get_tensor(name).float()
    if hf["model_type"] == "gpt2":
        weights = weights_from_gpt2(weights, config)
    if config.tie_embeddings:
        weights.pop("lm_head.weight", None)
    model = TinyLLM(config)
    expected = {n for n in model.state_dict() if not (config.tie_embeddings and n == "lm_head.weight")}
    if set(weights) != expected:
        raise HFFormatError(f"{folder}'s weights do not fit its config: missing "
                            f"{sorted(expected - set(weights))[:5]}, unexpected {sorted(set(weights) - expected)[:5]}")
    model.load_state_dict(weights, strict=False)  # strict=False: a tied head is filled by the tie
    return model.eval()


def load_hf_tokenizer(folder: str | os.PathLike) -> BPETokenizer:
    """The `BPETokenizer` of a Hugging Face folder's ``tokenizer.json`` (byte-level BPE: ours,
    GPT-2's), giving the ids ``AutoTokenizer`` gives (`hf_tokenizer.tokenizer_from_hf_json`).

    Raises:
        HFFormatError: no ``tokenizer.json``, or another kind of tokenizer (the message says which).
    """
    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise HFFormatError(f"{folder} has no tokenizer.json; give a folder written by "
                            "`python -m tinyllm export --format hf` or a tokenizer's save_pretrained")
    try:
        return tokenizer_from_hf_json(json.loads(path.read_text(encoding="utf-8")))
    except HFTokenizerError as error:
        raise HFFormatError(f"{path}: {error}") from None
