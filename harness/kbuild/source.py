"""Resolving KERNEL=: a source tree, Debian's linux-source-6.12 (or another
series, KERNEL=debian:6.1), or a prebuilt bzImage."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import InfraError, UserError
from harness.paths import cache_dir

DEFAULT_SERIES = "6.12"
# The other Debian kernel source package make check installs: Debian 12's own 6.1 LTS.
OTHER_SERIES = ("6.1",)
DEBIAN_PACKAGE = f"linux-source-{DEFAULT_SERIES}"
DEBIAN_TARBALL = Path(f"/usr/src/linux-source-{DEFAULT_SERIES}.tar.xz")
_DEBIAN_SPEC = re.compile(r"^debian:(\d+\.\d+)$")

# Offset and magic of the x86 boot protocol header ("HdrS"): how a bzImage is told
# apart from any other file a user might pass by mistake.
_BZIMAGE_MAGIC_OFFSET = 0x202
_BZIMAGE_MAGIC = b"HdrS"


@dataclass(frozen=True)
class SourceTree:
    """A kernel source tree to build out of tree."""

    path: Path
    origin: str  # "tree" (user's) or "debian" (the default package)

    @property
    def identity(self) -> str:
        # The build dir is keyed by *where* the source is, not by its content:
        # content changes are make's business, and keeping the same build dir
        # is what makes incremental builds (and bisect steps) cheap.
        return str(self.path.resolve())


@dataclass(frozen=True)
class Prebuilt:
    """A bzImage the user built; we boot it as is."""

    bzimage: Path
    vmlinux: Path | None
    config: Path | None


def _looks_like_kernel_tree(path: Path) -> bool:
    return (path / "Makefile").is_file() and (path / "Kconfig").is_file() and (
        path / "arch" / "x86"
    ).is_dir()


def is_bzimage(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(_BZIMAGE_MAGIC_OFFSET)
            return f.read(4) == _BZIMAGE_MAGIC
    except OSError:
        return False


def resolve(kernel: str | os.PathLike | None, progress=print) -> SourceTree | Prebuilt:
    """Turn the user's KERNEL= value into something we can build or boot."""
    if kernel is None or str(kernel) == "":
        return SourceTree(debian_source(progress), "debian")
    m = _DEBIAN_SPEC.match(str(kernel))
    if m:
        return SourceTree(debian_source(progress, m.group(1)), "debian")
    path = Path(kernel).expanduser()
    if not path.exists():
        raise UserError(f"KERNEL={kernel}: no such file or directory")
    if path.is_file():
        if not is_bzimage(path):
            raise UserError(f"KERNEL={kernel}: a file, but not an x86 bzImage (no 'HdrS' boot header)")
        # Beside the bzImage, or at the top of the build dir it came from
        # (KERNEL=~/linux/arch/x86/boot/bzImage).
        dirs = [path.parent, path.resolve().parent.parent.parent.parent]
        vmlinux = next((d / "vmlinux" for d in dirs if (d / "vmlinux").is_file()), None)
        config = next((d / ".config" for d in dirs if (d / ".config").is_file()), None)
        return Prebuilt(
            path.resolve(),
            vmlinux.resolve() if vmlinux else None,
            config.resolve() if config else None,
        )
    if not _looks_like_kernel_tree(path):
        raise UserError(
            f"KERNEL={kernel}: not a Linux kernel source tree (expected Makefile, Kconfig and arch/x86/)"
        )
    return SourceTree(path.resolve(), "tree")


def debian_version(series: str = DEFAULT_SERIES) -> str:
    """The installed linux-source-<series> package version, or a UserError saying how to get it."""
    package = f"linux-source-{series}"
    try:
        r = proc.run(["dpkg-query", "-W", "-f=${Version}", package], check=False, timeout=30)
    except proc.ProcessError:
        r = None
    if r is None or not r.ok or not r.stdout.strip() or not _tarball(series).is_file():
        raise UserError(
            f"{'the default kernel' if series == DEFAULT_SERIES else f'KERNEL=debian:{series}'} needs the"
            f" {package} package (apt-get install {package}), or pass KERNEL=<tree or bzImage>"
        )
    return r.stdout.strip()


def _tarball(series: str) -> Path:
    return Path(f"/usr/src/linux-source-{series}.tar.xz")


def debian_source(progress=print, series: str = DEFAULT_SERIES) -> Path:
    """Unpack Debian's kernel source tarball once into the cache, keyed by package version."""
    version = re.sub(r"[^A-Za-z0-9.+-]", "-", debian_version(series))
    tarball = _tarball(series)
    # Every tree and build dir sits two levels under an area of the cache so ccache
    # (CCACHE_BASEDIR=cache root) sees identical relative paths across them. Other
    # series live in an area of their own: src/ is where the default tree is looked for.
    area = cache_dir() if series == DEFAULT_SERIES else cache_dir() / "series"
    dest = area / "src" / f"debian-{version}"
    if _looks_like_kernel_tree(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".unpack-{version}-{os.getpid()}"
    tmp.mkdir()
    progress(f"kernel: unpacking {tarball} into {dest} (once)")
    try:
        proc.run(["tar", "-xJf", tarball, "-C", tmp], timeout=1800, what="tar")
    except proc.ProcessError as e:
        proc.run(["rm", "-rf", tmp], check=False)
        raise InfraError(f"could not unpack {tarball}: {e.result.stderr.strip()[-200:]}") from e
    except BaseException:  # Ctrl-C / SIGTERM must not leave 1.5 GB of half a tree behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    inner = tmp / f"linux-source-{series}"
    try:
        inner.rename(dest)
    except OSError:
        if not _looks_like_kernel_tree(dest):  # lost a race to another unpacker: fine if theirs is whole
            raise
    proc.run(["rm", "-rf", tmp], check=False)
    return dest


def git_commit(tree: str | os.PathLike) -> str:
    """The commit a source tree is checked out at, or "" when it is not a git work tree of its own.

    Recorded with the results (and as KCIDB's git_commit_hash) so a run can
    be traced to its kernel. A tree merely inside some other repository
    (a dotfiles checkout around ~/src) is not one: its top level must be
    the tree itself. Uncommitted changes are not reflected.
    """
    path = Path(tree)
    if not path.is_dir():
        return ""
    try:
        r = proc.run(["git", "-C", path, "rev-parse", "--show-toplevel", "--verify", "HEAD"],
                     check=False, timeout=60, what="git rev-parse")
    except proc.ProcessError:
        return ""  # no git on this machine: the run does not need it
    lines = r.stdout.split() if r.ok else []
    if len(lines) != 2 or Path(lines[0]).resolve() != path.resolve() or not re.fullmatch(r"[0-9a-f]{40,64}", lines[1]):
        return ""
    return lines[1]
