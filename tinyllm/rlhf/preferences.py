"""A preference data set: (prompt, chosen, rejected) from the SFT model's own samples.

Taught in notebook 10 (RLHF).

As in InstructGPT (Ouyang et al. 2022), labelers compare replies the model itself wrote:
`build_preferences` samples ``k`` replies per request from the SFT model (all requests and
their repeats decoded together by ``batching.generate_batch``, never one prompt at a time),
pairs every two distinct replies of the same request (``k * (k - 1) / 2`` pairs), and asks the
simulated labeler (``labeler.prefer``) which it prefers. The whole set is a pure function of
the model, the requests and ``seed``.

`collate` turns a list of pairs into two ``sequences.Packed`` batches on the same prompts,
chosen and rejected, each with its completion mask: what the reward model and DPO consume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tinyllm.batching import generate_batch
from tinyllm.chat import END
from tinyllm.model import TinyLLM
from tinyllm.rlhf.labeler import prefer, true_scores
from tinyllm.rlhf.sequences import Packed, pack
from tinyllm.sft import decode_reply, encode_prompt
from tinyllm.tinytales import InstructionTask
from tinyllm.tokenizers import BPETokenizer


@dataclass(frozen=True)
class PreferencePair:
    """One labelled comparison. ``*_ids`` are token ids (the completions end with their stop
    token when they stopped); ``*_score`` the labeler's hidden true scores, kept to measure
    how often the (noisy) label agrees with them."""

    task: InstructionTask
    prompt_ids: tuple[int, ...]
    chosen_ids: tuple[int, ...]
    rejected_ids: tuple[int, ...]
    chosen_text: str
    rejected_text: str
    chosen_score: float
    rejected_score: float


@dataclass(frozen=True)
class Samples:
    """``k`` sampled replies to each of ``n`` requests, request-major (``k`` rows per request)."""

    tasks: list[InstructionTask]  # (n * k,) each task repeated k times
    prompt_ids: list[list[int]]  # (n * k,)
    completion_ids: list[list[int]]  # (n * k,)
    texts: list[str]  # (n * k,)
    ended: list[bool]  # (n * k,) stopped with <|end|>
    scores: torch.Tensor  # (n * k,) labeler.true_score


def sample_replies(model: TinyLLM, tokenizer: BPETokenizer, tasks: Sequence[InstructionTask], k: int,
                   *, temperature: float = 1.0, max_new_tokens: int = 256, batch_size: int = 128,
                   seed: int = 0) -> Samples:
    """``k`` replies to each request, decoded ``batch_size`` rows at a time (chunk ``i`` with seed
    ``seed + i``), and their true scores."""
    if k < 1:
        raise ValueError(f"k (replies per request) must be at least 1, got {k}")
    rows = [task for task in tasks for _ in range(k)]
    prompts = [encode_prompt(tokenizer, task.prompt) for task in rows]
    stop = [tokenizer.special_tokens[END], tokenizer.eot_token]
    completions: list[list[int]] = []
    for i, start in enumerate(range(0, len(prompts), batch_size)):
        completions += generate_batch(model, prompts[start:start + batch_size], max_new_tokens,
                                      temperature=temperature, stop_tokens=stop, seed=seed + i)
    decoded = [decode_reply(tokenizer, ids) for ids in completions]
    texts = [text for text, _ in decoded]
    return Samples(rows, prompts, completions, texts, [e for _, e in decoded], true_scores(rows, texts))


def distinct_pairs(samples: Samples, k: int) -> tuple[list[int], list[int]]:
    """``(firsts, seconds)``: row indices of every two replies of one request (``k`` rows per
    request, in order) whose completions differ; identical replies carry no preference."""
    firsts, seconds = [], []
    for base in range(0, len(samples.tasks), k):
        for i in range(base, base + k):
            for j in range(i + 1, base + k):
                if samples.completion_ids[i] != samples.completion_ids[j]:
                    firsts.append(i)
                    seconds.append(j)
    return firsts, seconds


def label_pairs(samples: Samples, k: int, label_temperature: float, seed: int = 0) -> list[PreferencePair]:
    """Every two distinct replies of one request, labelled by ``labeler.prefer`` (``generator``
    seeded with ``seed``). Identical replies are skipped: they carry no preference."""
    firsts, seconds = distinct_pairs(samples, k)
    if not firsts:
        return []
    generator = torch.Generator().manual_seed(seed)
    first_wins = prefer(samples.scores[firsts], samples.scores[seconds], label_temperature, generator)
    pairs = []
    for i, j, i_wins in zip(firsts, seconds, first_wins.tolist(), strict=True):
        c, r = (i, j) if i_wins else (j, i)
        pairs.append(PreferencePair(
            samples.tasks[c], tuple(samples.prompt_ids[c]), tuple(samples.completion_ids[c]),
            tuple(samples.completion_ids[r]), samples.texts[c], samples.texts[r],
            float(samples.scores[c]), float(samples.scores[r])))
    return pairs


def build_preferences(model: TinyLLM, tokenizer: BPETokenizer, tasks: Sequence[InstructionTask], k: int = 4,
                      *, temperature: float = 1.0, label_temperature: float = 0.05,
                      max_new_tokens: int = 256, batch_size: int = 128, seed: int = 0) -> list[PreferencePair]:
    """`sample_replies` then `label_pairs`: up to ``len(tasks) * k * (k - 1) / 2`` pairs."""
    samples = sample_replies(model, tokenizer, tasks, k, temperature=temperature,
                             max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    return label_pairs(samples, k, label_temperature, seed)


def collate(pairs: Sequence[PreferencePair], pad_id: int = 0) -> tuple[Packed, Packed]:
    """``(chosen, rejected)``: the pairs' prompts with their chosen, and with their rejected,
    completions, each a `sequences.Packed` batch (rows in the order of ``pairs``)."""
    if not pairs:
        raise ValueError("no pairs to collate; pass at least one PreferencePair")
    prompts = [p.prompt_ids for p in pairs]
    return (pack(prompts, [p.chosen_ids for p in pairs], pad_id),
            pack(prompts, [p.rejected_ids for p in pairs], pad_id))
