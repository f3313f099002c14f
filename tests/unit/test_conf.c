// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for common/conf.c: INI syntax and its errors, file loading,
 * section priority, defaults, bounds, addresses and command-line
 * overrides, each error checked by its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bs/conf.h"

struct cfg {
	char *name;
	uint64_t port;
	uint64_t osd_size;
	uint64_t timeout;
	bool debug;
	char *addr;
	char *mon_addr;
	char *log_level;
	uint64_t count;
};

#define OFF(f) offsetof(struct cfg, f)

/* clang-format off */
static const struct bs_conf_key table[] = {
	{ "name", BS_CONF_STR, "basalt", 0, 0, OFF(name), "a name" },
	{ "port", BS_CONF_U64, "6789", 1, 65535, OFF(port), "a port" },
	{ "osd_size", BS_CONF_SIZE, "1G", 1ULL << 20, 16ULL << 40,
	  OFF(osd_size), "disk size" },
	{ "timeout", BS_CONF_MS, "5s", 100, 3600000, OFF(timeout),
	  "how long" },
	{ "debug", BS_CONF_BOOL, "false", 0, 0, OFF(debug), "debug output" },
	{ "addr", BS_CONF_ADDR, NULL, 0, 0, OFF(addr), "listen address" },
	{ "mon_addr", BS_CONF_ADDR, "127.0.0.1:6789", 0, 0, OFF(mon_addr),
	  "monitor address" },
	{ "log_level", BS_CONF_STR, NULL, 0, 0, OFF(log_level), "level" },
	{ "count", BS_CONF_U64, NULL, 2, 0, OFF(count), "at least two" },
};
/* clang-format on */

static const char *const mon0[] = { "global", "mon.0", NULL };

/* Load @text as "basalt.conf"; fail the test on an error. */
static struct bs_conf *load(const char *text)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf;

	if (bs_conf_load_string(&conf, "basalt.conf", text, &err))
		fail_msg("load: %s", err.msg);
	assert_non_null(conf);
	return conf;
}

/* Expect loading @text to fail with @code and exactly @msg. */
static void load_fails(const char *text, int code, const char *msg)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf = (struct bs_conf *)&err;

	assert_int_equal(bs_conf_load_string(&conf, "basalt.conf", text, &err),
			 code);
	assert_null(conf);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
}

/* Load @text and apply it for mon.0; return 0 or the error, in @err. */
static int apply_text(const char *text, struct cfg *c, struct bs_error *err)
{
	struct bs_conf *conf = load(text);
	int ret;

	memset(c, 0, sizeof(*c));
	ret = bs_conf_apply(conf, table, ARRAY_SIZE(table), mon0, c, err);
	bs_conf_free(&conf);
	assert_null(conf);
	return ret;
}

