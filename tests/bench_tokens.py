"""Benchmark: tokenising a large text file into the token cache, and training on it in constant memory.

Run as a script (pytest does not collect it):

    .venv/bin/python tests/bench_tokens.py                 # 100 MB vs 10 MB
    .venv/bin/python tests/bench_tokens.py --mb 20 --small-mb 2

Writes TinyTales stories (English and Chinese, one per paragraph) to ``--mb`` and ``--small-mb``
MB text files in a temporary folder, then for each, in a fresh process:

1. ``token_file`` with the shipped 4,096-token tokenizer: MB/s (a progress bar shows it live);
2. ``python -m tinyllm train --recipe smoke`` on that text (``data.corpus=text``, 20 steps of
   batch 4 x 32, windows read from the cached token file) and the process's peak memory.

Goal (issue 15): the peak memory of training on 100 MB is nearly that on 10 MB. Measured on the
2-core reference machine (AVX-512, idle), 7 December 2026::

     10.1 MB ->  1,980,618 tokens in  0.6 s (16.1 MB/s); peak 360 MB after tokenising, 434 MB after training
    100.0 MB -> 19,549,307 tokens in  5.8 s (17.1 MB/s); peak 361 MB after tokenising, 438 MB after training
    peak memory 100 MB / 10 MB: 1.01x

On 1 December, on a shared machine, 100 MB took 19.4 s (5.2 MB/s). Code changed since: on this
machine, ``--mb 20 --small-mb 2`` tokenises 2.2 MB at 0.9 MB/s with the code of d67aa4f (the
first token cache) and at 13.8 MB/s with today's (encode_stream's cut places, b7046b2, came
between).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from tinyllm.__main__ import main
from tinyllm.data.prepare import load_tokenizer
from tinyllm.data.tokens import text_files, token_file
path = sys.argv[1]
start = time.perf_counter()
tokens = token_file(text_files(path), load_tokenizer())
seconds = time.perf_counter() - start
after_tokens = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rc = main(["train", "--recipe", "smoke", "--no-progress", "--set", "data.corpus=text",
           "--set", f"data.path={path}", "--set", "data.tokenizer=tokenizer/tinytales-bpe-4096.json",
           "--set", "model.vocab_size=4096", "--set", "max_steps=20", "--set", "checkpoint_dir=none"])
print(json.dumps({"rc": rc, "seconds": seconds, "n_tokens": tokens.n_tokens, "n_bytes": tokens.n_bytes,
                  "peak_kb_tokenising": after_tokens,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_text(path: Path, n_bytes: int) -> None:
    """About ``n_bytes`` of stories, half English, half Chinese, a blank line between them."""
    from tinyllm.tinytales import generate

    written, seed = 0, 0
    with open(path, "w", encoding="utf-8") as f:
        while written < n_bytes:
            for lang in ("en", "zh"):
                for story in generate(1000, seed=seed, lang=lang):
                    text = story.text + "\n\n"
                    f.write(text)
                    written += len(text.encode("utf-8"))
            seed += 1


def measure(path: Path, cache: Path) -> dict:
    env = {**os.environ, "TINYLLM_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=100)
    parser.add_argument("--small-mb", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        results = {}
        for mb in (args.small_mb, args.mb):
            path = folder / f"text_{mb:g}mb.txt"
            start = time.perf_counter()
            write_text(path, int(mb * 1e6))
            print(f"wrote {path.stat().st_size / 1e6:.1f} MB of stories in {time.perf_counter() - start:.0f} s")
            results[mb] = r = measure(path, folder / "cache")
            print(f"{r['n_bytes'] / 1e6:6.1f} MB -> {r['n_tokens']:,} tokens in {r['seconds']:.1f} s "
                  f"({r['n_bytes'] / 1e6 / r['seconds']:.1f} MB/s); peak memory "
                  f"{r['peak_kb_tokenising'] / 1024:.0f} MB after tokenising, "
                  f"{r['peak_kb'] / 1024:.0f} MB after 20 training steps (train rc {r['rc']})")
        small, large = results[args.small_mb]["peak_kb"], results[args.mb]["peak_kb"]
        print(f"peak memory {args.mb:g} MB / {args.small_mb:g} MB: {large / small:.2f}x")


if __name__ == "__main__":
    main()
