"""`harness verify` end to end on the default (Debian) kernel, the issue's bar:

- each bug-corpus patch on the clean tree -> regression, with the bug's expected signature;
- the reverse patch on a tree with the bug applied -> fixes;
- a docs-only patch -> no-change, with no signature introduced or fixed.

Slow (each verify builds a patched kernel and boots 2 x runs guests; the
first one also copies the tree and builds it through ccache), so skipped
unless HARNESS_SLOW=1. HARNESS_VERIFY_RUNS sets the runs per side for the
bug tests (default 5: the fewest at which 5-of-5 vs 0-of-5 is significant).
Select one bug with -k, e.g. ``-k eventfs-negative-dentry``.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.paths import REPO, cache_dir
from harness.verify.compare import ANY_FAILURE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("HARNESS_SLOW") != "1", reason="slow: builds kernels and boots guests; set HARNESS_SLOW=1"),
]

HARNESS = str(REPO / ".venv" / "bin" / "harness")
RUNS = os.environ.get("HARNESS_VERIFY_RUNS", "5")
TIMEOUT = 4 * 3600  # a cold copy build of a KASAN kernel on 2 cores is most of that


def _bugs():
    try:
        from harness.corpus.bugs import all_bugs
    except ImportError:
        return []
    return all_bugs()


def _bug_params():
    bugs = _bugs() if os.environ.get("HARNESS_SLOW") == "1" else []
    return [pytest.param(b, id=b.name) for b in bugs] or [pytest.param(None, id="no-bug-corpus")]


def verify(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    r = subprocess.run([HARNESS, "verify", "--json", *args], capture_output=True, text=True, timeout=TIMEOUT)
    assert r.stdout.lstrip().startswith("{"), f"exit {r.returncode}, no JSON; stderr tail:\n{r.stderr[-3000:]}"
    return r, json.loads(r.stdout)


def expected(bug, row: dict) -> bool:
    """Whether a verify row carries one of the bug's expected signatures (in its scenario)."""
    sig = row["signature"]
    if sig.startswith("oracle: "):
        name = sig[len("oracle: "):]
        return any(kind == "oracle" and name == want for kind, want in bug.signatures)
    return bug.matches("title", sig)


@pytest.fixture(scope="module")
def clean_tree() -> Path:
    from harness.kbuild.source import debian_source

    return debian_source(progress=print)


def bugged_tree(clean: Path, bug) -> Path:
    """The clean tree with the bug applied, kept two levels under the cache (ccache hits, reused)."""
    from harness.verify import patches
    from harness.verify.tree_copy import TreeCopy

    copy = TreeCopy(clean, root=cache_dir() / f"e2e-bug-{bug.name}")
    with copy.locked(print):
        copy.sync(print)
        loaded = patches.load([bug.path], copy.path.parent / f"{copy.path.name}.patches", progress=print)
        copy.mark_dirty(patches.touched(loaded))
        patches.apply(loaded, copy.path, clean, print)
    return copy.path


def reverse_patch(clean: Path, bugged: Path, files: tuple[str, ...], out: Path) -> Path:
    chunks = []
    for f in files:
        old = (bugged / f).read_text() if (bugged / f).exists() else ""
        new = (clean / f).read_text() if (clean / f).exists() else ""
        a = f"a/{f}" if (bugged / f).exists() else "/dev/null"
        b = f"b/{f}" if (clean / f).exists() else "/dev/null"
        chunks.append("".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), a, b)))
    out.write_text("".join(chunks))
    return out


@pytest.mark.parametrize("bug", _bug_params())
def test_bug_patch_is_a_regression_and_its_revert_fixes(bug, clean_tree, tmp_path):
    if bug is None:
        pytest.skip("no bug corpus (harness.corpus.bugs / tests/bugs)")
    from harness.corpus.bugs import check_applies

    check_applies(bug, clean_tree)

    r, doc = verify("--patch", str(bug.path), "--scenario", bug.scenario, "--runs", RUNS,
                    "--results", str(tmp_path / "regression"))
    assert doc["verdict"] == "regression", json.dumps(doc, indent=2)[-4000:]
    assert r.returncode == 1
    hits = [row for row in doc["introduced"] if row["scenario"] == bug.scenario and expected(bug, row)]
    assert hits, f"no introduced row matches {bug.signatures}: {doc['introduced']}"

    bugged = bugged_tree(clean_tree, bug)
    revert = reverse_patch(clean_tree, bugged, bug.files, tmp_path / f"revert-{bug.name}.patch")
    r, doc = verify("--kernel", str(bugged), "--patch", str(revert), "--scenario", bug.scenario,
                    "--runs", RUNS, "--results", str(tmp_path / "fixes"))
    assert doc["verdict"] == "fixes", json.dumps(doc, indent=2)[-4000:]
    assert r.returncode == 0 and doc["introduced"] == []
    # What went away is the bug: its signature fixed, or (a bug showing under
    # several titles) runs failing at all, with its signatures gone on patched.
    fixed = [row for row in doc["fixed"] if row["scenario"] == bug.scenario]
    assert any(expected(bug, row) for row in fixed) or (
        any(row["signature"] == ANY_FAILURE for row in fixed)
        and any(expected(bug, row) and row["baseline"] > 0 and row["patched"] == 0 for row in doc["rows"])
    ), doc["fixed"]


def test_docs_only_patch_is_no_change(clean_tree, tmp_path):
    rel = "Documentation/filesystems/vfs.rst"
    old = (clean_tree / rel).read_text()
    new = old + "\nNegative dentries are cached too; see d_delete().\n"
    patch = tmp_path / "docs-only.patch"
    patch.write_text("".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{rel}", f"b/{rel}")))
    # Default sizing and every scenario of the plan: the whole-verify budget is part of the bar.
    r, doc = verify("--patch", str(patch), "--results", str(tmp_path / "docs"))
    assert doc["verdict"] == "no-change", json.dumps(doc, indent=2)[-4000:]
    assert r.returncode == 0
    assert doc["introduced"] == [] and doc["fixed"] == []
    assert doc["checkpatch"]["summary"]
