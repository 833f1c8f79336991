"""Rotary position embeddings (RoPE): rotate query/key pairs by an angle proportional to position.

Taught in notebook 05 (RoPE & GQA).

Pair ``j`` of a head's dimensions at position ``m`` is rotated by the angle ``m * theta_j`` with
``theta_j = rope_theta ** (-2j / head_dim)``. Because a rotation by ``m`` followed by the
transpose of a rotation by ``n`` is a rotation by ``m - n``, the score ``q_m . k_n`` depends on
the positions only through ``m - n``: attention sees relative positions, with no parameters.

Two layouts decide *which* dimensions form pair ``j``:

- ``"half"``: ``(j, j + head_dim/2)``, Hugging Face's Llama/Qwen (``rotate_half``);
- ``"interleaved"``: ``(2j, 2j + 1)``, the RoFormer paper and Meta's original Llama code.

They are the same function up to a fixed permutation of the head's dimensions, so a model
trained in one layout runs in the other after permuting the rows of ``q_proj`` and ``k_proj``
(``interleaved_to_half_permutation``).
"""

from __future__ import annotations

import torch
from torch import nn


def rope_frequencies(head_dim: int, theta: float = 10000.0) -> torch.Tensor:
    """The rotation speed of each pair: ``theta ** (-2j / head_dim)`` for ``j < head_dim/2``.

    Returns:
        ``(head_dim // 2,)`` float32. Pair 0 turns fastest (one radian per position); the last
        pair turns slowest, so it can tell apart positions far away from each other.
    """
    if head_dim % 2 != 0:
        raise ValueError(f"RoPE needs an even head_dim, got {head_dim}")
    # The same expression, in the same dtype, as Hugging Face's Llama, so the numbers match.
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float) / head_dim))


def rope_cos_sin(
    positions: torch.Tensor, head_dim: int, theta: float = 10000.0, layout: str = "half"
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of every rotation angle, laid out to multiply a head's vector elementwise.

    Args:
        positions: integer positions, any shape ``(...)``.
        layout: ``"half"`` repeats the angles as ``[a0 .. a_{d/2-1}, a0 .. a_{d/2-1}]``;
            ``"interleaved"`` as ``[a0, a0, a1, a1, ...]``.

    Returns:
        ``(cos, sin)``, each ``(..., head_dim)`` float32.
    """
    angles = positions[..., None].float() * rope_frequencies(head_dim, theta).to(positions.device)
    if layout == "half":
        angles = torch.cat((angles, angles), dim=-1)
    elif layout == "interleaved":
        angles = torch.repeat_interleave(angles, 2, dim=-1)
    else:
        raise ValueError(f"unknown RoPE layout {layout!r}; use 'half' or 'interleaved'")
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``[x1, x2] -> [-x2, x1]`` on the last dimension: the 90-degree turn of the ``half`` layout.

    With it, rotating every pair ``(x1_j, x2_j)`` by its angle is ``x * cos + rotate_half(x) * sin``.
    """
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rotate_interleaved(x: torch.Tensor) -> torch.Tensor:
    """``[x0, x1, x2, x3, ...] -> [-x1, x0, -x3, x2, ...]``: the 90-degree turn of ``interleaved``."""
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((-x_odd, x_even), dim=-1).flatten(-2)


def apply_rope(
    x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str = "half"
) -> torch.Tensor:
    """Rotate each pair of ``x``'s last dimension by its angle.

    Args:
        x: queries or keys, ``(batch, heads, seq, head_dim)``.
        cos, sin: from ``rope_cos_sin`` (or ``RotaryEmbedding``), ``(seq, head_dim)`` or
            ``(batch, seq, head_dim)``; the heads dimension is broadcast.
        layout: the layout ``cos``/``sin`` were built for.

    Returns:
        The rotated tensor, same shape and dtype as ``x``.
    """
    if cos.dim() == 3:  # (batch, seq, head_dim): one set of positions per sequence
        cos, sin = cos[:, None], sin[:, None]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    if layout == "half":
        return x * cos + rotate_half(x) * sin
    if layout == "interleaved":
        return x * cos + rotate_interleaved(x) * sin
    raise ValueError(f"unknown RoPE layout {layout!r}; use 'half' or 'interleaved'")


def interleaved_to_half_permutation(head_dim: int) -> torch.Tensor:
    """Index ``perm`` such that ``x_half = x_interleaved[..., perm]`` is the same vector in ``half`` layout.

    Interleaved pair ``j`` lives at dims ``(2j, 2j+1)``; half-layout pair ``j`` at
    ``(j, j + head_dim/2)``. So half's first half takes the even dims and its second half the odd
    ones. Applied to the rows of each head in ``q_proj`` and ``k_proj``, it converts a model
    between layouts (this is the permutation Hugging Face applies to Meta's Llama checkpoints).
    """
    return torch.cat((torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)))


class RotaryEmbedding(nn.Module):
    """Caches cos/sin for positions ``0 .. n-1`` and grows the cache when a longer input comes.

    Computing ``cos``/``sin`` once and looking them up is what every real implementation does;
    growing on demand means the cache never limits the model's length (``ModelConfig``'s
    ``context_length`` does). The cache is a non-persistent buffer: it is rebuilt, not saved in
    checkpoints, and moves with ``model.to(device)``.
    """

    cos_cached: torch.Tensor
    sin_cached: torch.Tensor

    def __init__(
        self, head_dim: int, theta: float = 10000.0, layout: str = "half", initial_length: int = 0
    ) -> None:
        super().__init__()
        if layout not in ("half", "interleaved"):
            raise ValueError(f"unknown RoPE layout {layout!r}; use 'half' or 'interleaved'")
        self.head_dim, self.theta, self.layout = head_dim, theta, layout
        self.register_buffer("cos_cached", torch.empty(0, head_dim), persistent=False)
        self.register_buffer("sin_cached", torch.empty(0, head_dim), persistent=False)
        self._grow(initial_length)

    @property
    def cached_length(self) -> int:
        """Number of positions currently in the cache."""
        return self.cos_cached.shape[0]

    def _grow(self, length: int) -> None:
        if length <= self.cached_length:
            return
        # Double when growing, so a long generation rebuilds the cache a few times, not every step.
        new_length = max(length, 2 * self.cached_length)
        positions = torch.arange(new_length, device=self.cos_cached.device)
        cos, sin = rope_cos_sin(positions, self.head_dim, self.theta, self.layout)
        self.cos_cached, self.sin_cached = cos, sin

    def forward(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin at ``positions``.

        Args:
            positions: ``(seq,)`` or ``(batch, seq)`` integer positions.

        Returns:
            ``(cos, sin)``, each ``positions.shape + (head_dim,)``, float32.
        """
        self._grow(int(positions.max()) + 1)
        return self.cos_cached[positions], self.sin_cached[positions]
