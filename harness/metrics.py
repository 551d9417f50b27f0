"""Metric regressions: a scenario's key numbers compared between two sets of runs.

Each scenario declares its key metrics (``Metric``): a counter of the
program's final JSON line (dotted, e.g. ``add_watch_latency.p50_us``, or a
scaling ratio, ``scaling.add_watch.p50_ratio``) and the direction that is
worse. ``compare_runs`` takes each metric's per-run values on the two sides
and calls it changed when both hold:

- the sides' distributions differ by a two-sided Mann-Whitney U test at
  ``alpha``: ranks, not means, so one run slowed by the host does not move it;
- the medians differ by at least ``min_effect`` (x2 by default) either way:
  under TCG two guests share two cores, and a clean kernel's latencies move
  by tens of percent from run to run and host load to host load; a real
  regression of this kind (a walk over every child on each operation) is
  x10 and more.

A changed metric is a signature, in words like
``metric: negdentry-inotify add_watch_latency.p50_us 250 -> 42000 (x168), p 0.008``:
worse on the new side counts as introduced (a regression), better as fixed.

The test is exact (the distribution of U by counting) when neither side has
ties and both are small, else the normal approximation with the tie
correction. The exact two-sided p of 5 runs against 5 fully separated is
2/252 = 0.008; 3 against 3 cannot go below 0.1, so a verify sized at 3 runs
a side never calls a metric changed (its note says so).

Values come from completed runs (PASS, FAIL or KNOWN) only: an errored run's
counters, when it has any, describe a run that did not happen as planned.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import median
from typing import Any, Iterable, Mapping

from harness import scaling
from harness.argtypes import factor
from harness.verdict import COMPLETED, RunResult, read_results

HIGHER, LOWER = "higher", "lower"  # which direction is worse
WORSE, BETTER = "worse", "better"
MIN_EFFECT = 2.0
ALPHA = 0.05
EXACT_MAX = 40  # exact U distribution up to this many runs a side (no ties)


def add_min_effect_option(parser: argparse.ArgumentParser) -> None:
    """--min-effect, as verify and compare take it."""
    parser.add_argument("--min-effect", type=factor, default=MIN_EFFECT, metavar="X",
                        help="a metric counts as changed only beyond this factor either way; metrics that declare "
                        "a larger one (throughput, tails) keep theirs (default: 2)")


@dataclass(frozen=True)
class Metric:
    key: str  # dotted counter path, or a scaling ratio key (scaling.ratio_key)
    worse: str = HIGHER  # HIGHER (latency) or LOWER (throughput)
    # A noise floor measured for this metric (throughput, tails): the comparison
    # uses the larger of it and its own minimum effect. None: the comparison's.
    min_effect: float | None = None

    def __post_init__(self) -> None:
        if self.worse not in (HIGHER, LOWER):
            raise ValueError(f"metric {self.key}: worse must be {HIGHER!r} or {LOWER!r}, not {self.worse!r}")


@dataclass(frozen=True)
class MetricRow:
    scenario: str
    key: str
    worse: str
    old: tuple[float, ...]  # per-run values, baseline / old side
    new: tuple[float, ...]
    p: float
    ratio: float  # median(new) / median(old)
    change: str = ""  # WORSE, BETTER or ""
    min_effect: float = MIN_EFFECT

    @property
    def old_median(self) -> float:
        return median(self.old)

    @property
    def new_median(self) -> float:
        return median(self.new)

    @property
    def factor(self) -> float:
        """How many times bigger or smaller: always >= 1."""
        if self.ratio == 0 or math.isinf(self.ratio):
            return math.inf
        return self.ratio if self.ratio >= 1 else 1 / self.ratio

    @property
    def signature(self) -> str:
        fac = "inf" if math.isinf(self.factor) else f"{self.factor:.3g}"
        return (f"metric: {self.scenario} {self.key} {_num(self.old_median)} -> {_num(self.new_median)}"
                f" (x{fac}{'' if self.ratio >= 1 else ' lower'}), p {_p(self.p)}")

    def to_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "metric": self.key,
            "worse": self.worse,
            "old": list(self.old),
            "new": list(self.new),
            "old_median": self.old_median,
            "new_median": self.new_median,
            "ratio": self.ratio if math.isfinite(self.ratio) else None,
            "p": self.p,
            "change": self.change,
            "min_effect": self.min_effect,
            "signature": self.signature,
        }


def _num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def _p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


# ------------------------------------------------------------------ the test


@lru_cache(maxsize=None)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many orderings of m + n distinct values give each U = 0 .. m*n (U counts y < x pairs)."""
    if m == 0 or n == 0:
        return (1,)
    # Where the largest value sits: among the x's it beats all n y's (U gains n), else nothing.
    a, b = _u_counts(m - 1, n), _u_counts(m, n - 1)
    out = [0] * (m * n + 1)
    for u, c in enumerate(a):
        out[u + n] += c
    for u, c in enumerate(b):
        out[u] += c
    return tuple(out)


