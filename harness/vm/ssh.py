"""SSH to the guest with paramiko: connect until a deadline, run with a timeout, upload."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

from harness.errors import GuestLost

if TYPE_CHECKING:
    import paramiko


def _paramiko() -> ModuleType:
    """paramiko, loaded by the first connection: importing it (and its
    cryptography) costs every harness command about 30 MB and most of a
    second, and `harness analyze` or a build never opens a connection."""
    import paramiko

    return paramiko

OutputSink = Callable[[str], None]


@dataclass
class CommandResult:
    command: str
    exit_status: int | None  # None when the command timed out or the connection was lost
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class SSHClient:
    def __init__(self, host: str, port: int, key: Path, user: str = "root"):
        self.host, self.port, self.key, self.user = host, port, key, user
        self._client: paramiko.SSHClient | None = None

    def connect(self, deadline: float, alive: Callable[[], bool] = lambda: True) -> None:
        """Connect, retrying until ``deadline`` (time.monotonic) or until ``alive()`` says no."""
        paramiko = _paramiko()
        pkey = paramiko.Ed25519Key.from_private_key_file(str(self.key))
        last: Exception | None = None
        while time.monotonic() < deadline and alive():
            client = paramiko.SSHClient()
            # The guest's host key is ours (generated at image build) and the port is on
            # 127.0.0.1 only, so there is no third party to verify against.
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            try:
                client.connect(
                    self.host,
                    port=self.port,
                    username=self.user,
                    pkey=pkey,
                    timeout=10,
                    banner_timeout=30,
                    auth_timeout=30,
                    allow_agent=False,
                    look_for_keys=False,
                )
            except (OSError, paramiko.SSHException, EOFError) as e:
                last = e
                client.close()
                time.sleep(0.5)
                continue
            transport = client.get_transport()
            if transport is not None:
                transport.set_keepalive(5)
            self._client = client
            return
        raise GuestLost(f"could not connect over ssh to {self.host}:{self.port}: {last or 'guest not alive'}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(
        self,
        command: str,
        timeout: float,
        on_stdout: OutputSink | None = None,
        on_stderr: OutputSink | None = None,
    ) -> CommandResult:
        """Run a shell command line in the guest; stream output lines to the sinks."""
        paramiko = _paramiko()
        if self._client is None:
            raise GuestLost("ssh is not connected")
        start = time.monotonic()
        out: list[bytes] = []
        err: list[bytes] = []
        bufs = {"out": b"", "err": b""}

        def feed(kind: str, data: bytes, sink: OutputSink | None) -> None:
            (out if kind == "out" else err).append(data)
            if sink is None:
                return
            bufs[kind] += data
            *lines, bufs[kind] = bufs[kind].split(b"\n")
            for line in lines:
                sink(line.decode("utf-8", "replace"))

        try:
            transport = self._client.get_transport()
            if transport is None or not transport.is_active():
                raise GuestLost("ssh connection lost")
            chan = transport.open_session(timeout=30)
            chan.settimeout(0.2)
            chan.exec_command(command)
            deadline = start + timeout
            timed_out = False
            while True:
                if chan.recv_ready():
                    feed("out", chan.recv(65536), on_stdout)
                    continue
                if chan.recv_stderr_ready():
                    feed("err", chan.recv_stderr(65536), on_stderr)
                    continue
                if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                    break
                if not transport.is_active():
                    raise GuestLost("ssh connection lost while running: " + command[:80])
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                time.sleep(0.02)
            status = None if timed_out else chan.recv_exit_status()
            chan.close()
        except (OSError, EOFError, paramiko.SSHException, socket.timeout) as e:
            raise GuestLost(f"ssh connection lost while running {command[:80]!r}: {e}") from e
        for kind, sink in (("out", on_stdout), ("err", on_stderr)):
            if sink is not None and bufs[kind]:
                sink(bufs[kind].decode("utf-8", "replace"))
        return CommandResult(
            command,
            status,
            b"".join(out).decode("utf-8", "replace"),
            b"".join(err).decode("utf-8", "replace"),
            time.monotonic() - start,
            timed_out,
        )

    def upload(self, local: Path, remote: str, mode: int = 0o755) -> None:
        paramiko = _paramiko()
        if self._client is None:
            raise GuestLost("ssh is not connected")
        try:
            sftp = self._client.open_sftp()
            try:
                sftp.put(str(local), remote)
                sftp.chmod(remote, mode)
            finally:
                sftp.close()
        except (OSError, EOFError, paramiko.SSHException) as e:
            raise GuestLost(f"upload of {local} to {remote} failed: {e}") from e
