// SPDX-License-Identifier: Apache-2.0
/*
 * basalt volume create | ls | info | resize | rm: volumes live in the mons'
 * directory (not the map, whose epoch they do not move), named POOL/NAME.
 * Shrinking goes through libbasalt, which frees the data past the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "basalt.h"
#include "bs/parse.h"

#include "cli.h"

#define VOLUME_SPEC_MAX	300	/* "POOL/NAME": 128 + 1 + 128, and slack */
#define SECTOR		512u
#define OBJECT_MIN	(4u << 10)
#define OBJECT_MAX	(64u << 20)

/* Bytes in use of a volume, when the data path can tell. */
struct used {
	bool known;
	uint64_t bytes;
	char why[BS_ERROR_MSG_MAX];	/* !known: the reason */
};

static void volume_json_used(struct json *j, const Bs__Volume *v,
			     const struct used *u)
{
	char when[32];

	json_obj_begin(j);
	json_kv_str(j, "pool", v->pool);
	json_kv_str(j, "name", v->name);
	json_kv_u64(j, "id", v->id);
	json_kv_u64(j, "pool_id", v->pool_id);
	json_kv_u64(j, "size", v->size);
	json_kv_u64(j, "object_size", v->object_size);
	json_kv_u64(j, "objects", v->object_size ?
		    (v->size + v->object_size - 1) / v->object_size : 0);
	json_kv_str(j, "created", format_time_us(v->created_us, when,
						 sizeof(when)));
	if (u) {
		json_key(j, "used");
		if (u->known)
			json_u64(j, u->bytes);
		else
			json_null(j);
		if (!u->known)
			json_kv_str(j, "used_error", u->why);
	}
	json_obj_end(j);
}

static void volume_json(struct json *j, const Bs__Volume *v)
{
	volume_json_used(j, v, NULL);
}

/*
 * Used bytes of @v: the sum of its allocated extents (libbasalt block
 * status: one EXTENTS query per object, batched).  Only asked when every
 * PG of the pool has a primary up, so that a cluster without OSDs answers
 * at once ("unknown") instead of waiting for one.
 */
static void volume_used(struct cli *cli, const Bs__Volume *v, struct used *u)
{
	struct basalt_cluster *cluster = NULL;
	struct basalt_volume *vol = NULL;
	const struct bs_osdmap_pool *pool;
	struct bs_osdmap *map = NULL;
	struct bs_error err = { 0 };
	char spec[VOLUME_SPEC_MAX];
	uint32_t pg, down = 0;

	u->known = false;
	if (cli_osdmap(cli, &map, &err)) {
		snprintf(u->why, sizeof(u->why), "%s", err.msg);
		return;
	}
	pool = bs_osdmap_pool(map, v->pool_id);
	for (pg = 0; pool && pg < pool->place.pg_num; pg++)
		down += bs_osdmap_pg_primary(map, pool, pg) < 0;
	if (!pool || !map->n_osds || down) {
		snprintf(u->why, sizeof(u->why),
			 !map->n_osds ? "the cluster has no OSDs" :
			 "%u PGs of pool '%s' have no OSD up", down, v->pool);
		bs_osdmap_put(&map);
		return;
	}
	bs_osdmap_put(&map);
	snprintf(spec, sizeof(spec), "%s/%s", v->pool, v->name);
	if (cli_data_open(cli, spec, &cluster, &vol, &err) ||
	    cli_data_used(vol, v->size, &u->bytes, &err))
		snprintf(u->why, sizeof(u->why), "%s", err.msg);
	else
		u->known = true;
	cli_data_close(&cluster, &vol);
}

/* --size: a size, whole sectors, not 0. */
static int parse_volume_size(struct cli *cli, const struct cli_args *a,
			     uint64_t *size, struct bs_error *err)
{
	const char *v = cli_opt(a, "--size");
	char title[64];
	int ret;

	if (!v)
		return cli_usage(cli, err,
				 "'%s' needs --size SIZE (e.g. --size 10G)",
				 cli_cmd_title(a->cmd, title, sizeof(title)));
	ret = bs_parse_size("--size", v, size, err);
	if (ret)
		return ret;
	if (*size == 0 || *size % SECTOR)
		return bs_error_set(err, -EINVAL,
				    "'--size': '%s' must be a positive multiple of 512 bytes",
				    v);
	return 0;
}

