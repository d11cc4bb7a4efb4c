/* Parser and validator of the raw snapshot (common/SNAPSHOT.md).
 * Context: offline side only (allocates, formats with stdio).
 * Must never trust the input: every length, count, offset and reference is
 * checked before use, sizes are computed without overflow, and memory is
 * bounded by the size of the input. Fields are decoded byte by byte as
 * little-endian, so neither alignment nor host byte order matter. */
#include "snapshot.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* On-disk sizes. The structs in snapshot.h describe the same layout; the
 * asserts keep the two from drifting apart. */
#define FILE_HEADER_SIZE 32u
#define SECTION_HEADER_SIZE 16u
#define PROCESS_FIXED_SIZE 24u
#define MODULE_FIXED_SIZE 40u
#define STACK_FIXED_SIZE 16u
#define BLOCK_SIZE 32u
#define TOTALS_SIZE 40u
#define LIST_HEADER_SIZE 8u

_Static_assert(sizeof(struct lt_snap_file_header) == FILE_HEADER_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_section_header) == SECTION_HEADER_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_process) == PROCESS_FIXED_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_module) == MODULE_FIXED_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_stack) == STACK_FIXED_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_block) == BLOCK_SIZE, "layout");
_Static_assert(sizeof(struct lt_snap_totals) == TOTALS_SIZE, "layout");

#define NSECTIONS 8           /* known tags are 1..7 */
#define MAPPING_FIXED_SIZE 32u
_Static_assert(sizeof(struct lt_snap_mapping) == MAPPING_FIXED_SIZE, "layout");
#define LAST_REQUIRED LT_SNAP_TOTALS
#define MEMORY_SIZE 40u

struct span {
	const uint8_t *p;
	size_t len;
	bool present;
};

struct parser {
	struct span sec[NSECTIONS];
	char *err;
	size_t errlen;
};

