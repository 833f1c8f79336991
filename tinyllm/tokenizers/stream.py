"""Encode a text of any size in constant memory: `encode_stream` over lines or chunks.

Beyond the course (README, "Beyond the course"): the text corpus (``tinyllm.data.tokens``)
tokenises files far larger than memory with it.

Encoding a text piece by piece gives the same ids as encoding it whole only if no piece boundary
changes how the pre-tokenisation regex splits the text. The boundary we cut at is a newline
between two non-space characters (``"word\\nNext"``): with GPT-2's and GPT-4's patterns every
pre-token there is either all whitespace or has none, so the lone ``"\\n"`` is a pre-token in
the whole text and at the end of a piece alike, and what follows starts a fresh pre-token. (Not
after trailing spaces: ``"  \\n"`` at the end of a piece would be one pre-token, ``"  "`` and
``"\\n"`` in the whole text.) tests/test_text_corpus.py checks the equality on random texts cut
at random places.

Text is collected until ``chunk_chars`` characters are waiting, then everything up to the last
such boundary is encoded with tiktoken's Rust encoder on our ranks (the same ids as
``BPETokenizer.encode``, far faster); the rest waits for more text. A text without any such
boundary (one enormous line) is held whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

import regex

from tinyllm.tokenizers.bpe import BPETokenizer

_NON_SPACE = regex.compile(r"\S")


def last_safe_cut(text: str, lo: int = 0) -> int:
    """The last position ``> lo`` just after a newline between two non-space characters; 0 if none."""
    newline = text.rfind("\n", lo + 1, len(text) - 1)  # a character on each side of it
    while newline > lo:
        if _NON_SPACE.match(text, newline - 1) and _NON_SPACE.match(text, newline + 1):
            return newline + 1
        newline = text.rfind("\n", lo + 1, newline)
    return 0


def encode_stream(tokenizer: BPETokenizer, chunks: Iterable[str], *,
                  allowed_special: Collection[str] = frozenset(),
                  chunk_chars: int = 1 << 20) -> Iterator[list[int]]:
    """Yield the ids of ``"".join(chunks)`` piece by piece, in constant memory.

    Args:
        chunks: the text in order, e.g. an open file (its lines) or a list of strings; they
            are joined as they are (keep the newlines).
        allowed_special: special tokens that become their id where they appear (a special
            token must not be cut across two chunks: lines never cut one); others are text.
        chunk_chars: characters collected before encoding.

    Concatenating what it yields equals ``tokenizer.encode(text, allowed_special=...,
    disallowed_special=())`` on the whole text.
    """
    encoding = tokenizer.to_tiktoken()
    allowed = set(allowed_special)

    def encode(text: str) -> list[int]:
        return encoding.encode(text, allowed_special=allowed, disallowed_special=())

    waiting: list[str] = []
    size = checked = 0  # checked: the first characters of waiting text already known to hold no cut
    for chunk in chunks:
        waiting.append(chunk)
        size += len(chunk)
        if size < chunk_chars:
            continue
        text = "".join(waiting)
        # A cut looks one character behind the newline, so look a little before the checked part.
        cut = last_safe_cut(text, max(0, checked - 2))
        if cut == 0:
            waiting, size, checked = [text], len(text), len(text)
            continue
        yield encode(text[:cut])
        waiting, size, checked = [text[cut:]], len(text) - cut, 0
    text = "".join(waiting)
    if text:
        yield encode(text)
