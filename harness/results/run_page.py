"""results/<id>/index.html: one run, for a person.

Built from what the run already wrote (results.json's document, the consoles
under vms/), so it can be rendered again for any old results directory:
``render_run(run_dir)``. The verdicts are the run's; nothing here judges.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from harness.paths import safe_name
from harness.results import charts, html
from harness.results.progress import series as progress_series

PAGE = "index.html"
# Worst first: a scenario's colour is its worst run's.
RANK = ("ERROR", "FAIL", "KNOWN", "SKIP", "PASS")
BEFORE, AFTER, REPORT_LINES = 12, 6, 40  # console excerpt around a report
ERROR_TAIL = 25
REPORT_HEAD = 45
# "[   11.31][   T58] " before a console line: the timestamp and the caller id.
_PRINTK_PREFIX = re.compile(r"^(?:\s*\[[^\]]*\])*\s*")
_END_OF_STACK = re.compile(r"^\s*</TASK>\s*$")
_CONFIG_VERSION = re.compile(r"^# Linux/\S+ (\S+) Kernel Configuration")


@dataclass
class Line:
    no: int  # 1-based line number in its file (0: not from a file)
    text: str
    mark: str = ""  # "" | "report" | "guilty"


@dataclass
class ItemView:
    anchor: str
    r: dict  # the RunResult's dict, as stored
    console_href: str = ""
    json_href: str = ""
    guilty_frame: str = ""
    report: list[Line] = field(default_factory=list)  # the head: title to the end of the main stack
    report_rest: list[Line] = field(default_factory=list)  # allocation/free stacks, memory state...
    excerpt: list[Line] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    chart: Markup = Markup("")
    progress_lines: int = 0
    counters: list[tuple[str, str]] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.r.get("verdict", "")


@dataclass
class ScenarioRow:
    scenario: str
    verdict: str
    error_kind: str
    runs: int
    tally: str  # "2 FAIL, 1 PASS"
    titles: list[str]
    known: list[dict]
    seconds: float
    detected: float | None  # the soonest any run showed its failure, seconds of stress
    anchors: list[tuple[str, str, str]]  # (label, anchor, verdict) per run


def worst(verdicts: list[str]) -> str:
    return min(verdicts, key=lambda v: RANK.index(v) if v in RANK else 0) if verdicts else "SKIP"


def guilty_pattern(frame: str) -> re.Pattern:
    # A frame as printed ("pick_link+0x1a/0x40", "RIP: 0010:pick_link+0x..",
    # symbolized "pick_link fs/namei.c:12"), not a longer name that contains it.
    return re.compile(r"(?<![\w.])" + re.escape(frame) + r"(?=\+0x|\s|$|\.(?:constprop|isra|part|cold))")


def _mark_guilty(lines: list[Line], frame: str, first: int = 1) -> None:
    """Mark the lines that print the guilty frame. A "? " frame is one the
    unwinder only found on the stack, maybe stale: marked only when no
    reliable frame names the function."""
    if not frame:
        return
    pat = guilty_pattern(frame)
    hits = [ln for ln in lines[first:] if pat.search(ln.text)]
    sure = [ln for ln in hits if not _PRINTK_PREFIX.sub("", ln.text).startswith("? ")]
    for ln in sure or hits:
        ln.mark = "guilty"


def mark_report(text: str, frame: str) -> list[Line]:
    out = [Line(0, ln) for ln in text.split("\n")]
    _mark_guilty(out, frame)
    return out


def split_report(lines: list[Line]) -> tuple[list[Line], list[Line]]:
    """The head a person reads first (through the main stack's </TASK>, or
    REPORT_HEAD lines) and the rest, folded."""
    end = next((i + 1 for i, ln in enumerate(lines) if _END_OF_STACK.match(ln.text)), None)
    cut = end if end is not None and end <= 2 * REPORT_HEAD else REPORT_HEAD
    if len(lines) - cut < 5:  # folding a few lines hides more than it saves
        cut = len(lines)
    return lines[:cut], lines[cut:]


def _first_report(r: dict, console: Path | None):
    """The console's report behind the result's first title (the one its message names)."""
    if console is None or not r.get("titles"):
        return None
    from harness.analysis import analyze_file
    from harness.errors import HarnessError

    try:
        reports = analyze_file(console, include_suppressed=True)
    except HarnessError:
        return None
    for rep in reports:
        if rep.title == r["titles"][0]:
            return rep
    return None


def _excerpt(lines: list[str], start: int, end: int, frame: str) -> list[Line]:
    """Lines ``start``..``end`` (1-based, the report) with context, the report's capped."""
    lo = max(1, start - BEFORE)
    hi = min(len(lines), min(end, start + REPORT_LINES) + AFTER)
    out = [Line(no, lines[no - 1], "report" if start <= no <= end else "") for no in range(lo, hi + 1)]
    _mark_guilty(out, frame, first=start - lo + 1)
    return out


