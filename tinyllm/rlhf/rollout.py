"""A rollout: replies sampled from the policy, with everything PPO and GRPO read from them.

Taught in notebook 10 (RLHF).

The policy is the SFT model with a LoRA adapter (`policy.lora_policy`), so the *reference* (the
SFT model itself) is the same model with the adapter switched off: no second copy in memory.
`rollout` samples ``k`` replies per request at ``temperature`` and, without gradients, scores
every completion token under the policy that sampled (``old_logprobs``) and under the reference
(``ref_logprobs``), both **at the sampling temperature** (the sampler's own probabilities are
what the ratio and the KL are about). The per-token tensors are ``(n * k, C)`` over the
completion columns of one `sequences.Packed` batch, ``batch.completion_mask`` marking the real
tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tinyllm.lora import disable_adapter
from tinyllm.model import TinyLLM
from tinyllm.rlhf.preferences import sample_replies
from tinyllm.rlhf.sequences import Packed, completion_logprobs, pack
from tinyllm.tinytales import InstructionTask
from tinyllm.tokenizers import BPETokenizer


@dataclass
class Rollout:
    """``n * k`` sampled replies, request-major (the ``k`` replies of a request are adjacent).

    Attributes:
        tasks: ``(n * k,)`` the request of each row.
        texts: ``(n * k,)`` the decoded replies (without ``<|end|>``).
        batch: prompt + completion of every row.
        ended: ``(n * k,)`` bool, the reply produced ``<|end|>`` (else it ran out of tokens).
        true_scores: ``(n * k,)`` ``labeler.true_score`` of each reply (measured, and GRPO's reward).
        old_logprobs, ref_logprobs: ``(n * k, C)`` per-token log-probs under the sampling
            policy and the reference, 0 at pads.
    """

    tasks: list[InstructionTask]
    texts: list[str]
    batch: Packed
    ended: torch.Tensor
    true_scores: torch.Tensor
    old_logprobs: torch.Tensor
    ref_logprobs: torch.Tensor

    @property
    def mask(self) -> torch.Tensor:
        """``(n * k, C)`` bool, the real completion tokens."""
        return self.batch.completion_mask

    def kl(self) -> torch.Tensor:
        """``(n * k,)`` each reply's summed ``log pi - log pi_ref`` (an estimate of its KL)."""
        return ((self.old_logprobs - self.ref_logprobs) * self.mask).sum(-1)


@torch.no_grad()
def rollout(model: TinyLLM, tokenizer: BPETokenizer, tasks: Sequence[InstructionTask], k: int, *,
            temperature: float = 0.7, max_new_tokens: int = 192, seed: int = 0,
            batch_size: int = 128) -> Rollout:
    """Sample ``k`` replies to each of ``tasks`` from ``model`` (a LoRA policy) and score them."""
    was_training = model.training
    model.eval()
    samples = sample_replies(model, tokenizer, tasks, k, temperature=temperature,
                             max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    batch = pack(samples.prompt_ids, samples.completion_ids)
    old = completion_logprobs(model, batch, temperature)
    with disable_adapter(model):
        ref = completion_logprobs(model, batch, temperature)
    model.train(was_training)
    return Rollout(samples.tasks, samples.texts, batch, torch.tensor(samples.ended),
                   samples.scores.float(), old, ref)


def select(batch: Packed, rows: torch.Tensor) -> Packed:
    """The rows ``rows`` (``(m,)`` long) of a packed batch: for PPO's mini-batches."""
    return Packed(batch.ids[rows], batch.attention_mask[rows], batch.positions[rows],
                  batch.completion_mask[rows])
