"""Int8 weight-only quantisation: store each weight matrix in one byte a number.

Taught in notebook 09 (LoRA), as the idea behind QLoRA (Dettmers et al. 2023): keep the frozen
base model in a small integer format, and train float adapters on top of it.

`Int8Linear` keeps a weight ``W`` ``(out, in)`` as int8 numbers ``q`` and one float scale per
output row, ``s = max|W[row]| / 127``: ``W ≈ q * s``. It dequantises on the fly in its forward,
so the model computes in float32 as before but holds a quarter of the bytes. QLoRA's own
format is 4-bit NF4 with a double-quantised scale; per-row absmax int8 is the simplest member of
the family, and enough to measure what the memory costs in quality.
"""

from __future__ import annotations

import torch
from torch import nn


class Int8Linear(nn.Module):
    """A frozen ``nn.Linear`` whose weight is int8 numbers times a float scale per row.

    Buffers (not parameters: nothing here trains): ``weight_int8`` ``(out, in)`` int8,
    ``scale`` ``(out, 1)`` float32, ``bias`` ``(out,)`` or ``None``.
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach().float()
        # absmax per output row: the largest weight of each row maps to +-127 exactly, so no
        # number is clipped; one scale per row (not one for the whole matrix) keeps a row of
        # small weights from being rounded to zero by a row of large ones.
        scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
        self.register_buffer("weight_int8", torch.round(weight / scale).to(torch.int8))
        self.register_buffer("scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().clone())

    @property
    def weight(self) -> torch.Tensor:
        """The dequantised weight ``(out, in)``, float32: ``weight_int8 * scale``."""
        return self.weight_int8.float() * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in)`` -> ``(..., out)``."""
        return nn.functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-row absmax"


def quantize_int8(model: nn.Module, skip: tuple[str, ...] = ("lm_head",)) -> list[str]:
    """Replace every ``nn.Linear`` of ``model`` (in place) by its `Int8Linear`, except those whose
    last name is in ``skip``; returns the names of the layers replaced.

    ``lm_head`` is skipped by default: in a tied model it *is* the embedding, which the
    embedding lookup reads as floats too. A LoRA adapter's own ``lora_A``/``lora_B`` layers stay
    float, so that they still train on the int8 base (the QLoRA recipe, in int8).
    """
    chosen = [name for name, module in model.named_modules()
              if isinstance(module, nn.Linear) and name.rpartition(".")[2] not in skip
              and not {"lora_A", "lora_B"} & set(name.split("."))]
    for name in chosen:
        parent, _, child = name.rpartition(".")
        owner = model.get_submodule(parent)
        setattr(owner, child, Int8Linear(getattr(owner, child)))
    return chosen


def weight_bytes(model: nn.Module) -> int:
    """Bytes held by the model's parameters and buffers, each shared tensor counted once."""
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    return sum(t.numel() * t.element_size() for t in tensors.values())
