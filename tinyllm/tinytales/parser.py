"""The TinyTales parser: does a sentence fit a template, with every slot a real lexicon entry?

Taught in notebook 00 (the corpus) and used for grading in notebooks 07-10.

A template ``"{hero} had {a_cobj}."`` is compiled into pieces: slot ``hero``, the text
``" had "``, slot ``a_cobj``, the text ``"."``. Matching walks the sentence left to right; at a
slot it tries every spelling the slot can have (``slots.Slot.surfaces``, looked up by length in a
dict), backtracking if the rest does not fit. Agreement is therefore part of the grammar:
"an kite" or "一把风筝" is no spelling of ``a_obj`` and matches nothing. (A regular expression
with the same alternatives works too, but compiling hundreds of them takes seconds.)
A cheap pre-filter (every literal piece of the template must occur in the sentence) skips most
templates before any matching runs.
"""

from __future__ import annotations

import re
import string
from functools import cache
from typing import NamedTuple

from tinyllm.tinytales.grammar import Template, all_templates
from tinyllm.tinytales.slots import LANGS, SLOTS

_CJK = re.compile(r"[\u3400-\u9fff]")
_EN_WORD = re.compile(r"[A-Za-z]+")  # "Mia's" -> "Mia", "s"
# A sentence ends at . ! ? (or their Chinese forms), possibly followed by a closing quote.
_SENTENCE_END = re.compile(r"[.!?。！？]+[\"”]?")


@cache
def slot_surfaces(lang: str, name: str) -> dict[str, tuple[str, ...]]:
    """Every spelling of slot ``name`` in ``lang`` -> the keys of the lexicon entries behind it."""
    return SLOTS[name].surfaces(lang)


@cache
def _slot_lengths(lang: str, name: str) -> tuple[int, ...]:
    """Distinct lengths of a slot's spellings, longest first (the matcher tries each)."""
    return tuple(sorted({len(s) for s in slot_surfaces(lang, name)}, reverse=True))


class Piece(NamedTuple):
    slot: str | None  # slot name, or None for fixed text
    text: str  # the fixed text ("" for a slot)


class CompiledTemplate(NamedTuple):
    template: Template
    lang: str
    pieces: tuple[Piece, ...]
    literals: tuple[str, ...]  # fixed text pieces, for the pre-filter and "closest template"

    def match(self, sentence: str) -> list[tuple[str, str]] | None:
        """[(slot name, spelling), ...] if the whole sentence fits this template, else None."""
        found: list[tuple[str, str]] = []
        return found if _match(self.pieces, self.lang, sentence, 0, 0, found) else None


def _match(pieces: tuple[Piece, ...], lang: str, s: str, i: int, k: int,
           found: list[tuple[str, str]]) -> bool:
    if k == len(pieces):
        return i == len(s)
    slot, text = pieces[k]
    if slot is None:
        return s.startswith(text, i) and _match(pieces, lang, s, i + len(text), k + 1, found)
    surfaces = slot_surfaces(lang, slot)
    after = pieces[k + 1].text if k + 1 < len(pieces) else None  # fixed text that must follow
    for length in _slot_lengths(lang, slot):
        end = i + length
        if end > len(s) or (after and not s.startswith(after, end)):
            continue
        if s[i:end] in surfaces:
            found.append((slot, s[i:end]))
            if _match(pieces, lang, s, end, k + 1, found):
                return True
            found.pop()
    return False


def normalise(sentence: str, lang: str) -> str:
    """Collapse whitespace the way the generator writes it (none inside Chinese sentences)."""
    return ("" if lang == "zh" else " ").join(sentence.split())


def _compile(template: Template, lang: str) -> CompiledTemplate:
    pieces, literals = [], []
    for literal, field, _, _ in string.Formatter().parse(template.text(lang)):
        if literal:
            pieces.append(Piece(None, literal))
            if literal.strip():
                literals.append(literal)
        if field is not None:
            pieces.append(Piece(field, ""))
    return CompiledTemplate(template, lang, tuple(pieces), tuple(literals))


@cache
def compiled(lang: str) -> tuple[CompiledTemplate, ...]:
    """All templates of ``lang``, compiled (built once per process)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return tuple(_compile(t, lang) for t in all_templates())


@cache
def vocabulary(lang: str) -> frozenset[str]:
    """Words (English, lower-cased) or characters (Chinese) the grammar can produce."""
    texts = [t.text(lang) for t in all_templates()]
    texts += [s for name in SLOTS for s in slot_surfaces(lang, name)]
    if lang == "en":
        return frozenset(w.lower() for text in texts for w in _EN_WORD.findall(text))
    return frozenset(ch for text in texts for ch in _CJK.findall(text))


def unknown_words(sentence: str, lang: str) -> list[str]:
    """Words (en) or characters (zh) of ``sentence`` that no template or slot can produce."""
    vocab = vocabulary(lang)
    found = _EN_WORD.findall(sentence) if lang == "en" else _CJK.findall(sentence)
    seen = dict.fromkeys(w for w in found if (w.lower() if lang == "en" else w) not in vocab)
    return list(seen)


def detect_lang(sentence: str) -> str:
    """"zh" if the sentence contains any CJK character, else "en"."""
    return "zh" if _CJK.search(sentence) else "en"


def split_sentences(text: str) -> list[str]:
    """Split text into sentences at . ! ? 。！？ (keeping a closing quote with its sentence).

    A piece that starts with a lower-case letter continues the previous sentence, so
    ``"Where is it?" asked Mia.`` stays one sentence.
    """
    pieces, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append(text[start:m.end()])
        start = m.end()
    pieces.append(text[start:])
    sentences: list[str] = []
    for piece in pieces:
        stripped = piece.strip()
        if not stripped:
            continue
        if sentences and stripped[0].islower() and stripped[0].isascii():
            sentences[-1] = sentences[-1] + piece.rstrip()
        else:
            sentences.append(stripped)
    return sentences


def parse(sentence: str, lang: str) -> tuple[CompiledTemplate, list[tuple[str, str]]] | None:
    """The first template of ``lang`` that the whole (normalised) sentence fits, and its filled
    slots as [(slot name, spelling), ...]; None if no template fits."""
    for ct in compiled(lang):
        if all(lit in sentence for lit in ct.literals):
            found = ct.match(sentence)
            if found is not None:
                return ct, found
    return None


def closest(sentence: str, lang: str) -> Template:
    """The template whose fixed text the sentence contains most of (for failure messages):
    the largest share of its literal pieces, then the most characters."""
    def overlap(ct: CompiledTemplate) -> tuple[float, int]:
        total = sum(len(lit) for lit in ct.literals) or 1
        found = sum(len(lit) for lit in ct.literals if lit in sentence)
        return found / total, found
    return max(compiled(lang), key=overlap).template
