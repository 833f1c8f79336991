"""One optimisation step of each RLHF method on a tiny random model (a few thousand
parameters), through a LoRA adapter, the reference being the adapter disabled: the pieces fit
together, and each step changes only what it should."""

from __future__ import annotations

import copy

import torch
from rlhf_helpers import random_rows, tiny_model

from tinyllm.batching import generate_batch
from tinyllm.lora import add_lora, count_trainable, disable_adapter
from tinyllm.rlhf.dpo import dpo_batch_loss
from tinyllm.rlhf.grpo import group_advantages, grpo_loss
from tinyllm.rlhf.masked import masked_mean
from tinyllm.rlhf.ppo import (
    ValueHead,
    gae,
    per_token_rewards,
    policy_loss,
    value_loss,
    whiten_advantages,
)
from tinyllm.rlhf.reward_model import RewardModel, bradley_terry_loss
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.sequences import (
    completion_hidden,
    completion_logprobs,
    entropy,
    pack,
    token_logprobs,
)

STOP = 3  # the tiny vocabulary's "end token"


def policy() -> torch.nn.Module:
    model = tiny_model()
    add_lora(model, r=2, alpha=4, targets="all-linear")
    trainable, total = count_trainable(model)
    assert 0 < trainable < total < 10_000
    return model


def step(loss: torch.Tensor, params) -> None:
    params = list(params)
    optimizer = torch.optim.Adam(params, lr=1e-2)
    optimizer.zero_grad()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    optimizer.step()


def rollout(model, prompts, seed):
    completions = generate_batch(model, prompts, 6, temperature=1.0, stop_tokens=[STOP], seed=seed)
    return pack(prompts, completions), [bool(c) and c[-1] == STOP for c in completions]


def test_one_reward_model_step():
    reward_model = RewardModel(tiny_model())
    prompts = random_rows(4, 2, 5, 0)
    chosen, rejected = pack(prompts, random_rows(4, 1, 4, 1)), pack(prompts, random_rows(4, 1, 4, 2))
    before = bradley_terry_loss(reward_model.score_packed(chosen), reward_model.score_packed(rejected))
    step(before, reward_model.parameters())
    after = bradley_terry_loss(reward_model.score_packed(chosen), reward_model.score_packed(rejected))
    assert float(after.detach()) < float(before.detach())


def test_one_dpo_step():
    model = policy()
    base = copy.deepcopy(model.state_dict())
    prompts = random_rows(4, 2, 5, 3)
    chosen, rejected = pack(prompts, random_rows(4, 1, 4, 4)), pack(prompts, random_rows(4, 1, 4, 5))
    loss, _, _ = dpo_batch_loss(model, chosen, rejected)
    step(loss, [p for p in model.parameters() if p.requires_grad])
    loss_after, chosen_rewards, rejected_rewards = dpo_batch_loss(model, chosen, rejected)
    assert float(loss_after.detach()) < float(loss.detach())
    assert float((chosen_rewards - rejected_rewards).mean()) > 0
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, base[k])}
    assert changed and all("lora_" in k for k in changed)  # the reference (base) is untouched


def test_one_ppo_step():
    config = RLConfig(beta=0.05, epochs=2)
    model, value_head, reward_model = policy(), ValueHead(16), RewardModel(tiny_model(seed=1))
    batch, ended = rollout(model, random_rows(4, 2, 5, 6), seed=0)
    mask = batch.completion_mask
    with torch.no_grad():
        old_logp = completion_logprobs(model, batch, config.temperature)
        with disable_adapter(model):
            ref_logp = completion_logprobs(model, batch, config.temperature)
        old_values = value_head(completion_hidden(model, batch)) * mask
        scores = reward_model.score_packed(batch)
    assert torch.allclose(old_logp, ref_logp)  # B = 0: the policy starts as its reference
    rewards, _ = per_token_rewards(old_logp, ref_logp, mask, scores, torch.tensor(ended),
                                   config.beta, config.no_end_penalty)
    advantages, returns = gae(rewards, old_values, mask, config.gamma, config.lam)
    advantages = whiten_advantages(advantages, mask)
    params = [p for p in model.parameters() if p.requires_grad] + list(value_head.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(config.epochs):  # several epochs on one rollout, old log-probs fixed
        hidden = completion_hidden(model, batch)
        logits = model.lm_head(hidden)
        logp = token_logprobs(logits, batch.completions, config.temperature)
        pg_loss, stats = policy_loss(logp, old_logp, advantages, mask, config.clip)
        vf_loss, vf_clip = value_loss(value_head(hidden), old_values, returns, mask, config.clip_value)
        loss = pg_loss + config.value_coef * vf_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert 0 <= stats["clip_fraction"] <= 1 and 0 <= vf_clip <= 1
        assert float(masked_mean(entropy(logits.detach()), mask)) > 0
    assert stats["approx_kl"] > 0  # the second epoch sees a moved policy
    assert value_head.linear.weight.abs().sum() > 0


def test_one_grpo_step():
    group = 4
    model = policy()
    prompts = [p for p in random_rows(2, 2, 5, 7) for _ in range(group)]
    batch, _ = rollout(model, prompts, seed=1)
    mask = batch.completion_mask
    # A verifiable reward: how often token 7 was written.
    rewards = ((batch.completions == 7) & mask).sum(-1).float() + torch.arange(len(prompts)) * 1e-3
    advantages = group_advantages(rewards, group)
    with torch.no_grad():
        old_logp = completion_logprobs(model, batch)
        with disable_adapter(model):
            ref_logp = completion_logprobs(model, batch)
    logp = completion_logprobs(model, batch)
    loss, stats = grpo_loss(logp, old_logp, advantages, mask, beta=0.04, ref_logprobs=ref_logp)
    assert stats == {"clip_fraction": 0.0, "kl": 0.0}  # on-policy, adapter at zero
    step(loss, [p for p in model.parameters() if p.requires_grad])
    _, stats = grpo_loss(completion_logprobs(model, batch), old_logp, advantages, mask, beta=0.04,
                         ref_logprobs=ref_logp)
    assert stats["kl"] > 0
