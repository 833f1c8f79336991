"""LoRA adapters: equal to peft's on the same weights, initialised as peft does, mergeable and
unmergeable, several on one base, saved and loaded alone."""

from __future__ import annotations

import math
import re

import pytest
import torch
from hf_reference import hf_llama, ids_for, random_model
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.testing import assert_close

from tinyllm.checkpoint import CheckpointError, save_checkpoint
from tinyllm.config import gpt2_style, llama_style
from tinyllm.lora import (
    LoRAConfig,
    LoRALinear,
    add_lora,
    count_trainable,
    disable_adapter,
    lora_layers,
    merge,
    set_adapter,
    unmerge,
)
from tinyllm.lora_file import base_sha256, load_adapter, save_adapter

CONFIG = llama_style(
    vocab_size=101, context_length=32, d_model=64, n_heads=4, n_kv_heads=2, n_layers=2,
    tie_embeddings=False,
)  # fmt: skip
PROJECTIONS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def randomise_B(model: nn.Module, seed: int) -> None:
    """Give every adapter a random B: with B = 0 (its initial value) an adapter does nothing,
    and a test that compares adapted outputs would compare base models."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in lora_layers(model).values():
            for linear in layer.lora_B.values():
                linear.weight.copy_(0.1 * torch.randn(linear.weight.shape, generator=generator))


def base_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: layer.base_layer.weight.clone() for name, layer in lora_layers(model).items()}


# --- equal to peft ------------------------------------------------------------------------------


# peft calls a transformers method that transformers 5 deprecates; not ours to fix.
@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")
@pytest.mark.parametrize(
    "targets, r, alpha, use_rslora",
    [(("q_proj", "v_proj"), 8, 16, False), ("all-linear", 4, 8, True)],
)
def test_lora_equals_peft(targets, r, alpha, use_rslora):
    peft = pytest.importorskip("peft", reason="needs the reference extra: pip install -e .[ref]")
    ours = random_model(CONFIG, seed=1)
    reference = hf_llama(CONFIG, ours)
    ids = ids_for(CONFIG)
    with torch.no_grad():
        base_logits = ours(ids)
    add_lora(ours, r=r, alpha=alpha, targets=targets, use_rslora=use_rslora)
    randomise_B(ours, seed=2)
    config = peft.LoraConfig(
        r=r, lora_alpha=alpha, target_modules=targets if targets == "all-linear" else list(targets),
        lora_dropout=0.0, use_rslora=use_rslora,
    )  # fmt: skip
    theirs = peft.get_peft_model(reference, config).eval()
    their_params = {n: p for n, p in theirs.named_parameters() if "lora_" in n}
    our_params = {
        f"base_model.model.model.{n}": p for n, p in ours.named_parameters() if "lora_" in n
    }
    assert set(their_params) == set(our_params)  # the same layers adapted, under the same names
    with torch.no_grad():
        for name, p in our_params.items():
            their_params[name].copy_(p)
        logits, expected = ours(ids), theirs(input_ids=ids).logits
    assert (expected - base_logits).abs().max() > 0.1  # the adapters change the outputs
    assert_close(logits, expected, atol=1e-5, rtol=0)

    merge(ours)
    merged = theirs.merge_and_unload()
    for name, layer in lora_layers(ours).items():
        their_weight = merged.get_submodule(f"model.{name}").weight
        assert_close(layer.base_layer.weight, their_weight, atol=1e-6, rtol=0)
    with torch.no_grad():
        assert_close(ours(ids), expected, atol=1e-5, rtol=0)


# --- initialisation -----------------------------------------------------------------------------


def test_adapter_is_initialised_like_peft_and_changes_nothing_at_first():
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(48, 20))
    layer.add_adapter("default", LoRAConfig(r=16))
    A, B = layer.lora_A["default"].weight, layer.lora_B["default"].weight
    assert A.shape == (16, 48) and B.shape == (20, 16)
    # kaiming_uniform_(a=sqrt(5)) is uniform on +-gain * sqrt(3 / fan_in) = +-1 / sqrt(fan_in).
    bound = 1 / math.sqrt(48)
    assert A.abs().max() <= bound
    assert A.abs().max() > 0.95 * bound  # fills the range (768 draws)
    assert abs(A.var().item() - bound**2 / 3) < 0.15 * bound**2 / 3  # the variance of a uniform
    assert torch.equal(B, torch.zeros_like(B))

    model = random_model(CONFIG, seed=3)
    ids = ids_for(CONFIG)
    with torch.no_grad():
        before = model(ids)
        add_lora(model, targets="all-linear")
        assert torch.equal(model(ids), before)  # exactly: B = 0 adds exact zeros


def test_dropout_acts_on_the_adapter_input_only_and_only_in_training():
    torch.manual_seed(1)
    layer = LoRALinear(nn.Linear(16, 8)).train()
    config = LoRAConfig(r=4, dropout=0.5)
    layer.add_adapter("default", config)
    set_adapter(layer, "default")
    x = torch.randn(4, 16)
    with torch.no_grad():
        base = layer.base_layer(x)
        assert torch.equal(layer(x), base)  # B = 0 and the base layer sees x undropped
        randomise_B(layer, seed=1)
        assert not torch.equal(layer(x), layer(x))  # two different dropout masks
        A, B = layer.lora_A["default"].weight, layer.lora_B["default"].weight
        assert_close(layer.eval()(x), base + x @ A.T @ B.T * config.scaling)  # none in eval


# --- merge and unmerge --------------------------------------------------------------------------


def test_merge_then_unmerge_restores_the_base_and_merged_equals_unmerged():
    model = random_model(CONFIG, seed=4)
    add_lora(model, targets="all-linear")
    randomise_B(model, seed=5)
    ids = ids_for(CONFIG)
    before = base_weights(model)
    with torch.no_grad():
        unmerged = model(ids)
        merge(model)
        assert all(
            not torch.equal(layer.base_layer.weight, before[name])
            for name, layer in lora_layers(model).items()
        )
        assert_close(model(ids), unmerged, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"cannot merge .* call unmerge\(model\) first"):
        merge(model)
    with pytest.raises(ValueError, match="cannot switch adapters while an adapter is merged"):
        set_adapter(model, "default")
    with pytest.raises(ValueError, match="cannot disable the adapter while an adapter is merged"):
        with disable_adapter(model):
            pass
    unmerge(model)
    for name, layer in lora_layers(model).items():
        assert_close(layer.base_layer.weight, before[name], atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="nothing to unmerge"):
        unmerge(model)


@settings(max_examples=25, deadline=None)
@given(
    in_features=st.integers(1, 40),
    out_features=st.integers(1, 40),
    r=st.integers(1, 12),
    alpha=st.floats(0.5, 64),
    use_rslora=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_merge_unmerge_property(in_features, out_features, r, alpha, use_rslora, seed):
    torch.manual_seed(seed)
    layer = LoRALinear(nn.Linear(in_features, out_features))
    layer.add_adapter("default", LoRAConfig(r=r, alpha=alpha, use_rslora=use_rslora))
    set_adapter(layer, "default")
    randomise_B(layer, seed)
    x = torch.randn(3, 5, in_features)
    weight = layer.base_layer.weight.clone()
    with torch.no_grad():
        unmerged = layer(x)
        merge(layer)
        assert_close(layer(x), unmerged, atol=1e-5, rtol=1e-5)
    unmerge(layer)
    assert_close(layer.base_layer.weight, weight, atol=1e-6, rtol=0)


# --- training -----------------------------------------------------------------------------------


def test_only_adapter_parameters_receive_gradients():
    model = random_model(CONFIG, seed=6).train()
    r = 4
    add_lora(model, r=r)
    randomise_B(model, seed=7)  # with B = 0, A's gradient would be exactly zero
    ids = ids_for(CONFIG)
    _, loss = model(ids[:, :-1], ids[:, 1:])
    loss.backward()
    adapter = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert len(adapter) == 2 * 2 * CONFIG.n_layers  # A and B, q_proj and v_proj, each layer
    for name, p in model.named_parameters():
        if name in adapter:
            assert p.requires_grad and p.grad is not None and p.grad.abs().max() > 0, name
        else:
            assert not p.requires_grad and p.grad is None, name

    kv_width = CONFIG.n_kv_heads * CONFIG.head_dim
    q_width = CONFIG.n_heads * CONFIG.head_dim
    per_layer = r * (CONFIG.d_model + q_width) + r * (CONFIG.d_model + kv_width)
    trainable, total = count_trainable(model)
    assert trainable == CONFIG.n_layers * per_layer
    assert total == sum(p.numel() for p in random_model(CONFIG, seed=6).parameters()) + trainable


# --- several adapters ---------------------------------------------------------------------------


def test_two_adapters_switch_and_disable_adapter_gives_the_base_model():
    model = random_model(CONFIG, seed=8)
    ids = ids_for(CONFIG)
    with torch.no_grad():
        base = model(ids)
    add_lora(model, "happy", r=4)
    add_lora(model, "chinese", r=2, targets="all-linear")  # the new adapter becomes active
    randomise_B(model, seed=9)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".chinese." in n for n in trainable)
    with torch.no_grad():
        chinese = model(ids)
        set_adapter(model, "happy")
        happy = model(ids)
        assert (happy - chinese).abs().max() > 0.1 and (happy - base).abs().max() > 0.1
        with disable_adapter(model):
            assert torch.equal(model(ids), base)
        assert torch.equal(model(ids), happy)
        with pytest.raises(RuntimeError, match="inside"), disable_adapter(model):
            raise RuntimeError("inside")
        assert torch.equal(model(ids), happy)
    with pytest.raises(
        ValueError, match=r"no adapter named 'sad'; the model has \['chinese', 'happy'\]"
    ):
        set_adapter(model, "sad")


# --- save and load ------------------------------------------------------------------------------


def test_save_load_round_trip_and_wrong_base(tmp_path):
    model = random_model(CONFIG, seed=10)
    sha = base_sha256(model)
    add_lora(model, "happy", r=4, alpha=8)
    randomise_B(model, seed=11)
    assert base_sha256(model) == sha  # the adapter is not part of the base
    path = save_adapter(tmp_path / "happy.safetensors", model, "happy")
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed
    adapter_bytes = sum(p.numel() * 4 for n, p in model.named_parameters() if "lora_" in n)
    assert adapter_bytes < path.stat().st_size < adapter_bytes + 4096  # tensors + a small header

    fresh = random_model(CONFIG, seed=10)
    assert load_adapter(path, fresh) == "happy"
    ids = ids_for(CONFIG)
    with torch.no_grad():
        assert torch.equal(fresh(ids), model(ids))
    assert lora_layers(fresh)["layers.1.self_attn.v_proj"].configs["happy"] == LoRAConfig(4, 8)

    other = random_model(CONFIG, seed=12)
    message = f"sha256 {sha}.*sha256 {base_sha256(other)}"
    with pytest.raises(CheckpointError, match=message):
        load_adapter(path, other)
    assert lora_layers(other) == {}  # a refused file leaves the model as it was


def test_load_onto_a_model_without_the_targets_or_a_file_that_is_not_an_adapter(tmp_path):
    model = random_model(CONFIG, seed=13)
    add_lora(model, targets=("gate_proj",))
    path = save_adapter(tmp_path / "gate.safetensors", model)
    gpt2 = random_model(gpt2_style(vocab_size=101, context_length=32, d_model=32, n_heads=2,
                                   n_layers=2), seed=13)  # fmt: skip
    with pytest.raises(CheckpointError, match=r"does not have: \['layers.0.mlp.gate_proj'"):
        load_adapter(path, gpt2)

    checkpoint = save_checkpoint(tmp_path / "model.safetensors", random_model(CONFIG, seed=13))
    with pytest.raises(CheckpointError, match="not a tinyllm LoRA adapter"):
        load_adapter(checkpoint, model)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_adapter(tmp_path / "missing.safetensors", model)


# --- targets and argument errors ----------------------------------------------------------------


def test_all_linear_wraps_every_projection_but_not_the_output_head():
    model = random_model(CONFIG, seed=14)
    wrapped = add_lora(model, targets="all-linear")
    assert len(wrapped) == len(PROJECTIONS) * CONFIG.n_layers
    assert {name.rpartition(".")[2] for name in wrapped} == PROJECTIONS
    assert type(model.lm_head) is nn.Linear
    assert set(lora_layers(model)) == set(wrapped)
    # A second adapter reuses the wrappers rather than wrapping them again.
    assert add_lora(model, "second", targets="q_proj") == [
        f"layers.{i}.self_attn.q_proj" for i in range(2)
    ]
    assert set(lora_layers(model)) == set(wrapped)


def test_merging_into_a_tied_output_head_is_refused():
    model = random_model(CONFIG.replace(tie_embeddings=True), seed=16)
    add_lora(model, targets=("lm_head",))
    randomise_B(model, seed=17)
    embedding = model.embed_tokens.weight.clone()
    with pytest.raises(ValueError, match=r"cannot merge into \['lm_head'\]: the weight is tied"):
        merge(model)  # it would change the input embedding too
    assert torch.equal(model.embed_tokens.weight, embedding)


def test_bad_arguments_give_the_documented_errors():
    model = random_model(CONFIG, seed=15)
    with pytest.raises(ValueError, match="must be at least 1, got r=0"):
        add_lora(model, r=0)
    with pytest.raises(ValueError, match=re.escape("no linear layer matches targets=('c_attn',)")):
        add_lora(model, targets=("c_attn",))
    with pytest.raises(ValueError, match=r"named \['down_proj', 'gate_proj', 'k_proj', 'lm_head'"):
        add_lora(model, targets="c_attn")
    with pytest.raises(ValueError, match=re.escape("no linear layer matches targets=('v_prj',)")):
        add_lora(model, targets=("q_proj", "v_prj"))  # a typo must not quietly adapt q_proj alone
    assert lora_layers(model) == {}  # nothing was wrapped by the failed calls
    assert add_lora(random_model(CONFIG, seed=15), targets="q_proj, v_proj") == [
        f"layers.{i}.self_attn.{p}_proj" for i in range(2) for p in "qv"]  # a recipe's lora_targets
    add_lora(model)
    with pytest.raises(ValueError, match="already has an adapter named 'default'"):
        add_lora(model, targets="all-linear")
