"""Whatever the console gives: bytes, huge, non-UTF-8, CRLF, cut short, interleaved, tagged or not."""

from __future__ import annotations

import random
import re

import pytest

from harness.analysis import analyze, analyze_file
from harness.errors import UserError
from test_analysis_seed import EVENTFS_KASAN, PICK_LINK_NULL

KASAN_TITLE = "KASAN: slab-use-after-free Read in tracing_open_file_tr"
NULL_TITLE = "BUG: unable to handle kernel NULL pointer dereference in pick_link"
_PREFIX = re.compile(r"^\[ *\d+\.\d+\](\[ *[CT]\d+\])?", re.MULTILINE)


def titles(data: bytes | str) -> list[str]:
    return [r.title for r in analyze(data)]


def test_empty_and_blank_input():
    assert analyze(b"") == []
    assert analyze(b"\n\n\r\n") == []
    assert analyze("") == []


def test_binary_garbage_does_not_raise():
    rng = random.Random(3)
    junk = bytes(rng.randrange(256) for _ in range(200_000))
    reports = analyze(junk)
    assert all(isinstance(r.title, str) for r in reports)
    # Garbage that happens to spell a header: no format fits, so (as in
    # syzkaller) the header line, cleaned, is the title.
    assert [r.title for r in analyze(b"\x00\xffBUG: \x00\x01\x02")] == ["BUG:"]


def test_non_utf8_bytes_inside_a_report():
    data = EVENTFS_KASAN.encode().replace(b"stress-eventfs/4321", b"stress-\xff\xfe\x80/4321")
    assert titles(data) == [KASAN_TITLE]


def test_crlf_and_lf_read_the_same():
    lf = analyze(PICK_LINK_NULL.encode())[0]
    crlf = analyze(PICK_LINK_NULL.replace("\n", "\r\n").encode())[0]
    assert (crlf.title, crlf.start_line, crlf.end_line) == (lf.title, lf.start_line, lf.end_line)
    assert crlf.frames == lf.frames
    assert "\r" not in crlf.text


def test_without_timestamps():
    bare = _PREFIX.sub("", PICK_LINK_NULL)
    assert titles(bare) == [NULL_TITLE]


def test_syslog_levels_before_timestamps():
    leveled = re.sub(r"^", "<4>", PICK_LINK_NULL, flags=re.MULTILINE)
    assert titles(leveled) == [NULL_TITLE]


def test_caller_tags_without_timestamps_are_not_prefixes():
    # syzkaller reads a caller tag only after a timestamp: without one the
    # line is raw text, its frames are not frames, and the report is corrupted.
    tagged = _PREFIX.sub("[  T812]", PICK_LINK_NULL)
    (r,) = analyze(tagged.encode())
    assert r.corrupted


def test_reports_interleaved_line_by_line_from_two_tasks():
    a = PICK_LINK_NULL.replace("] ", "][  T812] ", 1).splitlines()
    a = [re.sub(r"^(\[ *[\d.]+\])(?!\[)", r"\1[  T812]", ln) for ln in a]
    b = EVENTFS_KASAN.splitlines()
    mixed = [ln for pair in zip(a, b) for ln in pair] + a[len(b):] + b[len(a):]
    got = analyze("\n".join(mixed).encode())
    assert sorted(r.title for r in got) == sorted([NULL_TITLE, KASAN_TITLE])
    assert not any(r.corrupted for r in got)
    kasan = next(r for r in got if r.title == KASAN_TITLE)
    assert "pick_link" not in kasan.text  # the other task's lines stay out


def test_report_cut_short_is_flagged_corrupted():
    cut = "".join(EVENTFS_KASAN.splitlines(keepends=True)[:4])
    (r,) = analyze(cut.encode())
    assert r.title == KASAN_TITLE
    assert r.corrupted and r.corrupted_reason
    # Cut in the middle of a line, without a final newline.
    (r,) = analyze(PICK_LINK_NULL[: PICK_LINK_NULL.index("pick_link") + 4].encode())
    assert r.corrupted


def test_header_split_across_lines_is_corrupted():
    (r,) = analyze(b"[ 1.0] BUG: unable to handle kernel\n[ 1.0] random: crng init done\n")
    assert r.title == "BUG: unable to handle kernel"
    assert r.corrupted


def test_huge_file_streams_and_counts_lines(tmp_path):
    path = tmp_path / "console.log"
    filler = b"[  1.000000] systemd[1]: Started Journal Service with a fairly long line of text.\n"
    per_block = 100_000
    with open(path, "wb") as f:
        for _ in range(3):
            f.write(filler * per_block)  # ~8 MB per block, several scan blocks in all
        f.write(PICK_LINK_NULL.encode())
        f.write(filler * 10)
    (r,) = analyze_file(path)
    assert r.title == NULL_TITLE
    assert r.start_line == 3 * per_block + 1


def test_giant_line_without_newline_then_a_report(tmp_path):
    path = tmp_path / "console.log"
    path.write_bytes(b"x" * (3 << 20) + b"\n" + PICK_LINK_NULL.encode())
    (r,) = analyze_file(path)
    assert r.title == NULL_TITLE
    assert r.start_line == 2


def test_empty_file(tmp_path):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    with pytest.raises(UserError, match="is empty"):
        analyze_file(path)


def test_no_report_in_ordinary_boot_noise():
    noise = b"""\
[    0.000000] Linux version 6.12.117 (gcc 12.2.0) #1 SMP PREEMPT_DYNAMIC
[    1.000000] EXT4-fs (vda): INFO: recovery required on readonly filesystem
[    2.000000] WARNING: The mand mount option has been deprecated and
[    3.000000] ODEBUG: Out of memory. ODEBUG disabled
[    4.000000] xfs: Unknown parameter '  Booting the kernel.  '
"""
    assert analyze(noise) == []


def test_suppressions_hide_or_flag():
    data = EVENTFS_KASAN.encode()
    assert analyze(data, [r"tracing_open_file_tr"]) == []
    assert analyze(data, [re.compile(r"slab-use-after-free")]) == []
    (r,) = analyze(data, [r"tracing_open_file_tr"], include_suppressed=True)
    assert r.suppressed
    assert titles(data) == [KASAN_TITLE]
