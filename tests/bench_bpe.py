"""Benchmark: fast vs naive BPE training, peak memory, and encoding throughput.

Run as a script (pytest does not collect it):

    .venv/bin/python tests/bench_bpe.py               # 1 MB, vocab 2,048, memory on 5 MB
    .venv/bin/python tests/bench_bpe.py --mb 0.2      # a quick look
    .venv/bin/python tests/bench_bpe.py --skip-naive  # no 10-20 minute naive run

The naive trainer takes 10-20 minutes on 1 MB on a 2-core laptop: that slowness is the point.

Targets (issue 4): training on 1 MB of TinyTales (English + Chinese) to vocab 2,048 is at least
30x faster than `train_bpe_naive` with identical merges; training on 5 MB peaks at <= 1 GB.
Prints the encoding speed of `BPETokenizer.encode`, its `to_tiktoken()` and tiktoken's GPT-2.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def corpus(n_bytes: int, seed: int = 0) -> str:
    """About ``n_bytes`` of UTF-8 text: half English, half Chinese stories, ``<|endoftext|>``-joined."""
    from tinyllm.tinytales import generate
    from tinyllm.tokenizers import ENDOFTEXT

    parts = []
    for lang in ("en", "zh"):
        stories, size, batch = [], 0, 200
        while size < n_bytes // 2:
            for story in generate(batch, seed=seed + len(stories), lang=lang):
                stories.append(story.text)
                size += len(story.text.encode()) + len(ENDOFTEXT)
                if size >= n_bytes // 2:
                    break
        parts.append(ENDOFTEXT.join(stories))
    return ENDOFTEXT.join(parts)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def memory_child(mb: float, vocab_size: int) -> None:
    """Runs in a fresh process: train on ``mb`` MB and print the peak memory as JSON."""
    from tinyllm.tokenizers import ENDOFTEXT, train_bpe

    text = corpus(int(mb * 2**20))
    before = peak_rss_mb()
    start = time.perf_counter()
    train_bpe(text, vocab_size, [ENDOFTEXT])
    seconds = time.perf_counter() - start
    print(json.dumps({"before_mb": before, "peak_mb": peak_rss_mb(), "seconds": seconds}))


def throughput(encode, text: str, repeat: int = 1) -> float:
    """MB/s of ``encode(text)`` (best of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        encode(text)
        best = min(best, time.perf_counter() - start)
    return len(text.encode()) / 2**20 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="training text in MB (default 1)")
    parser.add_argument("--vocab", type=int, default=2048, help="vocabulary size (default 2048)")
    parser.add_argument("--memory-mb", type=float, default=5.0, help="text for the memory run")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow naive trainer")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_mb, args.vocab)
        return

    from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer, gpt2, train_bpe, train_bpe_naive

    text = corpus(int(args.mb * 2**20))
    n_mb = len(text.encode()) / 2**20
    print(f"training text: {n_mb:.2f} MB, {len(text):,} characters; vocab {args.vocab:,}")

    start = time.perf_counter()
    fast_vocab, fast_merges = train_bpe(text, args.vocab, [ENDOFTEXT])
    fast_s = time.perf_counter() - start
    print(f"train_bpe (fast):   {fast_s:8.2f} s   ({len(fast_merges):,} merges)")
    if not args.skip_naive:
        start = time.perf_counter()
        naive_vocab, naive_merges = train_bpe_naive(text, args.vocab, [ENDOFTEXT])
        naive_s = time.perf_counter() - start
        same = naive_merges == fast_merges and naive_vocab == fast_vocab
        print(f"train_bpe_naive:    {naive_s:8.2f} s")
        print(f"speed-up:           {naive_s / fast_s:8.1f} x   (target >= 30x)")
        print(f"identical merges:   {same}")
        if not same:
            sys.exit("FAIL: the fast and naive trainers disagree")

    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", "--memory-mb", str(args.memory_mb),
         "--vocab", str(args.vocab)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"memory, {args.memory_mb:g} MB of text: peak RSS {memory['peak_mb']:.0f} MB "
        f"({memory['before_mb']:.0f} MB before training; target <= 1024 MB), "
        f"trained in {memory['seconds']:.1f} s"
    )

    ours = BPETokenizer.from_vocab(fast_vocab, [ENDOFTEXT])
    held_out = corpus(int(min(args.mb, 1.0) * 2**20), seed=10_000)
    held_mb = len(held_out.encode()) / 2**20
    print(f"\nencoding {held_mb:.2f} MB of unseen stories (MB/s, higher is better):")
    rows = [
        ("BPETokenizer.encode (ours, pure Python, cold cache)", ours.encode_ordinary, 1),
        ("BPETokenizer.to_tiktoken() (our ranks, tiktoken)", ours.to_tiktoken().encode_ordinary, 3),
        ("tiktoken GPT-2", gpt2().encode_ordinary, 3),
        (
            "BPETokenizer.from_tiktoken(GPT-2) (ours, cold cache)",
            BPETokenizer.from_tiktoken(gpt2()).encode_ordinary,
            1,
        ),
    ]
    for name, encode, repeat in rows:
        print(f"  {name:<55} {throughput(encode, held_out, repeat):7.2f} MB/s")
    ids = ours.encode_ordinary(held_out)
    print(f"  bytes per token on unseen stories: ours {len(held_out.encode()) / len(ids):.2f}, "
          f"GPT-2 {len(held_out.encode()) / len(gpt2().encode_ordinary(held_out)):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
