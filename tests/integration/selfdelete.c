/* A program that removes its own executable before it exits, for the
 * symbolizer's deleted-on-disk test (check_degrade.py deleted): it leaks
 * one 20-byte block from remember() <- main, unlinks the file
 * /proc/self/exe names, prints "deleted" and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

__attribute__((noinline)) static void remember(void)
{
	sink = malloc(20); /* LEAK: 20 bytes */
}

int main(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	remember();
	sink = NULL;
	if (unlink(self) != 0)
		return 1;
	puts("deleted");
	return 0;
}