/* Private allocations hanging off snap->storage_. */
struct storage {
	void *file;               /* bytes read by lt_snapshot_load */
	uint64_t *frames;
	char *argbuf;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	if (!ps->err || !ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static const char *tag_name(uint32_t tag)
{
	switch (tag) {
	case LT_SNAP_PROCESS: return "PROCESS";
	case LT_SNAP_MODULES: return "MODULES";
	case LT_SNAP_STACKS: return "STACKS";
	case LT_SNAP_BLOCKS: return "BLOCKS";
	case LT_SNAP_TOTALS: return "TOTALS";
	case LT_SNAP_MEMORY: return "MEMORY";
	case LT_SNAP_MAPPINGS: return "MAPPINGS";
	default: return "unknown";
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Bytes of zero padding after n bytes, up to the next multiple of 8. */
static size_t pad8(uint64_t n)
{
	return (size_t)((8 - (n & 7)) & 7);
}

/* ---- file header and section table ---- */

static int parse_header(struct parser *ps, const uint8_t *b, size_t len,
			size_t *first_section, uint32_t *nsections)
{
	if (len == 0)
		return fail(ps, "empty file");
	if (memcmp(b, LT_SNAP_MAGIC, len < LT_SNAP_MAGIC_LEN ? len : LT_SNAP_MAGIC_LEN) != 0)
		return fail(ps, "not a leaktrace snapshot (bad magic)");
	if (len < FILE_HEADER_SIZE)
		return fail(ps, "truncated: file header needs %u bytes, %zu left",
			    FILE_HEADER_SIZE, len);
	uint32_t version = le32(b + 8);
	uint32_t header_size = le32(b + 12);
	uint64_t file_size = le64(b + 16);
	uint32_t flags = le32(b + 28);
	if (version != LT_SNAP_VERSION)
		return fail(ps, "unsupported format version %u (this reader reads version %u)",
			    version, LT_SNAP_VERSION);
	if (file_size != len) {
		if (file_size > len)
			return fail(ps, "truncated: header says %llu bytes, file has %zu",
				    (unsigned long long)file_size, len);
		return fail(ps, "file has %zu bytes, header says %llu",
			    len, (unsigned long long)file_size);
	}
	if (header_size < FILE_HEADER_SIZE || header_size % 8 || header_size > len)
		return fail(ps, "bad header_size %u (expected %u)", header_size,
			    FILE_HEADER_SIZE);
	if (flags)
		return fail(ps, "unknown header flags 0x%x", flags);
	*nsections = le32(b + 24);
	*first_section = header_size;
	return 0;
}

static int scan_sections(struct parser *ps, const uint8_t *b, size_t len,
			 size_t off, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		if (len - off < SECTION_HEADER_SIZE)
			return fail(ps, "truncated: section %u of %u needs %u bytes, %zu left",
				    i + 1, count, SECTION_HEADER_SIZE, len - off);
		uint32_t tag = le32(b + off);
		uint32_t flags = le32(b + off + 4);
		uint64_t size = le64(b + off + 8);
		const char *name = tag_name(tag);
		off += SECTION_HEADER_SIZE;
		if (size > len - off)
			return fail(ps, "truncated: %s section needs %llu bytes, %zu left",
				    name, (unsigned long long)size, len - off);
		size_t pad = pad8(size);
		if (pad > len - off - size)
			return fail(ps, "truncated: %s section padding needs %zu bytes, %zu left",
				    name, pad, len - off - (size_t)size);
		if (!all_zero(b + off + size, pad))
			return fail(ps, "%s section: padding is not zero", name);
		if (flags)
			return fail(ps, "%s section: unknown flags 0x%x", name, flags);
		if (tag >= 1 && tag < NSECTIONS) {
			struct span *s = &ps->sec[tag];
			if (s->present)
				return fail(ps, "%s section appears twice", name);
			*s = (struct span){ b + off, (size_t)size, true };
		}
		/* Unknown tags are skipped: later versions may add sections. */
		off += (size_t)size + pad;
	}
	if (off != len)
		return fail(ps, "%zu bytes after the last section", len - off);
	for (uint32_t tag = 1; tag <= LAST_REQUIRED; tag++)
		if (!ps->sec[tag].present)
			return fail(ps, "%s section is missing", tag_name(tag));
	return 0;
}

/* ---- PROCESS ---- */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static int take_string(struct parser *ps, struct cursor *c, const char *what,
		       const uint8_t **s, uint32_t *slen)
{
	if (c->left < 4)
		return fail(ps, "truncated: PROCESS section: %s length needs 4 bytes, %zu left",
			    what, c->left);
	*slen = le32(c->p);
	c->p += 4;
	c->left -= 4;
	if (*slen > c->left)
		return fail(ps, "truncated: PROCESS section: %s needs %u bytes, %zu left",
			    what, *slen, c->left);
	*s = c->p;
	c->p += *slen;
	c->left -= *slen;
	return 0;
}

static char *dup_text(const uint8_t *s, size_t n)
{
	char *t = malloc(n + 1);
	if (t) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

/* Splits the NUL-separated command line into argv and a space-joined
 * display string. */
static int split_cmdline(struct parser *ps, const uint8_t *s, uint32_t n,
			 struct lt_snapshot *snap, struct storage *st)
{
	size_t argc = 0;
	if (n) {
		argc = 1;
		for (uint32_t i = 0; i < n; i++)
			argc += s[i] == '\0';
	}
	st->argbuf = dup_text(s, n);
	snap->cmdline = dup_text(s, n);
	snap->argv = calloc(argc + 1, sizeof(char *));
	if (!st->argbuf || !snap->cmdline || !snap->argv)
		return fail(ps, "out of memory");
	char *p = st->argbuf;
	for (size_t i = 0; i < argc; i++) {
		snap->argv[i] = p;
		p += strlen(p) + 1;
	}
	snap->argc = argc;
	for (uint32_t i = 0; i < n; i++)
		if (snap->cmdline[i] == '\0')
			snap->cmdline[i] = ' ';
	return 0;
}

static int parse_process(struct parser *ps, struct lt_snapshot *snap, struct storage *st)
{
	struct span *s = &ps->sec[LT_SNAP_PROCESS];
	struct cursor c = { s->p, s->len };
	const uint8_t *exe, *cmd, *opt;
	uint32_t exe_len, cmd_len, opt_len;

	if (c.left < PROCESS_FIXED_SIZE)
		return fail(ps, "truncated: PROCESS section needs %u bytes, %zu left",
			    PROCESS_FIXED_SIZE, c.left);
	snap->process.pid = le32(c.p);
	snap->process.ppid = le32(c.p + 4);
	snap->process.time_ns = le64(c.p + 8);
	snap->process.reason = le32(c.p + 16);
	snap->process.sequence = le32(c.p + 20);
	c.p += PROCESS_FIXED_SIZE;
	c.left -= PROCESS_FIXED_SIZE;
	if (snap->process.reason < LT_REASON_EXIT || snap->process.reason > LT_REASON_INTERVAL)
		return fail(ps, "PROCESS section: unknown reason %u", snap->process.reason);
	if (take_string(ps, &c, "executable path", &exe, &exe_len) ||
	    take_string(ps, &c, "command line", &cmd, &cmd_len) ||
	    take_string(ps, &c, "options", &opt, &opt_len))
		return -1;
	if (c.left)
		return fail(ps, "PROCESS section: %zu bytes after the options string", c.left);
	if (memchr(exe, '\0', exe_len))
		return fail(ps, "PROCESS section: executable path contains a NUL byte");
	if (memchr(opt, '\0', opt_len))
		return fail(ps, "PROCESS section: options string contains a NUL byte");
	snap->exe = dup_text(exe, exe_len);
	snap->options = dup_text(opt, opt_len);
	if (!snap->exe || !snap->options)
		return fail(ps, "out of memory");
	return split_cmdline(ps, cmd, cmd_len, snap, st);
}

/* ---- lists: MODULES and STACKS share a u32 count + u32 zero header ---- */

static int list_count32(struct parser *ps, uint32_t tag, size_t min_entry,
			struct cursor *c, size_t *count)
{
	const char *name = tag_name(tag);
	if (c->left < LIST_HEADER_SIZE)
		return fail(ps, "truncated: %s section needs %u bytes, %zu left",
			    name, LIST_HEADER_SIZE, c->left);
	*count = le32(c->p);
	if (le32(c->p + 4))
		return fail(ps, "%s section: reserved word after the count is not zero", name);
	c->p += LIST_HEADER_SIZE;
	c->left -= LIST_HEADER_SIZE;
	/* Division, not multiplication: a hostile count cannot overflow. */
	if (*count > c->left / min_entry)
		return fail(ps, "truncated: %s section: %zu entries need at least %zu bytes each, %zu left",
			    name, *count, min_entry, c->left);
	return 0;
}

/* ---- entries with a path: MODULES and MAPPINGS ----
 * Messages name entry i as "<section> section: <noun> i". */

static int entry_short(struct parser *ps, const struct cursor *c, const char *section,
		       const char *noun, size_t i, size_t need)
{
	if (need <= c->left)
		return 0;
	return fail(ps, "truncated: %s section: %s %zu needs %zu bytes, %zu left",
		    section, noun, i, need, c->left);
}

/* Copies the entry's path and steps the cursor past the entry. */
static int keep_path_and_step(struct parser *ps, struct cursor *c, const uint8_t *path,
			      size_t path_len, size_t entry, char **copy)
{
	*copy = dup_text(path, path_len);
	if (!*copy)
		return fail(ps, "out of memory");
	c->p += entry;
	c->left -= entry;
	return 0;
}

static int parse_module(struct parser *ps, struct cursor *c, size_t i,
			struct lt_module *m)
{
	if (entry_short(ps, c, "MODULES", "module", i, MODULE_FIXED_SIZE))
		return -1;
	const uint8_t *p = c->p;
	m->bias = le64(p);
	m->lo = le64(p + 8);
	m->hi = le64(p + 16);
	m->load_epoch = le32(p + 24);
	m->unload_epoch = le32(p + 28);
	uint16_t id_len = le16(p + 32);
	uint16_t path_len = le16(p + 34);
	if (le32(p + 36))
		return fail(ps, "MODULES section: module %zu: reserved field is not zero", i);
	size_t body = (size_t)id_len + path_len;
	size_t entry = MODULE_FIXED_SIZE + body + pad8(body);
	if (entry_short(ps, c, "MODULES", "module", i, entry))
		return -1;
	const uint8_t *id = p + MODULE_FIXED_SIZE;
	const uint8_t *path = id + id_len;
	if (!all_zero(path + path_len, pad8(body)))
		return fail(ps, "MODULES section: module %zu: padding is not zero", i);
	if (m->lo > m->hi)
		return fail(ps, "MODULES section: module %zu: range start 0x%llx above its end 0x%llx",
			    i, (unsigned long long)m->lo, (unsigned long long)m->hi);
	if (m->load_epoch >= m->unload_epoch)
		return fail(ps, "MODULES section: module %zu: unloaded at epoch %u, not after its load at epoch %u",
			    i, m->unload_epoch, m->load_epoch);
	if (memchr(path, '\0', path_len))
		return fail(ps, "MODULES section: module %zu: path contains a NUL byte", i);
	m->build_id = id_len ? id : NULL;
	m->build_id_len = id_len;
	return keep_path_and_step(ps, c, path, path_len, entry, &m->path);
}

static int parse_modules(struct parser *ps, struct lt_snapshot *snap)
{
	struct span *s = &ps->sec[LT_SNAP_MODULES];
	struct cursor c = { s->p, s->len };
	size_t count;
	if (list_count32(ps, LT_SNAP_MODULES, MODULE_FIXED_SIZE, &c, &count))
		return -1;
	snap->modules = calloc(count ? count : 1, sizeof(*snap->modules));
	if (!snap->modules)
		return fail(ps, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (parse_module(ps, &c, i, &snap->modules[i]))
			return -1;
		snap->nmodules = i + 1;
	}
	if (c.left)
		return fail(ps, "MODULES section: %zu bytes after the last module", c.left);
	return 0;
}

/* ---- STACKS ---- */

static int cmp_stack_id(const void *a, const void *b)
{
	uint32_t x = ((const struct lt_stack *)a)->id;
	uint32_t y = ((const struct lt_stack *)b)->id;
	return (x > y) - (x < y);
}

static int parse_stack(struct parser *ps, struct cursor *c, size_t i,
		       struct lt_stack *out, uint64_t *frames)
{
	if (c->left < STACK_FIXED_SIZE)
		return fail(ps, "truncated: STACKS section: stack %zu needs %u bytes, %zu left",
			    i, STACK_FIXED_SIZE, c->left);
	out->id = le32(c->p);
	out->depth = le32(c->p + 4);
	out->epoch = le32(c->p + 8);
	if (le32(c->p + 12))
		return fail(ps, "STACKS section: stack %zu: reserved field is not zero", i);
	if (out->id == 0)
		return fail(ps, "STACKS section: stack %zu has id 0 (ids start at 1)", i);
	if (out->depth == 0 || out->depth > LT_SNAP_MAX_DEPTH)
		return fail(ps, "STACKS section: stack id %u has depth %u (expected 1 to %u)",
			    out->id, out->depth, LT_SNAP_MAX_DEPTH);
	c->p += STACK_FIXED_SIZE;
	c->left -= STACK_FIXED_SIZE;
	size_t bytes = (size_t)out->depth * 8;
	if (bytes > c->left)
		return fail(ps, "truncated: STACKS section: stack id %u needs %zu bytes of frames, %zu left",
			    out->id, bytes, c->left);
	for (uint32_t f = 0; f < out->depth; f++)
		frames[f] = le64(c->p + 8 * f);
	out->frames = frames;
	c->p += bytes;
	c->left -= bytes;
	return 0;
}

static int parse_stacks(struct parser *ps, struct lt_snapshot *snap, struct storage *st)
{
	struct span *s = &ps->sec[LT_SNAP_STACKS];
	struct cursor c = { s->p, s->len };
	size_t count, used = 0;
	bool sorted = true;
	if (list_count32(ps, LT_SNAP_STACKS, STACK_FIXED_SIZE + 8, &c, &count))
		return -1;
	/* Every frame is 8 bytes of the payload: this bounds the copy. */
	size_t max_frames = c.left / 8;
	snap->stacks = calloc(count ? count : 1, sizeof(*snap->stacks));
	st->frames = malloc((max_frames ? max_frames : 1) * sizeof(uint64_t));
	if (!snap->stacks || !st->frames)
		return fail(ps, "out of memory");
	for (size_t i = 0; i < count; i++) {
		struct lt_stack *stk = &snap->stacks[i];
		if (parse_stack(ps, &c, i, stk, st->frames + used))
			return -1;
		used += stk->depth;
		if (i && stk->id <= snap->stacks[i - 1].id)
			sorted = false;
		snap->nstacks = i + 1;
	}
	if (c.left)
		return fail(ps, "STACKS section: %zu bytes after the last stack", c.left);
	if (!sorted)
		qsort(snap->stacks, count, sizeof(*snap->stacks), cmp_stack_id);
	for (size_t i = 1; i < count; i++)
		if (snap->stacks[i].id == snap->stacks[i - 1].id)
			return fail(ps, "STACKS section: stack id %u appears twice",
				    snap->stacks[i].id);
	return 0;
}

/* ---- BLOCKS and MAPPINGS: entries with a stack and a head ---- */

/* Entry i of `count` in `section`: its stack must be in the STACKS section;
 * a head, if any, only on an indirectly lost entry, naming another one. */
static int check_stack_and_head(struct parser *ps, const struct lt_snapshot *snap,
				const char *section, const char *noun, size_t i, size_t count,
				uint32_t stack_id, unsigned kind, uint32_t head)
{
	if (!lt_snapshot_stack(snap, stack_id))
		return fail(ps, "%s section: %s %zu refers to stack id %u, which is not in the STACKS section",
			    section, noun, i, stack_id);
	if (head == LT_NO_HEAD)
		return 0;
	if (kind != LT_KIND_INDIRECT)
		return fail(ps, "%s section: %s %zu has a head but is not indirectly lost",
			    section, noun, i);
	if (head >= count || head == i)
		return fail(ps, "%s section: %s %zu has head %u (expected a %s index below %zu, not its own)",
			    section, noun, i, head, noun, count);
	return 0;
}

/* ---- BLOCKS ---- */

static int check_block(struct parser *ps, const struct lt_snapshot *snap,
		       size_t i, const uint8_t *p, const struct lt_snap_block *b)
{
	if (b->kind > LT_KIND_REACHABLE)
		return fail(ps, "BLOCKS section: block %zu has unknown kind %u", i, b->kind);
	if (b->heuristic >= LT_SNAP_HEUR_COUNT ||
	    (b->heuristic && b->kind != LT_KIND_REACHABLE))
		return fail(ps, "BLOCKS section: block %zu has heuristic %u, which does not fit its kind",
			    i, b->heuristic);
	if (!all_zero(p + 22, 2) || le32(p + 28))
		return fail(ps, "BLOCKS section: block %zu: reserved field is not zero", i);
	return check_stack_and_head(ps, snap, "BLOCKS", "block", i, snap->nblocks, b->stack_id,
				    b->kind, b->head);
}

static int parse_blocks(struct parser *ps, struct lt_snapshot *snap)
{
	struct span *s = &ps->sec[LT_SNAP_BLOCKS];
	if (s->len < 8)
		return fail(ps, "truncated: BLOCKS section needs 8 bytes, %zu left", s->len);
	uint64_t count = le64(s->p);
	size_t left = s->len - 8;
	if (count > left / BLOCK_SIZE)
		return fail(ps, "truncated: BLOCKS section: %llu blocks need %u bytes each, %zu left",
			    (unsigned long long)count, BLOCK_SIZE, left);
	if (count * BLOCK_SIZE != left)
		return fail(ps, "BLOCKS section: %zu bytes after the last block",
			    left - (size_t)count * BLOCK_SIZE);
	snap->blocks = malloc((count ? count : 1) * sizeof(*snap->blocks));
	if (!snap->blocks)
		return fail(ps, "out of memory");
	snap->nblocks = (size_t)count;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *p = s->p + 8 + i * BLOCK_SIZE;
		struct lt_snap_block *b = &snap->blocks[i];
		memset(b, 0, sizeof(*b));
		b->addr = le64(p);
		b->size = le64(p + 8);
		b->stack_id = le32(p + 16);
		b->kind = p[20];
		b->heuristic = p[21];
		b->head = le32(p + 24);
		if (check_block(ps, snap, i, p, b))
			return -1;
	}
	return 0;
}

/* ---- TOTALS ---- */

static int parse_totals(struct parser *ps, struct lt_snapshot *snap)
{
	struct span *s = &ps->sec[LT_SNAP_TOTALS];
	if (s->len < TOTALS_SIZE)
		return fail(ps, "truncated: TOTALS section needs %u bytes, %zu left",
			    TOTALS_SIZE, s->len);
	if (s->len > TOTALS_SIZE)
		return fail(ps, "TOTALS section: %zu bytes after the last field",
			    s->len - TOTALS_SIZE);
	snap->totals.allocs = le64(s->p);
	snap->totals.frees = le64(s->p + 8);
	snap->totals.bytes_allocated = le64(s->p + 16);
	snap->totals.dropped = le64(s->p + 24);
	snap->totals.scan_flags = le32(s->p + 32);
	snap->totals.unstopped_threads = le32(s->p + 36);
	if (snap->totals.scan_flags & ~(LT_SCAN_CLASSIFIED | LT_SCAN_INCOMPLETE))
		return fail(ps, "TOTALS section: unknown scan flags %#x", snap->totals.scan_flags);
	return 0;
}

/* ---- MEMORY (optional) ---- */

static int parse_memory(struct parser *ps, struct lt_snapshot *snap)
{
	struct span *s = &ps->sec[LT_SNAP_MEMORY];
	if (!s->present)
		return 0;
	if (s->len != MEMORY_SIZE)
		return fail(ps, "MEMORY section: %zu bytes, expected %u", s->len, MEMORY_SIZE);
	snap->memory.vss_kib = le64(s->p);
	snap->memory.rss_kib = le64(s->p + 8);
	snap->memory.pss_kib = le64(s->p + 16);
	snap->memory.uss_kib = le64(s->p + 24);
	snap->memory.swap_kib = le64(s->p + 32);
	snap->has_memory = true;
	return 0;
}

/* ---- MAPPINGS (optional) ---- */

static int check_mapping(struct parser *ps, const struct lt_snapshot *snap, size_t i,
			 size_t count, const uint8_t *p, const struct lt_mapping_entry *m)
{
	if (m->kind > LT_KIND_REACHABLE)
		return fail(ps, "MAPPINGS section: mapping %zu has unknown kind %u", i, m->kind);
	if (m->type < LT_MAP_PRIVATE_ANON || m->type > LT_MAP_SHARED_FILE)
		return fail(ps, "MAPPINGS section: mapping %zu has unknown type %u", i, m->type);
	if (le32(p + 28))
		return fail(ps, "MAPPINGS section: mapping %zu: reserved field is not zero", i);
	if (m->addr + m->size < m->addr)
		return fail(ps, "MAPPINGS section: mapping %zu: range wraps around", i);
	return check_stack_and_head(ps, snap, "MAPPINGS", "mapping", i, count, m->stack_id,
				    m->kind, m->head);
}

static int parse_mapping(struct parser *ps, struct lt_snapshot *snap, struct cursor *c,
			 size_t i, size_t count)
{
	struct lt_mapping_entry *m = &snap->mappings[i];
	if (entry_short(ps, c, "MAPPINGS", "mapping", i, MAPPING_FIXED_SIZE))
		return -1;
	const uint8_t *p = c->p;
	m->addr = le64(p);
	m->size = le64(p + 8);
	m->stack_id = le32(p + 16);
	m->kind = p[20];
	m->type = p[21];
	uint16_t path_len = le16(p + 22);
	m->head = le32(p + 24);
	if (check_mapping(ps, snap, i, count, p, m))
		return -1;
	size_t entry = MAPPING_FIXED_SIZE + path_len + pad8(path_len);
	if (entry_short(ps, c, "MAPPINGS", "mapping", i, entry))
		return -1;
	const uint8_t *path = p + MAPPING_FIXED_SIZE;
	if (!all_zero(path + path_len, pad8(path_len)))
		return fail(ps, "MAPPINGS section: mapping %zu: padding is not zero", i);
	if (memchr(path, '\0', path_len))
		return fail(ps, "MAPPINGS section: mapping %zu: path contains a NUL byte", i);
	bool file = m->type == LT_MAP_PRIVATE_FILE || m->type == LT_MAP_SHARED_FILE;
	if (path_len && !file)
		return fail(ps, "MAPPINGS section: mapping %zu: an anonymous mapping has a path", i);
	return keep_path_and_step(ps, c, path, path_len, entry, &m->path);
}

static int parse_mappings(struct parser *ps, struct lt_snapshot *snap)
{
	struct span *s = &ps->sec[LT_SNAP_MAPPINGS];
	if (!s->present)
		return 0;
	if (s->len < 16)
		return fail(ps, "truncated: MAPPINGS section needs 16 bytes, %zu left", s->len);
	uint64_t count = le64(s->p);
	struct cursor c = { s->p + 16, s->len - 16 };
	if (count > c.left / MAPPING_FIXED_SIZE)
		return fail(ps, "truncated: MAPPINGS section: %llu mappings need at least %u bytes each, %zu left",
			    (unsigned long long)count, MAPPING_FIXED_SIZE, c.left);
	snap->mappings_dropped = le64(s->p + 8);
	snap->mappings = calloc(count ? (size_t)count : 1, sizeof(*snap->mappings));
	if (!snap->mappings)
		return fail(ps, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (parse_mapping(ps, snap, &c, i, (size_t)count))
			return -1;
		snap->nmappings = i + 1;
	}
	if (c.left)
		return fail(ps, "MAPPINGS section: %zu bytes after the last mapping", c.left);
	snap->has_mappings = true;
	return 0;
}

/* ---- public API ---- */

static int parse_all(struct parser *ps, const uint8_t *b, size_t len,
		     struct lt_snapshot *snap, struct storage *st)
{
	size_t off = 0;
	uint32_t nsections = 0;
	if (parse_header(ps, b, len, &off, &nsections) ||
	    scan_sections(ps, b, len, off, nsections))
		return -1;
	/* STACKS before BLOCKS: blocks refer to stacks, whatever the order
	 * the writer chose. */
	return parse_process(ps, snap, st) || parse_modules(ps, snap) ||
	       parse_stacks(ps, snap, st) || parse_blocks(ps, snap) ||
	       parse_totals(ps, snap) || parse_memory(ps, snap) ||
	       parse_mappings(ps, snap) ? -1 : 0;
}

int lt_snapshot_parse(const void *buf, size_t len, struct lt_snapshot *out,
		      char *err, size_t errlen)
{
	struct parser ps = { .err = err, .errlen = errlen };
	struct storage *st;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	st = calloc(1, sizeof(*st));
	if (!st)
		return fail(&ps, "out of memory");
	out->storage_ = st;
	if (parse_all(&ps, buf, len, out, st)) {
		lt_snapshot_free(out);
		return -1;
	}
	return 0;
}

void lt_snapshot_free(struct lt_snapshot *snap)
{
	struct storage *st = snap->storage_;
	for (size_t i = 0; snap->modules && i < snap->nmodules; i++)
		free(snap->modules[i].path);
	free(snap->modules);
	for (size_t i = 0; snap->mappings && i < snap->nmappings; i++)
		free(snap->mappings[i].path);
	free(snap->mappings);
	free(snap->stacks);
	free(snap->blocks);
	free(snap->exe);
	free(snap->cmdline);
	free(snap->argv);
	free(snap->options);
	if (st) {
		free(st->frames);
		free(st->argbuf);
		free(st->file);
		free(st);
	}
	memset(snap, 0, sizeof(*snap));
}

const struct lt_stack *lt_snapshot_stack(const struct lt_snapshot *snap,
					 uint32_t id)
{
	size_t lo = 0, hi = snap->nstacks;
	/* Writers number stacks 1..n: try the direct slot first. */
	if (id >= 1 && id <= hi && snap->stacks[id - 1].id == id)
		return &snap->stacks[id - 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (snap->stacks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < snap->nstacks && snap->stacks[lo].id == id ? &snap->stacks[lo] : NULL;
}

/* Used by snapshot_load.c: hands a buffer read from a file to the
 * snapshot, which frees it with the rest. */
void lt_snapshot_adopt_buffer_(struct lt_snapshot *snap, void *buf);
void lt_snapshot_adopt_buffer_(struct lt_snapshot *snap, void *buf)
{
	struct storage *st = snap->storage_;
	st->file = buf;
}
