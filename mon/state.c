// SPDX-License-Identifier: Apache-2.0
/*
 * The mon's state machine: applies MonCommands to the cluster map and the
 * volume directory, and encodes/decodes the whole state as a snapshot.
 * Deterministic and free of raft, loops and clocks (see state.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/ec.h"
#include "state.h"

#define NAME_RULE "use 1-128 of A-Z a-z 0-9 _ . -"

/* ---- ownership helpers: every string in the state is ours ---- */

static char *xdup(const char *s)
{
	return bs_xstrdup(s ? s : "");
}

static void free_osd(Bs__OsdInfo *o)
{
	free(o->addr);
	free(o->host);
	free(o->rack);
	free(o->site);
	free(o);
}

static void free_change(Bs__MapChange *c)
{
	if (c->prior)
		free_osd(c->prior);
	free(c);
}

static void free_pool(Bs__PoolInfo *p)
{
	free(p->name);
	free(p->tenant);
	free(p);
}

static void free_volume(Bs__Volume *v)
{
	free(v->name);
	free(v->pool);
	free(v);
}

static Bs__OsdInfo *copy_osd(const Bs__OsdInfo *src)
{
	Bs__OsdInfo *o = bs_xmalloc(sizeof(*o));

	bs__osd_info__init(o);
	o->id = src->id;
	o->addr = xdup(src->addr);
	o->up = src->up;
	o->in = src->in;
	o->weight = src->weight;
	o->host = xdup(src->host);
	o->rack = xdup(src->rack);
	o->site = xdup(src->site);
	o->up_from = src->up_from;
	o->keep_out = src->keep_out;
	o->down_stamp_us = src->down_stamp_us;
	o->sends_beacons = src->sends_beacons;
	o->lost_at = src->lost_at;
	return o;
}

/* What placement needs of @src: the prior state a MapChange keeps. */
static Bs__OsdInfo *copy_osd_placement(const Bs__OsdInfo *src)
{
	Bs__OsdInfo *o = bs_xmalloc(sizeof(*o));

	bs__osd_info__init(o);
	o->id = src->id;
	o->addr = xdup("");
	o->up = src->up;
	o->in = src->in;
	o->weight = src->weight;
	o->host = xdup(src->host);
	o->rack = xdup(src->rack);
	o->site = xdup(src->site);
	o->up_from = src->up_from;
	return o;
}

static Bs__MapChange *copy_change(const Bs__MapChange *src)
{
	Bs__MapChange *c = bs_xmalloc(sizeof(*c));

	bs__map_change__init(c);
	c->epoch = src->epoch;
	c->has_osd = src->has_osd;
	c->osd = src->osd;
	c->prior = src->prior ? copy_osd_placement(src->prior) : NULL;
	c->pool_created = src->pool_created;
	return c;
}

static Bs__PoolInfo *copy_pool(const Bs__PoolInfo *src)
{
	Bs__PoolInfo *p = bs_xmalloc(sizeof(*p));

	bs__pool_info__init(p);
	p->id = src->id;
	p->name = xdup(src->name);
	p->kind = src->kind;
	p->size = src->size;
	p->min_size = src->min_size;
	p->ec_k = src->ec_k;
	p->ec_m = src->ec_m;
	p->ec_stripe_unit = src->ec_stripe_unit;
	p->pg_num = src->pg_num;
	p->failure_domain = src->failure_domain;
	p->created_us = src->created_us;
	p->tenant = xdup(src->tenant);
	return p;
}

static Bs__Volume *copy_volume(const Bs__Volume *src)
{
	Bs__Volume *v = bs_xmalloc(sizeof(*v));

	bs__volume__init(v);
	v->id = src->id;
	v->pool_id = src->pool_id;
	v->name = xdup(src->name);
	v->size = src->size;
	v->object_size = src->object_size;
	v->created_us = src->created_us;
	v->pool = xdup("");
	return v;
}

void mon_state_init(struct mon_state *st)
{
	memset(st, 0, sizeof(*st));
	bs__cluster_map__init(&st->map);
	st->map.epoch = 1;
	st->next_pool_id = 1;
	st->next_volume_id = 1;
}

void mon_state_release(struct mon_state *st)
{
	size_t i;

	for (i = 0; i < st->map.n_osds; i++)
		free_osd(st->map.osds[i]);
	free(st->map.osds);
	for (i = 0; i < st->map.n_pools; i++)
		free_pool(st->map.pools[i]);
	free(st->map.pools);
	for (i = 0; i < st->map.n_history; i++)
		free_change(st->map.history[i]);
	free(st->map.history);
	for (i = 0; i < st->n_volumes; i++)
		free_volume(st->volumes[i]);
	free(st->volumes);
	memset(st, 0, sizeof(*st));
}

/* ---- lookups ---- */

bool mon_name_is_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > MON_NAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

