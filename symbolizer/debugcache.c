/* A persistent cache of decompressed copies of separate debug files, keyed
 * by build-id. Distributions ship debug files with zlib-compressed DWARF
 * sections (SHF_COMPRESSED, or the older .zdebug_* ones), and libdw
 * inflates all of them whenever it opens one: for glibc's that is most of
 * a report's time, paid again by every report. Here the first report
 * that needs such a file writes a copy whose sections are inflated, and
 * it and later reports map that copy instead.
 * The cache is never the only source: a copy is used when libdwfl's own
 * search still finds the file it was made from (same build-id), so a
 * report reads the same DWARF with and without the cache.
 * Context: offline side only (the reporter), through libdwfl's
 * find_debuginfo callback. Never changes a report: whatever goes wrong
 * (no HOME, read-only or full disk, a corrupt or foreign cache file), the
 * debug file libdwfl found is used exactly as without the cache. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>
#include <gelf.h>

#include "symbolizer-private.h"

/* Bound on the *.debug files of the directory, checked after each new
 * copy (glibc 2.36's inflated debug file is about 10 MiB). */
#define CACHE_BOUND ((off_t)512 << 20)
/* A copy's mtime says when it was last used; refreshing it once a day is
 * precise enough for eviction and spares a write on every report. */
#define TOUCH_INTERVAL (24 * 60 * 60)
/* A temporary copy this old was left by a reporter that was killed. */
#define STALE_TEMP_AGE (24 * 60 * 60)
#define TEMP_SUFFIX ".tmp"
#define BUILD_ID_MAX 64

static char cache_dir[PATH_MAX];      /* empty: no cache */

/* ---- where the cache is ---- */

/* The XDG base directory rule: $XDG_CACHE_HOME when set to an absolute
 * path, else $HOME/.cache. */
static int default_dir(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/leaktrace", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, len, "%s/.cache/leaktrace", home);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

void lt_debugcache_configure(const char *setting)
{
	cache_dir[0] = '\0';
	if (!setting || strcmp(setting, "no") == 0)
		return;
	if (!setting[0]) {
		if (default_dir(cache_dir, sizeof(cache_dir)))
			cache_dir[0] = '\0';
		return;
	}
	if (strlen(setting) < sizeof(cache_dir))
		strcpy(cache_dir, setting);
}

/* mkdir -p, with 0700 for each directory it creates: the cache holds
 * copies of files that may not be world-readable. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (!c)
			return 0;
	}
}

/* Only a directory of ours that nobody else can write to is trusted: its
 * files are mapped by the reporter as if they were the system's. */
static bool dir_is_ours(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

static bool have_dir(const char *path)
{
	return dir_is_ours(path) || (make_dirs(path) == 0 && dir_is_ours(path));
}

/* ---- what a debug file holds ---- */

static bool is_gnu_compressed(const char *name)
{
	return name && strncmp(name, ".zdebug", 7) == 0;
}

/* Whether elf has a section that libdw would have to inflate. */
static bool has_compressed_sections(Elf *elf)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		if ((shdr.sh_flags & SHF_COMPRESSED) ||
		    is_gnu_compressed(elf_strptr(elf, shstrndx, shdr.sh_name)))
			return true;
	}
	return false;
}

static bool build_id_is(Elf *elf, const unsigned char *id, int id_len)
{
	const void *bits;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
	return n == id_len && memcmp(bits, id, (size_t)id_len) == 0;
}

/* A truncated copy can still have readable headers (libelf then sees no
 * sections at all): the section header table and every section must lie
 * within the file. */
static bool sections_within(Elf *elf, off_t size)
{
	GElf_Ehdr ehdr;
	size_t n;
	if (!gelf_getehdr(elf, &ehdr) || elf_getshdrnum(elf, &n) != 0 || n < 2 ||
	    ehdr.e_shoff > (GElf_Off)size ||
	    (GElf_Off)n * ehdr.e_shentsize > (GElf_Off)size - ehdr.e_shoff)
		return false;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			return false;
		if (shdr.sh_type != SHT_NOBITS &&
		    (shdr.sh_offset > (GElf_Off)size || shdr.sh_size > (GElf_Off)size - shdr.sh_offset))
			return false;
	}
	return true;
}

