"""SFT: ids and labels (loss on the answer and its <|end|> only), padded (x, y) pairs that the
training loop consumes, and data whose evaluation prompts and combinations never reach training."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from test_chat import conversations

from tinyllm.chat import (
    ASSISTANT,
    CHAT_TOKENS,
    END,
    USER,
    add_chat_tokens,
    render,
    resize_embeddings,
)
from tinyllm.config import llama_style
from tinyllm.data.prepare import load_tokenizer
from tinyllm.model import IGNORE_INDEX, TinyLLM
from tinyllm.sft import SFTDataset, counted_tokens, decode_reply, encode_example, encode_prompt
from tinyllm.sft_data import (
    EVAL_SEED,
    combination,
    conversation_of,
    eval_prompts,
    eval_reading,
    is_held_out,
    reading_prompt,
    train_conversations,
    train_tasks,
)
from tinyllm.tinytales import InstructionTask, ReadingTask, generate, satisfies
from tinyllm.train import BatchStream, TrainConfig, train

BASE = load_tokenizer()
CHAT = add_chat_tokens(BASE)
EOT, U, A, E = BASE.eot_token, 4096, 4097, 4098
TWO_TURNS = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
             {"role": "user", "content": "故事?"}, {"role": "assistant", "content": "好。"}]


def with_at_least_one_answer(conversation):
    return [*conversation, {"role": "assistant", "content": "ok"}]


# --- ids and labels ------------------------------------------------------------------------------


def test_labels_count_the_answers_and_their_end_only():
    ids, labels = encode_example(CHAT, TWO_TURNS)
    hi, hello = CHAT.encode("Hi"), CHAT.encode("Hello.")
    story, good = CHAT.encode("故事?"), CHAT.encode("好。")
    assert ids == [EOT, U, *hi, E, A, *hello, E, U, *story, E, A, *good, E]
    n = IGNORE_INDEX
    assert labels == [n, n, *[n] * len(hi), n, n, *hello, E, n, *[n] * len(story), n, n, *good, E]
    # After the first id, the ids are those of the rendered text.
    assert ids[1:] == CHAT.encode(render(TWO_TURNS), allowed_special=set(CHAT_TOKENS))


@settings(max_examples=100, deadline=None)
@given(conversations.map(with_at_least_one_answer))
def test_counted_ids_spell_the_answers_and_the_rest_spells_the_prompt(conversation):
    ids, labels = encode_example(CHAT, conversation)
    assert len(ids) == len(labels) and ids[0] == EOT
    assert all(label in (IGNORE_INDEX, i) for i, label in zip(ids, labels, strict=True))
    counted = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE_INDEX]
    ignored = [i for i, label in zip(ids, labels, strict=True) if label == IGNORE_INDEX]
    answers = "".join(t["content"] + END for t in conversation if t["role"] == "assistant")
    prompts = "".join((USER + t["content"] + END) if t["role"] == "user" else ASSISTANT
                      for t in conversation)
    assert CHAT.decode_bytes(counted) == answers.encode()
    assert CHAT.decode_bytes(ignored) == ("<|endoftext|>" + prompts).encode()
    assert ids[1:] == CHAT.encode(render(conversation), allowed_special=set(CHAT_TOKENS))


def test_encode_example_refuses_what_it_cannot_learn_from():
    with pytest.raises(ValueError, match="add_chat_tokens"):
        encode_example(BASE, TWO_TURNS)
    with pytest.raises(ValueError, match="no assistant turn"):
        encode_example(CHAT, TWO_TURNS[:1])
    with pytest.raises(ValueError, match="special string"):
        encode_example(CHAT, [{"role": "user", "content": "a<|end|>"}, *TWO_TURNS[1:2]])


def test_generation_starts_from_the_examples_prefix():
    ids, _ = encode_example(CHAT, TWO_TURNS[:2])
    prompt = encode_prompt(CHAT, "Hi")
    assert prompt == ids[: len(prompt)] and prompt[-1] == A


def test_decode_reply_cuts_at_the_first_special_token():
    hello = CHAT.encode("Hello.")
    assert decode_reply(CHAT, [*hello, E, U, 5]) == ("Hello.", True)
    assert decode_reply(CHAT, [*hello, EOT, E]) == ("Hello.", False)
    assert decode_reply(CHAT, hello) == ("Hello.", False)
    # Cut inside a character (ids 0-255 are the single bytes): a marker, not an error.
    first_byte = "好".encode()[0]
    assert CHAT.token_bytes(first_byte) == bytes([first_byte])
    assert decode_reply(CHAT, torch.tensor([*hello, first_byte, E])) == ("Hello.\ufffd", True)


def test_counted_tokens_for_the_mask_picture():
    pairs = counted_tokens(CHAT, TWO_TURNS[:2])
    assert "".join(text for text, _ in pairs) == "<|endoftext|>" + render(TWO_TURNS[:2])
    assert [text for text, counted in pairs if counted] == ["Hello", ".", "<|end|>"]


# --- (x, y) pairs ----------------------------------------------------------------------------


def test_dataset_shifts_and_right_pads():
    conversations = [TWO_TURNS[:2], TWO_TURNS]
    data = SFTDataset(CHAT, conversations, seq_len=24)
    assert len(data) == 2 and data.x.shape == data.y.shape == (2, 24)
    assert data.x.dtype == data.y.dtype == torch.long
    for row, conversation in enumerate(conversations):
        ids, labels = encode_example(CHAT, conversation)
        x, y = data[row]
        real = len(ids) - 1
        assert x[:real].tolist() == ids[:-1] and y[:real].tolist() == labels[1:]
        assert (x[real:] == EOT).all() and (y[real:] == IGNORE_INDEX).all()
        # y is the next token wherever it counts: y[t] == ids[t + 1].
        counted = y != IGNORE_INDEX
        assert torch.equal(y[counted], torch.tensor(ids[1:])[counted[:real]])
    assert data.n_targets() == sum(
        sum(label != IGNORE_INDEX for label in encode_example(CHAT, c)[1]) for c in conversations)


def test_too_long_examples_are_refused_or_dropped_never_truncated():
    ids, _ = encode_example(CHAT, TWO_TURNS)
    exact = SFTDataset(CHAT, [TWO_TURNS], seq_len=len(ids) - 1)  # fits with no padding
    assert exact.x[0].tolist() == ids[:-1] and exact.y[0, -1] == E
    with pytest.raises(ValueError, match=f"conversation 1 is {len(ids)} tokens.*too_long='drop'"):
        SFTDataset(CHAT, [TWO_TURNS[:2], TWO_TURNS], seq_len=len(ids) - 2)
    data = SFTDataset(CHAT, [TWO_TURNS[:2], TWO_TURNS], seq_len=len(ids) - 2, too_long="drop")
    assert len(data) == 1 and data.n_dropped == 1


def tiny_model(tied: bool = True) -> TinyLLM:
    torch.manual_seed(0)
    model = TinyLLM(llama_style(d_model=32, n_layers=1, n_heads=2, vocab_size=BASE.n_vocab,
                                context_length=256, tie_embeddings=tied))
    return resize_embeddings(model, CHAT.n_vocab)


def test_loss_is_over_the_answer_tokens_and_pads_need_no_mask():
    data = SFTDataset(CHAT, train_conversations(4, seed=1, reading_share=0.5), seq_len=256,
                      too_long="drop")
    model = TinyLLM(llama_style(d_model=32, n_layers=1, n_heads=2, vocab_size=CHAT.n_vocab,
                                context_length=256)).eval()
    x, y = BatchStream(data, batch_size=4)[0]
    logits, loss = model(x, y)
    keep = y != IGNORE_INDEX
    assert keep.sum() == data.n_targets()
    assert torch.allclose(loss, F.cross_entropy(logits[keep], y[keep]))
    # Causal attention: whatever the pads are, the real positions' logits are the same.
    noisy = torch.where(x == EOT, torch.randint(0, CHAT.n_vocab, x.shape), x)
    noisy[:, 0] = EOT  # the leading <|endoftext|> is real, not a pad
    assert torch.allclose(model(noisy)[keep], logits[keep], atol=1e-6)


def test_train_consumes_the_dataset():
    model = tiny_model()
    data = SFTDataset(CHAT, train_conversations(8, seed=2), seq_len=256, too_long="drop")
    cfg = TrainConfig(max_steps=3, batch_size=4, warmup_steps=1, eval_interval=0)
    history = train(model, data, cfg=cfg, progress=False)
    assert len(history.train_loss) == 3 and all(loss == loss for loss in history.train_loss)


# --- data and the held-out split -----------------------------------------------------------------


@pytest.fixture(scope="module")
def training_sample():
    """10,000 training tasks per language."""
    return {lang: train_tasks(10_000, seed=7, lang=lang) for lang in ("en", "zh")}


@pytest.fixture(scope="module")
def eval_sets():
    """The evaluation set as notebook 08 measures it: 200 requests and 200 questions per language."""
    return {lang: (eval_prompts(200, lang), eval_reading(200, lang)) for lang in ("en", "zh")}


def test_training_never_shows_a_held_out_combination(training_sample, eval_sets):
    for lang, tasks in training_sample.items():
        requests, questions = eval_sets[lang]
        # The split, both sides: this is what makes the two sets disjoint.
        assert not any(is_held_out(task.story) for task in tasks)
        assert all(is_held_out(task.story) for task in requests + questions)
        eval_combos = {combination(task.story) for task in requests + questions}
        seen = {combination(task.story) for task in tasks}
        assert len(eval_combos) >= 200 and not seen & eval_combos
        # ...although each hero, species, object and place of the evaluation was seen alone:
        # what is new is the combination.
        for field in range(4):
            assert {c[field] for c in eval_combos} <= {c[field] for c in seen}


def test_no_evaluation_prompt_occurs_in_training(training_sample, eval_sets):
    for lang, tasks in training_sample.items():
        requests, questions = eval_sets[lang]
        shown = {conversation_of(task)[0]["content"] for task in tasks}
        # Training asks for everything often too, so the comparison is like with like.
        asks_all = [t for t in tasks if isinstance(t, InstructionTask) and None not in
                    (t.spec.species, t.spec.object, t.spec.place, t.spec.ending)]
        assert len(asks_all) > 500
        prompts = {t.prompt for t in requests} | {reading_prompt(t) for t in questions}
        assert len(prompts) == 400 and not prompts & shown
        replies = {conversation_of(task)[1]["content"] for task in tasks}
        assert not {t.response for t in requests} & replies


def test_about_one_combination_in_sixteen_is_held_out():
    stories = generate(8000, seed=11, lang="en")
    share = sum(map(is_held_out, stories)) / len(stories)
    assert 0.05 < share < 0.075
    # The split is by names, not language: a story and its translation fall on the same side.
    for en, zh in zip(stories[:500], generate(500, seed=11, lang="zh"), strict=True):
        assert combination(en) == combination(zh) and is_held_out(en) == is_held_out(zh)


def test_evaluation_set_is_fixed_and_asks_for_everything():
    tasks = eval_prompts(30, "en")
    assert tasks == eval_prompts(30, "en") and eval_prompts(10, "en") == tasks[:10]
    # Pinned: a changed split (or corpus) would silently change every reported number.
    assert combination(tasks[0].story) == ("Lily", "chick", "radio", "the bamboo forest")
    assert tasks[0].story == next(s for s in generate(100, EVAL_SEED, "en") if is_held_out(s))
    assert [t.story for t in eval_reading(30, "en")] == [t.story for t in tasks]  # same stories
    zh = eval_prompts(30, "zh")
    for task, translated in zip(tasks, zh, strict=True):
        spec = task.spec
        assert None not in (spec.hero, spec.species, spec.object, spec.place, spec.ending)
        assert combination(task.story) == combination(translated.story)
    # The reference stories meet their own requests (so the request is satisfiable).
    assert all(satisfies(t.spec, t.response) for t in tasks[:10] + zh[:10])


def test_training_tasks_are_fresh_per_seed_and_reproducible():
    a, b = train_tasks(300, seed=0, lang="mix"), train_tasks(300, seed=1, lang="mix")
    assert a == train_tasks(300, seed=0, lang="mix") and train_tasks(100, seed=0, lang="mix") == a[:100]
    prompts_a = {conversation_of(t)[0]["content"] for t in a}
    prompts_b = {conversation_of(t)[0]["content"] for t in b}
    assert len(prompts_a & prompts_b) < 30  # a few short requests recur; stories do not
    assert {t.story.lang for t in a} == {"en", "zh"}
    kinds = [isinstance(t, ReadingTask) for t in a]
    assert 0.15 < sum(kinds) / len(kinds) < 0.35
    assert all(isinstance(t, InstructionTask) for t in train_tasks(50, reading_share=0.0))
    assert all(isinstance(t, ReadingTask) for t in train_tasks(50, reading_share=1.0))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_conversations_fit_the_shipped_context(lang):
    conversations = train_conversations(300, seed=3, lang=lang)
    data = SFTDataset(CHAT, conversations, seq_len=256)  # raises if any is too long
    assert len(data) == 300 and conversations[0][0]["role"] == "user"
    reading = next(t for t in train_tasks(50, seed=3, lang=lang) if isinstance(t, ReadingTask))
    assert conversation_of(reading)[0]["content"].endswith("\n\n" + reading.question)
    assert conversation_of(reading)[1]["content"] == reading.answer


@pytest.mark.parametrize("bad", [dict(n=-1), dict(seed=-2), dict(lang="fr"),
                                 dict(reading_share=1.5)])
def test_data_arguments_are_checked(bad):
    with pytest.raises(ValueError):
        train_tasks(**{"n": 3, **bad})


# --- the ablation switches, the trimmed batches, the sft trainer ------------------------------


def test_ablation_switches_change_only_their_labels():
    ids, labels = encode_example(CHAT, TWO_TURNS)
    ids_all, every = encode_example(CHAT, TWO_TURNS, mask_prompt=False)
    assert ids_all == ids and every == [IGNORE_INDEX, *ids[1:]]  # every token after the first
    _, no_end = encode_example(CHAT, TWO_TURNS, end_is_target=False)
    ends = [i for i, label in enumerate(labels) if label == E]
    assert len(ends) == 2 and all(no_end[i] == IGNORE_INDEX for i in ends)
    assert [label for i, label in enumerate(no_end) if i not in ends] == \
        [label for i, label in enumerate(labels) if i not in ends]
    _, neither = encode_example(CHAT, TWO_TURNS, mask_prompt=False, end_is_target=False)
    assert neither == [IGNORE_INDEX if i in ends else label for i, label in enumerate(every)]
    data = SFTDataset(CHAT, [TWO_TURNS], seq_len=40, end_is_target=False)
    assert E not in data.y.tolist()[0] and data.n_targets() == sum(x != IGNORE_INDEX for x in no_end)


def test_collate_cuts_pure_padding_columns_and_changes_no_loss():
    data = SFTDataset(CHAT, [TWO_TURNS[:2], TWO_TURNS], seq_len=48)
    x, y = data.collate([data[0], data[1]])
    longest = len(encode_example(CHAT, TWO_TURNS)[0]) - 1
    assert x.shape == y.shape == (2, longest) and (y[:, -1] != IGNORE_INDEX).any()
    torch.manual_seed(0)
    model = TinyLLM(llama_style(vocab_size=CHAT.n_vocab, context_length=64, d_model=16,
                                n_layers=1, n_heads=2, d_ff=32)).eval()
    _, trimmed = model(x, y)
    _, full = model(data.x, data.y)
    assert torch.allclose(trimmed, full, atol=1e-6)
    assert BatchStream(data, 2)[0][0].shape[1] == longest  # train() uses it


def test_sft_trainer_adds_the_chat_tokens_and_trains_on_fresh_tasks():
    import dataclasses

    from tinyllm.recipes import TRAINERS, apply_overrides, get_recipe
    from tinyllm.sft_train import training_set

    recipe = apply_overrides(get_recipe("sft"), ["max_steps=2", "batch_size=2", "n_val=4",
                                                 "eval_steps=1", "checkpoint_dir=none"])
    recipe = dataclasses.replace(recipe, model=llama_style(d_model=16, n_layers=1, n_heads=2, d_ff=32))
    assert len(training_set(recipe)) >= 2 * 2  # one fresh task per training example (and spares)
    torch.manual_seed(0)
    model = TinyLLM(recipe.model)
    tokenizer, history = TRAINERS["sft"](recipe, model, BASE, progress=False)
    assert tokenizer.n_vocab == model.config.vocab_size == 4099
    assert history.step == [1, 2] and history.val_step == [0, 2]
    assert len(training_set(apply_overrides(recipe, ["n_train=5"]))) == 5  # a fixed set instead
