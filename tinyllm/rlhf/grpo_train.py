"""The ``grpo`` trainer: sample a group of replies per request, push up the better half of each group.

Taught in notebook 10 (RLHF); run by ``python -m tinyllm train --recipe grpo``.

Each of ``max_steps`` steps:

1. takes ``batch_size`` training requests (`policy.shuffled_batches`) and samples
   ``rl.group_size`` replies to each from the LoRA policy at ``rl.temperature``
   (`rollout.rollout`, which also keeps their per-token log-probs under the policy and the
   reference, ``(n * G, C)``);
2. scores every reply once (``rl.reward``: by default the labeler's true score, a *verifiable*
   reward that needs no learned model) and turns the scores into group-relative advantages
   (``grpo.group_advantages``: ``(r - group mean) / (group std + eps)``, ``(n * G,)``);
3. takes ``rl.epochs`` gradient steps on ``grpo.grpo_loss`` (clipped ratio, plus
   ``rl.beta`` times the k3 KL to the reference when ``beta > 0``), normalised per reply, then
   over the replies. With one epoch the ratio is exactly 1 and the clip never acts: the loss's
   gradient is then the plain policy gradient with the group baseline.

What each step logs is in `grpo_update` and `rollout_stats`.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from tinyllm.model import TinyLLM
from tinyllm.optim import lr_at
from tinyllm.rlhf.grpo import group_advantages, grpo_loss
from tinyllm.rlhf.policy import (
    Recipe,
    adamw,
    lora_policy,
    optimizer_step,
    save_policy,
    shuffled_batches,
    training_requests,
)
from tinyllm.rlhf.rewards import reward_function
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.rollout import Rollout, rollout
from tinyllm.rlhf.sequences import completion_logprobs
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History


def rollout_stats(ro: Rollout, rewards: torch.Tensor) -> dict[str, float]:
    """What a rollout says about the policy: mean ``reward`` (what it is optimised against),
    ``true_score``, ``kl`` (mean summed ``log pi - log pi_ref`` per reply), ``ended`` (share
    that produced ``<|end|>``) and ``length`` (mean completion tokens)."""
    return {"reward": float(rewards.float().mean()), "true_score": float(ro.true_scores.mean()),
            "kl": float(ro.kl().mean()), "ended": float(ro.ended.float().mean()),
            "length": float(ro.mask.sum(-1).float().mean())}


def grpo_update(model: TinyLLM, optimizer: torch.optim.Optimizer, ro: Rollout, rewards: torch.Tensor,
                rl: RLConfig, grad_clip: float = 1.0) -> dict[str, float]:
    """``rl.epochs`` optimizer steps of ``grpo_loss`` on one rollout; ``rewards`` ``(n * G,)``.

    Returns the last step's ``loss``, ``clip_fraction`` and ``kl_k3`` (the loss's KL term), and
    ``zero_groups``: the share of groups whose replies all scored the same (advantage 0: they
    teach nothing).
    """
    advantages = group_advantages(rewards.float(), rl.group_size)
    groups = rewards.view(-1, rl.group_size)
    zero_groups = float((groups == groups[:, :1]).all(dim=1).float().mean())
    model.eval()  # dropout off, as for the rollout that scored old_logprobs: else the ratio != 1
    for _ in range(rl.epochs):
        logprobs = completion_logprobs(model, ro.batch, rl.temperature)
        loss, stats = grpo_loss(logprobs, ro.old_logprobs, advantages, ro.mask, clip=rl.clip,
                                beta=rl.beta, ref_logprobs=ro.ref_logprobs)
        optimizer_step(optimizer, loss, grad_clip)
    return {"loss": float(loss.detach()), "clip_fraction": stats["clip_fraction"],
            "kl_k3": stats["kl"], "zero_groups": zero_groups}


def grpo_trainer(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
                 resume: str | Path | None = None, progress: bool = True) -> tuple[BPETokenizer, History]:
    """The ``grpo`` trainer: ``(tokenizer, history)``; ``model`` (the SFT model) gets the trained
    adapter. ``history.samples`` holds one dict per step (`rollout_stats`, `grpo_update`, ``lr``,
    ``cpu_seconds``), also written with the adapter to ``<checkpoint_dir>/log.json``."""
    params = lora_policy(recipe, model, tokenizer, resume)
    cfg, rl = recipe.train, recipe.rl
    if rl.group_size < 2:
        raise ValueError(f"recipe {recipe.name!r}: GRPO needs rl.group_size >= 2 (a group of one "
                         f"has no baseline), got {rl.group_size}")
    reward_model = None
    if rl.reward == "reward-model":
        from tinyllm.shipped import load_shipped_reward_model  # only this reward needs the file
        reward_model = load_shipped_reward_model()
    score = reward_function(rl, reward_model)
    optimizer = adamw(params, cfg)
    batches = shuffled_batches(training_requests(recipe), cfg.batch_size, cfg.seed)
    torch.manual_seed(cfg.seed)
    start, log = time.process_time(), []
    for step in range(cfg.max_steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        ro = rollout(model, tokenizer, next(batches), rl.group_size, temperature=rl.temperature,
                     max_new_tokens=recipe.data.seq_len, seed=cfg.seed * 100_003 + step)
        rewards = score(ro)
        log.append({"step": step + 1, "lr": lr_at(step, cfg), **rollout_stats(ro, rewards),
                    **grpo_update(model, optimizer, ro, rewards, rl, cfg.grad_clip),
                    "cpu_seconds": time.process_time() - start})
        if progress and ((step + 1) % cfg.log_interval == 0 or step + 1 == cfg.max_steps):
            print(f"grpo: step {step + 1}/{cfg.max_steps} " + ", ".join(
                f"{k} {log[-1][k]:.3f}" for k in ("reward", "true_score", "kl", "zero_groups")))
    save_policy(recipe, model, log, progress)
    history = History(step=[e["step"] for e in log], lr=[e["lr"] for e in log],
                      train_loss=[e["loss"] for e in log], samples=log)
    return tokenizer, history
