import os
from dataclasses import replace

import pytest

from harness.corpus.bugs import all_bugs
from harness.corpus.bugtree import bug_tree


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    pristine = tmp_path / "src" / "linux-x"
    (pristine / "fs").mkdir(parents=True)
    (pristine / "fs" / "a.c").write_text("int a = 1;\nint b = 2;\n")
    patch = tmp_path / "01-fake.patch"
    patch.write_text(
        "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,2 +1,2 @@\n-int a = 1;\n+int a = 0; /* bug */\n int b = 2;\n"
    )
    bug = replace(all_bugs()[0], name="fake", path=patch, files=("fs/a.c",))
    monkeypatch.setattr("harness.corpus.bugs.get", lambda name: bug)
    return pristine, bug


def test_bug_tree_patches_a_copy_and_never_the_pristine_tree(fake):
    pristine, bug = fake
    tree = bug_tree(pristine, bug, progress=lambda m: None)
    assert (tree / "fs" / "a.c").read_text().startswith("int a = 0; /* bug */")
    assert (pristine / "fs" / "a.c").read_text().startswith("int a = 1;")
    assert os.stat(tree / "fs" / "a.c").st_ino != os.stat(pristine / "fs" / "a.c").st_ino
    # Same name one area over, so ccache keys match the clean build's.
    assert tree.name == pristine.name and tree.parent.name == "src"


def test_switching_back_to_clean_reverts_exactly(fake):
    pristine, bug = fake
    bug_tree(pristine, bug, progress=lambda m: None)
    tree = bug_tree(pristine, None, progress=lambda m: None)
    assert (tree / "fs" / "a.c").read_text() == (pristine / "fs" / "a.c").read_text()
    assert (tree / ".harness-bug").read_text() == ""
