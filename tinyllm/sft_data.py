"""SFT data: conversations from TinyTales tasks, and an evaluation set held out from them.

Taught in notebook 08 (SFT).

Training conversations are TinyTales instruction tasks ("Write a story about a fox named
Milo ..." -> a story that does so) and reading tasks (a story and a question -> a short answer),
in English, Chinese or both. Stories cost nothing to generate, so each ``seed`` gives fresh ones
and a run can see a new task at every step instead of memorising a fixed few thousand.

**The held-out split.** A story's *combination* is its (hero, species, object, place), spelled
in English whatever the story's language (so 小美 is Mia). `is_held_out` hashes a combination
with sha256 and holds it out when the hash falls in one of `HELD_OUT_BUCKETS` buckets (1 in 16
combinations). `train_tasks` skips every story whose combination is held out; `eval_prompts`
and `eval_reading` use only such stories, and their instructions ask for all four (plus the
ending). So an evaluation prompt never occurs in training, and its hero, species, object and
place, each seen in training many times, were never seen *together*: the model must compose,
not recall. The split is a pure function of the names: the same on every machine and seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable

from tinyllm.chat import Conversation
from tinyllm.tinytales import (
    InstructionTask,
    ReadingTask,
    Story,
    StorySpec,
    generate,
    instruction_prompt,
    instruction_tasks,
    reading_tasks,
)
from tinyllm.tinytales.lexicon_characters import NAMES, SPECIES
from tinyllm.tinytales.lexicon_things import OBJECTS, PLACES

#: A combination is held out when its hash lands in one of this many buckets out of 16.
HELD_OUT_BUCKETS = 1
#: The seed of the evaluation stories (any seed would do: the split is by combination).
EVAL_SEED = 1_000_003
LANGS = ("en", "zh", "mix")
#: What a training set teaches (``DataSpec.task``): follow the request (the SFT model), or one
#: of the two behaviours notebook 09's adapters add on top of it.
TASKS = ("follow", "happy", "zh-reply")

# Story names -> English spelling, for both languages (every lexicon entry is bilingual).
_ENGLISH = {
    field: {spelling: entry.en for entry in entries for spelling in (entry.en, entry.zh)}
    for field, entries in (("hero", NAMES), ("species", SPECIES), ("object", OBJECTS),
                           ("place", PLACES))
}


def combination(story: Story) -> tuple[str, str, str, str]:
    """``(hero, species, object, place)`` of a story, in English for either language."""
    return (_ENGLISH["hero"][story.hero], _ENGLISH["species"][story.species],
            _ENGLISH["object"][story.object], _ENGLISH["place"][story.place])


def is_held_out(story: Story) -> bool:
    """Whether the story's combination belongs to the evaluation side of the split."""
    digest = hashlib.sha256("|".join(combination(story)).encode("utf-8")).digest()
    return digest[0] % 16 < HELD_OUT_BUCKETS


def reading_prompt(task: ReadingTask) -> str:
    """The user's turn of a reading task: the story, a blank line, the question."""
    return f"{task.story.text}\n\n{task.question}"


def conversation_of(task: InstructionTask | ReadingTask) -> Conversation:
    """A task as a one-exchange conversation: the request (or story + question), the answer."""
    if isinstance(task, InstructionTask):
        user, reply = task.prompt, task.response
    else:
        user, reply = reading_prompt(task), task.answer
    return [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]


