// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for common/osdmap.c: converting a mon ClusterMap into the
 * data path's map (copies, sorting, lookups, defaults, rejections), and
 * PG / acting set / primary answers that match placement computed
 * directly with bs/placement.h from the same OSDs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bs/osdmap.h"

#define MAX_OSDS	16
#define MAX_POOLS	4

/* A ClusterMap on the stack of the test, filled by the helpers below. */
struct fixture {
	Bs__ClusterMap cm;
	Bs__OsdInfo osd[MAX_OSDS];
	Bs__OsdInfo *osdp[MAX_OSDS];
	Bs__PoolInfo pool[MAX_POOLS];
	Bs__PoolInfo *poolp[MAX_POOLS];
	char host[MAX_OSDS][16];
	char addr[MAX_OSDS][32];
};

static void fx_init(struct fixture *f, uint64_t epoch)
{
	memset(f, 0, sizeof(*f));
	bs__cluster_map__init(&f->cm);
	f->cm.epoch = epoch;
	f->cm.osds = f->osdp;
	f->cm.pools = f->poolp;
}

static Bs__OsdInfo *fx_osd(struct fixture *f, uint32_t id, const char *host,
			   bool up, bool in)
{
	size_t i = f->cm.n_osds++;
	Bs__OsdInfo *o = &f->osd[i];

	assert_true(i < MAX_OSDS);
	bs__osd_info__init(o);
	o->id = id;
	snprintf(f->host[i], sizeof(f->host[i]), "%s", host);
	snprintf(f->addr[i], sizeof(f->addr[i]), "127.0.0.1:%u", 7000 + id);
	o->host = f->host[i];
	o->addr = f->addr[i];
	o->up = up;
	o->in = in;
	o->weight = 1ull << 40;
	o->up_from = 3 + id;
	f->osdp[i] = o;
	return o;
}

static Bs__PoolInfo *fx_pool(struct fixture *f, uint32_t id, const char *name,
			     uint32_t size, uint32_t pg_num,
			     Bs__FailureDomain fd)
{
	size_t i = f->cm.n_pools++;
	Bs__PoolInfo *p = &f->pool[i];

	assert_true(i < MAX_POOLS);
	bs__pool_info__init(p);
	p->id = id;
	p->name = (char *)name;
	p->size = size;
	p->pg_num = pg_num;
	p->failure_domain = fd;
	f->poolp[i] = p;
	return p;
}

static struct bs_osdmap *build(const struct fixture *f)
{
	struct bs_error err = { 0 };
	struct bs_osdmap *map = NULL;
	int ret = bs_osdmap_new(&map, &f->cm, &err);

	if (ret)
		fail_msg("bs_osdmap_new: %d %s", ret, err.msg);
	assert_non_null(map);
	return map;
}

/* Six OSDs on three hosts, given out of order; two pools, out of order. */
static void six_osds(struct fixture *f)
{
	fx_init(f, 42);
	fx_osd(f, 5, "h2", true, true);
	fx_osd(f, 0, "h0", true, true);
	fx_osd(f, 3, "h1", true, true);
	fx_osd(f, 1, "h0", true, true);
	fx_osd(f, 4, "h2", true, true);
	fx_osd(f, 2, "h1", true, true);
	fx_pool(f, 7, "rbd", 3, 64, BS__FAILURE_DOMAIN__FD_HOST);
	fx_pool(f, 2, "fast", 2, 32, BS__FAILURE_DOMAIN__FD_OSD);
}

