"""``harness image [--rebuild]``: build (or find) the guest image, print its paths."""

from __future__ import annotations

import argparse
import sys

from harness.errors import EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "image",
        help="build the guest root file system (cached) and print its paths",
        description="Build the Debian guest image (debootstrap + mkfs.ext4 -d) unless "
        "the cached one matches the recipe in images/, then print where it is.",
    )
    p.add_argument(
        "--rebuild", action="store_true", help="build anew even if a cached image matches"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness.image import ensure_image  # keep `harness --help` fast

    # progress goes to stderr so stdout is just the paths, for scripts
    image = ensure_image(progress=lambda line: print(line, file=sys.stderr, flush=True),
                         rebuild=args.rebuild)
    print(f"rootfs:  {image.rootfs}")
    print(f"ssh key: {image.ssh_key}")
    print(f"key:     {image.key}")
    return EXIT_OK
