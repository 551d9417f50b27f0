"""An exclusive file lock, so concurrent callers (xdist workers, parallel verifies) build once."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


@contextmanager
def file_lock(
    path: Path, on_wait: str | None = None, progress: Callable[[str], None] | None = None
) -> Iterator[None]:
    """An exclusive flock on ``path``; says ``on_wait`` if it has to wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait and progress:
                progress(on_wait)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
