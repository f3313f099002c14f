// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for common/parse.c: integers, sizes, durations and booleans,
 * each accepted form and each error message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bs/parse.h"

static void expect_u64(const char *s, uint64_t want)
{
	struct bs_error err = { 0 };
	uint64_t v = 12345;

	assert_int_equal(bs_parse_u64("n", s, &v, &err), 0);
	assert_int_equal(v, want);
	assert_int_equal(err.code, 0);
}

static void expect_size(const char *s, uint64_t want)
{
	struct bs_error err = { 0 };
	uint64_t v = 12345;

	if (bs_parse_size("--size", s, &v, &err))
		fail_msg("'%s': %s", s, err.msg);
	assert_int_equal(v, want);
}

static void expect_ms(const char *s, uint64_t want)
{
	struct bs_error err = { 0 };
	uint64_t v = 12345;

	if (bs_parse_duration_ms("timeout", s, &v, &err))
		fail_msg("'%s': %s", s, err.msg);
	assert_int_equal(v, want);
}

/* Parse @s with @fn, expect @code and exactly @msg; *out stays unset. */
#define expect_fail(fn, what, s, want_code, want_msg)			\
	do {								\
		struct bs_error err_ = { 0 };				\
		uint64_t v_ = 777;					\
									\
		assert_int_equal(fn(what, s, &v_, &err_), want_code);	\
		assert_int_equal(err_.code, want_code);			\
		assert_string_equal(err_.msg, want_msg);		\
		assert_int_equal(v_, 777);				\
	} while (0)

static void test_parse_u64_accepts_decimal(void **state)
{
	expect_u64("0", 0);
	expect_u64("42", 42);
	expect_u64("007", 7);
	expect_u64("18446744073709551615", UINT64_MAX);
}

static void test_parse_u64_rejects_empty_sign_space_garbage(void **state)
{
	expect_fail(bs_parse_u64, "port", "", -EINVAL,
		    "'port': '' is not a number");
	expect_fail(bs_parse_u64, "port", "-1", -EINVAL,
		    "'port': '-1' is not a number");
	expect_fail(bs_parse_u64, "port", "+1", -EINVAL,
		    "'port': '+1' is not a number");
	expect_fail(bs_parse_u64, "port", " 1", -EINVAL,
		    "'port': ' 1' is not a number");
	expect_fail(bs_parse_u64, "port", "1 ", -EINVAL,
		    "'port': '1 ' is not a number");
	expect_fail(bs_parse_u64, "port", "80x", -EINVAL,
		    "'port': '80x' is not a number");
	expect_fail(bs_parse_u64, "port", "0x10", -EINVAL,
		    "'port': '0x10' is not a number");
	expect_fail(bs_parse_u64, "port", "1.0", -EINVAL,
		    "'port': '1.0' is not a number");
	expect_fail(bs_parse_u64, "port", NULL, -EINVAL,
		    "'port': '' is not a number");
	expect_fail(bs_parse_u64, NULL, "x", -EINVAL,
		    "'value': 'x' is not a number");
}

static void test_parse_u64_rejects_overflow(void **state)
{
	expect_fail(bs_parse_u64, "n", "18446744073709551616", -ERANGE,
		    "'n': '18446744073709551616' is too large (at most 18446744073709551615)");
	expect_fail(bs_parse_u64, "n", "99999999999999999999999", -ERANGE,
		    "'n': '99999999999999999999999' is too large (at most 18446744073709551615)");
}

static void test_parse_u64_works_without_error_struct(void **state)
{
	uint64_t v = 5;

	assert_int_equal(bs_parse_u64("n", "x", &v, NULL), -EINVAL);
	assert_int_equal(v, 5);
}

static void test_parse_size_accepts_suffixes(void **state)
{
	expect_size("512", 512);
	expect_size("0", 0);
	expect_size("512B", 512);
	expect_size("4k", 4096);
	expect_size("4K", 4096);
	expect_size("4KiB", 4096);
	expect_size("4kib", 4096);
	expect_size("4KB", 4096);
	expect_size("10M", 10ULL << 20);
	expect_size("10G", 10ULL << 30);
	expect_size("10GiB", 10ULL << 30);
	expect_size("10 GiB", 10ULL << 30);
	expect_size("3T", 3ULL << 40);
	expect_size("2P", 2ULL << 50);
	expect_size("15P", 15ULL << 50);
	expect_size("16383P", 16383ULL << 50);
}

