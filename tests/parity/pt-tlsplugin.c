/* pt-tlsplugin: a module with a __thread variable, loaded with dlopen by
 * root-dynamic-tls. A dlopen'ed module's TLS is dynamic: glibc allocates
 * each thread's block of it (malloc, from __tls_get_addr) on the thread's
 * first access, and points to it from the thread's vector (DTV).
 *
 *   tls_keep(n)   allocates n bytes and keeps them in this thread's
 *                 tls_block */
#include "parity.h"

/* Not static: the only reader is the leak scan, so a static one would be
 * optimised away at -O2. */
__thread void *tls_block;

int tls_keep(size_t n);

EX_FRAME static void *tls_make(size_t n)
{
	void *p = malloc(n); /* kept in this thread's tls_block */
	ex_use(p);
	if (p)
		memset(p, 0, n);
	return p;
}

EX_FRAME int tls_keep(size_t n)
{
	tls_block = tls_make(n);
	return tls_block ? 0 : 1;
}
