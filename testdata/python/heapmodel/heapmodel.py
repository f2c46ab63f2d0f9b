"""Heap model: the exactness test program of package pycore.

It builds a heap whose contents are known, prints them as "truth KEY VALUE"
lines, and aborts so the kernel writes a core file:

- the seed's leak: Profiler.results, a class-level list, holds one tuple
  (str, float, float) per profiled call (argv[1] calls, default 20000);
- WithDict instances (attributes in __dict__ or inline values) and WithSlots
  instances (__slots__), held by the module-level dict REGISTRY;
- one ClosureHeld object held only by a closure's cell;
- LocalHeld objects held only by the local variable `mine` of worker(),
  running in another thread blocked on an Event;
- one GenHeld object held only by the local `held` of the suspended
  generator GEN;
- QueueItem objects in the module-level deque QUEUE, appended at both ends;
- StackHeld objects in a list only main()'s evaluation stack holds: it is
  the first argument of a call whose second argument, being evaluated,
  prints the truth and aborts;
- GenStackHeld objects in a list only the list iterator of the suspended
  generator DRAIN's for loop holds (on its evaluation stack), but the one
  its local `item` holds;
- CacheEntry objects held only by the OrderedDict LRU, and Grouped objects
  in a list held only by the defaultdict BY_KEY (C subclasses of dict);
- objects whose sys.getsizeof is not their type's basic size: a bytearray,
  code objects (one with a cell argument, one run often enough for 3.8-3.10
  to give it an opcache), generators, a coroutine and a frame;
- one CodecHeld object held only by a codec search function registered
  with codecs.register (the interpreter's state holds the function);
- the dicts of the types defined in C, held by those types (outside the
  heap), whether or not any object of the type exists;
- Junk objects in two-object cycles, made unreachable with the collector
  disabled: garbage that gc.collect() would free (one of them weakly
  referenced from the module-level list WEAK).
"""

import codecs
import collections
import gc
import os
import sys
import threading
import time
import weakref


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


class WithDict:
    def __init__(self, i):
        self.index = i
        self.label = "item-%d" % i


class WithSlots:
    __slots__ = ("index", "payload")

    def __init__(self, i):
        self.index = i
        self.payload = [i]


class ClosureHeld:
    pass


class LocalHeld:
    pass


class Junk:
    pass


class QueueItem:
    pass


class GenHeld:
    pass


class StackHeld:
    pass


class GenStackHeld:
    pass


class CacheEntry:
    pass


class Grouped:
    pass


class CodecHeld:
    pass


def make_codec_search():
    held = CodecHeld()

    def search(name):
        return held if name == "heapmodel-never-asked" else None

    return search


codecs.register(make_codec_search())


REGISTRY = {}
WEAK = []
QUEUE = collections.deque()
LRU = collections.OrderedDict()
BY_KEY = collections.defaultdict(list)
BUF = bytearray(b"x" * 100)


def make_closure():
    held = ClosureHeld()

    def inner():
        return held

    return inner


CLOSURE = make_closure()


def generator():
    held = GenHeld()
    yield 1
    yield held


GEN = generator()
next(GEN)

GEN_STACK_HELD = 30


def drain():
    for item in [GenStackHeld() for _ in range(GEN_STACK_HELD)]:
        yield item


DRAIN = drain()
next(DRAIN)
STACK_HELD = 25


def hot(i):
    return len(REGISTRY) + i


def cell_argument(x):
    return lambda: x


async def coroutine():
    return 1


CORO = coroutine()


def static_type_dicts():
    """The addresses of the dicts of the types defined in C (no
    Py_TPFLAGS_HEAPTYPE) that object's subclasses reach."""
    seen, todo, dicts = set(), [object], []
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if not t.__flags__ & (1 << 9):
            dicts.append("%#x" % id(gc.get_referents(t.__dict__)[0]))
        todo.extend(type.__subclasses__(t))
    return ",".join(dicts)


def keep(items, _):
    return items


def finish(truth):
    for k, v in truth.items():
        print("truth %s %s" % (k, v))
    sys.stdout.flush()
    os.abort()


def worker(count, ready, stop):
    mine = [LocalHeld() for _ in range(count)]
    ready.set()
    stop.wait()
    return mine


