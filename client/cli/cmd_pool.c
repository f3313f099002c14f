// SPDX-License-Identifier: Apache-2.0
/*
 * basalt pool create | ls | rm: pools live in the cluster map, so each
 * change here moves the map epoch by one.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bs/ec.h"
#include "bs/parse.h"
#include "cli.h"

/* Limits the CLI checks before asking; the mons check again. */
#define POOL_MAX_SIZE	16
#define POOL_MAX_PG_NUM	65536

/* raw / stored, or a negative number when nothing is stored */
static double raw_ratio(const struct cli_pool_usage *u)
{
	return u && u->stored ? (double)u->raw / (double)u->stored : -1.0;
}

static void pool_json_usage(struct json *j, const Bs__PoolInfo *p,
			    const struct cli_pool_usage *u)
{
	char when[32];

	json_obj_begin(j);
	json_kv_u64(j, "id", p->id);
	json_kv_str(j, "name", p->name);
	json_kv_str(j, "kind", bs_monc_pool_kind_name(p->kind));
	json_kv_u64(j, "size", p->size);
	json_kv_u64(j, "min_size", p->min_size);
	if (p->kind == BS__POOL_KIND__POOL_ERASURE) {
		json_kv_u64(j, "ec_k", p->ec_k);
		json_kv_u64(j, "ec_m", p->ec_m);
		json_kv_u64(j, "ec_stripe_unit", p->ec_stripe_unit ?
			    p->ec_stripe_unit : BS_EC_UNIT_DEFAULT);
	}
	json_kv_u64(j, "pg_num", p->pg_num);
	json_kv_str(j, "failure_domain",
		    bs_monc_failure_domain_name(p->failure_domain));
	json_kv_str(j, "created", format_time_us(p->created_us, when,
						 sizeof(when)));
	if (u) {
		json_kv_u64(j, "objects", u->objects);
		json_kv_u64(j, "stored", u->stored);
		json_kv_u64(j, "raw", u->raw);
		json_key(j, "raw_ratio");
		if (raw_ratio(u) < 0)
			json_null(j);
		else
			json_double(j, raw_ratio(u), 2);
	}
	json_obj_end(j);
}

static void pool_json(struct json *j, const Bs__PoolInfo *p)
{
	pool_json_usage(j, p, NULL);
}

/* "K+M" -> pc->ec_k, pc->ec_m, checked with bs_ec_profile_check(). */
static int parse_ec(const char *v, Bs__PoolCreate *pc, struct bs_error *err)
{
	unsigned k, m;
	int n = 0;

	if (sscanf(v, "%2u+%1u%n", &k, &m, &n) != 2 || v[n] ||
	    !isdigit((unsigned char)v[0]))
		return bs_error_set(err, -EINVAL,
				    "'--ec': '%s' is not a profile K+M (e.g. 2+1, 4+2, 8+3)",
				    v);
	if (bs_ec_profile_check(k, m, BS_EC_UNIT_DEFAULT, err))
		return bs_error_prefix(err, "'--ec': ");
	pc->ec_k = k;
	pc->ec_m = m;
	return 0;
}

