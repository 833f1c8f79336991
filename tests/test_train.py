"""The training loop: schedule, weight-decay groups, clipping, accumulation, bf16, evaluation."""

import math
from itertools import pairwise

import pytest
import torch
import torch.nn.functional as F
from tiny_run import tiny_config, tiny_data, tiny_model
from torch.utils.data import DataLoader, TensorDataset

from tinyllm.config import gpt2_style
from tinyllm.model import IGNORE_INDEX, TinyLLM
from tinyllm.optim import lr_at, param_groups
from tinyllm.train import (
    BatchStream,
    History,
    TrainConfig,
    bits_per_byte,
    bytes_per_token,
    evaluate,
    train,
)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


# --- the learning-rate schedule ------------------------------------------------------------

def test_schedule_warmup_then_cosine_to_floor():
    cfg = TrainConfig(lr=1.0, min_lr=0.1, warmup_steps=10, max_steps=110)
    assert lr_at(0, cfg) == pytest.approx(0.1)  # (0 + 1) / 10 of the peak
    assert lr_at(4, cfg) == pytest.approx(0.5)
    assert lr_at(9, cfg) == pytest.approx(1.0)  # warmup ends at the peak
    assert lr_at(10, cfg) == pytest.approx(1.0)  # cosine starts at the peak
    assert lr_at(60, cfg) == pytest.approx(0.55)  # half way down: (lr + min_lr) / 2
    assert lr_at(35, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_at(110, cfg) == pytest.approx(0.1)
    assert lr_at(500, cfg) == pytest.approx(0.1)  # stays at the floor
    decay = [lr_at(s, cfg) for s in range(10, 111)]
    assert all(a >= b for a, b in pairwise(decay))


def test_schedule_without_warmup_starts_at_peak():
    cfg = TrainConfig(lr=2e-3, min_lr=0.0, warmup_steps=0, max_steps=10)
    assert lr_at(0, cfg) == pytest.approx(2e-3)
    assert lr_at(10, cfg) == pytest.approx(0.0)


def test_train_config_errors_name_the_field():
    with pytest.raises(ValueError, match="min_lr"):
        TrainConfig(lr=1e-3, min_lr=1e-2)
    with pytest.raises(ValueError, match="warmup_steps"):
        TrainConfig(warmup_steps=-1)
    with pytest.raises(ValueError, match="grad_accum_steps"):
        TrainConfig(grad_accum_steps=0)
    for field_name, value in (("weight_decay", -0.1), ("grad_clip", -1.0), ("eps", 0.0)):
        with pytest.raises(ValueError, match=f"TrainConfig.{field_name}={value}"):
            TrainConfig(**{field_name: value})


# --- weight-decay groups -------------------------------------------------------------------

def names_of(model, params):
    ids = {id(p) for p in params}
    return {name for name, p in model.named_parameters() if id(p) in ids}


def test_param_groups_decay_only_linear_weights_llama():
    model = tiny_model()  # tied embeddings, RMSNorm, no biases
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    decayed = names_of(model, decay["params"])
    assert decayed == {
        f"layers.{i}.{part}.weight" for i in range(2) for part in (
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
    }
    # The tied head is the embedding: one tensor, not decayed.
    assert "embed_tokens.weight" in names_of(model, no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_param_groups_gpt2_biases_norms_positions_not_decayed():
    model = TinyLLM(gpt2_style(vocab_size=64, context_length=16, d_model=32, n_layers=1, n_heads=4,
                               tie_embeddings=False))
    decay, no_decay = param_groups(model, 0.1)
    decayed, kept = names_of(model, decay["params"]), names_of(model, no_decay["params"])
    assert "lm_head.weight" in decayed  # an untied head is an ordinary linear layer
    assert {"embed_tokens.weight", "embed_positions.weight", "norm.weight", "norm.bias",
            "layers.0.self_attn.q_proj.bias", "layers.0.mlp.up_proj.bias"} <= kept
    assert not any(name.endswith("bias") or "norm" in name for name in decayed)
    assert decayed.isdisjoint(kept)
    assert decayed | kept == {name for name, _ in model.named_parameters()}


# --- batches --------------------------------------------------------------------------------

def test_batch_stream_is_a_pure_function_of_seed_and_index():
    data = TensorDataset(torch.arange(10)[:, None], -torch.arange(10)[:, None])  # sample k is (k, -k)
    a, b = BatchStream(data, 4, seed=1), BatchStream(data, 4, seed=1)
    assert a.batches_per_epoch == 2  # the short remainder (2 samples) is dropped
    for index in (1, 3, 0, 1):  # any order, repeated
        torch.testing.assert_close(a[index], b[index])
    x, y = a[0]
    assert x.shape == (4, 1) and torch.equal(y, -x)
    # One epoch: distinct samples, none repeated; the next epoch is reshuffled.
    epoch = torch.cat([a[0][0], a[1][0]]).flatten().tolist()
    assert len(set(epoch)) == 8
    assert epoch != torch.cat([a[2][0], a[3][0]]).flatten().tolist()
    assert not torch.equal(a[0][0], BatchStream(data, 4, seed=2)[0][0])


def test_batch_stream_rejects_a_dataloader():
    with pytest.raises(TypeError, match="Dataset"):
        BatchStream(DataLoader(tiny_data(), batch_size=4), 4)


# --- one optimizer step: clipping, accumulation, autocast -----------------------------------

def test_grad_norm_recorded_and_clipped(monkeypatch):
    # The norm AdamW sees must be min(true norm, grad_clip); the history keeps the true norm.
    model, data = tiny_model(), tiny_data()
    x, y = BatchStream(data, 4, seed=0)[0]
    probe = tiny_model()
    probe(x, y)[1].backward()
    true_norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in probe.parameters()]))

    seen = []
    original_step = torch.optim.AdamW.step

    def spy(self, *args, **kwargs):
        seen.append(torch.linalg.vector_norm(torch.stack(
            [p.grad.norm() for group in self.param_groups for p in group["params"]])).item())
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", spy)
    clip = true_norm.item() / 4
    history = train(model, data, cfg=tiny_config(max_steps=1, grad_clip=clip), progress=False)
    assert history.grad_norm[0] == pytest.approx(true_norm.item(), rel=1e-5)
    assert seen[0] == pytest.approx(clip, rel=1e-5)

    seen.clear()
    train(tiny_model(), data, cfg=tiny_config(max_steps=1, grad_clip=0.0), progress=False)
    assert seen[0] == pytest.approx(true_norm.item(), rel=1e-5)  # 0 turns clipping off


