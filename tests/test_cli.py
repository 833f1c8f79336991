"""The command line: one-line errors, never a traceback, for bad input."""

import os
import subprocess
import sys

from tinyllm.paths import REPO_ROOT


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tinyllm", *args], capture_output=True,
                          text=True, timeout=120, cwd=REPO_ROOT, env=os.environ.copy())


def test_execute_missing_notebook_is_one_line_error():
    result = run_cli("execute", "notebooks/99_does_not_exist.ipynb")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: notebook not found: notebooks/99_does_not_exist.ipynb "
        "(give paths like notebooks/00_setup.ipynb)"
    ]
    assert "Traceback" not in result.stdout


def test_execute_failing_cell_names_cell_and_leaves_file(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_text()
    result = run_cli("execute", str(path))
    assert result.returncode == 1
    assert "cell 1 raised ZeroDivisionError: division by zero" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_text() == before


def test_unknown_command_is_usage_error():
    result = run_cli("fly")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
