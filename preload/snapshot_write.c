/* Writes the raw snapshot (format: common/SNAPSHOT.md) of the live table,
 * the depot and the module registry to a file descriptor.
 * Context: cold, on a thread of the traced process with its depth raised.
 * No allocator of the program, no stdio: buffers are mappings of ours, and
 * sizes written before their payload are patched in afterwards with
 * pwrite, because other threads may still be allocating meanwhile. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mappings.h"
#include "preload-private.h"
#include "scan.h"
#include "strbuf.h"

struct section {
	uint64_t header_offset;
	uint64_t payload_start;
};

static void begin_section(struct lt_out *o, struct section *s, uint32_t tag)
{
	struct lt_snap_section_header h = { .tag = tag };
	s->header_offset = o->offset;
	lt_out_write(o, &h, sizeof(h));
	s->payload_start = o->offset;
}

static void end_section(struct lt_out *o, struct section *s)
{
	uint64_t size = o->offset - s->payload_start;
	lt_out_pad8(o);
	lt_out_patch(o, s->header_offset + offsetof(struct lt_snap_section_header, payload_size),
		     &size, sizeof(size));
}

static void write_string(struct lt_out *o, const char *s, uint32_t len)
{
	lt_out_write(o, &len, sizeof(len));
	lt_out_write(o, s, len);
}

/* Reads a small /proc file into buf; returns its length. */
static uint32_t read_proc(const char *name, char *buf, uint32_t cap)
{
	int fd = lt_open_proc(name, O_RDONLY | O_CLOEXEC);
	uint32_t len = 0;
	if (fd < 0)
		return 0;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (uint32_t)n;
	}
	close(fd);
	/* The command line ends with a NUL we do not keep. */
	if (len && buf[len - 1] == '\0')
		len--;
	return len;
}

static void write_process(struct lt_out *o, const struct lt_snapshot_context *ctx)
{
	enum { SCRATCH = 64 * 1024 };
	struct section s;
	struct timespec now;
	struct lt_snap_process p = { 0 };
	char *scratch = lt_os_map(SCRATCH);
	uint32_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	p.pid = (uint32_t)ctx->pid;
	p.ppid = (uint32_t)ctx->ppid;
	p.time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	p.reason = ctx->reason;
	p.sequence = ctx->sequence;

	begin_section(o, &s, LT_SNAP_PROCESS);
	lt_out_write(o, &p, sizeof(p));
	if (scratch) {
		ssize_t n = readlink("/proc/thread-self/exe", scratch, SCRATCH);
		write_string(o, scratch, n > 0 ? (uint32_t)n : 0);
		len = read_proc("cmdline", scratch, SCRATCH);
		write_string(o, scratch, len);
		len = (uint32_t)lt_options_format(&lt_opts, scratch, SCRATCH);
		write_string(o, scratch, len < SCRATCH ? len : 0);
		lt_os_unmap(scratch, SCRATCH);
	} else {
		write_string(o, "", 0);
		write_string(o, "", 0);
		write_string(o, "", 0);
	}
	end_section(o, &s);
}

struct counting {
	struct lt_out *o;
	uint64_t count;
	const struct lt_scan_result *scan;
	bool frozen;
};

static void write_module(const struct lt_snap_module *m, const uint8_t *build_id,
			 const char *path, void *data)
{
	struct counting *c = data;
	lt_out_write(c->o, m, sizeof(*m));
	lt_out_write(c->o, build_id, m->build_id_len);
	lt_out_write(c->o, path, m->path_len);
	lt_out_pad8(c->o);
	c->count++;
}

static void write_stack(uint32_t id, uint32_t epoch, const uintptr_t *frames,
			uint32_t depth, void *data)
{
	struct counting *c = data;
	struct lt_snap_stack st = { .id = id, .depth = depth, .epoch = epoch };
	lt_out_write(c->o, &st, sizeof(st));
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t f = frames[i];
		lt_out_write(c->o, &f, sizeof(f));
	}
	c->count++;
}

static void write_block(uintptr_t addr, const struct lt_table_entry *e, void *data)
{
	struct counting *c = data;
	struct lt_snap_block b = {
		.addr = addr,
		.size = e->size,
		.stack_id = lt_stack_id_of(e->stack_id),
		.kind = LT_KIND_UNCLASSIFIED,
		.head = LT_NO_HEAD,
	};
	lt_out_write(c->o, &b, sizeof(b));
	c->count++;
}

