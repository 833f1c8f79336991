"""The building blocks around attention: embeddings, positions, norms, MLPs, the residual block.

Taught in notebook 03 (embeddings: ``one_hot_lookup``, positions) and notebook 05 (RMSNorm,
SwiGLU); the pre-norm ``Block`` is assembled in notebook 06 (model and generation).

Norms and activations are written out (they are the lesson, and cheap); each is tested equal to
its PyTorch counterpart (``nn.LayerNorm``, ``nn.RMSNorm``, ``F.gelu``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from tinyllm.attention import CausalSelfAttention
from tinyllm.config import ModelConfig

if TYPE_CHECKING:
    from tinyllm.kv_cache import KVCache


# --- embeddings and positions (notebook 03) -------------------------------------------------


def one_hot_lookup(ids: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """An embedding lookup written as a matrix product: ``one_hot(ids) @ weight``.

    Same result as ``nn.Embedding`` (``weight[ids]``), which skips the multiplications by zero.

    Args:
        ids: ``(batch, seq)`` token ids.
        weight: ``(vocab_size, d_model)``.

    Returns:
        ``(batch, seq, d_model)``.

    Taught in notebook 03 (embeddings).
    """
    return F.one_hot(ids, num_classes=weight.shape[0]).to(weight.dtype) @ weight


def sinusoidal_positions(n_positions: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed position codes of "Attention Is All You Need" (Vaswani et al. 2017).

    ``P[pos, 2i] = sin(pos / base**(2i/d_model))`` and ``P[pos, 2i+1] = cos(same)``: each pair
    of dimensions is a clock ticking at its own speed, from one radian per position down to one
    turn per ``2*pi*base`` positions.

    Returns:
        ``(n_positions, d_model)`` float32.

    Taught in notebook 03 (embeddings).
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
    """Looks up ``sinusoidal_positions``; no parameters (a non-persistent buffer).

    Taught in notebook 03 (embeddings).
    """

    table: torch.Tensor

    def __init__(self, n_positions: int, d_model: int, base: float = 10000.0) -> None:
        super().__init__()
        self.register_buffer(
            "table", sinusoidal_positions(n_positions, d_model, base), persistent=False
        )

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        """``(...)`` integer positions -> ``(..., d_model)``."""
        return self.table[positions]


# --- norms (notebook 05) -----------------------------------------------------------------------


class LayerNorm(nn.Module):
    """Subtract the mean, divide by the standard deviation, then scale (and shift) per channel.

    Equals ``torch.nn.LayerNorm(dim, eps, bias=bias)``. Used by GPT-2.

    Taught in notebook 05 (RoPE & GQA), next to RMSNorm.
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

    Taught in notebook 05 (RoPE & GQA).
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


def make_norm(config: ModelConfig) -> nn.Module:
    """The norm the config asks for, over ``d_model`` channels.

    Taught in notebook 06 (model and generation).
    """
    if config.norm == "rmsnorm":
        return RMSNorm(config.d_model, config.eps)
    return LayerNorm(config.d_model, config.eps, bias=config.bias)


# --- MLPs (notebook 05) ------------------------------------------------------------------------


def gelu(x: torch.Tensor) -> torch.Tensor:
    """GELU, the tanh approximation GPT-2 uses: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Equals ``F.gelu(x, approximate="tanh")`` (Hugging Face's ``gelu_new``).

    Taught in notebook 05 (RoPE & GQA).
    """
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class GeluMLP(nn.Module):
    """GPT-2's feed-forward layer: ``down_proj(gelu(up_proj(x)))``.

    Taught in notebook 05 (RoPE & GQA).
    """

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

    Taught in notebook 05 (RoPE & GQA).
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


def make_mlp(config: ModelConfig) -> nn.Module:
    """The MLP the config asks for.

    Taught in notebook 06 (model and generation).
    """
    cls = SwiGLU if config.mlp == "swiglu" else GeluMLP
    return cls(config.d_model, config.d_ff, bias=config.bias, dropout=config.dropout)


# --- the residual block (notebook 06) --------------------------------------------------------


class Block(nn.Module):
    """One pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``.

    Normalising the *input* of each branch (pre-norm, GPT-2 onwards) leaves the residual stream
    itself untouched from embedding to output, which keeps gradients healthy in deep stacks.
    Names follow Hugging Face's ``LlamaDecoderLayer``.

    Taught in notebook 06 (model and generation).
    """

    def __init__(self, config: ModelConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.input_layernorm = make_norm(config)
        self.self_attn = CausalSelfAttention(config, layer_idx)
        self.post_attention_layernorm = make_norm(config)
        self.mlp = make_mlp(config)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
        attention_mask: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        """``(batch, seq, d_model) -> (batch, seq, d_model)``; arguments as ``CausalSelfAttention``."""
        x = x + self.self_attn(self.input_layernorm(x), rope, attention_mask, kv_cache)
        return x + self.mlp(self.post_attention_layernorm(x))
