/* linked-list: a lost list: one definitely lost head, the rest hang off it.
 *
 * Builds a list of 8 nodes, each carrying a label made with strdup, prints
 * it, properly removes the first two nodes, then drops the head pointer of
 * the remaining six. This is the program `make demo` traces.
 *
 * Expected, per allocation stack:
 *   node stack (malloc <- new_node <- list_push <- build_list <- main):
 *     6 blocks of 24 bytes = 144 bytes; valgrind splits them into
 *     1 block definitely lost (the head: "186 (24 direct, 162 indirect)",
 *     counting the 5 nodes and 6 labels below it) and 5 blocks indirectly
 *     lost.
 *   label stack (malloc <- strdup <- new_node <- list_push <- build_list
 *     <- main): 6 blocks, 42 bytes ("node-2".."node-7", 7 bytes each),
 *     indirectly lost.
 * Heap: 16 allocs of the program (8 nodes, 8 labels), 4 frees.
 * printf's stdout buffer is a further allocation that glibc frees at exit
 * only under valgrind (__libc_freeres); a preloaded tracer sees it live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"

struct node {
	struct node *next;
	char *label;
	long value;
};

EX_FRAME static struct node *new_node(long value)
{
	char name[32];
	struct node *n = malloc(sizeof(*n)); /* LEAK: 6 of these */
	ex_use(n);
	if (!n)
		return NULL;
	snprintf(name, sizeof(name), "node-%ld", value);
	n->label = strdup(name); /* LEAK: 6 of these (indirect) */
	ex_use(n->label);
	n->value = value;
	n->next = NULL;
	return n;
}

EX_FRAME static struct node *list_push(struct node *head, long value)
{
	struct node *n = new_node(value);
	ex_use(n);
	if (!n)
		return head;
	n->next = head;
	return n;
}

EX_FRAME static struct node *build_list(int count)
{
	struct node *head = NULL;
	for (long v = count - 1; v >= 0; v--)
		head = list_push(head, v);
	ex_use(head);
	return head;
}

EX_FRAME static struct node *pop_front(struct node *head)
{
	struct node *next = head->next;
	free(head->label);
	free(head);
	return next;
}

int main(void)
{
	struct node *head = build_list(8);
	for (struct node *n = head; n; n = n->next)
		printf("%s = %ld\n", n->label, n->value);
	head = pop_front(head);
	head = pop_front(head);
	printf("dropping the list at %s without freeing it\n", head->label);
	return 0;
}
