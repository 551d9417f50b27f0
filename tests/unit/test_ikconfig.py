"""The config a bzImage carries (CONFIG_IKCONFIG), found as scripts/extract-ikconfig finds it."""

import bz2
import gzip
import lzma
import shutil
import struct
import subprocess

import pytest

from harness.kbuild import ikconfig

CONFIG = "CONFIG_KASAN=y\n# CONFIG_KCOV is not set\n"


def vmlinux(config: str | None) -> bytes:
    body = b"\x7fELF" + b"\x00" * 64
    if config is not None:
        body += ikconfig.START + gzip.compress(config.encode()) + ikconfig.END
    return body + b"\x00" * 64


def bzimage(payload: bytes, setup_sects: int = 3) -> bytes:
    head = bytearray((setup_sects + 1) * 512)
    head[0x1F1] = setup_sects
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x206, 0x020F)
    struct.pack_into("<II", head, 0x248, 0x10, len(payload))
    return bytes(head) + b"\x00" * 0x10 + payload + struct.pack("<I", 1234)  # the kernel's size word


def zstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


COMPRESSORS = {
    "gzip": gzip.compress,
    "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    "bzip2": bz2.compress,
    "zstd": zstd,
}


@pytest.mark.parametrize("method", COMPRESSORS)
def test_config_is_found_inside_the_compressed_payload(tmp_path, method):
    if method == "zstd" and shutil.which("zstd") is None:
        pytest.skip("zstd not installed")
    image = tmp_path / "bzImage"
    image.write_bytes(bzimage(COMPRESSORS[method](vmlinux(CONFIG))))
    assert ikconfig.extract(image) == CONFIG


def test_a_vmlinux_holds_it_uncompressed(tmp_path):
    (tmp_path / "vmlinux").write_bytes(vmlinux(CONFIG))
    assert ikconfig.extract(tmp_path / "vmlinux") == CONFIG


def test_no_ikconfig_or_unknown_compression_is_none(tmp_path):
    image = tmp_path / "bzImage"
    image.write_bytes(bzimage(gzip.compress(vmlinux(None))))
    assert ikconfig.extract(image) is None
    image.write_bytes(bzimage(b"\x01\x02unknown" + vmlinux(None)[:10]))
    assert ikconfig.extract(image) is None
    image.write_bytes(b"not a kernel at all")
    assert ikconfig.extract(image) is None
