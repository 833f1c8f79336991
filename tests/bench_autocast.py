"""Does bfloat16 autocast speed up training on this CPU? Measures it, to choose TrainConfig.autocast.

    python tests/bench_autocast.py [--batch-size 8] [--seq 256] [--repeats 5] [--threads 2]

Times one training step (forward + backward + AdamW) of the course's default model
(``llama_style()``, 4M parameters) in float32 and under ``torch.autocast("cpu", bfloat16)``,
alternating the two so that a busy machine slows both alike, and prints the fastest and the
median of each, the speed-up, and the loss difference after the same steps.

bf16 is fast only where the CPU multiplies bf16 natively (AVX512-BF16 or AMX, on recent Xeons);
elsewhere PyTorch converts to float32 and back, and autocast costs time instead of saving it.

Measured on the reference machine (AMD EPYC, AVX2, no native bf16; torch 2.13, a busy
2-core VM, fastest of 3-5 steps):

    batch 8 x 256, 2 threads: float32 0.60 s/step, bf16 autocast 18.6 s/step (0.03x)
    batch 4 x 128, 1 thread:  float32 0.32 s/step, bf16 autocast  4.8 s/step (0.07x)

so ``TrainConfig.autocast`` defaults to False. Losses after the same steps agree to ~1e-3.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from tinyllm.config import llama_style
from tinyllm.model import TinyLLM
from tinyllm.optim import make_optimizer
from tinyllm.precision import autocast_context
from tinyllm.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{args.threads} threads, batch {args.batch_size} x {args.seq} tokens")

    torch.manual_seed(0)
    x = torch.randint(0, 4096, (args.batch_size, args.seq))
    y = torch.randint(0, 4096, (args.batch_size, args.seq))
    runs = {}
    for autocast in (False, True):
        torch.manual_seed(0)
        model = TinyLLM(llama_style())
        runs[autocast] = (model, make_optimizer(model, TrainConfig()), [], [])

    def step(autocast: bool) -> None:
        model, optimizer, times, losses = runs[autocast]
        start = time.perf_counter()
        with autocast_context(autocast):
            _, loss = model(x, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
        losses.append(loss.item())

    for _ in range(2):  # warm-up: first calls allocate and pick kernels
        step(False)
        step(True)
    for autocast in (False, True):
        runs[autocast][2].clear()
    for _ in range(args.repeats):
        step(False)
        step(True)

    for autocast, name in ((False, "float32"), (True, "bf16 autocast")):
        times = runs[autocast][2]
        print(f"{name:>14}: fastest {min(times) * 1000:7.1f} ms/step, median "
              f"{statistics.median(times) * 1000:7.1f} ms/step, last loss {runs[autocast][3][-1]:.4f}")
    speedup = min(runs[False][2]) / min(runs[True][2])
    print(f"bf16 speed-up (fastest vs fastest): {speedup:.2f}x "
          f"({'faster' if speedup > 1 else 'slower'} with autocast)")


if __name__ == "__main__":
    main()
