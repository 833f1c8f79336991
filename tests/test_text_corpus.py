"""Your own text: streaming encode, the cached token file, random-offset windows, clear errors,
tiktoken-like decoding, and a recipe trained on text files (tinyllm.data.tokens,
tinyllm.tokenizers.stream)."""

import json
import random

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tinyllm.__main__ import main
from tinyllm.data.prepare import load_tokenizer
from tinyllm.data.tokens import TextCorpusError, TokenWindows, split_windows, text_files, token_file
from tinyllm.paths import data_file
from tinyllm.tokenizers import ENDOFTEXT, GPT4_PATTERN, BPETokenizer
from tinyllm.tokenizers.stream import encode_stream

SHIPPED = load_tokenizer()
PIECES = ["a", "b", "Ab", "the", " ", "  ", "\n", "\n\n", "\t", "\r\n", " \n", "。", "狐狸", "1",
          "23", "'s", "!", "?!", "é", "😀", "\u3000", "\x0b", "\x1c", "\x85", "\r", ".\n", " .",
          ENDOFTEXT]
# Trained on the same pieces, so that whitespace runs such as " \n" or "\n " are tokens of their
# own: a stream cut in the wrong place then gives other ids, and the test below fails.
_MIXED = "".join(random.Random(0).choices(PIECES, k=20_000))
TOKENIZERS = {"gpt2-pattern": BPETokenizer.train(_MIXED, 400),
              "gpt4-pattern": BPETokenizer.train(_MIXED, 400, pattern=GPT4_PATTERN), "shipped": SHIPPED}


def flat(parts):
    return [i for part in parts for i in part]


@settings(max_examples=300, deadline=None)
@example(pieces=["end.", "\n", "\n", ENDOFTEXT, "Next"], cuts=[], chunk_chars=1, name="gpt2-pattern")
@example(pieces=["end.", "\r\n", ENDOFTEXT], cuts=[], chunk_chars=1, name="gpt2-pattern")
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=60), cuts=st.lists(st.integers(0, 400)),
       chunk_chars=st.integers(1, 40), name=st.sampled_from(sorted(TOKENIZERS)))
def test_streaming_encode_equals_encoding_the_whole_text(pieces, cuts, chunk_chars, name):
    tokenizer = TOKENIZERS[name]
    text = "".join(pieces)
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    chunks = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]  # cut anywhere
    as_text = tokenizer.encode(text, disallowed_special=())
    assert flat(encode_stream(tokenizer, chunks, chunk_chars=chunk_chars)) == as_text
    # "<|endoftext|>" as its id: the whole text is then encoded in pieces between the specials.
    as_special = tokenizer.encode(text, allowed_special={ENDOFTEXT})
    assert flat(encode_stream(tokenizer, chunks, allowed_special={ENDOFTEXT}, chunk_chars=chunk_chars)) == as_special


