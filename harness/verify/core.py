"""One verify, start to end.

    resolve the tree -> read the patches -> sync the harness's copy, apply them
    -> checkpatch -> build baseline, build patched -> runs on both, side by side
    in parallel VMs -> compare

Building and running come in through ``Deps`` so tests can fake them; the
real ones (``vm_deps``) call kbuild's get_kernel and the runner's execute,
and nothing here duplicates either.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.errors import EXIT_ERROR, EXIT_FAIL, EXIT_OK, BuildError, UserError
from harness.kbuild.build import Kernel
from harness.kbuild.source import Prebuilt, resolve
from harness.metrics import MIN_EFFECT
from harness.runner import Run, error_result, item_file, store
from harness.verdict import COMPLETED, ErrorKind, RunResult, Verdict
from harness.verify import patches as patches_mod
from harness.verify.budget import Sizing
from harness.verify.checkpatch import Checkpatch, run_checkpatch
from harness.verify.compare import (
    ALPHA,
    BASELINE,
    FIXES,
    NO_CHANGE,
    PATCHED,
    REGRESSION,
    SIDES,
    VERDICT_ERROR,
    Comparison,
    compare,
)
from harness.verify.tree_copy import TreeCopy
from harness.vm.machine import kill_all

Progress = Callable[[str], None]
# A kernel whose first runs all fail to boot will not boot later ones either:
# stop after this many boot errors without a single completed run on that side.
# (Other errors can be one scenario's setup; they do not stop the rest.)
ABORT_AFTER_BOOT_ERRORS = 2
EXIT_CODES = {REGRESSION: EXIT_FAIL, FIXES: EXIT_OK, NO_CHANGE: EXIT_OK, VERDICT_ERROR: EXIT_ERROR}


Builder = Callable[[str | None, str], Kernel]  # (KERNEL= value or copy path, side) -> Kernel; BuildError on failure
Runner = Callable[[Kernel, Run, Path], RunResult]


@dataclass
class Deps:
    build: Builder
    make_runner: Callable[[], Runner]  # called once, after both builds succeeded (it may build the image)


@dataclass
class Request:
    kernel: str | None  # KERNEL= value: a source tree, or None for Debian's default source
    patches: list[Path]
    scenarios: list
    sizing: Sizing
    run_dir: Path
    alpha: float = ALPHA
    min_effect: float = MIN_EFFECT  # metrics: the smallest change that counts (harness/metrics.py)
    use_git: bool | None = None  # None: git if installed (tests force either path)
    copy_root: Path | None = None  # None: cache_dir()/verify


@dataclass
class Outcome:
    request: Request
    tree: Path
    patches: list[patches_mod.Patch]
    checkpatch: Checkpatch
    comparison: Comparison
    results: dict[str, list[RunResult]] = field(default_factory=dict)
    kernels: dict[str, str] = field(default_factory=dict)  # side -> bzImage
    copy: Path | None = None
    cancelled: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.comparison.verdict]


def jobs_for(scenarios: list, runs: int, durations: dict[str, int]) -> list[Run]:
    """Every run, interleaved so a baseline and a patched run of the same pair start
    together: both sides see the same host load, and a verify cut short keeps the
    sides balanced. Run i has the same seed on both sides: the pair differs only by
    the patch."""
    out = []
    for i in range(runs):
        for sc in scenarios:
            for side in SIDES:
                out.append(Run(sc, i, durations[sc.name], side=side))
    return out


def _hopeless(results: dict[str, list[RunResult]]) -> str:
    for side in SIDES:
        rs = results[side]
        if any(r.verdict in COMPLETED for r in rs):
            continue
        if sum(1 for r in rs if r.verdict == Verdict.ERROR and r.error_kind == ErrorKind.BOOT) >= ABORT_AFTER_BOOT_ERRORS:
            return side
    return ""


def run_all(
    kernels: dict[str, Kernel],
    jobs: list[Run],
    runner: Runner,
    workers: int,
    run_dir: Path,
    progress: Progress = print,
) -> tuple[dict[str, list[RunResult]], int]:
    """Run the jobs on ``workers`` VMs at once (threads: each VM is its own QEMU process).

    Returns the results per side and how many jobs were cancelled.
    """
    results: dict[str, list[RunResult]] = {s: [] for s in SIDES}
    stop = threading.Event()

    def one(job: Run) -> RunResult | None:
        if stop.is_set():
            return None
        try:
            r = runner(kernels[job.side], job, run_dir / job.side / "vms" / job.stem)
        except Exception as e:  # one run's harness bug must not lose every other run's result
            r = error_result(job, e)
        return store(r, item_file(run_dir / job.side / "items", job))

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="verify-vm") as pool:
        futures = {pool.submit(one, j): j for j in jobs}
        try:
            for fut in as_completed(futures):
                if fut.cancelled():
                    continue
                job, r = futures[fut], fut.result()
                if r is None:
                    continue
                done += 1
                results[job.side].append(r)
                progress(f"verify: [{done}/{len(jobs)}] {job.id}: {r.line}")
                side = _hopeless(results)
                if side and not stop.is_set():
                    stop.set()
                    for f in futures:
                        f.cancel()
                    progress(f"verify: the {side} kernel failed to boot {ABORT_AFTER_BOOT_ERRORS} times and completed"
                             " no run; stopping the remaining runs")
        except KeyboardInterrupt:
            stop.set()
            for f in futures:
                f.cancel()
            # The worker threads sit in ssh calls for up to a run's length;
            # killing their QEMUs makes them return at once.
            kill_all()
            raise
    for side in SIDES:
        results[side].sort(key=lambda r: (r.scenario, r.index))
    return results, len(jobs) - done


def verify(req: Request, deps: Deps, progress: Progress = print) -> Outcome:
    source = resolve(req.kernel, progress)
    if isinstance(source, Prebuilt):
        raise UserError(f"KERNEL={req.kernel}: verify needs a kernel source tree to patch, not a bzImage")
    tree = source.path
    req.run_dir.mkdir(parents=True, exist_ok=True)
    # Read every patch before anything slow: a missing or diff-less file is the user's to fix now.
    patches = patches_mod.load(req.patches, req.run_dir / "patches", use_git=req.use_git, progress=progress)
    copy = TreeCopy(tree, req.copy_root)
    with copy.locked(progress):
        copy.sync(progress)
        copy.mark_dirty(patches_mod.touched(patches))
        patches = patches_mod.apply(patches, copy.path, tree, progress, use_git=req.use_git)
        for p in patches:
            progress(f"verify: applied {p.label} ({p.applied_with}): {', '.join(p.files)}")
        check = run_checkpatch(copy.path, [(p.label, p.message) for p in patches])
        progress(f"verify: checkpatch: {check.summary}")

        kernels: dict[str, Kernel] = {}
        build_errors: dict[str, str] = {}
        for side, spec in ((BASELINE, req.kernel), (PATCHED, str(copy.path))):
            try:
                kernels[side] = deps.build(spec, side)
            except BuildError as e:
                build_errors[side] = e.message + (f" (log: {e.log})" if e.log else "")
                if e.detail:
                    build_errors[side] += ": " + e.detail.strip().splitlines()[0][:300]
                break
        results: dict[str, list[RunResult]] = {s: [] for s in SIDES}
        cancelled = 0
        if not build_errors:
            runner = deps.make_runner()
            jobs = jobs_for(req.scenarios, req.sizing.runs, req.sizing.durations)
            progress(f"verify: {req.sizing.describe()}")
            results, cancelled = run_all(kernels, jobs, runner, req.sizing.workers, req.run_dir, progress)
    comparison = compare(results[BASELINE], results[PATCHED], alpha=req.alpha, build_errors=build_errors,
                         min_effect=req.min_effect)
    if cancelled:
        comparison.notes.append(f"{cancelled} runs cancelled: a side failed to boot and completed no run")
    return Outcome(
        request=req,
        tree=tree,
        patches=patches,
        checkpatch=check,
        comparison=comparison,
        results=results,
        kernels={s: str(k.bzimage) for s, k in kernels.items()},
        copy=copy.path,
        cancelled=cancelled,
    )
