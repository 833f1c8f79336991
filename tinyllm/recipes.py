"""Recipes: one named, complete description per training run, and the code that runs one.

Taught in notebook 07 (pretraining). ``python -m tinyllm train --recipe NAME`` runs `run_recipe`.

A recipe names what to build (``ModelConfig``), how to optimise (``TrainConfig``), what to read
(``DataSpec``), what it starts from (``start``) and which trainer runs it (``trainer``). Every
shipped artifact is one recipe, so one command rebuilds it. A later stage adds a trainer to
`TRAINERS` and a recipe that starts where the previous one ended, e.g. an SFT recipe with
``start="shipped:base"`` (or ``"recipe:base"``, the last checkpoint of a ``base`` run) and
``trainer="sft"``.

Any field can be changed with an override ``"key=value"`` (``--set`` on the command line):
``lr=1e-3``, ``n_layers=2``, ``n_train=500`` (each field alone: ``d_model=128`` leaves ``d_ff``
and ``n_heads`` as they were, so change those with it); a name that two sections share (``eps``) is
qualified: ``train.eps=1e-8``, ``model.eps=1e-6``. A recipe can also be a JSON file:
``{"extends": "base", "train": {"lr": 1e-3}, "model": {...}, "data": {...}}`` (``extends``
defaults to ``base``); a run writes its resolved recipe as such a file, ``recipe.json``.

Registered recipes:

- ``base``: the course's base model (shipped as ``data/checkpoints/base.safetensors``):
  TinyTales in English and Chinese, the shipped BPE tokenizer, ``llama_style()``, with the
  learning rate, batch and step count tuned to train in under 30 minutes on 2 cores (27
  minutes measured from scratch on an idle machine; figures in data/README.md).
  ``--set data.tokenizer=bpe`` retrains the tokenizer in the run instead of loading it.
- ``sft``: the shipped SFT model (``data/checkpoints/sft.safetensors``, notebook 08): the base
  model given the chat tokens and fine-tuned on fresh TinyTales tasks (``tinyllm.sft_train``).
- ``smoke``: the same pipeline shrunk to seconds, for tests and for checking a set-up.
- ``lora-happy``, ``lora-zh``: notebook 09's adapters.
- ``reward-model``: notebook 10's reward model (``tinyllm.rlhf.reward_train``); ``dpo``,
  ``ppo``, ``grpo``: its three LoRA policies (``tinyllm.rlhf.*_train``); ``grpo-hack`` and
  ``grpo-hack-kl``: GRPO on a flawed proxy reward, without and with the KL leash.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tinyllm import distributed
from tinyllm.checkpoint import load_model
from tinyllm.config import ModelConfig, llama_style
from tinyllm.data.prepare import (
    SHIPPED_TOKENIZER,
    DataSpec,
    RecipeError,
    load_tokenizer,
    prepare_data,
)
from tinyllm.model import TinyLLM
from tinyllm.rlhf.dpo_train import dpo_trainer
from tinyllm.rlhf.grpo_train import grpo_trainer
from tinyllm.rlhf.ppo_train import ppo_trainer
from tinyllm.rlhf.reward_train import reward_trainer
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.sft_train import sft_trainer
from tinyllm.shipped import load_pretrained
from tinyllm.stories import story_sampler
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History, checkpoint_path, train
from tinyllm.train_config import TrainConfig

SECTIONS = ("model", "train", "data", "rl")


@dataclass(frozen=True)
class Recipe:
    """A complete training run.

    Attributes:
        name: what ``--recipe`` calls it.
        model, train, data: the three configs.
        rl: the policy-optimising trainers' settings (``rlhf.rl_config.RLConfig``; DPO, PPO, GRPO).
        start: the weights it starts from: ``"scratch"`` (random, seeded by ``train.seed``),
            ``"shipped:NAME"`` (a model under ``data/``, e.g. ``"shipped:base"``) or
            ``"recipe:NAME"`` (the last checkpoint that recipe's run wrote).
        trainer: the key of `TRAINERS` whose function trains it.
    """

    name: str
    model: ModelConfig
    train: TrainConfig
    data: DataSpec
    start: str = "scratch"
    trainer: str = "pretrain"
    rl: RLConfig = RLConfig()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start": self.start, "trainer": self.trainer,
                **{s: dataclasses.asdict(getattr(self, s)) for s in SECTIONS}}


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


def sft() -> Recipe:
    """The shipped SFT model's recipe: ``python -m tinyllm train --recipe sft`` (figures and
    calibration runs in data/README.md). ``model`` is the base model it starts from; the
    trainer grows its vocabulary to 4,099 with the chat tokens. ``n_train=0``: a fresh task
    for every training example; ``seq_len`` is a cap (batches are cut to their longest)."""
    # Calibrated with 200-step runs (held-out validation loss): batch 16 at lr 1e-3 -> 0.820,
    # at 3e-3 -> 0.908; batch 32 at 3e-3 -> 0.807 for twice the compute. 2,000 steps x 16 =
    # 32,000 fresh tasks fit the 30-minute budget on 2 shared cores (about 0.4-0.8 s a step).
    return Recipe(
        name="sft", model=llama_style(), start="shipped:base", trainer="sft",
        train=TrainConfig(lr=1e-3, min_lr=1e-4, warmup_steps=30, max_steps=2000,
                          batch_size=16, eval_interval=200, eval_steps=8,
                          checkpoint_dir="runs/sft", checkpoint_interval=400),
        data=DataSpec(lang="mix", n_train=0, n_val=128, seq_len=256, tokenizer=SHIPPED_TOKENIZER),
    )


def lora_happy() -> Recipe:
    """Notebook 09's first adapter: the SFT model, frozen, plus a rank-8 LoRA adapter on every
    projection (``all-linear``) trained on requests that name no ending, each answered by a
    story that ends happily. ``python -m tinyllm train --recipe lora-happy`` writes
    ``runs/lora-happy/adapter.safetensors`` (figures in data/README.md)."""
    # LoRA's usual learning rate is higher than full fine-tuning's (B starts at zero, and
    # alpha / r scales the update down); no weight decay on the adapter, as in peft's examples.
    # All linear layers, 400 steps: q_proj/v_proj alone for 300 steps moved sampled stories'
    # happy share less (0.69-0.78 against 0.78-0.94, three seeds of 64 held-out requests).
    return Recipe(
        name="lora-happy", model=llama_style(vocab_size=4099), start="shipped:sft", trainer="sft",
        train=TrainConfig(lr=5e-3, min_lr=5e-4, warmup_steps=10, max_steps=400, batch_size=16,
                          weight_decay=0.0, eval_interval=100, eval_steps=4,
                          checkpoint_dir="runs/lora-happy", lora_r=8, lora_alpha=16.0,
                          lora_targets="all-linear"),
        data=DataSpec(lang="mix", n_train=0, n_val=64, seq_len=256, task="happy",
                      tokenizer=SHIPPED_TOKENIZER),
    )


def lora_zh() -> Recipe:
    """Notebook 09's second adapter, on the same frozen SFT model: English requests answered
    with Chinese stories (``task="zh-reply"``), rank 8 on ``q_proj``/``v_proj`` only, 300 steps.
    Writes ``runs/lora-zh/adapter.safetensors``."""
    happy = lora_happy()
    return dataclasses.replace(
        happy, name="lora-zh",
        train=happy.train.replace(checkpoint_dir="runs/lora-zh", max_steps=300,
                                  lora_targets="q_proj,v_proj"),
        data=dataclasses.replace(happy.data, lang="en", task="zh-reply"),
    )


def reward_model() -> Recipe:
    """Notebook 10's reward model: the SFT model plus a scalar head, trained on the labeler's
    preferences among its own samples (``tinyllm.rlhf.reward_train``; the probes behind these
    settings are in docs/rlhf_probes.md). ``data.n_train`` / ``n_val``: requests per language
    (4 replies each, at most ``seq_len`` new tokens); ``batch_size``: requests per step.
    Writes ``runs/reward-model/reward_model.safetensors``, shipped as
    ``data/checkpoints/reward_model.safetensors``: held-out pair accuracy 0.698 against the
    labels (0.728 against the true order), 1,069 CPU s on one thread (data/README.md)."""
    return Recipe(
        name="reward-model", model=llama_style(vocab_size=4099), start="shipped:sft", trainer="reward",
        train=TrainConfig(lr=1e-3, min_lr=1e-4, warmup_steps=10, max_steps=384,
                          batch_size=8, weight_decay=0.0, eval_interval=0, log_interval=16,
                          checkpoint_dir="runs/reward-model"),
        data=DataSpec(lang="mix", n_train=1536, n_val=64, seq_len=192,
                      tokenizer=SHIPPED_TOKENIZER),
    )


def _policy(name: str, trainer: str, rl: RLConfig, lr: float, max_steps: int, batch_size: int,
            n_train: int, min_lr: float | None = None) -> Recipe:
    """A notebook-10 policy: the shipped SFT model plus a rank-8 LoRA adapter on every projection,
    trained by ``trainer`` on ``n_train`` training requests per language (replies of at most 192
    tokens). Writes ``runs/<name>/adapter.safetensors`` and ``log.json``."""
    return Recipe(
        name=name, model=llama_style(vocab_size=4099), start="shipped:sft", trainer=trainer, rl=rl,
        train=TrainConfig(lr=lr, min_lr=lr / 10 if min_lr is None else min_lr, warmup_steps=5, max_steps=max_steps,
                          batch_size=batch_size, weight_decay=0.0, eval_interval=0, log_interval=10,
                          checkpoint_dir=f"runs/{name}", lora_r=8, lora_alpha=16.0,
                          lora_targets="all-linear"),
        data=DataSpec(lang="mix", n_train=n_train, n_val=0, seq_len=192, tokenizer=SHIPPED_TOKENIZER),
    )


def dpo() -> Recipe:
    """Notebook 10's DPO policy: labelled pairs among 4 SFT replies to each of 1,024 requests
    per language (at most 12,288), 600 steps of 16 (under one pass), beta 0.35. Shipped:
    sampled true win rate 0.715 against the SFT model, KL 3.6 nats per reply, 19 minutes on
    2 cores. At the paper's beta 0.1 (lr 2e-3) the policy drifted 21 nats and its Chinese fell
    apart (grammar 0.55, win rate 0.35); beta 0.25 over 1.6 passes of 512 requests per
    language overfit (grammar 0.92); the other tries are in data/README.md."""
    return _policy("dpo", "dpo", RLConfig(beta=0.35, group_size=4), lr=2e-3, min_lr=5e-5,
                   max_steps=600, batch_size=16, n_train=1024)


def grpo() -> Recipe:
    """Notebook 10's GRPO policy: 8 requests x 8 replies per step, reward = the true score,
    k3 KL to the SFT model at beta 0.04, one gradient step per rollout. Shipped: sampled true
    win rate 0.860 against the SFT model, 1,159 CPU s. (30 steps at lr 1e-3: 0.53.)"""
    return _policy("grpo", "grpo", RLConfig(beta=0.04, group_size=8, reward="true"), lr=2e-3,
                   min_lr=1e-4, max_steps=120, batch_size=8, n_train=1024)


def ppo() -> Recipe:
    """Notebook 10's PPO policy: 16 requests x 2 replies per step scored by the shipped reward
    model, per-token KL penalty beta 0.05, 4 epochs of 2 mini-batches on each rollout. Shipped:
    sampled true win rate 0.810 against the SFT model (200 held-out requests per language),
    632 CPU s (figures in data/README.md)."""
    return _policy("ppo", "ppo", RLConfig(beta=0.05, group_size=2, epochs=4, mini_batches=2,
                                          reward="reward-model"),
                   lr=1e-3, max_steps=60, batch_size=16, n_train=1024)


def grpo_hack() -> Recipe:
    """Reward hacking: GRPO on the flawed ``hero-count`` proxy with no KL leash (beta 0)."""
    return dataclasses.replace(grpo(), name="grpo-hack", rl=RLConfig(beta=0.0, group_size=8, reward="hero-count"),
                               train=grpo().train.replace(checkpoint_dir="runs/grpo-hack", max_steps=60))


def grpo_hack_kl() -> Recipe:
    """The same flawed proxy with the KL leash on (beta 0.2)."""
    return dataclasses.replace(grpo(), name="grpo-hack-kl", rl=RLConfig(beta=0.2, group_size=8, reward="hero-count"),
                               train=grpo().train.replace(checkpoint_dir="runs/grpo-hack-kl", max_steps=60))


#: Recipe name -> function that builds it. A new stage adds its recipes here.
RECIPES: dict[str, Callable[[], Recipe]] = {"base": base, "sft": sft, "smoke": smoke,
                                            "lora-happy": lora_happy, "lora-zh": lora_zh,
                                            "reward-model": reward_model, "dpo": dpo, "ppo": ppo, "grpo": grpo,
                                            "grpo-hack": grpo_hack, "grpo-hack-kl": grpo_hack_kl}


def get_recipe(name_or_path: str) -> Recipe:
    """A registered recipe by name, or a recipe JSON file (see the module docstring)."""
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
    unknown = set(spec) - {"extends", "name", "start", "trainer", *SECTIONS}
    if unknown:
        raise RecipeError(f"recipe file {path} has unknown keys {sorted(unknown)}; use extends, "
                          f"name, start, trainer, {', '.join(SECTIONS)}")
    recipe = get_recipe(spec.get("extends", "base"))
    overrides = [(f"{section}.{key}", value) for section in SECTIONS for key, value in spec.get(section, {}).items()]
    recipe = apply_overrides(recipe, overrides)
    return dataclasses.replace(recipe, name=spec.get("name", path.stem),
                               start=spec.get("start", recipe.start),
                               trainer=spec.get("trainer", recipe.trainer))


def field_names() -> dict[str, list[str]]:
    """Each override key -> the sections that have it (``{"lr": ["train"], "eps": ["model", "train"]}``)."""
    names: dict[str, list[str]] = {}
    for section, cls in (("model", ModelConfig), ("train", TrainConfig), ("data", DataSpec),
                         ("rl", RLConfig)):
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
                          f"TrainConfig, DataSpec and RLConfig: {', '.join(sorted(field_names()))}")
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
            combination raises the config's own error (e.g. ``ConfigError`` for ``n_heads=7``).
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


def on_device(recipe: Recipe, device: str, autocast: bool | None = None) -> Recipe:
    """``recipe`` trained on ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"mps"``): what
    ``--device`` does. ``autocast=None`` turns bf16 autocast on where the device computes in
    bf16 natively (a recent CUDA GPU) and leaves the recipe's setting elsewhere (off on the CPU).
    """
    from tinyllm.device import native_bf16, resolve_device

    resolved = resolve_device(device)  # fails now, with a clear message, not after data prep
    if autocast is None:
        autocast = recipe.train.autocast or native_bf16(resolved)
    return apply_overrides(recipe, [("train.device", device), ("train.autocast", autocast)])


def start_model(recipe: Recipe) -> tuple[TinyLLM, BPETokenizer | None]:
    """The model a recipe starts from, and its tokenizer (``None``: the data's, from scratch)."""
    kind, _, name = recipe.start.partition(":")
    if recipe.start == "scratch":
        torch.manual_seed(recipe.train.seed)  # the same initial weights every run
        return TinyLLM(recipe.model), None
    if kind == "shipped":
        model, tokenizer = load_pretrained(name)
    elif kind == "recipe":
        source = get_recipe(name).train
        if source.checkpoint_dir is None:
            raise RecipeError(f"start={recipe.start!r}: recipe {name!r} writes no checkpoints")
        path = checkpoint_path(source.checkpoint_dir, source.max_steps)
        if not path.is_file():
            raise RecipeError(f"start={recipe.start!r} needs {path}: run "
                              f"`python -m tinyllm train --recipe {name}` first")
        model = load_model(path)
        tokenizer = load_tokenizer(str(Path(source.checkpoint_dir) / "tokenizer.json"))
    else:
        raise RecipeError(f"start={recipe.start!r}: use 'scratch', 'shipped:NAME' or 'recipe:NAME'")
    if model.config != recipe.model:
        raise RecipeError(f"start={recipe.start!r} is a different model from recipe "
                          f"{recipe.name!r}'s; make the recipe's model config equal to it")
    return model.train(), tokenizer


def pretrain(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
             resume: str | Path | None = None, progress: bool = True) -> tuple[BPETokenizer, History]:
    """The ``pretrain`` trainer: next-token prediction on the recipe's corpus."""
    if recipe.train.lora_r:
        raise RecipeError(f"recipe {recipe.name!r}: lora_r={recipe.train.lora_r} needs a fine-tuning "
                          "trainer (trainer='sft'); pretraining trains every weight, set lora_r=0")
    data = prepare_data(recipe, tokenizer, progress=progress)
    sample_fn = story_sampler(data.tokenizer, recipe.data.lang) if recipe.train.sample_interval else None
    history = train(model, data.train, data.val, recipe.train, bytes_per_token=data.bytes_per_token,
                    sample_fn=sample_fn, resume=resume, progress=progress)
    return data.tokenizer, history


#: Trainer name -> ``trainer(recipe, model, tokenizer, *, resume, progress) -> (tokenizer, history)``.
#: SFT, the reward model, DPO, PPO and GRPO each add one line.
TRAINERS = {"pretrain": pretrain, "sft": sft_trainer, "reward": reward_trainer, "dpo": dpo_trainer,
            "ppo": ppo_trainer, "grpo": grpo_trainer}


def run_recipe(recipe: Recipe, *, resume: str | Path | None = None, progress: bool = True):
    """Build the starting model, train it with the recipe's trainer; ``(model, tokenizer, history)``.

    Under ``torchrun`` it trains with DDP (call ``distributed.init()`` first). Rank 0 writes
    ``tokenizer.json`` and the resolved ``recipe.json`` next to the checkpoints.
    """
    if recipe.trainer not in TRAINERS:
        raise RecipeError(f"trainer={recipe.trainer!r} is unknown; use one of {sorted(TRAINERS)}")
    model, tokenizer = start_model(recipe)
    tokenizer, history = TRAINERS[recipe.trainer](recipe, model, tokenizer, resume=resume,
                                                  progress=progress)
    folder = recipe.train.checkpoint_dir
    if folder is not None and distributed.is_main():
        Path(folder).mkdir(parents=True, exist_ok=True)
        tokenizer.save(Path(folder) / "tokenizer.json")
        # The resolved recipe, overrides included: `--recipe <folder>/recipe.json` runs it again.
        (Path(folder) / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n",
                                                  encoding="utf-8")
    return model, tokenizer, history