static void test_parse_size_accepts_exact_fractions(void **state)
{
	expect_size("1.5G", 3ULL << 29);
	expect_size("0.5K", 512);
	expect_size("1.25M", 1310720);
	expect_size("2.0", 2);
	expect_size("0.0009765625K", 1);
	expect_size("1.500000000000000000000G", 3ULL << 29);
}

static void test_parse_size_rejects_inexact_fractions(void **state)
{
	expect_fail(bs_parse_size, "--size", "1.3K", -EINVAL,
		    "'--size': '1.3K' is not a whole number of bytes");
	expect_fail(bs_parse_size, "--size", "1.5", -EINVAL,
		    "'--size': '1.5' is not a whole number of bytes");
}

static void test_parse_size_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"", "10X", "G", "-1G", "+1G", " 1G", "1G ", "1  G", "1 ",
		"1.G", ".5G", "1..5G", "1e3", "1GiBx", "1Gi", "1iB", "0x10",
		"1.0000000000000000001G", "10 X",
	};
	char msg[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(msg, sizeof(msg),
			 "'--size': '%s' is not a size (use a number with K, M, G or T)",
			 bad[i]);
		expect_fail(bs_parse_size, "--size", bad[i], -EINVAL, msg);
	}
}

static void test_parse_size_detects_overflow(void **state)
{
	expect_fail(bs_parse_size, "--size", "16384P", -ERANGE,
		    "'--size': '16384P' is too large (at most 16 EiB - 1)");
	expect_fail(bs_parse_size, "--size", "18446744073709551616", -ERANGE,
		    "'--size': '18446744073709551616' is too large (at most 16 EiB - 1)");
	expect_fail(bs_parse_size, "--size", "18014398509481984K", -ERANGE,
		    "'--size': '18014398509481984K' is too large (at most 16 EiB - 1)");
	expect_size("18446744073709551615", UINT64_MAX);
	expect_size("18014398509481983K", UINT64_MAX - 1023);
	expect_size("18014398509481983.9990234375K", UINT64_MAX);
	expect_size("16383.9990234375P", UINT64_MAX - (1ULL << 40) + 1);
}

static void test_parse_duration_accepts_units(void **state)
{
	expect_ms("0", 0);
	expect_ms("250", 250);
	expect_ms("500ms", 500);
	expect_ms("5s", 5000);
	expect_ms("5 s", 5000);
	expect_ms("2m", 120000);
	expect_ms("1h", 3600000);
	expect_ms("1.5s", 1500);
	expect_ms("0.5h", 1800000);
}

static void test_parse_duration_rejects_garbage(void **state)
{
	expect_fail(bs_parse_duration_ms, "timeout", "5x", -EINVAL,
		    "'timeout': '5x' is not a duration (use a number with ms, s, m or h)");
	expect_fail(bs_parse_duration_ms, "timeout", "", -EINVAL,
		    "'timeout': '' is not a duration (use a number with ms, s, m or h)");
	expect_fail(bs_parse_duration_ms, "timeout", "-5s", -EINVAL,
		    "'timeout': '-5s' is not a duration (use a number with ms, s, m or h)");
	expect_fail(bs_parse_duration_ms, "timeout", "5sec", -EINVAL,
		    "'timeout': '5sec' is not a duration (use a number with ms, s, m or h)");
	expect_fail(bs_parse_duration_ms, "timeout", "1.0001s", -EINVAL,
		    "'timeout': '1.0001s' is not a whole number of milliseconds");
	expect_fail(bs_parse_duration_ms, "timeout", "6000000000000000h",
		    -ERANGE,
		    "'timeout': '6000000000000000h' is too long a duration");
}

static void test_parse_bool_accepts_all_spellings(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "on", "1" };
	static const char *const no[] = { "false", "No", "off", "OFF", "0" };
	size_t i;
	bool b;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(bs_parse_bool("x", yes[i], &b, NULL), 0);
		assert_true(b);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(bs_parse_bool("x", no[i], &b, NULL), 0);
		assert_false(b);
	}
}

