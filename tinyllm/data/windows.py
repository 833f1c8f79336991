"""From token ids to training batches: tokenise a corpus, cut sliding windows, batch them.

A language model learns to predict the next token, so each training sample is a window of
``max_length`` ids (the input) and the same window shifted one token to the right (the target):

    ids      t0 t1 t2 t3 t4 t5 t6 t7 t8 ...
    input    t0 t1 t2 t3                    (max_length = 4)
    target      t1 t2 t3 t4
    next input            t4 t5 t6 t7       (stride = 4: windows touch, no overlap)

A window needs ``max_length + 1`` ids. With ``n`` ids there are
``(n - max_length - 1) // stride + 1`` windows; a stride smaller than ``max_length`` makes them
overlap (more samples, more repetition), a larger one skips ids.

Taught in notebook 02 (data pipeline).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset


def _as_ids(ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    ids = torch.as_tensor(ids)
    if ids.dim() != 1:
        raise ValueError(
            f"ids must be one flat sequence of token ids, got shape {tuple(ids.shape)}; "
            "concatenate documents first (see concat_ids)"
        )
    if ids.is_floating_point() or ids.dtype == torch.bool:
        raise ValueError(f"ids must be integers, got dtype {ids.dtype}")
    return ids.long()


def _check_window(n_ids: int, max_length: int, stride: int) -> None:
    if not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be a positive int, got {max_length!r}")
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(
            f"stride must be a positive int, got {stride!r}; stride = max_length gives windows "
            "that touch, a smaller stride makes them overlap"
        )
    if n_ids < max_length + 1:
        raise ValueError(
            f"max_length={max_length} needs at least {max_length + 1} ids (the window plus one "
            f"for the shifted target), but there are only {n_ids}; use a smaller max_length or "
            "more text"
        )


def n_windows(n_ids: int, max_length: int, stride: int) -> int:
    """How many windows `sliding_windows` cuts from ``n_ids`` ids."""
    _check_window(n_ids, max_length, stride)
    return (n_ids - max_length - 1) // stride + 1


def sliding_windows(
    ids: Sequence[int] | torch.Tensor, max_length: int, stride: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """All (input, target) windows of a flat id sequence.

    Returns:
        ``(inputs, targets)``, each ``(n_windows, max_length)`` int64, with
        ``targets[:, :-1] == inputs[:, 1:]``; window ``k`` starts at id ``k * stride``.

    >>> x, y = sliding_windows(range(10), max_length=4, stride=4)
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2, 3], [4, 5, 6, 7]], [[1, 2, 3, 4], [5, 6, 7, 8]])
    """
    ids = _as_ids(ids)
    _check_window(len(ids), max_length, stride)
    windows = ids.unfold(0, max_length + 1, stride)  # (n_windows, max_length + 1), a view
    return windows[:, :-1].clone(), windows[:, 1:].clone()


class WindowDataset(Dataset):
    """A ``Dataset`` of (input, target) windows, cut on the fly (no copy of the ids per window).

    ``dataset[k]`` is ``(ids[k*stride : k*stride+max_length], ids[k*stride+1 : k*stride+max_length+1])``,
    two int64 tensors of shape ``(max_length,)``; the same windows as `sliding_windows`.
    """

    def __init__(self, ids: Sequence[int] | torch.Tensor, max_length: int, stride: int):
        self.ids = _as_ids(ids)
        self.max_length = max_length
        self.stride = stride
        self._len = n_windows(len(self.ids), max_length, stride)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -self._len <= index < self._len:
            raise IndexError(f"window {index} out of range for {self._len} windows")
        start = (index % self._len) * self.stride
        window = self.ids[start : start + self.max_length + 1]
        return window[:-1], window[1:]


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = True,
    seed: int = 0,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` of ``(inputs, targets)`` batches, each ``(batch_size, max_length)``.

    Shuffling uses its own generator seeded with ``seed``, so the batch order is the same on
    every run and does not depend on (or disturb) the global random state.
    ``drop_last=True`` drops a short final batch (all batches the same shape).
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if drop_last and len(dataset) < batch_size:
        raise ValueError(
            f"the dataset has {len(dataset)} samples, fewer than batch_size={batch_size}, so "
            "drop_last=True would leave no batch at all; lower batch_size, use a smaller "
            "stride, or pass drop_last=False"
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )


def tokenize_dataset(
    dataset: Any,
    tokenizer: Any,
    *,
    text_column: str = "text",
    append_eot: bool = True,
    num_proc: int | None = None,
    batch_size: int = 1000,
) -> Any:
    """Tokenise a ``datasets.Dataset`` with ``dataset.map`` (batched, optionally in processes).

    Adds an ``"ids"`` column (a list of ids per document, followed by ``<|endoftext|>`` when
    ``append_eot``, so that concatenated documents stay separated) and removes the other columns.

    Args:
        dataset: a ``datasets.Dataset`` with a string column ``text_column``.
        tokenizer: a ``tiktoken.Encoding`` or `BPETokenizer` (anything with
            ``encode_ordinary_batch`` and ``eot_token``). Special-token text inside documents
            is encoded as ordinary text: only the separators we add are real specials.
        num_proc: worker processes for ``map`` (``None``: this process).
    """
    if text_column not in dataset.column_names:
        raise ValueError(
            f"dataset has no column {text_column!r} (columns: {dataset.column_names}); "
            "pass text_column=..."
        )
    eot = [tokenizer.eot_token] if append_eot else []

    def encode_batch(batch: dict[str, list]) -> dict[str, list]:
        return {"ids": [ids + eot for ids in tokenizer.encode_ordinary_batch(batch[text_column])]}

    return dataset.map(
        encode_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        remove_columns=dataset.column_names,
        desc="tokenizing",
    )


def concat_ids(tokenized: Any, column: str = "ids") -> torch.Tensor:
    """All documents' ids, end to end, as one flat int64 tensor (input to `sliding_windows`)."""
    return torch.tensor([i for ids in tokenized[column] for i in ids], dtype=torch.long)
