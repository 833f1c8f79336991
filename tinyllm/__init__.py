"""tinyllm: the package behind the tinyllm course.

Every notebook in ``notebooks/`` builds an idea from scratch, then imports the matching, tested
piece from here and checks that the two agree. Where each notebook's pieces live:

====  ======================  ==========================================================
 00   setup                   determinism, paths, doctor, notebooks, tinytales/
 01   tokenizer               tokenizers/ (simple, bpe_train, bpe, pretrained)
 02   data pipeline           data/ (corpora, windows, token_file)
 03   embeddings              embeddings
 04   attention               attention, config, plotting (CJK font, widget pictures)
 05   RoPE & GQA              rope, layers (norms, MLPs), kv_cache
 06   model and generation    model (Block, TinyLLM, counts), generate, plotting
 07   pretraining             train_config, optim, precision, evaluation, checkpoint,
                              checkpoint_file, train, data/prepare, stories, shipped, recipes
 08   SFT                     chat (template, special tokens, resize_embeddings), sft (labels,
                              SFTDataset), sft_data (tasks, held-out split), tinytales/tasks,
                              batching (prompts of different lengths decoded together),
                              sft_train (the sft recipe's trainer), sft_eval (held-out grading)
 09   LoRA                    lora (LoRALinear, add_lora, merge), lora_file (adapter files),
                              quantize (Int8Linear), sft_data/sft_train (adapter tasks and
                              recipes), shipped (load_shipped_adapter), sft_eval (evaluate_adapter)
 10   RLHF                    rlhf/ (labeler: the simulated human; prompts; preferences;
                              sequences: packed prompt + completion, log-probs; masked; kl;
                              reward_model; reward_train: its trainer; dpo; ppo; grpo;
                              rl_config, policy, rollout, rewards: what the policy trainers
                              share; dpo_train, ppo_train, grpo_train; compare: win rates),
                              shipped (load_shipped_reward_model)
 11   scaling out             distributed (and train under torchrun)
 --   beyond the course       device (--device: CUDA, MPS), hf and hf_tokenizer (Hugging Face
                              folders, export --format hf), data/tokens and tokenizers/stream
                              (your own text: cached token files, streaming encode)
====  ======================  ==========================================================

``python -m tinyllm`` (``__main__``) is the command line: doctor, execute, train, export.

The names below are importable from ``tinyllm`` itself (``generate`` is not: ``tinyllm.generate``
is its module, ``from tinyllm.generate import generate``). They are loaded on first use (PEP 562),
so ``import tinyllm`` does not import torch, and ``python -m tinyllm doctor`` can report a
machine without it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Name -> the module that defines it.
_EXPORTS = {
    "NOTEBOOK_THREADS": "tinyllm.determinism",
    "seed_everything": "tinyllm.determinism",
    "data_dir": "tinyllm.paths",
    "data_file": "tinyllm.paths",
    "ConfigError": "tinyllm.config",
    "ModelConfig": "tinyllm.config",
    "gpt2_124m": "tinyllm.config",
    "gpt2_style": "tinyllm.config",
    "llama2_7b": "tinyllm.config",
    "llama_style": "tinyllm.config",
    "KVCache": "tinyllm.kv_cache",
    "kv_cache_bytes_per_token": "tinyllm.kv_cache",
    "TinyLLM": "tinyllm.model",
    "count_parameters": "tinyllm.model",
    "flops_per_token": "tinyllm.model",
    "parameter_breakdown": "tinyllm.model",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tinyllm' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # the next lookup finds it without calling __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
