"""A kernel tree with one bug-corpus patch applied, at a fixed place in the cache.

One tree (a hard-link copy of Debian's source, so it costs no disk) and so one
build dir serve every bug: switching bugs reverse-applies the previous patch
and applies the next, so each bugged kernel is an incremental build of a few
files plus the link, not a full build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness import proc
from harness.corpus import bugs
from harness.corpus.bugs import Bug
from harness.errors import UserError
from harness.lock import file_lock
from harness.paths import cache_dir

STATE = ".harness-bug"


def _unshare(tree: Path, bug: Bug) -> None:
    """Give each file the patch touches an inode of its own before patching,
    so no write can reach the pristine tree through the hard link."""
    for rel in bug.files:
        f = tree / rel
        if f.is_file() and os.stat(f).st_nlink > 1:
            tmp = f.with_name(f.name + ".harness-tmp")
            shutil.copy2(f, tmp)
            tmp.replace(f)


def _patch(tree: Path, bug: Bug, reverse: bool) -> None:
    _unshare(tree, bug)
    argv = ["patch", "-p1", "--fuzz=0", "--forward", "--no-backup-if-mismatch", "-i", str(bug.path)]
    if reverse:
        argv.insert(1, "-R")
    try:
        proc.run(argv, cwd=tree, timeout=120, what="patch")
    except proc.ProcessError as e:
        raise UserError(f"{bug.path.name} does not {'un' if reverse else ''}apply in {tree}: {e.result.stdout.strip()[-300:]}") from e


def bug_tree(pristine: Path, bug: Bug | None, progress=print) -> Path:
    """The shared bug tree with exactly ``bug`` applied (None: pristine)."""
    # Same name as the pristine tree, one area over: see kbuild.build.build_root.
    tree = cache_dir() / "bugs" / "src" / pristine.name
    tree.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(tree.parent / f"{pristine.name}.lock", f"validate: waiting for {tree}", progress):
        if not tree.is_dir():
            progress(f"validate: hard-link copy of {pristine} -> {tree}")
            tmp = tree.with_name(tree.name + ".tmp")
            proc.run(["rm", "-rf", tmp], check=False)
            proc.run(["cp", "-al", pristine, tmp], timeout=600, what="cp -al")
            tmp.rename(tree)
        state = tree / STATE
        current = state.read_text().strip() if state.is_file() else ""
        if current == (bug.name if bug else ""):
            return tree
        if current:
            progress(f"validate: removing {current}")
            _patch(tree, bugs.get(current), reverse=True)
            state.write_text("")
        if bug is not None:
            progress(f"validate: applying {bug.path.name}")
            _patch(tree, bug, reverse=False)
            state.write_text(bug.name + "\n")
    return tree
