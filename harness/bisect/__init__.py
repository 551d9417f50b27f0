"""Flake-aware bisect: which commit introduced a failure, and how sure we are.

- ``engine``: the pure bisection over a ``History`` and a ``test_commit(rev)``
  callable that yields one ``RunRecord`` per run (unit-tested with fakes);
- ``model``: the records (run, step, target signature, result), JSON round-trips;
- ``stats``: reproduction rate, runs per step, confidence;
- ``state``: the resumable JSON state file;
- ``git``: rev and worktree helpers (the user's checkout is only read);
- ``tester``: the real ``test_commit``: worktree checkout, incremental build,
  one runner.Run per ``next()``;
- ``core``: one bisect from a ``Request`` to an ``Outcome`` (check, key, resume,
  the engine, the reports);
- ``report``: text, JSON and junit renderings; ``cli``: ``harness bisect``
  (arguments -> Request -> core.bisect);
- ``synthetic``: a kernel history with a planted bug, for the e2e test and bench.
"""

from harness.bisect.engine import Bisector, CommitTester, GitHistory, History, Settings
from harness.bisect.model import (
    BAD,
    GOOD,
    SKIP,
    BisectResult,
    Culprit,
    RunRecord,
    Step,
    Target,
)
from harness.bisect.state import State, StateFile

__all__ = [
    "BAD",
    "GOOD",
    "SKIP",
    "BisectResult",
    "Bisector",
    "CommitTester",
    "Culprit",
    "GitHistory",
    "History",
    "RunRecord",
    "Settings",
    "State",
    "StateFile",
    "Step",
    "Target",
]
