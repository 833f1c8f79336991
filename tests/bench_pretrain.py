"""Side-by-side pretraining benchmark: our recipe vs a nanoGPT-style baseline, same CPU budget.

Taught in notebook 07 (pretraining). A script, not a test (pytest does not collect it):

    python tests/bench_pretrain.py              # 300 CPU-seconds per model (about 12 minutes)
    python tests/bench_pretrain.py --budget 120 --threads 1

Both models read the same TinyTales windows (the ``base`` recipe's data and shipped tokenizer)
in the same order, at the same batch size, and train until each has used ``--budget`` seconds
of CPU time (``time.process_time``, all threads counted), then report validation bits per byte
on the same validation windows.

- ours: ``llama_style()``: RMSNorm, RoPE, SwiGLU, GQA (8 heads, 4 KV heads), no biases;
  AdamW with linear warmup + cosine decay to lr/10 at the ``base`` recipe's tuned peak lr.
- baseline (nanoGPT-style): ``gpt2_style(context_length=256, d_ff=896)``: LayerNorm, learned
  positions, GELU, multi-head attention, biases; AdamW at nanoGPT's constant lr 1e-3, no
  warmup, no decay. ``d_ff`` is trimmed so that both have about 4.0 M parameters.

The step count of our run is planned from a few timed calibration steps (the cosine needs to
know where it ends); it stops early if the budget runs out first.

Measured on the 2-core machine (1 thread): at 300 CPU-seconds ours 0.589 bits/byte vs the
baseline's 0.791 (ratio 0.745); at 120 CPU-seconds (~100 steps, before either has learned
the templates) the baseline was still ahead, 1.057 vs 1.264: the loss falls off a cliff around
step 100-150 and the baseline reaches it a few steps sooner. See data/README.md.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from tinyllm.config import gpt2_style, llama_style
from tinyllm.data.prepare import prepare_data
from tinyllm.evaluation import evaluate
from tinyllm.model import TinyLLM, count_parameters
from tinyllm.optim import lr_at, make_optimizer
from tinyllm.recipes import base
from tinyllm.train import BatchStream, TrainConfig, train_step

CALIBRATION_STEPS = 3


def run(name: str, model_config, cfg: TrainConfig, data, budget: float, constant_lr: bool) -> dict:
    """Train one model for ``budget`` CPU-seconds; return its figures."""
    torch.manual_seed(0)
    model = TinyLLM(model_config).train()
    optimizer = make_optimizer(model, cfg)
    stream = BatchStream(data.train, cfg.batch_size, seed=0)
    start = time.process_time()
    step, planned = 0, None
    # A cosine run ends where its schedule ends; a constant-lr run simply uses the whole budget.
    while time.process_time() - start < budget and (constant_lr or planned is None or step < planned):
        if step == CALIBRATION_STEPS:  # plan the schedule's length from the measured pace
            per_step = (time.process_time() - start) / CALIBRATION_STEPS
            planned = max(int(budget / per_step), CALIBRATION_STEPS + 1)
        schedule = cfg.replace(max_steps=planned or 10**9, warmup_steps=min(cfg.warmup_steps, (planned or 10**9) // 10))
        lr = cfg.lr if constant_lr else lr_at(step, schedule)
        train_step(model, optimizer, [stream[step]], lr, cfg)
        step += 1
    used = time.process_time() - start
    result = evaluate(model, data.val, data.bytes_per_token, batch_size=16)
    return {"name": name, "params": count_parameters(model_config), "steps": step,
            "tokens": step * cfg.batch_size * data.train[0][0].numel(), "cpu_s": used,
            "val_loss": result.loss, "bpb": result.bits_per_byte}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=300.0, help="CPU-seconds per model (default 300)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the base recipe's")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    recipe = base()
    data = prepare_data(recipe)
    ours_cfg = recipe.train.replace(checkpoint_dir=None)
    if args.batch_size:
        ours_cfg = ours_cfg.replace(batch_size=args.batch_size)
    baseline_cfg = ours_cfg.replace(lr=1e-3, min_lr=1e-3, warmup_steps=0)
    runs = [
        run("ours (Llama-style, warmup+cosine)", llama_style(), ours_cfg, data, args.budget, constant_lr=False),
        run("baseline (nanoGPT-style, constant lr)", gpt2_style(context_length=recipe.data.seq_len, d_ff=896),
            baseline_cfg, data, args.budget, constant_lr=True),
    ]
    print(f"budget {args.budget:g} CPU-seconds per model, {args.threads} thread(s), batch "
          f"{ours_cfg.batch_size} x {recipe.data.seq_len} tokens, lr ours {ours_cfg.lr:g} "
          f"(cosine to {ours_cfg.min_lr:g}) / baseline {baseline_cfg.lr:g} constant")
    for r in runs:
        print(f"{r['name']:40s} params {r['params']:,}  steps {r['steps']}  tokens {r['tokens']:,}  "
              f"cpu {r['cpu_s']:.0f}s  val loss {r['val_loss']:.4f}  bits/byte {r['bpb']:.4f}")
    ours, baseline = runs
    ratio = ours["bpb"] / baseline["bpb"]
    print(f"bits/byte ratio ours/baseline = {ratio:.3f} ({'ours lower' if ratio < 1 else 'BASELINE LOWER'})")
    return 0 if ratio < 1 and math.isfinite(ratio) else 1


if __name__ == "__main__":
    raise SystemExit(main())