def test_streaming_over_lines_keeps_special_tokens():
    text = (data_file("tinytales/sample_en.txt").read_text(encoding="utf-8") + ENDOFTEXT + "\n"
            + data_file("tinytales/sample_zh.txt").read_text(encoding="utf-8"))
    whole = SHIPPED.encode(text, allowed_special={ENDOFTEXT})
    lines = text.splitlines(keepends=True)
    for chunk_chars in (1, 100, 1 << 20):
        assert flat(encode_stream(SHIPPED, lines, allowed_special={ENDOFTEXT}, chunk_chars=chunk_chars)) == whole
    assert SHIPPED.eot_token in whole


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(0, SHIPPED.n_vocab - 1), max_size=30))
def test_decode_replaces_broken_utf8_like_tiktoken(ids):
    encoding = SHIPPED.to_tiktoken()
    assert SHIPPED.decode(ids) == encoding.decode(ids)  # "\ufffd" for bytes cut mid-character


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_token_file_holds_the_ids_once_and_is_reused(tmp_path, monkeypatch):
    a = write(tmp_path, "a.txt", "Once upon a time, a fox.\n狐狸在森林里。\n")
    b = write(tmp_path, "b.txt", "The end.\n")
    files = text_files(str(tmp_path / "*.txt"))
    assert files == [a, b]
    tokens = token_file(files, SHIPPED, tmp_path / "cache", progress=False)
    expected = SHIPPED.encode(a.read_text() + ENDOFTEXT + b.read_text(), allowed_special="all")
    assert tokens.dtype == "uint16" and tokens.n_tokens == len(expected)
    assert np.fromfile(tokens.path, dtype=np.uint16).tolist() == expected
    meta = json.loads(tokens.path.with_suffix(".json").read_text())
    assert meta["n_tokens"] == len(expected) and meta["n_bytes"] == a.stat().st_size + b.stat().st_size
    monkeypatch.setattr("tinyllm.data.tokens.encode_stream", None)  # a second encode would fail
    assert token_file(files, SHIPPED, tmp_path / "cache", progress=False) == tokens
    monkeypatch.undo()
    b.write_text("Another end.\n", encoding="utf-8")  # new bytes: a new file
    assert token_file(files, SHIPPED, tmp_path / "cache", progress=False).path != tokens.path
    chat = load_tokenizer("tokenizer/tinytales-chat-4099.json")  # another tokenizer: a new file
    assert token_file(files, chat, tmp_path / "cache", progress=False).path not in (tokens.path,)
    new_bytes = token_file(files, SHIPPED, tmp_path / "cache", progress=False)
    monkeypatch.setattr("tinyllm.data.tokens.FORMAT", "tinyllm-tokens-v0")  # an older encoder's file
    assert token_file(files, SHIPPED, tmp_path / "cache", progress=False).path != new_bytes.path


def test_ids_beyond_uint16_are_stored_as_uint32(tmp_path):
    big = BPETokenizer({bytes([i]): i for i in range(256)}, {ENDOFTEXT: 70_000})
    files = [write(tmp_path, "a.txt", "ab"), write(tmp_path, "b.txt", "c")]
    tokens = token_file(files, big, tmp_path / "cache", progress=False)
    assert tokens.dtype == "uint32" and tokens.read(0, 4).tolist() == [97, 98, 70_000, 99]


