"""``test_commit`` for real kernels: our worktree at the commit, build, then one run per ``next()``.

The worktree is ``worktrees/<repo>-<hash>-<n>/src/<repo name>``: the same
leaf name as the repository, one "src" level down, so from its build dir
(``worktrees/<repo>-<hash>-<n>/build/<key>``, see ``kbuild.build.build_root``)
the tree is at ``../../src/<repo name>`` as a same-named tree in the cache is
from its own, and the first build shares ccache hits with it (the synthetic
history is named like the Debian source for this). It keeps the same path for every
step and every bisect of the same repository: the build dir is keyed by the
tree's path, so each step is an incremental build of what the checkout
changed. Slots (``-0``, ``-1``...) let two bisects of one repository run at
once without sharing a tree; a flock says which slot is taken.
"""

from __future__ import annotations

import fcntl
import itertools
import shutil
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from harness import image, kbuild, runner
from harness.bisect import git
from harness.bisect.model import RunRecord
from harness.errors import BuildError, InfraError, UserError
from harness.paths import cache_dir, digest, safe_name
from harness.plan import Plan
from harness.runner import Run, Testbed
from harness.runner.progress import Progress

SLOTS = 4


class ConfigSkip(BuildError):
    """The merged kconfig cannot be had at this commit: a skip, like a build failure."""

    kind = "config"


@contextmanager
def worktree_slot(repo: Path) -> Iterator[Path]:
    """A worktree path of our own for ``repo``, held (flock) until the block ends."""
    base = cache_dir() / "worktrees"
    base.mkdir(parents=True, exist_ok=True)
    tag = f"{safe_name(repo.name)}-{digest(str(repo), length=8)}"
    for slot in range(SLOTS):
        lock = open(base / f".{tag}-{slot}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        try:
            yield base / f"{tag}-{slot}" / "src" / safe_name(repo.name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        return
    raise InfraError(f"all {SLOTS} bisect worktrees of {repo} are in use by other bisects")


class KernelTester:
    """Builds and runs commits of ``repo`` in a worktree that exists only while it is open.

    Use as a context manager: leaving it (normally, on error or on Ctrl-C)
    removes the worktree. The worktree is created on the first commit tested,
    so a resumed bisect whose steps are all recorded never creates one.
    """

    def __init__(
        self,
        repo: Path,
        prefix: str,
        scenario,
        duration: int,
        logs: Path,
        plan: Plan,  # fragments, suppressions and VM size
        *,
        jobs: int | None = None,
        progress: Progress = print,
    ):
        self.repo, self.prefix, self.scenario, self.duration = Path(repo), prefix, scenario, duration
        self.logs, self.plan, self.jobs, self.progress = Path(logs), plan, jobs, progress
        self._stack = ExitStack()
        self._worktree: Path | None = None
        self._image = None

    def __enter__(self) -> "KernelTester":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()
        self._worktree = None

    def log_dir(self, rev: str) -> str:
        return str(self.logs / "steps" / rev[:12])

    def __call__(self, rev: str) -> Iterator[RunRecord]:
        return self._test(rev)

    # ---- internals ----

    def _checkout(self, rev: str) -> Path:
        if self._worktree is None:
            path = self._stack.enter_context(worktree_slot(self.repo))
            self.progress(f"bisect: worktree {path} (removed when the bisect ends)")
            # Registered before the add: a half-made worktree is removed too.
            self._stack.callback(git.worktree_remove, self.repo, path)
            git.worktree_add(self.repo, path, rev)
            self._worktree = path
        else:
            git.checkout(self._worktree, rev)
        return self._worktree / self.prefix if self.prefix else self._worktree

    def _build(self, rev: str, tree: Path, step_dir: Path):
        kept = step_dir / "build.log"
        try:
            kernel = kbuild.get_kernel(str(tree), extra_fragments=list(self.plan.fragments), jobs=self.jobs, progress=self.progress)
        except UserError as e:
            # A kconfig that does not apply at this commit (a symbol not there yet,
            # no kernel tree at all) is the commit's problem: skip it like a build
            # failure. At an endpoint the engine makes it a user error again.
            raise ConfigSkip(f"kernel config at {rev[:12]}: {e.message}", log=_keep(e.log, kept)) from e
        except BuildError as e:
            raise BuildError(e.message, log=_keep(e.log, kept), detail=e.detail) from e
        if kernel.rebuilt:
            _keep(str(kernel.build_log) if kernel.build_log else None, kept)
        else:
            kept.write_text(f"kernel up to date, no rebuild: {kernel.bzimage}\n")
        return kernel

    def _test(self, rev: str) -> Iterator[RunRecord]:
        step_dir = Path(self.log_dir(rev))
        shutil.rmtree(step_dir, ignore_errors=True)  # a step cut short before: start it afresh
        step_dir.mkdir(parents=True, exist_ok=True)
        tree = self._checkout(rev)
        kernel = self._build(rev, tree, step_dir)
        if self._image is None:
            self._image = image.ensure_image(progress=self.progress)
        bed = Testbed.for_plan(kernel, self._image, self.plan)
        for i in itertools.count():
            workdir = step_dir / f"run-{i}"
            workdir.mkdir(parents=True, exist_ok=True)
            result = runner.execute(Run(self.scenario, i, self.duration), bed, workdir, self.progress)
            yield RunRecord.from_result(runner.store(result, workdir / "result.json"))


def _keep(log: str | None, dest: Path) -> str | None:
    """Copy a log that the next step will overwrite (the build dir's build.log) into the step's dir."""
    if not log or not Path(log).is_file():
        return log
    try:
        shutil.copyfile(log, dest)
    except OSError:
        return log
    return str(dest)
