"""Lay out a Hugging Face cache folder the way huggingface_hub writes it."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def place_in_hf_cache(hf_home: Path, repo: str, filename: str, source: Path, *,
                      symlink: bool = True, revision: str = "main") -> Path:
    """Put `source` in the cache as `repo`/`filename`; `symlink=False` copies the file into
    the snapshot the way huggingface_hub does on Windows without developer mode."""
    folder = hf_home / "hub" / ("models--" + repo.replace("/", "--"))
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / revision).write_text(COMMIT)
    snapshot = folder / "snapshots" / COMMIT / filename
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    if symlink:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        blob = folder / "blobs" / digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, blob)
        os.symlink(os.path.relpath(blob, snapshot.parent), snapshot)
    else:
        shutil.copyfile(source, snapshot)
    return snapshot
