"""Kernel builds: resolve KERNEL=, merge and verify kconfig fragments, build out of tree."""

from harness.kbuild.build import Kernel, build
from harness.kbuild.source import Prebuilt, SourceTree, resolve


def get_kernel(kernel=None, *, fragments=None, extra_fragments=None, jobs=None, progress=print) -> Kernel:
    """KERNEL= value in, a bootable Kernel out (built or reused)."""
    return build(
        resolve(kernel, progress), fragments, jobs=jobs, progress=progress, extra_fragments=extra_fragments
    )


__all__ = ["Kernel", "Prebuilt", "SourceTree", "build", "get_kernel", "resolve"]
