/* Fuzz target: the JSON reader that loads baselines and reports
 * (report/json_read.c), single and concatenated documents, with its
 * limits on size, depth and number of values. */
#include <stddef.h>
#include <stdint.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_json_doc doc;
	char err[256];
	for (int multiple = 0; multiple < 2; multiple++) {
		if (lt_json_parse((const char *)data, size, &lt_json_default_limits, multiple,
				  &doc, err, sizeof(err)) == 0) {
			for (uint32_t i = doc.first; i; ) {
				const struct lt_json_node *n = lt_json_at(&doc, i);
				uint64_t v;
				lt_json_u64(n, &v);
				(void)lt_json_get_string(&doc, n, "format");
				i = n ? n->next : 0;
			}
			lt_json_free(&doc);
		}
	}
	return 0;
}
