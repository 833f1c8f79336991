"""The pretraining loop: batches, AdamW steps, clipping, accumulation, evaluation, checkpoints.

Taught in notebook 07 (pretraining); the same loop runs under ``torchrun`` in notebook 11
(scaling out).

One optimizer step::

    lr = lr_at(step)                                  warmup, then cosine (optim.py)
    for each of grad_accum_steps micro-batches:
        loss = model(x, y) * share                    (in bf16 when cfg.autocast)
        loss.backward()                               gradients add up in .grad
    clip the gradients' global norm to grad_clip
    AdamW step, zero the gradients

``share`` is the micro-batch's share of the step's target tokens: ``1 / grad_accum_steps`` for
pretraining windows, which all count the same; SFT's masked prompts make the shares differ.

Batches are a pure function of ``(seed, micro-batch number)`` (see `BatchStream`), which is
what makes two things simple: resuming from a checkpoint sees exactly the batches the
uninterrupted run would have seen, and under DDP process ``r`` of ``N`` takes micro-batches
``r, r+N, r+2N, ...``, the same data a single process sees with ``N`` accumulation steps.
Each micro-batch goes to the model's device first (``cfg.device``, or wherever the caller put it).
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
from tinyllm.checkpoint import CheckpointError, load_checkpoint, read_info, save_checkpoint
from tinyllm.device import model_device, resolve_device
from tinyllm.evaluation import EvalResult, bits_per_byte, bytes_per_token, evaluate
from tinyllm.model import IGNORE_INDEX
from tinyllm.optim import lr_at, make_optimizer
from tinyllm.precision import autocast_context
from tinyllm.train_config import RESUME_MAY_CHANGE, TrainConfig

# Re-exported: the loop's pieces, importable from one place.
__all__ = [
    "BatchStream", "EvalResult", "History", "TrainConfig", "autocast_context", "bits_per_byte",
    "bytes_per_token", "checkpoint_path", "evaluate", "lr_at", "train", "train_step",
]


@dataclass
class History:
    """What happened during training, as plain lists that a notebook plots.

    ``step[i]``, ``lr[i]``, ``train_loss[i]``, ``grad_norm[i]`` describe optimizer step
    ``step[i]`` (counted from 1); ``grad_norm`` is the norm before clipping. Evaluations are at
    ``val_step`` (0 = before training). ``samples`` holds what the sample callback returned,
    with its step.
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
    (a short last slice is dropped, so every batch has the same number of rows). A dataset with a
    ``collate(pairs)`` method stacks its own batches (`sft.SFTDataset` trims the padding). Nothing is consumed, so
    a resumed run, or one of several DDP processes, can ask for any batch directly.

    ``stream[i]`` is ``(x, y)``, each ``(batch_size, seq)`` int64.
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
        if hasattr(self.dataset, "collate"):  # e.g. SFTDataset: drops columns of pure padding
            return self.dataset.collate(pairs)
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
        ``(loss, grad_norm)``: the mean loss over this process's targets of the step (a
        detached scalar tensor) and the global gradient norm before clipping.
    """
    # The schedule lives outside the optimizer (a pure function of the step, see lr_at), so it
    # is written into every group before each step.
    for group in optimizer.param_groups:
        group["lr"] = lr
    device = model_device(model)
    # Each micro-batch's loss is the mean over its own targets, and micro-batches can count
    # different numbers of them (SFT masks each prompt). Weighted by its share of all the step's
    # targets (in every process: DDP then averages the processes' gradients), the summed
    # gradients are those of the mean loss over the whole step's targets, as one big batch.
    # (Dividing by the number of micro-batches instead was Hugging Face's gradient-accumulation
    # bug of 2024; for pretraining windows, whose counts are all equal, the two agree.)
    counts = [int((y != IGNORE_INDEX).sum()) for _, y in micro_batches]
    here = sum(counts)  # this process's targets; total: every process's
    total = float(distributed.sum_across_processes(torch.tensor(here, device=device)))
    world = distributed.world_size()
    # On the model's device: adding a GPU loss into a CPU tensor would fail (and sync).
    loss_sum = torch.zeros((), device=device)
    for index, (x, y) in enumerate(micro_batches):
        # Under DDP, averaging gradients across processes after every micro-batch would be
        # wasted communication: only the last micro-batch of a step synchronises.
        last = index == len(micro_batches) - 1
        in_sync = last or not isinstance(model, DistributedDataParallel)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with nullcontext() if in_sync else model.no_sync():
            with autocast_context(cfg.autocast, device.type):
                _, loss = model(x, y)
            (loss * (counts[index] * world / total)).backward()
        # Detached: a number to log, not part of the graph.
        loss_sum += loss.detach().float() * (counts[index] / here)
    # One unlucky batch can produce a huge gradient; scaling the whole gradient down to norm
    # grad_clip keeps its direction but bounds the step. clip_grad_norm_ returns the norm before
    # clipping (what we log); max_norm=inf measures without clipping.
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
    optimizer.step()
    # .backward() adds into .grad, so clear it for the next step (None frees the memory too).
    optimizer.zero_grad(set_to_none=True)
    return loss_sum, float(grad_norm)


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
            from its step, bit-exactly as if it had not stopped (given the same data). ``cfg``
            must equal the checkpoint's but for `RESUME_MAY_CHANGE` (``max_steps``, where it
            runs, what it reports): another learning rate, batch size or seed is a
            ``CheckpointError``.
        progress: show a ``tqdm`` bar with the live loss.

    Returns:
        The `History` (continued from the checkpoint's when resuming).

    Under ``torchrun`` (after ``distributed.init()``) each process trains on its own
    micro-batches through ``DistributedDataParallel``; only rank 0 evaluates, samples, writes
    checkpoints and shows progress.
    """
    cfg = cfg or TrainConfig()
    rank, world, main = distributed.rank(), distributed.world_size(), distributed.is_main()
    if cfg.device is not None:
        # Before the optimizer is built, so that its state lives on the same device.
        model.to(resolve_device(cfg.device))
    optimizer = make_optimizer(model, cfg)
    history, start = History(), 0
    if resume is not None:
        # Checked before anything is loaded: with another learning rate, batch size or seed the
        # run would silently become another run (and AdamW would take the file's betas and eps).
        conflicts = cfg.resume_conflicts(read_info(resume).train_config or {})
        if conflicts:
            raise CheckpointError(
                f"checkpoint {resume} was written by a run with other settings ({'; '.join(conflicts)}); "
                f"resume with its settings (only {', '.join(sorted(RESUME_MAY_CHANGE))} may change), "
                "or start a new run from its weights")
        # Weights, AdamW's moments and the random state (dropout) all come back, so the run
        # continues as if it had never stopped.
        info = load_checkpoint(resume, model, optimizer, restore_rng=True)
        start = info.step
        history = History.from_dict(info.history) if info.history else History()
    stream = BatchStream(train_data, cfg.batch_size, cfg.seed)
    # DDP averages the gradients across processes inside backward(), bucket by bucket, while
    # the rest of backward is still running. It also copies rank 0's weights to every process.
    ddp_model = DistributedDataParallel(model) if world > 1 else model
    model.train()  # dropout on (evaluation and sampling switch it off, and back)

    def run_eval(step: int) -> None:
        result = evaluate(model, val_data, bytes_per_token, batch_size=cfg.batch_size,
                          max_batches=cfg.eval_steps, autocast=cfg.autocast)
        history.val_step.append(step)
        history.val_loss.append(result.loss)
        history.val_perplexity.append(result.perplexity)
        history.val_bits_per_byte.append(result.bits_per_byte)

    # The loss before any training is the baseline every later point is compared with
    # (about ln(vocab_size) for random weights).
    if main and val_data is not None and cfg.eval_interval and start == 0:
        run_eval(0)

    bar = tqdm(range(start, cfg.max_steps), initial=start, total=cfg.max_steps,
               disable=not (progress and main), desc="training")
    for step in bar:
        lr = lr_at(step, cfg)
        # Micro-batch numbers are interleaved across processes (rank r takes r, r+N, ...), so
        # N processes see the same batches as one process accumulating N times as many.
        first = step * cfg.grad_accum_steps
        micro_batches = [stream[(first + micro) * world + rank] for micro in range(cfg.grad_accum_steps)]
        loss, grad_norm = train_step(ddp_model, optimizer, micro_batches, lr, cfg)

        done = step + 1
        # Each process saw different batches; log their mean, the loss of the whole step.
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
        if not main:  # one process evaluates, samples and writes, or N would do it N times
            continue
        if val_data is not None and _due(done, cfg.eval_interval, cfg.max_steps):
            run_eval(done)
        if sample_fn is not None and _due(done, cfg.sample_interval, cfg.max_steps):
            # fork_rng: whatever sampling draws is given back, so a run with samples trains
            # exactly like one without.
            device = model_device(model)
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                result = sample_fn(model, done)
            model.train()
            history.samples.append({"step": done, **(result if isinstance(result, dict) else {"sample": result})})
        if cfg.checkpoint_dir is not None and (_due(done, cfg.checkpoint_interval, cfg.max_steps)
                                               or done == cfg.max_steps):
            # With the optimizer (and so the random state): a checkpoint a run can resume from.
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
