"""tinyllm: the package behind the tinyllm course.

Every notebook in ``notebooks/`` builds an idea from scratch and then imports the matching,
tested piece from here. Each public function names the notebook that teaches it.
"""

from tinyllm.determinism import NOTEBOOK_THREADS, seed_everything
from tinyllm.paths import data_dir, data_file

__version__ = "0.1.0"

__all__ = ["NOTEBOOK_THREADS", "__version__", "data_dir", "data_file", "seed_everything"]