static void test_osdmap_copies_and_sorts_osds_and_pools(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	const struct bs_osdmap_osd *o;
	const struct bs_osdmap_pool *p;

	six_osds(&f);
	f.osd[0].rack = "r1";		/* host h2: osd.5 and osd.4 */
	f.osd[4].rack = "r1";
	map = build(&f);
	assert_int_equal(map->epoch, 42);
	assert_int_equal(map->n_osds, 6);
	assert_int_equal(map->n_pools, 2);
	for (unsigned i = 0; i < map->n_osds; i++)
		assert_int_equal(map->osds[i].id, (int32_t)i);
	assert_int_equal(map->pools[0].id, 2);
	assert_int_equal(map->pools[1].id, 7);

	o = bs_osdmap_osd(map, 5);
	assert_non_null(o);
	assert_string_equal(o->host, "h2");
	assert_string_equal(o->addr, "127.0.0.1:7005");
	assert_string_equal(o->rack, "r1");
	assert_string_equal(o->site, "");
	assert_int_equal(o->up_from, 8);
	assert_int_equal(o->weight, 1ull << 40);
	assert_true(o->up && o->in);
	assert_null(bs_osdmap_osd(map, 6));
	assert_null(bs_osdmap_osd(map, -1));

	p = bs_osdmap_pool(map, 7);
	assert_non_null(p);
	assert_string_equal(p->name, "rbd");
	assert_int_equal(p->place.size, 3);
	assert_int_equal(p->place.pg_num, 64);
	assert_int_equal(p->place.failure_domain, BS_PLACE_LEVEL_HOST);
	assert_false(p->place.positional);
	assert_false(p->erasure);
	assert_int_equal(p->min_size, 2);	/* default: size - size / 2 */
	assert_ptr_equal(bs_osdmap_pool_by_name(map, "rbd"), p);
	p = bs_osdmap_pool_by_name(map, "fast");
	assert_non_null(p);
	assert_int_equal(p->id, 2);
	assert_int_equal(p->place.failure_domain, BS_PLACE_LEVEL_OSD);
	assert_int_equal(p->min_size, 1);
	assert_null(bs_osdmap_pool(map, 3));
	assert_null(bs_osdmap_pool_by_name(map, "nope"));
	bs_osdmap_put(&map);
	assert_null(map);
}

static void test_osdmap_empty_map_has_no_osds_or_pools(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;

	fx_init(&f, 1);
	map = build(&f);
	assert_int_equal(map->epoch, 1);
	assert_int_equal(map->n_osds, 0);
	assert_null(bs_osdmap_osd(map, 0));
	assert_null(bs_osdmap_pool(map, 1));
	bs_osdmap_put(&map);
}

static void test_osdmap_pg_and_acting_match_placement(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	struct bs_place_map ref;
	struct bs_error err = { 0 };
	int32_t a[BS_PLACE_MAX_SIZE], b[BS_PLACE_MAX_SIZE];

	six_osds(&f);
	f.osd[2].up = false;		/* osd.3 down: stays in its slots */
	map = build(&f);

	/* the same OSDs straight into placement */
	bs_place_map_init(&ref);
	for (int32_t id = 0; id < 6; id++) {
		static const char *const hosts[] = {
			"h0", "h0", "h1", "h1", "h2", "h2",
		};
		struct bs_place_osd o = {
			.id = id, .weight = BS_PLACE_WEIGHT_ONE,
			.up = id != 3, .in = true, .host = hosts[id],
		};

		assert_int_equal(bs_place_map_add_osd(&ref, &o, &err), 0);
	}
	assert_int_equal(bs_place_map_finalize(&ref, &err), 0);

	for (unsigned pi = 0; pi < map->n_pools; pi++) {
		const struct bs_osdmap_pool *pool = &map->pools[pi];

		for (uint64_t obj = 0; obj < 500; obj++) {
			uint32_t pg = bs_osdmap_object_pg(pool, 9, obj);

			assert_true(pg < pool->place.pg_num);
			assert_int_equal(pg, bs_place_object_pg(&pool->place,
								9, obj));
		}
		for (uint32_t pg = 0; pg < pool->place.pg_num; pg++) {
			int n = bs_osdmap_pg_acting(map, pool, pg, a);
			int m = bs_place_pg_acting(&ref, &pool->place, pg, b);
			int prim;

			assert_int_equal(n, (int)pool->place.size);
			assert_int_equal(n, m);
			assert_memory_equal(a, b, (size_t)n * sizeof(a[0]));
			prim = bs_osdmap_pg_primary(map, pool, pg);
			assert_int_equal(prim,
					 bs_place_pg_primary(&ref, &pool->place,
							     pg));
			assert_true(prim >= 0 && prim != 3);
			/* the primary is the first up OSD of the set */
			assert_int_equal(prim, a[0] == 3 ? a[1] : a[0]);
		}
	}
	/* a bad pg number is an error, not a crash */
	assert_true(bs_osdmap_pg_acting(map, &map->pools[0], 1000, a) < 0);
	bs_place_map_release(&ref);
	bs_osdmap_put(&map);
}

