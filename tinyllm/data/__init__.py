"""From text to training batches: corpora, tokenisation with `datasets`, sliding windows.

Taught in notebook 02 (data pipeline).
"""

from tinyllm.data.corpora import load_corpus as load_corpus  # explicit re-export
from tinyllm.data.windows import (
    WindowDataset,
    concat_ids,
    make_loader,
    n_windows,
    sliding_windows,
    tokenize_dataset,
)

__all__ = [
    "WindowDataset",
    "concat_ids",
    "load_corpus",
    "make_loader",
    "n_windows",
    "sliding_windows",
    "tokenize_dataset",
]
