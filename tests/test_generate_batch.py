"""Batched generation of prompts of different lengths: each row decodes as if it were alone."""

from __future__ import annotations

import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from tinyllm.batching import generate_batch, left_pad
from tinyllm.config import gpt2_style, llama_style
from tinyllm.generate import generate
from tinyllm.model import TinyLLM

VOCAB, CONTEXT = 64, 64


@functools.cache
def tiny(style: str = "llama") -> TinyLLM:
    """A seeded tiny model (built once per style; the tests never change it)."""
    torch.manual_seed(0)
    if style == "llama":
        config = llama_style(d_model=32, n_layers=2, n_heads=4, n_kv_heads=2,
                             vocab_size=VOCAB, context_length=CONTEXT)
    else:  # learned absolute positions instead of RoPE
        config = gpt2_style(d_model=32, n_layers=2, n_heads=4, vocab_size=VOCAB,
                            context_length=CONTEXT)
    model = TinyLLM(config)
    # Larger weights than the initialisation give peaked, input-dependent next-token
    # distributions: greedy decoding is then far from ties and visits many tokens.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.mul_(8.0)
    return model.eval()


def prompts_of(lengths: list[int], seed: int = 0) -> list[list[int]]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, VOCAB, (n,), generator=gen).tolist() for n in lengths]


def one_by_one(model: TinyLLM, prompts: list[list[int]], n: int, **kw) -> list[list[int]]:
    """The reference: ``generate`` on each prompt alone, new tokens only."""
    return [generate(model, p, n, temperature=0, **kw)[len(p):].tolist() for p in prompts]


# --- padding, positions and mask at the forward level ----------------------------------------


def test_left_pad_puts_pads_first_and_counts_positions_per_row():
    ids, mask, positions = left_pad([[5, 6], torch.tensor([7, 8, 9, 10]), [11]], pad_id=3)
    assert ids.tolist() == [[3, 3, 5, 6], [7, 8, 9, 10], [3, 3, 3, 11]]
    assert mask.tolist() == [[False, False, True, True], [True] * 4, [False] * 3 + [True]]
    assert positions.tolist() == [[0, 0, 0, 1], [0, 1, 2, 3], [0, 0, 0, 0]]


