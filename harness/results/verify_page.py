"""verify's page: baseline against patched, signature by signature.

Rendered from verify.json (harness/verify/report.py's ``to_json``) and the
runs' own result files under <run_dir>/<side>/items/, so the page never
holds numbers the JSON does not: it draws them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from harness.paths import safe_name
from harness.results import charts, html

PAGE = "index.html"
SIDES = ("baseline", "patched")


@dataclass
class RunLink:
    side: str
    scenario: str
    index: int
    verdict: str
    error_kind: str
    message: str
    detection_s: float | None
    console_href: str
    json_href: str


def side_runs(run_dir: Path) -> list[RunLink]:
    out = []
    for side in SIDES:
        for p in sorted((run_dir / side / "items").glob("*.json")):
            try:
                r = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            out.append(RunLink(
                side, r.get("scenario", "?"), r.get("index", 0), r.get("verdict", ""), r.get("error_kind", ""),
                r.get("message", ""), r.get("detection_s"), html.link(r.get("console_log"), run_dir),
                html.link(p, run_dir),
            ))
    out.sort(key=lambda x: (x.scenario, x.index, SIDES.index(x.side)))
    return out


def row_change(row: dict) -> str:
    return row.get("change") or "unchanged"


def render_verify(run_dir: Path, doc: dict | None = None) -> Path:
    """Write run_dir/index.html for a verify (``doc``: verify.json's content; read when None)."""
    run_dir = Path(run_dir)
    if doc is None:
        doc = json.loads((run_dir / "verify.json").read_text())
    rows = list(doc.get("rows") or [])
    bars = charts.count_bars(
        [(f"{r.get('scenario', '')}: {r.get('signature', '')}", r.get("baseline", 0), r.get("baseline_runs", 0),
          r.get("patched", 0), r.get("patched_runs", 0)) for r in rows],
        salt=safe_name(run_dir.name) + "-bars",
    )
    patches = len(doc.get("patches") or [])
    files = [(n, html.link(run_dir / n, run_dir)) for n in ("verify.json", "report.txt", "junit.xml")]
    return html.render(
        "verify.html.j2",
        run_dir / PAGE,
        title=f"verify: {patches} patch{'es' * (patches != 1)} on {doc.get('kernel', '?')}",
        d=doc,
        verdict=doc.get("verdict", "error"),
        rows=rows,
        change=row_change,
        chart=Markup(bars),
        boot=doc.get("boot") or {},
        runs=side_runs(run_dir),
        files=[(n, h) for n, h in files if h],
    )
