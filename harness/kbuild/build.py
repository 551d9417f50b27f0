"""Out-of-tree kernel builds, keyed by their inputs, incremental, with ccache."""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness import proc
from harness.errors import BuildError, InfraError, UserError
from harness.kbuild import facts, ikconfig, kconfig
from harness.kbuild.source import Prebuilt, SourceTree
from harness.lock import file_lock
from harness.paths import cache_dir, digest

Progress = Callable[[str], None]

BUILD_TIMEOUT = 4 * 3600
# Under `make -s test` the outer make's flags reach the kernel make through
# the environment: -s silenced kbuild, so build.log had no step lines and the
# progress line said "0 steps" for the whole build.
_NOT_INHERITED = {"MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": ""}
STAMP = ".harness-built"
_ERROR_LINE = re.compile(r"(\berror\b|Error \d+|undefined reference|\*\*\*)")
_STEP_LINE = re.compile(rb"^  (CC|LD|AR|AS|LDS|OBJCOPY|GEN|CHK|HOSTCC|BTF|MODPOST|KSYMS|NM|ZOFFSET|VOFFSET|RELOCS|MKPIGGY|ZSTD|GZIP|LZ4|XZKERN)\b")


@dataclass(frozen=True)
class Kernel:
    """Everything the VM and the analysis need from a built (or given) kernel."""

    bzimage: Path
    vmlinux: Path | None
    config_path: Path | None
    build_dir: Path | None = None
    build_log: Path | None = None
    system_map: Path | None = None
    source: str = ""
    rebuilt: bool = False

    def config(self) -> dict[str, str] | None:
        if self.config_path is None or not self.config_path.is_file():
            return None
        return kconfig.parse_config(self.config_path.read_text(errors="replace"))


def compiler_identity() -> str:
    r = proc.run(["gcc", "--version"], check=False, timeout=30)
    return r.stdout.splitlines()[0] if r.ok and r.stdout else "unknown-gcc"


def ccache_env() -> dict[str, str]:
    root = cache_dir()
    return {
        "CCACHE_DIR": str(root / "ccache"),
        # Trees and build dirs all sit two levels under the cache root, so with
        # the base dir there their objects hash alike and hit across build dirs.
        "CCACHE_BASEDIR": str(root),
        "CCACHE_NOHASHDIR": "true",
        "CCACHE_MAXSIZE": os.environ.get("CCACHE_MAXSIZE", "10G"),
    }


def source_fingerprint(tree: Path) -> str:
    """Cheap change detector for a source tree: file count, sizes and newest mtime.

    Lets a no-change rebuild skip make entirely (make alone walks the whole
    tree for tens of seconds); any edit, touch or new file changes it.
    """
    count = total = newest = 0
    stack = [str(tree)]
    while stack:
        top = stack.pop()
        try:
            entries = os.scandir(top)
        except OSError:
            continue
        with entries:
            for e in entries:
                if e.name == ".git":
                    continue
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        continue
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                count += 1
                total += st.st_size
                newest = max(newest, st.st_mtime_ns)
    return f"{count}:{total}:{newest}"


def build_root(tree: Path) -> Path:
    """Where build dirs for ``tree`` go.

    A tree kept in the cache as <area>/src/<name> builds in <area>/build/, so
    from every build dir the tree is at ../../src/<name>: with CCACHE_BASEDIR
    at the cache root, same-named trees in different areas (the clean Debian
    source and a bug tree copied from it) then compile to identical ccache
    keys, and only the files a patch touched really compile.
    """
    root = cache_dir().resolve()
    tree = tree.resolve()
    if tree.parent.name == "src" and root in tree.parents:
        return tree.parent.parent / "build"
    return root / "build"


