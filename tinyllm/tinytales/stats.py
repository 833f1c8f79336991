"""The corpus's vital statistics, measured, next to the targets they must meet.

Taught in notebook 00 (the corpus). ``python -m tinyllm.tinytales --stats`` prints them; the unit
tests check the same targets on smaller samples.
"""

from __future__ import annotations

import re
import time
from collections import Counter

from tinyllm.tinytales.arcs import ARCS
from tinyllm.tinytales.generate import generate
from tinyllm.tinytales.grammar import all_templates
from tinyllm.tinytales.lexicon_words import BAD_FEELINGS, GOOD_FEELINGS

_EN_WORD = re.compile(r"[A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

#: name -> (comparison, target). Measured on 20,000 stories per language unless noted.
TARGETS = {
    "en_word_types": (">=", 1500),
    "zh_characters": (">=", 800),
    "hero_names_per_lang": (">=", 60),
    "species": (">=", 20),
    "objects": (">=", 40),
    "places": (">=", 25),
    "feelings": (">=", 12),
    "plot_arcs": (">=", 10),
    "templates_all": (">=", 150),
    "min_sentences": (">=", 4),
    "max_sentences": ("<=", 14),
    "duplicate_rate": ("<=", 0.005),
    "stories_per_second": (">=", 2000),
}


def word_types(texts: list[str]) -> int:
    """Distinct lower-cased English words (letters only; "Mia's" counts "mia" and "s")."""
    return len({w.lower() for t in texts for w in _EN_WORD.findall(t)})


def cjk_characters(texts: list[str]) -> int:
    """Distinct Chinese characters."""
    return len({c for t in texts for c in _CJK.findall(t)})


def duplicate_rate(texts: list[str]) -> float:
    """Share of stories that repeat an earlier one exactly."""
    return (len(texts) - len(set(texts))) / max(len(texts), 1)


def stories_per_second(n: int = 2000, seed: int = 123) -> float:
    """Generation speed on one core (best of three runs, to dodge a busy machine)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        generate(n, seed=seed, lang="en")
        best = min(best, time.perf_counter() - start)
    return n / best


def measure(n: int = 20_000, dup_n: int = 100_000, seed: int = 0,
            speed_n: int = 2000) -> dict[str, float]:
    """Every figure in ``TARGETS`` (plus a few more), measured on freshly generated stories."""
    en = generate(n, seed=seed, lang="en")
    zh = generate(n, seed=seed, lang="zh")
    sentences = Counter(s.n_sentences for s in en + zh)
    used_templates = {t for s in en for t in s.templates}
    figures: dict[str, float] = {
        "en_word_types": word_types([s.text for s in en]),
        "zh_characters": cjk_characters([s.text for s in zh]),
        "hero_names_per_lang": min(len({s.hero for s in en}), len({s.hero for s in zh})),
        "species": len({s.species for s in en}),
        "objects": len({s.object for s in en}),
        "places": len({s.place for s in en}),
        "feelings": len(GOOD_FEELINGS) + len(BAD_FEELINGS),
        "plot_arcs": len({s.arc for s in en}),
        "templates_all": 2 * len(all_templates()),
        "templates_per_lang": len(all_templates()),
        "templates_used_en": len(used_templates),
        "min_sentences": min(sentences),
        "max_sentences": max(sentences),
        "happy_share": sum(s.ending == "happy" for s in en) / n,
    }
    if dup_n:
        figures["duplicate_rate"] = duplicate_rate([s.text for s in generate(dup_n, seed + 1, "en")])
    if speed_n:
        figures["stories_per_second"] = stories_per_second(speed_n)
    assert len(ARCS) >= figures["plot_arcs"]
    return figures


def met(name: str, value: float) -> bool:
    op, target = TARGETS[name]
    return value >= target if op == ">=" else value <= target


def report(figures: dict[str, float]) -> str:
    """The figures as a table, each target marked met / NOT MET."""
    lines = []
    for name, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) and value < 1 else f"{value:,.0f}"
        if name in TARGETS:
            op, target = TARGETS[name]
            mark = "met" if met(name, value) else "NOT MET"
            lines.append(f"{name:<22} {shown:>10}   target {op} {target:<7} {mark}")
        else:
            lines.append(f"{name:<22} {shown:>10}")
    return "\n".join(lines)