/* Expect applying @text for mon.0 to fail with exactly @msg. */
static void apply_fails(const char *text, const char *msg)
{
	struct bs_error err = { 0 };
	struct cfg c;

	assert_int_equal(apply_text(text, &c, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg, msg);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

/* Write @len bytes of @text to a new temporary file; caller unlinks. */
static char *write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_conf.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_conf_apply_without_file_sets_defaults(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c = { 0 };

	c.debug = true;
	c.count = 99;
	assert_int_equal(bs_conf_apply(NULL, table, ARRAY_SIZE(table), mon0,
				       &c, &err), 0);
	assert_string_equal(c.name, "basalt");
	assert_int_equal(c.port, 6789);
	assert_int_equal(c.osd_size, 1ULL << 30);
	assert_int_equal(c.timeout, 5000);
	assert_false(c.debug);
	assert_null(c.addr);
	assert_string_equal(c.mon_addr, "127.0.0.1:6789");
	assert_null(c.log_level);
	assert_int_equal(c.count, 0);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
	assert_null(c.name);
	assert_null(c.mon_addr);
}

static void test_conf_later_section_overrides_global(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c;

	assert_int_equal(apply_text("[mon.0]\n"
				    "port = 2000\n"
				    "[global]\n"
				    "port = 1000\n"
				    "name = from-global\n"
				    "osd_size = 2G\n"
				    "[mon.1]\n"
				    "port = 3000\n"
				    "name = other\n",
				    &c, &err), 0);
	assert_int_equal(c.port, 2000);
	assert_string_equal(c.name, "from-global");
	assert_int_equal(c.osd_size, 2ULL << 30);
	assert_int_equal(c.timeout, 5000);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

static void test_conf_absent_sections_are_skipped(void **state)
{
	static const char *const secs[] = { "global", "client", "osd.7",
					    NULL };
	struct bs_conf *conf = load("[global]\nport = 5\n");
	struct cfg c = { 0 };

	assert_int_equal(bs_conf_apply(conf, table, ARRAY_SIZE(table), secs,
				       &c, NULL), 0);
	assert_int_equal(c.port, 5);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
	bs_conf_free(&conf);
}

static void test_conf_parses_all_types(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c;

	assert_int_equal(apply_text("[global]\n"
				    "name = x y z\n"
				    "port = 65535\n"
				    "osd_size = 1.5T\n"
				    "timeout = 2m\n"
				    "debug = yes\n"
				    "addr = [::1]:7000\n"
				    "mon_addr = localhost:6790\n"
				    "log_level = debug\n"
				    "count = 2\n",
				    &c, &err), 0);
	assert_string_equal(c.name, "x y z");
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.osd_size, 3ULL << 39);
	assert_int_equal(c.timeout, 120000);
	assert_true(c.debug);
	assert_string_equal(c.addr, "[::1]:7000");
	assert_string_equal(c.mon_addr, "localhost:6790");
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.count, 2);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

static void test_conf_comments_blanks_and_whitespace(void **state)
{
	struct bs_conf *conf = load("# a comment\n"
				    "; another\n"
				    "\n"
				    "   \t\n"
				    "  [global]   # trailing\n"
				    "\tname\t=\t a b \t# comment\n"
				    "log_level = info ; comment\n"
				    "addr=c#d\n"
				    "mon_addr = e;f\n"
				    "  # indented comment\n"
				    "port = # nothing\n"
				    "count = a = b\n");
	int line = 0;

	assert_string_equal(bs_conf_get(conf, "global", "name", &line),
			    "a b");
	assert_int_equal(line, 6);
	assert_string_equal(bs_conf_get(conf, "global", "log_level", NULL),
			    "info");
	assert_string_equal(bs_conf_get(conf, "global", "addr", NULL), "c#d");
	assert_string_equal(bs_conf_get(conf, "global", "mon_addr", NULL),
			    "e;f");
	assert_string_equal(bs_conf_get(conf, "global", "port", &line), "");
	assert_int_equal(line, 11);
	assert_string_equal(bs_conf_get(conf, "global", "count", NULL),
			    "a = b");
	bs_conf_free(&conf);
}

static void test_conf_key_dashes_become_underscores(void **state)
{
	struct bs_conf *conf = load("[global]\nosd-size = 2G\n");
	struct cfg c = { 0 };

	assert_string_equal(bs_conf_get(conf, "global", "osd_size", NULL),
			    "2G");
	assert_string_equal(bs_conf_get(conf, "global", "osd-size", NULL),
			    "2G");
	assert_int_equal(bs_conf_apply(conf, table, ARRAY_SIZE(table), mon0,
				       &c, NULL), 0);
	assert_int_equal(c.osd_size, 2ULL << 30);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
	bs_conf_free(&conf);
}

static void test_conf_crlf_line_endings(void **state)
{
	struct bs_conf *conf = load("[global]\r\n"
				    "name = win\r\n"
				    "\r\n"
				    "[mon.0]\r\n"
				    "port = 7\r\n");
	int line = 0;

	assert_string_equal(bs_conf_get(conf, "global", "name", NULL), "win");
	assert_string_equal(bs_conf_get(conf, "mon.0", "port", &line), "7");
	assert_int_equal(line, 5);
	assert_true(bs_conf_has_section(conf, "mon.0"));
	bs_conf_free(&conf);
	apply_fails("[global]\r\n\r\nport = 80x\r\n",
		    "basalt.conf:3: 'port': '80x' is not a number");
}

static void test_conf_last_line_without_newline_and_bom(void **state)
{
	struct bs_conf *conf = load("\xef\xbb\xbf[global]\nname = last");

	assert_string_equal(bs_conf_get(conf, "global", "name", NULL),
			    "last");
	bs_conf_free(&conf);
	conf = load("");
	assert_false(bs_conf_has_section(conf, "global"));
	bs_conf_free(&conf);
}

static void test_conf_rejects_line_without_equals(void **state)
{
	load_fails("[global]\nport = 1\n\ngarbage here\n", -EINVAL,
		   "basalt.conf:4: expected 'key = value'");
	load_fails("[global]\n = 5\n", -EINVAL,
		   "basalt.conf:2: expected 'key = value'");
}

static void test_conf_rejects_bad_key_names(void **state)
{
	load_fails("[global]\nPort = 1\n", -EINVAL,
		   "basalt.conf:2: bad key 'Port' (use a-z, 0-9, '_' and '-')");
	load_fails("[global]\nmy key = 1\n", -EINVAL,
		   "basalt.conf:2: bad key 'my key' (use a-z, 0-9, '_' and '-')");
}

static void test_conf_rejects_duplicate_key(void **state)
{
	load_fails("[global]\nport = 1\nname = a\n\nport = 2\n", -EINVAL,
		   "basalt.conf:5: duplicate key 'port' in section [global] (first at line 2)");
	load_fails("[mon.0]\nlog_level = a\nlog-level = b\n", -EINVAL,
		   "basalt.conf:3: duplicate key 'log_level' in section [mon.0] (first at line 2)");
}

static void test_conf_same_key_in_two_sections_is_fine(void **state)
{
	struct bs_conf *conf = load("[global]\nport = 1\n[mon.0]\nport = 2\n");

	assert_string_equal(bs_conf_get(conf, "global", "port", NULL), "1");
	assert_string_equal(bs_conf_get(conf, "mon.0", "port", NULL), "2");
	assert_null(bs_conf_get(conf, "mon.1", "port", NULL));
	assert_null(bs_conf_get(conf, "global", "name", NULL));
	bs_conf_free(&conf);
}

static void test_conf_rejects_key_before_section(void **state)
{
	load_fails("# header\nport = 1\n[global]\n", -EINVAL,
		   "basalt.conf:2: key 'port' is outside any section (add [global] above it)");
}

static void test_conf_rejects_bad_section_headers(void **state)
{
	load_fails("[global\n", -EINVAL, "basalt.conf:1: expected '[section]'");
	load_fails("[global] x\n", -EINVAL,
		   "basalt.conf:1: unexpected text after '[section]'");
	load_fails("[]\n", -EINVAL,
		   "basalt.conf:1: bad section name '' (use a-z, 0-9, '_', '.' and '-')");
	load_fails("[Mon.0]\n", -EINVAL,
		   "basalt.conf:1: bad section name 'Mon.0' (use a-z, 0-9, '_', '.' and '-')");
	load_fails("[ mon.0 ]\n", -EINVAL,
		   "basalt.conf:1: bad section name ' mon.0 ' (use a-z, 0-9, '_', '.' and '-')");
	load_fails("[mon.01]\n", -EINVAL,
		   "basalt.conf:1: bad section name 'mon.01' (write the number without leading zeros)");
	load_fails("[osd.4294967296]\n", -EINVAL,
		   "basalt.conf:1: bad section name 'osd.4294967296' (number too large)");
	load_fails("[global]\n[mon.0]\n[global]\n", -EINVAL,
		   "basalt.conf:3: section [global] appears again (first at line 1)");
}

static void test_conf_accepts_section_names(void **state)
{
	struct bs_conf *conf = load("[global]\n[client]\n[mon.0]\n"
				    "[osd.4294967295]\n[pool_a.b-c]\n"
				    "[x.y.10] ; comment\n");

	assert_true(bs_conf_has_section(conf, "global"));
	assert_true(bs_conf_has_section(conf, "client"));
	assert_true(bs_conf_has_section(conf, "mon.0"));
	assert_true(bs_conf_has_section(conf, "osd.4294967295"));
	assert_true(bs_conf_has_section(conf, "pool_a.b-c"));
	assert_true(bs_conf_has_section(conf, "x.y.10"));
	assert_false(bs_conf_has_section(conf, "mon.1"));
	assert_false(bs_conf_has_section(NULL, "mon.0"));
	assert_string_equal(bs_conf_path(conf), "basalt.conf");
	bs_conf_free(&conf);
}

static void test_conf_rejects_long_line(void **state)
{
	char *text = malloc(20 + 4097 + 2);
	struct bs_conf *conf;
	size_t n;

	assert_non_null(text);
	/* "name = " plus value makes exactly 4096 bytes: accepted. */
	n = sprintf(text, "[global]\nname = ");
	memset(text + n, 'v', 4096 - 7);
	strcpy(text + n + 4096 - 7, "\r\n");
	conf = load(text);
	assert_int_equal(strlen(bs_conf_get(conf, "global", "name", NULL)),
			 4096 - 7);
	bs_conf_free(&conf);
	/* One more byte is refused. */
	memset(text + n, 'v', 4096 - 6);
	strcpy(text + n + 4096 - 6, "\n");
	load_fails(text, -EINVAL,
		   "basalt.conf:2: line is longer than 4096 bytes");
	free(text);
}

static void test_conf_rejects_file_over_1mib(void **state)
{
	size_t max = 1 << 20;
	char *text = malloc(max + 2);
	struct bs_conf *conf;

	assert_non_null(text);
	memset(text, '\n', max + 1);
	memcpy(text, "[global]\n# comment", 18);
	text[max] = '\0';
	conf = load(text);
	assert_true(bs_conf_has_section(conf, "global"));
	bs_conf_free(&conf);
	text[max] = '\n';
	text[max + 1] = '\0';
	load_fails(text, -EFBIG, "basalt.conf: file is larger than 1 MiB");
	free(text);
}

static void test_conf_load_missing_file_names_path_and_reason(void **state)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;

	assert_int_equal(bs_conf_load(&conf, "/nonexistent-dir/basalt.conf",
				      &err), -ENOENT);
	assert_null(conf);
	assert_int_equal(err.code, -ENOENT);
	assert_string_equal(err.msg,
			    "cannot open '/nonexistent-dir/basalt.conf': No such file or directory");
}

static void test_conf_load_directory_fails(void **state)
{
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;

	assert_int_equal(bs_conf_load(&conf, "/tmp", &err), -EISDIR);
	assert_null(conf);
	assert_string_equal(err.msg, "cannot read '/tmp': Is a directory");
}

static void test_conf_load_file_names_path_in_errors(void **state)
{
	static const char good[] = "[global]\nport = 9\n";
	static const char bad[] = "[global]\n\nport 9\n";
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	char want[256];
	char *path;

	path = write_tmp(good, strlen(good));
	assert_int_equal(bs_conf_load(&conf, path, &err), 0);
	assert_string_equal(bs_conf_path(conf), path);
	assert_string_equal(bs_conf_get(conf, "global", "port", NULL), "9");
	bs_conf_free(&conf);
	unlink(path);
	free(path);

	path = write_tmp(bad, strlen(bad));
	assert_int_equal(bs_conf_load(&conf, path, &err), -EINVAL);
	assert_null(conf);
	snprintf(want, sizeof(want), "%s:3: expected 'key = value'", path);
	assert_string_equal(err.msg, want);
	unlink(path);
	free(path);
}

static void test_conf_load_file_rejects_nul_byte(void **state)
{
	static const char text[] = "[global]\nname = a\0b\n";
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	char want[256];
	char *path;

	path = write_tmp(text, sizeof(text) - 1);
	assert_int_equal(bs_conf_load(&conf, path, &err), -EINVAL);
	assert_null(conf);
	snprintf(want, sizeof(want), "%s:2: NUL byte in text", path);
	assert_string_equal(err.msg, want);
	unlink(path);
	free(path);
}

static void test_conf_load_file_over_1mib_fails(void **state)
{
	size_t len = (1 << 20) + 1;
	struct bs_error err = { 0 };
	struct bs_conf *conf = NULL;
	char *text = malloc(len), *path;
	char want[256];

	assert_non_null(text);
	memset(text, '\n', len);
	path = write_tmp(text, len);
	assert_int_equal(bs_conf_load(&conf, path, &err), -EFBIG);
	assert_null(conf);
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	assert_string_equal(err.msg, want);
	unlink(path);
	free(path);
	free(text);
}

static void test_conf_unknown_key_names_file_line_and_section(void **state)
{
	apply_fails("[global]\nport = 1\n[mon.0]\nmon_adr = 127.0.0.1:1\n",
		    "basalt.conf:4: unknown key 'mon_adr' in section [mon.0] (did you mean 'mon_addr'?)");
	apply_fails("[global]\nzzzzzz = 1\n",
		    "basalt.conf:2: unknown key 'zzzzzz' in section [global]");
}

static void test_conf_bad_value_names_key_and_value(void **state)
{
	apply_fails("[global]\n#\n#\n#\n#\n\nport = 80x\n",
		    "basalt.conf:7: 'port': '80x' is not a number");
	apply_fails("[mon.0]\nport =\n",
		    "basalt.conf:2: 'port': '' is not a number");
	apply_fails("[global]\nosd-size = 10X\n",
		    "basalt.conf:2: 'osd_size': '10X' is not a size (use a number with K, M, G or T)");
	apply_fails("[global]\ntimeout = soon\n",
		    "basalt.conf:2: 'timeout': 'soon' is not a duration (use a number with ms, s, m or h)");
	apply_fails("[global]\ndebug = maybe\n",
		    "basalt.conf:2: 'debug': 'maybe' is not a boolean (use true or false)");
	apply_fails("[global]\nport = 99999999999999999999\n",
		    "basalt.conf:2: 'port': '99999999999999999999' is too large (at most 18446744073709551615)");
}

static void test_conf_out_of_bounds_names_bounds(void **state)
{
	apply_fails("[global]\nport = 70000\n",
		    "basalt.conf:2: 'port': '70000' must be between 1 and 65535");
	apply_fails("[global]\nport = 0\n",
		    "basalt.conf:2: 'port': '0' must be between 1 and 65535");
	apply_fails("[global]\nosd_size = 1K\n",
		    "basalt.conf:2: 'osd_size': '1K' must be between 1 MiB and 16 TiB");
	apply_fails("[global]\ntimeout = 2h\n",
		    "basalt.conf:2: 'timeout': '2h' must be between 100ms and 1h");
	apply_fails("[global]\ncount = 1\n",
		    "basalt.conf:2: 'count': '1' must be at least 2");
}

static void test_conf_bounds_are_inclusive(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c;

	assert_int_equal(apply_text("[global]\nport = 1\nosd_size = 16T\n"
				    "timeout = 100\ncount = 18446744073709551615\n",
				    &c, &err), 0);
	assert_int_equal(c.port, 1);
	assert_int_equal(c.osd_size, 16ULL << 40);
	assert_int_equal(c.timeout, 100);
	assert_int_equal(c.count, UINT64_MAX);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

static void test_conf_bad_default_is_reported(void **state)
{
	static const struct bs_conf_key bad[] = {
		{ "port", BS_CONF_U64, "abc", 0, 0, OFF(port), "" },
	};
	struct bs_error err = { 0 };
	struct cfg c = { 0 };

	assert_int_equal(bs_conf_apply(NULL, bad, 1, mon0, &c, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "default of key 'port': 'port': 'abc' is not a number");
}

static void test_conf_failed_apply_leaves_releasable_struct(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c;

	/* name and addr are strdup'd before port fails: release frees. */
	assert_int_equal(apply_text("[global]\nname = n\naddr = h:1\n"
				    "port = x\n", &c, &err), -EINVAL);
	assert_string_equal(c.name, "n");
	bs_conf_release(table, ARRAY_SIZE(table), &c);
	assert_null(c.name);
	assert_null(c.addr);
}

static void test_conf_addr_accepts_valid_forms(void **state)
{
	static const char *const good[] = {
		"127.0.0.1:6789", "0.0.0.0:1", "localhost:65535",
		"mon-1.example.com:80", "MON1.Example.COM:80", "a:1",
		"[::1]:6789", "[fe80::1:2]:1", "[::ffff:1.2.3.4]:5",
	};
	struct bs_error err = { 0 };
	struct cfg c = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (bs_conf_set(table, ARRAY_SIZE(table), &c, "addr", good[i],
				&err))
			fail_msg("%s: %s", good[i], err.msg);
		assert_string_equal(c.addr, good[i]);
	}
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

static void addr_fails(const char *s, const char *msg)
{
	struct bs_error err = { 0 };
	struct cfg c = { 0 };

	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "addr", s,
				     &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_null(c.addr);
	if (msg)
		assert_string_equal(err.msg, msg);
}

static void test_conf_addr_rejects_invalid_forms(void **state)
{
	addr_fails("127.0.0.1",
		   "'--addr': '127.0.0.1' is not HOST:PORT (e.g. 127.0.0.1:6789)");
	addr_fails("127.0.0.1:0",
		   "'--addr': '127.0.0.1:0': port must be between 1 and 65535");
	addr_fails("127.0.0.1:65536",
		   "'--addr': '127.0.0.1:65536': port must be between 1 and 65535");
	addr_fails("127.0.0.1:80x",
		   "'--addr': '127.0.0.1:80x': port '80x' is not a number");
	addr_fails("127.0.0.1:",
		   "'--addr': '127.0.0.1:': port '' is not a number");
	addr_fails("127.0.0.1:-1", NULL);
	addr_fails("300.1.1.1:80",
		   "'--addr': '300.1.1.1:80': '300.1.1.1' is not an IPv4 address");
	addr_fails("1.2.3:80",
		   "'--addr': '1.2.3:80': '1.2.3' is not an IPv4 address");
	addr_fails("::1:6789",
		   "'--addr': '::1:6789': put an IPv6 address in brackets, as in [::1]:6789");
	addr_fails("[::1]6789",
		   "'--addr': '[::1]6789' is not [IPV6]:PORT (e.g. [::1]:6789)");
	addr_fails("[::1",
		   "'--addr': '[::1' is not [IPV6]:PORT (e.g. [::1]:6789)");
	addr_fails("[zz]:1",
		   "'--addr': '[zz]:1': 'zz' is not an IPv6 address");
	addr_fails("[127.0.0.1]:1", NULL);
	addr_fails(":80", "'--addr': ':80' has no host (e.g. 127.0.0.1:6789)");
	addr_fails("a_b:80", "'--addr': 'a_b:80': 'a_b' is not a host name");
	addr_fails("-a:80", NULL);
	addr_fails("a-:80", NULL);
	addr_fails("a..b:80", NULL);
	addr_fails(".a:80", NULL);
	addr_fails("a b:80", NULL);
	addr_fails("", NULL);
}

static void test_conf_addr_port_bounds_from_table(void **state)
{
	struct {
		char *addr;
	} o = { 0 };
	static const struct bs_conf_key any_port[] = {
		{ "addr", BS_CONF_ADDR, "127.0.0.1:0", 0, 65535, 0, "" },
	};
	struct bs_error err = { 0 };

	assert_int_equal(bs_conf_apply(NULL, any_port, 1, NULL, &o, &err), 0);
	assert_string_equal(o.addr, "127.0.0.1:0");
	bs_conf_release(any_port, 1, &o);
}

static void test_conf_set_overrides_file_values(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c;

	assert_int_equal(apply_text("[global]\nname = file\nosd_size = 2G\n",
				    &c, &err), 0);
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c,
				     "--osd-size", "10G", &err), 0);
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "name",
				     "cli", &err), 0);
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c,
				     "log-level", "info", &err), 0);
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "debug",
				     NULL, &err), 0);
	assert_int_equal(c.osd_size, 10ULL << 30);
	assert_string_equal(c.name, "cli");
	assert_string_equal(c.log_level, "info");
	assert_true(c.debug);
	bs_conf_release(table, ARRAY_SIZE(table), &c);
}

