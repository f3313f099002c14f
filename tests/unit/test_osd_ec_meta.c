// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for osd/ec_meta.c: the per-object record of an erasure-coded
 * object's logical size and 4 KiB block allocation (encoding, what each
 * mutation does to it, the extents it answers).
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

#include "osd.h"

#define K	4096u
#define WRITE	BS__OSD_OP_KIND__OSD_OP_WRITE
#define ZEROES	BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES
#define DISCARD	BS__OSD_OP_KIND__OSD_OP_DISCARD
#define NO_HOLE	BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE

static struct ec_meta *meta_new(void)
{
	struct ec_meta *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	return m;
}

/* The extents of [off, +len) as "off+len;" pairs. */
static const char *ext(const struct ec_meta *m, uint64_t off, uint64_t len)
{
	static char buf[512];
	uint64_t r[16][2];
	size_t n = ec_meta_extents(m, off, len, r, 16), at = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at,
				       "%llu+%llu;", (unsigned long long)r[i][0],
				       (unsigned long long)r[i][1]);
	return buf;
}

static void test_ec_meta_encode_round_trip(void **state)
{
	struct ec_meta *m = meta_new(), *d = meta_new();
	uint8_t *buf = malloc(EC_META_MAX_LEN);
	size_t len;

	(void)state;
	m->version = 0x500000007ull;
	ec_meta_apply(m, WRITE, 0, 3 * K + 100, 10 * K);
	len = ec_meta_encode(m, buf);
	/* size 13 blocks + 100 bytes -> 14 bits of map -> 2 bytes */
	assert_int_equal(len, EC_META_HDR_LEN + 2);
	assert_int_equal(ec_meta_decode(buf, len, d), 0);
	assert_int_equal(d->version, m->version);
	assert_int_equal(d->size, 13 * K + 100);
	assert_memory_equal(d->map, m->map, sizeof(m->map));
	assert_int_equal(ec_meta_decode(buf, len, NULL), 0);
	free(buf);
	free(d);
	free(m);
}

static void test_ec_meta_decode_rejects_bad_records(void **state)
{
	struct ec_meta *m = meta_new();
	uint8_t *buf = malloc(EC_META_MAX_LEN + 8);
	size_t len;

	(void)state;
	ec_meta_apply(m, WRITE, 0, 0, 64 * K);
	len = ec_meta_encode(m, buf);
	assert_int_equal(ec_meta_decode(buf, len - 1, NULL), -EINVAL);
	assert_int_equal(ec_meta_decode(buf, len + 1, NULL), -EINVAL);
	assert_int_equal(ec_meta_decode(buf, 3, NULL), -EINVAL);
	buf[0] ^= 1;			/* magic */
	assert_int_equal(ec_meta_decode(buf, len, NULL), -EINVAL);
	buf[0] ^= 1;
	buf[4] = 1;			/* reserved */
	assert_int_equal(ec_meta_decode(buf, len, NULL), -EINVAL);
	buf[4] = 0;
	/* a size beyond the largest object */
	memset(buf + 16, 0xff, 8);
	assert_int_equal(ec_meta_decode(buf, len, NULL), -EINVAL);
	free(buf);
	free(m);
}

static void test_ec_meta_write_sets_blocks_and_size(void **state)
{
	struct ec_meta *m = meta_new();

	(void)state;
	ec_meta_apply(m, WRITE, 0, K + 1, 10);	/* inside block 1 */
	assert_int_equal(m->size, K + 11);
	ec_meta_apply(m, WRITE, 0, 8 * K, 2 * K);
	assert_int_equal(m->size, 10 * K);
	assert_string_equal(ext(m, 0, 1 << 20), "4096+4096;32768+8192;");
	/* clipped to the window */
	assert_string_equal(ext(m, 5000, 30000), "5000+3192;32768+2232;");
	/* an earlier write does not shrink the size */
	ec_meta_apply(m, WRITE, 0, 0, K);
	assert_int_equal(m->size, 10 * K);
	assert_string_equal(ext(m, 0, 1 << 20), "0+8192;32768+8192;");
	free(m);
}

