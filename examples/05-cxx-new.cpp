/* cxx-new: leaks through C++ operator new and new[].
 *
 * Expected, one loss record each (frame 0 is the operator that allocated):
 *   40 bytes, operator new(unsigned long)        <- make_widget <- main
 *   100 bytes, operator new[](unsigned long)     <- make_bytes  <- main
 *   32 bytes, operator new[](unsigned long)      <- make_tracked <- main
 *      (3 objects with a destructor: 8-byte element count + 3 * 8 bytes)
 *   16 bytes, operator new[](unsigned long, std::nothrow_t const&)
 *                                                 <- make_nothrow <- main
 * One more widget and one more byte array are allocated and deleted.
 * libstdc++ allocates its exception emergency pool at start-up; valgrind
 * frees it at exit (__gnu_cxx::__freeres), a preloaded tracer sees it live. */
#include <cstddef>
#include <cstring>
#include <new>

#include "example.h"

struct Widget {
	int id;
	char name[28];
	Widget *next;
};

struct Tracked {
	long value;
	~Tracked() { ex_use(this); }
};

EX_FRAME static Widget *make_widget(int id)
{
	Widget *w = new Widget(); // LEAK (once): 40 bytes
	ex_use(w);
	w->id = id;
	std::strcpy(w->name, "widget");
	return w;
}

EX_FRAME static char *make_bytes(std::size_t n)
{
	char *b = new char[n]; // LEAK (once): 100 bytes
	ex_use(b);
	std::memset(b, 0, n);
	return b;
}

EX_FRAME static Tracked *make_tracked(void)
{
	Tracked *t = new Tracked[3]; // LEAK: 32 bytes
	ex_use(t);
	return t;
}

EX_FRAME static long *make_nothrow(void)
{
	long *p = new (std::nothrow) long[2]; // LEAK: 16 bytes
	ex_use(p);
	return p;
}

int main()
{
	Widget *kept = make_widget(1);
	char *bytes = make_bytes(100);
	delete kept;
	delete[] bytes;
	ex_use(make_widget(2));
	ex_use(make_bytes(100));
	ex_use(make_tracked());
	ex_use(make_nothrow());
	return 0;
}
