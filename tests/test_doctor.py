"""`python -m tinyllm doctor`: an OK/FAIL table and an exit code."""

import os
import shutil
import subprocess
import sys

import pytest

from tinyllm.doctor import Check, format_table, run_checks
from tinyllm.paths import DATA_ENV, DataFileError, data_dir, data_file


def run_doctor(env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "tinyllm", "doctor"], capture_output=True,
                          text=True, env=env, timeout=120)


def test_all_checks_pass_here():
    checks = run_checks()
    assert [c for c in checks if not c.ok] == []
    names = {c.name for c in checks}
    for required in ["python", "torch", "tiktoken", "datasets", "jupyterlab", "ipywidgets",
                     "nbval", "threads", "data/gpt2.tiktoken", "gpt2 encoding"]:
        assert required in names


def test_exit_code_zero_and_table():
    result = run_doctor()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 FAIL" in result.stdout
    assert "OK    gpt2 encoding" in result.stdout


def test_corrupt_tokenizer_file_is_a_named_fail_with_fix(tmp_path, monkeypatch):
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)  # every other file intact
    damaged = tmp_path / "gpt2.tiktoken"
    damaged.write_bytes(damaged.read_bytes()[:-100])  # a truncated download
    result = run_doctor({DATA_ENV: str(tmp_path)})
    assert result.returncode == 1
    fail_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 1, result.stdout
    assert "data/gpt2.tiktoken" in fail_lines[0]
    assert "git checkout -- data/gpt2.tiktoken" in fail_lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    for name in ("gpt2.tiktoken", "./gpt2.tiktoken", "tinytales/../gpt2.tiktoken"):  # one file
        with pytest.raises(DataFileError, match="corrupt"):
            data_file(name)


def test_format_table_verdict():
    table = format_table([Check("a", True, "fine"), Check("bb", False, "broken; fix it")])
    assert table.splitlines() == ["OK    a   fine", "FAIL  bb  broken; fix it", "1 OK, 1 FAIL"]


# Run before `python -m tinyllm`: makes `import torch` fail as on a machine without it.
NO_TORCH = """
import importlib.abc, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
"""


def test_doctor_without_torch_prints_the_table_and_the_fix(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_TORCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env=env)
    assert "No module named 'torch'" in probe.stderr  # the shim works
    result = run_doctor({"PYTHONPATH": env["PYTHONPATH"]})
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    fail_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 1 and fail_lines[0].split()[1] == "torch", result.stdout
    assert "pip install torch==2.13.0" in fail_lines[0]
    assert "OK    gpt2 encoding" in result.stdout and "1 FAIL" in result.stdout


# Torch is found (and installed), but importing it fails, as when one of its libraries is missing.
BROKEN_TORCH = """
import importlib.abc, importlib.machinery, sys

class BrokenTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name == "torch" else None

    def exec_module(self, module):
        raise OSError("libtorch_cpu.so: cannot open shared object file")

sys.meta_path.insert(0, BrokenTorch())
"""


def test_doctor_with_a_broken_torch_prints_the_table_and_the_fix(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BROKEN_TORCH)
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    result = run_doctor({"PYTHONPATH": pythonpath})
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    fail_lines = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail_lines) == 1 and "torch build" in fail_lines[0], result.stdout
    assert "import torch failed (libtorch_cpu.so" in fail_lines[0] and "--force-reinstall" in fail_lines[0]


def test_import_tinyllm_does_not_import_torch():
    code = "import sys, tinyllm; assert 'torch' not in sys.modules; tinyllm.ModelConfig; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
