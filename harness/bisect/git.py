"""The git commands bisect needs, all through harness.proc, all with ``-C``.

Read-only queries on the user's repository (rev-parse, rev-list, log) and
the worktree life cycle. Nothing here ever checks out, resets or cleans the
user's own checkout: every mutation happens inside a worktree we created.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from harness import proc
from harness.errors import InfraError, UserError

GIT_TIMEOUT = 600  # a kernel-sized worktree add/remove takes a while on slow disks

_DIST = re.compile(r"\bdist=(\d+)")
_HASH = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def git(repo: Path, *args: str, check: bool = True, timeout: float = GIT_TIMEOUT) -> proc.Result:
    """Run one git command in ``repo``; a missing git is an infrastructure error."""
    try:
        return proc.run(["git", "-C", repo, *args], check=check, timeout=timeout, what=f"git {args[0]}")
    except proc.ProcessError as e:
        if e.result.returncode == 127:
            raise InfraError("git not found; install git (make deps)") from e
        raise


def _out(repo: Path, *args: str) -> str:
    return git(repo, *args).stdout.strip()


def toplevel(path: Path) -> tuple[Path, str]:
    """(work tree root, path of ``path`` inside it) or a UserError when it is no git checkout."""
    r = git(path, "rev-parse", "--show-toplevel", "--show-prefix", check=False, timeout=60) if path.is_dir() else None
    if r is None or not r.ok:
        raise UserError(f"--kernel {path}: not a git checkout (bisect needs the tree's history)")
    lines = r.stdout.splitlines()
    return Path(lines[0]).resolve(), (lines[1].strip().rstrip("/") if len(lines) > 1 else "")


def rev_parse(repo: Path, rev: str, what: str = "revision") -> str:
    """The full commit hash of ``rev``, or a UserError naming the bad input."""
    r = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False, timeout=60)
    if not r.ok or not _HASH.match(r.stdout.strip()):
        raise UserError(f"{what} {rev!r}: not a commit in {repo}")
    return r.stdout.strip()


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    r = git(repo, "merge-base", "--is-ancestor", ancestor, descendant, check=False, timeout=120)
    if r.returncode not in (0, 1):
        raise InfraError(f"git merge-base failed in {repo}: {r.stderr.strip()[-200:]}")
    return r.returncode == 0


def subject(repo: Path, rev: str) -> str:
    return _out(repo, "log", "-1", "--no-show-signature", "--format=%s", rev, "--")


def candidates(repo: Path, bad: str, goods: list[str]) -> list[str]:
    """Commits that may have introduced the failure, best bisection point first.

    ``git rev-list --bisect-all`` lists every commit reachable from bad and
    from no good one, with its distance from the edges: the first line is
    what ``git bisect`` itself would test (it halves the range, merges
    included). Decorations vary with user config, so only the hash and the
    dist= field are read.
    """
    out = _out(repo, "rev-list", "--bisect-all", bad, "--not", *goods, "--")
    ranked = []
    for n, line in enumerate(out.splitlines()):
        parts = line.split(maxsplit=1)
        if not parts:
            continue
        m = _DIST.search(line)
        ranked.append((-(int(m.group(1)) if m else 0), n, parts[0]))
    ranked.sort()
    return [h for _, _, h in ranked]


def status(repo: Path) -> str:
    """``git status --porcelain`` of the user's checkout: compared before and after."""
    return git(repo, "status", "--porcelain=v1", "--untracked-files=all", "--ignore-submodules=none", timeout=600).stdout


# ---- the worktree: ours alone, created and removed here ----


def worktree_add(repo: Path, path: Path, rev: str) -> None:
    """A detached worktree of ``repo`` at ``path``; a leftover from a killed run is replaced."""
    worktree_remove(repo, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        git(repo, "worktree", "add", "--detach", "--force", "--quiet", str(path), rev)
    except proc.ProcessError as e:
        raise InfraError(f"git worktree add {path} failed: {e.result.stderr.strip()[-300:]}") from e


def worktree_remove(repo: Path, path: Path) -> None:
    """Remove our worktree (registered or not) and forget it; quiet when there is none."""
    if path.exists():
        git(repo, "worktree", "remove", "--force", "--force", str(path), check=False)
    if path.exists():
        # Not registered with this repo any more (or half-created): plain files now.
        shutil.rmtree(path, ignore_errors=True)
    git(repo, "worktree", "prune", check=False, timeout=120)


def checkout(worktree: Path, rev: str) -> None:
    """Put the worktree at ``rev``, touching only files that differ (keeps make incremental)."""
    try:
        git(worktree, "checkout", "--detach", "--force", "--quiet", rev)
        # Out-of-tree builds leave the source clean; anything untracked is a leftover.
        git(worktree, "clean", "-d", "--force", "--quiet")
    except proc.ProcessError as e:
        raise InfraError(f"git checkout {rev[:12]} in {worktree} failed: {e.result.stderr.strip()[-300:]}") from e
