/* Deltas between the reports of one process: the state file, the
 * comparison with the previous report, and valgrind's delta figures.
 * See delta.h. Context: offline side only. A state file that is missing,
 * foreign (another process's) or broken costs the deltas of one report,
 * never the report. */
#define _GNU_SOURCE
#include "delta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAGIC "LTDELTA\x01"
#define STATE_VERSION 1u

/* File layout, little-endian like the snapshot (x86-64 only):
 * header, then count records, each followed by nframes u64 frames. */
struct state_header {
	uint8_t magic[8];
	uint32_t version;
	uint32_t pid;
	uint32_t sequence;
	uint32_t count;
	uint64_t kind_bytes[LT_NKINDS], kind_blocks[LT_NKINDS];
	uint64_t heur_bytes[LT_SNAP_HEUR_COUNT], heur_blocks[LT_SNAP_HEUR_COUNT];
	uint64_t suppressed_bytes, suppressed_blocks;
};

struct state_record {
	uint32_t stack_id;
	uint8_t kind;
	uint8_t suppressed;
	uint16_t nframes;
	uint64_t bytes, indirect_bytes, blocks;
};

static int state_fd = -1;

void lt_delta_set_state_fd(int fd)
{
	state_fd = fd;
}

const char *lt_fmt_delta(uint64_t now, uint64_t old, bool on, char buf[LT_DELTA_MAX])
{
	char n[LT_COMMAS_MAX];
	if (!on)
		buf[0] = '\0';
	else if (now >= old)
		snprintf(buf, LT_DELTA_MAX, " (+%s)", lt_fmt_commas(now - old, n));
	else
		snprintf(buf, LT_DELTA_MAX, " (-%s)", lt_fmt_commas(old - now, n));
	return buf;
}

void lt_record_figures(const struct lt_records *rs, const struct lt_loss_record *rec,
		       char *buf, size_t len)
{
	bool on = rs && rs->has_previous;
	char total[LT_COMMAS_MAX], direct[LT_COMMAS_MAX], indirect[LT_COMMAS_MAX];
	char blocks[LT_COMMAS_MAX];
	char d_total[LT_DELTA_MAX], d_direct[LT_DELTA_MAX], d_indirect[LT_DELTA_MAX];
	char d_blocks[LT_DELTA_MAX];

	lt_fmt_commas(rec->blocks, blocks);
	lt_fmt_delta(rec->blocks, rec->old_blocks, on, d_blocks);
	lt_fmt_delta(rec->bytes, rec->old_bytes, on, d_direct);
	if (rec->indirect_bytes)
		snprintf(buf, len, "%s%s (%s%s direct, %s%s indirect) bytes in %s%s blocks",
			 lt_fmt_commas(rec->bytes + rec->indirect_bytes, total),
			 lt_fmt_delta(rec->bytes + rec->indirect_bytes,
				      rec->old_bytes + rec->old_indirect_bytes, on, d_total),
			 lt_fmt_commas(rec->bytes, direct), d_direct,
			 lt_fmt_commas(rec->indirect_bytes, indirect),
			 lt_fmt_delta(rec->indirect_bytes, rec->old_indirect_bytes, on, d_indirect),
			 blocks, d_blocks);
	else
		snprintf(buf, len, "%s%s bytes in %s%s blocks",
			 lt_fmt_commas(rec->bytes, total), d_direct, blocks, d_blocks);
}

/* ---- keys: kind and the frames that group records ---- */

static unsigned cut_depth(const struct lt_stack *s, unsigned grouping_frames)
{
	return grouping_frames && s->depth > grouping_frames ? grouping_frames : s->depth;
}

static uint64_t key_hash(unsigned kind, const uint64_t *frames, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ kind ^ ((uint64_t)n << 8);
	for (unsigned i = 0; i < n; i++)
		h = (h ^ frames[i]) * 0x100000001b3ull ^ (h >> 29);
	return h;
}

static bool same_frames(const uint64_t *a, unsigned na, const uint64_t *b, unsigned nb)
{
	return na == nb && memcmp(a, b, na * sizeof(*a)) == 0;
}

/* ---- the state file's bytes ---- */

