// SPDX-License-Identifier: Apache-2.0
/*
 * basalt object locate POOL/NAME OFFSET: where the byte at OFFSET of a
 * volume lives, computed from the cluster map exactly as clients and OSDs
 * compute it: object number, object name, PG ("1.2f": pool id, PG in
 * hex, as Ceph shows it), acting set and primary.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/parse.h"

#include "cli.h"

#define VOLUME_SPEC_MAX	300

static int object_locate(struct cli *cli, const struct cli_args *a,
			 struct bs_error *err)
{
	int32_t acting[BS_PLACE_MAX_SIZE];
	const struct bs_osdmap_pool *pool;
	const struct bs_osdmap_osd *o;
	Bs__VolumeList *list = NULL;
	struct bs_osdmap *map = NULL;
	const Bs__Volume *v;
	const char *pname, *vname;
	char spec[VOLUME_SPEC_MAX], oname[64], pgid[32], size[32];
	char set[BS_PLACE_MAX_SIZE * 20 + 4], prim[48], *p;
	uint64_t off, objnum;
	uint32_t pg;
	int n, primary, i, ret;
	struct json j;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pname,
			       &vname, err);
	if (ret)
		return ret;
	ret = bs_parse_size("OFFSET", a->pos[1], &off, err);
	if (ret)
		return ret;
	ret = cli_volumes(cli, pname, vname, &list, err);
	if (ret)
		return ret;
	if (list->n_volumes != 1) {
		ret = bs_error_set(err, -ENOENT,
				   "volume '%s/%s' does not exist (see 'basalt volume ls %s')",
				   pname, vname, pname);
		goto out;
	}
	v = list->volumes[0];
	if (off >= v->size) {
		ret = bs_error_set(err, -ERANGE,
				   "offset %" PRIu64 " is past the end of volume '%s/%s' (size %s, %" PRIu64 " bytes)",
				   off, pname, vname,
				   bs_format_size(v->size, size, sizeof(size)),
				   v->size);
		goto out;
	}
	if (!v->object_size) {
		ret = bs_error_set(err, -EPROTO,
				   "volume '%s/%s' has no object size", pname,
				   vname);
		goto out;
	}
	ret = cli_osdmap(cli, &map, err);
	if (ret)
		goto out;
	pool = bs_osdmap_pool(map, v->pool_id);
	if (!pool) {
		ret = bs_error_set(err, -ENOENT,
				   "pool %u of volume '%s/%s' is not in map epoch %" PRIu64,
				   v->pool_id, pname, vname, map->epoch);
		goto out;
	}
	objnum = off / v->object_size;
	pg = bs_osdmap_object_pg(pool, v->id, objnum);
	n = bs_osdmap_pg_acting(map, pool, pg, acting);
	if (n < 0) {
		ret = bs_error_errno(err, n, "cannot place pg %u.%x", pool->id,
				     pg);
		goto out;
	}
	primary = bs_osdmap_pg_primary(map, pool, pg);
	cli_object_name(v->id, objnum, oname, sizeof(oname));
	snprintf(pgid, sizeof(pgid), "%u.%x", pool->id, pg);

	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_str(&j, "pool", pname);
		json_kv_u64(&j, "pool_id", pool->id);
		json_kv_str(&j, "volume", vname);
		json_kv_u64(&j, "volume_id", v->id);
		json_kv_u64(&j, "offset", off);
		json_kv_u64(&j, "object_size", v->object_size);
		json_kv_u64(&j, "objnum", objnum);
		json_kv_u64(&j, "object_offset", off % v->object_size);
		json_kv_str(&j, "name", oname);
		json_kv_str(&j, "pg", pgid);
		json_kv_u64(&j, "epoch", map->epoch);
		json_key(&j, "acting");
		json_arr_begin(&j);
		for (i = 0; i < n; i++)
			json_i64(&j, acting[i]);
		json_arr_end(&j);
		json_key(&j, "up");
		json_arr_begin(&j);
		for (i = 0; i < n; i++) {
			o = bs_osdmap_osd(map, acting[i]);
			if (o && o->up)
				json_i64(&j, acting[i]);
		}
		json_arr_end(&j);
		json_key(&j, "primary");
		if (primary >= 0)
			json_i64(&j, primary);
		else
			json_null(&j);
		json_obj_end(&j);
		json_end(&j);
		goto out;
	}
	p = set;
	*p = '\0';
	for (i = 0; i < n; i++) {
		o = bs_osdmap_osd(map, acting[i]);
		p += snprintf(p, sizeof(set) - (size_t)(p - set), "%s%d%s",
			      i ? "," : "[", acting[i],
			      o && o->up ? "" : "(down)");
	}
	snprintf(p, sizeof(set) - (size_t)(p - set), "%s", n ? "]" : "[]");
	if (primary >= 0)
		snprintf(prim, sizeof(prim), "osd.%d", primary);
	else
		snprintf(prim, sizeof(prim), "none (no OSD of the set is up)");
	fprintf(cli->out,
		"volume '%s/%s' offset %" PRIu64 ": object %" PRIu64
		" (%s) offset %" PRIu64 "\n"
		"pg %s, map epoch %" PRIu64 ": acting %s, primary %s\n",
		pname, vname, off, objnum, oname, off % v->object_size, pgid,
		map->epoch, set, prim);
out:
	bs_osdmap_put(&map);
	bs__volume_list__free_unpacked(list, NULL);
	return ret;
}

const struct cli_cmd cli_object_cmds[] = {
	{
		.group = "object",
		.name = "locate",
		.usage = "POOL/NAME OFFSET",
		.help = "where the byte at OFFSET of a volume is: object, PG, OSDs",
		.details = "OFFSET is in bytes (K, M, G, T suffixes).  The PG id is POOL_ID.PG\n"
			   "in hex (1.2f), as 'osd list-objects --pg' takes it.  Computed\n"
			   "from the current map, as every client and OSD computes it.\n",
		.min_pos = 2,
		.max_pos = 2,
		.fn = object_locate,
	},
	{ 0 },
};
