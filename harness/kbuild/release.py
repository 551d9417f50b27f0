"""The kernel release a bzImage was built from, read from its own boot header.

Every x86 bzImage carries its version string (the one `uname -r -v` prints):
the setup header's `kernel_version` field (offset 0x20e, boot protocol 2.00+)
holds its offset minus 0x200 (Documentation/arch/x86/boot.rst). Reading it
from the image works the same for a tree we built and a prebuilt bzImage, and
it names what actually boots, not what a Makefile says.
"""

from __future__ import annotations

import re
from pathlib import Path

_HDR_MAGIC = b"HdrS"
_MAGIC_AT = 0x202
_VERSION_PTR_AT = 0x20E
_RELEASE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")

Version = tuple[int, ...]


def release_of(bzimage: Path | str) -> str | None:
    """The image's release string ("6.12.57"), or None where it cannot be read."""
    try:
        with open(bzimage, "rb") as f:
            head = f.read(0x400)
            if len(head) < _VERSION_PTR_AT + 2 or head[_MAGIC_AT:_MAGIC_AT + 4] != _HDR_MAGIC:
                return None
            ptr = int.from_bytes(head[_VERSION_PTR_AT:_VERSION_PTR_AT + 2], "little")
            if ptr == 0:
                return None
            f.seek(ptr + 0x200)
            raw = f.read(256)
    except OSError:
        return None
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return text.split(" ", 1)[0] or None


def parse_version(text: str) -> Version | None:
    """"6.12.57+deb13-amd64" -> (6, 12, 57); "6.1" -> (6, 1); junk -> None."""
    m = _RELEASE.match(text.strip())
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)
