"""Text generation: sampling rules (temperature, top-k, top-p) and the decoding loop.

Taught in notebook 06 (model and generation).

Each sampling rule is a small function on a ``(batch, vocab_size)`` tensor of logits, so they
can be shown, plotted and tested one at a time; ``sample_next_token`` chains them in the usual
order (temperature, then top-k, then top-p, as Hugging Face does), and ``generate`` runs the model
in a loop, with or without a KV cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from tinyllm.kv_cache import KVCache
from tinyllm.model import TinyLLM


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide the logits by ``temperature``: below 1 sharpens the distribution, above 1 flattens it.

    As ``temperature -> 0`` all probability goes to the largest logit (greedy decoding); use
    ``temperature=0`` in ``sample_next_token``/``generate`` for exactly greedy.
    """
    if not temperature > 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature}; use temperature=0 in generate() for greedy"
        )
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row and set the rest to ``-inf`` (probability 0).

    Exactly ``k`` survive even when several logits tie at the boundary.

    Args:
        logits: ``(..., vocab_size)``.
        k: how many candidates to keep (``k >= vocab_size`` keeps all).
    """
    if k < 1:
        raise ValueError(f"top_k must be >= 1, got {k}")
    k = min(k, logits.shape[-1])
    values, indices = torch.topk(logits, k, dim=-1)
    return torch.full_like(logits, float("-inf")).scatter(-1, indices, values)


def context_fixes(prompt_len: int, max_new_tokens: int, context_length: int) -> str:
    """What to do when a prompt plus ``max_new_tokens`` overflow ``context_length``: only the
    fixes that work (a prompt keeps at least one token)."""
    room = context_length - prompt_len  # new tokens that fit after this prompt
    fixes = []
    if max_new_tokens < context_length:  # else no crop leaves room: the prompt needs >= 1
        fixes.append(f"crop the prompt to its last {context_length - max_new_tokens} tokens")
    if room > 0:
        fixes.append(f"ask for at most {room} new tokens")
    if not fixes:
        fixes.append(f"ask for fewer than {context_length} new tokens and crop the prompt")
    return " or ".join(fixes)


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: keep the most likely tokens until their probabilities add up to ``p``.

    Sort the tokens by probability; a token survives if the tokens *before* it hold less than
    ``p`` of the mass. So the nucleus is the smallest set whose mass reaches ``p`` (the most
    likely token always survives), and its size adapts to how confident the model is
    (Holtzman et al. 2019).

    Args:
        logits: ``(..., vocab_size)``.
        p: in ``(0, 1]``; ``1`` keeps everything.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    if p == 1.0:  # the sums below round: at 1 they could reach p early and drop the rarest tokens
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits.float(), dim=-1)  # summed in float32 even for bf16 logits
    mass_before = probs.cumsum(dim=-1) - probs
    sorted_logits = sorted_logits.masked_fill(mass_before >= p, float("-inf"))
    # Undo the sort: put each filtered logit back at its token's index.
    return torch.empty_like(logits).scatter(-1, order, sorted_logits)


def sample_next_token(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick one token per row from next-token logits.

    Args:
        logits: ``(batch, vocab_size)``.
        temperature: 0 for greedy (argmax); otherwise see ``apply_temperature``.
        top_k, top_p: optional filters (``None`` = off), applied after the temperature.
        generator: a seeded ``torch.Generator`` for repeatable sampling (default: the global RNG).

    Returns:
        ``(batch,)`` token ids.
    """
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = apply_temperature(logits, temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = torch.softmax(logits.float(), dim=-1)
    if generator is not None and generator.device != probs.device:
        # A CPU generator with a GPU model: draw on the CPU, so a seed means the same thing.
        return torch.multinomial(probs.cpu(), num_samples=1, generator=generator)[:, 0].to(probs.device)
    return torch.multinomial(probs, num_samples=1, generator=generator)[:, 0]


@torch.no_grad()
def generate(
    model: TinyLLM,
    ids: torch.Tensor | Sequence[int],
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    stop_tokens: Iterable[int] | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
    return_logits: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Continue ``ids`` by up to ``max_new_tokens`` tokens, one at a time.

    With ``use_cache=True`` the prompt is run once (prefill) and each later step feeds only the
    newest token, reading earlier keys/values from a ``KVCache``; with ``use_cache=False`` every
    step reruns the model on the whole sequence. Both give the same tokens.

    Context limit: the prompt plus ``max_new_tokens`` must fit in ``config.context_length``;
    otherwise a ``ValueError`` says by how much (we do not silently slide a window, which would
    make cached and uncached decoding differ). Crop the prompt (``ids[..., -n:]``) or ask for
    fewer tokens.

    Args:
        model: a ``TinyLLM`` (switched to eval mode while generating, then restored).
        ids: the prompt, ``(batch, seq)`` or ``(seq,)`` (a tensor or a list of ints). Rows of a
            batch have the same length (for different lengths see ``tinyllm.batching``).
        max_new_tokens: how many tokens to add at most.
        temperature: 0 for greedy decoding, otherwise the sampling temperature.
        top_k, top_p: optional filters, see ``top_k_filter`` and ``top_p_filter``.
        stop_tokens: token ids that end a sequence (kept in the output). Once a row has
            stopped, it repeats its stop token until every row has stopped.
        seed: seed a private generator, so the same seed gives the same text whatever ran before.
        generator: or pass your own ``torch.Generator`` (``seed`` and ``generator`` are exclusive).
        use_cache: decode with a KV cache (fast) or by full recomputation (slow, for comparison).
        return_logits: also return the logits each step sampled from.

    Returns:
        ``ids`` with the new tokens appended, ``(batch, seq + new)`` (or ``(seq + new,)`` for a
        1-D prompt); with ``return_logits``, ``(ids, logits)`` where ``logits`` is
        ``(batch, new, vocab_size)`` (or ``(new, vocab_size)``).
    """
    config = model.config
    param = next(model.parameters())
    ids = torch.as_tensor(ids, dtype=torch.long, device=param.device)
    one_sequence = ids.dim() == 1
    if one_sequence:
        ids = ids[None]
    if ids.dim() != 2 or ids.shape[1] == 0:
        raise ValueError(
            f"ids must be a non-empty (batch, seq) or (seq,) prompt, got shape {tuple(ids.shape)}"
        )
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    total = ids.shape[1] + max_new_tokens
    if total > config.context_length:
        raise ValueError(
            f"prompt ({ids.shape[1]} tokens) + max_new_tokens ({max_new_tokens}) = {total} exceeds "
            f"the model's context_length={config.context_length}; "
            f"{context_fixes(ids.shape[1], max_new_tokens, config.context_length)}"
        )
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if seed is not None:  # a private generator: the global random state is not touched
        generator = torch.Generator(device=param.device).manual_seed(seed)
    stop = None
    if stop_tokens is not None:
        stop = torch.as_tensor(list(stop_tokens), dtype=torch.long, device=ids.device)

    was_training = model.training
    model.eval()  # no dropout while generating
    try:
        # Sized for exactly this generation (prompt + new tokens): one allocation, never full.
        cache = (
            KVCache(config, ids.shape[0], max_length=total, dtype=param.dtype, device=param.device)
            if use_cache
            else None
        )
        finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        step_input = ids  # the whole prompt first (prefill), then one token at a time
        step_logits = []
        for _ in range(max_new_tokens):
            if use_cache:
                # Only the new token(s): everything earlier is already in the cache.
                logits = model(step_input, kv_cache=cache, last_only=True)[:, -1]
            else:
                # The whole sequence again, every step: the slow reference the cache must equal.
                logits = model(ids, last_only=True)[:, -1]
            if return_logits:
                step_logits.append(logits)
            next_token = sample_next_token(logits, temperature, top_k, top_p, generator)
            if stop is not None:
                # A batch grows as one tensor, so a row that has stopped keeps repeating its
                # stop token until every row has stopped.
                next_token = torch.where(finished, ids[:, -1], next_token)
                finished |= torch.isin(next_token, stop)
            ids = torch.cat((ids, next_token[:, None]), dim=1)
            step_input = next_token[:, None]  # what the cached model needs next: one token per row
            if stop is not None and bool(finished.all()):
                break
    finally:  # even after an error, hand the model back in the mode we found it
        model.train(was_training)

    if not return_logits:
        return ids[0] if one_sequence else ids
    if step_logits:
        logits = torch.stack(step_logits, dim=1)
    else:  # max_new_tokens == 0
        logits = torch.empty(
            ids.shape[0], 0, config.vocab_size, dtype=param.dtype, device=param.device
        )
    return (ids[0], logits[0]) if one_sequence else (ids, logits)
