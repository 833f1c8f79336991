"""Supervised fine-tuning: conversations as token ids, with the loss on the answer only.

Taught in notebook 08 (SFT).

`encode_example` turns a conversation into ``ids`` and ``labels`` of the same length::

    ids     <|endoftext|> <|user|>  Write a story ... <|end|> <|assistant|>  Once upon ... <|end|>
    labels      -100        -100    -100 ...  -100     -100      -100        Once upon ... <|end|>

A label is the id itself where the model should learn to produce the token (the assistant's
words and the ``<|end|>`` that closes them, so it learns to stop) and ``IGNORE_INDEX`` (-100)
elsewhere: the user's text is given, not something to imitate. `SFTDataset` shifts, pads and
stacks them into the ``(x, y)`` pairs that ``tinyllm.train.train`` consumes, exactly like
pretraining windows, so the same loop fine-tunes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch.utils.data import Dataset

from tinyllm.chat import CHAT_TOKENS, END, ROLE_TOKENS, Conversation, prompt_for, render
from tinyllm.model import IGNORE_INDEX
from tinyllm.tokenizers import BPETokenizer


def _chat_ids(tokenizer: BPETokenizer) -> dict[str, int]:
    special = tokenizer.special_tokens
    missing = [t for t in CHAT_TOKENS if t not in special]
    if missing:
        raise ValueError(
            f"the tokenizer has no {missing}; give it the chat template's tokens first: "
            "tokenizer = tinyllm.chat.add_chat_tokens(tokenizer)"
        )
    return {t: special[t] for t in CHAT_TOKENS}


def encode_example(tokenizer: BPETokenizer, conversation: Conversation, *, mask_prompt: bool = True,
                   end_is_target: bool = True) -> tuple[list[int], list[int]]:
    """A conversation's ids and labels, each ``(n,)``; ``n`` = 1 + all turns' tokens.

    ``ids`` start with ``<|endoftext|>`` (every pretraining document follows one, so the model
    knows a new text begins), then each turn as its role marker, its content, ``<|end|>``; they
    equal ``tokenizer.encode(render(conversation), allowed_special=...)`` after that first id.
    ``labels[i]`` is ``ids[i]`` for the assistant's content and its closing ``<|end|>``, and
    ``IGNORE_INDEX`` for ``<|endoftext|>``, role markers and user turns.

    Two switches exist for the ablations of notebook 08: ``mask_prompt=False`` makes every
    token a target (plain language modelling on the conversation), ``end_is_target=False``
    masks the assistant's closing ``<|end|>`` (so nothing teaches the model to stop).

    Raises:
        ValueError: the tokenizer lacks the chat tokens, a turn is malformed (see
            ``chat.render``), or no turn is the assistant's (nothing would be learned).
    """
    chat = _chat_ids(tokenizer)
    render(conversation)  # validates every turn, with render's errors
    if not any(turn["role"] == "assistant" for turn in conversation):
        raise ValueError("the conversation has no assistant turn, so no token would be a target")
    ids, labels = [tokenizer.eot_token], [IGNORE_INDEX]
    ends = []  # where each assistant turn's closing <|end|> is
    for turn in conversation:
        # Encoding turn by turn gives the ids of the rendered text: special tokens split it
        # before BPE sees it, so no merge crosses a turn boundary.
        content = tokenizer.encode_ordinary(turn["content"]) + [chat[END]]
        ids += [chat[ROLE_TOKENS[turn["role"]]], *content]
        counted = turn["role"] == "assistant"
        labels += [IGNORE_INDEX, *(content if counted else [IGNORE_INDEX] * len(content))]
        if counted:
            ends.append(len(ids) - 1)
    if not mask_prompt:
        labels = [IGNORE_INDEX, *ids[1:]]  # the ablation: every token is a target
    if not end_is_target:
        for i in ends:
            labels[i] = IGNORE_INDEX  # the ablation: the closing <|end|> is never a target
    return ids, labels


def encode_prompt(tokenizer: BPETokenizer, user_text: str) -> list[int]:
    """The ids generation starts from, ``(n,)``: ``<|endoftext|>`` + `chat.prompt_for`'s text.

    They are the first ids of ``encode_example`` for that user turn and any reply.
    """
    _chat_ids(tokenizer)
    text = prompt_for(user_text)
    return [tokenizer.eot_token, *tokenizer.encode(text, allowed_special=set(CHAT_TOKENS))]


def decode_reply(tokenizer: BPETokenizer, ids: Sequence[int]) -> tuple[str, bool]:
    """A generated reply (the ids after `encode_prompt`'s) as text, and whether it ended.

    The reply is cut at the first special token; it *ended* when that token is ``<|end|>``
    (not ``<|endoftext|>``, another marker, or running out of tokens). Bytes cut mid-character
    decode as ``"\\ufffd"``.
    """
    special = set(tokenizer.special_tokens.values())
    end = _chat_ids(tokenizer)[END]
    stop = next((i for i, token in enumerate(ids) if int(token) in special), len(ids))
    text = tokenizer.decode(ids[:stop], errors="replace")
    return text, stop < len(ids) and int(ids[stop]) == end


def counted_tokens(tokenizer: BPETokenizer, conversation: Conversation) -> list[tuple[str, bool]]:
    """``(token text, counted)`` for each id of `encode_example`: counted tokens are the ones the
    loss trains the model to produce. For drawing the mask; a Chinese character split across
    tokens shows as ``"\\ufffd"`` pieces."""
    ids, labels = encode_example(tokenizer, conversation)
    return [(tokenizer.decode([i], errors="replace"), label != IGNORE_INDEX)
            for i, label in zip(ids, labels, strict=True)]


class SFTDataset(Dataset):
    """Conversations as fixed-length ``(x, y)`` training pairs, each ``(seq_len,)`` int64.

    ``x = ids[:-1]`` and ``y = labels[1:]`` (``y[t]`` is the token that should follow ``x[t]``,
    or -100), right-padded to ``seq_len`` with ``<|endoftext|>`` in ``x`` and -100 in ``y``. No
    attention mask is needed: with right padding and a causal model, real tokens only attend to
    earlier, real tokens; the pads after them are attended to by nothing but other pads, whose
    outputs the -100 labels leave out of the loss.

    An example longer than ``seq_len + 1`` ids is never truncated (that would cut off the
    answer's ``<|end|>`` and teach the model not to stop): ``too_long="error"`` raises,
    ``too_long="drop"`` leaves it out and counts it in ``n_dropped``.

    Args:
        tokenizer: with the chat tokens (`chat.add_chat_tokens`).
        conversations: e.g. ``sft_data.train_conversations(n, seed, lang)``.
        seq_len: length of ``x`` and ``y`` (at most the model's ``context_length``).
        mask_prompt, end_is_target: as in `encode_example` (the ablations).

    Attributes:
        x, y: ``(n_examples, seq_len)`` int64, all pairs stacked.
    """

    def __init__(
        self,
        tokenizer: BPETokenizer,
        conversations: Sequence[Conversation],
        seq_len: int,
        too_long: Literal["error", "drop"] = "error",
        *,
        mask_prompt: bool = True,
        end_is_target: bool = True,
    ) -> None:
        if too_long not in ("error", "drop"):
            raise ValueError(f"too_long must be 'error' or 'drop', got {too_long!r}")
        if seq_len < 2:
            raise ValueError(f"seq_len must be at least 2, got {seq_len}")
        rows_x, rows_y, self.n_dropped = [], [], 0
        pad = tokenizer.eot_token
        for index, conversation in enumerate(conversations):
            ids, labels = encode_example(tokenizer, conversation, mask_prompt=mask_prompt,
                                         end_is_target=end_is_target)
            if len(ids) > seq_len + 1:
                if too_long == "drop":
                    self.n_dropped += 1
                    continue
                raise ValueError(
                    f"conversation {index} is {len(ids)} tokens, more than seq_len + 1 = "
                    f"{seq_len + 1}; raise seq_len, or pass too_long='drop' to leave such "
                    "examples out (they are never truncated: that would cut off the <|end|>)"
                )
            n_pad = seq_len + 1 - len(ids)
            rows_x.append(ids[:-1] + [pad] * n_pad)
            rows_y.append(labels[1:] + [IGNORE_INDEX] * n_pad)
        self.x = torch.tensor(rows_x, dtype=torch.long).reshape(-1, seq_len)
        self.y = torch.tensor(rows_y, dtype=torch.long).reshape(-1, seq_len)

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]

    def collate(self, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Stack pairs into a batch ``(batch, width)``, cut after the last column that holds a
        target: the columns after it are padding in every row, which nothing real attends to
        and no loss counts, so dropping them changes no number and saves their compute (a
        batch of conversations averaging 100 tokens need not cost 256). ``train`` uses it."""
        x, y = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        width = int((y != IGNORE_INDEX).any(dim=0).nonzero().max()) + 1 if (y != IGNORE_INDEX).any() else 1
        return x[:, :width], y[:, :width]

    def n_targets(self) -> int:
        """How many labels count towards the loss, over the whole dataset."""
        return int((self.y != IGNORE_INDEX).sum())
