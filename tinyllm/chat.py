"""The chat template: special tokens for turns, conversations as text and back, a bigger embedding.

Taught in notebook 08 (SFT).

A base model continues text. To make it answer, fine-tuning shows it conversations written in
a fixed *template*, whose turn markers are tokens no ordinary text can produce::

    <|user|>Write a story about a fox.<|end|><|assistant|>Once upon a time ...<|end|>

- `add_chat_tokens` gives the shipped tokenizer three new special ids after its existing ones
  (4096, 4097, 4098): nothing is retrained, so ordinary text keeps its ids.
- `resize_embeddings` grows the model's token embedding (and output head) to match; the new rows
  start at the mean of the old ones, an "average token" rather than noise.
- `render` / `parse` turn a conversation (a list of ``{"role", "content"}`` turns) into template
  text and back; `prompt_for` is what generation starts from: a user turn, then the assistant's
  opening marker, so the model's next tokens are its reply.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from tinyllm.tokenizers import ENDOFTEXT, BPETokenizer

if TYPE_CHECKING:
    from tinyllm.model import TinyLLM

USER, ASSISTANT, END = "<|user|>", "<|assistant|>", "<|end|>"
#: The template's special tokens, in the order `add_chat_tokens` gives them ids.
CHAT_TOKENS = (USER, ASSISTANT, END)
#: Role -> the marker that opens its turn.
ROLE_TOKENS = {"user": USER, "assistant": ASSISTANT}
#: Strings a turn's content may not contain: they would read back as template structure.
RESERVED = (*CHAT_TOKENS, ENDOFTEXT)

Turn = dict[str, str]  # {"role": "user" | "assistant", "content": str}
Conversation = list[Turn]

_MARKER = re.compile("|".join(re.escape(s) for s in RESERVED))


# ----- tokens -----------------------------------------------------------------------------------
def add_chat_tokens(tokenizer: BPETokenizer) -> BPETokenizer:
    """A copy of ``tokenizer`` with `CHAT_TOKENS` as special tokens after its last id.

    For the shipped 4,096-id tokenizer: ``<|user|>`` = 4096, ``<|assistant|>`` = 4097,
    ``<|end|>`` = 4098, and ``n_vocab`` = 4099. Adding them twice changes nothing.
    """
    return tokenizer.with_special_tokens(CHAT_TOKENS)


def resize_embeddings(model: TinyLLM, new_vocab_size: int) -> TinyLLM:
    """Grow ``model``'s vocabulary to ``new_vocab_size`` ids, in place; returns the model.

    The token embedding ``(vocab_size, d_model)`` gets ``new_vocab_size - vocab_size`` new rows,
    each the mean of the old rows; the old rows are copied bit for bit, so old tokens give the
    same logits as before (plus new columns). A tied output head stays tied (it *is* the
    embedding); an untied ``lm_head`` ``(vocab_size, d_model)`` grows the same way, its new rows
    the mean of its old ones. ``model.config.vocab_size`` is updated.

    The parameters are new tensors: build the optimizer after resizing.
    """
    old = model.embed_tokens.weight
    old_size = old.shape[0]
    if new_vocab_size < old_size:
        raise ValueError(
            f"new_vocab_size={new_vocab_size} is smaller than the model's {old_size} ids; "
            "resize_embeddings only grows a vocabulary (shrinking would drop trained tokens)"
        )
    tied = model.lm_head.weight is old

    def grown(weight: torch.Tensor) -> nn.Parameter:
        # The mean row is an "average token": its logit starts near the others', where a random
        # row could make the model say (or never say) the new token for no reason.
        mean = weight.detach().mean(dim=0, keepdim=True)
        extra = mean.expand(new_vocab_size - old_size, -1)
        return nn.Parameter(torch.cat([weight.detach(), extra]), requires_grad=weight.requires_grad)

    model.embed_tokens.weight = grown(old)
    model.embed_tokens.num_embeddings = new_vocab_size
    if tied:
        model.lm_head.weight = model.embed_tokens.weight
    else:
        model.lm_head.weight = grown(model.lm_head.weight)
    model.lm_head.out_features = new_vocab_size
    model.config = dataclasses.replace(model.config, vocab_size=new_vocab_size)
    return model


# ----- text -------------------------------------------------------------------------------------
def _check_turn(index: int, turn: Turn) -> None:
    if not isinstance(turn, dict) or set(turn) != {"role", "content"}:
        raise ValueError(
            f"turn {index} must be a dict with exactly the keys 'role' and 'content', got {turn!r}"
        )
    if turn["role"] not in ROLE_TOKENS:
        raise ValueError(f"turn {index} has role {turn['role']!r}; roles are {list(ROLE_TOKENS)}")
    if not isinstance(turn["content"], str):
        raise ValueError(f"turn {index}'s content must be a str, got {type(turn['content']).__name__}")
    found = _MARKER.search(turn["content"])
    if found:
        raise ValueError(
            f"turn {index}'s content contains the special string {found.group()!r} at character "
            f"{found.start()}; it would read back as template structure. Remove it from the text."
        )


def render(conversation: Sequence[Turn]) -> str:
    """A conversation as template text: ``<|user|>{content}<|end|><|assistant|>{content}<|end|>...``.

    Turns are rendered in order with nothing between them, so `parse` inverts it exactly.

    Raises:
        ValueError: a turn is not ``{"role": "user" | "assistant", "content": str}``, or its
            content contains one of `RESERVED` (the template's tokens or ``<|endoftext|>``).
    """
    parts = []
    for index, turn in enumerate(conversation):
        _check_turn(index, turn)
        parts.append(f"{ROLE_TOKENS[turn['role']]}{turn['content']}{END}")
    return "".join(parts)


def prompt_for(user_text: str) -> str:
    """What generation starts from: one user turn, then the assistant's opening marker.

    >>> prompt_for("Hi")
    '<|user|>Hi<|end|><|assistant|>'
    """
    return render([{"role": "user", "content": user_text}]) + ASSISTANT


def parse(text: str) -> Conversation:
    """Template text back to a conversation: ``parse(render(c)) == c``.

    Raises:
        ValueError: the text is not a sequence of complete turns (``ROLE content <|end|>``),
            e.g. text outside a turn, a turn never closed, or ``<|endoftext|>`` inside.
    """
    roles = {token: role for role, token in ROLE_TOKENS.items()}
    # Split on the markers, keeping them: [text, marker, text, marker, ..., text].
    pieces = _MARKER.split(text)
    markers = _MARKER.findall(text)
    conversation: Conversation = []
    if pieces[0]:
        raise ValueError(f"text before the first turn marker: {pieces[0][:40]!r}")
    i = 0
    while i < len(markers):
        opener = markers[i]
        if opener not in roles:
            raise ValueError(
                f"expected {USER} or {ASSISTANT} to open turn {len(conversation)}, found {opener!r}"
            )
        if i + 1 >= len(markers) or markers[i + 1] != END:
            found = "the end of the text" if i + 1 >= len(markers) else repr(markers[i + 1])
            raise ValueError(f"turn {len(conversation)} ({opener}) is closed by {found}, not {END}")
        if pieces[i + 2]:
            raise ValueError(f"text between turns, after turn {len(conversation)}: "
                             f"{pieces[i + 2][:40]!r}")
        conversation.append({"role": roles[opener], "content": pieces[i + 1]})
        i += 2
    return conversation
