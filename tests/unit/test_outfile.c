/* Unit tests of common/outfile.c, in a fresh directory each: a new file
 * is created 0600 minus the umask; an existing one is replaced by a rename
 * (a hard link keeps the old contents; a failed report leaves it as it
 * was; no hidden file stays behind); a symbolic link, a directory and,
 * for files we name ourselves, an existing file are refused with the
 * exact reason; a text log is appended to. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "outfile.h"

static char dir[64];

/* Four results live at once: symlink(in_dir(a), in_dir(b)). */
static const char *in_dir(const char *name)
{
	static char paths[4][128];
	static unsigned next;
	char *p = paths[next++ % 4];
	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(in_dir(name), "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char *read_file(const char *name)
{
	static char buf[256];
	FILE *f = fopen(in_dir(name), "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lt-test-outfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			char p[64 + 256 + 2];
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (unlink(p) != 0)
				rmdir(p);
		}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static void put(struct lt_outfile *o, const char *text)
{
	assert_int_equal(write(o->fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void test_new_file_mode(void **state)
{
	struct lt_outfile o;
	const char *why;
	mode_t old = umask(022);
	assert_int_equal(lt_outfile_open(&o, in_dir("a"), LT_OUTFILE_REPLACE, NULL, &why), 0);
	assert_string_equal(o.temp, "");
	put(&o, "new\n");
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	umask(0277);
	assert_int_equal(lt_outfile_open(&o, in_dir("b"), LT_OUTFILE_NEW, NULL, &why), 0);
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	umask(old);
	struct stat st;
	assert_int_equal(stat(in_dir("a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(in_dir("b"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_string_equal(read_file("a"), "new\n");
}

static void test_replace_keeps_hard_link(void **state)
{
	struct lt_outfile o;
	const char *why;
	write_file("r", "old\n");
	assert_int_equal(link(in_dir("r"), in_dir("r.link")), 0);
	assert_int_equal(lt_outfile_open(&o, in_dir("r"), LT_OUTFILE_REPLACE, NULL, &why), 0);
	/* Written beside it, hidden, in the same directory. */
	assert_int_equal(strncmp(o.temp, in_dir(".r."), strlen(in_dir(".r."))), 0);
	assert_int_equal(strlen(o.temp), strlen(in_dir(".r.")) + 12);
	put(&o, "new\n");
	assert_string_equal(read_file("r"), "old\n");
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	assert_string_equal(read_file("r"), "new\n");
	assert_string_equal(read_file("r.link"), "old\n");
	assert_int_equal(entries(), 2);
}

static void test_failed_report_leaves_old_file(void **state)
{
	struct lt_outfile o;
	const char *why;
	write_file("f", "old\n");
	assert_int_equal(lt_outfile_open(&o, in_dir("f"), LT_OUTFILE_REPLACE, NULL, &why), 0);
	put(&o, "half a rep");
	assert_int_equal(lt_outfile_finish(&o, false), 0);
	assert_string_equal(read_file("f"), "old\n");
	assert_int_equal(entries(), 1);
}

static void test_symlink_refused(void **state)
{
	struct lt_outfile o;
	const char *why;
	write_file("target", "precious\n");
	assert_int_equal(symlink(in_dir("target"), in_dir("l")), 0);
	char link_path[128];
	snprintf(link_path, sizeof(link_path), "%s", in_dir("l"));
	for (int mode = LT_OUTFILE_REPLACE; mode <= LT_OUTFILE_NEW; mode++) {
		assert_int_equal(lt_outfile_open(&o, link_path, mode, NULL, &why), -ELOOP);
		assert_string_equal(why, "is a symbolic link (not followed; name the file it "
				    "points to)");
	}
	/* Dangling: nothing is created where it points. */
	assert_int_equal(symlink(in_dir("ghost"), in_dir("d")), 0);
	snprintf(link_path, sizeof(link_path), "%s", in_dir("d"));
	assert_int_equal(lt_outfile_open(&o, link_path, LT_OUTFILE_REPLACE, NULL, &why), -ELOOP);
	assert_int_equal(access(in_dir("ghost"), F_OK), -1);
	assert_string_equal(read_file("target"), "precious\n");
	assert_int_equal(entries(), 3);
}

static void test_refusals(void **state)
{
	struct lt_outfile o;
	const char *why;
	assert_int_equal(mkdir(in_dir("sub"), 0700), 0);
	assert_int_equal(lt_outfile_open(&o, in_dir("sub"), LT_OUTFILE_REPLACE, NULL, &why),
			 -EISDIR);
	assert_string_equal(why, "is a directory");
	write_file("mine", "x");
	assert_int_equal(lt_outfile_open(&o, in_dir("mine"), LT_OUTFILE_NEW, NULL, &why), -EEXIST);
	assert_string_equal(why, "already exists (not replaced)");
	assert_int_equal(lt_outfile_open(&o, "", LT_OUTFILE_NEW, NULL, &why), -ENOENT);
	assert_string_equal(why, "empty name");
	assert_int_equal(lt_outfile_open(&o, "/nonexistent-dir/x", LT_OUTFILE_NEW, NULL, &why),
			 -ENOENT);
	assert_null(why);
	assert_string_equal(read_file("mine"), "x");
}

static void test_append_and_devices(void **state)
{
	struct lt_outfile o;
	const char *why;
	write_file("log", "first\n");
	assert_int_equal(lt_outfile_open(&o, in_dir("log"), LT_OUTFILE_APPEND, NULL, &why), 0);
	assert_string_equal(o.temp, "");
	put(&o, "second\n");
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	assert_string_equal(read_file("log"), "first\nsecond\n");
	/* A device is written as it is, never replaced. */
	assert_int_equal(lt_outfile_open(&o, "/dev/null", LT_OUTFILE_REPLACE, NULL, &why), 0);
	assert_string_equal(o.temp, "");
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static int opens;
static int counting_open(const char *p, int flags, int mode)
{
	opens++;
	return open(p, flags, mode);
}

static void test_open_function_used(void **state)
{
	struct lt_outfile o;
	const char *why;
	opens = 0;
	assert_int_equal(lt_outfile_open(&o, in_dir("c"), LT_OUTFILE_REPLACE, counting_open,
					 &why), 0);
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	assert_int_equal(lt_outfile_open(&o, in_dir("c"), LT_OUTFILE_REPLACE, counting_open,
					 &why), 0);
	assert_int_equal(lt_outfile_finish(&o, true), 0);
	/* Once for the new name; then the name (exists) and its replacement. */
	assert_int_equal(opens, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_keeps_hard_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_report_leaves_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_function_used, setup, teardown),
	};
	return cmocka_run_group_tests_name("outfile", tests, NULL, NULL);
}
