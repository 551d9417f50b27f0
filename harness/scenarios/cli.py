"""``harness scenarios``: list the scenarios, optionally against a .config."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.errors import UserError
from harness.kbuild import facts as version_facts
from harness.scenarios import all_scenarios, features, missing_needs, parse_kconfig


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "scenarios",
        help="list the stress scenarios",
        description="List each scenario: name, default duration, kconfig needs, description.",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="a kernel .config: mark the scenarios whose needs it lacks",
    )
    p.add_argument(
        "--kernel-version",
        metavar="X.Y[.Z]",
        help="mark what each scenario is expected to skip on this kernel version (from "
        "kconfigs/version-facts.yaml; a run asks the booted guest instead)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    p.set_defaults(func=run)


def _load_config(path: str) -> dict[str, str]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read --config {path}: {e.strerror} (want a kernel .config file)") from e
    # A binary or any other file would read as a config with nothing set, and
    # list every scenario as unrunnable instead of saying the file is wrong.
    config = parse_kconfig(data.decode("utf-8", "replace")) if b"\0" not in data else {}
    if not config:
        raise UserError(f"--config {path}: not a kernel .config (no CONFIG_ lines)")
    return config


def run(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    kconfig = _load_config(args.config) if args.config else None
    version = None
    if getattr(args, "kernel_version", None):
        try:
            version = version_facts.parse_version(args.kernel_version)
        except ValueError:
            raise UserError(f"--kernel-version {args.kernel_version!r}: expected a kernel version like 6.1 or 6.12.117") from None
    rows = []
    for s in all_scenarios():
        missing = missing_needs(s, kconfig) if kconfig is not None else []
        rows.append((s, missing))
    if args.json:
        for s, missing in rows:
            record = {
                "name": s.name,
                "program": s.program,
                "duration": s.duration,
                "needs": list(s.needs),
                "features": list(s.features),
                "optional_features": [{"feature": f, "part": part} for f, part in s.optional_features],
                "scratch_disk_mb": s.scratch_disk_mb,
                "description": s.description,
                "metrics": [{"key": m.key, "worse": m.worse, "min_effect": m.min_effect} for m in s.metrics],
                "scaling": [{"op": b.op, "stat": b.stat, "bound": b.bound, "per": b.per} for b in s.scaling],
            }
            if kconfig is not None:
                record["missing"] = missing
            if version is not None:
                g = features.expected(s, version)
                record["expected_skip"], record["expected_notes"] = g.skip, list(g.notes)
            print(json.dumps(record), file=out)
        return 0
    width = max(len(s.name) for s, _ in rows)
    for s, missing in rows:
        needs = ",".join(n.removeprefix("CONFIG_") for n in s.needs) or "-"
        status = ""
        if kconfig is not None:
            status = "  [runnable]" if not missing else "  [needs " + ", ".join(missing) + "]"
        print(f"{s.name:<{width}}  {s.duration:>4}s  {needs}{status}", file=out)
        print(f"{'':<{width}}  {s.description}", file=out)
        if s.features or s.optional_features:
            names = [*s.features, *(f"{f}?" for f, _ in s.optional_features)]
            print(f"{'':<{width}}  run-time features (?: optional): {', '.join(names)}", file=out)
        if version is not None:
            g = features.expected(s, version)
            for line in ([f"SKIP: {g.skip}"] if g.skip else [f"partial: {n}" for n in g.notes]):
                print(f"{'':<{width}}  on {version_facts.show(version)}: {line}", file=out)
        if s.metrics:
            keys = ", ".join(m.key + ("" if m.worse == "higher" else " (lower is worse)") for m in s.metrics)
            print(f"{'':<{width}}  metrics: {keys}", file=out)
        if s.scaling:
            bounds = ", ".join(f"{b.label} <= x{b.bound:g}" for b in s.scaling)
            print(f"{'':<{width}}  scaling: {bounds}", file=out)
    return 0
