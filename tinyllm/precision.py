"""Number formats in training: bfloat16 autocast (on the CPU in the course, any device beyond it).

Taught in notebook 07 (pretraining).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch


def autocast_context(enabled: bool, device_type: str = "cpu"):
    """``torch.autocast`` to bfloat16 on ``device_type`` (the model's) when ``enabled``, else nothing.

    bfloat16 keeps float32's 8 exponent bits (its range) and drops mantissa bits (precision),
    so unlike float16 it needs no loss scaling. Autocast runs matmuls in bf16 and keeps
    precision-sensitive ops (softmax, losses, norms' reductions) in float32.
    """
    return torch.autocast(device_type, dtype=torch.bfloat16) if enabled else nullcontext()
