"""Grading a chat model on held-out TinyTales requests and reading questions.

Taught in notebook 08 (SFT); the table in data/README.md ("SFT model") is `evaluate_sft` on the
shipped base and SFT models.

`evaluate_sft` asks a model the first ``n`` held-out requests of ``sft_data.eval_prompts`` (each
asks for a hero, species, object, place and ending never seen together in training) and the
first ``n`` held-out reading questions of ``sft_data.eval_reading``, all decoded together by
``batching.generate_batch``, **greedily**: a greedy reply is a pure function of the model and
the prompt (no seed to report, the same on every machine up to float rounding), and it is what
the model finds most likely. Then `grade_story` and ``tinytales.check_answer`` grade the
replies.

A model whose tokenizer has the chat tokens is prompted with the template (``sft.encode_prompt``)
and its reply ends at ``<|end|>``. A model without them (the base model) cannot be prompted that
way, so it gets the plain request: ``<|endoftext|>`` + the request + ``"\\n"`` (a new text, then
the request as its first line) and continues up to its own end, ``<|endoftext|>``; a reading
question is the story, a blank line, the question and ``"\\n"``, and its reply is the first line
it writes. Its "ended" rate counts replies that stop with ``<|endoftext|>``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tinyllm.batching import generate_batch
from tinyllm.chat import END
from tinyllm.model import TinyLLM
from tinyllm.sft import decode_reply, encode_prompt
from tinyllm.sft_data import eval_prompts, eval_reading, reading_prompt, task_eval_prompts
from tinyllm.tinytales import check, check_answer
from tinyllm.tinytales.tasks import StorySpec, unmet
from tinyllm.tokenizers import BPETokenizer

#: The requested constraints, each reported alone; "all" is every one of them together.
REQUESTED = ("hero", "species", "object", "place", "ending")
# `tinytales.unmet` words a broken request as "<role>: asked for ..."; its roles -> ours.
_UNMET_ROLE = {"hero": "hero", "species": "species", "obj": "object", "place": "place",
               "ending": "ending"}


def grade_story(spec: StorySpec, reply: str) -> dict[str, bool]:
    """Which requests ``reply`` meets: one entry per `REQUESTED` constraint the spec names,
    ``"all"`` (every requested one), ``"consistent"`` (its characters stay who they are) and
    ``"satisfies"`` (everything ``tinytales.satisfies`` demands: all, consistent, and at least
    one sentence of the grammar)."""
    problems = unmet(spec, reply)
    broken = {_UNMET_ROLE[p.split(":")[0]] for p in problems if p.split(":")[0] in _UNMET_ROLE}
    asked = [c for c in REQUESTED if getattr(spec, c) is not None]
    grade = {c: c not in broken for c in asked}
    grade["all"] = not broken
    grade["consistent"] = not any(p.startswith("characters are inconsistent") for p in problems)
    grade["satisfies"] = not problems
    return grade


@dataclass
class SFTReport:
    """`evaluate_sft`'s figures for one language, each a share of the ``n`` replies.

    ``met`` maps each of `REQUESTED` and ``"all"`` to the share of stories that meet it;
    ``consistent`` and ``satisfies`` are `grade_story`'s; ``grammar`` is the mean checker score
    (share of sentences the grammar produces) of the stories; ``ended`` the share of story
    replies that stopped with the end token; ``reading`` the share of reading questions
    answered right. ``examples`` keeps the first few (request, reply) pairs to look at.
    """

    lang: str
    n: int
    met: dict[str, float]
    consistent: float
    satisfies: float
    grammar: float
    ended: float
    reading: float
    n_reading: int
    examples: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _has_chat_tokens(tokenizer: BPETokenizer) -> bool:
    return END in tokenizer.special_tokens


def _prompt(tokenizer: BPETokenizer, text: str, chat: bool) -> list[int]:
    if chat:
        return encode_prompt(tokenizer, text)
    return [tokenizer.eot_token, *tokenizer.encode_ordinary(text + "\n")]


def chat_replies(model: TinyLLM, tokenizer: BPETokenizer, texts: list[str], max_new_tokens: int,
                 batch_size: int, *, temperature: float = 0.0, seed: int | None = None,
                 ) -> list[tuple[str, bool]]:
    """Replies to user ``texts``: ``(reply, ended)`` each (see the module docstring); greedy by
    default, sampled at ``temperature`` with ``seed`` otherwise (one seed per batch)."""
    chat = _has_chat_tokens(tokenizer)
    stop = [tokenizer.special_tokens[END]] if chat else []
    stop.append(tokenizer.eot_token)
    out = []
    for start in range(0, len(texts), batch_size):
        prompts = [_prompt(tokenizer, t, chat) for t in texts[start:start + batch_size]]
        for ids in generate_batch(model, prompts, max_new_tokens, temperature=temperature,
                                  stop_tokens=stop, seed=None if seed is None else seed + start):
            if chat:
                out.append(decode_reply(tokenizer, ids))
            else:
                ended = bool(ids) and ids[-1] == tokenizer.eot_token
                text = tokenizer.decode(ids[:-1] if ended else ids, errors="replace")
                out.append((text.strip(), ended))
    return out


def evaluate_sft(model: TinyLLM, tokenizer: BPETokenizer, n: int = 200, lang: str = "en", *,
                 n_reading: int | None = None, max_new_tokens: int = 256,
                 batch_size: int = 100, n_examples: int = 3) -> SFTReport:
    """Grade ``model`` on ``n`` held-out requests and ``n_reading`` (default ``n``) held-out
    reading questions in ``lang`` (``"en"`` or ``"zh"``), greedily.

    ``max_new_tokens`` bounds a story (the longest TinyTales story is under 180 tokens); a
    reading answer gets 32. ``batch_size`` prompts are decoded together.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh' (evaluate each language apart), got {lang!r}")
    n_reading = n if n_reading is None else n_reading
    tasks = eval_prompts(n, lang)
    stories = chat_replies(model, tokenizer, [t.prompt for t in tasks], max_new_tokens, batch_size)
    grades = [grade_story(t.spec, reply) for t, (reply, _) in zip(tasks, stories, strict=True)]
    questions = eval_reading(n_reading, lang)
    answers = chat_replies(model, tokenizer, [reading_prompt(q) for q in questions], 32, batch_size)
    if not _has_chat_tokens(tokenizer):  # the base model's answer is the first line it writes
        answers = [(reply.split("\n")[0], ended) for reply, ended in answers]

    def share(values) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    return SFTReport(
        lang=lang, n=n,
        met={c: share(g[c] for g in grades) for c in (*REQUESTED, "all")},
        consistent=share(g["consistent"] for g in grades),
        satisfies=share(g["satisfies"] for g in grades),
        grammar=share(check(reply, lang=lang).score for reply, _ in stories),
        ended=share(ended for _, ended in stories),
        reading=share(check_answer(reply, q.answer, lang)
                      for (reply, _), q in zip(answers, questions, strict=True)),
        n_reading=n_reading,
        examples=[(t.prompt, reply) for t, (reply, _) in zip(tasks[:n_examples], stories, strict=False)],
    )


