"""TinyTales checker: generated text scores 1.0, broken text does not, nothing crashes it."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinyllm import tinytales as tt
from tinyllm.tinytales.parser import split_sentences

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 2**40), lang=st.sampled_from(["en", "zh", "mix"]))
def test_generated_stories_score_one_and_are_consistent(seed, lang):
    for story in tt.generate(3, seed=seed, lang=lang):
        report = tt.check(story.text)
        assert report.score == 1.0, report.summary()
        assert report.consistent, report.issues
        assert report.lang == story.lang and report.n_sentences == story.n_sentences
        assert report.ending == story.ending and report.arcs == (story.arc,)
        assert report.characters["hero"] == story.hero
        assert report.characters["obj"] == story.object
        assert report.characters["place"] == story.place


def test_many_generated_stories_score_one():
    stories = tt.generate(400, seed=99, lang="mix")
    reports = [tt.check(s) for s in stories]
    assert all(r.ok for r in reports)


def _shuffle_words(text: str, lang: str, rng: random.Random) -> str:
    """Shuffle the words (Chinese: characters) of each sentence, keeping its end mark in place
    so the sentence boundaries stay where they were."""
    out = []
    for sentence in split_sentences(text):
        body = sentence.rstrip(".!?。！？\"”")
        end = sentence[len(body):]
        units = body.split() if lang == "en" else list(body)
        rng.shuffle(units)
        out.append((" " if lang == "en" else "").join(units) + end)
    return (" " if lang == "en" else "").join(out)


@SETTINGS
@given(seed=st.integers(0, 2**32), lang=st.sampled_from(["en", "zh"]))
def test_words_shuffled_within_sentences_score_at_most_point_two(seed, lang):
    rng = random.Random(seed)
    for story in tt.generate(3, seed=seed, lang=lang):
        shuffled = _shuffle_words(story.text, lang, rng)
        assert tt.check(shuffled, lang=lang).score <= 0.2


@SETTINGS
@given(st.text(max_size=3000))
def test_any_unicode_text_gets_a_score(text):
    report = tt.check(text)
    assert 0.0 <= report.score <= 1.0
    assert report.n_ok <= report.n_sentences
    assert all(s.reason for s in report.failures)


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes_get_a_score(data):
    report = tt.check(data.decode("utf-8", errors="replace"))
    assert 0.0 <= report.score <= 1.0


@SETTINGS
@given(seed=st.integers(0, 2**32), junk=st.text(max_size=200))
def test_mixed_languages_and_junk(seed, junk):
    en, zh = tt.generate(1, seed=seed, lang="en")[0], tt.generate(1, seed=seed, lang="zh")[0]
    report = tt.check(en.text + " " + zh.text + " " + junk)
    assert 0.0 <= report.score <= 1.0
    assert report.n_ok >= en.n_sentences + zh.n_sentences - 1  # junk can swallow one at most
    assert report.lang in ("mix", "en", "zh")


def test_empty_and_blank_text():
    for text in ("", "   \n\t ", "..."):
        report = tt.check(text)
        assert report.score == 0.0 and report.n_ok == 0
    assert tt.check("").n_sentences == 0 and tt.check("").lang is None


def test_huge_text_is_graded_quickly():
    stories = " ".join(s.text for s in tt.generate(300, seed=4, lang="en"))
    noise = "".join(random.Random(0).choice("abc xyz.!?") for _ in range(200_000))
    start = time.perf_counter()
    report = tt.check(stories + " " + noise + " " + "x" * 500_000)
    assert time.perf_counter() - start < 20
    assert 0.0 < report.score < 1.0


def test_one_story_checks_well_under_ten_ms():
    stories = tt.generate(200, seed=8, lang="mix")
    tt.check(stories[0])  # warm the caches
    start = time.perf_counter()
    for s in stories:
        tt.check(s)
    per_story = (time.perf_counter() - start) / len(stories)
    assert per_story < 0.010


def test_failures_say_why():
    report = tt.check("Mia had an kite. Mia went blorp. 小美有一把风筝。")
    assert report.score == 0.0 and len(report.failures) == 3
    assert "no template fits" in report.failures[0].reason
    assert "blorp" in report.failures[1].reason
    assert "no template fits" in report.failures[2].reason  # 把 is not the measure word of 风筝
    assert "not English" in tt.check("小美有一只红色的风筝。", lang="en").failures[0].reason


def test_agreement_is_part_of_the_grammar():
    assert tt.check("Mia had a red kite.").score == 1.0
    assert tt.check("Mia had an red kite.").score == 0.0
    assert tt.check("Mia had an orange kite.").score == 1.0
    assert tt.check("小美有一只红色的风筝。").score == 1.0
    assert tt.check("小美有一本红色的风筝。").score == 0.0


def test_consistency_catches_a_changed_hero_object_or_pronoun():
    story = next(s for s in tt.generate(50, seed=1, lang="en")
                 if s.gender == "f" and " her " in s.text)
    assert tt.check(story).consistent
    assert not tt.check(story.text.replace(" her ", " his ", 1)).consistent
    other_name = next(n for n in ("Tom", "Max", "Leo") if n != story.hero)
    parts = story.text.split(story.hero)
    swapped = story.hero.join(parts[:-1]) + other_name + parts[-1]
    report = tt.check(swapped)
    assert not report.consistent and any("hero" in i for i in report.issues)


def test_check_rejects_non_text_with_a_clear_error():
    with pytest.raises(TypeError, match="decode"):
        tt.check(b"bytes")
    with pytest.raises(ValueError, match="lang"):
        tt.check("Mia had a red kite.", lang="fr")


def test_split_sentences_keeps_dialogue_together():
    text = '"Where is my kite?" asked Mia. Mia said, "Let us share my kite." 小美问：“我的风筝在哪里？”小美哭了。'
    assert split_sentences(text) == ['"Where is my kite?" asked Mia.',
                                     'Mia said, "Let us share my kite."',
                                     "小美问：“我的风筝在哪里？”", "小美哭了。"]


def test_shuffled_corpus_scores_near_zero_on_average():
    rng = random.Random(0)
    stories = tt.generate(150, seed=21, lang="en") + tt.generate(150, seed=21, lang="zh")
    scores = [tt.check(_shuffle_words(s.text, s.lang, rng), lang=s.lang).score for s in stories]
    assert sum(scores) / len(scores) <= 0.02
    assert sum(score > 0.2 for score in scores) <= 2  # a 4-word sentence can shuffle back
