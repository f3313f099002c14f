/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The basalt CLI: the command table every cmd_*.c fills, the parsed
 * arguments a command gets, and the helpers they share (mon client,
 * output in tables for people or JSON for scripts).
 */
#ifndef BASALT_CLI_H
#define BASALT_CLI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bs/error.h"
#include "bs/monc.h"
#include "bs/msgr.h"
#include "bs/osdmap.h"

/* Exit codes (docs/cli.md). */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1	/* the command failed */
#define CLI_EXIT_USAGE	2	/* the command line is wrong */

#define CLI_MAX_POS	4
#define CLI_MAX_OPTS	12

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
	/* osdc.c: straight to OSDs, on the monc's loop */
	struct bs_msgr *msgr;
	struct cli_osd_conn *osd_conns;
	unsigned nosd_conns;
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
extern const struct cli_cmd cli_osd_cmds[];
extern const struct cli_cmd cli_object_cmds[];
extern const struct cli_cmd cli_bench_cmds[];
extern const struct cli_cmd cli_pg_cmds[];
extern const struct cli_cmd cli_watch_cmds[];

/* cmd_import.c, cmd_export.c: entries of the volume table */
int volume_import(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err);
int volume_export(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err);

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
 * The cluster's health as the leader sees it (a follower answers alone
 * when the leader does not), and the PGs (of @pool if not NULL; whose
 * acting set holds osd.@osd if @osd >= 0).  Both honour --local.  Caller
 * frees with *__free_unpacked().
 */
int cli_cluster_status(struct cli *cli, Bs__ClusterStatus **st,
		       struct bs_error *err);
int cli_pg_list(struct cli *cli, const char *pool, int64_t osd,
		Bs__PgStatList **list, struct bs_error *err);

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

/* osdc.c: the map for placement, and requests straight to OSDs. */

/* The cluster map as a placement map.  Release with bs_osdmap_put(). */
int cli_osdmap(struct cli *cli, struct bs_osdmap **out, struct bs_error *err);
/* Pool @name of @map, or NULL with -ENOENT and advice in @err. */
const struct bs_osdmap_pool *cli_find_pool(const struct bs_osdmap *map,
					   const char *name,
					   struct bs_error *err);

/*
 * Fail (-EHOSTDOWN, with what to do) if some PG of @pool has no OSD up
 * in the map, so that data commands fail at once instead of waiting for
 * one; -ENOENT if there is no such pool.
 */
int cli_check_pgs(struct cli *cli, const char *pool, struct bs_error *err);

/* One request to one OSD; the results are filled by cli_osd_calls(). */
struct cli_osd_call {
	int32_t osd;			/* osd.N, for messages */
	const char *addr;		/* borrowed; NULL or "": never booted */
	uint16_t type;			/* BS_MSG_OSD_* */
	const ProtobufCMessage *body;	/* borrowed during the call */
	/* results */
	bool busy;
	int res;			/* 0 or -errno (-ETIMEDOUT: no answer) */
	struct bs_msg *reply;		/* res 0: the reply (caller frees) */
	char error[BS_ERROR_MSG_MAX];	/* res < 0: why, for people */
};

/*
 * Send every call, at most @max_inflight at a time, each bounded by
 * @timeout_ms, and wait for all.  A call's own failure is in its res and
 * error; the return value is -errno only when nothing could be tried (no
 * mon client, no messenger).  Free replies with cli_osd_call_release().
 */
int cli_osd_calls(struct cli *cli, struct cli_osd_call *calls, size_t n,
		  unsigned max_inflight, uint64_t timeout_ms,
		  struct bs_error *err);
void cli_osd_call_release(struct cli_osd_call *calls, size_t n);

/* The usage of one pool summed over the OSDs (cli_pool_usage()). */
struct cli_pool_usage {
	uint64_t objects;
	uint64_t stored;	/* logical bytes, once per object */
	uint64_t raw;		/* bytes on the disks, every copy or shard */
};

/*
 * Ask every up OSD of @map (BS_MSG_OSD_STATFS) and sum what each holds of
 * each pool: @out[i] for map->pools[i] (@out has map->n_pools entries).
 * *missing is set to the number of up OSDs that did not answer (their
 * bytes are not counted).  Returns 0 or -errno.
 */
int cli_pool_usage(struct cli *cli, const Bs__ClusterMap *map,
		   struct cli_pool_usage *out, unsigned *missing,
		   struct bs_error *err);
/* Close the OSD connections and the messenger (before the monc). */
void cli_osdc_release(struct cli *cli);

/* health.c: health checks, merged from the CLI's view and the mons'. */
enum cli_health {
	CLI_HEALTH_OK,
	CLI_HEALTH_WARN,
	CLI_HEALTH_ERR,
};

#define CLI_MAX_CHECKS	64

/* One check; every pointer is borrowed for the list's life. */
struct cli_check {
	const char *code;		/* "OSD_DOWN" */
	enum cli_health severity;
	const char *message;		/* one line */
	const char *const *detail;	/* n_detail lines, or NULL */
	size_t n_detail;
};

/* Checks, worst first (in the order added among equals). */
struct cli_checks {
	struct cli_check v[CLI_MAX_CHECKS];
	unsigned n;
	enum cli_health worst;		/* also of checks that did not fit */
};

