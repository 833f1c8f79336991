"""The pretraining loop: batches, AdamW steps, clipping, accumulation, evaluation, checkpoints.

Taught in notebook 07 (pretraining); the same loop runs under ``torchrun`` in notebook 11
(scaling out).

One optimizer step::

    lr = lr_at(step)                                  warmup, then cosine (optim.py)
    for each of grad_accum_steps micro-batches:
        loss = model(x, y) / grad_accum_steps         (in bf16 when cfg.autocast)
        loss.backward()                               gradients add up in .grad
    clip the gradients' global norm to grad_clip
    AdamW step, zero the gradients

Batches are a pure function of ``(seed, micro-batch number)`` (see `BatchStream`), which is
what makes two things simple: resuming from a checkpoint sees exactly the batches the
uninterrupted run would have seen, and under DDP process ``r`` of ``N`` takes micro-batches
``r, r+N, r+2N, ...``, the same data a single process sees with ``N`` accumulation steps.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from tinyllm import distributed
from tinyllm.checkpoint import load_checkpoint, save_checkpoint
from tinyllm.evaluation import EvalResult, bits_per_byte, bytes_per_token, evaluate
from tinyllm.optim import lr_at, make_optimizer
from tinyllm.precision import autocast_context

# Re-exported: the loop's pieces, importable from one place.
__all__ = [
    "BatchStream", "EvalResult", "History", "TrainConfig", "autocast_context", "bits_per_byte",
    "bytes_per_token", "checkpoint_path", "evaluate", "lr_at", "train", "train_step",
]


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
        eval_interval: evaluate every this many steps, and at the end (0: never).
        eval_steps: validation batches per evaluation (always the same first ones, so the
            curve compares like with like).
        sample_interval: call the sample callback every this many steps, and at the end (0: never).
        log_interval: update the progress bar's loss every this many steps.
        checkpoint_dir: folder for ``step_NNNNNN.safetensors`` checkpoints (``None``: none).
        checkpoint_interval: write a checkpoint every this many steps, and at the end
            (0: only at the end).
        seed: the order of the training batches.

    Frozen, like ``ModelConfig``: make variants with ``cfg.replace(lr=1e-3)``.

    Taught in notebook 07 (pretraining).
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
    eval_interval: int = 50
    eval_steps: int = 10
    sample_interval: int = 0
    log_interval: int = 10
    checkpoint_dir: str | None = None
    checkpoint_interval: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_steps", "batch_size", "grad_accum_steps", "eval_steps", "log_interval"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"TrainConfig.{name}={value!r} must be a positive int")
        for name in ("warmup_steps", "eval_interval", "sample_interval", "checkpoint_interval", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"TrainConfig.{name}={value!r} must be a non-negative int (0 turns it off)")
        if not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"TrainConfig needs 0 <= min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)} must be in [0, 1)")
        if self.weight_decay < 0 or self.grad_clip < 0 or self.eps <= 0:
            raise ValueError("TrainConfig.weight_decay and grad_clip must be >= 0, eps > 0")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass
class History:
    """What happened during training, as plain lists that a notebook plots.

    ``step[i]``, ``lr[i]``, ``train_loss[i]``, ``grad_norm[i]`` describe optimizer step
    ``step[i]`` (counted from 1); ``grad_norm`` is the norm before clipping. Evaluations are at
    ``val_step`` (0 = before training). ``samples`` holds what the sample callback returned,
    with its step.

    Taught in notebook 07 (pretraining).
    """

    step: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_perplexity: list[float] = field(default_factory=list)
    val_bits_per_byte: list[float | None] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, list]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> History:
        return cls(**data)


class BatchStream:
    """An endless stream of shuffled micro-batches over a map-style dataset of ``(x, y)`` pairs.

    Micro-batch ``i`` is a pure function of ``(seed, i)``: epoch ``e = i // batches_per_epoch``
    shuffles the dataset with its own seeded generator, and ``i`` picks its slice of that order
    (a short last slice is dropped, so every batch has the same shape). Nothing is consumed, so
    a resumed run, or one of several DDP processes, can ask for any batch directly.

    ``stream[i]`` is ``(x, y)``, each ``(batch_size, seq)`` int64.

    Taught in notebook 07 (pretraining).
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0) -> None:
        if isinstance(dataset, DataLoader):
            raise TypeError(
                "pass the Dataset (e.g. loader.dataset), not a DataLoader: train() batches and "
                "shuffles it itself, so that resuming and DDP see exactly the same batches"
            )
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.batches_per_epoch = len(dataset) // batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"the dataset has {len(dataset)} samples, fewer than batch_size={batch_size}; "
                "lower batch_size or use more data"
            )
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, position = divmod(index, self.batches_per_epoch)
        if epoch != self._epoch:  # a new shuffle per epoch, the same one every run
            generator = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(len(self.dataset), generator=generator)
        rows = self._order[position * self.batch_size : (position + 1) * self.batch_size]
        pairs = [self.dataset[int(row)] for row in rows]
        return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    micro_batches: list[tuple[torch.Tensor, torch.Tensor]],
    lr: float,
    cfg: TrainConfig,
) -> tuple[torch.Tensor, float]:
    """One optimizer step over one or more micro-batches (gradient accumulation).

    Args:
        model: the model, or its ``DistributedDataParallel`` wrapper.
        micro_batches: ``grad_accum_steps`` pairs ``(x, y)``, each ``(batch_size, seq)``.
        lr: the learning rate for this step (`lr_at`).

    Returns:
        ``(loss, grad_norm)``: the mean loss over the micro-batches (a detached scalar tensor)
        and the global gradient norm before clipping.

    Taught in notebook 07 (pretraining).
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss_sum = torch.zeros(())
    for index, (x, y) in enumerate(micro_batches):
        # Under DDP, averaging gradients across processes after every micro-batch would be
        # wasted communication: only the last micro-batch of a step synchronises.
        last = index == len(micro_batches) - 1
        in_sync = last or not isinstance(model, DistributedDataParallel)
        with nullcontext() if in_sync else model.no_sync():
            with autocast_context(cfg.autocast):
                _, loss = model(x, y)
            # Dividing by the number of micro-batches makes the summed gradients the gradient
            # of the mean loss over the whole (accumulated) batch.
            (loss / len(micro_batches)).backward()
        loss_sum += loss.detach().float()
    # clip_grad_norm_ returns the norm before clipping; max_norm=inf measures without clipping.
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss_sum / len(micro_batches), float(grad_norm)


SampleFn = Callable[[nn.Module, int], Any]


def train(
    model: nn.Module,
    train_data: Dataset,
    val_data: Dataset | None = None,
    cfg: TrainConfig | None = None,
    *,
    bytes_per_token: float | None = None,
    sample_fn: SampleFn | None = None,
    resume: str | Path | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on ``train_data`` for ``cfg.max_steps`` optimizer steps.

    Args:
        model: a ``TinyLLM`` (anything whose ``model(x, y)`` returns ``(logits, loss)``).
        train_data: a map-style ``Dataset`` of ``(x, y)`` pairs, each ``(seq,)`` int64, e.g. a
            ``WindowDataset`` or ``TensorDataset(*sliding_windows(ids, ...))``.
        val_data: the same for validation (``None``: no evaluation).
        cfg: the `TrainConfig` (default ``TrainConfig()``).
        bytes_per_token: of the validation text, to report bits per byte.
        sample_fn: ``sample_fn(model, step)`` is called every ``cfg.sample_interval`` steps
            (e.g. generate a story and grade it with ``tinytales.check``); what it returns (a
            JSON-able dict, or a string) goes into ``history.samples``. It runs with the random
            state saved and restored, so sampling does not change the training run.
        resume: a checkpoint written by an earlier run with optimizer state; training continues
            from its step, bit-exactly as if it had not stopped (given the same ``cfg`` and data).
        progress: show a ``tqdm`` bar with the live loss.

    Returns:
        The `History` (continued from the checkpoint's when resuming).

    Under ``torchrun`` (after ``distributed.init()``) each process trains on its own
    micro-batches through ``DistributedDataParallel``; only rank 0 evaluates, samples, writes
    checkpoints and shows progress.

    Taught in notebook 07 (pretraining) and notebook 11 (scaling out).
    """
    cfg = cfg or TrainConfig()
    rank, world, main = distributed.rank(), distributed.world_size(), distributed.is_main()
    optimizer = make_optimizer(model, cfg)
    history, start = History(), 0
    if resume is not None:
        info = load_checkpoint(resume, model, optimizer)
        start = info.step
        history = History.from_dict(info.history) if info.history else History()
    stream = BatchStream(train_data, cfg.batch_size, cfg.seed)
    # DDP averages the gradients across processes inside backward(), bucket by bucket, while
    # the rest of backward is still running. It also copies rank 0's weights to every process.
    ddp_model = DistributedDataParallel(model) if world > 1 else model
    model.train()

    def run_eval(step: int) -> None:
        result = evaluate(model, val_data, bytes_per_token, batch_size=cfg.batch_size,
                          max_batches=cfg.eval_steps, autocast=cfg.autocast)
        history.val_step.append(step)
        history.val_loss.append(result.loss)
        history.val_perplexity.append(result.perplexity)
        history.val_bits_per_byte.append(result.bits_per_byte)

    if main and val_data is not None and cfg.eval_interval and start == 0:
        run_eval(0)

    bar = tqdm(range(start, cfg.max_steps), initial=start, total=cfg.max_steps,
               disable=not (progress and main), desc="training")
    for step in bar:
        lr = lr_at(step, cfg)
        first = step * cfg.grad_accum_steps
        micro_batches = [stream[(first + micro) * world + rank] for micro in range(cfg.grad_accum_steps)]
        loss, grad_norm = train_step(ddp_model, optimizer, micro_batches, lr, cfg)

        done = step + 1
        train_loss = distributed.mean_across_processes(loss).item()
        history.step.append(done)
        history.lr.append(lr)
        history.train_loss.append(train_loss)
        history.grad_norm.append(grad_norm)
        if done % cfg.log_interval == 0 or done == cfg.max_steps:
            postfix = {"loss": f"{train_loss:.3f}", "lr": f"{lr:.1e}"}
            if history.val_loss:
                postfix["val"] = f"{history.val_loss[-1]:.3f}"
            bar.set_postfix(postfix, refresh=False)
        if not main:
            continue
        if val_data is not None and _due(done, cfg.eval_interval, cfg.max_steps):
            run_eval(done)
        if sample_fn is not None and _due(done, cfg.sample_interval, cfg.max_steps):
            with torch.random.fork_rng(devices=[]):
                result = sample_fn(model, done)
            model.train()
            history.samples.append({"step": done, **(result if isinstance(result, dict) else {"sample": result})})
        if cfg.checkpoint_dir is not None and (_due(done, cfg.checkpoint_interval, cfg.max_steps)
                                               or done == cfg.max_steps):
            save_checkpoint(checkpoint_path(cfg.checkpoint_dir, done), model, step=done,
                            optimizer=optimizer, train_config=cfg, history=history)
    bar.close()
    return history


def _due(done: int, interval: int, max_steps: int) -> bool:
    """Every ``interval`` steps and after the last one; never when ``interval`` is 0."""
    return interval > 0 and (done % interval == 0 or done == max_steps)


def checkpoint_path(checkpoint_dir: str | Path, step: int) -> Path:
    """Where `train` writes the checkpoint of ``step``: ``checkpoint_dir/step_000123.safetensors``."""
    return Path(checkpoint_dir) / f"step_{step:06d}.safetensors"
