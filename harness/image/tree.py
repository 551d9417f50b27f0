"""Turning a fresh debootstrap tree into the harness guest's root.

Everything here works on the tree from the host side (no chroot): files are
written through ``_put`` which replaces, never follows, whatever is at the
path, because a symlink inside the tree may point at the host's own /etc.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from harness import proc
from harness.errors import InfraError

from .recipe import INIT_PATH, Recipe, SSHD_CONFIG

HOST_KEY = "etc/ssh/ssh_host_ed25519_key"
# Guest writes land in QEMU's snapshot overlay, but they still need room in
# the file system: scratch files, core dumps, logs of a long stress run.
FREE_SPACE = 1 << 30
_MIB = 1 << 20
# Nothing in the guest reads these; dropping them makes mkfs and the image
# smaller. (dpkg would reinstall them, but the guest never runs apt.)
_TRIM = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "var/cache/apt",
    "var/lib/apt/lists",
    "var/cache/debconf/templates.dat-old",
)


def _put(path: Path, data: bytes, mode: int) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # not subject to the umask, unlike os.open's mode


def _mkdir(path: Path, mode: int = 0o755) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)


def unlock_root(shadow: str) -> str:
    """With UsePAM no, sshd refuses key logins to a '!'-locked account.

    Debian leaves root's password field empty-locked; '*' means "no password
    can match" without the lock, which is exactly key-only.
    """
    out = []
    for line in shadow.splitlines(keepends=True):
        fields = line.split(":")
        if fields[0] == "root" and len(fields) > 1 and (
            fields[1] == "" or fields[1].startswith("!")
        ):
            fields[1] = "*"
            line = ":".join(fields)
        out.append(line)
    return "".join(out)


def configure(tree: Path, recipe: Recipe, init_binary: Path, log: Path) -> Path:
    """Install init, sshd config, keys and dirs; return the host public key."""
    etc = tree / "etc"
    _put(etc / "ssh" / "sshd_config", recipe.file(SSHD_CONFIG).read_bytes(), 0o644)
    for old in (etc / "ssh").glob("ssh_host_*"):
        old.unlink()
    # Host key made here, at build time: generating it at boot costs seconds
    # under TCG, and the image is shared read-only anyway.
    proc.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@harness", "-f", tree / HOST_KEY],
        timeout=60,
        log=log,
        what="ssh-keygen (host key)",
    )

    _mkdir(tree / "root", 0o700)
    _mkdir(tree / "root" / ".ssh", 0o700)
    _put(tree / "root" / ".ssh" / "authorized_keys", recipe.pubkey + b"\n", 0o600)
    shadow = etc / "shadow"
    if shadow.is_file():
        _put(shadow, unlock_root(shadow.read_text()).encode(), 0o640)

    sbin = tree / INIT_PATH.lstrip("/")
    real = tree / "usr" / "sbin" / sbin.name
    _put(real, init_binary.read_bytes(), 0o755)
    if not sbin.parent.is_symlink() and sbin.parent.resolve() != real.parent.resolve():
        # a tree without merged /usr: keep the init= path valid all the same
        if sbin.is_symlink() or sbin.exists():
            sbin.unlink()
        sbin.symlink_to(f"../usr/sbin/{sbin.name}")

    # where stress programs are uploaded, and where scratch disks get mounted
    _mkdir(tree / "opt" / "harness" / "bin")
    _mkdir(tree / "mnt" / "scratch")
    # /run is a tmpfs at boot; this one only lets `sshd -t` pass at build
    _mkdir(tree / "run" / "sshd")

    # debootstrap copies the build host's names in; the guest has none of them
    _put(etc / "hostname", b"harness\n", 0o644)
    _put(etc / "hosts", b"127.0.0.1\tlocalhost harness\n::1\tlocalhost\n", 0o644)
    # no nameserver: lookups fail at once on loopback instead of timing out
    _put(etc / "resolv.conf", b"# the harness guest has no DNS\n", 0o644)
    _put(etc / "fstab", b"# harness-init mounts everything; nothing reads this\n", 0o644)

    for rel in _TRIM:
        p = tree / rel
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p)
    return tree / (HOST_KEY + ".pub")


def tree_bytes(tree: Path) -> int:
    """What the tree will occupy in ext4: 4 KiB blocks, hard links counted once."""
    seen: set[int] = set()
    total = 0
    for root, dirs, files in os.walk(tree):
        total += 4096 * (1 + len(dirs))
        for name in files:
            st = os.lstat(os.path.join(root, name))
            if st.st_ino in seen:
                continue
            seen.add(st.st_ino)
            if stat.S_ISREG(st.st_mode):
                total += (st.st_size + 4095) // 4096 * 4096
    return total


def image_size(used: int) -> int:
    """Tree plus metadata slack plus FREE_SPACE, rounded up to 64 MiB."""
    want = used + used // 8 + FREE_SPACE + 64 * _MIB  # + journal
    step = 64 * _MIB
    return (want + step - 1) // step * step


def mounts_under(mountinfo: str, root: str) -> list[str]:
    """Mount points at or below ``root`` in /proc/self/mountinfo text, deepest first."""
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        # mountinfo escapes space, tab, newline and backslash as octal
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        if point == root or point.startswith(root.rstrip("/") + "/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def _mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return mounts_under(f.read(), os.path.realpath(path))


def remove_tree(tree: Path) -> None:
    """Delete a debootstrap tree, never through a mount left inside it.

    A debootstrap that died mid-way can leave /proc, /sys or bind-mounted
    host device nodes under the tree; deleting through those would delete
    the host's files. Unmount them first, and refuse if that fails.
    """
    if not tree.exists():
        return
    for point in _mounts_under(tree):
        proc.run(["umount", "-l", point], check=False, timeout=60)
    left = _mounts_under(tree)
    if left:
        raise InfraError(f"refusing to delete {tree}: still mounted: {', '.join(left)}")
    shutil.rmtree(tree)
