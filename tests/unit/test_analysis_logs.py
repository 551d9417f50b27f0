"""``harness analyze`` reads any log a user has: compressed, piped, and says no to non-logs.

Exit status: 0 no report, 1 report(s) found, 2 user error (one line, no traceback).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
import subprocess
import sys

import pytest
from test_analysis_seed import EVENTFS_KASAN, PICK_LINK_NULL

from harness.analysis import iter_file
from harness.cli import main

NULL_TITLE = "BUG: unable to handle kernel NULL pointer dereference in pick_link"
LOG = (PICK_LINK_NULL + EVENTFS_KASAN).encode()


def _zstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


COMPRESSORS = {
    "gz": gzip.compress,
    "xz": lzma.compress,
    "bz2": bz2.compress,
    "zst": _zstd,
}


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_compressed_logs_read_as_plain(ext, tmp_path):
    if ext == "zst" and shutil.which("zstd") is None:
        pytest.skip("zstd command not installed")
    plain = [r.title for r in iter_file(_write(tmp_path / "plain.log", LOG))]
    path = _write(tmp_path / f"console.log.{ext}", COMPRESSORS[ext](LOG))
    assert [r.title for r in iter_file(path)] == plain
    assert plain[0] == NULL_TITLE
    # By content, not by name: a renamed compressed log reads too.
    renamed = _write(tmp_path / "console.txt", COMPRESSORS[ext](LOG))
    assert [r.title for r in iter_file(renamed)] == plain


def test_big_compressed_log_streams(tmp_path):
    # Larger than the scanner's block, so the stream is read in several pieces.
    filler = b"".join(b"[    1.%06d] chatter line %d\n" % (i, i) for i in range(300_000))
    path = _write(tmp_path / "big.log.gz", gzip.compress(filler + LOG, compresslevel=1))
    reports = list(iter_file(path))
    assert [r.title for r in reports][:1] == [NULL_TITLE]
    assert reports[0].start_line == 300_001


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _run_stdin(monkeypatch, capsys, data: bytes, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = main(["analyze", *args, "-"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dash_reads_standard_input(monkeypatch, capsys):
    code, out, _ = _run_stdin(monkeypatch, capsys, LOG)
    assert code == 1
    assert out.startswith("-: 2 reports")
    assert NULL_TITLE in out


def test_compressed_standard_input(monkeypatch, capsys):
    code, out, _ = _run_stdin(monkeypatch, capsys, gzip.compress(LOG), "--json")
    assert code == 1 and NULL_TITLE in out


def test_no_report_exits_0(monkeypatch, capsys):
    code, out, _ = _run_stdin(monkeypatch, capsys, b"[    1.0] Linux version 6.12\n[    1.1] all good\n")
    assert code == 0 and out.startswith("-: 0 reports")


@pytest.mark.parametrize(
    "data, why",
    [
        (b"", "is empty"),
        (gzip.compress(b"", mtime=0), "is empty"),
        (bytes(range(256)) * 300, "not text"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 5000, "not text"),
        (gzip.compress(b"\x00\x01\x02" * 10000, mtime=0), "not text"),
        (b"\x1f\x8b\x08\x00garbage that is not gzip", "bad gzip data"),
        (b"\x28\xb5\x2f\xfdgarbage that is not zstd", "bad zstd data"),
        (b"BZh91AY&SYgarbage", "bad bzip2 data"),
    ],
    ids=["empty", "empty-gzip", "bytes", "elf", "binary-gzip", "bad-gzip", "bad-zstd", "bad-bzip2"],
)
def test_empty_binary_or_broken_logs_are_user_errors(data, why, tmp_path, capsys):
    if b"\x28\xb5" in data[:2] and shutil.which("zstd") is None:
        pytest.skip("zstd command not installed")
    path = _write(tmp_path / "x.log", data)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr()
    assert err.out == ""
    (line,) = err.err.strip().splitlines()
    assert why in line and str(path) in line and "Traceback" not in line


def test_empty_standard_input_is_a_user_error(monkeypatch, capsys):
    code, out, err = _run_stdin(monkeypatch, capsys, b"")
    assert code == 2 and out == "" and "is empty" in err


def test_missing_directory_and_unreadable_stay_user_errors(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.log")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    locked = _write(tmp_path / "locked.log", LOG)
    locked.chmod(0)
    try:
        if locked.open("rb"):  # root reads anything: nothing to check then
            pytest.skip("running as root")
    except PermissionError:
        assert main(["analyze", str(locked)]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        locked.chmod(0o644)


def test_help_states_the_exit_codes(capsys):
    assert main(["analyze", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "0 no report found, 1 report(s) found, 2 user error" in out


def test_listing_groups_identical_reports_and_marks_the_guilty_frame(tmp_path, capsys):
    path = _write(tmp_path / "c.log", (PICK_LINK_NULL + PICK_LINK_NULL + EVENTFS_KASAN).encode())
    assert main(["analyze", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: 3 reports, 2 distinct"
    null = next(ln for ln in out if NULL_TITLE in ln)
    assert "x2 (also at lines 32)" in null
    kasan = out.index(next(ln for ln in out if "KASAN: slab-use-after-free Read in tracing_open_file_tr" in ln))
    frames = out[kasan + 1 : kasan + 4]
    # The report's own frames first (dump_stack and KASAN's machinery left
    # out), and the guilty one marked.
    assert frames[0].strip() == "> tracing_open_file_tr"
    assert not any("dump_stack" in f or "kasan_report" in f for f in frames)