static void test_osdmap_host_failure_domain_separates_hosts(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	const struct bs_osdmap_pool *pool;
	int32_t a[BS_PLACE_MAX_SIZE];

	six_osds(&f);
	map = build(&f);
	pool = bs_osdmap_pool_by_name(map, "rbd");
	for (uint32_t pg = 0; pg < pool->place.pg_num; pg++) {
		bool seen[3] = { false, false, false };

		assert_int_equal(bs_osdmap_pg_acting(map, pool, pg, a), 3);
		for (int i = 0; i < 3; i++) {
			const struct bs_osdmap_osd *o = bs_osdmap_osd(map, a[i]);
			int h = o->host[1] - '0';

			assert_false(seen[h]);
			seen[h] = true;
		}
	}
	bs_osdmap_put(&map);
}

static void test_osdmap_no_up_osd_means_no_primary(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	int32_t a[BS_PLACE_MAX_SIZE];

	fx_init(&f, 5);
	fx_osd(&f, 0, "a", false, true);
	fx_osd(&f, 1, "b", false, true);
	fx_pool(&f, 1, "p", 2, 8, BS__FAILURE_DOMAIN__FD_HOST);
	map = build(&f);
	for (uint32_t pg = 0; pg < 8; pg++) {
		assert_int_equal(bs_osdmap_pg_acting(map, &map->pools[0], pg,
						     a), 2);
		assert_int_equal(bs_osdmap_pg_primary(map, &map->pools[0], pg),
				 -ENOENT);
	}
	bs_osdmap_put(&map);
}

static void test_osdmap_out_osd_is_never_placed(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	int32_t a[BS_PLACE_MAX_SIZE];

	six_osds(&f);
	f.osd[1].in = false;		/* osd.0 */
	map = build(&f);
	for (unsigned pi = 0; pi < map->n_pools; pi++)
		for (uint32_t pg = 0; pg < map->pools[pi].place.pg_num; pg++) {
			int n = bs_osdmap_pg_acting(map, &map->pools[pi], pg, a);

			for (int i = 0; i < n; i++)
				assert_int_not_equal(a[i], 0);
		}
	bs_osdmap_put(&map);
}

static void test_osdmap_empty_host_becomes_own_host(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;

	fx_init(&f, 2);
	fx_osd(&f, 4, "", true, true);
	fx_osd(&f, 5, "", true, true);
	fx_pool(&f, 1, "p", 2, 4, BS__FAILURE_DOMAIN__FD_HOST);
	map = build(&f);
	assert_string_equal(bs_osdmap_osd(map, 4)->host, "osd.4");
	assert_int_equal(bs_osdmap_pg_acting(map, &map->pools[0], 0,
					     (int32_t[BS_PLACE_MAX_SIZE]){ 0 }),
			 2);
	bs_osdmap_put(&map);
}

static void expect_reject(const struct fixture *f, int code, const char *part)
{
	struct bs_error err = { 0 };
	struct bs_osdmap *map = (struct bs_osdmap *)1;

	assert_int_equal(bs_osdmap_new(&map, &f->cm, &err), code);
	assert_null(map);
	if (!strstr(err.msg, part))
		fail_msg("error '%s' does not mention '%s'", err.msg, part);
}

