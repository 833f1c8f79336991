"""Corpus loaders: cached TinyTales DatasetDicts, TinyStories from local files, offline errors."""

from __future__ import annotations

import json
import time

import datasets
import pytest

from tinyllm.data import corpora, load_corpus


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(corpora.CACHE_ENV, str(tmp_path / "cache"))


def test_tinytales_splits_columns_and_no_overlap():
    dd = load_corpus("tinytales", n_train=300, n_val=40, lang="mix", seed=3)
    assert isinstance(dd, datasets.DatasetDict)
    assert dd.num_rows == {"train": 300, "validation": 40}
    for column in ("text", "hero", "species", "companion", "object", "place", "arc", "ending", "lang"):
        assert column in dd["train"].column_names
    assert not set(dd["train"]["text"]) & set(dd["validation"]["text"])
    assert set(dd["train"]["lang"]) == {"en", "zh"}
    assert json.loads(dd["train"][0]["details"]) is not None


def test_tinytales_matches_the_generator():
    from tinyllm import tinytales

    dd = load_corpus("tinytales", n_train=20, n_val=5, seed=9, cache=False)
    stories = tinytales.generate(25, seed=9)
    assert list(dd["validation"]["text"]) == [s.text for s in stories[:5]]
    assert list(dd["train"]["text"]) == [s.text for s in stories[5:]]


def test_tinytales_second_call_reads_the_cache(monkeypatch):
    first = load_corpus("tinytales", n_train=500, n_val=50, seed=1)

    def no_generation(*args, **kwargs):
        raise AssertionError("the second call must not generate stories again")

    monkeypatch.setattr(corpora.tinytales, "generate", no_generation)
    start = time.perf_counter()
    second = load_corpus("tinytales", n_train=500, n_val=50, seed=1)
    assert time.perf_counter() - start < 2.0
    assert list(second["train"]["text"]) == list(first["train"]["text"])
    assert (corpora.cache_dir() / "corpora").is_dir()


def test_no_overlap_even_when_the_generator_repeats_itself(monkeypatch):
    from tinyllm import tinytales

    real = tinytales.generate

    def repetitive(n, seed=0, lang="en"):
        base = real(5, seed, lang)
        return [base[i % 5] for i in range(n)] if n < 200 else real(n, seed, lang)

    monkeypatch.setattr(corpora.tinytales, "generate", repetitive)
    dd = load_corpus("tinytales", n_train=30, n_val=3, seed=0, cache=False)
    assert not set(dd["train"]["text"]) & set(dd["validation"]["text"])
    assert dd.num_rows == {"train": 30, "validation": 3}


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="wikipedia"), "unknown corpus"),
    (dict(name="tinytales", n_train=-1), "n_train"),
    (dict(name="tinytales", lang="fr"), "lang"),
    (dict(name="tinytales", data_files="x.txt"), "data_files"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_corpus(**kwargs)


def _write_txt(path, stories):
    path.write_text(f"\n{corpora.ENDOFTEXT}\n".join(stories) + f"\n{corpora.ENDOFTEXT}\n", encoding="utf-8")


def test_tinystories_from_local_txt_files(tmp_path):
    train = [f"Once upon a time, story {i} happened.\nIt had two lines." for i in range(30)]
    val = [f"Validation story {i}." for i in range(5)]
    _write_txt(tmp_path / "train.txt", train)
    _write_txt(tmp_path / "valid.txt", val)
    dd = load_corpus("tinystories", data_files={"train": tmp_path / "train.txt",
                                                "validation": tmp_path / "valid.txt"},
                     n_train=None, n_val=None)
    assert list(dd["train"]["text"]) == train and list(dd["validation"]["text"]) == val
    dd = load_corpus("tinystories", data_files={"train": str(tmp_path / "train.txt"),
                                                "validation": str(tmp_path / "valid.txt")},
                     n_train=10, n_val=2)
    assert dd.num_rows == {"train": 10, "validation": 2}


def test_tinystories_single_jsonl_is_split(tmp_path):
    path = tmp_path / "stories.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"Story number {i}."}) for i in range(40)))
    dd = load_corpus("tinystories", data_files=str(path), n_train=None, n_val=8)
    assert dd.num_rows == {"train": 32, "validation": 8}
    assert not set(dd["train"]["text"]) & set(dd["validation"]["text"])
    assert sorted(list(dd["train"]["text"]) + list(dd["validation"]["text"])) == sorted(
        f"Story number {i}." for i in range(40))


def test_tinystories_local_errors(tmp_path):
    with pytest.raises(corpora.CorpusUnavailableError, match="not found"):
        load_corpus("tinystories", data_files=str(tmp_path / "missing.txt"))
    bad = tmp_path / "stories.csv"
    bad.write_text("story\nhello\n")
    with pytest.raises(ValueError, match="'text' column"):
        load_corpus("tinystories", data_files=str(bad), n_val=0)
    odd = tmp_path / "stories.xml"
    odd.write_text("<x/>")
    with pytest.raises(ValueError, match="unsupported"):
        load_corpus("tinystories", data_files=str(odd))


def test_tinystories_offline_env_fails_fast_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(corpora.CorpusUnavailableError) as err:
        load_corpus("tinystories")
    assert time.perf_counter() - start < 2
    message = str(err.value)
    assert "HF_HUB_OFFLINE" in message and "tinytales" in message and "data_files" in message


def test_tinystories_unreachable_hub_fails_within_seconds(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    start = time.perf_counter()
    with pytest.raises(corpora.CorpusUnavailableError, match="unreachable|did not answer") as err:
        load_corpus("tinystories", timeout=3)
    assert time.perf_counter() - start < 6
    assert err.value.__cause__ is None  # one clear error, no chained traceback


def test_hub_probe_gives_up_on_time(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "https://10.255.255.1")  # unroutable: connect would hang
    start = time.perf_counter()
    reason = corpora.hub_reachable(timeout=1.0)
    assert reason is not None and time.perf_counter() - start < 3
