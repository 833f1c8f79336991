"""Checkpoints keep train()'s promise: any model whose ``model(x, y)`` returns ``(logits, loss)``
saves and resumes (no ModelConfig needed), and open file objects work as well as paths."""

import io

import pytest
import torch
import torch.nn.functional as F
from tiny_run import VOCAB, tiny_config, tiny_data, tiny_model
from torch import nn

from tinyllm.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model,
    read_info,
    save_checkpoint,
)
from tinyllm.train import checkpoint_path, train


class Bigram(nn.Module):
    """The smallest language model: the next token depends on this one only. No ``config``."""

    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(VOCAB, VOCAB)
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x, y=None):
        logits = self.table(x) * self.scale
        if y is None:
            return logits
        return logits, F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))


def test_a_model_without_model_config_saves_and_resumes_exactly(tmp_path):
    cfg = tiny_config(max_steps=6, checkpoint_dir=str(tmp_path), checkpoint_interval=3)
    torch.manual_seed(0)
    full = Bigram()
    history = train(full, tiny_data(), cfg=cfg, progress=False)
    torch.manual_seed(1)
    resumed = Bigram()  # other initial weights: everything must come from the checkpoint
    again = train(resumed, tiny_data(), cfg=cfg.replace(checkpoint_dir=str(tmp_path / "b")),
                  resume=checkpoint_path(tmp_path, 3), progress=False)
    assert again.train_loss == history.train_loss and history.train_loss[-1] < history.train_loss[0]
    for name, value in full.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    info = read_info(checkpoint_path(tmp_path, 6))
    assert info.model_config is None and info.step == 6 and info.has_optimizer
    with pytest.raises(CheckpointError, match="without a ModelConfig; build that model yourself"):
        load_model(checkpoint_path(tmp_path, 6))


def test_shapes_that_differ_are_named():
    buffer = io.BytesIO()
    save_checkpoint(buffer, Bigram())
    buffer.seek(0)
    other = Bigram()
    other.table = nn.Embedding(VOCAB + 1, VOCAB)
    with pytest.raises(CheckpointError, match=r"table.weight \(64, 64\) \(the model has \(65, 64\)\)"):
        load_checkpoint(buffer, other)


def test_file_objects_work_like_paths(tmp_path):
    model = tiny_model()
    buffer = io.BytesIO()
    save_checkpoint(buffer, model, step=7)
    on_disk = save_checkpoint(tmp_path / "m.safetensors", model, step=7)
    assert len(buffer.getvalue()) == len(on_disk.read_bytes())  # the same file, in memory
    buffer.seek(0)
    loaded = load_model(buffer)
    with open(on_disk, "rb") as f:
        assert read_info(f).step == 7
    with open(on_disk, "rb") as f:
        copy = tiny_model(seed=3)
        load_checkpoint(f, copy)
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]) and torch.equal(value, copy.state_dict()[name])
    for read in (lambda f: load_checkpoint(f, tiny_model()), read_info, load_model):
        with open(on_disk, encoding="utf-8") as f, pytest.raises(CheckpointError, match="text mode.*'rb'"):
            read(f)
    with open(tmp_path / "text.safetensors", "w", encoding="utf-8") as f, \
            pytest.raises(CheckpointError, match="text mode.*'wb'"):
        save_checkpoint(f, model, step=7)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(io.BytesIO(on_disk.read_bytes()[:100]), tiny_model())
