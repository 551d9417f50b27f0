"""Building and caching the guest image.

Cache layout, under ``cache_dir()/images/``::

    <key>/rootfs.ext4           the image (sparse), shared read-only by VMs
    <key>/*.log, manifest.json  how it was made
    <key>.build/                a build in progress (or the logs of a failed one)
    debs/                       debootstrap's .deb cache, so rebuilds don't download
    .lock                       one builder at a time; the others wait and reuse

An entry appears by renaming its finished build directory, so a reader that
sees ``<key>/rootfs.ext4`` sees a complete image without taking the lock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness import proc
from harness.errors import InfraError
from harness.paths import cache_dir

from . import tree as T
from .keys import ssh_keypair
from harness.lock import file_lock
from .recipe import INIT_SOURCE, READY_MARKER, ROOT_LABEL, Recipe, load_recipe

IMAGE_NAME = "rootfs.ext4"
HOST_PUBKEY_NAME = "ssh_host_ed25519_key.pub"
KEEP_ENTRIES = 3  # this recipe's image and a couple of recent ones (other checkouts)
_KEY_RE = re.compile(r"^[0-9a-f]{16}$")
# debootstrap and mkfs live in sbin, which a user's PATH may lack
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
# tool -> Debian package that provides it, for the one-line error
_TOOLS = {
    "debootstrap": "debootstrap",
    "mkfs.ext4": "e2fsprogs",
    "e2fsck": "e2fsprogs",
    "gcc": "gcc libc6-dev",
    "ssh-keygen": "openssh-client",
    "chroot": "coreutils",
}

Progress = Callable[[str], None]

_ENV = {
    "PATH": os.pathsep.join([os.environ.get("PATH", "/usr/bin:/bin"), *_SBIN]),
    "LC_ALL": "C",
    "DEBIAN_FRONTEND": "noninteractive",
}


@dataclass(frozen=True)
class GuestImage:
    rootfs: Path  # ext4 raw image; open it read-only / snapshot, never write it
    ssh_key: Path  # private key (ed25519, 0600) for `user`
    ssh_pubkey: Path
    ready_marker: str  # printed alone on a console line once sshd listens
    key: str  # cache key of the recipe this image was built from
    user: str = "root"
    host_pubkey: Path | None = None  # the guest sshd's key, to pin if wanted


def images_root() -> Path:
    d = cache_dir() / "images"
    d.mkdir(parents=True, exist_ok=True)
    return d


def ensure_image(progress: Progress = print, rebuild: bool = False) -> GuestImage:
    """Return the guest image for the current recipe, building it if needed."""
    private, public = ssh_keypair()
    recipe = load_recipe(public.read_bytes())
    root = images_root()
    entry = root / recipe.key
    if not rebuild and (entry / IMAGE_NAME).is_file():
        return _guest_image(entry, recipe.key, private, public)
    asked = time.time()
    with file_lock(
        root / ".lock",
        on_wait=f"image: waiting for another process building the image (lock: {root / '.lock'})",
        progress=progress,
    ):
        done = (entry / IMAGE_NAME).is_file()
        # a rebuild someone finished while we waited counts as ours
        if not done or (rebuild and entry.stat().st_mtime < asked):
            build(recipe, entry, progress)
            _prune(root, keep=entry)
    return _guest_image(entry, recipe.key, private, public)


def _guest_image(entry: Path, key: str, private: Path, public: Path) -> GuestImage:
    host = entry / HOST_PUBKEY_NAME
    return GuestImage(
        rootfs=entry / IMAGE_NAME,
        ssh_key=private,
        ssh_pubkey=public,
        ready_marker=READY_MARKER,
        key=key,
        host_pubkey=host if host.is_file() else None,
    )


def _find_tool(name: str) -> str:
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    found = shutil.which(name, path=path)
    if not found:
        raise InfraError(f"image: {name} not found; install it: apt-get install {_TOOLS[name]}")
    return found


def check_host() -> dict[str, str]:
    """The tools a build needs, resolved; one clear line for what is missing."""
    if os.geteuid() != 0:
        raise InfraError("image: building the guest image needs root (debootstrap chroots)")
    return {name: _find_tool(name) for name in _TOOLS}


def _log_detail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _debootstrap_reason(log: Path) -> str:
    """debootstrap's own last 'E:' line says why in words a user can act on."""
    errors = [ln for ln in _log_detail(log, 200).splitlines() if ln.startswith("E: ")]
    return f": {errors[-1][3:]}" if errors else ""


class _Steps:
    """Runs the build's commands, each with its own log, timing each step."""

    def __init__(self, work: Path, progress: Progress):
        self.work = work
        self.progress = progress
        self.timings: dict[str, float] = {}

    def run(self, step: str, argv: list, log_name: str, timeout: float, say: str | None = None):
        log = self.work / log_name
        if say:
            self.progress(f"image: {say} (log: {log})…")
        start = time.monotonic()
        try:
            proc.run(argv, log=log, timeout=timeout, env=_ENV, what=step)
        except proc.ProcessError as e:
            how = "timed out" if e.result.timed_out else f"failed (exit {e.result.returncode})"
            why = _debootstrap_reason(log) if step == "debootstrap" else ""
            raise InfraError(
                f"image: {step} {how}{why}", log=str(log), detail=_log_detail(log)
            ) from e
        finally:
            self.timings[step] = round(time.monotonic() - start, 1)


