"""The checkpoint file itself: one safetensors file, written atomically, read from a path or an
open binary file object (``open(path, "rb")``, ``io.BytesIO``).

Taught in notebook 07 (pretraining), with ``tinyllm.checkpoint``, which decides what goes in it.

Why atomic: a run killed while writing (Ctrl-C, out of disk, a preempted machine) must not
leave a half-written file under the real name. We write to a temporary file in the same folder
and ``os.replace`` it over the target, which the operating system does in one step: readers see
the old file or the new one, never a mix. (A file object is the caller's to manage.)
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import IO

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

#: Written into every checkpoint's metadata; a file without it is not one of ours.
FORMAT = "tinyllm-checkpoint-v1"

#: Where a checkpoint is: a path, or a binary file object opened by the caller.
Source = str | os.PathLike | IO[bytes]


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, truncated, or for a different model."""


def save_atomically(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    """Write a safetensors file so that ``path`` holds either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so os.replace is a rename within one file system (atomic); the process id
    # keeps two writers from sharing a temporary name.
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        # Written by Python's open(), not safetensors' save_file: its writer creates the file
        # readable by its owner only (mode 0600), so on a shared machine nobody else could load
        # it; open() follows the user's umask, as every other file does.
        with open(temporary, "wb") as f:
            f.write(save_bytes(tensors, metadata=metadata))
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write(target: Source, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Source:
    """`save_atomically` to a path, or the same bytes into an open binary file."""
    if isinstance(target, io.TextIOBase):
        raise CheckpointError(f"{label(target)} was opened in text mode; open it with open(path, 'wb')")
    if hasattr(target, "write"):
        target.write(save_bytes(tensors, metadata=metadata))
        return target
    return save_atomically(Path(target), tensors, metadata)


def label(source: Source) -> str:
    """How messages name ``source``: its path, or the file object's name."""
    return str(getattr(source, "name", "<file object>")) if hasattr(source, "read") else str(source)


def read_bytes(stream: IO[bytes]) -> bytes:
    """Everything in an open binary file; a `CheckpointError` for a file opened in text mode
    (whose ``read`` would decode the bytes as text, and fail on them)."""
    data = None if isinstance(stream, io.TextIOBase) else stream.read()
    if not isinstance(data, bytes):
        raise CheckpointError(f"{label(stream)} was opened in text mode; open it with open(path, 'rb')")
    return data


def _read_stream(stream: IO[bytes]) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors from an open binary file (safetensors: 8-byte header size, JSON, data)."""
    data = read_bytes(stream)
    size = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
    return metadata, load_bytes(data)


def read(source: Source, *, with_tensors: bool = True) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors of a checkpoint file, or a `CheckpointError` that says what is wrong."""
    stream = hasattr(source, "read")
    if not stream and not Path(source).is_file():
        raise CheckpointError(f"checkpoint {source} does not exist")
    try:
        if stream:
            metadata, tensors = _read_stream(source)
        else:
            with safe_open(source, framework="pt") as f:
                metadata = f.metadata() or {}
                tensors = {name: f.get_tensor(name) for name in f.keys()} if with_tensors else {}
    except CheckpointError:
        raise
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {label(source)} is truncated or corrupt and cannot be read ({error}); "
            "write it again, or restore the file (git checkout / download it again)"
        ) from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{label(source)} is a safetensors file but not a tinyllm checkpoint (its metadata has no "
            f"format={FORMAT!r}); save checkpoints with tinyllm.checkpoint.save_checkpoint"
        )
    return metadata, tensors
