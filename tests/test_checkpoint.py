"""Checkpoints: safetensors only, atomic writes, exact resume in a fresh process, clear errors."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tiny_run import tiny_config, tiny_data, tiny_model

import tinyllm.checkpoint as checkpoint
from tinyllm.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_config,
    load_model,
    save_checkpoint,
)
from tinyllm.model import TinyLLM
from tinyllm.optim import make_optimizer
from tinyllm.paths import REPO_ROOT
from tinyllm.train import History, checkpoint_path, train

TESTS = Path(__file__).parent



@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model and optimizer after 3 steps, saved with config and history (tests only read it)."""
    model, cfg = tiny_model(), tiny_config(max_steps=3)
    optimizer = make_optimizer(model, cfg)
    for step in range(3):
        optimizer.zero_grad()
        model(*tiny_data()[4 * step : 4 * step + 4])[1].backward()
        optimizer.step()
    history = History(step=[1, 2, 3], lr=[0.1, 0.2, 0.3], train_loss=[4.0, 3.5, 3.0], grad_norm=[1.0] * 3)
    path = save_checkpoint(tmp_path_factory.mktemp("ck") / "ck.safetensors", model, step=3,
                           optimizer=optimizer, train_config=cfg, history=history)
    return model, optimizer, cfg, history, path


def test_roundtrip_weights_optimizer_and_metadata(trained):
    model, optimizer, cfg, history, path = trained
    fresh = tiny_model(seed=1)
    fresh_optimizer = make_optimizer(fresh, cfg)
    info = load_checkpoint(path, fresh, fresh_optimizer)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert fresh.lm_head.weight is fresh.embed_tokens.weight  # the tie survives loading
    saved, loaded = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    for index, state in saved["state"].items():
        for key, value in state.items():
            assert torch.equal(value, loaded["state"][index][key]), (index, key)
    assert info.step == 3 and info.model_config == model.config and info.has_optimizer
    assert info.train_config == json.loads(json.dumps(cfg.__dict__))
    assert History.from_dict(info.history) == history
    assert load_config(path) == model.config
    x = tiny_data()[:2][0]
    torch.testing.assert_close(load_model(path)(x), model.eval()(x), rtol=0, atol=0)


def test_file_is_plain_safetensors_nothing_pickled(trained, monkeypatch):
    *_, path = trained
    assert not path.read_bytes().startswith((b"PK", b"\x80"))  # neither torch.save zip nor pickle
    # safetensors alone (numpy, no torch) reads every tensor and the metadata.
    with safe_open(path, framework="np") as f:
        metadata = f.metadata()
        arrays = {name: f.get_tensor(name) for name in f.keys()}
    assert metadata["format"] == checkpoint.FORMAT
    assert json.loads(metadata["model_config"])["n_layers"] == 2
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    assert "model.embed_tokens.weight" in arrays and "model.lm_head.weight" not in arrays  # tied: once
    assert any(name.startswith("optimizer.") for name in arrays) and "rng.torch" in arrays

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_checkpoint(path, tiny_model(), make_optimizer(tiny_model(), tiny_config()))


def test_weights_only_file_is_smaller_and_cannot_resume(trained, tmp_path):
    model, optimizer, cfg, _, full = trained
    light = save_checkpoint(tmp_path / "weights.safetensors", model, step=3)
    assert light.stat().st_size < full.stat().st_size / 2
    assert not load_checkpoint(light, tiny_model()).has_optimizer
    other = tiny_model(seed=5)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(CheckpointError, match="weights only"):
        load_checkpoint(light, other, make_optimizer(other, cfg))
    assert all(torch.equal(v, before[k]) for k, v in other.state_dict().items())  # left as it was


def test_atomic_write_leaves_old_file_when_interrupted(trained, tmp_path, monkeypatch):
    model, *_, path = trained
    before = path.read_bytes()
    listing = sorted(os.listdir(path.parent))

    def crash(fd):  # the new bytes went to the temporary file, then the run died
        raise KeyboardInterrupt

    monkeypatch.setattr("tinyllm.checkpoint_file.os.fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, step=99)
    assert path.read_bytes() == before  # readers still see the complete old checkpoint
    assert sorted(os.listdir(path.parent)) == listing  # and no temporary file is left behind


def test_checkpoint_files_follow_the_umask(trained, tmp_path):
    """Readable by others where the user's umask allows it, like any file they write (safetensors'
    own writer made them 0600, unreadable to a workshop's other accounts)."""
    model, *_ = trained
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "shared.safetensors", model, step=1)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_config_mismatch_names_the_fields(trained):
    *_, path = trained
    other = TinyLLM(tiny_model().config.replace(n_layers=3, d_ff=96))
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, other)
    message = str(error.value)
    assert "n_layers=2 (the model has 3)" in message and "d_ff=64 (the model has 96)" in message
    assert "d_model=" not in message and "load_config" in message