/* "HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR". */
const char *cli_health_name(enum cli_health h);
/* The severity named @s; anything unknown (or NULL) is a warning. */
enum cli_health cli_health_parse(const char *s);
/* Add @c (copied; its strings borrowed), worst first. */
void cli_checks_add(struct cli_checks *cs, const struct cli_check *c);
/* Is a check with @code in @cs? */
bool cli_checks_has(const struct cli_checks *cs, const char *code);
/*
 * Add the mons' checks of @st, but not MON_QUORUM and MON_DOWN when @cs
 * has one already: the CLI asked every mon itself and says it better;
 * nor, with @local (a mon's own view was asked for), MON_LEADER.
 * @st->health counts too when @st gives no check.
 */
void cli_checks_add_status(struct cli_checks *cs,
			   const Bs__ClusterStatus *st, bool local);

/* The PG state names a filter may use ("active", "degraded" ...). */
extern const char *const cli_pg_state_names[];
/*
 * Does PG state @state ("active+undersized+degraded") have every flag of
 * @want ("degraded", "active+clean")?  A flag matches a whole word.
 */
bool cli_pg_state_has(const char *state, const char *want);
/* Is every '+'-separated word of @want a PG state name?  Pure. */
bool cli_pg_state_valid(const char *want);

/* names.c: "1.2f" -> pool 1, pg 0x2f.  -EINVAL naming @what if malformed. */
int cli_parse_pgid(const char *what, const char *s, uint32_t *pool,
		   uint32_t *pg, struct bs_error *err);
/* The name of an object as the CLI shows it: "vol.2a.0000000000000003". */
const char *cli_object_name(uint64_t volume, uint64_t objnum, char *buf,
			    size_t len);

/* data.c: libbasalt for the commands that move data. */
struct basalt_cluster;
struct basalt_volume;

/*
 * Connect libbasalt to the cluster the CLI talks to (-c, $BASALT_CONF,
 * or -m ADDRS through a temporary config) and open @spec "POOL/NAME".
 * -ENOENT with advice when the volume does not exist.  Close with
 * cli_data_close().
 */
int cli_data_open(struct cli *cli, const char *spec,
		  struct basalt_cluster **cluster, struct basalt_volume **vol,
		  struct bs_error *err);
void cli_data_close(struct basalt_cluster **cluster,
		    struct basalt_volume **vol);

/*
 * Allocated bytes of @vol (libbasalt block status over all of it).
 * Returns 0 or -errno with @err set.
 */
int cli_data_used(struct basalt_volume *vol, uint64_t size, uint64_t *used,
		  struct bs_error *err);

/*
 * Asynchronous libbasalt I/O into buffers ("slots"): each slot counts its
 * requests in flight; the first failure of any is kept.  Completions run
 * on libbasalt's thread, waits on the CLI's.
 */
struct cli_aio {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int error;		/* first failure, -errno */
	uint64_t error_off;	/* the slot offset it happened at */
};

struct cli_aio_slot {
	struct cli_aio *aio;
	uint8_t *buf;
	uint64_t off, len;	/* the volume range the slot holds */
	unsigned pending;	/* requests in flight (under aio->lock) */
};

void cli_aio_init(struct cli_aio *aio);
void cli_aio_release(struct cli_aio *aio);
/* Count one more request of @s in flight, before submitting it. */
void cli_aio_hold(struct cli_aio_slot *s);
/* The completion (basalt_completion_fn) to give with @s as opaque. */
void cli_aio_done(void *opaque, ssize_t res);
/* Wait until nothing of @s is in flight; returns the first failure. */
int cli_aio_wait(struct cli_aio_slot *s);
/* The first failure so far (0: none), and where. */
int cli_aio_error(struct cli_aio *aio, uint64_t *off);

/*
 * zeros.c: from *@pos on in @buf[0..@len), find the next run of @block-sized
 * blocks (the last one may be shorter) that are not all zero: true with
 * *@pos at its start and *@run its length, false (and *@pos = @len) when
 * the rest is zero.  Pure.
 */
bool cli_find_data(const uint8_t *buf, size_t len, size_t block,
		   size_t *pos, size_t *run);

/* progress.c: a progress bar on stderr, only when stderr is a terminal. */
struct progress {
	const char *what;		/* "Importing" */
	uint64_t total, done;
	uint64_t start_ms, last_ms;
	bool on;			/* stderr is a terminal */
	bool shown;			/* a line is on the screen */
};

void progress_init(struct progress *p, const char *what, uint64_t total);
/* Set the bytes done; redraws at most every 100 ms. */
void progress_update(struct progress *p, uint64_t done);
/* Clear the line (on success: 100%, then a newline). */
void progress_end(struct progress *p, bool ok);

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
/* A number with @decimals digits after the point; NaN/inf: null. */
void json_double(struct json *j, double v, int decimals);
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

/* "1.5 GiB", "512 B": @bytes to 3 significant digits, for people. */
const char *format_bytes(uint64_t bytes, char *buf, size_t len);

/* "2025-11-22T01:25:03Z" for a wall clock in microseconds, "-" for 0. */
const char *format_time_us(uint64_t us, char *buf, size_t len);

#endif /* BASALT_CLI_H */