def mann_whitney(x: Iterable[float], y: Iterable[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test of samples x and y."""
    x, y = [float(v) for v in x], [float(v) for v in y]
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return 1.0
    pooled = sorted(x + y)
    ranks: dict[float, float] = {}
    ties = []
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1] == pooled[i]:
            j += 1
        ranks[pooled[i]] = (i + j) / 2 + 1  # mid-rank of a tied group
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    r1 = sum(ranks[v] for v in x)
    u = r1 - m * (m + 1) / 2
    if not ties and m <= EXACT_MAX and n <= EXACT_MAX:
        counts = _u_counts(m, n)
        total = math.comb(m + n, m)
        k = round(u)
        lower = sum(counts[: k + 1])
        upper = sum(counts[k:])
        return min(1.0, 2 * min(lower, upper) / total)
    big = m + n
    tie_term = sum(t**3 - t for t in ties) / (big * (big - 1))
    var = m * n / 12 * (big + 1 - tie_term)
    if var <= 0:
        return 1.0  # every value equal: nothing to tell apart
    z = (abs(u - m * n / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


# ------------------------------------------------------------- the comparison


def value(counters: Any, key: str) -> float | None:
    """A metric's value in one run's counters; None when the run has no such number.

    A latency summary with no samples (``n`` 0) prints 0 for its percentiles:
    that is "not measured", not "instant".
    """
    if key.startswith("scaling."):
        return scaling.value(counters, key)
    cur: Any = counters
    parent: Any = None
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        parent, cur = cur, cur[part]
    if isinstance(cur, bool) or not isinstance(cur, (int, float)) or not math.isfinite(cur):
        return None
    if isinstance(parent, dict) and key.endswith("_us") and parent.get("n") == 0:
        return None
    return float(cur)


def _as_result(r: RunResult | Mapping) -> RunResult:
    return r if isinstance(r, RunResult) else RunResult.from_dict(dict(r))


def _declared(name: str) -> tuple[Metric, ...]:
    from harness.scenarios import all_scenarios

    for s in all_scenarios():
        if s.name == name:
            return s.metrics
    return ()


def run_metrics(result: RunResult | Mapping) -> dict[str, float]:
    """One run's declared metrics by key (those it has a value for): what its JSON and junit show."""
    r = _as_result(result)
    if not isinstance(r.counters, dict):
        return {}
    return {m.key: v for m in _declared(r.scenario) if (v := value(r.counters, m.key)) is not None}


@dataclass
class Sides:
    old: dict[str, list[Any]] = field(default_factory=dict)  # scenario -> completed runs' counters
    new: dict[str, list[Any]] = field(default_factory=dict)


def _by_scenario(results: Iterable[RunResult | Mapping]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in map(_as_result, results):
        if r.verdict in COMPLETED and isinstance(r.counters, dict):
            out.setdefault(r.scenario, []).append(r.counters)
    return out


def compare_runs(
    old: Iterable[RunResult | Mapping],
    new: Iterable[RunResult | Mapping],
    *,
    alpha: float = ALPHA,
    min_effect: float = MIN_EFFECT,
    declared: Mapping[str, tuple[Metric, ...]] | None = None,
) -> list[MetricRow]:
    """A row per declared metric of every scenario with values on both sides, changed ones first.

    ``old`` and ``new`` are per-run results (RunResult or their dicts, as in
    results.json or verify's items/); ``declared`` maps scenario names to
    metrics (default: each scenario's own ``metrics``). ``min_effect`` is
    the command line's (--min-effect): a metric that declares a larger one,
    because it moves more with the host's load, keeps its own.
    """
    if min_effect < 1:
        raise ValueError(f"min_effect must be >= 1 (a factor), not {min_effect!r}")
    sides = Sides(_by_scenario(old), _by_scenario(new))
    rows = []
    for scenario in sorted(set(sides.old) & set(sides.new)):
        metrics = declared.get(scenario, ()) if declared is not None else _declared(scenario)
        for m in metrics:
            a = tuple(v for c in sides.old[scenario] if (v := value(c, m.key)) is not None)
            b = tuple(v for c in sides.new[scenario] if (v := value(c, m.key)) is not None)
            if not a or not b:
                continue
            rows.append(_row(scenario, m, a, b, alpha, max(m.min_effect or 1.0, min_effect)))
    rows.sort(key=lambda r: (r.change == "", r.p, r.scenario, r.key))
    return rows


def _row(scenario: str, m: Metric, a: tuple[float, ...], b: tuple[float, ...], alpha: float, effect: float) -> MetricRow:
    ma, mb = median(a), median(b)
    if ma == mb:
        ratio = 1.0
    elif ma == 0:
        ratio = math.inf
    else:
        ratio = mb / ma
    p = mann_whitney(a, b)
    change = ""
    if p < alpha and (ratio >= effect or ratio <= 1 / effect):
        up = ratio > 1
        change = WORSE if up == (m.worse == HIGHER) else BETTER
    return MetricRow(scenario, m.key, m.worse, a, b, p, ratio, change, effect)


def smallest_p(m: int, n: int) -> float:
    """The smallest two-sided p a U test of m against n runs can give (full separation)."""
    if m <= 0 or n <= 0:
        return 1.0
    return min(1.0, 2 / math.comb(m + n, m))


# The one reader of result files (compare, the metric spread, tests).
load_results = read_results
