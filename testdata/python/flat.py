"""A heap with no dominant holder: heapsift's "no suspect" test program.

Forty module-level lists each hold a few hundred small objects of their
own, so that no object and no group of objects held the same way retains
more than a few percent of the heap. The program prints its ground truth
as "truth KEY VALUE" lines and aborts so the kernel writes a core file.
"""

import os
import sys

HOLDERS = 40
EACH = 300

for i in range(HOLDERS):
    globals()[f"holder_{i}"] = [(f"item-{i}-{j}", float(j)) for j in range(EACH)]

print(f"truth holders {HOLDERS}")
print(f"truth each {EACH}")
print(f"truth pid {os.getpid()}")
sys.stdout.flush()
os.abort()