def format_reports(rows: dict[str, SFTReport]) -> str:
    """A Markdown table, one row per ``name -> report`` (e.g. ``"base, en"``)."""
    head = ["model", *REQUESTED, "all", "consistent", "satisfies", "grammar", "ended", "reading"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        values = [*(r.met[c] for c in (*REQUESTED, "all")), r.consistent, r.satisfies,
                  r.grammar, r.ended, r.reading]
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return "\n".join(lines)


def evaluate_adapter(model: TinyLLM, tokenizer: BPETokenizer, task: str, n: int = 100,
                     lang: str = "en", *, batch_size: int = 100, temperature: float = 0.0,
                     seed: int | None = None) -> dict[str, float]:
    """What notebook 09's adapters change, on ``n`` held-out requests of ``task``
    (``sft_data.task_eval_prompts``), greedily (or sampled at ``temperature`` with ``seed``;
    greedy decoding picks the likeliest ending every time, which hides how often a model would
    end happily when it writes freely): the share of stories that end happily
    (``"happy"``), that are written in Chinese (``"chinese"``: the checker reads them as Chinese,
    and at least 90% of their sentences fit the grammar), that meet every request (``"met"``, in the
    spec's language) and that end with ``<|end|>`` (``"ended"``).
    """
    tasks = task_eval_prompts(task, n, lang)
    replies = chat_replies(model, tokenizer, [t.prompt for t in tasks], 256, batch_size,
                           temperature=temperature, seed=seed)
    reports = [check(reply) for reply, _ in replies]  # each in the language it is written in
    return {
        "happy": sum(r.ending == "happy" for r in reports) / n,
        "chinese": sum(r.lang == "zh" and r.score >= 0.9 for r in reports) / n,
        "met": sum(not unmet(t.spec, reply) for t, (reply, _) in zip(tasks, replies, strict=True)) / n,
        "ended": sum(ended for _, ended in replies) / n,
    }
