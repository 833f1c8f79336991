"""Where the course's shipped data lives, and a checksum guard for each file.

Shipped files sit in the repository's top-level ``data/`` folder (see ``data/README.md`` for
their provenance). A file is verified against the sha256 recorded here before it is used, so
a truncated download or an accidental edit gives a clear error instead of wrong numbers.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

#: The course repository (the package is installed editable, so it sits inside it).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable that points tinyllm at a data folder elsewhere.
DATA_ENV = "TINYLLM_DATA"

#: Shipped files (relative to ``data/``) and their sha256. Add a line when shipping a file.
SHIPPED_FILES: dict[str, str] = {
    "gpt2.tiktoken": "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    "tinytales/sample_en.txt": "34ffd2f066c6c87182d749bdb1c4fa502a2280bcff7f44d06dd8895965d93af5",
    "tinytales/sample_zh.txt": "d452e591c492706fe5ba821fb2eb6c4cff568726cef9f924c58382b365cf9889",
    "tokenizer/tinytales-bpe-4096.json": "1de9cfa2a6d2591ff6502c7ea16506d07b157a4588769a7dc025683e8be2d01d",
    "checkpoints/base.safetensors": "b7822b4aa4890b89c3c1cebafcefd22a5b710efbd702a5cff8289955a9d42e17",
    "tokenizer/tinytales-chat-4099.json": "84a28f16e124ecf6bfcbdf9cc48e01e5fc33e5fb7ed98a74e59c3e1839d0afdb",
    "checkpoints/sft.safetensors": "04289c3afea7e93fccee74a6443b92e2e02af2e5738c3b4b995c376eab9427f0",
    "adapters/lora-happy.safetensors": "737fd57151cc2e8ca70bdb01ae7bfca778e28ad2976b53545c7dc4712e1e5cd0",
    "adapters/lora-zh.safetensors": "b4663e185500e5c5a44809a3d1cde2df5fbcee027952d99b859aff3c05af4d4e",
    "checkpoints/reward_model.safetensors": "9a4baec3041044f41fd7732f068278b4ce4c0946d3f7a611fae3ed9d0bace4df",
    "adapters/ppo.safetensors": "7eac4affd769f59897f9e6346de80e4efddab3d8066c4ed6610d7959a5c44346",
    "rlhf/ppo.json": "28986b28a37c09b907a9ebbfd2d4a4e1b1633cd897b2d03c9a7222d510a8ddcc",
    "adapters/grpo.safetensors": "fe2409b7064ab57d859680a505e2f2cf5ac25d467a7352a76b5fa3d3ef064411",
    "rlhf/grpo.json": "ad5fb3aaeb82df096913086a58e34b55c00f8a87b713ca5afa879a477e4da160",
    "adapters/grpo-hack.safetensors": "c7f3eab1f2e6faf7e86098ad60ebd09dcba2e4eb19430d6db20e3cda414ef132",
    "rlhf/grpo-hack.json": "d0e74e36deb98ee55b3cf7ad47dff8f18de160e8a33752a5b1eb9f0bbf82e81f",
    "adapters/grpo-hack-kl.safetensors": "2b55bd090c8c50169bd2a3f71489e00cb053fba1ca691ca9a7ab80a301b1fd90",
    "rlhf/grpo-hack-kl.json": "807095ef805a090baa5486b383eacbcff0ed37479cf3cea502ed79d1a1fa9594",
    "adapters/dpo.safetensors": "5a572068d159d596a138c6dfe3b668fbde170132bfaa692fde43038c7bcbd59d",
    "rlhf/dpo.json": "75ea063204085b85fd2919269d47ce66f2053a7077532e3bbed4db5428216b0c",
    "fonts/NotoSansSC-tinyllm.otf": "11c720e5b34963518ae56e5fdba116656b4bdb4ca21e4dee320f0d01b0fd1263",
}


class DataFileError(RuntimeError):
    """A shipped data file is missing or does not match its recorded checksum."""


def data_dir() -> Path:
    """The folder that holds the shipped data.

    ``$TINYLLM_DATA`` if set; else the repository's ``data/`` (the editable install the README
    uses); else a ``data/`` next to, or one level above, the working directory (a notebook's
    working directory is ``notebooks/``).
    """
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    candidates = [REPO_ROOT / "data", Path.cwd() / "data", Path.cwd().parent / "data"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def data_file(name: str, *, verify: bool = True) -> Path:
    """Path of a shipped data file, checked against its recorded sha256.

    Raises:
        DataFileError: the file is missing or corrupt; the message says how to restore it.
    """
    # "./gpt2.tiktoken" and "tinytales/../gpt2.tiktoken" are the listed "gpt2.tiktoken": checked too.
    name = posixpath.normpath(name.replace("\\", "/"))
    path = data_dir() / name
    if not path.is_file():
        raise DataFileError(
            f"data file {path} is missing. Restore it with `git checkout -- data/{name}` in the "
            f"course repository, or set ${DATA_ENV} to a folder that contains it."
        )
    if verify and name in SHIPPED_FILES:
        actual = sha256_of(path)
        if actual != SHIPPED_FILES[name]:
            raise DataFileError(
                f"data file {path} is corrupt: sha256 {actual[:12]}... does not match the "
                f"recorded {SHIPPED_FILES[name][:12]}.... Restore it with "
                f"`git checkout -- data/{name}` (see data/README.md for where it comes from)."
            )
    return path
