"""The settings of the policy-optimising recipes (DPO, PPO, GRPO): a recipe's ``rl`` section.

Taught in notebook 10 (RLHF). Any field can be overridden like the others:
``python -m tinyllm train --recipe grpo --set rl.beta=0.0 --set group_size=4``.

The model, optimiser and data sizes stay where every recipe keeps them (``TrainConfig``:
``lr``, ``max_steps``, ``batch_size`` = requests per step, ``lora_r``; ``DataSpec``: ``lang``,
``n_train`` = the pool of training requests per language, ``seq_len`` = the longest reply).
"""

from __future__ import annotations

from dataclasses import dataclass

#: What a policy is optimised against (`RLConfig.reward`).
REWARDS = ("true", "reward-model", "hero-count")


@dataclass(frozen=True)
class RLConfig:
    """Hyper-parameters of DPO, PPO and GRPO (each reads the ones it needs).

    Attributes:
        beta: the KL leash's strength. PPO: the per-token penalty ``-beta * k1``; GRPO: the
            weight of the k3 term (0: none); DPO: the ``beta`` of its loss (0.1 in the paper).
            Fixed, not adaptive: a fixed value is easier to read in a plot, and an adaptive
            controller (Ziegler et al. 2019) only moves it towards a target KL.
        temperature: sampling *and* scoring temperature of the rollouts (the probabilities of
            the sampler are what the ratio and the KL are about). 0.7, the temperature the
            preference data was sampled at: at 1.0 the SFT model's grammar falls to 0.78.
        group_size: replies sampled per request (GRPO's ``G``; DPO's replies to pair up; PPO's
            replies per request in a rollout).
        epochs: optimisation passes over each rollout (PPO 4; GRPO 1, so its ratio is 1).
        mini_batches: PPO splits each rollout into this many mini-batches per epoch.
        clip: ratio clip range (PPO, GRPO); ``clip_value``: PPO's value clip range.
        value_coef: weight of PPO's value loss.
        gamma, lam: GAE's discount and trace decay (1.0 and 0.95: a reply is one episode).
        no_end_penalty: subtracted from the reward of a reply that never produced ``<|end|>``.
        reward: ``"true"`` (the labeler's hidden score: verifiable, GRPO), ``"reward-model"``
            (the learned one, PPO) or ``"hero-count"`` (a deliberately flawed proxy that counts
            the hero's name, to show reward hacking).
    """

    beta: float = 0.05
    temperature: float = 0.7
    group_size: int = 4
    epochs: int = 1
    mini_batches: int = 1
    clip: float = 0.2
    clip_value: float = 0.2
    value_coef: float = 0.1
    gamma: float = 1.0
    lam: float = 0.95
    no_end_penalty: float = 1.0
    reward: str = "true"

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ValueError(f"rl.reward must be one of {REWARDS}, got {self.reward!r}")
        if self.beta < 0 or self.temperature <= 0:
            raise ValueError(f"need beta >= 0 and temperature > 0, got beta={self.beta}, "
                             f"temperature={self.temperature}")
        if self.group_size < 1 or self.epochs < 1 or self.mini_batches < 1:
            raise ValueError("group_size, epochs and mini_batches must each be at least 1")
