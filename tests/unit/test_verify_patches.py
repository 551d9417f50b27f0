"""verify's patch handling on real small trees: classify, split, apply, refuse; the copy's sync."""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.verify import patches as pm
from harness.verify.tree_copy import TreeCopy

GIT_ID = ["-c", "user.name=Test Author", "-c", "user.email=test@example.org"]
LINES = [f"line {i}" for i in range(1, 41)]


def git(cwd, *args):
    r = subprocess.run(["git", *GIT_ID, *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def make_tree(root: Path) -> Path:
    (root / "fs").mkdir(parents=True)
    (root / "Documentation").mkdir()
    (root / "scripts").mkdir()
    (root / "fs" / "dcache.c").write_text("\n".join(LINES) + "\n")
    (root / "fs" / "namei.c").write_text("int lookup(void)\n{\n\treturn 0;\n}\n")
    (root / "Documentation" / "vfs.rst").write_text("VFS\n===\n\nThe dentry cache.\n")
    script = root / "scripts" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    os.symlink("../fs/dcache.c", root / "scripts" / "link.c")
    return root


def snapshot(root: Path) -> dict:
    """Every path with its content hash, mode and mtime: "untouched" means all equal."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
            out[str(p.relative_to(root))] = (digest, st.st_mode, st.st_mtime_ns)
    return out


@pytest.fixture
def git_tree(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "base")
    return tree


@pytest.fixture
def series(git_tree, tmp_path):
    """A two-patch format-patch series touching the same file twice, made on a throwaway clone."""
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(git_tree), str(work)], check=True)
    text = (work / "fs" / "dcache.c").read_text().replace("line 3\n", "line three\n")
    (work / "fs" / "dcache.c").write_text(text)
    git(work, "commit", "-qam", "dcache: spell out three\n\nSigned-off-by: Test Author <test@example.org>")
    text = (work / "fs" / "dcache.c").read_text().replace("line 30\n", "line thirty\n")
    (work / "fs" / "dcache.c").write_text(text)
    (work / "fs" / "new.c").write_text("/* new */\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "dcache: spell out thirty\n\nSigned-off-by: Test Author <test@example.org>")
    out = tmp_path / "patches"
    git(work, "format-patch", "-q", "--cover-letter", "-2", "-o", str(out))
    mbox = tmp_path / "series.mbox"
    mbox.write_text(git(work, "format-patch", "-2", "--stdout"))
    return sorted(out.glob("*.patch")), mbox


def plain_diff(tmp_path, old="line 20", new="line twenty", name="fix.diff", header="") -> Path:
    """A -p1 diff changing line 20 of fs/dcache.c, 3 lines of context each side."""
    ctx = []
    for ln in "\n".join(LINES[16:23]).splitlines():
        ctx.append(f"-{old}\n+{new}" if ln == old else f" {ln}")
    diff = header + "--- a/fs/dcache.c\n+++ b/fs/dcache.c\n@@ -17,7 +17,7 @@\n" + "\n".join(ctx) + "\n"
    p = tmp_path / name
    p.write_text(diff)
    return p


def copy_of(tree, tmp_path) -> TreeCopy:
    c = TreeCopy(tree, root=tmp_path / "cache" / "verify")
    c.sync(progress=lambda m: None)
    return c


# --- classify and parse -------------------------------------------------------------------------


def test_classify_mail_vs_diff(series, tmp_path):
    files, mbox = series
    assert pm.classify(mbox.read_text()) == pm.MAIL
    assert pm.classify(files[1].read_text()) == pm.MAIL
    saved_mail = "From: A <a@b.c>\nSubject: [PATCH] x\nDate: now\n\nbody\n---\ndiff --git a/x b/x\n"
    assert pm.classify(saved_mail) == pm.MAIL
    assert pm.classify(plain_diff(tmp_path).read_text()) == pm.DIFF
    assert pm.classify("diff --git a/f b/f\n--- a/f\n+++ b/f\n") == pm.DIFF
    # A bug-corpus header is "Key: value" lines too, but not a mail.
    corpus = Path(__file__).resolve().parents[1] / "bugs"
    for p in sorted(corpus.glob("*.patch")):
        assert pm.classify(p.read_text()) == pm.DIFF, p.name


def test_parse_diff_files_and_hunks():
    text = (
        "preamble: ignored\n"
        "diff --git a/fs/a.c b/fs/a.c\n--- a/fs/a.c\n+++ b/fs/a.c\n"
        "@@ -10,3 +10,3 @@ int f(void)\n x\n--- not a header, a removed line\n+y\n z\n"
        "@@ -40 +40 @@\n-a\n+b\n"
        "--- /dev/null\n+++ b/fs/new.c\n@@ -0,0 +1 @@\n+new\n"
        "--- a/fs/gone.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-old\n"
    )
    files, hunks = pm.parse_diff(text)
    assert files == ("fs/a.c", "fs/new.c", "fs/gone.c")
    assert [(h.file, h.number, h.old_start, h.header) for h in hunks] == [
        ("fs/a.c", 1, 10, "@@ -10,3 +10,3 @@"),
        ("fs/a.c", 2, 40, "@@ -40 +40 @@"),
        ("fs/new.c", 1, 0, "@@ -0,0 +1 @@"),
        ("fs/gone.c", 1, 1, "@@ -1 +0,0 @@"),
    ]


# --- apply ----------------------------------------------------------------------------------------


def test_format_patch_series_applies_in_order_and_user_tree_untouched(git_tree, series, tmp_path):
    files, _ = series
    before = snapshot(git_tree)
    c = copy_of(git_tree, tmp_path)
    loaded = pm.load(files, tmp_path / "work-split")
    # The cover letter has no diff and is skipped; the series stays in order.
    assert [p.subject for p in loaded] == ["dcache: spell out three", "dcache: spell out thirty"]
    assert all(p.kind == pm.MAIL for p in loaded)
    done = pm.apply(loaded, c.path, git_tree, progress=lambda m: None)
    assert [p.applied_with for p in done] == ["git apply", "git apply"]
    text = (c.path / "fs" / "dcache.c").read_text()
    assert "line three\n" in text and "line thirty\n" in text
    assert (c.path / "fs" / "new.c").is_file()
    assert snapshot(git_tree) == before
    assert git(git_tree, "status", "--porcelain") == ""
    assert not (c.path / ".git").exists()


def test_mbox_series_in_one_file(git_tree, series, tmp_path):
    _, mbox = series
    c = copy_of(git_tree, tmp_path)
    loaded = pm.load([mbox], tmp_path / "split")
    assert len(loaded) == 2 and loaded[0].label.startswith("series.mbox [1/2]")
    pm.apply(loaded, c.path, git_tree, progress=lambda m: None)
    assert "line thirty" in (c.path / "fs" / "dcache.c").read_text()


def test_mbox_with_a_relative_work_dir(git_tree, series, tmp_path, monkeypatch):
    # `harness verify --results results/x`: the split went to a path relative
    # to the directory git ran in, and the patch was blamed for it.
    _, mbox = series
    monkeypatch.chdir(tmp_path)
    loaded = pm.load([mbox], Path("rel") / "split")
    assert len(loaded) == 2 and loaded[1].label.startswith("series.mbox [2/2]")


def test_plain_diff_on_non_git_tree_with_git_apply_and_patch(tmp_path):
    tree = make_tree(tmp_path / "user" / "plain")
    before = snapshot(tree)
    diff = plain_diff(tmp_path, header="Bug: corpus-style header\nModels: something\n\n")
    for use_git in (True, False):
        c = TreeCopy(tree, root=tmp_path / f"cache-{use_git}" / "verify")
        c.sync(progress=lambda m: None)
        loaded = pm.load([diff], tmp_path / f"w{use_git}", use_git=use_git)
        assert loaded[0].kind == pm.DIFF and loaded[0].files == ("fs/dcache.c",)
        done = pm.apply(loaded, c.path, tree, progress=lambda m: None, use_git=use_git)
        assert done[0].applied_with.startswith("git apply" if use_git else "patch -p1")
        assert "line twenty\n" in (c.path / "fs" / "dcache.c").read_text()
    assert snapshot(tree) == before


def test_patch_that_does_not_apply_names_file_and_hunk(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    before = snapshot(tree)
    # Written against a tree where line 20 reads differently: the hunk cannot apply here.
    bad = plain_diff(tmp_path)
    bad.write_text(bad.read_text().replace("-line 20\n", "-line 20 changed upstream\n"))
    for use_git in (True, False):
        c = TreeCopy(tree, root=tmp_path / f"cache-{use_git}" / "verify")
        c.sync(progress=lambda m: None)
        loaded = pm.load([bad], tmp_path / f"w{use_git}", use_git=use_git)
        with pytest.raises(UserError) as e:
            pm.apply(loaded, c.path, tree, progress=lambda m: None, use_git=use_git)
        msg = str(e.value)
        assert msg.startswith("user error: fix.diff does not apply to ")
        assert str(tree) in msg and "fs/dcache.c: hunk #1 (@@ -17,7 +17,7 @@) does not apply" in msg
        assert e.value.exit_code == 2
        # Nothing half-applied, no .rej/.orig litter.
        assert (c.path / "fs" / "dcache.c").read_text() == (tree / "fs" / "dcache.c").read_text()
        assert not list(c.path.rglob("*.rej")) and not list(c.path.rglob("*.orig"))
    assert snapshot(tree) == before


def test_second_hunk_failing_is_named_by_number(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    c = copy_of(tree, tmp_path)
    p = tmp_path / "two.diff"
    p.write_text(
        "--- a/fs/dcache.c\n+++ b/fs/dcache.c\n"
        "@@ -2,3 +2,3 @@\n line 2\n-line 3\n+line III\n line 4\n"
        "@@ -30,3 +30,3 @@\n line 30\n-line 31 but different\n+line XXXI\n line 32\n"
    )
    for use_git in (True, False):
        with pytest.raises(UserError, match=r"fs/dcache.c: hunk #2 \(@@ -30,3 \+30,3 @@\) does not apply"):
            pm.apply(pm.load([p], tmp_path / f"w{use_git}", use_git=use_git), c.path, tree, lambda m: None, use_git)


def test_mail_that_does_not_apply_and_missing_file(git_tree, series, tmp_path):
    files, _ = series
    c = copy_of(git_tree, tmp_path)
    # The second patch alone: its context ("line 30") is there, so mangle the copy first.
    (c.path / "fs" / "dcache.c").write_text("something else entirely\n")
    with pytest.raises(UserError, match=r"\[2/2\]|0002-dcache-spell-out-thirty.patch"):
        pm.apply(pm.load([files[2]], tmp_path / "w"), c.path, git_tree, lambda m: None)
    missing = tmp_path / "missing.diff"
    missing.write_text("--- a/fs/nope.c\n+++ b/fs/nope.c\n@@ -1 +1 @@\n-a\n+b\n")
    for use_git in (True, False):
        with pytest.raises(UserError, match="fs/nope.c: does not exist in the tree"):
            pm.apply(pm.load([missing], tmp_path / f"m{use_git}", use_git=use_git), c.path, git_tree, lambda m: None, use_git)


def test_already_applied_patch_says_so(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    diff = plain_diff(tmp_path)
    c = copy_of(tree, tmp_path)
    pm.apply(pm.load([diff], tmp_path / "w1"), c.path, tree, lambda m: None)
    with pytest.raises(UserError, match="looks already applied"):
        pm.apply(pm.load([diff], tmp_path / "w2"), c.path, tree, lambda m: None)
    with pytest.raises(UserError, match="already applied"):
        pm.apply(pm.load([diff], tmp_path / "w3", use_git=False), c.path, tree, lambda m: None, use_git=False)


def test_plain_diff_with_fuzz_falls_back_to_patch(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    c = copy_of(tree, tmp_path)
    # One context line differs from the tree: git apply refuses, patch -p1 applies with fuzz.
    fuzzy = plain_diff(tmp_path)
    fuzzy.write_text(fuzzy.read_text().replace(" line 17\n", " line seventeen\n"))
    msgs = []
    done = pm.apply(pm.load([fuzzy], tmp_path / "w"), c.path, tree, msgs.append)
    assert done[0].applied_with.startswith("patch -p1 (") and "fuzz" in done[0].applied_with
    assert "line twenty" in (c.path / "fs" / "dcache.c").read_text()
    assert any("fuzz" in m for m in msgs)
    assert not list(c.path.rglob("*.orig"))


def test_unreadable_inputs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        pm.load([tmp_path / "nope.patch"], tmp_path / "w")
    with pytest.raises(UserError, match="a directory"):
        pm.load([tmp_path], tmp_path / "w")
    empty = tmp_path / "notes.txt"
    empty.write_text("just some words\n")
    with pytest.raises(UserError, match="no diff found"):
        pm.load([empty], tmp_path / "w")
    cover = tmp_path / "cover.mbox"
    cover.write_text("From 0000 Mon Sep 17 00:00:00 2001\nFrom: A <a@b.c>\nSubject: [PATCH 0/2] x\n\nwords\n")
    with pytest.raises(UserError, match="no diff found"):
        pm.load([cover], tmp_path / "w")


# --- the copy -------------------------------------------------------------------------------------


def test_sync_is_incremental_and_restores_patched_files_with_fresh_mtime(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    (tree / ".git").mkdir()
    (tree / ".git" / "HEAD").write_text("ref: x\n")
    c = TreeCopy(tree, root=tmp_path / "cache" / "verify")
    first = c.sync(progress=lambda m: None)
    assert first.copied == first.files == 4
    assert not (c.path / ".git").exists()
    assert os.readlink(c.path / "scripts" / "link.c") == "../fs/dcache.c"
    assert os.access(c.path / "scripts" / "run.sh", os.X_OK)
    # <area>/src/<same name>: the tree sits where build_root() makes ccache keys match the source's
    assert c.path.parent.name == "src" and c.path.name == tree.name

    again = c.sync(progress=lambda m: None)
    assert again.copied == 0 and again.removed == 0

    # A verify patches the copy (and may leave a new file); the next sync undoes exactly that.
    diff = plain_diff(tmp_path)
    loaded = pm.load([diff], tmp_path / "w")
    c.mark_dirty(pm.touched(loaded))
    pm.apply(loaded, c.path, tree, lambda m: None)
    (c.path / "fs" / "dcache.c.orig").write_text("litter\n")
    patched_mtime = (c.path / "fs" / "dcache.c").stat().st_mtime_ns
    time.sleep(0.01)
    restored = c.sync(progress=lambda m: None)
    assert restored.copied == 1 and restored.removed == 1
    assert (c.path / "fs" / "dcache.c").read_text() == (tree / "fs" / "dcache.c").read_text()
    # Newer than anything built from the patched file, so make rebuilds it.
    assert (c.path / "fs" / "dcache.c").stat().st_mtime_ns > patched_mtime
    assert not (c.path / "fs" / "dcache.c.orig").exists()

    # The user edits, adds and removes files: all follow; the untouched ones are not copied.
    (tree / "fs" / "namei.c").write_text("int lookup(void) { return 1; }\n")
    (tree / "fs" / "inode.c").write_text("/* inode */\n")
    (tree / "Documentation" / "vfs.rst").unlink()
    s = c.sync(progress=lambda m: None)
    assert (s.copied, s.removed) == (2, 1)
    assert snapshot_content(c.path) == snapshot_content(tree, skip=".git")


def test_sync_without_state_copies_everything(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    c = TreeCopy(tree, root=tmp_path / "cache" / "verify")
    c.sync(progress=lambda m: None)
    # Written behind our back with no state (as if a sync died half way): all is copied again.
    c.state_path.unlink()
    (c.path / "fs" / "namei.c").write_text("corrupt\n")
    msgs = []
    s = c.sync(progress=msgs.append)
    assert s.copied == s.files
    assert (c.path / "fs" / "namei.c").read_text() == (tree / "fs" / "namei.c").read_text()
    assert any("no sync state" in m for m in msgs)


def test_copy_written_since_sync_is_noticed_without_dirty_list(tmp_path):
    tree = make_tree(tmp_path / "user" / "linux")
    c = copy_of(tree, tmp_path)
    time.sleep(0.01)
    (c.path / "fs" / "namei.c").write_text("int lookup(void)\n{\n\treturn 9;\n}\n")  # same size, new mtime
    c.sync(progress=lambda m: None)
    assert (c.path / "fs" / "namei.c").read_text() == (tree / "fs" / "namei.c").read_text()


def snapshot_content(root: Path, skip: str = "") -> dict:
    return {k: v[0] for k, v in snapshot(root).items() if not (skip and k.split("/")[0] == skip)}