static void test_conf_set_errors_name_the_option(void **state)
{
	struct bs_error err = { 0 };
	struct cfg c = { 0 };

	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c,
				     "--osd-size", "10X", &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.msg,
			    "'--osd-size': '10X' is not a size (use a number with K, M, G or T)");
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "osd_size",
				     "1K", &err), -EINVAL);
	assert_string_equal(err.msg,
			    "'--osd-size': '1K' must be between 1 MiB and 16 TiB");
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "port",
				     NULL, &err), -EINVAL);
	assert_string_equal(err.msg, "'--port' needs a value");
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c,
				     "--osd-sise", "1G", &err), -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_string_equal(err.msg,
			    "unknown option '--osd-sise' (did you mean '--osd-size'?)");
	assert_int_equal(bs_conf_set(table, ARRAY_SIZE(table), &c, "frob",
				     "1", &err), -ENOENT);
	assert_string_equal(err.msg, "unknown option '--frob'");
	assert_int_equal(c.osd_size, 0);
}

struct seen {
	unsigned ids[8];
	char names[8][32];
	int n;
	int stop_at;
};

static int collect(void *opaque, unsigned id, const char *section)
{
	struct seen *s = opaque;

	assert_true(s->n < 8);
	s->ids[s->n] = id;
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", section);
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void test_conf_for_each_numbered_in_file_order(void **state)
{
	struct bs_conf *conf = load("[mon.2]\n[osd.0]\n[global]\n[mon.0]\n"
				    "[monitor.3]\n[mon.x]\n[mon.1.2]\n"
				    "[mon.]\n[xmon.5]\n[mon.10]\n");
	struct seen s = { .stop_at = -1 };

	assert_int_equal(bs_conf_for_each_numbered(conf, "mon", collect, &s),
			 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], 2);
	assert_int_equal(s.ids[1], 0);
	assert_int_equal(s.ids[2], 10);
	assert_string_equal(s.names[0], "mon.2");
	assert_string_equal(s.names[2], "mon.10");

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(bs_conf_for_each_numbered(conf, "mon", collect, &s),
			 42);
	assert_int_equal(s.n, 2);

	memset(&s, 0, sizeof(s));
	s.stop_at = -1;
	assert_int_equal(bs_conf_for_each_numbered(conf, "osd", collect, &s),
			 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], 0);
	assert_int_equal(bs_conf_for_each_numbered(NULL, "osd", collect, &s),
			 0);
	bs_conf_free(&conf);
}

