"""Token ids on disk: one flat ``uint16`` file, memory-mapped, and random windows read from it.

A real pretraining corpus has billions of tokens: as an int64 tensor (8 bytes per token) it
would not fit in memory. Any vocabulary below 65,536 tokens (GPT-2's 50,257, the course's 4,096)
fits in 16 bits, so the ids are written once as raw ``uint16`` (2 bytes per token, no header,
as nanoGPT's ``train.bin``) and opened with ``numpy.memmap``: nothing is read until a window is
sliced, and then only the pages it touches. Instead of a fixed list of windows, each training
step draws ``batch_size`` random start offsets::

    starts   ~ uniform over 0 .. n - max_length - 1
    x[b]     = ids[starts[b]     : starts[b] + max_length]
    y[b]     = ids[starts[b] + 1 : starts[b] + max_length + 1]     (x shifted by one)

Taught in notebook 02 (data pipeline), beside the sliding windows of `tinyllm.data.windows`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

#: The largest token id a ``uint16`` file can hold.
MAX_ID = 2**16 - 1


def write_token_file(ids: Sequence[int] | torch.Tensor | np.ndarray, path: str | os.PathLike) -> Path:
    """Write a flat sequence of token ids as raw ``uint16`` (2 bytes each), atomically.

    Args:
        ids: ``(n,)`` integer ids, each in ``0 .. 65535`` (a list, a tensor or a NumPy array,
            an opened token file included).
        path: the file to write (replaced if it exists).

    Raises:
        ValueError: ``ids`` is empty, not flat, not integers, or holds an id outside ``0 .. 65535``.
    """
    ids = ids.numpy(force=True) if isinstance(ids, torch.Tensor) else np.asarray(ids)
    if ids.size == 0:
        raise ValueError("ids is empty: there are no token ids to write (was the text empty?)")
    if ids.ndim != 1 or ids.dtype.kind not in "iu":  # signed or unsigned integers
        raise ValueError(f"ids must be one flat sequence of integer token ids, got shape "
                         f"{tuple(ids.shape)} and dtype {ids.dtype}; concatenate documents first")
    if int(ids.min()) < 0 or int(ids.max()) > MAX_ID:
        raise ValueError(f"token ids must be in 0 .. {MAX_ID} to fit in uint16, got "
                         f"{int(ids.min())} .. {int(ids.max())}; a vocabulary of more than "
                         "65,536 tokens needs a uint32 file")
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    ids.astype(np.uint16).tofile(temporary)
    os.replace(temporary, path)  # a crash never leaves half a file under the real name
    return path


def open_token_file(path: str | os.PathLike, dtype: str = "uint16") -> np.memmap:
    """Memory-map a file written by `write_token_file`: a read-only ``(n,)`` uint16 array.

    ``dtype="uint32"`` opens the 4-byte files that `tinyllm.data.tokens` writes for
    vocabularies beyond 65,536 ids.

    Raises:
        FileNotFoundError: no such file.
        ValueError: its size is not a whole number of ids, so it is not a file of ``dtype`` ids.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no token file at {path}; write one with write_token_file(ids, path)")
    size, width = path.stat().st_size, np.dtype(dtype).itemsize
    if size % width or size == 0:
        raise ValueError(f"{path} has {size} bytes; a {dtype} token file holds {width} bytes per token "
                         "and at least one token (was it written by write_token_file?)")
    return np.memmap(path, dtype=dtype, mode="r")


def random_windows(
    tokens: np.ndarray | torch.Tensor,
    batch_size: int,
    max_length: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of windows at random offsets: ``(x, y)``, each ``(batch_size, max_length)`` int64.

    Args:
        tokens: ``(n,)`` ids, e.g. `open_token_file`'s memory map (only the windows are read).
        generator: the random source of the start offsets (seed it to repeat a batch).

    Raises:
        ValueError: ``batch_size`` or ``max_length`` is not positive, or ``tokens`` has fewer
            than ``max_length + 1`` ids.
    """
    for name, value in (("batch_size", batch_size), ("max_length", max_length)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if len(tokens) < max_length + 1:
        raise ValueError(f"max_length={max_length} needs at least {max_length + 1} tokens (the "
                         f"window plus one for the shifted target), but there are only "
                         f"{len(tokens)}; use a smaller max_length or more text")
    starts = torch.randint(len(tokens) - max_length, (batch_size,), generator=generator).tolist()
    # int64 because embedding lookups and cross_entropy take int64 ids; uint16 is only storage.
    rows = [torch.as_tensor(np.asarray(tokens[s : s + max_length + 1], dtype=np.int64)) for s in starts]
    batch = torch.stack(rows)  # (batch_size, max_length + 1)
    return batch[:, :-1], batch[:, 1:]
