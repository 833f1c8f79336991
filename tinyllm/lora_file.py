"""LoRA adapter files: one adapter alone, in kilobytes, tied to the base model it was trained on.

Taught in notebook 09 (LoRA), with `tinyllm.lora`.

An adapter is useless without its base model, so the file records the base's weights hash
(`base_sha256`) beside the adapter's `LoRAConfig` and target layers, and `load_adapter` refuses
another base with an error naming both hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from tinyllm.checkpoint import CheckpointError, save_atomically
from tinyllm.lora import add_lora, linear_layers, lora_layers, lora_state_dict, require_unmerged

#: Written into every adapter file's metadata; a file without it is not one of ours.
FORMAT = "tinyllm-lora-v1"


def base_sha256(model: nn.Module) -> str:
    """sha256 of the base model's weights (names, dtypes, shapes and values), adapters left out.

    The same before and after `add_lora` (a wrapped ``q_proj.base_layer.weight`` counts as
    ``q_proj.weight``), so an adapter file can name the base it was trained on.
    """
    require_unmerged(model, "hash the base weights")
    weights = {
        key.replace(".base_layer.", "."): tensor
        for key, tensor in model.state_dict().items()
        if ".lora_" not in key
    }
    digest = hashlib.sha256()
    for key, tensor in sorted(weights.items()):
        digest.update(f"{key} {tensor.dtype} {tuple(tensor.shape)}\n".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def save_adapter(path: str | os.PathLike, model: nn.Module, name: str = "default") -> Path:
    """Write adapter ``name`` alone to the ``.safetensors`` file ``path`` (returned), atomically.

    The metadata records its `LoRAConfig`, the ``targets`` (full module names) and the
    `base_sha256` of the model's base weights.
    """
    require_unmerged(model, "save an adapter")
    path = Path(path)
    tensors = {key: t.contiguous() for key, t in lora_state_dict(model, name).items()}
    layers = {n: layer for n, layer in lora_layers(model).items() if name in layer.configs}
    config = next(iter(layers.values())).configs[name]
    metadata = {key: json.dumps(value) for key, value in dataclasses.asdict(config).items()}
    metadata |= {"format": FORMAT, "name": name, "targets": json.dumps(list(layers))}
    metadata["base_sha256"] = base_sha256(model)
    return save_atomically(path, tensors, metadata)


def load_adapter(path: str | os.PathLike, model: nn.Module, name: str | None = None) -> str:
    """Add the adapter saved by `save_adapter` in ``path`` to ``model``, the base model it was
    trained on, and make it active under ``name`` (default: its saved name), which is returned.

    Raises:
        CheckpointError: the file is missing, corrupt or not an adapter; the model lacks the
            layers it adapts; the model's base weights differ from the ones it was trained on.
    """
    require_unmerged(model, "load an adapter")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"adapter file {path} does not exist")
    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"adapter file {path} is truncated or corrupt ({error})") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a tinyllm LoRA adapter (its metadata has no format={FORMAT!r}); "
            "write adapters with tinyllm.lora_file.save_adapter"
        )
    targets, layers = json.loads(metadata["targets"]), linear_layers(model)
    missing = [t for t in targets if t not in layers]
    if missing:
        raise CheckpointError(f"adapter {path} adapts layers this model does not have: {missing}")
    saved_sha, model_sha = metadata["base_sha256"], base_sha256(model)
    if saved_sha != model_sha:
        raise CheckpointError(
            f"adapter {path} was trained on a base model with sha256 {saved_sha}, but this "
            f"model's base weights have sha256 {model_sha}; load the adapter onto the base "
            "model it was trained on"
        )
    config = {key: json.loads(metadata[key]) for key in ("r", "alpha", "dropout", "use_rslora")}
    name = name or metadata["name"]
    add_lora(model, name, targets=tuple(targets), **config)
    with torch.no_grad():
        for key, value in lora_state_dict(model, name).items():
            value.copy_(tensors[key])  # shares memory with the parameter, so this fills it
    return name