class _ProgressWatcher(threading.Thread):
    """Prints a line every ``every`` seconds while make runs: steps done, last step, elapsed."""

    def __init__(self, log: Path, progress: Progress, expected: int, every: float = 20.0):
        super().__init__(daemon=True)
        self.log, self.progress, self.expected, self.every = log, progress, expected, every
        self.stop = threading.Event()
        self.steps = 0
        self.pos = 0
        self.start_time = time.monotonic()

    def scan(self) -> str:
        """Count the steps logged since the last scan; return the last one."""
        last = ""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return last
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            if _STEP_LINE.match(line):
                self.steps += 1
                last = line.decode("utf-8", "replace").strip()
        self.pos += end
        return last

    def run(self) -> None:
        while not self.stop.wait(self.every):
            last = self.scan()
            elapsed = int(time.monotonic() - self.start_time)
            pct = f" (~{min(99, 100 * self.steps // self.expected)}%)" if self.expected else ""
            self.progress(f"build: {self.steps} steps{pct}, {elapsed // 60}m{elapsed % 60:02d}s, last: {last or '...'}")


def first_errors(log: Path, limit: int = 8) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    hits = [ln for ln in lines if _ERROR_LINE.search(ln)]
    return "\n".join(hits[:limit])


def build(
    source: SourceTree | Prebuilt,
    fragments: list[str] | None = None,
    *,
    jobs: int | None = None,
    progress: Progress = print,
    extra_fragments: list[str] | None = None,
    require_kasan: bool = True,
) -> Kernel:
    """Build (or reuse) the kernel for ``source`` with the given fragments."""
    if isinstance(source, Prebuilt):
        return prebuilt(source, list(extra_fragments or []), progress, require_kasan)
    names = list(fragments or kconfig.DEFAULT_FRAGMENTS) + list(extra_fragments or [])
    frags = [kconfig.load_fragment(n) for n in names]
    tree_fp = source_fingerprint(source.path)
    merged = kconfig.merge(source.path, frags, progress, fingerprint=tree_fp)
    config_text = merged.text
    key = digest(source.identity, config_text, compiler_identity())
    root = build_root(source.path)
    bdir = root / key
    facts.store(bdir, merged.facts)  # the kernel's missing capabilities, beside its .config, for the run
    with file_lock(root / f"{key}.lock", f"kernel: waiting for another build in {bdir}", progress):
        return _build_locked(source, bdir, config_text, tree_fp, jobs or os.cpu_count() or 1, progress)


def prebuilt(source: Prebuilt, extra_fragments: list[str], progress: Progress, require_kasan: bool = True) -> Kernel:
    """A bzImage the user built, checked as far as its config allows.

    Fragments cannot be applied to it, so they are checked instead: every
    setting they ask for must already be in the image's config, and without
    a config that cannot be known, which is the user's to fix. KASAN is what
    turns the use-after-free families into reports: a kernel without it
    would pass where it should fail.
    """
    frags = [kconfig.load_fragment(n) for n in extra_fragments]  # a missing one is an error here too
    names = ", ".join(extra_fragments)
    config_path, where = _prebuilt_config(source, progress)
    bz = source.bzimage
    if config_path is None:
        if frags:
            raise UserError(
                f"KERNEL={bz}: cannot apply fragment {names} to a prebuilt bzImage, nor check it: the image has"
                " no embedded config (CONFIG_IKCONFIG) and no .config beside it"
            )
        progress(
            f"kernel: warning: {bz} has no embedded config (CONFIG_IKCONFIG) and no .config beside it: KASAN and"
            " the scenarios' kconfig needs cannot be checked, so a scenario the kernel cannot run ends in"
            " ERROR or FAIL instead of SKIP"
        )
    else:
        have = kconfig.parse_config(config_path.read_text(errors="replace"))
        if require_kasan and have.get("CONFIG_KASAN") != "y":
            raise UserError(
                f"KERNEL={bz}: built without CONFIG_KASAN ({where}); the harness needs KASAN to see"
                " use-after-free bugs (add kconfigs/kasan.config, or pass the source tree to build)"
            )
        bad = kconfig.mismatches(kconfig.requested(frags), have)
        if bad:
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            raise UserError(
                f"KERNEL={bz}: a prebuilt bzImage cannot take fragment {names}, and its config ({where})"
                f" lacks what it asks: {', '.join(bad[:3])}{more}"
            )
        if frags:
            progress(f"kernel: {bz} already has every setting of {names} ({where})")
    progress(f"kernel: using prebuilt {bz}" + (f" (config: {where})" if config_path else ""))
    return Kernel(bz, source.vmlinux, config_path, source=str(bz))


