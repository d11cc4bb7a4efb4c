/* Unit tests of the JSON writer and reader (report/json_write.c,
 * json_read.c) and of SHA-256 (report/sha256.c): string escaping byte by
 * byte, document layout, the reader on valid, truncated, hostile and
 * randomly mutated input (it must answer 0 or -1, never crash, never read
 * out of bounds: run this under -Db_sanitize=address too). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fingerprint.h"
#include "json.h"

/* ---- writer ---- */

static char *escaped(const char *s, size_t n)
{
	static char *text;
	size_t size = 0;
	struct lt_outbuf *ob = malloc(sizeof(*ob));
	free(text);
	text = NULL;
	FILE *f = open_memstream(&text, &size);
	lt_ob_init(ob, f);
	lt_json_put_string(ob, s, n);
	assert_int_equal(lt_ob_flush(ob), 0);
	fclose(f);
	free(ob);
	return text;
}

#define ESC(lit) escaped(lit, sizeof(lit) - 1)

static void test_escape_ascii(void **state)
{
	assert_string_equal(ESC("plain text"), "\"plain text\"");
	assert_string_equal(ESC(""), "\"\"");
	assert_string_equal(ESC("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	assert_string_equal(ESC("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
	assert_string_equal(ESC("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
	/* A NUL inside the given length is data, not the end. */
	assert_string_equal(ESC("a\0b"), "\"a\\u0000b\"");
}

static void test_escape_utf8(void **state)
{
	/* Valid sequences of 2, 3 and 4 bytes pass as they are. */
	assert_string_equal(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b"),
			    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9b\"");
	/* Binary junk: each bad byte becomes U+FFFD. */
	assert_string_equal(ESC("\xff"), "\"\\ufffd\"");
	assert_string_equal(ESC("a\x80z"), "\"a\\ufffdz\"");
	assert_string_equal(ESC("\xc3"), "\"\\ufffd\"");              /* cut short */
	assert_string_equal(ESC("\xe2\x82"), "\"\\ufffd\\ufffd\"");
	assert_string_equal(ESC("\xc0\x80"), "\"\\ufffd\\ufffd\"");   /* overlong NUL */
	assert_string_equal(ESC("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(ESC("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
	assert_string_equal(ESC("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(ESC("\xc3\xa9\xff\xc3\xa9"), "\"\xc3\xa9\\ufffd\xc3\xa9\"");
}

/* Whatever bytes go in, what comes out is JSON our reader (and any
 * other) accepts, and decodes back to the input where it was valid. */
static void test_escape_roundtrip(void **state)
{
	char in[256];
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	const char *out = escaped(in, sizeof(in));
	struct lt_json_doc doc;
	char err[200];
	assert_int_equal(lt_json_parse(out, strlen(out), NULL, false, &doc, err, sizeof(err)), 0);
	const struct lt_json_node *n = lt_json_at(&doc, doc.first);
	assert_non_null(n);
	assert_int_equal(n->type, LT_JSON_STRING);
	/* 0x00-0x7f come back; 0x80-0xff are 128 replacement characters. */
	assert_int_equal(n->len, 128 + 128 * 3);
	assert_memory_equal(n->str, in, 128);
	for (int i = 0; i < 128; i++)
		assert_memory_equal(n->str + 128 + 3 * i, "\xef\xbf\xbd", 3);
	lt_json_free(&doc);
}

static char *text;
static size_t text_size;
static FILE *text_file;
static struct lt_outbuf *ob;

static struct lt_json_writer *writer(void)
{
	static struct lt_json_writer w;
	free(text);
	text = NULL;
	text_file = open_memstream(&text, &text_size);
	ob = malloc(sizeof(*ob));
	lt_ob_init(ob, text_file);
	lt_jw_init(&w, ob);
	return &w;
}

static const char *written(struct lt_json_writer *w, int expect_rc)
{
	assert_int_equal(lt_jw_finish(w), expect_rc);
	lt_ob_flush(ob);
	fclose(text_file);
	free(ob);
	return text;
}

static void test_writer_layout(void **state)
{
	struct lt_json_writer *w = writer();
	lt_jw_object(w);
	lt_jw_kstring(w, "name", "x");
	lt_jw_ku64(w, "n", 18446744073709551615ull);
	lt_jw_key(w, "empty");
	lt_jw_array(w);
	lt_jw_end(w);
	lt_jw_key(w, "list");
	lt_jw_array(w);
	lt_jw_object_inline(w);
	lt_jw_key(w, "ip");
	lt_jw_hex(w, 0x7f00abcdef01ull);
	lt_jw_kbool(w, "t", true);
	lt_jw_key(w, "inner");
	lt_jw_array(w);                   /* inside an inline one: inline too */
	lt_jw_u64(w, 1);
	lt_jw_null(w);
	lt_jw_end(w);
	lt_jw_end(w);
	lt_jw_string(w, NULL);
	lt_jw_end(w);
	lt_jw_kbool(w, "f", false);
	lt_jw_end(w);
	assert_string_equal(written(w, 0),
		"{\n"
		"  \"name\": \"x\",\n"
		"  \"n\": 18446744073709551615,\n"
		"  \"empty\": [],\n"
		"  \"list\": [\n"
		"    {\"ip\": \"0x7f00abcdef01\", \"t\": true, \"inner\": [1, null]},\n"
		"    null\n"
		"  ],\n"
		"  \"f\": false\n"
		"}\n");
}

static void test_writer_misuse(void **state)
{
	struct lt_json_writer *w = writer();
	lt_jw_object(w);
	written(w, -1);                   /* left open */

	w = writer();
	lt_jw_end(w);
	written(w, -1);                   /* closed too often */

	w = writer();
	lt_jw_object(w);
	lt_jw_key(w, "k");
	lt_jw_end(w);
	written(w, -1);                   /* a key without a value */

	w = writer();
	for (int i = 0; i < LT_JW_MAX_DEPTH + 5; i++)
		lt_jw_array(w);
	for (int i = 0; i < LT_JW_MAX_DEPTH + 5; i++)
		lt_jw_end(w);
	written(w, -1);                   /* too deep */
}

/* ---- reader ---- */

static int parse(const char *s, struct lt_json_doc *doc, char *err)
{
	return lt_json_parse(s, strlen(s), NULL, false, doc, err, 200);
}

static void test_reader_values(void **state)
{
	struct lt_json_doc doc;
	char err[200];
	const char *s =
		" \xef\xbb\xbf{\"a\": [1, -2.5e+3, 0, true, false, null], \"s\": \"x\\u00e9\\ud83d\\udc1b\\n\\/\","
		" \"o\": {}, \"e\": [], \"a\": \"dup\", \"big\": 18446744073709551615,"
		" \"over\": 18446744073709551616, \"lone\": \"\\udc00\"}\n";
	assert_int_equal(parse(s + 1, &doc, err), 0);
	const struct lt_json_node *top = lt_json_at(&doc, doc.first);
	assert_int_equal(top->type, LT_JSON_OBJECT);
	assert_int_equal(top->count, 8);
	const struct lt_json_node *a = lt_json_get(&doc, top, "a");
	assert_int_equal(a->type, LT_JSON_ARRAY);     /* the first of two */
	assert_int_equal(a->count, 6);
	const struct lt_json_node *n = lt_json_first(&doc, a);
	uint64_t v;
	assert_true(lt_json_u64(n, &v));
	assert_int_equal(v, 1);
	n = lt_json_next(&doc, n);
	assert_int_equal(n->type, LT_JSON_NUMBER);
	assert_false(lt_json_u64(n, &v));             /* not an unsigned integer */
	assert_int_equal(n->len, 7);
	n = lt_json_next(&doc, n);
	assert_true(lt_json_u64(n, &v));
	assert_int_equal(v, 0);
	assert_int_equal(lt_json_next(&doc, n)->type, LT_JSON_TRUE);
	assert_string_equal(lt_json_get_string(&doc, top, "s"), "x\xc3\xa9\xf0\x9f\x90\x9b\n/");
	assert_int_equal(lt_json_get(&doc, top, "o")->type, LT_JSON_OBJECT);
	assert_null(lt_json_first(&doc, lt_json_get(&doc, top, "o")));
	assert_true(lt_json_u64(lt_json_get(&doc, top, "big"), &v));
	assert_true(v == UINT64_MAX);
	assert_false(lt_json_u64(lt_json_get(&doc, top, "over"), &v));
	assert_string_equal(lt_json_get_string(&doc, top, "lone"), "\xef\xbf\xbd");
	assert_null(lt_json_get(&doc, top, "missing"));
	assert_null(lt_json_get_string(&doc, top, "a"));
	assert_null(lt_json_get(&doc, a, "a"));       /* not an object */
	lt_json_free(&doc);

	/* Several documents one after the other, when asked for. */
	s = "{\"n\": 1} {\"n\": 2}\n[3]";
	assert_int_equal(lt_json_parse(s, strlen(s), NULL, false, &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1, column 10: unexpected data after the JSON value");
	assert_int_equal(lt_json_parse(s, strlen(s), NULL, true, &doc, err, sizeof(err)), 0);
	assert_int_equal(doc.nvalues, 3);
	lt_json_free(&doc);
}

/* Each bad input: the exact one-line message with its position. */
static void test_reader_errors(void **state)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "", "line 1, column 1: no JSON value (empty input)" },
		{ "  \n ", "line 2, column 2: no JSON value (empty input)" },
		{ "{", "line 1, column 2: unexpected end of input (truncated?), expected a member name in quotes" },
		{ "{\"a\"", "line 1, column 5: unexpected end of input (truncated?), expected ':' after the member name" },
		{ "{\"a\":", "line 1, column 6: unexpected end of input (truncated?), expected a JSON value" },
		{ "{\"a\":1", "line 1, column 7: unexpected end of input (truncated?), expected ',' or '}'" },
		{ "{\"a\":1,}", "line 1, column 8: unexpected '}', expected a member name in quotes" },
		{ "[1,]", "line 1, column 4: unexpected ']', expected a JSON value" },
		{ "[1 2]", "line 1, column 4: unexpected '2', expected ',' or ']'" },
		{ "\"abc", "line 1, column 5: unexpected end of input (truncated?), expected '\"' to end the string" },
		{ "\"a\nb\"", "line 1, column 3: control character 0x0a in a string (must be escaped)" },
		{ "\"\\x\"", "line 1, column 2: bad escape sequence in a string" },
		{ "\"\\u12\"", "line 1, column 2: bad escape sequence in a string" },
		{ "\"\\", "line 1, column 3: unexpected end of input (truncated?), expected an escape sequence" },
		{ "\"\xff\"", "line 1, column 2: invalid UTF-8 in a string" },
		{ "\"\xc3\"", "line 1, column 2: invalid UTF-8 in a string" },
		{ "tru", "line 1, column 1: unexpected 't', expected a JSON value" },
		{ "nul", "line 1, column 1: unexpected 'n', expected a JSON value" },
		{ "-", "line 1, column 2: unexpected end of input (truncated?), expected a digit" },
		{ "1.", "line 1, column 3: unexpected end of input (truncated?), expected a digit after '.'" },
		{ "1e+", "line 1, column 4: unexpected end of input (truncated?), expected a digit in the exponent" },
		{ "01", "line 1, column 2: unexpected data after the JSON value" },
		{ "{'a': 1}", "line 1, column 2: unexpected ''', expected a member name in quotes" },
		{ "\x01", "line 1, column 1: unexpected byte 0x01, expected a JSON value" },
		{ "[1]\n\n  x", "line 3, column 3: unexpected data after the JSON value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lt_json_doc doc;
		char err[200] = "";
		int rc = parse(cases[i].in, &doc, err);
		if (rc != -1 || strcmp(err, cases[i].msg) != 0)
			fail_msg("input %zu '%s': rc %d, '%s'", i, cases[i].in, rc, err);
		assert_null(doc.nodes);       /* nothing left to free */
	}
}

static void test_reader_limits(void **state)
{
	struct lt_json_limits lim = { .max_bytes = 64, .max_depth = 4, .max_nodes = 5 };
	struct lt_json_doc doc;
	char err[200];

	assert_int_equal(lt_json_parse("[[[[]]]]", 8, &lim, false, &doc, err, sizeof(err)), 0);
	lt_json_free(&doc);
	assert_int_equal(lt_json_parse("[[[[[]]]]]", 10, &lim, false, &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1, column 5: nested deeper than 4 levels");
	assert_int_equal(lt_json_parse("[1,2,3,4]", 9, &lim, false, &doc, err, sizeof(err)), 0);
	lt_json_free(&doc);
	assert_int_equal(lt_json_parse("[1,2,3,4,5]", 11, &lim, false, &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1, column 10: more than 5 values");
	char big[65];
	memset(big, ' ', sizeof(big));
	big[0] = '1';
	assert_int_equal(lt_json_parse(big, sizeof(big), &lim, false, &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1, column 1: larger than 64 bytes");

	/* The default depth stops a hostile nesting long before the stack
	 * would. */
	size_t n = 100000;
	char *deep = malloc(n);
	memset(deep, '[', n);
	assert_int_equal(lt_json_parse(deep, n, NULL, false, &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1, column 33: nested deeper than 32 levels");
	free(deep);
}

/* A tiny deterministic generator (xorshift), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char seed_doc[] =
	"{\n  \"format\": \"leaktrace-report\",\n  \"format_version\": 1,\n"
	"  \"fingerprint_version\": 1,\n  \"tool\": {\"name\": \"leaktrace\", \"version\": \"0.1.0\"},\n"
	"  \"process\": {\"pid\": 4242, \"argv\": [\"./prog\", \"caf\xc3\xa9\"], \"time\": null},\n"
	"  \"records\": [\n"
	"    {\"index\": 1, \"kind\": \"definitely-lost\", \"bytes\": 48, \"shown\": true,\n"
	"     \"fingerprint\": \"0123456789abcdef0123456789abcdef\",\n"
	"     \"fuzzy_fingerprint\": \"fedcba9876543210fedcba9876543210\",\n"
	"     \"stack\": [{\"ip\": \"0x401010\", \"function\": \"helper\\t\\u00e9\", \"line\": 5e0,"
	" \"inlined\": false}, {\"ip\": \"0x401100\", \"line\": -1.5E-3}]}\n"
	"  ]\n}\n";

/* Random edits of a valid document: every answer must be 0 or -1 with a
 * message, and a success must be a tree the navigation can walk. */
static void test_reader_fuzz(void **state)
{
	static const char alphabet[] = "{}[]\",:\\u0123456789.eE+-tfnrl \n\t\x00\x80\xc3\xa9\xff";
	size_t len = sizeof(seed_doc) - 1;
	char *buf = malloc(len * 2 + 16);
	int ok = 0, failed = 0;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = len;
		memcpy(buf, seed_doc, len);
		int edits = 1 + (int)(rng() % 4);
		for (int e = 0; e < edits; e++) {
			size_t at = n ? rng() % n : 0;
			switch (rng() % 4) {
			case 0:               /* replace a byte */
				if (n)
					buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
				break;
			case 1:               /* insert a byte */
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
				n++;
				break;
			case 2:               /* delete a byte */
				if (n) {
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
				}
				break;
			default:              /* truncate */
				n = at;
				break;
			}
			if (n > len + 8)
				n = len + 8;
		}
		/* Exactly n bytes, no terminator to lean on. */
		char *exact = malloc(n ? n : 1);
		memcpy(exact, buf, n);
		struct lt_json_doc doc;
		char err[200] = "";
		int rc = lt_json_parse(exact, n, NULL, rng() & 1, &doc, err, sizeof(err));
		if (rc == 0) {
			ok++;
			/* Walk everything. */
			for (size_t i = 1; i < doc.count; i++) {
				const struct lt_json_node *node = &doc.nodes[i];
				assert_true(node->next < doc.count && node->child < doc.count);
				if (node->type == LT_JSON_STRING)
					assert_int_equal(node->str[node->len], '\0');
			}
			lt_json_free(&doc);
		} else {
			assert_int_equal(rc, -1);
			assert_true(strncmp(err, "line ", 5) == 0);
			failed++;
		}
		free(exact);
	}
	free(buf);
	/* Both outcomes are exercised. */
	assert_true(ok > 100);
	assert_true(failed > 1000);
}

/* ---- SHA-256 (FIPS 180-4 examples) ---- */

static const char *sha_hex(const void *data, size_t n, size_t chunk)
{
	static char hex[65];
	struct lt_sha256 h;
	uint8_t d[32];
	lt_sha256_init(&h);
	for (size_t off = 0; off < n; off += chunk)
		lt_sha256_update(&h, (const char *)data + off, n - off < chunk ? n - off : chunk);
	lt_sha256_final(&h, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return hex;
}

static void test_sha256(void **state)
{
	assert_string_equal(sha_hex("", 0, 1),
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(sha_hex("abc", 3, 1),
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	for (size_t chunk = 1; chunk < 70; chunk += 13)
		assert_string_equal(sha_hex(two, strlen(two), chunk),
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million = malloc(1000000);
	memset(million, 'a', 1000000);
	assert_string_equal(sha_hex(million, 1000000, 4096),
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

static int teardown(void **state)
{
	free(text);
	text = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test_teardown(test_writer_layout, teardown),
		cmocka_unit_test_teardown(test_writer_misuse, teardown),
		cmocka_unit_test(test_reader_values),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_reader_fuzz),
		cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
