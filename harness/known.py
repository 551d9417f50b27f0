"""Known issues: kernel bugs already found, so a run tells a new failure from a known one.

A known-issue file is YAML (the project ships known-issues.yaml; users add
theirs with --known, a plan's ``known_issues:`` or ``make test KNOWN=``):

    issues:
      - id: ext4-rcu-symlink-empty-body      # [a-z0-9._-], unique over all files
        comment: one or two lines: what the bug is, where the evidence is
        report_url: mid:<Message-ID>          # optional: the report, as a URI; a mailing-list
                                             # report by its Message-ID (RFC 2392)
        match:
          oracle: symlink-inconsistent       # an oracle's name, or
          # title: '^KASAN: use-after-free Read in f_show$'   a report-title regex
          scenarios: [symlink-reclaim-ext4]  # optional: only these scenarios
        kernel:                              # optional: where it applies
          from: "6.1"                        # inclusive
          to: "6.12"                         # inclusive, on the parts given: 6.12.x
          config: CONFIG_EXT4_FS             # optional: only kernels with it set

A FAIL whose every signature matches an entry that applies to the kernel is
KNOWN (KernelCI's issue + incident, syzbot's "merged into an open bug"). One
signature no entry matches keeps it a FAIL: a known bug never hides a new one.
An entry whose version range or config cannot be checked (no version in the
image, no .config) does not apply: a failure is never hidden by a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from harness.errors import UserError
from harness.kbuild.release import Version, parse_version
from harness.paths import REPO
from harness.verdict import FAIL, KNOWN, PASS, RunResult, oracle_key
from harness import yamlfile

SHIPPED = REPO / "known-issues.yaml"
NONE = "none"  # --known none: no list at all, not even the shipped one
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TOP_KEYS = {"issues"}
ENTRY_KEYS = {"id", "comment", "report_url", "match", "kernel"}
MATCH_KEYS = {"title", "oracle", "scenarios"}
KERNEL_KEYS = {"from", "to", "config"}


@dataclass(frozen=True)
class KernelInfo:
    """What an entry's ``kernel:`` is checked against."""

    version: Version | None = None
    config: dict[str, str] | None = None


@dataclass(frozen=True)
class KnownIssue:
    id: str
    comment: str
    source: Path
    title: re.Pattern | None = None
    oracle: str | None = None
    scenarios: tuple[str, ...] = ()
    low: Version | None = None
    high: Version | None = None
    config: str | None = None
    report_url: str = ""

    def applies(self, kernel: KernelInfo) -> bool:
        if self.low is not None or self.high is not None:
            if kernel.version is None:
                return False
            if self.low is not None and kernel.version[: len(self.low)] < self.low:
                return False
            if self.high is not None and kernel.version[: len(self.high)] > self.high:
                return False
        if self.config is not None:
            if kernel.config is None or kernel.config.get(self.config) not in ("y", "m"):
                return False
        return True

    def covers(self, scenario: str) -> bool:
        return not self.scenarios or scenario in self.scenarios

    def matches(self, scenario: str, signature: str) -> bool:
        """``signature`` as RunResult.signatures gives it: a title, or "oracle: <failure>"."""
        if not self.covers(scenario):
            return False
        if signature.startswith("oracle: "):
            return self.oracle is not None and oracle_key(signature[len("oracle: "):]) == self.oracle
        return self.title is not None and self.title.search(signature) is not None

    def to_json(self) -> dict:
        """What a result carries of the entry it matched."""
        return {"id": self.id, "comment": self.comment, "report_url": self.report_url, "source": str(self.source)}


def _version(path: Path, key: str, value) -> Version:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # an unquoted 6.1 in YAML is a float
    v = parse_version(value) if isinstance(value, str) else None
    if v is None or (isinstance(value, str) and not re.fullmatch(r"\d+(\.\d+){0,2}", value.strip())):
        raise yamlfile.bad(path, key, f"expected a kernel version like \"6.1\" or \"6.12.57\", got {value!r}")
    return v


