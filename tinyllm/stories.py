"""Stories a model writes, graded by the TinyTales checker: in notebooks and in training logs.

Taught in notebook 07 (pretraining); notebooks 08-10 grade their models the same way.

`sample_stories` writes stories from scratch in one language; `evaluate_story_quality` grades
them with ``tinytales.check`` (the share of generated sentences the grammar can produce, and
the share of stories that keep their hero from start to end); `story_sampler` wraps both into
the ``sample_fn`` that ``train`` calls every ``sample_interval`` steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from tinyllm import tinytales
from tinyllm.generate import generate
from tinyllm.model import TinyLLM
from tinyllm.tokenizers import BPETokenizer

#: First bytes of the tokens a story may start with, per language: Latin letters; the UTF-8 lead
#: bytes 0xE4-0xE9 of the common CJK characters, U+4E00-U+9FFF (0xE3 would also let CJK
#: punctuation such as "。" open a story).
_FIRST_BYTES = {
    "en": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    "zh": frozenset(range(0xE4, 0xEA)),
}


def first_token_mask(tokenizer: BPETokenizer, lang: str) -> torch.Tensor:
    """``(n_vocab,)`` bool: tokens whose first byte can start a story in ``lang``."""
    if lang not in _FIRST_BYTES:
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    mask = torch.zeros(tokenizer.n_vocab, dtype=torch.bool)
    special = set(tokenizer.special_tokens.values())
    for i in range(tokenizer.n_vocab):
        if i not in special:
            mask[i] = tokenizer.token_bytes(i)[0] in _FIRST_BYTES[lang]
    return mask


@torch.no_grad()
def sample_stories(model: TinyLLM, tokenizer: BPETokenizer, n: int = 8, *, lang: str = "en",
                   temperature: float = 0.8, seed: int = 0, max_new_tokens: int = 256,
                   batch_size: int = 100) -> list[str]:
    """``n`` stories written from scratch in ``lang``.

    The prompt is ``<|endoftext|>`` alone (the separator the model saw before every story).
    The first token is sampled from the model's own distribution restricted to tokens that
    start a word in ``lang`` (a Latin letter for English, a CJK character for Chinese); every
    later token is sampled freely at ``temperature`` until the next ``<|endoftext|>``.
    """
    eot = tokenizer.eot_token
    allowed = first_token_mask(tokenizer, lang)
    length = min(max_new_tokens, model.config.context_length - 2)
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()  # no dropout while writing (generate does the same for the later tokens)
    texts: list[str] = []
    for start in range(0, n, batch_size):
        rows = min(batch_size, n - start)
        prompt = torch.full((rows, 1), eot, device=next(model.parameters()).device)
        logits = model(prompt, last_only=True)[:, -1].float().cpu()  # drawn with a CPU generator
        # -inf: probability 0 for every token that cannot open a story in this language.
        logits = logits.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(logits / max(temperature, 1e-6), dim=-1)
        first = torch.multinomial(probs, 1, generator=generator).to(prompt.device)
        ids = generate(model, torch.cat([prompt, first], dim=1), length, temperature=temperature,
                       stop_tokens=[eot], generator=generator)
        for row in ids[:, 1:].tolist():
            story = row[: row.index(eot)] if eot in row else row
            texts.append(tokenizer.decode(story, errors="replace"))
    model.train(was_training)
    return texts


def hero_consistent(report: tinytales.CheckReport) -> bool:
    """True when the checker found no issue with the hero (name, pronouns, friend's name)."""
    return not any("hero" in issue for issue in report.issues)


@dataclass
class StoryQuality:
    """How well sampled stories fit the TinyTales grammar.

    Attributes:
        valid_sentence_rate: valid sentences / all sentences, over every story.
        mean_story_score: mean of ``tinytales.check(story).score``.
        hero_consistency: share of stories whose hero keeps its name and pronouns.
        consistency: share of stories with no character issue at all (hero, object, place...).
        perfect: share of stories where every sentence parses and everything is consistent.
    """

    lang: str
    n_stories: int
    valid_sentence_rate: float
    mean_story_score: float
    hero_consistency: float
    consistency: float
    perfect: float
    texts: list[str] = field(repr=False, default_factory=list)


def evaluate_story_quality(model: TinyLLM, tokenizer: BPETokenizer, n: int = 200, *,
                           lang: str = "en", temperature: float = 0.8, seed: int = 0,
                           max_new_tokens: int = 256) -> StoryQuality:
    """Sample ``n`` stories in ``lang`` (see `sample_stories`) and grade each with ``tinytales.check``.

    The figures in ``data/README.md`` come from it.
    """
    texts = sample_stories(model, tokenizer, n, lang=lang, temperature=temperature, seed=seed,
                           max_new_tokens=max_new_tokens)
    reports = [tinytales.check(text, lang=lang) for text in texts]
    sentences = sum(r.n_sentences for r in reports)
    return StoryQuality(
        lang=lang,
        n_stories=n,
        valid_sentence_rate=sum(r.n_ok for r in reports) / max(sentences, 1),
        mean_story_score=sum(r.score for r in reports) / n,
        hero_consistency=sum(hero_consistent(r) for r in reports) / n,
        consistency=sum(r.consistent for r in reports) / n,
        perfect=sum(r.ok for r in reports) / n,
        texts=texts,
    )


def story_sampler(tokenizer: BPETokenizer, lang: str = "mix", n: int = 4,
                  max_new_tokens: int = 48) -> Callable[[TinyLLM, int], dict[str, Any]]:
    """A ``sample_fn`` for ``train``: ``n`` stories per language (both for ``"mix"``), graded.

    Each call is seeded by the step, so two runs log the same stories. It returns
    ``{"score": mean checker score, "valid_sentences": rate, "text": the first story}``.
    """
    langs = ("en", "zh") if lang == "mix" else (lang,)

    def sample(model: TinyLLM, step: int) -> dict[str, Any]:
        grades = [evaluate_story_quality(model, tokenizer, n, lang=one, seed=step,
                                         max_new_tokens=max_new_tokens) for one in langs]
        return {
            "score": sum(g.mean_story_score for g in grades) / len(grades),
            "valid_sentences": sum(g.valid_sentence_rate for g in grades) / len(grades),
            "text": grades[0].texts[0],
        }

    return sample
