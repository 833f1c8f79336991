"""The ``reward`` trainer: a reward model from the SFT model's own samples, labelled by the labeler.

Taught in notebook 10 (RLHF); run by ``python -m tinyllm train --recipe reward-model``.

The data is `preferences.sample_replies`: ``SAMPLES_PER_PROMPT`` replies to each of the recipe's
``rlhf_tasks`` (``data.n_train`` requests per language), sampled at ``SAMPLE_TEMPERATURE``, every
two distinct replies of one request labelled by ``labeler.prefer`` at ``LABEL_TEMPERATURE``
(the same pairs and labels as `preferences.label_pairs`).

**Batches are requests, not pairs** (as in InstructGPT, Ouyang et al. 2022, section 3.5): a step
scores the ``k`` replies of ``batch_size`` requests once each and takes the Bradley-Terry loss
over all their labelled pairs, ``k (k - 1) / 2`` of them per request. That is 3 times fewer
forward passes than scoring each pair's two replies (6 pairs from 4 replies instead of 12), and
a reply that is in several pairs gets one gradient that weighs them all, instead of being fitted
to each pair on its own.

The notes on which settings make the reward model learn are in ``docs/rlhf_probes.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tinyllm.chat import END
from tinyllm.data.prepare import RecipeError
from tinyllm.model import TinyLLM
from tinyllm.optim import lr_at
from tinyllm.rlhf.labeler import prefer
from tinyllm.rlhf.policy import adamw, optimizer_step, shuffled_batches
from tinyllm.rlhf.preferences import Samples, distinct_pairs, sample_replies
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.rlhf.reward_model import RewardModel, bradley_terry_loss, save_reward_model
from tinyllm.rlhf.sequences import pack
from tinyllm.tokenizers import BPETokenizer
from tinyllm.train import History
from tinyllm.train_config import TrainConfig

#: The labeler's Bradley-Terry temperature, the SFT sampling temperature and the replies per
#: request of the ``reward-model`` recipe's data (the longest reply is ``data.seq_len`` tokens).
LABEL_TEMPERATURE = 0.05
SAMPLE_TEMPERATURE = 0.7
SAMPLES_PER_PROMPT = 4


@dataclass(frozen=True)
class Group:
    """The ``k`` replies to one request and the labelled pairs among them.

    ``pairs`` holds ``(chosen, rejected)`` indices into ``completions`` (``0 .. k-1``).
    """

    prompt: tuple[int, ...]
    completions: tuple[tuple[int, ...], ...]
    scores: tuple[float, ...]  # the labeler's true scores, to measure against
    pairs: tuple[tuple[int, int], ...]


def groups_of(samples: Samples, k: int, label_temperature: float, seed: int = 0) -> list[Group]:
    """One `Group` per request of ``samples`` (``k`` rows each), its pairs labelled by
    ``labeler.prefer`` with a generator seeded with ``seed``: the pairs and labels of
    ``preferences.label_pairs(samples, k, label_temperature, seed)``, grouped by request."""
    if k < 2 or len(samples.tasks) % k:
        raise ValueError(f"need k >= 2 replies per request and a multiple of k rows; got k={k} "
                         f"and {len(samples.tasks)} rows (sample with the same k)")
    firsts, seconds = distinct_pairs(samples, k)
    generator = torch.Generator().manual_seed(seed)
    wins = prefer(samples.scores[firsts], samples.scores[seconds], label_temperature, generator)
    pairs: dict[int, list[tuple[int, int]]] = {}
    for i, j, i_wins in zip(firsts, seconds, wins.tolist(), strict=True):
        chosen, rejected = (i, j) if i_wins else (j, i)
        pairs.setdefault(i // k, []).append((chosen % k, rejected % k))
    return [Group(tuple(samples.prompt_ids[g * k]),
                  tuple(tuple(c) for c in samples.completion_ids[g * k:g * k + k]),
                  tuple(samples.scores[g * k:g * k + k].tolist()), tuple(pairs[g]))
            for g in sorted(pairs)]  # a request whose replies are all the same has no pair


def group_rewards(model: RewardModel, groups: Sequence[Group], pad_id: int = 0) -> torch.Tensor:
    """Raw rewards of every reply of ``groups``: ``(len(groups), k)``, one forward pass."""
    prompts = [g.prompt for g in groups for _ in g.completions]
    batch = pack(prompts, [c for g in groups for c in g.completions], pad_id)
    return model.raw(batch.ids, batch.attention_mask, batch.positions).view(len(groups), -1)


def group_loss(rewards: torch.Tensor, groups: Sequence[Group]) -> torch.Tensor:
    """The Bradley-Terry loss over all pairs of ``groups``; ``rewards`` ``(len(groups), k)``."""
    rows = torch.tensor([n for n, g in enumerate(groups) for _ in g.pairs])
    chosen = torch.tensor([c for g in groups for c, _ in g.pairs])
    rejected = torch.tensor([r for g in groups for _, r in g.pairs])
    return bradley_terry_loss(rewards[rows, chosen], rewards[rows, rejected])


@torch.no_grad()
def evaluate(model: RewardModel, groups: Sequence[Group], batch_size: int = 16) -> dict[str, float]:
    """Held-out figures: ``pair_accuracy`` against the labels, ``true_accuracy`` against the
    true-score ordering (pairs whose true scores differ), ``correlation`` (Pearson) of the raw
    reward with the true score over all replies, and the ``loss``."""
    was_training = model.training
    model.eval()
    rewards = torch.cat([group_rewards(model, groups[i:i + batch_size])
                         for i in range(0, len(groups), batch_size)])
    model.train(was_training)
    scores = torch.tensor([g.scores for g in groups])
    rows = torch.tensor([n for n, g in enumerate(groups) for _ in g.pairs])
    chosen = torch.tensor([c for g in groups for c, _ in g.pairs])
    rejected = torch.tensor([r for g in groups for _, r in g.pairs])
    margin = rewards[rows, chosen] - rewards[rows, rejected]
    true_margin = scores[rows, chosen] - scores[rows, rejected]
    differ = true_margin != 0
    r, s = rewards.flatten() - rewards.mean(), scores.flatten() - scores.mean()
    return {"loss": float(bradley_terry_loss(rewards[rows, chosen], rewards[rows, rejected])),
            "pair_accuracy": float((margin > 0).float().mean()),
            "true_accuracy": float(((margin > 0) == (true_margin > 0))[differ].float().mean()),
            "correlation": float((r * s).sum() / (r.norm() * s.norm()).clamp(min=1e-12))}


def train_reward_model(model: RewardModel, groups: Sequence[Group], cfg: TrainConfig,
                       pad_id: int = 0, progress: bool = False) -> list[float]:
    """``cfg.max_steps`` AdamW steps of ``cfg.batch_size`` requests each (the groups shuffled
    by ``cfg.seed``, epoch after epoch), learning rate `optim.lr_at`; trains the parameters
    that require grad (the head and the backbone, or the head and a LoRA adapter). Returns the
    loss of each step."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = adamw(params, cfg)
    batches = shuffled_batches(groups, cfg.batch_size, cfg.seed)
    losses = []
    model.train()
    for step in range(cfg.max_steps):
        batch = next(batches)
        loss = group_loss(group_rewards(model, batch, pad_id), batch)
        optimizer_step(optimizer, loss, cfg.grad_clip, lr_at(step, cfg))
        losses.append(float(loss.detach()))
        if progress and (step + 1) % cfg.log_interval == 0:
            print(f"reward: step {step + 1}/{cfg.max_steps} loss {losses[-1]:.3f}")
    return losses


