// SPDX-License-Identifier: Apache-2.0
/*
 * The mon state machine's map history (mon/state.c): one entry per epoch
 * with the prior state of what changed, trimmed by MapTrim and capped;
 * osd lost; and the past maps and PG intervals rebuilt from it
 * (common/past_intervals.c), checked against the maps the commands made.
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

#include "bs/past_intervals.h"
#include "state.h"

#define STAMP 1700000000000000ull
#define N_OSDS 5

static Bs__MonCommand cmd;
static struct mon_result res;

static int apply(struct mon_state *st)
{
	cmd.stamp_us = STAMP;
	return mon_state_apply(st, &cmd, &res);
}

static int boot(struct mon_state *st, uint32_t id)
{
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;
	char host[16];

	snprintf(host, sizeof(host), "h%u", id);
	b.id = id;
	b.addr = "127.0.0.1:1";
	b.host = host;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	return apply(st);
}

static int mark(struct mon_state *st, uint32_t id, Bs__OsdMarkHow how)
{
	Bs__OsdMark m = BS__OSD_MARK__INIT;

	m.id = id;
	m.how = how;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &m;
	return apply(st);
}

static int lost(struct mon_state *st, uint32_t id)
{
	Bs__OsdLost l = BS__OSD_LOST__INIT;

	l.id = id;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_LOST;
	cmd.osd_lost = &l;
	return apply(st);
}

static int rm(struct mon_state *st, uint32_t id)
{
	Bs__OsdRm r = BS__OSD_RM__INIT;

	r.id = id;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_RM;
	cmd.osd_rm = &r;
	return apply(st);
}

static int add(struct mon_state *st)
{
	Bs__OsdAdd a = BS__OSD_ADD__INIT;

	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_ADD;
	cmd.osd_add = &a;
	return apply(st);
}

static int trim(struct mon_state *st, uint64_t upto)
{
	Bs__MapTrim t = BS__MAP_TRIM__INIT;

	t.upto = upto;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_MAP_TRIM;
	cmd.map_trim = &t;
	return apply(st);
}

static int pool(struct mon_state *st, const char *name, uint32_t pg_num)
{
	Bs__PoolCreate p = BS__POOL_CREATE__INIT;

	p.name = (char *)name;
	p.size = 3;
	p.min_size = 2;
	p.pg_num = pg_num;
	bs__mon_command__init(&cmd);
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &p;
	return apply(st);
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

/* Five OSDs on five hosts and pool 'p' (size 3, min_size 2, 4 PGs). */
static void cluster(struct mon_state *st)
{
	for (uint32_t i = 0; i < N_OSDS; i++)
		assert_int_equal(boot(st, i), 0);
	assert_int_equal(pool(st, "p", 4), 0);
}

/* What placement says about every OSD and PG at one epoch. */
struct seen {
	uint64_t epoch;
	bool up[N_OSDS], in[N_OSDS];
	int n[4];
	int32_t acting[4][BS_PLACE_MAX_SIZE];
	bool has_pool;
};

static void see(const struct mon_state *st, struct seen *s)
{
	struct bs_error err = { 0 };
	struct bs_osdmap *m;
	const struct bs_osdmap_pool *p;

	assert_int_equal(bs_osdmap_new(&m, &st->map, &err), 0);
	memset(s, 0, sizeof(*s));
	s->epoch = m->epoch;
	for (int i = 0; i < N_OSDS; i++) {
		const struct bs_osdmap_osd *o = bs_osdmap_osd(m, i);

		s->up[i] = o && o->up;
		s->in[i] = o && o->in;
	}
	p = bs_osdmap_pool(m, 1);
	s->has_pool = p != NULL;
	for (uint32_t pg = 0; p && pg < 4; pg++)
		s->n[pg] = bs_osdmap_pg_acting(m, p, pg, s->acting[pg]);
	bs_osdmap_put(&m);
}

static void see_map(const struct bs_osdmap *m, struct seen *s)
{
	const struct bs_osdmap_pool *p;

	memset(s, 0, sizeof(*s));
	s->epoch = m->epoch;
	for (int i = 0; i < N_OSDS; i++) {
		const struct bs_osdmap_osd *o = bs_osdmap_osd(m, i);

		s->up[i] = o && o->up;
		s->in[i] = o && o->in;
	}
	p = bs_osdmap_pool(m, 1);
	s->has_pool = p != NULL;
	for (uint32_t pg = 0; p && pg < 4; pg++)
		s->n[pg] = bs_osdmap_pg_acting(m, p, pg, s->acting[pg]);
}

