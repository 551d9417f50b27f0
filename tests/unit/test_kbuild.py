import os
from pathlib import Path

import pytest

from harness.errors import BuildError, UserError
from harness.kbuild import build, kconfig, resolve
from harness.kbuild.source import Prebuilt, SourceTree, is_bzimage


@pytest.fixture
def cache(tmp_path, monkeypatch):
    c = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE", str(c))
    return c


def frag(tmp_path, name, text):
    p = tmp_path / f"{name}.config"
    p.write_text(text)
    return str(p)


def test_resolve_rejects_missing_and_non_kernel_paths(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        resolve(tmp_path / "nope")
    with pytest.raises(UserError, match="not a Linux kernel source tree"):
        resolve(tmp_path)
    junk = tmp_path / "junk"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises(UserError, match="not an x86 bzImage"):
        resolve(junk)


def test_resolve_prebuilt_bzimage_with_vmlinux(tmp_path):
    bz = tmp_path / "bzImage"
    data = bytearray(1024)
    data[0x202:0x206] = b"HdrS"
    bz.write_bytes(bytes(data))
    (tmp_path / "vmlinux").write_bytes(b"elf")
    got = resolve(bz)
    assert isinstance(got, Prebuilt) and got.vmlinux == (tmp_path / "vmlinux").resolve()
    assert is_bzimage(bz)


def test_fragment_lines_are_checked(tmp_path):
    with pytest.raises(UserError, match=r"bad.config:2: not a kconfig line"):
        kconfig.load_fragment(frag(tmp_path, "bad", "# why\nCONFIG_FOO=yes please\n"))
    f = kconfig.load_fragment(frag(tmp_path, "ok", "# why\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\n"))
    assert f.settings == {"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_C": '"x y"'}


def test_unknown_fragment_name_lists_known_ones():
    with pytest.raises(UserError, match="known: .*kasan"):
        kconfig.load_fragment("no-such-fragment")


def test_every_repo_fragment_line_has_a_reason():
    # "every kconfig line says why": each setting is preceded by a comment line.
    for path in Path(kconfig.KCONFIGS).glob("*.config"):
        lines = path.read_text().splitlines()
        kconfig.load_fragment(path)
        for i, line in enumerate(lines):
            if line.startswith("CONFIG_") or (line.startswith("# CONFIG_") and line.endswith("is not set")):
                j = i - 1
                while j >= 0 and (lines[j].startswith("CONFIG_") or lines[j].endswith("is not set")):
                    j -= 1
                assert j >= 0 and lines[j].startswith("#"), f"{path.name}:{i + 1} has no comment above it"


def test_mismatches_names_symbols_that_did_not_stick():
    bad = kconfig.mismatches({"CONFIG_A": "y", "CONFIG_B": "n", "CONFIG_C": "y"}, {"CONFIG_A": "y", "CONFIG_C": "m"})
    assert bad == ["CONFIG_C (wanted y, got m)"]


def test_build_then_no_change_rebuild_skips_make(fake_tree, tmp_path, cache):
    f = frag(tmp_path, "a", "CONFIG_A=y\n")
    k = build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    assert k.rebuilt and is_bzimage(k.bzimage) and k.config_path.read_text().strip() == "CONFIG_A=y"
    k2 = build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    assert not k2.rebuilt and k2.build_dir == k.build_dir
    assert (k.build_dir / "build-count").read_text().count("built") == 1


def test_touching_a_source_file_rebuilds_in_the_same_dir(fake_tree, tmp_path, cache):
    f = frag(tmp_path, "a", "CONFIG_A=y\n")
    k = build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    cfg_mtime = k.config_path.stat().st_mtime_ns
    src = fake_tree / "fs.c"
    src.write_text("int x;\n")
    k2 = build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    assert k2.rebuilt and k2.build_dir == k.build_dir
    assert k2.config_path.stat().st_mtime_ns == cfg_mtime, ".config must not be rewritten when unchanged"


def test_changed_config_gets_its_own_build_dir(fake_tree, tmp_path, cache):
    a = build(SourceTree(fake_tree, "tree"), [frag(tmp_path, "a", "CONFIG_A=y\n")], progress=lambda m: None)
    b = build(SourceTree(fake_tree, "tree"), [frag(tmp_path, "b", "CONFIG_B=y\n")], progress=lambda m: None)
    assert a.build_dir != b.build_dir


def test_symbol_that_does_not_stick_is_a_user_error(fake_tree, tmp_path, cache):
    f = frag(tmp_path, "a", "CONFIG_A=y\nCONFIG_NOT_A_SYMBOL=y\n")
    with pytest.raises(UserError, match="CONFIG_NOT_A_SYMBOL"):
        build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)