#: A ``tinyllm.recipes.Recipe`` (not imported: ``recipes`` imports this module to register it).
Recipe = Any


def preference_groups(model: TinyLLM, tokenizer: BPETokenizer, recipe: Recipe, split: str) -> list[Group]:
    """The recipe's `Group`s of ``split``: ``data.n_train`` (``"train"``) or ``data.n_val``
    (``"eval"``) ``rlhf_tasks`` per language of ``data.lang`` (``"mix"``: English and Chinese),
    replies of at most ``data.seq_len`` new tokens."""
    data = recipe.data
    langs = ["en", "zh"] if data.lang == "mix" else [data.lang]
    n = data.n_train if split == "train" else data.n_val
    seed = data.corpus_seed + (0 if split == "train" else 1_000)
    groups = []
    model.eval()
    for lang in langs:
        samples = sample_replies(model, tokenizer, rlhf_tasks(n, lang, split, data.corpus_seed),
                                 SAMPLES_PER_PROMPT, temperature=SAMPLE_TEMPERATURE,
                                 max_new_tokens=data.seq_len, seed=seed)
        groups += groups_of(samples, SAMPLES_PER_PROMPT, LABEL_TEMPERATURE, seed)
    return groups


def reward_trainer(recipe: Recipe, model: TinyLLM, tokenizer: BPETokenizer | None, *,
                   resume: str | Path | None = None, progress: bool = True) -> tuple[BPETokenizer, History]:
    """The ``reward`` trainer: ``(tokenizer, history)``. ``model`` (the SFT model) becomes the
    backbone of a `RewardModel`, trained in place, normalised on the held-out SFT samples and
    written to ``<checkpoint_dir>/reward_model.safetensors``. ``history.samples`` holds the
    held-out figures of `evaluate` before (step 0) and after training."""
    if tokenizer is None or END not in tokenizer.special_tokens:
        raise RecipeError(f"recipe {recipe.name!r}: the reward trainer starts from a chat model; "
                          "give it start='shipped:sft'")
    if resume is not None or recipe.train.lora_r:
        raise RecipeError(f"recipe {recipe.name!r}: the reward trainer trains the whole backbone "
                          "and does not resume; set lora_r=0 and run it from the start")
    torch.manual_seed(recipe.train.seed)
    train_groups = preference_groups(model, tokenizer, recipe, "train")
    val_groups = preference_groups(model, tokenizer, recipe, "eval")
    reward_model = RewardModel(model)
    cfg = recipe.train
    before = evaluate(reward_model, val_groups)
    if progress:
        print(f"reward: {len(train_groups)} requests, {sum(len(g.pairs) for g in train_groups)} "
              f"pairs; held-out pair accuracy {before['pair_accuracy']:.3f} before training")
    losses = train_reward_model(reward_model, train_groups, cfg, progress=progress)
    after = evaluate(reward_model, val_groups)
    with torch.no_grad():
        reward_model.eval()
        reward_model.normalise(torch.cat([group_rewards(reward_model, val_groups[i:i + 16]).flatten()
                                          for i in range(0, len(val_groups), 16)]))
    if progress:
        print("reward: held-out " + ", ".join(f"{k} {v:.3f}" for k, v in after.items()))
    history = History(step=list(range(1, len(losses) + 1)), lr=[lr_at(s, cfg) for s in range(len(losses))],
                      train_loss=losses, val_step=[0, len(losses)], val_loss=[before["loss"], after["loss"]],
                      samples=[{"step": 0, **before}, {"step": len(losses), **after}])
    if cfg.checkpoint_dir is not None:
        path = Path(cfg.checkpoint_dir) / "reward_model.safetensors"
        save_reward_model(path, reward_model, {"recipe": recipe.name,
                                               **{k: f"{v:.4f}" for k, v in after.items()}})
        if progress:
            print(f"reward: written to {path}")
    return tokenizer, history
