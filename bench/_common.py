"""Shared bits of the bench scripts: timing a command, the CLI path, medians."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import proc  # noqa: E402

HARNESS = str(REPO / ".venv" / "bin" / "harness")


def timed(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 3600, cwd=None) -> tuple[float, proc.Result]:
    t0 = time.monotonic()
    r = proc.run(argv, env=env, timeout=timeout, check=False, cwd=cwd)
    return time.monotonic() - t0, r


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def say(msg: str) -> None:
    print(msg, flush=True)


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name) if os.path.exists(Path(sys.executable).parent / name) else name
