"""Packed prompt + completion batches, hidden states, log-probs and entropy (against trl),
masked statistics (against trl's former PPO helpers and by hand), and the KL estimators."""

from __future__ import annotations

import math

import pytest
import torch
from rlhf_helpers import VOCAB, random_rows, tiny_model
from torch.testing import assert_close

from tinyllm.rlhf.kl import kl_k1, kl_k3
from tinyllm.rlhf.masked import masked_mean, masked_var, masked_whiten
from tinyllm.rlhf.sequences import (
    completion_hidden,
    completion_logits,
    completion_logprobs,
    entropy,
    hidden_states,
    last_token_index,
    pack,
    sequence_logprobs,
    token_logprobs,
)


def test_pack_puts_prompts_left_and_completions_right():
    batch = pack([[1, 2, 3], [4]], [[5], [6, 7, 8]], pad_id=0)
    assert batch.ids.tolist() == [[1, 2, 3, 5, 0, 0], [0, 0, 4, 6, 7, 8]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]]
    assert batch.positions[0, :4].tolist() == [0, 1, 2, 3]
    assert batch.positions[1, 2:].tolist() == [0, 1, 2, 3]
    assert batch.completion_mask.tolist() == [[1, 0, 0], [1, 1, 1]]
    assert batch.prompt_width == 3 and batch.completions.tolist() == [[5, 0, 0], [6, 7, 8]]
    with pytest.raises(ValueError, match="one completion per prompt"):
        pack([[1]], [[2], [3]])
    with pytest.raises(ValueError, match="at least one token"):
        pack([[]], [[2]])


def test_last_token_index_with_left_right_and_both_paddings():
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert last_token_index(mask).tolist() == [3, 1, 2, 3]
    # Right padding only: trl's `first_true_indices(pad) - 1`, which its reward code uses.
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    trl = pytest.importorskip("trl.experimental.utils")
    assert torch.equal(last_token_index(right), trl.first_true_indices(~right) - 1)
    with pytest.raises(ValueError, match="no real token"):
        last_token_index(torch.zeros(1, 3, dtype=torch.bool))


def test_hidden_states_are_the_forward_pass_before_the_head():
    model = tiny_model()
    batch = pack(random_rows(3, 2, 6, 0), random_rows(3, 1, 5, 1))
    hidden = hidden_states(model, batch.ids, batch.attention_mask, batch.positions)
    logits = model(batch.ids, attention_mask=batch.attention_mask, positions=batch.positions)
    assert_close(model.lm_head(hidden), logits)
    assert_close(model.lm_head(hidden_states(model, batch.ids)), model(batch.ids))
    with pytest.raises(ValueError, match="context_length"):
        hidden_states(model, torch.zeros(1, model.config.context_length + 1, dtype=torch.long))


def test_each_row_computes_what_it_would_alone():
    model = tiny_model()
    prompts, completions = random_rows(4, 1, 7, 2), random_rows(4, 1, 6, 3)
    batch = pack(prompts, completions)
    per_token = completion_logprobs(model, batch)
    for row, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        ids = torch.tensor([p + c])
        logp = torch.log_softmax(model(ids)[0, len(p) - 1:-1], -1)
        alone = logp.gather(-1, torch.tensor(c)[:, None])[:, 0]
        assert_close(per_token[row, :len(c)], alone, atol=1e-5, rtol=1e-5)
        assert bool((per_token[row, len(c):] == 0).all())
    sums = sequence_logprobs(per_token, batch.completion_mask)
    assert_close(sums, per_token.sum(-1))


def test_token_logprobs_and_entropy_equal_trl():
    trl_utils = pytest.importorskip("trl.trainer.utils")
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, VOCAB, generator=generator) * 3
    tokens = torch.randint(0, VOCAB, (3, 5), generator=generator)
    for temperature in (1.0, 0.7):
        assert_close(token_logprobs(logits, tokens, temperature),
                     trl_utils.selective_log_softmax(logits, tokens, temperature=temperature))
    assert_close(entropy(logits), trl_utils.entropy_from_logits(logits))
    assert_close(entropy(torch.zeros(1, VOCAB)), torch.tensor([math.log(VOCAB)]))
    with pytest.raises(ValueError, match="temperature"):
        token_logprobs(logits, tokens, 0.0)