int lt_delta_state_encode(const struct lt_records *recs, const struct lt_snapshot *snap,
			  unsigned grouping_frames, void **buf, size_t *len)
{
	size_t size = sizeof(struct state_header), count = 0;
	for (size_t i = 0; i < recs->count; i++) {
		const struct lt_stack *s = lt_snapshot_stack(snap, recs->recs[i].stack_id);
		if (!recs->recs[i].blocks || !s)
			continue;
		size += sizeof(struct state_record) + cut_depth(s, grouping_frames) * 8u;
		count++;
	}
	char *out = calloc(1, size);
	if (!out)
		return -1;
	struct state_header h = {
		.version = STATE_VERSION,
		.pid = snap->process.pid,
		.sequence = snap->process.sequence,
		.count = (uint32_t)count,
		.suppressed_bytes = recs->suppressed_bytes,
		.suppressed_blocks = recs->suppressed_blocks,
	};
	memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
	memcpy(h.kind_bytes, recs->kind_bytes, sizeof(h.kind_bytes));
	memcpy(h.kind_blocks, recs->kind_blocks, sizeof(h.kind_blocks));
	memcpy(h.heur_bytes, recs->heur_bytes, sizeof(h.heur_bytes));
	memcpy(h.heur_blocks, recs->heur_blocks, sizeof(h.heur_blocks));
	memcpy(out, &h, sizeof(h));
	size_t off = sizeof(h);
	for (size_t i = 0; i < recs->count; i++) {
		const struct lt_loss_record *rec = &recs->recs[i];
		const struct lt_stack *s = lt_snapshot_stack(snap, rec->stack_id);
		if (!rec->blocks || !s)
			continue;
		unsigned n = cut_depth(s, grouping_frames);
		struct state_record r = {
			.stack_id = rec->stack_id, .kind = rec->kind,
			.suppressed = rec->suppressed, .nframes = (uint16_t)n,
			.bytes = rec->bytes, .indirect_bytes = rec->indirect_bytes,
			.blocks = rec->blocks,
		};
		memcpy(out + off, &r, sizeof(r));
		off += sizeof(r);
		memcpy(out + off, s->frames, n * 8u);
		off += n * 8u;
	}
	*buf = out;
	*len = size;
	return 0;
}

int lt_delta_state_parse(const void *buf, size_t len, struct lt_delta_state *out,
			 char *err, size_t errlen)
{
	struct state_header h;
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (len < sizeof(h)) {
		snprintf(err, errlen, "truncated header (%zu bytes)", len);
		return -1;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0 || h.version != STATE_VERSION) {
		snprintf(err, errlen, "not a leaktrace delta state of version %u", STATE_VERSION);
		return -1;
	}
	if (len / sizeof(struct state_record) < h.count) {
		snprintf(err, errlen, "record count %u larger than the file", h.count);
		return -1;
	}
	/* 8-aligned copy: the frames are read in place. */
	uint64_t *copy = malloc((len + 7) / 8 * 8);
	out->recs = calloc(h.count ? h.count : 1, sizeof(*out->recs));
	if (!copy || !out->recs) {
		free(copy);
		free(out->recs);
		out->recs = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, buf, len);
	out->buf_ = copy;
	out->pid = h.pid;
	out->sequence = h.sequence;
	out->summary.sequence = h.sequence;
	memcpy(out->summary.kind_bytes, h.kind_bytes, sizeof(h.kind_bytes));
	memcpy(out->summary.kind_blocks, h.kind_blocks, sizeof(h.kind_blocks));
	memcpy(out->summary.heur_bytes, h.heur_bytes, sizeof(h.heur_bytes));
	memcpy(out->summary.heur_blocks, h.heur_blocks, sizeof(h.heur_blocks));
	out->summary.suppressed_bytes = h.suppressed_bytes;
	out->summary.suppressed_blocks = h.suppressed_blocks;
	size_t off = sizeof(h);
	for (uint32_t i = 0; i < h.count; i++) {
		struct state_record r;
		if (len - off < sizeof(r)) {
			snprintf(err, errlen, "record %u of %u truncated", i + 1, h.count);
			goto bad;
		}
		memcpy(&r, (const char *)copy + off, sizeof(r));
		off += sizeof(r);
		if (r.kind >= LT_NKINDS || r.nframes == 0 || r.nframes > LT_SNAP_MAX_DEPTH ||
		    (len - off) / 8u < r.nframes) {
			snprintf(err, errlen, "record %u of %u malformed", i + 1, h.count);
			goto bad;
		}
		out->recs[i] = (struct lt_delta_record){
			.stack_id = r.stack_id, .kind = r.kind, .suppressed = r.suppressed != 0,
			.nframes = r.nframes, .bytes = r.bytes,
			.indirect_bytes = r.indirect_bytes, .blocks = r.blocks,
			.frames = (const uint64_t *)((const char *)copy + off),
		};
		off += r.nframes * 8u;
	}
	if (off != len) {
		snprintf(err, errlen, "%zu bytes after the last record", len - off);
		goto bad;
	}
	out->count = h.count;
	return 0;
bad:
	lt_delta_state_free(out);
	return -1;
}

