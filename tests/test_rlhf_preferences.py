"""Preference pairs: sampled in one batched call, every two distinct replies of a request
paired, labelled by the labeler, repeatable with a seed; collated into padded batches."""

from __future__ import annotations

import pytest
import torch

from tinyllm.chat import END, add_chat_tokens
from tinyllm.config import llama_style
from tinyllm.data.prepare import load_tokenizer
from tinyllm.model import TinyLLM
from tinyllm.rlhf import preferences
from tinyllm.rlhf.preferences import build_preferences, collate, label_pairs, sample_replies
from tinyllm.sft import encode_prompt
from tinyllm.sft_data import eval_prompts

CHAT = add_chat_tokens(load_tokenizer())
TASKS = eval_prompts(3, "en")


def chat_model() -> TinyLLM:
    torch.manual_seed(0)
    return TinyLLM(llama_style(vocab_size=CHAT.n_vocab, context_length=128, d_model=8, n_heads=2,
                               n_kv_heads=1, n_layers=1, d_ff=16)).eval()


def fixed_replies(monkeypatch, replies: list[str]) -> list[int]:
    """generate_batch returns ``replies`` (each + <|end|>) in order; returns the calls' sizes."""
    end, calls = CHAT.special_tokens[END], []

    def generate_batch(model, prompts, max_new_tokens, **kwargs):
        calls.append(len(prompts))
        return [CHAT.encode(replies.pop(0)) + [end] for _ in prompts]

    monkeypatch.setattr(preferences, "generate_batch", generate_batch)
    return calls


def test_replies_are_sampled_in_one_batched_call(monkeypatch):
    good, bad = TASKS[0].response, "Zorp."
    calls = fixed_replies(monkeypatch, [good, bad, bad, good, bad, bad, good, good, good])
    samples = sample_replies(None, CHAT, TASKS, k=3, batch_size=64)
    assert calls == [9]  # all 3 requests x 3 replies at once
    assert samples.prompt_ids[:3] == [encode_prompt(CHAT, TASKS[0].prompt)] * 3
    assert samples.texts[:2] == [good, bad] and all(samples.ended)
    assert samples.scores[0] == 1.0 and samples.scores[1] < 0.5


def test_pairs_are_distinct_replies_of_one_request_labelled_by_the_labeler(monkeypatch):
    good = [t.response for t in TASKS]
    replies = [good[0], "Zorp.", "Zorp.",  # two identical: 2 pairs, not 3
               good[1], good[1] + " Blib.", "",  # 3 pairs
               good[2], good[2], good[2]]  # all identical: no pair
    fixed_replies(monkeypatch, replies)
    samples = sample_replies(None, CHAT, TASKS, k=3)
    pairs = label_pairs(samples, k=3, label_temperature=0.0)
    assert len(pairs) == 5
    assert [p.task for p in pairs] == [TASKS[0]] * 2 + [TASKS[1]] * 3
    assert all(p.chosen_score > p.rejected_score for p in pairs)  # noiseless labeler
    assert pairs[0].chosen_text == good[0] and pairs[0].rejected_text == "Zorp."
    noisy = label_pairs(samples, k=3, label_temperature=10.0, seed=3)  # almost coin flips
    assert any(p.chosen_score < p.rejected_score for p in noisy)


def test_build_preferences_is_repeatable_with_a_seed():
    model = chat_model()
    first = build_preferences(model, CHAT, TASKS[:2], k=3, max_new_tokens=8, seed=5)
    again = build_preferences(model, CHAT, TASKS[:2], k=3, max_new_tokens=8, seed=5)
    other = build_preferences(model, CHAT, TASKS[:2], k=3, max_new_tokens=8, seed=6)
    assert first == again and len(first) == 6  # random replies are all distinct
    assert [p.chosen_ids for p in first] != [p.chosen_ids for p in other]


def test_collate_pads_chosen_and_rejected_on_the_same_prompts(monkeypatch):
    fixed_replies(monkeypatch, [TASKS[0].response, "Zorp.", TASKS[1].response, "A fox."] + [""] * 2)
    pairs = label_pairs(sample_replies(None, CHAT, TASKS, k=2), k=2, label_temperature=0.0)
    chosen, rejected = collate(pairs, pad_id=0)
    assert len(pairs) == 2 and chosen.ids.shape[0] == rejected.ids.shape[0] == 2  # "" == "": no pair
    assert chosen.prompt_width == rejected.prompt_width
    assert torch.equal(chosen.ids[:, :chosen.prompt_width], rejected.ids[:, :rejected.prompt_width])
    for row, pair in enumerate(pairs):
        assert chosen.completions[row][chosen.completion_mask[row]].tolist() == list(pair.chosen_ids)
        assert rejected.completions[row][rejected.completion_mask[row]].tolist() == list(pair.rejected_ids)
    with pytest.raises(ValueError, match="no pairs"):
        collate([])
