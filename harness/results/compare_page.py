"""The page of a run-to-run comparison (``harness compare OLD NEW``).

The comparison itself is the caller's (verify's Fisher test, per scenario and
signature); this module only draws its rows. One row per (scenario,
signature), in one of four classes:

- new: seen in NEW, not in OLD (or significantly more often);
- still failing: seen on both sides, and not less often in NEW;
- fixed: seen in OLD, gone (or significantly rarer) in NEW;
- flaky: seen on both sides, the difference not significant.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from harness.paths import safe_name
from harness.results import charts, html

NEW, STILL_FAILING, FIXED, FLAKY = "new", "still failing", "fixed", "flaky"
CLASSES = (NEW, STILL_FAILING, FLAKY, FIXED)  # the order a reader wants them in


@dataclass(frozen=True)
class CompareRow:
    scenario: str
    signature: str  # a report title or "oracle: NAME", as verify compares them
    status: str  # NEW, STILL_FAILING, FIXED or FLAKY
    old: int  # runs in OLD showing it
    old_runs: int  # completed runs of the scenario in OLD
    new: int
    new_runs: int
    p: float | None = None  # Fisher's exact test, OLD against NEW
    known: str = ""  # the known issue's id, when the signature is one

    def __post_init__(self):
        if self.status not in CLASSES:
            raise ValueError(f"CompareRow.status {self.status!r}: one of {', '.join(CLASSES)}")


def _run_page(results: str | Path | None, page_dir: Path) -> str:
    if not results:
        return ""
    return html.link(Path(results) / "index.html", page_dir)


def render_compare(rows: list[CompareRow], out: Path, *, old: str | Path = "", new: str | Path = "",
                   exit_code: int | None = None, notes: list[str] | None = None) -> Path:
    """Write the comparison page to ``out`` (a file path); OLD and NEW are results directories."""
    out = Path(out)
    page_dir = out.parent
    ordered = sorted(rows, key=lambda r: (CLASSES.index(r.status), r.p if r.p is not None else 1.0,
                                          r.scenario, r.signature))
    groups = [(c, [r for r in ordered if r.status == c]) for c in CLASSES]
    chart = charts.count_bars([(f"{r.scenario}: {r.signature}", r.old, r.old_runs, r.new, r.new_runs)
                               for r in ordered], labels=("old", "new"), salt=safe_name(out.stem) + "-cmp")
    worst = next((c for c, rs in groups if rs), "")  # CLASSES runs worst first
    return html.render(
        "compare.html.j2",
        out,
        title=f"compare: {os.path.basename(str(old).rstrip('/')) or 'old'} → {os.path.basename(str(new).rstrip('/')) or 'new'}",
        old=str(old),
        new=str(new),
        old_href=_run_page(old, page_dir),
        new_href=_run_page(new, page_dir),
        groups=groups,
        counts={c: len(rs) for c, rs in groups},
        overall=worst or "no change",
        chart=Markup(chart),
        exit_code=exit_code,
        notes=notes or [],
    )
