"""`python -m tinyllm execute`: re-execute course notebooks in place, reproducibly.

Every committed notebook is produced by this command, so that nbval (which re-runs each
notebook in CI and compares outputs) sees the same settings the author had: a fixed thread
count, a fixed hash seed, a clean kernel, and metadata free of machine-specific details.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tinyllm.determinism import NOTEBOOK_THREADS, THREADS_ENV
from tinyllm.paths import REPO_ROOT

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
CELL_TIMEOUT_S = 600


def notebook_environment(threads: int = NOTEBOOK_THREADS) -> dict[str, str]:
    """Environment variables every notebook kernel gets (from `execute` and from the tests)."""
    return {
        THREADS_ENV: str(threads),
        # Caps the BLAS/OpenMP pools before torch starts; seed_everything then fixes torch's.
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "PYTHONHASHSEED": "0",
        # Silences a debugger warning that ipykernel prints to stderr on Python >= 3.11.
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "TQDM_MININTERVAL": "1",
    }


def course_notebooks(root: Path | None = None) -> list[Path]:
    """The course's notebooks in order (``notebooks/NN_*.ipynb``)."""
    root = root or REPO_ROOT
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def clean_metadata(nb) -> None:
    """Drop everything run-specific from a notebook's metadata (in place).

    Keeps exactly what JupyterLab writes back when it opens the notebook and its kernel starts
    (the kernelspec, and the kernel's ``language_info`` *including* the Python version), so a
    learner who only reads is not asked to save on close. The version is the executing kernel's
    (``python3 --version``); other keys (widget state, timings) go.
    """
    language_info = dict(LANGUAGE_INFO)
    version = nb.metadata.get("language_info", {}).get("version")
    if version:
        language_info["version"] = version
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": language_info}
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)


def machine_paths_in(nb) -> list[str]:
    """Machine-specific paths that leaked into outputs (they break nbval on other machines)."""
    import json

    text = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    suspects = {str(Path.home()), str(REPO_ROOT), sys.prefix}
    return sorted(p for p in suspects if len(p) > 1 and p in text)


class NotebookFailed(RuntimeError):
    """A cell raised, or the outputs are not fit to commit."""


def execute_notebook(path: Path, threads: int = NOTEBOOK_THREADS, progress: bool = True) -> float:
    """Execute one notebook top to bottom and save it in place. Returns seconds taken.

    The file is only rewritten when every cell ran and no machine path leaked into the
    outputs; otherwise `NotebookFailed` says which cell to fix.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    n_code = sum(cell.cell_type == "code" for cell in nb.cells)
    bar = tqdm(total=n_code, desc=path.name, unit="cell", disable=not progress, leave=True)

    def on_cell_executed(cell, **_):
        if cell.cell_type == "code":
            bar.update()

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        # nbclient needs widget state to run Output widgets (interact); clean_metadata drops it.
        store_widget_state=True,
        on_cell_executed=on_cell_executed,
    )
    start = time.perf_counter()
    try:
        # The kernel's own environment: updating os.environ instead would leak `threads` into
        # every kernel this process starts later (a test's threads=1 slowed nbval's notebooks).
        client.execute(env={**os.environ, **notebook_environment(threads)})
    except CellExecutionError as e:
        failing = [i for i, cell in enumerate(nb.cells)
                   if any(out.get("output_type") == "error" for out in cell.get("outputs", []))]
        where = f"cell {failing[0]}" if failing else "a cell"
        raise NotebookFailed(
            f"{path}: {where} raised {e.ename}: {e.evalue} (file left unchanged)"
        ) from None
    finally:
        bar.close()
    seconds = time.perf_counter() - start

    clean_metadata(nb)
    leaked = machine_paths_in(nb)
    if leaked:
        raise NotebookFailed(
            f"{path}: outputs contain machine paths {leaked}; print relative paths instead "
            "(file left unchanged)"
        )
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str], threads: int = NOTEBOOK_THREADS) -> int:
    """Execute the given notebooks (all course notebooks if none) and print their times."""
    notebooks = [Path(p) for p in paths] if paths else course_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"error: notebook not found: {', '.join(missing)} "
              "(give paths like notebooks/00_setup.ipynb)", file=sys.stderr)
        return 2
    if not notebooks:
        print("error: no notebooks found under notebooks/", file=sys.stderr)
        return 2
    times = {}
    for path in notebooks:
        try:
            times[path] = execute_notebook(path, threads=threads)
        except NotebookFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    width = max(len(str(p)) for p in times)
    for path, seconds in times.items():
        print(f"{str(path):<{width}}  {seconds:6.1f} s")
    print(f"{'total':<{width}}  {sum(times.values()):6.1f} s  ({threads} threads)")
    return 0
