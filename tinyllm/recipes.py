"""Recipes: a named, complete description of a training run (model + training + data), and the
code that runs one. ``python -m tinyllm train --recipe NAME`` is a thin layer over `run_recipe`.

Taught in notebook 07 (pretraining).

A recipe is three frozen configs: ``ModelConfig`` (what to build), ``TrainConfig`` (how to
optimise) and `DataSpec` (what to read and how to tokenise it). Any field can be changed with an
override ``"key=value"``: ``lr=1e-3``, ``d_model=128``, ``n_train=500``; a name that two
sections share (``eps``) is qualified: ``train.eps=1e-8``, ``model.eps=1e-6``.

Registered recipes:

- ``base``: the course's base model (shipped as ``data/checkpoints/base.safetensors``):
  TinyTales in English and Chinese, the shipped BPE tokenizer
  (``data/tokenizer/tinytales-bpe-4096.json``, made by `train_tokenizer`), ``llama_style()``,
  with the learning rate, batch and step count tuned to train in under 30 minutes on 2 cores
  (27 minutes measured from scratch on an idle machine; figures in data/README.md).
  ``--set data.tokenizer=bpe`` retrains the tokenizer in the run instead of loading it.
- ``smoke``: the same pipeline shrunk to seconds, for tests and for checking a set-up.

A recipe can also be a JSON file: ``{"extends": "base", "train": {"lr": 1e-3}, "model": {...},
"data": {...}}`` (``extends`` defaults to ``base``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyllm.config import ModelConfig, llama_style
from tinyllm.train import TrainConfig

SECTIONS = ("model", "train", "data")
#: The shipped tokenizer the ``base`` recipe loads (under ``data/``; made by `train_tokenizer`).
SHIPPED_TOKENIZER = "tokenizer/tinytales-bpe-4096.json"
#: A BPE tokenizer trains on at most this many training stories, the first ones of the split
#: (more would slow BPE down and barely change its merges). The shipped tokenizer is ``base``'s.
TOKENIZER_STORIES = 20_000


class RecipeError(ValueError):
    """An unknown recipe or override; the message says what exists."""


@dataclass(frozen=True)
class DataSpec:
    """Where the tokens come from.

    Attributes:
        corpus: ``"tinytales"`` (embedded, offline).
        lang: ``"en"``, ``"zh"`` or ``"mix"`` (each story in one of the two, half and half).
        n_train, n_val: stories in the training and validation splits.
        corpus_seed: the TinyTales generation seed.
        tokenizer: ``"bpe"``: train our byte-level BPE on the first ``TOKENIZER_STORIES``
            stories of the training split with ``ModelConfig.vocab_size`` tokens; or a tokenizer ``.json`` file (written by
            ``BPETokenizer.save``) to load: a shipped name under ``data/`` such as
            ``"tokenizer/tinytales-bpe-4096.json"`` (sha256-checked), or any path.
        seq_len: tokens per training window (at most the model's ``context_length``).
        stride: step between windows (``None``: ``seq_len``, windows that touch).

    Taught in notebook 07 (pretraining).
    """

    corpus: str = "tinytales"
    lang: str = "mix"
    n_train: int = 20_000
    n_val: int = 500
    corpus_seed: int = 0
    tokenizer: str = "bpe"
    seq_len: int = 256
    stride: int | None = None


@dataclass(frozen=True)
class Recipe:
    """A complete training run: ``name``, ``model``, ``train`` and ``data`` configs."""

    name: str
    model: ModelConfig
    train: TrainConfig
    data: DataSpec

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **{s: dataclasses.asdict(getattr(self, s)) for s in SECTIONS}}


def base() -> Recipe:
    """The shipped base model's recipe: ``python -m tinyllm train --recipe base``."""
    return Recipe(
        name="base",
        model=llama_style(),
        # Tuned with 100-step runs at batch 8 (val loss after 800 windows: lr 1e-2 -> 5.65,
        # 5e-3 -> 4.84, 2.5e-3 -> 4.15); a small batch gives more updates per token, which is
        # what a CPU budget is short of. 2400 steps x 8 x 256 = 4.9 M tokens: 1.2 epochs of
        # 60,000 stories (fresh stories cost nothing, so see each about once rather than
        # repeating fewer). eval_steps=17 batches of 8 is the whole validation split.
        train=TrainConfig(lr=2e-3, min_lr=2e-4, warmup_steps=50, max_steps=2400, batch_size=8,
                          eval_interval=400, eval_steps=17, checkpoint_dir="runs/base",
                          checkpoint_interval=400),
        data=DataSpec(lang="mix", n_train=60_000, n_val=500, seq_len=256,
                      tokenizer=SHIPPED_TOKENIZER),
    )


def smoke() -> Recipe:
    """The base pipeline in seconds: 200 stories, a 320-token BPE, a 2-layer model, 4 steps."""
    return Recipe(
        name="smoke",
        model=llama_style(vocab_size=320, context_length=64, d_model=32, n_layers=2, n_heads=4,
                          n_kv_heads=2, d_ff=64),
        train=TrainConfig(lr=1e-2, min_lr=1e-3, warmup_steps=1, max_steps=4, batch_size=4,
                          eval_interval=2, eval_steps=2, checkpoint_dir="runs/smoke"),
        data=DataSpec(lang="mix", n_train=200, n_val=20, seq_len=32),
    )


#: Recipe name -> function that builds it.
RECIPES: dict[str, Callable[[], Recipe]] = {"base": base, "smoke": smoke}


def get_recipe(name_or_path: str) -> Recipe:
    """A registered recipe by name, or a recipe JSON file (see the module docstring).

    Taught in notebook 07 (pretraining).
    """
    if name_or_path in RECIPES:
        return RECIPES[name_or_path]()
    path = Path(name_or_path)
    if not path.suffix == ".json":
        raise RecipeError(f"unknown recipe {name_or_path!r}; use one of {sorted(RECIPES)} or a .json file")
    if not path.is_file():
        raise RecipeError(f"recipe file {path} does not exist")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RecipeError(f"recipe file {path} is not valid JSON: {error}") from None
    unknown = set(spec) - {"extends", "name", *SECTIONS}
    if unknown:
        raise RecipeError(f"recipe file {path} has unknown keys {sorted(unknown)}; use extends, name, {', '.join(SECTIONS)}")
    recipe = get_recipe(spec.get("extends", "base"))
    overrides = [(f"{section}.{key}", value) for section in SECTIONS for key, value in spec.get(section, {}).items()]
    recipe = apply_overrides(recipe, overrides)
    return dataclasses.replace(recipe, name=spec.get("name", path.stem))


def field_names() -> dict[str, list[str]]:
    """Each override key -> the sections that have it (``{"lr": ["train"], "eps": ["model", "train"]}``)."""
    names: dict[str, list[str]] = {}
    for section, cls in (("model", ModelConfig), ("train", TrainConfig), ("data", DataSpec)):
        for f in dataclasses.fields(cls):
            names.setdefault(f.name, []).append(section)
    return names


def _resolve(key: str) -> tuple[str, str]:
    """``"lr"`` -> ``("train", "lr")``; ``"model.eps"`` -> ``("model", "eps")``."""
    section, _, name = key.rpartition(".")
    owners = field_names().get(name, [])
    if section:
        if section not in SECTIONS or section not in owners:
            raise RecipeError(f"unknown setting {key!r}; {section!r} has no field {name!r}")
        return section, name
    if not owners:
        raise RecipeError(f"unknown setting {key!r}; settings are the fields of ModelConfig, "
                          f"TrainConfig and DataSpec: {', '.join(sorted(field_names()))}")
    if len(owners) > 1:
        raise RecipeError(f"setting {key!r} is ambiguous; write one of "
                          f"{', '.join(f'{s}.{name}' for s in owners)}")
    return owners[0], name


def parse_value(text: str, current: Any) -> Any:
    """Turn the text of an override into the type of the value it replaces."""
    if text.lower() in ("none", "null"):
        return None
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise RecipeError(f"expected true or false, got {text!r}")
        return text.lower() in ("true", "1")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if current is None:  # an optional field that is unset: guess from the text
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                pass
    return text


def apply_overrides(recipe: Recipe, overrides: Iterable[str | tuple[str, Any]]) -> Recipe:
    """A copy of ``recipe`` with ``"key=value"`` overrides (or ``(key, value)`` pairs) applied.

    Raises:
        RecipeError: an unknown or ambiguous key, or a value of the wrong type; an invalid
            combination raises the config's own error (e.g. ``ConfigError`` for
            ``n_heads=7``).

    Taught in notebook 07 (pretraining).
    """
    changes: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for item in overrides:
        if isinstance(item, str):
            key, sep, text = item.partition("=")
            if not sep:
                raise RecipeError(f"override {item!r} needs the form key=value, e.g. lr=1e-3")
            section, name = _resolve(key.strip())
            current = getattr(getattr(recipe, section), name)
            try:
                value = parse_value(text.strip(), current)
            except ValueError as error:
                raise RecipeError(f"bad value for {key}: {error}") from None
        else:
            key, value = item
            section, name = _resolve(key)
        changes[section][name] = value
    return dataclasses.replace(recipe, **{
        section: dataclasses.replace(getattr(recipe, section), **changes[section])
        for section in SECTIONS if changes[section]
    })


# ---------------------------------------------------------------- running a recipe


@dataclass
class PreparedData:
    """A recipe's data, ready for `train`: windows, the tokenizer, and bytes per token."""

    train: Any  # WindowDataset
    val: Any  # WindowDataset
    tokenizer: Any  # BPETokenizer
    bytes_per_token: float


def load_tokenizer(name: str, vocab_size: int):
    """The tokenizer file ``name`` (a shipped file under ``data/``, checked, or a path),
    which must have ``vocab_size`` tokens.

    Taught in notebook 07 (pretraining).
    """
    from tinyllm.paths import SHIPPED_FILES, data_file
    from tinyllm.tokenizers import BPETokenizer

    if not name.endswith(".json"):
        raise RecipeError(f"data.tokenizer={name!r}: use 'bpe' (train one) or a tokenizer .json file")
    path = data_file(name) if name in SHIPPED_FILES else Path(name)
    if not path.is_file():
        raise RecipeError(f"tokenizer file {path} does not exist; use data.tokenizer=bpe to train one")
    tokenizer = BPETokenizer.load(path)
    if tokenizer.n_vocab != vocab_size:
        raise RecipeError(f"tokenizer {name} has {tokenizer.n_vocab} tokens but the model's "
                          f"vocab_size={vocab_size}; set model.vocab_size={tokenizer.n_vocab} "
                          "or use data.tokenizer=bpe")
    return tokenizer


def train_tokenizer(recipe: Recipe | None = None, n_stories: int = TOKENIZER_STORIES):
    """Train the BPE tokenizer of ``recipe`` (default ``base``) on the first ``n_stories`` stories
    of its training split (a larger split starts with the same stories, so the tokenizer does
    not change when a recipe trains the model on more).

    This is how ``data/tokenizer/tinytales-bpe-4096.json`` was made (about a minute)::

        python -c "from tinyllm.recipes import train_tokenizer; \\
            train_tokenizer().save('data/tokenizer/tinytales-bpe-4096.json')"

    The result is byte-identical on every run (the corpus and BPE are deterministic).

    Taught in notebook 07 (pretraining).
    """
    from tinyllm.data import load_corpus
    from tinyllm.tokenizers import BPETokenizer

    recipe = recipe or base()
    spec = recipe.data
    corpus = load_corpus("tinytales", n_train=min(spec.n_train, n_stories), n_val=spec.n_val,
                         lang=spec.lang, seed=spec.corpus_seed)
    return BPETokenizer.train(corpus["train"]["text"], recipe.model.vocab_size)


def prepare_data(recipe: Recipe) -> PreparedData:
    """Load the corpus, load (or train on the training split) the tokenizer, and cut windows.

    Taught in notebook 07 (pretraining).
    """
    from tinyllm.data import WindowDataset, concat_ids, load_corpus, tokenize_dataset
    from tinyllm.tokenizers import BPETokenizer

    spec, vocab_size = recipe.data, recipe.model.vocab_size
    if spec.corpus != "tinytales":
        raise RecipeError("recipes support corpus='tinytales' for now")
    if spec.seq_len > recipe.model.context_length:
        raise RecipeError(f"data.seq_len={spec.seq_len} is longer than the model's "
                          f"context_length={recipe.model.context_length}")
    corpus = load_corpus("tinytales", n_train=spec.n_train, n_val=spec.n_val, lang=spec.lang,
                         seed=spec.corpus_seed)
    tokenizer = load_tokenizer(spec.tokenizer, vocab_size) if spec.tokenizer != "bpe" else \
        BPETokenizer.train(corpus["train"]["text"][:TOKENIZER_STORIES], vocab_size)
    train_ids = concat_ids(tokenize_dataset(corpus["train"], tokenizer))
    val_ids = concat_ids(tokenize_dataset(corpus["validation"], tokenizer))
    stride = spec.stride or spec.seq_len
    # Every byte of the validation text over every token predicted (<|endoftext|> separators
    # are tokens with no bytes of their own).
    val_bytes = sum(len(text.encode("utf-8")) for text in corpus["validation"]["text"])
    return PreparedData(
        train=WindowDataset(train_ids, spec.seq_len, stride),
        val=WindowDataset(val_ids, spec.seq_len, spec.seq_len),
        tokenizer=tokenizer,
        bytes_per_token=val_bytes / len(val_ids),
    )


def story_sampler(tokenizer: Any, n_samples: int = 4, max_new_tokens: int = 48,
                  temperature: float = 0.8) -> Callable:
    """A ``sample_fn`` for `train`: generate stories from ``<|endoftext|>`` and grade them with
    ``tinytales.check``. Returns ``{"score": mean share of valid sentences, "text": first story}``.

    Taught in notebook 07 (pretraining).
    """
    import torch

    from tinyllm import tinytales
    from tinyllm.generate import generate

    def sample(model, step: int) -> dict[str, Any]:
        eot = tokenizer.eot_token
        prompt = torch.full((n_samples, 1), eot)
        length = min(max_new_tokens, model.config.context_length - 1)
        ids = generate(model, prompt, length, temperature=temperature, seed=step)
        texts = [tokenizer.decode([i for i in row[1:].tolist() if i != eot], errors="replace")
                 for row in ids]
        scores = [tinytales.check(text).score for text in texts]
        return {"score": sum(scores) / len(scores), "text": texts[0]}

    return sample


def run_recipe(recipe: Recipe, *, resume: str | Path | None = None, progress: bool = True):
    """Prepare the data, build the model, train; returns ``(model, tokenizer, history)``.

    Under ``torchrun`` it trains with DDP (call ``distributed.init()`` first). Rank 0 writes
    ``tokenizer.json`` and the resolved ``recipe.json`` next to the checkpoints.

    Taught in notebook 07 (pretraining).
    """
    import torch

    from tinyllm import distributed
    from tinyllm.model import TinyLLM
    from tinyllm.train import train

    data = prepare_data(recipe)
    torch.manual_seed(recipe.train.seed)
    model = TinyLLM(recipe.model)
    cfg = recipe.train
    if cfg.checkpoint_dir is not None and distributed.is_main():
        folder = Path(cfg.checkpoint_dir)
        folder.mkdir(parents=True, exist_ok=True)
        data.tokenizer.save(folder / "tokenizer.json")
        # The resolved recipe, overrides included: `--recipe <folder>/recipe.json` runs it again.
        (folder / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n", encoding="utf-8")
    sample_fn = story_sampler(data.tokenizer) if cfg.sample_interval else None
    history = train(model, data.train, data.val, cfg, bytes_per_token=data.bytes_per_token,
                    sample_fn=sample_fn, resume=resume, progress=progress)
    return model, data.tokenizer, history


# ---------------------------------------------------------------- command line


def _flag(name: str, sections: list[str], section: str) -> str:
    """``--max-steps``; a name two sections share gets its section: ``--train-eps``."""
    return "--" + (name if len(sections) == 1 else f"{section}_{name}").replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """``python -m tinyllm train``'s options: one flag per config field, plus ``--set``."""
    parser = argparse.ArgumentParser(
        prog="python -m tinyllm train",
        description="Train a model from a recipe. Under torchrun it trains with DDP on all processes.",
        epilog="example: python -m tinyllm train --recipe smoke --set lr=3e-3 --max-steps 10",
    )
    parser.add_argument("--recipe", default="base", help=f"{' | '.join(RECIPES)} | path.json (default base)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any setting, e.g. --set lr=1e-3 --set model.eps=1e-6 (repeatable)")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    parser.add_argument("--show", action="store_true", help="print the resolved recipe as JSON and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    settings = parser.add_argument_group("settings (the same as --set KEY=VALUE)")
    for name, sections in field_names().items():
        for section in sections:
            settings.add_argument(_flag(name, sections, section), dest=f"setting:{section}.{name}",
                                  metavar="VALUE", help=f"{section} setting {name}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m tinyllm train``: resolve the recipe and its overrides, train, report."""
    from tinyllm import distributed
    from tinyllm.checkpoint import CheckpointError

    args = build_parser().parse_args(argv)
    flags = [f"{dest.split(':', 1)[1]}={value}" for dest, value in vars(args).items()
             if dest.startswith("setting:") and value is not None]
    try:
        recipe = apply_overrides(get_recipe(args.recipe), [*args.set, *flags])
    except ValueError as error:  # RecipeError, ConfigError, TrainConfig's checks
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.show:
        print(json.dumps(recipe.to_dict(), indent=2))
        return 0
    distributed.init()
    is_main = distributed.is_main()  # asked now: after shutdown every process says rank 0
    try:
        _, _, history = run_recipe(recipe, resume=args.resume, progress=not args.no_progress)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        distributed.shutdown()
    if not is_main:
        return 0
    if history.val_loss:
        bpb = history.val_bits_per_byte[-1]
        print(f"recipe {recipe.name}: step {history.val_step[-1]}, val loss {history.val_loss[-1]:.4f}, "
              f"perplexity {history.val_perplexity[-1]:.2f}, bits/byte {bpb:.4f}")
    if recipe.train.checkpoint_dir:
        print(f"checkpoints, tokenizer.json and recipe.json in {recipe.train.checkpoint_dir}")
    return 0
