"""The guest image builder, with fakes at the process seam.

harness.proc.run is replaced by a fake that records argv and does what the
real tool would do to the file system (a tiny "debootstrap tree", an image
file), so the whole build runs in milliseconds without root or network.
The C init's pure helpers are compiled and run for real when gcc exists.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import paths, proc
from harness.errors import InfraError
from harness.image import build as B
from harness.image import ensure_image, ssh_keypair
from harness.image import tree as T
from harness.image.recipe import READY_MARKER, load_recipe, parse_packages

FAKE_PUBKEY = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKEFAKEFAKE harness"
_real_check_host = B.check_host  # the env fixture fakes it; some tests want it back


# ---- fakes ------------------------------------------------------------------


def _fake_tree(tree: Path, outside: Path) -> None:
    """What debootstrap leaves behind, in the parts the builder touches."""
    (tree / "usr" / "sbin").mkdir(parents=True)
    (tree / "sbin").symlink_to("usr/sbin")  # merged /usr, relative like Debian's
    (tree / "usr" / "sbin" / "sshd").write_text("")
    (tree / "etc" / "ssh").mkdir(parents=True)
    (tree / "etc" / "ssh" / "ssh_host_rsa_key").write_text("old host key")
    (tree / "etc" / "shadow").write_text("root:!:19000:0:99999:7:::\ndaemon:*:19000::::::\n")
    # a symlink out of the tree: writing through it would clobber the host
    (tree / "etc" / "resolv.conf").symlink_to(outside)
    (tree / "usr" / "share" / "doc" / "bash").mkdir(parents=True)
    (tree / "usr" / "share" / "doc" / "bash" / "README").write_text("x" * 5000)
    (tree / "root").mkdir()


class FakeRun:
    """Stands in for harness.proc.run; ``fail`` maps argv[0] basename -> (rc, log text)."""

    def __init__(self, outside: Path):
        self.calls: list[list[str]] = []
        self.fail: dict[str, tuple[int, str]] = {}
        self.outside = outside
        self.snapshot: dict[str, object] = {}

    def names(self) -> list[str]:
        return [os.path.basename(a[0]) for a in self.calls]

    def argv(self, name: str) -> list[str]:
        return next(a for a in self.calls if os.path.basename(a[0]) == name)

    def __call__(self, argv, *, log=None, check=True, what="", **kw):
        args = [os.fspath(a) for a in argv]
        self.calls.append(args)
        name = os.path.basename(args[0])
        if log is not None:
            Path(log).write_text(f"fake {name}\n")
        if name in self.fail:
            rc, text = self.fail[name]
            if log is not None:
                Path(log).write_text(text)
            result = proc.Result(args, rc, text)
            if check:
                raise proc.ProcessError(result, log=os.fspath(log) if log else None, what=what)
            return result
        if name == "gcc":
            Path(args[args.index("-o") + 1]).write_bytes(b"\x7fELF fake init")
        elif name == "debootstrap":
            _fake_tree(Path(args[-1]), self.outside)
        elif name == "ssh-keygen":
            key = Path(args[args.index("-f") + 1])
            key.write_text("PRIVATE")
            key.with_name(key.name + ".pub").write_text("ssh-ed25519 AAAAfake host\n")
        elif name == "mkfs.ext4":
            tree = Path(args[args.index("-d") + 1])
            self.snapshot = _snapshot(tree)
        return proc.Result(args, 0, "")


def _snapshot(tree: Path) -> dict[str, object]:
    """What the tree looked like when mkfs copied it."""
    init = tree / "usr" / "sbin" / "harness-init"
    return {
        "sshd_config": (tree / "etc" / "ssh" / "sshd_config").read_bytes(),
        "authorized_keys": (tree / "root" / ".ssh" / "authorized_keys").read_bytes(),
        "authorized_keys_mode": stat.S_IMODE((tree / "root" / ".ssh" / "authorized_keys").stat().st_mode),
        "ssh_dir_mode": stat.S_IMODE((tree / "root" / ".ssh").stat().st_mode),
        "init": init.read_bytes(),
        "init_mode": stat.S_IMODE(init.stat().st_mode),
        "init_via_sbin": (tree / "sbin" / "harness-init").is_file(),
        "host_keys": sorted(p.name for p in (tree / "etc" / "ssh").glob("ssh_host_*")),
        "shadow": (tree / "etc" / "shadow").read_text(),
        "dirs": [d for d in ("opt/harness/bin", "mnt/scratch") if (tree / d).is_dir()],
        "doc": (tree / "usr" / "share" / "doc").exists(),
        "resolv_is_link": (tree / "etc" / "resolv.conf").is_symlink(),
    }


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private cache, a copy of images/, a fake key pair and the fake runner."""
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    recipe_dir = tmp_path / "images"
    shutil.copytree(paths.IMAGES, recipe_dir)
    monkeypatch.setattr(paths, "IMAGES", recipe_dir)
    ssh = tmp_path / "cache" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text("PRIVATE")
    (ssh / "id_ed25519.pub").write_bytes(FAKE_PUBKEY + b"\n")
    outside = tmp_path / "host-resolv.conf"
    outside.write_text("the host's own file\n")
    fake = FakeRun(outside)
    monkeypatch.setattr(proc, "run", fake)
    monkeypatch.setattr(B, "check_host", lambda: {name: name for name in B._TOOLS})
    return fake


