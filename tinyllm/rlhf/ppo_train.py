"""The ``ppo`` trainer: the SFT model's LoRA adapter optimised with PPO against a reward.

Taught in notebook 10 (RLHF); run by ``python -m tinyllm train --recipe ppo``. The pieces are
in `ppo` (rewards, values, GAE, losses); this module is the loop around them. Each of the
recipe's ``train.max_steps`` steps, with ``n = batch_size * group_size`` replies of at most
``C`` tokens (``C <= data.seq_len``) and ``k = rl.group_size``:

1. **Rollout** (`rollout.rollout`): ``batch_size`` training requests, ``k`` replies each, sampled
   at ``rl.temperature``; the old and reference log-probs, ``(n, C)``, at the same temperature.
2. **Score**: the recipe's reward (``rl.reward``: the reward model, the true score or the flawed
   proxy), ``(n,)``.
3. **Advantages** (`ppo_update`): the value head's old values ``(n, C)``; per-token rewards
   ``-beta * KL`` plus the score at each reply's last token (minus ``no_end_penalty`` if it
   never ended); GAE (``gamma``, ``lam``) gives advantages and returns, ``(n, C)``; the
   advantages are whitened over the real tokens.
4. **Update**: ``rl.epochs`` passes over the rollout, each in ``rl.mini_batches`` shuffled
   mini-batches of rows; one forward pass gives the hidden states ``(m, C, d_model)``, from
   which both the logits (``model.lm_head``) and the values (the value head) are read; loss =
   clipped policy loss + ``value_coef`` * clipped value loss, one AdamW step per mini-batch
   (learning rate `optim.lr_at` of the step, gradients clipped at ``train.grad_clip``).
5. **Log** one dict per step (`STEP_LOG`); at the end the adapter and the log are written
   (`policy.save_policy`). The value head is not saved: it only serves training.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from tinyllm.model import TinyLLM
from tinyllm.optim import lr_at
from tinyllm.rlhf.masked import masked_mean
from tinyllm.rlhf.policy import (
    Recipe,
    adamw,
    lora_policy,
    optimizer_step,
    save_policy,
    shuffled_batches,
    training_requests,
)
from tinyllm.rlhf.ppo import (
    ValueHead,
    gae,
    per_token_rewards,
    policy_loss,
    value_loss,
    whiten_advantages,
)
from tinyllm.rlhf.reward_model import RewardModel
from tinyllm.rlhf.rewards import reward_function
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.rollout import Rollout, rollout, select
from tinyllm.rlhf.sequences import completion_hidden, entropy, token_logprobs
from tinyllm.shipped import load_shipped_reward_model
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History
from tinyllm.train_config import TrainConfig

#: The keys of each step's log entry (``history.samples[i]``, ``log.json``'s ``"log"``).
STEP_LOG = ("step", "lr", "loss", "reward", "true_score", "kl", "entropy", "clip_fraction",
            "approx_kl", "value_loss", "value_clip_fraction", "policy_loss", "ended",
            "reply_length", "cpu_seconds")


def ppo_update(model: TinyLLM, value_head: ValueHead, optimizer: torch.optim.Optimizer, ro: Rollout,
               scores: torch.Tensor, rl: RLConfig, cfg: TrainConfig, step: int,
               generator: torch.Generator) -> dict[str, float]:
    """Steps 3 and 4 of the module docstring on one rollout: ``rl.epochs * rl.mini_batches``
    optimizer steps on ``model``'s trainable parameters and ``value_head``'s.

    Args:
        ro: the rollout (``n`` rows); ``scores``: ``(n,)`` its rewards.
        step: the training step (0-based), for the learning rate ``lr_at(step, cfg)``.
        generator: shuffles the rows of each epoch into mini-batches.

    Returns:
        The means over the updates of ``loss``, ``policy_loss``, ``value_loss``,
        ``clip_fraction``, ``value_clip_fraction``, ``approx_kl`` (new policy against old) and
        ``entropy`` (nats per real token, at ``rl.temperature``, of the policy each update
        started from: the first is the sampler's).
    """
    n, mask = len(scores), ro.mask
    if rl.mini_batches > n:
        raise ValueError(f"rl.mini_batches={rl.mini_batches} is more than the rollout's {n} replies; "
                         "lower mini_batches or raise batch_size / group_size")
    # Dropout off (as in the "N implementation details" of RLHF with PPO): the rollout scored the
    # tokens without it, so the first update must see the same probabilities (ratio 1).
    model.eval()
    with torch.no_grad():
        old_values = value_head(completion_hidden(model, ro.batch)) * mask
        rewards, _ = per_token_rewards(ro.old_logprobs, ro.ref_logprobs, mask, scores, ro.ended,
                                       rl.beta, rl.no_end_penalty)
        advantages, returns = gae(rewards, old_values, mask, rl.gamma, rl.lam)
        # Whitened over the whole rollout (not per mini-batch): one scale for every update.
        advantages = whiten_advantages(advantages, mask)
    totals: dict[str, float] = {}
    for _ in range(rl.epochs):
        for rows in torch.randperm(n, generator=generator).tensor_split(rl.mini_batches):
            mini, mini_mask = select(ro.batch, rows), mask[rows]
            hidden = completion_hidden(model, mini)  # (m, C, d_model): one forward for both heads
            logits = model.lm_head(hidden)  # (m, C, vocab)
            # At the sampling temperature, as the old log-probs were: else the ratio starts != 1.
            logprobs = token_logprobs(logits, mini.completions, rl.temperature)
            pg_loss, stats = policy_loss(logprobs, ro.old_logprobs[rows], advantages[rows],
                                         mini_mask, rl.clip)
            vf_loss, vf_clip = value_loss(value_head(hidden), old_values[rows], returns[rows],
                                          mini_mask, rl.clip_value)
            loss = pg_loss + rl.value_coef * vf_loss
            optimizer_step(optimizer, loss, cfg.grad_clip, lr_at(step, cfg))
            figures = {"loss": float(loss.detach()), "policy_loss": float(pg_loss.detach()),
                       "value_loss": float(vf_loss.detach()), "value_clip_fraction": vf_clip,
                       "entropy": float(masked_mean(entropy(logits.detach(), rl.temperature), mini_mask)),
                       **stats}
            for key, value in figures.items():
                totals[key] = totals.get(key, 0.0) + value
    return {key: value / (rl.epochs * rl.mini_batches) for key, value in totals.items()}


def ppo_trainer(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
                resume: str | Path | None = None, progress: bool = True,
                reward_model: RewardModel | None = None) -> tuple[BPETokenizer, History]:
    """The ``ppo`` trainer: ``(tokenizer, history)`` (see the module docstring).

    ``model`` (the SFT model) gets the recipe's LoRA adapter and trains in place; the adapter
    and the per-step log are written to ``train.checkpoint_dir``. ``rl.reward="reward-model"``
    scores with ``reward_model``, by default the shipped one. ``history.train_loss`` is each
    step's mean PPO loss and ``history.samples`` its log entry (`STEP_LOG`); there is no
    validation loss (the win rate is measured on held-out requests afterwards).
    """
    params = lora_policy(recipe, model, tokenizer, resume)  # raises RecipeError first
    cfg, rl = recipe.train, recipe.rl
    if rl.reward == "reward-model" and reward_model is None:
        reward_model = load_shipped_reward_model()
    reward_fn = reward_function(rl, reward_model)
    value_head = ValueHead(model.config.d_model)  # zero-initialised: first values all 0
    optimizer = adamw(params + list(value_head.parameters()), cfg)
    requests = shuffled_batches(training_requests(recipe), cfg.batch_size, cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    start, log = time.process_time(), []
    for step in range(cfg.max_steps):
        ro = rollout(model, tokenizer, next(requests), rl.group_size, temperature=rl.temperature,
                     max_new_tokens=recipe.data.seq_len, seed=cfg.seed * 100_003 + step)
        scores = reward_fn(ro).float()
        figures = ppo_update(model, value_head, optimizer, ro, scores, rl, cfg, step, generator)
        log.append({
            "step": step + 1, "lr": lr_at(step, cfg), "loss": figures["loss"],
            "reward": float(scores.mean()), "true_score": float(ro.true_scores.mean()),
            "kl": float(ro.kl().mean()),  # summed over each reply, then averaged over replies
            **{key: figures[key] for key in ("entropy", "clip_fraction", "approx_kl", "value_loss",
                                             "value_clip_fraction", "policy_loss")},
            "ended": float(ro.ended.float().mean()),
            "reply_length": float(ro.mask.sum(-1).float().mean()),
            "cpu_seconds": time.process_time() - start})
        if progress and (step + 1) % cfg.log_interval == 0:
            e = log[-1]
            print(f"ppo: step {step + 1}/{cfg.max_steps} reward {e['reward']:.3f} true {e['true_score']:.3f} "
                  f"kl {e['kl']:.3f} entropy {e['entropy']:.3f} clip {e['clip_fraction']:.3f} "
                  f"length {e['reply_length']:.1f} cpu {e['cpu_seconds']:.0f} s")
    save_policy(recipe, model, log, progress)
    history = History(step=[e["step"] for e in log], lr=[e["lr"] for e in log],
                      train_loss=[e["loss"] for e in log], samples=log)
    return tokenizer, history
