"""`harness analyze`: the CLI contract of issue 3."""

from __future__ import annotations

import json

from harness.cli import main
from test_analysis_seed import DENTRY_IN_USE, PICK_LINK_NULL


def test_json_one_line_per_log_in_order(tmp_path, capsys):
    a, b, c = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "c.log"
    a.write_text(PICK_LINK_NULL)
    b.write_text("[ 1.0] nothing to see\n")
    c.write_text(DENTRY_IN_USE)
    assert main(["analyze", "--json", str(a), str(b), str(c)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    docs = [json.loads(ln) for ln in lines]
    assert [d["file"] for d in docs] == [str(a), str(b), str(c)]
    assert docs[1]["reports"] == []
    (r,) = docs[0]["reports"]
    assert r["title"] == "BUG: unable to handle kernel NULL pointer dereference in pick_link"
    assert r["type"] == "NULL-POINTER-DEREFERENCE"
    assert r["corrupted"] is False
    assert r["frames"][:2] == ["pick_link", "step_into"]
    assert (r["start_line"], r["end_line"]) == (1, 31)
    assert [x["title"] for x in docs[2]["reports"]] == [
        "BUG: Dentry still in use in unmount",
        "WARNING in umount_check",
        "VFS: Busy inodes after unmount (use-after-free)",
    ]


def test_readable_listing(tmp_path, capsys):
    log = tmp_path / "console.log"
    log.write_text(PICK_LINK_NULL)
    assert main(["analyze", str(log)]) == 1  # a report was found
    out = capsys.readouterr().out
    assert "1 report" in out
    assert "lines 1-31: BUG: unable to handle kernel NULL pointer dereference in pick_link" in out


def test_unreadable_log_is_one_line_and_exit_2(tmp_path, capsys):
    good = tmp_path / "good.log"
    good.write_text(PICK_LINK_NULL)
    missing = tmp_path / "missing.log"
    assert main(["analyze", "--json", str(good), str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # checked before any output
    (line,) = captured.err.strip().splitlines()
    assert str(missing) in line and "Traceback" not in captured.err
    assert main(["analyze", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_suppressions_file(tmp_path, capsys):
    log = tmp_path / "console.log"
    log.write_text(PICK_LINK_NULL + DENTRY_IN_USE)
    supp = tmp_path / "supp.yaml"
    supp.write_text("# known noise\n- 'BUG: Dentry .* still in use'\n")
    assert main(["analyze", "--json", "--suppressions", str(supp), str(log)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in doc["reports"]] == [
        "BUG: unable to handle kernel NULL pointer dereference in pick_link",
        "WARNING in umount_check",
        "VFS: Busy inodes after unmount (use-after-free)",
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- '(unclosed'\n")
    assert main(["analyze", "--suppressions", str(bad), str(log)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "suppressions[0]" in err


def test_missing_vmlinux_is_a_user_error(tmp_path, capsys):
    log = tmp_path / "console.log"
    log.write_text(PICK_LINK_NULL)
    assert main(["analyze", "--vmlinux", str(tmp_path / "vmlinux"), str(log)]) == 2
    assert "vmlinux" in capsys.readouterr().err


def test_lockup_of_a_starved_vcpu_is_marked_set_aside_from_vcpu_tsv(tmp_path, capsys):
    from pathlib import Path

    data = (Path(__file__).parent.parent / "data" / "consoles" / "starved-soft-lockup.log").read_bytes()
    log = tmp_path / "console.log"
    log.write_bytes(data)
    start = data.index(b"[   66.063573]")
    rows = ["# host_monotonic_s\tconsole_bytes\tvcpu=cpu_seconds[/runqueue_wait_seconds] ..."]
    for t in range(32):  # vCPU 0 gets nothing from t=24 until the report is out at t=30
        rows.append(f"{t}.00\t{start if t < 30 else len(data)}\t0={min(t, 24) * 0.5:.2f} 1={t * 0.5:.2f}")
    (tmp_path / "vcpu.tsv").write_text("\n".join(rows) + "\n")
    # A report set aside is not counted: exit 0.
    assert main(["analyze", "--json", str(log)]) == 0
    (r,) = json.loads(capsys.readouterr().out)["reports"]
    assert r["title"] == "BUG: soft lockup in inotify_read" and "the host starved it" in r["set_aside"]
    assert main(["analyze", str(log)]) == 0
    assert "set aside: vCPU 0 ran 0.0 s of the 5.0 s" in capsys.readouterr().out
    (tmp_path / "vcpu.tsv").unlink()  # without the host's record, the report stands
    assert main(["analyze", "--json", str(log)]) == 1
    assert json.loads(capsys.readouterr().out)["reports"][0]["set_aside"] == ""
