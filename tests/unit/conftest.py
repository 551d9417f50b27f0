"""Fixtures shared by more than one unit-test module."""

import shutil
from pathlib import Path

import pytest

FAKES = Path(__file__).parent / "fakes"


@pytest.fixture
def fake_tree(tmp_path):
    """A source tree the harness takes for a kernel's: its Makefile (fakes/fakelinux_Makefile)
    "builds" a bzImage, and merge_config.sh merges fragments as the kernel's does."""
    tree = tmp_path / "src" / "linux"
    (tree / "arch" / "x86").mkdir(parents=True)
    (tree / "scripts" / "kconfig").mkdir(parents=True)
    shutil.copy(FAKES / "fakelinux_Makefile", tree / "Makefile")
    shutil.copy(FAKES / "merge_config.sh", tree / "scripts" / "kconfig" / "merge_config.sh")
    (tree / "Kconfig").write_text("# fake\n")
    (tree / "UNSUPPORTED").write_text("CONFIG_NOT_A_SYMBOL\n")
    return tree
