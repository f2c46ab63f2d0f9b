"""heapsift --pid's Python test program.

Like ../python/profiler.py it leaves N tuples (name, start, duration) in a
list, each holding a fresh str and two fresh floats, and prints its ground
truth as "truth KEY VALUE" lines; then, instead of aborting, it waits with
"truth ready 1" printed, answering SIGUSR1 with the line "alive". SIGABRT
ends it with a core of the same heap.
"""

import os
import signal
import sys
import time

results = []


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    for i in range(n):
        start = time.perf_counter()
        results.append((f"downstream-{i}", start, time.perf_counter() - start))
    print(f"truth tuple_type {id(tuple):#x}")
    print(f"truth float_type {id(float):#x}")
    print(f"truth unicode_type {id(str):#x}")
    print(f"truth tuples {n}")
    print(f"truth floats {2 * n}")
    print(f"truth strings {n}")
    print(f"truth pid {os.getpid()}")

    def alive(signum, frame):
        sys.stdout.write("alive\n")
        sys.stdout.flush()

    # The handler first, so that nothing the script does after "ready"
    # (but sleeping) changes its heap while heapsift reads it.
    signal.signal(signal.SIGUSR1, alive)
    print("truth ready 1")
    sys.stdout.flush()
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
