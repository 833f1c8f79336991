"""GRPO: PPO without a value model, the baseline being the other samples of the same prompt.

Taught in notebook 10 (RLHF).

Group Relative Policy Optimisation (Shao et al. 2024, DeepSeekMath) samples ``G`` replies per
prompt, scores each once (here with the labeler's true score: a *verifiable* reward, no learned
model to hack), and gives every token of reply ``i`` the advantage

    A_i = (r_i - mean(r_group)) / (std(r_group) + eps)

`group_advantages` uses the **sample** standard deviation (Bessel's ``G - 1``, ``torch.std``'s
default), as trl's ``GRPOTrainer`` does (tested equal). With ``G`` fixed, the
population one differs only by the constant ``sqrt((G - 1) / G)``, a fixed scale of the loss
that Adam's normalised steps all but ignore; matching trl keeps the numbers comparable. A group
whose replies all score the same gets advantage 0: it teaches nothing, and ``eps`` keeps it from
dividing by zero.

`grpo_loss` is PPO's clipped ratio loss with these advantages, plus optionally
``beta * KL(policy || reference)`` per token (the k3 estimator of ``kl``), and it is
**normalised per sequence, then over the batch** (trl's ``loss_type="grpo"``): each reply's
token losses are averaged, then the replies. Every reply weighs the same whatever its length;
the known price (Liu et al. 2025, "Dr. GRPO") is that a long bad reply is penalised less per
token than a short one. ``normalisation="token"`` (trl's ``"bnpo"``: one mean over all tokens
of the batch) is offered for comparison.
"""

from __future__ import annotations

import torch

from tinyllm.rlhf.kl import kl_k3
from tinyllm.rlhf.masked import masked_mean

#: trl's default epsilon in the advantage's denominator.
EPS = 1e-4


def group_advantages(rewards: torch.Tensor, group_size: int, eps: float = EPS) -> torch.Tensor:
    """``(r - group mean) / (group sample std + eps)``; ``rewards`` ``(n_prompts * G,)``,
    prompt-major (the ``G`` replies of one prompt next to each other) -> ``(n_prompts * G,)``."""
    if group_size < 2:
        raise ValueError(f"group_size must be at least 2 (a group of one has no baseline), got {group_size}")
    if rewards.dim() != 1 or len(rewards) % group_size:
        raise ValueError(f"rewards must be (n_prompts * group_size,), got shape {tuple(rewards.shape)} "
                         f"with group_size={group_size}")
    groups = rewards.view(-1, group_size)
    mean = groups.mean(dim=1, keepdim=True)
    std = groups.std(dim=1, keepdim=True)  # unbiased: divides by G - 1
    return ((groups - mean) / (std + eps)).view(-1)


def grpo_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
              mask: torch.Tensor, clip: float = 0.2, beta: float = 0.0,
              ref_logprobs: torch.Tensor | None = None, normalisation: str = "sequence"
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """The GRPO loss.

    Args:
        logprobs: ``(batch, C)`` the policy's per-token log-probs (with gradients).
        old_logprobs: ``(batch, C)`` those of the policy that sampled (fixed).
        advantages: ``(batch,)`` from `group_advantages` (each token of a reply gets its reply's).
        mask: ``(batch, C)`` real completion tokens.
        clip: ratio clip range; ``beta``: weight of the KL term (0: none, ``ref_logprobs``
            unused); ``ref_logprobs``: ``(batch, C)`` the reference's per-token log-probs.
        normalisation: ``"sequence"`` (mean per reply, then over replies) or ``"token"``.

    Returns:
        ``(loss, stats)``: ``clip_fraction`` (share of tokens whose ratio was clipped in the
        direction of its advantage) and ``kl`` (mean k3 over real tokens; 0 when ``beta`` is 0, even with a reference).
    """
    if normalisation not in ("sequence", "token"):
        raise ValueError(f"normalisation must be 'sequence' or 'token', got {normalisation!r}")
    mask = mask.to(logprobs.dtype)
    ratio = torch.exp(logprobs - old_logprobs)
    adv = advantages[:, None]
    per_token = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    kl = torch.zeros_like(per_token)
    if beta != 0.0:
        if ref_logprobs is None:
            raise ValueError("beta != 0 needs ref_logprobs (the reference model's log-probs)")
        kl = kl_k3(logprobs, ref_logprobs)
        per_token = per_token + beta * kl
    if normalisation == "sequence":
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    else:
        loss = masked_mean(per_token, mask)
    clipped = ((ratio < 1 - clip) & (adv < 0)) | ((ratio > 1 + clip) & (adv > 0))
    return loss, {"clip_fraction": float(masked_mean(clipped.float(), mask)),
                  "kl": float(masked_mean(kl.detach(), mask))}