static void test_ec_meta_discard_frees_whole_blocks_only(void **state)
{
	struct ec_meta *m = meta_new();

	(void)state;
	ec_meta_apply(m, WRITE, 0, 0, 16 * K);
	/* blocks 2-3 whole, 1 and 4 in part: only 2-3 become holes */
	ec_meta_apply(m, DISCARD, 0, K + 10, 3 * K);
	assert_string_equal(ext(m, 0, 16 * K), "0+8192;16384+49152;");
	assert_int_equal(m->size, 16 * K);
	/* a discard past the end leaves the size alone */
	ec_meta_apply(m, DISCARD, 0, 20 * K, 4 * K);
	assert_int_equal(m->size, 16 * K);
	free(m);
}

static void test_ec_meta_write_zeroes_extends_and_punches(void **state)
{
	struct ec_meta *m = meta_new();

	(void)state;
	ec_meta_apply(m, WRITE, 0, 0, 4 * K);
	ec_meta_apply(m, ZEROES, 0, 2 * K, 6 * K);	/* may punch holes */
	assert_int_equal(m->size, 8 * K);
	assert_string_equal(ext(m, 0, 8 * K), "0+8192;");
	ec_meta_apply(m, ZEROES, NO_HOLE, 10 * K, 2 * K);	/* allocates */
	assert_int_equal(m->size, 12 * K);
	assert_string_equal(ext(m, 0, 16 * K), "0+8192;40960+8192;");
	free(m);
}

static void test_ec_meta_extents_stop_at_the_size(void **state)
{
	struct ec_meta *m = meta_new();

	(void)state;
	assert_string_equal(ext(m, 0, 1 << 20), "");
	ec_meta_apply(m, WRITE, 0, 0, 100);
	/* block granular, as the store: the partly written block is whole */
	assert_string_equal(ext(m, 0, 1 << 20), "0+4096;");
	/* the largest object, last block */
	ec_meta_apply(m, WRITE, 0, STORE_MAX_OBJECT_SIZE - K, K);
	assert_int_equal(m->size, STORE_MAX_OBJECT_SIZE);
	assert_string_equal(ext(m, STORE_MAX_OBJECT_SIZE - 2 * K, 4 * K),
			    "67104768+4096;");
	/* beyond it: ignored */
	ec_meta_apply(m, WRITE, 0, STORE_MAX_OBJECT_SIZE, K);
	assert_int_equal(m->size, STORE_MAX_OBJECT_SIZE);
	free(m);
}

static void test_ec_meta_key_sorts_by_volume_then_object(void **state)
{
	struct store_oid a = { .pool = 1, .pg = 2, .volume = 7, .objnum = 1 };
	struct store_oid b = { .pool = 1, .pg = 2, .volume = 6, .objnum = 9 };
	uint8_t ka[EC_META_KEY_LEN], kb[EC_META_KEY_LEN];

	(void)state;
	ec_meta_key(&a, ka);
	ec_meta_key(&b, kb);
	assert_int_equal(ka[0], PG_KEY_EC_META);
	assert_true(memcmp(kb, ka, sizeof(ka)) < 0);
	assert_int_equal(ka[8], 7);
	assert_int_equal(ka[16], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_meta_encode_round_trip),
		cmocka_unit_test(test_ec_meta_decode_rejects_bad_records),
		cmocka_unit_test(test_ec_meta_write_sets_blocks_and_size),
		cmocka_unit_test(test_ec_meta_discard_frees_whole_blocks_only),
		cmocka_unit_test(test_ec_meta_write_zeroes_extends_and_punches),
		cmocka_unit_test(test_ec_meta_extents_stop_at_the_size),
		cmocka_unit_test(test_ec_meta_key_sorts_by_volume_then_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
