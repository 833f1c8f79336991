"""Benchmark: batched generation of prompts of different lengths vs a loop over single prompts.

Run:  python tests/bench_generate_batch.py [--threads 2] [--prompts 200] [--new-tokens 32] [--batch 32 64]

On the shipped base model (``load_pretrained("base")``), the prompts are ``<|endoftext|>``
followed by the first 5-20 tokens (seeded) of TinyTales stories, half English and half Chinese.
Each prompt gets ``--new-tokens`` greedy tokens (no stop token, so every row does the same
work), two ways:

1. a Python loop calling ``generate`` on one prompt at a time (what evaluation must not do);
2. ``generate_batch`` on chunks of ``--batch`` prompts (one comparison per value).

Prints tokens/s of both, the ratio, and whether every prompt got exactly the same tokens. Each
figure is the best of ``--repeats`` runs, the ways taking turns; CPU time is printed next to
wall time (a shared machine's wall time also counts waiting for a core). Exits with status 1 if
the tokens differ anywhere. Not collected by pytest (timings are measured by scripts, never by
timed tests).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

import torch

from tinyllm import tinytales
from tinyllm.batching import generate_batch
from tinyllm.determinism import NOTEBOOK_THREADS
from tinyllm.generate import generate
from tinyllm.shipped import load_pretrained


def story_prompts(tokenizer, n: int, seed: int = 0) -> list[list[int]]:
    """``n`` prompts: ``<|endoftext|>`` + the first 5-20 tokens of a TinyTales story."""
    rng = random.Random(seed)
    stories = (tinytales.generate(n - n // 2, seed=seed, lang="en")
               + tinytales.generate(n // 2, seed=seed, lang="zh"))
    return [[tokenizer.eot_token, *tokenizer.encode(s.text)[: rng.randint(5, 20)]] for s in stories]


def timed(fn: Callable[[], list[list[int]]]) -> tuple[float, float, list[list[int]]]:
    """(wall seconds, CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=NOTEBOOK_THREADS)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 64],
                        help="prompts per generate_batch call; one comparison per value")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model, tokenizer = load_pretrained("base")
    prompts = story_prompts(tokenizer, args.prompts)
    lengths = sorted(len(p) for p in prompts)
    n_new = args.new_tokens
    print(f"shipped base model, torch {torch.__version__}, {args.threads} thread(s), best of "
          f"{args.repeats}; {len(prompts)} prompts of {lengths[0]}-{lengths[-1]} tokens "
          f"(median {lengths[len(lengths) // 2]}), {n_new} new tokens each, greedy")

    def loop() -> list[list[int]]:
        return [generate(model, p, n_new, temperature=0)[len(p):].tolist() for p in prompts]

    def batched(size: int) -> Callable[[], list[list[int]]]:
        def run() -> list[list[int]]:
            chunks = (prompts[i: i + size] for i in range(0, len(prompts), size))
            return [row for chunk in chunks for row in generate_batch(model, chunk, n_new, temperature=0)]
        return run

    ways = {"loop over single prompts": loop, **{f"generate_batch, batch {b}": batched(b) for b in args.batch}}
    generate(model, prompts[0], 4, temperature=0)  # warm-up
    generate_batch(model, prompts[:8], 4, temperature=0)
    best: dict[str, tuple[float, float, list[list[int]]]] = {}
    for _ in range(args.repeats):  # the ways take turns, so a slow spell hits all of them
        for name, fn in ways.items():
            run = timed(fn)
            if name not in best or run[0] < best[name][0]:
                best[name] = run

    n_tokens = len(prompts) * n_new
    t_loop, cpu_loop, reference = best["loop over single prompts"]
    all_same = True
    for name, (wall, cpu, out) in best.items():
        differ = [i for i, (a, b) in enumerate(zip(out, reference, strict=True)) if a != b]
        all_same &= not differ
        line = f"  {name:<26} {n_tokens / wall:8.1f} tokens/s  (wall {wall:6.2f} s, CPU {cpu:6.2f} s)"
        if out is not reference:
            line += f"  {t_loop / wall:5.1f}x the loop (CPU {cpu_loop / cpu:.1f}x); same tokens: "
            line += "yes" if not differ else f"NO ({len(differ)} of {len(prompts)} prompts differ)"
        print(line)
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
