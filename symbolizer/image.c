/* One module file of the snapshot, opened with libdwfl on first use, at the
 * load bias the program had. A file whose build-id differs from the one
 * recorded at run time has changed since: its symbols and DWARF would point
 * at the wrong code, so it is not used (said once), and frames in it show
 * as "??? (in /path)". Separate debug files are found by build-id under
 * /usr/lib/debug, and through debuginfod when DEBUGINFOD_URLS is set
 * (dwfl_standard_find_debuginfo does both); one with compressed sections
 * is read through its inflated copy in the cache (debugcache.c). A module deleted or replaced
 * since the program loaded it is read through /proc while the program
 * lives.
 * Context: offline side only. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer-private.h"

static char *debuginfo_path;      /* NULL: libdwfl's default search path */

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = lt_debugcache_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

enum outcome { OPENED, UNREADABLE, CHANGED };

static bool same_build_id(const struct lt_module *m, Dwfl_Module *dwmod)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n;
	/* Nothing recorded: nothing to compare, trust the file. */
	if (!m->build_id_len)
		return true;
	n = dwfl_module_build_id(dwmod, &bits, &vaddr);
	return n > 0 && (size_t)n == m->build_id_len &&
	       memcmp(bits, m->build_id, m->build_id_len) == 0;
}

static enum outcome report_file(struct lt_image *img, const char *file)
{
	const struct lt_module *m = img->mod;
	Dwfl *dwfl = dwfl_begin(&callbacks);
	Dwfl_Module *dwmod;
	if (!dwfl)
		return UNREADABLE;
	dwfl_report_begin(dwfl);
	/* add_p_vaddr: base is the load bias, as dl_iterate_phdr gave it. */
	dwmod = dwfl_report_elf(dwfl, m->path, file, -1, m->bias, true);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!dwmod) {
		dwfl_end(dwfl);
		return UNREADABLE;
	}
	if (!same_build_id(m, dwmod)) {
		dwfl_end(dwfl);
		return CHANGED;
	}
	img->dwfl = dwfl;
	img->dwmod = dwmod;
	img->state = LT_IMAGE_OK;
	/* Out of memory here only costs the names: lines still resolve. */
	lt_symtab_build(dwmod, &img->symtab);
	return OPENED;
}

/* The separate debug file named by the recorded build-id carries the
 * symbol table and DWARF too: enough when the module file itself is gone
 * or was replaced. */
static bool report_debug_file(struct lt_image *img)
{
	const struct lt_module *m = img->mod;
	char path[64 + 2 * 256];
	size_t n;
	if (m->build_id_len < 2 || m->build_id_len > 128)
		return false;
	n = (size_t)snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/",
			     m->build_id[0]);
	for (size_t i = 1; i < m->build_id_len; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%02x", m->build_id[i]);
	snprintf(path + n, sizeof(path) - n, ".debug");
	if (access(path, R_OK) != 0)
		return false;
	return report_file(img, path) == OPENED;
}

/* The program's executable, whose path the snapshot's exe repeats (with
 * " (deleted)" once the file is gone). */
static bool is_executable(const struct lt_image *img)
{
	const char *exe = img->snap ? img->snap->exe : NULL;
	size_t len = strlen(img->mod->path);
	return exe && strncmp(exe, img->mod->path, len) == 0 &&
	       (exe[len] == '\0' || strcmp(exe + len, " (deleted)") == 0);
}

/* Any mapping of the module in /proc/PID/map_files is the whole file. */
static bool report_mapped_file(struct lt_image *img, unsigned pid)
{
	const struct lt_module *m = img->mod;
	char dir[64], path[64 + 256];
	bool ok = false;
	snprintf(dir, sizeof(dir), "/proc/%u/map_files", pid);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	for (struct dirent *e; !ok && (e = readdir(d));) {
		unsigned long long lo, hi;
		if (sscanf(e->d_name, "%llx-%llx", &lo, &hi) != 2 || lo < m->lo || lo >= m->hi)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ok = report_file(img, path) == OPENED;
	}
	closedir(d);
	return ok;
}

/* The file as the process mapped it, while the process lives (the report
 * at exit runs while the program waits for it): a module deleted or
 * replaced on disk since it was loaded (an upgraded package, a program
 * that removed its own executable) still resolves. Only with a recorded
 * build-id, which must match: a pid since reused by another program is
 * never believed. /proc/PID/exe is open to the program's own user;
 * /proc/PID/map_files, the way to a library, needs CAP_SYS_ADMIN. */
static bool report_process_file(struct lt_image *img)
{
	unsigned pid = img->snap ? img->snap->process.pid : 0;
	char path[64];
	if (!pid || !img->mod->build_id_len)
		return false;
	if (is_executable(img)) {
		snprintf(path, sizeof(path), "/proc/%u/exe", pid);
		if (report_file(img, path) == OPENED)
			return true;
	}
	return report_mapped_file(img, pid);
}

void lt_image_open(struct lt_image *img, FILE *diag)
{
	const struct lt_module *m = img->mod;
	enum outcome r;
	if (img->state != LT_IMAGE_UNOPENED)
		return;
	img->state = LT_IMAGE_NO_SYMBOLS;
	if (!m->path[0])
		return;
	r = report_file(img, m->path);
	if (r == OPENED || report_process_file(img) || report_debug_file(img))
		return;
	if (!diag)
		return;
	if (r == CHANGED)
		fprintf(diag, "leaktrace: %s has changed since the program ran (build-id differs): "
			"its frames are shown without symbols\n", m->path);
	else if (m->path[0] == '/')
		/* Relative names are pseudo-modules such as linux-vdso.so.1. */
		fprintf(diag, "leaktrace: cannot read %s: %s: its frames are shown without symbols\n",
			m->path, access(m->path, R_OK) != 0 ? strerror(errno) : dwfl_errmsg(-1));
}

void lt_image_close(struct lt_image *img)
{
	lt_symtab_free(&img->symtab);
	lt_addrmap_free(&img->cus);
	if (img->dwfl)
		dwfl_end(img->dwfl);
	img->dwfl = NULL;
	img->dwmod = NULL;
}