def test_failed_build_is_a_build_error_with_first_errors(fake_tree, tmp_path, cache):
    f = frag(tmp_path, "a", "CONFIG_FAIL=y\n")
    with pytest.raises(BuildError) as e:
        build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    assert "fake failure requested" in e.value.detail
    assert e.value.log and os.path.exists(e.value.log)


def test_in_tree_config_is_refused(fake_tree, tmp_path, cache):
    (fake_tree / ".config").write_text("CONFIG_A=y\n")
    with pytest.raises(UserError, match="mrproper"):
        build(SourceTree(fake_tree, "tree"), [frag(tmp_path, "a", "CONFIG_A=y\n")], progress=lambda m: None)


def test_prebuilt_in_a_build_dir_finds_its_vmlinux_and_config(tmp_path):
    boot = tmp_path / "arch" / "x86" / "boot"
    boot.mkdir(parents=True)
    data = bytearray(1024)
    data[0x202:0x206] = b"HdrS"
    (boot / "bzImage").write_bytes(bytes(data))
    (tmp_path / "vmlinux").write_bytes(b"elf")
    (tmp_path / ".config").write_text("CONFIG_A=y\n")
    got = resolve(boot / "bzImage")
    assert got.vmlinux == (tmp_path / "vmlinux").resolve() and got.config == (tmp_path / ".config").resolve()


def test_trees_in_cache_areas_build_beside_them_at_the_same_depth(tmp_path, cache):
    from harness.kbuild.build import build_root

    assert build_root(cache / "src" / "debian-6.12") == (cache / "build").resolve()
    assert build_root(cache / "bugs" / "src" / "debian-6.12") == (cache / "bugs" / "build").resolve()
    assert build_root(tmp_path / "elsewhere" / "linux") == (cache / "build").resolve()


def test_verify_copies_and_bisect_worktrees_see_the_tree_where_the_source_build_does(tmp_path, cache):
    """ccache keys hold paths relative to the build dir: ../../src/<name> must match."""
    import os

    from harness.bisect.tester import worktree_slot
    from harness.kbuild.build import build_root
    from harness.verify.tree_copy import TreeCopy

    source = cache / "src" / "debian-6.12"
    source.mkdir(parents=True)

    def seen_from_build(tree):
        return os.path.relpath(tree.resolve(), build_root(tree) / "0123abcd")

    copy = TreeCopy(source).path
    with worktree_slot(tmp_path / "elsewhere" / "debian-6.12") as worktree:
        pass
    assert seen_from_build(copy) == seen_from_build(worktree) == seen_from_build(source) == "../../src/debian-6.12"
    assert copy != source and worktree != source and build_root(copy) != build_root(worktree)


def test_unchanged_tree_and_fragments_reuse_the_merge(fake_tree, tmp_path, cache):
    f = frag(tmp_path, "a", "CONFIG_A=y\n")
    build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    script = fake_tree / "scripts" / "kconfig" / "merge_config.sh"
    st = script.stat()
    body = script.read_text()
    # A merge now would fail; same size and mtime, so the tree looks unchanged.
    script.write_text(("#!/bin/bash\nexit 1\n").ljust(len(body) - 1, "#") + "\n")
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns))
    k = build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)
    assert not k.rebuilt
    (fake_tree / "new.c").write_text("")  # a real change: merged again, and now the merge fails
    with pytest.raises(UserError, match="kconfig merge failed"):
        build(SourceTree(fake_tree, "tree"), [f], progress=lambda m: None)


def test_git_commit_of_a_tree_that_is_its_own_work_tree(tmp_path):
    import subprocess

    from harness.kbuild.source import git_commit

    tree = tmp_path / "linux"
    (tree / "fs").mkdir(parents=True)
    (tree / "Makefile").write_text("VERSION = 6\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    assert git_commit(tree) == ""  # not a repository yet
    for argv in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(tree), *argv], check=True, env=env)
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True, env=env).stdout.strip()
    assert git_commit(tree) == head and len(head) == 40
    assert git_commit(tree / "fs") == ""  # inside a repository, but not its top
    assert git_commit(tmp_path / "missing") == "" and git_commit(tree / "Makefile") == ""
