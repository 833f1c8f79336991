"""The uint16 token file and random windows read from it (tinyllm.data.token_file)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyllm.data import open_token_file, random_windows, sliding_windows, write_token_file


@settings(max_examples=50, deadline=None)
@given(ids=st.lists(st.integers(0, 2**16 - 1), min_size=1, max_size=300))
def test_round_trip_two_bytes_per_token(tmp_path_factory, ids):
    path = write_token_file(ids, tmp_path_factory.mktemp("t") / "train.bin")
    assert path.stat().st_size == 2 * len(ids)
    tokens = open_token_file(path)
    assert tokens.dtype == np.uint16 and tokens.tolist() == ids


def test_file_is_raw_little_endian_uint16_like_nanogpt(tmp_path):
    path = write_token_file(torch.tensor([1, 258, 65535]), tmp_path / "t.bin")
    assert path.read_bytes() == np.array([1, 258, 65535], dtype="<u2").tobytes()
    assert not (tmp_path / "t.bin.tmp").exists()


@pytest.mark.parametrize("bad", [[0, 65536], [-1, 3], [[1, 2], [3, 4]], [0.5, 1.0], [True, False]])
def test_bad_ids_are_refused_with_the_reason(tmp_path, bad):
    with pytest.raises(ValueError, match="0 .. 65535|flat sequence of integer"):
        write_token_file(torch.tensor(bad), tmp_path / "t.bin")
    with pytest.raises(ValueError, match="empty"):
        write_token_file([], tmp_path / "t.bin")


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.int32, np.int64])
def test_numpy_ids_of_any_integer_type_are_written(tmp_path, dtype):
    first = write_token_file(np.array([1, 258, 65535], dtype=dtype), tmp_path / "a.bin")
    again = write_token_file(open_token_file(first), tmp_path / "b.bin")  # a file copied through numpy
    assert open_token_file(again).tolist() == [1, 258, 65535]


def test_open_refuses_missing_and_odd_sized_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="write_token_file"):
        open_token_file(tmp_path / "nothing.bin")
    (tmp_path / "odd.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="2 bytes per token"):
        open_token_file(tmp_path / "odd.bin")
    (tmp_path / "six.bin").write_bytes(np.array([1, 70_000], dtype="<u4").tobytes()[:6])
    with pytest.raises(ValueError, match="uint32 token file holds 4 bytes per token"):
        open_token_file(tmp_path / "six.bin", "uint32")


def test_uint32_files_open_too(tmp_path):
    (tmp_path / "big.bin").write_bytes(np.array([1, 70_000], dtype="<u4").tobytes())
    assert open_token_file(tmp_path / "big.bin", "uint32").tolist() == [1, 70_000]


def test_random_windows_are_slices_shifted_by_one(tmp_path):
    ids = torch.randint(0, 50_257, (1000,), generator=torch.Generator().manual_seed(1))
    tokens = open_token_file(write_token_file(ids, tmp_path / "t.bin"))
    x, y = random_windows(tokens, 16, 32, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, 32) and x.dtype == y.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1])
    starts = torch.randint(1000 - 32, (16,), generator=torch.Generator().manual_seed(0))
    all_x, all_y = sliding_windows(ids, 32, 1)  # every possible window, one per start
    assert torch.equal(x, all_x[starts]) and torch.equal(y, all_y[starts])


def test_random_windows_seeded_and_reach_both_ends():
    ids = torch.arange(12)
    a = random_windows(ids, 200, 4, torch.Generator().manual_seed(3))
    b = random_windows(ids, 200, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    firsts = set(a[0][:, 0].tolist())
    assert firsts == set(range(8))  # starts 0 .. n - max_length - 1, the last target is id 11
    assert int(a[1].max()) == 11


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0, max_length=4), "batch_size must be a positive int"),
    (dict(batch_size=2, max_length=0), "max_length must be a positive int"),
    (dict(batch_size=2, max_length=10), "needs at least 11 tokens"),
])
def test_random_windows_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        random_windows(torch.arange(10), **kwargs)
