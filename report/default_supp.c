/* The suppressions leaktrace applies unless default_suppressions=no, as
 * valgrind applies its own default file. They hide what glibc and
 * libstdc++ keep to the end on purpose and free at exit when running under
 * valgrind (__libc_freeres, __gnu_cxx::__freeres): a traced program sees
 * them still allocated, reachable, and they are nobody's leak. Each block
 * matches "still reachable" only: the same allocation lost would still be
 * reported. */
#include "suppress.h"

const char lt_default_suppressions_name[] = "(default suppressions)";

const char lt_default_suppressions[] =
	"{\n"
	"   libc: buffer of a stdio stream, freed by libc at exit\n"
	"   Memcheck:Leak\n"
	"   match-leak-kinds: reachable\n"
	"   fun:malloc\n"
	"   fun:_IO_file_doallocate\n"
	"}\n"
	"{\n"
	"   libstdc++: emergency pool for exceptions, freed by libstdc++ at exit\n"
	"   Memcheck:Leak\n"
	"   match-leak-kinds: reachable\n"
	"   fun:malloc\n"
	"   obj:*/libstdc++.so*\n"
	"   ...\n"
	"   fun:_dl_init\n"
	"}\n";

const unsigned long lt_default_suppressions_len = sizeof(lt_default_suppressions) - 1;