static void test_parse_bool_rejects_other_words(void **state)
{
	struct bs_error err = { 0 };
	bool b = true;

	assert_int_equal(bs_parse_bool("debug", "maybe", &b, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "'debug': 'maybe' is not a boolean (use true or false)");
	assert_true(b);
	assert_int_equal(bs_parse_bool("debug", "", &b, &err), -EINVAL);
	assert_int_equal(bs_parse_bool("debug", "2", &b, &err), -EINVAL);
	assert_int_equal(bs_parse_bool("debug", " true", &b, &err), -EINVAL);
}

static void test_format_size_uses_largest_exact_unit(void **state)
{
	char buf[32];

	assert_string_equal(bs_format_size(0, buf, sizeof(buf)), "0 B");
	assert_string_equal(bs_format_size(100, buf, sizeof(buf)), "100 B");
	assert_string_equal(bs_format_size(1536, buf, sizeof(buf)),
			    "1536 B");
	assert_string_equal(bs_format_size(512 << 10, buf, sizeof(buf)),
			    "512 KiB");
	assert_string_equal(bs_format_size(10ULL << 30, buf, sizeof(buf)),
			    "10 GiB");
	assert_string_equal(bs_format_size(3ULL << 29, buf, sizeof(buf)),
			    "1536 MiB");
	assert_string_equal(bs_format_size(1ULL << 60, buf, sizeof(buf)),
			    "1024 PiB");
	assert_string_equal(bs_format_size(UINT64_MAX, buf, sizeof(buf)),
			    "18446744073709551615 B");
}

static void test_format_size_truncates_to_buffer(void **state)
{
	char buf[4] = "xxx";

	bs_format_size(10ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "10 ");
	bs_format_size(1, buf, 0);	/* must not write */
	assert_string_equal(buf, "10 ");
}

static void test_format_size_round_trips_through_parse(void **state)
{
	static const uint64_t vals[] = {
		0, 1, 1023, 1024, 1536, 4096, 3ULL << 29, 7ULL << 40,
		5ULL << 50, UINT64_MAX, UINT64_MAX - 1023,
	};
	char buf[32];
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		bs_format_size(vals[i], buf, sizeof(buf));
		assert_int_equal(bs_parse_size("x", buf, &v, NULL), 0);
		assert_int_equal(v, vals[i]);
	}
}

static void test_format_duration_uses_largest_exact_unit(void **state)
{
	char buf[32];

	assert_string_equal(bs_format_duration_ms(0, buf, sizeof(buf)),
			    "0ms");
	assert_string_equal(bs_format_duration_ms(500, buf, sizeof(buf)),
			    "500ms");
	assert_string_equal(bs_format_duration_ms(5000, buf, sizeof(buf)),
			    "5s");
	assert_string_equal(bs_format_duration_ms(90000, buf, sizeof(buf)),
			    "90s");
	assert_string_equal(bs_format_duration_ms(120000, buf, sizeof(buf)),
			    "2m");
	assert_string_equal(bs_format_duration_ms(7200000, buf, sizeof(buf)),
			    "2h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64_accepts_decimal),
		cmocka_unit_test(test_parse_u64_rejects_empty_sign_space_garbage),
		cmocka_unit_test(test_parse_u64_rejects_overflow),
		cmocka_unit_test(test_parse_u64_works_without_error_struct),
		cmocka_unit_test(test_parse_size_accepts_suffixes),
		cmocka_unit_test(test_parse_size_accepts_exact_fractions),
		cmocka_unit_test(test_parse_size_rejects_inexact_fractions),
		cmocka_unit_test(test_parse_size_rejects_garbage),
		cmocka_unit_test(test_parse_size_detects_overflow),
		cmocka_unit_test(test_parse_duration_accepts_units),
		cmocka_unit_test(test_parse_duration_rejects_garbage),
		cmocka_unit_test(test_parse_bool_accepts_all_spellings),
		cmocka_unit_test(test_parse_bool_rejects_other_words),
		cmocka_unit_test(test_format_size_uses_largest_exact_unit),
		cmocka_unit_test(test_format_size_truncates_to_buffer),
		cmocka_unit_test(test_format_size_round_trips_through_parse),
		cmocka_unit_test(test_format_duration_uses_largest_exact_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
