"""Sliding windows, the (input, target) dataset, the seeded loader and `datasets` tokenisation."""

from __future__ import annotations

import datasets
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyllm.data import (
    WindowDataset,
    concat_ids,
    make_loader,
    n_windows,
    sliding_windows,
    tokenize_dataset,
)
from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer, gpt2


def test_windows_by_hand():
    x, y = sliding_windows(range(10), max_length=4, stride=4)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    x, y = sliding_windows(torch.arange(10), max_length=4, stride=1)
    assert len(x) == 6 and x[-1].tolist() == [5, 6, 7, 8] and y[-1].tolist() == [6, 7, 8, 9]
    x, _ = sliding_windows([7, 8, 9], max_length=2, stride=5)
    assert x.tolist() == [[7, 8]] and x.dtype == torch.int64


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 60), max_length=st.integers(1, 12), stride=st.integers(1, 15))
def test_windows_match_a_plain_loop(n, max_length, stride):
    ids = list(range(100, 100 + n))
    if n < max_length + 1:
        with pytest.raises(ValueError, match="needs at least"):
            sliding_windows(ids, max_length, stride)
        return
    expected = [
        (ids[i : i + max_length], ids[i + 1 : i + max_length + 1])
        for i in range(0, n - max_length, stride)
    ]
    x, y = sliding_windows(ids, max_length, stride)
    assert x.tolist() == [e[0] for e in expected] and y.tolist() == [e[1] for e in expected]
    assert n_windows(n, max_length, stride) == len(expected)
    dataset = WindowDataset(ids, max_length, stride)
    assert len(dataset) == len(expected)
    for k in (0, len(dataset) - 1, -1):
        assert torch.equal(dataset[k][0], x[k]) and torch.equal(dataset[k][1], y[k])


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="stride must be a positive int"):
        sliding_windows(range(10), 4, 0)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        WindowDataset(range(10), 4, -2)
    with pytest.raises(ValueError, match="max_length=10 needs at least 11 ids"):
        sliding_windows(range(10), 10, 1)
    with pytest.raises(ValueError, match="max_length must be a positive int"):
        sliding_windows(range(10), 0, 1)
    with pytest.raises(ValueError, match="one flat sequence"):
        sliding_windows(torch.zeros(2, 5, dtype=torch.long), 2, 1)
    with pytest.raises(ValueError, match="integers"):
        sliding_windows(torch.zeros(10), 2, 1)
    with pytest.raises(IndexError):
        WindowDataset(range(10), 4, 4)[2]


def test_loader_is_seeded_and_shapes_are_right():
    dataset = WindowDataset(torch.arange(1000), max_length=8, stride=8)  # 124 windows
    batches = list(make_loader(dataset, batch_size=16, seed=1))
    assert len(batches) == 124 // 16
    x, y = batches[0]
    assert x.shape == y.shape == (16, 8)
    assert torch.equal(y[:, :-1], x[:, 1:])
    again = list(make_loader(dataset, batch_size=16, seed=1))
    other = list(make_loader(dataset, batch_size=16, seed=2))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again, strict=True))
    assert not torch.equal(batches[0][0], other[0][0])
    kept = list(make_loader(dataset, batch_size=16, shuffle=False, drop_last=False))
    assert len(kept) == 8 and kept[-1][0].shape == (124 - 7 * 16, 8)
    assert kept[0][0][1].tolist() == list(range(8, 16))  # unshuffled: windows in order
    # Every window appears exactly once per epoch when shuffled.
    starts = torch.cat([b[0][:, 0] for b in make_loader(dataset, 4, drop_last=False)])
    assert sorted(starts.tolist()) == list(range(0, 124 * 8, 8))


def test_loader_bad_arguments():
    dataset = WindowDataset(torch.arange(20), max_length=4, stride=4)  # 4 windows
    with pytest.raises(ValueError, match="fewer than batch_size=8"):
        make_loader(dataset, batch_size=8)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        make_loader(dataset, batch_size=0)


@pytest.mark.parametrize("num_proc", [None, 2])
def test_tokenize_dataset_appends_endoftext(num_proc):
    docs = ["Hello world.", "小猫跑了。", "Third <|endoftext|> doc"]
    ds = datasets.Dataset.from_dict({"text": docs, "id": [1, 2, 3]})
    tokenized = tokenize_dataset(ds, gpt2(), num_proc=num_proc)
    assert tokenized.column_names == ["ids"]
    enc = gpt2()
    expected = [enc.encode_ordinary(d) + [enc.eot_token] for d in docs]
    assert [list(ids) for ids in tokenized["ids"]] == expected
    flat = concat_ids(tokenized)
    assert flat.tolist() == [i for ids in expected for i in ids]
    assert (flat == 50256).sum().item() == 3  # the text "<|endoftext|>" inside doc 3 is not special
    assert enc.decode(flat.tolist()) == ENDOFTEXT.join(docs) + ENDOFTEXT


def test_tokenize_dataset_with_our_bpe():
    tok = BPETokenizer.train("the cat sat on the mat. " * 20, 270)
    ds = datasets.Dataset.from_dict({"story": ["the cat", "the mat"]})
    tokenized = tokenize_dataset(ds, tok, text_column="story", append_eot=False)
    assert [list(i) for i in tokenized["ids"]] == [tok.encode("the cat"), tok.encode("the mat")]
    with pytest.raises(ValueError, match="no column 'text'"):
        tokenize_dataset(ds, tok)
