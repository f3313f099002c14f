/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: an INI file with [global], [mon.N], [osd.N] and [client]
 * sections, found by -c FILE or $BASALT_CONF (else /etc/basalt/basalt.conf),
 * overridden by --key value on the command line.
 *
 * Each program declares every key it reads in one table of struct
 * bs_conf_key; bs_conf_apply() fills a struct from the file by that table
 * and rejects unknown keys and bad values, naming file, line and key:
 *   "basalt.conf:12: unknown key 'mon_adr' in section [mon.0]"
 */
#ifndef BS_CONF_H
#define BS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bs/error.h"

enum bs_conf_type {
	BS_CONF_STR,	/* char *, strdup'd; bs_conf_release() frees */
	BS_CONF_U64,	/* uint64_t */
	BS_CONF_SIZE,	/* uint64_t bytes, with K/M/G/T suffixes */
	BS_CONF_MS,	/* uint64_t milliseconds, with ms/s/m/h suffixes */
	BS_CONF_BOOL,	/* bool */
	BS_CONF_ADDR,	/* char *, "HOST:PORT" or "[V6]:PORT", checked */
};

struct bs_conf_key {
	const char *name;
	enum bs_conf_type type;
	const char *def;	/* default as text; NULL: none (STR -> NULL) */
	uint64_t min, max;	/* bounds for numbers; max 0 = unbounded;
				 * ADDR: port bounds, 1..65535 if max is 0 */
	size_t offset;		/* offsetof() in the target struct */
	const char *help;	/* one line, for --help-config and docs */
};

/* A parsed INI file: sections of key = value lines, with line numbers. */
struct bs_conf;

/*
 * Parse @path.  Syntax errors name the file and line; an unreadable file
 * gives "cannot open 'PATH': <strerror>" and its -errno.  Files over 1 MiB
 * (-EFBIG), lines over 4096 bytes, NUL bytes, repeated sections and keys
 * are errors (-EINVAL).  On success the caller owns *@out (bs_conf_free());
 * on failure *@out is NULL.
 */
int bs_conf_load(struct bs_conf **out, const char *path,
		 struct bs_error *err);
/* Parse @text (copied); @name stands for the file name in messages. */
int bs_conf_load_string(struct bs_conf **out, const char *name,
			const char *text, struct bs_error *err);
void bs_conf_free(struct bs_conf **conf);

/* The file name given at load time. */
const char *bs_conf_path(const struct bs_conf *conf);

/*
 * Which file to read: @cli_path if not NULL, else $BASALT_CONF, else
 * /etc/basalt/basalt.conf.
 */
const char *bs_conf_default_path(const char *cli_path);

/* Is there a section called @section ("mon.0")? */
bool bs_conf_has_section(const struct bs_conf *conf, const char *section);

/*
 * Call @fn for each section whose name is "@prefix.N" with N a number, in
 * file order, with that N.  Stops early and returns @fn's value if non-zero.
 */
int bs_conf_for_each_numbered(const struct bs_conf *conf, const char *prefix,
			      int (*fn)(void *opaque, unsigned id,
					const char *section),
			      void *opaque);

/* The raw value of @key in @section, or NULL; *line gets its line. */
const char *bs_conf_get(const struct bs_conf *conf, const char *section,
			const char *key, int *line);

/*
 * Fill @obj by @table: defaults first, then the keys of each section in
 * @sections (NULL-terminated, lowest priority first, e.g. { "global",
 * "mon.0", NULL }; sections absent from the file are skipped).  Every key
 * of those sections must be in @table and parse within bounds.  @conf may
 * be NULL (defaults only).  Returns 0 or -EINVAL with @err set.
 *
 * The STR/ADDR fields of @obj must be NULL or hold strings from an earlier
 * apply/set: they are freed before being replaced.  So zero @obj first,
 * and bs_conf_release() it afterwards, also after a failure (it may then
 * hold a mix of defaults and file values).
 */
int bs_conf_apply(const struct bs_conf *conf, const struct bs_conf_key *table,
		  size_t n, const char *const *sections, void *obj,
		  struct bs_error *err);

/*
 * One program's keys: @table fills @obj.  Keys of a @global schema may
 * appear in [global] and in every other section; the others only outside
 * [global] (a daemon's own [osd.N], say).
 */
struct bs_conf_schema {
	const struct bs_conf_key *table;
	size_t n;
	void *obj;
	bool global;
};

/*
 * bs_conf_apply() over several schemas at once: defaults of all of them,
 * then every key of @sections goes to the schema that declares it; a key
 * no schema allows in its section is an error.
 */
int bs_conf_apply_schemas(const struct bs_conf *conf,
			  const struct bs_conf_schema *schemas, size_t n,
			  const char *const *sections, struct bs_error *err);

/*
 * Set @key to @value in @obj, as "--key value" on the command line
 * (also accepts "key-with-dashes" and a leading "--").  -ENOENT for a key
 * not in @table, -EINVAL for a bad value; messages name the option as
 * "'--key-name'".  A NULL @value means "true" for a BOOL key.
 */
int bs_conf_set(const struct bs_conf_key *table, size_t n, void *obj,
		const char *key, const char *value, struct bs_error *err);

/* Free the strings bs_conf_apply()/bs_conf_set() stored in @obj. */
void bs_conf_release(const struct bs_conf_key *table, size_t n, void *obj);

/* Print "name (type, default X): help" for each key, for --help-config. */
void bs_conf_print_help(const struct bs_conf_key *table, size_t n,
			FILE *out);

#endif /* BS_CONF_H */