static void test_conf_many_sections_and_keys(void **state)
{
	size_t cap = 600000, n = 0;
	char *text = malloc(cap), key[32];
	struct bs_conf *conf;
	int s, k;

	assert_non_null(text);
	for (s = 0; s < 300; s++) {
		n += snprintf(text + n, cap - n, "[osd.%d]\n", s);
		for (k = 0; k < 50; k++)
			n += snprintf(text + n, cap - n, "k%d = %d\n", k,
				      s * 1000 + k);
	}
	assert_true(n < cap);
	conf = load(text);
	for (s = 0; s < 300; s++) {
		char sec[32], want[32];

		snprintf(sec, sizeof(sec), "osd.%d", s);
		assert_true(bs_conf_has_section(conf, sec));
		for (k = 0; k < 50; k += 7) {
			snprintf(key, sizeof(key), "k%d", k);
			snprintf(want, sizeof(want), "%d", s * 1000 + k);
			assert_string_equal(bs_conf_get(conf, sec, key, NULL),
					    want);
		}
	}
	bs_conf_free(&conf);
	free(text);
}

static void test_conf_default_path_order(void **state)
{
	unsetenv("BASALT_CONF");
	assert_string_equal(bs_conf_default_path(NULL),
			    "/etc/basalt/basalt.conf");
	assert_string_equal(bs_conf_default_path("x.conf"), "x.conf");
	setenv("BASALT_CONF", "/env/b.conf", 1);
	assert_string_equal(bs_conf_default_path(NULL), "/env/b.conf");
	assert_string_equal(bs_conf_default_path("x.conf"), "x.conf");
	setenv("BASALT_CONF", "", 1);
	assert_string_equal(bs_conf_default_path(NULL),
			    "/etc/basalt/basalt.conf");
	unsetenv("BASALT_CONF");
}

