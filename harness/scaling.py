"""Scaling oracles: an operation whose cost must not grow with n, judged within one run.

A guest program that probes how an operation's cost depends on a size
(negdentry-inotify: inotify watch operations against the number of negative
dentries in the watched directory) prints, in its final JSON line,

    "scaling": {"of": "negative dentries",
                "points": [{"n": 1000, "add_watch": {"n": 24, "p50_us": 40.1, ...}, ...},
                           {"n": 412000, "add_watch": {...}, ...}]}

one point per size, each with the latency summary of every operation it
timed. A scenario states, per operation, the largest ratio its cost may grow
by from the smallest size to the largest (``Scaling``). The ratio is taken
between sizes of the same run, on the same guest, minutes apart: TCG's speed
and the host's load that day divide out, which an absolute bound in
milliseconds could not do.

A fixed kernel pays for the walk over a directory's children only when the
directory starts being watched; a kernel that walks on every add, on every
removal or on every event of a child pays it each time, and that operation's
cost grows with n (x100 and more from 1k to 400k), far past the few-fold
noise of a clean run. A probe taken while some thread could not be paused (a
thread stuck in the kernel) is still judged: its cost is the kernel's.

Some operations are O(n) on a sound kernel: umount frees every dentry the
filesystem holds (umount-check's probe, "of": "dentries"). Their bound is
on the cost per unit of n (``Scaling(..., per="dentry")``): the op's cost
divided by the point's n. A linear cost keeps it flat, a fixed part of the
cost only lowers it at the larger sizes, and a kernel that rescans per
dentry makes it grow with n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ORACLE = "scaling"  # the oracle name failures start with (harness.verdict.oracle_key)
# A cost below this (microseconds) is timer and scheduling noise, not work: a
# ratio of two such costs says nothing, so denominators are raised to it.
FLOOR_US = 5.0
# Sizes closer than this ratio show no growth worth judging.
MIN_SPREAD = 10.0


@dataclass(frozen=True)
class Scaling:
    """One bound: ``op``'s ``stat`` may grow at most ``bound`` times from the smallest n to the largest."""

    op: str  # the operation's key in each point, e.g. "add_watch"
    bound: float  # the largest allowed ratio, e.g. 10.0
    stat: str = "p50_us"  # which summary of the op's latency
    # What one unit of n is ("dentry") when the op's sound cost is O(n): the
    # bound is then on the cost per unit. "" bounds the cost itself.
    per: str = ""

    @property
    def label(self) -> str:
        base = f"{self.op} {self.stat.removesuffix('_us')}"
        return f"{base} per {self.per}" if self.per else base


@dataclass(frozen=True)
class Growth:
    op: str
    stat: str
    n_small: int
    n_large: int
    small_us: float
    large_us: float
    of: str  # what n counts
    per: bool = False  # judged per unit of n

    @property
    def small(self) -> float:
        """The cost judged at the smallest size: the op's (floored), or that divided by n."""
        return max(self.small_us, FLOOR_US) / (self.n_small if self.per else 1)

    @property
    def large(self) -> float:
        return max(self.large_us, FLOOR_US) / (self.n_large if self.per else 1)

    @property
    def ratio(self) -> float:
        return self.large / self.small


def _points(counters: Any) -> tuple[str, list[dict]]:
    block = counters.get("scaling") if isinstance(counters, dict) else None
    if not isinstance(block, dict):
        return "", []
    pts = [p for p in block.get("points") or [] if isinstance(p, dict) and isinstance(p.get("n"), int)]
    return str(block.get("of") or "n"), sorted(pts, key=lambda p: p["n"])


def _stat(point: dict, op: str, stat: str) -> float | None:
    lat = point.get(op)
    if not isinstance(lat, dict) or not lat.get("n"):
        return None  # not timed at this size (a probe cut short)
    v = lat.get(stat)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def growth(counters: Any, op: str, stat: str = "p50_us", per: bool = False) -> Growth | None:
    """op's cost at the smallest and the largest size it was timed at, or None.
    per: the cost per unit of n is judged, so a size of 0 has none."""
    of, pts = _points(counters)
    timed = [(p["n"], v) for p in pts if (v := _stat(p, op, stat)) is not None and (p["n"] > 0 or not per)]
    if len(timed) < 2 or timed[-1][0] < MIN_SPREAD * max(1, timed[0][0]):
        return None
    (n0, v0), (n1, v1) = timed[0], timed[-1]
    return Growth(op, stat, n0, n1, v0, v1, of, per)


def human(n: float) -> str:
    """1000 -> 1k, 412345 -> 412k, 2500000 -> 2.5M."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            return f"{v:.1f}".rstrip("0").rstrip(".") + unit if v < 10 else f"{v:.0f}{unit}"
    return f"{n:.0f}"


def judge(bounds: tuple[Scaling, ...], counters: Any) -> list[str]:
    """One failure line per bound broken, in the oracle's words."""
    out = []
    for b in bounds:
        g = growth(counters, b.op, b.stat, bool(b.per))
        if g is None or g.ratio <= b.bound:
            continue
        span = f"from {human(g.n_small)} to {human(g.n_large)} {g.of}"
        if b.per:
            # Per-unit costs are small and the bounds a few-fold: more digits.
            out.append(
                f"{ORACLE}: {b.label} x{g.ratio:.1f} {span}"
                f" ({g.small:.3g} -> {g.large:.3g} us per {b.per}; bound x{b.bound:g})"
            )
            continue
        out.append(
            f"{ORACLE}: {b.label} x{g.ratio:.0f} {span} ({g.small_us:.0f} -> {g.large_us:.0f} us; bound x{b.bound:g})"
        )
    return out


PER_N = "_per_n"  # the suffix of a per-unit ratio's key


def ratio_key(op: str, stat: str = "p50_us", per: str = "") -> str:
    """The metric key of an op's growth ratio (harness.metrics reads it through ``value``)."""
    return f"scaling.{op}.{stat.removesuffix('_us')}{PER_N if per else ''}_ratio"


def value(counters: Any, key: str) -> float | None:
    """A ``ratio_key`` metric's value in one run's counters, or None."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != "scaling" or not parts[2].endswith("_ratio"):
        return None
    stat = parts[2].removesuffix("_ratio")
    per = stat.endswith(PER_N)
    g = growth(counters, parts[1], stat.removesuffix(PER_N) + "_us", per)
    return g.ratio if g else None
