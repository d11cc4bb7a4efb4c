/* Prints a line: if it is ever run by the untraceable-program check, the
 * check sees it on stdout and fails. */
#include <stdio.h>

int main(void)
{
	puts("ran untraced");
	return 0;
}