def item_view(r: dict, run_dir: Path, items_dir: Path) -> ItemView:
    scenario, index = r.get("scenario", "?"), r.get("index", 0)
    v = ItemView(anchor=f"item-{safe_name(scenario)}-{index}", r=r)
    console = Path(r["console_log"]) if r.get("console_log") else None
    if console is not None and not console.is_absolute():
        console = run_dir / console
    if console is not None and not console.is_file():
        console = None
    v.console_href = html.link(console, run_dir)
    v.json_href = html.link(items_dir / f"{safe_name(scenario)}-{index}.json", run_dir)
    verdict = r.get("verdict", "")
    if verdict in ("FAIL", "KNOWN"):
        rep = _first_report(r, console)
        if rep is not None:
            v.guilty_frame = rep.guilty_frame or ""
            v.excerpt = _excerpt(html.read_lines(console), rep.start_line, rep.end_line, v.guilty_frame)
        elif r.get("titles"):
            from harness.analysis.report import title_frame

            v.guilty_frame = title_frame(r["titles"][0]) or ""
        if r.get("report") and r.get("titles"):
            v.report, v.report_rest = split_report(mark_report(html.clean(r["report"]), v.guilty_frame))
        if not v.excerpt and console is not None:
            # An oracle failure or a guest that went away: how the console ended.
            lines = html.read_lines(console)
            start = max(1, len(lines) - ERROR_TAIL + 1)
            v.excerpt = [Line(start + i, t) for i, t in enumerate(html.tail(lines, ERROR_TAIL))]
    elif verdict == "ERROR":
        detail = r.get("report") or ""
        v.error_lines = html.tail(html.clean(detail).split("\n"), ERROR_TAIL) if detail.strip() else []
        if not v.error_lines:
            v.error_lines = html.tail(html.read_lines(console), ERROR_TAIL)
    p = progress_series(r.get("progress"), r.get("counters"))
    v.progress_lines = p.lines
    if not p.empty:
        v.chart = Markup(charts.progress_chart(p, detection_s=r.get("detection_s"), duration_s=p.duration_s,
                                               salt=v.anchor))
    counters = r.get("counters") or {}
    v.counters = _flat(counters)
    return v


def _flat(counters: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Counters as (name, value) rows; a nested group (a scenario's metrics) as "group.name"."""
    out = []
    for k, val in counters.items():
        if isinstance(val, dict):
            out += _flat(val, f"{prefix}{k}.")
        elif not isinstance(val, list):
            out.append((f"{prefix}{k}", _fmt(val)))
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def scenario_rows(results: list[dict], views: dict[tuple[str, int], ItemView]) -> list[ScenarioRow]:
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(r.get("scenario", "?"), []).append(r)
    rows = []
    for name, rs in groups.items():
        verdicts = [r.get("verdict", "") for r in rs]
        w = worst(verdicts)
        kind = next((r.get("error_kind", "") for r in rs if r.get("verdict") == "ERROR"), "")
        tally = ", ".join(f"{verdicts.count(x)} {x}" for x in RANK if x in verdicts)
        titles: list[str] = []
        known: list[dict] = []
        for r in rs:
            shown = list(r.get("titles") or []) + [f"oracle: {o}" for o in r.get("oracle_failures") or []]
            if not shown and r.get("verdict") in ("ERROR", "SKIP"):
                shown = [r.get("message", "")]
            titles += [t for t in shown if t and t not in titles]
            titles += [f"set aside: {a.get('title', '')}" for a in r.get("set_aside") or []
                       if f"set aside: {a.get('title', '')}" not in titles]
            known += [k for k in r.get("known") or [] if k.get("id") not in {x.get("id") for x in known}]
        anchors = [(f"#{r.get('index', 0)}", views[(name, r.get("index", 0))].anchor, r.get("verdict", ""))
                   for r in rs]
        times = [float(r["detection_s"]) for r in rs if isinstance(r.get("detection_s"), (int, float))]
        rows.append(ScenarioRow(name, w, kind, len(rs), tally, titles, known,
                                sum(float(r.get("duration") or 0) for r in rs), min(times, default=None), anchors))
    return rows


def kernel_facts(meta: dict, run_dir: Path) -> dict:
    config = run_dir / "config"
    version = meta.get("kernel_release", "")
    for ln in html.read_lines(config if config.is_file() else meta.get("config_path"), 4096)[:8]:
        m = _CONFIG_VERSION.match(ln)
        if m and not version:
            version = m.group(1)
    return {
        "source": meta.get("kernel_source", ""),
        "commit": meta.get("git_commit", ""),
        "version": version,
        "config_href": html.link(config, run_dir) or html.link(meta.get("config_path"), run_dir),
        "build_log_href": html.link(run_dir / "build.log", run_dir),
        "build_seconds": meta.get("build_seconds") or 0.0,
        "compiler": meta.get("compiler", ""),
        "bzimage": meta.get("bzimage", ""),
        "plan": meta.get("plan", ""),
    }


def render_run(run_dir: Path, doc: dict | None = None, *, items_dir: Path | None = None,
               title: str = "") -> Path:
    """Write run_dir/index.html from ``doc`` (results.json's content; read when None)."""
    run_dir = Path(run_dir)
    if doc is None:
        doc = json.loads((run_dir / "results.json").read_text())
    results = list(doc.get("results") or [])
    results.sort(key=lambda r: (RANK.index(r.get("verdict")) if r.get("verdict") in RANK else 0,
                                r.get("scenario", ""), r.get("index", 0)))
    items_dir = items_dir or run_dir / "items"
    views = {(r.get("scenario", "?"), r.get("index", 0)): item_view(r, run_dir, items_dir) for r in results}
    verdicts = [r.get("verdict", "") for r in results]
    files = [(name, html.link(run_dir / name, run_dir)) for name in
             ("results.json", "junit.xml", "kcidb.json", "config", "build.log")]
    return html.render(
        "run.html.j2",
        run_dir / PAGE,
        title=title or f"run {doc.get('run_id', run_dir.name)}",
        run_id=doc.get("run_id", run_dir.name),
        exit_code=doc.get("exit_code"),
        overall=worst(verdicts) if verdicts else "SKIP",
        tally=", ".join(f"{verdicts.count(x)} {x}" for x in RANK if x in verdicts) or "no runs",
        kernel=kernel_facts(doc.get("meta") or {}, run_dir),
        rows=scenario_rows(results, views),
        items=list(views.values()),
        files=[(n, h) for n, h in files if h],
    )
