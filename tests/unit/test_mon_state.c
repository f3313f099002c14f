// SPDX-License-Identifier: Apache-2.0
/*
 * The mon state machine (mon/state.c): every command, every refusal,
 * epoch bumps only on map changes, snapshot round trips, determinism.
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

#include "state.h"

#define STAMP 1700000000000000ull

/* ---- command builders (stack storage, one command at a time) ---- */

static Bs__MonCommand cmd;
static Bs__PoolCreate pc;
static Bs__PoolRm prm;
static Bs__VolumeCreate vc;
static Bs__VolumeRm vrm;
static Bs__VolumeResize vrs;
static Bs__OsdBoot ob;
static Bs__OsdMark om;
static struct mon_result res;

static void cmd_reset(void)
{
	bs__mon_command__init(&cmd);
	cmd.stamp_us = STAMP;
}

static int pool_create(struct mon_state *st, const char *name, uint32_t size,
		       uint32_t min_size, uint32_t pg_num)
{
	cmd_reset();
	bs__pool_create__init(&pc);
	pc.name = (char *)name;
	pc.size = size;
	pc.min_size = min_size;
	pc.pg_num = pg_num;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	return mon_state_apply(st, &cmd, &res);
}

static int pool_rm(struct mon_state *st, const char *name)
{
	cmd_reset();
	bs__pool_rm__init(&prm);
	prm.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_RM;
	cmd.pool_rm = &prm;
	return mon_state_apply(st, &cmd, &res);
}

static int vol_create(struct mon_state *st, const char *pool,
		      const char *name, uint64_t size)
{
	cmd_reset();
	bs__volume_create__init(&vc);
	vc.pool = (char *)pool;
	vc.name = (char *)name;
	vc.size = size;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_CREATE;
	cmd.volume_create = &vc;
	return mon_state_apply(st, &cmd, &res);
}

static int vol_rm(struct mon_state *st, const char *pool, const char *name)
{
	cmd_reset();
	bs__volume_rm__init(&vrm);
	vrm.pool = (char *)pool;
	vrm.name = (char *)name;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RM;
	cmd.volume_rm = &vrm;
	return mon_state_apply(st, &cmd, &res);
}

static int vol_resize(struct mon_state *st, const char *pool,
		      const char *name, uint64_t size)
{
	cmd_reset();
	bs__volume_resize__init(&vrs);
	vrs.pool = (char *)pool;
	vrs.name = (char *)name;
	vrs.size = size;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_RESIZE;
	cmd.volume_resize = &vrs;
	return mon_state_apply(st, &cmd, &res);
}

static int osd_boot(struct mon_state *st, uint32_t id, const char *addr,
		    const char *host, uint64_t weight)
{
	cmd_reset();
	bs__osd_boot__init(&ob);
	ob.id = id;
	ob.addr = (char *)addr;
	ob.host = (char *)host;
	ob.weight = weight;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &ob;
	return mon_state_apply(st, &cmd, &res);
}

static int osd_mark(struct mon_state *st, uint32_t id, Bs__OsdMarkHow how)
{
	cmd_reset();
	bs__osd_mark__init(&om);
	om.id = id;
	om.how = how;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &om;
	return mon_state_apply(st, &cmd, &res);
}

static int setup(void **state)
{
	struct mon_state *st = calloc(1, sizeof(*st));

	mon_state_init(st);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	mon_state_release(*state);
	free(*state);
	return 0;
}

/* ---- the empty state ---- */

static void test_state_init_is_epoch_1_and_empty(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(st->map.epoch, 1);
	assert_int_equal(st->map.n_osds, 0);
	assert_int_equal(st->map.n_pools, 0);
	assert_int_equal(st->n_volumes, 0);
}

static void test_state_empty_command_is_einval(void **state)
{
	cmd_reset();
	assert_int_equal(mon_state_apply(*state, &cmd, &res), -EINVAL);
	assert_int_equal(res.err.code, -EINVAL);
	assert_int_equal(res.epoch, 1);
}

static void test_state_apply_buf_rejects_garbage(void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	struct mon_state *st = *state;

	assert_int_equal(mon_state_apply_buf(st, junk, sizeof(junk), &res),
			 -EBADMSG);
	assert_int_equal(st->map.epoch, 1);
}

