"""GRPO: group advantages by hand and as trl computes them (sample std), and the loss equal to
trl's own GRPOTrainer code, with and without the KL term, per-sequence and per-token."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch
from torch.testing import assert_close

from tinyllm.rlhf.grpo import group_advantages, grpo_loss


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.5, 0.5, 0.2, 0.2])
    adv = group_advantages(rewards, group_size=2, eps=0.0)
    s = math.sqrt(0.5)  # sample std of {1, 0}: sqrt(((0.5)^2 * 2) / 1)
    assert adv[:2].tolist() == pytest.approx([0.5 / s, -0.5 / s])
    # Equal rewards: nothing to learn, and eps keeps 0 / 0 from being NaN.
    assert group_advantages(rewards, group_size=2)[2:].tolist() == [0.0, 0.0, 0.0, 0.0]
    group3 = group_advantages(torch.tensor([0.0, 1.0, 2.0]), group_size=3)
    assert group3.tolist() == pytest.approx([-1 / (1 + 1e-4), 0.0, 1 / (1 + 1e-4)])


def test_group_advantages_equal_trl():
    trl_utils = pytest.importorskip("trl.trainer.utils")
    rewards = torch.rand(24, generator=torch.Generator().manual_seed(0))
    g = 4
    # trl 1.16 GRPOTrainer._generate_and_score_completions, scale_rewards="group":
    mean = torch.nanmean(rewards.view(-1, g), dim=1).repeat_interleave(g)
    std = trl_utils.nanstd(rewards.view(-1, g), dim=1).repeat_interleave(g)
    assert_close(group_advantages(rewards, g), (rewards - mean) / (std + 1e-4))


def test_group_advantages_name_bad_shapes():
    with pytest.raises(ValueError, match="group_size"):
        group_advantages(torch.zeros(4), 1)
    with pytest.raises(ValueError, match="n_prompts"):
        group_advantages(torch.zeros(5), 2)


def trl_grpo_loss(logprobs, old_logprobs, ref_logprobs, advantages, mask, beta, clip, loss_type):
    """trl's own ``GRPOTrainer._compute_loss``, run with a stand-in trainer whose model gives
    our per-token log-probs."""
    trl_grpo = pytest.importorskip("trl.trainer.grpo_trainer")
    identity = lambda x, **kwargs: x  # noqa: E731
    trainer = SimpleNamespace(
        _get_per_token_logps_and_entropies=lambda *a, **k: (logprobs, torch.zeros_like(logprobs), None),
        top_entropy_quantile=1.0, off_policy_mask_threshold=None, importance_sampling_level="token",
        beta=beta, args=SimpleNamespace(use_bias_correction_kl=False, delta=None), loss_type=loss_type,
        epsilon_low=clip, epsilon_high=clip, use_vllm=False, model=SimpleNamespace(training=False),
        current_gradient_accumulation_steps=1, _entropy_bonus_enabled=False, aux_loss_enabled=False,
        accelerator=SimpleNamespace(reduce=identity, gather=identity, gather_for_metrics=identity),
        _metrics=defaultdict(lambda: defaultdict(list)))
    width = logprobs.shape[1]
    inputs = {"prompt_ids": torch.zeros(len(mask), 2, dtype=torch.long),
              "prompt_mask": torch.ones(len(mask), 2, dtype=torch.long),
              "completion_ids": torch.zeros(len(mask), width, dtype=torch.long),
              "completion_mask": mask.long(), "advantages": advantages,
              "old_per_token_logps": old_logprobs, "ref_per_token_logps": ref_logprobs}
    try:
        loss = trl_grpo.GRPOTrainer._compute_loss(trainer, None, inputs)
    except (AttributeError, KeyError, TypeError) as error:  # trl's private code has moved on
        pytest.skip(f"trl's GRPOTrainer._compute_loss no longer fits the stand-in written for "
                    f"trl 1.16 ({error!r}); the tests by hand still run")
    return loss, trainer._metrics["eval"]


@pytest.mark.parametrize("beta", [0.0, 0.04])
@pytest.mark.parametrize("normalisation, loss_type", [("sequence", "grpo"), ("token", "bnpo")])
def test_grpo_loss_equals_trl(beta, normalisation, loss_type):
    generator = torch.Generator().manual_seed(0)
    batch, width = 6, 7
    old = -torch.rand(batch, width, generator=generator) * 3
    logprobs = old + torch.randn(batch, width, generator=generator) * 0.3
    ref = old + torch.randn(batch, width, generator=generator) * 0.2
    mask = torch.arange(width)[None] < torch.randint(1, width + 1, (batch,), generator=generator)[:, None]
    advantages = group_advantages(torch.rand(batch, generator=generator), group_size=3)
    expected, metrics = trl_grpo_loss(logprobs, old, ref, advantages, mask, beta, 0.2, loss_type)
    loss, stats = grpo_loss(logprobs, old, advantages, mask, clip=0.2, beta=beta,
                            ref_logprobs=ref, normalisation=normalisation)
    assert abs(float(loss) - float(expected)) < 1e-6
    assert stats["clip_fraction"] == pytest.approx(metrics["clip_ratio/region_mean"][0], abs=1e-6)
    assert 0 < stats["clip_fraction"] < 1
    if beta:
        assert stats["kl"] == pytest.approx(metrics["kl"][0], abs=1e-6)


def test_sequence_normalisation_weighs_each_reply_equally():
    """One long and one short reply with the same per-token loss: per sequence, each counts
    half; per token, the long one counts 9 times as much."""
    logprobs = torch.zeros(2, 9)
    mask = torch.zeros(2, 9, dtype=torch.bool)
    mask[0, :9], mask[1, :1] = True, True
    advantages = torch.tensor([1.0, -1.0])
    per_sequence, _ = grpo_loss(logprobs, logprobs, advantages, mask)
    per_token, _ = grpo_loss(logprobs, logprobs, advantages, mask, normalisation="token")
    assert float(per_sequence) == pytest.approx(0.0)
    assert float(per_token) == pytest.approx((-9 + 1) / 10)
    with pytest.raises(ValueError, match="ref_logprobs"):
        grpo_loss(logprobs, logprobs, advantages, mask, beta=0.1)
    with pytest.raises(ValueError, match="normalisation"):
        grpo_loss(logprobs, logprobs, advantages, mask, normalisation="batch")
