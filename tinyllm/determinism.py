"""Seeding and thread settings that make notebook outputs repeatable (notebook 00, setup).

Why a fixed thread count: PyTorch splits large reductions (matmul, sum) across threads, and
floating-point addition is not associative, so the last bits of a result can depend on the
number of threads. The course executes every notebook with ``NOTEBOOK_THREADS`` threads and
prints numbers rounded to a few decimals, so committed outputs match on any machine.
"""

from __future__ import annotations

import os
import random

#: Threads used when notebooks are executed by ``python -m tinyllm execute`` and by nbval.
#: Two, because the reference machine (a workshop laptop, CI) has two CPU cores.
NOTEBOOK_THREADS = 2

#: Environment variable through which ``execute`` and the test-suite pass the thread count
#: on to notebook kernels.
THREADS_ENV = "TINYLLM_THREADS"


def seed_everything(seed: int = 0, *, deterministic: bool = True, threads: int | None = None) -> int:
    """Seed Python, NumPy and PyTorch, so that a notebook prints the same numbers every run.

    Args:
        seed: the seed for ``random``, ``numpy.random`` and ``torch`` (CPU and CUDA).
        deterministic: also ask PyTorch to use only deterministic algorithms
            (``torch.use_deterministic_algorithms``); an op without a deterministic
            implementation then raises instead of silently varying.
        threads: intra-op threads for PyTorch. ``None`` uses ``$TINYLLM_THREADS`` when set
            (the notebook runner sets it to ``NOTEBOOK_THREADS``) and leaves PyTorch's
            default otherwise.

    Returns:
        The seed, so a notebook can print what it used.
    """
    # Imported here, not at the top: `python -m tinyllm doctor` imports this module for
    # NOTEBOOK_THREADS and must run on a machine where numpy or torch is missing.
    import numpy as np
    import torch

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}; pass e.g. seed_everything(0)")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Only affects Python processes started from here on (e.g. DataLoader workers, torchrun).
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch.use_deterministic_algorithms(deterministic)
    if threads is None and os.environ.get(THREADS_ENV):
        threads = int(os.environ[THREADS_ENV])
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    return seed
