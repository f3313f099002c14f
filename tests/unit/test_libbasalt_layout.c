// SPDX-License-Identifier: Apache-2.0
/*
 * libbasalt's pure geometry (client/lib/layout.c): "pool/name" parsing,
 * range checks, and the cutting of requests at object boundaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "layout.h"

#define MIB (1024ull * 1024)

static void test_parse_name_accepts_pool_and_volume(void **state)
{
	char pool[LAYOUT_NAME_MAX + 1], name[LAYOUT_NAME_MAX + 1];
	struct bs_error err = { 0 };

	assert_int_equal(layout_parse_name("rbd/vm-1.disk_0", pool, name,
					   &err), 0);
	assert_string_equal(pool, "rbd");
	assert_string_equal(name, "vm-1.disk_0");
}

static void test_parse_name_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"rbd", "/x", "rbd/", "", "rbd/a/b", "rbd/a b", "r d/x",
		"rbd/x\n", "rbd/\xc3\xa9",
	};
	char pool[LAYOUT_NAME_MAX + 1], name[LAYOUT_NAME_MAX + 1];
	struct bs_error err = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bs_error_clear(&err);
		assert_int_equal(layout_parse_name(bad[i], pool, name, &err),
				 -EINVAL);
		assert_int_equal(err.code, -EINVAL);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(layout_parse_name(NULL, pool, name, &err), -EINVAL);
	bs_error_clear(&err);
	layout_parse_name("rbd", pool, name, &err);
	assert_string_equal(err.msg, "'rbd' is not POOL/NAME (e.g. rbd/vm1)");
}

static void test_parse_name_bounds_length(void **state)
{
	char pool[LAYOUT_NAME_MAX + 1], name[LAYOUT_NAME_MAX + 1];
	char spec[2 * LAYOUT_NAME_MAX + 8];
	struct bs_error err = { 0 };

	/* exactly 128 + 1 + 128: accepted */
	memset(spec, 'p', LAYOUT_NAME_MAX);
	spec[LAYOUT_NAME_MAX] = '/';
	memset(spec + LAYOUT_NAME_MAX + 1, 'v', LAYOUT_NAME_MAX);
	spec[2 * LAYOUT_NAME_MAX + 1] = '\0';
	assert_int_equal(layout_parse_name(spec, pool, name, &err), 0);
	assert_int_equal(strlen(pool), LAYOUT_NAME_MAX);
	assert_int_equal(strlen(name), LAYOUT_NAME_MAX);
	/* one more in the volume name: refused */
	spec[2 * LAYOUT_NAME_MAX + 1] = 'v';
	spec[2 * LAYOUT_NAME_MAX + 2] = '\0';
	assert_int_equal(layout_parse_name(spec, pool, name, &err), -EINVAL);
	/* a 129-character pool with a short name: refused */
	memset(spec, 'p', LAYOUT_NAME_MAX + 1);
	strcpy(spec + LAYOUT_NAME_MAX + 1, "/v");
	assert_int_equal(layout_parse_name(spec, pool, name, &err), -EINVAL);
}

static void test_check_range_zero_length_is_einval(void **state)
{
	struct bs_error err = { 0 };

	assert_int_equal(layout_check_range("read", 4096, 0, 0, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "read of zero bytes");
}

static void test_check_range_past_end_is_erange(void **state)
{
	struct bs_error err = { 0 };

	assert_int_equal(layout_check_range("write", 8192, 0, 8192, &err), 0);
	assert_int_equal(layout_check_range("write", 8192, 8191, 1, &err), 0);
	assert_int_equal(layout_check_range("write", 8192, 8192, 1, &err),
			 -ERANGE);
	assert_int_equal(layout_check_range("write", 8192, 4096, 4097, &err),
			 -ERANGE);
	assert_int_equal(layout_check_range("write", 8192, 0, 8193, &err),
			 -ERANGE);
	/* no overflow: off + len wraps around */
	assert_int_equal(layout_check_range("write", 8192, UINT64_MAX - 10,
					    100, &err), -ERANGE);
	assert_int_equal(layout_check_range("write", UINT64_MAX, 100,
					    UINT64_MAX, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "past the end of the volume"));
}

static void test_check_volume_rejects_bad_object_size(void **state)
{
	struct bs_error err = { 0 };

	assert_int_equal(layout_check_volume("p/v", 1 << 20, 4 * MIB, &err),
			 0);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 4096, &err), 0);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 64 * MIB, &err),
			 0);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 0, &err),
			 -EPROTO);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 2048, &err),
			 -EPROTO);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 3 * MIB, &err),
			 -EPROTO);
	assert_int_equal(layout_check_volume("p/v", 1 << 20, 128 * MIB, &err),
			 -EPROTO);
	assert_int_equal(layout_check_volume("p/v", 0, 4 * MIB, &err),
			 -EPROTO);
}

