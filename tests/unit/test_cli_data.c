// SPDX-License-Identifier: Apache-2.0
/*
 * The CLI's data helpers: finding non-zero runs (what volume import
 * writes and volume export leaves out of holes), PG ids and object names
 * as the CLI prints and reads them, the bench's latency percentiles, and
 * byte counts for people.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "latency.h"

/* ---- cli_find_data ---- */

static void test_find_data_all_zero_has_no_run(void **state)
{
	uint8_t buf[3 * 4096] = { 0 };
	size_t pos = 0, run = 99;

	assert_false(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, sizeof(buf));
	assert_int_equal(run, 99);	/* untouched */
}

static void test_find_data_runs_are_whole_blocks(void **state)
{
	static uint8_t buf[8 * 4096];
	size_t pos = 0, run = 0;

	memset(buf, 0, sizeof(buf));
	buf[4096 + 17] = 1;		/* block 1 */
	buf[2 * 4096 + 4095] = 2;	/* block 2: joins block 1 */
	buf[5 * 4096] = 3;		/* block 5 alone */
	assert_true(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, 4096);
	assert_int_equal(run, 2 * 4096);
	pos += run;
	assert_true(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, 5 * 4096);
	assert_int_equal(run, 4096);
	pos += run;
	assert_false(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, sizeof(buf));
}

static void test_find_data_short_last_block(void **state)
{
	static uint8_t buf[4096 + 512];
	size_t pos = 0, run = 0;

	memset(buf, 0, sizeof(buf));
	buf[4096 + 511] = 7;		/* in the 512-byte tail */
	assert_true(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, 4096);
	assert_int_equal(run, 512);
}

static void test_find_data_starts_at_pos(void **state)
{
	static uint8_t buf[4 * 4096];
	size_t pos = 2 * 4096, run = 0;

	memset(buf, 0xff, sizeof(buf));
	assert_true(cli_find_data(buf, sizeof(buf), 4096, &pos, &run));
	assert_int_equal(pos, 2 * 4096);
	assert_int_equal(run, 2 * 4096);
}

/* ---- PG ids and object names ---- */

static void test_pgid_parses_pool_decimal_pg_hex(void **state)
{
	struct bs_error err = { 0 };
	uint32_t pool = 0, pg = 0;

	assert_int_equal(cli_parse_pgid("--pg", "1.2f", &pool, &pg, &err), 0);
	assert_int_equal(pool, 1);
	assert_int_equal(pg, 0x2f);
	assert_int_equal(cli_parse_pgid("--pg", "12.0", &pool, &pg, &err), 0);
	assert_int_equal(pool, 12);
	assert_int_equal(pg, 0);
	assert_int_equal(cli_parse_pgid("--pg", "4294967295.FFFFFFFF", &pool,
					&pg, &err), 0);
	assert_int_equal(pool, UINT32_MAX);
	assert_int_equal(pg, UINT32_MAX);
}

static void test_pgid_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "1", "1.", ".2f", "1x2", "1.2g", "a.1", "1.2.3", "-1.2",
		"1.123456789", "12345678901.0", " 1.2", "1.2 ", "0x1.2",
	};
	struct bs_error err = { 0 };
	uint32_t pool = 5, pg = 6;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bs_error_clear(&err);
		assert_int_not_equal(cli_parse_pgid("--pg", bad[i], &pool, &pg,
						    &err), 0);
		assert_non_null(strstr(err.msg, "--pg"));
	}
	assert_int_equal(pool, 5);
	assert_int_equal(pg, 6);
	assert_int_equal(cli_parse_pgid("--pg", "4294967296.0", &pool, &pg,
					&err), -ERANGE);
}

static void test_object_name_is_volume_and_number_in_hex(void **state)
{
	char buf[64];

	assert_string_equal(cli_object_name(42, 3, buf, sizeof(buf)),
			    "vol.2a.0000000000000003");
	assert_string_equal(cli_object_name(1, 0xabcdef, buf, sizeof(buf)),
			    "vol.1.0000000000abcdef");
}

/* ---- latency percentiles ---- */

static void test_latency_empty_is_zero(void **state)
{
	struct lat_hist h;

	lat_init(&h);
	assert_int_equal(lat_mean(&h), 0);
	assert_int_equal(lat_percentile(&h, 50), 0);
	assert_int_equal(lat_percentile(&h, 99.9), 0);
}