static void test_state_apply_buf_applies_packed_command(void **state)
{
	struct mon_state *st = *state;
	uint8_t buf[256];
	size_t len;

	cmd_reset();
	bs__pool_create__init(&pc);
	pc.name = "rbd";
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	len = bs__mon_command__pack(&cmd, buf);
	assert_int_equal(mon_state_apply_buf(st, buf, len, &res), 0);
	assert_non_null(mon_state_pool_by_name(st, "rbd"));
}

/* ---- pools ---- */

static void test_pool_create_uses_defaults_and_bumps_epoch(void **state)
{
	struct mon_state *st = *state;
	const Bs__PoolInfo *p;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_true(res.map_changed);
	assert_false(res.dir_changed);
	assert_int_equal(res.epoch, 2);
	assert_int_equal(st->map.epoch, 2);
	assert_int_equal(st->map.stamp_us, STAMP);
	assert_string_equal(res.msg, "pool 'rbd' created");
	p = mon_state_pool_by_name(st, "rbd");
	assert_non_null(p);
	assert_int_equal(res.pool_id, p->id);
	assert_int_equal(p->id, 1);
	assert_int_equal(p->size, 3);
	assert_int_equal(p->min_size, 2);
	assert_int_equal(p->pg_num, 32);
	assert_int_equal(p->failure_domain, BS__FAILURE_DOMAIN__FD_HOST);
	assert_int_equal(p->kind, BS__POOL_KIND__POOL_REPLICATED);
	assert_int_equal(p->created_us, STAMP);
	assert_ptr_equal(mon_state_pool_by_id(st, 1), p);
}

static void test_pool_create_min_size_default_is_majority(void **state)
{
	static const uint32_t want[] = { 0, 1, 1, 2, 2, 3, 3 };
	struct mon_state *st = *state;
	char name[16];
	uint32_t size;

	for (size = 1; size <= 6; size++) {
		snprintf(name, sizeof(name), "p%u", size);
		assert_int_equal(pool_create(st, name, size, 0, 0), 0);
		assert_int_equal(mon_state_pool_by_name(st, name)->min_size,
				 want[size]);
	}
}

static void test_pool_create_duplicate_is_eexist(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(pool_create(st, "rbd", 2, 0, 0), -EEXIST);
	assert_string_equal(res.err.msg, "pool 'rbd' already exists");
	assert_false(res.map_changed);
	assert_int_equal(st->map.epoch, 2);
	assert_int_equal(st->map.n_pools, 1);
}

static void test_pool_create_rejects_bad_values(void **state)
{
	struct mon_state *st = *state;
	char longname[130];

	memset(longname, 'a', 129);
	longname[129] = 0;
	assert_int_equal(pool_create(st, "", 0, 0, 0), -EINVAL);
	assert_int_equal(pool_create(st, "a/b", 0, 0, 0), -EINVAL);
	assert_non_null(strstr(res.err.msg, "pool name 'a/b' is not valid"));
	assert_int_equal(pool_create(st, "..", 0, 0, 0), -EINVAL);
	assert_int_equal(pool_create(st, longname, 0, 0, 0), -EINVAL);
	assert_int_equal(pool_create(st, "p", 17, 0, 0), -EINVAL);
	assert_string_equal(res.err.msg, "pool size 17 is out of range (1-16)");
	assert_int_equal(pool_create(st, "p", 3, 4, 0), -EINVAL);
	assert_string_equal(res.err.msg, "min_size 4 is larger than size 3");
	assert_int_equal(pool_create(st, "p", 3, 0, 65537), -EINVAL);
	assert_int_equal(st->map.epoch, 1);
	assert_int_equal(st->map.n_pools, 0);
	/* 128 characters is the limit, not over it */
	longname[128] = 0;
	assert_int_equal(pool_create(st, longname, 0, 0, 0), 0);
}

