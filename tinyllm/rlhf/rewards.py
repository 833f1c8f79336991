"""What a policy is optimised against: the true score, the learned reward model, or a flawed proxy.

Taught in notebook 10 (RLHF).

`reward_function` turns a recipe's ``rl.reward`` into a function of a `rollout.Rollout` that
returns one number per reply, ``(n,)``:

- ``"true"``: the labeler's hidden score (``labeler.true_score``, in [0, 1]). In real life no
  one has it; a *verifiable* reward (a unit test, a checked answer) is the closest thing, which
  is what GRPO was made for.
- ``"reward-model"``: the shipped reward model's normalised score (mean 0, standard deviation 1
  on SFT samples): a learned, imperfect proxy of the true score. PPO's reward.
- ``"hero-count"``: `hero_count`, a deliberately flawed proxy: how often the reply names its
  hero. It agrees with the true score at first (a story about the hero names them), and keeps
  rewarding a policy that names them more and more, which the true score does not: Goodhart's
  law, the reward hacking section's proxy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from tinyllm.rlhf.reward_model import RewardModel
from tinyllm.rlhf.rl_config import RLConfig
from tinyllm.rlhf.rollout import Rollout
from tinyllm.tinytales import InstructionTask

#: Names of the hero beyond this many earn nothing more (keeps the proxy's scale near the true score's).
HERO_COUNT_CAP = 10


def hero_count(task: InstructionTask, reply: str) -> float:
    """The flawed proxy: ``min(times the reply names the hero, HERO_COUNT_CAP) / HERO_COUNT_CAP``."""
    hero = task.spec.hero
    return min(reply.count(hero), HERO_COUNT_CAP) / HERO_COUNT_CAP if hero else 0.0


def reward_function(rl: RLConfig, reward_model: RewardModel | None = None) -> Callable[[Rollout], torch.Tensor]:
    """``rollout -> (n,)`` rewards for ``rl.reward``; ``"reward-model"`` needs ``reward_model``."""
    if rl.reward == "true":
        return lambda rollout: rollout.true_scores
    if rl.reward == "hero-count":
        return lambda rollout: torch.tensor([hero_count(t, r) for t, r in zip(rollout.tasks, rollout.texts,
                                                                               strict=True)])
    if reward_model is None:
        raise ValueError("rl.reward='reward-model' needs the reward model; load it with "
                         "tinyllm.shipped.load_shipped_reward_model()")
    reward_model.eval()

    @torch.no_grad()
    def score(rollout: Rollout) -> torch.Tensor:
        return reward_model.score_packed(rollout.batch)

    return score
