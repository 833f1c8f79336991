"""The ``sft`` trainer: the base model, given the chat template, fine-tuned on TinyTales tasks.

Taught in notebook 08 (SFT). ``python -m tinyllm train --recipe sft`` runs it (the recipe is in
``tinyllm.recipes``); `sft_trainer` is what ``recipes.TRAINERS["sft"]`` calls.

What it does, in order:

1. gives the starting tokenizer the chat tokens (``chat.add_chat_tokens``: ids 4096-4098) and
   grows the model's embedding to match (``chat.resize_embeddings``: new rows = the mean row);
2. draws the training conversations (`training_set`): by default one *fresh* task per training
   example, ``batch_size * grad_accum_steps * max_steps`` of them, English and Chinese,
   instruction and reading tasks, none from a held-out combination;
3. trains with the ordinary loop (``train.train``) on ``SFTDataset`` pairs, whose labels count
   the answers only (and ``<|end|>``), validating on held-out conversations (`validation_set`).

The recipe's ``DataSpec`` carries the choices: ``lang``, ``corpus_seed`` (which tasks),
``n_train`` (0: a fresh task per example; ``k > 0``: the same ``k`` tasks over and over, as in
the issue's probes), ``n_val``, ``seq_len``, ``reading_share``, the ablations ``mask_prompt`` /
``end_is_target`` and the ``task`` (``sft_data.TASKS``). With ``TrainConfig.lora_r > 0`` only a
LoRA adapter trains (notebook 09's recipes, which start from the SFT model), and the run ends by
writing it alone to ``<checkpoint_dir>/adapter.safetensors``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tinyllm.chat import END, Conversation, add_chat_tokens, resize_embeddings
from tinyllm.data.prepare import RecipeError
from tinyllm.lora import add_lora
from tinyllm.lora_file import save_adapter
from tinyllm.model import TinyLLM
from tinyllm.sft import SFTDataset
from tinyllm.sft_data import conversation_of, eval_reading, task_conversations, task_eval_prompts
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History, train

#: A ``tinyllm.recipes.Recipe`` (not imported: ``recipes`` imports this module to register it).
Recipe = Any


def training_set(recipe: Recipe) -> list[Conversation]:
    """The recipe's training conversations: ``n_train`` of them, or (``n_train=0``) one per
    training example of the run, so no task is seen twice."""
    data, cfg = recipe.data, recipe.train
    n = data.n_train or cfg.batch_size * cfg.grad_accum_steps * cfg.max_steps
    # A few spare ones: conversations longer than seq_len are dropped, and one epoch should
    # still cover every step.
    n = n if data.n_train else n + n // 50 + cfg.batch_size
    return task_conversations(data.task, n, data.corpus_seed, data.lang, data.reading_share)


def validation_set(recipe: Recipe) -> list[Conversation]:
    """``n_val`` held-out conversations: instruction and reading tasks in equal numbers, split
    between the languages of ``data.lang`` (the first ones of ``sft_data.eval_prompts`` and
    ``eval_reading``, so the validation loss is measured on the evaluation's own stories).
    For an adapter's ``task``, its own held-out requests (``sft_data.task_eval_prompts``)."""
    data = recipe.data
    if data.task != "follow":
        langs = ("en",) if data.task == "zh-reply" or data.lang == "mix" else (data.lang,)
        return [conversation_of(t) for t in task_eval_prompts(data.task, data.n_val, langs[0])]
    langs = ("en", "zh") if data.lang == "mix" else (data.lang,)
    per_kind = max(data.n_val // (2 * len(langs)), 1)
    conversations = []
    for lang in langs:
        conversations += [conversation_of(t) for t in task_eval_prompts("follow", per_kind, lang)]
        conversations += [conversation_of(t) for t in eval_reading(per_kind, lang)]
    return conversations


def sft_trainer(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
                resume: str | Path | None = None, progress: bool = True) -> tuple[BPETokenizer, History]:
    """The ``sft`` trainer: ``(chat tokenizer, history)``; ``model`` is trained in place.

    ``model`` and ``tokenizer`` are the recipe's starting point (``start="shipped:base"``);
    the model leaves with ``vocab_size = tokenizer.n_vocab + 3``.
    """
    if tokenizer is None:
        raise RecipeError(f"recipe {recipe.name!r}: the sft trainer fine-tunes a trained model; "
                          "give it a start such as 'shipped:base', not 'scratch'")
    # Nothing here draws random numbers (no dropout, batches have their own generator), but the
    # checkpoints record the random state: seeding it makes two runs' files identical.
    torch.manual_seed(recipe.train.seed)
    if END not in tokenizer.special_tokens:  # a base model: give it the chat template
        tokenizer = add_chat_tokens(tokenizer)
        # Before train() builds the optimizer (and loads a resumed checkpoint, 4,099 wide).
        resize_embeddings(model, tokenizer.n_vocab)
    cfg = recipe.train
    if cfg.lora_r:  # freeze the model; only the adapter trains (notebook 09)
        add_lora(model, recipe.name, r=cfg.lora_r, alpha=cfg.lora_alpha, targets=cfg.lora_targets)
    data = recipe.data
    labels = {"mask_prompt": data.mask_prompt, "end_is_target": data.end_is_target}
    train_set = SFTDataset(tokenizer, training_set(recipe), data.seq_len, too_long="drop", **labels)
    val_set = SFTDataset(tokenizer, validation_set(recipe), data.seq_len, too_long="drop", **labels)
    if progress:
        print(f"sft: {len(train_set)} training conversations ({train_set.n_dropped} longer than "
              f"seq_len={data.seq_len} left out), {len(val_set)} held-out for validation")
    history = train(model, train_set, val_set, cfg, resume=resume, progress=progress)
    if cfg.lora_r and cfg.checkpoint_dir is not None:
        path = save_adapter(Path(cfg.checkpoint_dir) / "adapter.safetensors", model, recipe.name)
        if progress:
            print(f"sft: adapter {recipe.name!r} written to {path}")
    return tokenizer, history
