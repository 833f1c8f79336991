"""Slots: the holes in a sentence template, and how each is filled in English and Chinese.

Taught in notebook 00 (the corpus). A template such as ``"{hero} had {a_cobj}."`` names its
slots. Each slot says which lexicon entries fill it (its *sources*) and how to spell them in each
language. Agreement lives here and only here: ``a_obj`` chooses "a"/"an" in English and the right
measure word in Chinese (一只风筝, 一把雨伞); ``he``/``his``/``ta`` follow the hero's gender.
The generator renders slots with ``form``; the checker lists every possible spelling of a slot
(``surfaces``) to build its parser, so the two can never disagree.

Sources are either *roles*, fixed for a whole story (the hero, the object, the place...) and
checked for consistency, or *free*, drawn afresh for every sentence (a food, a time word...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from tinyllm.tinytales import lexicon_characters as C
from tinyllm.tinytales import lexicon_things as T
from tinyllm.tinytales import lexicon_words as W

#: Role sources: drawn once per story and checked for consistency by ``check``.
ROLE_SOURCES: dict[str, Sequence[Any]] = {
    "hero": C.NAMES,
    "gender": ("f", "m"),  # derived from the hero, never drawn
    "species": C.SPECIES,
    "friend": C.NAMES,
    "friend_species": C.SPECIES,
    "obj": T.OBJECTS,
    "colour": T.COLOURS,
    "place": T.PLACES,
    "place2": T.PLACES,
    "spot": T.SPOTS,
    "landmark": T.LANDMARKS,
    "plant": T.PLANTS,
    "gift": T.OBJECTS,
    "fear": W.FEARS,
    "mistake": W.MISTAKES,
}

#: Free sources: drawn for each sentence that uses them.
FREE_SOURCES: dict[str, Sequence[Any]] = {
    "time": W.TIMES,
    "then": W.THENS,
    "suddenly": W.SUDDENLYS,
    "good": W.GOOD_FEELINGS,
    "bad": W.BAD_FEELINGS,
    "trait": W.TRAITS,
    "adverb": W.ADVERBS,
    "food": T.FOODS,
    "sight": T.SIGHTS,
    "sound": T.SOUNDS,
    "weather": W.WEATHER,
    "activity": W.ACTIVITIES,
    "chore": W.CHORES,
    "exclaim": W.EXCLAIMS,
    "look": W.CREATURE_LOOKS,
    "creature": T.CREATURES,
}

LANGS = ("en", "zh")


def article(phrase: str) -> str:
    """English indefinite article for a phrase: "an owl", "a kite", "an umbrella"."""
    return "an" if phrase[0] in "aeiou" and not phrase.startswith(("uni", "use", "eu")) else "a"


def key_of(entry: Any) -> str:
    """Language-independent identity of an entry (its English spelling, or the gender letter)."""
    return entry if isinstance(entry, str) else entry[0]


def _same(en: Callable[..., str], zh: Callable[..., str] | None = None) -> dict:
    return {"en": en, "zh": zh or en}


class Slot(NamedTuple):
    name: str
    sources: tuple[str, ...]
    forms: dict[str, Callable[..., str]]  # lang -> function(*entries) -> text

    @property
    def roles(self) -> tuple[str, ...]:
        """The role sources among this slot's sources (what ``check`` keeps consistent)."""
        return tuple(s for s in self.sources if s in ROLE_SOURCES)

    def form(self, lang: str, *entries: Any) -> str:
        return self.forms[lang](*entries)

    def surfaces(self, lang: str) -> dict[str, tuple[str, ...]]:
        """Every spelling of this slot in ``lang`` -> the keys of the entries that make it."""
        pools = [ROLE_SOURCES.get(s) or FREE_SOURCES[s] for s in self.sources]
        out: dict[str, tuple[str, ...]] = {}
        for combo in itertools.product(*pools):
            out.setdefault(self.form(lang, *combo), tuple(key_of(e) for e in combo))
        return out


def _pronoun(en_f: str, en_m: str, zh_f: str = "她", zh_m: str = "他") -> dict:
    return {
        "en": lambda g: en_f if g == "f" else en_m,
        "zh": lambda g: zh_f if g == "f" else zh_m,
    }


def _a_thing(t: T.Thing) -> str:
    return f"{article(t.en)} {t.en}"


def _in_place_en(p: T.Place) -> str:
    return f"{p.prep} {p.en}"


def _in_place_zh(p: T.Place) -> str:
    return f"在{p.zh}{p.zh_suffix}"


def _cap(f: Callable[..., str]) -> Callable[..., str]:
    return lambda *e: (lambda s: s[:1].upper() + s[1:])(f(*e))


