"""Training a byte-level BPE: the readable textbook algorithm and a fast incremental one.

Both trainers follow the same rules, so they produce *identical* merges (tested):

1. Special tokens (e.g. ``<|endoftext|>``) cut the text into chunks first; nothing is ever
   merged across them, and they never appear inside a learned token.
2. Each chunk is pre-tokenised with a split regex (GPT-2's or GPT-4's), so merges never cross
   a word/number/punctuation boundary. Pre-tokens are counted: ``" the"`` seen 5,000 times is
   stored once with the count 5,000.
3. The initial vocabulary is the 256 single bytes (ids 0-255), then the special tokens.
4. Repeat until the vocabulary is full: count adjacent token pairs (weighted by pre-token
   count), merge the most frequent pair into a new token everywhere (left to right).
   **Ties are broken by the lexicographically greatest pair of byte strings**, comparing
   ``(bytes of left, bytes of right)`` as a tuple: among ``(b" t", b"he")`` and
   ``(b" a", b"nd")`` with equal counts, ``(b" t", b"he")`` wins. A fixed rule makes
   results reproducible across implementations (it is the CS336 convention).

`train_bpe_naive` recounts every pair after each merge: O(merges x corpus). `train_bpe` counts
once and, after a merge, updates only the pre-tokens that contain the merged pair, taking the
next best pair from a heap whose stale entries are skipped when popped ("lazy invalidation").

Both return ``(vocab, merges)``: ``vocab`` maps id -> token bytes (bytes, specials, then one
id per merge in order) and ``merges`` lists the merged pairs ``(left bytes, right bytes)``.

Taught in notebook 01 (tokenizer).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

import regex

from tinyllm.tokenizers.pretrained import GPT2_PATTERN

#: GPT-4's (cl100k_base) split pattern: case-insensitive contractions, at most 3 digits per
#: number, one leading non-letter glued to a word, newlines kept apart.
GPT4_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

Pair = tuple[int, int]


def special_splitter(special_tokens: Iterable[str]) -> regex.Pattern | None:
    """A regex that matches any of ``special_tokens`` (longest first), or None if there are none.

    Longest first, so that ``<|endoftext|>`` wins over a special token that is its prefix.
    """
    specials = sorted(set(special_tokens), key=len, reverse=True)
    if not specials:
        return None
    return regex.compile("|".join(regex.escape(s) for s in specials))


def pretokenize(
    texts: str | Iterable[str], special_tokens: Sequence[str] = (), pattern: str = GPT2_PATTERN
) -> Counter[bytes]:
    """Count the pre-tokens of ``texts`` (UTF-8 bytes -> how often it occurs).

    Special tokens split the text and are dropped, so no pre-token spans one.

    >>> pretokenize("the cat<|endoftext|>the cat", ["<|endoftext|>"])
    Counter({b'the': 2, b' cat': 2})
    """
    if isinstance(texts, str):
        texts = [texts]
    splitter = special_splitter(special_tokens)
    split = regex.compile(pattern)
    counts: Counter[str] = Counter()
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}; decode bytes first")
        for chunk in splitter.split(text) if splitter else [text]:
            counts.update(split.findall(chunk))
    return Counter({piece.encode("utf-8"): n for piece, n in counts.items()})


def merge_pair(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, scanning left to right.

    >>> merge_pair([97, 97, 97], (97, 97), 256)   # "aaa": the first two merge, not the last two
    [256, 97]
    """
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def occurrences(ids: list[int], pair: Pair) -> list[int]:
    """Start positions of ``pair`` in ``ids`` that `merge_pair` merges (left to right, no overlap).

    >>> occurrences([97, 97, 97, 97], (97, 97))
    [0, 2]
    """
    first, second = pair
    starts, i, last = [], 0, len(ids) - 1
    while True:
        try:
            i = ids.index(first, i, last)  # a C-speed search for the next candidate
        except ValueError:
            return starts
        if ids[i + 1] == second:
            starts.append(i)
            i += 2
        else:
            i += 1


def initial_vocab(vocab_size: int, special_tokens: Sequence[str]) -> dict[int, bytes]:
    """The 256 single bytes, then the special tokens; checks that ``vocab_size`` leaves room."""
    if len(set(special_tokens)) != len(special_tokens):
        raise ValueError(f"special_tokens has duplicates: {list(special_tokens)}")
    vocab = {i: bytes([i]) for i in range(256)}
    for token in special_tokens:
        vocab[len(vocab)] = token.encode("utf-8")
    if vocab_size < len(vocab):
        raise ValueError(
            f"vocab_size={vocab_size} is smaller than the initial vocabulary of {len(vocab)} "
            f"(256 bytes + {len(special_tokens)} special tokens); use vocab_size >= {len(vocab)}"
        )
    return vocab


