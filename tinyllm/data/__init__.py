"""From text to training batches: corpora, tokenisation with `datasets`, sliding windows, and
the uint16 token file with random windows that real pretraining reads.

Taught in notebook 02 (data pipeline).
"""

from tinyllm.data.corpora import load_corpus as load_corpus  # explicit re-export
from tinyllm.data.token_file import open_token_file, random_windows, write_token_file
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
    "open_token_file",
    "random_windows",
    "sliding_windows",
    "tokenize_dataset",
    "write_token_file",
]
