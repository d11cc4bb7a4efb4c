/* cxx-new: operator new and new[] leaks, of types with and without
 * destructors.
 *
 *   new Point (no destructor), dropped: 24 bytes definitely lost
 *     (operator new(unsigned long) <- make_point <- main)
 *   new int[25], dropped: 100 bytes definitely lost
 *     (operator new[](unsigned long) <- make_ints <- main)
 *   new Owner (destructor; owns a new char[64]), dropped: the Owner heads
 *     the buffer: "80 (16 direct, 64 indirect) bytes in 1 blocks"
 *     definitely lost (operator new <- make_owner <- main); the buffer
 *     64 bytes indirectly lost (operator new[] <- Owner::Owner <-
 *     make_owner <- main)
 *   new Owner[2] (destructor: glibc++ puts the element count in the 8
 *     bytes before the elements), dropped entirely: 8 + 2 * 16 = 40 bytes
 *     definitely lost, heading the two 64-byte buffers
 *     ("168 (40 direct, 128 indirect)"; the buffers indirectly lost)
 *   new (std::nothrow) Point, dropped: 24 bytes definitely lost
 *     (operator new(unsigned long, std::nothrow_t const&))
 *   new Point kept in a global: 24 bytes still reachable
 * No iostreams. libstdc++'s emergency exception pool (a 72,704-byte
 * block from its start-up) is freed at exit only under valgrind
 * (__gnu_cxx::__freeres): listed as explained.
 * Heap: 10 allocs (with the pool), 0 frees. */
#include <new>

#include "parity.h"

struct Point {
	long x, y, z;
};

struct Owner {
	char *buf;
	long id;
	EX_FRAME Owner() : buf(new char[64]), id(0) { ex_use(buf); }
	~Owner() { delete[] buf; }
};

Point *g_kept;

EX_FRAME static long make_point(void)
{
	Point *p = new Point(); /* LEAK */
	ex_use(p);
	return p->x;
}

EX_FRAME static int make_ints(void)
{
	int *v = new int[25](); /* LEAK */
	ex_use(v);
	return v[3];
}

EX_FRAME static long make_owner(void)
{
	Owner *o = new Owner; /* LEAK: heads its buffer */
	ex_use(o);
	return o->id;
}

EX_FRAME static long make_owners(void)
{
	Owner *o = new Owner[2]; /* LEAK: count + 2 elements, heads 2 buffers */
	ex_use(o);
	return o[1].id;
}

EX_FRAME static long make_nothrow(void)
{
	Point *p = new (std::nothrow) Point(); /* LEAK */
	ex_use(p);
	return p ? p->y : 1;
}

int main()
{
	long r = make_point() + make_ints() + make_owner() + make_owners() + make_nothrow();
	g_kept = new Point(); /* still reachable */
	ex_use(g_kept);
	pt_scrub_stack();
	return r == 0 ? 0 : 1;
}
