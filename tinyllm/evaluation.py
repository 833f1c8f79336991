"""Evaluation: held-out loss, perplexity, and bits per byte.

Taught in notebook 07 (pretraining).

The training loss says how well the model fits the batches it learns from; the loss on text it
never trains on (validation) says how well it generalises. Perplexity ``exp(loss)`` and bits
per byte are the same number in units people compare: the first per token, the second per
byte of text, independent of the tokenizer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import Dataset

from tinyllm.device import model_device
from tinyllm.model import IGNORE_INDEX
from tinyllm.precision import autocast_context


@dataclass(frozen=True)
class EvalResult:
    """Validation figures. ``bits_per_byte`` is ``None`` when bytes-per-token is not known."""

    loss: float
    perplexity: float
    bits_per_byte: float | None
    tokens: int


def bytes_per_token(text: str, ids: Iterable[int] | torch.Tensor) -> float:
    """UTF-8 bytes of ``text`` per token of its encoding ``ids``."""
    n_tokens = len(ids)
    if n_tokens == 0:
        raise ValueError("ids is empty; encode the validation text first")
    return len(text.encode("utf-8")) / n_tokens


def bits_per_byte(loss: float, bytes_per_token: float) -> float:
    """Convert a mean next-token loss (nats per token) into bits per byte of text.

    ``loss / ln 2`` is bits per token; dividing by the bytes each token covers gives bits per
    byte. Loss and perplexity depend on the tokenizer (a bigger vocabulary makes each token
    carry more text and harder to guess), bits per byte does not: it is how well the model
    compresses the text itself, so it compares runs with different tokenizers.
    """
    return loss / (math.log(2) * bytes_per_token)


def eval_batches(dataset: Dataset, batch_size: int, max_batches: int | None = None):
    """The first ``max_batches`` batches of ``dataset`` in order (the same ones every time)."""
    n_batches = math.ceil(len(dataset) / batch_size)
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)
    for b in range(n_batches):
        pairs = [dataset[i] for i in range(b * batch_size, min(len(dataset), (b + 1) * batch_size))]
        yield torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Dataset | Iterable[tuple[torch.Tensor, torch.Tensor]],
    bytes_per_token: float | None = None,
    *,
    batch_size: int = 16,
    max_batches: int | None = None,
    autocast: bool = False,
) -> EvalResult:
    """Mean next-token loss on held-out data, its perplexity, and bits per byte.

    Batches are moved to the model's device; ``autocast`` runs on that device too.

    Args:
        model: returns ``(logits, loss)`` for ``model(x, y)``.
        data: a ``Dataset`` of ``(x, y)`` pairs (read in order, ``batch_size`` at a time) or any
            iterable of ``(x, y)`` batches, e.g. a ``DataLoader``.
        bytes_per_token: UTF-8 bytes per token of the validation text (`bytes_per_token`);
            needed for bits per byte.
        max_batches: stop after this many batches.

    Returns:
        `EvalResult`: ``loss`` averaged over all counted target tokens (``IGNORE_INDEX``
        excluded), ``perplexity = exp(loss)`` (the number of equally likely tokens the model is
        as unsure as), and ``bits_per_byte``.
    """
    if isinstance(data, Dataset):
        data = eval_batches(data, batch_size)
    was_training = model.training
    model.eval()  # no dropout
    total_loss, total_tokens = 0.0, 0
    device = model_device(model)
    try:
        for index, (x, y) in enumerate(data):
            if max_batches is not None and index >= max_batches:
                break
            x, y = x.to(device), y.to(device)
            with autocast_context(autocast, device.type):
                _, loss = model(x, y)
            n_tokens = int((y != IGNORE_INDEX).sum())
            total_loss += loss.float().item() * n_tokens  # the batch's mean back to a sum
            total_tokens += n_tokens
    finally:  # an error or an interrupt (a notebook's stop button) must not leave dropout off
        model.train(was_training)
    if total_tokens == 0:
        raise ValueError("no validation tokens: the data is empty or every target is IGNORE_INDEX")
    loss = total_loss / total_tokens
    bpb = None if bytes_per_token is None else bits_per_byte(loss, bytes_per_token)
    return EvalResult(loss=loss, perplexity=math.exp(loss), bits_per_byte=bpb, tokens=total_tokens)
