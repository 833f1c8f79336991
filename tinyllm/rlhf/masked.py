"""Statistics over the completion tokens only: prompt and padding never count.

Taught in notebook 10 (RLHF).

Every per-token RLHF tensor is ``(batch, C)`` with a ``mask`` of the real completion tokens
(``sequences.Packed.completion_mask``). A plain ``.mean()`` would average in the pads, whose
number depends on the longest reply of the batch. These follow the helpers trl's PPO trainer
used (``masked_mean``, ``masked_var``, ``masked_whiten``; trl 1.16 no longer ships them, the tests
compare with their formulas and with hand-computed values).
"""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of ``values`` where ``mask`` is True: over everything (a scalar), or along ``dim``."""
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1)


def masked_var(values: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    """Variance of the masked values (a scalar); ``unbiased``: Bessel's n / (n - 1), as trl."""
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask)
    if unbiased:
        n = mask.sum()
        if n < 2:
            raise ValueError("the unbiased variance needs at least 2 masked values")
        variance = variance * n / (n - 1)
    return variance


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True,
                  eps: float = 1e-8) -> torch.Tensor:
    """``(values - mean) / sqrt(var + eps)`` with the masked mean and (unbiased) variance; the
    masked-out entries come back as 0. ``shift_mean=False`` keeps the mean (scales only)."""
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask
