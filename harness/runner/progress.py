"""Progress lines: the runner and the stages print nothing themselves; drivers pass one of these."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

Progress = Callable[[str], None]


def stderr_progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class LogProgress:
    """Progress to stderr and to a log file of its own (a bisect's, kept with its results)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __call__(self, msg: str) -> None:
        stderr_progress(msg)
        with open(self.path, "a") as f:
            f.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
