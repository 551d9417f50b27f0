"""Bad input, table-driven: each case is one line naming the problem and exit 2.

Never a traceback, never 0 or 1 (1 means "the kernel failed" to CI). Every
case runs before anything slow: no build, no boot.
"""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from harness import cli
from harness.paths import REPO


def bzimage(path: Path, config: str | None = None) -> Path:
    """A minimal x86 bzImage: the boot header, and a gzip payload that holds
    the config between IKCFG_ST/IKCFG_ED markers when one is given."""
    inner = b"\x7fELF fake vmlinux "
    if config is not None:
        inner += b"IKCFG_ST" + gzip.compress(config.encode()) + b"IKCFG_ED"
    payload = gzip.compress(inner + b" trailer")
    image = bytearray(1024)
    image[0x1F1] = 1  # setup_sects: the payload area starts at (1 + 1) * 512
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", image, 0x206, 0x020F)
    struct.pack_into("<II", image, 0x248, 0, len(payload))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(image) + payload)
    return path


KASAN = "CONFIG_KASAN=y\nCONFIG_KASAN_GENERIC=y\n"


def fake_image() -> None:
    """The guest image for this cache's recipe, as an empty file: nothing here boots it."""
    from harness.image.build import IMAGE_NAME, images_root
    from harness.image.keys import ssh_keypair
    from harness.image.recipe import load_recipe

    _, public = ssh_keypair()
    entry = images_root() / load_recipe(public.read_bytes()).key
    entry.mkdir(parents=True)
    (entry / IMAGE_NAME).write_bytes(b"")


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_RESULTS", str(tmp_path / "results"))
    f = {}
    f["latin1"] = tmp_path / "latin1.yaml"
    f["latin1"].write_bytes(b"scenarios:\n  - kprobe-churn\n# by J\xf6rg\n")
    f["empty"] = tmp_path / "empty.yaml"
    f["empty"].write_text("")
    f["badyaml"] = tmp_path / "bad.yaml"
    f["badyaml"].write_text("scenarios: [kprobe-churn\n")
    f["zero_runs"] = tmp_path / "zero.yaml"
    f["zero_runs"].write_text("runs: 0\nscenarios: [kprobe-churn]\n")
    f["patch"] = tmp_path / "fix.patch"
    f["patch"].write_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n")
    f["notree"] = tmp_path / "notree"
    f["notree"].mkdir()
    f["frag"] = tmp_path / "extra.config"
    f["frag"].write_text("# why: a test\nCONFIG_FOO=y\n")
    f["bare"] = bzimage(tmp_path / "bare" / "bzImage")
    f["nokasan"] = bzimage(tmp_path / "nokasan" / "bzImage")
    (tmp_path / "nokasan" / ".config").write_text("CONFIG_FTRACE=y\n")
    f["ikconfig_nokasan"] = bzimage(tmp_path / "ik" / "bzImage", "CONFIG_IKCONFIG=y\nCONFIG_FTRACE=y\n")
    f["ikconfig_kasan"] = bzimage(tmp_path / "ik2" / "bzImage", KASAN + "CONFIG_IKCONFIG=y\n")
    return f


