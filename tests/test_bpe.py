"""Byte-level BPE: the fast trainer equals the naive one, and BPETokenizer equals tiktoken."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyllm import data_file
from tinyllm.tinytales import generate
from tinyllm.tokenizers import (
    ENDOFTEXT,
    GPT2_PATTERN,
    GPT4_PATTERN,
    BPETokenizer,
    cl100k,
    gpt2,
    pretokenize,
    train_bpe,
    train_bpe_naive,
)

SPECIALS = [ENDOFTEXT]


def story_text(lang: str, n_stories: int, seed: int = 0) -> str:
    """``n_stories`` TinyTales stories in one language, joined by ``<|endoftext|>``."""
    return ENDOFTEXT.join(story.text for story in generate(n_stories, seed=seed, lang=lang))


# ----- training -----------------------------------------------------------------------------
def test_textbook_example_merges():
    # The CS336 handout example, split on whitespace: counts low 5, lower 2, widest 3, newest 6.
    text = "low low low low low lower lower widest widest widest newest newest newest newest newest newest"
    for train in (train_bpe, train_bpe_naive):
        vocab, merges = train(text, 256 + 1 + 6, SPECIALS, pattern=r"\S+")
        # (s,t) beats (e,s) at 9 each, (o,w) beats (l,o) at 7, (w,est) and (n,e) win their ties.
        assert merges == [
            (b"s", b"t"),
            (b"e", b"st"),
            (b"o", b"w"),
            (b"l", b"ow"),
            (b"w", b"est"),
            (b"n", b"e"),
        ]
        assert vocab[256] == ENDOFTEXT.encode()
        assert vocab[257] == b"st" and vocab[262] == b"ne"


def test_ties_go_to_the_lexicographically_greatest_pair():
    # Every pair occurs once; the greatest (left bytes, right bytes) is (b"c", b"d").
    for train in (train_bpe, train_bpe_naive):
        _, merges = train("ab cd", 257)
        assert merges == [(b"c", b"d")]
        _, merges = train("zb za", 257, pattern=r"\S+")
        assert merges == [(b"z", b"b")]  # same left byte: the greater right byte wins


def test_initial_vocab_and_size_checks():
    vocab, merges = train_bpe("hello hello", 260, ["<|a|>", "<|b|>"])
    assert [vocab[i] for i in range(256)] == [bytes([i]) for i in range(256)]
    assert vocab[256] == b"<|a|>" and vocab[257] == b"<|b|>"
    assert len(vocab) == 260 and len(merges) == 2
    with pytest.raises(ValueError, match="vocab_size=257 is smaller"):
        train_bpe("hello", 257, ["<|a|>", "<|b|>"])
    # Training stops when nothing is left to merge: "ab" has a single pair.
    vocab, merges = train_bpe("ab", 1000)
    assert merges == [(b"a", b"b")] and len(vocab) == 257


def test_special_tokens_are_never_merged_across():
    text = ("x" + ENDOFTEXT) * 50 + ENDOFTEXT
    assert pretokenize(text, SPECIALS) == {b"x": 50}
    for train in (train_bpe, train_bpe_naive):
        vocab, merges = train(text, 300, SPECIALS)
        assert merges == []  # without the split, "x<", "|e", ... would be merged
        vocab, merges = train(text, 300)  # no special tokens: their text is ordinary
        assert len(merges) > 0


def test_pretokenize_patterns_match_tiktoken():
    text = "I'M here 12345 times!!\n\n  ok"
    assert pretokenize("the cat the") == {b"the": 1, b" cat": 1, b" the": 1}
    assert gpt2()._pat_str == GPT2_PATTERN and cl100k()._pat_str == GPT4_PATTERN
    assert b" 12345" in pretokenize(text, pattern=GPT2_PATTERN)
    assert b"123" in pretokenize(text, pattern=GPT4_PATTERN)  # GPT-4 splits digits by 3


ALPHABET = st.sampled_from(list("aab bc ,.!\n") + ["猫", "在", "😀", "é", ENDOFTEXT, "12", "  "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(ALPHABET, max_size=80),
    extra=st.integers(0, 40),
    gpt4=st.booleans(),
)
def test_fast_equals_naive_on_random_text(pieces, extra, gpt4):
    text = "".join(pieces)
    pattern = GPT4_PATTERN if gpt4 else GPT2_PATTERN
    fast = train_bpe(text, 257 + extra, SPECIALS, pattern)
    naive = train_bpe_naive(text, 257 + extra, SPECIALS, pattern)
    assert fast == naive


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("pattern", [GPT2_PATTERN, GPT4_PATTERN], ids=["gpt2", "gpt4"])
def test_fast_equals_naive_on_stories(lang, pattern):
    text = story_text(lang, 60 if lang == "en" else 25)  # Chinese: 3 bytes a character
    fast_vocab, fast_merges = train_bpe(text, 600, SPECIALS, pattern)
    naive_vocab, naive_merges = train_bpe_naive(text, 600, SPECIALS, pattern)
    assert len(fast_merges) > 100
    assert fast_merges == naive_merges
    assert fast_vocab == naive_vocab


# ----- BPETokenizer vs tiktoken ---------------------------------------------------------------
SAMPLES = {
    "english": "Hello, world! Once upon a time, a little girl named Lily found a shiny red ball.",
    "chinese": "从前，有一个小女孩叫莉莉。她在公园里找到了一个闪亮的红球。",
    "emoji": "I love 🍕 and 🐈‍⬛! 👍🏽👨‍👩‍👧 ok 🇨🇳",
    "code": "def f(x):\n\tif x >= 10:\n        return x ** 2  # square\n    return {'a': [1, 2]}\n",
    "whitespace": "a  b   c    d\n\n\n  \t  \r\n   end   ",
    "digits": "3.14159 1234567890 2024-11-23 007 1,000,000",
    "contractions": "I'm you're we'll it's THEY'VE he'd",
    "special": "first story.<|endoftext|>second story<|endoftext|>",
    "mixed": "Tom说：“你好, world!” 😀 42个苹果",
}


@pytest.fixture(scope="module")
def gpt2_ours() -> BPETokenizer:
    return BPETokenizer.from_tiktoken_file(data_file("gpt2.tiktoken"), {ENDOFTEXT: 50256})


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_gpt2_ranks_give_tiktoken_ids(gpt2_ours, name):
    text = SAMPLES[name]
    expected = gpt2().encode(text, allowed_special="all")
    assert gpt2_ours.encode(text, allowed_special="all") == expected
    assert gpt2_ours.decode(expected) == text
    assert gpt2_ours.encode_ordinary(text) == gpt2().encode_ordinary(text)


def test_known_gpt2_ids(gpt2_ours):
    assert gpt2_ours.encode("Hello, world") == [15496, 11, 995]
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces"
    assert gpt2_ours.encode(text, allowed_special={ENDOFTEXT}) == [
        15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114,
    ]  # fmt: skip
    assert gpt2_ours.n_vocab == 50257 and gpt2_ours.eot_token == 50256


def test_cl100k_ranks_give_tiktoken_ids():
    enc = cl100k()
    ours = BPETokenizer.from_tiktoken(enc)
    for text in SAMPLES.values():
        assert ours.encode(text, allowed_special="all") == enc.encode(text, allowed_special="all")


# Any unicode, plus strings dense in what the split patterns treat specially.
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=" \t\n\r'sdmtlvreSDLVE1234aé猫😀.,!", max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT)
def test_gpt2_equal_to_tiktoken_and_round_trip_on_any_text(gpt2_ours, text):
    ids = gpt2_ours.encode_ordinary(text)
    assert ids == gpt2().encode_ordinary(text)
    assert gpt2_ours.decode(ids) == text


@pytest.fixture(scope="module")
def cl100k_ours() -> BPETokenizer:
    return BPETokenizer.from_tiktoken(cl100k())


@settings(max_examples=100, deadline=None)
@given(text=ANY_TEXT)
def test_cl100k_equal_to_tiktoken_on_any_text(cl100k_ours, text):
    ids = cl100k_ours.encode_ordinary(text)
    assert ids == cl100k().encode_ordinary(text)
    assert cl100k_ours.decode(ids) == text


@pytest.fixture(scope="module")
def small_bpe() -> BPETokenizer:
    return BPETokenizer.train(story_text("en", 40) + story_text("zh", 40), 500)


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT)
def test_trained_round_trip_and_tiktoken_bridge(small_bpe, text):
    ids = small_bpe.encode_ordinary(text)
    assert small_bpe.decode(ids) == text
    assert small_bpe.to_tiktoken().encode_ordinary(text) == ids


def test_to_tiktoken_same_ids_on_stories(small_bpe):
    fast = small_bpe.to_tiktoken()
    for text in [story_text("en", 10, seed=1), story_text("zh", 10, seed=1), *SAMPLES.values()]:
        assert fast.encode(text, allowed_special="all") == small_bpe.encode(
            text, allowed_special="all"
        )
    assert fast.n_vocab == small_bpe.n_vocab == 500
    # The trainer's merges compress: fewer ids than bytes on text like the training text.
    text = story_text("en", 10, seed=1)
    assert len(small_bpe.encode(text, allowed_special="all")) < 0.7 * len(text.encode())


def test_encode_batch(small_bpe):
    texts = list(SAMPLES.values())
    assert small_bpe.encode_batch(texts, allowed_special="all") == [
        small_bpe.encode(t, allowed_special="all") for t in texts
    ]
    assert small_bpe.encode_ordinary_batch(texts) == [small_bpe.encode_ordinary(t) for t in texts]


def test_special_token_rules_match_tiktoken(gpt2_ours):
    text = "a<|endoftext|>b"
    with pytest.raises(ValueError, match="allowed_special"):
        gpt2_ours.encode(text)
    with pytest.raises(ValueError):
        gpt2().encode(text)
    for kwargs in [
        {"allowed_special": "all"},
        {"allowed_special": {ENDOFTEXT}},
        {"disallowed_special": ()},
        {"allowed_special": set(), "disallowed_special": set()},
    ]:
        assert gpt2_ours.encode(text, **kwargs) == gpt2().encode(text, **kwargs)
    assert 50256 in gpt2_ours.encode(text, allowed_special="all")
    assert 50256 not in gpt2_ours.encode(text, disallowed_special=())
    with pytest.raises(ValueError, match="not special tokens of this tokenizer"):
        gpt2_ours.encode(text, allowed_special={"<|im_start|>"})


def test_partial_sequences_decode_to_replacement_characters_like_tiktoken(gpt2_ours):
    ids = gpt2_ours.encode("猫")  # one character, 3 bytes, one GPT-2 token per byte
    assert len(ids) == 3 and gpt2_ours.decode(ids) == "猫"
    assert gpt2_ours.decode(ids[:2]) == "\ufffd" == gpt2().decode(ids[:2])  # tiktoken's default
    assert gpt2_ours.decode(ids[1:] + ids[:1]) == gpt2().decode(ids[1:] + ids[:1])
    with pytest.raises(ValueError, match="not valid UTF-8.*errors='replace'"):
        gpt2_ours.decode(ids[:2], errors="strict")
    assert gpt2_ours.decode(ids, errors="strict") == "猫"
    assert gpt2_ours.decode_bytes(ids[:2]) == "猫".encode()[:2]
    with pytest.raises(ValueError, match="not in this tokenizer's vocabulary"):
        gpt2_ours.decode([50257])


def test_save_load_round_trip(tmp_path, small_bpe):
    path = small_bpe.save(tmp_path / "tok.json")
    loaded = BPETokenizer.load(path)
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state["format"] == "tinyllm-bpe" and state["special_tokens"] == {ENDOFTEXT: 256}
    assert len(state["mergeable_ranks"]) == 499
    text = SAMPLES["mixed"] + story_text("zh", 3)
    assert loaded.encode(text, allowed_special="all") == small_bpe.encode(
        text, allowed_special="all"
    )
    assert loaded.pattern == small_bpe.pattern


def test_load_rejects_other_files(tmp_path):
    not_json = tmp_path / "gpt2.tiktoken"
    not_json.write_text("IQ== 0\n")
    with pytest.raises(ValueError, match="not JSON"):
        BPETokenizer.load(not_json)
    other = tmp_path / "other.json"
    other.write_text('{"model": "x"}')
    with pytest.raises(ValueError, match="from_tiktoken_file"):
        BPETokenizer.load(other)


def test_bad_ranks_are_rejected():
    ranks = {bytes([i]): i for i in range(255)}  # byte 255 missing
    with pytest.raises(ValueError, match="lacks 1 single-byte"):
        BPETokenizer(ranks)
    ranks = {bytes([i]): i for i in range(256)}
    with pytest.raises(ValueError, match="unique"):
        BPETokenizer(ranks, {ENDOFTEXT: 5})
