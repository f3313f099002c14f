// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's output: JSON strings are escaped per RFC 8259 (and bad UTF-8
 * replaced), nesting puts commas and indentation right, tables align.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

struct membuf {
	char *buf;
	size_t len;
	FILE *f;
};

static void mb_open(struct membuf *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

/* Close and return the text; the caller frees m->buf. */
static const char *mb_text(struct membuf *m)
{
	fclose(m->f);
	return m->buf;
}

static void assert_escaped(const char *in, const char *want)
{
	struct membuf m;

	mb_open(&m);
	json_write_string(m.f, in);
	assert_string_equal(mb_text(&m), want);
	free(m.buf);
}

static void test_json_string_escapes_quote_backslash_and_controls(void **state)
{
	assert_escaped("plain", "\"plain\"");
	assert_escaped("a\"b\\c", "\"a\\\"b\\\\c\"");
	assert_escaped("l1\nl2\t\r\b\f", "\"l1\\nl2\\t\\r\\b\\f\"");
	assert_escaped("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	assert_escaped("", "\"\"");
}

static void test_json_string_keeps_valid_utf8(void **state)
{
	/* é, €, 😀 */
	assert_escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

static void test_json_string_replaces_invalid_utf8(void **state)
{
	/* lone continuation, truncated sequence, overlong '/', surrogate */
	assert_escaped("a\x80z", "\"a\\ufffdz\"");
	assert_escaped("a\xe2\x82", "\"a\\ufffd\\ufffd\"");
	assert_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	assert_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_escaped("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_json_nesting_puts_commas_and_indentation(void **state)
{
	struct membuf m;
	struct json j;

	mb_open(&m);
	json_init(&j, m.f);
	json_obj_begin(&j);
	json_kv_str(&j, "health", "HEALTH_OK");
	json_kv_u64(&j, "epoch", 18446744073709551615ull);
	json_key(&j, "mons");
	json_obj_begin(&j);
	json_key(&j, "leader");
	json_null(&j);
	json_key(&j, "quorum");
	json_arr_begin(&j);
	json_str(&j, "mon.0");
	json_str(&j, "mon.1");
	json_arr_end(&j);
	json_key(&j, "down");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_kv_bool(&j, "ok", false);
	json_key(&j, "n");
	json_i64(&j, -5);
	json_obj_end(&j);
	json_end(&j);
	assert_string_equal(mb_text(&m),
		"{\n"
		"  \"health\": \"HEALTH_OK\",\n"
		"  \"epoch\": 18446744073709551615,\n"
		"  \"mons\": {\n"
		"    \"leader\": null,\n"
		"    \"quorum\": [\n"
		"      \"mon.0\",\n"
		"      \"mon.1\"\n"
		"    ],\n"
		"    \"down\": []\n"
		"  },\n"
		"  \"ok\": false,\n"
		"  \"n\": -5\n"
		"}\n");
	free(m.buf);
}

static void test_json_empty_top_level_array(void **state)
{
	struct membuf m;
	struct json j;

	mb_open(&m);
	json_init(&j, m.f);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_end(&j);
	assert_string_equal(mb_text(&m), "[]\n");
	free(m.buf);
}

static void test_table_aligns_columns_and_prints_dash_for_null(void **state)
{
	static const char *const heads[] = { "NAME", ">SIZE", "STATE" };
	const char *r1[] = { "mon.0", "5", "leader" };
	const char *r2[] = { "mon.10", "1234", NULL };
	struct table *t = table_new(3, heads);
	struct membuf m;

	table_add(t, r1);
	table_add(t, r2);
	mb_open(&m);
	table_print(t, m.f);
	table_free(&t);
	assert_null(t);
	assert_string_equal(mb_text(&m),
		"NAME    SIZE  STATE\n"
		"mon.0      5  leader\n"
		"mon.10  1234  -\n");
	free(m.buf);
}

static void test_table_without_rows_prints_heads(void **state)
{
	static const char *const heads[] = { "ID", "NAME" };
	struct table *t = table_new(2, heads);
	struct membuf m;

	mb_open(&m);
	table_print(t, m.f);
	table_free(&t);
	assert_string_equal(mb_text(&m), "ID  NAME\n");
	free(m.buf);
}

static void test_format_time_us(void **state)
{
	char buf[32];

	assert_string_equal(format_time_us(0, buf, sizeof(buf)), "-");
	assert_string_equal(format_time_us(1763774703000000ull, buf,
					   sizeof(buf)),
			    "2025-11-22T01:25:03Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string_escapes_quote_backslash_and_controls),
		cmocka_unit_test(test_json_string_keeps_valid_utf8),
		cmocka_unit_test(test_json_string_replaces_invalid_utf8),
		cmocka_unit_test(test_json_nesting_puts_commas_and_indentation),
		cmocka_unit_test(test_json_empty_top_level_array),
		cmocka_unit_test(test_table_aligns_columns_and_prints_dash_for_null),
		cmocka_unit_test(test_table_without_rows_prints_heads),
		cmocka_unit_test(test_format_time_us),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
