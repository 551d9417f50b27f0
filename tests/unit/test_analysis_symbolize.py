"""Symbolization with a real ELF built here: file:line on frames, inlined frames marked."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness.analysis import analyze, analyze_file, symbolize
from harness.cli import main
from harness.errors import UserError

needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("gcc", "nm", "addr2line")), reason="needs gcc and binutils"
)

SOURCE = """\
static inline __attribute__((always_inline)) int helper(int *p) { return *p + 1; }
__attribute__((noinline)) int pick_link(int *p) { return helper(p) * 2; }
__attribute__((noinline)) int step_into(int *p) { return pick_link(p) + 3; }
int main(void) { int x = 1; return step_into(&x); }
"""


@pytest.fixture(scope="module")
def vmlinux(tmp_path_factory):
    d = tmp_path_factory.mktemp("kernel")
    (d / "namei.c").write_text(SOURCE)
    # A test fixture build, not harness code: harness code runs processes via harness.proc.
    subprocess.run(["gcc", "-g", "-O2", "-o", str(d / "vmlinux"), "namei.c"], cwd=d, check=True)
    sizes = {}
    for line in subprocess.run(["nm", "-S", str(d / "vmlinux")], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    return d, sizes


def _log(sizes) -> str:
    return (
        "[ 5.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
        f"[ 5.0] RIP: 0010:pick_link+0x0/{hex(sizes['pick_link'])}\n"
        "[ 5.0] Call Trace:\n"
        "[ 5.0]  <TASK>\n"
        f"[ 5.0]  step_into+{hex(sizes['step_into'] - 1)}/{hex(sizes['step_into'])}\n"
        "[ 5.0]  ext4_lookup+0x10/0x80 [ext4]\n"
        "[ 5.0]  </TASK>\n"
    )


@needs_tools
def test_frames_get_file_line_and_inlines_are_marked(vmlinux):
    d, sizes = vmlinux
    reports = analyze(_log(sizes).encode())
    title = reports[0].title
    symbolize(reports, d / "vmlinux", kernel_src=d)
    r = reports[0]
    assert r.title == title  # titles do not depend on symbolization
    rendered = [str(f) for f in r.symbolized]
    assert rendered[0] == "helper namei.c:1 [inline]"
    assert rendered[1].startswith("pick_link+0x0/") and rendered[1].endswith("namei.c:2")
    assert rendered[2].endswith("namei.c:3") and not r.symbolized[2].inline
    assert "RIP: 0010:helper namei.c:1 [inline]" in r.text
    assert "ext4_lookup+0x10/0x80 [ext4]" in r.text  # module frames are left alone


@needs_tools
def test_cli_with_vmlinux(vmlinux, tmp_path, capsys):
    d, sizes = vmlinux
    log = tmp_path / "console.log"
    log.write_text(_log(sizes))
    assert main(["analyze", "--json", "--vmlinux", str(d / "vmlinux"), str(log)]) == 1
    (r,) = json.loads(capsys.readouterr().out)["reports"]
    assert r["symbolized"][0].endswith("namei.c:1 [inline]")
    assert analyze_file(log, vmlinux=d / "vmlinux")[0].symbolized


@needs_tools
def test_not_an_elf(tmp_path):
    bogus = tmp_path / "vmlinux"
    bogus.write_bytes(b"not an elf")
    reports = analyze(b"[ 1.0] BUG: kernel NULL pointer dereference, address: 0\n[ 1.0] RIP: 0010:f+0x1/0x2\n")
    with pytest.raises(UserError, match="vmlinux"):
        symbolize(reports, bogus)


def test_missing_vmlinux(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        symbolize([], tmp_path / "vmlinux")
