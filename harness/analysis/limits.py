"""How much of a log one report may read: bounded, so memory is too.

syzkaller reads a report to the end of the output; a streamed log of any
size cannot. A report's window is at most WINDOW_LINES lines or
WINDOW_BYTES bytes from its header.
"""

WINDOW_LINES = 1000
WINDOW_BYTES = 256 << 10
