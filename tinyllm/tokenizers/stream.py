"""Encode a text of any size in constant memory: `encode_stream` over lines or chunks.

Beyond the course (README, "Beyond the course"): the text corpus (``tinyllm.data.tokens``)
tokenises files far larger than memory with it.

Encoding a text piece by piece gives the same ids as encoding it whole only where the cut does
not change how the pre-tokenisation regex splits the text: a run of whitespace at the end of a
piece is one pre-token (``\\s++$``), while in the whole text the same run may be split in two
(``\\s+(?!\\S)`` leaves its last character to the next word). Safe places, by pattern:

- GPT-2's: just after a ``"\\n"`` or ``"\\r"`` that follows a non-space character, when one
  whitespace character at most comes before the next non-space one: ``"end.\\n|Next"``,
  ``"end.\\n|\\nNext"`` (a blank line), ``"end.\\r|\\nNext"``. Both sides then split into
  the same pre-tokens as the whole text does. Not when that one whitespace character comes
  before an allowed special token (``"end.\\n|\\n<|endoftext|>"``): the whole text is encoded
  in pieces between special tokens, so there the run ``"\\n\\n"`` ends a piece and stays whole.
- GPT-4's: just after a ``"\\n"`` followed by a non-space character (its ``\\s*[\\r\\n]``
  keeps a newline run whole, and nothing reaches back over a newline).
- any other pattern: nowhere; the text is encoded whole (correct, but not in constant memory).

tests/test_text_corpus.py checks the equality on random texts cut at random places, with
vocabularies that have whitespace-run tokens (cutting at every newline fails it).

Text is collected until ``chunk_chars`` characters are waiting, then everything up to the last
safe place is encoded with tiktoken's Rust encoder on our ranks (the same ids as
``BPETokenizer.encode``, far faster); the rest waits for more text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator

import regex

from tinyllm.tokenizers.bpe import BPETokenizer
from tinyllm.tokenizers.bpe_train import GPT4_PATTERN
from tinyllm.tokenizers.pretrained import GPT2_PATTERN

_NON_SPACE = regex.compile(r"\S")


def _gpt2_cut(text: str, i: int, specials: tuple[str, ...]) -> bool:
    """May ``text`` be cut after ``text[i]`` (a line-ending character) under GPT-2's pattern,
    ``specials`` being the allowed special tokens?"""
    if not _NON_SPACE.match(text, i - 1):
        return False
    if _NON_SPACE.match(text, i + 1):
        return True
    return bool(_NON_SPACE.match(text, i + 2)) and not _special_at(text, i + 2, specials)


def _special_at(text: str, i: int, specials: tuple[str, ...]) -> bool:
    """Does one of ``specials`` start at ``text[i]``, or may it (the text ending before it does)?"""
    return any(special.startswith(text[i:i + len(special)]) for special in specials)


def _gpt4_cut(text: str, i: int, specials: tuple[str, ...]) -> bool:
    return text[i] == "\n" and bool(_NON_SPACE.match(text, i + 1))


#: Pattern -> (the line-ending characters a cut follows, the test of one place).
CUT_RULES: dict[str, tuple[str, Callable[[str, int, tuple[str, ...]], bool]]] = {
    GPT2_PATTERN: ("\r\n", _gpt2_cut),
    GPT4_PATTERN: ("\n", _gpt4_cut),
}


def last_safe_cut(text: str, pattern: str, lo: int = 0, specials: Collection[str] = ()) -> int:
    """The last position ``> lo`` where ``text`` may be cut for ``pattern``, ``specials`` being
    the special tokens encoded as such; 0 if none."""
    if pattern not in CUT_RULES:
        return 0
    endings, safe = CUT_RULES[pattern]
    specials = tuple(specials)
    # A place is judged by up to two characters after it: leave those to the next call.
    i = len(text) - 3
    while i > lo:
        i = max(text.rfind(end, lo + 1, i + 1) for end in endings)
        if i <= lo:
            return 0
        if safe(text, i, specials):
            return i + 1
        i -= 1
    return 0


def encode_stream(tokenizer: BPETokenizer, chunks: Iterable[str], *,
                  allowed_special: Collection[str] = frozenset(),
                  chunk_chars: int = 1 << 20) -> Iterator[list[int]]:
    """Yield the ids of ``"".join(chunks)`` piece by piece, in constant memory.

    Args:
        chunks: the text in order, e.g. an open file (its lines) or a list of strings; they
            are joined as they are (keep the newlines).
        allowed_special: special tokens that become their id where they appear; others are
            text. (The chunks are joined before they are cut, so they may cut anywhere.)
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
    threshold = chunk_chars
    for chunk in chunks:
        waiting.append(chunk)
        size += len(chunk)
        if size < threshold:
            continue
        text = "".join(waiting)
        # A place is judged by its neighbours: look a few characters before the checked part.
        cut = last_safe_cut(text, tokenizer.pattern, max(0, checked - 3), allowed)
        if cut == 0:  # no safe place yet: wait for twice as much (joining is then linear overall)
            waiting, size, checked, threshold = [text], len(text), len(text), 2 * len(text)
            continue
        yield encode(text[:cut])
        waiting, size, checked, threshold = [text[cut:]], len(text) - cut, 0, chunk_chars
    text = "".join(waiting)
    if text:
        yield encode(text)
