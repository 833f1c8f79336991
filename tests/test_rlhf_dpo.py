"""DPO: the loss by hand, equal to trl's DPOTrainer (its own code, run on our log-probs), the
implicit rewards, and the reference as the model with its adapter disabled."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch
from rlhf_helpers import random_rows, tiny_model
from torch.testing import assert_close

from tinyllm.lora import add_lora, disable_adapter, lora_layers
from tinyllm.rlhf.dpo import dpo_batch_loss, dpo_loss, reference_logprobs, summed_logprobs
from tinyllm.rlhf.sequences import pack


def test_dpo_loss_by_hand():
    pc, pr, rc, rr = (torch.tensor([x]) for x in (-10.0, -12.0, -11.0, -11.5))
    loss, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta=0.1)
    margin = 0.1 * ((-10.0 + 11.0) - (-12.0 + 11.5))  # 0.1 * 1.5
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-margin)))
    assert float(chosen) == pytest.approx(0.1) and float(rejected) == pytest.approx(-0.05)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(pc, pr, rc, rr, beta=0.0)


def trl_dpo_loss(chosen_tokens, rejected_tokens, completion_mask, ref_chosen, ref_rejected, beta):
    """trl's own ``DPOTrainer._compute_loss`` (loss_type "sigmoid"), run with a stand-in
    trainer whose model returns our per-token log-probs.

    ``chosen_tokens``, ``rejected_tokens``: ``(n, T - 1)`` per-token log-probs, 0 outside the
    completion; ``completion_mask``: ``(2n, T)``, trl's layout (rows: chosen, then rejected).
    """
    trl_dpo = pytest.importorskip("trl.trainer.dpo_trainer")
    per_token = torch.cat([chosen_tokens, rejected_tokens])
    zeros = torch.zeros_like(per_token)

    def model(**kwargs):
        return SimpleNamespace(log_probs=per_token, entropy=zeros, mean_logits=zeros,
                               is_top1=zeros.bool())

    identity = lambda x: x  # noqa: E731
    trainer = SimpleNamespace(
        model=SimpleNamespace(training=False), accelerator=SimpleNamespace(
            device="cpu", gather=identity, gather_for_metrics=identity),
        aux_loss_enabled=False, ld_alpha=None, precompute_ref_logps=True,
        f_divergence_type="reverse_kl", loss_types=["sigmoid"], loss_weights=[1.0], beta=beta,
        use_weighting=False, _tp_size=1,
        _metrics=defaultdict(lambda: defaultdict(list)), _total_train_tokens=0)
    inputs = {"input_ids": torch.zeros_like(completion_mask), "attention_mask": torch.ones_like(completion_mask),
              "completion_mask": completion_mask, "ref_chosen_logps": ref_chosen,
              "ref_rejected_logps": ref_rejected}
    try:
        loss = trl_dpo.DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    except (AttributeError, KeyError, TypeError) as error:  # trl's private code has moved on
        pytest.skip(f"trl's DPOTrainer._compute_loss no longer fits the "
                    f"stand-in written for trl 1.16 ({error!r}); test_dpo_loss_by_hand still runs")
    return loss, trainer._metrics["eval"]


def test_dpo_loss_equals_trl():
    generator = torch.Generator().manual_seed(0)
    n, width = 5, 9
    completion_mask = torch.zeros(2 * n, width, dtype=torch.long)
    for row in range(2 * n):
        start = int(torch.randint(1, 4, (1,), generator=generator))
        completion_mask[row, start:start + int(torch.randint(1, 5, (1,), generator=generator))] = 1
    per_token = -torch.rand(2 * n, width - 1, generator=generator) * 3 * completion_mask[:, 1:]
    ref_chosen, ref_rejected = -torch.rand(n, generator=generator) * 8, -torch.rand(n, generator=generator) * 8
    expected, metrics = trl_dpo_loss(per_token[:n], per_token[n:], completion_mask, ref_chosen, ref_rejected, 0.1)
    loss, chosen_rewards, rejected_rewards = dpo_loss(
        per_token[:n].sum(-1), per_token[n:].sum(-1), ref_chosen, ref_rejected, beta=0.1)
    assert abs(float(loss) - float(expected)) < 1e-6
    assert float(chosen_rewards.mean()) == pytest.approx(metrics["rewards/chosen"][0], abs=1e-6)
    assert float(rejected_rewards.mean()) == pytest.approx(metrics["rewards/rejected"][0], abs=1e-6)


def test_the_reference_is_the_model_without_its_adapter():
    model = tiny_model()
    prompts = random_rows(3, 2, 5, 0)
    chosen, rejected = pack(prompts, random_rows(3, 1, 4, 1)), pack(prompts, random_rows(3, 1, 4, 2))
    before = summed_logprobs(model, chosen).detach()
    add_lora(model, r=2, alpha=4, targets="all-linear")
    with torch.no_grad():
        for layer in lora_layers(model).values():
            layer.lora_B["default"].weight.normal_(std=0.5)
    assert not torch.allclose(summed_logprobs(model, chosen), before)
    assert_close(reference_logprobs(model, chosen), before)
    with disable_adapter(model):
        ref_r = summed_logprobs(model, rejected)
    loss, _, _ = dpo_batch_loss(model, chosen, rejected)
    expected, _, _ = dpo_loss(summed_logprobs(model, chosen), summed_logprobs(model, rejected),
                              before, ref_r)
    assert_close(loss, expected)
    loss.backward()  # only the adapter learns
    assert all((p.grad is not None) == p.requires_grad for p in model.parameters())


def test_at_the_start_dpo_loss_is_log_2():
    """With the adapter at zero, policy = reference: every margin is 0 and the loss is log 2."""
    model = tiny_model()
    add_lora(model, r=2, alpha=4)
    prompts = random_rows(2, 2, 4, 3)
    loss, chosen, rejected = dpo_batch_loss(model, pack(prompts, random_rows(2, 1, 3, 4)),
                                            pack(prompts, random_rows(2, 1, 3, 5)))
    assert float(loss.detach()) == pytest.approx(math.log(2), abs=1e-6)
    assert chosen.abs().max() < 1e-6 and rejected.abs().max() < 1e-6
