/* Ten million live blocks at exit, all reachable from one array but a
 * thousand of them: the table, the scan and the report at that scale.
 * Small blocks (malloc(1)) keep the run lean. */
#include "robust.h"

enum { BLOCKS = 10 * 1000 * 1000, LOST = 1000 };

/* Not static: a static the compiler sees only one function use may live
 * in a register, and the array would be lost. */
char **blocks;

static int do_many(int argc, char **argv)
{
	blocks = malloc(sizeof(char *) * BLOCKS);
	for (size_t i = 0; i < BLOCKS; i++)
		blocks[i] = malloc(1);
	for (size_t i = 0; i < LOST; i++)
		blocks[i * 9973] = NULL;
	printf("%d blocks live, %d lost\n", BLOCKS, LOST);
	return 0;
}

static const struct scenario scenarios[] = {
	{ "ten-million", do_many },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return run_scenario(scenarios, argc, argv);
}
