"""The synthetic kernel history of the e2e test, built on a tiny fake tree (no kernel source needed)."""

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.bisect import git as bgit
from harness.bisect.engine import Bisector, GitHistory, Settings
from harness.bisect.model import RunRecord
from harness.bisect.synthetic import DECOY, DECOY_TITLE, LAYOUT, kernel_history
from harness.verdict import Verdict


@dataclass
class FakeBug:
    name: str
    path: Path
    files: tuple


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "src" / "linux-source-6.12"
    for rel in ("fs/dcache.c", "fs/namei.c", "fs/inode.c", "fs/namespace.c", "fs/libfs.c", "fs/notify/mark.c"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(f"/* {rel} */\nint x;\n")
    (src / ".gitignore").write_text("*.o\n")
    (src / "prebuilt.o").write_text("shipped in the tarball although ignored\n")
    patch = tmp_path / "01-some-bug.patch"
    patch.write_text(
        "Bug: some-bug\n\n"
        "--- a/fs/notify/mark.c\n+++ b/fs/notify/mark.c\n@@ -1,2 +1,2 @@\n /* fs/notify/mark.c */\n-int x;\n+int x = 1;\n"
    )
    return src, FakeBug("some-bug", patch, ("fs/notify/mark.c",))


def test_kernel_history_layout(tree):
    src, bug = tree
    h = kernel_history(bug, src, progress=lambda m: None)
    assert len(h.commits) == 1 + len(LAYOUT) >= 13 and h.good == h.commits[0] and h.bad == h.commits[-1]
    assert bgit.git(h.repo, "cat-file", "-e", f"{h.good}:prebuilt.o", check=False).ok  # the tarball, as is
    show = lambda rev, path: bgit.git(h.repo, "show", f"{rev}:{path}").stdout  # noqa: E731
    i_bug = h.commits.index(h.culprit)
    assert bgit.subject(h.repo, h.culprit) == "some-bug: apply 01-some-bug.patch from the bug corpus"
    assert "int x = 1;" in show(h.culprit, "fs/notify/mark.c")
    assert "int x = 1;" not in show(h.commits[i_bug - 1], "fs/notify/mark.c")
    for i, c in enumerate(h.commits):
        has_decoy = DECOY in show(c, "fs/libfs.c")
        assert has_decoy == (c in h.decoy), i
    assert max(h.commits.index(c) for c in h.decoy) < i_bug
    assert show(h.bad, "fs/libfs.c") == show(h.good, "fs/libfs.c")
    # Built once: the second call reads the cached description.
    assert kernel_history(bug, src, progress=lambda m: None) == h


def test_the_layout_makes_the_bisection_meet_the_decoy(tree):
    src, bug = tree
    h = kernel_history(bug, src, progress=lambda m: None)
    index = {c: i for i, c in enumerate(h.commits)}

    def test_commit(rev):
        def runs():
            for n in itertools.count():
                titles = ([DECOY_TITLE] if rev in h.decoy else []) + (["bug"] if index[rev] >= index[h.culprit] else [])
                yield RunRecord(n, Verdict.FAIL if titles else Verdict.PASS, titles=titles)

        return runs()

    result = Bisector(GitHistory(h.repo), test_commit, Settings(h.good, h.bad)).run()
    assert result.culprit.commit == h.culprit
    met = [s for s in result.steps if s.commit in h.decoy]
    assert met and all(s.verdict == "good" for s in met)
    assert result.bisect_steps == 4  # 14 suspects: ceil(log2(14))
