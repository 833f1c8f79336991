"""A tiny, fully seeded training run, for tests that need a fresh process or ``torchrun``.

    python tests/tiny_run.py --steps 20 --out final.safetensors [--resume CKPT] [--checkpoint-dir D]
    torchrun --standalone --nproc_per_node=2 tests/tiny_run.py --steps 3 --out final.safetensors

Imported by the tests too (``tiny_model``, ``tiny_data``), so both sides build the same run.
"""

from __future__ import annotations

import argparse

import torch
from safetensors.torch import save_file
from torch.utils.data import TensorDataset

from tinyllm import distributed
from tinyllm.checkpoint import unique_state_dict
from tinyllm.config import llama_style
from tinyllm.data import sliding_windows
from tinyllm.model import IGNORE_INDEX, TinyLLM
from tinyllm.train import TrainConfig, train

VOCAB, SEQ = 64, 16


def tiny_model(dropout: float = 0.0, seed: int = 0) -> TinyLLM:
    torch.manual_seed(seed)
    config = llama_style(vocab_size=VOCAB, context_length=SEQ, d_model=32, n_layers=2, n_heads=4,
                         n_kv_heads=2, d_ff=64, dropout=dropout)
    return TinyLLM(config)


def tiny_data(n_ids: int = 4096, seed: int = 0, masked: bool = False) -> TensorDataset:
    """Random ids with some structure (each id tends to follow the one before), so loss can fall.

    ``masked``: as SFT's masked prompts, each row's first targets are ``IGNORE_INDEX``, so rows
    (and micro-batches) count different numbers of targets, 1 to ``SEQ``.
    """
    generator = torch.Generator().manual_seed(seed)
    steps = torch.randint(0, 3, (n_ids,), generator=generator)
    ids = torch.cumsum(steps, 0) % VOCAB
    x, y = sliding_windows(ids, SEQ, SEQ)
    if masked:
        starts = torch.randint(0, SEQ, (len(y),), generator=generator)
        y = y.masked_fill(torch.arange(SEQ) < starts[:, None], IGNORE_INDEX)
    return TensorDataset(x, y)


def tiny_config(**changes) -> TrainConfig:
    fields = dict(lr=1e-2, min_lr=1e-3, warmup_steps=3, max_steps=20, batch_size=4,
                  eval_interval=0, log_interval=1)
    fields.update(changes)
    return TrainConfig(**fields)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--accum", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--masked", action="store_true", help="tiny_data(masked=True)")
    parser.add_argument("--checkpoint-dir")
    parser.add_argument("--checkpoint-interval", type=int, default=0)
    parser.add_argument("--resume")
    parser.add_argument("--out", required=True, help="final weights (plain safetensors)")
    args = parser.parse_args()

    torch.set_num_threads(1)  # the same arithmetic in every process, whatever the machine
    distributed.init()
    model = tiny_model(args.dropout)
    cfg = tiny_config(max_steps=args.steps, grad_accum_steps=args.accum, batch_size=args.batch_size,
                      checkpoint_dir=args.checkpoint_dir, checkpoint_interval=args.checkpoint_interval)
    train(model, tiny_data(masked=args.masked), cfg=cfg, resume=args.resume, progress=False)
    if distributed.is_main():
        save_file({k: v.contiguous() for k, v in unique_state_dict(model).items()}, args.out)
    distributed.exit_worker()


if __name__ == "__main__":
    main()
