"""Baseline vs patched: per-signature counts, Fisher p-values, and the verdict.

A signature is a kernel report title or an oracle failure (RunResult.signatures).
It is counted once per run that shows it, per scenario: runs are the unit of
the 2x2 table (runs with / without, baseline / patched), and a signature that
belongs to one scenario is not diluted by the runs of the others. Only runs
that completed (PASS or FAIL) count; a run that errored says nothing about
the kernel.

Verdicts:
- ``error``: a side failed to build, or some scenario has no completed run on
  a side (it failed to boot, or the infrastructure failed there only), or the
  patched kernel fails to boot significantly more often. ``error_side`` says
  which. A scenario neither side completed for a non-boot reason is a note.
- ``regression``: a signature is significantly more frequent on patched, or
  new on patched (never seen on baseline). New counts without significance
  because a kernel report or a broken oracle does not happen on a healthy
  kernel: with the few runs a 30-minute budget allows, waiting for p < alpha
  would miss most real regressions. The exception is the harness's own
  "guest died" titles, which TCG timing can produce: new ones need 2 runs.
- ``fixes``: a signature is significantly less frequent on patched, none new.
- ``no-change``: anything else (including differences too small to call).

No correction for multiple comparisons: like LKP's table, every row is shown
with its own p-value for the reader to weigh.

A scenario whose runs show more than one signature also gets a row for runs
that failed at all (ANY_FAILURE). One bug often shows under several titles
(a use-after-free read in whichever function touches the freed object first,
a soft lockup in whichever syscall spins): 3:5 and 2:5 split across two
titles say nothing on their own, 5:5 -> 0:5 runs failing does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import metrics as metrics_mod
from harness.analysis.guest import HARNESS_TITLES
from harness.verdict import COMPLETED, ORACLE_PREFIX, ErrorKind, RunResult, Verdict, oracle_key
from harness.verify.stats import fisher_exact, smallest_p

REGRESSION, FIXES, NO_CHANGE, VERDICT_ERROR = "regression", "fixes", "no-change", "error"
BASELINE, PATCHED = "baseline", "patched"
SIDES = (BASELINE, PATCHED)
ALPHA = 0.05
# The titles the harness gives a guest that died or hung without a kernel report.
NEW_MIN_RUNS = {t: 2 for t in HARNESS_TITLES}
ANY_FAILURE = "any report or oracle failure"

def normalize(signature: str) -> str:
    """The comparable form of a signature; "" for lines that are not one (a count of more)."""
    if not signature.startswith(ORACLE_PREFIX):
        return signature  # report titles are normalized by the analysis already
    key = oracle_key(signature[len(ORACLE_PREFIX):])
    return ORACLE_PREFIX + key if key else ""


@dataclass(frozen=True)
class Row:
    scenario: str
    signature: str
    baseline: int  # runs showing it
    patched: int
    baseline_runs: int  # completed runs of the scenario
    patched_runs: int
    p: float
    change: str = ""  # "introduced", "fixed", or ""
    new: bool = False  # never seen on baseline

    def to_json(self) -> dict:
        return {
            "signature": self.signature,
            "scenario": self.scenario,
            "baseline": self.baseline,
            "patched": self.patched,
            "baseline_runs": self.baseline_runs,
            "patched_runs": self.patched_runs,
            "p": self.p,
            "new": self.new,
        }


@dataclass
class Side:
    """What happened on one side, before comparing."""

    runs: int = 0  # attempted (not skipped)
    completed: int = 0  # PASS or FAIL
    boot_failures: int = 0
    errors: int = 0  # other ERRORs (infrastructure)
    skipped: int = 0
    build_error: str = ""
    first_error: str = ""

    @property
    def boot_successes(self) -> int:
        return self.runs - self.boot_failures

    def to_json(self) -> dict:
        return {
            "runs": self.runs,
            "completed": self.completed,
            "boot_successes": self.boot_successes,
            "boot_failures": self.boot_failures,
            "errors": self.errors,
            "skipped": self.skipped,
            "build_error": self.build_error,
        }


@dataclass
class Comparison:
    verdict: str
    rows: list[Row] = field(default_factory=list)
    sides: dict[str, Side] = field(default_factory=dict)
    error_side: str = ""  # "baseline", "patched" or "both", for VERDICT_ERROR
    error: str = ""
    notes: list[str] = field(default_factory=list)
    boot_p: float = 1.0
    alpha: float = ALPHA
    # Declared metrics of each scenario, tested between the sides (harness/metrics.py).
    metric_rows: list[metrics_mod.MetricRow] = field(default_factory=list)

    @property
    def introduced(self) -> list[Row]:
        return [r for r in self.rows if r.change == "introduced"]

    @property
    def fixed(self) -> list[Row]:
        return [r for r in self.rows if r.change == "fixed"]

    @property
    def metrics_worse(self) -> list[metrics_mod.MetricRow]:
        return [m for m in self.metric_rows if m.change == metrics_mod.WORSE]

    @property
    def metrics_better(self) -> list[metrics_mod.MetricRow]:
        return [m for m in self.metric_rows if m.change == metrics_mod.BETTER]


def _side(results: list[RunResult], build_error: str = "") -> Side:
    s = Side(build_error=build_error)
    for r in results:
        if r.verdict == Verdict.SKIP:
            s.skipped += 1
            continue
        s.runs += 1
        if r.verdict in COMPLETED:
            s.completed += 1
        elif r.error_kind == ErrorKind.BOOT:
            s.boot_failures += 1
        else:
            s.errors += 1
        if r.verdict == Verdict.ERROR and not s.first_error:
            s.first_error = f"{r.error_kind or 'unknown'} error: {r.message}"
    return s


def _counts(results: list[RunResult]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    runs: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    for r in results:
        if r.verdict not in COMPLETED:
            continue
        runs[r.scenario] = runs.get(r.scenario, 0) + 1
        sigs = dict.fromkeys(filter(None, (normalize(s) for s in r.signatures)))
        for sig in sigs:
            seen[(r.scenario, sig)] = seen.get((r.scenario, sig), 0) + 1
        if sigs:
            seen[(r.scenario, ANY_FAILURE)] = seen.get((r.scenario, ANY_FAILURE), 0) + 1
    return runs, seen


def _drop_lone_aggregates(seen: dict[str, dict[tuple[str, str], int]]) -> None:
    """The ANY_FAILURE row of a scenario with one signature on both sides repeats that row."""
    sigs: dict[str, set[str]] = {}
    for counts in seen.values():
        for scenario, sig in counts:
            if sig != ANY_FAILURE:
                sigs.setdefault(scenario, set()).add(sig)
    for counts in seen.values():
        for scenario in {sc for sc, _ in counts}:
            if len(sigs.get(scenario, ())) < 2:
                counts.pop((scenario, ANY_FAILURE), None)


def _unusable(results: list[RunResult]) -> list[str]:
    """Scenarios attempted on this side with no completed run."""
    attempted = {r.scenario for r in results if r.verdict != Verdict.SKIP}
    done = {r.scenario for r in results if r.verdict in COMPLETED}
    return sorted(attempted - done)


def compare(
    baseline: list[RunResult],
    patched: list[RunResult],
    *,
    alpha: float = ALPHA,
    build_errors: dict[str, str] | None = None,
    min_effect: float = metrics_mod.MIN_EFFECT,
) -> Comparison:
    build_errors = build_errors or {}
    results = {BASELINE: baseline, PATCHED: patched}
    sides = {name: _side(results[name], build_errors.get(name, "")) for name in SIDES}
    cmp = Comparison(NO_CHANGE, sides=sides, alpha=alpha)

    broken = [n for n in SIDES if sides[n].build_error]
    if broken:
        cmp.verdict, cmp.error_side = VERDICT_ERROR, _which(broken)
        cmp.error = "; ".join(f"{n} kernel failed to build: {sides[n].build_error}" for n in broken)
        return cmp

    runs: dict[str, dict[str, int]] = {}
    seen: dict[str, dict[tuple[str, str], int]] = {}
    for name in SIDES:
        runs[name], seen[name] = _counts(results[name])
    _drop_lone_aggregates(seen)

    for key in sorted(set(seen[BASELINE]) | set(seen[PATCHED])):
        scenario, sig = key
        nb, np_ = runs[BASELINE].get(scenario, 0), runs[PATCHED].get(scenario, 0)
        if nb == 0 or np_ == 0:
            continue  # not comparable: reported as an error or a note below
        b, p = seen[BASELINE].get(key, 0), seen[PATCHED].get(key, 0)
        pv = fisher_exact(b, nb - b, p, np_ - p)
        new = b == 0 and p > 0
        change = ""
        if p > b and (pv < alpha or (new and p >= NEW_MIN_RUNS.get(sig, 1))):
            change = "introduced"
        elif p < b and pv < alpha:
            change = "fixed"
        cmp.rows.append(Row(scenario, sig, b, p, nb, np_, pv, change, new))
    # Most telling first: changes, then by p.
    cmp.rows.sort(key=lambda r: (r.change == "", r.p, r.scenario, r.signature))

    cmp.boot_p = fisher_exact(
        sides[BASELINE].boot_failures, sides[BASELINE].boot_successes,
        sides[PATCHED].boot_failures, sides[PATCHED].boot_successes,
    )
    dead = {n: _unusable(results[n]) for n in SIDES}
    # A scenario neither side could complete for a reason other than booting
    # (its setup, the host) says nothing about the patch: noted, not compared.
    for scenario in sorted(set(dead[BASELINE]) & set(dead[PATCHED])):
        kinds = {r.error_kind for n in SIDES for r in results[n] if r.scenario == scenario and r.verdict == Verdict.ERROR}
        if ErrorKind.BOOT not in kinds:
            first = next(r for r in results[BASELINE] + results[PATCHED]
                         if r.scenario == scenario and r.verdict == Verdict.ERROR)
            cmp.notes.append(f"{scenario}: no completed run on either side, not compared"
                             f" ({first.error_kind or 'unknown'} error: {first.message})")
            for n in SIDES:
                dead[n].remove(scenario)
    dead_sides = [n for n in SIDES if dead[n]]
    if dead_sides:
        cmp.verdict, cmp.error_side = VERDICT_ERROR, _which(dead_sides)
        cmp.error = "; ".join(
            f"{n} kernel: no completed run of {', '.join(dead[n])} ({sides[n].first_error})" for n in dead_sides
        )
        return cmp
    if sides[PATCHED].boot_failures > sides[BASELINE].boot_failures and cmp.boot_p < alpha:
        cmp.verdict, cmp.error_side = VERDICT_ERROR, PATCHED
        cmp.error = (
            f"patched kernel failed to boot in {sides[PATCHED].boot_failures} of {sides[PATCHED].runs} runs"
            f" (baseline {sides[BASELINE].boot_failures} of {sides[BASELINE].runs}, p={cmp.boot_p:.3g})"
        )
        return cmp

    # A metric worse beyond the effect counts as an introduced signature, better as a fixed one.
    cmp.metric_rows = metrics_mod.compare_runs(baseline, patched, alpha=alpha, min_effect=min_effect)
    if cmp.introduced or cmp.metrics_worse:
        cmp.verdict = REGRESSION
    elif cmp.fixed or cmp.metrics_better:
        cmp.verdict = FIXES
    _power_note(cmp, runs)
    return cmp


def _which(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "both"


def _power_note(cmp: Comparison, runs: dict[str, dict[str, int]]) -> None:
    weak = []
    for scenario in sorted(set(runs[BASELINE]) & set(runs[PATCHED])):
        nb, np_ = runs[BASELINE][scenario], runs[PATCHED][scenario]
        if smallest_p(nb, np_) >= cmp.alpha:
            weak.append(f"{scenario} ({nb} vs {np_})")
    if weak:
        need = next(n for n in range(1, 100) if smallest_p(n, n) < cmp.alpha)
        cmp.notes.append(
            f"too few completed runs for any difference to reach p < {cmp.alpha:g} in: {', '.join(weak)};"
            f" only new signatures can show. A fix needs at least {need} runs a side"
            " (--runs, with fewer --scenario to stay in budget)"
        )
    weak_metrics = sorted({f"{m.scenario} ({len(m.old)} vs {len(m.new)})" for m in cmp.metric_rows
                           if metrics_mod.smallest_p(len(m.old), len(m.new)) >= cmp.alpha})
    if weak_metrics:
        cmp.notes.append(
            f"too few runs for a metric's rank test to reach p < {cmp.alpha:g} in: {', '.join(weak_metrics)};"
            " metrics need at least 4 runs a side"
        )
