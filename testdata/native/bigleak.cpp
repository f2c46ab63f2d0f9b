// bigleak: make bench's large C++ heap. N allocations (default 10
// million) of a few classes and sizes, ~2 GB in all: orders held in a
// global table, each with a line-items array and a note string; one order
// in ten dropped (leaked) with its items. Prints its truth and aborts.
//
// Usage: bigleak [allocations]
#include <cstdio>
#include <cstdlib>
#include <cstring>

struct Item {
    virtual ~Item() {}
    long sku = 0, qty = 0, price = 0;
};

struct Order {
    virtual ~Order() {}
    Item** items = nullptr;
    char* note = nullptr;
    long id = 0, n = 0;
    char pad[1400] = {};
};

int main(int argc, char** argv) {
    long total = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000000;
    // Each order makes 1 + 1 + 1 + 6 allocations.
    long orders = total / 9;
    Order** table = static_cast<Order**>(std::malloc(orders * sizeof(Order*)));
    long kept = 0, leaked = 0;
    for (long i = 0; i < orders; i++) {
        Order* o = new Order;
        o->id = i;
        o->n = 6;
        o->items = static_cast<Item**>(std::malloc(o->n * sizeof(Item*)));
        for (long j = 0; j < o->n; j++) o->items[j] = new Item;
        char buf[64];
        std::snprintf(buf, sizeof buf, "order %ld for customer %ld", i, i % 977);
        o->note = strdup(buf);
        if (i % 10 == 9) {
            leaked++;
            continue;  // dropped: the order, its items array, items and note leak
        }
        table[kept++] = o;
    }
    std::printf("truth orders %ld\ntruth kept %ld\ntruth leaked_orders %ld\n", orders, kept, leaked);
    std::fflush(stdout);
    std::abort();
}
