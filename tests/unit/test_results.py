import json
import xml.etree.ElementTree as ET

import kcidb_io

from harness.results import RunMeta, summary_table, write_all
from harness.results.text import clean
from harness.verdict import ERROR, FAIL, KNOWN, PASS, SKIP, RunResult, exit_code


def sample():
    return [
        RunResult("kprobe-churn", 0, PASS, duration=61.5, message="ok"),
        RunResult(
            "symlink-reclaim", 0, FAIL, titles=["BUG: unable to handle kernel NULL pointer dereference in pick_link"],
            message="BUG: unable to handle kernel NULL pointer dereference in pick_link",
            report="BUG: kernel NULL pointer dereference\x1b[0m\x00\nRIP: 0010:0x0\n" + "x" * 100000, duration=70,
        ),
        RunResult("umount-check", 0, ERROR, error_kind="boot", message="no ready marker within 300s"),
        RunResult("negdentry-inotify", 0, SKIP, message="needs CONFIG_INOTIFY_USER"),
        RunResult("eventfs-lookup-race", 0, FAIL, oracle_failures=["ENOENT for existing events/kprobes/p0"], message="oracle: x"),
    ]


def test_exit_codes_follow_the_taxonomy():
    assert exit_code([RunResult("a", 0, PASS), RunResult("b", 0, SKIP)]) == 0
    assert exit_code([RunResult("a", 0, PASS), RunResult("b", 0, FAIL)]) == 1
    assert exit_code([RunResult("a", 0, FAIL), RunResult("b", 0, ERROR, error_kind="boot")]) == 3
    assert exit_code([RunResult("a", 0, ERROR, error_kind="user")]) == 2


def test_clean_strips_control_bytes_and_caps():
    out = clean("a\x00b\x1bc\r\nd" + "y" * 200, limit=50)
    assert "\x00" not in out and "\x1b" not in out and "\r" not in out and "characters, cut" in out and len(out) <= 50


def test_write_all_renders_junit_json_and_valid_kcidb(tmp_path):
    run_dir = tmp_path / "results" / "run1"
    files = write_all(run_dir, sample(), RunMeta("run1", "/src/linux", "/b/bzImage", compiler="gcc 12"))
    root = ET.parse(files["junit"]).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    fail = cases["symlink-reclaim#0"].find("failure")
    assert fail.get("message") == "BUG: unable to handle kernel NULL pointer dereference in pick_link"
    assert "RIP: 0010:0x0" in fail.text and len(fail.text) < 70000
    assert cases["umount-check#0"].find("error").get("message").startswith("boot error")
    assert cases["negdentry-inotify#0"].find("skipped") is not None
    doc = json.loads(files["kcidb"].read_text())
    kcidb_io.schema.LATEST.validate(doc)
    assert [t["status"] for t in doc["tests"]] == ["PASS", "FAIL", "ERROR", "SKIP", "FAIL"]
    data = json.loads(files["results"].read_text())
    assert data["exit_code"] == 3 and len(data["results"]) == 5
    assert (tmp_path / "results" / "latest").resolve() == run_dir.resolve()


def test_write_all_keeps_the_builds_config_and_kernel_facts_and_the_commit(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / ".config").write_text("CONFIG_KASAN=y\n")
    (build / "kernel-facts.json").write_text('{"version": "6.1.192"}')
    commit = "0123456789abcdef0123456789abcdef01234567"
    run_dir = tmp_path / "results" / "run3"
    files = write_all(run_dir, sample(), RunMeta("run3", "/src/linux", "/b/bzImage", config_path=str(build / ".config"),
                                                 git_commit=commit))
    assert (run_dir / "config").read_text() == "CONFIG_KASAN=y\n"
    assert json.loads((run_dir / "kernel-facts.json").read_text()) == {"version": "6.1.192"}
    assert json.loads(files["results"].read_text())["meta"]["git_commit"] == commit
    (checkout,) = json.loads(files["kcidb"].read_text())["checkouts"]
    assert checkout["git_commit_hash"] == commit


def test_summary_table_lists_worst_verdict_and_titles():
    table = summary_table(sample() + [RunResult("kprobe-churn", 1, FAIL, titles=["WARNING in eventfs_x"], message="w")])
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["scenario", "runs", "verdict"]
    row = next(l for l in lines if l.startswith("kprobe-churn"))
    assert "1/2 bad" in row and "FAIL" in row and "WARNING in eventfs_x" in row
    assert "ERROR(boot)" in next(l for l in lines if l.startswith("umount-check"))


def test_summary_table_shows_set_aside_reports_on_a_passing_row():
    r = RunResult("negdentry-inotify", 0, PASS, message="ok (1 report(s) set aside: ...)",
                  set_aside=[{"title": "BUG: soft lockup in inotify_read",
                              "why": "vCPU 0 ran 0.0 s of the 5.0 s ...: the host starved it"}])
    row = next(l for l in summary_table([r]).splitlines() if l.startswith("negdentry-inotify"))
    assert "PASS" in row and "set aside: BUG: soft lockup in inotify_read" in row and "vCPU" not in row


def _known_run(index: int = 0) -> RunResult:
    return RunResult("symlink-reclaim-ext4", index, KNOWN, oracle_failures=["symlink-inconsistent: l5 ..."],
                     message="known issue ext4-rcu-symlink-empty-body: oracle: symlink-inconsistent: l5 ...",
                     known=[{"id": "ext4-rcu-symlink-empty-body", "comment": "empty body",
                             "report_url": "mid:x@y", "source": "known-issues.yaml"}])


def test_known_run_is_junit_skipped_and_a_kcidb_incident(tmp_path):
    results = [_known_run(), RunResult("umount-check", 0, PASS, message="ok")]
    files = write_all(tmp_path / "r" / "run2", results, RunMeta("run2", "/src/linux", "/b/bzImage"))
    root = ET.parse(files["junit"]).getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "symlink-reclaim-ext4#0")
    skipped = case.find("skipped")
    assert skipped is not None and case.find("failure") is None
    assert skipped.get("message").startswith("known issue ext4-rcu-symlink-empty-body: oracle: symlink-inconsistent")
    doc = json.loads(files["kcidb"].read_text())
    kcidb_io.schema.LATEST.validate(doc)
    assert [t["status"] for t in doc["tests"]] == ["FAIL", "PASS"]
    (issue,) = doc["issues"]
    (incident,) = doc["incidents"]
    assert issue["id"] == "harness:ext4-rcu-symlink-empty-body" and issue["report_url"] == "mid:x@y"
    assert incident["issue_id"] == issue["id"] and incident["test_id"] == doc["tests"][0]["id"] and incident["present"]
    assert json.loads(files["results"].read_text())["exit_code"] == 0


def test_summary_marks_known_rows_with_their_ids_and_reproduction():
    flaky = RunResult("kprobe-churn", 0, FAIL, titles=["WARNING in eventfs_x"], message="w", reproduced="1/3: flaky")
    table = summary_table([_known_run(0), _known_run(1), flaky])
    row = next(l for l in table.splitlines() if l.startswith("symlink-reclaim-ext4"))
    assert "KNOWN(ext4-rcu-symlink-empty-body)" in row and "2/2 known" in row
    row = next(l for l in table.splitlines() if l.startswith("kprobe-churn"))
    assert "reproduced 1/3: flaky" in row and "FAIL" in row
