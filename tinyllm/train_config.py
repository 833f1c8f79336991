"""``TrainConfig``: every knob of a training run, in one frozen dataclass.

Taught in notebook 07 (pretraining). Kept apart from the loop (``tinyllm.train``) so that the
optimizer (``tinyllm.optim``) and a recipe (``tinyllm.recipes``) can name it without importing
the loop.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run.

    Attributes:
        lr: peak learning rate, reached at the end of warmup.
        min_lr: the floor the cosine decays to (often ``lr / 10``).
        warmup_steps: optimizer steps of linear warmup.
        max_steps: optimizer steps in the whole run.
        batch_size: sequences per micro-batch (per process under DDP).
        grad_accum_steps: micro-batches whose gradients are added before one optimizer step;
            the effective batch is ``batch_size * grad_accum_steps * processes`` sequences.
        weight_decay: AdamW's decoupled weight decay, on weight matrices only (see ``param_groups``).
        beta1, beta2: AdamW's moment decay rates (0.95 rather than 0.999 for beta2, as in GPT-3
            and Llama: the second moment adapts faster, which is steadier for LLMs).
        eps: AdamW's epsilon.
        grad_clip: largest allowed global gradient norm (0 turns clipping off; norms are
            recorded either way).
        autocast: run the forward pass in bfloat16 (``torch.autocast``). Off by default: a
            CPU without native bf16 arithmetic (AVX2, most laptops) converts to float32 and
            back, and a training step of ``llama_style()`` took 15-30x longer than in float32 on
            the course's reference machine (tests/bench_autocast.py).
        device: where to train: ``None`` (default) leaves the model where it is (the CPU in
            the course); ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
            ``"cuda"``, ``"cuda:N"``, ``"mps"`` (see ``tinyllm.device``). Batches follow the model.
        eval_interval: evaluate every this many steps, and at the end (0: never).
        eval_steps: validation batches per evaluation (always the same first ones, so the
            curve compares like with like).
        sample_interval: call the sample callback every this many steps, and at the end (0: never).
        log_interval: update the progress bar's loss every this many steps.
        checkpoint_dir: folder for ``step_NNNNNN.safetensors`` checkpoints (``None``: none).
        checkpoint_interval: write a checkpoint every this many steps, and at the end
            (0: only at the end).
        seed: the order of the training batches.
        lora_r, lora_alpha, lora_targets: for the fine-tuning trainers (``sft``): with
            ``lora_r > 0`` the model is frozen and only a LoRA adapter of rank ``lora_r`` trains
            (``tinyllm.lora.add_lora``; ``lora_targets`` are comma-separated layer names or
            ``"all-linear"``); ``0`` trains every weight.

    Frozen, like ``ModelConfig``: make variants with ``cfg.replace(lr=1e-3)``.
    """

    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 20
    max_steps: int = 200
    batch_size: int = 16
    grad_accum_steps: int = 1
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0
    autocast: bool = False
    device: str | None = None
    eval_interval: int = 50
    eval_steps: int = 10
    sample_interval: int = 0
    log_interval: int = 10
    checkpoint_dir: str | None = None
    checkpoint_interval: int = 0
    seed: int = 0
    lora_r: int = 0
    lora_alpha: float = 16.0
    lora_targets: str = "q_proj,v_proj"

    def __post_init__(self) -> None:
        for name in ("max_steps", "batch_size", "grad_accum_steps", "eval_steps", "log_interval"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TrainConfig.{name}={value!r} must be a positive int")
        for name in ("warmup_steps", "eval_interval", "sample_interval", "checkpoint_interval", "seed",
                     "lora_r"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"TrainConfig.{name}={value!r} must be a non-negative int (0 turns it off)")
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"TrainConfig needs 0 <= min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)} must be in [0, 1)")
        if self.device is not None:
            from tinyllm.device import check_device_name

            check_device_name(self.device)
        for name in ("weight_decay", "grad_clip"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)} must be >= 0 (0 turns it off)")
        if self.eps <= 0:
            raise ValueError(f"TrainConfig.eps={self.eps} must be > 0 (it keeps AdamW from dividing by 0)")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def resume_conflicts(self, saved: dict[str, Any]) -> list[str]:
        """How this config differs from ``saved`` (a checkpoint's, as a dict) where a resumed
        run may not differ: ``["lr: 0.003 -> 0.001", ...]``; empty when it may resume.

        A resumed run may change `RESUME_MAY_CHANGE`; every other field shapes the run itself
        (its batches, its optimizer, its schedule before ``max_steps``).
        """
        now = json.loads(json.dumps(dataclasses.asdict(self)))  # as the checkpoint stored it
        return [f"{name}: {saved[name]!r} -> {value!r}" for name, value in now.items()
                if name in saved and name not in RESUME_MAY_CHANGE and saved[name] != value]


#: What a resumed run may change: how long it runs (the cosine then ends at the new
#: ``max_steps``), where it runs, and what it reports and writes.
RESUME_MAY_CHANGE = frozenset({
    "max_steps", "device", "autocast", "eval_interval", "eval_steps", "sample_interval",
    "log_interval", "checkpoint_dir", "checkpoint_interval",
})
