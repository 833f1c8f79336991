"""Instruction tasks, satisfies(), reading questions and the answer checker."""

from __future__ import annotations

import pytest

from tinyllm import tinytales as tt
from tinyllm.tinytales import StorySpec


@pytest.fixture(scope="module", params=["en", "zh"])
def tasks(request):
    return tt.instruction_tasks(200, seed=3, lang=request.param)


def test_every_task_story_satisfies_its_spec(tasks):
    for task in tasks:
        assert tt.satisfies(task.spec, task.story), tt.unmet(task.spec, task.story)
        assert tt.satisfies(task.spec.to_dict(), task.response)
        assert task.spec.hero in task.prompt


def test_specs_vary_and_prompts_name_the_constraints(tasks):
    kinds = {tuple(k for k in ("species", "object", "place", "ending") if getattr(t.spec, k))
             for t in tasks}
    assert len(kinds) >= 8
    for t in tasks:
        for field in ("species", "object", "place"):
            value = getattr(t.spec, field)
            if value:
                assert value in t.prompt


def test_each_constraint_can_fail(tasks):
    task = next(t for t in tasks if t.spec.object and t.spec.ending and t.spec.place)
    other = next(t for t in tasks if t.story.object != task.story.object
                 and t.story.ending != task.story.ending and t.story.place != task.story.place
                 and t.story.hero != task.story.hero)
    problems = tt.unmet(task.spec, other.story)
    assert not tt.satisfies(task.spec, other.story)
    assert any(p.startswith("hero") for p in problems)
    assert any(p.startswith("obj") for p in problems)
    assert any(p.startswith("place") for p in problems)
    assert any(p.startswith("ending") for p in problems)
    assert not tt.satisfies(task.spec, "random words that are no story")
    # Right names, but the hero is swapped halfway: inconsistent, so not satisfied.
    text = task.response
    first = text.index(task.story.hero) + len(task.story.hero)
    broken = text[:first] + text[first:].replace(task.story.hero, other.story.hero, 1)
    if broken != text:
        assert not tt.satisfies(task.spec, broken)


def test_spec_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="colour"):
        StorySpec.from_dict({"lang": "en", "colour": "red"})


def test_instruction_tasks_are_deterministic():
    assert tt.instruction_tasks(20, seed=1) == tt.instruction_tasks(20, seed=1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reading_tasks_answers_are_in_the_story(lang):
    tasks = tt.reading_tasks(300, seed=5, lang=lang)
    kinds = {t.kind for t in tasks}
    assert {"name", "species", "colour", "place", "find", "friend_species"} <= kinds
    for t in tasks:
        assert t.answer in t.story.text
        assert tt.check_answer(t.answer, t.answer, lang)
    find = next(t for t in tasks if t.kind == "find")
    assert t.story.hero in find.question or find.story.hero in find.question


def test_the_issue_examples():
    en = tt.generate(600, seed=0, lang="en")
    story = next(s for s in en
                 if s.arc == "lost_and_found" and "spot" in s.extras and s.extras["spot"] in s.text)
    q = dict((kind, (q, a)) for q, a, kind in tt.reading_questions(story))["find"]
    assert q[0] == f"Where did {story.hero} find the {story.object}?" and q[1] == story.extras["spot"]
    zh = tt.generate(600, seed=0, lang="zh")[en.index(story)]
    qz = dict((kind, (q, a)) for q, a, kind in tt.reading_questions(zh))["find"]
    assert qz[0] == f"{zh.hero}在哪里找到了{zh.object}？"


@pytest.mark.parametrize("prediction,answer,expected", [
    ("under the bed", "under the bed", True),
    ("It was under the bed.", "under the bed", True),
    ("Under the Bed!", "under the bed", True),
    ("behind the sofa", "under the bed", False),
    ("bed", "under the bed", False),
    ("under the bed, behind the sofa, in the tree, on the roof, by the door", "under the bed", False),
    ("rabbit", "rabbit", True),
    ("A rabbit.", "rabbit", True),
    ("在床底下。", "床底下", True),
    ("床底下", "床底下", True),
    ("沙发后面", "床底下", False),
    ("", "rabbit", False),
])
def test_check_answer(prediction, answer, expected):
    assert tt.check_answer(prediction, answer) is expected


def test_check_answer_rejects_non_strings():
    with pytest.raises(TypeError):
        tt.check_answer(None, "x")
