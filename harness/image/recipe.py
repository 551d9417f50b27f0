"""What the guest image is made of, and the cache key that names it.

The recipe is data: the Debian suite, the package list and every file in
``images/`` (init source, sshd config, ...), plus the per-install public key
and the source of the builder itself. Any change to any of them yields a new
key, hence a new image; nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import InfraError
from harness import paths
from harness.paths import digest

SUITE = "bookworm"
VARIANT = "minbase"
# What harness-init prints on the console once sshd listens. Passed to the C
# compiler at build time, so host and guest share this one definition.
READY_MARKER = "HARNESS-GUEST-READY"
# Where the kernel finds our init (init= on the command line). With merged
# /usr, /sbin is a symlink to usr/sbin; the file itself is in usr/sbin.
INIT_PATH = "/sbin/harness-init"
ROOT_LABEL = "harness-root"

PACKAGES_FILE = "packages"
INIT_SOURCE = "harness-init.c"
SSHD_CONFIG = "sshd_config"
# The builder's own source is part of the key: a change in how the tree is
# configured must not silently reuse an image made the old way.
_BUILDER_SOURCES = ("build.py", "tree.py", "recipe.py")


@dataclass(frozen=True)
class Recipe:
    suite: str
    variant: str
    packages: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]  # (path relative to images/, content)
    pubkey: bytes
    builder: bytes  # the builder's source, for the key only
    images_dir: Path

    @property
    def key(self) -> str:
        parts: list[bytes | str] = [self.suite, self.variant, ",".join(self.packages)]
        for name, content in self.files:
            parts += [name, content]
        parts += [self.pubkey, self.builder]
        return digest(*parts)

    def file(self, name: str) -> Path:
        return self.images_dir / name


def parse_packages(text: str) -> tuple[str, ...]:
    """One package per line; '#' starts a comment; order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def load_recipe(pubkey: bytes, images_dir: Path | None = None) -> Recipe:
    images_dir = images_dir or paths.IMAGES  # looked up late so tests can point elsewhere
    if not images_dir.is_dir():
        raise InfraError(f"image recipe directory {images_dir} is missing")
    files = tuple(
        (p.relative_to(images_dir).as_posix(), p.read_bytes())
        for p in sorted(images_dir.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    )
    names = {name for name, _ in files}
    for required in (PACKAGES_FILE, INIT_SOURCE, SSHD_CONFIG):
        if required not in names:
            raise InfraError(f"image recipe file {images_dir / required} is missing")
    here = Path(__file__).resolve().parent
    builder = b"".join((here / name).read_bytes() for name in _BUILDER_SOURCES)
    return Recipe(
        suite=SUITE,
        variant=VARIANT,
        packages=parse_packages((images_dir / PACKAGES_FILE).read_text()),
        files=files,
        pubkey=pubkey.strip(),
        builder=builder,
        images_dir=images_dir,
    )
