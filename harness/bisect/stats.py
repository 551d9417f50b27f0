"""The flake arithmetic: how many runs a step needs, and how sure the answer is.

A run of a commit that has the bug shows it with probability p (estimated
from the BAD endpoint). A step that sees no reproduction in r runs calls the
commit good; it is wrong with probability (1 - p)^r. Bad verdicts are
trusted: a reproduction with the target signature is not a false alarm.
So the answer is right when every good verdict was, and its confidence is
the product over good verdicts of 1 - (1 - p)^r (syzkaller's pkg/bisect).
The GOOD endpoint's check counts as one of them: were it a missed
reproduction, every later step would bisect the wrong range.
"""

from __future__ import annotations

import math
from typing import Iterable

# The chance of calling a bad commit good that one step may take (the 5%).
MISS = 0.05


def rate(reproduced: int, runs: int) -> float:
    """The estimated reproduction probability: the BAD endpoint's hit ratio."""
    if runs <= 0:
        return 0.0
    return max(0.0, min(1.0, reproduced / runs))


def miss_chance(p: float, runs: int) -> float:
    """P(no reproduction in ``runs`` runs of a bad commit)."""
    return (1.0 - p) ** max(0, runs)


def runs_needed(p: float, miss: float = MISS) -> int:
    """The fewest runs r with (1 - p)^r < miss; a huge number when p is 0."""
    if p >= 1.0:
        return 1
    if p <= 0.0:
        return 1 << 30
    r = max(1, math.ceil(math.log(miss) / math.log(1.0 - p)))
    # ceil() lands on equality for exact powers (p=0.5, miss=0.0625): strictly below.
    while miss_chance(p, r) >= miss:
        r += 1
    return r


def runs_per_step(p: float, base: int, cap: int, miss: float = MISS) -> int:
    """At least ``base`` (the user's --runs), raised for flakiness, at most ``cap``."""
    return max(1, min(max(base, runs_needed(p, miss)), max(cap, base)))


def confidence(p: float, good_runs: Iterable[int]) -> float:
    """Product over good verdicts (their run counts) of 1 - (1 - p)^runs."""
    c = 1.0
    for r in good_runs:
        c *= 1.0 - miss_chance(p, r)
    return c


def steps_left(untested: int) -> int:
    """About how many more steps a range of ``untested`` commits takes (log2, rounded up)."""
    return math.ceil(math.log2(untested + 1)) if untested > 0 else 0
