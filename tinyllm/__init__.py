"""tinyllm: the package behind the tinyllm course.

Every notebook in ``notebooks/`` builds an idea from scratch and then imports the matching,
tested piece from here. Each public function names the notebook that teaches it.
"""

from tinyllm.config import (
    ConfigError,
    ModelConfig,
    gpt2_124m,
    gpt2_style,
    llama2_7b,
    llama_style,
)
from tinyllm.determinism import NOTEBOOK_THREADS, seed_everything
from tinyllm.generate import generate
from tinyllm.kv_cache import KVCache, kv_cache_bytes_per_token
from tinyllm.model import TinyLLM, count_parameters, flops_per_token, parameter_breakdown
from tinyllm.paths import data_dir, data_file

__version__ = "0.1.0"

__all__ = [
    "NOTEBOOK_THREADS",
    "ConfigError",
    "KVCache",
    "ModelConfig",
    "TinyLLM",
    "__version__",
    "count_parameters",
    "data_dir",
    "data_file",
    "flops_per_token",
    "generate",
    "gpt2_124m",
    "gpt2_style",
    "kv_cache_bytes_per_token",
    "llama2_7b",
    "llama_style",
    "parameter_breakdown",
    "seed_everything",
]
