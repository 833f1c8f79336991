"""PPO for a language model, piece by piece: rewards with a KL leash, values, GAE, clipped losses.

Taught in notebook 10 (RLHF).

The standard recipe (Ziegler et al. 2019, Stiennon et al. 2020, Ouyang et al. 2022; the
"N implementation details of RLHF with PPO", Huang et al. 2024), with every per-token tensor
``(batch, C)`` over the completion tokens of a ``sequences.Packed`` batch and ``mask`` its
real tokens:

1. **Rollout.** Sample replies (at temperature ``T``), score them with the reward model, and
   keep their log-probs under the policy (``old``) and the reference (the adapter disabled),
   and the value head's values, all at the same temperature ``T``.
2. **Rewards** (`per_token_rewards`): ``-beta * (log pi - log pi_ref)`` at every token (the KL
   leash, the k1 estimator of ``kl``), plus the reward model's score at the reply's last token,
   minus ``no_end_penalty`` there when the reply never produced its end token.
3. **Advantages** (`gae`): generalised advantage estimation with ``gamma`` and ``lam``, returns
   ``= advantages + values``; then the advantages are whitened over the batch's real tokens.
4. **Several epochs** on the rollout with ``old`` fixed: the clipped policy loss (`policy_loss`)
   keeps the new/old probability ratio within ``1 ± clip``; the clipped value loss
   (`value_loss`) does the same for the values. Logged: approximate KL (``0.5 * mean(log
   ratio ** 2)``, trl's), the clip fractions, and the entropy.

**Choices** (``rl_config.RLConfig``, a recipe's ``rl`` section): ``beta`` is fixed (an adaptive controller, Ziegler et al.'s, only
moves it towards a target KL; a fixed one is easier to read in a plot); ``gamma = 1`` (a reply
is one episode; there is nothing to discount) and ``lam = 0.95`` (trl's defaults). The value
head starts at zero (`ValueHead`): every first value is 0, so the first advantages are the
returns themselves, and no random head adds noise to them.
"""

from __future__ import annotations

import torch
from torch import nn

from tinyllm.rlhf.masked import masked_mean, masked_whiten
from tinyllm.rlhf.sequences import last_token_index


def per_token_rewards(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, mask: torch.Tensor,
                      scores: torch.Tensor, ended: torch.Tensor, beta: float,
                      no_end_penalty: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The reward of every completion token: ``-beta * KL`` everywhere, the score at the last.

    Args:
        logprobs, ref_logprobs: ``(batch, C)`` per-token log-probs of the sampled tokens under
            the policy and the reference.
        mask: ``(batch, C)`` bool, True at real completion tokens (each row at least one).
        scores: ``(batch,)`` reward-model scores; ``ended``: ``(batch,)`` bool, the reply
            produced its end token (a reply cut at ``max_new_tokens`` did not).

    Returns:
        ``(rewards, kl_rewards)``, ``(batch, C)`` each, 0 at pads: the total, and the KL part
        alone ``-beta * (logprobs - ref_logprobs)``.
    """
    mask = mask.bool()
    if not bool(mask.any(-1).all()):
        raise ValueError("every reply needs at least one completion token to carry its score")
    kl_rewards = -beta * (logprobs - ref_logprobs) * mask
    last = last_token_index(mask)
    final = scores - no_end_penalty * (~ended.bool()).to(scores.dtype)
    rewards = kl_rewards.clone()
    rewards[torch.arange(len(rewards)), last] += final
    return rewards, kl_rewards


class ValueHead(nn.Module):
    """``Linear(d_model, 1)`` on the policy's hidden states: ``(batch, C, d_model)`` ->
    ``(batch, C)``, the expected return from each state. Zero-initialised (module docstring)."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d_model, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden).squeeze(-1)


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) on ``(batch, C)`` tensors.

    ``delta_t = r_t + gamma * V_{t+1} - V_t`` and ``A_t = delta_t + gamma * lam * A_{t+1}``,
    where a step after the reply's last real token is terminal (``V = A = 0``). One backward
    pass over the columns serves every row; the real tokens of a row must be contiguous.

    Returns:
        ``(advantages, returns)``, ``(batch, C)`` each, 0 at pads; ``returns = A + V`` (the
        value head's target).
    """
    mask = mask.to(rewards.dtype)
    values = values * mask
    advantages = torch.zeros_like(rewards)
    next_value = torch.zeros_like(rewards[:, 0])
    next_advantage = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        advantages[:, t] = (delta + gamma * lam * next_advantage) * mask[:, t]
        # A pad column passes zeros back, so the last real token sees a terminal state.
        next_value, next_advantage = values[:, t], advantages[:, t]
    return advantages, (advantages + values) * mask


def whiten_advantages(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Advantages with mean 0 and variance 1 over the batch's real tokens, 0 at pads."""
    return masked_whiten(advantages, mask)


def policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, clip: float = 0.2) -> tuple[torch.Tensor, dict[str, float]]:
    """The clipped surrogate, ``mean(max(-A * ratio, -A * clamp(ratio, 1 - clip, 1 + clip)))``
    over real tokens; ``ratio = exp(logprobs - old_logprobs)``, ``(batch, C)`` each.

    Returns ``(loss, stats)``: ``clip_fraction`` (share of tokens where the clipped term won)
    and ``approx_kl`` (`approx_kl` of new against old).
    """
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip, 1 + clip)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    stats = {"clip_fraction": float(masked_mean((clipped > unclipped).float(), mask)),
             "approx_kl": float(approx_kl(logprobs.detach(), old_logprobs, mask))}
    return loss, stats


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, clip: float = 0.2) -> tuple[torch.Tensor, float]:
    """``0.5 * mean(max((V - R)^2, (V_clipped - R)^2))`` over real tokens, with ``V_clipped``
    kept within ``old_values ± clip``; ``(batch, C)`` each. Returns ``(loss, clip_fraction)``."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip, clip)
    unclipped_loss = (values - returns) ** 2
    clipped_loss = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped_loss, clipped_loss), mask)
    return loss, float(masked_mean((clipped_loss > unclipped_loss).float(), mask))


def approx_kl(logprobs: torch.Tensor, old_logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``0.5 * mean((log pi - log pi_old)^2)`` over real tokens: how far an update moved the
    policy from the one that sampled (trl's ``approxkl``); a scalar."""
    return 0.5 * masked_mean((logprobs - old_logprobs) ** 2, mask)
