"""The shipped base model and tokenizer: load, checksum guard, clear errors for damaged copies."""

from __future__ import annotations

import shutil

import pytest
import torch

from tinyllm import shipped
from tinyllm.checkpoint import load_config
from tinyllm.config import llama_style
from tinyllm.data.prepare import SHIPPED_TOKENIZER, RecipeError, load_tokenizer
from tinyllm.model import TinyLLM
from tinyllm.paths import DATA_ENV, SHIPPED_FILES, data_dir, data_file, sha256_of
from tinyllm.recipes import base

WEIGHTS, TOKENIZER = shipped.PRETRAINED["base"]


@pytest.fixture(scope="module")
def pretrained():
    return shipped.load_pretrained("base")


def test_shipped_files_are_registered_and_match():
    for name in (WEIGHTS, TOKENIZER):
        assert name in SHIPPED_FILES
        assert sha256_of(data_file(name)) == SHIPPED_FILES[name]
        assert data_file(name).stat().st_size < 20 * 2**20


def test_base_recipe_loads_the_shipped_tokenizer():
    recipe = base()
    assert recipe.data.tokenizer == SHIPPED_TOKENIZER == TOKENIZER
    tokenizer = load_tokenizer(recipe.data.tokenizer, recipe.model.vocab_size)
    assert tokenizer.n_vocab == recipe.model.vocab_size == 4096
    for text in ("Once upon a time, there was a tiger named Max.", "从前，有一只小猫。"):
        assert tokenizer.decode(tokenizer.encode(text)) == text
    with pytest.raises(RecipeError, match="vocab_size"):
        load_tokenizer(recipe.data.tokenizer, 512)


def test_load_pretrained_returns_the_base_model(pretrained):
    model, tokenizer = pretrained
    assert isinstance(model, TinyLLM) and not model.training
    assert model.config == llama_style() == base().model == load_config(data_file(WEIGHTS))
    assert sum(p.numel() for p in model.parameters()) == 4_000_000
    assert tokenizer.n_vocab == model.config.vocab_size
    # The weights are trained: the next-token loss on a real story is far below uniform (ln 4096 = 8.3).
    ids = torch.tensor([[tokenizer.eot_token, *tokenizer.encode("Once upon a time, there was a tiger named Max.")]])
    _, loss = model(ids[:, :-1], ids[:, 1:])
    assert loss.item() < 2.5


def _copy_data(tmp_path, monkeypatch):
    """A private copy of the shipped model's files, with $TINYLLM_DATA pointing at it."""
    for name in (WEIGHTS, TOKENIZER):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir() / name, tmp_path / name)
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    return tmp_path


