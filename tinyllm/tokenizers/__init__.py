"""Tokenizers: from a regex word splitter to byte-level BPE, and the offline OpenAI encodings.

Taught in notebook 01 (tokenizer).
"""

from tinyllm.tokenizers.pretrained import ENDOFTEXT, GPT2_PATTERN, cl100k, gpt2

__all__ = ["ENDOFTEXT", "GPT2_PATTERN", "cl100k", "gpt2"]
