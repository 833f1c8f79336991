"""The optimizer side of pretraining: AdamW with weight-decay groups, and the learning-rate schedule.

Taught in notebook 07 (pretraining).

Two pure pieces, kept apart from the loop so a notebook can look at each on its own:

- ``param_groups`` decides which parameters get weight decay;
- ``lr_at`` is the learning rate at a step: linear warmup, then a cosine down to a floor.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tinyllm.train_config import TrainConfig


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split the parameters into a decayed and a non-decayed group for ``torch.optim.AdamW``.

    Only the weight matrices of ``nn.Linear`` layers are decayed. Weight decay pulls every
    value towards 0 on every step, which is a sensible prior for a matrix that mixes features
    (it keeps their norms, and so the logits, from growing without bound), but not for:

    - norm gains (RMSNorm/LayerNorm weights): their natural value is 1, not 0, and decay would
      keep shrinking the signal each block passes on;
    - biases: a single offset per feature, with few parameters and nothing to over-fit;
    - embedding tables: each row is updated only when its token appears, while decay shrinks
      every row on every step, so rare tokens would fade towards 0 between their visits.

    A tied output head (``lm_head.weight is embed_tokens.weight``) is one tensor; it counts as
    an embedding, so it is not decayed.

    Returns:
        ``[{"params": decayed, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]``,
        each parameter in exactly one group, in ``model.parameters()`` order.
    """
    no_decay = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)} - no_decay
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if id(p) in decay], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in decay], "weight_decay": 0.0},
    ]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """``AdamW`` over `param_groups`, with the betas, eps and weight decay of ``cfg``.

    The learning rate is set by the loop on every step (see `lr_at`), so the ``lr`` given here
    is only the starting value.
    """
    return torch.optim.AdamW(
        param_groups(model, cfg.weight_decay),
        lr=lr_at(0, cfg),
        betas=(cfg.beta1, cfg.beta2),
        eps=cfg.eps,
        # The for-each kernels are PyTorch's CPU default; name them so every run uses the same
        # arithmetic (resuming must be bit-exact).
        foreach=True,
    )


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The learning rate for optimizer step ``step`` (0-based): linear warmup, then cosine decay.

    - steps ``0 .. warmup_steps-1``: rises linearly, ``lr * (step + 1) / warmup_steps``, so the
      first update is already small but not zero (Adam's early updates are noisy, because its
      moment estimates are built from only a few gradients);
    - steps ``warmup_steps .. max_steps``: half a cosine from ``lr`` down to ``min_lr``;
    - after ``max_steps``: stays at ``min_lr``.

    A pure function of ``(step, cfg)``, so the schedule can be plotted without training.
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    decay_steps = max(1, cfg.max_steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / decay_steps)
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)
