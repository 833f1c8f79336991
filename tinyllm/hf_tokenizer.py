"""A `BPETokenizer` as Hugging Face ``tokenizer.json``: the file ``AutoTokenizer`` loads.

Beyond the course (README, "Beyond the course"): `tinyllm.hf` writes this file next to an
exported model. Only ``json`` is needed here; the ``tokenizers`` library reads the result.

Our tokenizer is tiktoken-style: ranks (token bytes -> id) and a pre-tokenisation regex. Hugging
Face's byte-level BPE (GPT-2, Llama 3) is the same algorithm written differently:

- bytes are shown as printable characters (GPT-2's `bytes_to_unicode`: ``" "`` is ``"Ġ"``), so
  the vocabulary is ``{printable string: id}``;
- instead of "merge the adjacent pair whose concatenation has the lowest rank" it lists
  ``merges``: for each multi-byte token, the two tokens it was made from, in rank order.
  `merge_pair` recovers them by running BPE on the token's bytes with only the lower ranks
  (what the token looked like just before its own merge), as transformers' tiktoken converter does;
- ``ignore_merges``: a pre-token that is one whole token is taken as is (tiktoken does too).
"""

from __future__ import annotations

from typing import Any

from tinyllm.tokenizers import BPETokenizer


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from each byte to a printable character (printable bytes map to themselves)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:  # whitespace and control bytes get characters from 256 upwards
            table[b] = chr(256 + extra)
            extra += 1
    return table


def merge_pair(ranks: dict[bytes, int], token: bytes) -> tuple[bytes, bytes]:
    """The two tokens ``token`` was merged from: BPE on its bytes using only lower ranks."""
    limit = ranks[token]
    parts = [token[i : i + 1] for i in range(len(token))]
    while True:
        candidates = [(ranks[a + b], i) for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))
                      if ranks.get(a + b, limit) < limit]
        if not candidates:
            break
        _, i = min(candidates)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    if len(parts) != 2:
        raise ValueError(f"token {token!r} (id {limit}) cannot be reached by one merge of lower-ranked "
                         "tokens; only ranks learned by byte-level BPE (train_bpe, tiktoken) convert")
    return parts[0], parts[1]


def hf_tokenizer_json(tokenizer: BPETokenizer) -> dict[str, Any]:
    """The ``tokenizer.json`` document for ``tokenizer`` (ids, pattern and special tokens equal)."""
    ranks = tokenizer._ranks
    table = bytes_to_unicode()

    def show(token: bytes) -> str:
        return "".join(table[b] for b in token)

    merges = [[show(a), show(b)] for a, b in
              (merge_pair(ranks, t) for t in sorted((t for t in ranks if len(t) > 1), key=ranks.get))]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for s, i in sorted(tokenizer.special_tokens.items(), key=lambda item: item[1])
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            # Our regex cuts the text into pre-tokens; ByteLevel only maps their bytes.
            {"type": "Split", "pattern": {"Regex": tokenizer.pattern}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                    "use_regex": False},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": True,
            # Special tokens are in the vocabulary too (as in GPT-2's file): the library numbers
            # the vocabulary densely, and a hole at <|endoftext|>'s id would shift ids.
            "vocab": dict(sorted({**{show(t): i for t, i in ranks.items()},
                                  **tokenizer.special_tokens}.items(), key=lambda item: item[1])),
            "merges": merges,
        },
    }