def _quiet(_line: str) -> None:
    pass


# ---- the build, end to end with fakes -----------------------------------------


def test_build_runs_the_recipe_and_caches(env):
    lines: list[str] = []
    image = ensure_image(progress=lines.append)

    debootstrap = env.argv("debootstrap")
    assert not any("://" in a for a in debootstrap), "no mirror URL, debootstrap knows its own"
    assert debootstrap[-2] == "bookworm", "suite then target, and no mirror after them"
    assert "--variant=minbase" in debootstrap
    include = next(a for a in debootstrap if a.startswith("--include="))
    assert "openssh-server" in include.split("=", 1)[1].split(",")
    cache = next(a for a in debootstrap if a.startswith("--cache-dir="))
    assert cache.split("=", 1)[1].startswith(os.environ["HARNESS_CACHE"])

    mkfs = env.argv("mkfs.ext4")
    assert mkfs[mkfs.index("-d") + 1].endswith("/tree")
    assert mkfs[mkfs.index("-L") + 1] == "harness-root"
    gcc = env.argv("gcc")
    assert "-static" in gcc and f'-DREADY_MARKER="{READY_MARKER}"' in gcc

    snap = env.snapshot
    assert snap["sshd_config"] == (paths.IMAGES / "sshd_config").read_bytes()
    assert snap["authorized_keys"] == FAKE_PUBKEY + b"\n"
    assert snap["authorized_keys_mode"] == 0o600 and snap["ssh_dir_mode"] == 0o700
    assert snap["init"] == b"\x7fELF fake init" and snap["init_mode"] == 0o755
    assert snap["init_via_sbin"]
    assert snap["host_keys"] == ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]
    assert snap["shadow"].startswith("root:*:"), "a '!' root is refused by sshd without PAM"
    assert snap["dirs"] == ["opt/harness/bin", "mnt/scratch"]
    assert not snap["doc"]
    assert not snap["resolv_is_link"]
    assert env.outside.read_text() == "the host's own file\n"

    assert image.rootfs.is_file() and image.rootfs.parent.name == image.key
    assert image.rootfs.stat().st_size >= 1 << 30, "room for guest writes"
    assert image.ready_marker == READY_MARKER and image.user == "root"
    assert image.host_pubkey and image.host_pubkey.read_text().startswith("ssh-ed25519")
    assert not (image.rootfs.parent / "tree").exists(), "the debootstrap tree is deleted"
    assert not list(image.rootfs.parent.parent.glob("*.build"))
    assert any("debootstrap bookworm" in ln and "log:" in ln for ln in lines)
    assert any(ln.startswith("image: ready") and ln.endswith(" s") for ln in lines)

    env.calls.clear()
    again = ensure_image(progress=_quiet)
    assert again == image
    assert env.calls == [], "a cache hit runs nothing"

    ensure_image(progress=_quiet, rebuild=True)
    assert "debootstrap" in env.names()
    assert image.rootfs.is_file()


def test_key_follows_every_recipe_input(env):
    first = load_recipe(FAKE_PUBKEY).key
    assert load_recipe(FAKE_PUBKEY).key == first, "stable"
    (paths.IMAGES / "sshd_config").write_text(
        (paths.IMAGES / "sshd_config").read_text() + "\n# tweak\n"
    )
    second = load_recipe(FAKE_PUBKEY).key
    assert second != first
    (paths.IMAGES / "packages").write_text(
        (paths.IMAGES / "packages").read_text() + "strace  # more\n"
    )
    third = load_recipe(FAKE_PUBKEY).key
    assert third != second
    assert load_recipe(FAKE_PUBKEY + b"X").key != third, "the public key is baked in"


def test_recipe_change_rebuilds(env):
    first = ensure_image(progress=_quiet)
    init = paths.IMAGES / "harness-init.c"
    init.write_text(init.read_text() + "\n/* changed */\n")
    env.calls.clear()
    second = ensure_image(progress=_quiet)
    assert second.key != first.key
    assert "debootstrap" in env.names()