/* ---- using a copy ---- */

/* Eviction goes by mtime: mark the copy as used. */
static void touch_if_stale(int fd, const struct stat *st)
{
	time_t now = time(NULL);
	if (now - st->st_mtime > TOUCH_INTERVAL)
		futimens(fd, NULL);
}

/* An fd on the copy at path when it is one: a regular file of ours (not a
 * symlink), a whole ELF file with the module's build-id and nothing left
 * to inflate. -1 otherwise. */
static int open_copy(const char *path, const unsigned char *id, int id_len)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO planted under the name must not hang us. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return -1;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool ok = elf && elf_kind(elf) == ELF_K_ELF && sections_within(elf, st.st_size) &&
		  build_id_is(elf, id, id_len) && !has_compressed_sections(elf);
	elf_end(elf);
	if (!ok) {
		close(fd);
		return -1;
	}
	touch_if_stale(fd, &st);
	return fd;
}

/* ---- making a copy ---- */

static int copy_file(int from, int to)
{
	char buf[1 << 16];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(from, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(to, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			done += w;
		}
		off += n;
	}
}

/* Gives each inflated .zdebug_X section the name .debug_X, which libdw
 * reads as is: the new names are appended to the section name table
 * (the old ones may share their bytes with other names). names must stay
 * allocated until elf_end. */
static int rename_gnu_sections(Elf *elf, size_t shstrndx, char **names)
{
	Elf_Scn *strscn = elf_getscn(elf, shstrndx);
	Elf_Data *data = strscn ? elf_getdata(strscn, NULL) : NULL;
	size_t extra = 0;
	if (!data)
		return -1;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr shdr;
		const char *name;
		if (gelf_getshdr(scn, &shdr) && (name = elf_strptr(elf, shstrndx, shdr.sh_name)) &&
		    is_gnu_compressed(name))
			extra += strlen(name);      /* ".debug_X" + NUL */
	}
	if (!extra)
		return 0;
	char *buf = malloc(data->d_size + extra);
	if (!buf)
		return -1;
	memcpy(buf, data->d_buf, data->d_size);
	size_t end = data->d_size;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr shdr;
		const char *name;
		if (!gelf_getshdr(scn, &shdr) || !(name = elf_strptr(elf, shstrndx, shdr.sh_name)) ||
		    !is_gnu_compressed(name))
			continue;
		buf[end] = '.';
		strcpy(buf + end + 1, name + 2);
		shdr.sh_name = (GElf_Word)end;
		end += strlen(name);
		if (!gelf_update_shdr(scn, &shdr)) {
			free(buf);
			return -1;
		}
	}
	data->d_buf = buf;
	data->d_size = end;
	*names = buf;
	elf_flagdata(data, ELF_C_SET, ELF_F_DIRTY);
	return 0;
}

/* Inflates every compressed section of the ELF file open on fd, in place;
 * libelf lays the file out again. */
static int inflate_in_place(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_RDWR, NULL);
	char *names = NULL;
	size_t shstrndx;
	int rc = -1;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx) != 0)
		goto out;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			goto out;
		if (shdr.sh_type == SHT_NOBITS)
			continue;
		if (shdr.sh_flags & SHF_COMPRESSED) {
			if (elf_compress(scn, 0, 0) < 0)
				goto out;
		} else if (is_gnu_compressed(elf_strptr(elf, shstrndx, shdr.sh_name))) {
			if (elf_compress_gnu(scn, 0, 0) < 0)
				goto out;
		}
	}
	if (rename_gnu_sections(elf, shstrndx, &names))
		goto out;
	off_t size = elf_update(elf, ELF_C_WRITE);
	/* The section headers now end the file: drop any old bytes after. */
	if (size > 0 && ftruncate(fd, size) == 0)
		rc = 0;