_DEFS: list[tuple[str, tuple[str, ...], dict]] = [
    # --- characters ---
    ("hero", ("hero",), {"en": lambda n: n.en, "zh": lambda n: n.zh}),
    ("friend", ("friend",), {"en": lambda n: n.en, "zh": lambda n: n.zh}),
    ("he", ("gender",), _pronoun("she", "he")),
    ("him", ("gender",), _pronoun("her", "him")),
    ("his", ("gender",), _pronoun("her", "his")),
    ("himself", ("gender",), _pronoun("herself", "himself", "自己", "自己")),
    ("ta", ("gender",), _pronoun("she", "he")),
    ("species", ("species",), {"en": lambda s: s.en, "zh": lambda s: s.zh}),
    ("a_species", ("species",), {"en": _a_thing, "zh": lambda s: f"一{s.mw}{s.zh}"}),
    ("friend_species", ("friend_species",), {"en": lambda s: s.en, "zh": lambda s: s.zh}),
    ("a_friend_species", ("friend_species",), {"en": _a_thing, "zh": lambda s: f"一{s.mw}{s.zh}"}),
    # --- the object, with its colour and measure word ---
    ("obj", ("obj",), {"en": lambda t: t.en, "zh": lambda t: t.zh}),
    ("a_obj", ("obj",), {"en": _a_thing, "zh": lambda t: f"一{t.mw}{t.zh}"}),
    ("a_cobj", ("obj", "colour"), {
        "en": lambda t, c: f"{article(c.en)} {c.en} {t.en}",
        "zh": lambda t, c: f"一{t.mw}{c.zh}的{t.zh}",
    }),
    ("colour", ("colour",), {"en": lambda c: c.en, "zh": lambda c: c.zh}),
    ("gift", ("gift",), {"en": lambda t: t.en, "zh": lambda t: t.zh}),
    ("a_gift", ("gift",), {"en": _a_thing, "zh": lambda t: f"一{t.mw}{t.zh}"}),
    # --- places ---
    ("place", ("place",), {"en": lambda p: p.en, "zh": lambda p: p.zh}),
    ("in_place", ("place",), {"en": _in_place_en, "zh": _in_place_zh}),
    ("place2", ("place2",), {"en": lambda p: p.en, "zh": lambda p: p.zh}),
    ("in_place2", ("place2",), {"en": _in_place_en, "zh": _in_place_zh}),
    ("spot", ("spot",), _same(lambda p: p.en, lambda p: p.zh)),
    ("landmark", ("landmark",), _same(lambda p: p.en, lambda p: p.zh)),
    # --- other story roles ---
    ("plant", ("plant",), _same(lambda p: p.en, lambda p: p.zh)),
    ("a_seed", ("plant",), {"en": lambda p: f"{article(p.en)} {p.en} seed", "zh": lambda p: f"一颗{p.zh}种子"}),
    ("fear", ("fear",), _same(lambda p: p.en, lambda p: p.zh)),
    ("mistake", ("mistake",), _same(lambda p: p.en, lambda p: p.zh)),
    # --- free words, drawn per sentence ---
    ("time", ("time",), _same(lambda p: p.en, lambda p: p.zh)),
    ("then", ("then",), _same(lambda p: p.en, lambda p: p.zh)),
    ("suddenly", ("suddenly",), _same(lambda p: p.en, lambda p: p.zh)),
    ("good", ("good",), _same(lambda p: p.en, lambda p: p.zh)),
    ("bad", ("bad",), _same(lambda p: p.en, lambda p: p.zh)),
    ("trait", ("trait",), _same(lambda p: p.en, lambda p: p.zh)),
    ("adverb", ("adverb",), _same(lambda p: p.en, lambda p: p.zh)),
    ("food", ("food",), _same(lambda p: p.en, lambda p: p.zh)),
    ("a_sight", ("sight",), _same(lambda p: p.en, lambda p: p.zh)),
    ("a_sound", ("sound",), _same(lambda p: p.en, lambda p: p.zh)),
    ("weather", ("weather",), _same(lambda p: p.en, lambda p: p.zh)),
    ("act", ("activity",), _same(lambda v: v.en, lambda v: v.zh)),
    ("act_past", ("activity",), _same(lambda v: v.past, lambda v: v.zh)),
    ("act_ing", ("activity",), _same(lambda v: v.ing, lambda v: v.zh)),
    ("chore", ("chore",), _same(lambda v: v.en, lambda v: v.zh)),
    ("chore_past", ("chore",), _same(lambda v: v.past, lambda v: v.zh)),
    ("exclaim", ("exclaim",), _same(lambda p: p.en, lambda p: p.zh)),
    ("a_creature", ("look", "creature"), {
        "en": lambda lk, c: f"{article(lk.en)} {lk.en} {c.en}",
        "zh": lambda lk, c: f"一{c.mw}{lk.zh}的{c.zh}",
    }),
]


def _build() -> dict[str, Slot]:
    slots = {name: Slot(name, sources, forms) for name, sources, forms in _DEFS}
    # Sentence-initial English spellings: {He}, {His}, {In_place}, {Place2}...
    for name in ("he", "his", "in_place", "place", "place2"):
        base = slots[name]
        cap = name[0].upper() + name[1:]
        slots[cap] = Slot(cap, base.sources, {lang: _cap(f) for lang, f in base.forms.items()})
    return slots


#: Every slot a template may use, by name.
SLOTS: dict[str, Slot] = _build()
