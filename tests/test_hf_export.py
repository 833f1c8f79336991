"""``export --format hf`` folders load in transformers with our logits and token ids, and
Hugging Face Llama and GPT-2 folders load back into TinyLLM (tinyllm.hf, tinyllm.hf_gpt2,
tinyllm.hf_tokenizer).

transformers is a test-only extra; the export itself imports only json and safetensors (checked
in a subprocess). Every folder is written by the test; nothing is downloaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from hf_reference import hf_gpt2, hf_llama, ids_for, random_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file
from torch.testing import assert_close

from tinyllm.__main__ import main
from tinyllm.config import gpt2_style, llama_style
from tinyllm.hf import HFFormatError, export_hf, load_hf, load_hf_tokenizer
from tinyllm.model import TinyLLM
from tinyllm.paths import data_file
from tinyllm.shipped import load_pretrained
from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer

transformers = pytest.importorskip("transformers", reason="needs the reference extra: pip install -e .[ref]")

CHAT = "<|user|>Write a story about a fox.<|end|><|assistant|>Once upon a time<|end|><|endoftext|>"


def texts() -> dict[str, str]:
    return {
        "english": data_file("tinytales/sample_en.txt").read_text(encoding="utf-8")[:3000],
        "chinese": data_file("tinytales/sample_zh.txt").read_text(encoding="utf-8")[:1500],
        "special": CHAT,
        "spaces": "  two  spaces,\ttabs\n\n\nnewlines   \n and 123 456789 digits!!  ",
    }


@pytest.fixture(scope="module", params=["base", "sft"])
def exported(request, tmp_path_factory):
    model, tokenizer = load_pretrained(request.param)
    folder = tmp_path_factory.mktemp(request.param)
    assert main(["export", "--format", "hf", request.param, str(folder)]) == 0
    hf_model = transformers.AutoModelForCausalLM.from_pretrained(folder).eval()
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    return model, tokenizer, hf_model, hf_tokenizer, folder


@pytest.mark.parametrize("kind", ["english", "chinese", "special", "spaces"])
def test_exported_tokenizer_gives_our_ids_and_text(exported, kind):
    _, tokenizer, _, hf_tokenizer, _ = exported
    text = texts()[kind]
    if kind == "special" and "<|end|>" not in tokenizer.special_tokens:
        text = text.replace("<|user|>", "").replace("<|end|>", "").replace("<|assistant|>", "")
    ids = tokenizer.encode(text, allowed_special="all")
    assert hf_tokenizer(text)["input_ids"] == ids
    assert hf_tokenizer.decode(ids) == text
    assert hf_tokenizer.convert_tokens_to_ids("<|endoftext|>") == tokenizer.eot_token


def test_exported_tokenizer_reads_back_as_ours(exported):
    _, tokenizer, _, _, folder = exported
    back = load_hf_tokenizer(folder)
    assert back._ranks == tokenizer._ranks and back.special_tokens == tokenizer.special_tokens
    assert back.pattern == tokenizer.pattern


def test_exported_model_gives_our_logits(exported):
    model, tokenizer, hf_model, _, _ = exported
    ids = torch.tensor([tokenizer.encode(texts()["chinese"])[:200], tokenizer.encode(texts()["english"])[:200]])
    with torch.no_grad():
        ours, theirs = model(ids), hf_model(ids).logits
    assert ours.abs().max() > 1.0
    assert_close(theirs, ours, atol=1e-5, rtol=0)


def test_exported_chat_model_stops_at_end_of_turn(exported):
    _, tokenizer, hf_model, hf_tokenizer, folder = exported
    config = json.loads((folder / "config.json").read_text())
    expected = "<|end|>" if "<|end|>" in tokenizer.special_tokens else "<|endoftext|>"
    assert hf_tokenizer.eos_token == expected
    assert config["eos_token_id"] == hf_model.generation_config.eos_token_id == tokenizer.special_tokens[expected]


# Random models cover what the shipped ones do not: untied heads, biases, interleaved RoPE, and
# GPT-2-style models (each with its reference twin, mapped independently in tests/hf_reference.py).
VARIANTS = {
    "llama-untied-mha": (llama_style, hf_llama, dict(n_heads=4, n_kv_heads=4, tie_embeddings=False)),
    "llama-gqa-bias": (llama_style, hf_llama, dict(n_heads=4, n_kv_heads=2, bias=True, eps=1e-6, rope_theta=500.0)),
    "llama-interleaved": (llama_style, hf_llama, dict(n_heads=4, n_kv_heads=2, rope_layout="interleaved")),
    "gpt2-tied": (gpt2_style, hf_gpt2, dict(n_heads=4)),
    "gpt2-untied": (gpt2_style, hf_gpt2, dict(n_heads=4, tie_embeddings=False, eps=1e-6)),
}
ARCHITECTURES = {llama_style: "LlamaForCausalLM", gpt2_style: "GPT2LMHeadModel"}


@pytest.fixture(scope="module")
def small_tokenizer():
    text = data_file("tinytales/sample_en.txt").read_text(encoding="utf-8")
    return BPETokenizer.train(text, 300)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_export_equals_the_reference(name, small_tokenizer, tmp_path):
    style, twin, variant = VARIANTS[name]
    config = style(vocab_size=300, context_length=64, d_model=64, n_layers=2, d_ff=96, **variant)
    model = random_model(config, seed=len(name))
    export_hf(model, small_tokenizer, tmp_path)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(loaded).__name__ == ARCHITECTURES[style]
    reference = twin(config, model)
    ids = ids_for(config)
    with torch.no_grad():
        assert_close(loaded(ids).logits, model(ids), atol=1e-5, rtol=0)
        assert_close(loaded(ids).logits, reference(ids).logits, atol=1e-5, rtol=0)
    assert_close(load_hf(tmp_path)(ids), model(ids), atol=1e-5, rtol=0)  # and back


def perturbed(reference: torch.nn.Module) -> torch.nn.Module:
    """``reference`` in eval mode, its weights moved further from the init (logits of a few units)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in reference.parameters():
            p.add_(0.15 * torch.randn(p.shape, generator=generator))
    return reference.eval()


