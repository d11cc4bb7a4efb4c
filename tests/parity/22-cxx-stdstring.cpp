/* cxx-stdstring: std::string of the pre-C++11 ABI (built with
 * -D_GLIBCXX_USE_CXX11_ABI=0), whose object holds a pointer to the
 * characters, 24 bytes into its heap "rep" block (length, capacity and
 * refcount come first). valgrind's "stdstring" heuristic (on by default)
 * recognises that pointer and calls the rep still reachable. With the
 * C++11 ABI (short-string buffer, pointer to the block's start) the
 * heuristic never applies, so this scenario needs the old ABI.
 *
 *   g_str = new std::string(100, 'x'):
 *     the 8-byte std::string object: still reachable (operator new <-
 *       make_strings <- main)
 *     its rep, 24 + 100 + 1 = 125 bytes: still reachable via stdstring
 *       (operator new <- std::string::_Rep::_S_create <- ... <-
 *       make_strings <- main)
 *   a second new std::string(40, 'y') whose address is dropped: the 8-byte
 *     object definitely lost, heading its 65-byte rep (indirectly lost)
 * LEAK SUMMARY: "of which reachable via heuristic: stdstring : 125 bytes
 * in 1 blocks".
 * Heap: 5 allocs (with libstdc++'s emergency pool, explained), 0 frees. */
#include <string>

#include "parity.h"

std::string *g_str;

EX_FRAME static size_t make_strings(void)
{
	g_str = new std::string(100, 'x'); /* reachable, rep via stdstring */
	ex_use(g_str);
	std::string *lost = new std::string(40, 'y'); /* LEAK */
	ex_use(lost);
	return g_str->size() + lost->size();
}

int main()
{
	size_t n = make_strings();
	pt_scrub_stack();
	return n == 140 ? 0 : 1;
}
