"""The bar: syzkaller's own report corpus, titled as syzkaller titles it.

Reads ../shared/corpus/syzkaller-reports (header of expected results, a blank
line, then the raw log); skips when the corpus is not there. Figures are
over all files: crash/no-crash agreement, exact first-report title, and the
first report's corrupted flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.analysis import analyze

from analysis_goref import shared

CORPUS = shared("corpus", "syzkaller-reports")

CRASH_BAR = 0.995
TITLE_BAR = 0.99
CORRUPTED_BAR = 0.97


@dataclass
class Figures:
    files: int = 0
    crash: int = 0
    title: int = 0
    corrupted: int = 0
    misses: list[str] = field(default_factory=list)

    def ratio(self, n: int) -> float:
        return n / self.files


def parse_case(path: Path) -> tuple[dict[str, list[str]], bytes]:
    head, _, log = path.read_bytes().partition(b"\n\n")
    meta: dict[str, list[str]] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta.setdefault(key.strip(), []).append(value.strip())
    return meta, log


@pytest.fixture(scope="module")
def figures() -> Figures:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    f = Figures()
    for path in sorted(CORPUS.iterdir(), key=lambda p: (len(p.name), p.name)):
        meta, log = parse_case(path)
        want = (meta.get("TITLE") or [""])[0]
        reports = analyze(log)
        got = reports[0] if reports else None
        f.files += 1
        f.crash += bool(want) == bool(got)
        f.title += (got.title if got else "") == want
        f.corrupted += ("Y" in meta.get("CORRUPTED", [])) == bool(got and got.corrupted)
        if (got.title if got else "") != want:
            f.misses.append(f"{path.name}: want {want!r} got {got.title if got else ''!r}")
    print(
        f"\ncorpus {f.files} logs: crash {f.ratio(f.crash):.2%}, title {f.ratio(f.title):.2%}, "
        f"corrupted {f.ratio(f.corrupted):.2%}"
    )
    return f


def test_corpus_is_complete(figures):
    assert figures.files >= 370


def test_crash_agreement(figures):
    assert figures.ratio(figures.crash) >= CRASH_BAR


def test_exact_title_match(figures):
    assert figures.ratio(figures.title) >= TITLE_BAR, "\n".join(figures.misses)


def test_corrupted_flag_agreement(figures):
    assert figures.ratio(figures.corrupted) >= CORRUPTED_BAR
