"""The chat template: new special tokens on the shipped tokenizer (ordinary text unchanged),
render/parse round trips, and an embedding grown without changing what the model computed."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from tinyllm.chat import (
    ASSISTANT,
    CHAT_TOKENS,
    END,
    RESERVED,
    USER,
    add_chat_tokens,
    parse,
    prompt_for,
    render,
    resize_embeddings,
)
from tinyllm.config import llama_style
from tinyllm.data.prepare import load_tokenizer
from tinyllm.model import TinyLLM
from tinyllm.tinytales import generate
from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer

BASE = load_tokenizer()
CHAT = add_chat_tokens(BASE)

# Content text: fragments that come close to the template's markers, plus arbitrary text.
NEAR_MISSES = ["<|", "|>", "<", ">", "|", "user", "assistant", "end", "endoftext", "<|end",
               "end|>", "<|user", "<|assistant", "中文", "故事", " ", "\n", "é"]
content_text = (
    st.lists(st.sampled_from(NEAR_MISSES) | st.text(max_size=4), max_size=8)
    .map("".join)
    .filter(lambda s: not any(r in s for r in RESERVED))
)
turns = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]),
                               "content": content_text})
conversations = st.lists(turns, max_size=6)


# --- tokens --------------------------------------------------------------------------------------


def test_chat_tokens_get_the_ids_after_the_shipped_vocabulary():
    assert BASE.n_vocab == 4096 and BASE.special_tokens == {ENDOFTEXT: 256}
    assert {t: CHAT.special_tokens[t] for t in CHAT_TOKENS} == {USER: 4096, ASSISTANT: 4097,
                                                                END: 4098}
    assert CHAT.n_vocab == 4099 and CHAT.eot_token == BASE.eot_token
    assert BASE.n_vocab == 4096  # a new tokenizer: the shipped one is untouched
    assert add_chat_tokens(CHAT).special_tokens == CHAT.special_tokens  # adding twice: no change


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_ordinary_text_keeps_its_ids(lang):
    texts = [story.text for story in generate(40, seed=3, lang=lang)]
    assert CHAT.encode_ordinary_batch(texts) == BASE.encode_ordinary_batch(texts)
    assert CHAT.encode_batch(texts) == BASE.encode_batch(texts)
    assert all(i < BASE.n_vocab for ids in CHAT.encode_ordinary_batch(texts) for i in ids)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=60))
def test_any_text_keeps_its_ids(text):
    assert CHAT.encode_ordinary(text) == BASE.encode_ordinary(text)


def test_markers_are_single_ids_only_when_allowed():
    text = render([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])
    ids = CHAT.encode(text, allowed_special=set(CHAT_TOKENS))
    assert ids == [4096, *CHAT.encode("Hi"), 4098, 4097, *CHAT.encode("Hello"), 4098]
    assert CHAT.decode(ids) == text
    # tiktoken, handed the same ranks and special tokens, agrees.
    assert CHAT.to_tiktoken().encode(text, allowed_special=set(CHAT_TOKENS)) == ids
    # User text cannot smuggle in a marker: by default a special string is refused...
    with pytest.raises(ValueError, match="special token"):
        CHAT.encode(text)
    # ...and as ordinary text it is ordinary ids.
    assert not set(CHAT.encode_ordinary(text)) & set(CHAT.special_tokens.values())


def test_chat_tokenizer_saves_and_loads(tmp_path):
    loaded = BPETokenizer.load(CHAT.save(tmp_path / "chat.json"))
    assert loaded.special_tokens == CHAT.special_tokens and loaded.n_vocab == 4099
    text = prompt_for("写一个故事。")
    assert loaded.encode(text, allowed_special="all") == CHAT.encode(text, allowed_special="all")


# --- render / parse ------------------------------------------------------------------------------


def test_render_writes_the_template():
    conversation = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                    {"role": "user", "content": "故事"}, {"role": "assistant", "content": ""}]
    assert render(conversation) == ("<|user|>Hi<|end|><|assistant|>Hello!<|end|>"
                                    "<|user|>故事<|end|><|assistant|><|end|>")
    assert prompt_for("Hi") == "<|user|>Hi<|end|><|assistant|>"
    assert render([]) == "" and parse("") == []


@settings(max_examples=200, deadline=None)
@given(conversations)
def test_parse_inverts_render(conversation):
    assert parse(render(conversation)) == conversation


@settings(max_examples=100, deadline=None)
@given(conversations, content_text, st.sampled_from(RESERVED), content_text)
def test_content_with_a_special_string_is_refused(conversation, before, special, after):
    bad = [*conversation, {"role": "user", "content": before + special + after}]
    with pytest.raises(ValueError, match=f"turn {len(conversation)}.*special string"):
        render(bad)


@pytest.mark.parametrize(
    "turn, message",
    [({"role": "system", "content": "x"}, "roles are"),
     ({"role": "user"}, "exactly the keys"),
     ({"role": "user", "content": "x", "name": "a"}, "exactly the keys"),
     ({"role": "user", "content": 3}, "must be a str"),
     ("hello", "must be a dict")],
)
def test_malformed_turns_are_refused(turn, message):
    with pytest.raises(ValueError, match=message):
        render([{"role": "user", "content": "ok"}, turn])


@pytest.mark.parametrize(
    "text, message",
    [("Hi<|user|>x<|end|>", "before the first turn"),
     ("<|user|>x<|end|>between<|assistant|>y<|end|>", "between turns"),
     ("<|user|>x", "closed by the end of the text"),
     ("<|user|>x<|user|>y<|end|>", "closed by '<\\|user\\|>'"),
     ("<|end|>", "to open turn 0"),
     ("<|user|>x<|endoftext|><|end|>", "closed by '<\\|endoftext\\|>'"),
     (prompt_for("Hi"), "closed by the end of the text")],
)
def test_parse_refuses_what_render_cannot_write(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


# --- resize_embeddings ---------------------------------------------------------------------------


@pytest.mark.parametrize("tied", [True, False])
def test_resize_keeps_old_rows_and_adds_mean_rows(tied):
    torch.manual_seed(0)
    model = TinyLLM(llama_style(d_model=32, n_layers=1, n_heads=2, vocab_size=BASE.n_vocab,
                                context_length=64, tie_embeddings=tied)).eval()
    ids = torch.randint(0, BASE.n_vocab, (2, 16))
    before = model(ids).detach()
    old_embed = model.embed_tokens.weight.detach().clone()
    old_head = model.lm_head.weight.detach().clone()

    assert resize_embeddings(model, CHAT.n_vocab) is model
    embed, head = model.embed_tokens.weight, model.lm_head.weight
    assert model.config.vocab_size == 4099 and embed.shape == head.shape == (4099, 32)
    assert (head is embed) == tied
    assert torch.equal(embed[:4096], old_embed) and torch.equal(head[:4096], old_head)
    assert torch.equal(embed[4096:], old_embed.mean(0).expand(3, -1))
    assert torch.equal(head[4096:], old_head.mean(0).expand(3, -1))

    after = model(ids).detach()
    assert after.shape == (2, 16, 4099)
    assert_close(after[..., :4096], before, rtol=1e-6, atol=1e-6)
    # The three new tokens share one row, so they get one logit: the mean of the old logits
    # (the head is linear, so the mean row scores the mean).
    assert torch.equal(after[..., 4096], after[..., 4098])
    assert_close(after[..., 4096], before.mean(-1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("tied", [True, False])
def test_resized_model_trains_and_reloads(tied):
    torch.manual_seed(0)
    model = TinyLLM(llama_style(d_model=32, n_layers=1, n_heads=2, vocab_size=4096,
                                context_length=32, tie_embeddings=tied))
    resize_embeddings(model, 4099)
    ids = torch.tensor([[4095, 4096, 10, 4098, 4097, 20, 4098]])
    _, loss = model(ids[:, :-1], ids[:, 1:])
    loss.backward()
    # The new rows are parameters like any other: they receive gradients.
    assert model.embed_tokens.weight.grad[4096:].abs().sum() > 0
    assert model.lm_head.weight.grad[4096:].abs().sum() > 0
    names = {n for n, _ in model.named_parameters()}
    assert ("lm_head.weight" in names) != tied
    # A checkpoint of the resized model loads into a model built from its (updated) config.
    fresh = TinyLLM(model.config)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(fresh(ids), model(ids))


def test_resize_refuses_to_shrink_and_same_size_is_a_no_op():
    model = TinyLLM(llama_style(d_model=32, n_layers=1, n_heads=2, vocab_size=64,
                                context_length=16))
    with pytest.raises(ValueError, match="only grows"):
        resize_embeddings(model, 63)
    weight = model.embed_tokens.weight.detach().clone()
    resize_embeddings(model, 64)
    assert torch.equal(model.embed_tokens.weight, weight) and model.config.vocab_size == 64
