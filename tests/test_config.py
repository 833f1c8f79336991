"""ModelConfig: presets, derived fields, and one clear error per kind of invalid config."""

from __future__ import annotations

import dataclasses

import pytest

from tinyllm.config import (
    ConfigError,
    ModelConfig,
    gpt2_124m,
    gpt2_style,
    llama2_7b,
    llama_style,
    swiglu_d_ff,
)
from tinyllm.model import count_parameters


def test_llama_style_default_is_a_small_gqa_llama():
    cfg = llama_style()
    assert (cfg.norm, cfg.positions, cfg.mlp, cfg.bias) == ("rmsnorm", "rope", "swiglu", False)
    assert cfg.n_kv_heads < cfg.n_heads and cfg.n_heads % cfg.n_kv_heads == 0
    assert 2_000_000 <= count_parameters(cfg) <= 6_000_000
    assert 2048 <= cfg.vocab_size <= 4096
    # Room for the benchmark's 256 new tokens after a prompt.
    assert cfg.context_length >= 256 + 64


def test_gpt2_style_uses_gpt2_choices_and_overrides():
    cfg = gpt2_style(n_layers=2, vocab_size=100)
    assert (cfg.norm, cfg.positions, cfg.mlp, cfg.bias) == ("layernorm", "learned", "gelu", True)
    assert (cfg.n_layers, cfg.vocab_size, cfg.n_kv_heads) == (2, 100, cfg.n_heads)


def test_paper_configs():
    assert count_parameters(llama2_7b()) == 6_738_415_616
    assert llama2_7b().d_ff == 11008
    assert count_parameters(gpt2_124m()) == 124_439_808


def test_presets_derive_d_ff_and_kv_heads_from_overrides():
    assert llama_style(d_model=128).d_ff == swiglu_d_ff(128)
    assert llama_style(n_heads=4, d_model=128).n_kv_heads == 2
    assert llama_style(n_heads=3, d_model=96).n_kv_heads == 3
    assert gpt2_style(d_model=128).d_ff == 512


def test_derived_defaults():
    cfg = ModelConfig(d_model=64, n_heads=4, mlp="gelu")
    assert cfg.n_kv_heads == 4 and cfg.d_ff == 256 and cfg.head_dim == 16 and cfg.n_rep == 1
    cfg = ModelConfig(d_model=64, n_heads=4, n_kv_heads=1, mlp="swiglu")
    assert cfg.d_ff == swiglu_d_ff(64) == 192 and cfg.n_rep == 4


@pytest.mark.parametrize(
    ("d_model", "multiple_of", "expected"), [(4096, 256, 11008), (256, 32, 704), (5120, 256, 13824)]
)
def test_swiglu_d_ff_matches_llama(d_model, multiple_of, expected):
    # 13824 is Llama-2-13B's intermediate_size.
    assert swiglu_d_ff(d_model, multiple_of) == expected


@pytest.mark.parametrize(
    ("changes", "must_mention"),
    [
        (dict(d_model=100, n_heads=8), ["d_model=100", "n_heads=8", "[1, 2, 4, 5"]),
        (dict(n_heads=8, n_kv_heads=3), ["n_heads=8", "n_kv_heads=3", "[1, 2, 4, 8]"]),
        (dict(d_model=40, n_heads=8, n_kv_heads=8), ["head_dim=5", "RoPE", "even"]),
        (dict(norm="batchnorm"), ["norm='batchnorm'", "rmsnorm"]),
        (dict(positions="alibi"), ["positions='alibi'", "rope"]),
        (dict(mlp="relu"), ["mlp='relu'", "swiglu"]),
        (dict(rope_layout="neox"), ["rope_layout='neox'", "interleaved"]),
        (dict(dropout=1.5), ["dropout"]),
        (dict(vocab_size=0), ["vocab_size"]),
        (dict(eps=0.0), ["eps"]),
    ],
)
def test_invalid_configs_raise_one_clear_error(changes, must_mention):
    with pytest.raises(ConfigError) as info:
        llama_style(**changes)
    for text in must_mention:
        assert text in str(info.value)


def test_odd_head_dim_is_fine_without_rope():
    cfg = gpt2_style(d_model=40, n_heads=8, n_kv_heads=8)
    assert cfg.head_dim == 5


def test_config_is_frozen_and_replace_revalidates():
    cfg = llama_style()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_layers = 2  # type: ignore[misc]
    assert cfg.replace(n_layers=2).n_layers == 2
    with pytest.raises(ConfigError, match="n_kv_heads"):
        cfg.replace(n_kv_heads=3)


def test_one_source_of_defaults():
    # ModelConfig's defaults are the course's model; llama_style() only adds GQA, gpt2_style()
    # only its architecture, so the three can never drift apart.
    plain, llama, gpt2 = ModelConfig(), llama_style(), gpt2_style()
    assert llama == ModelConfig(n_kv_heads=4) and plain == llama_style(n_kv_heads=8)
    assert (plain.n_kv_heads, llama.n_kv_heads) == (8, 4)
    differ = {f.name for f in dataclasses.fields(ModelConfig) if getattr(plain, f.name) != getattr(llama, f.name)}
    assert differ == {"n_kv_heads"}
    sizes = ("vocab_size", "context_length", "d_model", "n_layers", "n_heads")
    assert [getattr(gpt2, s) for s in sizes] == [getattr(plain, s) for s in sizes]
    assert gpt2 == ModelConfig(norm="layernorm", positions="learned", mlp="gelu", bias=True)