static void test_history_has_one_entry_per_epoch(void **state)
{
	struct mon_state *st = *state;

	cluster(st);
	assert_int_equal(st->map.n_history, N_OSDS + 1);
	for (size_t i = 0; i < st->map.n_history; i++)
		assert_int_equal(st->map.history[i]->epoch, 2 + i);
	/* a boot of a new OSD: it did not exist before */
	assert_true(st->map.history[0]->has_osd);
	assert_int_equal(st->map.history[0]->osd, 0);
	assert_null(st->map.history[0]->prior);
	/* the pool */
	assert_false(st->map.history[N_OSDS]->has_osd);
	assert_int_equal(st->map.history[N_OSDS]->pool_created, 1);

	/* a mark keeps the OSD as it was, placement fields only */
	assert_int_equal(mark(st, 3, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	assert_int_equal(st->map.n_history, N_OSDS + 2);
	const Bs__MapChange *c = st->map.history[N_OSDS + 1];
	assert_int_equal(c->epoch, st->map.epoch);
	assert_non_null(c->prior);
	assert_true(c->prior->up);
	assert_true(c->prior->in);
	assert_string_equal(c->prior->host, "h3");
	assert_string_equal(c->prior->addr, "");

	/* no change, no epoch, no entry; a volume neither */
	assert_int_equal(mark(st, 3, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	assert_false(res.map_changed);
	assert_int_equal(st->map.n_history, N_OSDS + 2);
}

static void test_history_rebuilds_every_past_map(void **state)
{
	struct mon_state *st = *state;
	struct seen want[32], got;
	struct bs_map_history h, h2;
	struct bs_error err = { 0 };
	size_t n = 0;

	see(st, &want[n++]);		/* epoch 1: nothing */
	for (uint32_t i = 0; i < N_OSDS; i++) {
		assert_int_equal(boot(st, i), 0);
		see(st, &want[n++]);
	}
	assert_int_equal(pool(st, "p", 4), 0);
	see(st, &want[n++]);
	assert_int_equal(mark(st, 0, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	see(st, &want[n++]);
	assert_int_equal(mark(st, 0, BS__OSD_MARK_HOW__MARK_OUT), 0);
	see(st, &want[n++]);
	assert_int_equal(mark(st, 1, BS__OSD_MARK_HOW__MARK_OUT), 0);
	see(st, &want[n++]);
	assert_int_equal(boot(st, 0), 0);
	see(st, &want[n++]);
	assert_int_equal(mark(st, 1, BS__OSD_MARK_HOW__MARK_IN), 0);
	see(st, &want[n++]);
	/* removed, then its id taken again by osd add */
	assert_int_equal(mark(st, 4, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	see(st, &want[n++]);
	assert_int_equal(mark(st, 4, BS__OSD_MARK_HOW__MARK_OUT), 0);
	see(st, &want[n++]);
	assert_int_equal(rm(st, 4), 0);
	see(st, &want[n++]);
	assert_int_equal(add(st), 0);
	assert_int_equal(res.osd_id, 4);
	see(st, &want[n++]);
	assert_int_equal(boot(st, 4), 0);
	see(st, &want[n++]);

	assert_int_equal(bs_map_history_build(&h, &st->map, 0, NULL, &err), 0);
	assert_int_equal(h.first, 1);
	assert_int_equal(h.n, n);
	for (size_t i = 0; i < n; i++) {
		see_map(h.maps[i], &got);
		assert_memory_equal(&got, &want[i], sizeof(got));
	}
	/* from an older history: the same maps, shared */
	assert_int_equal(bs_map_history_build(&h2, &st->map, 4, &h, &err), 0);
	assert_int_equal(h2.first, 4);
	assert_ptr_equal(bs_map_history_at(&h2, 5), bs_map_history_at(&h, 5));
	assert_null(bs_map_history_at(&h2, 3));
	bs_map_history_release(&h2);
	bs_map_history_release(&h);

	/* trimmed: the history starts later */
	assert_int_equal(trim(st, 6), 0);
	assert_false(res.map_changed);
	assert_int_equal(st->map.history[0]->epoch, 7);
	assert_int_equal(bs_map_history_build(&h, &st->map, 0, NULL, &err), 0);
	assert_int_equal(h.first, 6);
	for (size_t i = 0; i < h.n; i++) {
		see_map(h.maps[i], &got);
		assert_memory_equal(&got, &want[5 + i], sizeof(got));
	}
	bs_map_history_release(&h);
}

static void test_history_is_capped_and_kept_in_snapshots(void **state)
{
	struct mon_state *st = *state, n;
	struct bs_error err = { 0 };
	uint8_t *buf;
	size_t len;

	cluster(st);
	for (int i = 0; i < MON_HISTORY_MAX; i++) {
		assert_int_equal(mark(st, 4, BS__OSD_MARK_HOW__MARK_DOWN), 0);
		assert_int_equal(boot(st, 4), 0);
	}
	assert_int_equal(st->map.n_history, MON_HISTORY_MAX);
	assert_int_equal(st->map.history[MON_HISTORY_MAX - 1]->epoch,
			 st->map.epoch);
	assert_int_equal(st->map.history[0]->epoch,
			 st->map.epoch - MON_HISTORY_MAX + 1);
	/* bounded: well under the 1 MiB map limit */
	assert_true(bs__cluster_map__get_packed_size(&st->map) < 64 * 1024);

	len = mon_state_encoded_size(st);
	buf = malloc(len);
	assert_int_equal(mon_state_encode(st, buf), len);
	mon_state_init(&n);
	assert_int_equal(mon_state_decode(&n, buf, len, &err), 0);
	assert_int_equal(n.map.n_history, MON_HISTORY_MAX);
	assert_int_equal(mon_state_encoded_size(&n), len);
	mon_state_release(&n);
	free(buf);
}

static void test_osd_lost_needs_a_down_osd_and_ends_at_boot(void **state)
{
	struct mon_state *st = *state;
	const Bs__OsdInfo *o;
	uint64_t e;

	cluster(st);
	assert_int_equal(lost(st, 9), -ENOENT);
	assert_int_equal(lost(st, 2), -EBUSY);
	assert_non_null(strstr(res.err.msg, "osd.2 is up"));
	assert_int_equal(mark(st, 2, BS__OSD_MARK_HOW__MARK_DOWN), 0);
	e = st->map.epoch;
	assert_int_equal(lost(st, 2), 0);
	assert_true(res.map_changed);
	o = mon_state_osd(st, 2);
	assert_int_equal(o->lost_at, e + 1);
	assert_true(o->lost_at >= o->up_from);
	assert_int_equal(st->map.history[st->map.n_history - 1]->epoch, e + 1);
	/* again: nothing to do */
	assert_int_equal(lost(st, 2), 0);
	assert_false(res.map_changed);
	/* a new boot: no longer lost */
	assert_int_equal(boot(st, 2), 0);
	o = mon_state_osd(st, 2);
	assert_true(o->lost_at < o->up_from);
}

/* A PG of pool 1 with three members, or -1. */
static int pg_with_three(const struct seen *s)
{
	for (int pg = 0; pg < 4; pg++)
		if (s->n[pg] == 3)
			return pg;
	return -1;
}

static void test_past_intervals_split_on_acting_and_up_changes(void **state)
{
	struct mon_state *st = *state;
	struct bs_map_history h;
	struct bs_error err = { 0 };
	struct bs_past_interval *iv;
	struct seen s;
	uint64_t created, down1, down2;
	int32_t a[3];
	size_t n;
	int pg;

	cluster(st);
	created = st->map.epoch;
	see(st, &s);
	pg = pg_with_three(&s);
	assert_true(pg >= 0);
	memcpy(a, s.acting[pg], sizeof(a));
	/* one member down: still min_size up (rw); two: not */
	assert_int_equal(mark(st, (uint32_t)a[2], BS__OSD_MARK_HOW__MARK_DOWN),
			 0);
	down1 = st->map.epoch;
	assert_int_equal(mark(st, (uint32_t)a[1], BS__OSD_MARK_HOW__MARK_DOWN),
			 0);
	down2 = st->map.epoch;
	/* an OSD outside the PG changes nothing for it */
	for (uint32_t i = 0; i < N_OSDS; i++)
		if ((int32_t)i != a[0] && (int32_t)i != a[1] &&
		    (int32_t)i != a[2]) {
			assert_int_equal(
				mark(st, i, BS__OSD_MARK_HOW__MARK_DOWN), 0);
			break;
		}

	assert_int_equal(bs_map_history_build(&h, &st->map, 0, NULL, &err), 0);
	assert_int_equal(bs_past_intervals(&h, 1, (uint32_t)pg, 0, &iv, &n),
			 0);
	assert_int_equal(n, 3);
	/* before its pool existed the PG had no intervals */
	assert_int_equal(iv[0].first, created);
	assert_int_equal(iv[0].last, down1 - 1);
	assert_int_equal(iv[0].n_up, 3);
	assert_true(iv[0].maybe_rw);
	assert_memory_equal(iv[0].acting, a, sizeof(a));
	assert_int_equal(iv[1].first, down1);
	assert_int_equal(iv[1].last, down2 - 1);
	assert_int_equal(iv[1].n_up, 2);
	assert_int_equal(iv[1].up_mask, 3);
	assert_true(iv[1].maybe_rw);
	assert_int_equal(iv[2].first, down2);
	assert_int_equal(iv[2].last, st->map.epoch);
	assert_int_equal(iv[2].n_up, 1);
	assert_false(iv[2].maybe_rw);
	free(iv);

	/* since a later epoch: the interval it falls in comes first */
	assert_int_equal(bs_past_intervals(&h, 1, (uint32_t)pg, down1, &iv,
					   &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(iv[0].first, down1);
	assert_int_equal(iv[0].n_up, 2);
	free(iv);
	assert_int_equal(bs_past_intervals(&h, 1, (uint32_t)pg, down2, &iv,
					   &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(iv[0].first, down2);
	free(iv);
	/* no such pool or pg: none */
	assert_int_equal(bs_past_intervals(&h, 7, 0, 0, &iv, &n), 0);
	assert_int_equal(n, 0);
	assert_null(iv);
	bs_map_history_release(&h);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_history_has_one_entry_per_epoch),
		T(test_history_rebuilds_every_past_map),
		T(test_history_is_capped_and_kept_in_snapshots),
		T(test_osd_lost_needs_a_down_osd_and_ends_at_boot),
		T(test_past_intervals_split_on_acting_and_up_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
