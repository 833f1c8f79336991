"""The checker: grade any text against the TinyTales grammar.

Taught in notebook 00 (the corpus); notebooks 07-10 use it to grade what a model writes.

``check(text)`` splits the text into sentences, parses each one (``parser.parse``), and reports
the share that the grammar can produce (``score``), whether the characters stay consistent
(the same hero, object and place throughout; pronouns that match the hero), and, for each
sentence that fails, why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from tinyllm.tinytales import parser as P
from tinyllm.tinytales.slots import LANGS, ROLE_SOURCES, SLOTS, key_of

#: Longer "sentences" are failed without parsing (the longest grammatical one is far shorter).
MAX_SENTENCE_CHARS = 400
#: Failures that get a "closest template" hint; later ones only say that nothing fits (keeps
#: huge garbage inputs fast).
MAX_HINTS = 50

#: How ``check`` names each role in its messages and in ``CheckReport.characters``.
ROLE_NAMES = {
    "hero": "hero", "gender": "hero's pronoun", "species": "hero's species", "friend": "friend",
    "friend_species": "friend's species", "obj": "object", "colour": "object's colour",
    "place": "place", "place2": "second place", "spot": "spot", "landmark": "landmark",
    "plant": "plant", "gift": "gift", "fear": "fear", "mistake": "mistake",
}


@dataclass(frozen=True)
class SentenceCheck:
    """How one sentence fared."""

    index: int
    text: str
    lang: str
    ok: bool
    template: str | None  # id of the template it fits
    reason: str  # why it failed ("" when ok)
    slots: tuple[tuple[str, str], ...] = ()  # (slot name, spelling) for each filled slot


@dataclass(frozen=True)
class CheckReport:
    """The grade of one text. ``score`` is the share of sentences the grammar can produce."""

    score: float
    n_sentences: int
    n_ok: int
    lang: str | None  # "en", "zh", "mix" (both), or None (no sentences)
    sentences: tuple[SentenceCheck, ...]
    consistent: bool  # no character-consistency issue
    issues: tuple[str, ...]  # consistency problems, in words
    characters: dict[str, str] = field(default_factory=dict)  # role -> first spelling seen
    arcs: tuple[str, ...] = ()  # plot arcs whose templates were matched
    ending: str | None = None  # "happy"/"sad" from the last ending-specific sentence

    @property
    def failures(self) -> list[SentenceCheck]:
        """The sentences that did not parse, each with its ``reason``."""
        return [s for s in self.sentences if not s.ok]

    @property
    def ok(self) -> bool:
        """Every sentence parses and the characters are consistent."""
        return self.n_sentences > 0 and self.n_ok == self.n_sentences and self.consistent

    def summary(self) -> str:
        """A few lines for a notebook: score, consistency, and the first failures."""
        lines = [f"score {self.score:.2f} ({self.n_ok}/{self.n_sentences} sentences parse), "
                 f"consistent: {self.consistent}"]
        lines += [f"  issue: {issue}" for issue in self.issues[:5]]
        lines += [f"  sentence {s.index}: {s.reason}" for s in self.failures[:5]]
        return "\n".join(lines)


@cache
def _display(lang: str) -> dict[str, dict[str, str]]:
    """role -> {entry key -> its spelling in ``lang``} (for messages and ``characters``)."""
    out = {}
    for role, entries in ROLE_SOURCES.items():
        slot = SLOTS["he"] if role == "gender" else SLOTS.get(role)
        out[role] = {key_of(e): (slot.form(lang, e) if slot else key_of(e)) for e in entries}
    return out


def _gender_of(hero_key: str) -> str:
    return next(n.gender for n in ROLE_SOURCES["hero"] if n.en == hero_key)


def _reason(sentence: str, lang: str, forced: bool, hint: bool) -> str:
    if forced and P.detect_lang(sentence) != lang:
        return f"not {'English' if lang == 'en' else 'Chinese'} (checked with lang={lang!r})"
    unknown = P.unknown_words(sentence, lang)
    if unknown:
        shown = ", ".join(repr(w) for w in unknown[:5])
        return f"unknown {'words' if lang == 'en' else 'characters'}: {shown}"
    if not hint:
        return "no template fits"
    return f"no template fits; closest is {P.closest(sentence, lang).text(lang)!r}"


def _consistency(parsed: list[tuple[int, str, list[tuple[str, str]]]]
                 ) -> tuple[list[str], dict[str, str]]:
    """Issues and first-seen characters from [(sentence index, lang, filled slots), ...]."""
    first: dict[str, tuple[str, int, str]] = {}  # role -> (key, sentence index, lang)
    issues = []
    for index, lang, found in parsed:
        for name, spelling in found:
            keys = P.slot_surfaces(lang, name)[spelling]
            for source, key in zip(SLOTS[name].sources, keys, strict=True):
                if source not in ROLE_SOURCES:
                    continue
                if source not in first:
                    first[source] = (key, index, lang)
                elif first[source][0] != key:
                    was, at, _ = first[source]
                    show = _display(lang)[source]
                    issues.append(f"sentence {index}: the {ROLE_NAMES[source]} is "
                                  f"{show.get(key, key)!r}, but sentence {at} made it "
                                  f"{show.get(was, was)!r}")
    if "hero" in first and "gender" in first:
        hero, _, _ = first["hero"]
        gender, at, _ = first["gender"]
        if _gender_of(hero) != gender:
            issues.append(f"sentence {at}: the pronoun does not match the hero "
                          f"({hero!r} takes {'she/her' if _gender_of(hero) == 'f' else 'he/him'})")
    if "hero" in first and "friend" in first and first["hero"][0] == first["friend"][0]:
        issues.append(f"the friend has the hero's name ({first['hero'][0]!r})")
    characters = {r: _display(lang)[r].get(k, k) for r, (k, _, lang) in first.items()}
    return issues, characters


def check(text: str, lang: str | None = None) -> CheckReport:
    """Grade ``text`` against the TinyTales grammar.

    Args:
        text: any text (a story, a model's sample, noise); a ``Story`` is accepted too.
        lang: ``"en"`` or ``"zh"`` to parse every sentence in that language, or ``None``
            (or ``"mix"``) to decide per sentence (Chinese if it contains a CJK character),
            which also grades mixed-language text.

    Returns:
        A ``CheckReport``: ``score`` (share of sentences the grammar produces, 0..1),
        ``consistent`` and ``issues`` (same hero/object/place throughout, pronouns that match),
        ``characters``, and ``sentences`` with a ``reason`` for each failure.
    """
    text = getattr(text, "text", text)  # a Story
    if not isinstance(text, str):
        raise TypeError(f"check() grades a str, got {type(text).__name__}; "
                        "decode bytes first, e.g. check(data.decode('utf-8', errors='replace'))")
    lang = None if lang == "mix" else lang
    if lang is not None and lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS} or None (detect), got {lang!r}")
    results, parsed, langs = [], [], []
    arcs: dict[str, None] = {}
    ending = None
    for index, raw in enumerate(P.split_sentences(text)):
        sent_lang = lang or P.detect_lang(raw)
        sentence = P.normalise(raw, sent_lang)
        langs.append(sent_lang)
        hit = P.parse(sentence, sent_lang) if len(sentence) <= MAX_SENTENCE_CHARS else None
        if hit is None:
            reason = (f"too long ({len(sentence)} characters)" if len(sentence) > MAX_SENTENCE_CHARS
                      else _reason(sentence, sent_lang, lang is not None,
                                   hint=len(results) - len(parsed) < MAX_HINTS))
            results.append(SentenceCheck(index, raw, sent_lang, False, None, reason))
            continue
        ct, found = hit
        results.append(SentenceCheck(index, raw, sent_lang, True, ct.template.id, "", tuple(found)))
        parsed.append((index, sent_lang, found))
        if ct.template.arc != "story":
            arcs[ct.template.arc] = None
        if ct.template.ending != "any":
            ending = ct.template.ending
    issues, characters = _consistency(parsed)
    n, n_ok = len(results), len(parsed)
    kinds = sorted(set(langs))
    return CheckReport(
        score=n_ok / n if n else 0.0,
        n_sentences=n,
        n_ok=n_ok,
        lang=None if not kinds else kinds[0] if len(kinds) == 1 else "mix",
        sentences=tuple(results),
        consistent=not issues,
        issues=tuple(issues),
        characters=characters,
        arcs=tuple(arcs),
        ending=ending,
    )
