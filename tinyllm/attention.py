"""Causal self-attention: from-scratch reference functions and the module the model uses.

Taught in notebook 04 (attention); grouped-query attention (``repeat_kv``) in notebook 05; the
padding mask (``padding_attention_mask``, for batches of prompts of different lengths) in 06.

The reference functions (``softmax``, ``attention_weights``, ``attention``) spell out the math
and are tested equal to PyTorch's fused ``F.scaled_dot_product_attention`` (SDPA), which the
module ``CausalSelfAttention`` uses because it is faster and never stores the full score matrix
when it does not have to.

Shapes: ``batch`` sequences, ``heads`` heads, ``q_len`` queries, ``k_len`` keys, ``head_dim`` per head.
Masks are boolean, ``True`` where a query may look at a key (the convention of SDPA).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from tinyllm.config import ModelConfig
from tinyllm.rope import apply_rope

if TYPE_CHECKING:
    from tinyllm.kv_cache import KVCache


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, safe for large inputs.

    Subtracting the maximum first changes nothing mathematically (it cancels in the ratio) but
    keeps ``exp`` from overflowing to ``inf``; masked entries of ``-inf`` become exactly 0.
    """
    x_max = x.amax(dim=dim, keepdim=True)
    # A row that is entirely -inf would give (-inf) - (-inf) = nan; shift such rows by 0 instead.
    x_max = torch.where(torch.isinf(x_max), torch.zeros_like(x_max), x_max)
    e = torch.exp(x - x_max)
    return e / e.sum(dim=dim, keepdim=True)


