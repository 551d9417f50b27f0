import shutil
from pathlib import Path

import pytest

from harness import bugs
from harness.errors import UserError
from harness.paths import cache_dir

# The families issue 6 asks the corpus to cover, by the scenario that catches each.
REQUIRED_SCENARIOS = {"eventfs-lookup-race", "kprobe-churn", "symlink-reclaim", "negdentry-inotify", "umount-check"}

GOOD_HEADER = """\
Bug: some-bug
Models: 0123456789ab "subsystem: a fix" (reverted),
  thread 1234@example.invalid
Scenario: kprobe-churn
Expect: title KASAN: slab-use-after-free Read in tracing_open_file_tr
Also: oracle ghost-file
Also: title BUG: Dentry still in use [unmount of *]
Delay: none
Description: one paragraph
  that goes on.
"""

BODY = """\
--- a/fs/x.c
+++ b/fs/x.c
@@ -1,1 +1,1 @@
-a
+b
"""


def pristine_tree() -> Path | None:
    # The tree the harness builds by default (debian-6.12.<n>), else the plain unpack.
    # The corpus is against 6.12: a 6.1 tree in the same cache sorts first and is not it.
    src = cache_dir() / "src"
    for cand in sorted(src.glob("debian-6.12.*")) + [src / "linux-source-6.12"]:
        if (cand / "Makefile").is_file() and (cand / "fs" / "dcache.c").is_file():
            return cand
    return None


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_patch_parses():
    all_ = bugs.all_bugs()
    assert len(all_) >= 7
    assert [b.number for b in all_] == sorted(b.number for b in all_)
    for b in all_:
        assert b.path.name == f"{b.number:02d}-{b.name}.patch"
        assert b.scenario in bugs.SCENARIOS
        assert b.expect_kind in bugs.EXPECT_KINDS and b.expect
        assert b.delay and b.description and b.models
        assert b.files and all(not f.startswith("/") for f in b.files)


def test_corpus_covers_every_family():
    assert REQUIRED_SCENARIOS <= {b.scenario for b in bugs.all_bugs()}


def test_readme_lists_every_patch():
    readme = (bugs.BUGS_DIR / "README.md").read_text()
    for b in bugs.all_bugs():
        assert b.path.name in readme, b.path.name


# Parametrized by file, not by parsed Bug, so a broken header fails one test
# instead of the whole module's collection.
@pytest.mark.parametrize("patch", sorted(bugs.BUGS_DIR.glob("*.patch")), ids=lambda p: p.name)
def test_patch_applies_cleanly_to_pristine_tree(patch):
    bug = bugs.load(patch)
    tree = pristine_tree()
    if tree is None:
        pytest.skip("no unpacked linux-source-6.12 under the harness cache")
    if shutil.which("patch") is None:
        pytest.skip("patch(1) not installed")
    bugs.check_applies(bug, tree)


def test_parse_good_header(tmp_path):
    p = write(tmp_path, "42-some-bug.patch", GOOD_HEADER + "\n" + BODY)
    b = bugs.load(p)
    assert (b.name, b.scenario, b.expect_kind, b.number) == ("some-bug", "kprobe-churn", "title", 42)
    assert b.models.endswith("(reverted), thread 1234@example.invalid")
    assert b.description == "one paragraph that goes on."
    assert b.also == (("oracle", "ghost-file"), ("title", "BUG: Dentry still in use [unmount of *]"))
    assert b.files == ("fs/x.c",)


def test_matches_globs_only_on_star(tmp_path):
    b = bugs.load(write(tmp_path, "42-some-bug.patch", GOOD_HEADER + BODY))
    assert b.matches("title", "KASAN: slab-use-after-free Read in tracing_open_file_tr")
    assert b.matches("oracle", "ghost-file")
    assert b.matches("title", "BUG: Dentry still in use [unmount of xfs]")
    # brackets are literal, not a character class
    assert not b.matches("title", "BUG: Dentry still in use u")
    assert not b.matches("title", "KASAN: slab-use-after-free Read in f_start")
    assert not b.matches("oracle", "spurious-ENOENT")


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda h: h.replace("Scenario: kprobe-churn\n", ""), "Scenario"),
        (lambda h: h.replace("Scenario: kprobe-churn", "Scenario: kprobe-chrun"), "Scenario"),
        (lambda h: h.replace("Expect: title", "Expect: banner"), "Expect"),
        (lambda h: h.replace("Expect: title KASAN", "Expect: oracle KASAN"), "Expect"),
        (lambda h: h.replace("Also: oracle ghost-file", "Also: oracle ghost"), "Also"),
        (lambda h: h.replace("Bug: some-bug", "Bug: other-bug"), "Bug"),
        (lambda h: h.replace("Delay: none", "Delay:"), "Delay"),
        (lambda h: h + "Severity: high\n", "Severity"),
        (lambda h: h + "Models: twice\n", "Models"),
    ],
)
def test_header_errors_name_file_and_key(tmp_path, edit, key):
    p = write(tmp_path, "42-some-bug.patch", edit(GOOD_HEADER) + BODY)
    with pytest.raises(UserError) as e:
        bugs.load(p)
    assert str(p) in str(e.value) and key in str(e.value)


def test_bad_file_name_and_missing_diff(tmp_path):
    with pytest.raises(UserError, match="NN-short-name"):
        bugs.load(write(tmp_path, "some-bug.patch", GOOD_HEADER + BODY))
    with pytest.raises(UserError, match="not a -p1 unified diff"):
        bugs.load(write(tmp_path, "42-some-bug.patch", GOOD_HEADER))


def test_duplicate_number_and_get(tmp_path):
    write(tmp_path, "42-some-bug.patch", GOOD_HEADER + BODY)
    assert bugs.get("some-bug", tmp_path).number == 42
    assert bugs.get("42", tmp_path).name == "some-bug"
    with pytest.raises(UserError, match="unknown bug 'nope'.*some-bug"):
        bugs.get("nope", tmp_path)
    write(tmp_path, "42-other-bug.patch", GOOD_HEADER.replace("some-bug", "other-bug") + BODY)
    with pytest.raises(UserError, match="also defined by"):
        bugs.all_bugs(tmp_path)


def test_check_applies_reports_a_failing_hunk(tmp_path):
    if shutil.which("patch") is None:
        pytest.skip("patch(1) not installed")
    tree = tmp_path / "tree"
    (tree / "fs").mkdir(parents=True)
    (tree / "fs" / "x.c").write_text("a\n")
    b = bugs.load(write(tmp_path, "42-some-bug.patch", GOOD_HEADER + BODY))
    bugs.check_applies(b, tree)
    (tree / "fs" / "x.c").write_text("c\n")
    with pytest.raises(UserError, match="does not apply cleanly"):
        bugs.check_applies(b, tree)
