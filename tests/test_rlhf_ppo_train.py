"""The PPO trainer: `ppo_update` on a tiny random model with hand-made rollouts (a favoured token
gains probability, the value head learns the returns, masked positions change nothing, one
epoch of one mini-batch is one on-policy step), and the ``ppo`` trainer end to end, shrunk."""

from __future__ import annotations

import copy
import dataclasses
import json
import math

import pytest
import torch
from rlhf_helpers import VOCAB, random_rows, tiny_model

from tinyllm import recipes
from tinyllm.batching import generate_batch
from tinyllm.lora import add_lora, disable_adapter
from tinyllm.rlhf.masked import masked_mean
from tinyllm.rlhf.policy import adamw
from tinyllm.rlhf.ppo import ValueHead
from tinyllm.rlhf.ppo_train import STEP_LOG, ppo_trainer, ppo_update
from tinyllm.rlhf.reward_model import RewardModel
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.rollout import Rollout
from tinyllm.rlhf.sequences import completion_hidden, completion_logits, completion_logprobs, pack
from tinyllm.train_config import TrainConfig

STOP, FAVOURED = 3, 7  # the tiny vocabulary's "end token", and the token the reward likes
CFG = TrainConfig(lr=3e-2, min_lr=3e-2, warmup_steps=0, max_steps=100, weight_decay=0.0)


def policy_and_head(vocab_size: int = VOCAB):
    model = tiny_model(vocab_size=vocab_size)
    with torch.no_grad():  # logits that move when the hidden states do (std 0.02 gives ~uniform)
        model.lm_head.weight.mul_(10)
    add_lora(model, r=2, alpha=4, targets="all-linear")
    value_head = ValueHead(model.config.d_model)
    params = [p for p in model.parameters() if p.requires_grad] + list(value_head.parameters())
    return model, value_head, adamw(params, CFG)


@torch.no_grad()
def make_rollout(model, prompts, completions, temperature) -> Rollout:
    """What `rollout.rollout` returns, for given token ids (no tokenizer, no labeler)."""
    batch = pack(prompts, completions)
    old = completion_logprobs(model, batch, temperature)
    with disable_adapter(model):
        ref = completion_logprobs(model, batch, temperature)
    n = len(prompts)
    return Rollout([None] * n, [""] * n, batch, torch.tensor([bool(c) and c[-1] == STOP for c in completions]),
                   torch.zeros(n), old, ref)


def sampled_rollout(model, prompts, seed, temperature, max_new_tokens=6):
    completions = generate_batch(model, prompts, max_new_tokens, temperature=temperature, stop_tokens=[STOP], seed=seed)
    return make_rollout(model, prompts, completions, temperature)


def favoured_share(ro: Rollout) -> torch.Tensor:
    """The reward: the share of the reply's tokens that are the favoured one, ``(n,)``."""
    return masked_mean((ro.batch.completions == FAVOURED).float(), ro.mask, dim=-1)


@torch.no_grad()
def favoured_probability(model, prompts) -> float:
    """Mean probability of the favoured token as every reply's first token."""
    batch = pack(prompts, [[0]] * len(prompts))
    return float(completion_logits(model, batch)[:, 0].softmax(-1)[:, FAVOURED].mean())


def test_a_reward_for_a_token_raises_its_probability():
    # A bandit: one-token replies from a small vocabulary, the reward 1 for the favoured token.
    model, value_head, optimizer = policy_and_head(vocab_size=10)
    rl = RLConfig(beta=0.01, temperature=1.0, epochs=2, mini_batches=2)
    prompts = random_rows(16, 2, 5, seed=1, vocab=10)
    before = favoured_probability(model, prompts)
    generator = torch.Generator().manual_seed(0)
    for step in range(15):
        ro = sampled_rollout(model, prompts, seed=step, temperature=rl.temperature, max_new_tokens=1)
        stats = ppo_update(model, value_head, optimizer, ro, favoured_share(ro), rl, CFG, step, generator)
        assert all(math.isfinite(v) for v in stats.values())
    after = favoured_probability(model, prompts)
    assert after > 2 * before, (before, after)


def test_the_value_head_learns_the_returns():
    model, value_head, optimizer = policy_and_head()
    # beta = 0 and lam = 1: every token's return is its reply's score.
    rl = RLConfig(beta=0.0, lam=1.0, value_coef=1.0, no_end_penalty=0.0, epochs=4, mini_batches=2)
    prompts = random_rows(8, 2, 5, seed=2)
    ro = make_rollout(model, prompts, random_rows(8, 1, 5, seed=3), rl.temperature)
    scores = torch.linspace(0.5, 1.5, 8)

    def value_error() -> float:
        with torch.no_grad():
            values = value_head(completion_hidden(model, ro.batch))
        return float(masked_mean((values - scores[:, None]).abs(), ro.mask))

    start = value_error()  # zero-initialised: every value is 0, the error is the mean score
    assert start == pytest.approx(float(masked_mean(scores[:, None].expand_as(ro.mask), ro.mask)))
    generator = torch.Generator().manual_seed(0)
    for step in range(20):
        ppo_update(model, value_head, optimizer, ro, scores, rl, CFG, step, generator)
    assert value_error() < 0.2 * start, (start, value_error())


