"""Re-execute notebooks under other CPU kernels and thread counts, and list the cells that differ.

    python tests/check_kernels.py                      # every notebook, every kernel set x 1 and 2 threads
    python tests/check_kernels.py notebooks/07_pretraining.ipynb --kernels default --threads 1
    python tests/check_kernels.py --cpus 4             # runs side by side while their threads fit

Why: PyTorch and MKL pick SIMD kernels (SSE4.2, AVX2, AVX-512, Apple's) by CPU, and each adds
floating-point numbers in its own order; the thread count splits sums differently again. A cell
that prints more digits than the computation keeps passes on the author's machine and fails on
a learner's. This script makes those machines here: it selects each kernel set through the
environment variables PyTorch, MKL and oneDNN read at start-up, and runs nbval (strict, the same
comparison and sanitizers as the README's test command) on the committed outputs.

A notebook passes on every CPU only when every run here passes. Exit status: 0 if all runs
passed, 1 otherwise. Each run's full nbval report (with the diffs) goes to runs/kernel-check/.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tinyllm.notebooks import notebook_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = REPO_ROOT / "runs" / "kernel-check"

#: The kernel sets, lowest first: what PyTorch (ATEN_CPU_CAPABILITY), MKL's BLAS
#: (MKL_ENABLE_INSTRUCTIONS) and oneDNN (ONEDNN_MAX_CPU_ISA) are each told to use at most.
KERNEL_SETS = {
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
                "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
               "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
}
SELECTORS = sorted({key for env in KERNEL_SETS.values() for key in env})
THREAD_COUNTS = (1, 2)
FAILED_CELL = re.compile(r"^FAILED (\S+\.ipynb)::Cell (\d+)", re.MULTILINE)
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
REPORT_LINES = 150  # of each failing run's diffs, printed (CI keeps stdout, not runs/)


def failure_report(log_text: str, max_lines: int = REPORT_LINES) -> str:
    """pytest's FAILURES section of a run's log (the cells' diffs), colours removed, cut short."""
    lines = ANSI_COLOUR.sub("", log_text).splitlines()
    starts = [i for i, line in enumerate(lines) if "= FAILURES =" in line]
    if not starts:
        return ""
    section = lines[starts[0] + 1:]
    ends = [i for i, line in enumerate(section) if "= short test summary info =" in line]
    lines = section[:ends[0]] if ends else section
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines in the log)"]
    return "\n".join(lines)


def native_capability() -> str:
    """The best kernel set PyTorch finds on this CPU ("AVX512", "AVX2", "DEFAULT", ...)."""
    env = {k: v for k, v in os.environ.items() if k not in SELECTORS}
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def supported_kernel_sets() -> list[str]:
    """The kernel sets this CPU can run, lowest first (on non-x86 CPUs only "default")."""
    native = native_capability().lower()
    names = list(KERNEL_SETS)
    return names[: names.index(native) + 1] if native in names else ["default"]


def run_nbval(notebooks: list[str], kernels: str, threads: int) -> tuple[list[str], float, Path]:
    """Run nbval strict on `notebooks` with one kernel set and thread count.

    Returns (failing cells as "path::Cell N", seconds, log file).
    """
    env = dict(os.environ, **notebook_environment(threads), **KERNEL_SETS[kernels])
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{kernels}-{threads}thread.log"
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-vv", "-rf", *notebooks],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - start
    text = log.read_text(encoding="utf-8")
    failures = [f"{path}::Cell {cell}" for path, cell in FAILED_CELL.findall(text)]
    if result.returncode != 0 and not failures:
        failures = [f"pytest exited {result.returncode} without a failing cell (see {log})"]
    return failures, seconds, log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", default=["notebooks"],
                        help="notebook files (default: every notebook)")
    parser.add_argument("--kernels", default="supported",
                        help="comma-separated kernel sets from "
                             f"{', '.join(KERNEL_SETS)} (default: all this CPU supports)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1,
                        help="CPU cores to fill: runs go side by side while the sum of their "
                             "thread counts fits (default: all cores)")
    args = parser.parse_args(argv)

    supported = supported_kernel_sets()
    kernels = supported if args.kernels == "supported" else args.kernels.split(",")
    unknown = [k for k in kernels if k not in KERNEL_SETS]
    if unknown:
        parser.error(f"unknown kernel set {unknown}; choose from {', '.join(KERNEL_SETS)}")
    unsupported = [k for k in kernels if k not in supported]
    if unsupported:
        parser.error(f"this CPU cannot run {unsupported} (it supports {', '.join(supported)})")
    threads = [int(t) for t in args.threads.split(",")]
    runs = [(k, t) for t in sorted(threads) for k in kernels]
    print(f"CPU kernels supported here: {', '.join(supported)}; "
          f"{len(runs)} runs of nbval over {' '.join(args.notebooks)}", flush=True)

    # Each run holds as many cores as it has threads, so that runs never slow each other down.
    free_cores = [max(args.cpus, max(threads))]
    cores_changed = threading.Condition()

    def one(run):
        with cores_changed:
            cores_changed.wait_for(lambda: free_cores[0] >= run[1])
            free_cores[0] -= run[1]
        try:
            failures, seconds, log = run_nbval(args.notebooks, *run)
        finally:
            with cores_changed:
                free_cores[0] += run[1]
                cores_changed.notify_all()
        verdict = "ok" if not failures else f"{len(failures)} cell(s) differ"
        print(f"  {run[0]:<8} {run[1]} thread(s)  {seconds:6.0f} s  {verdict}", flush=True)
        return run, failures, log

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        results = list(pool.map(one, runs))

    failed = [(run, failures, log) for run, failures, log in results if failures]
    for (kernel, n_threads), failures, log in failed:
        print(f"\n{kernel}, {n_threads} thread(s): diffs in {log.relative_to(REPO_ROOT)}")
        for failure in failures:
            print(f"  {failure}")
        print(failure_report(log.read_text(encoding="utf-8")))
    if failed:
        print(f"\nkernel check: {len(failed)} of {len(runs)} runs differ from the committed outputs")
    else:
        print(f"\nkernel check: all {len(runs)} runs match the committed outputs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