# (argv with {placeholders} for the files above, exit code, the one message)
CASES = [
    ("run -n 0", 2, "argument --runs/-n: expected a positive integer, got '0'"),
    ("run -n -1", 2, "argument --runs/-n: expected a positive integer, got '-1'"),
    ("run --runs three", 2, "argument --runs/-n: expected a positive integer, got 'three'"),
    ("run -d 0", 2, "argument --duration/-d: expected a positive integer, got '0'"),
    ("run -d -5", 2, "argument --duration/-d: expected a positive integer, got '-5'"),
    ("run --plan {latin1}", 2, "plan is not UTF-8 text: byte 0xf6 at line 3, column 7"),
    ("run --plan /bin/ls", 2, "/bin/ls: not a plan: a binary file (NUL bytes), expected YAML text"),
    ("run --plan {notree}", 2, "cannot read plan: Is a directory"),
    ("run --plan {notree}/missing.yaml", 2, "cannot read plan: No such file or directory"),
    ("run --plan {empty}", 2, "expected a mapping with a 'scenarios' list at the top"),
    ("run --plan {badyaml}", 2, "not valid YAML"),
    ("run --plan {zero_runs}", 2, "runs: expected a positive integer, got 0"),
    ("run -s no-such-scenario", 2, "unknown scenario 'no-such-scenario'"),
    ("run --kernel {notree}/missing", 2, "no such file or directory"),
    ("run --kernel /bin/ls", 2, "a file, but not an x86 bzImage"),
    ("run --kernel {notree}", 2, "not a Linux kernel source tree"),
    ("run -k /bin/ls", 2, "unrecognized arguments: -k"),
    ("verify --kernel {notree} --patch {patch} --plan {latin1}", 2, "plan is not UTF-8 text: byte 0xf6"),
    ("verify --kernel {notree} --patch {patch} --plan /bin/ls", 2, "not a plan: a binary file"),
    ("verify --kernel {notree} --patch {patch} -n 0", 2, "argument --runs/-n: expected a positive integer"),
    ("verify --kernel {notree} --patch {patch} --parallel 0", 2, "argument --parallel: expected a positive integer"),
    ("verify --kernel {notree} --patch {patch} --alpha 2", 2, "argument --alpha: expected a number between 0 and 1"),
    ("verify --kernel {notree} --patch {notree}/none.patch", 2, "no such file"),
    ("bisect --kernel {notree} --good a --bad b -s umount-check --plan {latin1}", 2, "plan is not UTF-8 text"),
    ("bisect --kernel {notree} --good a --bad b -s umount-check --plan /bin/ls", 2, "not a plan: a binary file"),
    ("bisect --kernel {notree} --good a --bad b -s umount-check -n 0", 2, "argument --runs/-n: expected a positive"),
    ("bisect --kernel {notree} --good a --bad b -s umount-check -d -5", 2, "argument --duration/-d: expected a"),
    ("boot --memory 2X -- true", 2, "argument --memory: expected a size such as 2G or 2048M, got '2X'"),
    ("boot --memory 0 -- true", 2, "argument --memory: expected a size of at least 64M"),
    ("boot --cpus 0 -- true", 2, "argument --cpus: expected a positive integer, got '0'"),
    ("boot --timeout -1 -- true", 2, "argument --timeout: expected a number of seconds above 0"),
    ("boot", 2, "no command given"),
    ("build --jobs 0", 2, "argument --jobs/-j: expected a positive integer, got '0'"),
    ("build --kernel {bare} -f no-such-fragment", 2, "kconfig fragment no-such-fragment: no such file"),
    ("build --kernel {bare} -f {frag}", 2, "cannot apply fragment"),
    ("build --kernel {nokasan}", 2, "built without CONFIG_KASAN"),
    ("build --kernel {ikconfig_nokasan}", 2, "built without CONFIG_KASAN (embedded in the image)"),
    ("build --kernel {ikconfig_kasan} -f {frag}", 2, "lacks what it asks: CONFIG_FOO (wanted y, got unset)"),
    ("validate --runs 0", 2, "argument --runs: expected a positive integer, got '0'"),
    ("run --results /bin/ls", 2, "argument --results: /bin/ls is a file, not a directory"),
    ("run --results /bin/ls/run1", 2, "/bin/ls/run1 is under /bin/ls, which is a file, not a directory"),
    ("verify --kernel {notree} --patch {patch} --results {patch}", 2, "argument --results: "),
    ("verify --kernel {notree} --patch {patch} --min-effect 0.5", 2, "expected a factor of at least 1"),
    ("bisect --kernel {notree} --good a --bad b -s umount-check --results /bin/ls", 2, "is a file, not a directory"),
    ("validate --results /bin/ls", 2, "argument --results: /bin/ls is a file, not a directory"),
    ("compare {notree} {notree} --min-effect many", 2, "expected a factor of at least 1, such as 2 or x1.5"),
    ("validate --peer-runs -1", 2, "argument --peer-runs: expected an integer of 0 or more"),
    ("frobnicate", 2, "invalid choice: 'frobnicate'"),
    ("scenarios --config /bin/ls", 2, "--config /bin/ls: not a kernel .config (no CONFIG_ lines)"),
    ("scenarios --config {empty}", 2, "not a kernel .config (no CONFIG_ lines)"),
]


