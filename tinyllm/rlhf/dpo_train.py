"""The ``dpo`` trainer: learn the labeler's preferences directly, with no reward model and no sampling.

Taught in notebook 10 (RLHF); run by ``python -m tinyllm train --recipe dpo``.

1. **Data, once** (`preference_data`): ``rl.group_size`` replies of the SFT model to each of
   the recipe's training requests, at ``reward_train.SAMPLE_TEMPERATURE``, every two distinct
   replies of a request labelled by the simulated labeler at ``reward_train.LABEL_TEMPERATURE``
   (``preferences.label_pairs``): the same kind of data the reward model learns from. DPO is
   *offline*: these pairs never change while the policy does.
2. **Steps**: ``batch_size`` pairs at a time (shuffled by ``seed``, epoch after epoch), loss
   ``dpo.dpo_batch_loss`` with ``beta = rl.beta``; the reference log-probs come from the same
   model with its adapter off.

Logged per step: the loss, the implicit rewards of chosen and rejected replies
``beta * (log pi - log pi_ref)``, their margin, and the share of pairs whose margin is positive
(the policy's own "reward accuracy", as trl logs it).
"""

from __future__ import annotations

import time
from pathlib import Path

from tinyllm.lora import disable_adapter
from tinyllm.model import TinyLLM
from tinyllm.optim import lr_at
from tinyllm.rlhf.dpo import dpo_batch_loss
from tinyllm.rlhf.policy import (
    Recipe,
    adamw,
    lora_policy,
    optimizer_step,
    save_policy,
    shuffled_batches,
    training_requests,
)
from tinyllm.rlhf.preferences import PreferencePair, collate, label_pairs, sample_replies
from tinyllm.rlhf.reward_train import LABEL_TEMPERATURE, SAMPLE_TEMPERATURE
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History


def preference_data(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer) -> list[PreferencePair]:
    """The recipe's labelled pairs among ``rl.group_size`` SFT replies per training request."""
    k, seed = recipe.rl.group_size, recipe.data.corpus_seed
    if k < 2:
        raise ValueError(f"recipe {recipe.name!r}: DPO pairs replies, so rl.group_size must be >= 2, got {k}")
    model.eval()
    samples = sample_replies(model, tokenizer, training_requests(recipe), k, temperature=SAMPLE_TEMPERATURE,
                             max_new_tokens=recipe.data.seq_len, seed=seed)
    return label_pairs(samples, k, LABEL_TEMPERATURE, seed)


def dpo_trainer(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
                resume: str | Path | None = None, progress: bool = True) -> tuple[BPETokenizer, History]:
    """The ``dpo`` trainer: ``(tokenizer, history)``; ``model`` (the SFT model) gets the trained
    adapter. ``history.samples`` holds one dict per step (also in ``<checkpoint_dir>/log.json``)."""
    start = time.process_time()
    params = lora_policy(recipe, model, tokenizer, resume)  # first: it refuses a wrong recipe at once
    with disable_adapter(model):  # the pairs are the SFT model's own replies
        pairs = preference_data(recipe, model, tokenizer)
    cfg = recipe.train
    if progress:
        print(f"dpo: {len(pairs)} labelled pairs from {len(training_requests(recipe))} requests "
              f"({time.process_time() - start:.0f} CPU s)")
    optimizer = adamw(params, cfg)
    batches = shuffled_batches(pairs, cfg.batch_size, cfg.seed)
    log = []
    # Dropout off (as trl's DPOTrainer by default): with it on, the policy would differ from the
    # reference even before the first step, and the loss would not start at log 2.
    model.eval()
    for step in range(cfg.max_steps):
        chosen, rejected = collate(next(batches))
        loss, chosen_rewards, rejected_rewards = dpo_batch_loss(model, chosen, rejected, beta=recipe.rl.beta)
        optimizer_step(optimizer, loss, cfg.grad_clip, lr_at(step, cfg))
        margin = chosen_rewards - rejected_rewards
        log.append({"step": step + 1, "lr": lr_at(step, cfg), "loss": float(loss.detach()),
                    "chosen_reward": float(chosen_rewards.mean()),
                    "rejected_reward": float(rejected_rewards.mean()),
                    "margin": float(margin.mean()), "accuracy": float((margin > 0).float().mean()),
                    "cpu_seconds": time.process_time() - start})
        if progress and ((step + 1) % cfg.log_interval == 0 or step + 1 == cfg.max_steps):
            print(f"dpo: step {step + 1}/{cfg.max_steps} " + ", ".join(
                f"{k} {log[-1][k]:.3f}" for k in ("loss", "margin", "accuracy")))
    save_policy(recipe, model, log, progress)
    history = History(step=[e["step"] for e in log], lr=[e["lr"] for e in log],
                      train_loss=[e["loss"] for e in log], samples=log)
    return tokenizer, history
