"""The policy trainers (DPO, GRPO) and what they share: the LoRA policy's requests and set-up,
the rollout, the reward functions, the comparison with the SFT model, and the recipes end to end
(shrunk) on the shipped SFT model."""

from __future__ import annotations

import json

import pytest
import torch
from rlhf_helpers import random_rows, tiny_model

from tinyllm import recipes
from tinyllm.data.prepare import RecipeError
from tinyllm.lora import add_lora, disable_adapter
from tinyllm.rlhf.compare import compare_with_sft
from tinyllm.rlhf.grpo_train import grpo_update
from tinyllm.rlhf.policy import lora_policy, shuffled_batches, training_requests
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.rlhf.reward_model import RewardModel
from tinyllm.rlhf.rewards import HERO_COUNT_CAP, hero_count, reward_function
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.rollout import Rollout, select
from tinyllm.rlhf.sequences import completion_logits, completion_logprobs, pack
from tinyllm.shipped import load_pretrained

TOKEN = 1  # the tiny tests' "good" token


def tiny_rollout(model, k: int, seed: int, temperature: float = 1.0) -> Rollout:
    """``k`` random completions for each of 4 prompts, scored by the share of TOKEN in them."""
    prompts = [p for p in random_rows(4, 1, 3, seed) for _ in range(k)]
    completions = random_rows(len(prompts), 2, 6, seed + 1, vocab=4)
    batch = pack(prompts, completions)
    with torch.no_grad():
        old = completion_logprobs(model, batch, temperature)
        with disable_adapter(model):
            ref = completion_logprobs(model, batch, temperature)
    scores = torch.tensor([c.count(TOKEN) / len(c) for c in completions])
    return Rollout([None] * len(prompts), [""] * len(prompts), batch, torch.ones(len(prompts), dtype=torch.bool),
                   scores, old, ref)


def token_share(model, ro: Rollout) -> float:
    """TOKEN's share of the probability the policy gives the 4 completion tokens, averaged over
    the completion positions."""
    with torch.no_grad():
        probs = completion_logits(model, ro.batch).softmax(-1)[..., :4]
    share = probs[..., TOKEN] / probs.sum(-1)
    return float((share * ro.mask).sum() / ro.mask.sum())


def test_grpo_update_raises_the_rewarded_token_and_touches_only_the_adapter():
    model = tiny_model()
    add_lora(model, r=2, alpha=4, targets="all-linear")
    base = {k: v.clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=3e-2)
    rl = RLConfig(group_size=4, temperature=1.0, beta=0.0)
    ro = tiny_rollout(model, 4, seed=0)
    before = token_share(model, ro)
    first = grpo_update(model, optimizer, ro, ro.true_scores, rl)
    assert first["clip_fraction"] == 0.0 and first["zero_groups"] == 0.0  # one epoch: ratio 1
    for seed in range(1, 20):
        ro = tiny_rollout(model, 4, seed=seed)
        grpo_update(model, optimizer, ro, ro.true_scores, rl)
    after = token_share(model, ro)
    assert after > before + 0.03, (before, after)  # 0.259 -> 0.304 measured; a wrong sign lowers it
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, base[k])}
    assert changed and all("lora_" in k for k in changed)


def test_grpo_update_counts_groups_that_teach_nothing():
    model = tiny_model()
    add_lora(model, r=2, alpha=4, targets="all-linear")
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    ro = tiny_rollout(model, 2, seed=3)
    equal = torch.tensor([0.5, 0.5, 0.2, 0.9, 0.1, 0.1, 0.3, 0.3])  # groups 0, 2 and 3 tie
    stats = grpo_update(model, optimizer, ro, equal, RLConfig(group_size=2, beta=0.1, temperature=1.0))
    assert stats["zero_groups"] == 0.75 and stats["kl_k3"] == pytest.approx(0.0, abs=1e-6)


def test_select_and_rollout_kl():
    model = tiny_model()
    add_lora(model, r=2, alpha=4, targets="all-linear")
    ro = tiny_rollout(model, 2, seed=0)
    assert torch.equal(ro.kl(), torch.zeros(8))  # B = 0: the policy is its reference
    part = select(ro.batch, torch.tensor([2, 0]))
    assert torch.equal(part.ids, ro.batch.ids[[2, 0]]) and part.prompt_width == ro.batch.prompt_width


def test_shuffled_batches_cover_every_request_once_per_epoch():
    tasks = list(range(10))
    batches = shuffled_batches(tasks, 4, seed=0)
    seen = [t for _ in range(5) for t in next(batches)]  # 20 = two epochs
    assert sorted(seen) == sorted(tasks * 2)
    assert [next(shuffled_batches(tasks, 4, 1)) for _ in range(2)][0] == next(shuffled_batches(tasks, 4, 1))
    with pytest.raises(ValueError, match="batch_size"):
        next(shuffled_batches([], 4, 0))
    larger = shuffled_batches(["a", "b", "c"], 5, seed=0)  # more than one epoch per batch
    assert [len(next(larger)) for _ in range(3)] == [5, 5, 5]


