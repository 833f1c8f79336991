"""The layers around attention in a Llama block: RMSNorm (and GPT-2's LayerNorm), GELU and SwiGLU MLPs.

Taught in notebook 05 (RoPE & GQA). Norms and activations are written out (they are the lesson,
and cheap); each is tested equal to its PyTorch counterpart (``nn.LayerNorm``, ``nn.RMSNorm``,
``F.gelu``). ``tinyllm.model`` picks one norm and one MLP per ``ModelConfig``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.Module):
    """Subtract the mean, divide by the standard deviation, then scale (and shift) per channel.

    Equals ``torch.nn.LayerNorm(dim, eps, bias=bias)``. Used by GPT-2.
    """

    def __init__(self, dim: int, eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., dim) -> (..., dim)``."""
        mean = x.mean(dim=-1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=-1, keepdim=True)  # biased variance, as torch does
        x = (x - mean) * torch.rsqrt(var + self.eps)
        x = x * self.weight
        return x + self.bias if self.bias is not None else x


class RMSNorm(nn.Module):
    """Divide by the root-mean-square, then scale per channel: LayerNorm without centring.

    Skipping the mean (and the shift) saves work and works as well in practice (Zhang & Sennrich
    2019). Equals ``torch.nn.RMSNorm(dim, eps)`` and Hugging Face's ``LlamaRMSNorm``.
    """

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., dim) -> (..., dim)``."""
        # Normalise in float32 even when the model runs in bf16: the mean of squares loses
        # too many bits otherwise (Llama does the same).
        x_float = x.float()
        x_float = x_float * torch.rsqrt(x_float.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x_float.to(x.dtype)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GELU, the tanh approximation GPT-2 uses: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Equals ``F.gelu(x, approximate="tanh")`` (Hugging Face's ``gelu_new``).
    """
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class GeluMLP(nn.Module):
    """GPT-2's feed-forward layer: ``down_proj(gelu(up_proj(x)))``."""

    def __init__(self, d_model: int, d_ff: int, bias: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.up_proj = nn.Linear(d_model, d_ff, bias=bias)
        self.down_proj = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d_model) -> (batch, seq, d_model)``."""
        # torch's fused GELU is faster than `gelu` above; the tests prove they are equal.
        return self.dropout(self.down_proj(F.gelu(self.up_proj(x), approximate="tanh")))


class SwiGLU(nn.Module):
    """Llama's gated feed-forward layer: ``down_proj(silu(gate_proj(x)) * up_proj(x))``.

    The gate decides, per hidden unit and per token, how much of ``up_proj(x)`` passes
    (Shazeer 2020, "GLU Variants Improve Transformer"). Names follow Hugging Face's ``LlamaMLP``.
    """

    def __init__(self, d_model: int, d_ff: int, bias: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(d_model, d_ff, bias=bias)
        self.up_proj = nn.Linear(d_model, d_ff, bias=bias)
        self.down_proj = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, d_model) -> (batch, seq, d_model)``."""
        return self.dropout(self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x)))
