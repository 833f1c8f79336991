"""TinyTales: the course's embedded bilingual story corpus, its checker and its tasks.

Taught in notebook 00 (the corpus); used for training in notebooks 02 and 07, for grading in
07-10, and for instruction and preference data in 08-10.

- ``generate(n, seed, lang)``: stories from a seeded probabilistic grammar (English / 中文).
- ``check(text)``: the share of sentences the grammar can produce, and character consistency.
- ``instruction_tasks``, ``satisfies``, ``reading_tasks``, ``check_answer``: tasks for SFT.

Modules, one idea each: ``lexicon_*`` (words), ``slots`` (agreement), ``templates`` and
``arcs`` (story beats), ``grammar`` (the flat template list), ``generate``, ``parser``,
``check``, ``tasks``, ``stats``.
"""

from tinyllm.tinytales.check import CheckReport, SentenceCheck, check
from tinyllm.tinytales.generate import ARC_NAMES, Story, generate
from tinyllm.tinytales.grammar import CORPUS_VERSION, all_templates
from tinyllm.tinytales.parser import split_sentences
from tinyllm.tinytales.tasks import (
    InstructionTask,
    ReadingTask,
    StorySpec,
    check_answer,
    instruction_prompt,
    instruction_tasks,
    reading_questions,
    reading_tasks,
    satisfies,
    unmet,
)

__all__ = [
    "ARC_NAMES", "CORPUS_VERSION", "CheckReport", "InstructionTask", "ReadingTask",
    "SentenceCheck", "Story", "StorySpec", "all_templates", "check", "check_answer", "generate",
    "instruction_prompt", "instruction_tasks", "reading_questions", "reading_tasks",
    "satisfies", "split_sentences", "unmet",
]