def downstream_call(i):
    return i * 2 + 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    dicts, slots, locals_, junk_pairs, queued = 300, 200, 50, 40, 150
    cached, grouped = 40, 30

    profiler = Profiler()
    for i in range(n):
        profiler.profile("downstream-%d" % i, downstream_call, i)
    for i in range(dicts):
        REGISTRY["d%d" % i] = WithDict(i)
    for i in range(slots):
        REGISTRY["s%d" % i] = WithSlots(i)
    small = {1: "one", 2: "two"}
    members = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
    for i in range(queued):
        if i % 2:
            QUEUE.append(QueueItem())
        else:
            QUEUE.appendleft(QueueItem())
    REGISTRY["small"] = small
    REGISTRY["members"] = members
    for i in range(cached):
        LRU["k%d" % i] = CacheEntry()
    LRU.move_to_end("k0")
    BY_KEY["g"].extend(Grouped() for _ in range(grouped))
    for i in range(2000):
        hot(i)
    frame = sys._getframe()

    ready, stop = threading.Event(), threading.Event()
    holder = threading.Thread(target=worker, args=(locals_, ready, stop), name="holder", daemon=True)
    holder.start()
    ready.wait()

    gc.collect()
    gc.disable()
    for _ in range(junk_pairs):
        a, b = Junk(), Junk()
        a.other, b.other = b, a
    # A weak reference keeps nothing alive.
    WEAK.append(weakref.ref(a))
    del a, b

    t = Profiler.results[0]
    wd, ws = REGISTRY["d0"], REGISTRY["s0"]
    number = wd.index + 1000
    instdict = REGISTRY["d1"].__dict__  # made on demand from 3.11 on
    truth = {
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "tuples": n,
        "count___main__.WithDict": dicts,
        "count___main__.WithSlots": slots,
        "count___main__.ClosureHeld": 1,
        "count___main__.LocalHeld": locals_,
        "count___main__.Profiler": 1,
        "count___main__.QueueItem": queued,
        "count___main__.GenHeld": 1,
        "count___main__.StackHeld": STACK_HELD,
        "count___main__.GenStackHeld": GEN_STACK_HELD,
        "count___main__.CacheEntry": cached,
        "count___main__.Grouped": grouped,
        "count___main__.CodecHeld": 1,
        "stack_func": "main",
        "drain_generator": "%#x" % id(DRAIN),
        "garbage___main__.Junk": 2 * junk_pairs,
        "local_var": "mine",
        "local_func": "worker",
        "local_thread": holder.ident,
        "local_native_thread": getattr(holder, "native_id", 0),
        "thread_name": holder.name,
        "closure_held": "%#x" % id(CLOSURE.__closure__[0].cell_contents),
        "results_list": "%#x" % id(Profiler.results),
        "profiler_class": "%#x" % id(Profiler),
        "static_type_dicts": static_type_dicts(),
    }
    for key, obj in [("tuple", t), ("results", Profiler.results), ("str", t[0]),
                     ("float", t[1]), ("withdict", wd), ("withslots", ws),
                     ("registry", REGISTRY), ("small", small), ("set", members),
                     ("slots_payload", ws.payload), ("int", number),
                     ("queue", QUEUE), ("instdict", instdict), ("class", WithDict), ("function", downstream_call),
                     ("bytearray", BUF), ("lru", LRU), ("by_key", BY_KEY), ("code", downstream_call.__code__),
                     ("hot_code", hot.__code__), ("cell_code", cell_argument.__code__), ("generator", GEN),
                     ("drain", DRAIN), ("coroutine", CORO), ("frame", frame)]:
        truth["addr_" + key] = "%#x" % id(obj)
        truth["sizeof_" + key] = sys.getsizeof(obj)
    tally = {}
    for o in gc.get_objects():
        name = type(o).__name__
        tally[name] = tally.get(name, 0) + 1
    for name in ("tuple", "list", "dict", "function", "WithDict", "WithSlots", "Junk"):
        truth["gc_objects_" + name] = tally.get(name, 0)
    # The list is on main's evaluation stack while finish runs.
    keep([StackHeld() for _ in range(STACK_HELD)], finish(truth))


if __name__ == "__main__":
    main()
