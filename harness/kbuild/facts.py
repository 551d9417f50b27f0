"""Version facts: how the project's kconfig requests fit trees other than 6.12.

The facts are data (kconfigs/version-facts.yaml); this module reads them,
finds a tree's version in its Makefile, and turns the project's requests
into what this tree can do: extra symbols a request needs here (MODULES for
KPROBES before 6.10) and requests it cannot meet (USER_EVENTS before 6.4),
which become the kernel's missing capabilities, stored beside the build as
kernel-facts.json for the run to show.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from harness.kbuild import release
from harness.kbuild.release import Version
from harness.errors import UserError
from harness.paths import KCONFIGS

FACTS_FILE = KCONFIGS / "version-facts.yaml"
FACTS_NAME = "kernel-facts.json"  # beside the build's .config

def parse_version(text: str) -> Version:
    """'6.1.192' or '6.10' -> (6, 1, 192) / (6, 10); anything after the numbers is ignored."""
    v = release.parse_version(str(text))
    if v is None:
        raise ValueError(f"not a kernel version: {text!r}")
    return v


def show(v: Version | None) -> str:
    return ".".join(map(str, v)) if v else "unknown"


def tree_version(tree: Path) -> Version | None:
    """VERSION.PATCHLEVEL.SUBLEVEL from the tree's top Makefile; None when it has none (a fake tree)."""
    try:
        head = (tree / "Makefile").read_text(errors="replace")[:2000]
    except OSError:
        return None
    parts = []
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"^{key}\s*=\s*(\d+)\s*$", head, re.M)
        if not m:
            return tuple(parts) if len(parts) >= 2 else None
        parts.append(int(m.group(1)))
    return tuple(parts)


@dataclass(frozen=True)
class Fact:
    symbol: str  # CONFIG_X, or a run-time feature name for feature rows
    since: Version | None  # applies from this version on (None: from the start)
    before: Version | None  # up to, not including, this one (None: to today)
    why: str
    needs: tuple[tuple[str, str], ...] = ()
    unavailable: str = ""

    def applies(self, v: Version | None) -> bool:
        if v is None:  # no version known: assume the newest kernel, to which no old fact applies
            return self.before is None
        return (self.since is None or v >= self.since) and (self.before is None or v < self.before)


@dataclass(frozen=True)
class Facts:
    symbols: tuple[Fact, ...]
    features: tuple[Fact, ...]


def _fail(key: str, msg: str) -> UserError:
    return UserError(f"{FACTS_FILE}: {key}: {msg}")


def _row(i: int, row: object, kind: str) -> Fact:
    key = f"{kind}[{i}]"
    if not isinstance(row, dict):
        raise _fail(key, "expected a mapping")
    name = row.get("symbol" if kind == "facts" else "feature")
    if not isinstance(name, str) or (kind == "facts" and not name.startswith("CONFIG_")):
        raise _fail(key, f"{'symbol: CONFIG_NAME' if kind == 'facts' else 'feature: NAME'} is required")
    why = row.get("why")
    if not isinstance(why, str) or not why.strip():
        raise _fail(f"{key} ({name})", "every fact says why (why: ...)")
    try:
        since = parse_version(row["from"]) if "from" in row else None
        before = parse_version(row["before"]) if "before" in row else None
        first = parse_version(row["first"]) if "first" in row else None
    except ValueError as e:
        raise _fail(f"{key} ({name})", str(e)) from None
    actions = [k for k in ("needs", "unavailable", "first") if k in row]
    if len(actions) != 1:
        raise _fail(f"{key} ({name})", "needs exactly one of needs:, unavailable:, first:")
    if first is not None:
        return Fact(name, since, first, " ".join(why.split()), unavailable=f"not in this kernel (first in v{show(first)})")
    needs = row.get("needs")
    if "needs" in row and (
        not isinstance(needs, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in needs.items())
    ):
        raise _fail(f"{key} ({name}).needs", 'expected {CONFIG_X: "y"}')
    return Fact(
        name,
        since,
        before,
        " ".join(why.split()),
        needs=tuple(sorted((needs or {}).items())),
        unavailable=str(row.get("unavailable") or ""),
    )


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Facts:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"{path}: cannot read the version facts: {e}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with facts: and features:")
    out = {}
    for kind in ("facts", "features"):
        rows = data.get(kind) or []
        if not isinstance(rows, list):
            raise UserError(f"{path}: {kind}: expected a list")
        out[kind] = tuple(_row(i, r, kind) for i, r in enumerate(rows))
    return Facts(out["facts"], out["features"])


