/* lost-tree: a complete binary tree of depth 4 (15 nodes) whose root
 * pointer is lost, and a tree of depth 2 (3 nodes) kept in a global.
 *
 * Nodes are 24 bytes (left, right, key), allocated by
 *     malloc <- new_tree_node <- build_tree (recursive) ... <- main
 * build_tree calls itself from two lines (left, right), so every path from
 * the root is its own stack, and each record holds one node. The lost tree
 * is built under lose_tree, the kept one straight from main, so the two
 * never share a stack. Totals by depth d (number of build_tree frames):
 *   lost, d=1: the root, "360 (24 direct, 336 indirect)" definitely lost
 *   lost, d=2..4: 2, 4 and 8 nodes indirectly lost (336 bytes in 14)
 *   kept, d=1: 24 bytes still reachable (g_kept)
 *   kept, d=2: 2 nodes, 48 bytes still reachable
 * Heap: 18 allocs, 0 frees, 432 bytes allocated. */
#include "parity.h"

struct tnode {
	struct tnode *left;
	struct tnode *right;
	long key;
};

struct tnode *g_kept;

EX_FRAME static struct tnode *new_tree_node(long key)
{
	struct tnode *n = malloc(sizeof(*n)); /* LEAK: 15 of these */
	ex_use(n);
	if (n) {
		n->left = n->right = NULL;
		n->key = key;
	}
	return n;
}

EX_FRAME static struct tnode *build_tree(int depth, long key)
{
	struct tnode *n = new_tree_node(key);
	ex_use(n);
	if (n && depth > 1) {
		n->left = build_tree(depth - 1, 2 * key);
		n->right = build_tree(depth - 1, 2 * key + 1);
	}
	return n;
}

EX_FRAME static long sum_tree(const struct tnode *n)
{
	long s = n ? n->key + sum_tree(n->left) + sum_tree(n->right) : 0;
	ex_use(&s);
	return s;
}

EX_FRAME static long lose_tree(void)
{
	struct tnode *root = build_tree(4, 1);
	ex_use(root);
	return sum_tree(root); /* root is dropped */
}

int main(void)
{
	long lost = lose_tree();
	g_kept = build_tree(2, 1);
	ex_use(g_kept);
	pt_scrub_stack();
	return lost == 120 && sum_tree(g_kept) == 6 ? 0 : 1;
}