@pytest.mark.parametrize("style", ["llama", "gpt2"])
def test_left_padded_rows_have_the_logits_of_their_unpadded_prompts(style):
    model = tiny(style)
    prompts = prompts_of([1, 5, 17])
    ids, mask, positions = left_pad(prompts)
    with torch.no_grad():
        logits = model(ids, positions=positions, attention_mask=mask)
        for row, prompt in enumerate(prompts):
            alone = model(torch.tensor([prompt]))[0]
            assert_close(logits[row, -len(prompt):], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("style", ["llama", "gpt2"])
def test_new_tokens_never_see_the_pads_through_the_kv_cache(style):
    from tinyllm.kv_cache import KVCache

    model = tiny(style)
    prompts, new = prompts_of([2, 9]), torch.tensor([[7], [8]])
    ids, mask, positions = left_pad(prompts)
    expected = [model(torch.tensor([p + [t]]))[0, -1] for p, t in zip(prompts, [7, 8], strict=True)]

    def next_step_logits(step_mask):
        cache = KVCache(model.config, 2, ids.shape[1] + 1)
        with torch.no_grad():
            model(ids, positions=positions, attention_mask=mask, kv_cache=cache)
            return model(new, positions=positions[:, -1:] + 1, attention_mask=step_mask,
                         kv_cache=cache)[:, -1]

    step_mask = torch.cat([mask, torch.ones(2, 1, dtype=torch.bool)], dim=1)
    assert_close(next_step_logits(step_mask), torch.stack(expected), atol=1e-5, rtol=0)
    # Without the mask at decode time the new token attends to the short row's pads: wrong.
    assert not torch.allclose(next_step_logits(None)[0], expected[0], atol=1e-3)


# --- token-identical to generating one prompt at a time ---------------------------------------


@pytest.mark.parametrize("style", ["llama", "gpt2"])
def test_greedy_batch_equals_generating_each_prompt_alone(style):
    model = tiny(style)
    prompts = prompts_of([1, 5, 17])
    out = generate_batch(model, prompts, 40, temperature=0)
    assert out == one_by_one(model, prompts, 40)
    assert [len(row) for row in out] == [40, 40, 40]
    assert len({t for row in out for t in row}) > 5 and out[0] != out[1] != out[2]  # not trivial
    # 1-D tensors work as prompts too, and the order of the prompts is kept.
    tensors = [torch.tensor(p) for p in reversed(prompts)]
    assert generate_batch(model, tensors, 40, temperature=0) == out[::-1]


def test_greedy_batch_with_stop_tokens_equals_generating_each_alone():
    model = tiny()
    prompts = prompts_of([1, 5, 17], seed=1)
    free = one_by_one(model, prompts, 30)
    stop = [free[0][4], free[2][10]]
    out = generate_batch(model, prompts, 30, temperature=0, stop_tokens=stop)
    assert out == one_by_one(model, prompts, 30, stop_tokens=stop)
    assert len(out[0]) <= 5 and out[0][-1] in stop  # the stop token is kept


def test_a_row_that_stops_ends_while_the_others_go_on():
    model = tiny()
    prompts = prompts_of([3, 8, 12], seed=2)
    free = one_by_one(model, prompts, 30)
    stop = next(t for t in free[1][:10] if t not in free[0] and t not in free[2])
    first = free[1].index(stop)
    out = generate_batch(model, prompts, 30, temperature=0, stop_tokens=[stop])
    assert out[1] == free[1][: first + 1]
    assert out[0] == free[0] and out[2] == free[2]  # full length, unaffected


def test_the_loop_ends_as_soon_as_every_row_has_stopped():
    model = tiny()
    prompts = prompts_of([4, 6, 15], seed=3)
    free = one_by_one(model, prompts, 30)
    stop = {row[2] for row in free}  # every row stops within its first 3 tokens
    calls = []
    handle = model.register_forward_hook(lambda *_: calls.append(1))
    try:
        out = generate_batch(model, prompts, 30, temperature=0, stop_tokens=stop)
    finally:
        handle.remove()
    assert all(row[-1] in stop and len(row) <= 3 for row in out)
    assert len(calls) == max(len(row) for row in out)  # one forward per step, none after


def test_zero_new_tokens_gives_empty_rows():
    assert generate_batch(tiny(), prompts_of([2, 3]), 0) == [[], []]


@settings(max_examples=20, deadline=None, database=None)
@given(
    lengths=st.lists(st.integers(1, 24), min_size=1, max_size=6),
    max_new_tokens=st.integers(1, 16),
    seed=st.integers(0, 2**16),
    style=st.sampled_from(["llama", "gpt2"]),
)
def test_any_batch_of_prompts_decodes_as_each_prompt_alone(lengths, max_new_tokens, seed, style):
    model = tiny(style)
    prompts = prompts_of(lengths, seed)
    out = generate_batch(model, prompts, max_new_tokens, temperature=0)
    assert out == one_by_one(model, prompts, max_new_tokens)


# --- sampling, modes, errors -------------------------------------------------------------------


def test_sampling_with_a_seed_is_repeatable_and_leaves_the_global_rng_alone():
    model = tiny()
    prompts = prompts_of([2, 7, 11])
    state = torch.random.get_rng_state()
    a = generate_batch(model, prompts, 20, temperature=1.0, top_k=20, top_p=0.9, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert a == generate_batch(model, prompts, 20, temperature=1.0, top_k=20, top_p=0.9, seed=5)
    assert a != generate_batch(model, prompts, 20, temperature=1.0, top_k=20, top_p=0.9, seed=6)


def test_training_mode_is_restored():
    model = TinyLLM(tiny().config).train()
    generate_batch(model, prompts_of([2, 3]), 2)
    assert model.training


@pytest.mark.parametrize(
    ("prompts", "kwargs", "message"),
    [
        ([], {}, r"prompts is empty; pass a list of prompts"),
        ([[1, 2], []], {}, r"prompt 1 must be a non-empty .* at least one token"),
        ([[1, 2], [[1, 2]]], {}, r"prompt 1 must be a non-empty sequence of token ids, got shape \(1, 2\)"),
        ([[1] * 50], {"max_new_tokens": 20},
         r"prompt 0 \(50 tokens\) \+ max_new_tokens \(20\) exceeds .*context_length=64; "
         r"crop the prompt to its last 44 tokens or ask for at most 14 new tokens"),
        ([[1] * 64], {"max_new_tokens": 64},  # no crop helps: a prompt keeps at least one token
         r"exceeds .*; ask for fewer than 64 new tokens and crop the prompt"),
        ([[1, 2]], {"pad_id": 64}, r"pad_id=64 is not a token id .* any id in 0..63 will do"),
        ([[1, 2]], {"pad_id": -1}, r"pad_id=-1 is not a token id"),
        ([[1, 2], [3, 64]], {}, r"prompt 1 holds token ids outside 0..63; encode it with this model's tokenizer"),
        ([[1, 2]], {"max_new_tokens": -1}, r"max_new_tokens must be >= 0"),
    ],
)
def test_bad_input_is_a_clear_error(prompts, kwargs, message):
    kwargs = {"max_new_tokens": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_batch(tiny(), prompts, **kwargs)
