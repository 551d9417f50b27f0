"""One result stream, rendered: results.json, junit.xml, KCIDB JSON, the summary table."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness.kbuild.facts import FACTS_NAME
from harness.metrics import run_metrics
from harness.results.junit import write_junit
from harness.results.kcidb import kcidb_document
from harness.results.summary import summary_table
from harness.verdict import RunResult, exit_code


@dataclass
class RunMeta:
    run_id: str
    kernel_source: str
    bzimage: str
    config_path: str = ""
    build_log: str = ""
    build_seconds: float = 0.0
    git_commit: str = ""
    compiler: str = ""
    kernel_release: str = ""
    plan: str = ""  # the plan file the run followed, shown on the page


def write_all(run_dir: Path, results: list[RunResult], meta: RunMeta) -> dict[str, Path]:
    """Write every rendering into run_dir; point results/latest at it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    out = {
        "results": run_dir / "results.json",
        "junit": run_dir / "junit.xml",
        "kcidb": run_dir / "kcidb.json",
    }
    doc = {
        "run_id": meta.run_id,
        "meta": meta.__dict__,
        "exit_code": exit_code(results),
        # "metrics": the scenario's declared key numbers, read out of "counters".
        "results": [dict(r.to_dict(), metrics=run_metrics(r)) for r in results],
    }
    out["results"].write_text(json.dumps(doc, indent=2) + "\n")
    write_junit(out["junit"], results, meta.run_id)
    out["kcidb"].write_text(json.dumps(kcidb_document(results, meta), indent=2) + "\n")
    # What the version facts made of the project's kconfig requests on this
    # tree (kbuild/facts.py: symbols added, features it cannot have), kept
    # beside the build's .config: with the run, it explains a SKIP on 6.1.
    facts = str(Path(meta.config_path).parent / FACTS_NAME) if meta.config_path else ""
    for name, src in (("config", meta.config_path), ("build.log", meta.build_log), (FACTS_NAME, facts)):
        if src and os.path.isfile(src):
            dest = run_dir / name
            dest.unlink(missing_ok=True)
            try:
                os.link(src, dest)
            except OSError:
                dest.write_bytes(Path(src).read_bytes())
    out["page"] = write_page(run_dir, doc)
    latest = run_dir.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name)
    except OSError:
        pass
    return out


def write_page(run_dir: Path, doc: dict) -> Path:
    """index.html, last: every file it links to is written by then."""
    from harness.results.run_page import render_run

    return render_run(run_dir, doc)


__all__ = ["RunMeta", "kcidb_document", "summary_table", "write_all", "write_junit", "write_page"]
