"""Kernel builds: resolve KERNEL=, merge and verify kconfig fragments, build out of tree."""

from harness.kbuild.build import Kernel, build
from harness.kbuild.source import Prebuilt, SourceTree, resolve


def get_kernel(
    kernel=None, *, fragments=None, extra_fragments=None, jobs=None, progress=print, require_kasan=True
) -> Kernel:
    """KERNEL= value in, a bootable Kernel out (built or reused).

    ``require_kasan``: a prebuilt bzImage whose config shows no KASAN is a
    user error (scenarios need it); `harness boot` boots anything.
    """
    return build(
        resolve(kernel, progress),
        fragments,
        jobs=jobs,
        progress=progress,
        extra_fragments=extra_fragments,
        require_kasan=require_kasan,
    )


__all__ = ["Kernel", "Prebuilt", "SourceTree", "build", "get_kernel", "resolve"]
