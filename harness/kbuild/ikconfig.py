"""The .config a kernel image carries in itself (CONFIG_IKCONFIG), as
scripts/extract-ikconfig finds it.

With CONFIG_IKCONFIG the build embeds its .config, gzip-compressed, between
the markers "IKCFG_ST" and "IKCFG_ED" in vmlinux. In a bzImage that vmlinux
is itself compressed: the x86 boot header says where the payload is
(setup_sects at 0x1f1, payload_offset and payload_length at 0x248, boot
protocol 2.08 and later) and its first bytes say how it was compressed.
extract-ikconfig tries every decompressor at every offset where a magic
appears; the header lets this go straight to the payload instead.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import tempfile
import zlib
from pathlib import Path

from harness import proc

START, END = b"IKCFG_ST", b"IKCFG_ED"
_SETUP_SECTS = 0x1F1
_PAYLOAD = 0x248
_MIN_PROTOCOL = 0x0208
_VERSION = 0x206

# magic -> how to decompress; external tools for what Python's stdlib lacks.
_TOOLS = {b"\x28\xb5\x2f\xfd": "zstd", b"\x02\x21\x4c\x18": "lz4", b"\x89LZO": "lzop"}


def _payload(image: bytes) -> bytes | None:
    if len(image) < _PAYLOAD + 8 or image[0x202:0x206] != b"HdrS":
        return None
    (protocol,) = struct.unpack_from("<H", image, _VERSION)
    if protocol < _MIN_PROTOCOL:
        return None
    setup_sects = image[_SETUP_SECTS] or 4
    offset, length = struct.unpack_from("<II", image, _PAYLOAD)
    start = (setup_sects + 1) * 512 + offset
    return image[start:start + length] if start + length <= len(image) else None


def _decompress(data: bytes) -> bytes | None:
    """vmlinux out of a bzImage payload; None when the method is unknown or its tool missing."""
    try:
        if data[:2] == b"\x1f\x8b":
            # The payload ends with the decompressed size; zlib stops at the stream's end.
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data)
        if data[:3] == b"\x5d\x00\x00":
            return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(data)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError):
        return None
    for magic, tool in _TOOLS.items():
        if data.startswith(magic):
            return _with_tool(tool, data)
    return None


def _with_tool(tool: str, data: bytes) -> bytes | None:
    if proc.which(tool) is None:
        return None
    with tempfile.TemporaryDirectory(prefix="harness-ikconfig-") as tmp:
        src, dst = Path(tmp) / "payload", Path(tmp) / "vmlinux"
        src.write_bytes(data)
        # -d decompress, -q quiet, -f: the payload has trailing bytes (the size word) some tools dislike.
        proc.run([tool, "-dqf", src, "-o", dst], check=False, timeout=300)
        return dst.read_bytes() if dst.is_file() and dst.stat().st_size else None


def _embedded(blob: bytes) -> str | None:
    start = blob.find(START)
    if start < 0:
        return None
    end = blob.find(END, start)
    if end < 0:
        return None
    try:
        return gzip.decompress(blob[start + len(START):end]).decode("utf-8", "replace")
    except (OSError, EOFError, zlib.error):
        return None


def extract(image: Path) -> str | None:
    """The embedded .config of a bzImage or a vmlinux, or None when it has none
    (or is compressed with a method whose tool is not installed)."""
    data = image.read_bytes()
    found = _embedded(data)  # a vmlinux, or an uncompressed payload
    if found is not None:
        return found
    payload = _payload(data)
    if payload is None:
        return None
    vmlinux = _decompress(payload)
    return _embedded(vmlinux) if vmlinux else None
