"""tests/check_kernels.py really selects the CPU kernels it claims to (else CI would test one
CPU three times and call it three)."""

import os
import subprocess
import sys

import pytest
from check_kernels import (
    FAILED_CELL,
    KERNEL_SETS,
    failure_report,
    native_capability,
    supported_kernel_sets,
)

SUPPORTED = supported_kernel_sets()


def test_default_is_always_supported_and_native_is_the_best():
    assert SUPPORTED[0] == "default"
    if native_capability().lower() in KERNEL_SETS:
        assert SUPPORTED[-1] == native_capability().lower()


@pytest.mark.parametrize("name", SUPPORTED)
def test_environment_selects_the_kernel_set(name):
    env = dict(os.environ, **KERNEL_SETS[name])
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().lower() == name


def test_float32_sums_differ_between_kernel_sets_when_there_are_two():
    """What the check is for: the lowest kernels add in another order than the CPU's best."""
    if len(SUPPORTED) < 2:
        pytest.skip("this CPU runs only the default kernels")
    probe = ("import torch; torch.manual_seed(0); x = torch.randn(512, 512); "
             "print(repr((x @ x).sum().item()))")
    sums = {
        name: subprocess.run([sys.executable, "-c", probe], env=dict(os.environ, **KERNEL_SETS[name]),
                             capture_output=True, text=True, check=True).stdout
        for name in (SUPPORTED[0], SUPPORTED[-1])
    }
    assert len(set(sums.values())) == 2, sums


def test_failed_cells_are_read_from_pytest_output():
    report = ("FAILED notebooks/00_setup.ipynb::Cell 6 - Notebook cell execution failed\n"
              "FAILED notebooks/07_pretraining.ipynb::Cell 14 - Notebook cell execution failed\n")
    assert FAILED_CELL.findall(report) == [("notebooks/00_setup.ipynb", "6"),
                                           ("notebooks/07_pretraining.ipynb", "14")]


def test_failure_report_keeps_the_diffs_and_drops_the_colours():
    log = ("collected 2 items\n\n"
           "=================================== FAILURES ===================================\n"
           "\x1b[91m______ t.ipynb::Cell 1 ______\x1b[0m\n"
           " mismatch 'stdout'\n  - 2\n  + 3\n"
           "=========================== short test summary info ============================\n"
           "FAILED t.ipynb::Cell 1 - Notebook cell execution failed\n")
    assert failure_report(log) == "______ t.ipynb::Cell 1 ______\n mismatch 'stdout'\n  - 2\n  + 3"
    assert failure_report(log, max_lines=2).endswith("... (2 more lines in the log)")
    assert failure_report("1 passed") == ""
