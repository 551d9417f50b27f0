"""The regression runner end to end: a PASS on the clean kernel, a FAIL with the
expected title when the guest crashes on purpose, and results CI can read."""

import json
import subprocess
import xml.etree.ElementTree as ET

from harness.paths import REPO

HARNESS = str(REPO / ".venv" / "bin" / "harness")


def harness_run(tmp_path, *args):
    out = tmp_path / "results"
    r = subprocess.run([HARNESS, "run", "--results", str(out), *args], capture_output=True, text=True, timeout=1800)
    return r, out


def test_short_scenario_passes_on_the_clean_kernel(tmp_path):
    r, out = harness_run(tmp_path, "--scenario", "negdentry-inotify", "--duration", "15")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = json.loads((out / "results.json").read_text())
    (res,) = data["results"]
    assert res["verdict"] == "PASS" and res["counters"]["ok"] is True
    assert (out / "vms" / "negdentry-inotify-0" / "console.log").stat().st_size > 0
    assert "negdentry-inotify" in r.stdout and "PASS" in r.stdout  # the summary table


def test_guest_crash_on_purpose_fails_with_the_panic_title(tmp_path):
    r, out = harness_run(tmp_path, "--scenario", "selftest-crash", "--duration", "5")
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
    (res,) = json.loads((out / "results.json").read_text())["results"]
    assert res["verdict"] == "FAIL"
    assert res["titles"][0] == "kernel panic: sysrq triggered crash"
    case = next(ET.parse(out / "junit.xml").getroot().iter("testcase"))
    assert case.find("failure").get("message") == "kernel panic: sysrq triggered crash"
    kcidb = json.loads((out / "kcidb.json").read_text())
    assert kcidb["tests"][0]["status"] == "FAIL"
