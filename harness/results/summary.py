"""The summary table printed at the end of a run: scenario, runs, verdict, title(s), time."""

from __future__ import annotations

from collections import OrderedDict

from harness.verdict import ERROR, FAIL, PASS, SKIP, RunResult

# Worst first: the verdict shown for a scenario with several runs.
_RANK = {ERROR: 0, FAIL: 1, SKIP: 2, PASS: 3}


def summary_table(results: list[RunResult], width: int = 100) -> str:
    groups: "OrderedDict[str, list[RunResult]]" = OrderedDict()
    for r in results:
        groups.setdefault(r.scenario, []).append(r)
    rows = [("scenario", "runs", "verdict", "title(s)", "time")]
    for name, rs in groups.items():
        worst = min(rs, key=lambda r: _RANK.get(r.verdict, 0))
        verdict = worst.verdict + (f"({worst.error_kind})" if worst.verdict == ERROR else "")
        bad = sum(1 for r in rs if r.verdict in (FAIL, ERROR))
        runs = f"{bad}/{len(rs)} bad" if bad else str(len(rs))
        titles = []
        for r in rs:
            # A PASS shows its message only when it says more than "ok": the parts of the
            # scenario this kernel could not run (harness/scenarios/features.py).
            said = r.verdict != PASS or (r.message not in ("", "ok") and not r.set_aside)
            for t in (r.titles or ([r.message] if said else [])) + [f"oracle: {o}" for o in r.oracle_failures]:
                if t not in titles:
                    titles.append(t)
            # Not counted, but never hidden.
            for a in r.set_aside:
                t = "set aside: " + a["title"]
                if t not in titles:
                    titles.append(t)
        seconds = sum(r.duration for r in rs)
        rows.append((name, runs, verdict, "; ".join(titles) or "-", f"{seconds:.0f}s"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    title_w = max(10, min(widths[3], width - sum(widths[:3]) - 14))
    lines = []
    for row in rows:
        title = row[3] if len(row[3]) <= title_w else row[3][: title_w - 1] + "…"
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {title:<{title_w}}  {row[4]:>6}")
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
