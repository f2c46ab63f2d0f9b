"""A stack deeper than heapsift reads: pycore's frame budget test program.

Recurses DEPTH levels (argv[1], default 25000) in one function with a
local variable, prints its ground truth as "truth KEY VALUE" lines and
aborts at the bottom so the kernel writes a core file. From 3.11 on,
Python-to-Python calls take no C stack, so the depth is only Python's.
"""

import os
import sys

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 25000
sys.setrecursionlimit(DEPTH + 100)


def down(n):
    level = n
    if level == 0:
        print(f"truth depth {DEPTH}")
        print(f"truth pid {os.getpid()}")
        sys.stdout.flush()
        os.abort()
    down(level - 1)


down(DEPTH)
