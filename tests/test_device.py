"""The device setting on a machine without a GPU: auto's order, clear errors, --device, and CPU
runs unchanged by the plumbing (tests/test_cuda.py runs the same paths on a GPU)."""

import json

import pytest
import torch
from tiny_run import tiny_config, tiny_data, tiny_model

from tinyllm import device as device_module
from tinyllm import recipes
from tinyllm.__main__ import main
from tinyllm.device import DeviceError, native_bf16, resolve_device
from tinyllm.train import TrainConfig, evaluate, train


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device_module, "mps_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(device_module, "mps_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_bad_or_missing_devices_are_clear_errors(monkeypatch):
    with pytest.raises(DeviceError, match="unknown; use one of auto, cpu, cuda, mps"):
        resolve_device("gpu")
    for name in ("mps:1", "cuda:", "cpu:", "auto:", "cuda:x"):
        with pytest.raises(DeviceError, match="unknown"):
            resolve_device(name)
    with pytest.raises(ValueError, match="'tpu' is unknown"):
        TrainConfig(device="tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "mps_available", lambda: False)
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda:0")
    with pytest.raises(DeviceError, match="Metal backend is not available"):
        resolve_device("mps")


def test_bf16_autocast_is_native_only_on_cuda():
    assert not native_bf16("cpu") and not native_bf16("mps")


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_device_setting_leaves_cpu_training_bit_identical(monkeypatch):
    asked = []
    monkeypatch.setattr("tinyllm.train.resolve_device", lambda name: asked.append(name) or torch.device("cpu"))
    runs = {}
    for device in (None, "auto"):
        model = tiny_model()
        history = train(model, tiny_data(), tiny_data(seed=1), tiny_config(max_steps=4, eval_interval=2,
                                                                           device=device), progress=False)
        runs[device] = (history.train_loss, history.val_loss, weights(model))
    assert asked == ["auto"]  # None leaves the model where it is: resolve_device is not asked
    assert runs[None][:2] == runs["auto"][:2]
    for name, value in runs[None][2].items():
        assert torch.equal(value, runs["auto"][2][name]), name


class DeviceSpy(torch.nn.Module):
    """Records where each batch arrives; its parameters are on the CPU."""

    def __init__(self):
        super().__init__()
        self.model, self.seen = tiny_model(), []

    def forward(self, x, y):
        self.seen.append((x.device, y.device))
        return self.model(x, y)


def test_batches_arrive_on_the_models_device(monkeypatch):
    spy = DeviceSpy()
    moved = []
    original = torch.Tensor.to
    monkeypatch.setattr(torch.Tensor, "to", lambda self, *a, **k: moved.append(a[:1]) or original(self, *a, **k))
    train(spy, tiny_data(), tiny_data(seed=1), tiny_config(max_steps=2, eval_interval=1, eval_steps=1),
          progress=False)
    evaluate(spy, tiny_data(seed=1), max_batches=1)
    assert spy.seen and all(pair == (torch.device("cpu"),) * 2 for pair in spy.seen)
    # train_step and evaluate asked to move every x and y to the model's device
    assert moved.count((torch.device("cpu"),)) >= 2 * len(spy.seen)


def show(argv, capsys):
    assert main(["train", "--recipe", "smoke", "--show", *argv]) == 0
    return json.loads(capsys.readouterr().out)["train"]


def test_cli_device_sets_device_and_native_autocast(monkeypatch, capsys):
    assert show([], capsys)["device"] is None  # the course's default: the CPU, as before
    cpu = show(["--device", "cpu"], capsys)
    assert cpu["device"] == "cpu" and cpu["autocast"] is False
    monkeypatch.setattr(device_module, "native_bf16", lambda device: True)  # a GPU with bf16
    assert show(["--device", "cpu"], capsys)["autocast"] is True
    assert show(["--device", "cpu", "--set", "autocast=false"], capsys)["autocast"] is False


def test_cli_device_without_the_hardware_is_one_line_error(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "--recipe", "smoke", "--device", "cuda", "--show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: device 'cuda' was asked for but PyTorch sees no CUDA GPU") and err.count("\n") == 1


def test_on_device_keeps_an_explicit_autocast():
    recipe = recipes.apply_overrides(recipes.get_recipe("smoke"), ["autocast=true"])
    assert recipes.on_device(recipe, "cpu").train.autocast is True
    assert recipes.on_device(recipe, "cpu", autocast=False).train.autocast is False
