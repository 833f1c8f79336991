"""SFT evaluation: each metric graded on hand-made replies, so each one can fail."""

from __future__ import annotations

import pytest
import torch

from tinyllm import sft_eval
from tinyllm.chat import END, add_chat_tokens
from tinyllm.data.prepare import load_tokenizer
from tinyllm.sft_data import eval_prompts, eval_reading
from tinyllm.sft_eval import evaluate_sft, format_reports, grade_story
from tinyllm.tinytales import StorySpec

BASE = load_tokenizer()
CHAT = add_chat_tokens(BASE)


def test_grade_story_names_each_broken_request():
    task = eval_prompts(1, "en")[0]
    assert grade_story(task.spec, task.response) == {
        "hero": True, "species": True, "object": True, "place": True, "ending": True,
        "all": True, "consistent": True, "satisfies": True}
    other = eval_prompts(2, "en")[1].story
    wrong_species = task.response.replace(task.story.species, other.species if
                                          other.species != task.story.species else "owl")
    grade = grade_story(task.spec, wrong_species)
    assert not grade["species"] and not grade["all"] and not grade["satisfies"] and grade["hero"]
    flipped = StorySpec(**{**task.spec.to_dict(),
                           "ending": "sad" if task.spec.ending == "happy" else "happy"})
    grade = grade_story(flipped, task.response)
    assert not grade["ending"] and grade["species"] and not grade["all"]
    assert grade_story(task.spec, "") == {c: False for c in grade} | {"consistent": True}


def fake_generate(stories, answers):
    """A stand-in for generate_batch that returns fixed replies: stories, then answers."""
    def generate_batch(model, prompts, max_new_tokens, **kwargs):
        source = stories if max_new_tokens > 32 else answers
        return [source.pop(0) for _ in prompts]
    return generate_batch


def test_every_metric_is_computed_from_the_replies(monkeypatch):
    tasks, questions = eval_prompts(4, "zh"), eval_reading(4, "zh")
    end = CHAT.special_tokens[END]
    good = [CHAT.encode(t.response) + [end] for t in tasks]
    stories = [good[0], good[1], good[2][:-1], CHAT.encode("从前，有一只小猫。") + [end]]
    answers = [CHAT.encode(q.answer) + [end] for q in questions[:3]] + [CHAT.encode("不知道") + [end]]
    monkeypatch.setattr(sft_eval, "generate_batch", fake_generate(stories, answers))
    report = evaluate_sft(None, CHAT, n=4, lang="zh", batch_size=3)
    # Three correct stories (one of them never ended), one that meets nothing, not even the grammar.
    assert report.met == {c: 0.75 for c in report.met} and report.satisfies == 0.75
    assert report.ended == 0.75 and report.reading == 0.75 and report.grammar == 0.75
    assert "| chat, zh | 0.75 |" in format_reports({"chat, zh": report})


def test_the_base_model_is_asked_in_plain_text(monkeypatch):
    tasks, questions = eval_prompts(2, "en"), eval_reading(2, "en")
    eot = BASE.eot_token
    stories = [BASE.encode(tasks[0].response) + [eot], BASE.encode("Blah blah.")]
    answers = [BASE.encode(questions[0].answer + "\nMore text."), BASE.encode("no idea") + [eot]]
    seen = []

    def generate_batch(model, prompts, max_new_tokens, **kwargs):
        seen.extend(prompts)
        return fake_generate(stories, answers)(model, prompts, max_new_tokens)

    monkeypatch.setattr(sft_eval, "generate_batch", generate_batch)
    report = evaluate_sft(None, BASE, n=2, lang="en")
    assert seen[0] == [eot, *BASE.encode(tasks[0].prompt + "\n")]
    assert report.met["all"] == 0.5 and report.ended == 0.5 and report.reading == 0.5
    with pytest.raises(ValueError, match="'en' or 'zh'"):
        evaluate_sft(None, BASE, n=1, lang="mix")


def test_a_real_model_runs_through_it():
    from tinyllm.config import llama_style
    from tinyllm.model import TinyLLM

    torch.manual_seed(0)
    model = TinyLLM(llama_style(vocab_size=CHAT.n_vocab, d_model=16, n_layers=1, n_heads=2, d_ff=32))
    report = evaluate_sft(model, CHAT, n=2, lang="en", max_new_tokens=8)
    assert report.n == 2 and 0.0 <= report.grammar <= 1.0 and report.met["all"] == 0.0


def test_evaluate_adapter_grades_what_each_adapter_changes(monkeypatch):
    from tinyllm import sft_eval
    from tinyllm.sft_data import task_eval_prompts

    tasks = task_eval_prompts("zh-reply", 4)
    # the reference Chinese stories: in Chinese and meeting every request; their endings vary
    answers = [(t.response, True) for t in tasks]
    monkeypatch.setattr(sft_eval, "chat_replies", lambda *args, **kwargs: answers)
    scores = sft_eval.evaluate_adapter(None, None, "zh-reply", 4)
    assert scores["chinese"] == scores["met"] == scores["ended"] == 1.0
    assert scores["happy"] == sum(t.story.ending == "happy" for t in tasks) / 4
    english = [(t.response, False) for t in task_eval_prompts("follow", 4, "en")]
    monkeypatch.setattr(sft_eval, "chat_replies", lambda *args, **kwargs: english)
    scores = sft_eval.evaluate_adapter(None, None, "zh-reply", 4)
    assert scores["chinese"] == scores["met"] == scores["ended"] == 0.0