static int ec_create(struct mon_state *st, const char *name, uint32_t k,
		     uint32_t m, uint32_t unit, Bs__FailureDomain fd)
{
	cmd_reset();
	bs__pool_create__init(&pc);
	pc.name = (char *)name;
	pc.kind = BS__POOL_KIND__POOL_ERASURE;
	pc.ec_k = k;
	pc.ec_m = m;
	pc.ec_stripe_unit = unit;
	pc.failure_domain = fd;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	return mon_state_apply(st, &cmd, &res);
}

static void test_pool_create_refuses_rack(void **state)
{
	struct mon_state *st = *state;

	cmd_reset();
	bs__pool_create__init(&pc);
	pc.name = "r";
	pc.failure_domain = BS__FAILURE_DOMAIN__FD_RACK;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &pc;
	assert_int_equal(mon_state_apply(st, &cmd, &res), -EOPNOTSUPP);
	pc.failure_domain = BS__FAILURE_DOMAIN__FD_OSD;
	assert_int_equal(mon_state_apply(st, &cmd, &res), 0);
	assert_int_equal(mon_state_pool_by_name(st, "r")->failure_domain,
			 BS__FAILURE_DOMAIN__FD_OSD);
}

static void test_pool_create_erasure_sets_profile_and_min_size(void **state)
{
	struct mon_state *st = *state;
	const Bs__PoolInfo *p;
	char host[8];
	uint32_t i;

	for (i = 0; i < 6; i++) {
		snprintf(host, sizeof(host), "h%u", i);
		assert_int_equal(osd_boot(st, i, "127.0.0.1:1", host, 0), 0);
	}
	assert_int_equal(ec_create(st, "ec", 4, 2, 0,
				   BS__FAILURE_DOMAIN__FD_HOST), 0);
	p = mon_state_pool_by_name(st, "ec");
	assert_int_equal(p->kind, BS__POOL_KIND__POOL_ERASURE);
	assert_int_equal(p->size, 6);
	assert_int_equal(p->ec_k, 4);
	assert_int_equal(p->ec_m, 2);
	assert_int_equal(p->min_size, 5);
	assert_int_equal(p->ec_stripe_unit, 4096);
	assert_int_equal(ec_create(st, "ec21", 2, 1, 65536,
				   BS__FAILURE_DOMAIN__FD_OSD), 0);
	p = mon_state_pool_by_name(st, "ec21");
	assert_int_equal(p->size, 3);
	assert_int_equal(p->min_size, 3);
	assert_int_equal(p->ec_stripe_unit, 65536);
}

static void test_pool_create_erasure_rejects_bad_profiles(void **state)
{
	struct mon_state *st = *state;
	uint32_t i;

	for (i = 0; i < 6; i++)
		assert_int_equal(osd_boot(st, i, "127.0.0.1:1", "h", 0), 0);
	assert_int_equal(ec_create(st, "e", 4, 5, 0,
				   BS__FAILURE_DOMAIN__FD_OSD), -EINVAL);
	assert_non_null(strstr(res.err.msg, "m must be from 1 to 4"));
	assert_int_equal(ec_create(st, "e", 0, 2, 0,
				   BS__FAILURE_DOMAIN__FD_OSD), -EINVAL);
	assert_int_equal(ec_create(st, "e", 4, 2, 1000,
				   BS__FAILURE_DOMAIN__FD_OSD), -EINVAL);
	assert_non_null(strstr(res.err.msg, "stripe unit 1000"));
	/* six OSDs on one host: 4+2 fits per OSD, not per host */
	assert_int_equal(ec_create(st, "e", 4, 2, 0,
				   BS__FAILURE_DOMAIN__FD_HOST), -ENOSPC);
	assert_non_null(strstr(res.err.msg,
			       "profile 4+2 needs 6 hosts (one per shard) but the cluster has 1 in"));
	assert_int_equal(ec_create(st, "e", 8, 3, 0,
				   BS__FAILURE_DOMAIN__FD_OSD), -ENOSPC);
	assert_non_null(strstr(res.err.msg, "needs 11 OSDs"));
	/* an OSD that is out does not count */
	assert_int_equal(osd_mark(st, 5, BS__OSD_MARK_HOW__MARK_OUT), 0);
	assert_int_equal(ec_create(st, "e", 4, 2, 0,
				   BS__FAILURE_DOMAIN__FD_OSD), -ENOSPC);
	assert_int_equal(st->map.n_pools, 0);
	assert_int_equal(ec_create(st, "e", 4, 1, 0,
				   BS__FAILURE_DOMAIN__FD_OSD), 0);
}

