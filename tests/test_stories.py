"""Stories a model writes, graded by the TinyTales checker (tinyllm.stories)."""

from __future__ import annotations

import pytest

from tinyllm import shipped, stories, tinytales


@pytest.fixture(scope="module")
def pretrained():
    return shipped.load_pretrained("base")


def test_first_token_mask_picks_the_language(pretrained):
    _, tokenizer = pretrained
    en, zh = stories.first_token_mask(tokenizer, "en"), stories.first_token_mask(tokenizer, "zh")
    assert not (en & zh).any() and not en[tokenizer.eot_token] and not zh[tokenizer.eot_token]
    assert en[tokenizer.encode("Once")[0]] and zh[tokenizer.encode("从")[0]]
    assert not zh[tokenizer.encode("。")[0]]  # CJK punctuation shares lead byte 0xE3; it opens no story
    with pytest.raises(ValueError, match="'en' or 'zh'"):
        stories.first_token_mask(tokenizer, "fr")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_shipped_model_writes_grammatical_stories(pretrained, lang):
    model, tokenizer = pretrained
    quality = stories.evaluate_story_quality(model, tokenizer, n=16, lang=lang, seed=0)
    assert len(quality.texts) == 16
    # The first token picks the language; the model may still drift into the other one later.
    assert sum(tinytales.check(t).lang == lang for t in quality.texts) >= 14
    # data/README.md: 0.967 (en) / 0.953 (zh) over 200 stories; 16 stories (~130 sentences)
    # vary by a few hundredths, so 0.85 fails only for a model that really got worse (the
    # 1,000-step model scored 0.86 in Chinese, an untrained one 0).
    assert quality.valid_sentence_rate >= 0.85
    assert quality.hero_consistency >= 0.2  # 200 stories: 0.51 / 0.73
    again = stories.evaluate_story_quality(model, tokenizer, n=16, lang=lang, seed=0)
    assert again.texts == quality.texts  # seeded


def test_story_sampler_logs_graded_stories_in_both_languages(pretrained):
    model, tokenizer = pretrained
    sample = stories.story_sampler(tokenizer, "mix", n=4)
    logged = sample(model, 7)
    assert logged == sample(model, 7)  # seeded by the step
    assert logged["score"] > 0.5 and logged["valid_sentences"] > 0.5
    assert tinytales.check(logged["text"]).lang == "en"
    assert model.training is False  # sampling puts back the mode it found
