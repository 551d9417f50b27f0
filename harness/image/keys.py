"""The per-install ssh key pair the host logs into every guest with.

Made once per cache directory, never in the repo: a key in git would be a
key on every machine that clones it. Concurrent first callers (pytest-xdist
workers) are serialised by a lock and the pair appears by rename, so nobody
ever sees half a key.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness import proc
from harness.errors import InfraError
from harness.paths import cache_dir

from harness.lock import file_lock

KEY_NAME = "id_ed25519"


def ssh_keypair() -> tuple[Path, Path]:
    """Return (private, public) key paths, creating the pair on first use."""
    d = cache_dir() / "ssh"
    private, public = d / KEY_NAME, d / f"{KEY_NAME}.pub"
    if private.is_file() and public.is_file():
        return private, public
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    with file_lock(d / ".lock"):
        if private.is_file() and public.is_file():
            return private, public
        tmp = d / f".tmp-{os.getpid()}"
        for stale in (tmp, tmp.with_name(tmp.name + ".pub")):
            stale.unlink(missing_ok=True)
        try:
            proc.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "harness", "-f", tmp],
                timeout=60,
                what="ssh-keygen",
            )
        except proc.ProcessError as e:
            hint = " (apt-get install openssh-client)" if e.result.returncode == 127 else ""
            raise InfraError(f"cannot create the ssh key pair in {d}: {e}{hint}") from e
        os.chmod(tmp, 0o600)
        os.replace(tmp.with_name(tmp.name + ".pub"), public)
        os.replace(tmp, private)
    return private, public
