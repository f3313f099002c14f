// SPDX-License-Identifier: Apache-2.0
/*
 * basalt pg ls | scrub | deep-scrub | repair: the placement groups as the
 * mons know them from their primaries' reports (state, acting set,
 * primary, objects, degraded copies), and a scrub of one PG run now by
 * its primary (BS_MSG_OSD_SCRUB), which compares every member's copies
 * (deep: their data too) and with repair rewrites the bad ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/msg_types.h"
#include "proto/osd.pb-c.h"

#include "cli.h"

/* A scrub reads every object of a PG: give it time (--timeout caps). */
#define PG_SCRUB_TIMEOUT_MS	120000

/* --- pg ls ------------------------------------------------------------- */

static const char *pgid(const Bs__PgStatInfo *p, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%x", p->pool, p->pg);
	return buf;
}

/* "[0,2]", an empty slot as "-" */
static const char *acting_str(const Bs__PgStatInfo *p, char *buf, size_t len)
{
	size_t i, off;

	off = (size_t)snprintf(buf, len, "[");
	for (i = 0; i < p->n_acting && off < len; i++) {
		if (p->acting[i] < 0)
			off += (size_t)snprintf(buf + off, len - off, "%s-",
						i ? "," : "");
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%d",
						i ? "," : "", p->acting[i]);
	}
	if (off < len)
		snprintf(buf + off, len - off, "]");
	return buf;
}

static void pg_json(struct json *j, const Bs__PgStatInfo *p)
{
	char id[32];
	size_t i;

	json_obj_begin(j);
	json_kv_str(j, "pgid", pgid(p, id, sizeof(id)));
	json_kv_str(j, "pool", p->pool_name);
	json_kv_u64(j, "pool_id", p->pool);
	json_kv_str(j, "state", p->state);
	json_key(j, "acting");
	json_arr_begin(j);
	for (i = 0; i < p->n_acting; i++) {
		if (p->acting[i] < 0)
			json_null(j);
		else
			json_i64(j, p->acting[i]);
	}
	json_arr_end(j);
	json_key(j, "primary");
	if (p->primary < 0)
		json_null(j);
	else
		json_i64(j, p->primary);
	json_kv_u64(j, "objects", p->objects);
	json_kv_u64(j, "bytes", p->bytes);
	json_kv_u64(j, "degraded", p->objects_degraded);
	json_kv_u64(j, "misplaced", p->objects_misplaced);
	json_kv_u64(j, "unfound", p->unfound);
	json_kv_u64(j, "recovery_bytes_per_sec", p->recovery_bytes_per_sec);
	json_kv_u64(j, "last_clean", p->last_clean);
	if (p->flags & BS__PG_STATE_FLAG__PG_DOWN) {
		json_key(j, "waiting_for_osd");
		json_i64(j, p->wait_osd);
		json_kv_u64(j, "waiting_since_epoch", p->wait_epoch);
	}
	json_key(j, "reporter");
	if (p->reporter < 0)
		json_null(j);
	else
		json_i64(j, p->reporter);
	json_kv_u64(j, "reported_epoch", p->reported_epoch);
	json_kv_u64(j, "report_age_ms", p->report_age_ms);
	json_obj_end(j);
}

static int pg_ls(struct cli *cli, const struct cli_args *a,
		 struct bs_error *err)
{
	static const char *const heads[] = {
		"PG", "STATE", "ACTING", ">PRIMARY", ">OBJECTS", ">BYTES",
		">DEGRADED", ">MISPLACED", ">UNFOUND", ">AGE", "WAITING FOR",
	};
	const char *state = cli_opt(a, "--state"), *osd = cli_opt(a, "--osd");
	char id[32], acting[160], prim[16], objs[24], bytes[32], deg[24];
	char mis[24], age[32], unf[24], wait[64];
	const Bs__PgStatInfo *p;
	Bs__PgStatList *list = NULL;
	struct table *t = NULL;
	struct json j;
	uint32_t osd_id;
	int64_t want_osd = -1;
	size_t i;
	int ret;

