"""Prompt + completion in one batch: the layout every RLHF loss reads its tokens from.

Taught in notebook 10 (RLHF).

`pack` puts each prompt on the left of one row, *left*-padded (as ``batching.generate_batch``
decodes it), and each completion after it, *right*-padded::

    prompt part (P columns)        completion part (C columns)
    pad  pad  <|user|> ... <|assistant|> | Once upon ... <|end|> pad pad

so completion token ``j`` of every row sits in column ``P + j``: per-token tensors of the
completions (log-probs, values, rewards, advantages) are all ``(batch, C)`` and line up, with
``completion_mask`` marking the real tokens. The pads are hidden by ``attention_mask`` and each
row counts its positions from its own first real token, so a row computes what it would alone.

`hidden_states` runs the model up to its final norm (the features a reward or value head
reads); `completion_logits` are the next-token logits that predict each completion token
(column ``P + j`` is predicted at column ``P + j - 1``), and `completion_logprobs` their
log-probabilities of the tokens that were actually there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from tinyllm.batching import left_pad
from tinyllm.model import TinyLLM


@dataclass
class Packed:
    """A batch of prompt + completion rows (see the module docstring).

    Attributes:
        ids: ``(batch, P + C)`` long token ids, pads filled with ``pad_id``.
        attention_mask: ``(batch, P + C)`` bool, True at real tokens.
        positions: ``(batch, P + C)`` long, 0 at each row's first real token.
        completion_mask: ``(batch, C)`` bool, True at real completion tokens.
    """

    ids: torch.Tensor
    attention_mask: torch.Tensor
    positions: torch.Tensor
    completion_mask: torch.Tensor

    @property
    def prompt_width(self) -> int:
        """``P``: the column where every completion starts."""
        return self.ids.shape[1] - self.completion_mask.shape[1]

    @property
    def completions(self) -> torch.Tensor:
        """``(batch, C)`` the completion tokens (pads included)."""
        return self.ids[:, self.prompt_width:]


def pack(prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]],
         pad_id: int = 0) -> Packed:
    """Left-pad the ``batch`` prompts (each non-empty) and right-pad the ``batch`` completions
    (each may be empty) into one `Packed` batch."""
    if len(prompts) != len(completions) or not prompts:
        raise ValueError(f"need one completion per prompt (got {len(prompts)} prompts and "
                         f"{len(completions)} completions), and at least one of each")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token (the SFT prompt starts with "
                         "<|endoftext|>); encode prompts with sft.encode_prompt")
    prompt_ids, prompt_mask, _ = left_pad(prompts, pad_id)
    width = max(1, max(len(c) for c in completions))  # one column even if all are empty
    completion_ids = torch.full((len(completions), width), pad_id, dtype=torch.long)
    for row, completion in enumerate(completions):
        completion_ids[row, :len(completion)] = torch.as_tensor(completion, dtype=torch.long)
    lengths = torch.tensor([len(c) for c in completions])
    completion_mask = torch.arange(width)[None, :] < lengths[:, None]
    attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
    positions = (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
    return Packed(torch.cat([prompt_ids, completion_ids], dim=1), attention_mask, positions,
                  completion_mask)


def hidden_states(model: TinyLLM, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                  positions: torch.Tensor | None = None) -> torch.Tensor:
    """The model's last hidden states, after the final norm: ``(batch, seq, d_model)``.

    ``model.lm_head`` of them is ``model(ids, ...)``'s logits (tested): the same forward pass,
    stopped before the output matmul, so a reward or value head can read the features.
    """
    return model.hidden_states(ids, positions, attention_mask)  # checks the context length


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """The column of each row's last True: ``(batch, seq)`` bool -> ``(batch,)`` long."""
    mask = attention_mask.bool()
    if not bool(mask.any(dim=-1).all()):
        raise ValueError("a row of attention_mask has no real token; every row needs at least one")
    columns = torch.arange(mask.shape[-1], device=mask.device)
    return torch.where(mask, columns, -1).max(dim=-1).values


def completion_hidden(model: TinyLLM, batch: Packed) -> torch.Tensor:
    """The hidden states that predict each completion token: ``(batch, C, d_model)``; entry
    ``j`` is read at column ``P + j - 1`` (the state *before* completion token ``j``)."""
    hidden = hidden_states(model, batch.ids, batch.attention_mask, batch.positions)
    start = batch.prompt_width - 1
    return hidden[:, start:start + batch.completion_mask.shape[1]]


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``log softmax(logits / temperature)`` at ``tokens``: ``(..., V)``, ``(...)`` -> ``(...)``.

    Score at the temperature you sampled at: the probabilities of the sampler are the ones the
    PPO ratio and the KL penalty are about.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 to score tokens, got {temperature}")
    return F.log_softmax(logits.float() / temperature, dim=-1).gather(-1, tokens[..., None])[..., 0]


def entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """The entropy (nats) of ``softmax(logits / temperature)``: ``(..., V)`` -> ``(...)``."""
    logp = F.log_softmax(logits.float() / temperature, dim=-1)
    return -(logp.exp() * logp).sum(-1)


def completion_logits(model: TinyLLM, batch: Packed) -> torch.Tensor:
    """The next-token logits that predict each completion token: ``(batch, C, vocab)``."""
    return model.lm_head(completion_hidden(model, batch))


def completion_logprobs(model: TinyLLM, batch: Packed, temperature: float = 1.0) -> torch.Tensor:
    """``log pi(token_j | prompt, tokens_<j)`` for each completion token: ``(batch, C)``, 0 at
    the pads (so a sum over a row is the completion's log-probability)."""
    logp = token_logprobs(completion_logits(model, batch), batch.completions, temperature)
    return logp * batch.completion_mask


def sequence_logprobs(per_token: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The summed log-probability of each completion: ``(batch, C)`` -> ``(batch,)``."""
    return (per_token * mask).sum(-1)