static int pool_create(struct cli *cli, const struct cli_args *a,
		       struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__PoolCreate pc = BS__POOL_CREATE__INIT;
	Bs__MonCommandReply *reply = NULL;
	const char *v;
	struct json j;
	uint64_t su;
	int fd, ret;

	pc.name = (char *)a->pos[0];
	pc.kind = BS__POOL_KIND__POOL_REPLICATED;
	v = cli_opt(a, "--ec");
	if (v) {
		ret = parse_ec(v, &pc, err);
		if (ret)
			return ret;
		if (cli_opt(a, "--size"))
			return cli_usage(cli, err,
					 "'pool create': --size and --ec exclude each other (an erasure-coded pool has k+m shards)");
		pc.kind = BS__POOL_KIND__POOL_ERASURE;
		pc.size = pc.ec_k + pc.ec_m;
		v = cli_opt(a, "--stripe-unit");
		if (v) {
			ret = bs_parse_size("--stripe-unit", v, &su, err);
			if (ret)
				return ret;
			if (su > UINT32_MAX || bs_ec_profile_check(pc.ec_k,
				pc.ec_m, (uint32_t)su, err))
				return bs_error_set(err, -EINVAL,
						    "'--stripe-unit': %s is not a multiple of 4K from 4K to 1M",
						    v);
			pc.ec_stripe_unit = (uint32_t)su;
		}
	} else {
		if (cli_opt(a, "--stripe-unit"))
			return cli_usage(cli, err,
					 "'pool create': --stripe-unit needs --ec K+M");
		v = cli_opt(a, "--size");
		if (!v)
			return cli_usage(cli, err,
					 "'pool create' needs --size N, the number of replicas (e.g. --size 3), or --ec K+M (e.g. --ec 4+2)");
		ret = cli_parse_u32(cli, "--size", v, 1, POOL_MAX_SIZE,
				    &pc.size, err);
		if (ret)
			return ret;
	}
	v = cli_opt(a, "--min-size");
	if (v) {
		ret = cli_parse_u32(cli, "--min-size", v, 1, pc.size,
				    &pc.min_size, err);
		if (ret)
			return ret;
	}
	v = cli_opt(a, "--pg-num");
	if (v) {
		ret = cli_parse_u32(cli, "--pg-num", v, 1, POOL_MAX_PG_NUM,
				    &pc.pg_num, err);
		if (ret)
			return ret;
	}
	v = cli_opt(a, "--failure-domain");
	if (v) {
		if (bs_monc_parse_failure_domain(v, &fd))
			return bs_error_set(err, -EINVAL,
					    "'--failure-domain': '%s' is not a failure domain (use osd or host)",
					    v);
		pc.failure_domain = fd;
	}
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_u64(&j, "epoch", reply->epoch);
		if (reply->pool) {
			json_key(&j, "pool");
			pool_json(&j, reply->pool);
		}
		json_obj_end(&j);
		json_end(&j);
	} else if (reply->pool &&
		   reply->pool->kind == BS__POOL_KIND__POOL_ERASURE) {
		fprintf(cli->out,
			"pool '%s' created: id %u, erasure %u+%u, stripe unit %u, min_size %u, pg_num %u, failure domain %s (epoch %" PRIu64 ")\n",
			reply->pool->name, reply->pool->id, reply->pool->ec_k,
			reply->pool->ec_m, reply->pool->ec_stripe_unit,
			reply->pool->min_size, reply->pool->pg_num,
			bs_monc_failure_domain_name(reply->pool->failure_domain),
			reply->epoch);
	} else if (reply->pool) {
		fprintf(cli->out,
			"pool '%s' created: id %u, size %u, min_size %u, pg_num %u, failure domain %s (epoch %" PRIu64 ")\n",
			reply->pool->name, reply->pool->id, reply->pool->size,
			reply->pool->min_size, reply->pool->pg_num,
			bs_monc_failure_domain_name(reply->pool->failure_domain),
			reply->epoch);
	} else {
		fprintf(cli->out, "pool '%s' created (epoch %" PRIu64 ")\n",
			pc.name, reply->epoch);
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static int pool_ls(struct cli *cli, const struct cli_args *a,
		   struct bs_error *err)
{
	static const char *const heads[] = {
		">ID", "NAME", "KIND", ">SIZE", ">MIN_SIZE", ">PG_NUM",
		"FAILURE_DOMAIN", "CREATED", ">OBJECTS", ">STORED", ">RAW",
		">RAW/STORED",
	};
	Bs__ClusterMap *map = NULL;
	const Bs__PoolInfo *p;
	struct cli_pool_usage *use, *u;
	struct bs_error uerr = { 0 };
	struct table *t;
	char id[16], size[16], min_size[16], pg_num[16], when[32];
	char objs[24], stored[32], raw[32], ratio[16];
	unsigned missing = 0;
	struct json j;
	size_t i;
	int ret;

	ret = cli_get_map(cli, &map, err);
	if (ret)
		return ret;
	/* usage from the OSDs; without it the pools are listed all the same */
	use = bs_xcalloc(map->n_pools + 1, sizeof(*use));
	if (cli_pool_usage(cli, map, use, &missing, &uerr)) {
		free(use);
		use = NULL;
	}
	if (missing)
		fprintf(stderr,
			"basalt: %u OSDs that are up did not answer: their bytes are not counted\n",
			missing);
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_arr_begin(&j);
		for (i = 0; i < map->n_pools; i++)
			pool_json_usage(&j, map->pools[i],
					use ? &use[i] : NULL);
		json_arr_end(&j);
		json_end(&j);
	} else {
		t = table_new(ARRAY_SIZE(heads), heads);
		for (i = 0; i < map->n_pools; i++) {
			p = map->pools[i];
			snprintf(id, sizeof(id), "%u", p->id);
			snprintf(size, sizeof(size), "%u", p->size);
			snprintf(min_size, sizeof(min_size), "%u", p->min_size);
			snprintf(pg_num, sizeof(pg_num), "%u", p->pg_num);
			u = use ? &use[i] : NULL;
			snprintf(objs, sizeof(objs), "%" PRIu64,
				 u ? u->objects : 0);
			format_bytes(u ? u->stored : 0, stored, sizeof(stored));
			format_bytes(u ? u->raw : 0, raw, sizeof(raw));
			if (raw_ratio(u) < 0)
				snprintf(ratio, sizeof(ratio), "-");
			else
				snprintf(ratio, sizeof(ratio), "%.2f",
					 raw_ratio(u));
			const char *row[] = {
				id, p->name, bs_monc_pool_kind_name(p->kind),
				size, min_size, pg_num,
				bs_monc_failure_domain_name(p->failure_domain),
				format_time_us(p->created_us, when,
					       sizeof(when)),
				u ? objs : "-", u ? stored : "-",
				u ? raw : "-", ratio,
			};
			table_add(t, row);
		}
		table_print(t, cli->out);
		table_free(&t);
	}
	free(use);
	bs__cluster_map__free_unpacked(map, NULL);
	return 0;
}

