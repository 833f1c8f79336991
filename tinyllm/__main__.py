"""Command line: ``python -m tinyllm doctor | execute [NOTEBOOK ...] | train [--recipe NAME] ...``."""

from __future__ import annotations

import argparse
import sys

from tinyllm.determinism import NOTEBOOK_THREADS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tinyllm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check that this machine is ready for the course")
    execute = commands.add_parser(
        "execute", help="re-execute notebooks in place with the course's determinism settings"
    )
    execute.add_argument("notebooks", nargs="*", help="notebook files (default: all, in order)")
    execute.add_argument("--threads", type=int, default=NOTEBOOK_THREADS,
                         help=f"torch threads for the kernels (default {NOTEBOOK_THREADS})")
    # train's options come from the config dataclasses; tinyllm.recipes parses them (see main).
    commands.add_parser("train", add_help=False,
                        help="train a model from a recipe (python -m tinyllm train --help)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        # Imported only here, so that the other commands do not wait for torch to load.
        from tinyllm.recipes import main as train

        return train(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "doctor":
        from tinyllm.doctor import main as doctor

        return doctor()
    if args.command == "execute":
        from tinyllm.notebooks import main as execute

        return execute(args.notebooks, threads=args.threads)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
