"""``python -m tinyllm.tinytales --stats`` (corpus figures) or ``--sample`` (print stories).

Taught in notebook 00 (the corpus).
"""

from __future__ import annotations

import argparse
import sys

from tinyllm.tinytales.generate import LANG_CHOICES, generate
from tinyllm.tinytales.stats import TARGETS, measure, met, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinyllm.tinytales", description=__doc__)
    ap.add_argument("--stats", action="store_true", help="measure the corpus against its targets")
    ap.add_argument("--sample", type=int, metavar="N", help="print N stories, blank-line separated")
    ap.add_argument("--n", type=int, default=20_000, help="stories per language for --stats")
    ap.add_argument("--dup-n", type=int, default=100_000, help="stories for the duplicate rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lang", choices=LANG_CHOICES, default="en", help="language for --sample")
    args = ap.parse_args(argv)
    if args.sample:
        sys.stdout.write("\n\n".join(s.text for s in generate(args.sample, args.seed, args.lang)) + "\n")
        return 0
    if args.stats:
        figures = measure(n=args.n, dup_n=args.dup_n, seed=args.seed)
        print(f"TinyTales: {args.n:,} stories per language, duplicates among {args.dup_n:,}")
        print(report(figures))
        return 0 if all(met(k, v) for k, v in figures.items() if k in TARGETS) else 1
    ap.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
