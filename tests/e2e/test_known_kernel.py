"""Known issues on a real run: the crash-on-purpose panic declared known is KNOWN,
exits 0, is skipped in junit and an incident in KCIDB valid under kcidb-io; the
same crash with the lists off is FAIL; compare of the two names nothing new."""

import json
import subprocess
import xml.etree.ElementTree as ET

import kcidb_io

from harness.paths import REPO

HARNESS = str(REPO / ".venv" / "bin" / "harness")

KNOWN = """issues:
  - id: selftest-sysrq-panic
    comment: the self-test's own crash, declared known for this test
    report_url: mid:selftest@harness.invalid
    match:
      title: '^kernel panic: sysrq triggered crash$'
      scenarios: [selftest-crash]
    kernel: {from: "6.1", config: CONFIG_MAGIC_SYSRQ}
"""


def harness(*args):
    return subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=1800)


def test_known_crash_is_known_and_exits_zero(tmp_path):
    known = tmp_path / "known.yaml"
    known.write_text(KNOWN)
    out = tmp_path / "known-run"
    r = harness("run", "--results", str(out), "--scenario", "selftest-crash", "--duration", "5", "--known", str(known))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (res,) = json.loads((out / "results.json").read_text())["results"]
    assert res["verdict"] == "KNOWN" and res["known"][0]["id"] == "selftest-sysrq-panic"
    assert "KNOWN(selftest-sysrq-panic)" in r.stdout and "1 known failure(s): selftest-sysrq-panic" in r.stdout
    case = next(ET.parse(out / "junit.xml").getroot().iter("testcase"))
    assert case.find("skipped").get("message") == "known issue selftest-sysrq-panic: kernel panic: sysrq triggered crash"
    doc = json.loads((out / "kcidb.json").read_text())
    kcidb_io.schema.LATEST.validate(doc)
    assert doc["tests"][0]["status"] == "FAIL"
    assert doc["incidents"][0]["issue_id"] == "harness:selftest-sysrq-panic"

    # The lists off: the same crash is a FAIL again.
    plain = tmp_path / "plain-run"
    r = harness("run", "--results", str(plain), "--scenario", "selftest-crash", "--duration", "5", "--known", "none")
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]

    # Two runs of the same kernel: still failing, nothing new.
    r = harness("compare", str(out), str(plain), "--known", str(known))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "still failing" in r.stdout and (plain / "compare.html").is_file() and "[known: selftest-sysrq-panic]" in r.stdout
    assert "compare: no new signature" in r.stdout
