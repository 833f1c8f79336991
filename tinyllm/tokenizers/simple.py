"""`SimpleTokenizer`: the classic first tokenizer — split into words, look each one up.

Text is split by a regex into words (runs of letters/digits), single punctuation marks, and
single Chinese characters (Chinese has no spaces between words, so one character per token is
the simplest honest split). A vocabulary built from a training text maps each distinct token
to an id, plus two special tokens:

- ``<|endoftext|>`` separates documents (kept whole when it appears in the text);
- ``<|unk|>`` stands for every word the vocabulary has never seen.

Its two flaws motivate byte-level BPE (notebook 01): unseen words all collapse to ``<|unk|>``
(information lost for good), and decoding cannot restore the original spacing — it joins
tokens with single spaces and only glues punctuation and Chinese characters back.

Taught in notebook 01 (tokenizer).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from tinyllm.tokenizers.pretrained import ENDOFTEXT

UNK = "<|unk|>"

#: Special tokens first (kept whole), then one Chinese character, a word, or one punctuation mark.
SIMPLE_PATTERN = regex.compile(r"<\|endoftext\|>|<\|unk\|>|\p{Han}|[^\W\p{Han}]+|[^\w\s]")
# Decoding: no space before closing punctuation, and none next to a Chinese character or mark.
_SPACE_BEFORE_PUNCT = regex.compile(r" ([,.:;?!)\]}])")
_CJK = r"[\p{Han}\p{InCJK_Symbols_and_Punctuation}\uFF00-\uFFEF]"  # characters, 。，、 and full-width ！？
_SPACE_NEAR_CJK = regex.compile(rf"(?<={_CJK}) | (?={_CJK})")


def split_words(text: str) -> list[str]:
    """Split text into the tokens `SimpleTokenizer` works with.

    >>> split_words("Hello, world. 小猫跑了！<|endoftext|>")
    ['Hello', ',', 'world', '.', '小', '猫', '跑', '了', '！', '<|endoftext|>']
    """
    return SIMPLE_PATTERN.findall(text)


class SimpleTokenizer:
    """Word-level tokenizer with a fixed vocabulary (token -> id).

    Args:
        vocab: token string -> id. If it contains ``<|unk|>``, unseen words map to it;
            otherwise encoding an unseen word raises ``KeyError`` naming the word.
    """

    def __init__(self, vocab: dict[str, int]):
        if len(set(vocab.values())) != len(vocab):
            raise ValueError("vocab maps two tokens to the same id; ids must be unique")
        self.str_to_int = dict(vocab)
        self.int_to_str = {i: s for s, i in vocab.items()}

    @classmethod
    def from_text(
        cls, text: str | Iterable[str], special_tokens: Iterable[str] = (ENDOFTEXT, UNK)
    ) -> SimpleTokenizer:
        """Vocabulary = the sorted distinct tokens of ``text``, then the special tokens.

        >>> tok = SimpleTokenizer.from_text("the cat sat on the mat.")
        >>> tok.str_to_int
        {'.': 0, 'cat': 1, 'mat': 2, 'on': 3, 'sat': 4, 'the': 5, '<|endoftext|>': 6, '<|unk|>': 7}
        """
        texts = [text] if isinstance(text, str) else list(text)
        specials = list(special_tokens)
        words = sorted({w for t in texts for w in split_words(t)} - set(specials))
        return cls({w: i for i, w in enumerate(words + specials)})

    @property
    def vocab_size(self) -> int:
        return len(self.str_to_int)

    def encode(self, text: str) -> list[int]:
        """Text -> ids; unseen words become ``<|unk|>`` (or raise if the vocab has none)."""
        ids = []
        for word in split_words(text):
            if word in self.str_to_int:
                ids.append(self.str_to_int[word])
            elif UNK in self.str_to_int:
                ids.append(self.str_to_int[UNK])
            else:
                raise KeyError(
                    f"{word!r} is not in the vocabulary and the vocabulary has no {UNK!r} token. "
                    f"Build it with SimpleTokenizer.from_text(text) (which adds {UNK!r}) or from a "
                    "text that contains this word."
                )
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text, joined by single spaces, punctuation and Chinese glued back (lossy)."""
        words = []
        for i in ids:
            if i not in self.int_to_str:
                raise KeyError(
                    f"id {i!r} is not in the vocabulary (ids 0..{self.vocab_size - 1}); "
                    "were these ids made by another tokenizer?"
                )
            words.append(self.int_to_str[i])
        text = " ".join(words)
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
        return _SPACE_NEAR_CJK.sub("", text)

    def __repr__(self) -> str:
        return f"SimpleTokenizer(vocab_size={self.vocab_size})"
