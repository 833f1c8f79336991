"""What the DPO, PPO and GRPO trainers share: the LoRA policy, its requests, its optimiser, its file.

Taught in notebook 10 (RLHF).

Each policy is the shipped SFT model, frozen, plus a LoRA adapter named after its recipe (the
recipe's ``lora_r``, ``lora_alpha``, ``lora_targets``). Only the adapter trains, so the reference
model is the same weights with the adapter off (``lora.disable_adapter``): the KL leash costs no
second model. A run ends by writing the adapter alone to ``<checkpoint_dir>/adapter.safetensors``
and its per-step log to ``<checkpoint_dir>/log.json`` (what notebook 10 plots).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from tinyllm.chat import END
from tinyllm.data.prepare import RecipeError
from tinyllm.lora import add_lora
from tinyllm.lora_file import save_adapter
from tinyllm.model import TinyLLM
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.tinytales import InstructionTask
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train_config import TrainConfig

T = TypeVar("T")
#: A ``tinyllm.recipes.Recipe`` (not imported: ``recipes`` imports the trainers to register them).
Recipe = Any


def lora_policy(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None,
                resume: str | Path | None = None) -> list[nn.Parameter]:
    """Give ``model`` (the SFT model) the recipe's LoRA adapter, named ``recipe.name``, and
    return the parameters that train (the adapter's). Raises ``RecipeError`` for a recipe that
    does not start from a chat model, has ``lora_r = 0``, or asks to resume."""
    if tokenizer is None or END not in tokenizer.special_tokens:
        raise RecipeError(f"recipe {recipe.name!r}: the {recipe.trainer} trainer starts from a chat "
                          "model; give it start='shipped:sft'")
    cfg = recipe.train
    if not cfg.lora_r:
        raise RecipeError(f"recipe {recipe.name!r}: the {recipe.trainer} trainer trains a LoRA "
                          "adapter (its reference is the adapter switched off); set lora_r, e.g. 8")
    if resume is not None:
        raise RecipeError(f"recipe {recipe.name!r}: the {recipe.trainer} trainer does not resume; "
                          "run it from the start (a run takes minutes)")
    # The adapter's A matrices start random: seeded, every run starts from the same adapter
    # (PyTorch seeds its global generator differently in every process).
    torch.manual_seed(cfg.seed)
    add_lora(model, recipe.name, r=cfg.lora_r, alpha=cfg.lora_alpha, targets=cfg.lora_targets)
    return [p for p in model.parameters() if p.requires_grad]


def training_requests(recipe: Recipe) -> list[InstructionTask]:
    """``data.n_train`` training-split requests per language of ``data.lang`` (``"mix"``: English
    and Chinese, alternating), drawn with seed ``data.corpus_seed``."""
    data = recipe.data
    langs = ["en", "zh"] if data.lang == "mix" else [data.lang]
    per_lang = [rlhf_tasks(data.n_train, lang, "train", seed=data.corpus_seed) for lang in langs]
    return [task for row in zip(*per_lang, strict=True) for task in row]


def shuffled_batches(items: Sequence[T], batch_size: int, seed: int) -> Iterator[list[T]]:
    """Endless batches of ``batch_size`` items (requests, preference pairs or groups): the list
    shuffled by ``seed``, epoch after epoch; an epoch's leftovers start the next batch (so a batch
    that spans two epochs can hold an item twice, as does one larger than the list)."""
    if not items or batch_size < 1:
        raise ValueError(f"need items and batch_size >= 1, got {len(items)} and {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    while True:
        while len(order) < batch_size:
            order += torch.randperm(len(items), generator=generator).tolist()
        yield [items[i] for i in order[:batch_size]]
        del order[:batch_size]


def adamw(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with the recipe's settings, its weight decay on every parameter (the shipped recipes
    set 0: an adapter is not decayed, as in peft's examples)."""
    return torch.optim.AdamW(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                             weight_decay=cfg.weight_decay)


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, grad_clip: float,
                   lr: float | None = None) -> None:
    """One update of the optimizer's parameters from ``loss``: clear the old gradients,
    backpropagate, clip the gradient norm to ``grad_clip`` (0: no clipping), step at ``lr``
    (None: at the learning rate the optimizer already has)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    optimizer.step()


def save_policy(recipe: Recipe, model: TinyLLM, log: list[dict[str, float]], progress: bool = True) -> None:
    """Write the adapter to ``<checkpoint_dir>/adapter.safetensors`` and ``log`` (one dict per
    step) to ``<checkpoint_dir>/log.json``, atomically (nothing when ``checkpoint_dir`` is None)."""
    if recipe.train.checkpoint_dir is None:
        return
    folder = Path(recipe.train.checkpoint_dir)
    path = save_adapter(folder / "adapter.safetensors", model, recipe.name)
    temporary = folder / f".log.json.{os.getpid()}.tmp"
    temporary.write_text(json.dumps({"recipe": recipe.to_dict(), "log": log}, indent=1), encoding="utf-8")
    os.replace(temporary, folder / "log.json")
    if progress:
        print(f"{recipe.trainer}: adapter {recipe.name!r} written to {path}")
