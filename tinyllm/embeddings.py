"""Token and position embeddings: a lookup is a matrix product, and positions are added codes.

Taught in notebook 03 (embeddings). ``TinyLLM`` uses ``nn.Embedding`` for tokens (and for learned
positions) and `SinusoidalPositions` for the fixed codes of the original Transformer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def one_hot_lookup(ids: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """An embedding lookup written as a matrix product: ``one_hot(ids) @ weight``.

    Same result as ``nn.Embedding`` (``weight[ids]``), which skips the multiplications by zero.

    Args:
        ids: ``(batch, seq)`` token ids.
        weight: ``(vocab_size, d_model)``.

    Returns:
        ``(batch, seq, d_model)``.
    """
    return F.one_hot(ids, num_classes=weight.shape[0]).to(weight.dtype) @ weight


def sinusoidal_positions(n_positions: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed position codes of "Attention Is All You Need" (Vaswani et al. 2017).

    ``P[pos, 2i] = sin(pos / base**(2i/d_model))`` and ``P[pos, 2i+1] = cos(same)``: each pair
    of dimensions is a clock ticking at its own speed, from one radian per position down to one
    turn per ``2*pi*base`` positions.

    Returns:
        ``(n_positions, d_model)`` float32.
    """
    if d_model % 2 != 0:
        raise ValueError(f"sinusoidal positions need an even d_model, got {d_model}")
    pos = torch.arange(n_positions, dtype=torch.float)[:, None]
    inv_freq = torch.exp(-math.log(base) * torch.arange(0, d_model, 2, dtype=torch.float) / d_model)
    table = torch.zeros(n_positions, d_model)
    table[:, 0::2] = torch.sin(pos * inv_freq)
    table[:, 1::2] = torch.cos(pos * inv_freq)
    return table


class SinusoidalPositions(nn.Module):
    """Looks up `sinusoidal_positions`; no parameters (a non-persistent buffer)."""

    table: torch.Tensor

    def __init__(self, n_positions: int, d_model: int, base: float = 10000.0) -> None:
        super().__init__()
        self.register_buffer(
            "table", sinusoidal_positions(n_positions, d_model, base), persistent=False
        )

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        """``(...)`` integer positions -> ``(..., d_model)``."""
        return self.table[positions]
