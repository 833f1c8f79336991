"""Checkpoints: one safetensors file with the weights, the optimizer state and everything else
needed to resume a run exactly, written atomically.

Taught in notebook 07 (pretraining).

One file holds:

- tensors ``model.<name>``: the weights (a tied output head is stored once, as its embedding);
- tensors ``optimizer.<index>.<name>``: AdamW's moments and step counts (only when an
  optimizer is saved; a weights-only file is a third of the size, which is what we ship);
- tensor ``rng.torch``: PyTorch's random-number state (dropout draws from it);
- metadata (strings, JSON inside): the ``ModelConfig`` (when the model has one: ``train``
  trains any model whose ``model(x, y)`` returns ``(logits, loss)``), the step, the
  ``TrainConfig``, the optimizer's hyper-parameters and the training history.

Every function takes a path or an open binary file object (``open(path, "rb")``, ``io.BytesIO``);
only a path is written atomically.

Why safetensors and not ``torch.save``: ``torch.save`` writes a pickle, and unpickling a file
can run any code its author put in it. A safetensors file is a JSON header and raw tensor bytes,
so loading one only ever reads numbers (``safetensors.safe_open`` needs no torch code at all).

Writing it atomically, and reading it from a path or a file object: ``tinyllm.checkpoint_file``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tinyllm.checkpoint_file import (  # re-exported: checkpoints are used through this module
    FORMAT,
    CheckpointError,
    Source,
    label,
    read,
    read_bytes,
    save_atomically,
    write,
)
from tinyllm.config import ModelConfig
from tinyllm.model import TinyLLM

__all__ = ["FORMAT", "CheckpointError", "CheckpointInfo", "Source", "check_config", "load_checkpoint",
           "load_config", "load_model", "read_info", "save_atomically", "save_checkpoint",
           "unique_state_dict"]


@dataclass
class CheckpointInfo:
    """What `load_checkpoint` found besides the tensors it loaded.

    Attributes:
        step: optimizer steps taken when the checkpoint was written.
        model_config: the ``ModelConfig`` of the saved model (``None``: a model without one).
        train_config: the ``TrainConfig`` as a dict (``None`` for a weights-only file).
        history: the training history as a dict (``None`` if none was saved).
        has_optimizer: whether optimizer state is in the file.
    """

    step: int
    model_config: ModelConfig | None
    train_config: dict[str, Any] | None
    history: dict[str, Any] | None
    has_optimizer: bool


def unique_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` with every tensor once (safetensors refuses to store one twice).

    With tied embeddings, ``lm_head.weight`` and ``embed_tokens.weight`` are the same tensor;
    only the first name is kept, and loading fills the other through the tie.
    """
    unique, seen = {}, set()
    for name, tensor in model.state_dict().items():
        if tensor.numel() and tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        unique[name] = tensor
    return unique


