"""Tasks built on the corpus: story instructions (for SFT) and reading questions.

Taught in notebook 08 (SFT); notebooks 09 (LoRA) and 10 (RLHF) reuse them.

An *instruction task* asks for a story with a given hero, species, object, place and/or ending,
and pairs the prompt with a generated story that satisfies it. ``satisfies(spec, story)`` checks
any story (a model's, say) against the request by parsing it with the checker, so a model is
graded on what it wrote, not on metadata. A *reading task* pairs a story with a question whose
short answer is in the story; ``check_answer`` grades a reply.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass

from tinyllm.tinytales.check import check
from tinyllm.tinytales.generate import Story, generate
from tinyllm.tinytales.lexicon_things import PLACES
from tinyllm.tinytales.slots import article

CONSTRAINTS = ("species", "object", "place", "ending")


@dataclass(frozen=True)
class StorySpec:
    """What an instruction asks for; ``None`` means "any". Names in the spec's language."""

    lang: str
    hero: str | None = None
    species: str | None = None
    object: str | None = None
    place: str | None = None
    ending: str | None = None  # "happy" or "sad"

    @classmethod
    def from_dict(cls, d: dict) -> StorySpec:
        unknown = set(d) - {"lang", "hero", *CONSTRAINTS}
        if unknown:
            raise ValueError(f"unknown spec fields {sorted(unknown)}; allowed: lang, hero, "
                             f"{', '.join(CONSTRAINTS)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class InstructionTask:
    prompt: str
    spec: StorySpec
    response: str  # a story that satisfies the spec
    story: Story


@dataclass(frozen=True)
class ReadingTask:
    story: Story
    question: str
    answer: str
    kind: str  # "name", "species", "colour", "place", "find", "fear", "friend_species", ...


def _ending_words(lang: str, ending: str) -> str:
    if lang == "en":
        return "The story should have a happy ending." if ending == "happy" else \
            "The story should have a sad ending."
    return "故事要有一个快乐的结局。" if ending == "happy" else "故事要有一个难过的结局。"


def instruction_prompt(spec: StorySpec) -> str:
    """The request in words, e.g. "Write a story about a rabbit named Mia who has a kite ..."."""
    if spec.lang == "en":
        who = f"a {spec.species}" if spec.species else "an animal"
        parts = [f"Write a story about {who} named {spec.hero}." if spec.hero else
                 f"Write a story about {who}."]
        if spec.object:
            parts.append(f"The hero has {article(spec.object)} {spec.object}.")
        if spec.place:
            prep = next((p.prep for p in PLACES if p.en == spec.place), "in")
            parts.append(f"The hero lives {prep} {spec.place}.")
    else:
        who = spec.species or "小动物"
        parts = [f"写一个关于{who}{spec.hero}的故事。" if spec.hero else f"写一个关于{who}的故事。"]
        if spec.object:
            parts.append(f"主角有一样东西：{spec.object}。")
        if spec.place:
            parts.append(f"故事发生在{spec.place}。")
    if spec.ending:
        parts.append(_ending_words(spec.lang, spec.ending))
    return " ".join(parts) if spec.lang == "en" else "".join(parts)


def unmet(spec: StorySpec | dict, story: Story | str) -> list[str]:
    """The constraints of ``spec`` that ``story`` breaks, in words ([] when all are met)."""
    spec = StorySpec.from_dict(spec) if isinstance(spec, dict) else spec
    report = check(story, lang=spec.lang)
    found = report.characters
    problems = []
    if report.n_ok == 0:
        problems.append("no sentence of the story fits the grammar")
    if not report.consistent:
        problems.append("characters are inconsistent: " + "; ".join(report.issues[:2]))
    wanted = {"hero": spec.hero, "species": spec.species, "obj": spec.object,
              "place": spec.place}
    for role, value in wanted.items():
        if value is not None and found.get(role) != value:
            problems.append(f"{role}: asked for {value!r}, the story has {found.get(role)!r}")
    if spec.ending is not None and report.ending != spec.ending:
        problems.append(f"ending: asked for {spec.ending!r}, the story's is {report.ending!r}")
    return problems


def satisfies(prompt_spec: StorySpec | dict, story: Story | str) -> bool:
    """Whether ``story`` (a ``Story`` or any text) meets every constraint of ``prompt_spec``.

    The story is parsed with ``check``: the hero, species, object and place it introduces and
    the ending it tells must be the requested ones, its characters must be consistent, and at
    least one sentence must fit the grammar. ``unmet`` says what failed.
    """
    return not unmet(prompt_spec, story)


def spec_of(story: Story, rng: random.Random) -> StorySpec:
    """A request that ``story`` satisfies: always the hero, plus a random subset of the rest."""
    chosen = [c for c in CONSTRAINTS if rng.random() < 0.6] or [rng.choice(CONSTRAINTS)]
    return StorySpec(story.lang, hero=story.hero,
                     species=story.species if "species" in chosen else None,
                     object=story.object if "object" in chosen else None,
                     place=story.place if "place" in chosen else None,
                     ending=story.ending if "ending" in chosen else None)


def instruction_tasks(n: int, seed: int = 0, lang: str = "en") -> list[InstructionTask]:
    """``n`` (prompt, spec, story) triples for supervised fine-tuning."""
    rng = random.Random(f"tinytales-instructions-{seed}")
    tasks = []
    for story in generate(n, seed=seed, lang=lang):
        spec = spec_of(story, rng)
        tasks.append(InstructionTask(instruction_prompt(spec), spec, story.text, story))
    return tasks


def reading_questions(story: Story) -> list[tuple[str, str, str]]:
    """(question, answer, kind) for every question this story can answer."""
    h, extras = story.hero, story.extras
    if story.lang == "en":
        qs = [(f"What kind of animal is {h}?", story.species, "species"),
              (f"What is the name of the {story.species}?", h, "name"),
              (f"What colour is {h}'s {story.object}?", story.colour, "colour"),
              (f"Where does {h} live?", story.place, "place")]
        if story.arc == "lost_and_found" and "spot" in extras and extras["spot"] in story.text:
            qs.append((f"Where did {h} find the {story.object}?", extras["spot"], "find"))
        if story.companion_species and story.companion_species in story.text:
            qs.append((f"What kind of animal is {story.companion}?", story.companion_species,
                       "friend_species"))
        if "fear" in extras:
            qs.append((f"What was {h} afraid of?", extras["fear"], "fear"))
        if "landmark" in extras:
            qs.append(("Where did the race go to?", extras["landmark"], "landmark"))
        if "gift" in extras:
            qs.append((f"What did {h} get for {'her' if story.gender == 'f' else 'his'} birthday?",
                       extras["gift"], "gift"))
    else:
        qs = [(f"{h}是什么动物？", story.species, "species"),
              (f"故事里的{story.species}叫什么名字？", h, "name"),
              (f"{h}的{story.object}是什么颜色的？", story.colour, "colour"),
              (f"{h}住在哪里？", story.place, "place")]
        if story.arc == "lost_and_found" and "spot" in extras and extras["spot"] in story.text:
            qs.append((f"{h}在哪里找到了{story.object}？", extras["spot"].removeprefix("在"), "find"))
        if story.companion_species and story.companion_species in story.text:
            qs.append((f"{story.companion}是什么动物？", story.companion_species, "friend_species"))
        if "fear" in extras:
            qs.append((f"{h}害怕什么？", extras["fear"], "fear"))
        if "landmark" in extras:
            qs.append(("他们比赛跑到哪里？", extras["landmark"], "landmark"))
        if "gift" in extras:
            qs.append((f"{h}过生日收到了什么？", extras["gift"], "gift"))
    return qs


def reading_tasks(n: int, seed: int = 0, lang: str = "en") -> list[ReadingTask]:
    """``n`` (story, question, answer) triples; the question is drawn among those the story
    answers, favouring the story-specific ones ("Where did Mia find the kite?").
    """
    rng = random.Random(f"tinytales-reading-{seed}")
    tasks = []
    for story in generate(n, seed=seed, lang=lang):
        qs = reading_questions(story)
        special = qs[4:]
        q, a, kind = rng.choice(special) if special and rng.random() < 0.6 else rng.choice(qs[:4])
        tasks.append(ReadingTask(story, q, a, kind))
    return tasks


_EN_STOP = {"a", "an", "the", "it", "was", "is", "in", "she", "he", "they", "at", "on", "to"}
_PUNCT = re.compile(r"[^\w\s]|_")


def _norm(text: str, lang: str) -> list[str]:
    text = _PUNCT.sub(" ", text.lower())
    if lang == "en":
        return [w for w in text.split() if w not in _EN_STOP]
    # Chinese: characters, without filler that does not change the answer.
    return [c for c in "".join(text.split()) if c not in "在的了是它他她"]


def check_answer(prediction: str, answer: str, lang: str | None = None) -> bool:
    """Whether a short reply states ``answer``: the answer's words (en) or characters (zh), in
    order, appear in the reply, and the reply is short (a list of every noun is no answer).

    >>> check_answer("It was under the bed.", "under the bed")
    True
    """
    if not isinstance(prediction, str) or not isinstance(answer, str):
        raise TypeError("check_answer compares two strings: (prediction, answer)")
    lang = lang or ("zh" if re.search(r"[\u3400-\u9fff]", answer) else "en")
    gold, pred = _norm(answer, lang), _norm(prediction, lang)
    if not gold or len(pred) > len(gold) + (3 if lang == "en" else 8):
        return False
    k = len(gold)
    return any(pred[i:i + k] == gold for i in range(len(pred) - k + 1))
