"""``TinyLLM``: GPT-2-style and Llama-style language models from one ``ModelConfig``.

Taught in notebook 06 (model and generation): the pre-norm ``Block``, the model, its loss, and
its parameter and FLOP counts.

token ids -> token embedding (+ learned/sinusoidal positions) -> ``n_layers`` pre-norm blocks
(RoPE inside attention when configured) -> final norm -> ``lm_head`` -> logits over the vocabulary.

Parameter names match Hugging Face's Llama (``embed_tokens``, ``layers.i.self_attn.q_proj``,
``layers.i.mlp.gate_proj``, ``norm``, ``lm_head``), so a checkpoint maps onto
``LlamaForCausalLM`` by adding the ``model.`` prefix to every name but ``lm_head``'s.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tinyllm.attention import CausalSelfAttention, padding_attention_mask
from tinyllm.config import ModelConfig
from tinyllm.embeddings import SinusoidalPositions
from tinyllm.kv_cache import KVCache
from tinyllm.layers import GeluMLP, LayerNorm, RMSNorm, SwiGLU
from tinyllm.rope import RotaryEmbedding

#: Targets equal to this are left out of the loss (padding, or prompt tokens in SFT); the same
#: value as PyTorch's and Hugging Face's default.
IGNORE_INDEX = -100


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log(softmax(x))`` computed stably as ``x - max - log(sum(exp(x - max)))``."""
    shifted = logits - logits.amax(dim=dim, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """Mean negative log-probability of the target tokens: the next-token loss, written out.

    Equals ``F.cross_entropy(logits, targets, ignore_index=ignore_index)``, which ``TinyLLM`` uses.

    Args:
        logits: ``(n, vocab_size)``.
        targets: ``(n,)`` token ids; entries equal to ``ignore_index`` do not count.

    Returns:
        A scalar: the mean over the counted targets.
    """
    keep = targets != ignore_index
    log_probs = log_softmax(logits[keep], dim=-1)
    return -log_probs.gather(-1, targets[keep][:, None]).mean()


def make_norm(config: ModelConfig) -> nn.Module:
    """The norm the config asks for, over ``d_model`` channels."""
    if config.norm == "rmsnorm":
        return RMSNorm(config.d_model, config.eps)
    return LayerNorm(config.d_model, config.eps, bias=config.bias)


def make_mlp(config: ModelConfig) -> nn.Module:
    """The MLP the config asks for."""
    cls = SwiGLU if config.mlp == "swiglu" else GeluMLP
    return cls(config.d_model, config.d_ff, bias=config.bias, dropout=config.dropout)


class Block(nn.Module):
    """One pre-norm transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``.

    Normalising the *input* of each branch (pre-norm, GPT-2 onwards) leaves the residual stream
    itself untouched from embedding to output, which keeps gradients healthy in deep stacks.
    Names follow Hugging Face's ``LlamaDecoderLayer``.
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


class TinyLLM(nn.Module):
    """A decoder-only transformer language model, GPT-2-style or Llama-style by its config."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.embed_positions: nn.Module | None = None
        if config.positions == "learned":
            self.embed_positions = nn.Embedding(config.context_length, config.d_model)
        elif config.positions == "sinusoidal":
            self.embed_positions = SinusoidalPositions(config.context_length, config.d_model)
        self.rotary = (
            RotaryEmbedding(
                config.head_dim, config.rope_theta, config.rope_layout, config.context_length
            )
            if config.positions == "rope"
            else None
        )
        self.drop = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(Block(config, i) for i in range(config.n_layers))
        self.norm = make_norm(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            # One matrix both reads tokens in and scores them out (Press & Wolf 2017).
            self.lm_head.weight = self.embed_tokens.weight
        self.apply(self._init_weights)
        # GPT-2's trick: each block adds two branches to the residual stream, so shrink the
        # layers that write into it by 1/sqrt(2 * n_layers) to keep its variance from growing
        # with depth.
        for name, p in self.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def hidden_states(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        """The last layer's output after the final norm, ``(batch, seq, d_model)``: everything
        `forward` computes before the output head (arguments as in `forward`). A reward model
        or a value head reads these features instead of the logits (notebook 10)."""
        seq = ids.shape[1]
        past = kv_cache.length if kv_cache is not None else 0
        if positions is None:
            positions = torch.arange(past, past + seq, device=ids.device)
        last_position = int(positions.max())
        if last_position >= self.config.context_length:
            raise ValueError(
                f"position {last_position} is beyond context_length={self.config.context_length} "
                f"({past} cached + {seq} new tokens); feed at most the last "
                f"{self.config.context_length} tokens, or build the model with a larger context_length"
            )

        x = self.embed_tokens(ids)  # (batch, seq, d_model)
        if self.embed_positions is not None:
            x = x + self.embed_positions(positions)
        x = self.drop(x)
        rope = self.rotary(positions) if self.rotary is not None else None
        mask = None
        if attention_mask is not None:
            mask = padding_attention_mask(attention_mask, seq)
        for layer in self.layers:
            x = layer(x, rope, mask, kv_cache)
        return self.norm(x)

    def forward(
        self,
        ids: torch.Tensor,
        targets: torch.Tensor | None = None,
        *,
        positions: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
        last_only: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Next-token logits for every position (and the loss when ``targets`` are given).

        Args:
            ids: ``(batch, seq)`` token ids.
            targets: ``(batch, seq)`` the token that should follow each position
                (``ids`` shifted left by one); ``IGNORE_INDEX`` (-100) entries do not count.
            positions: ``(seq,)`` or ``(batch, seq)`` position of each token; default
                ``past, past+1, ...`` where ``past`` is the number of tokens in ``kv_cache``.
                Pass them with left padding so each sequence still starts at position 0.
            attention_mask: ``(batch, past + seq)``, 1/True for real tokens and 0/False for
                padding (as in Hugging Face); padded keys are never attended to.
            kv_cache: a ``KVCache`` holding earlier tokens; this call appends ``ids`` to it.
            last_only: compute logits for the last position only (what generation needs; skips
                most of the output matmul).

        Returns:
            ``logits`` of shape ``(batch, seq, vocab_size)`` (``seq`` is 1 with ``last_only``),
            or ``(logits, loss)`` when ``targets`` is given, ``loss`` being the mean
            cross-entropy.
        """
        if ids.dim() != 2:
            raise ValueError(
                f"ids must be (batch, seq), got shape {tuple(ids.shape)}; use ids[None] for one sequence"
            )
        if last_only and targets is not None:
            raise ValueError(
                "last_only=True computes no logits to compare with targets; drop one of them"
            )
        x = self.hidden_states(ids, positions, attention_mask, kv_cache)
        if last_only:
            x = x[:, -1:]
        logits = self.lm_head(x)  # (batch, seq, vocab_size)
        if targets is None:
            return logits
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX
        )
        return logits, loss


def parameter_breakdown(config: ModelConfig) -> dict[str, int]:
    """Parameters of each part of a ``TinyLLM``, from the config alone (nothing is built).

    Returns:
        ``{"embedding", "positions", "attention", "mlp", "norms", "lm_head"}`` -> count, where
        ``attention``, ``mlp`` and ``norms`` are summed over all layers (``norms`` includes the
        final norm) and ``lm_head`` is 0 when tied to the embedding.
    """
    d, hd, n_layers = config.d_model, config.head_dim, config.n_layers
    q_width, kv_width = config.n_heads * hd, config.n_kv_heads * hd
    attention = d * q_width + 2 * d * kv_width + q_width * d  # q, k, v, o
    if config.bias:
        attention += q_width + 2 * kv_width + d
    n_mlp_in = 2 if config.mlp == "swiglu" else 1  # gate_proj and up_proj, or up_proj
    mlp = n_mlp_in * d * config.d_ff + config.d_ff * d
    if config.bias:
        mlp += n_mlp_in * config.d_ff + d
    norm = d * (2 if config.norm == "layernorm" and config.bias else 1)  # weight (+ bias)
    return {
        "embedding": config.vocab_size * d,
        "positions": config.context_length * d if config.positions == "learned" else 0,
        "attention": n_layers * attention,
        "mlp": n_layers * mlp,
        "norms": (2 * n_layers + 1) * norm,
        "lm_head": 0 if config.tie_embeddings else config.vocab_size * d,
    }


def count_parameters(config: ModelConfig) -> int:
    """Total parameters of ``TinyLLM(config)``, by formula (equals ``sum(p.numel())``).

    ``count_parameters(llama2_7b()) == 6_738_415_616``.
    """
    return sum(parameter_breakdown(config).values())


def flops_per_token(
    config: ModelConfig, seq_len: int | None = None, *, training: bool = False
) -> int:
    """Floating-point operations to process one token inside a sequence of ``seq_len`` tokens.

    Forward pass: 2 FLOPs (a multiply and an add) per weight of every matrix multiply (the
    embedding lookup is free, the output head is not, tied or not), plus attention itself:
    ``q k^T`` and ``weights @ v`` each cost ``2 * seq_len * n_heads * head_dim`` per layer. We
    count the full ``seq_len`` (the convention of Kaplan et al. 2020 and PaLM), although a causal
    mask lets a kernel skip half. The backward pass costs about twice the forward, so
    ``training=True`` returns 3x ("6N").

    Args:
        seq_len: the sequence length; default ``config.context_length``.
        training: forward + backward instead of forward only.
    """
    seq_len = config.context_length if seq_len is None else seq_len
    parts = parameter_breakdown(config)
    d, q_width, kv_width = (
        config.d_model,
        config.n_heads * config.head_dim,
        config.n_kv_heads * config.head_dim,
    )
    n_mlp_in = 2 if config.mlp == "swiglu" else 1
    matmul_weights = (
        config.n_layers
        * (d * q_width + 2 * d * kv_width + q_width * d + (n_mlp_in + 1) * d * config.d_ff)
        + parts["embedding"]
    )  # the output head: vocab_size * d_model, tied or not
    forward = 2 * matmul_weights + 2 * 2 * config.n_layers * seq_len * q_width
    return 3 * forward if training else forward
