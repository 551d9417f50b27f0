"""Kconfig fragments: parse and check them, merge them with the tree's
merge_config.sh, and verify that every requested symbol stuck."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import UserError
from harness.kbuild import facts
from harness.paths import KCONFIGS, cache_dir, digest

DEFAULT_FRAGMENTS = ("base", "kasan", "debug", "tracing", "fsnotify", "peers")

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_VALUE = re.compile(r'^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$')


@dataclass(frozen=True)
class Fragment:
    path: Path
    settings: dict[str, str]  # symbol -> value; "n" for "is not set"

    @property
    def project(self) -> bool:
        """One of the project's own fragments (requests with reasons), not a user's."""
        return self.path.resolve().parent == KCONFIGS.resolve()


@dataclass(frozen=True)
class Merged:
    text: str  # the verified .config
    facts: facts.KernelFacts  # what was changed or dropped to fit this tree


def parse_config(text: str) -> dict[str, str]:
    """A .config (or fragment) as symbol -> value, "n" for '# ... is not set'."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _SET.match(line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(line)
        if m:
            out[m.group(1)] = "n"
    return out


def load_fragment(spec: str | Path) -> Fragment:
    """A fragment by name (kconfigs/NAME.config) or by path, with every line checked."""
    path = Path(spec)
    if not path.suffix and not path.exists():
        path = KCONFIGS / f"{spec}.config"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in KCONFIGS.glob("*.config")))
        raise UserError(f"kconfig fragment {spec}: no such file (known: {known})")
    settings: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = _UNSET.match(line)
        if m:
            settings[m.group(1)] = "n"
            continue
        if line.startswith("#"):
            continue
        m = _SET.match(line)
        if not m or not _VALUE.match(m.group(2)):
            raise UserError(
                f"{path}:{lineno}: not a kconfig line: {raw.strip()!r}"
                " (expected CONFIG_NAME=y|m|n|number|\"string\" or '# CONFIG_NAME is not set')"
            )
        settings[m.group(1)] = m.group(2)
    return Fragment(path, settings)


def requested(fragments: list[Fragment]) -> dict[str, str]:
    """What the fragments ask for, later fragments overriding earlier ones (as merge_config does)."""
    want: dict[str, str] = {}
    for frag in fragments:
        want.update(frag.settings)
    return want


def mismatches(want: dict[str, str], have: dict[str, str]) -> list[str]:
    """Requested symbols whose final value differs, as 'CONFIG_X (wanted y, got n)'."""
    bad = []
    for sym, value in want.items():
        got = have.get(sym, "n")
        if got != value:
            bad.append(f"{sym} (wanted {value}, got {'unset' if sym not in have else got})")
    return bad


def _fit_fragment(scratch: Path, kf: facts.KernelFacts) -> Fragment | None:
    """The symbols the version facts add, as a fragment merged after the project's own."""
    if not kf.resolved:
        return None
    path = scratch / "version-fit.config"
    lines = ["# Written by the harness: what this tree needs for the project's requests (version-facts.yaml)."]
    for r in kf.resolved:
        lines += [f"# {r['why']}", f"{r['symbol']}={r['value']}" if r["value"] != "n" else f"# {r['symbol']} is not set"]
    path.write_text("\n".join(lines) + "\n")
    return load_fragment(path)


def merge(tree: Path, fragments: list[Fragment], progress=print, fingerprint: str = "") -> Merged:
    """Merged and verified .config text for ``tree``, fitted to its version.

    The merge runs in a scratch dir of its own (never the build dir), so the
    build dir's .config is only replaced when the result really changed. With
    the tree's ``fingerprint`` (see build.source_fingerprint) an unchanged tree
    and unchanged fragments reuse the last merge: make allnoconfig alone costs
    seconds, most of a no-change `harness boot`'s overhead.

    The project's fragments are requests: where the version facts say a
    request needs more on this tree, that is added (and said); where one
    cannot be met, or does not stick for a reason no fact names, it becomes
    a missing capability of this kernel. A symbol from a user's own fragment
    that does not stick is a user error.
    """
    script = tree / "scripts" / "kconfig" / "merge_config.sh"
    if not script.is_file():
        raise UserError(f"{tree}: no scripts/kconfig/merge_config.sh; is this a kernel tree?")
    if (tree / ".config").exists():
        raise UserError(
            f"{tree}: the source tree has an in-tree .config; out-of-tree builds need a clean tree"
            " (make mrproper)"
        )
    key = digest(str(tree), facts.FACTS_FILE.read_bytes(), *(f.path.read_bytes() for f in fragments))
    scratch = cache_dir() / "kconfig" / key
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "merge.log"
    stamp = scratch / "merged-from"
    facts_file = scratch / facts.FACTS_NAME
    if (
        fingerprint
        and stamp.is_file()
        and stamp.read_text() == fingerprint
        and (scratch / ".config").is_file()
        and facts_file.is_file()
    ):
        kf = facts.KernelFacts.from_json(facts_file.read_text())
        for line in kf.lines():
            progress(line)
        return Merged((scratch / ".config").read_text(), kf)
    stamp.unlink(missing_ok=True)
    version = facts.tree_version(tree)
    project = [f for f in fragments if f.project]
    users = [f for f in fragments if not f.project]
    wanted, kf = facts.fit(requested(project), version)
    fit = _fit_fragment(scratch, kf)
    order = project + ([fit] if fit else []) + users
    try:
        # -n: start from allnoconfig so only what the fragments ask for is built.
        proc.run(
            ["bash", script, "-n", "-O", scratch, *(f.path for f in order)],
            cwd=tree,
            env={"ARCH": "x86_64"},
            timeout=600,
            log=log,
            what="merge_config.sh",
        )
    except proc.ProcessError as e:
        raise UserError(f"kconfig merge failed for {tree}", log=str(log)) from e
    text = (scratch / ".config").read_text()
    have = parse_config(text)
    user_want = requested(users)
    wanted.update(user_want)
    bad_user = []
    for sym in [s for s, _ in _mismatched(wanted, have)]:
        why = facts.explain(sym, version)
        if sym in user_want:
            bad_user.append(mismatches({sym: wanted[sym]}, have)[0] + (f": {why}" if why else ""))
        elif not any(m["symbol"] == sym for m in kf.missing):
            kf.missing.append({
                "symbol": sym,
                "why": why or f"did not stick on {facts.show(version)} (unknown there, or its dependencies are"
                f" not met; no version fact explains it: see {log})",
            })
    if bad_user:
        shutil.copy(scratch / ".config", scratch / "rejected.config")
        raise UserError(
            "kconfig symbols did not stick (unknown, or their dependencies are not met): " + ", ".join(bad_user),
            log=str(log),
        )
    with open(log, "a") as f:
        f.write("".join(line + "\n" for line in kf.lines()))
    for line in kf.lines():
        progress(line)
    facts_file.write_text(kf.to_json())
    if fingerprint:
        stamp.write_text(fingerprint)
    return Merged(text, kf)


def _mismatched(want: dict[str, str], have: dict[str, str]) -> list[tuple[str, str]]:
    return [(sym, value) for sym, value in want.items() if have.get(sym, "n") != value]
