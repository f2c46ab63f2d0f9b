// leaks: heapsift's glibc malloc test program.
//
// Makes allocations whose fate it knows — kept through a global, a stack
// variable or another allocation, leaked by dropping the last pointer (one
// by one, and as a linked list), freed into tcache, fastbins and bins,
// made in a second thread's arena, and large enough to be mmapped — and
// prints the truth as "truth KEY VALUE" lines: per class the count and the
// usable bytes (malloc_usable_size) of the live and the leaked ones, and
// addresses to check. Then it calls abort() so the kernel writes a core.
//
// Usage: leaks [kept [leaked [listlen]]]   (defaults 3000 500 100)
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

struct Base {
    virtual ~Base() {}
    virtual long value() const { return 0; }
};

struct Kept : Base {  // held by an array that a global points to
    long a = 1, b = 2;
};

namespace app {
struct Leaked : Base {  // dropped one by one
    long payload[5] = {};
};
}  // namespace app

struct ListNode : Base {  // a leaked list: only its head is a leak root
    ListNode* next = nullptr;
    long v = 0;
};

struct GlobalOnly : Base {
    long x = 7;
};
struct StackOnly : Base {
    long y = 8;
};
struct HeapOnly : Base {
    long z = 9;
};
struct Holder : Base {  // a global's object that holds a HeapOnly
    HeapOnly* held = nullptr;
};
struct ThreadThing : Base {  // made in the second thread's arena
    long t[3] = {};
};
struct Big : Base {  // large enough to be mmapped
    char buf[1 << 20];
};
struct Freed : Base {  // every one freed
    long f[2] = {};
};
struct FreedLarge : Base {  // freed into the unsorted and small bins
    long f[80] = {};
};

Kept** g_kept;
long g_nkept;
GlobalOnly* g_global_only;
Holder* g_holder;
ThreadThing** g_thread_things;
Big* g_big[3];
char* g_text;
static const long kThreadThings = 200;

template <typename T>
static void add(const char* name, T* p, long* count, long* bytes) {
    (void)name;
    ++*count;
    *bytes += static_cast<long>(malloc_usable_size(p));
}

static void truth(const char* key, const char* cls, long v) {
    std::printf("truth %s:%s %ld\n", key, cls, v);
}

__attribute__((noinline)) static void leak_singles(long n, long* bytes) {
    for (long i = 0; i < n; i++) {
        app::Leaked* volatile p = new app::Leaked;
        *bytes += static_cast<long>(malloc_usable_size(p));
        p = nullptr;
    }
}

__attribute__((noinline)) static void leak_list(long n, long* bytes) {
    ListNode* head = nullptr;
    for (long i = 0; i < n; i++) {
        ListNode* node = new ListNode;
        node->v = i;
        node->next = head;
        head = node;
        *bytes += static_cast<long>(malloc_usable_size(node));
    }
    std::printf("truth list_head %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(head)));
}

__attribute__((noinline)) static void make_free(void) {
    // 7 go to tcache, the rest of these small ones to the fastbin.
    Freed* small[20];
    for (auto& p : small) p = new Freed;
    FreedLarge* large[20];
    Kept* fence[20];
    for (int i = 0; i < 20; i++) {
        large[i] = new FreedLarge;
        fence[i] = new Kept;  // keeps the freed large ones apart
    }
    for (auto p : small) delete p;
    for (auto p : large) delete p;
    std::printf("truth freed_tcache %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(small[0])));
    std::printf("truth freed_fastbin %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(small[19])));
    std::printf("truth freed_bin %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(large[19])));
    for (int i = 0; i < 20; i++) {
        g_kept[g_nkept++] = fence[i];
    }
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool ready;
static long thread_bytes;

static void* thread_main(void*) {
    ThreadThing** arr = static_cast<ThreadThing**>(malloc(kThreadThings * sizeof(ThreadThing*)));
    long n = 0;
    for (long i = 0; i < kThreadThings; i++) {
        arr[i] = new ThreadThing;
        add("ThreadThing", arr[i], &n, &thread_bytes);
    }
    g_thread_things = arr;
    pthread_mutex_lock(&mu);
    ready = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    for (;;) pause();
    return nullptr;
}

static long arg(int argc, char** argv, int i, long def) {
    return argc > i ? std::strtol(argv[i], nullptr, 10) : def;
}

int main(int argc, char** argv) {
    long nkept = arg(argc, argv, 1, 3000), nleak = arg(argc, argv, 2, 500), nlist = arg(argc, argv, 3, 100);
    long count = 0, bytes = 0;

    g_kept = static_cast<Kept**>(malloc((nkept + 20) * sizeof(Kept*)));
    for (long i = 0; i < nkept; i++) {
        g_kept[g_nkept++] = new Kept;
    }

    long lb = 0;
    leak_singles(nleak, &lb);
    truth("leaked", "app::Leaked", nleak);
    truth("leakedbytes", "app::Leaked", lb);
    lb = 0;
    leak_list(nlist, &lb);
    truth("leaked", "ListNode", nlist);
    truth("leakedbytes", "ListNode", lb);

    g_global_only = new GlobalOnly;
    g_holder = new Holder;
    g_holder->held = new HeapOnly;
    StackOnly* volatile on_stack = new StackOnly;
    std::printf("truth addr_GlobalOnly %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(g_global_only)));
    std::printf("truth addr_StackOnly %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(on_stack)));
    std::printf("truth addr_HeapOnly %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(g_holder->held)));

    count = bytes = 0;
    for (auto& b : g_big) {
        b = new Big;
        add("Big", b, &count, &bytes);
    }
    truth("count", "Big", count);
    truth("bytes", "Big", bytes);
    g_text = strdup("the quick brown fox jumps over the lazy dog, twice over");

    pthread_t th;
    pthread_create(&th, nullptr, thread_main, nullptr);
    pthread_mutex_lock(&mu);
    while (!ready) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    truth("count", "ThreadThing", kThreadThings);
    truth("bytes", "ThreadThing", thread_bytes);
    std::printf("truth addr_ThreadThing %#lx\n", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(g_thread_things[0])));
    std::printf("truth glibc %s\n", gnu_get_libc_version());
    // Last, so that no later allocation reuses the freed chunks.
    make_free();
    count = bytes = 0;
    for (long i = 0; i < g_nkept; i++) add("Kept", g_kept[i], &count, &bytes);
    truth("count", "Kept", count);
    truth("bytes", "Kept", bytes);
    std::fflush(stdout);
    std::abort();
    (void)on_stack;
}
