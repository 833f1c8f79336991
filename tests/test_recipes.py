"""Recipes and the train command: overrides, the shipped tokenizer, start points, end to end."""

import dataclasses

import pytest
import torch

from tinyllm import recipes, shipped
from tinyllm.__main__ import main
from tinyllm.checkpoint import load_checkpoint, load_model
from tinyllm.config import llama_style
from tinyllm.data import prepare
from tinyllm.data.prepare import SHIPPED_TOKENIZER, TOKENIZER_STORIES, RecipeError, train_tokenizer
from tinyllm.model import TinyLLM
from tinyllm.paths import data_file
from tinyllm.recipes import apply_overrides, get_recipe
from tinyllm.recipes import smoke as recipe_smoke
from tinyllm.train import checkpoint_path


def recipes_main(argv):
    return main(["train", *argv])


def test_overrides_are_typed_and_checked(tmp_path):
    recipe = apply_overrides(get_recipe("smoke"), ["lr=2e-2", "n_layers=3", "model.eps=1e-6",
                                                   "autocast=true", "checkpoint_dir=none", "n_train=50"])
    assert recipe.train.lr == 0.02 and recipe.model.n_layers == 3 and recipe.model.eps == 1e-6
    assert recipe.train.autocast is True and recipe.train.checkpoint_dir is None
    assert recipe.data.n_train == 50 and recipe.train.eps == 1e-8  # train.eps untouched
    with pytest.raises(RecipeError, match="ambiguous; write one of model.eps, train.eps"):
        apply_overrides(recipe, ["eps=1e-3"])
    with pytest.raises(RecipeError, match="unknown setting 'learning_rate'"):
        apply_overrides(recipe, ["learning_rate=1"])
    with pytest.raises(RecipeError, match="key=value"):
        apply_overrides(recipe, ["lr"])
    with pytest.raises(ValueError, match="n_heads"):
        apply_overrides(recipe, ["n_heads=3"])  # the config's own check
    path = tmp_path / "mine.json"
    path.write_text('{"extends": "smoke", "train": {"max_steps": 9}, "model": {"d_model": 64}}')
    mine = get_recipe(str(path))
    assert (mine.name, mine.train.max_steps, mine.model.d_model, mine.data) == ("mine", 9, 64, recipe_smoke().data)
    with pytest.raises(RecipeError, match="unknown recipe 'nope'"):
        get_recipe("nope")


def test_base_recipe_is_the_course_default_model():
    recipe = get_recipe("base")
    assert recipe.model == llama_style() and recipe.data.lang == "mix" and recipe.data.tokenizer == SHIPPED_TOKENIZER


def test_train_tokenizer_reproduces_the_shipped_file(tmp_path):
    # About 25 s: the shipped tokenizer is exactly what its documented command makes, although
    # the base recipe now trains the model on more stories than the tokenizer saw.
    assert get_recipe("base").data.n_train > TOKENIZER_STORIES
    train_tokenizer().save(tmp_path / "tokenizer.json")
    assert (tmp_path / "tokenizer.json").read_bytes() == data_file(SHIPPED_TOKENIZER).read_bytes()