void lt_delta_state_free(struct lt_delta_state *s)
{
	free(s->recs);
	free(s->buf_);
	memset(s, 0, sizeof(*s));
}

/* ---- comparison ---- */

/* valgrind's get_printing_rules: which records a mode considers. */
static bool considered(const struct lt_loss_record *r, unsigned mode)
{
	switch (mode) {
	case LT_DELTA_INCREASED:
		return r->bytes > r->old_bytes || r->indirect_bytes > r->old_indirect_bytes ||
		       r->blocks > r->old_blocks;
	case LT_DELTA_CHANGED:
		return r->bytes != r->old_bytes || r->indirect_bytes != r->old_indirect_bytes ||
		       r->blocks != r->old_blocks;
	default:
		return r->blocks > 0;
	}
}

/* An open-addressing table of the previous records: index + 1, 0 empty. */
struct prev_index {
	uint32_t *slots;
	size_t mask;
};

static int index_prev(struct prev_index *ix, const struct lt_delta_state *prev)
{
	size_t cap = 16;
	while (cap < prev->count * 2)
		cap *= 2;
	ix->slots = calloc(cap, sizeof(*ix->slots));
	ix->mask = cap - 1;
	if (!ix->slots)
		return -1;
	for (size_t i = 0; i < prev->count; i++) {
		const struct lt_delta_record *p = &prev->recs[i];
		size_t h = key_hash(p->kind, p->frames, p->nframes) & ix->mask;
		while (ix->slots[h])
			h = (h + 1) & ix->mask;
		ix->slots[h] = (uint32_t)i + 1;
	}
	return 0;
}

static const struct lt_delta_record *find_prev(const struct prev_index *ix,
					       const struct lt_delta_state *prev, unsigned kind,
					       const uint64_t *frames, unsigned n, size_t *at)
{
	for (size_t h = key_hash(kind, frames, n) & ix->mask; ix->slots[h];
	     h = (h + 1) & ix->mask) {
		const struct lt_delta_record *p = &prev->recs[ix->slots[h] - 1];
		if (p->kind == kind && same_frames(p->frames, p->nframes, frames, n)) {
			*at = ix->slots[h] - 1;
			return p;
		}
	}
	return NULL;
}

/* A record of the previous report that has no blocks now: kept with 0
 * blocks, under the stack of this snapshot that has its frames (the depot
 * keeps every stack, so it is there unless the state is not ours). */
static bool add_gone(struct lt_records *recs, const struct lt_snapshot *snap,
		     unsigned grouping_frames, const struct lt_delta_record *p)
{
	const struct lt_stack *s = lt_snapshot_stack(snap, p->stack_id);
	if (!s || !same_frames(s->frames, cut_depth(s, grouping_frames), p->frames, p->nframes))
		return false;
	struct lt_loss_record *r = &recs->recs[recs->count++];
	memset(r, 0, sizeof(*r));
	r->stack_id = p->stack_id;
	r->kind = p->kind;
	r->suppressed = p->suppressed;
	r->supp_name = p->suppressed ? "" : NULL;
	r->old_bytes = p->bytes;
	r->old_indirect_bytes = p->indirect_bytes;
	r->old_blocks = p->blocks;
	return true;
}

