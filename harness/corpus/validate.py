"""Validate: prove the harness catches every bug in the corpus.

For each bug: build the bugged kernel (incrementally, see bugtree), run the
scenario that should catch it N times, and the same scenario's VM setup with
stress-ng instead of our program; then the clean kernel the same way. The
rows say, per bug: scenario, detected n/N, signature seen, median time to
detection, stress-ng's figures. ``validate(request)`` does it all and writes
validate.json; the table is ``table(rows)``.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import runner, scenarios
from harness.corpus.bugs import Bug
from harness.corpus.bugtree import bug_tree
from harness.errors import EXIT_FAIL, EXIT_OK
from harness.image import ensure_image
from harness.kbuild import get_kernel
from harness.kbuild.source import debian_source
from harness.paths import results_dir
from harness.runner import Run, Testbed
from harness.runner.progress import Progress
from harness.verdict import RunResult, Verdict, oracle_keys

CLEAN = "(clean kernel)"
# stress-ng's filesystem stressors nearest to our families, run where the
# scenario's filesystem is mounted (getdent also walks /sys, tracefs included).
STRESS_NG = ("stress-ng", "--getdent", "2", "--dentry", "2", "--inotify", "2", "--symlink", "2",
             "--metrics-brief")


def detected(bug: Bug | None, r: RunResult) -> str:
    """The signature in r that bug expects ('' if none). For the clean kernel: any failure."""
    if r.verdict != Verdict.FAIL:
        return ""
    if bug is None:
        return (r.titles + r.oracle_failures)[0]
    for t in r.titles:
        if bug.matches("title", t):
            return t
    for o in oracle_keys(r.oracle_failures):
        if bug.matches("oracle", o):
            return f"oracle {o}"
    return ""


@dataclass
class Row:
    bug: str
    scenario: str
    runs: int
    detected: int
    seen: list[str] = field(default_factory=list)
    median_s: float | None = None
    other: list[str] = field(default_factory=list)  # failures that are not the expected signature
    peer_runs: int = 0
    peer_detected: int = 0
    peer_median_s: float | None = None


@dataclass(frozen=True)
class Request:
    bugs: list[Bug]
    out: Path  # the results dir: every run's console and result, validate.json
    runs: int = 3
    peer_runs: int = 1  # stress-ng runs per bug (0: no comparison)
    clean_runs: int | None = None  # None: runs


@dataclass
class Outcome:
    rows: list[Row]
    out: Path

    @property
    def exit_code(self) -> int:
        missed = [r for r in self.rows if r.bug != CLEAN and r.detected < r.runs]
        false_pos = [r for r in self.rows if r.bug == CLEAN and r.detected]
        return EXIT_FAIL if missed or false_pos else EXIT_OK


def _stress_ng(scenario, duration: int) -> tuple[str, ...]:
    # On the scenario's disk filesystem: the scratch disk, else the ext4 root (not tmpfs).
    where = "/mnt/scratch" if scenario.scratch_disk_mb else "/var/tmp"
    return STRESS_NG + ("--timeout", f"{duration}s", "--temp-path", where)


def _series(bug: Bug | None, bed: Testbed, runs: list[Run], workdir: Path, what: str, progress: Progress
            ) -> tuple[list[str], list[float], list[str]]:
    """Run each; (the expected signature each detecting run showed, their detection times, other failures)."""
    seen, times, other = [], [], []
    for run in runs:
        wd = workdir / (f"stress-ng-{run.stem}" if run.command else run.stem)
        # Every run's result next to its console, as evidence for the table.
        r = runner.store(runner.execute(run, bed, wd, progress), wd / "result.json")
        sig = detected(bug, r)
        progress(f"validate: {bug.name if bug else CLEAN} {what}run {run.index + 1}/{len(runs)}: "
                 f"{r.verdict} {sig or r.message}")
        if sig:
            seen.append(sig)
            if r.detection_s is not None:
                times.append(r.detection_s)
        elif r.verdict != Verdict.PASS:
            other.append(f"{r.verdict}: {r.message}")
    return seen, times, other


def evaluate(bug: Bug | None, scenario_name: str, bed: Testbed, runs: int, peer_runs: int,
             workdir: Path, progress: Progress) -> Row:
    sc = scenarios.get(scenario_name)
    row = Row(bug.name if bug else CLEAN, sc.name, runs, 0)
    seen, times, row.other = _series(bug, bed, [Run(sc, i, sc.duration) for i in range(runs)], workdir, "", progress)
    row.detected, row.seen = len(seen), list(dict.fromkeys(seen))
    peers = [Run(sc, i, sc.duration, command=_stress_ng(sc, sc.duration)) for i in range(peer_runs)]
    peer_seen, peer_times, _ = _series(bug, bed, peers, workdir, "stress-ng ", progress)
    row.peer_runs, row.peer_detected = len(peers), len(peer_seen)
    row.median_s = statistics.median(times) if times else None
    row.peer_median_s = statistics.median(peer_times) if peer_times else None
    return row


def table(rows: list[Row]) -> str:
    head = ("bug", "scenario", "detected", "signature seen", "median", "stress-ng", "ng median")
    out = [head]
    for r in rows:
        out.append((
            r.bug, r.scenario, f"{r.detected}/{r.runs}", "; ".join(r.seen) or ("; ".join(r.other)[:60] or "-"),
            f"{r.median_s:.0f}s" if r.median_s is not None else "-",
            f"{r.peer_detected}/{r.peer_runs}" if r.peer_runs else "-",
            f"{r.peer_median_s:.0f}s" if r.peer_median_s is not None else "-",
        ))
    w = [min(60, max(len(row[i]) for row in out)) for i in range(len(head))]
    lines = ["  ".join(c[: w[i]].ljust(w[i]) for i, c in enumerate(row)) for row in out]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def validate(req: Request, progress: Progress) -> Outcome:
    out = req.out
    image = ensure_image(progress=progress)
    pristine = debian_source(progress)
    rows: list[Row] = []
    for bug in req.bugs:
        tree = bug_tree(pristine, bug, progress)
        bed = Testbed(get_kernel(str(tree), progress=progress), image)
        rows.append(evaluate(bug, bug.scenario, bed, req.runs, req.peer_runs, out / bug.name, progress))
    clean = Testbed(get_kernel(None, progress=progress), image)
    clean_runs = req.clean_runs if req.clean_runs is not None else req.runs
    for name in sorted({b.scenario for b in req.bugs}):
        rows.append(evaluate(None, name, clean, clean_runs, 0, out / "clean", progress))
    out.mkdir(parents=True, exist_ok=True)
    doc = json.dumps({"rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    (out / "validate.json").write_text(doc)
    (results_dir() / "validate.json").write_text(doc)
    return Outcome(rows, out)
