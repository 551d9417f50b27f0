"""The harness: a QEMU-driven Linux kernel regression harness."""
