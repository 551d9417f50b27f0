"""Open any console log a user has: a file, standard input, compressed or not.

Compression is recognised by its magic bytes, not the file name, so a
renamed file or a compressed stream on standard input reads as well:
gzip, xz, bzip2 through Python's own modules; zstd through the ``zstd``
command (Debian's zstd package), run by harness.proc, since Python 3.11
has no zstd module and a PyPI one would be a new dependency for one format.
Decompression streams: memory does not grow with the log.

A log must be text: an empty log, or one whose first 64 KiB look binary
(NUL bytes, or mostly bytes that are neither UTF-8 text nor a terminal's
control characters), is a user error.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import threading
import zlib
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from harness import proc
from harness.errors import UserError

SNIFF = 64 << 10
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
# Bytes a console may carry besides text: tab, newlines, ESC of colour codes, backspace, bell, form feed.
_TEXT_CONTROLS = set(b"\t\n\r\x1b\x08\x07\x0c")


class _Peeked(io.RawIOBase):
    """A stream with its first bytes read already, put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


def _kind(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return ""


def looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if head.count(0) > max(4, len(head) // 100):
        return True
    text = head.decode("utf-8", "replace")
    bad = text.count("\ufffd") + sum(1 for c in text if ord(c) < 0x20 and ord(c) not in _TEXT_CONTROLS)
    return bad > len(text) * 0.3


@contextmanager
def _zstd(name: str, raw: BinaryIO) -> Iterator[BinaryIO]:
    if proc.which("zstd") is None:
        raise UserError(f"cannot read console log {name}: it is zstd-compressed and the zstd command is missing "
                        "(install Debian's zstd package)")
    child = proc.spawn(["zstd", "-dcq"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None

    def feed() -> None:
        try:
            while chunk := raw.read(1 << 20):
                child.stdin.write(chunk)
        except (BrokenPipeError, OSError):
            pass
        finally:
            try:
                child.stdin.close()
            except OSError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    out = io.BufferedReader(child.stdout, 1 << 20)  # type: ignore[arg-type]
    try:
        if not out.peek(1):
            # Nothing came out: an empty log, or data zstd rejects.
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            err = child.stderr.read().decode("utf-8", "replace").strip() if child.stderr else ""
            if child.returncode:
                raise UserError(f"cannot read console log {name}: bad zstd data ({(err.splitlines() or ['?'])[-1]})")
        yield out
    finally:
        child.stdout.close()
        proc.kill_group(child)
        feeder.join(timeout=5)


def _decompressor(kind: str, raw: BinaryIO) -> BinaryIO:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if kind == "xz":
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    return bz2.BZ2File(raw)  # type: ignore[return-value]


class _Checked(io.RawIOBase):
    """Turns a decompressor's errors on bad data into a UserError naming the log."""

    def __init__(self, name: str, kind: str, inner: BinaryIO) -> None:
        self.name, self.kind, self.inner = name, kind, inner

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            data = self.inner.read(len(b))
        except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as e:
            raise UserError(f"cannot read console log {self.name}: bad {self.kind} data ({e})") from e
        b[: len(data)] = data
        return len(data)


@contextmanager
def open_log(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary stream of the log's text; ``-`` is standard input."""
    name = os.fspath(path)
    if name == "-":
        raw: BinaryIO = sys.stdin.buffer
        close = False
        name = "<stdin>"
    else:
        try:
            raw = open(name, "rb")
        except IsADirectoryError as e:
            raise UserError(f"cannot read console log {name}: is a directory") from e
        except OSError as e:
            raise UserError(f"cannot read console log {name}: {e.strerror or e}") from e
        close = True
    try:
        magic = raw.read(8)
        stream: BinaryIO = io.BufferedReader(_Peeked(magic, raw), 1 << 20)
        kind = _kind(magic)
        if kind == "zstd":
            with _zstd(name, stream) as out:
                yield _sniffed(name, out, kind)
            return
        if kind:
            stream = io.BufferedReader(_Checked(name, kind, _decompressor(kind, stream)), 1 << 20)
        yield _sniffed(name, stream, kind)
    except IsADirectoryError as e:
        raise UserError(f"cannot read console log {name}: is a directory") from e
    finally:
        if close:
            raw.close()


def _sniffed(name: str, stream: BinaryIO, kind: str) -> BinaryIO:
    try:
        head = stream.read(SNIFF)
    except OSError as e:
        raise UserError(f"cannot read console log {name}: {e.strerror or e}") from e
    what = f"{kind}-compressed " if kind else ""
    if not head:
        raise UserError(f"console log {name} is empty" + (f" ({what}data)" if kind else ""))
    if looks_binary(head):
        raise UserError(f"console log {name} is not text ({what}binary data); give a console log or dmesg output")
    return io.BufferedReader(_Peeked(head, stream), 1 << 20)  # type: ignore[arg-type]