static int volume_create(struct cli *cli, const struct cli_args *a,
			 struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeCreate vc = BS__VOLUME_CREATE__INIT;
	Bs__MonCommandReply *reply = NULL;
	const char *pool, *name, *v;
	char spec[VOLUME_SPEC_MAX], size[32];
	uint64_t osize;
	struct json j;
	int ret;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pool,
			       &name, err);
	if (ret)
		return ret;
	ret = parse_volume_size(cli, a, &vc.size, err);
	if (ret)
		return ret;
	v = cli_opt(a, "--object-size");
	if (v) {
		ret = bs_parse_size("--object-size", v, &osize, err);
		if (ret)
			return ret;
		if (osize < OBJECT_MIN || osize > OBJECT_MAX ||
		    (osize & (osize - 1)))
			return bs_error_set(err, -EINVAL,
					    "'--object-size': '%s' must be a power of two from 4K to 64M",
					    v);
		vc.object_size = (uint32_t)osize;
	}
	vc.pool = (char *)pool;
	vc.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_CREATE;
	cmd.volume_create = &vc;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		if (reply->volume) {
			volume_json(&j, reply->volume);
		} else {
			json_obj_begin(&j);
			json_kv_str(&j, "pool", pool);
			json_kv_str(&j, "name", name);
			json_kv_u64(&j, "size", vc.size);
			json_obj_end(&j);
		}
		json_end(&j);
	} else {
		fprintf(cli->out, "volume '%s/%s' created: %s\n", pool, name,
			bs_format_size(vc.size, size, sizeof(size)));
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static int volume_ls(struct cli *cli, const struct cli_args *a,
		     struct bs_error *err)
{
	static const char *const heads[] = {
		"POOL", "NAME", ">SIZE", ">OBJECT_SIZE", ">ID", "CREATED",
	};
	Bs__VolumeList *list = NULL;
	const Bs__Volume *v;
	char size[32], osize[32], id[24], when[32];
	struct table *t;
	struct json j;
	size_t i;
	int ret;

	if (a->npos && strchr(a->pos[0], '/'))
		return cli_usage(cli, err,
				 "'volume ls' takes a pool, not '%s' (see 'basalt volume info POOL/NAME')",
				 a->pos[0]);
	ret = cli_volumes(cli, a->npos ? a->pos[0] : NULL, NULL, &list, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_arr_begin(&j);
		for (i = 0; i < list->n_volumes; i++)
			volume_json(&j, list->volumes[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		t = table_new(ARRAY_SIZE(heads), heads);
		for (i = 0; i < list->n_volumes; i++) {
			v = list->volumes[i];
			snprintf(id, sizeof(id), "%" PRIu64, v->id);
			const char *row[] = {
				v->pool, v->name,
				bs_format_size(v->size, size, sizeof(size)),
				bs_format_size(v->object_size, osize,
					       sizeof(osize)),
				id,
				format_time_us(v->created_us, when,
					       sizeof(when)),
			};
			table_add(t, row);
		}
		table_print(t, cli->out);
		table_free(&t);
	}
	bs__volume_list__free_unpacked(list, NULL);
	return 0;
}

/* The one volume @pool/@name, or -ENOENT with advice. */
static int get_one(struct cli *cli, const char *pool, const char *name,
		   Bs__VolumeList **list, struct bs_error *err)
{
	int ret;

	ret = cli_volumes(cli, pool, name, list, err);
	if (ret)
		return ret;
	if ((*list)->n_volumes != 1) {
		bs__volume_list__free_unpacked(*list, NULL);
		*list = NULL;
		return bs_error_set(err, -ENOENT,
				    "volume '%s/%s' does not exist (see 'basalt volume ls %s')",
				    pool, name, pool);
	}
	return 0;
}

static int volume_info(struct cli *cli, const struct cli_args *a,
		       struct bs_error *err)
{
	Bs__VolumeList *list = NULL;
	const char *pool, *name;
	char spec[VOLUME_SPEC_MAX], size[32], osize[32], when[32];
	char used[BS_ERROR_MSG_MAX + 64], ub[32];
	const Bs__Volume *v;
	struct used u = { 0 };
	struct json j;
	int ret;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pool,
			       &name, err);
	if (ret)
		return ret;
	ret = get_one(cli, pool, name, &list, err);
	if (ret)
		return ret;
	v = list->volumes[0];
	volume_used(cli, v, &u);
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		volume_json_used(&j, v, &u);
		json_end(&j);
	} else {
		if (u.known)
			snprintf(used, sizeof(used), "%s (%" PRIu64 " bytes, %.1f%%)",
				 format_bytes(u.bytes, ub, sizeof(ub)), u.bytes,
				 v->size ? 100.0 * (double)u.bytes /
				 (double)v->size : 0.0);
		else
			snprintf(used, sizeof(used), "unknown (%s)", u.why);
		fprintf(cli->out,
			"volume:      %s/%s\n"
			"id:          %" PRIu64 "\n"
			"pool id:     %u\n"
			"size:        %s (%" PRIu64 " bytes)\n"
			"used:        %s\n"
			"object size: %s\n"
			"objects:     %" PRIu64 "\n"
			"created:     %s\n",
			v->pool, v->name, v->id, v->pool_id,
			bs_format_size(v->size, size, sizeof(size)), v->size,
			used,
			bs_format_size(v->object_size, osize, sizeof(osize)),
			v->object_size ? (v->size + v->object_size - 1) /
				v->object_size : 0,
			format_time_us(v->created_us, when, sizeof(when)));
	}
	bs__volume_list__free_unpacked(list, NULL);
	return 0;
}

/*
 * Shrink @spec to @size through libbasalt, which first frees the data
 * past the new end on the OSDs (so that a later grow never shows it
 * again), then tells the mons.  A cluster with no OSD in its map holds
 * no data: then only the mons are told.  On success *@entry is the
 * volume's new directory entry.
 */
static int volume_shrink(struct cli *cli, const char *spec, const char *pool,
			 const char *name, uint64_t size,
			 Bs__VolumeList **entry, struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeResize vr = BS__VOLUME_RESIZE__INIT;
	Bs__MonCommandReply *reply = NULL;
	struct basalt_cluster *cluster = NULL;
	struct basalt_volume *vol = NULL;
	Bs__ClusterMap *map = NULL;
	size_t nosds;
	int ret;

	ret = cli_get_map(cli, &map, err);
	if (ret)
		return ret;
	nosds = map->n_osds;
	bs__cluster_map__free_unpacked(map, NULL);
	if (!nosds) {
		vr.pool = (char *)pool;
		vr.name = (char *)name;
		vr.size = size;
		cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RESIZE;
		cmd.volume_resize = &vr;
		ret = cli_command(cli, &cmd, &reply, err);
		if (ret)
			return ret;
		bs__mon_command_reply__free_unpacked(reply, NULL);
	} else {
		ret = cli_data_open(cli, spec, &cluster, &vol, err);
		if (ret)
			return bs_error_prefix(err, "cannot shrink volume '%s': ",
					       spec);
		ret = basalt_resize(vol, size);
		if (ret)
			bs_error_set(err, ret, "%s", basalt_get_error());
		cli_data_close(&cluster, &vol);
		if (ret)
			return ret;
	}
	return get_one(cli, pool, name, entry, err);
}

static int volume_resize(struct cli *cli, const struct cli_args *a,
			 struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeResize vr = BS__VOLUME_RESIZE__INIT;
	Bs__MonCommandReply *reply = NULL;
	Bs__VolumeList *list = NULL;
	const Bs__Volume *entry = NULL;
	const char *pool, *name;
	char spec[VOLUME_SPEC_MAX], from[32], to[32];
	uint64_t old;
	struct json j;
	int ret;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pool,
			       &name, err);
	if (ret)
		return ret;
	ret = parse_volume_size(cli, a, &vr.size, err);
	if (ret)
		return ret;
	ret = get_one(cli, pool, name, &list, err);
	if (ret)
		return ret;
	old = list->volumes[0]->size;
	bs__volume_list__free_unpacked(list, NULL);
	list = NULL;
	bs_format_size(old, from, sizeof(from));
	bs_format_size(vr.size, to, sizeof(to));
	if (vr.size < old && !cli_opt(a, "--allow-shrink"))
		return bs_error_set(err, -EPERM,
				    "shrinking volume '%s/%s' from %s to %s drops its data past %s: repeat with --allow-shrink",
				    pool, name, from, to, to);
	if (vr.size < old) {
		ret = volume_shrink(cli, a->pos[0], pool, name, vr.size,
				    &list, err);
		if (ret)
			return ret;
		entry = list->volumes[0];
	} else {
		vr.pool = (char *)pool;
		vr.name = (char *)name;
		cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RESIZE;
		cmd.volume_resize = &vr;
		ret = cli_command(cli, &cmd, &reply, err);
		if (ret)
			return ret;
		entry = reply->volume;
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		if (entry) {
			volume_json(&j, entry);
		} else {
			json_obj_begin(&j);
			json_kv_str(&j, "pool", pool);
			json_kv_str(&j, "name", name);
			json_kv_u64(&j, "size", vr.size);
			json_obj_end(&j);
		}
		json_end(&j);
	} else {
		fprintf(cli->out, "volume '%s/%s' resized from %s to %s\n",
			pool, name, from, to);
	}
	if (reply)
		bs__mon_command_reply__free_unpacked(reply, NULL);
	if (list)
		bs__volume_list__free_unpacked(list, NULL);
	return 0;
}