def train_bpe_naive(
    texts: str | Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str] = (),
    pattern: str = GPT2_PATTERN,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Train a byte-level BPE the textbook way: recount all pairs before every merge.

    Slow (every merge walks the whole corpus of distinct pre-tokens) but easy to check by eye;
    the test oracle for `train_bpe`. Same arguments and result as `train_bpe`.
    """
    special_tokens = list(special_tokens)
    vocab = initial_vocab(vocab_size, special_tokens)
    words = [(list(piece), n) for piece, n in pretokenize(texts, special_tokens, pattern).items()]
    merges = []
    while len(vocab) < vocab_size:
        pair_counts: Counter[Pair] = Counter()
        for ids, n in words:
            for pair in pairwise(ids):
                pair_counts[pair] += n
        if not pair_counts:
            break  # every pre-token is a single token already: nothing left to merge
        best = max(pair_counts, key=lambda p: (pair_counts[p], vocab[p[0]], vocab[p[1]]))
        new_id = len(vocab)
        vocab[new_id] = vocab[best[0]] + vocab[best[1]]
        merges.append((vocab[best[0]], vocab[best[1]]))
        words = [(merge_pair(ids, best, new_id), n) for ids, n in words]
    return vocab, merges


class _Greatest:
    """Heap key that sorts *greater* byte pairs first (``heapq`` is a min-heap)."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[bytes, bytes]):
        self.key = key

    def __lt__(self, other: _Greatest) -> bool:
        return self.key > other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Greatest) and self.key == other.key


def train_bpe(
    texts: str | Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str] = (),
    pattern: str = GPT2_PATTERN,
) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """Train a byte-level BPE; the same merges as `train_bpe_naive`, much faster.

    Args:
        texts: one string or an iterable of strings (documents).
        vocab_size: final vocabulary size: 256 bytes + special tokens + number of merges.
            Training stops early if no pair is left to merge.
        special_tokens: strings kept whole, never merged across (e.g. ``["<|endoftext|>"]``);
            they get ids 256, 257, ...
        pattern: the pre-tokenisation regex, `GPT2_PATTERN` or `GPT4_PATTERN`.

    Returns:
        ``(vocab, merges)``: ``vocab[id] -> bytes`` and the merged pairs in order; merge ``k``
        created id ``256 + len(special_tokens) + k``.
    """
    special_tokens = list(special_tokens)
    vocab = initial_vocab(vocab_size, special_tokens)
    # Work on distinct pre-tokens, each with its count: " the" seen 5,000 times is merged once
    # and weighs 5,000 in every pair count. A word starts as its bytes (ids 0-255).
    counted = pretokenize(texts, special_tokens, pattern)
    words = [list(piece) for piece in counted]
    word_counts = list(counted.values())

    # pair -> weighted count, and pair -> the words that contain (or once contained) it, so
    # that a merge visits only those words. Entries are never removed: a word that lost the
    # pair is skipped when visited, which is cheaper than keeping the index exact.
    pair_counts: dict[Pair, int] = defaultdict(int)
    words_with: dict[Pair, set[int]] = defaultdict(set)
    for w, ids in enumerate(words):
        for pair in pairwise(ids):
            pair_counts[pair] += word_counts[w]
            words_with[pair].add(w)

    def heap_entry(pair: Pair):
        return (-pair_counts[pair], _Greatest((vocab[pair[0]], vocab[pair[1]])), pair)

    # Best pair first: the largest count (negated, heapq is a min-heap), ties broken by the
    # greatest byte strings, the same rule as train_bpe_naive's max().
    heap = [heap_entry(pair) for pair in pair_counts]
    heapq.heapify(heap)

    merges = []
    while len(vocab) < vocab_size and heap:
        negative_count, _, best = heapq.heappop(heap)
        if pair_counts.get(best, 0) != -negative_count or negative_count == 0:
            continue  # stale: this pair's count changed after the entry was pushed
        # The merged pair becomes one new token, made of its two parts' bytes.
        new_id = len(vocab)
        vocab[new_id] = vocab[best[0]] + vocab[best[1]]
        merges.append((vocab[best[0]], vocab[best[1]]))

        # Rewrite only the words that contain the pair, and note how each pair count changes.
        changed: dict[Pair, int] = defaultdict(int)
        for w in words_with.pop(best):
            old = words[w]
            starts = occurrences(old, best)
            if not starts:
                continue  # a stale index entry: an earlier merge already removed the pair here
            n = word_counts[w]
            # Only pairs that overlap a merge site change: (left, a), (a, b), (b, right) go ...
            for k in {k for s in starts for k in (s - 1, s, s + 1) if 0 <= k < len(old) - 1}:
                changed[old[k], old[k + 1]] -= n
            new = old[: starts[0]]
            for s, next_start in zip(starts, [*starts[1:], len(old)], strict=True):
                new.append(new_id)
                new.extend(old[s + 2 : next_start])
            words[w] = new
            # ... and (left, new), (new, right) come; the m-th merge site moved m places left.
            sites = [s - m for m, s in enumerate(starts)]
            for k in {k for j in sites for k in (j - 1, j) if 0 <= k < len(new) - 1}:
                changed[new[k], new[k + 1]] += n
                words_with[new[k], new[k + 1]].add(w)

        # Apply the count changes; a pair whose count changed gets a fresh heap entry (its old
        # entry is now stale and will be skipped when popped).
        for pair, delta in changed.items():
            if delta == 0:
                continue
            pair_counts[pair] += delta
            if pair_counts[pair] > 0:
                heapq.heappush(heap, heap_entry(pair))
            else:
                del pair_counts[pair]
                words_with.pop(pair, None)
    return vocab, merges
