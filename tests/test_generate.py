"""Generation: KV-cache decoding equals recomputation; sampling rules keep their promises."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from tinyllm.config import gpt2_style, llama_style
from tinyllm.generate import (
    apply_temperature,
    generate,
    sample_next_token,
    top_k_filter,
    top_p_filter,
)
from tinyllm.model import TinyLLM

SMALL = dict(vocab_size=61, context_length=160, d_model=48, n_layers=2, n_heads=4)



def tiny(style: str = "llama", **changes) -> TinyLLM:
    torch.manual_seed(0)
    make = llama_style if style == "llama" else gpt2_style
    model = TinyLLM(make(**{**SMALL, **changes}))
    # Larger weights than the initialisation give peaked, input-dependent next-token
    # distributions, so decoding visits many different tokens and states.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(8.0)
    return model.eval()


def prompt(batch: int = 1, seq: int = 10, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, SMALL["vocab_size"], (batch, seq), generator=torch.Generator().manual_seed(seed)
    )


# --- KV cache vs recomputation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "changes"),
    [
        ("llama", {}),
        ("llama", {"n_kv_heads": 1}),
        ("gpt2", {}),
        ("llama", {"rope_layout": "interleaved"}),
    ],
)
def test_kv_cache_decoding_equals_full_recomputation_for_120_steps(style, changes):
    model = tiny(style, **changes)
    ids = prompt(batch=2)
    cached, cached_logits = generate(model, ids, 120, temperature=0, return_logits=True)
    full, full_logits = generate(
        model, ids, 120, temperature=0, use_cache=False, return_logits=True
    )
    assert cached.shape == (2, 130)
    assert torch.equal(cached, full)
    assert_close(cached_logits, full_logits, atol=1e-5, rtol=0)
    assert len(set(cached[:, 10:].flatten().tolist())) > 10  # it really explored


def test_kv_cache_and_recomputation_sample_the_same_tokens_with_the_same_seed():
    model = tiny()
    a = generate(model, prompt(), 60, temperature=1.0, top_k=20, seed=3)
    b = generate(model, prompt(), 60, temperature=1.0, top_k=20, seed=3, use_cache=False)
    assert torch.equal(a, b)


def test_greedy_generate_equals_a_hand_written_argmax_loop():
    model = tiny()
    ids = prompt()
    out = generate(model, ids, 15, temperature=0)
    expected = ids
    for _ in range(15):
        next_id = model(expected)[:, -1].argmax(-1, keepdim=True)
        expected = torch.cat([expected, next_id], dim=1)
    assert torch.equal(out, expected)


# --- seeds, shapes, stop tokens, limits ------------------------------------------------------


def test_same_seed_same_text_whatever_the_global_rng():
    model = tiny()
    torch.manual_seed(1)
    a = generate(model, prompt(), 40, seed=7)
    torch.manual_seed(2)
    b = generate(model, prompt(), 40, seed=7)
    c = generate(model, prompt(), 40, seed=8)
    g = torch.Generator().manual_seed(7)
    d = generate(model, prompt(), 40, generator=g)
    assert torch.equal(a, b) and torch.equal(a, d)
    assert not torch.equal(a, c)


def test_one_dimensional_and_list_prompts_give_one_dimensional_output():
    model = tiny()
    ids = prompt()[0]
    out = generate(model, ids, 5, temperature=0)
    assert out.shape == (15,)
    assert torch.equal(out, generate(model, ids.tolist(), 5, temperature=0))
    assert torch.equal(out[:10], ids)
    out, logits = generate(model, ids, 5, temperature=0, return_logits=True)
    assert logits.shape == (5, SMALL["vocab_size"])


def test_stop_tokens_end_generation_and_are_kept():
    model = tiny()
    free = generate(model, prompt(), 30, temperature=0)[0, 10:].tolist()
    stop = free[6]
    first = free.index(stop)
    out = generate(model, prompt(), 30, temperature=0, stop_tokens=[stop])[0, 10:].tolist()
    assert out == free[: first + 1]


def test_batch_rows_that_stopped_repeat_their_stop_token():
    model = tiny()
    ids = prompt(batch=2, seed=5)
    free = generate(model, ids, 30, temperature=0)[:, 10:]
    stop = free[0, 3].item()  # row 0 stops early; row 1 maybe never
    out = generate(model, ids, 30, temperature=0, stop_tokens=[stop])[:, 10:]
    first = free[0].tolist().index(stop)
    assert (out[0, first:] == stop).all()
    assert torch.equal(out[0, : first + 1], free[0, : first + 1])
    # Row 1 is unaffected up to its own stop token (or the end).
    row1 = free[1].tolist()
    end = row1.index(stop) + 1 if stop in row1 else len(row1)
    assert out[1, :end].tolist() == row1[:end]


def test_context_limit_is_a_clear_error():
    model = tiny()
    with pytest.raises(
        ValueError, match=r"\(150 tokens\) \+ max_new_tokens \(20\) = 170 .*context_length=160"
    ):
        generate(model, prompt(seq=150), 20)
    assert generate(model, prompt(seq=150), 10, temperature=0).shape == (1, 160)


@pytest.mark.parametrize(("seq", "new", "fix"), [
    (150, 20, "crop the prompt to its last 140 tokens or ask for at most 10 new tokens"),
    (16, 200, "; ask for at most 144 new tokens$"),           # no crop can make room for 200
    (200, 5, "; crop the prompt to its last 155 tokens$"),    # the prompt alone is too long
    (200, 160, "; ask for fewer than 160 new tokens and crop the prompt$"),
])
def test_context_limit_error_names_a_fix_that_works(seq, new, fix):
    model = tiny()
    with pytest.raises(ValueError, match=fix) as error:
        generate(model, prompt(seq=seq), new)
    assert "last 0 tokens" not in str(error.value) and "-" not in str(error.value).split(";")[1]


def test_generate_restores_training_mode():
    model = tiny(dropout=0.1).train()
    generate(model, prompt(), 3)
    assert model.training


# --- sampling rules --------------------------------------------------------------------------


def draws(logits: torch.Tensor, n: int, seed: int = 0, **rules) -> torch.Tensor:
    """n samples from one row of logits, in one multinomial call."""
    return sample_next_token(
        logits.expand(n, -1), generator=torch.Generator().manual_seed(seed), **rules
    )


def frequencies(samples: torch.Tensor, vocab: int) -> torch.Tensor:
    return torch.bincount(samples, minlength=vocab).float() / samples.numel()


def test_top_k_never_samples_outside_the_k_best_and_keeps_their_odds():
    logits = torch.randn(40, generator=torch.Generator().manual_seed(0)) * 2
    best = set(torch.topk(logits, 5).indices.tolist())
    samples = draws(logits, 20000, top_k=5)
    assert set(samples.tolist()) <= best
    assert len(set(samples.tolist())) == 5
    expected = torch.softmax(top_k_filter(logits, 5), -1)
    assert (frequencies(samples, 40) - expected).abs().max() < 0.02
    # Exactly k survive even with ties at the boundary.
    assert torch.isfinite(top_k_filter(torch.zeros(10), 3)).sum() == 3


def test_top_p_never_samples_outside_the_nucleus():
    probs = torch.tensor([0.05, 0.5, 0.1, 0.15, 0.2])  # sorted: 0.5, 0.2, 0.15, 0.1, 0.05
    logits = probs.log()
    kept = torch.isfinite(top_p_filter(logits, 0.8))
    assert kept.tolist() == [False, True, False, True, True]  # 0.5 + 0.2 + 0.15 >= 0.8
    assert torch.isfinite(top_p_filter(logits, 0.3)).tolist() == [False, True, False, False, False]
    assert torch.isfinite(top_p_filter(logits, 1.0)).all()
    # 4,099 bf16 logits: their probabilities' running sum reaches 1 before the last (rarest) ones.
    wide = (torch.randn(4, 4099, generator=torch.Generator().manual_seed(0)) * 3).bfloat16()
    assert torch.isfinite(top_p_filter(wide, 1.0)).all()
    assert torch.equal(top_p_filter(wide, 0.99), top_p_filter(wide.float(), 0.99).bfloat16())
    samples = draws(logits, 20000, top_p=0.8)
    assert set(samples.tolist()) == {1, 3, 4}
    expected = torch.tensor([0.0, 0.5, 0.0, 0.15, 0.2]) / 0.85
    assert (frequencies(samples, 5) - expected).abs().max() < 0.02


def test_top_p_keeps_the_smallest_set_of_top_tokens_reaching_p():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(200, 30, generator=gen) * 3
    ps = torch.rand(200, generator=gen) * 0.98 + 0.01
    for row, p in zip(logits, ps.tolist(), strict=True):
        probs = torch.softmax(row, -1)
        kept = torch.isfinite(top_p_filter(row, p))
        n = int(kept.sum())
        top = torch.argsort(probs, descending=True)
        assert set(top[:n].tolist()) == set(kept.nonzero()[:, 0].tolist())  # the most likely ones
        assert probs[kept].sum() >= p - 1e-6  # reaches p...
        assert probs[top[: n - 1]].sum() < p  # ...and one fewer would not


def test_temperature_to_zero_is_greedy():
    logits = torch.randn(500, 50, generator=torch.Generator().manual_seed(2)) * 3
    greedy = logits.argmax(-1)
    assert torch.equal(sample_next_token(logits, temperature=0), greedy)
    cold = sample_next_token(logits, temperature=1e-4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(cold, greedy)
    model = tiny()
    assert torch.equal(
        generate(model, prompt(), 30, temperature=1e-6, seed=0),
        generate(model, prompt(), 30, temperature=0),
    )


def test_temperature_sharpens_and_flattens():
    logits = torch.randn(100, generator=torch.Generator().manual_seed(3))

    def entropy(t):
        p = torch.softmax(apply_temperature(logits, t), -1)
        return -(p * p.log()).sum().item()

    assert entropy(0.5) < entropy(1.0) < entropy(2.0)
    assert_close(apply_temperature(logits, 1.0), logits)
    samples = draws(logits, 20000, temperature=2.0)
    expected = torch.softmax(logits / 2.0, -1)
    assert (frequencies(samples, 100) - expected).abs().max() < 0.01
    with pytest.raises(ValueError, match="temperature=0"):
        apply_temperature(logits, -1.0)


def test_top_k_then_top_p_compose():
    probs = torch.tensor([0.4, 0.3, 0.2, 0.1])
    samples = draws(probs.log(), 5000, top_k=3, top_p=0.5)
    # top-k keeps {0, 1, 2} renormalised to 4/9, 3/9, 2/9; top-p=0.5 then keeps {0, 1}.
    assert set(samples.tolist()) == {0, 1}
