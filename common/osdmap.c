// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster map as the data path sees it (bs/osdmap.h): the mon's
 * Bs__ClusterMap copied into plain arrays sorted by id plus the placement
 * tree built from it, so that every client and OSD answers "which PG,
 * which OSDs, which primary" alike for one epoch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/ec.h"
#include "bs/osdmap.h"

uint32_t bs_osdmap_place_weight(uint64_t bytes)
{
	uint64_t w = bytes >> 24;	/* 2^40 bytes -> 2^16 */

	if (!bytes)
		return 0;
	if (!w)
		return 1;
	return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void osds_free(struct bs_osdmap *map)
{
	for (unsigned i = 0; i < map->n_osds; i++) {
		free(map->osds[i].addr);
		free(map->osds[i].host);
		free(map->osds[i].rack);
		free(map->osds[i].site);
	}
	bs_free(&map->osds);
}

static void pools_free(struct bs_osdmap *map)
{
	for (unsigned i = 0; i < map->n_pools; i++)
		free(map->pools[i].name);
	bs_free(&map->pools);
}

static void osdmap_free(struct bs_osdmap *map)
{
	bs_place_map_release(&map->place);
	osds_free(map);
	pools_free(map);
	free(map);
}

static int cmp_osd(const void *a, const void *b)
{
	const struct bs_osdmap_osd *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_pool(const void *a, const void *b)
{
	const struct bs_osdmap_pool *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int copy_osds(struct bs_osdmap *map, const Bs__ClusterMap *cm,
		     struct bs_error *err)
{
	if (!cm->n_osds)
		return 0;
	map->osds = calloc(cm->n_osds, sizeof(*map->osds));
	if (!map->osds)
		return bs_error_set(err, -ENOMEM, "out of memory for %zu OSDs",
				    cm->n_osds);
	for (size_t i = 0; i < cm->n_osds; i++) {
		const Bs__OsdInfo *src = cm->osds[i];
		struct bs_osdmap_osd *o = &map->osds[map->n_osds];

		if (!src)
			return bs_error_set(err, -EINVAL,
					    "map epoch %" PRIu64 ": empty OSD entry",
					    cm->epoch);
		if (src->id > (uint32_t)INT32_MAX)
			return bs_error_set(err, -EINVAL,
					    "map epoch %" PRIu64 ": osd id %u is out of range",
					    cm->epoch, src->id);
		map->n_osds++;
		o->id = (int32_t)src->id;
		o->up = src->up;
		o->in = src->in;
		o->weight = src->weight;
		o->up_from = src->up_from;
		o->lost_at = src->lost_at;
		o->addr = dup_or_empty(src->addr);
		/* an OSD that never named its host is a host of its own */
		if (src->host && *src->host) {
			o->host = strdup(src->host);
		} else if (asprintf(&o->host, "osd.%d", o->id) < 0) {
			o->host = NULL;
		}
		o->rack = dup_or_empty(src->rack);
		o->site = dup_or_empty(src->site);
		if (!o->addr || !o->host || !o->rack || !o->site)
			return bs_error_set(err, -ENOMEM,
					    "out of memory copying osd.%d",
					    o->id);
	}
	qsort(map->osds, map->n_osds, sizeof(*map->osds), cmp_osd);
	for (unsigned i = 1; i < map->n_osds; i++)
		if (map->osds[i].id == map->osds[i - 1].id)
			return bs_error_set(err, -EINVAL,
					    "map epoch %" PRIu64 ": osd.%d is listed twice",
					    cm->epoch, map->osds[i].id);
	return 0;
}

static int place_level(Bs__FailureDomain fd, enum bs_place_level *out)
{
	switch (fd) {
	case BS__FAILURE_DOMAIN__FD_HOST:
		*out = BS_PLACE_LEVEL_HOST;
		return 0;
	case BS__FAILURE_DOMAIN__FD_OSD:
		*out = BS_PLACE_LEVEL_OSD;
		return 0;
	case BS__FAILURE_DOMAIN__FD_RACK:
		*out = BS_PLACE_LEVEL_RACK;
		return 0;
	case BS__FAILURE_DOMAIN__FD_SITE:
		*out = BS_PLACE_LEVEL_SITE;
		return 0;
	default:
		return -EINVAL;
	}
}

static int copy_pool(struct bs_osdmap_pool *p, const Bs__PoolInfo *src,
		     uint64_t epoch, struct bs_error *err)
{
	p->id = src->id;
	p->name = strdup(src->name ? src->name : "");
	if (!p->name)
		return bs_error_set(err, -ENOMEM, "out of memory copying pool %u",
				    src->id);
	p->erasure = src->kind == BS__POOL_KIND__POOL_ERASURE;
	p->ec_k = src->ec_k;
	p->ec_m = src->ec_m;
	p->ec_stripe_unit = src->ec_stripe_unit ? src->ec_stripe_unit :
			    BS_EC_UNIT_DEFAULT;
	p->place.id = src->id;
	p->place.pg_num = src->pg_num;
	p->place.size = p->erasure ? src->ec_k + src->ec_m : src->size;
	p->place.positional = p->erasure;
	if (p->erasure && (src->ec_k > BS_PLACE_MAX_SIZE ||
			   src->ec_m > BS_PLACE_MAX_SIZE))
		p->place.size = 0;	/* rejected by the check below */
	if (place_level(src->failure_domain, &p->place.failure_domain))
		return bs_error_set(err, -EINVAL,
				    "map epoch %" PRIu64 ": pool '%s' has unknown failure domain %d",
				    epoch, p->name, src->failure_domain);
	p->min_size = src->min_size;
	if (!p->min_size && p->erasure)	/* k decode, one more to spare */
		p->min_size = p->ec_k + 1 < p->place.size ? p->ec_k + 1 :
			      p->place.size;
	else if (!p->min_size)
		p->min_size = p->place.size - p->place.size / 2;
	if (p->erasure && bs_ec_profile_check(p->ec_k, p->ec_m,
					      p->ec_stripe_unit, err))
		return bs_error_prefix(err, "map epoch %" PRIu64 ": pool '%s': ",
				       epoch, p->name);
	if (bs_place_pool_check(&p->place, err))
		return bs_error_prefix(err, "map epoch %" PRIu64 ": pool '%s': ",
				       epoch, p->name);
	if (p->min_size > p->place.size)
		return bs_error_set(err, -EINVAL,
				    "map epoch %" PRIu64 ": pool '%s': min_size %u is above size %u",
				    epoch, p->name, p->min_size,
				    p->place.size);
	return 0;
}

static int copy_pools(struct bs_osdmap *map, const Bs__ClusterMap *cm,
		      struct bs_error *err)
{
	int ret;

	if (!cm->n_pools)
		return 0;
	map->pools = calloc(cm->n_pools, sizeof(*map->pools));
	if (!map->pools)
		return bs_error_set(err, -ENOMEM, "out of memory for %zu pools",
				    cm->n_pools);
	for (size_t i = 0; i < cm->n_pools; i++) {
		if (!cm->pools[i])
			return bs_error_set(err, -EINVAL,
					    "map epoch %" PRIu64 ": empty pool entry",
					    cm->epoch);
		map->n_pools++;
		ret = copy_pool(&map->pools[i], cm->pools[i], cm->epoch, err);
		if (ret)
			return ret;
	}
	qsort(map->pools, map->n_pools, sizeof(*map->pools), cmp_pool);
	for (unsigned i = 1; i < map->n_pools; i++)
		if (map->pools[i].id == map->pools[i - 1].id)
			return bs_error_set(err, -EINVAL,
					    "map epoch %" PRIu64 ": pool %u is listed twice",
					    cm->epoch, map->pools[i].id);
	return 0;
}

static int build_place(struct bs_osdmap *map, struct bs_error *err)
{
	int ret;

	for (unsigned i = 0; i < map->n_osds; i++) {
		const struct bs_osdmap_osd *o = &map->osds[i];
		struct bs_place_osd po = {
			.id = o->id,
			.weight = bs_osdmap_place_weight(o->weight),
			.up = o->up,
			.in = o->in,
			.host = o->host,
			.rack = o->rack,
			.site = o->site,
		};

		ret = bs_place_map_add_osd(&map->place, &po, err);
		if (ret)
			return bs_error_prefix(err, "map epoch %" PRIu64 ": ",
					       map->epoch);
	}
	ret = bs_place_map_finalize(&map->place, err);
	if (ret)
		return bs_error_prefix(err, "map epoch %" PRIu64 ": ",
				       map->epoch);
	return 0;
}

int bs_osdmap_new(struct bs_osdmap **out, const Bs__ClusterMap *cm,
		  struct bs_error *err)
{
	struct bs_osdmap *map;
	int ret;

	*out = NULL;
	if (!cm)
		return bs_error_set(err, -EINVAL, "no cluster map");
	map = calloc(1, sizeof(*map));
	if (!map)
		return bs_error_set(err, -ENOMEM, "out of memory for a map");
	map->epoch = cm->epoch;
	map->refs = 1;
	bs_place_map_init(&map->place);
	ret = copy_osds(map, cm, err);
	if (!ret)
		ret = copy_pools(map, cm, err);
	if (!ret)
		ret = build_place(map, err);
	if (ret) {
		osdmap_free(map);
		return ret;
	}
	*out = map;
	return 0;
}

struct bs_osdmap *bs_osdmap_get(struct bs_osdmap *map)
{
	if (map)
		map->refs++;
	return map;
}

void bs_osdmap_put(struct bs_osdmap **pmap)
{
	struct bs_osdmap *map = *pmap;

	if (!map)
		return;
	*pmap = NULL;
	if (--map->refs == 0)
		osdmap_free(map);
}

const struct bs_osdmap_osd *bs_osdmap_osd(const struct bs_osdmap *map,
					  int32_t id)
{
	struct bs_osdmap_osd key = { .id = id };

	if (!map || !map->n_osds)
		return NULL;
	return bsearch(&key, map->osds, map->n_osds, sizeof(key), cmp_osd);
}

const struct bs_osdmap_pool *bs_osdmap_pool(const struct bs_osdmap *map,
					    uint32_t id)
{
	struct bs_osdmap_pool key = { .id = id };

	if (!map || !map->n_pools)
		return NULL;
	return bsearch(&key, map->pools, map->n_pools, sizeof(key), cmp_pool);
}

const struct bs_osdmap_pool *bs_osdmap_pool_by_name(const struct bs_osdmap *map,
						    const char *name)
{
	if (!map || !name)
		return NULL;
	for (unsigned i = 0; i < map->n_pools; i++)
		if (!strcmp(map->pools[i].name, name))
			return &map->pools[i];
	return NULL;
}

uint32_t bs_osdmap_object_pg(const struct bs_osdmap_pool *pool,
			     uint64_t volume, uint64_t objnum)
{
	return bs_place_object_pg(&pool->place, volume, objnum);
}

int bs_osdmap_pg_acting(const struct bs_osdmap *map,
			const struct bs_osdmap_pool *pool, uint32_t pg,
			int32_t osds[BS_PLACE_MAX_SIZE])
{
	return bs_place_pg_acting(&map->place, &pool->place, pg, osds);
}

int bs_osdmap_pg_primary(const struct bs_osdmap *map,
			 const struct bs_osdmap_pool *pool, uint32_t pg)
{
	return bs_place_pg_primary(&map->place, &pool->place, pg);
}
