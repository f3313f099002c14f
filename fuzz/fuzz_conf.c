// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the configuration parser: random text through
 * bs_conf_load_string(), bs_conf_apply() with a small table of every key
 * type, the section walkers, bs_conf_set() and the number parsers.
 * Nothing may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bs/conf.h"
#include "bs/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_cfg {
	char *name;
	uint64_t port;
	uint64_t size;
	uint64_t timeout;
	bool flag;
	char *addr;
};

#define OFF(f) offsetof(struct fuzz_cfg, f)

/* clang-format off */
static const struct bs_conf_key table[] = {
	{ "name", BS_CONF_STR, "x", 0, 0, OFF(name), "" },
	{ "port", BS_CONF_U64, "1", 1, 65535, OFF(port), "" },
	{ "size", BS_CONF_SIZE, "1M", 4096, 0, OFF(size), "" },
	{ "timeout", BS_CONF_MS, NULL, 0, 3600000, OFF(timeout), "" },
	{ "flag", BS_CONF_BOOL, "no", 0, 0, OFF(flag), "" },
	{ "addr", BS_CONF_ADDR, "127.0.0.1:1", 0, 0, OFF(addr), "" },
};
/* clang-format on */

static const char *const sections[] = { "global", "mon.0", "osd.1", NULL };

static int count(void *opaque, unsigned id, const char *section)
{
	(*(unsigned *)opaque)++;
	return 0;
}

/* Give each value of @conf's [global] to every key as an override. */
static void set_all(const struct bs_conf *conf, struct fuzz_cfg *c)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		const char *v = bs_conf_get(conf, "global", table[i].name,
					    NULL);

		for (j = 0; v && j < ARRAY_SIZE(table); j++)
			bs_conf_set(table, ARRAY_SIZE(table), c,
				    table[j].name, v, NULL);
	}
}

static void parse_numbers(const char *s)
{
	struct bs_error err;
	char buf[32];
	uint64_t v;
	bool b;

	if (!bs_parse_size("s", s, &v, &err))
		bs_format_size(v, buf, sizeof(buf));
	if (!bs_parse_duration_ms("d", s, &v, &err))
		bs_format_duration_ms(v, buf, sizeof(buf));
	bs_parse_u64("u", s, &v, &err);
	bs_parse_bool("b", s, &b, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cfg c = { 0 };
	struct bs_error err = { 0 };
	struct bs_conf *conf;
	unsigned n = 0;
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	parse_numbers(text);
	if (bs_conf_load_string(&conf, "fuzz.conf", text, &err) == 0) {
		bs_conf_apply(conf, table, ARRAY_SIZE(table), sections, &c,
			      &err);
		set_all(conf, &c);
		bs_conf_for_each_numbered(conf, "mon", count, &n);
		bs_conf_has_section(conf, "client");
		bs_conf_release(table, ARRAY_SIZE(table), &c);
		bs_conf_free(&conf);
	}
	free(text);
	return 0;
}
