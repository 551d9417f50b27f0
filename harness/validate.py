"""`harness validate`: prove the harness catches every bug in the corpus.

For each bug: build the bugged kernel (incrementally, see bugtree), run the
scenario that should catch it N times, and the same scenario's VM setup with
stress-ng instead of our program; then the clean kernel the same way. Prints a
table (bug, scenario, detected n/N, signature seen, median time to detection,
stress-ng's figures) and writes results/validate.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import scenarios
from harness.argtypes import non_negative_int, positive_int
from harness.bugs import Bug, all_bugs, get
from harness.bugtree import bug_tree
from harness.image import ensure_image
from harness.kbuild import get_kernel
from harness.kbuild.source import debian_source
from harness.paths import results_dir
from harness.run import RunSpec, run_scenario
from harness.session import stderr_progress
from harness.verdict import FAIL, RunResult, oracle_key

# stress-ng's filesystem stressors nearest to our families, run where the
# scenario's filesystem is mounted (getdent also walks /sys, tracefs included).
STRESS_NG = ("stress-ng", "--getdent", "2", "--dentry", "2", "--inotify", "2", "--symlink", "2",
             "--metrics-brief")


def oracle_names(r: RunResult) -> list[str]:
    return [k for o in r.oracle_failures if (k := oracle_key(o))]


def detected(bug: Bug | None, r: RunResult) -> str:
    """The signature in r that bug expects ('' if none). For the clean kernel: any failure."""
    if r.verdict != FAIL:
        return ""
    if bug is None:
        return (r.titles + r.oracle_failures)[0]
    for t in r.titles:
        if bug.matches("title", t):
            return t
    for o in oracle_names(r):
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


def _stress_ng(scenario, duration: int) -> tuple[str, ...]:
    # On the scenario's disk filesystem: the scratch disk, else the ext4 root (not tmpfs).
    where = "/mnt/scratch" if scenario.scratch_disk_mb else "/var/tmp"
    return STRESS_NG + ("--timeout", f"{duration}s", "--temp-path", where)


def _keep(r: RunResult, workdir: Path) -> RunResult:
    """Every run's result next to its console, as evidence for the table."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "result.json").write_text(json.dumps(r.to_dict(), indent=2) + "\n")
    return r


def evaluate(bug: Bug | None, scenario_name: str, kernel, image, runs: int, peer_runs: int,
             workdir: Path, progress) -> Row:
    sc = scenarios.get(scenario_name)
    row = Row(bug.name if bug else "(clean kernel)", sc.name, runs, 0)
    times, peer_times = [], []
    for i in range(runs):
        wd = workdir / f"{sc.name}-{i}"
        r = _keep(run_scenario(kernel, image, RunSpec(sc, sc.duration, index=i, seed=1 + i), wd, progress), wd)
        sig = detected(bug, r)
        progress(f"validate: {row.bug} run {i + 1}/{runs}: {r.verdict} {sig or r.message}")
        if sig:
            row.detected += 1
            if sig not in row.seen:
                row.seen.append(sig)
            if r.detection_s is not None:
                times.append(r.detection_s)
        elif r.verdict != "PASS":
            row.other.append(f"{r.verdict}: {r.message}")
    for i in range(peer_runs):
        spec = RunSpec(sc, sc.duration, index=i, seed=1 + i, command=_stress_ng(sc, sc.duration))
        wd = workdir / f"stress-ng-{sc.name}-{i}"
        r = _keep(run_scenario(kernel, image, spec, wd, progress), wd)
        sig = detected(bug, r)
        progress(f"validate: {row.bug} stress-ng run {i + 1}/{peer_runs}: {r.verdict} {sig or r.message}")
        row.peer_runs += 1
        if sig:
            row.peer_detected += 1
            if r.detection_s is not None:
                peer_times.append(r.detection_s)
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


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="build each bug-corpus kernel and show the harness catches it")
    p.add_argument("--bug", action="append", default=[], help="only these bugs (default: all)")
    p.add_argument("--runs", type=positive_int, default=3, help="runs of each bug's scenario on its kernel")
    p.add_argument("--peer-runs", type=non_negative_int, default=1, help="stress-ng runs per bug (0: skip the comparison)")
    p.add_argument("--clean-runs", type=positive_int, default=None, help="clean-kernel runs per scenario (default: --runs)")
    p.add_argument("--results", default=None, help="results dir of this validate (default: $HARNESS_RESULTS/validate-<time>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bugs = [get(n) for n in args.bug] if args.bug else all_bugs()
    out_dir = Path(args.results) if args.results else results_dir() / f"validate-{time.strftime('%Y%m%d-%H%M%S')}"
    progress = stderr_progress
    image = ensure_image(progress=progress)
    pristine = debian_source(progress)
    rows: list[Row] = []
    for bug in bugs:
        tree = bug_tree(pristine, bug, progress)
        kernel = get_kernel(str(tree), progress=progress)
        rows.append(evaluate(bug, bug.scenario, kernel, image, args.runs, args.peer_runs, out_dir / bug.name, progress))
    clean = get_kernel(None, progress=progress)
    clean_runs = args.clean_runs if args.clean_runs is not None else args.runs
    for name in sorted({b.scenario for b in bugs}):
        rows.append(evaluate(None, name, clean, image, clean_runs, 0, out_dir / "clean", progress))
    text = table(rows)
    print(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"rows": [asdict(r) for r in rows]}
    (out_dir / "validate.json").write_text(json.dumps(doc, indent=2) + "\n")
    (results_dir() / "validate.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"results: {out_dir}", file=sys.stderr)
    missed = [r for r in rows if r.bug != "(clean kernel)" and r.detected < r.runs]
    false_pos = [r for r in rows if r.bug == "(clean kernel)" and r.detected]
    return 1 if missed or false_pos else 0
