"""TinyTales generator: determinism, richness targets, coherence, agreement."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections import Counter

import pytest

from tinyllm import tinytales as tt
from tinyllm.tinytales import stats
from tinyllm.tinytales.grammar import all_templates, slot_names
from tinyllm.tinytales.lexicon_characters import NAMES, SPECIES
from tinyllm.tinytales.lexicon_things import OBJECTS, PLACES
from tinyllm.tinytales.slots import FREE_SOURCES, SLOTS

# sha256 of "\n\n".join(texts of generate(20, seed=0, lang)). Changing the grammar or the
# lexicon changes these: bump grammar.CORPUS_VERSION and update them together.
PINNED = {
    "en": "e27fd879b87b758346d301bd9f81f2ef059445792cafe1fc7234fc4e94d3148f",
    "zh": "f812d61ef5d862cbabaae2f046ef07a307aeaff19fd111a2cc700bea2be4282e",
    "mix": "b933c6ae3169f69205337f65da972725aef5f43799295ff9048c2cca56b30d88",
}


@pytest.fixture(scope="module")
def sample():
    """2,000 stories per language: enough for coverage checks, fast enough for CI."""
    return {lang: tt.generate(2000, seed=11, lang=lang) for lang in ("en", "zh")}


@pytest.mark.parametrize("lang", ["en", "zh", "mix"])
def test_pinned_hash(lang):
    text = "\n\n".join(s.text for s in tt.generate(20, seed=0, lang=lang))
    assert hashlib.sha256(text.encode()).hexdigest() == PINNED[lang]


def test_same_seed_same_stories_and_prefix_property():
    a = tt.generate(50, seed=5, lang="mix")
    assert a == tt.generate(50, seed=5, lang="mix")
    assert tt.generate(10, seed=5, lang="mix") == a[:10]
    assert [s.text for s in a] != [s.text for s in tt.generate(50, seed=6, lang="mix")]


def test_identical_in_a_fresh_interpreter_with_another_hash_seed():
    code = ("import hashlib; from tinyllm.tinytales import generate; "
            "print(hashlib.sha256('\\n\\n'.join(s.text for s in generate(20, 0, 'en'))"
            ".encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "12345", "PATH": ""}, check=True)
    assert out.stdout.strip() == PINNED["en"]


def test_en_and_zh_are_translations_and_mix_takes_one_of_them():
    en, zh, mix = (tt.generate(40, seed=3, lang=lang) for lang in ("en", "zh", "mix"))
    for e, z, m in zip(en, zh, mix, strict=True):
        assert (e.arc, e.ending, e.templates, e.n_sentences) == (z.arc, z.ending, z.templates, z.n_sentences)
        assert m in (e, z)
    assert 10 < sum(m.lang == "en" for m in mix) < 30


def test_metadata_matches_text(sample):
    for story in sample["en"][:300] + sample["zh"][:300]:
        for value in (story.hero, story.species, story.object, story.colour):
            assert value in story.text
        assert story.place in story.text or story.lang == "en" and story.place.lower() in story.text.lower()
        if story.companion:
            assert story.companion in story.text
        assert story.arc in tt.ARC_NAMES and story.ending in ("happy", "sad")
        assert story.n_sentences == len(tt.split_sentences(story.text)) == len(story.templates)


@pytest.fixture(scope="module")
def english_20k():
    """The issue's measurement size for English (about 5 s): word types and duplicates."""
    return [s.text for s in tt.generate(20_000, seed=2, lang="en")]


def test_word_types_and_duplicates_on_20k_stories(english_20k):
    assert stats.word_types(english_20k) >= 1500
    assert stats.duplicate_rate(english_20k) <= 0.005


