"""`BPETokenizer`: encode and decode with byte-level BPE ranks, the way tiktoken does.

A tokenizer is three things, exactly as in ``tiktoken.Encoding``:

- ``mergeable_ranks``: token bytes -> id. The id doubles as the merge priority ("rank"):
  a lower id was learned earlier and merges first. It must contain all 256 single bytes,
  so that *any* string can be encoded (there is no unknown token in byte-level BPE).
- ``special_tokens``: special string -> id (e.g. ``{"<|endoftext|>": 256}``), never split.
- ``pattern``: the pre-tokenisation regex (`GPT2_PATTERN` or `GPT4_PATTERN`).

Encoding a pre-token: start from its single bytes and repeatedly merge the adjacent pair whose
concatenation has the lowest rank (the leftmost one on a tie), until no adjacent pair is a
token. This is tiktoken's rule, so ``BPETokenizer.from_tiktoken(enc)`` gives ``enc``'s ids, and
``to_tiktoken()`` hands our ranks to tiktoken's fast Rust encoder with the same ids.

Decoding joins the token bytes and decodes UTF-8: ``decode(encode(s)) == s`` for every string,
but a *partial* id sequence may end in the middle of a multi-byte character (Chinese characters
are 3 bytes and BPE may split them; a generation cut short does this). As in tiktoken, such
bytes become ``"\ufffd"`` by default; ``errors="strict"`` raises instead and says why, and
`decode_bytes` gives the raw bytes.

The file ``save`` writes and ``load`` reads is described in ``tinyllm.tokenizers.bpe_file``.

Taught in notebook 01 (tokenizer).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Literal

import regex
import tiktoken

from tinyllm.tokenizers.bpe_file import load_ranks, save_ranks
from tinyllm.tokenizers.bpe_train import special_splitter, train_bpe
from tinyllm.tokenizers.pretrained import ENDOFTEXT, GPT2_PATTERN, read_tiktoken_ranks

_NO_RANK = float("inf")


class BPETokenizer:
    """Byte-level BPE encoder/decoder with tiktoken's rules and interface.

    Args:
        mergeable_ranks: token bytes -> id (= merge rank); must contain all 256 single bytes.
        special_tokens: special string -> id; ids must not clash with ``mergeable_ranks``.
        pattern: pre-tokenisation regex.
        name: a label, passed on to `to_tiktoken`.
    """

    def __init__(
        self,
        mergeable_ranks: dict[bytes, int],
        special_tokens: dict[str, int] | None = None,
        pattern: str = GPT2_PATTERN,
        name: str = "tinyllm-bpe",
    ):
        special_tokens = dict(special_tokens or {})
        missing = [b for b in range(256) if bytes([b]) not in mergeable_ranks]
        if missing:
            raise ValueError(
                f"mergeable_ranks lacks {len(missing)} single-byte tokens (e.g. byte {missing[0]}); "
                "a byte-level BPE needs all 256 bytes so that any text can be encoded. "
                "Build the ranks with train_bpe, which starts from all 256 bytes."
            )
        self._decoder = {i: b for b, i in mergeable_ranks.items()}
        if len(self._decoder) != len(mergeable_ranks):
            raise ValueError("mergeable_ranks gives the same id to two tokens; ids must be unique")
        clash = [s for s, i in special_tokens.items() if i in self._decoder]
        if clash or len(set(special_tokens.values())) != len(special_tokens):
            raise ValueError(
                f"special token ids must be unique and unused by mergeable_ranks; clash: {clash}"
            )
        self._ranks = dict(mergeable_ranks)
        self._special = special_tokens
        self._special_decoder = {i: s.encode("utf-8") for s, i in special_tokens.items()}
        self.pattern = pattern
        self.name = name
        self._split = regex.compile(pattern)
        self._cache: dict[bytes, list[int]] = {}  # pre-token -> ids; text repeats pre-tokens a lot

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def from_vocab(
        cls,
        vocab: dict[int, bytes],
        special_tokens: Sequence[str] = (),
        pattern: str = GPT2_PATTERN,
    ) -> BPETokenizer:
        """From `train_bpe`'s ``vocab`` (id -> bytes, special tokens included by their text)."""
        special_ids = {}
        for token in special_tokens:
            ids = [i for i, b in vocab.items() if b == token.encode("utf-8")]
            if not ids:
                raise ValueError(f"special token {token!r} is not in vocab; train with it")
            special_ids[token] = ids[0]
        ranks = {b: i for i, b in vocab.items() if i not in special_ids.values()}
        if len(ranks) != len(vocab) - len(special_ids):
            raise ValueError("vocab holds the same bytes under two ids; each token must be unique")
        return cls(ranks, special_ids, pattern)

    @classmethod
    def train(
        cls,
        texts: str | Iterable[str],
        vocab_size: int,
        special_tokens: Sequence[str] = (ENDOFTEXT,),
        pattern: str = GPT2_PATTERN,
    ) -> BPETokenizer:
        """Train with `train_bpe` and wrap the result."""
        vocab, _ = train_bpe(texts, vocab_size, special_tokens, pattern)
        return cls.from_vocab(vocab, special_tokens, pattern)

    @classmethod
    def from_tiktoken(cls, encoding: tiktoken.Encoding) -> BPETokenizer:
        """The same ranks, special tokens and pattern as a ``tiktoken.Encoding`` (e.g. GPT-2's)."""
        return cls(
            dict(encoding._mergeable_ranks),
            dict(encoding._special_tokens),
            encoding._pat_str,
            encoding.name,
        )

    @classmethod
    def from_tiktoken_file(
        cls,
        path: str | os.PathLike,
        special_tokens: dict[str, int] | None = None,
        pattern: str = GPT2_PATTERN,
    ) -> BPETokenizer:
        """From a ``.tiktoken`` ranks file (``base64(token) rank`` per line), e.g. GPT-2's.

        >>> from tinyllm import data_file
        >>> tok = BPETokenizer.from_tiktoken_file(data_file("gpt2.tiktoken"), {ENDOFTEXT: 50256})
        >>> tok.encode("Hello, world")
        [15496, 11, 995]
        """
        return cls(read_tiktoken_ranks(path), special_tokens, pattern, Path(path).stem)

    def with_special_tokens(self, tokens: Iterable[str]) -> BPETokenizer:
        """A copy with ``tokens`` as new special ids after the largest id (tokens it already has
        keep theirs). The ranks are untouched, so ordinary text encodes to the same ids."""
        new = [t for t in dict.fromkeys(tokens) if t not in self._special]
        start = max(*self._decoder, *self._special_decoder) + 1
        special = self._special | {token: start + i for i, token in enumerate(new)}
        return BPETokenizer(self._ranks, special, self.pattern, self.name)

    def to_tiktoken(self, name: str | None = None) -> tiktoken.Encoding:
        """A ``tiktoken.Encoding`` with the same ids: tiktoken's fast encoder on our ranks."""
        return tiktoken.Encoding(
            name or self.name,
            pat_str=self.pattern,
            mergeable_ranks=dict(self._ranks),
            special_tokens=dict(self._special),
        )

    # ----- vocabulary ---------------------------------------------------------------------
    @property
    def n_vocab(self) -> int:
        """Number of ids (ordinary + special); with gap-free ids, the largest id + 1."""
        return len(self._ranks) + len(self._special)

    @property
    def special_tokens(self) -> dict[str, int]:
        return dict(self._special)

    @property
    def special_tokens_set(self) -> set[str]:
        return set(self._special)

    @property
    def eot_token(self) -> int:
        """The id of ``<|endoftext|>``, the separator between documents."""
        if ENDOFTEXT not in self._special:
            raise ValueError(
                f"this tokenizer has no {ENDOFTEXT}; train with special_tokens=[{ENDOFTEXT!r}]"
            )
        return self._special[ENDOFTEXT]

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes of one id (ordinary or special)."""
        if token_id in self._decoder:
            return self._decoder[token_id]
        if token_id in self._special_decoder:
            return self._special_decoder[token_id]
        raise ValueError(
            f"token id {token_id!r} is not in this tokenizer's vocabulary ({self.n_vocab} ids); "
            "were these ids made by a different tokenizer?"
        )

    # ----- encoding -----------------------------------------------------------------------
    def encode_piece(self, piece: bytes) -> list[int]:
        """BPE one pre-token: merge the lowest-ranked adjacent pair until none is a token."""
        if piece in self._ranks:
            return [self._ranks[piece]]
        ranks = self._ranks
        parts = [piece[i : i + 1] for i in range(len(piece))]
        # pair_ranks[i] = rank of parts[i] + parts[i + 1]; only the neighbours change after a merge
        pair_ranks = [ranks.get(a + b, _NO_RANK) for a, b in pairwise(parts)]
        while pair_ranks:
            best = min(pair_ranks)
            if best == _NO_RANK:
                break
            i = pair_ranks.index(best)  # leftmost on a tie, like tiktoken
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
            del pair_ranks[i]
            if i > 0:
                pair_ranks[i - 1] = ranks.get(parts[i - 1] + parts[i], _NO_RANK)
            if i < len(pair_ranks):
                pair_ranks[i] = ranks.get(parts[i] + parts[i + 1], _NO_RANK)
        return [ranks[p] for p in parts]

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode treating special-token text as ordinary text."""
        ids: list[int] = []
        for piece in self._split.findall(text):
            piece_bytes = piece.encode("utf-8")
            cached = self._cache.get(piece_bytes)
            if cached is None:
                cached = self._cache[piece_bytes] = self.encode_piece(piece_bytes)
            ids.extend(cached)
        return ids

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | Collection[str] = frozenset(),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Encode text to ids, with tiktoken's special-token rules.

        ``allowed_special`` tokens found in the text become their special id. A
        ``disallowed_special`` token in the text raises ``ValueError`` (by default all special
        tokens that are not allowed: text from users should not smuggle in a document end).
        Special tokens in neither set are encoded as ordinary text.
        """
        allowed = self.special_tokens_set if allowed_special == "all" else set(allowed_special)
        unknown = allowed - self.special_tokens_set
        if unknown:
            raise ValueError(
                f"allowed_special has {sorted(unknown)}, which are not special tokens of this "
                f"tokenizer; its special tokens are {sorted(self._special)}"
            )
        if disallowed_special == "all":
            disallowed = self.special_tokens_set - allowed
        else:
            disallowed = set(disallowed_special)
        if disallowed:
            found = special_splitter(disallowed).search(text)
            if found:
                token = found.group()
                raise ValueError(
                    f"the text contains the special token {token!r} at character {found.start()}. "
                    f"To encode it as the special id, pass allowed_special={{{token!r}}} "
                    f"(or 'all'); to encode it as ordinary text, pass disallowed_special=()."
                )
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        start = 0
        for match in special_splitter(allowed).finditer(text):
            ids.extend(self.encode_ordinary(text[start : match.start()]))
            ids.append(self._special[match.group()])
            start = match.end()
        ids.extend(self.encode_ordinary(text[start:]))
        return ids

    def encode_batch(self, texts: Iterable[str], **special) -> list[list[int]]:
        """`encode` each text (same keyword arguments)."""
        return [self.encode(text, **special) for text in texts]

    def encode_ordinary_batch(self, texts: Iterable[str]) -> list[list[int]]:
        """`encode_ordinary` each text."""
        return [self.encode_ordinary(text) for text in texts]

    # ----- decoding -----------------------------------------------------------------------
    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The raw bytes of a sequence of ids (always works, even mid-character)."""
        return b"".join(self.token_bytes(int(i)) for i in ids)

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Ids -> text; bytes that are not valid UTF-8 become ``"\\ufffd"``, as in tiktoken.

        That happens only for a partial sequence cut inside a multi-byte character; pass
        ``errors="strict"`` to raise a ``ValueError`` instead.
        """
        data = self.decode_bytes(ids)
        try:
            return data.decode("utf-8", errors=errors)
        except UnicodeDecodeError as e:
            raise ValueError(
                f"these ids decode to bytes that are not valid UTF-8 ({e.reason} at byte {e.start}): "
                "the sequence starts or ends inside a multi-byte character. Leave errors='replace' "
                "(the default) to decode a partial sequence, or use decode_bytes() for the raw bytes."
            ) from e

    # ----- save / load (the file format is in bpe_file.py) -----------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the tokenizer as a JSON file, atomically."""
        return save_ranks(path, self._ranks, self._special, self.pattern, self.name)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPETokenizer:
        """Read a file written by `save`."""
        return cls(*load_ranks(path))

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(name={self.name!r}, n_vocab={self.n_vocab}, "
            f"special_tokens={sorted(self._special)})"
        )
