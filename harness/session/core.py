"""A regression session: prepare the kernel and image once, run items, collect results.

Shared by `harness run` (``run_session``) and the pytest plugin (where the
controller prepares and every xdist worker runs items against the same
artifacts).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness import compare
from harness import known as known_mod
from harness import plan as plan_mod
from harness import runner, scenarios
from harness.image import ensure_image
from harness.kbuild import Kernel, get_kernel
from harness.kbuild.release import parse_version, release_of
from harness.kbuild.source import git_commit
from harness.paths import results_dir
from harness.results import RunMeta, summary_table, write_all
from harness.runner import Run, Testbed, execute, item_file, store
from harness.runner.progress import Progress, stderr_progress
from harness.verdict import NOTHING_TESTED, RunResult, Verdict, exit_code

def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"


@dataclass(frozen=True)
class Request:
    kernel: str | None  # KERNEL= value: a tree, a bzImage, or None for Debian's source
    plan: plan_mod.Plan
    run_dir: Path
    duration: int | None = None  # overrides every item's
    runs: int | None = None  # overrides every item's
    known: tuple[str, ...] = ()  # known-issue files on top of the shipped list and the plan's; ("none",): off
    retries: int = 0  # reruns of a FAIL whose signature is not known
    baseline: str = ""  # an earlier results dir to compare with at the end


@dataclass
class Outcome:
    exit_code: int
    table: str  # the summary table, with the results dir


@dataclass(frozen=True)
class GuestImageRef:
    """The prepared image as workers see it: the paths a VM needs, nothing to build."""

    rootfs: Path
    ssh_key: Path
    ready_marker: str


@dataclass
class Prepared:
    """What workers need to run items: plain paths, so it crosses process boundaries as JSON."""

    bzimage: str
    vmlinux: str | None
    config_path: str | None
    build_log: str | None
    kernel_source: str
    rootfs: str
    ssh_key: str
    ready_marker: str
    run_dir: str
    build_seconds: float = 0.0
    kernel_release: str = ""  # from the bzImage's boot header; "" if unreadable
    known_files: list[str] = field(default_factory=list)  # --known / plan / KNOWN=; ["none"]: off
    retries: int = 0
    baseline: str = ""
    plan_path: str = ""  # the plan file, for the results page
    git_commit: str = ""  # the source tree's HEAD, when it is a git work tree

    def kernel(self) -> Kernel:
        return Kernel(
            Path(self.bzimage),
            Path(self.vmlinux) if self.vmlinux else None,
            Path(self.config_path) if self.config_path else None,
            build_log=Path(self.build_log) if self.build_log else None,
            source=self.kernel_source,
        )

    def testbed(self, plan: plan_mod.Plan) -> Testbed:
        image = GuestImageRef(Path(self.rootfs), Path(self.ssh_key), self.ready_marker)
        return Testbed.for_plan(self.kernel(), image, plan)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> "Prepared":
        return cls(**json.loads(text))


def prepare(kernel_spec: str | None, plan: plan_mod.Plan, run_dir: Path, progress: Progress = stderr_progress,
            *, known: tuple[str, ...] = (), retries: int = 0, baseline: str = "") -> Prepared:
    known_files = list(known) + [str(p) for p in plan.known_issues]
    issues = known_mod.load(known_files)  # a bad file is the user's to fix before any build
    if baseline:
        compare.load_results(Path(baseline))  # likewise a baseline that is not a results dir
    t0 = time.monotonic()
    kernel = get_kernel(kernel_spec, extra_fragments=list(plan.fragments), progress=progress)
    build_seconds = time.monotonic() - t0 if kernel.rebuilt else 0.0
    image = ensure_image(progress=progress)
    run_dir.mkdir(parents=True, exist_ok=True)
    prep = Prepared(
        bzimage=str(kernel.bzimage),
        vmlinux=str(kernel.vmlinux) if kernel.vmlinux and kernel.vmlinux.exists() else None,
        config_path=str(kernel.config_path) if kernel.config_path else None,
        build_log=str(kernel.build_log) if kernel.build_log else None,
        kernel_source=kernel.source or str(kernel_spec or "debian"),
        rootfs=str(image.rootfs),
        ssh_key=str(image.ssh_key),
        ready_marker=image.ready_marker,
        run_dir=str(run_dir),
        build_seconds=build_seconds,
        kernel_release=release_of(kernel.bzimage) or "",
        known_files=known_files,
        retries=retries,
        baseline=baseline,
        plan_path=str(plan.path),
        git_commit=git_commit(kernel.source) if kernel.source else "",
    )
    if issues:
        progress(f"known issues: {len(issues)} entr{'y' if len(issues) == 1 else 'ies'}"
                 f" ({', '.join(sorted({str(i.source) for i in issues}))})")
    return prep


def items(plan: plan_mod.Plan, duration: int | None = None, runs: int | None = None, only: list[str] | None = None) -> list[Run]:
    out = []
    for it in plan.items:
        if only and it.name not in only:
            continue
        sc = scenarios.get(it.name)
        for i in range(runs or it.runs):
            out.append(Run(sc, i, duration or it.duration or sc.duration))
    return out


def run_item(prep: Prepared, plan: plan_mod.Plan, run: Run, progress: Progress = stderr_progress) -> RunResult:
    run_dir = Path(prep.run_dir)
    bed, workdir = prep.testbed(plan), run_dir / "vms" / run.stem
    result = known_mod.triage(execute(run, bed, workdir, progress), known_mod.load(prep.known_files), kernel_info(prep))
    if result.verdict == Verdict.FAIL and prep.retries > 0:
        result = _retry(result, prep.retries, lambda k: execute(run, bed, workdir.with_name(f"{workdir.name}-retry{k}"), progress), progress)
    store(result, item_file(run_dir / "items", run))
    progress(f"{run.id}: {result.line}")
    return result


def kernel_info(prep: Prepared) -> known_mod.KernelInfo:
    return known_mod.KernelInfo(parse_version(prep.kernel_release) if prep.kernel_release else None, prep.kernel().config())


def _retry(first: RunResult, retries: int, rerun: Callable[[int], RunResult], progress: Progress) -> RunResult:
    """Rerun a FAIL with a new signature up to ``retries`` times: how often does it reproduce?"""
    verdicts = []
    for k in range(1, retries + 1):
        progress(f"{first.item}: retry {k}/{retries} of a new failure")
        verdicts.append(rerun(k).verdict)
    failed = 1 + sum(1 for v in verdicts if v == Verdict.FAIL)
    total = 1 + len(verdicts)
    first.retries = [str(v) for v in verdicts]
    first.reproduced = f"{failed}/{total}" + ("" if failed == total else ": flaky")
    first.message += f" (reproduced {first.reproduced})"
    return first


def collect(run_dir: Path) -> list[RunResult]:
    return runner.collect(run_dir / "items")


def finish(prep: Prepared, results: list[RunResult]) -> tuple[int, str]:
    """Write every result file; return (exit code, summary table)."""
    run_dir = Path(prep.run_dir)
    meta = RunMeta(
        run_id=run_dir.name,
        kernel_source=prep.kernel_source,
        bzimage=prep.bzimage,
        config_path=prep.config_path or "",
        build_log=prep.build_log or "",
        build_seconds=prep.build_seconds,
        kernel_release=prep.kernel_release,
        plan=prep.plan_path,
        git_commit=prep.git_commit,
    )
    files = write_all(run_dir, results, meta)
    lines = [summary_table(results)]
    if results and all(r.verdict == Verdict.SKIP for r in results):
        lines.append(NOTHING_TESTED)  # and exit 2: a run that tested nothing is not a pass
    lines += [f"results: {run_dir}", f"page: {files['page']}"]
    issues = known_mod.load(prep.known_files)
    lines += known_mod.closing_lines(results, issues, kernel_info(prep))
    if prep.baseline:
        c = compare.compare_runs(compare.load_results(Path(prep.baseline)), results, issues,
                                 old_dir=Path(prep.baseline), new_dir=run_dir)
        (run_dir / "compare.json").write_text(json.dumps(compare.to_json(c), indent=2) + "\n")
        # Information for the nightly reader: the run's own verdicts set the exit code.
        lines += ["", compare.text(c), f"page: {compare.write_page(c, run_dir / 'compare.html')}"]
    return exit_code(results), "\n".join(lines)


def default_run_dir() -> Path:
    return results_dir() / new_run_id()


def run_session(req: Request, progress: Progress = stderr_progress) -> Outcome:
    """Every item of the plan, one after another (pytest-xdist spreads them instead)."""
    prep = prepare(req.kernel, req.plan, req.run_dir, progress, known=req.known, retries=req.retries, baseline=req.baseline)
    try:
        for run in items(req.plan, req.duration, req.runs):
            run_item(prep, req.plan, run, progress)
    except KeyboardInterrupt:
        # The VM's context manager has killed QEMU already; keep what finished.
        _, table = finish(prep, collect(req.run_dir))
        print(table + "\ninterrupted: partial results above", flush=True)
        raise
    return Outcome(*finish(prep, collect(req.run_dir)))
