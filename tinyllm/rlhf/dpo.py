"""Direct Preference Optimisation: learn from preference pairs without a reward model.

Taught in notebook 10 (RLHF).

Rafailov et al. (2023) show that the policy maximising "reward - beta * KL(policy || ref)" is
``pi* ∝ pi_ref * exp(r / beta)``, so a reward can be read off any policy as
``r(x, y) = beta * log(pi(y|x) / pi_ref(y|x))`` (plus a term that cancels in a pair). Put that
into the Bradley-Terry loss and the reward model disappears:

    loss = -log sigmoid(beta * ((log pi_c - log pi_ref,c) - (log pi_r - log pi_ref,r)))

with ``log pi`` each completion's *summed* token log-probabilities (``sequences``). The
*implicit rewards* ``beta * (log pi - log pi_ref)`` of the chosen and rejected replies are
what to log: their gap is what the loss pushes up. This is trl's ``DPOTrainer`` with
``loss_type="sigmoid"`` (tested equal).

With a LoRA policy the reference needs no second model: it is the same model with its adapter
switched off (``lora.disable_adapter``), which `reference_logprobs` does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinyllm.lora import disable_adapter
from tinyllm.model import TinyLLM
from tinyllm.rlhf.sequences import Packed, completion_logprobs, sequence_logprobs

#: The default beta of the DPO paper and trl.
BETA = 0.1


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = BETA
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The DPO loss from summed completion log-probs, each ``(n,)``.

    Returns:
        ``(loss, chosen_rewards, rejected_rewards)``: the mean loss (a scalar), and the implicit
        rewards ``beta * (log pi - log pi_ref)``, ``(n,)`` each, detached.
    """
    if beta <= 0:
        raise ValueError(f"beta must be > 0 (it is the KL leash's strength), got {beta}")
    chosen_logratio = policy_chosen - ref_chosen
    rejected_logratio = policy_rejected - ref_rejected
    loss = -F.logsigmoid(beta * (chosen_logratio - rejected_logratio)).mean()
    return loss, beta * chosen_logratio.detach(), beta * rejected_logratio.detach()


def summed_logprobs(model: TinyLLM, batch: Packed) -> torch.Tensor:
    """Each row's completion log-probability, ``(batch,)``."""
    return sequence_logprobs(completion_logprobs(model, batch), batch.completion_mask)


@torch.no_grad()
def reference_logprobs(model: TinyLLM, batch: Packed) -> torch.Tensor:
    """`summed_logprobs` of the model with its LoRA adapter switched off: ``(batch,)``."""
    with disable_adapter(model):
        return summed_logprobs(model, batch)


def dpo_batch_loss(model: TinyLLM, chosen: Packed, rejected: Packed, beta: float = BETA,
                   ref: tuple[torch.Tensor, torch.Tensor] | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`dpo_loss` of a LoRA policy on one batch of pairs (``chosen`` and ``rejected`` packed on
    the same prompts). ``ref``: the reference's summed log-probs ``(chosen, rejected)`` if
    precomputed (they never change), else computed with the adapter disabled."""
    if ref is None:
        ref = reference_logprobs(model, chosen), reference_logprobs(model, rejected)
    return dpo_loss(summed_logprobs(model, chosen), summed_logprobs(model, rejected), *ref, beta=beta)
