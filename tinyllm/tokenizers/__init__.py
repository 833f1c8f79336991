"""Tokenizers: from a regex word splitter to byte-level BPE, and the offline OpenAI encodings.

Taught in notebook 01 (tokenizer).
"""

from tinyllm.tokenizers.bpe import BPETokenizer
from tinyllm.tokenizers.bpe_train import GPT4_PATTERN, pretokenize, train_bpe, train_bpe_naive
from tinyllm.tokenizers.pretrained import ENDOFTEXT, GPT2_PATTERN, cl100k, gpt2
from tinyllm.tokenizers.simple import UNK, SimpleTokenizer, split_words

__all__ = ["ENDOFTEXT", "GPT2_PATTERN", "cl100k", "gpt2"]
__all__ += ["UNK", "SimpleTokenizer", "split_words"]
__all__ += ["GPT4_PATTERN", "pretokenize", "train_bpe", "train_bpe_naive", "BPETokenizer"]