def _check(n: int, seed: int, lang: str) -> None:
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int (how many tasks), got {n!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


def _first(n: int, make: Callable[[int], list], keep: Callable, size: int) -> list:
    """The first ``n`` items that ``keep`` accepts of ``make(size)``, a list whose first ``k``
    items do not depend on ``size`` (TinyTales task lists are), so the result does not either."""
    while True:
        items = [item for item in make(size) if keep(item)]
        if len(items) >= n:
            return items[:n]
        size *= 2


def train_tasks(n: int, seed: int = 0, lang: str = "en",
                reading_share: float = 0.25) -> list[InstructionTask | ReadingTask]:
    """``n`` training tasks, none from a held-out combination.

    Story ``i`` of ``generate(·, seed, lang)`` becomes either its reading task (with probability
    ``reading_share``) or its instruction task, so no story is used twice; held-out stories are
    skipped. Deterministic, and ``train_tasks(k, s)`` is a prefix of ``train_tasks(n, s)``.

    Args:
        lang: ``"en"``, ``"zh"``, or ``"mix"`` (each story in one of the two).
        reading_share: the expected fraction of reading tasks.
    """
    _check(n, seed, lang)
    if not 0.0 <= reading_share <= 1.0:
        raise ValueError(f"reading_share must be in [0, 1], got {reading_share!r}")

    def make(size: int) -> list[InstructionTask | ReadingTask]:
        rng = random.Random(f"tinyllm-sft-kind-{seed}")  # restarted: the same kinds every call
        pairs = zip(instruction_tasks(size, seed, lang), reading_tasks(size, seed, lang),
                    strict=True)
        return [reading if rng.random() < reading_share else instruction
                for instruction, reading in pairs]

    # 1 story in 16 is held out: a few more than n stories are almost always enough.
    return _first(n, make, lambda task: not is_held_out(task.story), n + n // 8 + 16)


def train_conversations(n: int, seed: int = 0, lang: str = "en",
                        reading_share: float = 0.25) -> list[Conversation]:
    """`train_tasks` as conversations (`conversation_of`): what `SFTDataset` takes."""
    return [conversation_of(task) for task in train_tasks(n, seed, lang, reading_share)]


def full_spec(story: Story) -> StorySpec:
    """A request for everything the story has: hero, species, object, place and ending."""
    return StorySpec(story.lang, hero=story.hero, species=story.species, object=story.object,
                     place=story.place, ending=story.ending)


def eval_prompts(n: int, lang: str = "en") -> list[InstructionTask]:
    """``n`` held-out instruction tasks, each asking for all of hero, species, object, place
    and ending (grade a reply with ``tinytales.satisfies(task.spec, reply)``).

    The same every call (stories of `EVAL_SEED`); ``eval_prompts(n, "en")[i]`` and
    ``eval_prompts(n, "zh")[i]`` are translations of each other.
    """
    _check(n, EVAL_SEED, lang)

    def make(size: int) -> list[InstructionTask]:
        tasks = []
        for story in generate(size, EVAL_SEED, lang):
            spec = full_spec(story)
            tasks.append(InstructionTask(instruction_prompt(spec), spec, story.text, story))
        return tasks

    return _first(n, make, lambda task: is_held_out(task.story), 16 * n + 64)


def eval_reading(n: int, lang: str = "en") -> list[ReadingTask]:
    """``n`` held-out reading tasks: the stories of ``eval_prompts(n, lang)``, each with a
    question. The user's turn is `reading_prompt`; grade a reply with
    ``tinytales.check_answer(reply, task.answer)``."""
    _check(n, EVAL_SEED, lang)
    return _first(n, lambda size: reading_tasks(size, EVAL_SEED, lang),
                  lambda task: is_held_out(task.story), 16 * n + 64)


# ---------------------------------------------------------------- adapter tasks (notebook 09)


def without_ending(task: InstructionTask) -> InstructionTask:
    """The same task with the ending left out of the request (the story is unchanged)."""
    spec = dataclasses.replace(task.spec, ending=None)
    return InstructionTask(instruction_prompt(spec), spec, task.response, task.story)


def happy_tasks(n: int, seed: int = 0, lang: str = "en") -> list[InstructionTask]:
    """``n`` training requests that never name an ending, each answered by a story that ends
    happily: what the ``happy`` adapter learns. None from a held-out combination."""
    _check(n, seed, lang)
    return _first(n, lambda size: [without_ending(t) for t in instruction_tasks(size, seed, lang)],
                  lambda t: t.story.ending == "happy" and not is_held_out(t.story), 2 * n + 16)


def translated(english: InstructionTask, chinese: InstructionTask) -> InstructionTask:
    """An English request answered by the Chinese story of the same plan; ``spec`` is the
    request in Chinese names (``tinytales.unmet(spec, reply)`` grades a Chinese reply)."""
    return InstructionTask(english.prompt, chinese.spec, chinese.response, chinese.story)


def zh_reply_tasks(n: int, seed: int = 0) -> list[InstructionTask]:
    """``n`` English requests answered in Chinese: what the ``zh-reply`` adapter learns.

    ``instruction_tasks(·, seed, "en")[i]`` and ``(·, seed, "zh")[i]`` are the same story and
    the same request in the two languages, so a pair is a translation, not two stories.
    """
    _check(n, seed, "en")

    def make(size: int) -> list[InstructionTask]:
        return [translated(en, zh) for en, zh in zip(instruction_tasks(size, seed, "en"),
                                                     instruction_tasks(size, seed, "zh"), strict=True)]

    return _first(n, make, lambda t: not is_held_out(t.story), n + n // 8 + 16)


def task_conversations(task: str, n: int, seed: int = 0, lang: str = "mix",
                       reading_share: float = 0.25) -> list[Conversation]:
    """``n`` training conversations for ``DataSpec.task`` (see `TASKS`): `train_conversations`
    for ``"follow"``; requests without an ending answered happily for ``"happy"``; English
    requests answered in Chinese for ``"zh-reply"`` (``lang`` and ``reading_share`` unused)."""
    if task == "follow":
        return train_conversations(n, seed, lang, reading_share)
    if task == "happy":
        return [conversation_of(t) for t in happy_tasks(n, seed, lang)]
    if task == "zh-reply":
        return [conversation_of(t) for t in zh_reply_tasks(n, seed)]
    raise ValueError(f"unknown task {task!r}; use one of {TASKS}")


def task_eval_prompts(task: str, n: int, lang: str = "en") -> list[InstructionTask]:
    """``n`` held-out requests for ``task``: `eval_prompts`, without the ending for ``"happy"``
    (so a happy ending is the adapter's choice, not the request's), and English requests with
    the Chinese spec for ``"zh-reply"``."""
    if task == "follow":
        return eval_prompts(n, lang)
    if task == "happy":
        return [without_ending(t) for t in eval_prompts(n, lang)]
    if task == "zh-reply":
        return [translated(en, zh) for en, zh in zip(eval_prompts(n, "en"), eval_prompts(n, "zh"),
                                                     strict=True)]
    raise ValueError(f"unknown task {task!r}; use one of {TASKS}")