int lt_delta_compare(struct lt_records *recs, const struct lt_snapshot *snap,
		     unsigned grouping_frames, const struct lt_delta_state *prev,
		     unsigned mode)
{
	struct prev_index ix;
	bool *matched = calloc(prev->count ? prev->count : 1, sizeof(*matched));
	struct lt_loss_record *grown =
		realloc(recs->recs, (recs->count + prev->count + 1) * sizeof(*recs->recs));
	if (grown)
		recs->recs = grown;
	if (!matched || !grown || index_prev(&ix, prev)) {
		free(matched);
		return -1;
	}
	for (size_t i = 0; i < recs->count; i++) {
		struct lt_loss_record *r = &recs->recs[i];
		const struct lt_stack *s = lt_snapshot_stack(snap, r->stack_id);
		size_t at;
		const struct lt_delta_record *p =
			s ? find_prev(&ix, prev, r->kind, s->frames, cut_depth(s, grouping_frames), &at)
			  : NULL;
		if (!p)
			continue;
		matched[at] = true;
		r->old_bytes = p->bytes;
		r->old_indirect_bytes = p->indirect_bytes;
		r->old_blocks = p->blocks;
	}
	for (size_t i = 0; i < prev->count; i++)
		if (!matched[i] && prev->recs[i].blocks)
			add_gone(recs, snap, grouping_frames, &prev->recs[i]);
	free(matched);
	free(ix.slots);
	lt_records_sort(recs);
	if (snap->process.reason == LT_REASON_EXIT)
		mode = LT_DELTA_ANY;
	for (size_t i = 0; i < recs->count; i++)
		recs->recs[i].delta_hidden = !considered(&recs->recs[i], mode);
	recs->has_previous = true;
	recs->previous = prev->summary;
	return 0;
}

/* ---- the state file ---- */

static int read_fd(int fd, void **buf, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	size_t size = (size_t)st.st_size, got = 0;
	char *b = malloc(size ? size : 1);
	if (!b)
		return -1;
	while (got < size) {
		ssize_t n = pread(fd, b + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	return 0;
}

static int write_fd(int fd, const void *buf, size_t len)
{
	if (ftruncate(fd, 0) != 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Our own open file description: flock locks belong to one, and every
 * reporter inherited the same. */
static int open_own(int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int own = open(path, O_RDWR | O_CLOEXEC);
	if (own < 0)
		return -1;
	while (flock(own, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(own);
			return -1;
		}
	}
	return own;
}

void lt_delta_apply(struct lt_records *recs, const struct lt_snapshot *snap,
		    unsigned grouping_frames, const struct lt_options *opts, FILE *diag)
{
	struct lt_delta_state prev = { 0 };
	void *old = NULL, *next = NULL;
	size_t old_len = 0, next_len = 0;
	char err[160];

	if (state_fd < 0)
		return;
	int fd = open_own(state_fd);
	if (fd < 0) {
		fprintf(diag, "leaktrace: cannot open the previous report's figures: %s; "
			"no deltas in this report\n", strerror(errno));
		return;
	}
	if (read_fd(fd, &old, &old_len) != 0) {
		fprintf(diag, "leaktrace: cannot read the previous report's figures: %s; "
			"no deltas in this report\n", strerror(errno));
		goto out;
	}
	if (lt_delta_state_parse(old, old_len, &prev, err, sizeof(err)) != 0) {
		fprintf(diag, "leaktrace: the previous report's figures are unreadable (%s); "
			"no deltas in this report\n", err);
		memset(&prev, 0, sizeof(prev));
	}
	/* Another process's figures (the state is per process; a forked
	 * child makes its own) are not ours to compare with. */
	if (prev.sequence && prev.pid != snap->process.pid)
		lt_delta_state_free(&prev);
	/* A newer report already stored its figures: this one came late. */
	if (prev.sequence >= snap->process.sequence && prev.sequence)
		goto out;
	if (prev.sequence && lt_delta_compare(recs, snap, grouping_frames, &prev, opts->delta)) {
		fprintf(diag, "leaktrace: out of memory comparing with the previous report\n");
		goto out;
	}
	if (lt_delta_state_encode(recs, snap, grouping_frames, &next, &next_len) != 0 ||
	    write_fd(fd, next, next_len) != 0)
		fprintf(diag, "leaktrace: cannot keep this report's figures for the next one: "
			"its deltas will be missing\n");
out:
	lt_delta_state_free(&prev);
	free(old);
	free(next);
	close(fd);
}