def causal_mask(
    q_len: int, k_len: int | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """Which keys each query may attend to: itself and everything before it.

    The queries are the *last* ``q_len`` of ``k_len`` positions (with a KV cache, the earlier
    keys were computed in previous steps), so query ``i`` sits at position ``k_len - q_len + i``.

    Returns:
        ``(q_len, k_len)`` bool, ``True`` = may attend.
    """
    k_len = q_len if k_len is None else k_len
    query_pos = torch.arange(k_len - q_len, k_len, device=device)[:, None]
    key_pos = torch.arange(k_len, device=device)[None, :]
    return key_pos <= query_pos


def padding_attention_mask(attention_mask: torch.Tensor, seq: int) -> torch.Tensor:
    """Combine a padding mask with the causal mask, in the boolean form SDPA takes.

    Args:
        attention_mask: ``(batch, k_len)``, 1/True for real tokens, 0/False for padding; the
            last ``seq`` columns are the tokens being processed now.
        seq: number of query tokens.

    Returns:
        ``(batch, 1, seq, k_len)`` bool, ``True`` = may attend.
    """
    k_len = attention_mask.shape[-1]
    causal = causal_mask(seq, k_len, device=attention_mask.device)
    keep = causal[None, None] & attention_mask.bool()[:, None, None, :]
    # A padding token at the start of a left-padded row has no real token to look at; a row
    # with nothing to attend to would make softmax divide 0 by 0 (NaN). Letting every token
    # see itself avoids that; the outputs at padding positions are ignored anyway.
    itself = (
        torch.arange(k_len, device=attention_mask.device)[None, :]
        == (torch.arange(k_len - seq, k_len, device=attention_mask.device)[:, None])
    )
    return keep | itself[None, None]


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Softmax of the scaled dot products: how much each query attends to each key.

    Args:
        q: ``(batch, heads, q_len, head_dim)``.
        k: ``(batch, heads, k_len, head_dim)``.
        mask: bool, broadcastable to ``(batch, heads, q_len, k_len)``; ``True`` = may attend.

    Returns:
        ``(batch, heads, q_len, k_len)``; each row sums to 1. This is the matrix an attention
        heat map shows.
    """
    # Dividing by sqrt(head_dim) keeps the scores' variance near 1 whatever the head width, so
    # the softmax does not saturate into a one-hot (and vanishing gradients) for wide heads.
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        # -inf before the softmax, so a forbidden key gets weight exactly 0 (not just small).
        scores = scores.masked_fill(~mask, float("-inf"))
    return softmax(scores, dim=-1)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """Scaled dot-product attention written out: ``softmax(q k^T / sqrt(d)) v``.

    The reference that ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)`` is tested
    against (forward and gradients).

    Args:
        q: ``(batch, heads, q_len, head_dim)``.
        k, v: ``(batch, heads, k_len, head_dim)``.
        mask: bool, broadcastable to ``(batch, heads, q_len, k_len)``; ``True`` = may attend.
            Use ``causal_mask(q_len, k_len)`` for a language model.
        dropout_p: probability of dropping an attention weight (training only).

    Returns:
        ``(batch, heads, q_len, head_dim)``: for each query, a weighted average of the values.
    """
    weights = attention_weights(q, k, mask)
    if dropout_p > 0.0:  # each query randomly ignores some keys (training only)
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # each query's output: the values, averaged with its weights


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Let ``n_rep`` query heads share each key/value head (grouped-query attention).

    ``(batch, n_kv_heads, seq, head_dim) -> (batch, n_kv_heads * n_rep, seq, head_dim)``, with
    kv head ``j`` serving query heads ``j*n_rep .. (j+1)*n_rep - 1`` (same as
    ``torch.repeat_interleave(x, n_rep, dim=1)`` and Hugging Face's ``repeat_kv``).

    ``expand`` makes the copies as a *view* (stride 0, no memory); only the final ``reshape``
    into separate heads materialises them. The KV cache stores the un-repeated ``n_kv_heads``,
    which is where GQA saves memory. ``CausalSelfAttention`` does not even materialise them:
    it asks SDPA to share the kv heads itself (``enable_gqa=True``), which computes the same
    numbers as SDPA on ``repeat_kv``'s output.
    """
    if n_rep == 1:
        return x
    batch, n_kv_heads, seq, head_dim = x.shape
    x = x[:, :, None, :, :].expand(batch, n_kv_heads, n_rep, seq, head_dim)
    return x.reshape(batch, n_kv_heads * n_rep, seq, head_dim)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with grouped-query attention and optional RoPE.

    ``n_kv_heads == n_heads`` is standard multi-head attention (MHA), ``n_kv_heads == 1`` is
    multi-query attention (MQA), anything in between is grouped-query attention (GQA). Parameter
    names follow Hugging Face's Llama: ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``.
    """

    def __init__(self, config: ModelConfig, layer_idx: int = 0) -> None:
        super().__init__()
        self.layer_idx = layer_idx  # which slot of a KVCache this layer reads and writes
        self.n_heads, self.n_kv_heads = config.n_heads, config.n_kv_heads
        self.n_rep = config.n_heads // config.n_kv_heads  # query heads per kv head
        self.head_dim = config.head_dim
        self.use_rope = config.positions == "rope"
        self.rope_layout = config.rope_layout
        self.dropout = config.dropout
        d, kv_width = config.d_model, config.n_kv_heads * config.head_dim
        self.q_proj = nn.Linear(d, config.n_heads * config.head_dim, bias=config.bias)
        self.k_proj = nn.Linear(d, kv_width, bias=config.bias)
        self.v_proj = nn.Linear(d, kv_width, bias=config.bias)
        self.o_proj = nn.Linear(config.n_heads * config.head_dim, d, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
        attention_mask: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Attend from every position to itself and the positions before it.

        Args:
            x: ``(batch, seq, d_model)``.
            rope: ``(cos, sin)`` for these positions, ``(seq, head_dim)`` or
                ``(batch, seq, head_dim)`` (needed when the config uses RoPE).
            attention_mask: bool, broadcastable to ``(batch, 1, seq, past + seq)``, ``True`` =
                may attend. ``None`` means plain causal attention.
            kv_cache: keys/values of earlier positions; this call appends its own.

        Returns:
            ``(batch, seq, d_model)``.
        """
        batch, seq, _ = x.shape
        # (batch, seq, heads * head_dim) -> (batch, heads, seq, head_dim): heads become a batch dim.
        q = self.q_proj(x).view(batch, seq, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(batch, seq, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(batch, seq, self.n_kv_heads, self.head_dim).transpose(1, 2)
        if self.use_rope:
            if rope is None:
                raise ValueError("this config uses RoPE: pass rope=(cos, sin) for the positions of x")
            # Rotate queries and keys (never values): their dot product then depends only on
            # the distance between the two positions.
            cos, sin = rope
            q = apply_rope(q, cos, sin, self.rope_layout)
            k = apply_rope(k, cos, sin, self.rope_layout)
        if kv_cache is not None:
            # Cache k/v *after* RoPE: a key's rotation depends only on its own position,
            # so it never has to be recomputed.
            k, v = kv_cache.update(self.layer_idx, k, v)
        k_len = k.shape[2]
        is_causal = False
        if attention_mask is None and seq > 1:
            if k_len == seq:
                is_causal = True  # lets SDPA skip building the mask
            else:  # several new tokens after a cached prefix
                attention_mask = causal_mask(seq, k_len, device=x.device)
        # (A single new token may attend to every cached key, so it needs no mask at all.)
        # enable_gqa: SDPA lets each kv head serve its n_rep query heads itself, exactly as if
        # we had called repeat_kv first (tested equal), but without copying the keys and values
        # n_rep times: with a KV cache that copy would grow with every generated token.
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attention_mask,
            is_causal=is_causal,
            dropout_p=self.dropout if self.training else 0.0,
            enable_gqa=self.n_rep > 1,
        )
        # Heads side by side again; o_proj mixes what the heads found into one vector per token.
        out = out.transpose(1, 2).reshape(batch, seq, self.n_heads * self.head_dim)
        return self.resid_dropout(self.o_proj(out))
