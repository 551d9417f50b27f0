"""Boot speed: `harness boot -- true` vs virtme-ng on the same bzImage, in one run.

Target (issue 2): harness <= 1.0x virtme-ng's time. Both under the same
accelerator choice (TCG here: virtme-ng with --disable-kvm).
"""

from __future__ import annotations

import argparse
import json

import os

from _common import HARNESS, median, say, timed, venv_bin


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kernel", default=None)
    args = ap.parse_args()
    kargs = ["--kernel", args.kernel] if args.kernel else []
    _, r = timed([HARNESS, "build", "--json", *kargs])
    if not r.ok:
        say(f"build failed: {r.stderr[-500:]}")
        return 1
    bzimage = json.loads(r.stdout.strip().splitlines()[-1])["bzimage"]
    timed([HARNESS, "image"])  # warm the image cache outside the timing
    ours, theirs = [], []
    for i in range(args.runs):
        t, r = timed([HARNESS, "boot", *kargs, "--", "true"], timeout=900)
        say(f"harness boot -- true: {t:.1f}s (exit {r.returncode})")
        if r.ok:
            ours.append(t)
        # vng runs its helpers (virtme-run) by name: they must be on PATH.
        path = os.path.dirname(venv_bin("vng")) + os.pathsep + os.environ.get("PATH", "")
        t, r = timed([venv_bin("vng"), "-v", "--disable-kvm", "--force-9p", "-r", bzimage, "--", "true"], timeout=900,
                     env={"PATH": path})
        # Without a virtio-serial port for its result, vng falls back to the console
        # and exits 255 even though the command ran; its init says how it ended.
        ran = r.ok or "script exited with code 0" in (r.stdout + r.stderr)
        say(f"vng --disable-kvm --force-9p -r BZIMAGE -- true: {t:.1f}s (exit {r.returncode}, command ran: {ran})")
        if ran:
            theirs.append(t)
        elif i == 0:
            say("vng failed: " + (r.stderr or r.stdout)[-800:])
    m_ours, m_theirs = median(ours), median(theirs)
    say(f"RESULT boot_harness_s={m_ours:.1f} boot_virtme_ng_s={m_theirs:.1f} ratio={m_ours / m_theirs:.2f} (target <= 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
