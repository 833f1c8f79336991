"""The story generator: plan a story with a seeded RNG, then tell it in English or Chinese.

Taught in notebook 00 (the corpus); notebooks 02 and 07 train on its output.

Determinism: every choice comes from one ``random.Random(seed)`` instance, always in the same
order, over lists (never sets or dict-of-hash order), so the same arguments give byte-identical
stories on every platform and Python >= 3.10. A story is *planned* once (arc, ending, characters,
templates, free words) and then *rendered*; because the plan does not depend on the language,
``generate(n, seed, "en")[i]`` and ``generate(n, seed, "zh")[i]`` are translations of each other.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from tinyllm.tinytales.arcs import ARCS
from tinyllm.tinytales.grammar import SHARED_BEATS, Template, slot_names, templates_by_beat
from tinyllm.tinytales.slots import FREE_SOURCES, ROLE_SOURCES, SLOTS

LANG_CHOICES = ("en", "zh", "mix")
ARC_NAMES: tuple[str, ...] = tuple(ARCS)

#: Chance of a happy ending; sad endings are rarer, as in children's books.
P_HAPPY = 0.65
#: Chance that a story keeps only its core beats (a short story of 5-6 sentences).
P_SHORT = 0.2
#: Roles reported in ``Story.details`` when a story uses them.
DETAIL_ROLES = ("place2", "spot", "landmark", "fear", "plant", "gift", "mistake")


@dataclass(frozen=True)
class Story:
    """One generated story and what it is about (all names spelled in the story's language)."""

    text: str
    lang: str  # "en" or "zh"
    hero: str
    gender: str  # "f" or "m"
    species: str
    companion: str | None  # the friend's name, when the plot has a friend
    companion_species: str | None
    object: str
    colour: str
    place: str
    arc: str  # one of ARC_NAMES
    ending: str  # "happy" or "sad"
    n_sentences: int
    templates: tuple[str, ...]  # id of the template behind each sentence
    details: tuple[tuple[str, str], ...] = ()  # other roles the plot used, e.g. ("spot", "under the bed")

    @property
    def extras(self) -> dict[str, str]:
        """``details`` as a dict: {"spot": "under the bed", ...}."""
        return dict(self.details)

    def to_dict(self) -> dict[str, Any]:
        """A flat dict (for ``datasets``): tuples become lists."""
        row = asdict(self)
        row["templates"] = list(self.templates)
        row["details"] = [list(d) for d in self.details]
        return row


@dataclass(frozen=True)
class _Plan:
    roles: dict[str, Any]
    arc: str
    ending: str
    sentences: tuple[tuple[Template, dict[str, Any]], ...]


def _draw_other(rng: random.Random, pool: list, avoid: Any) -> Any:
    """A random entry of ``pool`` that is not ``avoid`` (for friend != hero, place2 != place)."""
    while True:
        entry = rng.choice(pool)
        if entry != avoid:
            return entry


def _plan(rng: random.Random) -> _Plan:
    arc = rng.choice(ARC_NAMES)
    ending = "happy" if rng.random() < P_HAPPY else "sad"
    roles: dict[str, Any] = {}
    for role in ("hero", "species", "friend_species", "obj", "colour", "place", "spot",
                 "landmark", "plant", "fear", "mistake"):
        roles[role] = rng.choice(ROLE_SOURCES[role])
    roles["friend"] = _draw_other(rng, ROLE_SOURCES["friend"], roles["hero"])
    roles["place2"] = _draw_other(rng, ROLE_SOURCES["place2"], roles["place"])
    roles["gift"] = _draw_other(rng, ROLE_SOURCES["gift"], roles["obj"])
    roles["gender"] = roles["hero"].gender
    short = rng.random() < P_SHORT

    def keep(beat) -> bool:
        return beat.p >= 1.0 or (not short and rng.random() < beat.p)

    head = [("story", b) for b in (SHARED_BEATS["opening"], SHARED_BEATS["trait"],
                                    SHARED_BEATS["object"], SHARED_BEATS["day"]) if keep(b)]
    middle = [(arc, b) for b in ARCS[arc] if keep(b) and b.choices(ending)]
    if keep(SHARED_BEATS["filler"]):
        # A filler sentence goes between plot beats, never before the first one.
        middle.insert(rng.randint(1, len(middle)), ("story", SHARED_BEATS["filler"]))
    beats = head + middle + [("story", SHARED_BEATS["ending"])]

    groups = templates_by_beat()
    sentences = []
    for arc_name, beat in beats:
        group = groups.get((arc_name, beat.name, "any")) or groups[(arc_name, beat.name, ending)]
        template = rng.choice(group)
        free = {source: rng.choice(FREE_SOURCES[source]) for source in template.free}
        sentences.append((template, free))
    return _Plan(roles, arc, ending, tuple(sentences))


@cache
def _fillers(text: str, lang: str) -> tuple[tuple[str, Any, tuple[str, ...], tuple[str, ...]], ...]:
    """(slot name, form function, sources, roles) for each slot of a template (cached: speed)."""
    out = []
    for name in dict.fromkeys(slot_names(text)):
        slot = SLOTS[name]
        out.append((name, slot.forms[lang], slot.sources, slot.roles))
    return tuple(out)


def _render(plan: _Plan, lang: str) -> Story:
    sentences = []
    used_roles: set[str] = set()
    roles = plan.roles
    for template, free in plan.sentences:
        text = template.text(lang)
        values = {}
        for name, form, sources, slot_roles in _fillers(text, lang):
            values[name] = form(*[roles[s] if s in roles else free[s] for s in sources])
            used_roles.update(slot_roles)
        sentences.append(text.format_map(values))

    def spell(slot: str, role: str) -> str:
        return SLOTS[slot].form(lang, roles[role])

    has_friend = "friend" in used_roles
    return Story(
        text=(" " if lang == "en" else "").join(sentences),
        lang=lang,
        hero=spell("hero", "hero"),
        gender=roles["gender"],
        species=spell("species", "species"),
        companion=spell("friend", "friend") if has_friend else None,
        companion_species=spell("friend_species", "friend_species") if has_friend else None,
        object=spell("obj", "obj"),
        colour=spell("colour", "colour"),
        place=spell("place", "place"),
        arc=plan.arc,
        ending=plan.ending,
        n_sentences=len(sentences),
        templates=tuple(t.id for t, _ in plan.sentences),
        details=tuple((r, spell(r, r)) for r in DETAIL_ROLES if r in used_roles),
    )


def _check_args(n: int, seed: int, lang: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative int (how many stories), got {n!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}; e.g. generate(10, seed=0)")
    if lang not in LANG_CHOICES:
        raise ValueError(f"lang must be one of {LANG_CHOICES}, got {lang!r}")


def generate(n: int, seed: int = 0, lang: str = "en") -> list[Story]:
    """Generate ``n`` TinyTales stories.

    Args:
        n: how many stories.
        seed: the same seed gives byte-identical stories on every platform; ``generate(k, s)``
            is a prefix of ``generate(n, s)`` for ``k <= n``.
        lang: ``"en"``, ``"zh"``, or ``"mix"`` (each story in English or Chinese, half and half;
            story ``i`` of "mix" is story ``i`` of "en" or of "zh").

    Returns:
        A list of ``Story`` (``.text`` plus metadata: hero, species, companion, object, place,
        arc, ending, lang, ...).
    """
    _check_args(n, seed, lang)
    rng = random.Random(seed)
    # A separate stream decides the language of "mix" stories, so plans match "en" and "zh".
    lang_rng = random.Random(f"tinytales-mix-{seed}")
    stories = []
    for _ in range(n):
        plan = _plan(rng)
        story_lang = lang if lang != "mix" else ("en" if lang_rng.random() < 0.5 else "zh")
        stories.append(_render(plan, story_lang))
    return stories
