"""Session cache: heapsift's Python benchmark input.

A module-level dict keeps every session of a service that never expires
them, the kind of heap a leaking Python service ends with. Each session is
an instance of a class holding a str id, a shared User, a list of tags, a
dict of counters, a list of event tuples (kind, time, payload) and a float:
about 16 objects a session. With N sessions (argv[1], default 700000) the
heap holds more than 16*N objects. The program prints its ground truth as
"truth KEY VALUE" lines and aborts so that the kernel writes a core.
"""

import gc
import os
import sys


class User:
    def __init__(self, name):
        self.name = name
        self.email = name + "@example.com"
        self.roles = ["reader"]


class Session:
    def __init__(self, i, user, kinds):
        self.id = "session-%d-abcdefgh" % i
        self.user = user
        self.tags = ["web", "eu-west-%d" % (i % 3)]
        self.attrs = {"a": i + 1000, "b": 2 * i + 1000}
        self.events = [(kinds[(i + j) % len(kinds)], float(i + j), b"payload-%d" % j)
                       for j in range(3)]
        self.created = float(i)
        self.hits = 0


CACHE = {}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 700000
    gc.disable()  # faster to build; nothing here is garbage
    kinds = ["login", "view", "click", "buy", "logout"]
    user = None
    for i in range(n):
        if i % 4 == 0:
            user = User("user-%d" % (i // 4))
        s = Session(i, user, kinds)
        CACHE[s.id] = s
    print(f"truth sessions {n}")
    print(f"truth tracked {len(gc.get_objects())}")
    print(f"truth python_version {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}")
    print(f"truth pid {os.getpid()}")
    sys.stdout.flush()
    os.abort()


if __name__ == "__main__":
    main()