def assert_loads_with_its_logits(reference: torch.nn.Module, folder) -> TinyLLM:
    """``load_hf(folder)`` computes ``reference``'s logits (within 1e-5); returns it."""
    ours = load_hf(folder)
    ids = torch.randint(0, 97, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(ids).logits
    assert expected.abs().max() > 1.0
    assert_close(ours(ids), expected, atol=1e-5, rtol=0)
    return ours


@pytest.mark.parametrize("tied", [True, False])
def test_transformers_llama_folder_loads_into_tinyllm(tied, tmp_path):
    hf_config = transformers.LlamaConfig(
        vocab_size=97, hidden_size=48, intermediate_size=80, num_hidden_layers=2,
        num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=32,
        rms_norm_eps=1e-6, tie_word_embeddings=tied, attention_bias=not tied, mlp_bias=not tied,
        rope_parameters={"rope_type": "default", "rope_theta": 1000.0}, attn_implementation="eager",
    )
    reference = perturbed(transformers.LlamaForCausalLM(hf_config))
    reference.save_pretrained(tmp_path)
    assert_loads_with_its_logits(reference, tmp_path)


alphabet = st.sampled_from(list("abcXYZ 019\n\t.,!?'") + list("狐狸森林里的小") + ["é", "😀"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet, max_size=60))
def test_exported_tokenizer_agrees_on_any_text(exported, text):
    _, tokenizer, _, hf_tokenizer, _ = exported
    assert hf_tokenizer(text)["input_ids"] == tokenizer.encode(text)


def random_gpt2(tied: bool) -> torch.nn.Module:
    hf_config = transformers.GPT2Config(
        vocab_size=97, n_positions=32, n_embd=48, n_layer=2, n_head=4, n_inner=80,
        layer_norm_epsilon=1e-6, tie_word_embeddings=tied, bos_token_id=96, eos_token_id=96,
    )
    return perturbed(transformers.GPT2LMHeadModel(hf_config))


@pytest.mark.parametrize("layout", ["tied", "untied", "openai"])
def test_transformers_gpt2_folder_loads_into_tinyllm(layout, tmp_path):
    reference = random_gpt2(tied=layout != "untied")
    reference.save_pretrained(tmp_path)
    if layout == "openai":
        # OpenAI's gpt2 files on the Hub: no "transformer." prefix, and each layer's causal
        # mask stored as attn.bias, a tensor that is not a weight.
        tensors = {name.removeprefix("transformer."): t for name, t in load_file(tmp_path / "model.safetensors").items()}
        for i in range(2):
            tensors[f"h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 32, 32))
        save_file(tensors, tmp_path / "model.safetensors", {"format": "pt"})
    ours = assert_loads_with_its_logits(reference, tmp_path)
    assert ours.config.tie_embeddings == (layout != "untied")


@pytest.fixture(scope="module")
def gpt2_format_tokenizer():
    """A byte-level BPE trained by Hugging Face's tokenizers library, saved in GPT-2's format:
    ByteLevel's own regex, no Split; merge ids follow the trainer, special token first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    text = texts()["english"] + texts()["chinese"]
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    hf.train_from_iterator([text], trainers.BpeTrainer(
        vocab_size=600, special_tokens=[ENDOFTEXT], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return hf


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet, max_size=60))
def test_a_gpt2_format_tokenizer_reads_into_ours_with_its_ids(gpt2_format_tokenizer, tmp_path_factory, text):
    folder = tmp_path_factory.getbasetemp() / "gpt2-format"
    if not (folder / "tokenizer.json").exists():
        folder.mkdir(exist_ok=True)
        gpt2_format_tokenizer.save(str(folder / "tokenizer.json"))
    ours = load_hf_tokenizer(folder)
    text = text + ENDOFTEXT + texts()["english"][:200]
    assert ours.encode(text, allowed_special="all") == gpt2_format_tokenizer.encode(text).ids


def test_other_tokenizers_are_refused(gpt2_format_tokenizer, small_tokenizer, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    from tinyllm.hf_tokenizer import bytes_to_unicode, hf_tokenizer_json

    def refused(document, message):
        (tmp_path / "tokenizer.json").write_text(json.dumps(document))
        with pytest.raises(HFFormatError, match=message):
            load_hf_tokenizer(tmp_path)

    document = json.loads(gpt2_format_tokenizer.to_str())
    merges = document["model"]["merges"]
    refused(document | {"model": document["model"] | {"merges": [merges[1], merges[0], *merges[2:]]}},
            "out of id order")
    # "abc" listed as a + bc, but tiktoken's rule merges a + b first (lower id), then ab + c.
    vocab = {c: b for b, c in bytes_to_unicode().items()} | {"ab": 256, "bc": 257, "abc": 258}
    refused(document | {"model": document["model"] | {"vocab": vocab, "merges": [["a", "b"], ["b", "c"], ["a", "bc"]]},
                        "added_tokens": []}, "not the one tiktoken's rule makes for b'abc'")
    refused(document | {"added_tokens": [*document["added_tokens"], {"id": 600, "content": "<pad>",
                                                                      "special": False}]},
            r"added tokens \['<pad>'\] are not special")
    bos = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": ENDOFTEXT, "type_id": 0}},
                                                     {"Sequence": {"id": "A", "type_id": 0}}]}
    refused(document | {"post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, bos]}},
            "post_processor TemplateProcessing adds tokens")
    ours = hf_tokenizer_json(small_tokenizer)
    split = ours["pre_tokenizer"]["pretokenizers"][0]
    for change in ({"behavior": "Removed"}, {"invert": True}):
        steps = [split | change, *ours["pre_tokenizer"]["pretokenizers"][1:]]
        refused(ours | {"pre_tokenizer": {"type": "Sequence", "pretokenizers": steps}}, "only 'Isolated'")
    wordpiece = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.Whitespace()
    refused(json.loads(wordpiece.to_str()), "only byte-level BPE")
    with pytest.raises(HFFormatError, match="no tokenizer.json"):
        load_hf_tokenizer(tmp_path / "none")


def test_gpt2_small_config_is_the_course_gpt2_124m():
    from tinyllm.config import gpt2_124m
    from tinyllm.hf import config_from_hf

    assert config_from_hf(transformers.GPT2Config().to_dict()) == gpt2_124m()


def test_bad_models_and_folders_are_refused(small_tokenizer, tmp_path):
    mixed = gpt2_style(vocab_size=300, context_length=32, d_model=32, n_layers=1, n_heads=2, positions="rope")
    with pytest.raises(HFFormatError, match=r"not a Llama \(norm='layernorm', mlp='gelu'\) nor a GPT-2 \(positions='rope'\)"):
        export_hf(random_model(mixed, 0), small_tokenizer, tmp_path)
    assert not (tmp_path / "config.json").exists()
    with pytest.raises(HFFormatError, match="n_kv_heads=1"):
        export_hf(random_model(mixed.replace(positions="learned", n_kv_heads=1), 0), small_tokenizer, tmp_path)
    with pytest.raises(HFFormatError, match="vocab_size"):
        export_hf(random_model(llama_style(vocab_size=301, context_length=32, d_model=32, n_layers=1,
                                           n_heads=2), 0), small_tokenizer, tmp_path)
    with pytest.raises(HFFormatError, match="no config.json"):
        load_hf(tmp_path)
    assert main(["export", "--format", "hf", str(tmp_path / "missing.safetensors"), str(tmp_path)]) == 2
    random_gpt2(tied=True).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    for change, message in (({"activation_function": "gelu"}, "activation_function='gelu'"),
                            ({"scale_attn_by_inverse_layer_idx": True}, "scale_attn_by_inverse_layer_idx"),
                            ({"model_type": "mistral"}, "only Llama and GPT-2")):
        (tmp_path / "config.json").write_text(json.dumps(config | change))
        with pytest.raises(HFFormatError, match=message):
            load_hf(tmp_path)


def test_export_module_does_not_import_transformers():
    code = ("import sys, tinyllm.hf, tinyllm.shipped; "
            "assert 'transformers' not in sys.modules and 'tokenizers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_weights_export_keeps_its_two_argument_form(tmp_path):
    from tinyllm.checkpoint import load_model, save_checkpoint

    model = random_model(llama_style(vocab_size=50, context_length=16, d_model=32, n_layers=1, n_heads=2), 0)
    save_checkpoint(tmp_path / "step.safetensors", model, step=3)
    assert main(["export", str(tmp_path / "step.safetensors"), str(tmp_path / "w.safetensors")]) == 0
    loaded = load_model(tmp_path / "w.safetensors")
    assert_close(loaded.embed_tokens.weight, model.embed_tokens.weight.half().float())
    assert main(["export", "--tokenizer", "t.json", str(tmp_path / "step.safetensors"),
                 str(tmp_path / "x.safetensors")]) == 2


def test_exported_chat_template_renders_our_template(exported):
    from tinyllm.chat import prompt_for, render

    _, tokenizer, _, hf_tokenizer, _ = exported
    if "<|end|>" not in tokenizer.special_tokens:
        assert not hf_tokenizer.chat_template
        return
    conversation = [{"role": "user", "content": "Write a story about a fox."},
                    {"role": "assistant", "content": "Once upon a time, 狐狸。"}]
    text = hf_tokenizer.apply_chat_template(conversation, tokenize=False)
    assert text == render(conversation)
    assert hf_tokenizer(text)["input_ids"] == tokenizer.encode(text, allowed_special="all")
    prompt = hf_tokenizer.apply_chat_template(conversation[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == prompt_for("Write a story about a fox.")