def _entry(path: Path, key: str, raw) -> KnownIssue:
    if not isinstance(raw, dict):
        raise yamlfile.bad(path, key, "expected a mapping with id, comment and match")
    yamlfile.unknown_keys(path, f"{key}.", raw.keys(), ENTRY_KEYS)
    ident = yamlfile.nonempty_str(path, f"{key}.id", raw.get("id"))
    if not _ID.match(ident):
        raise yamlfile.bad(path, f"{key}.id", f"{ident!r}: use lower-case letters, digits, '.', '_' and '-'")
    comment = yamlfile.nonempty_str(path, f"{key}.comment", raw.get("comment"))
    url = raw.get("report_url", "")
    # Any URI (KCIDB's report_url is one); a mailing-list thread is named by its
    # Message-ID (mid:, RFC 2392), which needs no host to mean something here.
    if url and (not isinstance(url, str) or not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", url)):
        raise yamlfile.bad(path, f"{key}.report_url", f"expected a URI such as mid:<Message-ID>, got {url!r}")
    match = raw.get("match")
    if not isinstance(match, dict):
        raise yamlfile.bad(path, f"{key}.match", "expected a mapping with 'title' (a regex) or 'oracle' (a name)")
    yamlfile.unknown_keys(path, f"{key}.match.", match.keys(), MATCH_KEYS)
    if ("title" in match) == ("oracle" in match):
        raise yamlfile.bad(path, f"{key}.match", "give exactly one of 'title' (a report-title regex) or 'oracle'")
    title = None
    if "title" in match:
        rx = yamlfile.nonempty_str(path, f"{key}.match.title", match["title"])
        try:
            title = re.compile(rx)
        except re.error as e:
            raise yamlfile.bad(path, f"{key}.match.title", f"bad regex: {e}") from e
    oracle = None
    if "oracle" in match:
        oracle = yamlfile.nonempty_str(path, f"{key}.match.oracle", match["oracle"]).strip()
    scenarios = yamlfile.str_list(path, f"{key}.match.scenarios", match.get("scenarios"))
    kernel = raw.get("kernel") or {}
    if not isinstance(kernel, dict):
        raise yamlfile.bad(path, f"{key}.kernel", "expected a mapping with from, to, config")
    yamlfile.unknown_keys(path, f"{key}.kernel.", kernel.keys(), KERNEL_KEYS)
    low = _version(path, f"{key}.kernel.from", kernel["from"]) if "from" in kernel else None
    high = _version(path, f"{key}.kernel.to", kernel["to"]) if "to" in kernel else None
    if low is not None and high is not None and high < low[: len(high)]:
        raise yamlfile.bad(path, f"{key}.kernel", f"'to' ({kernel['to']}) is before 'from' ({kernel['from']})")
    config = None
    if "config" in kernel:
        config = yamlfile.nonempty_str(path, f"{key}.kernel.config", kernel["config"])
        if not re.fullmatch(r"CONFIG_[A-Z0-9_]+", config):
            raise yamlfile.bad(path, f"{key}.kernel.config", f"expected a symbol like CONFIG_EXT4_FS, got {config!r}")
    return KnownIssue(ident, comment.strip(), path, title, oracle, scenarios, low, high, config, url)


def load_file(path: Path) -> list[KnownIssue]:
    data = yamlfile.read(path, "known-issue file")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with an 'issues' list at the top")
    yamlfile.unknown_keys(path, "", data.keys(), TOP_KEYS)
    raw = data.get("issues")
    if not isinstance(raw, list):
        raise yamlfile.bad(path, "issues", "expected a list of entries")
    return [_entry(path, f"issues[{i}]", e) for i, e in enumerate(raw)]


def load(paths: Iterable[str | Path] = (), *, shipped: bool = True) -> list[KnownIssue]:
    """The shipped list (unless ``shipped`` is False) and every file given, in order.

    A path of "none" turns every list off, the shipped one included.
    """
    paths = [str(p) for p in paths]
    if NONE in paths:
        if len(paths) > 1:
            raise UserError(f"--known {NONE} turns the known-issue lists off; it cannot go with other files")
        return []
    files = ([SHIPPED] if shipped and SHIPPED.is_file() else []) + [Path(p) for p in paths]
    out: list[KnownIssue] = []
    where: dict[str, Path] = {}
    for f in dict.fromkeys(files):
        for issue in load_file(f):
            if issue.id in where:
                raise UserError(f"{f}: known issue {issue.id!r} is already defined in {where[issue.id]}")
            where[issue.id] = f
            out.append(issue)
    return out


def _signatures(result: RunResult) -> list[str]:
    # "... and N more oracle failures" is a count, not a signature.
    return [s for s in result.signatures if not (s.startswith("oracle: ") and not oracle_key(s[len("oracle: "):]))]


def match_result(result: RunResult, issues: list[KnownIssue]) -> list[KnownIssue] | None:
    """The entries that explain every signature of a FAIL, or None if any is new."""
    sigs = _signatures(result)
    if result.verdict != FAIL or not sigs:
        return None
    found: dict[str, KnownIssue] = {}
    for sig in sigs:
        hit = next((i for i in issues if i.matches(result.scenario, sig)), None)
        if hit is None:
            return None
        found.setdefault(hit.id, hit)
    return list(found.values())


def triage(result: RunResult, issues: list[KnownIssue], kernel: KernelInfo) -> RunResult:
    """``result`` as KNOWN when every signature of its FAIL is a known issue of this kernel."""
    hits = match_result(result, [i for i in issues if i.applies(kernel)])
    if hits is None:
        return result
    ids = ", ".join(i.id for i in hits)
    return replace(result, verdict=KNOWN, known=[i.to_json() for i in hits], message=f"known issue {ids}: {result.message}")


def known_signature(scenario: str, signature: str, issues: list[KnownIssue], kernel: KernelInfo | None = None) -> str:
    """The id of the entry that matches a signature (verify's and bisect's tables), or ""."""
    for i in issues:
        if (kernel is None or i.applies(kernel)) and i.matches(scenario, signature):
            return i.id
    return ""


@dataclass
class Seen:
    """Per applicable entry, in how many runs of its scenarios it showed."""

    issue: KnownIssue
    runs: int = 0
    hits: int = 0
    scenarios: set[str] = field(default_factory=set)


def sightings(results: list[RunResult], issues: list[KnownIssue], kernel: KernelInfo) -> list[Seen]:
    """Every entry that applies to this kernel and covers a scenario that completed a run."""
    out = []
    for issue in issues:
        if not issue.applies(kernel):
            continue
        s = Seen(issue)
        for r in results:
            if r.verdict not in (PASS, FAIL, KNOWN) or not issue.covers(r.scenario):
                continue
            s.runs += 1
            s.scenarios.add(r.scenario)
            if any(k.get("id") == issue.id for k in r.known) or (
                r.verdict == FAIL and any(issue.matches(r.scenario, sig) for sig in _signatures(r))
            ):
                s.hits += 1
        if s.runs:
            out.append(s)
    return out


def closing_lines(results: list[RunResult], issues: list[KnownIssue], kernel: KernelInfo) -> list[str]:
    """The last lines of a run: the known failures by id, and known issues that did not show."""
    lines = []
    known = [r for r in results if r.verdict == KNOWN]
    if known:
        ids = dict.fromkeys(k["id"] for r in known for k in r.known)
        lines.append(f"{len(known)} known failure(s): {', '.join(ids)}")
    for s in sightings(results, issues, kernel):
        if s.hits == 0:
            lines.append(f"known issue {s.issue.id}: not seen in {s.runs} run(s) of {', '.join(sorted(s.scenarios))}")
    return lines