static int pool_rm(struct cli *cli, const struct cli_args *a,
		   struct bs_error *err)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__PoolRm rm = BS__POOL_RM__INIT;
	Bs__MonCommandReply *reply = NULL;
	struct json j;
	int ret;

	if (!cli_opt(a, "--yes-i-really-mean-it"))
		return bs_error_set(err, -EPERM,
				    "removing pool '%s' cannot be undone: repeat with --yes-i-really-mean-it",
				    a->pos[0]);
	rm.name = (char *)a->pos[0];
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_RM;
	cmd.pool_rm = &rm;
	ret = cli_command(cli, &cmd, &reply, err);
	if (ret == -ENOTEMPTY && !strstr(err->msg, "(see "))
		bs_error_set(err, ret,
			     "pool '%s' still has volumes: remove them first (see 'basalt volume ls %s')",
			     rm.name, rm.name);
	if (ret)
		return ret;
	if (cli->format == CLI_FORMAT_JSON) {
		json_init(&j, cli->out);
		json_obj_begin(&j);
		json_kv_u64(&j, "epoch", reply->epoch);
		json_kv_str(&j, "removed", rm.name);
		json_obj_end(&j);
		json_end(&j);
	} else {
		fprintf(cli->out, "pool '%s' removed (epoch %" PRIu64 ")\n",
			rm.name, reply->epoch);
	}
	bs__mon_command_reply__free_unpacked(reply, NULL);
	return 0;
}

static const struct cli_opt pool_create_opts[] = {
	{ "--size", "N", "replicas of each object (1-16)" },
	{ "--ec", "K+M", "erasure-coded: K data + M parity shards (2+1, 4+2, 8+3, ...)" },
	{ "--stripe-unit", "SIZE", "erasure-coded: bytes per shard per stripe (default 4K)" },
	{ "--min-size", "M", "replicas (shards) that must be up for writes (default: size - size/2; K+1 for --ec)" },
	{ "--pg-num", "P", "placement groups (default 32)" },
	{ "--failure-domain", "osd|host", "keep replicas on distinct OSDs or hosts (default host)" },
	{ NULL },
};

static const struct cli_opt pool_rm_opts[] = {
	{ "--yes-i-really-mean-it", NULL, "confirm: the pool's data is lost" },
	{ NULL },
};

const struct cli_cmd cli_pool_cmds[] = {
	{
		.group = "pool",
		.name = "create",
		.usage = "NAME {--size N | --ec K+M [--stripe-unit SIZE]} [--min-size M] [--pg-num P] [--failure-domain osd|host]",
		.help = "create a replicated or erasure-coded pool",
		.details = "NAME is 1 to 128 of A-Z a-z 0-9 _ . -\n",
		.opts = pool_create_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = pool_create,
	},
	{
		.group = "pool",
		.name = "ls",
		.usage = "",
		.help = "list the pools",
		.fn = pool_ls,
	},
	{
		.group = "pool",
		.name = "rm",
		.usage = "NAME --yes-i-really-mean-it",
		.help = "remove an empty pool",
		.opts = pool_rm_opts,
		.min_pos = 1,
		.max_pos = 1,
		.fn = pool_rm,
	},
	{ 0 },
};