	if (state && !cli_pg_state_valid(state))
		return cli_usage(cli, err,
				 "'--state': '%s' is not a PG state (use words of active, clean, peering, recovering, backfilling, undersized, degraded, inactive, down, unknown joined by '+')",
				 state);
	if (osd) {
		if (!strncmp(osd, "osd.", 4))
			osd += 4;
		ret = cli_parse_u32(cli, "--osd", osd, 0, INT32_MAX, &osd_id,
				    err);
		if (ret)
			return ret;
		want_osd = osd_id;
	}
	ret = cli_pg_list(cli, cli_opt(a, "--pool"), want_osd, &list, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_arr_begin(&j);
	} else {
		t = table_new(ARRAY_SIZE(heads), heads);
	}
	for (i = 0; i < list->n_pgs; i++) {
		p = list->pgs[i];
		if (state && !cli_pg_state_has(p->state, state))
			continue;
		if (cli->format == CLI_FORMAT_JSON) {
			pg_json(&j, p);
			continue;
		}
		if (p->primary >= 0)
			snprintf(prim, sizeof(prim), "%d", p->primary);
		else
			snprintf(prim, sizeof(prim), "-");
		snprintf(objs, sizeof(objs), "%" PRIu64, p->objects);
		snprintf(deg, sizeof(deg), "%" PRIu64, p->objects_degraded);
		snprintf(mis, sizeof(mis), "%" PRIu64, p->objects_misplaced);
		snprintf(unf, sizeof(unf), "%" PRIu64, p->unfound);
		if (p->flags & BS__PG_STATE_FLAG__PG_DOWN)
			snprintf(wait, sizeof(wait),
				 "osd.%d (writes of epoch %" PRIu64 ")",
				 p->wait_osd, p->wait_epoch);
		else
			snprintf(wait, sizeof(wait), "-");
		if (p->reporter >= 0)
			snprintf(age, sizeof(age), "%" PRIu64 ".%" PRIu64 "s",
				 p->report_age_ms / 1000,
				 p->report_age_ms % 1000 / 100);
		else
			snprintf(age, sizeof(age), "-");
		const char *row[] = {
			pgid(p, id, sizeof(id)), p->state,
			acting_str(p, acting, sizeof(acting)), prim, objs,
			format_bytes(p->bytes, bytes, sizeof(bytes)), deg, mis,
			unf, age, wait,
		};
		table_add(t, row);
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_arr_end(&j);
		json_end(&j);
	} else {
		table_print(t, cli->out);
		table_free(&t);
	}
	bs__pg_stat_list__free_unpacked(list, NULL);
	return 0;
}

/* --- pg scrub, deep-scrub, repair -------------------------------------- */

/*
 * PG @pid.@pg (as typed: @s) in @map, and its primary (-EHOSTDOWN if none
 * is up).
 */
static int find_pg(const struct bs_osdmap *map, const char *s, uint32_t pid,
		   uint32_t pg, const struct bs_osdmap_pool **pool,
		   int32_t *primary, struct bs_error *err)
{
	*pool = bs_osdmap_pool(map, pid);
	if (!*pool)
		return bs_error_set(err, -ENOENT,
				    "pg %s: there is no pool %u (see 'basalt pool ls')",
				    s, pid);
	if (pg >= (*pool)->place.pg_num)
		return bs_error_set(err, -ENOENT,
				    "pg %s does not exist: pool '%s' has %u PGs (0 to %x)",
				    s, (*pool)->name, (*pool)->place.pg_num,
				    (*pool)->place.pg_num - 1);
	*primary = bs_osdmap_pg_primary(map, *pool, pg);
	if (*primary < 0)
		return bs_error_set(err, -EHOSTDOWN,
				    "pg %s has no OSD up: it cannot be scrubbed now (see 'basalt pg ls')",
				    s);
	return 0;
}

