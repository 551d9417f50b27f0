"""Synthetic histories with a known culprit: for bisect's own tests and its bench.

``commit_series`` commits a list of file edits to a repository (the unit
tests use it for a dozen text files). ``kernel_history`` builds the issue's
bar: Debian's 6.12 source as the first commit, then small commits of which
one applies a bug-corpus patch (the culprit) and two, earlier, add and then
remove an unrelated report (a WARNING at every boot, differently titled), so
the first bisection steps land on a kernel that fails for another reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness import proc
from harness.errors import InfraError
from harness.paths import cache_dir, digest

# Fixed identity and dates: the same series gives the same hashes on every machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "harness bisect",
    "GIT_AUTHOR_EMAIL": "bisect@harness.invalid",
    "GIT_COMMITTER_NAME": "harness bisect",
    "GIT_COMMITTER_EMAIL": "bisect@harness.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
_EPOCH = 1_700_000_000


@dataclass
class Change:
    """One commit: files to write (None deletes), and/or a -p1 patch to apply."""

    subject: str
    files: dict[str, str | None] = field(default_factory=dict)
    append: dict[str, str] = field(default_factory=dict)  # path -> text added at the end
    patch: Path | None = None


def _git(repo: Path, *args: str, n: int = 0, timeout: float = 3600) -> proc.Result:
    stamp = f"{_EPOCH + 60 * n} +0000"
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    return proc.run(["git", "-C", repo, "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
                    env=env, timeout=timeout, what=f"git {args[0]}")


def init(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")


def commit_series(repo: Path, changes: list[Change], start: int = 0) -> list[str]:
    """Apply and commit each change in turn; the new commits' hashes, oldest first."""
    hashes = []
    for i, ch in enumerate(changes):
        for rel, content in ch.files.items():
            p = repo / rel
            if content is None:
                p.unlink(missing_ok=True)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(content)
        for rel, text in ch.append.items():
            with open(repo / rel, "a") as f:
                f.write(text)
        if ch.patch is not None:
            proc.run(["patch", "-p1", "--forward", "--batch", "--fuzz=0", "-i", ch.patch], cwd=repo,
                     timeout=120, what=f"patch {ch.patch.name}")
        # --force: a tarball may carry files its own .gitignore names; the commit is the tree as is.
        _git(repo, "add", "--all", "--force", ".", n=start + i)
        _git(repo, "commit", "--quiet", "--allow-empty", "-m", ch.subject, n=start + i)
        hashes.append(_git(repo, "rev-parse", "HEAD").stdout.strip())
    return hashes


# ---- the kernel history of the bar ----

DECOY_FUNC = "harness_bisect_decoy"
DECOY_TITLE = f"WARNING in {DECOY_FUNC}"
DECOY = f"""
/* harness bisect decoy: an unrelated report, differently titled, at every boot. */
#include <linux/init.h>
#include <linux/bug.h>
static int __init {DECOY_FUNC}(void)
{{
	WARN(1, "harness bisect decoy");
	return 0;
}}
late_initcall({DECOY_FUNC});
"""
# Comment-only edits to files every config compiles: each step then recompiles
# a few objects and relinks, as a real bisect between nearby commits does.
FILLER_FILES = ("fs/dcache.c", "fs/namei.c", "fs/inode.c", "fs/namespace.c")
DECOY_FILES = ("fs/libfs.c", "fs/file_table.c", "init/main.c")
SERIES_VERSION = "1"  # bump when the layout below changes: the cached history is rebuilt

# The layout, after the tarball commit (index 0): decoy added at 5 and removed at 8
# (so the first midpoint of 1..14 lands on a kernel with the decoy), the bug at 10.
LAYOUT = ("filler", "filler", "filler", "filler", "decoy", "filler", "filler", "undecoy",
          "filler", "bug", "filler", "filler", "filler", "filler")


@dataclass
class KernelHistory:
    repo: Path
    commits: list[str]  # oldest first; commits[0] is the tarball
    good: str
    bad: str
    culprit: str
    decoy: tuple[str, ...]  # commits whose kernels carry the decoy
    bug: str  # the corpus bug's name

    def to_dict(self) -> dict:
        return {**self.__dict__, "repo": str(self.repo)}


def kernel_history(bug, source: Path, *, dest: Path | None = None, progress=print) -> KernelHistory:
    """The history for ``bug`` (a harness.corpus.bugs.Bug) on top of ``source``, built once and cached."""
    version = digest(str(source.resolve()), bug.path.read_bytes(), DECOY, SERIES_VERSION, length=12)
    # Named like the source (one level down): our bisect worktree takes the
    # repository's name, so its first build shares ccache with the source's.
    dest = dest or cache_dir() / "bisect-histories" / f"{bug.name}-{version}" / source.resolve().name
    marker = dest / ".git" / "harness-history.json"
    if marker.is_file():
        doc = json.loads(marker.read_text())
        return KernelHistory(**{**doc, "repo": dest, "decoy": tuple(doc["decoy"])})
    if dest.exists():
        proc.run(["rm", "-rf", dest], timeout=1800)
    progress(f"bisect: building a kernel history for {bug.name} in {dest} (once; copies the whole tree)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc.run(["cp", "-a", "--reflink=auto", f"{source}/.", dest], timeout=3600, what="cp")
    except proc.ProcessError as e:
        raise InfraError(f"cannot copy {source} to {dest}: {e.result.stderr.strip()[-200:]}") from e
    init(dest)
    changes = [Change(f"Linux 6.12 as packaged by Debian ({source.name})")]
    fillers = [f for f in FILLER_FILES if f not in bug.files and (dest / f).is_file()]
    decoy_file = next(f for f in DECOY_FILES if f not in bug.files and (dest / f).is_file())
    decoy_before = (dest / decoy_file).read_text()
    n = 0
    for kind in LAYOUT:
        if kind == "filler":
            n += 1
            path = fillers[n % len(fillers)]
            changes.append(Change(f"{path}: comment-only change {n}",
                                  append={path: f"/* harness bisect filler {n}: no code change */\n"}))
        elif kind == "decoy":
            changes.append(Change(f"{decoy_file}: warn at boot (an unrelated decoy)", append={decoy_file: DECOY}))
        elif kind == "undecoy":
            changes.append(Change(f"{decoy_file}: drop the boot warning again", files={decoy_file: decoy_before}))
        else:
            changes.append(Change(f"{bug.name}: apply {bug.path.name} from the bug corpus", patch=bug.path))
    commits = commit_series(dest, changes)
    i_decoy, i_undecoy, i_bug = (LAYOUT.index(k) + 1 for k in ("decoy", "undecoy", "bug"))
    history = KernelHistory(
        repo=dest,
        commits=commits,
        good=commits[0],
        bad=commits[-1],
        culprit=commits[i_bug],
        decoy=tuple(commits[i_decoy:i_undecoy]),
        bug=bug.name,
    )
    marker.write_text(json.dumps(history.to_dict(), indent=2) + "\n")
    return history

