/* Unit tests of the options table (common/options.c): names with '-' or
 * '_', every value type and its limits, lists, formatting back, and %p
 * expansion, with the exact one-line errors users see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"

static struct lt_options o;
static char err[256];

static int setup(void **state)
{
	lt_options_defaults(&o);
	err[0] = '\0';
	return 0;
}

static int set(const char *name, const char *value)
{
	return lt_options_set(&o, name, strlen(name), value, strlen(value), err, sizeof(err));
}

static void test_defaults(void **state)
{
	assert_string_equal(o.log_file, "");
	assert_false(o.xml);
	assert_int_equal(o.num_callers, 12);
	char buf[64];
	assert_int_equal(lt_options_format(&o, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_names(void **state)
{
	assert_int_equal(set("num-callers", "30"), 0);
	assert_int_equal(o.num_callers, 30);
	assert_int_equal(set("num_callers", "31"), 0);
	assert_int_equal(o.num_callers, 31);
	assert_int_equal(set("log-file", "/tmp/x.%p"), 0);
	assert_string_equal(o.log_file, "/tmp/x.%p");
	assert_int_equal(set("xml-file", ""), 0);

	assert_int_equal(set("num-caller", "3"), -1);
	assert_string_equal(err, "unknown option 'num-caller'");
	assert_int_equal(set("num-callerss", "3"), -1);
	assert_int_equal(set("", "3"), -1);
	assert_string_equal(err, "unknown option ''");
	assert_int_equal(set("NUM_CALLERS", "3"), -1);
}

static void test_bools(void **state)
{
	const char *yes[] = { "yes", "1", "true" }, *no[] = { "no", "0", "false" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(set("xml", yes[i]), 0);
		assert_true(o.xml);
		assert_int_equal(set("xml", no[i]), 0);
		assert_false(o.xml);
	}
	assert_int_equal(set("xml", "maybe"), -1);
	assert_string_equal(err, "option 'xml' expects yes or no");
	assert_int_equal(set("xml", ""), -1);
	assert_int_equal(set("xml", "yess"), -1);
}

static void test_uints(void **state)
{
	assert_int_equal(set("num-callers", "1"), 0);
	assert_int_equal(set("num-callers", "256"), 0);
	assert_int_equal(o.num_callers, 256);
	const char *bad[] = { "0", "257", "", "-1", "1x", " 5", "99999999999", "4294967297" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set("num-callers", bad[i]), -1);
		assert_string_equal(err, "option 'num-callers' expects a number from 1 to 256");
	}
	assert_int_equal(o.num_callers, 256);
}

static void test_strings(void **state)
{
	char longv[LT_OPT_PATH_MAX + 1];
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(set("log_file", longv), -1);
	assert_string_equal(err, "option 'log_file' has a value that is too long");
	longv[LT_OPT_PATH_MAX - 1] = '\0';
	assert_int_equal(set("log_file", longv), 0);
	assert_int_equal(strlen(o.log_file), LT_OPT_PATH_MAX - 1);
	assert_int_equal(lt_options_set(&o, "log_file", 8, "a\0b", 3, err, sizeof(err)), -1);
}

static void test_parse_list(void **state)
{
	assert_int_equal(lt_options_parse_list(&o, "", err, sizeof(err)), 0);
	assert_int_equal(lt_options_parse_list(&o, "::num_callers=5::xml=yes:", err, sizeof(err)), 0);
	assert_int_equal(o.num_callers, 5);
	assert_true(o.xml);
	assert_int_equal(lt_options_parse_list(&o, "num_callers=7:log-file=/a=b", err, sizeof(err)), 0);
	assert_string_equal(o.log_file, "/a=b");     /* first '=' splits */
	assert_int_equal(lt_options_parse_list(&o, "num_callers=8:bogus", err, sizeof(err)), -1);
	assert_string_equal(err, "malformed option 'bogus' (expected name=value)");
	assert_int_equal(o.num_callers, 8);          /* items before stay applied */
	assert_int_equal(lt_options_parse_list(&o, "frob=1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option 'frob'");
}

