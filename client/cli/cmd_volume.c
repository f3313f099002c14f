// SPDX-License-Identifier: Apache-2.0
/*
 * basalt volume create | ls | info | resize | rm: volumes live in the mons'
 * directory (not the map, whose epoch they do not move), named POOL/NAME.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/parse.h"

#include "cli.h"

#define VOLUME_SPEC_MAX	300	/* "POOL/NAME": 128 + 1 + 128, and slack */
#define SECTOR		512u
#define OBJECT_MIN	(4u << 10)
#define OBJECT_MAX	(64u << 20)

static void volume_json(struct json *j, const Bs__Volume *v)
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
	json_obj_end(j);
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
	const Bs__Volume *v;
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
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		volume_json(&j, v);
		json_end(&j);
	} else {
		fprintf(cli->out,
			"volume:      %s/%s\n"
			"id:          %" PRIu64 "\n"
			"pool id:     %u\n"
			"size:        %s (%" PRIu64 " bytes)\n"
			"object size: %s\n"
			"objects:     %" PRIu64 "\n"
			"created:     %s\n",
			v->pool, v->name, v->id, v->pool_id,
			bs_format_size(v->size, size, sizeof(size)), v->size,
			bs_format_size(v->object_size, osize, sizeof(osize)),
			v->object_size ? (v->size + v->object_size - 1) /
				v->object_size : 0,
			format_time_us(v->created_us, when, sizeof(when)));
	}
	bs__volume_list__free_unpacked(list, NULL);
	return 0;
}

static int volume_resize(struct cli *cli, const struct cli_args *a,
			 struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__VolumeResize vr = BS__VOLUME_RESIZE__INIT;
	Bs__MonCommandReply *reply = NULL;
	Bs__VolumeList *list = NULL;
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
	bs_format_size(old, from, sizeof(from));
	bs_format_size(vr.size, to, sizeof(to));
	if (vr.size < old && !cli_opt(a, "--allow-shrink"))
		return bs_error_set(err, -EPERM,
				    "shrinking volume '%s/%s' from %s to %s drops its data past %s: repeat with --allow-shrink",
				    pool, name, from, to, to);
	vr.pool = (char *)pool;
	vr.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RESIZE;
	cmd.volume_resize = &vr;
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
			json_kv_u64(&j, "size", vr.size);
			json_obj_end(&j);
		}
		json_end(&j);
	} else {
		fprintf(cli->out, "volume '%s/%s' resized from %s to %s\n",
			pool, name, from, to);
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
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
		.help = "show one volume",
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
	{ 0 },
};
