"""Training, checkpoints, evaluation and generation on a CUDA GPU: skipped without one.

Run it on a GPU machine whenever one is at hand (``pytest tests/test_cuda.py``); on the course's
CPU-only machines every test here is skipped.
"""

import pytest
import torch
from tiny_run import tiny_config, tiny_data, tiny_model
from torch.testing import assert_close

from tinyllm.__main__ import main
from tinyllm.checkpoint import load_checkpoint, load_model
from tinyllm.device import native_bf16
from tinyllm.generate import generate
from tinyllm.shipped import load_pretrained
from tinyllm.stories import sample_stories
from tinyllm.train import checkpoint_path, evaluate, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(autouse=True)
def exact_matmuls():
    # TF32 would round matmul inputs to 10 mantissa bits; these tests compare with the CPU.
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = previous


def test_training_steps_on_cuda_follow_the_cpu_run():
    runs = {}
    for device in ("cpu", "cuda"):
        model = tiny_model()
        history = train(model, tiny_data(), tiny_data(seed=1),
                        tiny_config(max_steps=5, eval_interval=5, device=device), progress=False)
        runs[device] = (history, model)
    assert next(runs["cuda"][1].parameters()).device.type == "cuda"
    assert_close(torch.tensor(runs["cuda"][0].train_loss), torch.tensor(runs["cpu"][0].train_loss),
                 atol=1e-4, rtol=0)
    assert_close(torch.tensor(runs["cuda"][0].val_loss), torch.tensor(runs["cpu"][0].val_loss), atol=1e-4, rtol=0)


def test_checkpoint_round_trip_and_resume_on_cuda(tmp_path):
    cfg = tiny_config(max_steps=6, device="cuda", checkpoint_dir=str(tmp_path), checkpoint_interval=3)
    full = tiny_model()
    train(full, tiny_data(), cfg=cfg, progress=False)
    resumed = tiny_model().cuda()
    train(resumed, tiny_data(), cfg=cfg.replace(checkpoint_dir=str(tmp_path / "again")),
          resume=checkpoint_path(tmp_path, 3), progress=False)
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert_close(a, b, atol=1e-5, rtol=0, msg=name)
    on_cpu = load_model(checkpoint_path(tmp_path, 6))  # a GPU checkpoint loads on the CPU
    for name, value in on_cpu.state_dict().items():
        assert torch.equal(value, full.state_dict()[name].cpu()), name
    back = tiny_model().cuda()
    assert load_checkpoint(checkpoint_path(tmp_path, 6), back).step == 6


def test_generation_and_evaluation_on_cuda_equal_the_cpu():
    model, tokenizer = load_pretrained("base")
    prompt = tokenizer.encode("Once upon a time")
    cpu_ids, cpu_logits = generate(model, prompt, 40, temperature=0, return_logits=True)
    cuda_model = load_pretrained("base")[0].cuda()
    cuda_ids, cuda_logits = generate(cuda_model, prompt, 40, temperature=0, return_logits=True)
    assert cuda_ids.tolist() == cpu_ids.tolist()
    assert_close(cuda_logits.cpu(), cpu_logits, atol=1e-4, rtol=0)
    data = tiny_data()  # ids < 64: valid for the 4,096-token model
    assert evaluate(cuda_model, data, max_batches=2).loss == pytest.approx(
        evaluate(model, data, max_batches=2).loss, abs=1e-4)
    stories = sample_stories(cuda_model, tokenizer, n=2, max_new_tokens=40)  # a CPU generator, a GPU model
    assert len(stories) == 2 and all(isinstance(s, str) for s in stories)
    assert generate(cuda_model, prompt, 5, temperature=0.8, seed=0).device.type == "cuda"


@pytest.mark.skipif(torch.cuda.is_available() and not torch.cuda.is_bf16_supported(),
                    reason="this GPU has no native bf16")
def test_bf16_autocast_on_cuda_trains_close_to_float32():
    assert native_bf16("cuda")
    losses = {}
    for autocast in (False, True):
        history = train(tiny_model(), tiny_data(), cfg=tiny_config(max_steps=3, device="cuda",
                                                                    autocast=autocast), progress=False)
        losses[autocast] = history.train_loss
    assert all(abs(a - b) < 0.05 for a, b in zip(losses[False], losses[True], strict=True))


def test_cli_smoke_recipe_on_cuda(tmp_path, capsys):
    assert main(["train", "--recipe", "smoke", "--device", "cuda", "--no-progress",
                 "--set", f"checkpoint_dir={tmp_path}"]) == 0
    assert "recipe smoke: step 4" in capsys.readouterr().out
    assert load_model(checkpoint_path(tmp_path, 4)).config.n_layers == 2