def save_checkpoint(
    path: Source,
    model: nn.Module,
    *,
    step: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    train_config: Any = None,
    history: Any = None,
    weights_dtype: torch.dtype | None = None,
) -> Source:
    """Write ``model`` (and optionally the optimizer, config and history) to ``path``, atomically.

    Args:
        path: the ``.safetensors`` file to write (its folder is created if needed), or a binary
            file object to write it into.
        model: a ``TinyLLM`` (its ``.config`` is saved with it), or any module.
        step: optimizer steps taken so far.
        optimizer: also save its state, to resume training; leave out for a weights-only file.
        train_config: a ``TrainConfig`` (any dataclass) to record with the run.
        history: a ``History`` (anything with ``to_dict()``) to record with the run.
        weights_dtype: store the weights in this dtype (e.g. ``torch.float16`` halves a
            shipped file); `load_checkpoint` casts them back to the model's dtype.

    Returns:
        The path written (or the file object).
    """
    tensors = {
        f"model.{name}": t.detach().to("cpu", weights_dtype or t.dtype).contiguous()
        for name, t in unique_state_dict(model).items()
    }
    metadata = {"format": FORMAT, "step": str(step)}
    if isinstance(getattr(model, "config", None), ModelConfig):
        metadata["model_config"] = json.dumps(dataclasses.asdict(model.config))
    if optimizer is not None:
        state = optimizer.state_dict()
        for index, param_state in state["state"].items():
            for name, value in param_state.items():
                tensors[f"optimizer.{index}.{name}"] = value.detach().cpu().contiguous()
        metadata["optimizer_groups"] = json.dumps(state["param_groups"])
        # Saved with the optimizer, because only a run that will resume needs it.
        tensors["rng.torch"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            tensors["rng.cuda"] = torch.cuda.get_rng_state()  # dropout on a GPU draws from this
    if train_config is not None:
        metadata["train_config"] = json.dumps(dataclasses.asdict(train_config))
    if history is not None:
        metadata["history"] = json.dumps(history.to_dict())

    return write(path, tensors, metadata)


def _info(metadata: dict[str, str]) -> CheckpointInfo:
    return CheckpointInfo(
        step=int(metadata["step"]),
        model_config=ModelConfig(**json.loads(metadata["model_config"])) if "model_config" in metadata else None,
        train_config=json.loads(metadata["train_config"]) if "train_config" in metadata else None,
        history=json.loads(metadata["history"]) if "history" in metadata else None,
        has_optimizer="optimizer_groups" in metadata,
    )


def read_info(path: Source) -> CheckpointInfo:
    """What a checkpoint holds besides its tensors (step, configs, history), without loading them."""
    metadata, _ = read(path, with_tensors=False)
    return _info(metadata)


def load_config(path: Source) -> ModelConfig:
    """The ``ModelConfig`` stored in a checkpoint (build the matching model with ``TinyLLM(...)``)."""
    config = read_info(path).model_config
    if config is None:
        raise CheckpointError(f"checkpoint {label(path)} was saved from a model without a ModelConfig; "
                              "build that model yourself and load into it with load_checkpoint(path, model)")
    return config


def check_config(saved: ModelConfig, model_config: ModelConfig, path: str | os.PathLike = "checkpoint") -> None:
    """Raise one `CheckpointError` naming every field in which two configs differ."""
    saved_fields, model_fields = dataclasses.asdict(saved), dataclasses.asdict(model_config)
    different = [name for name in model_fields if saved_fields.get(name) != model_fields[name]]
    if different:
        details = ", ".join(
            f"{name}={saved_fields.get(name)!r} (the model has {model_fields[name]!r})" for name in different
        )
        raise CheckpointError(
            f"checkpoint {path} was saved from a different model: {details}. Build the model "
            f"from the checkpoint's own config: TinyLLM(load_config({str(path)!r})), or use load_model"
        )


def load_checkpoint(
    path: Source,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    restore_rng: bool = False,
) -> CheckpointInfo:
    """Load a checkpoint into ``model`` (and ``optimizer``), in place.

    Args:
        path: a file written by `save_checkpoint` (a path or an open binary file).
        model: a ``TinyLLM`` with the same config as the saved one, or the same kind of module.
        optimizer: an optimizer built the same way as the saved one (``make_optimizer``);
            its state is restored, so training resumes exactly where it stopped.
        restore_rng: also set PyTorch's global random state to the one saved with the
            optimizer (what resuming a run with dropout needs; ``train(resume=...)`` asks for it).

    Raises:
        CheckpointError: the file is missing, truncated or corrupt; it was saved from a model
            with another config (the message names the fields); an optimizer is given but the
            file has no optimizer state; ``restore_rng`` but the file has no random state.
    """
    metadata, tensors = read(path)
    path = label(path)
    info = _info(metadata)
    model_config = getattr(model, "config", None)
    if info.model_config is not None and isinstance(model_config, ModelConfig):
        check_config(info.model_config, model_config, path)

    weights = {name[len("model."):]: t for name, t in tensors.items() if name.startswith("model.")}
    expected = set(unique_state_dict(model))
    if set(weights) != expected:
        raise CheckpointError(
            f"checkpoint {path} does not match the model's parameters: missing "
            f"{sorted(expected - set(weights))}, unexpected {sorted(set(weights) - expected)}"
        )
    state = model.state_dict()
    wrong = [f"{n} {tuple(t.shape)} (the model has {tuple(state[n].shape)})"
             for n, t in weights.items() if t.shape != state[n].shape]
    if wrong:
        raise CheckpointError(f"checkpoint {path} has tensors of other shapes: {', '.join(wrong[:5])}")
    resuming = optimizer is not None or restore_rng
    if resuming and not info.has_optimizer:  # checked first: a refused resume leaves the model as it was
        raise CheckpointError(
            f"checkpoint {path} holds weights only, no optimizer or random state, so training "
            "cannot resume from it exactly; start a new run from these weights instead"
        )
    # strict=False only because tied weights are stored once; the checks above cover the rest.
    model.load_state_dict(weights, strict=False)
    if optimizer is not None:
        optimizer.load_state_dict(_optimizer_state(metadata, tensors))
    if restore_rng:
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and torch.cuda.is_available():
            torch.cuda.set_rng_state(tensors["rng.cuda"])
    return info


def _optimizer_state(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> dict:
    """Rebuild ``optimizer.state_dict()`` from the file's tensors and JSON."""
    groups = json.loads(metadata["optimizer_groups"])
    for group in groups:
        group["betas"] = tuple(group["betas"])  # JSON has no tuples; AdamW expects one
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = tensor
    return {"state": state, "param_groups": groups}


def load_model(path: Source) -> TinyLLM:
    """A ``TinyLLM`` built from a checkpoint's config, with its weights, in eval mode.

    The one place that builds a model and then loads its weights into it.
    """
    if hasattr(path, "read"):  # a stream is read once: keep its bytes for the two reads below
        path = io.BytesIO(read_bytes(path))
    model = TinyLLM(load_config(path))
    if hasattr(path, "seek"):
        path.seek(0)
    load_checkpoint(path, model)
    return model.eval()