def test_a_recipe_trains_its_bpe_on_the_first_stories_like_train_tokenizer(tmp_path, monkeypatch):
    # The rule that keeps --set data.tokenizer=bpe equal to the shipped file, on a small scale.
    monkeypatch.setenv("TINYLLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(prepare, "TOKENIZER_STORIES", 50)
    recipe = recipe_smoke()

    def vocabulary(tokenizer):
        return [tokenizer.token_bytes(i) for i in range(tokenizer.n_vocab)]

    in_run = vocabulary(prepare.prepare_data(recipe).tokenizer)
    vocab_size = recipe.model.vocab_size
    assert in_run == vocabulary(train_tokenizer(recipe.data, vocab_size, n_stories=50))
    assert in_run != vocabulary(train_tokenizer(recipe.data, vocab_size, n_stories=recipe.data.n_train))


def test_cli_train_smoke_end_to_end_and_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYLLM_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert recipes_main(["--recipe", "smoke", "--set", f"checkpoint_dir={run}", "--no-progress",
                         "--set", "sample_interval=4"]) == 0
    out = capsys.readouterr().out
    assert "recipe smoke: step 4, val loss" in out and "bits/byte" in out
    model = load_model(checkpoint_path(run, 4))
    assert model.config == get_recipe("smoke").model
    assert (run / "tokenizer.json").is_file()
    rerun = get_recipe(str(run / "recipe.json"))  # the resolved recipe, ready to run again
    assert rerun == apply_overrides(get_recipe("smoke"), [f"checkpoint_dir={run}", "sample_interval=4"])
    # Resume for two more steps from the command line; the history continues.
    assert recipes_main(["--recipe", "smoke", "--set", f"checkpoint_dir={run}", "--no-progress",
                         "--resume", str(checkpoint_path(run, 4)), "--set", "max_steps=6"]) == 0
    info = load_checkpoint(checkpoint_path(run, 6), TinyLLM(model.config))
    assert info.step == 6 and info.history["step"] == [1, 2, 3, 4, 5, 6]
    # Stories sampled at step 4 were graded by the TinyTales checker (an untrained model: ~0).
    [sample] = info.history["samples"]
    assert sample["step"] == 4 and 0.0 <= sample["score"] <= 1.0 and isinstance(sample["text"], str)


def test_cli_errors_are_one_line(capsys):
    assert main(["train", "--recipe", "smoke", "--set", "warmup_steps=-1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: TrainConfig.warmup_steps=-1 must be a non-negative int (0 turns it off)")
    assert main(["train", "--recipe", "smoke", "--show", "--set", "lr=5e-3"]) == 0
    assert '"lr": 0.005' in capsys.readouterr().out


def test_a_recipe_names_its_start_and_its_trainer(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYLLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # smoke writes to runs/smoke
    smoke = get_recipe("smoke")
    assert (smoke.start, smoke.trainer) == ("scratch", "pretrain")
    # From scratch: seeded by train.seed, so two calls build the same weights.
    a, _ = recipes.start_model(smoke)
    b, tokenizer = recipes.start_model(smoke)
    assert tokenizer is None and torch.equal(a.embed_tokens.weight, b.embed_tokens.weight)
    # From a shipped model: its weights and its tokenizer; the configs must agree.
    from_base = dataclasses.replace(get_recipe("base"), name="next", start="shipped:base")
    model, tokenizer = recipes.start_model(from_base)
    expected, _ = shipped.load_pretrained("base")
    assert torch.equal(model.embed_tokens.weight, expected.embed_tokens.weight) and model.training
    assert tokenizer.n_vocab == 4096
    with pytest.raises(RecipeError, match="different model"):
        recipes.start_model(dataclasses.replace(smoke, start="shipped:base"))
    # From another recipe's output: the last checkpoint its run wrote, and its tokenizer.
    with pytest.raises(RecipeError, match="train --recipe smoke` first"):
        recipes.start_model(dataclasses.replace(smoke, start="recipe:smoke"))
    trained, _, _ = recipes.run_recipe(smoke, progress=False)
    model, tokenizer = recipes.start_model(dataclasses.replace(smoke, start="recipe:smoke"))
    assert torch.equal(model.embed_tokens.weight, trained.embed_tokens.weight)
    assert tokenizer.n_vocab == smoke.model.vocab_size
    with pytest.raises(RecipeError, match="'scratch', 'shipped:NAME' or 'recipe:NAME'"):
        recipes.start_model(dataclasses.replace(smoke, start="hub:base"))
    with pytest.raises(RecipeError, match="trainer='rlhf' is unknown"):
        recipes.run_recipe(dataclasses.replace(smoke, trainer="rlhf"))
    with pytest.raises(RecipeError, match="fine-tunes a trained model"):
        recipes.run_recipe(dataclasses.replace(smoke, trainer="sft"))
    # A JSON recipe can say both; the resolved recipe.json keeps them.
    path = tmp_path / "next.json"
    path.write_text('{"extends": "base", "start": "shipped:base", "trainer": "pretrain"}')
    assert get_recipe(str(path)).start == "shipped:base"
    assert get_recipe("runs/smoke/recipe.json") == smoke


def test_sft_recipe_starts_from_the_base_model_and_its_ablations_are_settings():
    recipe = get_recipe("sft")
    assert (recipe.start, recipe.trainer, recipe.model) == ("shipped:base", "sft", llama_style())
    assert recipe.data.mask_prompt and recipe.data.end_is_target and recipe.data.n_train == 0
    ablated = apply_overrides(recipe, ["mask_prompt=false", "end_is_target=false"])
    assert not ablated.data.mask_prompt and not ablated.data.end_is_target
