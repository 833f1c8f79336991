"""The requests RLHF trains and is measured on: TinyTales instructions, some naming no ending.

Taught in notebook 10 (RLHF).

``sft_data.eval_prompts`` asks for everything (hero, species, object, place *and* ending), so a
labeler's taste for happy endings "when none was asked" would never come into play on it.
`rlhf_tasks` draws requests the way SFT's training tasks are drawn (``tasks.spec_of``: always
the hero, each other constraint with probability 0.6), so about a third of them leave the ending
open (137 of the first 400 training requests, 151 of the first 400 held-out ones, in either
language). ``split="train"`` uses only combinations SFT could train on, ``split="eval"`` only
the held-out ones (``sft_data.is_held_out``), so evaluation requests were never seen by any
stage.
"""

from __future__ import annotations

import random

from tinyllm.sft_data import is_held_out
from tinyllm.tinytales import InstructionTask, generate, instruction_prompt
from tinyllm.tinytales.tasks import spec_of

#: Story seeds of the two splits (distinct from SFT's seeds and ``sft_data.EVAL_SEED``).
SEEDS = {"train": 2_000_003, "eval": 3_000_017}


def rlhf_tasks(n: int, lang: str = "en", split: str = "train", seed: int = 0) -> list[InstructionTask]:
    """``n`` instruction tasks in ``lang`` (``"en"`` or ``"zh"``) from ``split``; the same every
    call for the same arguments, and ``rlhf_tasks(k, ...)`` is a prefix of ``rlhf_tasks(n, ...)``.

    Grade a reply with ``labeler.true_score(task, reply)``.
    """
    if split not in SEEDS:
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    keep_held_out = split == "eval"
    size = 20 * n + 64 if keep_held_out else n + n // 8 + 16  # 1 combination in 16 is held out
    while True:
        rng = random.Random(f"tinyllm-rlhf-{split}-{seed}")
        tasks = []
        for story in generate(size, SEEDS[split] + seed, lang):
            spec = spec_of(story, rng)  # drawn for every story, so the list is prefix-stable
            if is_held_out(story) == keep_held_out:
                tasks.append(InstructionTask(instruction_prompt(spec), spec, story.text, story))
        if len(tasks) >= n:
            return tasks[:n]
        size *= 2