@pytest.mark.parametrize("argv, code, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(files, capsys, argv, code, message):
    args = [a.format(**files) for a in argv.split()]
    assert cli.main(args) == code
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert message in lines[0], err
    assert "Traceback" not in out + err


def test_the_table_holds_at_least_30_cases():
    assert len(CASES) >= 30


def test_a_run_that_skipped_every_item_says_so_and_exits_2(files, tmp_path, capsys):
    """A KASAN kernel without FTRACE: kprobe-churn cannot run there, so nothing is tested."""
    fake_image()
    image = bzimage(tmp_path / "k" / "bzImage", KASAN + "CONFIG_IKCONFIG=y\n")
    assert cli.main(["run", "--kernel", str(image), "-s", "kprobe-churn"]) == 2
    out, err = capsys.readouterr()
    assert "SKIP" in out and "nothing was tested: every item was skipped" in out
    assert "config: embedded in the image" in err


def test_a_prebuilt_image_without_any_config_says_what_cannot_be_checked(files, capsys):
    from harness.kbuild import get_kernel

    said = []
    k = get_kernel(str(files["bare"]), progress=said.append)
    assert k.config_path is None
    assert any("KASAN and the scenarios' kconfig needs cannot be checked" in m for m in said)


def test_a_fragment_the_prebuilt_image_already_has_is_accepted(files, tmp_path):
    from harness.kbuild import get_kernel

    frag = tmp_path / "kasan-only.config"
    frag.write_text(KASAN)
    said = []
    k = get_kernel(str(files["ikconfig_kasan"]), extra_fragments=[str(frag)], progress=said.append)
    assert k.config()["CONFIG_KASAN"] == "y"
    assert any("already has every setting" in m for m in said)


def pytest_session(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/kernel", "-p", "no:cacheprovider", "-n", "1", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    "arg, message",
    [
        ("--runs=0", "harness: user error: --runs: expected a positive integer, got '0'"),
        ("--duration=-5", "harness: user error: --duration: expected a positive integer, got '-5'"),
        ("--kernel=/nonexistent", "harness: user error: KERNEL=/nonexistent: no such file or directory"),
        ("--results=/bin/ls", "harness: user error: --results: /bin/ls is a file, not a directory"),
    ],
)
def test_make_test_bad_input_is_printed_once_and_exits_2(arg, message):
    r = pytest_session(arg)
    assert r.returncode == 2, r.stdout + r.stderr
    both = r.stdout + r.stderr
    assert both.count(message.split(": ", 2)[-1]) == 1, both
    assert message in r.stderr and "Traceback" not in both


def test_make_test_plan_not_utf8_is_one_line(files):
    r = pytest_session(f"--plan={files['latin1']}")
    assert r.returncode == 2 and "plan is not UTF-8 text: byte 0xf6 at line 3, column 7" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_make_test_runs_0_stops_in_make():
    r = subprocess.run(["make", "-s", "-C", str(REPO), "test", "RUNS=0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "RUNS=0: expected a positive integer" in r.stderr, r.stderr


@pytest.mark.parametrize("value", ["kmv", "hvf", "tcg,kvm"])
def test_a_misspelt_harness_accel_is_refused_before_anything_runs(files, monkeypatch, capsys, value):
    monkeypatch.setenv("HARNESS_ACCEL", value)
    assert cli.main(["run", "-s", "selftest-crash", "--kernel", str(files["notree"])]) == 2
    err = capsys.readouterr().err
    assert err == f"harness: user error: HARNESS_ACCEL={value!r}: expected one of kvm, tcg (or unset, to detect)\n"


def test_make_test_refuses_a_misspelt_harness_accel():
    import os

    r = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/kernel", "-p", "no:cacheprovider", "-n", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "HARNESS_ACCEL": "kmv"},
    )
    assert r.returncode == 2 and "HARNESS_ACCEL='kmv': expected one of kvm, tcg" in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
