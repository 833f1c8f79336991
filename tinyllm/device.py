"""Which device to train on: ``"auto"`` picks CUDA, then Apple's MPS, then the CPU.

Beyond the course (README, "Beyond the course"). The course itself runs on the CPU: every
notebook and recipe leaves ``TrainConfig.device`` unset (the model stays where it is, on the
CPU); ``python -m tinyllm train --device auto`` (or ``cuda``, ``mps``) moves a run onto an
accelerator. Batches are moved to the model's device inside `tinyllm.train`, so a model the
caller has already moved trains there too.

bfloat16 autocast pays only where the hardware computes in bf16 natively: CUDA GPUs from
Ampere on (``torch.cuda.is_bf16_supported()``). Most laptop CPUs do not (15-30x slower,
tests/bench_autocast.py), so `native_bf16` is False on the CPU and on MPS.
"""

from __future__ import annotations

import torch

#: Values ``TrainConfig.device`` and ``--device`` accept (``"cuda:1"`` names one GPU).
DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(ValueError):
    """A device name that is unknown, or a device this machine does not have."""


def mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def check_device_name(name: str) -> None:
    """Raise `DeviceError` unless ``name`` is one of `DEVICES` or ``cuda:N``."""
    base, colon, index = name.partition(":")
    if base not in DEVICES or (colon and (base != "cuda" or not index.isdigit())):
        raise DeviceError(f"device {name!r} is unknown; use one of {', '.join(DEVICES)} or cuda:N")


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"`` -> the best device here (CUDA, then MPS, then CPU); other names are checked.

    Raises:
        DeviceError: an unknown name, or ``cuda``/``mps`` on a machine without one.
    """
    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(f"device {name!r} was asked for but PyTorch sees no CUDA GPU here "
                          f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
                          "use --device auto or cpu, or install a CUDA build of torch")
    if name.startswith("cuda") and ":" in name and int(name.split(":")[1]) >= torch.cuda.device_count():
        raise DeviceError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    if name == "mps" and not mps_available():
        raise DeviceError("device 'mps' was asked for but Apple's Metal backend is not available; "
                          "use --device auto or cpu")
    return torch.device(name)


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bfloat16 natively, so that autocast speeds training up."""
    device = torch.device(device)
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")
