// SPDX-License-Identifier: Apache-2.0
/*
 * basalt osd ls | df | list-objects: the OSDs of the map (address, place
 * in the failure-domain tree, up/down, in/out, weight), their capacity and
 * use as each OSD reports it (BS_MSG_OSD_STATFS), and the objects one OSD
 * holds for a PG (BS_MSG_OSD_PG_LIST), so that scripts can check where
 * data really is.  basalt osd out | in | down | add | rm: the operator's
 * changes to the OSD map (OsdMark, OsdAdd, OsdRm).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/msg_types.h"
#include "bs/parse.h"
#include "proto/osd.pb-c.h"

#include "cli.h"

/* How long one OSD may take to answer a query (capped by --timeout). */
#define OSD_QUERY_TIMEOUT_MS	3000
#define OSD_QUERY_INFLIGHT	16

static uint64_t query_timeout(const struct cli *cli)
{
	if (cli->timeout_ms && cli->timeout_ms < OSD_QUERY_TIMEOUT_MS)
		return cli->timeout_ms;
	return OSD_QUERY_TIMEOUT_MS;
}

/* --- osd ls ------------------------------------------------------------ */

static void osd_json(struct json *j, const Bs__OsdInfo *o)
{
	char name[24];

	snprintf(name, sizeof(name), "osd.%u", o->id);
	json_obj_begin(j);
	json_kv_u64(j, "id", o->id);
	json_kv_str(j, "name", name);
	json_kv_str(j, "addr", o->addr && *o->addr ? o->addr : NULL);
	json_kv_str(j, "host", o->host);
	json_kv_str(j, "rack", o->rack && *o->rack ? o->rack : NULL);
	json_kv_str(j, "site", o->site && *o->site ? o->site : NULL);
	json_kv_bool(j, "up", o->up);
	json_kv_bool(j, "in", o->in);
	json_kv_u64(j, "weight", o->weight);
	json_kv_u64(j, "up_from", o->up_from);
	json_obj_end(j);
}

