"""Hostile names: heapsift's report escaping test program.

A class whose name holds markup, quotes and ampersands, and a module-level
list of N (argv[1], default 20000) of its instances, so that the name shows
up as a suspect's members, in the type table and in the icicle graph. The
program prints its ground truth as "truth KEY VALUE" lines and aborts so
the kernel writes a core file.
"""

import os
import sys

NAME = "<script>alert(\"pwned\")</script>&amp;'x'"

Hostile = type(NAME, (), {})

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
kept = [Hostile() for _ in range(n)]

print(f"truth instances {n}")
print(f"truth pid {os.getpid()}")
sys.stdout.flush()
os.abort()
