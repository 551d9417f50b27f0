"""The CLI's contract: one line and a distinct exit code for every error kind."""

import errno

import pytest

from harness import cli
from harness.errors import BuildError


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
