"""A recipe's data, ready to train on: the corpus, its tokenizer (loaded or trained), the windows.

Taught in notebook 07 (pretraining); it chains the pieces of notebooks 01 and 02.

`DataSpec` says what to read and how to tokenise it; `prepare_data` turns it into training and
validation windows. The tokenizer is either a ``.json`` file (`load_tokenizer`: the shipped one,
sha256-checked, or any path) or trained in the run on the first `TOKENIZER_STORIES` stories
(`train_tokenizer`), which is how the shipped file was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from tinyllm.data.corpora import load_corpus
from tinyllm.data.tokens import split_windows, text_bytes, text_files, token_file
from tinyllm.data.windows import WindowDataset, concat_ids, tokenize_dataset
from tinyllm.paths import SHIPPED_FILES, data_file
from tinyllm.tokenizers import BPETokenizer

#: The shipped tokenizer (under ``data/``): `train_tokenizer` of the ``base`` recipe.
SHIPPED_TOKENIZER = "tokenizer/tinytales-bpe-4096.json"
#: A BPE tokenizer trains on at most this many training stories, the first ones of the split
#: (more would slow BPE down and barely change its merges). The shipped tokenizer is ``base``'s.
TOKENIZER_STORIES = 20_000
#: With your own text (``corpus="text"``), ``tokenizer="bpe"`` trains on its first characters.
TOKENIZER_TEXT_CHARS = 2_000_000


class RecipeError(ValueError):
    """A recipe, setting or data spec that cannot be used; the message says what exists."""


@dataclass(frozen=True)
class DataSpec:
    """Where the tokens come from.

    Attributes:
        corpus: ``"tinytales"`` (embedded, offline); ``"text"``: any UTF-8 text files named by
            ``path`` (see ``tinyllm.data.tokens``); ``"tinystories"``: the real TinyStories,
            from local ``.txt`` files in ``path`` (read as text) or, with no ``path``, from the
            Hugging Face Hub (online only; ``n_train``/``n_val`` stories).
        path: the text file or glob for ``corpus="text"`` (or local TinyStories files).
        val_share: the share of a text corpus's tokens (its end) held out for validation.
        lang: ``"en"``, ``"zh"`` or ``"mix"`` (each story in one of the two, half and half).
        n_train, n_val: stories in the training and validation splits.
        corpus_seed: the TinyTales generation seed.
        tokenizer: ``"bpe"``: train our byte-level BPE on the first ``TOKENIZER_STORIES``
            stories of the training split with ``ModelConfig.vocab_size`` tokens; or a
            tokenizer ``.json`` file (written by ``BPETokenizer.save``) to load: a shipped name
            under ``data/`` such as ``SHIPPED_TOKENIZER`` (sha256-checked), or any path.
        seq_len: tokens per training window (at most the model's ``context_length``).
        stride: step between windows (``None``: ``seq_len``, windows that touch); not for a
            text corpus, whose windows start at random offsets.
        reading_share, mask_prompt, end_is_target: for the ``sft`` trainer only (see
            ``tinyllm.sft_train``): the share of reading tasks among the conversations, and the
            two label ablations of ``sft.encode_example``.
        task: for the ``sft`` trainer: what the conversations teach (``tinyllm.sft_data.TASKS``):
            ``"follow"`` (the requests of `sft_data.train_tasks`), ``"happy"`` (every story
            ends happily, asked or not) or ``"zh-reply"`` (an English request, a Chinese story).
    """

    corpus: str = "tinytales"
    path: str | None = None
    val_share: float = 0.05
    lang: str = "mix"
    n_train: int = 20_000
    n_val: int = 500
    corpus_seed: int = 0
    tokenizer: str = "bpe"
    seq_len: int = 256
    stride: int | None = None
    reading_share: float = 0.25
    mask_prompt: bool = True
    end_is_target: bool = True
    task: str = "follow"


@dataclass
class PreparedData:
    """A recipe's data, ready for ``train``: windows, the tokenizer, and bytes per token."""

    train: Dataset  # WindowDataset, or TokenWindows for a text corpus
    val: Dataset
    tokenizer: BPETokenizer
    bytes_per_token: float


def load_tokenizer(name: str = SHIPPED_TOKENIZER, vocab_size: int | None = None) -> BPETokenizer:
    """A BPE tokenizer file: a shipped name under ``data/`` (sha256-checked) or any path.

    Raises:
        DataFileError: a shipped file is missing or corrupt (the message says how to restore it).
        RecipeError: not a ``.json`` file, no such file, or not ``vocab_size`` tokens.
    """
    if not name.endswith(".json"):
        raise RecipeError(f"data.tokenizer={name!r}: use 'bpe' (train one) or a tokenizer .json file")
    path = data_file(name) if name in SHIPPED_FILES else Path(name)
    if not path.is_file():
        raise RecipeError(f"tokenizer file {path} does not exist; use data.tokenizer=bpe to train one")
    tokenizer = BPETokenizer.load(path)
    if vocab_size is not None and tokenizer.n_vocab != vocab_size:
        raise RecipeError(f"tokenizer {name} has {tokenizer.n_vocab} tokens but the model's "
                          f"vocab_size={vocab_size}; set model.vocab_size={tokenizer.n_vocab} "
                          "or use data.tokenizer=bpe")
    return tokenizer


def train_tokenizer(spec: DataSpec | None = None, vocab_size: int = 4096,
                    n_stories: int = TOKENIZER_STORIES) -> BPETokenizer:
    """Train a BPE tokenizer on the first ``n_stories`` stories of ``spec``'s training split.

    A larger split starts with the same stories, so the tokenizer does not change when a recipe
    trains the model on more. The default is the shipped file, byte for byte (about a minute)::

        python -c "from tinyllm.data.prepare import train_tokenizer; \\
            train_tokenizer().save('data/tokenizer/tinytales-bpe-4096.json')"
    """
    spec = spec or DataSpec()
    corpus = load_corpus("tinytales", n_train=min(spec.n_train, n_stories), n_val=spec.n_val,
                         lang=spec.lang, seed=spec.corpus_seed)
    return BPETokenizer.train(corpus["train"]["text"], vocab_size)


def prepare_text(recipe: Any, tokenizer: BPETokenizer | None = None, progress: bool = True) -> PreparedData:
    """`prepare_data` for text files: a cached token file and windows read from it."""
    spec, model = recipe.data, recipe.model
    if not 0 < spec.val_share < 1:
        raise RecipeError(f"data.val_share={spec.val_share} must be between 0 and 1")
    if spec.stride is not None:
        raise RecipeError(f"data.stride={spec.stride}: a text corpus reads its windows at random offsets, "
                          "not one stride apart; leave data.stride unset")
    files = text_files(spec.path)
    if tokenizer is None and spec.tokenizer == "bpe":
        head, size = [], 0
        for file in files:  # the first characters only: BPE training holds its text in memory
            with open(file, encoding="utf-8", errors="replace") as f:
                head.append(f.read(TOKENIZER_TEXT_CHARS - size))
            size += len(head[-1])
            if size >= TOKENIZER_TEXT_CHARS:
                break
        tokenizer = BPETokenizer.train("".join(head), model.vocab_size)
    elif tokenizer is None:
        tokenizer = load_tokenizer(spec.tokenizer, model.vocab_size)
    tokens = token_file(files, tokenizer, progress=progress)
    train, val = split_windows(tokens, spec.seq_len, spec.val_share, seed=recipe.train.seed)
    # The held-out tail's own bytes per token: a corpus can change language or style near its end.
    val_tokens = tokens.n_tokens - val.start
    return PreparedData(train=train, val=val, tokenizer=tokenizer,
                        bytes_per_token=text_bytes(tokens, tokenizer, val.start, tokens.n_tokens) / val_tokens)


def prepare_data(recipe: Any, tokenizer: BPETokenizer | None = None, progress: bool = True) -> PreparedData:
    """Load the corpus, load or train the tokenizer, and cut the token stream into windows.

    Args:
        recipe: a ``tinyllm.recipes.Recipe``; its ``data`` (a `DataSpec`) and ``model`` (for
            ``vocab_size`` and ``context_length``) are read.
        tokenizer: use this one (the tokenizer of a model a recipe starts from) instead of
            ``recipe.data.tokenizer``.
    """
    spec, model = recipe.data, recipe.model
    if spec.corpus not in ("tinytales", "text", "tinystories"):
        raise RecipeError(f"data.corpus={spec.corpus!r}: use tinytales, text (with data.path) "
                          "or tinystories")
    if spec.seq_len > model.context_length:
        raise RecipeError(f"data.seq_len={spec.seq_len} is longer than the model's "
                          f"context_length={model.context_length}")
    if spec.corpus == "text" or (spec.corpus == "tinystories" and spec.path):
        return prepare_text(recipe, tokenizer, progress)
    if spec.corpus == "tinystories":  # from the Hub: fails within seconds offline, and says so
        corpus = load_corpus("tinystories", n_train=spec.n_train, n_val=spec.n_val)
    else:
        corpus = load_corpus("tinytales", n_train=spec.n_train, n_val=spec.n_val, lang=spec.lang,
                             seed=spec.corpus_seed)
    if tokenizer is None and spec.tokenizer == "bpe":
        # The same first stories as train_tokenizer, so `--set data.tokenizer=bpe` rebuilds
        # the shipped file instead of a tokenizer that depends on n_train.
        tokenizer = BPETokenizer.train(corpus["train"]["text"][:TOKENIZER_STORIES], model.vocab_size)
    elif tokenizer is None:
        tokenizer = load_tokenizer(spec.tokenizer, model.vocab_size)
    train_ids = concat_ids(tokenize_dataset(corpus["train"], tokenizer))
    val_ids = concat_ids(tokenize_dataset(corpus["validation"], tokenizer))
    # Every byte of the validation text over every token predicted (<|endoftext|> separators
    # are tokens with no bytes of their own).
    val_bytes = sum(len(text.encode("utf-8")) for text in corpus["validation"]["text"])
    return PreparedData(
        train=WindowDataset(train_ids, spec.seq_len, spec.stride or spec.seq_len),
        # Validation windows never overlap, so every token is scored exactly once.
        val=WindowDataset(val_ids, spec.seq_len, spec.seq_len),
        tokenizer=tokenizer,
        bytes_per_token=val_bytes / len(val_ids),
    )