out:
	elf_end(elf);
	free(names);
	return rc;
}

/* ---- the bound on the directory ---- */

struct entry {
	char name[NAME_MAX + 1];
	off_t size;
	time_t mtime;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int by_mtime(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	return (a->mtime > b->mtime) - (a->mtime < b->mtime);
}

/* The copies of dir (regular files of ours named *.debug), except keep;
 * temporary copies left by killed reporters are removed on the way.
 * Returns their number, their total size (keep included) in *total. */
static size_t list_copies(int dirfd, const char *keep, struct entry **out, off_t *total)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);
	*total = 0;
	*out = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (strstr(e->d_name, ".debug" TEMP_SUFFIX) && now - st.st_mtime > STALE_TEMP_AGE) {
			unlinkat(dirfd, e->d_name, 0);
			continue;
		}
		if (!ends_with(e->d_name, ".debug"))
			continue;
		*total += st.st_size;
		if (strcmp(e->d_name, keep) == 0)
			continue;
		if (n == cap) {
			struct entry *w = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
			if (!w)
				break;
			v = w;
		}
		strcpy(v[n].name, e->d_name);
		v[n].size = st.st_size;
		v[n++].mtime = st.st_mtime;
	}
	closedir(d);
	*out = v;
	return n;
}

/* Removes the least recently used copies until the directory's copies
 * fit in CACHE_BOUND again. */
static void evict(const char *dir, const char *keep)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct entry *v = NULL;
	off_t total;
	if (dirfd < 0)
		return;
	size_t n = list_copies(dirfd, keep, &v, &total);
	if (n)       /* v is NULL without entries: not for qsort */
		qsort(v, n, sizeof(*v), by_mtime);
	for (size_t i = 0; i < n && total > CACHE_BOUND; i++)
		if (unlinkat(dirfd, v[i].name, 0) == 0)
			total -= v[i].size;
	free(v);
	close(dirfd);
}

/* Writes the inflated copy of the debug file open on from as
 * dir/name: through a temporary file renamed into place, so that
 * concurrent reporters never see half a copy. Returns 0, or -1 with
 * nothing left behind. */