def _prebuilt_config(source: Prebuilt, progress: Progress) -> tuple[Path | None, str]:
    """The image's own embedded config (the truth), else the .config found beside it."""
    try:
        text = ikconfig.extract(source.bzimage)
    except OSError as e:
        raise UserError(f"KERNEL={source.bzimage}: cannot read: {e.strerror}") from e
    if text is not None:
        st = source.bzimage.stat()
        out = cache_dir() / "ikconfig" / f"{digest(str(source.bzimage), str(st.st_size), str(st.st_mtime_ns))}.config"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, out)
        return out, "embedded in the image"
    if source.config is not None:
        return source.config, str(source.config)
    return None, ""


def _build_locked(
    source: SourceTree, bdir: Path, config_text: str, tree_fp: str, jobs: int, progress: Progress
) -> Kernel:
    bdir.mkdir(parents=True, exist_ok=True)
    cfg = bdir / ".config"
    # Rewrite .config only when it changed: a fresh mtime alone makes kbuild
    # re-run syncconfig and can cost a large part of an incremental build.
    if not cfg.is_file() or cfg.read_text() != config_text:
        cfg.write_text(config_text)
    kernel = Kernel(
        bzimage=bdir / "arch" / "x86" / "boot" / "bzImage",
        vmlinux=bdir / "vmlinux",
        config_path=cfg,
        build_dir=bdir,
        build_log=bdir / "build.log",
        system_map=bdir / "System.map",
        source=str(source.path),
    )
    stamp_file = bdir / STAMP
    fingerprint = digest(tree_fp, config_text)
    if stamp_file.is_file() and kernel.bzimage.is_file():
        stamp = stamp_file.read_text().split()
        if stamp and stamp[0] == fingerprint:
            progress(f"kernel: up to date ({bdir})")
            return kernel
    expected = 0
    if stamp_file.is_file():
        parts = stamp_file.read_text().split()
        expected = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    stamp_file.unlink(missing_ok=True)
    cc = "ccache gcc" if proc.which("ccache") else "gcc"
    argv = ["make", "-C", source.path, f"O={bdir}", "ARCH=x86_64", f"CC={cc}", f"-j{jobs}", "bzImage"]
    progress(f"kernel: building {source.path} in {bdir} with -j{jobs} (log: {kernel.build_log})")
    watcher = _ProgressWatcher(kernel.build_log, progress, expected)
    watcher.start()
    start = time.monotonic()
    try:
        proc.run(argv, env={**ccache_env(), **_NOT_INHERITED}, timeout=BUILD_TIMEOUT, log=kernel.build_log, what="make")
    except proc.ProcessError as e:
        if e.result.returncode == 127:
            raise InfraError("make not found; run 'make deps' or install build-essential") from e
        raise BuildError(
            f"kernel build failed ({source.path})", log=str(kernel.build_log), detail=first_errors(kernel.build_log)
        ) from e
    finally:
        watcher.stop.set()
        watcher.join(timeout=5)
    watcher.scan()
    if not kernel.bzimage.is_file():
        raise BuildError("make succeeded but produced no bzImage", log=str(kernel.build_log))
    elapsed = time.monotonic() - start
    # Last, and by rename: a build stopped at any point before this line leaves
    # no stamp, so the next run runs make again instead of trusting the dir.
    tmp = stamp_file.with_name(f"{STAMP}.{os.getpid()}.tmp")
    tmp.write_text(f"{fingerprint} {max(watcher.steps, expected)}\n")
    os.replace(tmp, stamp_file)
    progress(f"kernel: built in {int(elapsed)}s: {kernel.bzimage}")
    return Kernel(**{**kernel.__dict__, "rebuilt": True})
