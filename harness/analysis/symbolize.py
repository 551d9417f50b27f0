"""Symbolization: report frames -> file:line with vmlinux, inlined frames marked.

Frames print as ``func+0xoff/0xsize``, which survives KASLR: the symbol's
address comes from ``nm`` on vmlinux, plus the offset. Return addresses
(every trace frame but a RIP/PC line) point after the call, so one byte is
taken off to land on the calling line, as decode_stacktrace.sh does. One
``addr2line -f -i -a`` run resolves all addresses; its inline chains become
frames marked ``[inline]``. Processes run through ``harness.proc.run`` only.

Titles are not recomputed: a report keeps the title it had unsymbolized, so
runs with and without vmlinux name the same bug the same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.analysis.frames import RIP_FRAME_RE as RIP_FRAME
from harness.analysis.report import Report, SymFrame
from harness.errors import InfraError, UserError

# "foo+0x1a/0x40" with an optional "[module]" after it; module frames are not in vmlinux.
_FRAME = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\+0x([0-9a-f]+)/0x([0-9a-f]+)(\s+\[\w+\])?")
_TIMEOUT = 300.0


@dataclass(frozen=True)
class _Symbol:
    addr: int
    size: int


_symtab_cache: dict[tuple[str, float], dict[str, list[_Symbol]]] = {}


def _symbols(vmlinux: Path) -> dict[str, list[_Symbol]]:
    key = (str(vmlinux.resolve()), vmlinux.stat().st_mtime)
    table = _symtab_cache.get(key)
    if table is not None:
        return table
    try:
        res = proc.run(["nm", "-S", "--defined-only", vmlinux], timeout=_TIMEOUT, what="nm")
    except proc.ProcessError as e:
        if e.result.returncode == 127:
            raise InfraError("nm is not installed (binutils); it is needed to symbolize") from e
        raise UserError(f"--vmlinux {vmlinux}: nm cannot read it: {e.result.stderr.strip()[-200:]}") from e
    table = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[2] not in "tTwW":
            continue
        try:
            sym = _Symbol(int(parts[0], 16), int(parts[1], 16))
        except ValueError:
            continue
        # "foo.cold" and "foo.isra.0" print as such in traces; keep the full name.
        table.setdefault(parts[3], []).append(sym)
    if not table:
        raise UserError(f"--vmlinux {vmlinux}: no function symbols (is it a stripped image?)")
    _symtab_cache.clear()
    _symtab_cache[key] = table
    return table


def _address(table: dict[str, list[_Symbol]], name: str, off: int, size: int, ret: bool) -> int | None:
    cands = table.get(name)
    if not cands:
        return None
    # Static functions share names; the printed size tells them apart.
    exact = [s for s in cands if s.size == size]
    sym = (exact or cands)[0]
    return sym.addr + off - (1 if ret and off > 0 else 0)


def _addr2line(vmlinux: Path, addrs: list[int]) -> dict[int, list[tuple[str, str, int]]]:
    """address -> [(function, file, line)], innermost (inlined) first."""
    argv = ["addr2line", "-f", "-i", "-a", "-e", vmlinux, *(hex(a) for a in addrs)]
    try:
        res = proc.run(argv, timeout=_TIMEOUT, what="addr2line")
    except proc.ProcessError as e:
        if e.result.returncode == 127:
            raise InfraError("addr2line is not installed (binutils); it is needed to symbolize") from e
        raise InfraError(f"addr2line failed on {vmlinux}: {e.result.stderr.strip()[-200:]}") from e
    out: dict[int, list[tuple[str, str, int]]] = {}
    current: list[tuple[str, str, int]] | None = None
    lines = res.stdout.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i].strip()
        if ln.startswith("0x") and " " not in ln:
            current = out.setdefault(int(ln, 16), [])
            i += 1
            continue
        if current is None or i + 1 >= len(lines):
            break
        func, where = ln, lines[i + 1].strip()
        file, _, lno = where.partition(":")
        m = re.match(r"\d+", lno)
        current.append((func, file, int(m.group(0)) if m else 0))
        i += 2
    return out


def _relative(path: str, kernel_src: Path | None) -> str:
    if kernel_src is not None:
        try:
            return str(Path(path).relative_to(kernel_src.resolve()))
        except ValueError:
            pass
    return path


def symbolize(
    reports: list[Report], vmlinux: str | os.PathLike, kernel_src: str | os.PathLike | None = None
) -> list[Report]:
    """Fill ``report.symbolized`` and add file:line to the frame lines of ``report.text``."""
    vm = Path(vmlinux)
    if not vm.is_file():
        raise UserError(f"--vmlinux {vm}: no such file (expected the build's vmlinux)")
    if not any(_FRAME.search(r.text) for r in reports):
        return reports
    table = _symbols(vm)
    src = Path(kernel_src) if kernel_src is not None else None
    wanted: dict[tuple[int, int], int] = {}  # (report index, line index) -> address
    for ri, r in enumerate(reports):
        for li, ln in enumerate(r.text.split("\n")):
            m = _FRAME.search(ln)
            if m is None or m.group(4):
                continue
            ret = RIP_FRAME.search(ln) is None
            addr = _address(table, m.group(1), int(m.group(2), 16), int(m.group(3), 16), ret)
            if addr is not None:
                wanted[(ri, li)] = addr
    if not wanted:
        return reports
    resolved = _addr2line(vm, sorted(set(wanted.values())))
    for ri, r in enumerate(reports):
        lines = r.text.split("\n")
        out_lines: list[str] = []
        frames: list[SymFrame] = []
        for li, ln in enumerate(lines):
            addr = wanted.get((ri, li))
            chain = resolved.get(addr, []) if addr is not None else []
            if not chain:
                out_lines.append(ln)
                continue
            m = _FRAME.search(ln)
            # Inlined frames print like their caller's line: "RIP: 0010:inl ..." or " inl ...".
            lead = ln[: m.start(1)] if m else ""
            for func, file, lno in chain[:-1]:
                sf = SymFrame(func, _relative(file, src), lno, inline=True)
                frames.append(sf)
                out_lines.append(f"{lead}{sf}")
            func, file, lno = chain[-1]
            offset = ln[m.start(1) + len(m.group(1)) : m.end(3)] if m else ""
            sf = SymFrame(m.group(1) if m else func, _relative(file, src), lno, offset=offset)
            frames.append(sf)
            out_lines.append(f"{ln} {sf.file}:{sf.line}" if sf.file and sf.file != "??" else ln)
        r.symbolized = frames
        r.text = "\n".join(out_lines)
    return reports
