/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The basalt CLI: the command table every cmd_*.c fills, the parsed
 * arguments a command gets, and the helpers they share (mon client,
 * output in tables for people or JSON for scripts).
 */
#ifndef BASALT_CLI_H
#define BASALT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bs/error.h"
#include "bs/monc.h"

/* Exit codes (docs/cli.md). */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1	/* the command failed */
#define CLI_EXIT_USAGE	2	/* the command line is wrong */

#define CLI_MAX_POS	4
#define CLI_MAX_OPTS	8

enum cli_format {
	CLI_FORMAT_PLAIN,
	CLI_FORMAT_JSON,
};

/* Global state of one run. */
struct cli {
	const char *conf_path;		/* -c, or NULL */
	const char *mon_host;		/* -m/--mon-host, or NULL */
	enum cli_format format;
	uint64_t timeout_ms;		/* --timeout, 0: the monc default */
	bool local;			/* --local: reads skip the leader */
	bool usage_error;		/* the failure is the command line's */
	struct bs_monc *monc;		/* connected on first use */
	char **addrs;			/* the mons' addresses */
	unsigned naddrs;
	FILE *out;
};

/* An option of a command: "--size N" (arg "N") or a flag (arg NULL). */
struct cli_opt {
	const char *name;
	const char *arg;
	const char *help;
};

struct cli_cmd;

/* A command line matched to a command. */
struct cli_args {
	const struct cli_cmd *cmd;
	const char *pos[CLI_MAX_POS];
	unsigned npos;
	const char *val[CLI_MAX_OPTS];	/* by index in cmd->opts; flag: "" */
};

typedef int cli_cmd_fn(struct cli *cli, const struct cli_args *a,
		       struct bs_error *err);

/*
 * One command: "pool create" is group "pool", name "create"; "status" has
 * name NULL.  Tables end with an entry whose group is NULL.
 */
struct cli_cmd {
	const char *group;
	const char *name;
	const char *usage;		/* arguments: "NAME --size N [...]" */
	const char *help;		/* one line */
	const char *details;		/* more lines for 'basalt help', or NULL */
	const struct cli_opt *opts;	/* ends with a NULL name; may be NULL */
	unsigned min_pos, max_pos;
	cli_cmd_fn *fn;
};

extern const struct cli_cmd cli_status_cmds[];
extern const struct cli_cmd cli_mon_cmds[];
extern const struct cli_cmd cli_pool_cmds[];
extern const struct cli_cmd cli_volume_cmds[];

/* main.c */
/* The value of option @name ("--size") in @a, "" for a set flag, or NULL. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Mark the failure as a command-line error (exit 2) and set @err. */
int cli_usage(struct cli *cli, struct bs_error *err, const char *fmt, ...)
	BS_PRINTF(3, 4);
/*
 * The mon client, connected on first use from -m or the config file.
 * Returns 0 or -errno with @err set ("cannot read config ...").
 */
int cli_monc(struct cli *cli, struct bs_monc **out, struct bs_error *err);
/* "mon.N" for address @addr from what @states say, or @addr itself. */
const char *cli_mon_name(const struct bs_monc_mon_state *states, unsigned n,
			 const char *addr, char *buf, size_t len);
/* The name of @group/@name as typed: "pool create". */
const char *cli_cmd_title(const struct cli_cmd *cmd, char *buf, size_t len);

/*
 * Split "POOL/NAME" into @pool and @name (pointers into @buf, which must
 * hold at least strlen(@spec) + 1 bytes).  -EINVAL with a usage error.
 */
int cli_split_volume(struct cli *cli, const char *spec, char *buf,
		     size_t len, const char **pool, const char **name,
		     struct bs_error *err);

/*
 * Reads: the cluster map, and the volumes of @pool (NULL: all) or the one
 * @pool/@name.  Answered by the leader, or with --local by the mon asked
 * from its own applied state.  Caller frees with *__free_unpacked().
 */
int cli_get_map(struct cli *cli, Bs__ClusterMap **map, struct bs_error *err);
int cli_volumes(struct cli *cli, const char *pool, const char *name,
		Bs__VolumeList **list, struct bs_error *err);

/*
 * Send a change to the mons and wait for it to commit.  On failure @err
 * holds the mons' reason (with advice added).  Free *reply with
 * bs__mon_command_reply__free_unpacked().
 */
int cli_command(struct cli *cli, const Bs__MonCommand *cmd,
		Bs__MonCommandReply **reply, struct bs_error *err);

/*
 * Add "(see 'basalt pool ls')"-like advice to a mon's -ENOENT text, so
 * that the CLI's one line says what to do next.
 */
void cli_hint_noent(struct bs_error *err);

/* Parse a u32 option value; @what names it in the error. */
int cli_parse_u32(struct cli *cli, const char *what, const char *s,
		  uint32_t min, uint32_t max, uint32_t *out,
		  struct bs_error *err);

/* cmd_mon.c: what the mons say about themselves and the quorum. */
struct mon_view {
	struct bs_monc_mon_state *states;	/* one per address asked */
	unsigned n;
	int leader_id;		/* mon.N of the leader, -1 when none */
	int leader;		/* its index in states, -1 if not asked */
	uint64_t term;		/* the leader's term */
	bool in_quorum[BS_MONC_MAX_MONS];
	unsigned nquorum;	/* of the mons asked */
	unsigned nreachable;
	unsigned members;	/* size of the mon membership */
	bool has_quorum;
};

/*
 * Ask every mon (in parallel, bounded) and work out the leader and the
 * quorum.  Fails with "cannot reach any monitor at ..." when none
 * answers.  Release with mon_view_release().
 */
int mon_view_get(struct cli *cli, struct mon_view *v, struct bs_error *err);
void mon_view_release(struct mon_view *v);
/* "mon.N" of states[i] (or of its address when it did not answer). */
const char *mon_view_name(const struct mon_view *v, unsigned i, char *buf,
			  size_t len);

/* output.c: JSON for scripts.  Pretty-printed, one value per document. */
#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	unsigned depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this level */
	bool after_key;			/* a key was written, value next */
};

void json_init(struct json *j, FILE *out);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
/* A string value; NULL writes null.  Escapes per RFC 8259. */
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Finish the document (a newline after the top-level value). */
void json_end(struct json *j);

/* key + value in one call */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

/* Write @s to @out as a JSON string literal, quotes included. */
void json_write_string(FILE *out, const char *s);

/* output.c: aligned tables for people. */
struct table;

/*
 * A table with @ncols columns named by @heads (borrowed for the table's
 * life); a head starting with '>' is right-aligned (the '>' is not shown).
 */
struct table *table_new(unsigned ncols, const char *const *heads);
/* Add a row of @ncols strings (copied; NULL prints as "-"). */
void table_add(struct table *t, const char *const *cells);
/* Print the heads and every row, columns two spaces apart. */
void table_print(const struct table *t, FILE *out);
void table_free(struct table **t);

/* "2025-11-22T01:25:03Z" for a wall clock in microseconds, "-" for 0. */
const char *format_time_us(uint64_t us, char *buf, size_t len);

#endif /* BASALT_CLI_H */
