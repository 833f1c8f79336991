"""From text to training batches: corpora, tokenisation with `datasets`, sliding windows.

Taught in notebook 02 (data pipeline).
"""
