"""The harness's own copy of the user's kernel tree, where patches get applied.

The user's tree is never written to. The copy lives at
``cache_dir()/verify/<name>-<hash>/src/<name>``: the same leaf name as the
source, one "src" level down, so from its build dir (``.../build/<key>``, see
``kbuild.build.build_root``) the tree is at ``../../src/<name>`` exactly as the
baseline's is from its own, and with CCACHE_BASEDIR at the cache root every
file the patch did not touch is a ccache hit. It is *kept* between verifies so
its build dir stays warm.

Keeping it warm needs care with timestamps. Sync copies a file only when it
differs from the source (its source size/mtime/mode changed since the last
sync, the copy itself was written since, or a patch touched it), and a
copied file gets a fresh mtime. So when the previous verify's patch is undone
by the next sync, the restored file is newer than the objects built from the
patched one and make rebuilds it; copying with the source's old mtime
(``cp -a``, ``rsync -a``) would leave that stale object in the patched kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from harness.errors import InfraError, UserError
from harness.lock import file_lock
from harness.paths import cache_dir, digest, safe_name

Progress = Callable[[str], None]
STATE_VERSION = 1
# Not copied: the user's repository (large, and the copy is compared as files).
SKIP_NAMES = frozenset({".git"})

# A walked entry: ("f", size, mtime_ns, mode) | ("l", link target) | ("d",)
Entry = tuple


@dataclass(frozen=True)
class SyncStats:
    files: int
    copied: int
    removed: int
    seconds: float


def _walk(root: Path) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        top = root / rel if rel else root
        try:
            it = os.scandir(top)
        except OSError as e:
            raise UserError(f"cannot read {top}: {e.strerror}") from e
        with it:
            for e in it:
                if e.name in SKIP_NAMES:
                    continue
                r = f"{rel}/{e.name}" if rel else e.name
                st = e.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    entries[r] = ("l", os.readlink(e.path))
                elif stat.S_ISDIR(st.st_mode):
                    entries[r] = ("d",)
                    stack.append(r)
                elif stat.S_ISREG(st.st_mode):
                    entries[r] = ("f", st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
                # sockets, fifos, devices: nothing a kernel build reads
    return entries


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class TreeCopy:
    """The copy of one source tree: where it lives, its lock, its sync state."""

    def __init__(self, source: Path, root: Path | None = None):
        self.source = Path(source).resolve()
        root = Path(root) if root is not None else cache_dir() / "verify"
        name = safe_name(self.source.name) or "tree"
        slot = f"{name}-{digest(str(self.source), length=8)}"
        self.path = root / slot / "src" / name
        self.state_path = root / f"{slot}.state.json"
        self.lock_path = root / f"{slot}.lock"

    @contextmanager
    def locked(self, progress: Progress = print) -> Iterator["TreeCopy"]:
        """Hold the copy for a whole verify: its tree and build dir are ours until the runs end."""
        waiting = f"verify: another verify of {self.source} holds {self.lock_path}; waiting"
        with file_lock(self.lock_path, waiting, progress):
            yield self

    def _load_state(self) -> dict | None:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None
        if state.get("version") != STATE_VERSION or state.get("source") != str(self.source):
            return None
        return state

    def _save_state(self, entries: dict[str, list], dirty: list[str]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": STATE_VERSION, "source": str(self.source), "entries": entries,
                                   "dirty": dirty}))
        tmp.replace(self.state_path)

    def sync(self, progress: Progress = print) -> SyncStats:
        """Make the copy equal the source tree, touching only what differs."""
        start = time.monotonic()
        old = self._load_state()
        # No state while syncing: if we die half way, the next sync trusts nothing and copies all.
        self.state_path.unlink(missing_ok=True)
        old_entries: dict[str, list] = old["entries"] if old else {}
        dirty = set(old["dirty"]) if old else set()
        if not old and self.path.exists():
            progress(f"verify: no sync state for {self.path}; copying every file again")
        src = _walk(self.source)
        self.path.mkdir(parents=True, exist_ok=True)
        dst = _walk(self.path)

        removed = 0
        # Children sort after their parent, so reverse order removes them first.
        for rel in sorted(dst, reverse=True):
            want = src.get(rel)
            if want is None or want[0] != dst[rel][0] or (want[0] == "l" and want != dst[rel]):
                _remove(self.path / rel)
                del dst[rel]
                removed += 1

        if not old_entries:
            progress(f"verify: copying {self.source} to {self.path} (first time for this tree; its first"
                     " build compiles every file again, through ccache)")
        copied = 0
        entries: dict[str, list] = {}
        try:
            for rel in sorted(src):
                want = src[rel]
                target = self.path / rel
                if want[0] == "d":
                    target.mkdir(exist_ok=True)
                    continue
                if want[0] == "l":
                    if rel not in dst:
                        os.symlink(want[1], target)
                    continue
                _, size, mtime, mode = want
                have = dst.get(rel)
                prev = old_entries.get(rel)
                stale = (
                    have is None
                    or rel in dirty
                    or prev is None
                    or prev[:3] != [size, mtime, mode]
                    or have[1] != size
                    or have[2] != prev[3]  # the copy was written since we copied it
                )
                if stale:
                    shutil.copyfile(self.source / rel, target)  # a fresh mtime, on purpose
                    copied += 1
                if stale or have[3] != mode:
                    os.chmod(target, mode)
                entries[rel] = [size, mtime, mode, os.stat(target).st_mtime_ns if stale else have[2]]
        except OSError as e:
            raise InfraError(f"copying {self.source} to {self.path} failed: {e}") from e
        self._save_state(entries, [])
        stats = SyncStats(sum(1 for e in src.values() if e[0] == "f"), copied, removed, time.monotonic() - start)
        progress(f"verify: copy in sync ({stats.copied} of {stats.files} files copied, {stats.removed} removed,"
                 f" {stats.seconds:.0f}s)")
        return stats

    def mark_dirty(self, files: list[str]) -> None:
        """Record, before patching, which files the patches may write, so the next sync restores them.

        The copy's own mtimes would show that too, but timestamps can be
        coarser than the gap between a copy and a patch on a small file.
        """
        state = self._load_state()
        if state is None:
            return  # no state: the next sync copies everything anyway
        self._save_state(state["entries"], sorted(set(state["dirty"]) | set(files)))
