"""The shipped models: load them from ``data/`` and grade what they write.

Taught in notebook 07 (pretraining); notebooks 08-10 start from ``load_pretrained("base")``.

``load_pretrained("base")`` returns ``(model, tokenizer)``: the course's Llama-style base model,
trained by ``python -m tinyllm train --recipe base``, and the BPE tokenizer it was trained
with. Both files are checked against the sha256 recorded in ``tinyllm.paths.SHIPPED_FILES``
before use, so a truncated or edited file stops with an error that says how to restore it.

``evaluate_story_quality(model, tokenizer, lang="en")`` samples stories and grades them with
the TinyTales checker: the share of generated sentences the grammar can produce, and the share
of stories that keep their hero (same name, matching pronouns) from start to end.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from tinyllm import tinytales
from tinyllm.checkpoint import CheckpointError, load_checkpoint, load_config, save_checkpoint
from tinyllm.generate import generate
from tinyllm.model import TinyLLM
from tinyllm.paths import DataFileError, data_file
from tinyllm.tokenizers import BPETokenizer

#: The shipped tokenizer: our byte-level BPE trained on the ``base`` recipe's TinyTales split.
TOKENIZER_FILE = "tokenizer/tinytales-bpe-4096.json"

#: Shipped model name -> (weights file, tokenizer file), both relative to ``data/``.
PRETRAINED: dict[str, tuple[str, str]] = {
    "base": ("checkpoints/base.safetensors", TOKENIZER_FILE),
}

#: First bytes of the tokens a story may start with, per language (Latin letters; the lead
#: bytes of CJK characters in UTF-8).
_FIRST_BYTES = {
    "en": frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    "zh": frozenset(range(0xE3, 0xEA)),
}


class PretrainedError(RuntimeError):
    """A shipped model is unknown, missing or corrupt; the message says how to fix it."""


def load_tokenizer(name: str = TOKENIZER_FILE) -> BPETokenizer:
    """The shipped BPE tokenizer (sha256-checked). Taught in notebook 07 (pretraining)."""
    try:
        return BPETokenizer.load(data_file(name))
    except DataFileError as error:
        raise PretrainedError(f"{error} To rebuild the tokenizer see data/README.md "
                              "(section tokenizer).") from None


def load_pretrained(name: str = "base") -> tuple[TinyLLM, BPETokenizer]:
    """A shipped model and its tokenizer, from ``data/``, checked against their sha256.

    Returns:
        ``(model, tokenizer)``; the model is in eval mode on the CPU.

    Raises:
        PretrainedError: an unknown name, or a missing or corrupt file (the message says how
            to restore it: ``git checkout -- data/...`` or retrain with its recipe).

    Taught in notebook 07 (pretraining).
    """
    if name not in PRETRAINED:
        raise PretrainedError(f"unknown pretrained model {name!r}; the shipped ones are {sorted(PRETRAINED)}")
    weights, tokenizer_file = PRETRAINED[name]
    retrain = (f"or retrain it with `python -m tinyllm train --recipe {name}` and copy "
               f"runs/{name}/step_*.safetensors (weights only) to data/{weights}")
    try:
        path = data_file(weights)
    except DataFileError as error:
        raise PretrainedError(f"{error} {retrain[0].upper()}{retrain[1:]}.") from None
    tokenizer = load_tokenizer(tokenizer_file)
    try:
        model = TinyLLM(load_config(path))
        load_checkpoint(path, model, restore_rng=False)
    except CheckpointError as error:
        raise PretrainedError(f"{error}. Restore it with `git checkout -- data/{weights}`, {retrain}.") from None
    if model.config.vocab_size != tokenizer.n_vocab:
        raise PretrainedError(f"data/{weights} has vocab_size={model.config.vocab_size} but "
                              f"data/{tokenizer_file} has {tokenizer.n_vocab} tokens; restore both files")
    return model.eval(), tokenizer


def export_weights(source: str | Path, target: str | Path,
                   dtype: torch.dtype = torch.float16) -> Path:
    """Copy a training checkpoint to a weights-only file (what ``data/checkpoints/`` ships).

    Keeps the weights, config, step, train config and loss history (for notebook 07's plots);
    drops the optimizer state (2/3 of a full checkpoint) and the RNG state, and stores the
    weights in float16 (half the size; loading casts them back to float32, and the validation
    loss moves only in the fourth decimal, see data/README.md)::

        python -m tinyllm.hub export runs/base/step_000800.safetensors data/checkpoints/base.safetensors

    Taught in notebook 07 (pretraining).
    """
    from tinyllm.train import History, TrainConfig

    model = TinyLLM(load_config(source))
    info = load_checkpoint(source, model, restore_rng=False)
    train_config = TrainConfig(**info.train_config) if info.train_config else None
    history = History.from_dict(info.history) if info.history else None
    return save_checkpoint(target, model, step=info.step, train_config=train_config,
                           history=history, weights_dtype=dtype)


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

    Taught in notebook 07 (pretraining).
    """
    eot = tokenizer.eot_token
    allowed = first_token_mask(tokenizer, lang)
    length = min(max_new_tokens, model.config.context_length - 2)
    generator = torch.Generator().manual_seed(seed)
    texts: list[str] = []
    for start in range(0, n, batch_size):
        rows = min(batch_size, n - start)
        prompt = torch.full((rows, 1), eot)
        logits = model(prompt, last_only=True)[:, -1].float()
        logits = logits.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(logits / max(temperature, 1e-6), dim=-1)
        first = torch.multinomial(probs, 1, generator=generator)
        ids = generate(model, torch.cat([prompt, first], dim=1), length, temperature=temperature,
                       stop_tokens=[eot], generator=generator)
        for row in ids[:, 1:].tolist():
            story = row[: row.index(eot)] if eot in row else row
            texts.append(tokenizer.decode(story, errors="replace"))
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

    Taught in notebook 07 (pretraining); the figures in ``data/README.md`` come from it.
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


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "export":
        sys.exit("usage: python -m tinyllm.hub export TRAINING_CHECKPOINT WEIGHTS_ONLY_FILE")
    print(export_weights(sys.argv[2], sys.argv[3]))
