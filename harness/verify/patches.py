"""The patches to verify: read, classify (mail vs plain diff), split, apply to a copy.

Mail (``git format-patch`` output, an mbox of a series, a single saved
mail) goes through git am's own plumbing: ``git mailsplit`` into messages,
``git mailinfo`` into subject and diff per message, then ``git apply`` of
each diff in order. That is ``git am`` minus the commit, so it works on the
harness's copy of a tree that is not (or no longer) a git repository, and
baseline vs patched differ by exactly the patch. Plain diffs go through
``git apply`` too; if git rejects one, ``patch -p1`` (which allows fuzz, as
people who send plain diffs expect) gets a second try. Without git, every
file goes to ``patch -p1``.

A patch that does not apply is the user's input being wrong: a UserError
naming the patch, the file and the hunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from harness import proc
from harness.errors import InfraError, UserError

MAIL, DIFF = "mail", "diff"
GIT_TIMEOUT = 120
PATCH_TIMEOUT = 300

# An mbox message separator: "From <anything> <date>"; format-patch writes
# "From <sha> Mon Sep 17 00:00:00 2001".
_MBOX_FROM = re.compile(r"^From \S+ ")
_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_FAILED = re.compile(r"^error: patch failed: (.+):(\d+)$", re.M)
_GIT_FILE_ERROR = re.compile(r"^error: (.+?): (No such file or directory|does not exist in index|already exists in working directory)$", re.M)
_PATCH_FAILED = re.compile(r"^Hunk #(\d+) FAILED at (\d+)")
_PATCH_FILE = re.compile(r"^(?:checking|patching) file (.+)$")
_PATCH_MISSING = re.compile(r"^\|\+\+\+ (?:b/)?(\S+)")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Hunk:
    file: str  # tree-relative path the hunk changes
    number: int  # 1-based, within its file (what patch(1) calls "Hunk #N")
    old_start: int  # line in the original file (what git apply reports)
    header: str  # the "@@ -a,b +c,d @@" part


@dataclass(frozen=True)
class Patch:
    """One diff to apply: a plain diff file, or one message of a mail series."""

    source: Path  # the file the user gave
    kind: str  # MAIL or DIFF
    diff: Path  # the file to feed git apply / patch
    message: Path  # the file to feed checkpatch (the whole mail, or the diff)
    label: str  # how errors and reports name it
    subject: str = ""
    files: tuple[str, ...] = ()
    hunks: tuple[Hunk, ...] = ()
    applied_with: str = ""  # filled by apply(): "git apply", or "patch -p1" plus its fuzz notes


def _strip_prefix(path: str) -> str:
    path = path.split("\t")[0].strip()
    if path == "/dev/null":
        return path
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse_diff(text: str) -> tuple[tuple[str, ...], tuple[Hunk, ...]]:
    """Files touched and hunks of a unified diff (any preamble is skipped).

    Counting hunk bodies, rather than trusting every "---" line, keeps a
    removed line that starts with "-- " from being read as a file header.
    """
    files: list[str] = []
    hunks: list[Hunk] = []
    old = new = ""
    current = ""
    number = 0
    remaining_old = remaining_new = 0
    for line in text.splitlines():
        if remaining_old > 0 or remaining_new > 0:
            tag = line[:1]
            if tag in (" ", ""):
                remaining_old -= 1
                remaining_new -= 1
            elif tag == "-":
                remaining_old -= 1
            elif tag == "+":
                remaining_new -= 1
            # "\ No newline at end of file" counts for neither side
            continue
        if line.startswith("diff --git "):
            old = new = current = ""
            number = 0
            continue
        if line.startswith("--- "):
            old = _strip_prefix(line[4:])
            continue
        if line.startswith("+++ "):
            new = _strip_prefix(line[4:])
            current = new if new != "/dev/null" else old
            number = 0
            for f in (old, new):
                if f and f != "/dev/null" and f not in files:
                    files.append(f)
            continue
        m = _HUNK.match(line)
        if m and current:
            number += 1
            remaining_old = int(m.group(2)) if m.group(2) is not None else 1
            remaining_new = int(m.group(4)) if m.group(4) is not None else 1
            hunks.append(Hunk(current, number, int(m.group(1)), line[: line.index("@@", 2) + 2]))
    return tuple(files), tuple(hunks)


def classify(text: str) -> str:
    """MAIL for an mbox or a saved mail (headers first, then a body), else DIFF.

    A bug-corpus patch starts with "Key: value" lines too, so a header block
    counts as mail only if it carries both From: and Subject:, as every mail
    git format-patch (or a mail client) writes does.
    """
    lines = text.lstrip("\n").splitlines()
    if lines and _MBOX_FROM.match(lines[0]):
        return MAIL
    keys = set()
    for line in lines:
        if not line.strip():
            break
        if line[0] in " \t":
            continue  # a folded header line
        m = _HEADER.match(line)
        if not m:
            return DIFF
        keys.add(m.group(1).lower())
    return MAIL if {"from", "subject"} <= keys else DIFF


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        raise UserError(f"--patch {path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"--patch {path}: a directory; pass each patch file (e.g. --patch dir/*.patch)") from None
    except OSError as e:
        raise UserError(f"--patch {path}: cannot read: {e.strerror}") from None


def _git_env(cwd: Path) -> dict[str, str]:
    # Never let git find a repository above the directory it works in: in a
    # subdirectory of a repo, git apply silently skips paths outside it.
    return {"GIT_CEILING_DIRECTORIES": str(Path(cwd).resolve().parent)}


def _split_mail(path: Path, index: int, workdir: Path) -> list[Patch]:
    # Absolute: git runs in workdir, where a relative -o would point elsewhere.
    out_dir = (workdir / f"{index:02d}-{path.name}.split").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        r = proc.run(["git", "mailsplit", "-b", f"-o{out_dir}", path], cwd=workdir, env=_git_env(workdir),
                     timeout=GIT_TIMEOUT, check=False)
    except proc.ProcessError as e:
        raise InfraError(f"cannot run git mailsplit: {e}") from e
    if not r.ok:
        raise UserError(f"--patch {path}: not a readable mail or mbox ({(r.stderr or r.stdout).strip()[-200:]})")
    pieces = sorted(p for p in out_dir.iterdir() if p.name.isdigit())
    patches = []
    for n, piece in enumerate(pieces, 1):
        msg, diff = out_dir / f"{piece.name}.msg", out_dir / f"{piece.name}.diff"
        try:
            info = proc.run(["git", "mailinfo", msg, diff], cwd=workdir, env=_git_env(workdir),
                            input=piece.read_bytes(), timeout=GIT_TIMEOUT, check=False)
        except proc.ProcessError as e:
            raise InfraError(f"cannot run git mailinfo: {e}") from e
        if not info.ok:
            raise UserError(f"--patch {path}: message {n} is not a readable mail ({info.stderr.strip()[-200:]})")
        subject = next((ln[len("Subject: "):] for ln in info.stdout.splitlines() if ln.startswith("Subject: ")), "")
        files, hunks = parse_diff(diff.read_text(errors="replace"))
        if not files:
            continue  # a cover letter, or a mail without a diff
        label = path.name if len(pieces) == 1 else f"{path.name} [{n}/{len(pieces)}]"
        if subject:
            label += f' "{subject}"'
        patches.append(Patch(path, MAIL, diff, piece, label, subject, files, hunks))
    return patches


def _have_git(use_git: bool | None) -> bool:
    return proc.which("git") is not None if use_git is None else use_git


def load(paths: list[Path], workdir: Path, use_git: bool | None = None, progress: Progress = print) -> list[Patch]:
    """Read and classify every --patch, splitting mail series into messages, in order.

    A mail without a diff (a series' cover letter, passed along with
    ``dir/*.patch``) is skipped; a plain file without one is a mistake.
    ``use_git`` None means "if git is installed"; tests force either path.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    have_git = _have_git(use_git)
    patches: list[Patch] = []
    for i, path in enumerate(Path(p) for p in paths):
        text = _read(path)
        kind = classify(text)
        if kind == MAIL and have_git:
            found = _split_mail(path.resolve(), i, workdir)
        else:
            # Without git, patch(1) reads a mail's diff past its headers itself.
            files, hunks = parse_diff(text)
            found = [Patch(path, kind, path.resolve(), path.resolve(), path.name, "", files, hunks)] if files else []
        if not found and kind == DIFF:
            raise UserError(
                f"--patch {path}: no diff found (expected a unified diff, git diff output or git format-patch mail)"
            )
        if not found:
            progress(f"verify: {path.name}: a mail without a diff (a cover letter?), skipped")
        patches.extend(found)
    if not patches:
        raise UserError(f"--patch {' '.join(str(p) for p in paths)}: no diff found in any of them")
    return patches


def touched(patches: list[Patch]) -> list[str]:
    seen: list[str] = []
    for p in patches:
        for f in p.files:
            if f not in seen:
                seen.append(f)
    return seen


def _hunk_named(patch: Patch, file: str, line: int | None = None, number: int | None = None) -> str:
    for h in patch.hunks:
        if h.file == file and (h.old_start == line or h.number == number):
            return f"{file}: hunk #{h.number} ({h.header}) does not apply"
    if number is not None:
        return f"{file}: hunk #{number} does not apply"
    return f"{file}: a hunk at line {line} does not apply"


def _where_git(patch: Patch, output: str) -> str:
    m = _GIT_FAILED.search(output)
    if m:
        return _hunk_named(patch, m.group(1), line=int(m.group(2)))
    m = _GIT_FILE_ERROR.search(output)
    if m:
        what = "already exists" if m.group(2).startswith("already") else "does not exist in the tree"
        return f"{m.group(1)}: {what}"
    lines = [ln for ln in output.splitlines() if ln.startswith("error:")]
    return lines[-1][len("error: "):] if lines else "git apply failed"


def _where_patch(patch: Patch, output: str) -> str:
    current = ""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = _PATCH_FILE.match(line)
        if m:
            current = m.group(1).strip().strip("'")
            continue
        m = _PATCH_FAILED.match(line)
        if m:
            return _hunk_named(patch, current, number=int(m.group(1)))
        if line.startswith("can't find file to patch"):
            for later in lines[i + 1:]:
                fm = _PATCH_MISSING.match(later)
                if fm:
                    return f"{fm.group(1)}: does not exist in the tree"
            return "a file it patches does not exist in the tree"
        if line.startswith("Reversed (or previously applied) patch detected"):
            return f"{current or 'a file'}: already applied (the patch reverses cleanly)"
    return "patch -p1 failed"


def _git_apply(patch: Patch, tree: Path, *extra: str) -> proc.Result:
    try:
        return proc.run(["git", "apply", "--verbose", *extra, patch.diff], cwd=tree, env=_git_env(tree),
                        timeout=GIT_TIMEOUT, check=False)
    except proc.ProcessError as e:
        raise InfraError(f"cannot run git apply: {e}") from e


def _patch_p1(patch: Patch, tree: Path, *extra: str) -> proc.Result:
    try:
        return proc.run(["patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch", *extra, "-i", patch.diff], cwd=tree,
                        timeout=PATCH_TIMEOUT, check=False)
    except proc.ProcessError as e:
        if e.result.returncode == 127:
            raise InfraError("neither git nor patch(1) is installed; run 'make deps'") from e
        raise InfraError(f"cannot run patch: {e}") from e


def _tail(r: proc.Result, n: int = 8) -> str:
    return "\n".join((r.stdout + r.stderr).strip().splitlines()[-n:])


def apply(
    patches: list[Patch], tree: Path, shown_tree: Path | str, progress: Progress = print, use_git: bool | None = None
) -> list[Patch]:
    """Apply every patch to ``tree`` (the harness's copy), in order; return them with applied_with set.

    ``shown_tree`` is what error messages name: the user's tree, which the
    copy equals, rather than a cache path they never chose.
    """
    have_git = _have_git(use_git)
    done = []
    for p in patches:
        how = ""
        git_failure: proc.Result | None = None
        if have_git:
            r = _git_apply(p, tree)
            if r.ok:
                how = "git apply"
            elif p.kind == MAIL:
                # As git am would: a mail either applies exactly or is refused.
                raise _refused(p, shown_tree, _where_git(p, r.stdout + r.stderr), r, tree, have_git)
            else:
                git_failure = r
        if not how:
            dry = _patch_p1(p, tree, "--dry-run")
            if not dry.ok:
                if git_failure is not None:
                    raise _refused(
                        p, shown_tree, _where_git(p, git_failure.stdout + git_failure.stderr), git_failure, tree, have_git
                    )
                raise _refused(p, shown_tree, _where_patch(p, dry.stdout + dry.stderr), dry, tree, have_git)
            real = _patch_p1(p, tree)
            if not real.ok:
                raise _refused(p, shown_tree, _where_patch(p, real.stdout + real.stderr), real, tree, have_git)
            fuzz = [ln.strip() for ln in real.stdout.splitlines() if "fuzz" in ln or "offset" in ln]
            how = "patch -p1" + (f" ({'; '.join(fuzz)})" if fuzz else "")
            if fuzz:
                progress(f"verify: {p.label}: applied by patch -p1 with {'; '.join(fuzz)}")
        done.append(replace(p, applied_with=how))
    return done


def _refused(p: Patch, shown_tree: Path | str, where: str, r: proc.Result, tree: Path, have_git: bool) -> UserError:
    if "already applied" not in where and have_git and _git_apply(p, tree, "--check", "-R").ok:
        where += "; the patch reverses cleanly, so it looks already applied"
    return UserError(f"{p.label} does not apply to {shown_tree}: {where}", detail=_tail(r))

