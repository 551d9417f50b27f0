"""Per-run result files: one writer, one reader, for every driver."""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.verdict import RunResult


def store(result: RunResult, path: Path) -> RunResult:
    """Write ``result`` as JSON at ``path`` (the drivers choose where: an items/
    dir, or beside the run's console); returns it for chaining."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a run stopped mid-write (SIGTERM) never leaves
    # a truncated file for collect() to trip over when the results dir is reused.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    os.replace(tmp, path)
    return result


def load(path: Path) -> RunResult:
    return RunResult.from_dict(json.loads(path.read_text()))


def collect(items_dir: Path) -> list[RunResult]:
    """Every result stored in ``items_dir``, by scenario and repetition."""
    results = [load(p) for p in sorted(items_dir.glob("*.json"))]
    results.sort(key=lambda r: (r.scenario, r.index))
    return results