def test_truncated_corrupt_or_foreign_files_are_clear_errors(trained, tmp_path):
    *_, path = trained
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 not a checkpoint at all" * 10)
    header_cut = tmp_path / "header.safetensors"
    header_cut.write_bytes(data[:20])
    for bad in (truncated, garbage, header_cut):
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            load_checkpoint(bad, tiny_model())
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a tinyllm checkpoint"):
        load_model(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing.safetensors")


def test_resume_in_a_fresh_process_is_bit_exact(tmp_path):
    # 20 steps straight (here, writing a checkpoint at step 10) ...
    straight = tiny_model(dropout=0.1)  # dropout: resuming must restore the random state too
    cfg = tiny_config(max_steps=20, checkpoint_dir=str(tmp_path / "run"), checkpoint_interval=10)
    train(straight, tiny_data(), cfg=cfg, progress=False)
    # ... equals 10 steps, then 10 more in a new Python process that loads that checkpoint.
    out = tmp_path / "resumed.safetensors"
    subprocess.run(
        [sys.executable, str(TESTS / "tiny_run.py"), "--steps", "20", "--dropout", "0.1",
         "--resume", str(checkpoint_path(tmp_path / "run", 10)), "--out", str(out)],
        check=True, cwd=REPO_ROOT, timeout=120,
    )
    resumed = {}
    with safe_open(out, framework="pt") as f:
        resumed = {name: f.get_tensor(name) for name in f.keys()}
    for name, tensor in checkpoint.unique_state_dict(straight).items():
        assert torch.equal(tensor, resumed[name]), name
    # The step-10 checkpoint really is different (the test would notice a no-op resume).
    halfway = tiny_model(dropout=0.1)
    load_checkpoint(checkpoint_path(tmp_path / "run", 10), halfway)
    assert not torch.equal(halfway.embed_tokens.weight, straight.embed_tokens.weight)


def test_resume_refuses_other_settings_and_allows_a_longer_run(tmp_path):
    cfg = tiny_config(max_steps=4, checkpoint_dir=str(tmp_path / "run"))
    train(tiny_model(), tiny_data(), cfg=cfg, progress=False)
    path = checkpoint_path(tmp_path / "run", 4)
    model = tiny_model(seed=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for change, message in ((dict(lr=0.02), "lr: 0.01 -> 0.02"), (dict(batch_size=8), "batch_size: 4 -> 8"),
                            (dict(seed=1), "seed: 0 -> 1")):
        with pytest.raises(CheckpointError, match=f"other settings \\({message}\\).*only autocast, "
                                                  "checkpoint_dir"):
            train(model, tiny_data(), cfg=cfg.replace(**change), resume=path, progress=False)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # nothing loaded
    longer = cfg.replace(max_steps=6, eval_interval=3, checkpoint_dir=None)  # what may change
    assert train(model, tiny_data(), cfg=longer, resume=path, progress=False).step == list(range(1, 7))


def test_restore_rng_sets_the_random_state_only_when_asked(trained, tmp_path):
    _, _, _, _, path = trained
    saved = safe_open(path, framework="pt").get_tensor("rng.torch")
    model = tiny_model()  # (seeds the global generator itself)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    load_checkpoint(path, model, restore_rng=False)  # weights only: the state is left alone
    assert torch.equal(torch.get_rng_state(), before)
    load_checkpoint(path, model, restore_rng=True)  # no optimizer needed for the state
    assert torch.equal(torch.get_rng_state(), saved) and not torch.equal(saved, before)
    light = save_checkpoint(tmp_path / "weights.safetensors", tiny_model(), step=3)
    with pytest.raises(CheckpointError, match="no optimizer or random state"):
        load_checkpoint(light, tiny_model(), restore_rng=True)