static void test_osdmap_rejects_bad_maps(void **state)
{
	struct fixture f;
	Bs__PoolInfo *p;

	six_osds(&f);
	f.osd[3].id = 5;
	expect_reject(&f, -EINVAL, "osd.5 is listed twice");

	six_osds(&f);
	f.pool[1].id = 7;
	expect_reject(&f, -EINVAL, "pool 7 is listed twice");

	six_osds(&f);
	f.pool[0].failure_domain = 99;
	expect_reject(&f, -EINVAL, "unknown failure domain");

	six_osds(&f);
	f.pool[0].pg_num = 0;
	expect_reject(&f, -EINVAL, "pool 'rbd'");

	six_osds(&f);
	f.pool[0].min_size = 4;
	expect_reject(&f, -EINVAL, "min_size 4 is above size 3");

	six_osds(&f);
	f.osd[0].id = 0x80000000u;
	expect_reject(&f, -EINVAL, "out of range");

	/* one host in two racks */
	six_osds(&f);
	f.osd[1].rack = "r1";
	f.osd[3].rack = "r2";
	expect_reject(&f, -EINVAL, "host 'h0'");

	fx_init(&f, 3);
	p = fx_pool(&f, 1, "ec", 0, 8, BS__FAILURE_DOMAIN__FD_HOST);
	p->kind = BS__POOL_KIND__POOL_ERASURE;
	p->ec_k = 1000;
	p->ec_m = 2;
	expect_reject(&f, -EINVAL, "pool 'ec'");

	{
		struct bs_osdmap *map = NULL;

		assert_int_equal(bs_osdmap_new(&map, NULL, NULL), -EINVAL);
		assert_null(map);
	}
}

static void test_osdmap_erasure_pool_is_positional_k_plus_m(void **state)
{
	struct fixture f;
	struct bs_osdmap *map;
	Bs__PoolInfo *p;
	int32_t a[BS_PLACE_MAX_SIZE];

	six_osds(&f);
	p = fx_pool(&f, 9, "ec", 0, 16, BS__FAILURE_DOMAIN__FD_OSD);
	p->kind = BS__POOL_KIND__POOL_ERASURE;
	p->ec_k = 4;
	p->ec_m = 2;
	map = build(&f);
	assert_true(bs_osdmap_pool(map, 9)->erasure);
	assert_true(bs_osdmap_pool(map, 9)->place.positional);
	assert_int_equal(bs_osdmap_pool(map, 9)->place.size, 6);
	assert_int_equal(bs_osdmap_pool(map, 9)->min_size, 5);
	assert_int_equal(bs_osdmap_pool(map, 9)->ec_stripe_unit, 4096);
	assert_int_equal(bs_osdmap_pg_acting(map, bs_osdmap_pool(map, 9), 3, a),
			 6);
	bs_osdmap_put(&map);
}

static void test_osdmap_refcount_frees_on_last_put(void **state)
{
	struct fixture f;
	struct bs_osdmap *map, *ref;

	six_osds(&f);
	map = build(&f);
	ref = bs_osdmap_get(map);
	assert_ptr_equal(ref, map);
	assert_int_equal(map->refs, 2);
	bs_osdmap_put(&ref);
	assert_null(ref);
	assert_int_equal(map->refs, 1);
	bs_osdmap_put(&map);		/* freed: ASan would see a leak else */
	bs_osdmap_put(&map);		/* NULL-safe */
	assert_null(bs_osdmap_get(NULL));
}

static void test_osdmap_place_weight_scale(void **state)
{
	assert_int_equal(bs_osdmap_place_weight(0), 0);
	assert_int_equal(bs_osdmap_place_weight(1), 1);
	assert_int_equal(bs_osdmap_place_weight(1ull << 40),
			 BS_PLACE_WEIGHT_ONE);
	assert_int_equal(bs_osdmap_place_weight(1ull << 30), 64);
	assert_int_equal(bs_osdmap_place_weight(UINT64_MAX), UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_osdmap_copies_and_sorts_osds_and_pools),
		cmocka_unit_test(test_osdmap_empty_map_has_no_osds_or_pools),
		cmocka_unit_test(test_osdmap_pg_and_acting_match_placement),
		cmocka_unit_test(test_osdmap_host_failure_domain_separates_hosts),
		cmocka_unit_test(test_osdmap_no_up_osd_means_no_primary),
		cmocka_unit_test(test_osdmap_out_osd_is_never_placed),
		cmocka_unit_test(test_osdmap_empty_host_becomes_own_host),
		cmocka_unit_test(test_osdmap_rejects_bad_maps),
		cmocka_unit_test(test_osdmap_erasure_pool_is_positional_k_plus_m),
		cmocka_unit_test(test_osdmap_refcount_frees_on_last_put),
		cmocka_unit_test(test_osdmap_place_weight_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
