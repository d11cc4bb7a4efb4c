/* What the machine-readable reports (JSON, SARIF) and baselines know about
 * a loss record beyond its counts: its stack as the reports show it, which
 * frames are the program's own, its allocation site, and its fingerprints.
 * The fingerprint's definition is in docs/json-report.md; changing what
 * goes into it means a new LT_FINGERPRINT_VERSION.
 * Context: offline side only. */
#ifndef LT_FINGERPRINT_H
#define LT_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* ---- sha256.c ---- */

struct lt_sha256 {
	uint32_t state[8];
	uint64_t total;
	size_t used;
	uint8_t block[64];
};

void lt_sha256_init(struct lt_sha256 *h);
void lt_sha256_update(struct lt_sha256 *h, const void *data, size_t n);
void lt_sha256_final(struct lt_sha256 *h, uint8_t digest[32]);

/* ---- fingerprint.c ---- */

#define LT_FINGERPRINT_VERSION 1
#define LT_FINGERPRINT_HEX 32     /* hex digits kept: 128 bits */

struct lt_shown_frame {
	uint64_t ip;
	uint32_t index;           /* of ip in the recorded stack: 0 = allocation function */
	/* The allocation function, a frame of a system library, or code
	 * from a system header: not the program's own code. Contributes its
	 * function name only to fingerprints; never the allocation site. */
	bool external;
	struct lt_frame f;
};

#define LT_NO_SITE SIZE_MAX

struct lt_record_view {
	struct lt_shown_frame *frames;  /* display frames, innermost first */
	size_t count, cap;
	size_t site;              /* index in frames of the allocation site, or LT_NO_SITE */
	char fingerprint[LT_FINGERPRINT_HEX + 1];
	char fuzzy_fingerprint[LT_FINGERPRINT_HEX + 1];  /* the same without lines */
};

/* Fills v for rec (the view is reused across calls: zero it once, free it
 * once). Returns 0, or -1 when out of memory. */
int lt_record_view_get(struct lt_record_view *v, const struct lt_snapshot *snap,
		       const struct lt_frame_source *src, unsigned num_callers,
		       const struct lt_loss_record *rec);
void lt_record_view_free(struct lt_record_view *v);

/* The same for a mapping record: its frames, and fingerprints whose text
 * has a "mapping TYPE" line after the kind (docs/json-report.md). */
int lt_map_record_view_get(struct lt_record_view *v, const struct lt_snapshot *snap,
			   const struct lt_frame_source *src, unsigned num_callers,
			   const struct lt_map_record *rec);

/* The canonical text hashed into a fingerprint (docs/json-report.md),
 * malloc'ed, NUL-terminated, *len set; NULL when out of memory. */
char *lt_fingerprint_text(const struct lt_record_view *v, unsigned kind,
			  bool with_lines, size_t *len);
char *lt_map_fingerprint_text(const struct lt_record_view *v, unsigned kind, unsigned type,
			      bool with_lines, size_t *len);

/* "definitely-lost", "indirectly-lost", "possibly-lost",
 * "still-reachable", "not-classified": kind names of JSON, SARIF rules
 * and fingerprints. */
const char *lt_kind_id(unsigned kind);

/* "private-anonymous", "shared-anonymous", "private-file", "shared-file":
 * mapping type names of JSON, SARIF rules, baselines and fingerprints. */
const char *lt_map_type_id(unsigned type);

/* An object installed by the system's package manager: under /lib,
 * /lib32, /lib64, /libx32, /usr/lib, /usr/lib32, /usr/lib64, /usr/libx32
 * or /usr/libexec. */
bool lt_is_system_object(const char *path);

/* The valgrind sentence of a record: "80 (16 direct, 64 indirect) bytes
 * in 1 blocks are definitely lost in loss record 4 of 5". */
void lt_record_sentence(const struct lt_loss_record *rec, size_t number, size_t of,
			bool at_exit, char *buf, size_t len);

/* The same of a mapping record: "12,288 (4,096 direct, 8,192 indirect)
 * bytes in 1 mappings (private anonymous) are definitely lost in mapping
 * record 3 of 3" (a file-backed one names its file after the type). */
void lt_map_record_sentence(const struct lt_map_record *rec, size_t number, size_t of,
			    bool at_exit, char *buf, size_t len);

/* dir + "/" + file with "." and ".." resolved lexically (symbolic links
 * are not followed); a relative dir stays relative. Returns buf, or NULL
 * when it does not fit or file is NULL. */
char *lt_source_path(const struct lt_frame *f, char *buf, size_t len);

#endif