static void test_pool_rm_unknown_is_enoent(void **state)
{
	assert_int_equal(pool_rm(*state, "nope"), -ENOENT);
	assert_string_equal(res.err.msg, "pool 'nope' does not exist");
}

static void test_pool_rm_with_volumes_is_refused(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(vol_create(st, "rbd", "a", 1 << 20), 0);
	assert_int_equal(pool_rm(st, "rbd"), -ENOTEMPTY);
	assert_string_equal(res.err.msg,
			    "pool 'rbd' still has 1 volume; remove them first");
	assert_int_equal(vol_create(st, "rbd", "b", 1 << 20), 0);
	assert_int_equal(pool_rm(st, "rbd"), -ENOTEMPTY);
	assert_string_equal(res.err.msg,
			    "pool 'rbd' still has 2 volumes; remove them first");
	assert_int_equal(vol_rm(st, "rbd", "a"), 0);
	assert_int_equal(vol_rm(st, "rbd", "b"), 0);
	assert_int_equal(pool_rm(st, "rbd"), 0);
	assert_string_equal(res.msg, "pool 'rbd' removed");
	assert_null(mon_state_pool_by_name(st, "rbd"));
	assert_int_equal(st->map.epoch, 3);
}

static void test_pool_ids_are_never_reused(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "a", 0, 0, 0), 0);
	assert_int_equal(pool_create(st, "b", 0, 0, 0), 0);
	assert_int_equal(pool_rm(st, "b"), 0);
	assert_int_equal(pool_create(st, "b", 0, 0, 0), 0);
	assert_int_equal(res.pool_id, 3);
	assert_int_equal(st->map.n_pools, 2);
	assert_int_equal(st->map.pools[0]->id, 1);
	assert_int_equal(st->map.pools[1]->id, 3);
}

/* ---- volumes ---- */

static void test_volume_create_does_not_bump_epoch(void **state)
{
	struct mon_state *st = *state;
	const Bs__Volume *v;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(vol_create(st, "rbd", "vm-1.disk_0", 10ull << 30),
			 0);
	assert_false(res.map_changed);
	assert_true(res.dir_changed);
	assert_int_equal(res.epoch, 2);
	assert_int_equal(st->map.epoch, 2);
	assert_int_equal(st->dir_version, 1);
	assert_string_equal(res.msg, "volume 'rbd/vm-1.disk_0' created");
	v = mon_state_volume(st, 1, "vm-1.disk_0");
	assert_non_null(v);
	assert_int_equal(res.volume_id, v->id);
	assert_int_equal(v->size, 10ull << 30);
	assert_int_equal(v->object_size, 4 << 20);
	assert_int_equal(v->created_us, STAMP);
	assert_ptr_equal(mon_state_volume_by_id(st, v->id), v);
}

static void test_volume_create_rejects_bad_values(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(vol_create(st, "nope", "a", 4096), -ENOENT);
	assert_string_equal(res.err.msg, "pool 'nope' does not exist");
	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(vol_create(st, "rbd", "a b", 4096), -EINVAL);
	assert_int_equal(vol_create(st, "rbd", "", 4096), -EINVAL);
	assert_int_equal(vol_create(st, "rbd", "a", 0), -EINVAL);
	assert_string_equal(res.err.msg, "volume size must be greater than 0");
	assert_int_equal(vol_create(st, "rbd", "a", 1000), -EINVAL);
	assert_string_equal(res.err.msg,
			    "volume size 1000 is not a multiple of 512 bytes");
	assert_int_equal(vol_create(st, "rbd", "a", (1ull << 60) + 512),
			 -EFBIG);
	cmd_reset();
	bs__volume_create__init(&vc);
	vc.pool = "rbd";
	vc.name = "a";
	vc.size = 4096;
	vc.object_size = 3 << 20;
	cmd.cmd_case = BS__MON_COMMAND__CMD_VOLUME_CREATE;
	cmd.volume_create = &vc;
	assert_int_equal(mon_state_apply(st, &cmd, &res), -EINVAL);
	vc.object_size = 1 << 30;
	assert_int_equal(mon_state_apply(st, &cmd, &res), -EINVAL);
	vc.object_size = 1 << 16;
	assert_int_equal(mon_state_apply(st, &cmd, &res), 0);
	assert_int_equal(mon_state_volume(st, 1, "a")->object_size, 1 << 16);
	assert_int_equal(st->n_volumes, 1);
	assert_int_equal(st->dir_version, 1);
}

