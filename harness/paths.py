"""Where things live: the repo's own files and the build cache outside it."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KCONFIGS = REPO / "kconfigs"
GUEST = REPO / "guest"
IMAGES = REPO / "images"


def cache_dir() -> Path:
    """Root of every cache (kernel builds, ccache, images, keys).

    ``HARNESS_CACHE`` overrides; the default is ``~/.cache/harness``.
    """
    env = os.environ.get("HARNESS_CACHE")
    root = Path(env) if env else Path.home() / ".cache" / "harness"
    root.mkdir(parents=True, exist_ok=True)
    return root


def results_dir() -> Path:
    env = os.environ.get("HARNESS_RESULTS")
    return Path(env) if env else REPO / "results"


def safe_name(name: str) -> str:
    """``name`` usable as one path component: anything but [A-Za-z0-9_.+-] becomes "_"."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def digest(*parts: bytes | str, length: int = 16) -> str:
    """A short, stable hash of the inputs, for cache keys."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()[:length]