def test_bad_text_gets_one_clear_error(tmp_path):
    with pytest.raises(TextCorpusError, match="needs data.path"):
        text_files("")
    with pytest.raises(TextCorpusError, match="matches nothing"):
        text_files(str(tmp_path / "*.txt"))
    with pytest.raises(TextCorpusError, match="matches only folders"):
        text_files(str(tmp_path))
    bracketed = write(tmp_path, "story[1].txt", "A fox.\n")  # a glob would look for "story1.txt"
    assert text_files(str(bracketed)) == [bracketed]
    empty = write(tmp_path, "empty.txt", "")
    with pytest.raises(TextCorpusError, match="empty.txt is empty"):
        text_files(str(empty))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("fine\ncafé\n".encode("latin-1"))
    with pytest.raises(TextCorpusError, match=r"not UTF-8 text: byte 0xe9 on line 2 \(byte offset 8\)"):
        token_file(text_files(str(latin)), SHIPPED, tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache").iterdir())  # nothing half-written is left behind


def test_windows_read_at_random_offsets_and_validation_touches(tmp_path):
    text = data_file("tinytales/sample_en.txt").read_text(encoding="utf-8")
    tokens = token_file([write(tmp_path, "a.txt", text)], SHIPPED, tmp_path / "cache", progress=False)
    ids = torch.tensor(tokens.read(0, tokens.n_tokens).astype(np.int64))
    train, val = split_windows(tokens, 16, 0.1, seed=3)
    starts = set()
    for i in range(len(train)):
        x, y = train[i]
        assert x.shape == y.shape == (16,) and x.dtype == torch.int64 and torch.equal(x[1:], y[:-1])
        start = next(s for s in range(i * 16, i * 16 + 16) if torch.equal(ids[s : s + 16], x))
        starts.add(start - i * 16)
        assert torch.equal(train[i][0], x)  # a pure function of the index
    assert len(starts) > 4  # the shifts differ from window to window
    boundary = tokens.n_tokens - int(tokens.n_tokens * 0.1)
    assert torch.equal(val[1][0], ids[boundary + 16 : boundary + 32])
    assert len(val) == (tokens.n_tokens - boundary - 1) // 16
    with pytest.raises(TextCorpusError, match="too few for one window"):
        TokenWindows(tokens, 0, 20, 16, random_offsets=True)


def test_bits_per_byte_uses_the_held_out_texts_own_bytes(tmp_path, monkeypatch):
    from tinyllm.data.prepare import prepare_data
    from tinyllm.data.tokens import text_bytes
    from tinyllm.recipes import apply_overrides, get_recipe

    monkeypatch.setenv("TINYLLM_CACHE", str(tmp_path / "cache"))
    # English, then a Chinese tail, which the smoke recipe's 320-token BPE (trained on the first,
    # English, characters) splits into single bytes: fewer bytes per token than the average.
    english = data_file("tinytales/sample_en.txt").read_text(encoding="utf-8")
    chinese = data_file("tinytales/sample_zh.txt").read_text(encoding="utf-8")
    write(tmp_path, "a.txt", english * 3)
    write(tmp_path, "b.txt", chinese)
    recipe = apply_overrides(get_recipe("smoke"), ["data.corpus=text", f"data.path={tmp_path / '*.txt'}",
                                                   "data.val_share=0.2"])
    data = prepare_data(recipe, progress=False)
    tokens = data.val.tokens
    val_ids = tokens.read(data.val.start, tokens.n_tokens - data.val.start).tolist()
    val_bytes = data.tokenizer.decode_bytes(i for i in val_ids if i != data.tokenizer.eot_token)
    assert data.bytes_per_token == pytest.approx(len(val_bytes) / len(val_ids))
    assert data.bytes_per_token < 0.9 * tokens.n_bytes / tokens.n_tokens  # not the corpus's average
    assert text_bytes(tokens, data.tokenizer, 0, tokens.n_tokens, chunk=7) == tokens.n_bytes  # one separator: 0 bytes


def test_train_command_on_your_own_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYLLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "story.txt", data_file("tinytales/sample_en.txt").read_text(encoding="utf-8"))
    argv = ["train", "--recipe", "smoke", "--no-progress", "--set", "data.corpus=text",
            "--set", "data.path=*.txt", "--set", "checkpoint_dir=run"]
    assert main(argv) == 0
    assert "recipe smoke: step 4, val loss" in capsys.readouterr().out
    assert len(list((tmp_path / "cache" / "tokens").glob("*.bin"))) == 1
    assert main([*argv[:-2], "--set", "data.corpus=tinystories"]) == 0  # local TinyStories files: text
    assert main(["train", "--recipe", "smoke", "--set", "data.corpus=text", "--set", "data.path=none.txt"]) == 2
    assert "matches nothing" in capsys.readouterr().err
    assert main([*argv, "--set", "data.stride=8"]) == 2
    assert "data.stride=8: a text corpus reads its windows at random offsets" in capsys.readouterr().err


def test_tinystories_without_a_path_reads_the_hub_corpus(monkeypatch):
    import datasets

    from tinyllm.data.prepare import prepare_data
    from tinyllm.recipes import apply_overrides, get_recipe

    asked = []

    def fake_hub(name, **kwargs):  # stands in for the download (tests run offline)
        asked.append((name, kwargs))
        story = data_file("tinytales/sample_en.txt").read_text(encoding="utf-8")
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": [story] * 3}),
                                     "validation": datasets.Dataset.from_dict({"text": [story]})})

    monkeypatch.setattr("tinyllm.data.prepare.load_corpus", fake_hub)
    recipe = apply_overrides(get_recipe("smoke"), ["data.corpus=tinystories", "n_train=3", "n_val=1",
                                                   f"data.tokenizer={data_file('tokenizer/tinytales-bpe-4096.json')}",
                                                   "model.vocab_size=4096"])
    data = prepare_data(recipe, progress=False)
    assert asked == [("tinystories", {"n_train": 3, "n_val": 1})]
    x, y = data.train[0]
    assert x.shape == (32,) and torch.equal(x[1:], y[:-1])
    with pytest.raises(ValueError, match="data.corpus='wiki'"):
        prepare_data(apply_overrides(recipe, ["data.corpus=wiki"]))