/* A list section: a count (u32 + u32 zero, or u64) patched in at the end. */
static void write_list(struct lt_out *o, uint32_t tag, bool count64,
		       void (*fill)(struct counting *), const struct lt_scan_result *scan,
		       bool frozen)
{
	struct section s;
	struct counting c = { .o = o, .scan = scan, .frozen = frozen };
	uint64_t count_offset;
	uint64_t zero = 0;

	begin_section(o, &s, tag);
	count_offset = o->offset;
	lt_out_write(o, &zero, sizeof(zero));
	fill(&c);
	if (count64) {
		lt_out_patch(o, count_offset, &c.count, sizeof(c.count));
	} else {
		uint32_t n = (uint32_t)c.count;
		lt_out_patch(o, count_offset, &n, sizeof(n));
	}
	end_section(o, &s);
}

/* In a frozen copy of the process (a report on demand), the loader's lock
 * and ours may have been held by a thread that does not exist there: the
 * registry is read as it stands. */
static void fill_modules(struct counting *c)
{
	if (c->frozen) {
		lt_modules_foreach_unlocked(write_module, c);
		return;
	}
	lt_modules_refresh();
	lt_modules_foreach(write_module, c);
}
static void fill_stacks(struct counting *c) { lt_depot_foreach(write_stack, c); }
/* The blocks as the scan saw them (kinds included), or, without a scan,
 * as the table holds them now. */
static void fill_blocks(struct counting *c)
{
	if (!c->scan || !c->scan->blocks) {
		lt_table_foreach(write_block, c);
		return;
	}
	for (size_t i = 0; i < c->scan->count; i++) {
		const struct lt_scan_block *sb = &c->scan->blocks[i];
		if (sb->map_type)
			continue;          /* in the MAPPINGS section */
		struct lt_snap_block b = {
			.addr = sb->addr,
			.size = sb->size,
			.stack_id = sb->stack_id,
			.kind = c->scan->classified ? sb->kind : LT_KIND_UNCLASSIFIED,
			.heuristic = c->scan->classified && sb->kind == LT_KIND_REACHABLE
					     ? sb->heuristic : 0,
			.head = c->scan->classified ? sb->parent : LT_NO_HEAD,
		};
		lt_out_write(c->o, &b, sizeof(b));
		c->count++;
	}
}

/* ---- MAPPINGS ---- */

static void write_mapping_entry(struct lt_out *o, uintptr_t addr, uint64_t size,
				uint32_t stack_id, uint8_t kind, uint8_t type, uint32_t head,
				uint32_t path_id)
{
	const char *path = lt_mappings_path(path_id);
	size_t len = strlen(path);
	struct lt_snap_mapping m = {
		.addr = addr,
		.size = size,
		.stack_id = stack_id,
		.kind = kind,
		.type = type,
		.path_len = (uint16_t)(len < UINT16_MAX ? len : 0),
		.head = head,
	};
	lt_out_write(o, &m, sizeof(m));
	lt_out_write(o, path, m.path_len);
	lt_out_pad8(o);
}

static void write_unclassified_mapping(const struct lt_mapping *m, void *data)
{
	struct counting *c = data;
	write_mapping_entry(c->o, m->lo, m->hi - m->lo, m->stack_id, LT_KIND_UNCLASSIFIED,
			    m->type, LT_NO_HEAD, m->path);
	c->count++;
}

/* The mappings as the scan saw them, or, without a scan, as the registry
 * holds them now. Heads are ranks among the mappings (scan.h). */
static void write_mappings(struct lt_out *o, const struct lt_scan_result *scan)
{
	struct section s;
	struct counting c = { .o = o };
	uint64_t zero[2] = { 0, lt_mappings_dropped() };

	begin_section(o, &s, LT_SNAP_MAPPINGS);
	uint64_t count_offset = o->offset;
	lt_out_write(o, zero, sizeof(zero));
	if (!scan || !scan->blocks) {
		lt_mappings_foreach(write_unclassified_mapping, &c);
	} else {
		for (size_t i = 0; i < scan->count; i++) {
			const struct lt_scan_block *sb = &scan->blocks[i];
			if (!sb->map_type)
				continue;
			write_mapping_entry(o, sb->addr, sb->size, sb->stack_id,
					    scan->classified ? sb->kind : LT_KIND_UNCLASSIFIED,
					    sb->map_type,
					    scan->classified ? sb->parent : LT_NO_HEAD,
					    sb->map_path);
			c.count++;
		}
	}
	lt_out_patch(o, count_offset, &c.count, sizeof(c.count));
	end_section(o, &s);
}

