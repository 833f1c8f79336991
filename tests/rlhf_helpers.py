"""Shared by the tests of tinyllm.rlhf: a tiny random model (a few thousand parameters)."""

from __future__ import annotations

import torch

from tinyllm.config import llama_style
from tinyllm.model import TinyLLM

VOCAB = 50


def tiny_model(seed: int = 0, vocab_size: int = VOCAB) -> TinyLLM:
    torch.manual_seed(seed)
    config = llama_style(vocab_size=vocab_size, context_length=64, d_model=16, n_heads=2,
                         n_kv_heads=1, n_layers=1, d_ff=32)
    return TinyLLM(config).eval()


def random_rows(n: int, low: int, high: int, seed: int, vocab: int = VOCAB) -> list[list[int]]:
    """``n`` rows of random token ids, lengths in ``[low, high]``."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(low, high + 1, (n,), generator=generator).tolist()
    return [torch.randint(0, vocab, (k,), generator=generator).tolist() for k in lengths]