static void test_latency_small_values_are_exact(void **state)
{
	struct lat_hist h;
	uint64_t v;

	lat_init(&h);
	for (v = 1; v <= 50; v++)
		lat_add(&h, v);
	assert_int_equal(lat_percentile(&h, 50), 25);
	assert_int_equal(lat_percentile(&h, 100), 50);
	assert_int_equal(lat_percentile(&h, 0), 1);
	assert_int_equal(lat_mean(&h), 25);	/* 1275 / 50 */
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 50);
}

/* Percentiles of a uniform spread are within the 1/32 bucket width. */
static void test_latency_percentiles_within_precision(void **state)
{
	static const double pcts[] = { 50, 90, 99, 99.9 };
	struct lat_hist h;
	uint64_t v, want, got;
	size_t i;

	lat_init(&h);
	for (v = 1; v <= 100000; v++)
		lat_add(&h, v * 1000);		/* 1 us .. 100 ms in ns */
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		want = (uint64_t)(pcts[i] * 1000.0) * 1000;
		got = lat_percentile(&h, pcts[i]);
		assert_true(got >= want - want / 32);
		assert_true(got <= want + want / 32);
	}
	assert_int_equal(lat_mean(&h), 50000500);
}

static void test_latency_tail_is_seen(void **state)
{
	struct lat_hist h;
	int i;

	lat_init(&h);
	for (i = 0; i < 998; i++)
		lat_add(&h, 100000);		/* 100 us */
	lat_add(&h, 50000000);			/* 50 ms */
	lat_add(&h, 80000000);			/* 80 ms */
	assert_true(lat_percentile(&h, 50) <= 100000 + 100000 / 32);
	assert_true(lat_percentile(&h, 99) <= 100000 + 100000 / 32);
	/* 99.9% of 1000 = rank 999: the 50 ms sample. */
	assert_true(lat_percentile(&h, 99.9) >= 50000000 - 50000000 / 32);
	assert_true(lat_percentile(&h, 99.9) <= 50000000 + 50000000 / 32);
	assert_int_equal(lat_percentile(&h, 100), 80000000);
}

static void test_latency_huge_values_do_not_overflow(void **state)
{
	struct lat_hist h, h2;

	lat_init(&h);
	lat_add(&h, UINT64_MAX);
	lat_add(&h, 1ull << 63);
	assert_int_equal(lat_percentile(&h, 100), UINT64_MAX);
	assert_true(lat_percentile(&h, 50) >= 1ull << 63);
	lat_init(&h2);
	lat_add(&h2, 7);
	lat_merge(&h2, &h);
	assert_int_equal(h2.count, 3);
	assert_int_equal(h2.min, 7);
	assert_int_equal(h2.max, UINT64_MAX);
}

/* ---- bytes for people ---- */

static void test_format_bytes_three_digits(void **state)
{
	char buf[32];

	assert_string_equal(format_bytes(0, buf, sizeof(buf)), "0 B");
	assert_string_equal(format_bytes(1023, buf, sizeof(buf)), "1023 B");
	assert_string_equal(format_bytes(1536, buf, sizeof(buf)), "1.50 KiB");
	assert_string_equal(format_bytes(3158528, buf, sizeof(buf)),
			    "3.01 MiB");
	assert_string_equal(format_bytes(100ull << 30, buf, sizeof(buf)),
			    "100 GiB");
	assert_string_equal(format_bytes(UINT64_MAX, buf, sizeof(buf)),
			    "16.0 EiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_data_all_zero_has_no_run),
		cmocka_unit_test(test_find_data_runs_are_whole_blocks),
		cmocka_unit_test(test_find_data_short_last_block),
		cmocka_unit_test(test_find_data_starts_at_pos),
		cmocka_unit_test(test_pgid_parses_pool_decimal_pg_hex),
		cmocka_unit_test(test_pgid_rejects_malformed),
		cmocka_unit_test(test_object_name_is_volume_and_number_in_hex),
		cmocka_unit_test(test_latency_empty_is_zero),
		cmocka_unit_test(test_latency_small_values_are_exact),
		cmocka_unit_test(test_latency_percentiles_within_precision),
		cmocka_unit_test(test_latency_tail_is_seen),
		cmocka_unit_test(test_latency_huge_values_do_not_overflow),
		cmocka_unit_test(test_format_bytes_three_digits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