static void test_volume_create_duplicate_is_eexist(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(pool_create(st, "ssd", 0, 0, 0), 0);
	assert_int_equal(vol_create(st, "rbd", "t1", 4096), 0);
	assert_int_equal(vol_create(st, "rbd", "t1", 8192), -EEXIST);
	assert_string_equal(res.err.msg, "volume 'rbd/t1' already exists");
	/* the same name in another pool is another volume */
	assert_int_equal(vol_create(st, "ssd", "t1", 8192), 0);
	assert_int_equal(st->n_volumes, 2);
}

static void test_volume_list_is_sorted_by_pool_then_name(void **state)
{
	static const char *const names[] = { "m", "b", "z", "a", "k" };
	struct mon_state *st = *state;
	size_t i, first, n;

	assert_int_equal(pool_create(st, "p1", 0, 0, 0), 0);
	assert_int_equal(pool_create(st, "p2", 0, 0, 0), 0);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(vol_create(st, "p2", names[i], 4096), 0);
		assert_int_equal(vol_create(st, "p1", names[i], 4096), 0);
	}
	for (i = 1; i < st->n_volumes; i++) {
		const Bs__Volume *a = st->volumes[i - 1], *b = st->volumes[i];

		assert_true(a->pool_id < b->pool_id ||
			    (a->pool_id == b->pool_id &&
			     strcmp(a->name, b->name) < 0));
	}
	n = mon_state_pool_volumes(st, 2, &first);
	assert_int_equal(n, 5);
	assert_int_equal(first, 5);
	assert_string_equal(st->volumes[first]->name, "a");
	assert_int_equal(mon_state_pool_volumes(st, 7, &first), 0);
}

static void test_volume_rm_and_unknown(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(vol_rm(st, "rbd", "x"), -ENOENT);
	assert_string_equal(res.err.msg, "volume 'rbd/x' does not exist");
	assert_int_equal(vol_rm(st, "nope", "x"), -ENOENT);
	assert_string_equal(res.err.msg, "pool 'nope' does not exist");
	assert_int_equal(vol_create(st, "rbd", "x", 4096), 0);
	assert_int_equal(vol_rm(st, "rbd", "x"), 0);
	assert_string_equal(res.msg, "volume 'rbd/x' removed");
	assert_null(mon_state_volume(st, 1, "x"));
	assert_int_equal(st->map.epoch, 2);
	assert_int_equal(st->dir_version, 2);
}

static void test_volume_resize_grows_and_shrinks(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(vol_create(st, "rbd", "x", 1 << 20), 0);
	assert_int_equal(vol_resize(st, "rbd", "x", 2 << 20), 0);
	assert_int_equal(mon_state_volume(st, 1, "x")->size, 2 << 20);
	assert_int_equal(vol_resize(st, "rbd", "x", 4096), 0);
	assert_int_equal(mon_state_volume(st, 1, "x")->size, 4096);
	assert_int_equal(vol_resize(st, "rbd", "x", 4097), -EINVAL);
	assert_int_equal(vol_resize(st, "rbd", "y", 4096), -ENOENT);
	assert_int_equal(mon_state_volume(st, 1, "x")->size, 4096);
	assert_int_equal(st->map.epoch, 2);
	assert_int_equal(st->dir_version, 3);
}

/* ---- OSDs ---- */