static int write_copy(int from, const char *dir, const char *name, const char *path)
{
	char tmp[PATH_MAX];
	if (!have_dir(dir) ||
	    snprintf(tmp, sizeof(tmp), "%s/%s" TEMP_SUFFIX "XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -1;
	int fd = mkostemp(tmp, O_CLOEXEC);      /* O_EXCL, mode 0600 */
	if (fd < 0)
		return -1;
	int rc = copy_file(from, fd) || inflate_in_place(fd) ? -1 : 0;
	close(fd);
	if (rc || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	evict(dir, name);
	return 0;
}

/* Whether the debug file open on fd is this module's own (not a dwz file
 * it refers to) and has something to inflate. */
static bool worth_a_copy(int fd, const unsigned char *id, int id_len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool worth = elf && elf_kind(elf) == ELF_K_ELF && build_id_is(elf, id, id_len) &&
		     has_compressed_sections(elf);
	elf_end(elf);
	return worth;
}

/* ---- finding the original ---- */

/* What the scratch session's search found: an fd of ours on it and its
 * name. */
struct found {
	int fd;
	char *name;
};

static int record_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			    Dwarf_Addr base, const char *file_name,
			    const char *debuglink_file, GElf_Word debuglink_crc,
			    char **debuginfo_file_name)
{
	struct found *f = *userdata;
	int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
					      debuglink_file, debuglink_crc,
					      debuginfo_file_name);
	int saved = errno;
	if (fd >= 0 && f && f->fd < 0 && *debuginfo_file_name &&
	    (f->name = strdup(*debuginfo_file_name)) &&
	    (f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(f->name);
		f->name = NULL;
	}
	errno = saved;
	return fd;
}

static char *default_debuginfo_path;  /* NULL: libdwfl's default, as image.c */

static const Dwfl_Callbacks scratch_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = record_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &default_debuginfo_path,
};

/* libdwfl's own search for the debug file of the module file file_name,
 * run for a module of a scratch session: that search opens the file it
 * finds as its module's debug ELF, and libdwfl keeps that ELF whatever fd
 * the callback returns, so run for the real module it would leave the
 * compressed original in use. Asking for the symbol table runs the search
 * (the DWARF, which would inflate the sections, is not asked for).
 * Returns an fd and the file's name in *name (malloc'd), or -1. */
static int find_original(const char *modname, const char *file_name, char **name)
{
	struct found f = { .fd = -1, .name = NULL };
	Dwfl *dwfl = dwfl_begin(&scratch_callbacks);
	Dwfl_Module *mod;
	void **userdata;
	if (!dwfl)
		return -1;
	dwfl_report_begin(dwfl);
	mod = dwfl_report_elf(dwfl, modname, file_name, -1, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (mod) {
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
		*userdata = &f;
		dwfl_module_getsymtab(mod);
	}
	dwfl_end(dwfl);
	*name = f.name;
	return f.fd;
}

/* ---- the libdwfl callback ---- */

/* The name of mod's copy, "<build-id in hex>.debug", and its path; false
 * when there is no cache or mod has no build-id, or when this lookup is
 * for the dwz file that mod's debug file refers to (libdwfl then already
 * has mod's debug file). */
static bool copy_name(Dwfl_Module *mod, const unsigned char **id, int *id_len,
		      char *name, size_t name_len, char *path, size_t path_len)
{
	const char *debugfile = NULL;
	GElf_Addr vaddr;
	if (!cache_dir[0])
		return false;
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
	if (debugfile)
		return false;
	*id_len = dwfl_module_build_id(mod, id, &vaddr);
	if (*id_len <= 0 || (size_t)*id_len * 2 + sizeof(".debug") > name_len)
		return false;
	for (int i = 0; i < *id_len; i++)
		snprintf(name + 2 * i, 3, "%02x", (*id)[i]);
	strcpy(name + 2 * *id_len, ".debug");
	return snprintf(path, path_len, "%s/%s", cache_dir, name) < (int)path_len;
}

/* An fd on the inflated copy of the debug file open on fd, found valid or
 * made now; -1 when the file needs none or no copy can be had. */
static int inflated_copy(int fd, const unsigned char *id, int id_len, const char *name,
			 const char *path)
{
	int copy = -1;
	if (!worth_a_copy(fd, id, id_len))
		return -1;
	if (dir_is_ours(cache_dir))
		copy = open_copy(path, id, id_len);
	if (copy < 0 && write_copy(fd, cache_dir, name, path) == 0)
		copy = open_copy(path, id, id_len);
	return copy;
}

/* libdwfl's standard search; then, when what it found has compressed
 * sections, the copy in the cache (made if missing) in its place. The
 * copy stands for a file that is still there: it is never used when the
 * search finds nothing. */
int lt_debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name,
				 const char *debuglink_file, GElf_Word debuglink_crc,
				 char **debuginfo_file_name)
{
	const unsigned char *id;
	char name[2 * BUILD_ID_MAX + sizeof(".debug")], path[PATH_MAX];
	char *found_name = NULL, *copy_path = NULL;
	int id_len, fd = -1, copy = -1;
	if (file_name && copy_name(mod, &id, &id_len, name, sizeof(name), path, sizeof(path)))
		fd = find_original(modname, file_name, &found_name);
	/* Nothing found by the scratch session (or a debug file libdwfl
	 * holds only in memory): the standard search decides, as without
	 * the cache. */
	if (fd < 0)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc,
						    debuginfo_file_name);
	copy = inflated_copy(fd, id, id_len, name, path);
	if (copy >= 0 && !(copy_path = strdup(path))) {
		close(copy);
		copy = -1;
	}
	/* libdwfl owns the name it is given and frees it with free(). */
	if (copy >= 0) {
		close(fd);
		free(found_name);
		*debuginfo_file_name = copy_path;
		return copy;
	}
	*debuginfo_file_name = found_name;
	return fd;
}
