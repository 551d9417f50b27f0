"""Known issues: loading, validation, matching, triage and the closing lines."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from harness import known
from harness.errors import UserError
from harness.kbuild.release import parse_version, release_of
from harness.verdict import ERROR, FAIL, KNOWN, PASS, RunResult, exit_code

EXT4 = known.KernelInfo((6, 12, 57), {"CONFIG_EXT4_FS": "y"})


def write(tmp_path: Path, text: str, name: str = "k.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


ENTRIES = """
issues:
  - id: fshow-uaf
    comment: f_show reads a freed kprobe event
    report_url: mid:bug-1@harness.invalid
    match:
      title: '^KASAN: use-after-free Read in f_show$'
      scenarios: [kprobe-churn]
    kernel: {from: "6.1", to: "6.1"}
  - id: ext4-body
    comment: empty symlink body
    match: {oracle: symlink-inconsistent}
    kernel: {config: CONFIG_EXT4_FS}
"""


def fail(scenario: str, titles=(), oracles=()) -> RunResult:
    return RunResult(scenario, 0, FAIL, titles=list(titles), oracle_failures=list(oracles), message="m")


@pytest.fixture
def issues(tmp_path):
    return known.load([write(tmp_path, ENTRIES)], shipped=False)


def test_title_regex_scenario_and_version(issues):
    r = fail("kprobe-churn", ["KASAN: use-after-free Read in f_show"])
    on61 = known.KernelInfo((6, 1, 192), {})
    t = known.triage(r, issues, on61)
    assert t.verdict == KNOWN and [k["id"] for k in t.known] == ["fshow-uaf"]
    assert t.known[0]["report_url"] == "mid:bug-1@harness.invalid"
    assert "known issue fshow-uaf" in t.message
    # Outside the version range: the entry does not apply.
    assert known.triage(r, issues, known.KernelInfo((6, 12, 57), {})).verdict == FAIL
    # Another scenario: the filter keeps it out.
    assert known.triage(fail("umount-check", r.titles), issues, on61).verdict == FAIL
    # A version that cannot be read never hides a failure.
    assert known.triage(r, issues, known.KernelInfo(None, {})).verdict == FAIL


def test_oracle_name_and_config(issues):
    r = fail("symlink-reclaim-ext4", oracles=["symlink-inconsistent: l5 reached mode 040755 ino 12", "... and 3 more oracle failures"])
    assert known.triage(r, issues, EXT4).verdict == KNOWN
    assert known.triage(r, issues, known.KernelInfo((6, 12), {"CONFIG_EXT4_FS": "n"})).verdict == FAIL
    assert known.triage(r, issues, known.KernelInfo((6, 12), None)).verdict == FAIL


def test_a_new_signature_beside_a_known_one_stays_fail(issues):
    r = fail("symlink-reclaim-ext4", ["BUG: kernel NULL pointer dereference in pick_link"], ["symlink-inconsistent: x"])
    assert known.triage(r, issues, EXT4).verdict == FAIL
    assert known.triage(fail("x", oracles=["spurious-ENOENT: events/kprobes/p3"]), issues, EXT4).verdict == FAIL


def test_only_failures_are_triaged(issues):
    for verdict in (PASS, ERROR):
        r = RunResult("symlink-reclaim-ext4", 0, verdict, oracle_failures=["symlink-inconsistent: x"])
        assert known.triage(r, issues, EXT4).verdict == verdict


def test_known_alone_exits_zero_and_new_fail_exits_one(issues):
    k = known.triage(fail("symlink-reclaim-ext4", oracles=["symlink-inconsistent: x"]), issues, EXT4)
    assert exit_code([k, RunResult("a", 0, PASS)]) == 0
    assert exit_code([k, fail("b", ["WARNING in foo"])]) == 1


def test_closing_lines_and_not_seen(issues):
    k = known.triage(fail("symlink-reclaim-ext4", oracles=["symlink-inconsistent: x"]), issues, EXT4)
    passes = [RunResult("kprobe-churn", i, PASS) for i in range(3)]
    on61 = known.KernelInfo((6, 1, 192), {"CONFIG_EXT4_FS": "y"})
    lines = known.closing_lines([k, *passes], issues, on61)
    assert lines[0] == "1 known failure(s): ext4-body"
    assert "known issue fshow-uaf: not seen in 3 run(s) of kprobe-churn" in lines
    assert not any("ext4-body: not seen" in line for line in lines)


def test_shipped_list_loads_and_covers_the_ext4_finding():
    shipped = known.load()
    assert "ext4-rcu-symlink-empty-body" in {i.id for i in shipped}
    r = fail("symlink-reclaim-ext4", oracles=["symlink-inconsistent: l5 reached mode 040755 ino 12 (the link's own directory)"])
    assert known.triage(r, shipped, EXT4).verdict == KNOWN
    assert known.load(["none"]) == []


@pytest.mark.parametrize(
    "text, key",
    [
        ("issues: {}", "issues"),
        ("[]", "expected a mapping"),
        ("issues:\n  - id: Bad Id\n    comment: c\n    match: {oracle: x}", "issues[0].id"),
        ("issues:\n  - id: a\n    match: {oracle: x}", "issues[0].comment"),
        ("issues:\n  - id: a\n    comment: c\n    match: {title: '(', }", "issues[0].match.title"),
        ("issues:\n  - id: a\n    comment: c\n    match: {title: x, oracle: y}", "issues[0].match"),
        ("issues:\n  - id: a\n    comment: c\n    match: {oracle: x, scenario: y}", "issues[0].match.scenario"),
        ("issues:\n  - id: a\n    comment: c\n    match: {oracle: x}\n    kernel: {from: six}", "issues[0].kernel.from"),
        ("issues:\n  - id: a\n    comment: c\n    match: {oracle: x}\n    kernel: {from: '6.12', to: '6.1'}", "issues[0].kernel"),
        ("issues:\n  - id: a\n    comment: c\n    match: {oracle: x}\n    kernel: {config: EXT4}", "issues[0].kernel.config"),
        ("issues:\n  - id: a\n    comment: c\n    report_url: nope\n    match: {oracle: x}", "issues[0].report_url"),
        ("issues:\n  - id: a\n    comment: c\n    match: {oracle: x}\n  - id: a\n    comment: c\n    match: {oracle: x}", "already defined"),
        ("issues: [\n", "not valid YAML"),
    ],
)
def test_malformed_files_name_file_and_key(tmp_path, text, key):
    p = write(tmp_path, text)
    with pytest.raises(UserError) as e:
        known.load([p], shipped=False)
    assert str(p) in e.value.message and key in e.value.message
    assert "\n" not in str(e.value)


def test_unreadable_inputs(tmp_path):
    raw = tmp_path / "latin1.yaml"
    raw.write_bytes(b"# by J\xf6rg\nissues: []\n")
    for p, what in ((raw, "not UTF-8"), (tmp_path / "missing.yaml", "cannot read"), (tmp_path, "directory")):
        with pytest.raises(UserError, match=what):
            known.load([p], shipped=False)
    with pytest.raises(UserError, match="none"):
        known.load(["none", str(raw)])


def test_unquoted_float_version_is_read(tmp_path):
    p = write(tmp_path, "issues:\n  - id: a\n    comment: c\n    match: {oracle: x}\n    kernel: {from: 6.1, to: 6.12}")
    (issue,) = known.load([p], shipped=False)
    assert issue.low == (6, 1) and issue.high == (6, 12)
    assert issue.applies(known.KernelInfo((6, 12, 99)))
    assert not issue.applies(known.KernelInfo((6, 13, 0)))
    assert not issue.applies(known.KernelInfo((5, 15, 1)))


def fake_bzimage(path: Path, version: bytes) -> Path:
    data = bytearray(0x1000)
    data[0x202:0x206] = b"HdrS"
    ptr = 0x600
    struct.pack_into("<H", data, 0x20E, ptr)
    data[ptr + 0x200: ptr + 0x200 + len(version) + 1] = version + b"\0"
    path.write_bytes(bytes(data))
    return path


def test_version_from_bzimage_header(tmp_path):
    img = fake_bzimage(tmp_path / "bzImage", b"6.1.192 (root@host) #1 SMP PREEMPT_DYNAMIC")
    assert release_of(img) == "6.1.192"
    assert parse_version(release_of(img)) == (6, 1, 192)
    assert release_of(write(tmp_path, "not a kernel", "junk")) is None
    assert release_of(tmp_path / "missing") is None
    assert parse_version("6.12.57+deb13-amd64") == (6, 12, 57)
    assert parse_version("6.13-rc1") == (6, 13)


def test_no_shipped_entry_swallows_a_bug_corpus_signature():
    """make validate must still catch every tests/bugs bug: its signature is never a known issue."""
    from harness.corpus import bugs

    shipped = known.load()
    facts = known.KernelInfo((6, 12, 117), {"CONFIG_EXT4_FS": "y", "CONFIG_XFS_FS": "y"})
    for bug in bugs.all_bugs():
        for kind, sig in bug.signatures:
            text = sig.replace("*", "x")
            signature = f"oracle: {text}: detail" if kind == "oracle" else text
            r = fail(bug.scenario, [signature] if kind == "title" else [], [f"{text}: detail"] if kind == "oracle" else [])
            assert known.triage(r, shipped, facts).verdict == FAIL, (bug.name, signature)


def test_shipped_61_entries_apply_to_61_only():
    shipped = known.load()
    r = fail("kprobe-churn", ["KASAN: use-after-free Read in f_show"])
    assert known.triage(r, shipped, known.KernelInfo((6, 1, 192), {})).known[0]["id"] == "linux-6.1-format-file-uaf"
    # On 6.12 the same title is a new bug (the corpus's eventfs-file-uaf is one): never swallowed there.
    assert known.triage(r, shipped, known.KernelInfo((6, 12, 117), {})).verdict == FAIL
    # Before the 6.1.64 backport that opened the hole, and on another scenario: not this entry.
    assert known.triage(r, shipped, known.KernelInfo((6, 1, 60), {})).verdict == FAIL
    assert known.triage(fail("umount-check", r.titles), shipped, known.KernelInfo((6, 1, 192), {})).verdict == FAIL
