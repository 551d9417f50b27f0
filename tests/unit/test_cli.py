"""The CLI's contract: one line and a distinct exit code for every error kind."""

import errno
import subprocess

import pytest

from harness import cli
from harness.errors import BuildError
from harness.paths import REPO


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2


def test_oserror_is_one_infrastructure_line(monkeypatch, capsys):
    def boom(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/results/run/console.log")

    monkeypatch.setattr(cli, "build_parser", lambda: _parser_with(boom))
    assert cli.main(["x"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["harness: infrastructure error: No space left on device: /results/run/console.log"]


def test_build_error_shows_its_detail_after_the_line(monkeypatch, capsys):
    def boom(args):
        raise BuildError("kernel build failed (/src)", log="/b/build.log", detail="fs/x.c:1:1: error: boom")

    monkeypatch.setattr(cli, "build_parser", lambda: _parser_with(boom))
    assert cli.main(["x"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "harness: build error: kernel build failed (/src) (log: /b/build.log)"
    assert err[1] == "fs/x.c:1:1: error: boom"


def test_missing_qemu_is_one_line(monkeypatch, tmp_path, capsys):
    from harness.vm import VM, VMOptions

    vm = VM(tmp_path / "bz", tmp_path / "root", tmp_path / "key", "READY", tmp_path / "vm",
            VMOptions(qemu="qemu-system-x86_64-not-installed"), progress=lambda m: None)
    with pytest.raises(Exception) as e:
        with vm:
            pass
    assert "not found" in str(e.value) and e.value.exit_code == 3


def _parser_with(func):
    import argparse

    p = argparse.ArgumentParser()
    sub = p.add_subparsers()
    s = sub.add_parser("x")
    s.set_defaults(func=func)
    return p


def test_make_test_passes_runs_to_the_suite():
    """`make test RUNS=5` is the false-positive soak: the plan's scenarios, each 5 times."""
    r = subprocess.run(["make", "-n", "-s", "-C", str(REPO), "test", "RUNS=5", "JOBS=2"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "tests/kernel" in r.stdout and "-n 2" in r.stdout and "--runs=5" in r.stdout


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("harness ")


@pytest.mark.parametrize("command", sorted(cli.EXAMPLES))
def test_every_help_has_an_example_and_the_environment(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"example:\n  {cli.EXAMPLES[command]}" in out
    assert "HARNESS_CACHE" in out and "HARNESS_RESULTS" in out


def test_defaults_are_shown_where_they_are_values(capsys):
    cli.main(["boot", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 2G)" in out and "(default: 2)" in out and "(default: 600.0)" in out
    assert "(default: None)" not in out and "(default: False)" not in out


def test_memory_takes_sizes():
    from harness.argtypes import size_mib

    assert [size_mib(s) for s in ("2G", "2g", "1536M", "2048", "2GiB", "1T")] == [2048, 2048, 1536, 2048, 2048, 1 << 20]


def test_no_subcommand_uses_k_for_the_kernel(capsys):
    for command in ("build", "boot", "run", "verify", "bisect"):
        cli.main([command, "--help"])
        assert "-k KERNEL" not in capsys.readouterr().out



def test_the_cli_does_not_load_charts_or_ssh_until_used():
    # matplotlib+numpy and paramiko+cryptography were 60 MB of every command's
    # RSS (harness analyze's included) and most of its start-up.
    import subprocess
    import sys

    code = ("import sys, harness.cli; heavy = ('matplotlib', 'numpy', 'paramiko', 'cryptography');"
            " print(' '.join(m for m in heavy if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert r.stdout.strip() == ""