static void test_format_round_trip(void **state)
{
	char buf[4 * LT_OPT_PATH_MAX];
	struct lt_options back;
	assert_int_equal(set("xml", "yes"), 0);
	assert_int_equal(set("xml-file", "out.%p.xml"), 0);
	assert_int_equal(set("num-callers", "40"), 0);
	size_t n = lt_options_format(&o, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "xml=yes:xml_file=out.%p.xml:num_callers=40");
	lt_options_defaults(&back);
	assert_int_equal(lt_options_parse_list(&back, buf, err, sizeof(err)), 0);
	assert_memory_equal(&back, &o, sizeof(o));

	/* Cut output still terminates, and says how much it needed. */
	char small[8];
	assert_int_equal(lt_options_format(&o, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_expand_path(void **state)
{
	char out[64];
	assert_int_equal(lt_expand_path("leak.%p.log", 1234, out, sizeof(out)), 0);
	assert_string_equal(out, "leak.1234.log");
	assert_int_equal(lt_expand_path("%p-%p", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "7-7");
	assert_int_equal(lt_expand_path("100%%", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "100%");
	assert_int_equal(lt_expand_path("plain", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "plain");
	assert_int_equal(lt_expand_path("x%q", 7, out, sizeof(out)), -1);
	assert_int_equal(lt_expand_path("x%", 7, out, sizeof(out)), -1);
	assert_int_equal(lt_expand_path("%p%p%p", 123456, out, 10), -1);
	assert_int_equal(lt_expand_path("", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

/* valgrind's spellings of options of the table. */
static void test_valgrind_spellings(void **state)
{
	assert_int_equal(o.verbosity, 1);
	assert_int_equal(set("quiet", "yes"), 0);
	assert_int_equal(o.verbosity, 0);
	assert_int_equal(set("quiet", "no"), 0);
	assert_int_equal(o.verbosity, 1);
	assert_int_equal(set("verbose", "yes"), 0);
	assert_int_equal(o.verbosity, 2);
	assert_int_equal(set("verbose", "yes"), 0);
	assert_int_equal(o.verbosity, 3);
	assert_int_equal(set("verbose", "maybe"), -1);
	assert_string_equal(err, "option 'verbose' expects yes or no");

	assert_int_equal(set("leak-check", "yes"), 0);     /* ctest's spelling */
	assert_int_equal(o.leak_check, LT_LEAK_CHECK_FULL);
	assert_int_equal(set("leak-check", "summary"), 0);
	assert_int_equal(o.leak_check, LT_LEAK_CHECK_SUMMARY);
	assert_int_equal(set("leak-check", "maybe"), -1);
	assert_string_equal(err, "option 'leak-check' expects one of: no|summary|full");

	assert_int_equal(set("show-reachable", "yes"), 0);
	assert_int_equal(set("show-possibly-lost", "no"), 0);
	assert_int_equal(o.show_leak_kinds, LT_KINDS_DEFINITE | LT_KINDS_INDIRECT | LT_KINDS_REACHABLE);
	char buf[256];
	lt_options_format(&o, buf, sizeof(buf));
	assert_string_equal(buf, "leak_check=summary:show_leak_kinds=definite,indirect,reachable:verbosity=3");
	assert_int_equal(set("show-possibly-lost", "yes"), 0);
	assert_int_equal(o.show_leak_kinds, LT_KINDS_ALL);

	assert_int_equal(set("leak-check-heuristics", "all"), 0);
	assert_int_equal(set("leak-check-heuristics", "none"), -1);
	assert_string_equal(err, "option 'leak-check-heuristics': only 'all' is supported (the scan "
				 "always applies stdstring, length64, newarray and multipleinheritance)");
	assert_int_equal(set("tool", "memcheck"), 0);
	assert_int_equal(set("tool", "helgrind"), -1);
	assert_string_equal(err, "option 'tool' expects one of: memcheck");
	assert_int_equal(set("gen-suppressions", "yes"), 0);
	assert_int_equal(o.gen_suppressions, 1);
	assert_int_equal(set("leak-resolution", "low"), 0);
	assert_int_equal(o.leak_resolution, 0);
}

/* valgrind's error-checking flags: taken, ignored, said once by the
 * command; skipped in LEAKTRACE_OPTIONS. */
static void test_ignored(void **state)
{
	struct lt_options before = o;
	assert_int_equal(set("track-origins", "yes"), LT_OPTION_IGNORED);
	assert_int_equal(set("malloc_fill", "0xAB"), LT_OPTION_IGNORED);
	assert_int_equal(set("vgdb", "no"), LT_OPTION_IGNORED);
	assert_memory_equal(&before, &o, sizeof(o));
	assert_true(lt_option_ignored("undef-value-errors", 18));
	assert_false(lt_option_ignored("num-callers", 11));
	assert_false(lt_option_ignored("track-origin", 12));
	assert_int_equal(lt_options_parse_list(&o, "track_origins=yes:num_callers=9:demangle=no",
					       err, sizeof(err)), 0);
	assert_int_equal(o.num_callers, 9);
}

static void test_lists(void **state)
{
	char buf[512];
	struct lt_options back;
	assert_int_equal(set("suppressions", "/a.supp"), 0);
	assert_int_equal(set("suppressions", "b c.supp"), 0);
	assert_string_equal(o.suppressions, "/a.supp\nb c.supp");
	const char *cur = NULL, *v;
	size_t n;
	v = lt_options_list_next(o.suppressions, &cur, &n);
	assert_true(v && n == 7 && strncmp(v, "/a.supp", n) == 0);
	v = lt_options_list_next(o.suppressions, &cur, &n);
	assert_true(v && n == 8 && strncmp(v, "b c.supp", n) == 0);
	assert_null(lt_options_list_next(o.suppressions, &cur, &n));
	lt_options_format(&o, buf, sizeof(buf));
	assert_string_equal(buf, "suppressions=/a.supp:suppressions=b c.supp");
	lt_options_defaults(&back);
	assert_int_equal(lt_options_parse_list(&back, buf, err, sizeof(err)), 0);
	assert_memory_equal(&back, &o, sizeof(o));
	/* An empty value forgets the files named before it. */
	assert_int_equal(set("suppressions", ""), 0);
	assert_string_equal(o.suppressions, "");
	cur = NULL;
	assert_null(lt_options_list_next(o.suppressions, &cur, &n));
	assert_int_equal(lt_options_set(&o, "suppressions", 12, "a\nb", 3, err, sizeof(err)), -1);
	assert_string_equal(err, "option 'suppressions': too many values, or a value too long");
	char longv[1000];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	for (int i = 0; i < 8; i++)
		assert_int_equal(set("suppressions", longv), 0);
	assert_int_equal(set("suppressions", longv), -1);
}

static void test_expand_path_env(void **state)
{
	char out[64], e[128];
	char *env[] = { "HOME=/home/me", "EMPTY=", "TEST_ID=t%1", NULL };
	assert_int_equal(lt_expand_path_env("%q{HOME}/leak.%p.log", 42, env, out, sizeof(out),
					    e, sizeof(e)), 0);
	assert_string_equal(out, "/home/me/leak.42.log");
	assert_int_equal(lt_expand_path_env("a%q{EMPTY}b%q{TEST_ID}", 42, env, out, sizeof(out),
					    e, sizeof(e)), 0);
	assert_string_equal(out, "abt%1");
	assert_int_equal(lt_expand_path_env("%q{NOPE}.log", 42, env, out, sizeof(out),
					    e, sizeof(e)), -1);
	assert_string_equal(e, "environment variable NOPE (named by %q{...}) is not set");
	assert_int_equal(lt_expand_path_env("%q{HOME", 42, env, out, sizeof(out), e, sizeof(e)), -1);
	assert_string_equal(e, "unknown % sequence (known: %p, %q{NAME}, %%)");
	assert_int_equal(lt_expand_path_env("%q{HOME}%q{HOME}%q{HOME}%q{HOME}%q{HOME}%q{HOME}%q{HOME}%q{HOME}%q{HOME}", 1,
					    env, out, sizeof(out), e, sizeof(e)), -1);
	assert_string_equal(e, "the file name is too long");
	/* Without an environment, as the preloaded library calls it. */
	assert_int_equal(lt_expand_path("%q{HOME}", 1, out, sizeof(out)), -1);
}

static void test_table(void **state)
{
	assert_true(lt_option_count >= 5);
	for (size_t i = 0; i < lt_option_count; i++) {
		const struct lt_option_desc *d = &lt_option_table[i];
		assert_non_null(d->help);
		assert_null(strchr(d->name, '-'));
		if (d->type == LT_OPTION_UINT)
			assert_true(d->min <= d->max);
	}
	bool found = false;
	for (size_t i = 0; i < lt_option_count; i++)
		if (strcmp(lt_option_table[i].name, "num_callers") == 0) {
			assert_string_equal(lt_option_table[i].default_text, "12");
			assert_int_equal(lt_option_table[i].max, 256);
			found = true;
		}
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_bools, setup),
		cmocka_unit_test_setup(test_uints, setup),
		cmocka_unit_test_setup(test_strings, setup),
		cmocka_unit_test_setup(test_parse_list, setup),
		cmocka_unit_test_setup(test_format_round_trip, setup),
		cmocka_unit_test_setup(test_expand_path, setup),
		cmocka_unit_test_setup(test_valgrind_spellings, setup),
		cmocka_unit_test_setup(test_ignored, setup),
		cmocka_unit_test_setup(test_lists, setup),
		cmocka_unit_test_setup(test_expand_path_env, setup),
		cmocka_unit_test_setup(test_table, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