def test_richness_targets_on_a_sample(sample):
    """The other targets already hold on 2,000 stories per language (`--stats` measures
    20,000; a smaller sample can only show fewer types)."""
    en, zh = sample["en"], sample["zh"]
    assert stats.cjk_characters([s.text for s in zh]) >= 800
    for stories in (en, zh):
        assert len({s.hero for s in stories}) >= 60
        assert len({s.species for s in stories}) >= 20
        assert len({s.object for s in stories}) >= 40
        assert len({s.place for s in stories}) >= 25
        assert len({s.arc for s in stories}) >= 10
        assert {s.ending for s in stories} == {"happy", "sad"}
        lengths = Counter(s.n_sentences for s in stories)
        assert min(lengths) >= 4 and max(lengths) <= 14 and len(lengths) >= 5
    feelings = [p.en for p in FREE_SOURCES["good"] + FREE_SOURCES["bad"]]
    pattern = re.compile(r"\b(" + "|".join(feelings) + r")\b")
    used = {w for s in en for w in pattern.findall(s.text)}
    assert len(used) >= 12
    assert any('"' in s.text for s in en) and any("“" in s.text for s in zh)  # dialogue
    times = [p.en for p in FREE_SOURCES["time"] + FREE_SOURCES["then"]]
    assert sum(any(t in s.text for t in times) for s in en) > len(en) / 2  # time words


def test_lexicon_and_template_counts():
    assert len(NAMES) >= 60 and len({n.en for n in NAMES}) == len(NAMES)
    assert len({n.zh for n in NAMES}) == len(NAMES)
    assert len(SPECIES) >= 20 and len(OBJECTS) >= 40 and len(PLACES) >= 25
    assert len(FREE_SOURCES["good"]) + len(FREE_SOURCES["bad"]) >= 12
    templates = all_templates()
    assert 2 * len(templates) >= 150 and len(templates) >= 150
    for lang in ("en", "zh"):
        texts = [t.text(lang) for t in templates]
        assert len(set(texts)) == len(texts), "duplicate templates"


def test_every_template_used_and_pairs_share_free_slots(sample):
    used = {t for s in sample["en"] for t in s.templates}
    assert used == {t.id for t in all_templates()}
    for t in all_templates():
        free_en = {s for n in slot_names(t.en) for s in SLOTS[n].sources if s in FREE_SOURCES}
        free_zh = {s for n in slot_names(t.zh) for s in SLOTS[n].sources if s in FREE_SOURCES}
        assert free_en == free_zh, t.id


def test_generation_speed():
    # One core, best of three; the target is 2,000 stories/s, we ask for half on a busy CI box.
    assert stats.stories_per_second(n=1000) >= 1000


def test_pronouns_and_measure_words_agree(sample):
    for s in sample["en"][:500]:
        wrong = r"\b(he|him|his|himself)\b" if s.gender == "f" else r"\b(she|her|herself)\b"
        assert not re.search(wrong, s.text, flags=re.IGNORECASE), s.text
    mw = {sp.zh: sp.mw for sp in SPECIES} | {o.zh: o.mw for o in OBJECTS}
    for s in sample["zh"][:500]:
        assert s.hero in s.text
        m = re.search("一(.)" + re.escape(s.species), s.text)
        if m:
            assert m.group(1) == mw[s.species], s.text
        wrong = "他" if s.gender == "f" else "她"
        # 他 also occurs in 他们 (they), 其他 (other) and 吉他 (guitar), whoever the hero is.
        assert wrong not in re.sub("他们|其他|吉他", "", s.text), s.text


@pytest.mark.parametrize("bad", [
    dict(n=-1), dict(n=2.5), dict(seed=-3), dict(seed="x"), dict(lang="fr"),
])
def test_bad_arguments_are_named(bad):
    args = dict(n=2, seed=0, lang="en") | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        tt.generate(**args)


def test_stats_report_marks_targets():
    figures = stats.measure(n=300, dup_n=0, speed_n=0)
    text = stats.report(figures)
    assert "plot_arcs" in text and "met" in text
    assert stats.met("plot_arcs", figures["plot_arcs"])
    assert not stats.met("duplicate_rate", 0.01)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_samples_are_reproducible(lang):
    """data/tinytales/sample_<lang>.txt is `python -m tinyllm.tinytales --sample 50
    --lang <lang> --seed 2026` (see data/README.md), and passes its recorded checksum."""
    from tinyllm import data_file

    path = data_file(f"tinytales/sample_{lang}.txt")
    expected = "\n\n".join(s.text for s in tt.generate(50, seed=2026, lang=lang)) + "\n"
    assert path.read_text(encoding="utf-8") == expected
    assert all(tt.check(block).ok for block in expected.strip().split("\n\n"))
