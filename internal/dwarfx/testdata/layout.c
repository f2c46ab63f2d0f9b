/* A struct with the shapes dwarfx walks: a typedef'd const member, an
 * anonymous union and struct, a nested named struct, bit fields and an
 * array. The program prints each member's offset (and the bit fields'
 * values' masks) as ground truth for dwarfx_test.go. */
#include <stddef.h>
#include <stdio.h>

typedef const long clong;
struct inner { int a; long b; };
struct outer {
	char tag;
	clong count;
	union {
		void *ptr;
		struct { int lo; int hi; };
	};
	struct inner in;
	unsigned kind : 3;
	unsigned compact : 1;
	unsigned ascii : 1;
	long items[7];
};
typedef struct outer outer_t;

int main(void) {
	outer_t o = {0};
	printf("count %zu\n", offsetof(struct outer, count));
	printf("ptr %zu\n", offsetof(struct outer, ptr));
	printf("hi %zu\n", offsetof(struct outer, hi));
	printf("in.b %zu\n", offsetof(struct outer, in.b));
	printf("items %zu\n", offsetof(struct outer, items));
	printf("items_len %zu\n", sizeof(o.items) / sizeof(o.items[0]));
	printf("size %zu\n", sizeof(struct outer));
	return 0;
}
