"""The file a `BPETokenizer` is saved in: one UTF-8 JSON document, written atomically.

Taught in notebook 01 (tokenizer).

Format::

    {"format": "tinyllm-bpe", "version": 1, "name": "...", "pattern": "<regex>",
     "special_tokens": {"<|endoftext|>": 256},
     "mergeable_ranks": [[0, "AA=="], [1, "AQ=="], ..., [257, "IHQ="], ...]}

``mergeable_ranks`` lists ``[id, base64(token bytes)]`` in id order (base64 because tokens are
bytes, not always valid text).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

SAVE_FORMAT = "tinyllm-bpe"
SAVE_VERSION = 1


def save_ranks(path: str | os.PathLike, mergeable_ranks: dict[bytes, int],
               special_tokens: dict[str, int], pattern: str, name: str) -> Path:
    """Write a tokenizer's ranks, special tokens, pattern and name to ``path``."""
    path = Path(path)
    state = {
        "format": SAVE_FORMAT,
        "version": SAVE_VERSION,
        "name": name,
        "pattern": pattern,
        "special_tokens": special_tokens,
        "mergeable_ranks": sorted([i, base64.b64encode(b).decode("ascii")] for b, i in mergeable_ranks.items()),
    }
    # A temporary file, then a rename: an interrupted save never leaves half a tokenizer.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_ranks(path: str | os.PathLike) -> tuple[dict[bytes, int], dict[str, int], str, str]:
    """``(mergeable_ranks, special_tokens, pattern, name)`` from a file written by `save_ranks`."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a tinyllm BPE tokenizer file (not JSON): {e}") from e
    if not isinstance(state, dict) or state.get("format") != SAVE_FORMAT:
        raise ValueError(
            f"{path} is not a tinyllm BPE tokenizer file (no 'format': {SAVE_FORMAT!r}); "
            "for a .tiktoken ranks file use BPETokenizer.from_tiktoken_file"
        )
    if state.get("version") != SAVE_VERSION:
        raise ValueError(f"{path} has format version {state.get('version')}; expected {SAVE_VERSION}")
    ranks = {base64.b64decode(b64): int(i) for i, b64 in state["mergeable_ranks"]}
    return ranks, state["special_tokens"], state["pattern"], state.get("name", "tinyllm-bpe")
