"""Batched generation of prompts of different lengths: left padding, per-row positions, a mask.

Used by notebook 08 (SFT) to evaluate hundreds of held-out prompts at once; the padding mask it
relies on (``attention.padding_attention_mask``) is taught in notebook 06.

``generate`` needs equal-length prompts. To decode prompts of different lengths together,
``left_pad`` stacks them into one ``(batch, max_len)`` batch with the pads hidden by an
attention mask and each row's positions starting at 0, so every row computes what it would
alone; ``generate_batch`` then decodes all rows at once with a KV cache, each stopping at its own
stop token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from tinyllm.generate import context_fixes, sample_next_token
from tinyllm.kv_cache import KVCache
from tinyllm.model import TinyLLM


def left_pad(
    prompts: Sequence[Sequence[int] | torch.Tensor], pad_id: int = 0, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack prompts of different lengths into one batch, padded on the *left*.

    Left, because decoding appends every row's next token in the same column: each prompt has to
    end in the last column, so the new tokens follow it directly.

    Args:
        prompts: ``batch`` non-empty sequences of token ids (lists or 1-D tensors).
        pad_id: the id written into the padding (masked out, so any valid id will do).

    Returns:
        ``(ids, attention_mask, positions)``, each ``(batch, max_len)``: ``ids`` (long),
        ``attention_mask`` (bool, ``True`` at real tokens) and ``positions`` (long, 0 at each
        row's first real token, counting up; 0 at the pads too).
    """
    lengths = torch.tensor([len(p) for p in prompts], device=device)
    width = int(lengths.max())
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = torch.as_tensor(prompt, dtype=torch.long)
    attention_mask = torch.arange(width, device=device)[None, :] >= width - lengths[:, None]
    # Each row counts its positions from its own first real token, so a padded row sees exactly
    # the positions (RoPE angles, learned position vectors) its prompt has when run alone.
    positions = (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
    return ids, attention_mask, positions


@torch.no_grad()
def generate_batch(
    model: TinyLLM,
    prompts: Sequence[Sequence[int] | torch.Tensor],
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    stop_tokens: Iterable[int] = (),
    seed: int | None = None,
    pad_id: int = 0,
) -> list[list[int]]:
    """Continue prompts of different lengths together, one decoding loop for the whole batch.

    The prompts are left-padded (``left_pad``), the pads hidden by an attention mask and every
    row given its own positions, so each row computes what it would alone: greedy decoding
    (``temperature=0``) gives the same tokens as ``generate`` on each prompt by itself (up to
    float rounding, ~1e-6 in the logits, which could only matter at an exact tie). With a KV
    cache, as ``generate(use_cache=True)``.

    A row stops at its first stop token, which is *kept* (as in ``generate``), so a reply that
    ends without one ran out of ``max_new_tokens``. The other rows go on; the loop ends early
    once every row has stopped. Sampling with a ``seed`` is repeatable, but draws differ from
    ``generate``'s on the same prompts (one random stream serves the whole batch).

    Args:
        model: a ``TinyLLM`` (switched to eval mode while generating, then restored).
        prompts: ``batch`` non-empty prompts, lists of ints or 1-D tensors of token ids.
        max_new_tokens: new tokens per row at most; the longest prompt plus this must fit in
            ``config.context_length``.
        temperature, top_k, top_p: as in ``generate`` (``temperature=0`` for greedy).
        stop_tokens: token ids that end a row.
        seed: seed a private generator (the global random state is not touched).
        pad_id: a token id to pad with (never attended to, so which one does not matter).

    Returns:
        ``batch`` lists of new token ids (no prompt, no padding), in the order of ``prompts``.
    """
    config = model.config
    param = next(model.parameters())
    if len(prompts) == 0:
        raise ValueError("prompts is empty; pass a list of prompts (each a list of token ids)")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if not 0 <= pad_id < config.vocab_size:
        raise ValueError(f"pad_id={pad_id} is not a token id of this model (vocab_size="
                         f"{config.vocab_size}); pads are masked out, so any id in 0.."
                         f"{config.vocab_size - 1} will do, e.g. pad_id=0")
    for i, prompt in enumerate(prompts):
        prompt = torch.as_tensor(prompt)
        if prompt.dim() != 1 or len(prompt) == 0:
            raise ValueError(f"prompt {i} must be a non-empty sequence of token ids, got shape "
                             f"{tuple(prompt.shape)}; drop it or give it at least one token")
        if len(prompt) + max_new_tokens > config.context_length:
            raise ValueError(
                f"prompt {i} ({len(prompt)} tokens) + max_new_tokens ({max_new_tokens}) exceeds "
                f"the model's context_length={config.context_length}; "
                f"{context_fixes(len(prompt), max_new_tokens, config.context_length)}")
        if prompt.min() < 0 or prompt.max() >= config.vocab_size:
            raise ValueError(f"prompt {i} holds token ids outside 0..{config.vocab_size - 1}; "
                             f"encode it with this model's tokenizer")
    ids, prompt_mask, positions = left_pad(prompts, pad_id, param.device)
    batch, width = ids.shape
    generator = None if seed is None else torch.Generator(param.device).manual_seed(seed)
    stop = torch.tensor(list(stop_tokens), dtype=torch.long, device=ids.device)
    # The mask covers the new tokens too: every step's query attends to all cached keys, whose
    # pads must stay hidden to the end, plus the new (always real) tokens after them.
    mask = torch.ones(batch, width + max_new_tokens, dtype=torch.bool, device=ids.device)
    mask[:, :width] = prompt_mask

    was_training = model.training
    model.eval()
    try:
        cache = KVCache(config, batch, width + max_new_tokens, dtype=param.dtype, device=param.device)
        finished = torch.zeros(batch, dtype=torch.bool, device=ids.device)
        new_tokens = []
        for _ in range(max_new_tokens):
            # Prefill with the padded prompts, then one token per row; ``mask`` up to the
            # cached length plus the tokens fed now.
            seen = cache.length + ids.shape[1]
            logits = model(ids, positions=positions, attention_mask=mask[:, :seen],
                           kv_cache=cache, last_only=True)[:, -1]
            next_token = sample_next_token(logits, temperature, top_k, top_p, generator)
            new_tokens.append(next_token)
            finished |= torch.isin(next_token, stop)
            if bool(finished.all()):
                break
            # A stopped row still runs (the batch moves as one tensor); its tokens are cut below.
            # Each row's next position follows its own last one, not the shared column index.
            ids, positions = next_token[:, None], positions[:, -1:] + 1
    finally:  # even after an error, hand the model back in the mode we found it
        model.train(was_training)

    rows = torch.stack(new_tokens, dim=1).tolist() if new_tokens else [[] for _ in prompts]
    stops = set(stop.tolist())
    for row in rows:  # keep each row up to and including its first stop token
        end = next((j + 1 for j, token in enumerate(row) if token in stops), len(row))
        del row[end:]
    return rows