static int volume_rm(struct cli *cli, const struct cli_args *a,
		     struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeRm rm = BS__VOLUME_RM__INIT;
	Bs__MonCommandReply *reply = NULL;
	const char *pool, *name;
	char spec[VOLUME_SPEC_MAX];
	struct json j;
	int ret;

	ret = cli_split_volume(cli, a->pos[0], spec, sizeof(spec), &pool,
			       &name, err);
	if (ret)
		return ret;
	rm.pool = (char *)pool;
	rm.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RM;
	cmd.volume_rm = &rm;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_str(&j, "removed", a->pos[0]);
		json_obj_end(&j);
		json_end(&j);
	} else {
		fprintf(cli->out, "volume '%s/%s' removed\n", pool, name);
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static const struct cli_opt volume_create_opts[] = {
	{ "--size", "SIZE", "size in bytes, or with K, M, G, T (powers of 1024)" },
	{ "--object-size", "SIZE", "object size, a power of two from 4K to 64M (default 4M)" },
	{ NULL },
};

static const struct cli_opt volume_import_opts[] = {
	{ "--size", "SIZE", "volume size (default: the file's, rounded up to 512; needed for '-')" },
	{ "--object-size", "SIZE", "object size, a power of two from 4K to 64M (default 4M)" },
	{ "--iodepth", "N", "4 MiB chunks in flight, 1-64 (default 8)" },
	{ NULL },
};

static const struct cli_opt volume_export_opts[] = {
	{ "--force", NULL, "overwrite FILE if it exists" },
	{ "--iodepth", "N", "4 MiB chunks in flight, 1-64 (default 8)" },
	{ NULL },
};

static const struct cli_opt volume_resize_opts[] = {
	{ "--size", "SIZE", "the new size (K, M, G, T)" },
	{ "--allow-shrink", NULL, "allow a smaller size: data past it is lost" },
	{ NULL },
};

const struct cli_cmd cli_volume_cmds[] = {
	{
		.group = "volume",
		.name = "create",
		.usage = "POOL/NAME --size SIZE [--object-size SIZE]",
		.help = "create a thin volume",
		.details = "NAME is 1 to 128 of A-Z a-z 0-9 _ . -\n",
		.opts = volume_create_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = volume_create,
	},
	{
		.group = "volume",
		.name = "ls",
		.usage = "[POOL]",
		.help = "list the volumes of one pool, or of every pool",
		.max_pos = 1,
		.fn = volume_ls,
	},
	{
		.group = "volume",
		.name = "info",
		.usage = "POOL/NAME",
		.help = "show one volume, with the bytes it uses",
		.details = "USED is what is allocated (written and not discarded), asked of\n"
			   "the OSDs; 'unknown' when some PG of the pool has no OSD up.\n",
		.min_pos = 1,
		.max_pos = 1,
		.fn = volume_info,
	},
	{
		.group = "volume",
		.name = "resize",
		.usage = "POOL/NAME --size SIZE [--allow-shrink]",
		.help = "grow (or, with --allow-shrink, shrink) a volume",
		.opts = volume_resize_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = volume_resize,
	},
	{
		.group = "volume",
		.name = "rm",
		.usage = "POOL/NAME",
		.help = "remove a volume and its data",
		.min_pos = 1,
		.max_pos = 1,
		.fn = volume_rm,
	},
	{
		.group = "volume",
		.name = "import",
		.usage = "FILE POOL/NAME [--size SIZE]",
		.help = "create a volume from a file (or '-', stdin), skipping zeros",
		.details = "Blocks of 4 KiB that are all zero are not written: the volume stays\n"
			   "thin.  On failure the new volume is removed.  A progress bar shows\n"
			   "on a terminal.\n",
		.opts = volume_import_opts,
		.min_pos = 2,
		.max_pos = 2,
		.fn = volume_import,
	},
	{
		.group = "volume",
		.name = "export",
		.usage = "POOL/NAME FILE",
		.help = "copy a volume to a file (sparse) or to '-', stdout",
		.details = "Only allocated ranges are read.  A regular file gets holes where\n"
			   "the volume has holes or zeros; a pipe or device gets every byte.\n"
			   "FILE must not exist unless --force.\n",
		.opts = volume_export_opts,
		.min_pos = 2,
		.max_pos = 2,
		.fn = volume_export,
	},
	{ 0 },
};
