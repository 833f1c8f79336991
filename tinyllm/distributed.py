"""Data parallelism on CPU processes: the few calls that make the training loop run under ``torchrun``.

Taught in notebook 11 (scaling out).

``torchrun --nproc_per_node=N script.py`` starts ``N`` copies of the same script and tells each
its place through environment variables (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ...). Each
copy joins one process group, wraps the model in ``DistributedDataParallel`` (which averages
gradients across processes during ``backward``) and trains on its own slice of every batch.
On CPUs the processes talk through the ``gloo`` backend (GPUs would use ``nccl``).

Run as one plain process, every function here answers as if for a group of one, so the same
training loop works both ways.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    """Whether this process was started by ``torchrun`` (it sets ``WORLD_SIZE``)."""
    return "WORLD_SIZE" in os.environ


def init(backend: str = "gloo") -> bool:
    """Join the process group if started by ``torchrun``; do nothing in a plain process.

    Returns:
        Whether this process is now part of a group.
    """
    if not launched_by_torchrun() or is_initialized():
        return is_initialized()
    dist.init_process_group(backend)  # reads RANK, WORLD_SIZE, MASTER_ADDR/PORT from torchrun
    return True


def is_initialized() -> bool:
    """Whether this process has joined a process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's number, ``0 .. world_size()-1`` (0 in a plain process)."""
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    """How many processes train together (1 in a plain process)."""
    return dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """Whether this is rank 0, the one process that logs, evaluates and writes checkpoints."""
    return rank() == 0


def sum_across_processes(value: torch.Tensor) -> torch.Tensor:
    """The sum of ``value`` over all processes (``value`` itself in a plain process).

    Every process must call it, with a tensor of the same shape: it is a collective.
    """
    if world_size() == 1:
        return value
    value = value.clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def mean_across_processes(value: torch.Tensor) -> torch.Tensor:
    """The mean of ``value`` over all processes (``value`` itself in a plain process); a
    collective, as `sum_across_processes`."""
    if world_size() == 1:
        return value
    return sum_across_processes(value) / world_size()


def shutdown(wait: bool = True) -> None:
    """Leave the process group, in every process, and go on running.

    ``wait``: first wait until every process gets here (a barrier). Pass ``wait=False`` on the
    way out of an error, where the other processes may never arrive (the train command's way
    out after an error). A process that ends right after calls `exit_worker` instead, which
    also skips gloo's teardown (the train command's way out after a run).
    """
    if is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def exit_worker(code: int = 0) -> NoReturn:
    """End a ``torchrun`` worker: wait for the other processes, flush the output, exit at once.

    A worker script's last line, in place of `shutdown` and a normal exit. On CPUs, gloo's
    teardown (destroying the group, then Python's own exit) now and then kills a process *after*
    all its work is done: "terminate called without an active exception", exit code -6, about
    one launch in 50 here, and torchrun then reports the whole run as failed. ``os._exit`` ends
    the process without that teardown; the operating system closes the sockets and frees the
    memory all the same. The barrier first makes sure no other process still waits for this one.
    """
    if is_initialized():
        dist.barrier()
    sys.stdout.flush()  # os._exit skips Python's own flushing
    sys.stderr.flush()
    os._exit(code)