static void scrub_json(struct cli *cli, const char *id, int32_t primary,
		       const Bs__OsdScrub *req, const Bs__OsdScrubReply *r)
{
	struct json j;
	size_t i;

	json_init(&j, cli->out);
	json_obj_begin(&j);
	json_kv_str(&j, "pgid", id);
	json_kv_u64(&j, "primary", (uint64_t)primary);
	json_kv_bool(&j, "deep", req->deep);
	json_kv_bool(&j, "repair", req->repair);
	json_kv_u64(&j, "map_epoch", r->map_epoch);
	json_key(&j, "members");
	json_arr_begin(&j);
	for (i = 0; i < r->n_members; i++)
		json_i64(&j, r->members[i]);
	json_arr_end(&j);
	json_kv_u64(&j, "objects", r->objects);
	json_kv_u64(&j, "inconsistent", r->inconsistent);
	json_kv_u64(&j, "copies_bad", r->copies_bad);
	json_kv_u64(&j, "repaired", r->repaired);
	json_key(&j, "details");
	json_arr_begin(&j);
	for (i = 0; i < r->n_details; i++)
		json_str(&j, r->details[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void scrub_plain(struct cli *cli, const char *id, int32_t primary,
			const Bs__OsdScrub *req, const Bs__OsdScrubReply *r)
{
	size_t i;

	fprintf(cli->out, "pg %s %s%s by osd.%d, members [", id,
		req->deep ? "deep-scrubbed" : "scrubbed",
		req->repair ? " with repair" : "", primary);
	for (i = 0; i < r->n_members; i++)
		fprintf(cli->out, "%s%d", i ? "," : "", r->members[i]);
	fprintf(cli->out, "]: %" PRIu64 " objects checked, %" PRIu64
		" inconsistent (%" PRIu64 " bad copies), %" PRIu64
		" repaired\n", r->objects, r->inconsistent, r->copies_bad,
		r->repaired);
	for (i = 0; i < r->n_details; i++)
		fprintf(cli->out, "  %s\n", r->details[i]);
}

static int pg_scrub_run(struct cli *cli, const struct cli_args *a,
			bool deep, bool repair, struct bs_error *err)
{
	Bs__OsdScrub req = BS__OSD_SCRUB__INIT;
	const struct bs_osdmap_pool *pool;
	const struct bs_osdmap_osd *osd;
	struct cli_osd_call call = { 0 };
	struct bs_osdmap *map = NULL;
	uint64_t timeout = cli->timeout_ms ? cli->timeout_ms :
			   PG_SCRUB_TIMEOUT_MS;
	char id[32];
	int32_t primary = -1;
	uint32_t pid, pg;
	int ret;

	ret = cli_parse_pgid("PGID", a->pos[0], &pid, &pg, err);
	if (ret)
		return ret;
	ret = cli_osdmap(cli, &map, err);
	if (ret)
		return ret;
	ret = find_pg(map, a->pos[0], pid, pg, &pool, &primary, err);
	if (ret)
		goto out;
	snprintf(id, sizeof(id), "%u.%x", pool->id, pg);
	osd = bs_osdmap_osd(map, primary);
	req.map_epoch = map->epoch;
	req.pool = pool->id;
	req.pg = pg;
	req.deep = deep || repair;
	req.repair = repair || cli_opt(a, "--repair");
	call.osd = primary;
	call.addr = osd ? osd->addr : NULL;
	call.type = BS_MSG_OSD_SCRUB;
	call.body = &req.base;
	ret = cli_osd_calls(cli, &call, 1, 1, timeout, err);
	if (ret)
		goto out;
	if (call.res) {
		ret = bs_error_set(err, call.res, "cannot scrub pg %s on osd.%d: %s",
				   id, primary, call.error);
		goto out;
	}
	if (cli->format == CLI_FORMAT_JSON)
		scrub_json(cli, id, primary, &req,
			   (const Bs__OsdScrubReply *)call.reply->body);
	else
		scrub_plain(cli, id, primary, &req,
			    (const Bs__OsdScrubReply *)call.reply->body);
out:
	cli_osd_call_release(&call, 1);
	bs_osdmap_put(&map);
	return ret;
}

static int pg_scrub(struct cli *cli, const struct cli_args *a,
		    struct bs_error *err)
{
	return pg_scrub_run(cli, a, false, false, err);
}

static int pg_deep_scrub(struct cli *cli, const struct cli_args *a,
			 struct bs_error *err)
{
	return pg_scrub_run(cli, a, true, false, err);
}

static int pg_repair(struct cli *cli, const struct cli_args *a,
		     struct bs_error *err)
{
	return pg_scrub_run(cli, a, true, true, err);
}

static const struct cli_opt pg_ls_opts[] = {
	{ "--pool", "POOL", "the PGs of one pool (default: every pool)" },
	{ "--state", "STATE", "only PGs with every flag of STATE (degraded, active+clean ...)" },
	{ "--osd", "N", "only PGs whose acting set holds osd.N" },
	{ NULL },
};

static const struct cli_opt pg_scrub_opts[] = {
	{ "--repair", NULL, "rewrite bad or missing copies from a good one" },
	{ NULL },
};

const struct cli_cmd cli_pg_cmds[] = {
	{
		.group = "pg",
		.name = "ls",
		.usage = "[--pool POOL] [--state STATE] [--osd N]",
		.help = "list the PGs: state, acting set, primary, objects, degraded copies",
		.details =
			"As the mons know them from the reports of each PG's primary.  A PG\n"
			"no up OSD has reported yet is 'unknown' (its acting set computed from\n"
			"the map), one with no member up 'inactive'.  AGE is the age of the\n"
			"report.  PG ids are POOL_ID.PG, the PG in hex (1.2f).\n",
		.opts = pg_ls_opts,
		.fn = pg_ls,
	},
	{
		.group = "pg",
		.name = "scrub",
		.usage = "PGID [--repair]",
		.help = "compare the objects and versions of every copy of one PG now",
		.details =
			"The PG's primary lists every member's objects and versions and\n"
			"compares them; prints what it checked, the inconsistencies found and,\n"
			"with --repair, what it rewrote.  Waits until it is done.  A bad block\n"
			"under equal versions takes a deep scrub to find.\n",
		.opts = pg_scrub_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = pg_scrub,
	},
	{
		.group = "pg",
		.name = "deep-scrub",
		.usage = "PGID [--repair]",
		.help = "scrub one PG reading every copy's data and comparing checksums",
		.details =
			"Like 'pg scrub', and every member also reads every object (a block\n"
			"that fails its checksum is a bad copy) and the crc32c of the copies'\n"
			"data are compared.\n",
		.opts = pg_scrub_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = pg_deep_scrub,
	},
	{
		.group = "pg",
		.name = "repair",
		.usage = "PGID",
		.help = "deep-scrub one PG and rewrite bad or missing copies from a good one",
		.details =
			"The good copy is the newest version; among equal versions the one\n"
			"that reads without checksum errors and agrees with the majority.\n",
		.min_pos = 1,
		.max_pos = 1,
		.fn = pg_repair,
	},
	{ 0 },
};
