"""Notebook 09's adapter tasks and recipes: "happy" (every story ends happily, unasked) and
"zh-reply" (English request, Chinese story), held out like the SFT data, trained as a LoRA
adapter by the ``sft`` trainer."""

from __future__ import annotations

import re

import pytest
import torch

from tinyllm.lora import adapter_names, lora_layers
from tinyllm.lora_file import load_adapter
from tinyllm.recipes import RecipeError, apply_overrides, get_recipe, run_recipe
from tinyllm.sft_data import (
    TASKS,
    happy_tasks,
    is_held_out,
    task_conversations,
    task_eval_prompts,
    zh_reply_tasks,
)
from tinyllm.tinytales import check, unmet

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("lang", ["en", "zh", "mix"])
def test_happy_tasks_never_ask_for_an_ending_and_always_end_happily(lang):
    tasks = happy_tasks(40, seed=3, lang=lang)
    assert len(tasks) == 40
    for task in tasks:
        assert task.spec.ending is None and "ending" not in task.prompt and "结局" not in task.prompt
        assert task.story.ending == "happy" == check(task.response).ending
        assert not unmet(task.spec, task.response) and not is_held_out(task.story)


def test_zh_reply_pairs_an_english_request_with_the_chinese_story_it_asks_for():
    for task in zh_reply_tasks(40, seed=5):
        assert not CJK.search(task.prompt) and CJK.search(task.response)
        assert task.spec.lang == "zh" and not unmet(task.spec, task.response)
        assert not is_held_out(task.story)


def test_evaluation_requests_are_held_out_and_match_the_task():
    happy = task_eval_prompts("happy", 30, "en")
    assert all(t.spec.ending is None and is_held_out(t.story) for t in happy)
    zh = task_eval_prompts("zh-reply", 30)
    assert all(not CJK.search(t.prompt) and t.spec.lang == "zh" and is_held_out(t.story) for t in zh)
    assert [t.prompt for t in task_eval_prompts("follow", 5, "en")][0].startswith("Write")


def test_unknown_tasks_are_named():
    for call in (lambda: task_conversations("sad", 3), lambda: task_eval_prompts("sad", 3)):
        with pytest.raises(ValueError, match=f"use one of {re.escape(str(TASKS))}"):
            call()


def test_lora_recipes_train_only_an_adapter_and_write_it_alone(tmp_path):
    recipe = apply_overrides(get_recipe("lora-zh"), [
        "max_steps=2", "batch_size=2", "n_val=2", "eval_steps=1", "eval_interval=2",
        f"checkpoint_dir={tmp_path}"])
    assert (recipe.start, recipe.trainer, recipe.train.lora_r) == ("shipped:sft", "sft", 8)
    torch.manual_seed(0)
    model, tokenizer, history = run_recipe(recipe, progress=False)
    assert tokenizer.n_vocab == 4099 and history.step == [1, 2]
    assert adapter_names(model) == ["lora-zh"] and len(lora_layers(model)) == 8  # q, v x 4
    # the file holds the adapter alone (kilobytes), and loads back onto the SFT model
    path = tmp_path / "adapter.safetensors"
    assert path.stat().st_size < 200_000
    from tinyllm.shipped import load_pretrained
    fresh, _ = load_pretrained("sft")
    assert load_adapter(path, fresh) == "lora-zh"
    assert get_recipe("lora-happy").data.task == "happy" and get_recipe("lora-happy").train.lora_targets == "all-linear"


def test_pretraining_refuses_an_adapter():
    recipe = apply_overrides(get_recipe("smoke"), ["lora_r=4"])
    with pytest.raises(RecipeError, match="lora_r=4 needs a fine-tuning trainer"):
        run_recipe(recipe, progress=False)