/* The value of "Name:   123 kB" in a /proc status-like text. */
static uint64_t kib_field(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != ':')
			continue;
		const char *v = p + n + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		uint64_t kib = 0;
		if (*v < '0' || *v > '9')
			return LT_MEM_UNKNOWN;
		while (*v >= '0' && *v <= '9')
			kib = kib * 10 + (uint64_t)(*v++ - '0');
		return kib;
	}
	return LT_MEM_UNKNOWN;
}

static uint64_t sum_known(uint64_t a, uint64_t b)
{
	return a == LT_MEM_UNKNOWN || b == LT_MEM_UNKNOWN ? LT_MEM_UNKNOWN : a + b;
}

/* The program's memory: its own /proc entry (a frozen copy reads the
 * running program's, by pid: the copy's own figures would be its copy's). */
static void write_memory(struct lt_out *o, const struct lt_snapshot_context *ctx)
{
	enum { TEXT = 16384 };
	struct section s;
	struct lt_snap_memory m = { LT_MEM_UNKNOWN, LT_MEM_UNKNOWN, LT_MEM_UNKNOWN,
				    LT_MEM_UNKNOWN, LT_MEM_UNKNOWN };
	char *text = lt_os_map(TEXT);
	char name[64];
	if (text) {
		struct lt_strbuf sb;
		lt_strbuf_init(&sb, name, sizeof(name));
		if (ctx->frozen) {
			lt_strbuf_puts(&sb, "../../../");
			lt_strbuf_putu(&sb, (uint64_t)ctx->pid);
			lt_strbuf_puts(&sb, "/");
		}
		size_t base = sb.len;
		lt_strbuf_puts(&sb, "status");
		uint32_t len = read_proc(name, text, TEXT - 1);
		text[len] = '\0';
		m.vss_kib = kib_field(text, "VmSize");
		m.swap_kib = kib_field(text, "VmSwap");
		sb.len = base;
		lt_strbuf_puts(&sb, "smaps_rollup");
		len = read_proc(name, text, TEXT - 1);
		text[len] = '\0';
		m.rss_kib = kib_field(text, "Rss");
		m.pss_kib = kib_field(text, "Pss");
		m.uss_kib = sum_known(kib_field(text, "Private_Clean"), kib_field(text, "Private_Dirty"));
		lt_os_unmap(text, TEXT);
	}
	begin_section(o, &s, LT_SNAP_MEMORY);
	lt_out_write(o, &m, sizeof(m));
	end_section(o, &s);
}

static void write_totals(struct lt_out *o, const struct lt_snap_totals *t)
{
	struct section s;
	begin_section(o, &s, LT_SNAP_TOTALS);
	lt_out_write(o, t, sizeof(*t));
	end_section(o, &s);
}

int lt_snapshot_write(int fd, const struct lt_snapshot_context *ctx,
		      const struct lt_scan_result *scan, const struct lt_snap_totals *totals)
{
	struct lt_out *o = lt_os_map(sizeof(*o));
	struct lt_snap_file_header h = {
		.version = LT_SNAP_VERSION,
		.header_size = sizeof(h),
		.section_count = lt_mappings_tracked() ? 7 : 6,
	};
	int rc;

	if (!o)
		return -1;
	lt_out_init(o, fd);
	memcpy(h.magic, LT_SNAP_MAGIC, LT_SNAP_MAGIC_LEN);
	lt_out_write(o, &h, sizeof(h));
	write_process(o, ctx);
	/* Blocks before stacks before modules: a block's stack is interned
	 * before the block is recorded, and a stack's modules are loaded
	 * before it is captured, so threads still running cannot leave a
	 * block that points to a stack or module missing from the file. */
	write_list(o, LT_SNAP_BLOCKS, true, fill_blocks, scan, ctx->frozen);
	/* Mappings before stacks too: their stacks are in the depot before
	 * they are recorded. */
	if (lt_mappings_tracked())
		write_mappings(o, scan);
	write_list(o, LT_SNAP_STACKS, false, fill_stacks, NULL, ctx->frozen);
	write_list(o, LT_SNAP_MODULES, false, fill_modules, NULL, ctx->frozen);
	write_totals(o, totals);
	write_memory(o, ctx);
	uint64_t total = o->offset;
	lt_out_patch(o, offsetof(struct lt_snap_file_header, file_size), &total, sizeof(total));
	rc = lt_out_flush(o);
	lt_os_unmap(o, sizeof(*o));
	return rc;
}
