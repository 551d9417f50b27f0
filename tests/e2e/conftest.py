"""End-to-end fixtures: the default kernel and the guest image, built (or reused) once."""

import sys

import pytest

from harness.image import ensure_image
from harness.kbuild import get_kernel


def _progress(msg: str) -> None:
    # Long steps (a cold kernel build is many minutes) must show they are alive.
    print(msg, file=sys.__stderr__, flush=True)


@pytest.fixture(scope="session")
def kernel():
    return get_kernel(None, progress=_progress)


@pytest.fixture(scope="session")
def image():
    return ensure_image(progress=_progress)


@pytest.fixture(scope="session", autouse=True)
def warm_caches(kernel, image):
    """Build the kernel and the image before the first test, in the open.

    Tests that start `harness run` as a subprocess wait for its progress with
    deadlines sized for a run, not for a cold 15-minute kernel build; on a
    fresh machine (CI) that build must happen here, once, with its progress
    on the terminal.
    """
    return kernel, image
