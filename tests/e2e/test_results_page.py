"""The results pages in a real browser: a real run's page and a verify page over
real runs, rendered by headless Chromium (Debian's, installed by `make check`).

The DOM Chromium built is checked (summary rows, verdict classes, links that
open the console files), and a screenshot of each page is kept beside its
results: results/e2e-results-page/{run,verify}/index.png.

The run is `harness run -s kprobe-churn -s selftest-crash -d 20` on the
default kernel: a PASS and a real kernel report (the crash on purpose), so
the page has both colours, a guilty frame to mark and a signature for the
verify page's bars. Set HARNESS_PAGE_RUN to an existing results directory of
a real run to reuse it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.analysis import analyze_file
from harness.paths import REPO, results_dir
from harness.results.run_page import render_run

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
import pagedom  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
HARNESS = str(REPO / ".venv" / "bin" / "harness")
OUT = results_dir() / "e2e-results-page"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASS_BG = (0xE3, 0xF4, 0xE8)  # --pass-bg in base.html.j2: a PASS badge was painted with the page's CSS

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="chromium is not installed (make check installs it)")


def chromium(*args: str, timeout: int = 120) -> str:
    """One headless Chromium call with a fresh profile; its stdout."""
    profile = tempfile.mkdtemp(prefix="h-chromium-")
    try:
        r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def dom_of(url: str) -> pagedom.El:
    return pagedom.parse(chromium("--dump-dom", url))


def screenshot(page: Path, height: int = 2200) -> Path:
    png = page.with_suffix(".png")
    png.unlink(missing_ok=True)
    chromium(f"--screenshot={png}", f"--window-size=1280,{height}", page.as_uri())
    return png


def painted(png: Path, rgb: tuple[int, int, int]) -> int:
    """How many pixels of the screenshot have this colour."""
    from PIL import Image

    with Image.open(png) as im:
        return sum(n for n, c in im.convert("RGB").getcolors(1 << 20) or [] if c == rgb)


@pytest.fixture(scope="module")
def real_run() -> Path:
    reuse = os.environ.get("HARNESS_PAGE_RUN")
    if reuse:
        src = Path(reuse)
        assert (src / "results.json").is_file(), f"HARNESS_PAGE_RUN={reuse}: no results.json"
        return src
    run = OUT / "run"
    shutil.rmtree(run, ignore_errors=True)
    r = subprocess.run([HARNESS, "run", "--scenario", "kprobe-churn", "--scenario", "selftest-crash",
                        "--duration", "20", "--results", str(run)], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]  # the crash on purpose is a FAIL
    # The run's last line names its page.
    assert r.stdout.strip().splitlines()[-1] == f"page: {run / 'index.html'}"
    return run


def test_run_page_in_chromium(real_run):
    page = render_run(real_run)  # this code's page, also for a reused directory
    doc = json.loads((real_run / "results.json").read_text())
    dom = dom_of(page.as_uri())
    rows = [tr for tr in dom.by_id("summary").find_all("tr") if "data-verdict" in tr.attrs]
    scenarios = {r["scenario"] for r in doc["results"]}
    assert len(rows) == len(scenarios)
    for tr in rows:
        v = tr.attrs["data-verdict"]
        assert tr.find_all("span", cls=f"v-{v.lower()}"), f"no {v} badge in {tr.text!r}"
    items = dom.find_all("section", cls="item")
    assert len(items) == len(doc["results"])
    facts = [e for e in dom.by_id("kernel").find_all() if e.tag in ("dt", "dd")]
    version = next(dd for dt, dd in zip(facts, facts[1:]) if dt.tag == "dt" and dt.text == "version")
    assert version.text.startswith("6."), version.text  # read from the run's own .config
    consoles = [a.attrs["href"] for a in dom.find_all("a", cls="console-link")]
    assert consoles and len(consoles) == sum(1 for r in doc["results"] if r.get("console_log") and Path(r["console_log"]).is_file())
    for href in consoles:
        # The link works where a person clicks it: Chromium opens the console file.
        text = dom_of((page.parent / href).resolve().as_uri()).text
        assert "Linux version" in text
    for a in dom.find_all("a", cls="json-link"):
        assert json.loads((page.parent / a.attrs["href"]).read_text())["scenario"] in scenarios
    for r in doc["results"]:
        if r["verdict"] != "FAIL" or not r["titles"]:
            continue
        item = dom.by_id(f"item-{r['scenario']}-{r['index']}")
        assert item.find_all("span", cls="v-fail")
        # The console around the report, its lines marked; the guilty frame when the analysis names one.
        assert item.find_all("span", cls="report")
        (rep,) = [x for x in analyze_file(r["console_log"]) if x.title == r["titles"][0]][:1]
        if rep.guilty_frame:
            (code,) = item.find_all("code", cls="guilty-frame")
            assert code.text == rep.guilty_frame and item.find_all("span", cls="guilty")
    png = screenshot(page, 1000 + 900 * len(doc["results"]))
    assert png.stat().st_size > 20_000
    if any(r["verdict"] == "PASS" for r in doc["results"]):
        assert painted(png, PASS_BG) > 100
    print(f"\nrun page screenshot: {png}", file=sys.__stderr__)


def test_verify_page_in_chromium(real_run):
    """verify's own writer (report.write_all) over the real run on both sides:
    no patch, so no change, and every run links its real console."""
    from harness import scenarios
    from harness.verdict import RunResult
    from harness.verify import report
    from harness.verify.budget import choose
    from harness.verify.checkpatch import Checkpatch
    from harness.verify.compare import compare
    from harness.verify.core import Outcome, Request

    results = [RunResult.from_dict(r) for r in json.loads((real_run / "results.json").read_text())["results"]]
    d = OUT / "verify"
    shutil.rmtree(d, ignore_errors=True)
    for side in ("baseline", "patched"):
        (d / side / "items").mkdir(parents=True)
        for r in results:
            (d / side / "items" / f"{r.scenario}-{r.index}.json").write_text(json.dumps(r.to_dict()))
    chosen = [scenarios.get(n) for n in dict.fromkeys(r.scenario for r in results)]
    req = Request(kernel=None, patches=[], scenarios=chosen, sizing=choose(chosen, runs=1, workers=1), run_dir=d)
    outcome = Outcome(req, Path(results[0].kernel or "default"), [], Checkpatch(False, "no patch"),
                      compare(results, results), {"baseline": results, "patched": results})
    page = report.write_all(outcome)["page"]
    dom = dom_of(page.as_uri())
    header_badge = dom.find_all("header")[0].find_all("span", cls="badge")[0]
    assert header_badge.text.strip() == outcome.comparison.verdict
    assert f"v-{outcome.comparison.verdict}" in header_badge.classes
    sig_rows = dom.find_all("tr", cls="sig-row")
    assert len(sig_rows) == len(outcome.comparison.rows)
    assert all(r.attrs["data-change"] == "unchanged" for r in sig_rows)  # the same runs on both sides
    if sig_rows:  # the bars, drawn by the browser from the inline SVG
        (svg,) = dom.by_id("signatures").find_all("svg", cls="chart")
        assert sig_rows[0].find_all("td")[-1].text.strip() in " ".join(t.text for t in svg.find_all("text"))
    runs = dom.find_all("tr", cls="run-row")
    assert len(runs) == 2 * len(results)
    links = [a for tr in runs for a in tr.find_all("a", cls="console-link")]
    assert len(links) == 2 * sum(1 for r in results if r.console_log and Path(r.console_log).is_file())
    for a in links:
        assert "Linux version" in dom_of((page.parent / a.attrs["href"]).resolve().as_uri()).text
    png = screenshot(page, 1400)
    assert png.stat().st_size > 20_000
    print(f"\nverify page screenshot: {png}", file=sys.__stderr__)
