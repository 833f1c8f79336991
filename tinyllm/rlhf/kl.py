"""Per-token estimates of KL(policy || reference) from the sampled tokens' log-probs.

Taught in notebook 10 (RLHF).

With ``r = log pi_ref(x) - log pi(x)`` for a token ``x`` sampled from the policy ``pi``
(Schulman, "Approximating KL divergence", 2020):

- ``k1 = -r = log pi(x) - log pi_ref(x)``: unbiased, but a single token can be negative. PPO's
  per-token penalty ``-beta * k1`` uses it (summed over a reply it is the sequence's log ratio).
- ``k3 = exp(r) - r - 1``: unbiased as well, and never negative (``e^r >= 1 + r``), with lower
  variance when the two are close. GRPO's KL term uses it (as trl's GRPO trainer does).

Both are ``(batch, C)`` -> ``(batch, C)``; mask them before averaging (``masked.masked_mean``).
"""

from __future__ import annotations

import torch


def kl_k1(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """``log pi - log pi_ref`` per token."""
    return logprobs - ref_logprobs


def kl_k3(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """``exp(log pi_ref - log pi) - (log pi_ref - log pi) - 1`` per token, >= 0."""
    r = ref_logprobs - logprobs
    return torch.exp(r) - r - 1