def test_completion_hidden_and_logits_line_up():
    model = tiny_model()
    batch = pack(random_rows(2, 1, 4, 4), random_rows(2, 2, 3, 5))
    hidden = completion_hidden(model, batch)
    assert hidden.shape == (2, batch.completion_mask.shape[1], model.config.d_model)
    assert_close(model.lm_head(hidden), completion_logits(model, batch))


# --- masked statistics -------------------------------------------------------------------------


def trl_masked_whiten(values, mask, shift_mean=True):
    """trl <= 0.11's ``trl.core.masked_mean / masked_var / masked_whiten`` (its PPO trainer's),
    reproduced: trl 1.16 no longer ships them."""
    def masked_mean_(v, m):
        return (v * m).sum() / m.sum()

    mean = masked_mean_(values, mask)
    var = masked_mean_((values - mean) ** 2, mask)
    var = var * mask.sum() / (mask.sum() - 1)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    return whitened if shift_mean else whitened + mean


def test_masked_statistics_by_hand():
    values = torch.tensor([[1.0, 2.0, 100.0], [3.0, 4.0, -50.0]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 0]], dtype=torch.bool)
    assert float(masked_mean(values, mask)) == 2.5
    assert masked_mean(values, mask, dim=1).tolist() == [1.5, 3.5]
    assert float(masked_var(values, mask)) == pytest.approx(5 / 3)  # (2.25+.25+.25+2.25)/3
    assert float(masked_var(values, mask, unbiased=False)) == pytest.approx(1.25)
    whitened = masked_whiten(values, mask)
    assert whitened[:, 2].tolist() == [0.0, 0.0]
    assert whitened[0, 0] == pytest.approx(-1.5 / math.sqrt(5 / 3))
    with pytest.raises(ValueError, match="at least 2"):
        masked_var(values, torch.tensor([[1, 0, 0], [0, 0, 0]], dtype=torch.bool))


def test_masked_whiten_equals_trl():
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(4, 7, generator=generator) * 3 + 1
    mask = torch.rand(4, 7, generator=generator) > 0.3
    for shift_mean in (True, False):
        expected = trl_masked_whiten(values, mask.float(), shift_mean) * mask
        assert_close(masked_whiten(values, mask, shift_mean), expected)
    real = masked_whiten(values, mask)[mask]
    assert float(real.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(real.std()) == pytest.approx(1.0, abs=1e-6)


# --- KL estimators -----------------------------------------------------------------------------


def test_kl_estimators_by_hand_and_as_trl_grpo():
    logp, ref = torch.tensor([-1.0, -2.0, -0.5]), torch.tensor([-1.5, -1.0, -0.5])
    assert kl_k1(logp, ref).tolist() == [0.5, -1.0, 0.0]
    r = ref - logp
    assert kl_k3(logp, ref).tolist() == pytest.approx([math.exp(x) - x - 1 for x in r.tolist()])
    # trl 1.16 GRPOTrainer._compute_loss: exp(ref - logp) - (ref - logp) - 1
    assert_close(kl_k3(logp, ref), torch.exp(ref - logp) - (ref - logp) - 1)
    assert bool((kl_k3(torch.randn(100), torch.randn(100)) >= 0).all())


def test_k1_and_k3_estimate_the_true_kl():
    generator = torch.Generator().manual_seed(0)
    p, q = torch.softmax(torch.randn(6, generator=generator), 0), torch.softmax(torch.randn(6, generator=generator), 0)
    true = float((p * (p / q).log()).sum())
    x = torch.multinomial(p, 200_000, replacement=True, generator=generator)
    logp, logq = p.log()[x], q.log()[x]
    assert float(kl_k1(logp, logq).mean()) == pytest.approx(true, abs=0.01)
    assert float(kl_k3(logp, logq).mean()) == pytest.approx(true, abs=0.01)
