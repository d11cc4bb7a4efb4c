/* no-leak: every block freed before exit, through every entry point. The
 * report must say "All heap blocks were freed -- no leaks are possible"
 * and show no LEAK SUMMARY, exactly as valgrind does.
 *
 * malloc, calloc, realloc (grow, shrink, to 0), reallocarray,
 * posix_memalign, aligned_alloc, memalign, valloc, strdup, and a linked
 * list of 50 nodes built and torn down. No stdio (its buffer would stay
 * allocated under an in-process tracer; see compare_valgrind.py).
 * Heap (valgrind's counting): every alloc has its free; 0 bytes in 0
 * blocks in use at exit. */
#include <malloc.h>

#include "parity.h"

struct node {
	struct node *next;
	long v;
};

EX_FRAME static int churn_list(int n)
{
	struct node *head = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = malloc(sizeof(*x));
		if (!x)
			return 1;
		x->next = head;
		x->v = i;
		head = x;
	}
	long sum = 0;
	while (head) {
		struct node *next = head->next;
		sum += head->v;
		free(head);
		head = next;
	}
	return sum == (long)n * (n - 1) / 2 ? 0 : 1;
}

EX_FRAME static int every_entry(void)
{
	void *p = malloc(10), *q = calloc(3, 7), *a = NULL;
	p = realloc(p, 100);
	p = realloc(p, 5);
	q = reallocarray(q, 4, 9);
	if (posix_memalign(&a, 64, 33) != 0)
		return 1;
	void *b = aligned_alloc(32, 64), *c = memalign(16, 17), *d = valloc(10);
	char *s = strdup("parity");
	void *z = realloc(malloc(8), 0);
	int ok = p && q && a && b && c && d && s && !z;
	free(p);
	free(q);
	free(a);
	free(b);
	free(c);
	free(d);
	free(s);
	return ok ? 0 : 1;
}

int main(void)
{
	return every_entry() + churn_list(50);
}
