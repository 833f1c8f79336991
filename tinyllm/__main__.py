"""The command line, all of it: ``python -m tinyllm doctor | execute | train | export``.

No other module imports this one: each command calls a function of the package, imported when
the command runs, so ``doctor`` works on a machine where torch is missing.

    python -m tinyllm doctor                           is this machine ready? (notebook 00)
    python -m tinyllm execute [NOTEBOOK ...]           re-execute notebooks in place (00)
    python -m tinyllm train --recipe NAME [--set k=v]  rebuild a shipped artifact (07)
    python -m tinyllm export CHECKPOINT WEIGHTS        a training checkpoint -> a shipped file (07)
    python -m tinyllm export --format hf SOURCE DIR    a model -> a Hugging Face folder (beyond)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from tinyllm.determinism import NOTEBOOK_THREADS

if TYPE_CHECKING:  # annotations only: the commands import what they need when they run
    from tinyllm.recipes import Recipe
    from tinyllm.train import History


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tinyllm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check that this machine is ready for the course")

    execute = commands.add_parser(
        "execute", help="re-execute notebooks in place with the course's determinism settings"
    )
    execute.add_argument("notebooks", nargs="*", help="notebook files (default: all, in order)")
    execute.add_argument("--threads", type=int, default=NOTEBOOK_THREADS,
                         help=f"torch threads for the kernels (default {NOTEBOOK_THREADS})")

    train = commands.add_parser(
        "train", help="train a model from a recipe (under torchrun: DDP on every process)",
        epilog="example: python -m tinyllm train --recipe smoke --set lr=3e-3 --set max_steps=10",
    )
    train.add_argument("--recipe", default="base", help="a registered recipe or a recipe .json file (default base)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override any field of the recipe's ModelConfig, TrainConfig or "
                            "DataSpec, e.g. --set lr=1e-3 --set model.eps=1e-6 (repeatable)")
    train.add_argument("--device", metavar="DEVICE",
                       help="auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps "
                            "(default: the CPU); bf16 autocast turns on where the device has "
                            "native bf16 (recent CUDA GPUs) unless --set autocast=... says otherwise")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    train.add_argument("--show", action="store_true", help="print the resolved recipe as JSON and exit")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")

    export = commands.add_parser(
        "export", help="write a model in another form: a weights-only file, or a Hugging Face folder",
        epilog="examples: python -m tinyllm export runs/base/step_002400.safetensors base.safetensors\n"
               "          python -m tinyllm export --format hf sft exported/sft",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("source", help="a checkpoint written by train (runs/NAME/step_*.safetensors); "
                                       "with --format hf also a shipped model name (base, sft)")
    export.add_argument("target", help="weights: the file to write (data/checkpoints/NAME.safetensors); "
                                       "hf: the folder to write")
    export.add_argument("--format", choices=("weights", "hf"), default="weights",
                        help="weights (default): a float16 weights-only checkpoint, what data/ ships; "
                             "hf: config.json, model.safetensors and tokenizer files for "
                             "transformers' from_pretrained")
    export.add_argument("--tokenizer", metavar="FILE",
                        help="hf from a checkpoint: its tokenizer .json (default: tokenizer.json "
                             "next to the checkpoint, which train writes)")
    return parser


def train(args: argparse.Namespace) -> int:
    """``python -m tinyllm train``: resolve the recipe and its overrides, train, report."""
    from tinyllm import distributed
    from tinyllm.checkpoint import CheckpointError
    from tinyllm.data.corpora import CorpusUnavailableError
    from tinyllm.data.tokens import TextCorpusError
    from tinyllm.paths import DataFileError
    from tinyllm.recipes import RecipeError, apply_overrides, get_recipe, on_device, run_recipe
    from tinyllm.shipped import PretrainedError

    try:
        recipe = apply_overrides(get_recipe(args.recipe), args.set)
        if args.device is not None:
            set_autocast = any(item.partition("=")[0].strip() in ("autocast", "train.autocast")
                               for item in args.set)
            recipe = on_device(recipe, args.device, recipe.train.autocast if set_autocast else None)
    except ValueError as error:  # RecipeError, ConfigError, DeviceError, TrainConfig's checks
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.show:
        print(json.dumps(recipe.to_dict(), indent=2))
        return 0
    distributed.init()
    try:
        _, _, history = run_recipe(recipe, resume=args.resume, progress=not args.no_progress)
    except (CheckpointError, CorpusUnavailableError, DataFileError, PretrainedError, RecipeError,
            TextCorpusError) as error:
        print(f"error: {error}", file=sys.stderr)
        distributed.shutdown(wait=False)  # after an error the others may never arrive
        return 2
    except BaseException:
        distributed.shutdown(wait=False)
        raise
    if distributed.is_main():
        report(recipe, history)
    if distributed.is_initialized():
        distributed.exit_worker(0)  # a torchrun worker: skips gloo's teardown (see exit_worker)
    return 0


def report(recipe: Recipe, history: History) -> None:
    """The train command's last lines: the final validation figures and where the files are."""
    if history.val_loss and history.val_perplexity:  # a language model's validation
        bits = history.val_bits_per_byte[-1]  # None without a text's bytes per token (sft)
        print(f"recipe {recipe.name}: step {history.val_step[-1]}, val loss {history.val_loss[-1]:.4f}, "
              f"perplexity {history.val_perplexity[-1]:.2f}"
              + ("" if bits is None else f", bits/byte {bits:.4f}"))
    elif history.val_loss:  # the reward model's held-out Bradley-Terry loss
        print(f"recipe {recipe.name}: step {history.val_step[-1]}, val loss {history.val_loss[-1]:.4f}")
    if recipe.train.checkpoint_dir:
        print(f"checkpoints, tokenizer.json and recipe.json in {recipe.train.checkpoint_dir}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from tinyllm.doctor import main as doctor

        return doctor()
    if args.command == "execute":
        from tinyllm.notebooks import main as execute

        return execute(args.notebooks, threads=args.threads)
    if args.command == "train":
        return train(args)
    return export(args)


def export(args: argparse.Namespace) -> int:
    """``python -m tinyllm export``: a weights-only file, or a Hugging Face folder."""
    from tinyllm.checkpoint import CheckpointError
    from tinyllm.hf import HFFormatError
    from tinyllm.paths import DataFileError
    from tinyllm.recipes import RecipeError
    from tinyllm.shipped import PretrainedError, export_hf_folder, export_weights

    try:
        if args.format == "hf":
            print(export_hf_folder(args.source, args.target, tokenizer=args.tokenizer))
        else:
            if args.tokenizer:
                raise RecipeError("--tokenizer is for --format hf; a weights file holds no tokenizer")
            print(export_weights(args.source, args.target))
    except (CheckpointError, DataFileError, HFFormatError, PretrainedError, RecipeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
