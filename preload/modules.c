/* The registry of every module (executable, shared library) loaded while we
 * watched, with its build-id and the epochs during which it was mapped, so
 * that frames of a library that was dlclose'd still resolve offline.
 * Context: cold (start-up, dlopen, dlclose, snapshot). Takes a spinlock of
 * its own, never on the hot path. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "preload-private.h"

#define MAX_MODULES 65536
#define MAX_BUILD_ID 64

struct module {
	struct lt_snap_module m;
	uint8_t build_id[MAX_BUILD_ID];
	char *path;
	bool seen;                /* during the current refresh */
};

_Atomic uint32_t lt_module_epoch;

static struct module *modules;
static unsigned nmodules;
static atomic_flag lock = ATOMIC_FLAG_INIT;
static char exe_path[4096];

static void lock_registry(void)
{
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static void unlock_registry(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

static const char *object_path(const struct dl_phdr_info *info)
{
	if (info->dlpi_name && info->dlpi_name[0])
		return info->dlpi_name;
	if (!exe_path[0]) {
		ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
		exe_path[n > 0 ? n : 0] = '\0';
	}
	return exe_path;
}

/* Finds NT_GNU_BUILD_ID in the object's PT_NOTE segments, as mapped. */
static size_t find_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name_len = (nh->n_namesz + 3) & ~3u;
			size_t desc_len = (nh->n_descsz + 3) & ~3u;
			const char *name = p + sizeof(*nh);
			const char *desc = name + name_len;
			if (desc + desc_len > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= MAX_BUILD_ID) {
				memcpy(out, desc, nh->n_descsz);
				return nh->n_descsz;
			}
			p = desc + desc_len;
		}
	}
	return 0;
}

static struct module *find_live(uintptr_t bias, const char *path)
{
	for (unsigned i = 0; i < nmodules; i++) {
		struct module *m = &modules[i];
		if (m->m.unload_epoch == LT_EPOCH_NONE && m->m.bias == bias &&
		    strcmp(m->path, path) == 0)
			return m;
	}
	return NULL;
}

static void add_module(const struct dl_phdr_info *info, const char *path, uint32_t epoch)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	size_t path_len = strlen(path);
	struct module *m;

	if (nmodules >= MAX_MODULES)
		return;
	m = &modules[nmodules];
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (hi == 0)
		return;
	m->path = lt_meta_alloc(path_len + 1);
	if (!m->path)
		return;
	memcpy(m->path, path, path_len + 1);
	m->m.bias = info->dlpi_addr;
	m->m.lo = lo;
	m->m.hi = hi;
	m->m.load_epoch = epoch;
	m->m.unload_epoch = LT_EPOCH_NONE;
	m->m.build_id_len = (uint16_t)find_build_id(info, m->build_id);
	m->m.path_len = (uint16_t)(path_len < 0xffff ? path_len : 0xffff);
	m->seen = true;
	nmodules++;
}

struct refresh_ctx {
	uint32_t next_epoch;
	bool changed;
};

static int visit_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct refresh_ctx *ctx = data;
	const char *path = object_path(info);
	struct module *m = find_live(info->dlpi_addr, path);
	if (m) {
		m->seen = true;
		return 0;
	}
	add_module(info, path, ctx->next_epoch);
	ctx->changed = true;
	return 0;
}

void lt_modules_refresh(void)
{
	uint32_t epoch = atomic_load(&lt_module_epoch);
	/* Modules present at the first look belong to epoch 0, the epoch of
	 * every stack captured before it. */
	struct refresh_ctx ctx = { .next_epoch = modules ? epoch + 1 : 0 };

	lt_self.depth++;
	lock_registry();
	if (!modules)
		modules = lt_os_map(sizeof(*modules) * MAX_MODULES);
	if (modules) {
		for (unsigned i = 0; i < nmodules; i++)
			modules[i].seen = false;
		dl_iterate_phdr(visit_object, &ctx);
		bool unloaded = false;
		for (unsigned i = 0; i < nmodules; i++) {
			struct module *m = &modules[i];
			if (!m->seen && m->m.unload_epoch == LT_EPOCH_NONE) {
				m->m.unload_epoch = ctx.next_epoch;
				ctx.changed = true;
				unloaded = true;
			}
		}
		/* Code that went away may come back as other code at the same
		 * addresses: the unwind rules cached per address are dropped. */
		if (unloaded)
			lt_backtrace_forget_rules();
		if (ctx.changed && ctx.next_epoch > epoch)
			atomic_store(&lt_module_epoch, ctx.next_epoch);
	}
	unlock_registry();
	lt_self.depth--;
}

/* In a child of fork, the thread that held our lock, if any, is gone. */
void lt_modules_after_fork(void)
{
	atomic_flag_clear(&lock);
}

void lt_modules_foreach_unlocked(lt_module_visit_fn fn, void *ctx)
{
	/* An entry is complete before nmodules counts it. */
	for (unsigned i = 0; modules && i < nmodules; i++)
		fn(&modules[i].m, modules[i].build_id, modules[i].path, ctx);
}

void lt_modules_foreach(lt_module_visit_fn fn, void *ctx)
{
	lock_registry();
	lt_modules_foreach_unlocked(fn, ctx);
	unlock_registry();
}
