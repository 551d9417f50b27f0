"""eventfs-lookup-race's scaling probe on the clean kernel, end to end: a short
run fills events/synthetic to 10, 100 and 2000 events after its stress, times
the lookups at each size, removes every event, and the ratios reach the
results as metrics, within the scenario's bounds."""

import json
import re
import subprocess

from harness.paths import REPO
from harness.scaling import ratio_key
from harness.scenarios import get

HARNESS = str(REPO / ".venv" / "bin" / "harness")


def test_short_run_probes_three_sizes_and_passes(tmp_path):
    out = tmp_path / "results"
    r = subprocess.run([HARNESS, "run", "--results", str(out), "--scenario", "eventfs-lookup-race", "--duration", "15"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (res,) = json.loads((out / "results.json").read_text())["results"]
    assert res["verdict"] == "PASS"
    sc = res["counters"]["scaling"]
    assert sc["kind"] == "synth" and sc["of"] == "events in events/synthetic"
    # The last size is what the budget filled: 2000 unless the host starved the guest.
    n = [p["n"] for p in sc["points"]]
    assert n[:2] == [10, 100] and 1000 <= n[2] <= 2000, n
    assert sc["left"] == 0  # every event the probe made is gone again
    for p in sc["points"]:
        assert p["drops"] is True and p["rounds"] >= 3
        assert all(p[op]["n"] > 0 for op in ("lookup_cold", "lookup_warm", "lookup_miss", "readdir"))
    for b in get("eventfs-lookup-race").scaling:
        assert 0 < res["metrics"][ratio_key(b.op, b.stat)] <= b.bound, b.op
    # Each size's start and end on the console, for the vCPU ledger.
    console = (out / "vms" / "eventfs-lookup-race-0" / "console.log").read_text(errors="replace")
    marks = re.findall(r"eventfs-lookup-race: scaling probe (at \d+ events|done in)", console)
    assert marks == ["at 10 events", "done in", "at 100 events", "done in", f"at {n[2]} events", "done in"]
