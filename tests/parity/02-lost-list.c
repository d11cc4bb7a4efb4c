/* lost-list: a singly linked list of 10 nodes whose head pointer is lost.
 *
 * Each node is 32 bytes (next pointer, id, payload). The list is built by
 * pushing at the head, then the only pointer to the head is dropped.
 *
 * Expected, one allocation stack (malloc <- new_node <- build_list
 * <- main), split by kind:
 *   definitely lost: the head, "320 (32 direct, 288 indirect) bytes in 1
 *                    blocks"
 *   indirectly lost: the 9 nodes below it, 288 bytes in 9 blocks
 * Heap: 10 allocs, 0 frees, 320 bytes allocated. */
#include "parity.h"

struct node {
	struct node *next;
	long id;
	char payload[16];
};

EX_FRAME static struct node *new_node(long id, struct node *next)
{
	struct node *n = malloc(sizeof(*n)); /* LEAK: 10 nodes */
	ex_use(n);
	if (!n)
		return next;
	n->next = next;
	n->id = id;
	memset(n->payload, (int)id, sizeof(n->payload));
	return n;
}

EX_FRAME static long build_list(int count)
{
	struct node *head = NULL;
	for (int i = 0; i < count; i++) {
		head = new_node(i, head);
		ex_use(head);
	}
	long sum = 0;
	for (struct node *n = head; n; n = n->next)
		sum += n->id;
	return sum; /* head is dropped */
}

int main(void)
{
	long sum = build_list(10);
	pt_scrub_stack();
	return sum == 45 ? 0 : 1;
}
