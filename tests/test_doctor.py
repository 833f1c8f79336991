"""`python -m tinyllm doctor`: an OK/FAIL table and an exit code."""

import os
import shutil
import subprocess
import sys

from tinyllm.doctor import Check, format_table, run_checks
from tinyllm.paths import DATA_ENV, data_dir


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


def test_corrupt_tokenizer_file_is_a_named_fail_with_fix(tmp_path):
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


def test_format_table_verdict():
    table = format_table([Check("a", True, "fine"), Check("bb", False, "broken; fix it")])
    assert table.splitlines() == ["OK    a   fine", "FAIL  bb  broken; fix it", "1 OK, 1 FAIL"]