const Bs__PoolInfo *mon_state_pool_by_name(const struct mon_state *st,
					   const char *name)
{
	size_t i;

	for (i = 0; i < st->map.n_pools; i++)
		if (!strcmp(st->map.pools[i]->name, name))
			return st->map.pools[i];
	return NULL;
}

const Bs__PoolInfo *mon_state_pool_by_id(const struct mon_state *st,
					 uint32_t id)
{
	size_t i;

	for (i = 0; i < st->map.n_pools; i++)
		if (st->map.pools[i]->id == id)
			return st->map.pools[i];
	return NULL;
}

static size_t osd_pos(const struct mon_state *st, uint32_t id)
{
	size_t lo = 0, hi = st->map.n_osds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->map.osds[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const Bs__OsdInfo *mon_state_osd(const struct mon_state *st, uint32_t id)
{
	size_t pos = osd_pos(st, id);

	if (pos < st->map.n_osds && st->map.osds[pos]->id == id)
		return st->map.osds[pos];
	return NULL;
}

static int volume_cmp(uint32_t pool_a, const char *name_a,
		      const Bs__Volume *b)
{
	if (pool_a != b->pool_id)
		return pool_a < b->pool_id ? -1 : 1;
	return strcmp(name_a, b->name);
}

/* First position whose (pool_id, name) is >= the key. */
static size_t volume_pos(const struct mon_state *st, uint32_t pool_id,
			 const char *name)
{
	size_t lo = 0, hi = st->n_volumes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (volume_cmp(pool_id, name, st->volumes[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const Bs__Volume *mon_state_volume(const struct mon_state *st,
				   uint32_t pool_id, const char *name)
{
	size_t pos = volume_pos(st, pool_id, name);

	if (pos < st->n_volumes &&
	    !volume_cmp(pool_id, name, st->volumes[pos]))
		return st->volumes[pos];
	return NULL;
}

const Bs__Volume *mon_state_volume_by_id(const struct mon_state *st,
					 uint64_t id)
{
	size_t i;

	for (i = 0; i < st->n_volumes; i++)
		if (st->volumes[i]->id == id)
			return st->volumes[i];
	return NULL;
}

size_t mon_state_pool_volumes(const struct mon_state *st, uint32_t pool_id,
			      size_t *first)
{
	size_t pos = volume_pos(st, pool_id, ""), end = pos;

	while (end < st->n_volumes && st->volumes[end]->pool_id == pool_id)
		end++;
	*first = pos;
	return end - pos;
}

const char *mon_command_name(const Bs__MonCommand *cmd)
{
	switch (cmd->cmd_case) {
	case BS__MON_COMMAND__CMD_POOL_CREATE:
		return "pool_create";
	case BS__MON_COMMAND__CMD_POOL_RM:
		return "pool_rm";
	case BS__MON_COMMAND__CMD_VOLUME_CREATE:
		return "volume_create";
	case BS__MON_COMMAND__CMD_VOLUME_RM:
		return "volume_rm";
	case BS__MON_COMMAND__CMD_VOLUME_RESIZE:
		return "volume_resize";
	case BS__MON_COMMAND__CMD_OSD_BOOT:
		return "osd_boot";
	case BS__MON_COMMAND__CMD_OSD_MARK:
		return "osd_mark";
	case BS__MON_COMMAND__CMD_OSD_ADD:
		return "osd_add";
	case BS__MON_COMMAND__CMD_OSD_RM:
		return "osd_rm";
	case BS__MON_COMMAND__CMD_OSD_LOST:
		return "osd_lost";
	case BS__MON_COMMAND__CMD_MAP_TRIM:
		return "map_trim";
	default:
		return "unknown";
	}
}

/* ---- commands ---- */

static void bump_epoch(struct mon_state *st, const Bs__MonCommand *cmd,
		       struct mon_result *res)
{
	st->map.epoch++;
	st->map.stamp_us = cmd->stamp_us;
	res->map_changed = true;
}

static void dir_changed(struct mon_state *st, struct mon_result *res)
{
	st->dir_version++;
	res->dir_changed = true;
}

static bool str_ok(const char *s)
{
	return strlen(s) <= MON_STR_MAX;
}

/* Failure domains of level @fd (host or osd) among the OSDs that are in. */
static unsigned count_domains(const struct mon_state *st, int fd)
{
	unsigned n = 0;
	size_t i, j;

	for (i = 0; i < st->map.n_osds; i++) {
		const Bs__OsdInfo *o = st->map.osds[i];
		bool seen = false;

		if (!o->in)
			continue;
		if (fd == BS__FAILURE_DOMAIN__FD_HOST) {
			for (j = 0; j < i && !seen; j++)
				seen = st->map.osds[j]->in &&
				       !strcmp(st->map.osds[j]->host, o->host);
		}
		if (!seen)
			n++;
	}
	return n;
}

static int pool_create(struct mon_state *st, const Bs__MonCommand *cmd,
		       struct mon_result *res)
{
	const Bs__PoolCreate *c = cmd->pool_create;
	struct bs_error *err = &res->err;
	uint32_t size, min_size, pg_num;
	Bs__PoolInfo *p;

	if (!mon_name_is_valid(c->name))
		return bs_error_set(err, -EINVAL,
				    "pool name '%.128s' is not valid (" NAME_RULE ")",
				    c->name);
	if (mon_state_pool_by_name(st, c->name))
		return bs_error_set(err, -EEXIST, "pool '%s' already exists",
				    c->name);
	if (c->kind == BS__POOL_KIND__POOL_ERASURE) {
		int ret = bs_ec_profile_check(c->ec_k, c->ec_m,
					      c->ec_stripe_unit ?
					      c->ec_stripe_unit :
					      BS_EC_UNIT_DEFAULT, err);

		if (ret)
			return ret;
		size = c->ec_k + c->ec_m;
		/* k shards decode; one more survives a further loss */
		min_size = c->min_size ? c->min_size : c->ec_k + 1;
		if (min_size > size)
			min_size = size;
		if (min_size < c->ec_k)
			return bs_error_set(err, -EINVAL,
					    "min_size %u is below k = %u: an erasure-coded pool needs at least k shards up",
					    min_size, c->ec_k);
	} else if (c->kind == BS__POOL_KIND__POOL_REPLICATED) {
		size = c->size ? c->size : MON_DEFAULT_SIZE;
		if (size > MON_POOL_MAX_SIZE)
			return bs_error_set(err, -EINVAL,
					    "pool size %u is out of range (1-%u)",
					    size, MON_POOL_MAX_SIZE);
		min_size = c->min_size ? c->min_size : size - size / 2;
	} else {
		return bs_error_set(err, -EINVAL, "unknown pool kind %d",
				    c->kind);
	}
	if (min_size > size)
		return bs_error_set(err, -EINVAL,
				    "min_size %u is larger than size %u",
				    min_size, size);
	pg_num = c->pg_num ? c->pg_num : MON_DEFAULT_PG_NUM;
	if (pg_num > MON_POOL_MAX_PG_NUM)
		return bs_error_set(err, -EINVAL,
				    "pg_num %u is out of range (1-%u)", pg_num,
				    MON_POOL_MAX_PG_NUM);
	if (c->failure_domain != BS__FAILURE_DOMAIN__FD_HOST &&
	    c->failure_domain != BS__FAILURE_DOMAIN__FD_OSD)
		return bs_error_set(err, -EOPNOTSUPP,
				    "failure domain '%s' is not supported yet (use host or osd)",
				    c->failure_domain == BS__FAILURE_DOMAIN__FD_RACK ?
				    "rack" : "site");
	if (c->kind == BS__POOL_KIND__POOL_ERASURE) {
		unsigned n = count_domains(st, c->failure_domain);

		if (n < size)
			return bs_error_set(err, -ENOSPC,
					    "erasure code profile %u+%u needs %u %ss (one per shard) but the cluster has %u in: add %ss or use a smaller profile",
					    c->ec_k, c->ec_m, size,
					    c->failure_domain ==
					    BS__FAILURE_DOMAIN__FD_OSD ?
					    "OSD" : "host", n,
					    c->failure_domain ==
					    BS__FAILURE_DOMAIN__FD_OSD ?
					    "OSD" : "host");
	}

	p = bs_xmalloc(sizeof(*p));
	bs__pool_info__init(p);
	p->id = st->next_pool_id++;
	p->name = xdup(c->name);
	p->kind = c->kind;
	p->size = size;
	if (c->kind == BS__POOL_KIND__POOL_ERASURE) {
		p->ec_k = c->ec_k;
		p->ec_m = c->ec_m;
		p->ec_stripe_unit = c->ec_stripe_unit ? c->ec_stripe_unit :
				    BS_EC_UNIT_DEFAULT;
	}
	p->min_size = min_size;
	p->pg_num = pg_num;
	p->failure_domain = c->failure_domain;
	p->created_us = cmd->stamp_us;
	p->tenant = xdup("");
	/* ids only grow, so appending keeps the array sorted */
	st->map.pools = bs_xrealloc(st->map.pools, (st->map.n_pools + 1) *
				    sizeof(*st->map.pools));
	st->map.pools[st->map.n_pools++] = p;
	bump_epoch(st, cmd, res);
	res->pool_id = p->id;
	snprintf(res->msg, sizeof(res->msg), "pool '%s' created", p->name);
	return 0;
}

static int pool_rm(struct mon_state *st, const Bs__MonCommand *cmd,
		   struct mon_result *res)
{
	const Bs__PoolRm *c = cmd->pool_rm;
	const Bs__PoolInfo *p;
	size_t i, first, n;

	p = mon_state_pool_by_name(st, c->name);
	if (!p)
		return bs_error_set(&res->err, -ENOENT,
				    "pool '%.128s' does not exist", c->name);
	n = mon_state_pool_volumes(st, p->id, &first);
	if (n)
		return bs_error_set(&res->err, -ENOTEMPTY,
				    "pool '%s' still has %zu volume%s; remove them first",
				    p->name, n, n == 1 ? "" : "s");
	snprintf(res->msg, sizeof(res->msg), "pool '%s' removed", p->name);
	for (i = 0; i < st->map.n_pools; i++)
		if (st->map.pools[i] == p)
			break;
	free_pool(st->map.pools[i]);
	memmove(&st->map.pools[i], &st->map.pools[i + 1],
		(st->map.n_pools - i - 1) * sizeof(*st->map.pools));
	st->map.n_pools--;
	bump_epoch(st, cmd, res);
	return 0;
}

static int check_size(uint64_t size, struct bs_error *err)
{
	if (size == 0)
		return bs_error_set(err, -EINVAL,
				    "volume size must be greater than 0");
	if (size % 512)
		return bs_error_set(err, -EINVAL,
				    "volume size %" PRIu64 " is not a multiple of 512 bytes",
				    size);
	if (size > MON_VOLUME_MAX_SIZE)
		return bs_error_set(err, -EFBIG,
				    "volume size %" PRIu64 " is larger than the maximum 1 EiB",
				    size);
	return 0;
}

/* Find "pool/name" for a volume command, or fill @err. */
static int find_volume(const struct mon_state *st, const char *pool,
		       const char *name, const Bs__PoolInfo **pp, size_t *pos,
		       struct bs_error *err)
{
	const Bs__PoolInfo *p = mon_state_pool_by_name(st, pool);

	if (!p)
		return bs_error_set(err, -ENOENT,
				    "pool '%.128s' does not exist", pool);
	*pp = p;
	*pos = volume_pos(st, p->id, name);
	if (*pos >= st->n_volumes ||
	    volume_cmp(p->id, name, st->volumes[*pos]))
		return bs_error_set(err, -ENOENT,
				    "volume '%s/%.128s' does not exist", p->name,
				    name);
	return 0;
}

static int volume_create(struct mon_state *st, const Bs__MonCommand *cmd,
			 struct mon_result *res)
{
	const Bs__VolumeCreate *c = cmd->volume_create;
	struct bs_error *err = &res->err;
	const Bs__PoolInfo *p;
	uint32_t object_size;
	Bs__Volume *v;
	size_t pos;
	int ret;

	p = mon_state_pool_by_name(st, c->pool);
	if (!p)
		return bs_error_set(err, -ENOENT,
				    "pool '%.128s' does not exist", c->pool);
	if (!mon_name_is_valid(c->name))
		return bs_error_set(err, -EINVAL,
				    "volume name '%.128s' is not valid (" NAME_RULE ")",
				    c->name);
	if (mon_state_volume(st, p->id, c->name))
		return bs_error_set(err, -EEXIST,
				    "volume '%s/%s' already exists", p->name,
				    c->name);
	ret = check_size(c->size, err);
	if (ret)
		return ret;
	object_size = c->object_size ? c->object_size :
				       MON_DEFAULT_OBJECT_SIZE;
	if (object_size < MON_MIN_OBJECT_SIZE ||
	    object_size > MON_MAX_OBJECT_SIZE ||
	    (object_size & (object_size - 1)))
		return bs_error_set(err, -EINVAL,
				    "object size %u is not a power of two between 4 KiB and 64 MiB",
				    object_size);

	v = bs_xmalloc(sizeof(*v));
	bs__volume__init(v);
	v->id = st->next_volume_id++;
	v->pool_id = p->id;
	v->name = xdup(c->name);
	v->size = c->size;
	v->object_size = object_size;
	v->created_us = cmd->stamp_us;
	v->pool = xdup("");
	if (st->n_volumes == st->cap_volumes) {
		st->cap_volumes = st->cap_volumes ? 2 * st->cap_volumes : 64;
		st->volumes = bs_xrealloc(st->volumes, st->cap_volumes *
					  sizeof(*st->volumes));
	}
	pos = volume_pos(st, p->id, c->name);
	memmove(&st->volumes[pos + 1], &st->volumes[pos],
		(st->n_volumes - pos) * sizeof(*st->volumes));
	st->volumes[pos] = v;
	st->n_volumes++;
	dir_changed(st, res);
	res->volume_id = v->id;
	snprintf(res->msg, sizeof(res->msg), "volume '%s/%s' created",
		 p->name, v->name);
	return 0;
}

static int volume_rm(struct mon_state *st, const Bs__MonCommand *cmd,
		     struct mon_result *res)
{
	const Bs__VolumeRm *c = cmd->volume_rm;
	const Bs__PoolInfo *p;
	size_t pos;
	int ret;

	ret = find_volume(st, c->pool, c->name, &p, &pos, &res->err);
	if (ret)
		return ret;
	snprintf(res->msg, sizeof(res->msg), "volume '%s/%s' removed",
		 p->name, st->volumes[pos]->name);
	free_volume(st->volumes[pos]);
	memmove(&st->volumes[pos], &st->volumes[pos + 1],
		(st->n_volumes - pos - 1) * sizeof(*st->volumes));
	st->n_volumes--;
	dir_changed(st, res);
	return 0;
}

static int volume_resize(struct mon_state *st, const Bs__MonCommand *cmd,
			 struct mon_result *res)
{
	const Bs__VolumeResize *c = cmd->volume_resize;
	const Bs__PoolInfo *p;
	Bs__Volume *v;
	size_t pos;
	int ret;

	ret = find_volume(st, c->pool, c->name, &p, &pos, &res->err);
	if (ret)
		return ret;
	ret = check_size(c->size, &res->err);
	if (ret)
		return ret;
	v = st->volumes[pos];
	res->volume_id = v->id;
	snprintf(res->msg, sizeof(res->msg),
		 "volume '%s/%s' resized from %" PRIu64 " to %" PRIu64 " bytes",
		 p->name, v->name, v->size, c->size);
	if (v->size != c->size) {
		v->size = c->size;
		dir_changed(st, res);
	}
	return 0;
}

static int osd_boot(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res)
{
	const Bs__OsdBoot *c = cmd->osd_boot;
	struct bs_error *err = &res->err;
	Bs__OsdInfo *o;
	size_t pos;

	if (c->id > MON_OSD_MAX_ID)
		return bs_error_set(err, -EINVAL,
				    "osd id %u is out of range (0-%u)", c->id,
				    MON_OSD_MAX_ID);
	if (!*c->addr || !str_ok(c->addr))
		return bs_error_set(err, -EINVAL,
				    "osd.%u: address is empty or too long",
				    c->id);
	if (!*c->host || !str_ok(c->host) || !str_ok(c->rack) ||
	    !str_ok(c->site))
		return bs_error_set(err, -EINVAL,
				    "osd.%u: host is empty, or host, rack or site is too long",
				    c->id);
	pos = osd_pos(st, c->id);
	if (pos < st->map.n_osds && st->map.osds[pos]->id == c->id) {
		o = st->map.osds[pos];
		free(o->addr);
		free(o->host);
		free(o->rack);
		free(o->site);
	} else {
		o = bs_xmalloc(sizeof(*o));
		bs__osd_info__init(o);
		o->id = c->id;
		o->weight = MON_DEFAULT_OSD_WEIGHT;
		st->map.osds = bs_xrealloc(st->map.osds,
					   (st->map.n_osds + 1) *
					   sizeof(*st->map.osds));
		memmove(&st->map.osds[pos + 1], &st->map.osds[pos],
			(st->map.n_osds - pos) * sizeof(*st->map.osds));
		st->map.osds[pos] = o;
		st->map.n_osds++;
	}
	o->addr = xdup(c->addr);
	o->host = xdup(c->host);
	o->rack = xdup(c->rack);
	o->site = xdup(c->site);
	if (c->weight)
		o->weight = c->weight;
	else if (!o->weight)
		o->weight = MON_DEFAULT_OSD_WEIGHT;	/* added, booted */
	o->sends_beacons = c->sends_beacons;
	o->up = true;
	o->in = !o->keep_out;
	bump_epoch(st, cmd, res);
	o->up_from = st->map.epoch;
	snprintf(res->msg, sizeof(res->msg), "osd.%u up at %s (epoch %" PRIu64 ")",
		 o->id, o->addr, st->map.epoch);
	return 0;
}

static int osd_mark(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res)
{
	const Bs__OsdMark *c = cmd->osd_mark;
	Bs__OsdInfo *o;
	size_t pos = osd_pos(st, c->id);
	bool changed = false;
	const char *what;

	if (pos >= st->map.n_osds || st->map.osds[pos]->id != c->id)
		return bs_error_set(&res->err, -ENOENT,
				    "osd.%u does not exist", c->id);
	o = st->map.osds[pos];
	if (c->up_from && c->up_from != o->up_from) {
		/* the failure detector saw an older incarnation fail */
		snprintf(res->msg, sizeof(res->msg),
			 "osd.%u booted again (up_from %" PRIu64 "): not marked",
			 o->id, o->up_from);
		return 0;
	}
	switch (c->how) {
	case BS__OSD_MARK_HOW__MARK_DOWN:
		what = "down";
		changed = o->up;
		o->up = false;
		if (changed)
			o->down_stamp_us = cmd->stamp_us;
		break;
	case BS__OSD_MARK_HOW__MARK_OUT:
		what = "out";
		changed = o->in || !o->keep_out;
		o->in = false;
		o->keep_out = true;
		break;
	case BS__OSD_MARK_HOW__MARK_IN:
		what = "in";
		changed = !o->in || o->keep_out;
		o->in = true;
		o->keep_out = false;
		break;
	case BS__OSD_MARK_HOW__MARK_OUT_AUTO:
		if (o->up) {
			snprintf(res->msg, sizeof(res->msg),
				 "osd.%u is up: not marked out", o->id);
			return 0;
		}
		what = "out";
		changed = o->in;
		o->in = false;
		break;
	default:
		return bs_error_set(&res->err, -EINVAL,
				    "osd.%u: unknown mark %d", c->id, c->how);
	}
	if (changed)
		bump_epoch(st, cmd, res);
	snprintf(res->msg, sizeof(res->msg), "osd.%u marked %s%s%s%.160s",
		 o->id, what, changed ? "" : " (it already was)",
		 c->reason && *c->reason ? ": " : "",
		 c->reason ? c->reason : "");
	return 0;
}

static int osd_add(struct mon_state *st, const Bs__MonCommand *cmd,
		   struct mon_result *res)
{
	const Bs__OsdAdd *c = cmd->osd_add;
	uint32_t id = 0;
	Bs__OsdInfo *o;
	size_t pos, i;

	if (c->with_id) {
		id = c->id;
		if (id > MON_OSD_MAX_ID)
			return bs_error_set(&res->err, -EINVAL,
					    "osd id %u is out of range (0-%u)",
					    id, MON_OSD_MAX_ID);
		if (mon_state_osd(st, id))
			return bs_error_set(&res->err, -EEXIST,
					    "osd.%u already exists", id);
	} else {
		/* the lowest free id: osds are sorted by id */
		for (i = 0; i < st->map.n_osds && st->map.osds[i]->id == id;
		     i++)
			id++;
		if (id > MON_OSD_MAX_ID)
			return bs_error_set(&res->err, -ENOSPC,
					    "no free osd id (0-%u)",
					    MON_OSD_MAX_ID);
	}
	pos = osd_pos(st, id);
	o = bs_xmalloc(sizeof(*o));
	bs__osd_info__init(o);
	o->id = id;
	o->addr = xdup("");
	o->host = xdup("");
	o->rack = xdup("");
	o->site = xdup("");
	o->weight = 0;		/* its boot gives its capacity */
	st->map.osds = bs_xrealloc(st->map.osds, (st->map.n_osds + 1) *
				   sizeof(*st->map.osds));
	memmove(&st->map.osds[pos + 1], &st->map.osds[pos],
		(st->map.n_osds - pos) * sizeof(*st->map.osds));
	st->map.osds[pos] = o;
	st->map.n_osds++;
	bump_epoch(st, cmd, res);
	res->osd_id = (int32_t)id;
	snprintf(res->msg, sizeof(res->msg),
		 "osd.%u created (down and out until it boots)", id);
	return 0;
}

static int osd_rm(struct mon_state *st, const Bs__MonCommand *cmd,
		  struct mon_result *res)
{
	const Bs__OsdRm *c = cmd->osd_rm;
	size_t pos = osd_pos(st, c->id);
	Bs__OsdInfo *o;

	if (pos >= st->map.n_osds || st->map.osds[pos]->id != c->id)
		return bs_error_set(&res->err, -ENOENT,
				    "osd.%u does not exist", c->id);
	o = st->map.osds[pos];
	if (o->up)
		return bs_error_set(&res->err, -EBUSY,
				    "osd.%u is up: stop it first", o->id);
	if (o->in)
		return bs_error_set(&res->err, -EBUSY,
				    "osd.%u is in: mark it out first ('basalt osd out %u') and wait until every pg is active+clean",
				    o->id, o->id);
	free_osd(o);
	memmove(&st->map.osds[pos], &st->map.osds[pos + 1],
		(st->map.n_osds - pos - 1) * sizeof(*st->map.osds));
	st->map.n_osds--;
	bump_epoch(st, cmd, res);
	snprintf(res->msg, sizeof(res->msg), "osd.%u removed", c->id);
	return 0;
}

static int osd_lost(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res)
{
	const Bs__OsdLost *c = cmd->osd_lost;
	size_t pos = osd_pos(st, c->id);
	Bs__OsdInfo *o;

	if (pos >= st->map.n_osds || st->map.osds[pos]->id != c->id)
		return bs_error_set(&res->err, -ENOENT,
				    "osd.%u does not exist", c->id);
	o = st->map.osds[pos];
	if (o->up)
		return bs_error_set(&res->err, -EBUSY,
				    "osd.%u is up: only a down osd can be declared lost",
				    o->id);
	if (o->lost_at && o->lost_at >= o->up_from) {
		snprintf(res->msg, sizeof(res->msg),
			 "osd.%u is already lost (since epoch %" PRIu64 ")",
			 o->id, o->lost_at);
		return 0;
	}
	bump_epoch(st, cmd, res);
	o->lost_at = st->map.epoch;
	snprintf(res->msg, sizeof(res->msg),
		 "osd.%u marked lost at epoch %" PRIu64, o->id, o->lost_at);
	return 0;
}

static void history_drop(struct mon_state *st, size_t n)
{
	Bs__ClusterMap *m = &st->map;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		free_change(m->history[i]);
	memmove(m->history, m->history + n,
		(m->n_history - n) * sizeof(*m->history));
	m->n_history -= n;
}

static int map_trim(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res)
{
	uint64_t upto = cmd->map_trim->upto;
	size_t n = 0;

	while (n < st->map.n_history && st->map.history[n]->epoch <= upto)
		n++;
	history_drop(st, n);
	snprintf(res->msg, sizeof(res->msg),
		 "map history trimmed to epoch %" PRIu64 " (%zu dropped, %zu kept)",
		 upto, n, st->map.n_history);
	return 0;
}

/* The OSD a command may change, or -1 (osd_add without an id: later). */
static int64_t cmd_osd(const Bs__MonCommand *cmd)
{
	switch (cmd->cmd_case) {
	case BS__MON_COMMAND__CMD_OSD_BOOT:
		return cmd->osd_boot->id;
	case BS__MON_COMMAND__CMD_OSD_MARK:
		return cmd->osd_mark->id;
	case BS__MON_COMMAND__CMD_OSD_ADD:
		return cmd->osd_add->with_id ? (int64_t)cmd->osd_add->id : -1;
	case BS__MON_COMMAND__CMD_OSD_RM:
		return cmd->osd_rm->id;
	case BS__MON_COMMAND__CMD_OSD_LOST:
		return cmd->osd_lost->id;
	default:
		return -1;
	}
}

/*
 * Record what the command that made the current epoch changed: the
 * prior placement of its OSD (@prior, taken; NULL: it did not exist) and
 * the pool it created.  Keeps at most MON_HISTORY_MAX entries.
 */
static void history_add(struct mon_state *st, bool has_osd, uint32_t osd,
			Bs__OsdInfo *prior, uint32_t pool_created)
{
	Bs__ClusterMap *m = &st->map;
	Bs__MapChange *c = bs_xmalloc(sizeof(*c));

	bs__map_change__init(c);
	c->epoch = m->epoch;
	c->has_osd = has_osd;
	c->osd = osd;
	c->prior = prior;
	c->pool_created = pool_created;
	if (m->n_history >= MON_HISTORY_MAX)
		history_drop(st, m->n_history - MON_HISTORY_MAX + 1);
	m->history = bs_xrealloc(m->history,
				 (m->n_history + 1) * sizeof(*m->history));
	m->history[m->n_history++] = c;
}

int mon_state_apply(struct mon_state *st, const Bs__MonCommand *cmd,
		    struct mon_result *res)
{
	const Bs__OsdInfo *o;
	Bs__OsdInfo *prior = NULL;
	int64_t osd = cmd_osd(cmd);
	int ret;

	if (osd >= 0 && (o = mon_state_osd(st, (uint32_t)osd)))
		prior = copy_osd_placement(o);

	memset(res, 0, sizeof(*res));
	res->osd_id = -1;
	switch (cmd->cmd_case) {
	case BS__MON_COMMAND__CMD_POOL_CREATE:
		ret = pool_create(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_POOL_RM:
		ret = pool_rm(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_VOLUME_CREATE:
		ret = volume_create(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_VOLUME_RM:
		ret = volume_rm(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_VOLUME_RESIZE:
		ret = volume_resize(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_OSD_BOOT:
		ret = osd_boot(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_OSD_MARK:
		ret = osd_mark(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_OSD_ADD:
		ret = osd_add(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_OSD_RM:
		ret = osd_rm(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_OSD_LOST:
		ret = osd_lost(st, cmd, res);
		break;
	case BS__MON_COMMAND__CMD_MAP_TRIM:
		ret = map_trim(st, cmd, res);
		break;
	default:
		ret = bs_error_set(&res->err, -EINVAL,
				   "empty or unknown mon command");
		break;
	}
	if (osd < 0 && res->osd_id >= 0)
		osd = res->osd_id;	/* osd_add chose it: new */
	if (res->map_changed)
		history_add(st, osd >= 0, osd >= 0 ? (uint32_t)osd : 0, prior,
			    res->pool_id);
	else if (prior)
		free_osd(prior);
	res->epoch = st->map.epoch;
	return ret;
}

int mon_state_apply_buf(struct mon_state *st, const void *buf, size_t len,
			struct mon_result *res)
{
	Bs__MonCommand *cmd;
	int ret;

	cmd = bs__mon_command__unpack(NULL, len, buf);
	if (!cmd) {
		memset(res, 0, sizeof(*res));
		res->osd_id = -1;
		res->epoch = st->map.epoch;
		return bs_error_set(&res->err, -EBADMSG,
				    "mon command of %zu bytes does not decode",
				    len);
	}
	ret = mon_state_apply(st, cmd, res);
	bs__mon_command__free_unpacked(cmd, NULL);
	return ret;
}

/* ---- snapshots ---- */

static void snapshot_view(const struct mon_state *st, Bs__MonSnapshot *snap)
{
	bs__mon_snapshot__init(snap);
	snap->version = MON_SNAPSHOT_VERSION;
	snap->map = (Bs__ClusterMap *)&st->map;
	snap->n_volumes = st->n_volumes;
	snap->volumes = st->volumes;
	snap->next_pool_id = st->next_pool_id;
	snap->next_volume_id = st->next_volume_id;
	snap->dir_version = st->dir_version;
}

size_t mon_state_encoded_size(const struct mon_state *st)
{
	Bs__MonSnapshot snap;

	snapshot_view(st, &snap);
	return bs__mon_snapshot__get_packed_size(&snap);
}

size_t mon_state_encode(const struct mon_state *st, uint8_t *out)
{
	Bs__MonSnapshot snap;

	snapshot_view(st, &snap);
	return bs__mon_snapshot__pack(&snap, out);
}

/* A decoded snapshot must hold the invariants of struct mon_state. */
static int check_snapshot(const Bs__MonSnapshot *s, struct bs_error *err)
{
	size_t i;

	if (s->version != MON_SNAPSHOT_VERSION)
		return bs_error_set(err, -EINVAL,
				    "mon snapshot version %u is not supported",
				    s->version);
	if (!s->map)
		return bs_error_set(err, -EINVAL, "mon snapshot has no map");
	for (i = 0; i < s->map->n_osds; i++)
		if (i && s->map->osds[i - 1]->id >= s->map->osds[i]->id)
			return bs_error_set(err, -EINVAL,
					    "mon snapshot: osds out of order");
	for (i = 0; i < s->map->n_pools; i++)
		if ((i && s->map->pools[i - 1]->id >= s->map->pools[i]->id) ||
		    s->map->pools[i]->id >= s->next_pool_id)
			return bs_error_set(err, -EINVAL,
					    "mon snapshot: bad pool ids");
	for (i = 0; i < s->map->n_history; i++)
		if ((i && s->map->history[i - 1]->epoch + 1 !=
				  s->map->history[i]->epoch) ||
		    s->map->history[i]->epoch > s->map->epoch ||
		    i >= MON_HISTORY_MAX)
			return bs_error_set(err, -EINVAL,
					    "mon snapshot: bad map history");
	for (i = 0; i < s->n_volumes; i++)
		if ((i && volume_cmp(s->volumes[i - 1]->pool_id,
				     s->volumes[i - 1]->name,
				     s->volumes[i]) >= 0) ||
		    s->volumes[i]->id >= s->next_volume_id)
			return bs_error_set(err, -EINVAL,
					    "mon snapshot: volumes out of order");
	return 0;
}

int mon_state_decode(struct mon_state *st, const void *buf, size_t len,
		     struct bs_error *err)
{
	Bs__MonSnapshot *s;
	struct mon_state n;
	size_t i;
	int ret;

	s = bs__mon_snapshot__unpack(NULL, len, buf);
	if (!s)
		return bs_error_set(err, -EBADMSG,
				    "mon snapshot of %zu bytes does not decode",
				    len);
	ret = check_snapshot(s, err);
	if (ret)
		goto out;
	mon_state_init(&n);
	n.map.epoch = s->map->epoch;
	n.map.stamp_us = s->map->stamp_us;
	n.map.n_osds = s->map->n_osds;
	n.map.osds = bs_xcalloc(s->map->n_osds + 1, sizeof(*n.map.osds));
	for (i = 0; i < s->map->n_osds; i++)
		n.map.osds[i] = copy_osd(s->map->osds[i]);
	n.map.n_pools = s->map->n_pools;
	n.map.pools = bs_xcalloc(s->map->n_pools + 1, sizeof(*n.map.pools));
	for (i = 0; i < s->map->n_pools; i++)
		n.map.pools[i] = copy_pool(s->map->pools[i]);
	n.map.n_history = s->map->n_history;
	n.map.history = bs_xcalloc(s->map->n_history + 1,
				   sizeof(*n.map.history));
	for (i = 0; i < s->map->n_history; i++)
		n.map.history[i] = copy_change(s->map->history[i]);
	n.n_volumes = n.cap_volumes = s->n_volumes;
	n.volumes = bs_xcalloc(s->n_volumes + 1, sizeof(*n.volumes));
	for (i = 0; i < s->n_volumes; i++)
		n.volumes[i] = copy_volume(s->volumes[i]);
	n.next_pool_id = s->next_pool_id;
	n.next_volume_id = s->next_volume_id;
	n.dir_version = s->dir_version;
	mon_state_release(st);
	*st = n;
out:
	bs__mon_snapshot__free_unpacked(s, NULL);
	return ret;
}