static void test_conf_print_help_lists_every_key(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	bs_conf_print_help(table, ARRAY_SIZE(table), f);
	fclose(f);
	assert_non_null(strstr(buf, "name (string, default basalt): a name\n"));
	assert_non_null(strstr(buf,
			       "port (number, default 6789, 1..65535): a port\n"));
	assert_non_null(strstr(buf,
			       "osd_size (size, default 1G, 1 MiB..16 TiB): disk size\n"));
	assert_non_null(strstr(buf,
			       "timeout (duration, default 5s, 100ms..1h): how long\n"));
	assert_non_null(strstr(buf,
			       "addr (address, default none): listen address\n"));
	assert_non_null(strstr(buf,
			       "count (number, default none, at least 2): at least two\n"));
	free(buf);
}

/* docs/basalt.conf.example parses and has what docs/config.md says. */
static void test_conf_example_file_is_valid(void **state)
{
	struct ex {
		char *log_level, *debug, *addr, *raft_addr, *data_dir;
		char *data_path;
	} o = { 0 };
#define EX(f, t) { #f, t, NULL, 0, 0, offsetof(struct ex, f), "" }
	static const struct bs_conf_key keys[] = {
		EX(log_level, BS_CONF_STR), EX(debug, BS_CONF_STR),
		EX(addr, BS_CONF_ADDR), EX(raft_addr, BS_CONF_ADDR),
		EX(data_dir, BS_CONF_STR), EX(data_path, BS_CONF_STR),
	};
#undef EX
	static const char *const names[] = { "mon.0", "mon.1", "mon.2",
					     "osd.0" };
	struct bs_error err = { 0 };
	struct seen s = { .stop_at = -1 };
	struct bs_conf *conf = NULL;
	size_t i;

	if (bs_conf_load(&conf, BS_SOURCE_DIR "/docs/basalt.conf.example",
			 &err))
		fail_msg("%s", err.msg);
	assert_int_equal(bs_conf_for_each_numbered(conf, "mon", collect, &s),
			 0);
	assert_int_equal(s.n, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(s.ids[i], i);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		const char *secs[] = { "global", names[i], NULL };

		if (bs_conf_apply(conf, keys, ARRAY_SIZE(keys), secs, &o, &err))
			fail_msg("%s", err.msg);
		assert_string_equal(o.log_level, "notice");
		assert_string_equal(o.debug, "");
		if (i < 3)
			assert_non_null(o.addr);
		else
			assert_non_null(o.data_path);
	}
	assert_string_equal(bs_conf_get(conf, "mon.1", "addr", NULL),
			    "127.0.0.1:6791");
	bs_conf_release(keys, ARRAY_SIZE(keys), &o);
	bs_conf_free(&conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_apply_without_file_sets_defaults),
		cmocka_unit_test(test_conf_later_section_overrides_global),
		cmocka_unit_test(test_conf_absent_sections_are_skipped),
		cmocka_unit_test(test_conf_parses_all_types),
		cmocka_unit_test(test_conf_comments_blanks_and_whitespace),
		cmocka_unit_test(test_conf_key_dashes_become_underscores),
		cmocka_unit_test(test_conf_crlf_line_endings),
		cmocka_unit_test(test_conf_last_line_without_newline_and_bom),
		cmocka_unit_test(test_conf_rejects_line_without_equals),
		cmocka_unit_test(test_conf_rejects_bad_key_names),
		cmocka_unit_test(test_conf_rejects_duplicate_key),
		cmocka_unit_test(test_conf_same_key_in_two_sections_is_fine),
		cmocka_unit_test(test_conf_rejects_key_before_section),
		cmocka_unit_test(test_conf_rejects_bad_section_headers),
		cmocka_unit_test(test_conf_accepts_section_names),
		cmocka_unit_test(test_conf_rejects_long_line),
		cmocka_unit_test(test_conf_rejects_file_over_1mib),
		cmocka_unit_test(test_conf_load_missing_file_names_path_and_reason),
		cmocka_unit_test(test_conf_load_directory_fails),
		cmocka_unit_test(test_conf_load_file_names_path_in_errors),
		cmocka_unit_test(test_conf_load_file_rejects_nul_byte),
		cmocka_unit_test(test_conf_load_file_over_1mib_fails),
		cmocka_unit_test(test_conf_unknown_key_names_file_line_and_section),
		cmocka_unit_test(test_conf_bad_value_names_key_and_value),
		cmocka_unit_test(test_conf_out_of_bounds_names_bounds),
		cmocka_unit_test(test_conf_bounds_are_inclusive),
		cmocka_unit_test(test_conf_bad_default_is_reported),
		cmocka_unit_test(test_conf_failed_apply_leaves_releasable_struct),
		cmocka_unit_test(test_conf_addr_accepts_valid_forms),
		cmocka_unit_test(test_conf_addr_rejects_invalid_forms),
		cmocka_unit_test(test_conf_addr_port_bounds_from_table),
		cmocka_unit_test(test_conf_set_overrides_file_values),
		cmocka_unit_test(test_conf_set_errors_name_the_option),
		cmocka_unit_test(test_conf_for_each_numbered_in_file_order),
		cmocka_unit_test(test_conf_many_sections_and_keys),
		cmocka_unit_test(test_conf_default_path_order),
		cmocka_unit_test(test_conf_print_help_lists_every_key),
		cmocka_unit_test(test_conf_example_file_is_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
