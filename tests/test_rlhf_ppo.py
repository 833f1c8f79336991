"""PPO's pieces, each on small tensors: the per-token rewards, GAE (by hand, against a plain
loop per reply and against trl's former PPO loop), whitening, the clipped policy and value
losses with their clip fractions, the approximate KL, the value head."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from tinyllm.rlhf.ppo import (
    ValueHead,
    approx_kl,
    gae,
    per_token_rewards,
    policy_loss,
    value_loss,
    whiten_advantages,
)
from tinyllm.rlhf.rl_config import RLConfig

MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)


def test_per_token_rewards_by_hand():
    logp = torch.tensor([[-1.0, -2.0, -0.5, 0.0], [-1.0, -1.0, -1.0, -1.0], [-3.0, 0, 0, 0]])
    ref = torch.tensor([[-1.5, -1.0, -0.5, 0.0], [-1.0, -2.0, -1.0, -0.5], [-2.0, 0, 0, 0]])
    scores, ended = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([True, False, True])
    rewards, kl = per_token_rewards(logp, ref, MASK, scores, ended, beta=0.1, no_end_penalty=1.0)
    assert_close(kl, torch.tensor([[-0.05, 0.1, 0, 0], [0, -0.1, 0, 0.05], [0.1, 0, 0, 0]]))
    # The score at the last real token; reply 1 did not end: its score -1 pays the penalty 1.
    assert_close(rewards, torch.tensor([[-0.05, 0.1, 2.0, 0], [0, -0.1, 0, 0.05 - 2.0],
                                        [0.1 + 0.5, 0, 0, 0]]))
    with pytest.raises(ValueError, match="at least one completion token"):
        per_token_rewards(logp, ref, torch.zeros_like(MASK), scores, ended, 0.1)


def test_gae_by_hand():
    rewards, values = torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.6, 0.7]])
    advantages, returns = gae(rewards, values, torch.ones(1, 3, dtype=torch.bool), gamma=1.0, lam=0.5)
    # t=2: 1 - 0.7 = 0.3; t=1: (0.7 - 0.6) + 0.5 * 0.3 = 0.25; t=0: (0.6 - 0.5) + 0.5 * 0.25
    assert advantages.tolist() == [pytest.approx([0.225, 0.25, 0.3])]
    assert returns.tolist() == [pytest.approx([0.725, 0.85, 1.0])]
    # lam = 1, gamma = 1: the advantage is the return-to-go minus the value.
    advantages, _ = gae(rewards, values, torch.ones(1, 3, dtype=torch.bool), gamma=1.0, lam=1.0)
    assert advantages.tolist() == [pytest.approx([0.5, 0.4, 0.3])]


def plain_gae(rewards, values, mask, gamma, lam):
    """One reply at a time, over its real tokens only, straight from the definition."""
    advantages = torch.zeros_like(rewards)
    for row in range(len(rewards)):
        n = int(mask[row].sum())
        r, v = rewards[row, :n].tolist(), values[row, :n].tolist()
        running = 0.0
        for t in reversed(range(n)):
            next_value = v[t + 1] if t + 1 < n else 0.0
            running = r[t] + gamma * next_value - v[t] + gamma * lam * running
            advantages[row, t] = running
    return advantages, (advantages + values) * mask


def trl_ppo_gae(rewards, values, mask, gamma, lam):
    """trl <= 0.11's PPOTrainer (its ``compute_advantages``, reproduced): values and rewards
    zeroed at pads, one loop over the columns with no mask of its own."""
    values, rewards = values * mask, rewards * mask
    last, reversed_ = 0, []
    n = rewards.shape[-1]
    for t in reversed(range(n)):
        next_values = values[:, t + 1] if t < n - 1 else 0.0
        delta = rewards[:, t] + gamma * next_values - values[:, t]
        last = delta + gamma * lam * last
        reversed_.append(last)
    advantages = torch.stack(reversed_[::-1]).transpose(0, 1)
    return advantages * mask, (advantages + values) * mask


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 7), st.floats(0.5, 1.0), st.floats(0.0, 1.0), st.integers(0, 999))
def test_gae_equals_a_plain_loop_and_trl(batch, width, gamma, lam, seed):
    generator = torch.Generator().manual_seed(seed)
    rewards, values = torch.randn(batch, width, generator=generator), torch.randn(batch, width, generator=generator)
    lengths = torch.randint(1, width + 1, (batch,), generator=generator)
    mask = torch.arange(width)[None] < lengths[:, None]
    rewards = rewards * mask
    advantages, returns = gae(rewards, values, mask, gamma, lam)
    for reference in (plain_gae, trl_ppo_gae):
        expected_a, expected_r = reference(rewards, values, mask, gamma, lam)
        assert_close(advantages, expected_a, atol=1e-5, rtol=1e-5)
        assert_close(returns, expected_r, atol=1e-5, rtol=1e-5)


def test_whitened_advantages_are_masked():
    advantages = torch.tensor([[1.0, 2.0, 3.0, 50.0], [4.0, 5.0, 6.0, 7.0], [8.0, -9.0, -9.0, -9.0]])
    white = whiten_advantages(advantages, MASK)
    assert white[~MASK].abs().max() == 0
    assert float(white[MASK].mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(white[MASK].std()) == pytest.approx(1.0, abs=1e-6)


def trl_ppo_losses(new_logp, old_logp, adv, vpred, old_values, returns, mask, clip, clip_value):
    """trl <= 0.11's PPOTrainer loss (``loss`` method), reproduced."""
    def mm(x):
        return (x * mask).sum() / mask.sum()

    vpredclipped = torch.max(torch.min(vpred, old_values + clip_value), old_values - clip_value)
    vf1, vf2 = (vpred - returns) ** 2, (vpredclipped - returns) ** 2
    vf_loss, vf_clipfrac = 0.5 * mm(torch.max(vf1, vf2)), mm((vf2 > vf1).float())
    ratio = torch.exp(new_logp - old_logp)
    pg1, pg2 = -adv * ratio, -adv * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    return mm(torch.max(pg1, pg2)), mm((pg2 > pg1).float()), vf_loss, vf_clipfrac