def test_prompt_and_padding_positions_change_nothing():
    rl = RLConfig(epochs=2, mini_batches=2)
    model, value_head, _ = policy_and_head()
    prompts = random_rows(6, 1, 5, seed=4)
    ro = make_rollout(model, prompts, random_rows(6, 1, 5, seed=5), rl.temperature)
    assert not ro.batch.attention_mask.all() and not ro.mask.all()  # there are pads to change
    # The same rollout with other tokens under every pad and nonsense log-probs at the pads.
    other = copy.deepcopy(ro)
    other.batch.ids[~ro.batch.attention_mask] = 9
    other.old_logprobs[~ro.mask], other.ref_logprobs[~ro.mask] = 5.0, -5.0
    scores = torch.arange(6.0)
    results = []
    for rollout_ in (ro, other):
        m, v = copy.deepcopy((model, value_head))  # the same start for both
        o = adamw([p for p in m.parameters() if p.requires_grad] + list(v.parameters()), CFG)
        stats = ppo_update(m, v, o, rollout_, scores, rl, CFG, 0, torch.Generator().manual_seed(0))
        results.append((stats, {**m.state_dict(), **{f"v.{k}": t for k, t in v.state_dict().items()}}))
    (stats_a, weights_a), (stats_b, weights_b) = results
    assert stats_a == pytest.approx(stats_b, rel=1e-5, abs=1e-7)
    for key, tensor in weights_a.items():
        torch.testing.assert_close(tensor, weights_b[key], rtol=1e-5, atol=1e-6)
    assert stats_a["value_loss"] > 0 and weights_a["v.linear.bias"] != 0  # it did train


def test_one_epoch_of_one_mini_batch_is_one_on_policy_step():
    model, value_head, optimizer = policy_and_head()
    rl = RLConfig(temperature=0.7, epochs=1, mini_batches=1)
    prompts = random_rows(6, 2, 5, seed=6)
    ro = sampled_rollout(model, prompts, seed=0, temperature=rl.temperature)
    stats = ppo_update(model, value_head, optimizer, ro, torch.arange(6.0), rl, CFG, 0,
                       torch.Generator().manual_seed(0))
    steps = {int(state["step"]) for state in optimizer.state.values()}
    assert steps == {1}
    assert stats["clip_fraction"] == 0 and stats["approx_kl"] < 1e-10  # ratio 1: scored at 0.7
    assert stats["entropy"] > 0
    # Two epochs of three mini-batches: six steps, and the later ones see a moved policy.
    rl = dataclasses.replace(rl, epochs=2, mini_batches=3)
    stats = ppo_update(model, value_head, optimizer, ro, torch.arange(6.0), rl, CFG, 1,
                       torch.Generator().manual_seed(0))
    assert {int(state["step"]) for state in optimizer.state.values()} == {7}
    assert stats["approx_kl"] > 0
    with pytest.raises(ValueError, match="mini_batches=7"):
        ppo_update(model, value_head, optimizer, ro, torch.arange(6.0),
                   dataclasses.replace(rl, mini_batches=7), CFG, 2, torch.Generator())


@pytest.mark.parametrize("reward", ["true", "reward-model"])
def test_the_ppo_trainer_runs_end_to_end_shrunk(tmp_path, reward):
    from tinyllm.shipped import load_pretrained

    model, tokenizer = load_pretrained("sft")
    reward_model = RewardModel(copy.deepcopy(model)) if reward == "reward-model" else None
    base = {k: t.clone() for k, t in model.state_dict().items()}
    recipe = dataclasses.replace(recipes.get_recipe("lora-happy"), name="ppo-test", trainer="ppo",
                                 rl=RLConfig(reward=reward, group_size=2))
    recipe = recipes.apply_overrides(recipe, ["n_train=2", "seq_len=8", "max_steps=2", "batch_size=2",
                                              f"checkpoint_dir={tmp_path}"])
    _, history = ppo_trainer(recipe, model, tokenizer, progress=False, reward_model=reward_model)
    assert history.step == [1, 2] and len(history.train_loss) == 2 and history.val_loss == []
    log = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))["log"]
    assert (tmp_path / "adapter.safetensors").is_file() and log == history.samples
    assert len(log) == 2 and all(set(entry) == set(STEP_LOG) for entry in log)
    assert all(math.isfinite(v) for entry in log for v in entry.values())
    assert all(0 < e["reply_length"] <= 8 and 0 <= e["ended"] <= 1 for e in log)
    if reward == "true":
        assert all(e["reward"] == e["true_score"] for e in log)
    # Only the adapter trained: every base weight is as loaded (LoRA wraps it as base_layer).
    after = model.state_dict()
    lora = {k for k in after if "lora_" in k}
    assert lora and any(not torch.equal(after[k], torch.zeros_like(after[k])) for k in lora if "lora_B" in k)
    for key, tensor in after.items():
        if key not in lora:
            assert torch.equal(tensor, base[key.replace(".base_layer", "")]), key
