"""Shared pytest setup: notebook kernels get the course's determinism settings, and the run
ends with a table of how long each notebook took (so slow notebooks are visible in CI)."""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
import torch

from tinyllm.determinism import NOTEBOOK_THREADS, THREADS_ENV
from tinyllm.notebooks import notebook_environment

# nbval starts each notebook's kernel after this module is imported (tests/ is collected
# before notebooks/), and kernels inherit os.environ. TINYLLM_THREADS=1 in the environment
# re-runs the notebooks with one thread (tests/check_kernels.py does).
os.environ.update(notebook_environment(int(os.environ.get(THREADS_ENV, NOTEBOOK_THREADS))))


def pytest_terminal_summary(terminalreporter):
    """Sum nbval's per-cell durations into one line per notebook."""
    seconds: dict[str, float] = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            if nodeid.split("::", 1)[0].endswith(".ipynb"):
                seconds[nodeid.split("::", 1)[0]] += getattr(report, "duration", 0.0)
    if not seconds:
        return
    terminalreporter.section("notebook runtimes (nbval, cell execution)")
    width = max(len(p) for p in seconds)
    for path, total in sorted(seconds.items()):
        terminalreporter.write_line(f"{path:<{width}}  {total:7.1f} s")
    terminalreporter.write_line(f"{'all notebooks':<{width}}  {sum(seconds.values()):7.1f} s")


@pytest.fixture(autouse=True)
def one_thread():
    """Unit tests run single-threaded, then restore the setting.

    Their tensors are tiny: handing work to a second thread costs more than it saves, and on a
    busy 2-core machine threads waiting for each other make steps stall. (Notebooks run in
    their own kernels with NOTEBOOK_THREADS.)
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
