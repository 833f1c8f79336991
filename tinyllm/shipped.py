"""The shipped model files under ``data/``: load them (checked), and make one from a training run.

Taught in notebook 07 (pretraining); notebooks 08-10 start from ``load_pretrained("base")``.

``load_pretrained("base")`` returns ``(model, tokenizer)``: the course's Llama-style base model,
trained by ``python -m tinyllm train --recipe base``, and the BPE tokenizer it was trained
with; ``load_pretrained("sft")`` that model after supervised fine-tuning (``--recipe sft``)
and the tokenizer with the chat template's tokens. ``load_shipped_adapter(model, "happy")``
adds one of notebook 09's LoRA adapters to the SFT model. Both files are checked against the sha256
recorded in ``tinyllm.paths.SHIPPED_FILES`` before use, so a truncated or edited file stops
with an error that says how to restore it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tinyllm.checkpoint import CheckpointError, load_model, read_info, save_checkpoint
from tinyllm.data.prepare import SHIPPED_TOKENIZER, load_tokenizer
from tinyllm.lora_file import load_adapter
from tinyllm.model import TinyLLM
from tinyllm.paths import DataFileError, data_file
from tinyllm.rlhf.reward_model import RewardModel, load_reward_model
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History
from tinyllm.train_config import TrainConfig

#: Shipped model name -> (weights file, tokenizer file), both relative to ``data/``.
PRETRAINED: dict[str, tuple[str, str]] = {
    "base": ("checkpoints/base.safetensors", SHIPPED_TOKENIZER),
    # The base model fine-tuned on conversations (notebook 08), with the chat tokens 4096-4098.
    "sft": ("checkpoints/sft.safetensors", "tokenizer/tinytales-chat-4099.json"),
}

#: Shipped LoRA adapter name -> (file under ``data/``, the recipe that trains it). All adapt the
#: shipped SFT model: notebook 09's two, notebook 10's RLHF policies.
ADAPTERS: dict[str, tuple[str, str]] = {
    "happy": ("adapters/lora-happy.safetensors", "lora-happy"),
    "zh": ("adapters/lora-zh.safetensors", "lora-zh"),
    # Notebook 10's policies (their training logs ship as data/rlhf/<name>.json).
    "ppo": ("adapters/ppo.safetensors", "ppo"),
    "dpo": ("adapters/dpo.safetensors", "dpo"),
    "grpo": ("adapters/grpo.safetensors", "grpo"),
    "grpo-hack": ("adapters/grpo-hack.safetensors", "grpo-hack"),
    "grpo-hack-kl": ("adapters/grpo-hack-kl.safetensors", "grpo-hack-kl"),
}


class PretrainedError(RuntimeError):
    """A shipped model is unknown, missing or corrupt; the message says how to fix it."""


def load_pretrained(name: str = "base") -> tuple[TinyLLM, BPETokenizer]:
    """A shipped model and its tokenizer, from ``data/``, checked against their sha256.

    Returns:
        ``(model, tokenizer)``; the model is in eval mode on the CPU.

    Raises:
        PretrainedError: an unknown name, or a missing or corrupt file (the message says how
            to restore it: ``git checkout -- data/...`` or retrain with its recipe).
    """
    if name not in PRETRAINED:
        raise PretrainedError(f"unknown pretrained model {name!r}; the shipped ones are {sorted(PRETRAINED)}")
    weights, tokenizer_file = PRETRAINED[name]
    retrain = (f"or retrain it with `python -m tinyllm train --recipe {name}` and "
               f"`python -m tinyllm export runs/{name}/step_NNNNNN.safetensors data/{weights}` (the last "
               "step, the one the run ended with)")
    try:
        path = data_file(weights)
    except DataFileError as error:
        raise PretrainedError(f"{error} {retrain[0].upper()}{retrain[1:]}.") from None
    try:
        tokenizer = load_tokenizer(tokenizer_file)
    except DataFileError as error:
        raise PretrainedError(f"{error} To rebuild the tokenizer see data/README.md "
                              "(section tokenizer).") from None
    try:
        model = load_model(path)
    except CheckpointError as error:
        raise PretrainedError(f"{error}. Restore it with `git checkout -- data/{weights}`, {retrain}.") from None
    if model.config.vocab_size != tokenizer.n_vocab:
        raise PretrainedError(f"data/{weights} has vocab_size={model.config.vocab_size} but "
                              f"data/{tokenizer_file} has {tokenizer.n_vocab} tokens; restore both files")
    return model, tokenizer


def export_weights(source: str | Path, target: str | Path,
                   dtype: torch.dtype = torch.float16) -> Path:
    """Copy a training checkpoint to a weights-only file (what ``data/checkpoints/`` ships).

    Keeps the weights, config, step, train config and loss history (for notebook 07's plots);
    drops the optimizer state (2/3 of a full checkpoint) and the RNG state, and stores the
    weights in float16 (half the size; loading casts them back to float32, and the validation
    loss moves only in the fourth decimal, see data/README.md)::

        python -m tinyllm export runs/base/step_002400.safetensors data/checkpoints/base.safetensors
    """
    model, info = load_model(source), read_info(source)
    train_config = TrainConfig(**info.train_config) if info.train_config else None
    history = History.from_dict(info.history) if info.history else None
    return save_checkpoint(target, model, step=info.step, train_config=train_config,
                           history=history, weights_dtype=dtype)


def load_shipped_adapter(model: TinyLLM, name: str) -> str:
    """Add the shipped LoRA adapter ``name`` (see `ADAPTERS`) to ``model``, the shipped SFT
    model, checked against its sha256; returns the adapter's name on the model (``name``).

    Raises:
        PretrainedError: an unknown name, or a missing or corrupt file.
        CheckpointError: ``model`` is not the base the adapter was trained on.
    """
    if name not in ADAPTERS:
        raise PretrainedError(f"unknown adapter {name!r}; the shipped ones are {sorted(ADAPTERS)}")
    file, recipe = ADAPTERS[name]
    try:
        path = data_file(file)
    except DataFileError as error:
        raise PretrainedError(f"{error} Or retrain it: `python -m tinyllm train --recipe {recipe}` "
                              f"and `cp runs/{recipe}/adapter.safetensors data/{file}`.") from None
    return load_adapter(path, model, name)


def export_hf_folder(source: str | Path, folder: str | Path, tokenizer: str | Path | None = None) -> Path:
    """A shipped model (``"base"``, ``"sft"``) or a training checkpoint -> a Hugging Face folder.

    A checkpoint's tokenizer is ``tokenizer`` or, by default, the ``tokenizer.json`` that
    ``train`` writes next to it::

        python -m tinyllm export --format hf sft exported/sft
        python -m tinyllm export --format hf runs/base/step_002400.safetensors exported/mine
    """
    from tinyllm.hf import export_hf  # the Hugging Face layout is needed by this command only

    if str(source) in PRETRAINED:
        model, tok = load_pretrained(str(source))
    else:
        source = Path(source)
        tokenizer_path = Path(tokenizer) if tokenizer else source.parent / "tokenizer.json"
        if not source.is_file():
            raise CheckpointError(f"{source} is neither a shipped model ({', '.join(PRETRAINED)}) "
                                  "nor a checkpoint file")
        if not tokenizer_path.is_file():
            raise CheckpointError(f"no tokenizer for {source}: {tokenizer_path} does not exist; "
                                  "pass --tokenizer FILE (the .json the model was trained with)")
        model, tok = load_model(source), BPETokenizer.load(tokenizer_path)
    return export_hf(model, tok, folder)


#: The shipped reward model (notebook 10), and the recipe that trains it.
REWARD_MODEL = ("checkpoints/reward_model.safetensors", "reward-model")


def load_shipped_reward_model() -> RewardModel:
    """The shipped reward model (``rlhf.reward_model.RewardModel``, float32, eval mode), checked
    against its sha256. Raises ``PretrainedError`` if the file is missing or corrupt."""
    file, recipe = REWARD_MODEL
    try:
        path = data_file(file)
    except DataFileError as error:
        raise PretrainedError(f"{error} Or retrain it: `python -m tinyllm train --recipe {recipe}` and "
                              f"`cp runs/{recipe}/reward_model.safetensors data/{file}`.") from None
    return load_reward_model(path)