def load(path: Path = FACTS_FILE) -> Facts:
    return _load(path, path.stat().st_mtime_ns if path.exists() else 0)


@dataclass
class KernelFacts:
    """What the merge made of the project's requests on one tree: stored beside the build."""

    version: str = "unknown"
    # Requests changed to fit the tree: {symbol, value, instead_of, why}.
    resolved: list[dict[str, str]] = field(default_factory=list)
    # Requests this kernel cannot meet: {symbol, why}. The run shows them; scenarios that
    # need them skip.
    missing: list[dict[str, str]] = field(default_factory=list)

    def missing_reason(self, symbol: str) -> str:
        return next((m["why"] for m in self.missing if m["symbol"] == symbol), "")

    def lines(self) -> list[str]:
        """The build log's account of what was changed or dropped, one line each."""
        out = [
            f"kconfig: {self.version}: {r['symbol']}={r['value']} instead of {r['instead_of']}: {r['why']}"
            for r in self.resolved
        ]
        out += [f"kconfig: {self.version}: {m['symbol']} not set, a missing capability: {m['why']}" for m in self.missing]
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "KernelFacts":
        d = json.loads(text)
        return cls(str(d.get("version", "unknown")), list(d.get("resolved") or []), list(d.get("missing") or []))


def fit(want: dict[str, str], version: Version | None, facts: Facts | None = None) -> tuple[dict[str, str], KernelFacts]:
    """The project's requests made to fit a tree of ``version``.

    Returns the requests to merge (extra symbols added, impossible ones
    dropped) and the account of what changed. Only requests to set a symbol
    (not "is not set") are ever resolved: asking for a symbol to be off is
    met by a tree that lacks it.
    """
    facts = facts or load()
    out = dict(want)
    kf = KernelFacts(show(version))
    for fact in facts.symbols:
        if not fact.applies(version) or want.get(fact.symbol, "n") == "n":
            continue
        if fact.unavailable:
            out.pop(fact.symbol, None)
            kf.missing.append({"symbol": fact.symbol, "why": f"{fact.unavailable} before v{show(fact.before)}: {fact.why}"
                               if fact.before else f"{fact.unavailable}: {fact.why}"})
            continue
        for sym, value in fact.needs:
            if out.get(sym, "n") != value:
                kf.resolved.append(
                    {"symbol": sym, "value": value, "instead_of": out.get(sym, "n"),
                     "why": f"{fact.symbol} needs it before v{show(fact.before)}: {fact.why}"}
                )
                out[sym] = value
    return out, kf


def explain(symbol: str, version: Version | None, facts: Facts | None = None) -> str:
    """What the facts say about ``symbol`` on this version ('' when nothing)."""
    facts = facts or load()
    for fact in facts.symbols:
        if fact.symbol == symbol and fact.applies(version):
            if fact.unavailable:
                return f"{fact.unavailable} on {show(version)}"
            return f"needs {', '.join(f'{s}={v}' for s, v in fact.needs)} on {show(version)}"
    return ""


def feature_first(feature: str, facts: Facts | None = None) -> Fact | None:
    facts = facts or load()
    return next((f for f in facts.features if f.symbol == feature), None)


def read(config_path: Path | None) -> KernelFacts | None:
    """The facts stored beside a build's .config, or None (a prebuilt kernel, an older build)."""
    if config_path is None:
        return None
    p = Path(config_path).parent / FACTS_NAME
    try:
        return KernelFacts.from_json(p.read_text())
    except (OSError, ValueError):
        return None


def store(build_dir: Path, kf: KernelFacts) -> None:
    """Write kernel-facts.json beside the build's .config (only when it changed)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    p = build_dir / FACTS_NAME
    text = kf.to_json()
    if not p.is_file() or p.read_text() != text:
        tmp = p.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(p)
