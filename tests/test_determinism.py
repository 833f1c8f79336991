"""seed_everything, and notebook outputs that do not depend on the run or the thread count."""

import os
import random
import shutil

import numpy as np
import pytest
import torch

from tinyllm import seed_everything
from tinyllm.notebooks import execute_notebook
from tinyllm.paths import REPO_ROOT


def draws():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_same_seed_same_draws_different_seed_different():
    seed_everything(123)
    a = draws()
    seed_everything(123)
    b = draws()
    seed_everything(124)
    c = draws()
    assert a == b
    assert a != c


def test_deterministic_algorithms_switch():
    seed_everything(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    seed_everything(0)


def test_threads_argument_and_env(monkeypatch):
    before = torch.get_num_threads()
    try:
        seed_everything(0, threads=1)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("TINYLLM_THREADS", "2")
        seed_everything(0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        seed_everything(bad)


def checked_outputs(nb):
    """Text that nbval compares, per code cell not marked NBVAL_IGNORE_OUTPUT.

    A cell's stream output may arrive in several chunks (how it is split depends on timing),
    so, like nbval, the chunks of a cell are joined before comparing.
    """
    result = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "NBVAL_IGNORE_OUTPUT" in cell.source:
            continue
        streams = "".join(out.text for out in cell.outputs if out.output_type == "stream")
        data = [out.data.get("text/plain") for out in cell.outputs if "data" in out]
        result.append((streams, data))
    return result


@pytest.mark.slow
def test_notebook_00_outputs_identical_with_one_thread(tmp_path):
    """The committed notebook was executed with 2 threads; re-executing with 1 changes nothing.

    (nbval, in the same test run, re-executes it with 2 threads: that is the "twice" check.)
    """
    import nbformat

    source = REPO_ROOT / "notebooks" / "00_setup.ipynb"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    environment = dict(os.environ)
    execute_notebook(copy, threads=1, progress=False)
    assert dict(os.environ) == environment, "the kernel's settings leaked into this process"
    committed = nbformat.read(source, as_version=4)
    rerun = nbformat.read(copy, as_version=4)
    assert checked_outputs(rerun) == checked_outputs(committed)
