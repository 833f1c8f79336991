"""The reward trainer: request groups hold label_pairs' pairs and labels, scoring a group once
gives the pairwise loss, a tiny model learns an easy preference, and the reward-model recipe runs."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from rlhf_helpers import random_rows, tiny_model
from torch.testing import assert_close

from tinyllm import recipes
from tinyllm.__main__ import main
from tinyllm.data.prepare import RecipeError
from tinyllm.rlhf.preferences import Samples, collate, label_pairs
from tinyllm.rlhf.reward_model import RewardModel, bradley_terry_loss
from tinyllm.rlhf.reward_train import (
    evaluate,
    group_loss,
    group_rewards,
    groups_of,
    train_reward_model,
)
from tinyllm.train_config import TrainConfig


def fake_samples(n_requests: int, k: int, seed: int, duplicate: bool = False) -> Samples:
    """``k`` random replies per request; the true score is the share of token 1 in the reply
    (an easy, learnable taste). With ``duplicate``, request 0's first two replies are equal."""
    prompts = [p for p in random_rows(n_requests, 1, 4, seed) for _ in range(k)]
    replies = random_rows(n_requests * k, 3, 8, seed + 1, vocab=4)
    if duplicate:
        replies[1] = list(replies[0])
    scores = torch.tensor([r.count(1) / len(r) for r in replies])
    return Samples([None] * len(replies), prompts, replies, [str(r) for r in replies],
                   [True] * len(replies), scores)


def test_groups_hold_the_pairs_and_labels_of_label_pairs():
    samples = fake_samples(5, 4, seed=0, duplicate=True)
    groups = groups_of(samples, 4, label_temperature=0.1, seed=3)
    pairs = label_pairs(samples, 4, label_temperature=0.1, seed=3)
    from_groups = [(g.prompt, g.completions[c], g.completions[r]) for g in groups for c, r in g.pairs]
    assert from_groups == [(p.prompt_ids, p.chosen_ids, p.rejected_ids) for p in pairs]
    assert len(pairs) == 5 * 6 - 1  # the two identical replies make no pair
    with pytest.raises(ValueError, match="k >= 2"):
        groups_of(samples, 1, 0.1)
    with pytest.raises(ValueError, match="multiple of k"):
        groups_of(samples, 3, 0.1)


def test_scoring_each_reply_once_gives_the_pairwise_loss():
    samples = fake_samples(3, 4, seed=1)
    groups = groups_of(samples, 4, label_temperature=0.1, seed=0)
    pairs = label_pairs(samples, 4, label_temperature=0.1, seed=0)
    model = RewardModel(tiny_model())
    chosen, rejected = collate(pairs)
    expected = bradley_terry_loss(model.score_packed(chosen), model.score_packed(rejected))
    assert_close(group_loss(group_rewards(model, groups), groups), expected, atol=1e-5, rtol=1e-5)


def test_a_tiny_reward_model_learns_an_easy_preference():
    torch.manual_seed(0)
    model = RewardModel(tiny_model())
    train = groups_of(fake_samples(64, 4, seed=2), 4, label_temperature=0.02)
    held_out = groups_of(fake_samples(16, 4, seed=3), 4, label_temperature=0.02)
    before = evaluate(model, held_out)
    cfg = TrainConfig(lr=3e-3, min_lr=3e-4, warmup_steps=5, max_steps=60, batch_size=8, weight_decay=0.0)
    losses = train_reward_model(model, train, cfg)
    after = evaluate(model, held_out)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert after["true_accuracy"] > max(0.8, before["true_accuracy"] + 0.2), (before, after)
    assert after["correlation"] > 0.6


def test_the_reward_model_recipe_runs_end_to_end_shrunk(tmp_path, capsys):
    recipe = recipes.get_recipe("reward-model")
    assert (recipe.start, recipe.trainer) == ("shipped:sft", "reward")
    shrink = ["n_train=2", "n_val=1", "seq_len=6", "max_steps=2", "batch_size=2",
              f"checkpoint_dir={tmp_path}"]
    small = recipes.apply_overrides(recipe, shrink)
    model, _, history = recipes.run_recipe(small, progress=False)
    assert history.step == [1, 2] and history.val_step == [0, 2]
    assert {"pair_accuracy", "true_accuracy", "correlation"} <= set(history.samples[-1])
    assert (tmp_path / "reward_model.safetensors").is_file()
    # The command line reports the held-out loss (a reward model has no perplexity).
    args = ["train", "--recipe", "reward-model", "--no-progress"]
    assert main(args + [a for s in shrink for a in ("--set", s)]) == 0
    assert "recipe reward-model: step 2, val loss" in capsys.readouterr().out
    with pytest.raises(RecipeError, match="lora_r=0"):
        recipes.run_recipe(recipes.apply_overrides(small, ["lora_r=8"]), progress=False)
    with pytest.raises(RecipeError, match="shipped:sft"):
        recipes.run_recipe(dataclasses.replace(recipes.get_recipe("smoke"), trainer="reward"),
                           progress=False)