def test_corrupt_weights_give_a_clear_error(tmp_path, monkeypatch):
    root = _copy_data(tmp_path, monkeypatch)
    raw = bytearray((root / WEIGHTS).read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte deep inside the tensors
    (root / WEIGHTS).write_bytes(bytes(raw))
    with pytest.raises(shipped.PretrainedError, match=r"corrupt.*git checkout -- data/checkpoints/base"):
        shipped.load_pretrained("base")


def test_truncated_tokenizer_gives_a_clear_error(tmp_path, monkeypatch):
    root = _copy_data(tmp_path, monkeypatch)
    (root / TOKENIZER).write_bytes((root / TOKENIZER).read_bytes()[:1000])
    with pytest.raises(shipped.PretrainedError, match="corrupt.*tokenizer"):
        shipped.load_pretrained("base")


def test_missing_weights_and_unknown_names(tmp_path, monkeypatch):
    root = _copy_data(tmp_path, monkeypatch)
    (root / WEIGHTS).unlink()
    with pytest.raises(shipped.PretrainedError, match=r"missing.*--recipe base"):
        shipped.load_pretrained("base")
    with pytest.raises(shipped.PretrainedError, match="shipped ones are"):
        shipped.load_pretrained("gpt-5")


def test_the_shipped_checkpoint_loads_bit_identically():
    # The file is the one recorded, and its float16 weights come back exactly (as float32).
    from safetensors.torch import load_file

    assert sha256_of(data_file(WEIGHTS)) == "b7822b4aa4890b89c3c1cebafcefd22a5b710efbd702a5cff8289955a9d42e17"
    model, _ = shipped.load_pretrained("base")
    stored = load_file(data_file(WEIGHTS))
    for name, tensor in model.state_dict().items():
        if f"model.{name}" in stored:
            assert torch.equal(tensor, stored[f"model.{name}"].float()), name


def test_load_tokenizer_defaults_to_the_shipped_file():
    assert load_tokenizer().n_vocab == 4096
    with pytest.raises(RecipeError, match="json"):
        load_tokenizer("bpe")


def test_the_shipped_sft_model_replies_in_the_template_and_stops():
    from tinyllm.batching import generate_batch
    from tinyllm.chat import END
    from tinyllm.sft import decode_reply, encode_prompt
    from tinyllm.sft_data import eval_prompts
    from tinyllm.tinytales import check

    for name in shipped.PRETRAINED["sft"]:
        assert sha256_of(data_file(name)) == SHIPPED_FILES[name]
    model, tokenizer = shipped.load_pretrained("sft")
    assert tokenizer.n_vocab == model.config.vocab_size == 4099 and tokenizer.special_tokens[END] == 4098
    assert model.config == llama_style(vocab_size=4099)
    text = "Once upon a time, there was a tiger named Max. 从前，有一只小猫。"
    assert tokenizer.encode(text) == load_tokenizer().encode(text)  # ordinary text: the same ids
    task = eval_prompts(1, "en")[0]  # held out: never seen in training
    [ids] = generate_batch(model, [encode_prompt(tokenizer, task.prompt)], 256, temperature=0.0,
                           stop_tokens=[tokenizer.special_tokens[END]])
    reply, ended = decode_reply(tokenizer, ids)
    assert ended and task.spec.hero in reply and check(reply, lang="en").score > 0.8


def test_the_shipped_adapters_load_onto_the_sft_model_and_change_what_they_should():
    import re

    from tinyllm.checkpoint import CheckpointError
    from tinyllm.lora import adapter_names, disable_adapter, set_adapter
    from tinyllm.sft_data import task_eval_prompts
    from tinyllm.sft_eval import chat_replies

    for file, _ in shipped.ADAPTERS.values():
        assert sha256_of(data_file(file)) == SHIPPED_FILES[file] and data_file(file).stat().st_size < 2**20
    model, tokenizer = shipped.load_pretrained("sft")
    assert [shipped.load_shipped_adapter(model, name) for name in ("happy", "zh")] == ["happy", "zh"]
    assert adapter_names(model) == ["happy", "zh"]
    request = task_eval_prompts("zh-reply", 1)[0].prompt  # held out, in English
    set_adapter(model, "zh")
    [(chinese, ended)] = chat_replies(model, tokenizer, [request], 256, 1)
    with disable_adapter(model):
        [(english, _)] = chat_replies(model, tokenizer, [request], 256, 1)
    assert ended and len(re.findall(r"[\u4e00-\u9fff]", chinese)) > 20 and not re.search(r"[\u4e00-\u9fff]", english)
    with pytest.raises(shipped.PretrainedError, match="shipped ones are"):
        shipped.load_shipped_adapter(model, "sad")
    base, _ = shipped.load_pretrained("base")  # not the model the adapter was trained on
    with pytest.raises(CheckpointError):
        shipped.load_shipped_adapter(base, "zh")


def test_the_shipped_rlhf_policies_beat_the_sft_model_on_held_out_requests():
    """Notebook 10's policies and logs: each log is its recipe's run, and the GRPO and PPO
    policies' greedy replies to 4 held-out English requests score higher, on the labeler's
    hidden true score, than the SFT model's (GRPO won 0.975 of 200 greedy comparisons)."""
    import json

    from tinyllm.lora import disable_adapter, set_adapter
    from tinyllm.recipes import get_recipe
    from tinyllm.rlhf.preferences import sample_replies
    from tinyllm.rlhf.prompts import rlhf_tasks

    for name in ("ppo", "dpo", "grpo", "grpo-hack", "grpo-hack-kl"):
        log = json.loads(data_file(f"rlhf/{name}.json").read_text(encoding="utf-8"))
        assert log["recipe"]["rl"] == get_recipe(name).to_dict()["rl"]
        assert len(log["log"]) == get_recipe(name).train.max_steps
    model, tokenizer = shipped.load_pretrained("sft")
    tasks = rlhf_tasks(4, "en", "eval")
    with disable_adapter(model):
        sft = sample_replies(model, tokenizer, tasks, 1, temperature=0.0, max_new_tokens=192).scores.mean()
    for name in ("grpo", "ppo"):
        shipped.load_shipped_adapter(model, name)
        set_adapter(model, name)
        policy = sample_replies(model, tokenizer, tasks, 1, temperature=0.0, max_new_tokens=192).scores.mean()
        assert policy > sft + 0.1, (name, float(policy), float(sft))


def test_a_corrupt_adapter_says_how_to_restore_or_retrain_it(tmp_path, monkeypatch):
    model, _ = shipped.load_pretrained("sft")
    file, recipe = shipped.ADAPTERS["happy"]
    head = (data_dir() / file).read_bytes()[:1000]
    root = _copy_data(tmp_path, monkeypatch)
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_bytes(head)  # truncated
    with pytest.raises(shipped.PretrainedError, match=rf"corrupt.*--recipe {recipe}"):
        shipped.load_shipped_adapter(model, "happy")
