/* The leaktrace command: `leaktrace report ...` renders a snapshot,
 * `leaktrace signal PID` asks a traced program for a report, `diff` and
 * `trend` compare JSON reports, anything else launches a program under
 * the preloaded library.
 * Context: the leaktrace command (offline side; the traced program never
 * runs this code, it becomes the program through exec). */
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return lt_report_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "signal") == 0)
		return lt_signal_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "diff") == 0)
		return lt_diff_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "trend") == 0)
		return lt_trend_main(argc - 1, argv + 1);
	return lt_launch_main(argc, argv);
}
