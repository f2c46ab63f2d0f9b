"""Leaky profiler: heapsift's Python test program.

A Profiler keeps every measurement in a class-level list that nobody ever
clears, the way the seed service leaked. Each profiled "downstream call"
leaves behind one tuple (name, start, duration) holding a fresh str and two
fresh floats. After N calls (argv[1], default 100000) the program prints its
ground truth as "truth KEY VALUE" lines and aborts so the kernel writes a
core file.
"""

import os
import sys
import time


class Profiler:
    # The leak: shared by every instance and never trimmed.
    results = []

    def profile(self, name, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            duration = time.perf_counter() - start
            Profiler.results.append((name, start, duration))


def downstream_call(i):
    """Pretend to talk to another service."""
    return i * 2 + 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    profiler = Profiler()
    for i in range(n):
        # A new str per call; start and duration are new float objects.
        profiler.profile(f"downstream-{i}", downstream_call, i)

    leaked = Profiler.results
    assert len(leaked) == n
    assert all(type(r) is tuple and len(r) == 3 for r in leaked)
    print(f"truth tuple_type {id(tuple):#x}")
    print(f"truth float_type {id(float):#x}")
    print(f"truth unicode_type {id(str):#x}")
    print(f"truth list_type {id(list):#x}")
    print(f"truth results_list {id(leaked):#x}")
    print(f"truth first_tuple {id(leaked[0]):#x}" if n else "truth first_tuple 0x0")
    print(f"truth tuples {n}")
    print(f"truth floats {2 * n}")
    print(f"truth strings {n}")
    print(f"truth python_version {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}")
    print(f"truth pid {os.getpid()}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.abort()


if __name__ == "__main__":
    main()