@pytest.mark.parametrize("masked", [False, True])
def test_accumulation_equals_one_big_batch(masked):
    data = tiny_data(masked=masked)  # masked: micro-batches count different numbers of targets
    big, small = tiny_model(), tiny_model()
    train(big, data, cfg=tiny_config(max_steps=4, batch_size=8), progress=False)
    train(small, data, cfg=tiny_config(max_steps=4, batch_size=4, grad_accum_steps=2), progress=False)
    changed = False
    for (name, a), b in zip(big.state_dict().items(), small.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)
        changed |= not torch.equal(a, tiny_model().state_dict()[name])
    assert changed


def test_bf16_autocast_trains_with_finite_loss_close_to_float32():
    data = tiny_data()
    fp32 = train(tiny_model(), data, cfg=tiny_config(max_steps=3), progress=False)
    bf16 = train(tiny_model(), data, cfg=tiny_config(max_steps=3, autocast=True), progress=False)
    assert all(math.isfinite(v) for v in bf16.train_loss)
    assert bf16.train_loss != fp32.train_loss  # bf16 matmuls really ran
    for a, b in zip(fp32.train_loss, bf16.train_loss, strict=True):
        assert abs(a - b) < 0.05


def test_training_lowers_the_loss_and_fills_history():
    data = tiny_data()
    history = train(tiny_model(), data, data, tiny_config(max_steps=20, eval_interval=8, eval_steps=2),
                    bytes_per_token=2.0, progress=False)
    assert history.step == list(range(1, 21))
    assert history.val_step == [0, 8, 16, 20]
    assert history.lr[0] == pytest.approx(lr_at(0, tiny_config()))
    assert history.val_loss[-1] < history.val_loss[0] - 0.5
    assert history.val_bits_per_byte[-1] == pytest.approx(bits_per_byte(history.val_loss[-1], 2.0))
    assert History.from_dict(history.to_dict()) == history


def test_sample_callback_is_recorded_and_does_not_change_training():
    data = tiny_data()
    plain, sampled = tiny_model(dropout=0.1), tiny_model(dropout=0.1)
    torch.manual_seed(5)
    train(plain, data, cfg=tiny_config(max_steps=4), progress=False)

    def sample(model, step):
        model.eval()  # as generation does; train() switches back
        return {"noise": torch.rand(3).sum().item()}  # draws from the global generator

    torch.manual_seed(5)
    history = train(sampled, data, cfg=tiny_config(max_steps=4, sample_interval=2), sample_fn=sample,
                    progress=False)
    assert [s["step"] for s in history.samples] == [2, 4]
    for a, b in zip(plain.state_dict().values(), sampled.state_dict().values(), strict=True):
        assert torch.equal(a, b)


# --- evaluation -----------------------------------------------------------------------------

def test_evaluate_is_token_weighted_mean_with_perplexity():
    model = tiny_model().eval()
    data = tiny_data()
    x, y = data.tensors[0][:6], data.tensors[1][:6].clone()
    y[:3, 5:] = IGNORE_INDEX  # the first batch counts fewer tokens
    batches = [(x[:3], y[:3]), (x[3:], y[3:])]
    result = evaluate(model, batches, bytes_per_token=3.0)
    with torch.no_grad():
        expected = F.cross_entropy(model(x).reshape(-1, 64), y.reshape(-1), ignore_index=IGNORE_INDEX)
    assert result.loss == pytest.approx(expected.item(), rel=1e-6)
    assert result.perplexity == pytest.approx(math.exp(result.loss))
    assert result.bits_per_byte == pytest.approx(result.loss / math.log(2) / 3.0)
    assert result.tokens == int((y != IGNORE_INDEX).sum())
    # A Dataset is read in order, batch_size at a time.
    assert evaluate(model, TensorDataset(x, y), batch_size=3).loss == pytest.approx(result.loss)
    assert evaluate(model, batches).bits_per_byte is None


def test_evaluate_puts_back_training_mode_even_when_interrupted():
    model = tiny_model().train()
    x, y = tiny_data().tensors[0][:2], tiny_data().tensors[1][:2]

    def interrupted():
        yield x, y
        raise KeyboardInterrupt  # the notebook's stop button, in the middle of evaluation

    with pytest.raises(KeyboardInterrupt):
        evaluate(model, interrupted())
    assert model.training


def test_bits_per_byte_formula():
    # A model that is uniform over 256 byte values (one token per byte) needs 8 bits per byte.
    assert bits_per_byte(math.log(256), 1.0) == pytest.approx(8.0)
    # The same loss over tokens that each cover 4 bytes is a quarter of that per byte.
    assert bits_per_byte(math.log(256), 4.0) == pytest.approx(2.0)
    assert bytes_per_token("héllo 世界", [1, 2, 3, 4]) == pytest.approx(len("héllo 世界".encode()) / 4)
    with pytest.raises(ValueError, match="empty"):
        bytes_per_token("abc", [])