static void test_osd_boot_adds_up_in_and_bumps_epoch(void **state)
{
	struct mon_state *st = *state;
	const Bs__OsdInfo *o;

	assert_int_equal(osd_boot(st, 3, "127.0.0.1:6900", "h1", 0), 0);
	assert_int_equal(osd_boot(st, 1, "127.0.0.1:6901", "h2", 5000), 0);
	assert_int_equal(st->map.epoch, 3);
	assert_int_equal(st->map.n_osds, 2);
	assert_int_equal(st->map.osds[0]->id, 1);
	assert_int_equal(st->map.osds[1]->id, 3);
	o = mon_state_osd(st, 3);
	assert_true(o->up);
	assert_true(o->in);
	assert_int_equal(o->weight, MON_DEFAULT_OSD_WEIGHT);
	assert_int_equal(o->up_from, 2);
	assert_string_equal(o->host, "h1");
	assert_int_equal(mon_state_osd(st, 1)->weight, 5000);
	assert_null(mon_state_osd(st, 2));
}

static void test_osd_mark_down_out_in(void **state)
{
	struct mon_state *st = *state;
	const Bs__OsdInfo *o;

	assert_int_equal(osd_boot(st, 0, "127.0.0.1:6900", "h1", 0), 0);
	assert_int_equal(osd_mark(st, 0, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	o = mon_state_osd(st, 0);
	assert_false(o->up);
	assert_int_equal(st->map.epoch, 3);
	/* marking it down again changes nothing and keeps the epoch */
	assert_int_equal(osd_mark(st, 0, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	assert_false(res.map_changed);
	assert_int_equal(st->map.epoch, 3);
	assert_int_equal(osd_mark(st, 0, BS__OSD_MARK_HOW__MARK_OUT), 0);
	assert_false(o->in);
	assert_int_equal(st->map.epoch, 4);
	/* an operator's "out" survives a reboot */
	assert_int_equal(osd_boot(st, 0, "127.0.0.1:6902", "h1", 0), 0);
	o = mon_state_osd(st, 0);
	assert_true(o->up);
	assert_false(o->in);
	assert_string_equal(o->addr, "127.0.0.1:6902");
	assert_int_equal(osd_mark(st, 0, BS__OSD_MARK_HOW__MARK_IN), 0);
	assert_true(o->in);
	assert_int_equal(st->map.epoch, 6);
	assert_int_equal(osd_mark(st, 9, BS__OSD_MARK_HOW__MARK_OUT), -ENOENT);
	assert_string_equal(res.err.msg, "osd.9 does not exist");
}

static void test_osd_boot_rejects_bad_values(void **state)
{
	struct mon_state *st = *state;

	assert_int_equal(osd_boot(st, 0, "", "h1", 0), -EINVAL);
	assert_int_equal(osd_boot(st, 0, "127.0.0.1:1", "", 0), -EINVAL);
	assert_int_equal(osd_boot(st, MON_OSD_MAX_ID + 1, "127.0.0.1:1", "h",
				  0), -EINVAL);
	assert_int_equal(st->map.epoch, 1);
	assert_int_equal(st->map.n_osds, 0);
}

/* ---- snapshots and determinism ---- */

static void build_sample(struct mon_state *st)
{
	assert_int_equal(pool_create(st, "rbd", 0, 0, 0), 0);
	assert_int_equal(pool_create(st, "fast", 2, 1, 128), 0);
	assert_int_equal(pool_create(st, "gone", 0, 0, 0), 0);
	assert_int_equal(pool_rm(st, "gone"), 0);
	assert_int_equal(vol_create(st, "rbd", "a", 1 << 20), 0);
	assert_int_equal(vol_create(st, "fast", "b", 2 << 20), 0);
	assert_int_equal(vol_create(st, "rbd", "c", 3 << 20), 0);
	assert_int_equal(vol_rm(st, "rbd", "c"), 0);
	assert_int_equal(osd_boot(st, 0, "127.0.0.1:6900", "h1", 0), 0);
	assert_int_equal(osd_boot(st, 1, "127.0.0.1:6901", "h2", 7), 0);
	assert_int_equal(osd_mark(st, 1, BS__OSD_MARK_HOW__MARK_OUT), 0);
}

static uint8_t *encode(const struct mon_state *st, size_t *len)
{
	uint8_t *buf;

	*len = mon_state_encoded_size(st);
	buf = malloc(*len + 1);
	assert_int_equal(mon_state_encode(st, buf), *len);
	return buf;
}

static void test_snapshot_round_trip_is_identical(void **state)
{
	struct mon_state *st = *state, copy;
	struct bs_error err = { 0 };
	uint8_t *a, *b;
	size_t alen, blen;

	build_sample(st);
	a = encode(st, &alen);
	mon_state_init(&copy);
	assert_int_equal(mon_state_decode(&copy, a, alen, &err), 0);
	b = encode(&copy, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(copy.map.epoch, st->map.epoch);
	assert_int_equal(copy.next_pool_id, 4);
	assert_int_equal(copy.next_volume_id, 4);
	assert_int_equal(copy.dir_version, st->dir_version);
	assert_non_null(mon_state_volume(&copy, 2, "b"));
	assert_false(mon_state_osd(&copy, 1)->in);
	/* the restored state keeps working: ids continue, no reuse */
	assert_int_equal(vol_create(&copy, "rbd", "d", 4096), 0);
	assert_int_equal(res.volume_id, 4);
	assert_int_equal(pool_create(&copy, "rbd", 0, 0, 0), -EEXIST);
	mon_state_release(&copy);
	free(a);
	free(b);
}

static void test_snapshot_decode_rejects_garbage(void **state)
{
	static const uint8_t junk[] = { 0x08, 0x63, 0x12, 0xff };
	struct mon_state *st = *state;
	struct bs_error err = { 0 };
	uint8_t *good;
	size_t len;

	build_sample(st);
	assert_int_equal(mon_state_decode(st, junk, sizeof(junk), &err),
			 -EBADMSG);
	/* version 99 decodes but is refused */
	assert_int_equal(mon_state_decode(st, "\x08\x63", 2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "version 99"));
	/* truncated */
	good = encode(st, &len);
	assert_int_not_equal(mon_state_decode(st, good, len / 2, &err), 0);
	/* the state survived every refusal */
	assert_non_null(mon_state_pool_by_name(st, "rbd"));
	assert_int_equal(st->n_volumes, 2);
	free(good);
}

static void test_same_commands_give_same_bytes(void **state)
{
	struct mon_state *st = *state, other;
	uint8_t *a, *b;
	size_t alen, blen;

	mon_state_init(&other);
	build_sample(st);
	build_sample(&other);
	a = encode(st, &alen);
	b = encode(&other, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	mon_state_release(&other);
	free(a);
	free(b);
}

static void test_name_rule(void **state)
{
	assert_true(mon_name_is_valid("a"));
	assert_true(mon_name_is_valid("A-z_0.9"));
	assert_true(mon_name_is_valid("..."));
	assert_false(mon_name_is_valid("."));
	assert_false(mon_name_is_valid("a/b"));
	assert_false(mon_name_is_valid("a b"));
	assert_false(mon_name_is_valid("é"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_state_init_is_epoch_1_and_empty),
		T(test_state_empty_command_is_einval),
		T(test_state_apply_buf_rejects_garbage),
		T(test_state_apply_buf_applies_packed_command),
		T(test_pool_create_uses_defaults_and_bumps_epoch),
		T(test_pool_create_min_size_default_is_majority),
		T(test_pool_create_duplicate_is_eexist),
		T(test_pool_create_rejects_bad_values),
		T(test_pool_create_refuses_rack),
		T(test_pool_create_erasure_sets_profile_and_min_size),
		T(test_pool_create_erasure_rejects_bad_profiles),
		T(test_pool_rm_unknown_is_enoent),
		T(test_pool_rm_with_volumes_is_refused),
		T(test_pool_ids_are_never_reused),
		T(test_volume_create_does_not_bump_epoch),
		T(test_volume_create_rejects_bad_values),
		T(test_volume_create_duplicate_is_eexist),
		T(test_volume_list_is_sorted_by_pool_then_name),
		T(test_volume_rm_and_unknown),
		T(test_volume_resize_grows_and_shrinks),
		T(test_osd_boot_adds_up_in_and_bumps_epoch),
		T(test_osd_mark_down_out_in),
		T(test_osd_boot_rejects_bad_values),
		T(test_snapshot_round_trip_is_identical),
		T(test_snapshot_decode_rejects_garbage),
		T(test_same_commands_give_same_bytes),
		T(test_name_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