def test_training_requests_alternate_languages():
    recipe = recipes.apply_overrides(recipes.get_recipe("grpo"), ["n_train=3"])
    tasks = training_requests(recipe)
    assert [t.spec.lang for t in tasks] == ["en", "zh"] * 3
    assert [t.prompt for t in tasks[::2]] == [t.prompt for t in rlhf_tasks(3, "en", "train")]


def test_hero_count_is_the_flawed_proxy_and_reward_functions():
    task = rlhf_tasks(1, "en", "train")[0]
    hero = task.spec.hero
    assert hero_count(task, "Once upon a time.") == 0.0
    assert hero_count(task, f"{hero} ran. {hero} ran.") == pytest.approx(2 / HERO_COUNT_CAP)
    assert hero_count(task, f"{hero} " * 50) == 1.0  # capped
    ro = Rollout([task, task], ["a", f"{hero} {hero}"], pack([[1], [1]], [[2], [3]]),
                 torch.ones(2, dtype=torch.bool), torch.tensor([0.3, 0.7]), torch.zeros(2, 1), torch.zeros(2, 1))
    assert torch.equal(reward_function(RLConfig(reward="true"))(ro), torch.tensor([0.3, 0.7]))
    assert reward_function(RLConfig(reward="hero-count"))(ro).tolist() == pytest.approx([0.0, 2 / HERO_COUNT_CAP])
    with pytest.raises(ValueError, match="load_shipped_reward_model"):
        reward_function(RLConfig(reward="reward-model"))
    with pytest.raises(ValueError, match="rl.reward"):
        RLConfig(reward="length")
    assert recipes.apply_overrides(recipes.get_recipe("grpo"), ["rl.beta=0", "group_size=4"]).rl == \
        RLConfig(beta=0.0, group_size=4, reward="true")


def test_a_fresh_adapter_ties_with_the_sft_model():
    model, tokenizer = load_pretrained("sft")
    add_lora(model, "fresh", r=2, alpha=4)  # B = 0: the same model as the SFT one
    reward_model = RewardModel(load_pretrained("sft")[0])  # a random head: any scorer will do
    report = compare_with_sft(model, tokenizer, n=2, max_new_tokens=12, reward_model=reward_model)
    for lang in ("en", "zh", "all"):
        figures = report[lang]
        for decoding in ("sampled", "greedy"):
            assert figures[f"{decoding}_win_rate"] == 0.5
            assert figures[f"{decoding}_true_score"] == figures[f"{decoding}_sft_true_score"]
        assert figures["kl"] == pytest.approx(0.0, abs=1e-5)
        assert figures["rm_score"] == pytest.approx(figures["sft_rm_score"], abs=1e-5)


def test_the_policy_adapter_starts_the_same_in_every_run():
    recipe = recipes.get_recipe("dpo")
    starts = []
    for _ in range(2):
        model, tokenizer = load_pretrained("sft")
        torch.rand(5)  # whatever drew from the global generator before
        lora_policy(recipe, model, tokenizer)
        starts.append({k: v for k, v in model.state_dict().items() if "lora_A" in k})
    assert starts[0].keys() and all(torch.equal(v, starts[1][k]) for k, v in starts[0].items())


@pytest.mark.parametrize("name", ["dpo", "grpo"])
def test_policy_recipes_run_end_to_end_shrunk(name, tmp_path):
    recipe = recipes.apply_overrides(recipes.get_recipe(name), [
        "n_train=2", "seq_len=8", "max_steps=2", "batch_size=2", "group_size=2",
        f"checkpoint_dir={tmp_path}"])
    model, _, history = recipes.run_recipe(recipe, progress=False)
    assert history.step == [1, 2] and all(torch.isfinite(torch.tensor(history.train_loss)))
    log = json.loads((tmp_path / "log.json").read_text(encoding="utf-8"))
    assert [e["step"] for e in log["log"]] == [1, 2] and log["recipe"]["rl"]["group_size"] == 2
    assert (tmp_path / "adapter.safetensors").is_file()
    sft_model, _ = load_pretrained("sft")
    lora_keys = {k for k in model.state_dict() if "lora_" in k}
    base = {k.replace(".base_layer", ""): v for k, v in model.state_dict().items() if k not in lora_keys}
    assert all(torch.equal(v, base[k]) for k, v in sft_model.state_dict().items())  # SFT untouched
    with pytest.raises(RecipeError, match="lora_r"):
        recipes.run_recipe(recipes.apply_overrides(recipe, ["lora_r=0"]), progress=False)


def test_dpo_refuses_a_wrong_recipe_before_sampling_its_pairs(monkeypatch):
    def sample_replies(*args, **kwargs):
        raise AssertionError("sampled minutes of replies before checking the recipe")

    monkeypatch.setattr("tinyllm.rlhf.dpo_train.sample_replies", sample_replies)
    recipe = recipes.apply_overrides(recipes.get_recipe("dpo"), ["lora_r=0", "checkpoint_dir=None"])
    with pytest.raises(RecipeError, match="lora_r"):
        recipes.run_recipe(recipe, progress=False)
