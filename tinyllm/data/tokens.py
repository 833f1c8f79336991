"""Your own text, at any size: tokens written once to a memory-mapped file, read at random offsets.

Beyond the course (README, "Beyond the course")::

    python -m tinyllm train --recipe base --set data.corpus=text --set data.path='books/*.txt'

`text_files` resolves ``data.path`` (a file or a glob) and checks each file; `token_file`
encodes them once with `encode_stream` (constant memory) into ``NAME.bin``, a flat array of
``uint16`` ids (``uint32`` when an id is 65,536 or more), with ``NAME.json``
beside it (dtype, token count, files, tokenizer). NAME is a hash of the files' bytes and of the
tokenizer, so a second run reuses the file, and a changed file or tokenizer makes a new one.
Files are joined with ``<|endoftext|>`` between them (and that token in the text, as in
TinyStories' .txt files, is the separator too).

The ``.bin`` file has the format of notebook 02's `tinyllm.data.token_file` (raw ids, no
header), written in pieces instead of at once; `TokenWindows` reads training windows from it at
random offsets through `open_token_file`, one small read per window, so a corpus far larger than
memory trains in constant memory. The last ``val_share``
of the tokens is held out for validation.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from tinyllm.data.corpora import cache_dir
from tinyllm.data.token_file import open_token_file
from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer
from tinyllm.tokenizers.stream import encode_stream

#: Part of every cache name: a new version (v2: streamed cuts keep clear of special tokens) makes
#: files that an older encoder wrote unused.
FORMAT = "tinyllm-tokens-v2"


class TextCorpusError(ValueError):
    """A text corpus that cannot be read: no such file, an empty file, not UTF-8 text."""


def text_files(path: str) -> list[Path]:
    """The files ``path`` names (a file, or a glob such as ``books/*.txt``), sorted, each checked."""
    if not path:
        raise TextCorpusError("data.corpus=text needs data.path: a text file or a glob, "
                              "e.g. --set data.path='books/*.txt'")
    path = os.path.expanduser(path)
    # A file named as it is comes first: "story[1].txt" is a file, not a glob for "story1.txt".
    matches = [Path(path)] if Path(path).is_file() else sorted(Path(p) for p in glob.glob(path, recursive=True))
    files = [p for p in matches if p.is_file()]
    if not files:
        what = "only folders" if matches else "nothing"
        raise TextCorpusError(f"data.path={path!r} matches {what}; give a text file or a glob of "
                              "files, e.g. 'books/*.txt' (quote it so the shell leaves it alone)")
    for file in files:
        if file.stat().st_size == 0:
            raise TextCorpusError(f"{file} is empty; remove it from data.path or put text in it")
    return files


def _lines(file: Path, progress: tqdm | None) -> Iterator[str]:
    """The file's lines (newlines kept as they are), or an error that names the bad byte."""
    unreported = 0
    with open(file, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                offset = f.tell() - len(raw) + error.start
                raise TextCorpusError(
                    f"{file} is not UTF-8 text: byte {raw[error.start]:#04x} on line {number} "
                    f"(byte offset {offset}) is invalid; convert the file, e.g. "
                    f"`iconv -f latin1 -t utf-8 {file.name} > {file.stem}.utf8.txt`") from None
            unreported += len(raw)
            if progress is not None and unreported >= 1 << 20:  # a bar update per MB, not per line
                progress.update(unreported)
                unreported = 0
            yield line
    if progress is not None:
        progress.update(unreported)


def tokenizer_hash(tokenizer: BPETokenizer) -> str:
    """A fingerprint of the tokenizer: its ranks, special tokens and pattern."""
    state = json.dumps([sorted((i, b.hex()) for b, i in tokenizer._ranks.items()),
                        sorted(tokenizer.special_tokens.items()), tokenizer.pattern])
    return hashlib.sha256(state.encode()).hexdigest()


def corpus_key(files: list[Path], tokenizer: BPETokenizer) -> str:
    """The cache name of ``files`` encoded with ``tokenizer``: sha256 of `FORMAT`, of it and of
    their bytes."""
    digest = hashlib.sha256((FORMAT + tokenizer_hash(tokenizer)).encode())
    for file in files:
        file_digest = hashlib.sha256()
        with open(file, "rb") as f:
            while block := f.read(1 << 20):
                file_digest.update(block)
        digest.update(file_digest.digest())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class TokenFile:
    """A flat file of token ids and what its ``.json`` says about it."""

    path: Path
    dtype: str
    n_tokens: int
    n_bytes: int  # UTF-8 bytes of all the files (`text_bytes` counts a range of ids)

    def read(self, start: int, count: int) -> np.ndarray:
        """Ids ``start .. start + count - 1``, read from disk (the map is dropped again: a
        `TokenWindows` sent to DataLoader workers carries a path, not an open file)."""
        return np.array(open_token_file(self.path, self.dtype)[start : start + count])


def token_file(files: list[Path], tokenizer: BPETokenizer, folder: Path | None = None, *,
               progress: bool = True) -> TokenFile:
    """Encode ``files`` once into a token file under ``folder`` (default: the tinyllm cache), or
    reuse the one an earlier run wrote for the same bytes and tokenizer."""
    folder = Path(folder) if folder is not None else cache_dir() / "tokens"
    key = corpus_key(files, tokenizer)
    binary, meta = folder / f"{key}.bin", folder / f"{key}.json"
    if meta.is_file() and binary.is_file():
        info = json.loads(meta.read_text(encoding="utf-8"))
        return TokenFile(binary, info["dtype"], info["n_tokens"], info["n_bytes"])
    folder.mkdir(parents=True, exist_ok=True)
    largest = max(*tokenizer._ranks.values(), *tokenizer.special_tokens.values())
    dtype = "uint16" if largest < 1 << 16 else "uint32"  # 2 bytes a token while the ids fit
    special = {ENDOFTEXT} & tokenizer.special_tokens_set
    total = sum(f.stat().st_size for f in files)
    bar = tqdm(total=total, unit="B", unit_scale=True, desc="tokenising", disable=not progress)
    temporary = folder / f".{key}.{os.getpid()}.tmp"
    n_tokens = 0
    try:
        with open(temporary, "wb") as out:
            for index, file in enumerate(files):
                if index and special:
                    np.array([tokenizer.eot_token], dtype=dtype).tofile(out)  # between files
                    n_tokens += 1
                for ids in encode_stream(tokenizer, _lines(file, bar), allowed_special=special):
                    np.asarray(ids, dtype=dtype).tofile(out)
                    n_tokens += len(ids)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, binary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        bar.close()
    if n_tokens == 0:
        raise TextCorpusError(f"{', '.join(map(str, files))} holds no text")
    info = {"format": FORMAT, "dtype": dtype, "n_tokens": n_tokens, "n_bytes": total,
            "files": [str(f) for f in files], "tokenizer": tokenizer_hash(tokenizer)}
    meta.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")  # last: marks it complete
    return TokenFile(binary, dtype, n_tokens, total)


class TokenWindows(Dataset):
    """``(x, y)`` windows of ``seq_len`` tokens from ids ``start .. end - 1`` of a `TokenFile`.

    Window ``i`` starts at ``start + i * seq_len + shift``: with ``random_offsets`` the shift is
    drawn from ``[0, seq_len)`` by a generator seeded with ``(seed, i)``, so each window is a
    pure function of its index (what resuming and DDP rely on) yet the cut points differ from
    window to window; without, windows touch (validation: every token scored once).
    ``x`` and ``y`` are ``(seq_len,)`` int64, ``y`` is ``x`` shifted by one.
    """

    def __init__(self, tokens: TokenFile, start: int, end: int, seq_len: int, *,
                 random_offsets: bool = False, seed: int = 0) -> None:
        span = end - start - 1 - (seq_len if random_offsets else 0)  # room for y and the shift
        if span < seq_len:
            raise TextCorpusError(f"{end - start} tokens are too few for one window of seq_len={seq_len}"
                                  f"{' at a random offset' if random_offsets else ''}; give more text "
                                  "or lower data.seq_len (or data.val_share)")
        self.tokens, self.start, self.seq_len = tokens, start, seq_len
        self.random_offsets, self.seed = random_offsets, seed
        self.n_windows = span // seq_len

    def __len__(self) -> int:
        return self.n_windows

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self.n_windows:
            raise IndexError(f"window {index} of {self.n_windows}")
        shift = int(np.random.default_rng([self.seed, index]).integers(self.seq_len)) if self.random_offsets else 0
        ids = torch.from_numpy(self.tokens.read(self.start + index * self.seq_len + shift, self.seq_len + 1)
                               .astype(np.int64))
        return ids[:-1], ids[1:]


def text_bytes(tokens: TokenFile, tokenizer: BPETokenizer, start: int, end: int,
               chunk: int = 1 << 20) -> int:
    """UTF-8 bytes of the text that ids ``start .. end - 1`` decode to, read ``chunk`` ids at a
    time; special tokens (the ``<|endoftext|>`` between files) count no bytes, as in the
    TinyTales validation split (`tinyllm.data.prepare`)."""
    # Each id's byte length, looked up for a whole chunk at once instead of decoding it.
    lengths = np.zeros(max(*tokenizer._ranks.values(), *tokenizer.special_tokens.values()) + 1, dtype=np.int64)
    for piece, rank in tokenizer._ranks.items():
        lengths[rank] = len(piece)
    return sum(int(lengths[tokens.read(s, min(chunk, end - s))].sum()) for s in range(start, end, chunk))


def split_windows(tokens: TokenFile, seq_len: int, val_share: float, seed: int = 0) -> tuple[TokenWindows, TokenWindows]:
    """Training windows (random offsets) over the first ``1 - val_share`` of the tokens, and
    validation windows (touching) over the rest."""
    boundary = tokens.n_tokens - max(seq_len + 1, int(tokens.n_tokens * val_share))
    return (TokenWindows(tokens, 0, boundary, seq_len, random_offsets=True, seed=seed),
            TokenWindows(tokens, boundary, tokens.n_tokens, seq_len))
