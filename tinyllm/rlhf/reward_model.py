"""A reward model: the SFT backbone with a scalar head, trained on preference pairs.

Taught in notebook 10 (RLHF).

`RewardModel` runs a ``TinyLLM`` up to its final norm (``sequences.hidden_states``) and maps the
hidden state of each row's **last real token** to one number with a linear ``score`` head (the
name transformers' ``...ForSequenceClassification`` uses). The last real token, not the last
column: with right padding the last column of a short reply is a pad, which has seen nothing
the reply said after it; `last_token_index` finds it from the attention mask, for left,
right or both-sided padding.

Trained with the Bradley-Terry loss ``-log sigmoid(r_chosen - r_rejected)`` (Ouyang et al.
2022; trl's ``RewardTrainer``): only differences of rewards matter, so the reward's offset and
scale are free. `RewardModel.normalise` fixes them after training on SFT samples (mean 0,
standard deviation 1), so that PPO's KL coefficient means the same thing for any reward model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tinyllm.checkpoint_file import save_atomically
from tinyllm.config import ModelConfig
from tinyllm.model import TinyLLM
from tinyllm.rlhf.sequences import Packed, hidden_states, last_token_index


class RewardModel(nn.Module):
    """``backbone`` (a ``TinyLLM``, its ``lm_head`` unused) + ``score``: ``Linear(d_model, 1)``.

    The head starts small and random, ``N(0, 1 / (d_model + 1))`` as in Stiennon et al. (2020),
    so the first rewards are near 0 and no direction is preferred. ``mean`` and ``std`` (buffers,
    saved with the weights) are the normalisation `normalise` sets; before it they are 0 and 1.
    """

    def __init__(self, backbone: TinyLLM) -> None:
        super().__init__()
        self.backbone = backbone
        d_model = backbone.config.d_model
        self.score = nn.Linear(d_model, 1)
        nn.init.normal_(self.score.weight, std=1 / math.sqrt(d_model + 1))
        nn.init.zeros_(self.score.bias)
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))

    def raw(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
            positions: torch.Tensor | None = None) -> torch.Tensor:
        """Unnormalised rewards, ``(batch,)``, for ``ids`` ``(batch, seq)``.

        ``attention_mask`` ``(batch, seq)`` marks real tokens (default: all); ``positions``
        default to counting from each row's first real token.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(ids, dtype=torch.bool)
        if positions is None:
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        hidden = hidden_states(self.backbone, ids, attention_mask, positions)
        last = last_token_index(attention_mask)
        return self.score(hidden[torch.arange(len(ids), device=ids.device), last]).squeeze(-1)

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                positions: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised rewards ``(raw - mean) / std``: ``(batch,)``."""
        return (self.raw(ids, attention_mask, positions) - self.mean) / self.std

    def score_packed(self, batch: Packed) -> torch.Tensor:
        """Normalised rewards of a `sequences.Packed` batch of prompt + completion: ``(batch,)``."""
        return self(batch.ids, batch.attention_mask, batch.positions)

    @torch.no_grad()
    def normalise(self, raw_rewards: torch.Tensor) -> None:
        """Set ``mean`` and ``std`` from ``raw_rewards`` ``(n,)`` (the `raw` rewards of SFT
        samples), so that those samples score mean 0 and standard deviation 1."""
        if raw_rewards.numel() < 2:
            raise ValueError("need at least 2 rewards to normalise; score more SFT samples")
        self.mean.copy_(raw_rewards.mean())
        self.std.copy_(raw_rewards.std().clamp(min=1e-8))


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """``mean(-log sigmoid(r_chosen - r_rejected))`` over the pairs, ``(n,)`` each -> scalar.

    The negative log-likelihood of the labels under Bradley-Terry: P(chosen preferred) =
    ``sigmoid(r_chosen - r_rejected)``. ``logsigmoid`` stays finite for large differences.
    """
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def pair_accuracy(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> float:
    """The share of pairs where the chosen reply gets the higher reward (a tie counts as wrong,
    as in trl's ``RewardTrainer``)."""
    return float((r_chosen > r_rejected).float().mean())


def save_reward_model(path: str | Path, model: RewardModel, metadata: dict[str, str] | None = None) -> Path:
    """Write ``model`` to ``path`` (safetensors, atomically): the backbone's weights in float16
    (half the size, as ``data/checkpoints/`` ships models), the head and the normalisation in
    float32, and the backbone's ``ModelConfig`` as JSON metadata. `load_reward_model` reads it."""
    # The reward model never reads the backbone's lm_head (tied to the embedding here, and
    # safetensors refuses shared tensors): it is left out.
    tensors = {k: (v.half() if k.startswith("backbone.") else v.float()).detach().contiguous()
               for k, v in model.state_dict().items() if not k.startswith("backbone.lm_head.")}
    config = json.dumps(dataclasses.asdict(model.backbone.config))
    return save_atomically(Path(path), tensors, {**(metadata or {}), "model_config": config})


def load_reward_model(path: str | Path) -> RewardModel:
    """A `RewardModel` from a file `save_reward_model` wrote, in float32, in eval mode."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no reward model at {path}; train one with "
                                "`python -m tinyllm train --recipe reward-model`")
    with safe_open(path, "pt") as f:
        metadata = f.metadata() or {}
        if "model_config" not in metadata:
            raise ValueError(f"{path} is not a reward model written by save_reward_model "
                             "(no model_config in its metadata)")
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    model = RewardModel(TinyLLM(ModelConfig(**json.loads(metadata["model_config"]))))
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if unexpected or [k for k in missing if not k.startswith("backbone.lm_head.")]:
        raise ValueError(f"{path} does not match a RewardModel: missing {missing}, unexpected {unexpected}")
    return model.eval()
