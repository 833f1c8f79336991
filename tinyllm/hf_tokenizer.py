"""A `BPETokenizer` as Hugging Face ``tokenizer.json``: the file ``AutoTokenizer`` loads.

Beyond the course (README, "Beyond the course"): `tinyllm.hf` writes this file next to an
exported model. Only ``json`` is needed here; the ``tokenizers`` library reads the result.
`tokenizer_from_hf_json` reads such a file back, and any other byte-level BPE file (GPT-2's,
Llama 3's) whose merges follow tiktoken's rule, into a `BPETokenizer`.

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

from tinyllm.tokenizers import GPT2_PATTERN, BPETokenizer


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


class HFTokenizerError(ValueError):
    """A ``tokenizer.json`` that is not a byte-level BPE `BPETokenizer` can reproduce."""


def _pattern(pre_tokenizer: dict | None) -> str:
    """The pre-tokenisation regex of a byte-level ``pre_tokenizer`` (GPT-2's when ByteLevel splits)."""
    steps = (pre_tokenizer or {}).get("pretokenizers", [pre_tokenizer]) if pre_tokenizer else []
    splits = [s for s in steps if s.get("type") == "Split"]
    levels = [s for s in steps if s.get("type") == "ByteLevel"]
    if len(levels) != 1 or len(steps) != len(splits) + 1 or levels[0].get("add_prefix_space"):
        raise HFTokenizerError(f"pre_tokenizer {pre_tokenizer!r}: only ByteLevel (add_prefix_space "
                               "false), alone or after one regex Split, is a tiktoken-style BPE")
    if splits:
        if len(splits) > 1 or levels[0].get("use_regex") or "Regex" not in splits[0].get("pattern", {}):
            raise HFTokenizerError("pre_tokenizer: one Split by a Regex, then ByteLevel without its own regex")
        split = splits[0]
        if split.get("behavior") != "Isolated" or split.get("invert"):  # else matches are dropped or merged
            raise HFTokenizerError(f"pre_tokenizer Split with behavior {split.get('behavior')!r}, invert "
                                   f"{split.get('invert')!r}: only 'Isolated' (each regex match one "
                                   "pre-token, as tiktoken), not inverted, cuts the text as a BPETokenizer")
        return split["pattern"]["Regex"]
    if levels[0].get("use_regex", True):
        return GPT2_PATTERN  # ByteLevel's built-in split is GPT-2's regex
    raise HFTokenizerError("pre_tokenizer: ByteLevel with use_regex false and no Split never cuts the text")


def _check_post_processor(processor: dict | None) -> None:
    """Refuse a post-processor that adds tokens (ByteLevel's only adjusts offsets)."""
    steps = processor.get("processors", [processor]) if processor else []
    adding = [s.get("type") for s in steps if s.get("type") != "ByteLevel"]
    if adding:
        raise HFTokenizerError(f"post_processor {adding[0]} adds tokens around every text (e.g. a "
                               "beginning-of-text token), which a BPETokenizer's encode does not; "
                               'set "post_processor" to null in tokenizer.json to read the rest (its '
                               "ids then equal AutoTokenizer's with add_special_tokens=False)")


def tokenizer_from_hf_json(document: dict[str, Any]) -> BPETokenizer:
    """A `BPETokenizer` from a ``tokenizer.json`` document: the same ids on any text.

    Reads byte-level BPE files (ours, GPT-2's; Llama 3's without its ``post_processor``, see
    below); ``added_tokens`` marked special become special tokens.

    Raises:
        HFTokenizerError: another kind of tokenizer (SentencePiece, WordPiece, a normalizer),
            added tokens that are not special (Hugging Face matches them whole, a BPETokenizer
            would split them), a ``post_processor`` that adds tokens around every text (Llama
            3's ``<|begin_of_text|>``), or merges that tiktoken's rule (merge the adjacent pair
            with the lowest-ranked result) would apply in another order, so that the ids could
            differ.
    """
    model = document.get("model") or {}
    if model.get("type") != "BPE" or model.get("byte_fallback") or document.get("normalizer"):
        raise HFTokenizerError(f"model type {model.get('type')!r} (byte_fallback "
                               f"{model.get('byte_fallback')}, normalizer {document.get('normalizer')!r}): "
                               "only byte-level BPE without a normalizer reads into a BPETokenizer")
    pattern = _pattern(document.get("pre_tokenizer"))
    _check_post_processor(document.get("post_processor"))
    added = document.get("added_tokens", [])
    plain = [t["content"] for t in added if not t.get("special")]
    if plain:
        raise HFTokenizerError(f"added tokens {plain[:5]} are not special: Hugging Face matches them as "
                               "whole tokens anywhere, a BPETokenizer would split them; mark them "
                               '"special": true in tokenizer.json if that is what they are')
    special = {t["content"]: t["id"] for t in added}
    shown = {c: b for b, c in bytes_to_unicode().items()}
    try:
        ranks = {bytes(shown[c] for c in text): i for text, i in model["vocab"].items()
                 if not (text in special and special[text] == i)}
    except KeyError as error:
        raise HFTokenizerError(f"vocabulary character {error.args[0]!r} is not one of ByteLevel's "
                               "256: not a byte-level vocabulary") from None
    tokenizer = BPETokenizer(ranks, special, pattern)
    merges = model.get("merges", [])
    if len(merges) != sum(len(token) > 1 for token in ranks):
        raise HFTokenizerError(f"{len(merges)} merges for {sum(len(t) > 1 for t in ranks)} multi-byte "
                               "tokens: each token longer than a byte must come from one merge")
    # Hugging Face applies the listed merges in list order; tiktoken merges the adjacent pair
    # whose result has the lowest id. The two agree when the ids rise along the list and each
    # token's merge is the one tiktoken's rule reaches (merge_pair).
    previous = -1
    for merge in merges:
        a, b = merge.split(" ") if isinstance(merge, str) else merge  # older files: "a b"
        a, b = (bytes(shown[c] for c in part) for part in (a, b))
        try:
            consistent = ranks.get(a + b, -1) > previous and merge_pair(ranks, a + b) == (a, b)
        except ValueError:
            consistent = False
        if not consistent:
            raise HFTokenizerError(f"merge {merge!r} is out of id order or not the one tiktoken's rule "
                                   f"makes for {(a + b)!r}, so the ids could differ from Hugging Face's")
        previous = ranks[a + b]
    return tokenizer
