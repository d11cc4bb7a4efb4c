/* Speed of the offline side on a large snapshot: 1,000,000 blocks over
 * 10,000 stacks of 12 frames, the frames real addresses of this process's
 * libc (with its debug information when installed) and program. Prints
 * each phase's time, for `make bench`; it fails only when a phase fails,
 * never on time (shared machines are too noisy for a bound). */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lt_test.h"
#include "report.h"
#include "symbolizer.h"

#define NSTACKS 10000
#define NBLOCKS 1000000
#define DEPTH 12
#define NADDRS 20000              /* distinct return addresses */

struct range {
	uint64_t lo, hi, bias;
	char path[512];
	uint8_t id[64];
	uint16_t id_len;
};

static struct range ranges[64];
static size_t nranges;

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	if (nranges == 64)
		return 1;
	struct range *r = &ranges[nranges];
	r->lo = UINT64_MAX;
	r->hi = 0;
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			if (info->dlpi_addr + ph->p_vaddr < r->lo)
				r->lo = info->dlpi_addr + ph->p_vaddr;
			if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > r->hi)
				r->hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		}
	}
	if (!r->hi)
		return 0;
	if (info->dlpi_name && info->dlpi_name[0]) {
		snprintf(r->path, sizeof(r->path), "%s", info->dlpi_name);
	} else {
		ssize_t n = readlink("/proc/self/exe", r->path, sizeof(r->path) - 1);
		r->path[n > 0 ? n : 0] = '\0';
	}
	r->bias = info->dlpi_addr;
	nranges++;
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(void)
{
	static uint64_t x = 88172645463325252ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

int main(void)
{
	dl_iterate_phdr(visit, NULL);
	const struct range *libc = NULL;
	for (size_t i = 0; i < nranges; i++)
		if (strstr(ranges[i].path, "libc.so"))
			libc = &ranges[i];
	if (!libc) {
		fprintf(stderr, "no libc mapped?\n");
		return 77;
	}

	struct test_module *mods = calloc(nranges, sizeof(*mods));
	for (size_t i = 0; i < nranges; i++)
		mods[i] = (struct test_module){ .bias = ranges[i].bias, .lo = ranges[i].lo,
			.hi = ranges[i].hi, .unload = LT_EPOCH_NONE, .path = ranges[i].path };
	uint64_t *addrs = malloc(NADDRS * sizeof(*addrs));
	for (size_t i = 0; i < NADDRS; i++)
		addrs[i] = libc->lo + 1 + rnd() % (libc->hi - libc->lo - 1);
	struct test_stack *stacks = calloc(NSTACKS, sizeof(*stacks));
	for (uint32_t i = 0; i < NSTACKS; i++) {
		stacks[i].id = i + 1;
		stacks[i].depth = DEPTH;
		stacks[i].frames[0] = addrs[0];
		for (int f = 1; f < DEPTH; f++)
			stacks[i].frames[f] = addrs[rnd() % NADDRS];
	}
	struct test_block *blocks = calloc(NBLOCKS, sizeof(*blocks));
	for (uint32_t i = 0; i < NBLOCKS; i++) {
		uint8_t kind = (uint8_t)(1 + rnd() % 4);
		blocks[i] = (struct test_block){ 0x100000 + 64ull * i, 1 + rnd() % 4096,
			(uint32_t)(1 + rnd() % NSTACKS), kind, 0 };
		if (kind == LT_KIND_INDIRECT && i)
			blocks[i].head = TB_HEAD(rnd() % i);
	}
	struct test_snap s = { .pid = 1, .exe = "/bench", .cmdline = "bench", .cmdline_len = 5,
		.modules = mods, .nmodules = nranges, .stacks = stacks, .nstacks = NSTACKS,
		.blocks = blocks, .nblocks = NBLOCKS };
	struct tw w = { 0 };
	tw_snapshot(&w, &s);

	double t0 = now();
	struct lt_snapshot snap;
	char err[256];
	if (lt_snapshot_parse(w.buf, w.len, &snap, err, sizeof(err))) {
		fprintf(stderr, "parse: %s\n", err);
		return 1;
	}
	double t1 = now();
	struct lt_records recs;
	lt_records_build(&snap, 12, &recs);
	double t2 = now();
	struct lt_symbolizer *sym = lt_symbolizer_new(&snap, stderr);
	size_t nframes = 0;
	for (size_t i = 0; i < snap.nstacks; i++)
		for (uint32_t f = 0; f < snap.stacks[i].depth; f++) {
			const struct lt_frame *fr;
			nframes += lt_symbolize_frame(sym, &snap.stacks[i], f, &fr);
		}
	double t25 = now();
	struct lt_frame_source src = lt_symbolizer_source(sym);
	struct lt_options o;
	lt_options_defaults(&o);
	FILE *null = fopen("/dev/null", "w");
	lt_report_render(&lt_report_text_ops, null, &snap, &recs, &src, &o, NULL);
	double t3 = now();
	lt_report_render(&lt_report_xml_ops, null, &snap, &recs, &src, &o, NULL);
	double t4 = now();
	fclose(null);

	printf("snapshot: %zu bytes, %d blocks, %d stacks, %d distinct addresses in %s\n",
	       w.len, NBLOCKS, NSTACKS, NADDRS, libc->path);
	printf("parse+validate  %.3f s\n", t1 - t0);
	printf("loss records    %.3f s (%zu records)\n", t2 - t1, recs.count);
	printf("symbolize       %.3f s (%zu display frames)\n", t25 - t2, nframes);
	printf("text report     %.3f s\n", t3 - t25);
	printf("xml (cached)    %.3f s\n", t4 - t3);
	printf("total           %.3f s\n", t4 - t0);
	lt_symbolizer_free(sym);
	lt_records_free(&recs);
	lt_snapshot_free(&snap);
	tw_free(&w);
	free(blocks);
	free(stacks);
	free(addrs);
	free(mods);
	return 0;
}
