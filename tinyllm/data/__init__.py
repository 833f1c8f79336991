"""From text to training batches: corpora, tokenisation with `datasets`, sliding windows.

Taught in notebook 02 (data pipeline).
"""

from tinyllm.data.corpora import load_corpus as load_corpus  # explicit re-export
