"""The real Deps: kbuild's get_kernel and the runner's execute, with the guest image.

Imported only when a verify really runs, so the rest of the package (and its
unit tests) needs neither scenarios nor QEMU.
"""

from __future__ import annotations

from pathlib import Path

from harness.image import ensure_image
from harness.kbuild import get_kernel
from harness.kbuild.build import Kernel
from harness.runner import Run, Testbed, execute
from harness.runner.progress import Progress
from harness.verdict import RunResult
from harness.verify.core import Deps, Runner


def vm_deps(
    *,
    fragments: list[str],
    suppressions: list,
    memory_mb: int,
    cpus: int,
    jobs: int | None,
    progress: Progress,
) -> Deps:
    def build(spec: str | None, side: str) -> Kernel:
        return get_kernel(spec, extra_fragments=list(fragments), jobs=jobs, progress=lambda m: progress(f"{side}: {m}"))

    def make_runner() -> Runner:
        image = ensure_image(progress=progress)

        def run(kernel: Kernel, job: Run, workdir: Path) -> RunResult:
            bed = Testbed(kernel, image, memory_mb, cpus, tuple(suppressions))
            return execute(job, bed, workdir, lambda m: progress(f"{job.side}: {m}"))

        return run

    return Deps(build, make_runner)
