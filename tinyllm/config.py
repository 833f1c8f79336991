"""``ModelConfig``: one dataclass that fully describes a model, and the course's presets.

Taught in notebook 06 (model and generation).

A GPT-2-style and a Llama-style model differ only in a handful of choices (norm, positions,
MLP, bias, tied embeddings), so one config with a field per choice builds both. Presets give
the course's small models (``gpt2_style``, ``llama_style``) and two real models from their
papers (``gpt2_124m``, ``llama2_7b``), which are far too big to build here but are useful for
parameter and memory arithmetic (``count_parameters``, ``kv_cache_bytes_per_token``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

#: Allowed values of the string-valued fields; an unknown value raises ``ConfigError``.
NORMS = ("layernorm", "rmsnorm")
POSITIONS = ("learned", "sinusoidal", "rope")
MLPS = ("gelu", "swiglu")
ROPE_LAYOUTS = ("half", "interleaved")


class ConfigError(ValueError):
    """A ``ModelConfig`` whose fields do not fit together; the message names the field and the fix."""


@dataclass(frozen=True)
class ModelConfig:
    """Every architectural choice of a ``TinyLLM``.

    Attributes:
        vocab_size: number of token ids (rows of the embedding matrix).
        context_length: longest sequence the model accepts (positions ``0 .. context_length-1``).
        d_model: width of the residual stream.
        n_layers: number of transformer blocks.
        n_heads: query heads per attention layer.
        n_kv_heads: key/value heads (``None`` means ``n_heads``). ``n_kv_heads == n_heads`` is
            multi-head attention, ``1`` is multi-query attention, anything in between is
            grouped-query attention (GQA). Hugging Face calls it ``num_key_value_heads``.
        d_ff: hidden width of the MLP (``None``: ``4 * d_model`` for GELU, Llama's
            ``~8/3 * d_model`` rounded up to a multiple of 32 for SwiGLU, see ``swiglu_d_ff``).
        norm: ``"layernorm"`` (GPT-2) or ``"rmsnorm"`` (Llama).
        positions: ``"learned"`` (GPT-2), ``"sinusoidal"`` (the original Transformer) or
            ``"rope"`` (Llama, rotary embeddings inside attention).
        mlp: ``"gelu"`` (GPT-2) or ``"swiglu"`` (Llama).
        rope_theta: RoPE base; frequencies are ``rope_theta ** (-2i / head_dim)``.
        rope_layout: which pairs of dimensions RoPE rotates together: ``"half"`` pairs ``i`` with
            ``i + head_dim/2`` (Hugging Face Llama/Qwen, ``rotate_half``); ``"interleaved"`` pairs
            ``2i`` with ``2i+1`` (the RoFormer paper and Meta's original Llama code).
        dropout: dropout on embeddings, attention weights and residual branches (0 to turn off).
        bias: biases in the linear layers and LayerNorm (GPT-2: yes, Llama: no).
        tie_embeddings: share one matrix between the token embedding and the output head.
        eps: the small constant that keeps the norms from dividing by zero.

    The defaults are the course's model, written here and nowhere else: ``ModelConfig()`` is
    ``llama_style()`` with plain multi-head attention (``n_kv_heads`` = ``n_heads`` = 8), and
    ``llama_style()`` adds grouped-query attention (4 kv heads, the shipped base model).

    The config is frozen (immutable); make a variant with ``dataclasses.replace(cfg, n_layers=2)``
    or ``cfg.replace(n_layers=2)``.
    """

    vocab_size: int = 4096
    context_length: int = 512
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 8
    n_kv_heads: int | None = None
    d_ff: int | None = None
    norm: str = "rmsnorm"
    positions: str = "rope"
    mlp: str = "swiglu"
    rope_theta: float = 10000.0
    rope_layout: str = "half"
    dropout: float = 0.0
    bias: bool = False
    tie_embeddings: bool = True
    eps: float = 1e-5

    def __post_init__(self) -> None:
        # Fill in the derived defaults first, so the checks below see the real values.
        # (object.__setattr__ because the dataclass is frozen.)
        if self.n_kv_heads is None:
            object.__setattr__(self, "n_kv_heads", self.n_heads)
        if self.d_ff is None:
            d_ff = 4 * self.d_model if self.mlp == "gelu" else swiglu_d_ff(self.d_model)
            object.__setattr__(self, "d_ff", d_ff)
        self._validate()

    @property
    def head_dim(self) -> int:
        """Width of one attention head: ``d_model // n_heads``."""
        return self.d_model // self.n_heads

    @property
    def n_rep(self) -> int:
        """Query heads that share one key/value head: ``n_heads // n_kv_heads``."""
        return self.n_heads // self.n_kv_heads

    def replace(self, **changes) -> ModelConfig:
        """A copy with some fields changed (validated again), e.g. ``cfg.replace(n_layers=2)``.

        ``n_kv_heads`` and ``d_ff`` were filled in when this config was made, so they keep their
        values: when changing ``n_heads`` or ``d_model``, pass them too if they should follow.
        """
        return dataclasses.replace(self, **changes)

    def _validate(self) -> None:
        for name, allowed in (
            ("norm", NORMS),
            ("positions", POSITIONS),
            ("mlp", MLPS),
            ("rope_layout", ROPE_LAYOUTS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"ModelConfig.{name}={value!r} is not an option; use one of {list(allowed)}"
                )
        for name in (
            "vocab_size",
            "context_length",
            "d_model",
            "n_layers",
            "n_heads",
            "n_kv_heads",
            "d_ff",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"ModelConfig.{name}={value!r} must be a positive int")
        if self.d_model % self.n_heads != 0:
            raise ConfigError(
                f"ModelConfig.d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                f"each head gets d_model / n_heads dimensions, so pick n_heads from "
                f"{_divisors(self.d_model)} or change d_model"
            )
        if self.n_heads % self.n_kv_heads != 0:
            raise ConfigError(
                f"ModelConfig.n_heads={self.n_heads} is not divisible by n_kv_heads="
                f"{self.n_kv_heads}; every key/value head must serve the same number of query "
                f"heads, so pick n_kv_heads from {_divisors(self.n_heads)}"
            )
        if self.positions == "rope" and self.head_dim % 2 != 0:
            raise ConfigError(
                f"ModelConfig.head_dim={self.head_dim} (d_model {self.d_model} / n_heads "
                f"{self.n_heads}) is odd, but RoPE rotates pairs of dimensions; choose d_model "
                f"and n_heads so that d_model / n_heads is even"
            )
        if self.positions == "sinusoidal" and self.d_model % 2 != 0:
            raise ConfigError(
                f"ModelConfig.d_model={self.d_model} is odd, but sinusoidal positions come in "
                f"sin/cos pairs; use an even d_model"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"ModelConfig.dropout={self.dropout} must be in [0, 1)")
        if not self.eps > 0:
            raise ConfigError(f"ModelConfig.eps={self.eps} must be > 0 (e.g. 1e-5)")
        if not self.rope_theta > 0:
            raise ConfigError(
                f"ModelConfig.rope_theta={self.rope_theta} must be > 0 (e.g. 10000.0)"
            )


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def swiglu_d_ff(d_model: int, multiple_of: int = 32) -> int:
    """Llama's SwiGLU hidden width: ``2/3 * 4 * d_model``, rounded up to ``multiple_of``.

    SwiGLU has three matrices instead of two, so Llama shrinks the hidden width by 2/3 to keep
    the MLP's parameter count close to a GELU MLP of width ``4 * d_model``. Llama-2 rounds up to
    a multiple of 256 (``swiglu_d_ff(4096, 256) == 11008``); the course's small models use 32.
    """
    hidden = int(2 * 4 * d_model / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def gpt2_style(**overrides) -> ModelConfig:
    """A small GPT-2-style model: LayerNorm, learned positions, GELU MLP, biases, tied embeddings.

    The size is ``ModelConfig``'s default, the same as ``llama_style()``, so the two compare
    architecture only; any field can be overridden, e.g. ``gpt2_style(n_layers=2)``. ``d_ff``
    follows ``d_model`` (``4 * d_model``) unless given.
    """
    return ModelConfig(**{"norm": "layernorm", "positions": "learned", "mlp": "gelu", "bias": True,
                          **overrides})


def llama_style(**overrides) -> ModelConfig:
    """The course's default model: Llama-style, about 4M parameters; ``ModelConfig``'s defaults
    plus grouped-query attention.

    RMSNorm, RoPE (``half`` layout), SwiGLU, no biases, 8 query heads sharing 4 key/value heads,
    and a tied embedding (at this size the embedding is a quarter of the model, so tying saves a
    lot). 4 layers of width 256 train on two CPU cores in minutes. ``context_length=512`` leaves
    room to generate 256 tokens after a prompt of up to 256 tokens. Any field can be overridden,
    e.g. ``llama_style(vocab_size=2048)``; unless given, ``n_kv_heads`` is ``n_heads // 2``
    (``n_heads`` if odd) and ``d_ff`` is ``swiglu_d_ff(d_model)``.
    """
    if overrides.get("n_kv_heads") is None:
        # Two query heads per kv head (GQA); plain MHA when n_heads is odd.
        n_heads = overrides.get("n_heads", ModelConfig.n_heads)
        overrides["n_kv_heads"] = n_heads // 2 if n_heads % 2 == 0 else n_heads
    return ModelConfig(**overrides)


def gpt2_124m() -> ModelConfig:
    """GPT-2 small as released by OpenAI (124M parameters). For arithmetic, not for building here."""
    return ModelConfig(
        vocab_size=50257,
        context_length=1024,
        d_model=768,
        n_layers=12,
        n_heads=12,
        n_kv_heads=12,
        d_ff=3072,
        norm="layernorm",
        positions="learned",
        mlp="gelu",
        dropout=0.0,
        bias=True,
        tie_embeddings=True,
        eps=1e-5,
    )


def llama2_7b() -> ModelConfig:
    """Llama-2-7B as in Touvron et al. 2023 (6,738,415,616 parameters). For arithmetic only."""
    return ModelConfig(
        vocab_size=32000,
        context_length=4096,
        d_model=4096,
        n_layers=32,
        n_heads=32,
        n_kv_heads=32,
        d_ff=swiglu_d_ff(4096, multiple_of=256),
        norm="rmsnorm",
        positions="rope",
        mlp="swiglu",
        rope_theta=10000.0,
        rope_layout="half",
        dropout=0.0,
        bias=False,
        tie_embeddings=False,
        eps=1e-5,
    )
