"""Kconfig fragments: parse and check them, merge them with the tree's
merge_config.sh, and verify that every requested symbol stuck."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import UserError
from harness.paths import KCONFIGS, cache_dir, digest

DEFAULT_FRAGMENTS = ("base", "kasan", "debug", "tracing", "fsnotify", "peers")

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_VALUE = re.compile(r'^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$')


@dataclass(frozen=True)
class Fragment:
    path: Path
    settings: dict[str, str]  # symbol -> value; "n" for "is not set"


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


def merge(tree: Path, fragments: list[Fragment], progress=print, fingerprint: str = "") -> str:
    """Merged and verified .config text for ``tree``.

    The merge runs in a scratch dir of its own (never the build dir), so the
    build dir's .config is only replaced when the result really changed. With
    the tree's ``fingerprint`` (see build.source_fingerprint) an unchanged tree
    and unchanged fragments reuse the last merge: make allnoconfig alone costs
    seconds, most of a no-change `harness boot`'s overhead.
    """
    script = tree / "scripts" / "kconfig" / "merge_config.sh"
    if not script.is_file():
        raise UserError(f"{tree}: no scripts/kconfig/merge_config.sh; is this a kernel tree?")
    if (tree / ".config").exists():
        raise UserError(
            f"{tree}: the source tree has an in-tree .config; out-of-tree builds need a clean tree"
            " (make mrproper)"
        )
    key = digest(str(tree), *(f.path.read_bytes() for f in fragments))
    scratch = cache_dir() / "kconfig" / key
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch / "merge.log"
    stamp = scratch / "merged-from"
    if fingerprint and stamp.is_file() and stamp.read_text() == fingerprint and (scratch / ".config").is_file():
        return (scratch / ".config").read_text()
    stamp.unlink(missing_ok=True)
    try:
        # -n: start from allnoconfig so only what the fragments ask for is built.
        proc.run(
            ["bash", script, "-n", "-O", scratch, *(f.path for f in fragments)],
            cwd=tree,
            env={"ARCH": "x86_64"},
            timeout=600,
            log=log,
            what="merge_config.sh",
        )
    except proc.ProcessError as e:
        raise UserError(f"kconfig merge failed for {tree}", log=str(log)) from e
    text = (scratch / ".config").read_text()
    bad = mismatches(requested(fragments), parse_config(text))
    if bad:
        shutil.copy(scratch / ".config", scratch / "rejected.config")
        raise UserError(
            "kconfig symbols did not stick (unknown, or their dependencies are not met): "
            + ", ".join(bad),
            log=str(log),
        )
    if fingerprint:
        stamp.write_text(fingerprint)
    return text
