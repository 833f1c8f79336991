"""The offline GPT-2 and GPT-4 encodings (tinyllm.tokenizers.pretrained)."""

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyllm.paths import DATA_ENV, SHIPPED_FILES, DataFileError, data_dir, sha256_of
from tinyllm.tokenizers import ENDOFTEXT, cl100k, gpt2
from tinyllm.tokenizers.pretrained import read_tiktoken_ranks


def test_hello_world():
    assert gpt2().encode("Hello, world") == [15496, 11, 995]


def test_provenance_example_with_endoftext():
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces"
    expected = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114]
    assert gpt2().encode(text, allowed_special={ENDOFTEXT}) == expected


def test_special_token_is_refused_unless_allowed():
    with pytest.raises(ValueError, match="disallowed special token"):
        gpt2().encode("a <|endoftext|> b")


def test_vocabulary_size_and_eot_id():
    enc = gpt2()
    assert enc.n_vocab == 50257
    assert enc.eot_token == 50256
    assert len(read_tiktoken_ranks(data_dir() / "gpt2.tiktoken")) == 50256


def test_shipped_file_checksum_matches_record():
    assert sha256_of(data_dir() / "gpt2.tiktoken") == SHIPPED_FILES["gpt2.tiktoken"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_gpt2_round_trip(text):
    enc = gpt2()
    assert enc.decode(enc.encode(text, disallowed_special=())) == text


def test_cl100k_offline():
    enc = cl100k()
    assert enc.n_vocab == 100277
    assert enc.encode("Hello, world") == [9906, 11, 1917]
    assert enc.decode(enc.encode("你好，世界 🌍")) == "你好，世界 🌍"


@pytest.fixture
def corrupt_data_dir(tmp_path, monkeypatch):
    """A data folder whose gpt2.tiktoken has 4 bytes overwritten."""
    damaged = tmp_path / "gpt2.tiktoken"
    shutil.copy(data_dir() / "gpt2.tiktoken", damaged)
    with open(damaged, "r+b") as f:
        f.seek(1000)
        f.write(b"XXXX")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    gpt2.cache_clear()
    yield tmp_path
    gpt2.cache_clear()


def test_corrupt_file_gives_clear_error(corrupt_data_dir):
    with pytest.raises(DataFileError, match=r"corrupt: sha256 .*`git checkout -- data/gpt2.tiktoken"):
        gpt2()


def test_missing_file_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    gpt2.cache_clear()
    try:
        with pytest.raises(DataFileError, match="missing"):
            gpt2()
    finally:
        gpt2.cache_clear()


def test_malformed_ranks_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.tiktoken"
    bad.write_bytes(b"IQ== 0\nnot-base64-at-all 1\n")
    with pytest.raises(ValueError, match="line 2"):
        read_tiktoken_ranks(bad)
