"""Corpora as Hugging Face ``datasets``: the embedded TinyTales, or the real TinyStories.

Taught in notebook 02 (data pipeline).

``load_corpus("tinytales", ...)`` generates stories with ``tinyllm.tinytales`` and caches the
``DatasetDict`` on disk (``$TINYLLM_CACHE`` or ``~/.cache/tinyllm``), so the second call only
memory-maps the saved Arrow files. ``load_corpus("tinystories", ...)`` reads local files
(``data_files=``) or, online, downloads ``roneneldan/TinyStories`` with ``datasets.load_dataset``;
offline it fails within seconds with one error that says what to do instead.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.request
import uuid
from pathlib import Path

import datasets

from tinyllm import tinytales

#: The real TinyStories on the Hugging Face Hub (Eldan & Li, 2023).
TINYSTORIES_ID = "roneneldan/TinyStories"
#: Environment variable for the cache folder (default ``~/.cache/tinyllm``).
CACHE_ENV = "TINYLLM_CACHE"
CORPORA = ("tinytales", "tinystories")
#: Separator between stories in TinyStories' .txt files.
ENDOFTEXT = "<|endoftext|>"


class CorpusUnavailableError(RuntimeError):
    """A corpus could not be loaded (offline, missing file); the message says what to do."""


def cache_dir() -> Path:
    """Where tinyllm caches generated corpora: ``$TINYLLM_CACHE`` or ``~/.cache/tinyllm``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tinyllm")


def load_corpus(name: str, *, n_train: int | None = 10_000, n_val: int | None = 1_000,
                lang: str = "en", seed: int = 0, data_files=None, cache: bool = True,
                timeout: float = 5.0) -> datasets.DatasetDict:
    """A corpus as a ``DatasetDict`` with ``train`` and ``validation`` splits.

    Args:
        name: ``"tinytales"`` (embedded, offline) or ``"tinystories"`` (local files or the Hub).
        n_train, n_val: stories per split (``None``: all, for TinyStories).
        lang: TinyTales language: ``"en"``, ``"zh"`` or ``"mix"``.
        seed: TinyTales generation seed (and the split seed for a single local file).
        data_files: TinyStories from local files: a path, a list, or ``{"train": ...,
            "validation": ...}``; ``.txt`` (stories separated by ``<|endoftext|>`` or blank
            lines), ``.json``/``.jsonl``, ``.csv`` or ``.parquet`` with a ``text`` column.
        cache: reuse (and write) the on-disk TinyTales cache.
        timeout: seconds to wait for the Hub before giving up (TinyStories without files).

    Columns: ``text`` plus, for TinyTales, the story metadata (hero, species, companion,
    object, place, arc, ending, lang, ...). No TinyTales story is in both splits.
    """
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; choose one of {CORPORA}")
    for label, n in (("n_train", n_train), ("n_val", n_val)):
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            raise ValueError(f"{label} must be a non-negative int or None, got {n!r}")
    if name == "tinytales":
        if data_files is not None:
            raise ValueError("data_files is for load_corpus('tinystories', ...); TinyTales is generated")
        if n_train is None or n_val is None:
            raise ValueError("TinyTales is generated: give n_train and n_val as numbers")
        return _tinytales(n_train, n_val, lang, seed, cache)
    if data_files is not None:
        return _tinystories_local(data_files, n_train, n_val, seed)
    return _tinystories_hub(n_train, n_val, timeout)


# ---------------------------------------------------------------- TinyTales


def _rows(stories: list[tinytales.Story]) -> list[dict]:
    rows = []
    for s in stories:
        row = s.to_dict()
        row["details"] = json.dumps(dict(s.details), ensure_ascii=False)  # one string column
        rows.append(row)
    return rows


def _split_stories(n_train: int, n_val: int, lang: str, seed: int):
    """Validation = the first ``n_val`` stories; train = the next ones, skipping any story
    whose text is already in validation (so no story is in both)."""
    slack = max(16, (n_train + n_val) // 50)
    while True:
        stories = tinytales.generate(n_val + n_train + slack, seed=seed, lang=lang)
        val = stories[:n_val]
        seen = {s.text for s in val}
        train = [s for s in stories[n_val:] if s.text not in seen][:n_train]
        if len(train) == n_train:
            return train, val
        slack *= 4


def _tinytales(n_train: int, n_val: int, lang: str, seed: int, cache: bool) -> datasets.DatasetDict:
    if lang not in ("en", "zh", "mix"):
        raise ValueError(f"lang must be 'en', 'zh' or 'mix', got {lang!r}")
    key = f"tinytales-v{tinytales.CORPUS_VERSION}-{lang}-seed{seed}-train{n_train}-val{n_val}"
    path = cache_dir() / "corpora" / key
    if cache and (path / "dataset_dict.json").is_file():
        return datasets.load_from_disk(str(path))
    train, val = _split_stories(n_train, n_val, lang, seed)
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_list(_rows(train)),
        "validation": datasets.Dataset.from_list(_rows(val)),
    })
    if cache:
        # Write next to the target, then rename: a crash never leaves a half-written cache.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{key}.{uuid.uuid4().hex}.tmp"
        dd.save_to_disk(str(tmp))
        try:
            os.replace(tmp, path)
        except OSError:  # another process won the race; its copy is identical
            shutil.rmtree(tmp, ignore_errors=True)
        return datasets.load_from_disk(str(path))
    return dd


