"""The KV cache: keep every layer's keys and values so generation computes each token once.

Taught in notebook 06 (model and generation); the memory arithmetic in notebook 05 (RoPE & GQA).

Without a cache, generating token ``t+1`` runs the model over all ``t`` tokens again. With one,
the prompt is run once ("prefill") and then each step feeds only the newest token, whose query
attends to the stored keys/values of all earlier tokens. The earlier tokens' keys and values
never change (causal attention: a token never looks ahead), so storing them is exact.
"""

from __future__ import annotations

import torch

from tinyllm.config import ModelConfig


def kv_cache_bytes_per_token(config: ModelConfig, bytes_per_value: int = 2) -> int:
    """Memory the KV cache needs per token of context: ``2 * n_layers * n_kv_heads * head_dim * bytes``.

    The 2 is one key plus one value. ``bytes_per_value=2`` for fp16/bf16, 4 for fp32.
    For Llama-2-7B (MHA, 32 kv heads) that is 512 KiB per token; GQA and MQA divide it by
    ``n_heads / n_kv_heads``.
    """
    return 2 * config.n_layers * config.n_kv_heads * config.head_dim * bytes_per_value


class KVCache:
    """Preallocated keys and values for every layer, filled as tokens are processed.

    Storage per layer is ``(batch, n_kv_heads, max_length, head_dim)`` for keys and the same for
    values: the *un-repeated* kv heads, so grouped-query attention shrinks the cache.
    Preallocating (rather than concatenating each step) means one allocation per generation.

    Usage: ``cache = KVCache(config, batch_size=1)`` then ``model(ids, kv_cache=cache)`` with the
    prompt, then ``model(next_id, kv_cache=cache)`` for each new token. ``generate`` does this.
    """

    def __init__(
        self,
        config: ModelConfig,
        batch_size: int,
        max_length: int | None = None,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        """Args:
        config: the model's config (layers, kv heads, head width).
        batch_size: sequences generated together.
        max_length: positions to reserve; default ``config.context_length``.
        dtype, device: those of the model's activations.
        """
        self.max_length = config.context_length if max_length is None else max_length
        shape = (batch_size, config.n_kv_heads, self.max_length, config.head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.n_layers)]
        self.values = [
            torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.n_layers)
        ]
        # Each layer appends during a forward pass, so lengths differ mid-pass; between passes
        # they are all equal.
        self.lengths = [0] * config.n_layers

    @property
    def length(self) -> int:
        """Tokens already stored (by every layer): the position the next token will get."""
        return self.lengths[-1]

    @property
    def nbytes(self) -> int:
        """Memory reserved for keys and values, in bytes."""
        return sum(t.numel() * t.element_size() for t in self.keys + self.values)

    def update(
        self, layer_idx: int, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append new keys/values for one layer and return all of that layer's so far.

        Args:
            layer_idx: which layer's storage.
            k, v: ``(batch, n_kv_heads, new, head_dim)``.

        Returns:
            ``(keys, values)``, each ``(batch, n_kv_heads, length + new, head_dim)`` (views
            into the storage, no copy).
        """
        if k.shape[0] != self.keys[layer_idx].shape[0]:
            raise ValueError(
                f"KV cache was made for batch_size={self.keys[layer_idx].shape[0]}, got a batch of "
                f"{k.shape[0]}; create one cache per batch shape"
            )
        # Write the new positions right after the ones already stored ...
        start = self.lengths[layer_idx]
        end = start + k.shape[2]
        if end > self.max_length:
            raise ValueError(
                f"KV cache is full: {start} cached + {k.shape[2]} new tokens > max_length="
                f"{self.max_length}; create the cache with a larger max_length (at most the "
                f"model's context_length) or generate fewer tokens"
            )
        self.keys[layer_idx][:, :, start:end] = k
        self.values[layer_idx][:, :, start:end] = v
        self.lengths[layer_idx] = end
        # ... and attend over all of them: slices are views, so nothing is copied per step.
        return self.keys[layer_idx][:, :, :end], self.values[layer_idx][:, :, :end]

    def reset(self) -> None:
        """Forget every cached token (the storage is kept for reuse)."""
        self.lengths = [0] * len(self.lengths)
