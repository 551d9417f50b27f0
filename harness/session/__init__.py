"""The regression session: `make test` (through the pytest plugin) and `harness run`.

    core  prepare once, the plan's items as Runs, run one, collect, finish
    cli   `harness run`
"""

from harness.session.core import (
    Outcome,
    Prepared,
    Request,
    collect,
    default_run_dir,
    finish,
    items,
    new_run_id,
    prepare,
    run_item,
    run_session,
    stderr_progress,
)

__all__ = [
    "Outcome",
    "Prepared",
    "Request",
    "collect",
    "default_run_dir",
    "finish",
    "items",
    "new_run_id",
    "prepare",
    "run_item",
    "run_session",
    "stderr_progress",
]
