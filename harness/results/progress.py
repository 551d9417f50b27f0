"""The guest programs' progress lines, turned into series a chart can draw.

Every guest program prints, every few seconds on stderr (guest/common.c,
progress_tick), one line of ``name=value`` counters:

    kprobe-churn: [  10.0/20s] adds=812 removes=790 busy=3 ... failures=0
    negdentry-inotify: [   5.0/30s] negative=400/4000 opens=9 add_p50=1.2ms add_max=9.8ms failures=0

Most values are running totals (adds, walks, lookups): what a person wants
from them is the rate, where a stall or a collapse shows as a drop. Values
with a unit (``ms``) are samples already (latency percentiles) and are drawn
as they are. A total that goes down is not a total: drawn as is, too.

The run stores the lines as ``RunResult.progress``: ``[[seconds, line], ...]``
with seconds since the stress began. Lines that carry no counter (notes,
warnings) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "key=12", "key=12.5ms", "key=3/4000" (the part after "/" is a limit, not a value).
_PAIR = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)=(-?\d+(?:\.\d+)?)(ms|us|ns|s|%)?(?:/\d+)?(?![\w.])")
# The line's own clock, "[  10.0/20s]": used when the stored time is missing.
_CLOCK = re.compile(r"\[\s*(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)s\]")
# Counted as failures, drawn in red: the oracle's own tally.
FAILURE_KEYS = ("failures",)


@dataclass
class Series:
    name: str  # what the chart labels it: "adds/s", "add_p50 (ms)"
    key: str  # the counter's name in the line
    rate: bool  # a running total drawn as its per-second rate
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def flat(self) -> bool:
        """Nothing to see: a counter that stayed 0 (a steady rate is worth a strip)."""
        return all(v == 0 for _, v in self.points)


@dataclass
class Progress:
    series: list[Series]
    first_failure_s: float | None = None  # when the program's failure count first rose
    lines: int = 0
    duration_s: float | None = None  # the stress time asked for, from the lines' own clock

    @property
    def empty(self) -> bool:
        return not any(len(s.points) > 1 for s in self.series)


def duration_of(line: str) -> float | None:
    m = _CLOCK.search(line)
    return float(m.group(2)) if m else None


def parse_line(line: str) -> tuple[float | None, dict[str, tuple[float, str]]]:
    """(the line's own clock, {key: (value, unit)}) of one progress line."""
    m = _CLOCK.search(line)
    clock = float(m.group(1)) if m else None
    values: dict[str, tuple[float, str]] = {}
    for key, value, unit in _PAIR.findall(line):
        values.setdefault(key, (float(value), unit or ""))
    return clock, values


def _samples(progress) -> list[tuple[float, dict[str, tuple[float, str]]]]:
    out = []
    for entry in progress or ():
        try:
            t, line = entry
        except (TypeError, ValueError):
            continue
        if not isinstance(line, str):
            continue
        clock, values = parse_line(line)
        if not values:
            continue
        when = t if isinstance(t, (int, float)) else clock
        if when is None:
            continue
        out.append((float(when), values))
    out.sort(key=lambda s: s[0])
    return out


def _nondecreasing(values: list[float]) -> bool:
    return all(b >= a for a, b in zip(values, values[1:]))


def _final_sample(samples, final: dict | None):
    """The program's closing counters as one more sample at the end of the stress:
    the last seconds after the last progress line are drawn too. Only the
    counters the lines carry, unitless, under the same name."""
    if not samples or not isinstance(final, dict):
        return None
    end = final.get("elapsed_s", final.get("duration_s"))
    if not isinstance(end, (int, float)) or end <= samples[-1][0]:
        return None
    last = samples[-1][1]
    values = {k: (float(v), "") for k, (_, unit) in last.items()
              if not unit and isinstance(v := final.get(k), (int, float)) and not isinstance(v, bool)}
    return (float(end), values) if values else None


def series(progress, final: dict | None = None) -> Progress:
    """RunResult.progress -> one Series per counter, rates for running totals.

    ``final``: the run's counters (RunResult.counters), for the closing sample."""
    samples = _samples(progress)
    closing = _final_sample(samples, final)
    if closing is not None:
        samples.append(closing)
    keys: list[str] = []
    units: dict[str, str] = {}
    for _, values in samples:
        for k, (_, unit) in values.items():
            if k not in units:
                keys.append(k)
                units[k] = unit
    out = Progress([], lines=len(samples) - (closing is not None))
    for entry in progress or ():
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], str):
            out.duration_s = duration_of(entry[1]) or out.duration_s
    for key in keys:
        pts = [(t, values[key][0]) for t, values in samples if key in values]
        if key in FAILURE_KEYS:
            base = pts[0][1] if pts and pts[0][0] <= 0 else 0.0
            rose = next((t for t, v in pts if v > base), None)
            out.first_failure_s = rose
        unit = units[key]
        if key in FAILURE_KEYS:  # a handful at most: the total says more than a rate
            out.series.append(Series(f"{key} (total)", key, False, pts))
            continue
        if unit or not _nondecreasing([v for _, v in pts]):
            out.series.append(Series(f"{key} ({unit})" if unit else key, key, False, pts))
            continue
        rates, prev = [], (0.0, 0.0)
        for t, v in pts:
            dt = t - prev[0]
            if dt > 0:
                rates.append((t, (v - prev[1]) / dt))
            prev = (t, v)
        out.series.append(Series(f"{key}/s", key, True, rates))
    return out