/* Cut [off, off + len) like the request loop does; return the count. */
static unsigned split(uint64_t off, uint64_t len, uint64_t os, uint64_t max,
		      struct layout_piece *out, unsigned cap)
{
	uint64_t pos = off, end = off + len;
	unsigned n = 0;

	while (pos < end) {
		assert_true(n < cap);
		layout_next_piece(pos, end, os, max, &out[n]);
		pos += out[n].len;
		n++;
	}
	return n;
}

static void test_split_inside_one_object(void **state)
{
	struct layout_piece p[4];

	assert_int_equal(split(100, 1000, 4 * MIB, 0, p, 4), 1);
	assert_int_equal(p[0].objnum, 0);
	assert_int_equal(p[0].obj_off, 100);
	assert_int_equal(p[0].len, 1000);
	/* the whole last byte of object 2 */
	assert_int_equal(split(3 * 4 * MIB - 1, 1, 4 * MIB, 0, p, 4), 1);
	assert_int_equal(p[0].objnum, 2);
	assert_int_equal(p[0].obj_off, 4 * MIB - 1);
}

static void test_split_crosses_object_boundaries(void **state)
{
	struct layout_piece p[8];
	uint64_t os = 64 * 1024;

	/* from the middle of object 1 to the middle of object 4 */
	assert_int_equal(split(os + 10, 3 * os, os, 0, p, 8), 4);
	assert_int_equal(p[0].objnum, 1);
	assert_int_equal(p[0].obj_off, 10);
	assert_int_equal(p[0].len, os - 10);
	assert_int_equal(p[1].objnum, 2);
	assert_int_equal(p[1].obj_off, 0);
	assert_int_equal(p[1].len, os);
	assert_true(layout_is_whole_object(&p[1], os));
	assert_int_equal(p[2].objnum, 3);
	assert_true(layout_is_whole_object(&p[2], os));
	assert_int_equal(p[3].objnum, 4);
	assert_int_equal(p[3].obj_off, 0);
	assert_int_equal(p[3].len, 10);
	assert_false(layout_is_whole_object(&p[0], os));
	assert_false(layout_is_whole_object(&p[3], os));
}

static void test_split_caps_piece_length(void **state)
{
	struct layout_piece p[8];

	/* 4 MiB objects, at most 1 MiB per piece, unaligned start */
	assert_int_equal(split(512, 4 * MIB, 4 * MIB, MIB, p, 8), 5);
	assert_int_equal(p[0].obj_off, 512);
	assert_int_equal(p[0].len, MIB);
	assert_int_equal(p[3].objnum, 0);
	assert_int_equal(p[3].len, MIB - 512);	/* stops at the object end */
	assert_int_equal(p[4].objnum, 1);
	assert_int_equal(p[4].obj_off, 0);
	assert_int_equal(p[4].len, 512);
}

static void test_split_covers_every_byte_once(void **state)
{
	static const uint64_t offs[] = { 0, 1, 4095, 4096, 65535, 65536,
					 1000003 };
	static const uint64_t lens[] = { 1, 511, 4096, 65536, 65537, 300000 };
	struct layout_piece p[64];
	uint64_t os = 65536, pos;
	unsigned n, i, a, b;

	for (a = 0; a < sizeof(offs) / sizeof(offs[0]); a++) {
		for (b = 0; b < sizeof(lens) / sizeof(lens[0]); b++) {
			n = split(offs[a], lens[b], os, 0, p, 64);
			pos = offs[a];
			for (i = 0; i < n; i++) {
				assert_int_equal(p[i].objnum * os +
						 p[i].obj_off, pos);
				assert_true(p[i].len > 0);
				assert_true(p[i].obj_off + p[i].len <= os);
				pos += p[i].len;
			}
			assert_int_equal(pos, offs[a] + lens[b]);
		}
	}
}

static void test_num_objects_rounds_up(void **state)
{
	assert_int_equal(layout_num_objects(0, 4096), 0);
	assert_int_equal(layout_num_objects(1, 4096), 1);
	assert_int_equal(layout_num_objects(4096, 4096), 1);
	assert_int_equal(layout_num_objects(4097, 4096), 2);
	assert_int_equal(layout_num_objects(UINT64_MAX, 4 * MIB),
			 UINT64_MAX / (4 * MIB) + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_name_accepts_pool_and_volume),
		cmocka_unit_test(test_parse_name_rejects_malformed),
		cmocka_unit_test(test_parse_name_bounds_length),
		cmocka_unit_test(test_check_range_zero_length_is_einval),
		cmocka_unit_test(test_check_range_past_end_is_erange),
		cmocka_unit_test(test_check_volume_rejects_bad_object_size),
		cmocka_unit_test(test_split_inside_one_object),
		cmocka_unit_test(test_split_crosses_object_boundaries),
		cmocka_unit_test(test_split_caps_piece_length),
		cmocka_unit_test(test_split_covers_every_byte_once),
		cmocka_unit_test(test_num_objects_rounds_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