static int osd_ls(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	static const char *const heads[] = {
		">ID", "HOST", "ADDR", "STATUS", "IN", ">WEIGHT", ">UP_FROM",
	};
	Bs__ClusterMap *map = NULL;
	const Bs__OsdInfo *o;
	char id[16], weight[32], from[24];
	struct table *t;
	struct json j;
	size_t i;
	int ret;

	ret = cli_get_map(cli, &map, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_arr_begin(&j);
		for (i = 0; i < map->n_osds; i++)
			osd_json(&j, map->osds[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		t = table_new(ARRAY_SIZE(heads), heads);
		for (i = 0; i < map->n_osds; i++) {
			o = map->osds[i];
			snprintf(id, sizeof(id), "osd.%u", o->id);
			snprintf(from, sizeof(from), "%" PRIu64, o->up_from);
			const char *row[] = {
				id, o->host,
				o->addr && *o->addr ? o->addr : NULL,
				o->up ? "up" : "down", o->in ? "in" : "out",
				format_bytes(o->weight, weight,
					     sizeof(weight)),
				from,
			};
			table_add(t, row);
		}
		table_print(t, cli->out);
		table_free(&t);
	}
	bs__cluster_map__free_unpacked(map, NULL);
	return 0;
}

/* --- osd df ------------------------------------------------------------ */

/* What one OSD said about itself, or why it said nothing. */
struct df_row {
	const Bs__OsdInfo *o;
	const Bs__OsdStatfsReply *st;	/* NULL: no answer */
	const char *why;		/* "down", "no answer" */
};

/* The OSD's share of logical bytes, over its pools (osd.proto PoolUsage). */
static uint64_t df_stored(const Bs__OsdStatfsReply *st)
{
	uint64_t stored = 0;

	for (size_t i = 0; i < st->n_pools; i++)
		stored += st->pools[i]->stored_bytes;
	return stored;
}

static void df_json(struct json *j, const struct df_row *r)
{
	const Bs__OsdStatfsReply *st = r->st;
	char name[24];

	snprintf(name, sizeof(name), "osd.%u", r->o->id);
	json_obj_begin(j);
	json_kv_u64(j, "id", r->o->id);
	json_kv_str(j, "name", name);
	json_kv_str(j, "host", r->o->host);
	json_kv_bool(j, "up", r->o->up);
	json_kv_bool(j, "in", r->o->in);
	json_kv_str(j, "status", st ? "ok" : r->why);
	json_kv_u64(j, "weight", r->o->weight);
	if (st) {
		json_kv_u64(j, "capacity", st->capacity);
		json_kv_u64(j, "used", st->used);
		json_kv_u64(j, "avail", st->capacity > st->used ?
			    st->capacity - st->used : 0);
		json_key(j, "use_percent");
		json_double(j, st->capacity ? 100.0 * (double)st->used /
			    (double)st->capacity : 0.0, 2);
		json_kv_u64(j, "objects", st->objects);
		json_kv_u64(j, "stored", df_stored(st));
		json_key(j, "pools");
		json_arr_begin(j);
		for (size_t i = 0; i < st->n_pools; i++) {
			json_obj_begin(j);
			json_kv_u64(j, "pool", st->pools[i]->pool);
			json_kv_u64(j, "objects", st->pools[i]->objects);
			json_kv_u64(j, "raw", st->pools[i]->raw_bytes);
			json_kv_u64(j, "stored", st->pools[i]->stored_bytes);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_kv_u64(j, "map_epoch", st->map_epoch);
	} else {
		json_key(j, "capacity");
		json_null(j);
		json_key(j, "used");
		json_null(j);
		json_key(j, "avail");
		json_null(j);
		json_key(j, "use_percent");
		json_null(j);
		json_key(j, "objects");
		json_null(j);
	}
	json_obj_end(j);
}

static void df_print(struct cli *cli, const struct df_row *rows, size_t n)
{
	static const char *const heads[] = {
		">ID", "HOST", "STATUS", ">SIZE", ">USED", ">STORED", ">AVAIL",
		">%USE", ">OBJECTS",
	};
	uint64_t cap = 0, used = 0, stored = 0, objects = 0;
	char id[16], c1[32], c2[32], c3[32], c4[32], pct[16], objs[24];
	const Bs__OsdStatfsReply *st;
	struct table *t;
	size_t i;

	t = table_new(ARRAY_SIZE(heads), heads);
	for (i = 0; i < n; i++) {
		st = rows[i].st;
		snprintf(id, sizeof(id), "osd.%u", rows[i].o->id);
		if (!st) {
			const char *row[] = {
				id, rows[i].o->host, rows[i].why, NULL, NULL,
				NULL, NULL, NULL, NULL,
			};
			table_add(t, row);
			continue;
		}
		cap += st->capacity;
		used += st->used;
		stored += df_stored(st);
		objects += st->objects;
		snprintf(pct, sizeof(pct), "%.2f", st->capacity ?
			 100.0 * (double)st->used / (double)st->capacity : 0.0);
		snprintf(objs, sizeof(objs), "%" PRIu64, st->objects);
		const char *row[] = {
			id, rows[i].o->host,
			rows[i].o->in ? "up" : "up (out)",
			format_bytes(st->capacity, c1, sizeof(c1)),
			format_bytes(st->used, c2, sizeof(c2)),
			format_bytes(df_stored(st), c4, sizeof(c4)),
			format_bytes(st->capacity > st->used ?
				     st->capacity - st->used : 0, c3,
				     sizeof(c3)),
			pct, objs,
		};
		table_add(t, row);
	}
	snprintf(pct, sizeof(pct), "%.2f",
		 cap ? 100.0 * (double)used / (double)cap : 0.0);
	snprintf(objs, sizeof(objs), "%" PRIu64, objects);
	const char *total[] = {
		"TOTAL", "", "",
		format_bytes(cap, c1, sizeof(c1)),
		format_bytes(used, c2, sizeof(c2)),
		format_bytes(stored, c4, sizeof(c4)),
		format_bytes(cap > used ? cap - used : 0, c3, sizeof(c3)),
		pct, objs,
	};
	table_add(t, total);
	table_print(t, cli->out);
	table_free(&t);
}

static int osd_df(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	Bs__OsdStatfs req = BS__OSD_STATFS__INIT;
	struct cli_osd_call *calls;
	Bs__ClusterMap *map = NULL;
	struct df_row *rows;
	struct json j;
	size_t i, n;
	int ret;

	ret = cli_get_map(cli, &map, err);
	if (ret)
		return ret;
	n = map->n_osds;
	calls = bs_xcalloc(n + 1, sizeof(*calls));
	rows = bs_xcalloc(n + 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		calls[i].osd = (int32_t)map->osds[i]->id;
		/* A down OSD is not asked: the map says it is gone. */
		calls[i].addr = map->osds[i]->up ? map->osds[i]->addr : NULL;
		calls[i].type = BS_MSG_OSD_STATFS;
		calls[i].body = &req.base;
	}
	ret = cli_osd_calls(cli, calls, n, OSD_QUERY_INFLIGHT,
			    query_timeout(cli), err);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		rows[i].o = map->osds[i];
		if (!calls[i].res)
			rows[i].st = (const Bs__OsdStatfsReply *)
				calls[i].reply->body;
		else
			rows[i].why = map->osds[i]->up ? "unknown" : "down";
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_arr_begin(&j);
		for (i = 0; i < n; i++)
			df_json(&j, &rows[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		df_print(cli, rows, n);
	}
out:
	cli_osd_call_release(calls, n);
	free(calls);
	free(rows);
	bs__cluster_map__free_unpacked(map, NULL);
	return ret;
}

int cli_pool_usage(struct cli *cli, const Bs__ClusterMap *map,
		   struct cli_pool_usage *out, unsigned *missing,
		   struct bs_error *err)
{
	Bs__OsdStatfs req = BS__OSD_STATFS__INIT;
	struct cli_osd_call *calls;
	size_t i, n = map->n_osds;
	int ret;

	memset(out, 0, map->n_pools * sizeof(*out));
	*missing = 0;
	calls = bs_xcalloc(n + 1, sizeof(*calls));
	for (i = 0; i < n; i++) {
		calls[i].osd = (int32_t)map->osds[i]->id;
		calls[i].addr = map->osds[i]->up ? map->osds[i]->addr : NULL;
		calls[i].type = BS_MSG_OSD_STATFS;
		calls[i].body = &req.base;
	}
	ret = cli_osd_calls(cli, calls, n, OSD_QUERY_INFLIGHT,
			    query_timeout(cli), err);
	for (i = 0; !ret && i < n; i++) {
		const Bs__OsdStatfsReply *st;

		if (!map->osds[i]->up)
			continue;
		if (calls[i].res) {
			(*missing)++;
			continue;
		}
		st = (const Bs__OsdStatfsReply *)calls[i].reply->body;
		for (size_t u = 0; u < st->n_pools; u++)
			for (size_t p = 0; p < map->n_pools; p++) {
				if (map->pools[p]->id != st->pools[u]->pool)
					continue;
				out[p].objects += st->pools[u]->objects;
				out[p].stored += st->pools[u]->stored_bytes;
				out[p].raw += st->pools[u]->raw_bytes;
			}
	}
	cli_osd_call_release(calls, n);
	free(calls);
	return ret;
}

/* --- osd list-objects --------------------------------------------------- */

/* --osd N: the OSD, which must have booted once. */
static int parse_osd(struct cli *cli, const struct bs_osdmap *map,
		     const char *v, const struct bs_osdmap_osd **out,
		     struct bs_error *err)
{
	uint32_t id;
	int ret;

	if (!v)
		return cli_usage(cli, err,
				 "'osd list-objects' needs --osd N (see 'basalt osd ls')");
	if (!strncmp(v, "osd.", 4))
		v += 4;
	ret = cli_parse_u32(cli, "--osd", v, 0, INT32_MAX, &id, err);
	if (ret)
		return ret;
	*out = bs_osdmap_osd(map, (int32_t)id);
	if (!*out)
		return bs_error_set(err, -ENOENT,
				    "osd.%u does not exist (see 'basalt osd ls')",
				    id);
	if (!(*out)->addr || !*(*out)->addr)
		return bs_error_set(err, -ENOTCONN,
				    "osd.%u has never booted: it has no address",
				    id);
	return 0;
}

struct pg_ref {
	uint32_t pool, pg;
	Bs__PgList req;
};

/* The PGs to ask for: --pg, every PG of --pool, or of every pool. */
static int list_targets(struct cli *cli, const struct bs_osdmap *map,
			const struct cli_args *a, struct pg_ref **out,
			size_t *n, struct bs_error *err)
{
	const char *pgs = cli_opt(a, "--pg"), *pool = cli_opt(a, "--pool");
	const struct bs_osdmap_pool *p;
	struct pg_ref *refs;
	uint32_t pid, pg;
	size_t total = 0, k = 0;
	unsigned i;
	int ret;

	if (pgs && pool)
		return cli_usage(cli, err,
				 "'osd list-objects': give --pg or --pool, not both");
	if (pgs) {
		ret = cli_parse_pgid("--pg", pgs, &pid, &pg, err);
		if (ret)
			return ret;
		p = bs_osdmap_pool(map, pid);
		if (!p)
			return bs_error_set(err, -ENOENT,
					    "pg %s: there is no pool %u (see 'basalt pool ls')",
					    pgs, pid);
		if (pg >= p->place.pg_num)
			return bs_error_set(err, -ENOENT,
					    "pg %s does not exist: pool '%s' has %u PGs (0 to %x)",
					    pgs, p->name, p->place.pg_num,
					    p->place.pg_num - 1);
		refs = bs_xcalloc(1, sizeof(*refs));
		refs[0].pool = pid;
		refs[0].pg = pg;
		*out = refs;
		*n = 1;
		return 0;
	}
	if (pool && !cli_find_pool(map, pool, err))
		return -ENOENT;
	for (i = 0; i < map->n_pools; i++) {
		if (!pool || !strcmp(map->pools[i].name, pool))
			total += map->pools[i].place.pg_num;
	}
	refs = bs_xcalloc(total + 1, sizeof(*refs));
	for (i = 0; i < map->n_pools; i++) {
		p = &map->pools[i];
		if (pool && strcmp(p->name, pool))
			continue;
		for (pg = 0; pg < p->place.pg_num; pg++) {
			refs[k].pool = p->id;
			refs[k].pg = pg;
			k++;
		}
	}
	*out = refs;
	*n = k;
	return 0;
}

static int osd_list_objects(struct cli *cli, const struct cli_args *a,
			    struct bs_error *err)
{
	static const char *const heads[] = {
		"PG", "OBJECT", ">VOLUME", ">OBJNUM", ">VERSION", ">SIZE",
	};
	const struct bs_osdmap_osd *osd = NULL;
	struct cli_osd_call *calls = NULL;
	const Bs__PgListReply *r;
	const Bs__PgObject *po;
	struct bs_osdmap *map = NULL;
	struct pg_ref *refs = NULL;
	struct table *t = NULL;
	char pgid[32], name[64], vol[24], num[24], ver[24], size[24];
	uint64_t count = 0;
	size_t n = 0, i, k;
	struct json j = { 0 };
	int ret;

	ret = cli_osdmap(cli, &map, err);
	if (ret)
		return ret;
	ret = parse_osd(cli, map, cli_opt(a, "--osd"), &osd, err);
	if (!ret)
		ret = list_targets(cli, map, a, &refs, &n, err);
	if (ret)
		goto out;
	calls = bs_xcalloc(n + 1, sizeof(*calls));
	for (i = 0; i < n; i++) {
		bs__pg_list__init(&refs[i].req);
		refs[i].req.pool = refs[i].pool;
		refs[i].req.pg = refs[i].pg;
		calls[i].osd = osd->id;
		calls[i].addr = osd->addr;
		calls[i].type = BS_MSG_OSD_PG_LIST;
		calls[i].body = &refs[i].req.base;
	}
	ret = cli_osd_calls(cli, calls, n, OSD_QUERY_INFLIGHT,
			    cli->timeout_ms ? cli->timeout_ms : 10000, err);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		if (calls[i].res) {
			ret = bs_error_set(err, calls[i].res,
					   "cannot list pg %u.%x on osd.%d: %s",
					   refs[i].pool, refs[i].pg, osd->id,
					   calls[i].error);
			goto out;
		}
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_u64(&j, "osd", (uint64_t)osd->id);
		json_key(&j, "objects");
		json_arr_begin(&j);
	} else {
		t = table_new(ARRAY_SIZE(heads), heads);
	}
	for (i = 0; i < n; i++) {
		r = (const Bs__PgListReply *)calls[i].reply->body;
		snprintf(pgid, sizeof(pgid), "%u.%x", refs[i].pool,
			 refs[i].pg);
		for (k = 0; k < r->n_objects; k++) {
			po = r->objects[k];
			if (!po->oid)
				continue;
			count++;
			cli_object_name(po->oid->volume, po->oid->objnum, name,
					sizeof(name));
			if (cli->format == CLI_FORMAT_JSON) {
				json_obj_begin(&j);
				json_kv_str(&j, "pg", pgid);
				json_kv_str(&j, "name", name);
				json_kv_u64(&j, "pool_id", po->oid->pool);
				json_kv_u64(&j, "volume_id", po->oid->volume);
				json_kv_u64(&j, "objnum", po->oid->objnum);
				json_kv_u64(&j, "version", po->version);
				json_kv_u64(&j, "size", po->size);
				json_obj_end(&j);
				continue;
			}
			snprintf(vol, sizeof(vol), "%" PRIu64,
				 po->oid->volume);
			snprintf(num, sizeof(num), "%" PRIu64,
				 po->oid->objnum);
			snprintf(ver, sizeof(ver), "%" PRIx64, po->version);
			snprintf(size, sizeof(size), "%" PRIu64, po->size);
			const char *row[] = { pgid, name, vol, num, ver, size };
			table_add(t, row);
		}
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_arr_end(&j);
		json_kv_u64(&j, "count", count);
		json_obj_end(&j);
		json_end(&j);
	} else {
		table_print(t, cli->out);
		table_free(&t);
	}
out:
	if (calls)
		cli_osd_call_release(calls, n);
	free(calls);
	free(refs);
	bs_osdmap_put(&map);
	return ret;
}

/* --- osd out, in, down, add, rm ----------------------------------------- */

/* "N" or "osd.N" as an OSD id. */
static int parse_osd_id(struct cli *cli, const char *s, uint32_t *id,
			struct bs_error *err)
{
	if (!strncmp(s, "osd.", 4))
		s += 4;
	return cli_parse_u32(cli, "OSD", s, 0, INT32_MAX, id, err);
}

/* Print the outcome of a change to osd.@id. */
static void change_done(struct cli *cli, uint32_t id,
			const Bs__MonCommandReply *r, const char *fallback)
{
	char name[24];
	struct json j;

	if (cli->format == CLI_FORMAT_JSON) {
		snprintf(name, sizeof(name), "osd.%u", id);
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_u64(&j, "osd", id);
		json_kv_str(&j, "name", name);
		json_kv_u64(&j, "epoch", r->epoch);
		json_kv_str(&j, "message", r->message && *r->message ?
			    r->message : fallback);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	if (r->message && *r->message)
		fprintf(cli->out, "%s\n", r->message);
	else
		fprintf(cli->out, "%s\n", fallback);
}

static int osd_mark(struct cli *cli, const struct cli_args *a,
		    Bs__OsdMarkHow how, const char *what,
		    struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark mark = BS__OSD_MARK__INIT;
	Bs__MonCommandReply *reply = NULL;
	char fallback[64];
	uint32_t id;
	int ret;

	ret = parse_osd_id(cli, a->pos[0], &id, err);
	if (ret)
		return ret;
	mark.id = id;
	mark.how = how;
	mark.reason = "by the operator";
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &mark;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	snprintf(fallback, sizeof(fallback), "osd.%u marked %s", id, what);
	change_done(cli, id, reply, fallback);
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static int osd_out(struct cli *cli, const struct cli_args *a,
		   struct bs_error *err)
{
	return osd_mark(cli, a, BS__OSD_MARK_HOW__MARK_OUT, "out", err);
}

static int osd_in(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	return osd_mark(cli, a, BS__OSD_MARK_HOW__MARK_IN, "in", err);
}

static int osd_down(struct cli *cli, const struct cli_args *a,
		    struct bs_error *err)
{
	return osd_mark(cli, a, BS__OSD_MARK_HOW__MARK_DOWN, "down", err);
}

static int osd_add(struct cli *cli, const struct cli_args *a,
		   struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdAdd add = BS__OSD_ADD__INIT;
	Bs__MonCommandReply *reply = NULL;
	const char *v = cli_opt(a, "--id");
	char name[24];
	struct json j;
	uint32_t id;
	int ret;

	if (v) {
		ret = parse_osd_id(cli, v, &id, err);
		if (ret)
			return ret;
		add.with_id = true;
		add.id = id;
	}
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_ADD;
	cmd.osd_add = &add;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	id = reply->osd_id;
	if (cli->format == CLI_FORMAT_JSON) {
		snprintf(name, sizeof(name), "osd.%u", id);
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_u64(&j, "osd", id);
		json_kv_str(&j, "name", name);
		json_kv_u64(&j, "epoch", reply->epoch);
		json_obj_end(&j);
		json_end(&j);
	} else {
		/* the id alone, for scripts: id=$(basalt osd add) */
		fprintf(cli->out, "%u\n", id);
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static int osd_rm(struct cli *cli, const struct cli_args *a,
		  struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdRm rm = BS__OSD_RM__INIT;
	Bs__MonCommandReply *reply = NULL;
	char fallback[64];
	uint32_t id;
	int ret;

	ret = parse_osd_id(cli, a->pos[0], &id, err);
	if (ret)
		return ret;
	if (cli_opt(a, "--force") && !cli_opt(a, "--yes-i-really-mean-it"))
		return bs_error_set(err, -EPERM,
				    "removing osd.%u with --force may lose the only copy of some data: repeat with --yes-i-really-mean-it",
				    id);
	rm.id = id;
	rm.force = cli_opt(a, "--force") != NULL;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_RM;
	cmd.osd_rm = &rm;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	snprintf(fallback, sizeof(fallback), "osd.%u removed", id);
	change_done(cli, id, reply, fallback);
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static int osd_lost(struct cli *cli, const struct cli_args *a,
		    struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdLost lost = BS__OSD_LOST__INIT;
	Bs__MonCommandReply *reply = NULL;
	char fallback[64];
	uint32_t id;
	int ret;

	ret = parse_osd_id(cli, a->pos[0], &id, err);
	if (ret)
		return ret;
	if (!cli_opt(a, "--yes-i-really-mean-it"))
		return bs_error_set(err, -EPERM,
				    "declaring osd.%u lost gives up the writes only it may hold: PGs waiting for it go on without them; bring it back if you can, else repeat with --yes-i-really-mean-it",
				    id);
	lost.id = id;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_LOST;
	cmd.osd_lost = &lost;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	snprintf(fallback, sizeof(fallback), "osd.%u marked lost", id);
	change_done(cli, id, reply, fallback);
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static const struct cli_opt osd_lost_opts[] = {
	{ "--yes-i-really-mean-it", NULL, "confirm: writes only it holds are lost" },
	{ NULL },
};

static const struct cli_opt osd_add_opts[] = {
	{ "--id", "N", "this id (default: the lowest free one)" },
	{ NULL },
};

static const struct cli_opt osd_rm_opts[] = {
	{ "--force", NULL, "even if some PG is not active+clean (may lose data)" },
	{ "--yes-i-really-mean-it", NULL, "needed with --force" },
	{ NULL },
};

static const struct cli_opt list_objects_opts[] = {
	{ "--osd", "N", "the OSD to ask (osd.N or N)" },
	{ "--pg", "PGID", "one PG, POOL_ID.PG in hex as 'object locate' shows it (1.2f)" },
	{ "--pool", "POOL", "every PG of one pool (default: of every pool)" },
	{ NULL },
};

const struct cli_cmd cli_osd_cmds[] = {
	{
		.group = "osd",
		.name = "ls",
		.usage = "",
		.help = "list the OSDs: address, host, up/down, in/out, weight",
		.details = "WEIGHT is the placement weight (the OSD's capacity by default).\n",
		.fn = osd_ls,
	},
	{
		.group = "osd",
		.name = "df",
		.usage = "",
		.help = "capacity, use and objects of every OSD, as each reports it",
		.details = "An OSD that is down is not asked (STATUS down); one that does not\n"
			   "answer within 3 s shows STATUS unknown.\n",
		.fn = osd_df,
	},
	{
		.group = "osd",
		.name = "list-objects",
		.usage = "--osd N [--pg PGID | --pool POOL]",
		.help = "the objects one OSD holds, by PG (its own listing)",
		.details = "Asks the OSD itself (not the map): use it to check where data is.\n",
		.opts = list_objects_opts,
		.fn = osd_list_objects,
	},
	{
		.group = "osd",
		.name = "out",
		.usage = "N",
		.help = "mark an OSD out: its data moves to the others; it stays out until 'osd in'",
		.min_pos = 1,
		.max_pos = 1,
		.fn = osd_out,
	},
	{
		.group = "osd",
		.name = "in",
		.usage = "N",
		.help = "mark an OSD in again: it takes its share of the data",
		.min_pos = 1,
		.max_pos = 1,
		.fn = osd_in,
	},
	{
		.group = "osd",
		.name = "down",
		.usage = "N",
		.help = "mark an OSD down (a running OSD boots again at once)",
		.min_pos = 1,
		.max_pos = 1,
		.fn = osd_down,
	},
	{
		.group = "osd",
		.name = "add",
		.usage = "[--id N]",
		.help = "create an OSD id in the map (down and out until it boots); prints the id",
		.details = "Start basalt-osd with that id to bring it up and in.\n",
		.opts = osd_add_opts,
		.fn = osd_add,
	},
	{
		.group = "osd",
		.name = "rm",
		.usage = "N [--force --yes-i-really-mean-it]",
		.help = "remove a stopped, out OSD from the map",
		.details =
			"Refused while the OSD is up ('stop it first') or in ('osd out' first),\n"
			"and, without --force, until every PG is active+clean without it.\n"
			"The OSD's disk is not touched.\n",
		.opts = osd_rm_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = osd_rm,
	},
	{
		.group = "osd",
		.name = "lost",
		.usage = "N --yes-i-really-mean-it",
		.help = "give up on a down OSD: PGs that wait for it (down) go on without it",
		.details =
			"A PG is down when an interval that may have taken writes has no\n"
			"member up ('basalt pg ls' names the OSD it waits for).  Declaring\n"
			"that OSD lost lets it peer with what the others hold: writes only\n"
			"the lost OSD had are gone.  Refused while the OSD is up; booting it\n"
			"again ends the lost state.\n",
		.opts = osd_lost_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = osd_lost,
	},
	{ 0 },
};