# ---------------------------------------------------------------- TinyStories

_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}


def _as_split_dict(data_files) -> dict[str, list[str]]:
    if isinstance(data_files, (str, os.PathLike)):
        return {"train": [str(data_files)]}
    if isinstance(data_files, dict):
        unknown = set(data_files) - {"train", "validation"}
        if unknown:
            raise ValueError(f"data_files splits must be 'train' and/or 'validation', got {sorted(unknown)}")
        return {k: [str(v)] if isinstance(v, (str, os.PathLike)) else [str(p) for p in v]
                for k, v in data_files.items()}
    return {"train": [str(p) for p in data_files]}


def _read_txt(paths: list[str]) -> datasets.Dataset:
    stories = []
    for p in paths:
        text = Path(p).read_text(encoding="utf-8")
        parts = text.split(ENDOFTEXT) if ENDOFTEXT in text else text.split("\n\n")
        stories += [s.strip() for s in parts if s.strip()]
    return datasets.Dataset.from_dict({"text": stories})


def _read_split(paths: list[str]) -> datasets.Dataset:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise CorpusUnavailableError(f"TinyStories file(s) not found: {missing}. Pass existing "
                                     "paths in data_files=, or use load_corpus('tinytales', ...).")
    suffixes = {Path(p).suffix.lower() for p in paths}
    if len(suffixes) != 1:
        raise ValueError(f"data_files of one split must share one format, got {sorted(suffixes)}")
    suffix = suffixes.pop()
    if suffix == ".txt":
        ds = _read_txt(paths)
    elif suffix in _BUILDERS:
        ds = datasets.load_dataset(_BUILDERS[suffix], data_files=paths, split="train")
    else:
        raise ValueError(f"unsupported TinyStories file type {suffix!r}; use .txt, .json, "
                         ".jsonl, .csv or .parquet")
    if "text" not in ds.column_names:
        raise ValueError(f"TinyStories files need a 'text' column; {paths[0]} has {ds.column_names}")
    return ds


def _head(ds: datasets.Dataset, n: int | None) -> datasets.Dataset:
    return ds if n is None or n >= len(ds) else ds.select(range(n))


def _tinystories_local(data_files, n_train, n_val, seed) -> datasets.DatasetDict:
    splits = {k: _read_split(v) for k, v in _as_split_dict(data_files).items()}
    if "train" not in splits:
        raise ValueError("data_files needs a 'train' split")
    if "validation" not in splits:
        n_val = 1_000 if n_val is None else n_val
        if n_val >= len(splits["train"]):
            raise ValueError(f"only {len(splits['train'])} stories in the train files; ask for "
                             f"fewer validation stories (n_val={n_val}) or pass a validation file")
        parts = splits["train"].train_test_split(test_size=n_val, seed=seed, shuffle=True)
        splits = {"train": parts["train"], "validation": parts["test"]}
    return datasets.DatasetDict({"train": _head(splits["train"], n_train),
                                 "validation": _head(splits["validation"], n_val)})


def _offline_message(reason: str) -> str:
    return (
        f"Cannot download TinyStories ({TINYSTORIES_ID}) from the Hugging Face Hub: {reason}. "
        "The course runs offline with its embedded corpus: load_corpus('tinytales', "
        "n_train=10_000, n_val=1_000). To use the real TinyStories, download its files on a "
        "machine with internet (e.g. TinyStoriesV2-GPT4-train.txt and -valid.txt from "
        f"https://huggingface.co/datasets/{TINYSTORIES_ID}) and pass "
        "load_corpus('tinystories', data_files={'train': 'TinyStoriesV2-GPT4-train.txt', "
        "'validation': 'TinyStoriesV2-GPT4-valid.txt'})."
    )


def _truthy(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 5.0) -> str | None:
    """None if the Hub's API answers for TinyStories within ``timeout`` seconds, else why not.

    Asks over HTTP (a bare TCP connect can succeed through a proxy that leads nowhere) and runs
    in a daemon thread, because a DNS lookup ignores timeouts and can hang.
    """
    endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    url = f"{endpoint}/api/datasets/{TINYSTORIES_ID}"
    result: list[str | None] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                result.append(None if response.status == 200 else f"{url} answered {response.status}")
        except Exception as err:  # noqa: BLE001 - DNS, TLS, HTTP, proxy: all mean "no Hub"
            result.append(f"{endpoint} is unreachable ({err.__class__.__name__}: {err})")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else f"{endpoint} did not answer within {timeout:g} s"


def _tinystories_hub(n_train, n_val, timeout: float) -> datasets.DatasetDict:
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if _truthy(var):
            raise CorpusUnavailableError(_offline_message(f"${var} is set (offline mode)"))
    reason = hub_reachable(timeout)
    if reason:
        raise CorpusUnavailableError(_offline_message(reason))
    try:
        dd = datasets.load_dataset(TINYSTORIES_ID)
    except Exception as err:  # noqa: BLE001 - any failure here gets the same advice
        raise CorpusUnavailableError(_offline_message(f"{err.__class__.__name__}: {err}"[:300])) from None
    return datasets.DatasetDict({"train": _head(dd["train"], n_train),
                                 "validation": _head(dd["validation"], n_val)})
