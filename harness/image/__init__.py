"""The guest image: a Debian root file system with our own init and sshd.

The VM code needs only ``ensure_image()``: it returns a ``GuestImage`` with
the ext4 file to attach read-only (QEMU snapshot), the ssh key to log in
with, and the console line that says the guest is ready. The kernel command
line that goes with it::

    init=/sbin/harness-init root=/dev/vda rw console=ttyS0
    ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off
"""

from harness.image.build import GuestImage, ensure_image
from harness.image.keys import ssh_keypair
from harness.image.recipe import INIT_PATH, READY_MARKER, ROOT_LABEL

__all__ = [
    "GuestImage",
    "INIT_PATH",
    "READY_MARKER",
    "ROOT_LABEL",
    "ensure_image",
    "ssh_keypair",
]
