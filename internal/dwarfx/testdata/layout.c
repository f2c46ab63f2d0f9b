/* A struct with the shapes dwarfx walks: a typedef'd const member, an
 * anonymous union and struct, a nested named struct, bit fields (one at
 * the top of its unit) and an array. The program prints each member's
 * offset and each bit field's first bit as ground truth for
 * dwarfx_test.go. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
	unsigned rest : 24;
	unsigned top : 3; /* fills its unit's most significant bits */
	long items[7];
};
typedef struct outer outer_t;

/* firstBit is the lowest set bit of the struct's bytes, counted from
 * its start as a little-endian machine numbers them. */
static int firstBit(const unsigned char *p, size_t n) {
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			if (p[i] >> b & 1)
				return (int)(8 * i) + b;
	return -1;
}

#define BIT(f) do { outer_t z; memset(&z, 0, sizeof z); z.f = ~0u; \
	printf("bit_" #f " %d\n", firstBit((unsigned char *)&z, sizeof z)); } while (0)

int main(void) {
	outer_t o = {0};
	BIT(kind);
	BIT(compact);
	BIT(ascii);
	BIT(rest);
	BIT(top);
	printf("count %zu\n", offsetof(struct outer, count));
	printf("ptr %zu\n", offsetof(struct outer, ptr));
	printf("hi %zu\n", offsetof(struct outer, hi));
	printf("in.b %zu\n", offsetof(struct outer, in.b));
	printf("items %zu\n", offsetof(struct outer, items));
	printf("items_len %zu\n", sizeof(o.items) / sizeof(o.items[0]));
	printf("size %zu\n", sizeof(struct outer));
	return 0;
}