def test_debootstrap_failure_names_step_and_log(env):
    env.fail["debootstrap"] = (1, "I: Retrieving\nE: Couldn't find these debs: nope\n")
    with pytest.raises(InfraError) as err:
        ensure_image(progress=_quiet)
    e = err.value
    assert "debootstrap" in e.message and "Couldn't find these debs: nope" in e.message
    assert e.log and e.log.endswith("debootstrap.log") and Path(e.log).is_file()
    assert "\n" not in str(e)
    build_dir = Path(e.log).parent
    assert not (build_dir / "tree").exists(), "the half tree is removed, the log kept"
    assert "mkfs.ext4" not in env.names()


def test_mkfs_failure_is_an_infra_error(env):
    env.fail["mkfs.ext4"] = (1, "mkfs.ext4: Could not allocate block\n")
    with pytest.raises(InfraError, match=r"mkfs\.ext4 failed") as err:
        ensure_image(progress=_quiet)
    assert err.value.log.endswith("mkfs.log")
    assert "Could not allocate" in err.value.detail


def test_missing_debootstrap_is_one_clear_line(env, monkeypatch):
    monkeypatch.setattr(B, "check_host", _real_check_host)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        shutil, "which", lambda name, path=None: None if name == "debootstrap" else f"/bin/{name}"
    )
    with pytest.raises(InfraError) as err:
        ensure_image(progress=_quiet)
    assert str(err.value) == (
        "infrastructure error: image: debootstrap not found; install it: apt-get install debootstrap"
    )


def test_building_needs_root(env, monkeypatch):
    monkeypatch.setattr(B, "check_host", _real_check_host)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(InfraError, match="needs root"):
        ensure_image(progress=_quiet)


