"""bisect's page: the answer, then every commit tested with its verdict and runs.

Rendered from bisect.json (harness/bisect/report.py's ``document``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from harness.results import html

PAGE = "index.html"
_ROLE = {"bad-endpoint": "BAD", "good-endpoint": "GOOD"}


@dataclass
class StepView:
    label: str
    s: dict  # the step as bisect.json has it
    hits: int  # runs showing the target signature
    # For a GOOD step: the chance its runs would have shown the target if the
    # commit were bad, 1 - (1 - rate)^runs (bisect/stats.py's factor).
    confidence: float | None = None
    runs: list[dict] = field(default_factory=list)  # each run, with "console_href"


def _hits(step: dict, target: dict) -> int:
    text, kind = target.get("text", ""), target.get("kind", "")
    n = 0
    for r in step.get("runs") or []:
        if r.get("verdict") != "FAIL":
            continue
        if kind == "title":
            n += text in (r.get("titles") or [])
        else:
            n += bool(r.get("oracle_failures")) and (text == "*" or any(
                o.startswith(text + ":") or o == text for o in r.get("oracle_failures") or []))
    return n


def steps(doc: dict, page_dir: Path) -> list[StepView]:
    out, n = [], 0
    for s in doc.get("steps") or []:
        role = s.get("role", "")
        if role in _ROLE:
            label = _ROLE[role]
        else:
            n += 1
            label = str(n)
        runs = [dict(r, console_href=html.link(r.get("log"), page_dir)) for r in s.get("runs") or []]
        view = StepView(label, s, _hits(s, doc.get("target") or {}), runs=runs)
        if s.get("verdict") == "good":
            rate = float(doc.get("reproduction_rate") or 0.0)
            view.confidence = 1.0 - (1.0 - rate) ** int(s.get("completed_runs") or 0)
        out.append(view)
    return out


def render_bisect(out_dir: Path, doc: dict | None = None) -> Path:
    """Write out_dir/index.html for a bisect (``doc``: bisect.json's content; read when None)."""
    out_dir = Path(out_dir)
    if doc is None:
        doc = json.loads((out_dir / "bisect.json").read_text())
    meta = doc.get("bisect") or {}
    target = doc.get("target") or {}
    target_text = target.get("text", "?") if target.get("kind") == "title" else f"oracle: {target.get('text', '?')}"
    files = [(n, html.link(out_dir / n, out_dir)) for n in ("bisect.json", "summary.txt", "bisect.log", "junit.xml")]
    return html.render(
        "bisect.html.j2",
        out_dir / PAGE,
        title=f"bisect {meta.get('id', '')}: {meta.get('scenario', '?')}".strip(),
        d=doc,
        meta=meta,
        target=target_text,
        steps=steps(doc, out_dir),
        verdict="culprit" if doc.get("culprit") else "no single culprit",
        files=[(n, h) for n, h in files if h],
    )