def build(recipe: Recipe, entry: Path, progress: Progress) -> None:
    """Build the image for ``recipe`` into ``entry``. Caller holds the lock."""
    tools = check_host()
    start = time.monotonic()
    root = entry.parent
    for stale in root.glob("*.build"):  # we hold the lock: nobody else is building
        T.remove_tree(stale / "tree")
        shutil.rmtree(stale)
    work = root / f"{recipe.key}.build"
    work.mkdir()
    (root / "debs").mkdir(exist_ok=True)
    tree = work / "tree"
    steps = _Steps(work, progress)
    progress(f"image: building {recipe.key} (Debian {recipe.suite}, {work})")
    try:
        steps.run(
            "gcc (harness-init)",
            [tools["gcc"], "-static", "-O2", "-Wall", f"-DREADY_MARKER={json.dumps(READY_MARKER)}",
             "-o", work / "harness-init", recipe.file(INIT_SOURCE)],
            "init.log",
            timeout=300,
        )
        steps.run(
            "debootstrap",
            # No mirror argument: debootstrap's default is the right one and
            # no registry host belongs in this repo.
            [tools["debootstrap"], f"--variant={recipe.variant}",
             f"--include={','.join(recipe.packages)}",
             f"--cache-dir={root / 'debs'}", recipe.suite, tree],
            "debootstrap.log",
            timeout=3600,
            say=f"debootstrap {recipe.suite}",
        )
        progress("image: configuring the tree (init, sshd, keys)")
        try:
            host_pub = T.configure(tree, recipe, work / "harness-init", work / "configure.log")
            shutil.copyfile(host_pub, work / HOST_PUBKEY_NAME)
        except (OSError, proc.ProcessError) as e:
            raise InfraError(
                f"image: configuring the tree failed: {e}", log=str(work / "configure.log")
            ) from e
        # Catch a bad sshd_config now, not as a guest that never gets ready.
        steps.run("sshd -t", [tools["chroot"], tree, "/usr/sbin/sshd", "-t"], "sshd-check.log", 60)

        used = T.tree_bytes(tree)
        size = T.image_size(used)
        image = work / IMAGE_NAME
        with open(image, "wb") as f:
            f.truncate(size)  # sparse: only what mkfs writes takes disk space
        steps.run(
            "mkfs.ext4",
            # -d copies the tree in, no loop mount needed; -m 0: root is the
            # only user, reserved blocks would just hide free space.
            [tools["mkfs.ext4"], "-F", "-d", tree, "-L", ROOT_LABEL, "-m", "0",
             image, f"{size // (1 << 20)}M"],
            "mkfs.log",
            timeout=1200,
            say=f"mkfs.ext4 -d ({size >> 20} MiB, {used >> 20} MiB of files)",
        )
        steps.run("e2fsck", [tools["e2fsck"], "-fn", image], "e2fsck.log", 600)
    except BaseException:
        try:  # the logs stay in the .build dir, where the error points
            T.remove_tree(tree)
        except (OSError, InfraError) as cleanup:
            progress(f"image: could not delete {tree}: {cleanup}")
        raise
    T.remove_tree(tree)
    elapsed = time.monotonic() - start
    _write_manifest(work, recipe, size, used, steps.timings, elapsed)
    if entry.exists():  # --rebuild: a QEMU still using the old file keeps its inode
        old = root / f"{recipe.key}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(entry, old)
        shutil.rmtree(old, ignore_errors=True)
    os.rename(work, entry)
    on_disk = os.stat(entry / IMAGE_NAME).st_blocks * 512
    progress(
        f"image: ready {entry / IMAGE_NAME} ({size >> 20} MiB, {on_disk >> 20} MiB on disk) "
        f"in {elapsed:.0f} s"
    )


def _write_manifest(work: Path, recipe: Recipe, size: int, used: int, timings: dict,
                    elapsed: float) -> None:
    manifest = {
        "key": recipe.key,
        "suite": recipe.suite,
        "variant": recipe.variant,
        "packages": list(recipe.packages),
        "files": [name for name, _ in recipe.files],
        "image_bytes": size,
        "tree_bytes": used,
        "step_seconds": timings,
        "build_seconds": round(elapsed, 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _prune(root: Path, keep: Path) -> None:
    """Drop all but the newest entries; a running QEMU keeps its open file."""
    entries = [p for p in root.iterdir() if p.is_dir() and _KEY_RE.match(p.name)]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in entries if p != keep][KEEP_ENTRIES - 1:]:
        shutil.rmtree(old, ignore_errors=True)
