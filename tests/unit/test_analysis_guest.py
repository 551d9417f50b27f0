"""Harness-level titles for a guest that died without saying why (or saying it in a report)."""

from __future__ import annotations

import pytest

from harness.analysis import LOST_CONNECTION, NO_OUTPUT, UNEXPECTED_REBOOT, guest_death_report, guest_death_title
from test_analysis_seed import PICK_LINK_NULL


def test_reason_titles_when_the_console_says_nothing():
    tail = "[  10.0] systemd[1]: Started Journal Service.\n"
    assert guest_death_title(tail, "lost-connection") == LOST_CONNECTION == "lost connection to test machine"
    assert guest_death_title(tail, "no-output") == NO_OUTPUT == "no output from test machine"
    assert guest_death_title("", "reboot") == UNEXPECTED_REBOOT == "unexpected kernel reboot"


def test_a_kernel_report_in_the_tail_names_the_death():
    assert guest_death_title(PICK_LINK_NULL, "lost-connection") == (
        "BUG: unable to handle kernel NULL pointer dereference in pick_link"
    )
    assert guest_death_title(PICK_LINK_NULL.encode(), "no-output").startswith("BUG: unable to handle")


def test_a_reboot_in_the_tail():
    tail = b"[ 12.0] sd 0:0:0:0: [sda] Synchronizing SCSI cache\n[ 12.1] reboot: Restarting system\n"
    r = guest_death_report(tail, "lost-connection")
    assert r.title == UNEXPECTED_REBOOT
    assert r.type == "REBOOT"  # syzkaller's crash.UnexpectedReboot
    assert "Restarting system" in r.text
    assert guest_death_title("Booting the kernel.\n", "lost-connection") == UNEXPECTED_REBOOT


def test_unknown_reason():
    with pytest.raises(ValueError, match="reason"):
        guest_death_title("", "melted")
