"""DDP: two ``torchrun`` processes end with the same weights as one process accumulating two
micro-batches per step (notebook 11's claim)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_run import tiny_config, tiny_data, tiny_model

from tinyllm import distributed
from tinyllm.checkpoint import load_checkpoint, unique_state_dict
from tinyllm.paths import REPO_ROOT
from tinyllm.train import train

TESTS = Path(__file__).parent


def torchrun(*args: str) -> list[str]:
    """``torchrun`` of this environment (the script next to Python, or ``-m torch.distributed.run``)."""
    script = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    launcher = [script] if script else [sys.executable, "-m", "torch.distributed.run"]
    return [*launcher, "--standalone", "--nproc_per_node=2", *args]


@pytest.mark.parametrize("masked", [False, True])
def test_two_processes_equal_one_process_with_accumulation(tmp_path, masked):
    out = tmp_path / "ddp.safetensors"
    result = subprocess.run(
        torchrun(str(TESTS / "tiny_run.py"), "--steps", "3", "--batch-size", "4", "--out", str(out),
                 "--checkpoint-dir", str(tmp_path / "run"), *(["--masked"] if masked else [])),
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = load_file(out)

    # One process: batches of 4, two micro-batches per step = the two ranks' data, summed.
    single = tiny_model()
    # masked: each process's targets differ in number, so its loss must count in proportion.
    train(single, tiny_data(masked=masked), cfg=tiny_config(max_steps=3, batch_size=4, grad_accum_steps=2),
          progress=False)
    start = unique_state_dict(tiny_model())
    for name, tensor in unique_state_dict(single).items():
        torch.testing.assert_close(ddp[name], tensor, rtol=0, atol=1e-6, msg=name)
    assert not torch.equal(ddp["embed_tokens.weight"], start["embed_tokens.weight"])

    # Rank 0 wrote the checkpoint (once: no other file, no temporary left behind).
    assert os.listdir(tmp_path / "run") == ["step_000003.safetensors"]
    saved = tiny_model(seed=1)
    load_checkpoint(tmp_path / "run" / "step_000003.safetensors", saved)
    assert torch.equal(saved.embed_tokens.weight, ddp["embed_tokens.weight"])

    # Not a coincidence of the data: one process with a single micro-batch per step differs.
    alone = tiny_model()
    train(alone, tiny_data(masked=masked), cfg=tiny_config(max_steps=3, batch_size=4), progress=False)
    assert (ddp["embed_tokens.weight"] - alone.embed_tokens.weight).abs().max() > 1e-4


def test_a_plain_process_is_a_group_of_one(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.init() is False  # not started by torchrun: nothing to join
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    value = torch.tensor([1.5, -2.0])
    assert torch.equal(distributed.mean_across_processes(value), value)


def test_exit_worker_flushes_and_exits_with_the_code():
    script = ("import sys\nfrom tinyllm import distributed\nprint('saved', end='')\n"
              "print('warned', end='', file=sys.stderr)\ndistributed.exit_worker(3)\nprint('never')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (3, "saved", "warned")


def test_the_train_command_under_torchrun_ends_cleanly(tmp_path):
    """``python -m tinyllm train`` in two processes: exit code 0 (each worker ends through
    `distributed.exit_worker`), one checkpoint, and the report printed once, by rank 0."""
    result = subprocess.run(
        torchrun("-m", "tinyllm", "train", "--recipe", "smoke", "--set", "max_steps=2",
                 "--set", f"checkpoint_dir={tmp_path / 'run'}", "--no-progress"),
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("recipe smoke: step 2, val loss") == 1, result.stdout
    assert "step_000002.safetensors" in os.listdir(tmp_path / "run")