def test_clipped_losses_equal_trl():
    generator = torch.Generator().manual_seed(0)
    shape = MASK.shape
    old_logp = -torch.rand(shape, generator=generator) * 3
    new_logp = old_logp + torch.randn(shape, generator=generator) * 0.4
    adv = torch.randn(shape, generator=generator)
    old_values, returns = torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)
    vpred = old_values + torch.randn(shape, generator=generator) * 0.5
    mask = MASK.float()
    pg, pg_frac, vf, vf_frac = trl_ppo_losses(new_logp, old_logp, adv, vpred, old_values, returns, mask, 0.2, 0.2)
    loss, stats = policy_loss(new_logp, old_logp, adv, MASK, clip=0.2)
    assert_close(loss, pg)
    assert stats["clip_fraction"] == pytest.approx(float(pg_frac))
    assert 0 < stats["clip_fraction"] < 1  # the example exercises both branches
    loss, frac = value_loss(vpred, old_values, returns, MASK, clip=0.2)
    assert_close(loss, vf)
    assert frac == pytest.approx(float(vf_frac)) and 0 < frac < 1


def test_policy_loss_by_hand():
    mask = torch.ones(1, 3, dtype=torch.bool)
    old = torch.zeros(1, 3)
    new = torch.tensor([[math.log(1.5), math.log(0.5), math.log(1.1)]])
    adv = torch.tensor([[1.0, 1.0, -1.0]])
    # ratio 1.5, A>0: clipped to 1.2 -> -1.2; ratio 0.5, A>0: min(0.5, 0.8) -> -0.5;
    # ratio 1.1, A<0: max(1.1, 1.1) -> 1.1.
    loss, stats = policy_loss(new, old, adv, mask, clip=0.2)
    assert float(loss) == pytest.approx((-1.2 - 0.5 + 1.1) / 3)
    assert stats["clip_fraction"] == pytest.approx(1 / 3)
    assert stats["approx_kl"] == pytest.approx(0.5 * (math.log(1.5) ** 2 + math.log(0.5) ** 2 + math.log(1.1) ** 2) / 3)
    loss, stats = policy_loss(old, old, adv, mask)
    assert stats == {"clip_fraction": 0.0, "approx_kl": 0.0}


def test_value_loss_by_hand():
    mask = torch.ones(1, 2, dtype=torch.bool)
    values, old, returns = torch.tensor([[1.0, 0.1]]), torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    # token 0: unclipped (1-0)^2 = 1, clipped (0.2-0)^2 = 0.04 -> 1; token 1: (0.1-1)^2 = 0.81 both.
    loss, frac = value_loss(values, old, returns, mask, clip=0.2)
    assert float(loss) == pytest.approx(0.5 * (1 + 0.81) / 2)
    assert frac == 0.0
    loss, frac = value_loss(torch.tensor([[-1.0, 0.1]]), old, torch.tensor([[1.0, 1.0]]), mask, clip=0.2)
    assert float(loss) == pytest.approx(0.5 * (4 + 0.81) / 2) and frac == 0.0
    # token 0: unclipped (1-0.9)^2 = 0.01, clipped (0.2-0.9)^2 = 0.49: the clipped one wins.
    loss, frac = value_loss(torch.tensor([[1.0, 0.1]]), old, torch.tensor([[0.9, 1.0]]), mask, clip=0.2)
    assert frac == 0.5 and float(loss) == pytest.approx(0.5 * (0.49 + 0.81) / 2)


def test_approx_kl_ignores_pads():
    new, old = torch.tensor([[0.1, 0.3, 9.0]]), torch.zeros(1, 3)
    mask = torch.tensor([[1, 1, 0]], dtype=torch.bool)
    assert float(approx_kl(new, old, mask)) == pytest.approx(0.5 * (0.01 + 0.09) / 2)


def test_value_head_starts_at_zero_and_config_defaults():
    head = ValueHead(8)
    assert head(torch.randn(2, 5, 8)).shape == (2, 5)
    assert bool((head(torch.randn(2, 5, 8)) == 0).all())
    config = RLConfig()
    assert (config.gamma, config.lam, config.clip) == (1.0, 0.95, 0.2)