def test_concurrent_callers_build_once(env, monkeypatch):
    builds: list[str] = []
    real_build = B.build

    def slow_build(recipe, entry, progress):
        builds.append(recipe.key)
        time.sleep(0.5)  # long enough for the other caller to hit the lock
        real_build(recipe, entry, progress)

    monkeypatch.setattr(B, "build", slow_build)
    results: list[object] = []
    waited: list[str] = []

    def caller(tag: str) -> None:
        try:
            results.append(ensure_image(progress=lambda ln: waited.append(ln) if "waiting" in ln else None))
        except BaseException as e:  # surfaced by the asserts below
            results.append(e)

    threads = [threading.Thread(target=caller, args=(str(i),)) for i in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join(timeout=30)
    assert len(builds) == 1, "the second caller waits for the first and reuses its image"
    assert len(results) == 2 and results[0] == results[1]
    assert waited, "the waiting caller says why it waits"


def test_prune_keeps_the_newest(env):
    root = B.images_root()
    for i in range(5):
        d = root / f"{i:016x}"
        d.mkdir()
        os.utime(d, (1000 + i, 1000 + i))
    keep = root / f"{0:016x}"
    (root / "debs").mkdir()
    B._prune(root, keep)
    left = sorted(p.name for p in root.iterdir())
    assert left == [f"{0:016x}", f"{3:016x}", f"{4:016x}", "debs"]


# ---- pure parts -----------------------------------------------------------------


def test_parse_packages_comments_and_duplicates():
    text = "# header\nopenssh-server  # why\n\nprocps\nopenssh-server\n  stress-ng\n"
    assert parse_packages(text) == ("openssh-server", "procps", "stress-ng")


def test_repo_package_list_is_lean_and_complete():
    pkgs = parse_packages((paths.IMAGES / "packages").read_text())
    for need in ("openssh-server", "xfsprogs", "e2fsprogs", "procps", "iproute2",
                 "util-linux", "inotify-tools", "stress-ng"):
        assert need in pkgs
    assert "systemd" not in pkgs and "systemd-sysv" not in pkgs


def test_unlock_root_only_touches_root():
    shadow = "root:!:19000:0:99999:7:::\ndaemon:!:19000::::::\n"
    assert T.unlock_root(shadow) == "root:*:19000:0:99999:7:::\ndaemon:!:19000::::::\n"
    assert T.unlock_root("root:*:1::::::\n") == "root:*:1::::::\n"
    assert T.unlock_root("root::1::::::\n") == "root:*:1::::::\n"


def test_image_size_leaves_a_gib_free():
    used = 300 << 20
    size = T.image_size(used)
    assert size % (64 << 20) == 0
    assert size - used >= T.FREE_SPACE


def test_mounts_under_finds_leftovers_deepest_first():
    info = (
        "22 1 8:1 / / rw - ext4 /dev/vda rw\n"
        "40 22 0:5 / /c/x.build/tree/proc rw - proc proc rw\n"
        "41 22 0:6 / /c/x.build/tree/dev/null rw - devtmpfs udev rw\n"
        "42 22 0:7 / /c/x.build/tree2/sys rw - sysfs sysfs rw\n"
        "43 22 0:8 / /c/with\\040space/tree/sys rw - sysfs sysfs rw\n"
    )
    assert T.mounts_under(info, "/c/x.build/tree") == [
        "/c/x.build/tree/dev/null",
        "/c/x.build/tree/proc",
    ]
    assert T.mounts_under(info, "/c/with space/tree") == ["/c/with space/tree/sys"]


def test_remove_tree_refuses_through_a_mount(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    (tree / "proc").mkdir(parents=True)
    umounts: list[list[str]] = []
    monkeypatch.setattr(proc, "run", lambda argv, **kw: umounts.append([os.fspath(a) for a in argv]))
    monkeypatch.setattr(T, "_mounts_under", lambda p: [str(tree / "proc")])
    with pytest.raises(InfraError, match="refusing to delete"):
        T.remove_tree(tree)
    assert tree.exists()
    assert umounts == [["umount", "-l", str(tree / "proc")]]


def test_ssh_keypair_is_made_once_private_and_outside_the_repo(tmp_path, monkeypatch):
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen not installed")
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    private, public = ssh_keypair()
    assert private.parent == tmp_path / "ssh"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_text().startswith("ssh-ed25519 ")
    assert paths.REPO not in private.parents
    content = private.read_bytes()
    assert ssh_keypair() == (private, public)
    assert private.read_bytes() == content, "made once, then reused"


def test_cli_prints_the_paths(env, capsys):
    # only our subcommand: the top-level CLI imports every other part too
    import argparse

    from harness.image import cli

    parser = argparse.ArgumentParser(prog="harness")
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["image", "--rebuild"])
    assert args.rebuild
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "rootfs.ext4" in out and "id_ed25519" in out


# ---- the C init -------------------------------------------------------------------

_DRIVER = r"""
#define HARNESS_INIT_NO_MAIN
#include "@INIT_SOURCE@"
#include <assert.h>

int main(void)
{
    const char *table =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
        "   1: 0F02000A:0016 0202000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
    const char *listening =
        "  sl  local_address rem_address   st\n"
        "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n";
    char buf[32];
    struct timespec ts = {3, 456000000};

    assert(!tcp_listening(table, 22));   /* port 22 only as an established socket */
    assert(tcp_listening(table, 0x277)); /* 631 listening */
    assert(tcp_listening(listening, 22));
    assert(!tcp_listening("", 22));
    assert(!tcp_listening("garbage\n\n", 22));
    format_seconds(buf, sizeof(buf), &ts);
    assert(!strcmp(buf, "3.45"));
    puts("ok");
    return 0;
}
"""


@pytest.fixture
def gcc():
    found = shutil.which("gcc")
    if not found:
        pytest.skip("gcc not installed")
    return found


def test_init_helpers(tmp_path, gcc):
    init = paths.IMAGES / "harness-init.c"
    driver = tmp_path / "driver.c"
    driver.write_text(_DRIVER.replace("@INIT_SOURCE@", str(init)))
    exe = tmp_path / "driver"
    subprocess.run(
        [gcc, "-O2", "-Wall", "-Werror", f'-DREADY_MARKER="{READY_MARKER}"', "-o", exe, driver],
        check=True,
    )
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    assert out == "ok\n"


def test_init_compiles_without_warnings(tmp_path, gcc):
    # -static needs libc6-dev's libc.a, which a dev box may lack; warnings are the point
    subprocess.run(
        [gcc, "-O2", "-Wall", "-Wextra", "-Werror", f'-DREADY_MARKER="{READY_MARKER}"',
         "-o", tmp_path / "init", paths.IMAGES / "harness-init.c"],
        check=True,
    )


def test_init_refuses_to_build_without_marker(tmp_path, gcc):
    r = subprocess.run(
        [gcc, "-c", "-o", tmp_path / "init.o", paths.IMAGES / "harness-init.c"],
        capture_output=True, text=True,
    )
    assert r.returncode != 0 and "READY_MARKER" in r.stderr


def test_configure_failure_is_an_infra_error(env):
    env.fail["ssh-keygen"] = (1, "ssh-keygen: cannot write\n")
    with pytest.raises(InfraError, match="configuring the tree failed") as err:
        ensure_image(progress=_quiet)
    assert err.value.log.endswith("configure.log")
