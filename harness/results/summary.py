"""The summary table printed at the end of a run: scenario, runs, verdict, title(s), time."""

from __future__ import annotations

from collections import OrderedDict

from harness.verdict import RunResult, Verdict, signatures

# Worst first: the verdict shown for a scenario with several runs.
RANK = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.KNOWN: 2, Verdict.SKIP: 3, Verdict.PASS: 4}
# Verdicts counted as bad runs in the "runs" column.
BAD = frozenset({Verdict.FAIL, Verdict.ERROR})


def summary_table(results: list[RunResult], width: int = 120) -> str:
    groups: "OrderedDict[str, list[RunResult]]" = OrderedDict()
    for r in results:
        groups.setdefault(r.scenario, []).append(r)
    rows = [("scenario", "runs", "verdict", "title(s)", "time")]
    for name, rs in groups.items():
        worst = min(rs, key=lambda r: RANK.get(r.verdict, 0))
        verdict = worst.verdict_text
        if worst.verdict == Verdict.KNOWN:
            verdict += "(" + ", ".join(dict.fromkeys(k["id"] for r in rs for k in r.known)) + ")"
        bad = sum(1 for r in rs if r.verdict in BAD)
        known = sum(1 for r in rs if r.verdict == Verdict.KNOWN)
        runs = ", ".join(filter(None, (f"{bad}/{len(rs)} bad" if bad else "", f"{known}/{len(rs)} known" if known else "")))
        runs = runs or str(len(rs))
        reproduced = [r.reproduced for r in rs if r.reproduced]
        titles = []
        for r in rs:
            # A PASS shows its message only when it says more than "ok": the parts of the
            # scenario this kernel could not run (harness/scenarios/features.py).
            said = r.verdict != Verdict.PASS or (r.message not in ("", "ok") and not r.set_aside)
            for t in signatures(r.titles or ([r.message] if said else []), r.oracle_failures):
                if t not in titles:
                    titles.append(t)
            # Not counted, but never hidden.
            for a in r.set_aside:
                t = "set aside: " + a["title"]
                if t not in titles:
                    titles.append(t)
        if reproduced:
            titles.insert(0, "reproduced " + ", ".join(reproduced))
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
