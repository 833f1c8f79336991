"""SimpleTokenizer: the word-level tokenizer of notebook 01 and its unknown-word behaviour."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyllm.tokenizers import ENDOFTEXT, UNK, SimpleTokenizer, split_words

TEXT = "It's the last he painted, you know,\" Mrs. Gisburn said with pardonable pride. 小猫在草地上跑。"


def test_split_words():
    assert split_words("Hello, world. Is this-- a test?") == [
        "Hello", ",", "world", ".", "Is", "this", "-", "-", "a", "test", "?",
    ]  # fmt: skip
    assert split_words("小猫跑了！Tom 42 times") == [
        "小",
        "猫",
        "跑",
        "了",
        "！",
        "Tom",
        "42",
        "times",
    ]
    assert split_words(f"end.{ENDOFTEXT}Next {UNK}") == ["end", ".", ENDOFTEXT, "Next", UNK]


def test_vocab_is_sorted_words_then_specials():
    tok = SimpleTokenizer.from_text("the cat sat on the mat.")
    assert tok.str_to_int == {
        ".": 0, "cat": 1, "mat": 2, "on": 3, "sat": 4, "the": 5, ENDOFTEXT: 6, UNK: 7,
    }  # fmt: skip
    assert tok.vocab_size == 8
    assert tok.encode("the cat sat.") == [5, 1, 4, 0]


def test_round_trip_on_known_words_glues_punctuation_and_chinese():
    tok = SimpleTokenizer.from_text(TEXT)
    text = "It's the last he painted, you know. 小猫跑。"
    assert tok.decode(tok.encode(text)) == "It ' s the last he painted, you know.小猫跑。"


def test_unseen_words_become_unk():
    tok = SimpleTokenizer.from_text(TEXT)
    ids = tok.encode(f"Hello, do you like tea? {ENDOFTEXT} 小狗在跑。")
    unk, eot = tok.str_to_int[UNK], tok.str_to_int[ENDOFTEXT]
    assert ids.count(unk) == 6  # Hello do like tea ? 狗
    assert ids.count(eot) == 1
    assert tok.decode(ids).startswith(f"{UNK}, {UNK} you {UNK} {UNK} {UNK} {ENDOFTEXT}")


def test_unseen_words_without_unk_raise_a_clear_error():
    tok = SimpleTokenizer.from_text("the cat", special_tokens=[ENDOFTEXT])
    with pytest.raises(KeyError, match="'dog' is not in the vocabulary"):
        tok.encode("the dog")
    with pytest.raises(KeyError, match="id 99 is not in the vocabulary"):
        tok.decode([99])


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="same id"):
        SimpleTokenizer({"a": 0, "b": 0})


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["cat", "dog", "猫", ",", ".", "?", "sat", "42"]), max_size=30))
def test_encode_decode_encode_is_stable(words):
    tok = SimpleTokenizer.from_text("cat dog 猫 , . ? sat 42")
    text = " ".join(words)
    ids = tok.encode(text)
    assert len(ids) == len(words)
    assert tok.encode(tok.decode(ids)) == ids
