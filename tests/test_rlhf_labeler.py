"""The simulated labeler: each component on hand-made replies, Bradley-Terry labels against
their formula, the noise ceiling against simulated labels, the win rate; the RLHF prompts."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyllm.rlhf.labeler import (
    WEIGHTS,
    agreement_ceiling,
    component_means,
    components,
    prefer,
    preference_probability,
    true_score,
    true_scores,
    win_rate,
)
from tinyllm.rlhf.prompts import rlhf_tasks
from tinyllm.sft_data import eval_prompts, is_held_out
from tinyllm.tinytales import StorySpec, split_sentences

TASK = eval_prompts(1, "en")[0]  # asks for hero, species, object, place and ending


def test_weights_sum_to_one():
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_corpus_story_that_meets_its_request_scores_one(lang):
    task = eval_prompts(1, lang)[0]
    assert components(task, task.response) == {c: 1.0 for c in WEIGHTS}
    assert math.isclose(true_score(task, task.response), 1.0)


def test_each_component_can_fail_alone():
    story = TASK.response
    sentences = split_sentences(story)
    repeated = " ".join([*sentences[:-1], sentences[1], sentences[-1]])
    got = components(TASK, repeated)
    assert got["no_repeats"] == pytest.approx((len(sentences)) / (len(sentences) + 1))
    assert got["constraints"] == 1.0 and got["grammar"] == 1.0

    garbage = story + " Zorp blib the wug."
    got = components(TASK, garbage)
    assert got["grammar"] == pytest.approx(len(sentences) / (len(sentences) + 1))
    assert got["constraints"] == 1.0 and got["consistent"] == 1.0

    other = "Mia" if TASK.spec.hero != "Mia" else "Leo"
    renamed_later = story.replace(TASK.spec.hero, other).replace(other, TASK.spec.hero, 1)
    got = components(TASK, renamed_later)
    assert got["consistent"] == 0.0


def test_constraints_is_the_share_of_requested_ones_met():
    spec = TASK.spec
    wrong_place = StorySpec(**{**spec.to_dict(), "place": "the moon base"})
    assert components(wrong_place, TASK.response)["constraints"] == pytest.approx(4 / 5)
    only_hero = StorySpec(spec.lang, hero=spec.hero)
    assert components(only_hero, TASK.response)["constraints"] == 1.0


def test_happy_ending_is_preferred_only_when_no_ending_was_asked():
    sad = next(t for t in eval_prompts(40, "en") if t.spec.ending == "sad")
    happy = next(t for t in eval_prompts(40, "en") if t.spec.ending == "happy")
    open_sad = StorySpec(**{**sad.spec.to_dict(), "ending": None})
    open_happy = StorySpec(**{**happy.spec.to_dict(), "ending": None})
    assert components(open_sad, sad.response)["happy"] == 0.0
    assert components(open_happy, happy.response)["happy"] == 1.0
    assert components(sad, sad.response)["happy"] == 1.0  # asked for sad: the request decides
    assert true_score(open_sad, sad.response) == pytest.approx(1 - WEIGHTS["happy"])


def test_a_reply_without_a_grammatical_sentence_scores_zero_and_bad_input_is_named():
    assert true_score(TASK, "") == 0.0
    assert true_score(TASK, "Zorp blib. Wug.") == 0.0
    with pytest.raises(TypeError, match="InstructionTask or a StorySpec"):
        true_score("a fox", "story")
    with pytest.raises(ValueError, match="one reply per task"):
        true_scores([TASK], ["a", "b"])


def test_true_scores_and_means_agree_with_true_score():
    tasks = eval_prompts(3, "en")
    replies = [tasks[0].response, tasks[1].response + " Zorp.", ""]
    scores = true_scores(tasks, replies)
    assert scores.tolist() == pytest.approx([true_score(t, r) for t, r in zip(tasks, replies, strict=True)])
    means = component_means(tasks, replies)
    assert means["true_score"] == pytest.approx(float(scores.mean()))


def test_preference_probability_is_bradley_terry():
    a, b = torch.tensor([0.9, 0.5, 0.2]), torch.tensor([0.4, 0.5, 0.3])
    expected = [1 / (1 + math.exp(-(x - y) / 0.1)) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    assert preference_probability(a, b, 0.1).tolist() == pytest.approx(expected)
    assert preference_probability(a, b, 0.0).tolist() == [1.0, 0.5, 0.0]
    with pytest.raises(ValueError, match="temperature"):
        preference_probability(a, b, -1.0)


def test_prefer_draws_with_that_probability_and_repeats_with_a_seed():
    a, b = torch.full((20_000,), 0.6), torch.full((20_000,), 0.5)
    labels = prefer(a, b, 0.1, torch.Generator().manual_seed(0))
    p = 1 / (1 + math.exp(-1.0))
    assert float(labels.double().mean()) == pytest.approx(p, abs=0.01)
    again = prefer(a, b, 0.1, torch.Generator().manual_seed(0))
    assert torch.equal(labels, again)
    assert bool(prefer(a[:5], b[:5], 0.0).all())  # noiseless: the better one, always


def test_agreement_ceiling_is_the_expected_agreement_of_the_labels():
    generator = torch.Generator().manual_seed(1)
    a, b = torch.rand(50_000, generator=generator), torch.rand(50_000, generator=generator)
    labels = prefer(a, b, 0.05, torch.Generator().manual_seed(2))
    agree = (labels == (a > b)).double().mean()
    assert agreement_ceiling(a, b, 0.05) == pytest.approx(float(agree), abs=0.005)
    # By hand: |a - b| = 0.1 at temperature 0.1 agrees with probability sigmoid(1); a tie, half.
    hand = (1 / (1 + math.exp(-1)) + 0.5) / 2
    assert agreement_ceiling(torch.tensor([0.6, 0.3]), torch.tensor([0.5, 0.3]), 0.1) == pytest.approx(hand)
    assert agreement_ceiling(torch.tensor([0.6]), torch.tensor([0.5]), 0.0) == 1.0


def test_win_rate_counts_ties_half():
    assert win_rate(torch.tensor([0.9, 0.5, 0.1, 0.7]), torch.tensor([0.1, 0.5, 0.9, 0.6])) == 0.625
    with pytest.raises(ValueError, match="one shape"):
        win_rate(torch.tensor([1.0]), torch.tensor([1.0, 2.0]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=10), st.floats(0.01, 1))
def test_ceiling_lies_between_a_half_and_one(scores, temperature):
    a = torch.tensor(scores)
    ceiling = agreement_ceiling(a, a.flip(0), temperature)
    assert 0.5 - 1e-12 <= ceiling <= 1.0


# --- the RLHF prompts --------------------------------------------------------------------------


def test_rlhf_tasks_are_repeatable_prefixes_from_their_split():
    train = rlhf_tasks(30, "en", "train")
    assert [t.prompt for t in train[:10]] == [t.prompt for t in rlhf_tasks(10, "en", "train")]
    assert [t.prompt for t in train] == [t.prompt for t in rlhf_tasks(30, "en", "train")]
    assert not any(is_held_out(t.story) for t in train)
    held = rlhf_tasks(20, "zh", "eval")
    assert len(held) == 20 and all(is_held_out(t.story) for t in held)
    for t in train[:10]:  # the corpus story meets its request; only the taste can fail
        happy = float(t.spec.ending is not None or t.story.ending == "happy")
        assert components(t, t.response) == {c: 1.0 for c in WEIGHTS} | {"happy": happy}


def test_some_rlhf_tasks_leave_the_ending_open():
    open_ending = sum(t.spec.ending is None for t in rlhf_tasks(400, "en", "train"))
    assert open_ending == 137  # each constraint is asked with probability 0.6


def test_rlhf_tasks_name_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        rlhf_tasks(1, "en", "test")
    with pytest.raises(ValueError, match="lang"):
        rlhf_tasks(1, "fr")
