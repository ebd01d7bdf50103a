"""What a re-run of a batch may skip: a submission whose content and grader are unchanged.

The key (submission content + grader version) is stored inside the results it stands for
(extra_data.batch_cache_key), so writing one is a single atomic write.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .bundle import grading_files
from .intake import Entry

CACHE_KEY = "batch_cache_key"  # in results.json's extra_data: submission content + grader version


def grader_version(config_path: Path | None) -> str:
    """A hash of every grading file and the config: results cached under another version are stale."""
    digest = hashlib.sha256()
    for file, name in grading_files():
        if name == "grading.toml" and config_path is not None:
            file = config_path
        digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def submission_key(entry: Entry, version: str) -> str:
    digest = hashlib.sha256(version.encode() + b"\0" + entry.id.encode() + b"\0"
                            + json.dumps(entry.metadata, sort_keys=True, default=str).encode())  # (its limit's input)
    files = [entry.path] if entry.path.is_file() else sorted(p for p in entry.path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(entry.path.parent)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def cached_key(results) -> str | None:
    """The cache key a batch stored in results it wrote (None for anything else, or no results)."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    return extra.get(CACHE_KEY) if isinstance(extra, dict) else None
