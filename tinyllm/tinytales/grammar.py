"""The whole grammar as one flat list of templates, each tagged with where it belongs.

Taught in notebook 00 (the corpus). ``templates.py`` and ``arcs.py`` are written for people
(beats in story order); the generator and the checker want a flat, indexed view: every
(English, Chinese) template pair with an id such as ``"lost_and_found.found.happy.0"``, the
slots it uses and the free words it needs drawn.
"""

from __future__ import annotations

import string
from functools import cache
from typing import NamedTuple

from tinyllm.tinytales.arcs import ARCS
from tinyllm.tinytales.slots import FREE_SOURCES, SLOTS
from tinyllm.tinytales.templates import DAY, ENDING, FILLER, OBJECT, OPENING, TRAIT, Beat

#: Bump when the grammar or lexicon changes what ``generate`` produces (invalidates caches).
CORPUS_VERSION = 1

#: Beats shared by every story, in story order around the arc.
SHARED_BEATS = {"opening": OPENING, "trait": TRAIT, "object": OBJECT, "day": DAY,
                "filler": FILLER, "ending": ENDING}


class Template(NamedTuple):
    id: str  # "<arc or 'story'>.<beat>.<ending>.<index>"
    arc: str  # arc name, or "story" for the shared beats
    beat: str
    ending: str  # "any", "happy" or "sad"
    en: str
    zh: str
    free: tuple[str, ...]  # free sources to draw, sorted (same for en and zh)

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def slot_names(template: str) -> list[str]:
    """The slot names in a template, in order: ``"{hero} had {a_obj}."`` -> ["hero", "a_obj"]."""
    names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    unknown = [n for n in names if n not in SLOTS]
    if unknown:
        raise ValueError(f"template {template!r} uses unknown slots {unknown}; see slots.SLOTS")
    return names


def _free_sources(en: str, zh: str) -> tuple[str, ...]:
    sources = {s for name in slot_names(en) + slot_names(zh) for s in SLOTS[name].sources}
    return tuple(sorted(s for s in sources if s in FREE_SOURCES))


def _templates_of(arc: str, beat: Beat) -> list[Template]:
    out = []
    for ending in ("any", "happy", "sad"):
        pairs = beat.both if ending == "any" else getattr(beat, ending)
        for i, (en, zh) in enumerate(pairs):
            out.append(Template(f"{arc}.{beat.name}.{ending}.{i}", arc, beat.name, ending,
                                en, zh, _free_sources(en, zh)))
    return out


@cache
def all_templates() -> tuple[Template, ...]:
    """Every template of the grammar, shared beats first, then each arc's beats in order."""
    out = [t for beat in SHARED_BEATS.values() for t in _templates_of("story", beat)]
    for arc, beats in ARCS.items():
        for beat in beats:
            out.extend(_templates_of(arc, beat))
    return tuple(out)


@cache
def templates_by_beat() -> dict[tuple[str, str, str], tuple[Template, ...]]:
    """(arc, beat, ending) -> its templates; the generator picks from these."""
    groups: dict[tuple[str, str, str], list[Template]] = {}
    for t in all_templates():
        groups.setdefault((t.arc, t.beat, t.ending), []).append(t)
    return {k: tuple(v) for k, v in groups.items()}
