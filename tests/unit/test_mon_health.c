// SPDX-License-Identifier: Apache-2.0
/*
 * Cluster health from synthetic beacons (mon/health.c): HEALTH_OK when
 * every PG is active+clean, the checks for down OSDs, lost quorum, full
 * disks, unknown, inactive, peering and degraded PGs, the PG state
 * counts, which report wins, the `pg ls` listing and the `osd rm` rule.
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

#include "health.h"
#include "state.h"

#define GRACE	3000
#define NOW	100000
#define PG_NUM	8

#define ACTIVE_CLEAN	(BS__PG_STATE_FLAG__PG_ACTIVE |		\
			 BS__PG_STATE_FLAG__PG_CLEAN)
#define DEGRADED	(BS__PG_STATE_FLAG__PG_ACTIVE |		\
			 BS__PG_STATE_FLAG__PG_UNDERSIZED |	\
			 BS__PG_STATE_FLAG__PG_DEGRADED)

struct fx {
	struct mon_state st;
	struct osdmon om;
	struct bs_osdmap *osdmap;
	struct health_mons mons;
	struct health_conf hc;
	struct mon_result res;
	Bs__ClusterStatus *status;
};

static void apply(struct fx *f, Bs__MonCommand *cmd)
{
	cmd->stamp_us = 1;
	assert_int_equal(mon_state_apply(&f->st, cmd, &f->res), 0);
}

static void boot(struct fx *f, uint32_t id)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;
	char addr[32], host[16];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", 7000 + id);
	snprintf(host, sizeof(host), "h%u", id);
	b.id = id;
	b.addr = addr;
	b.sends_beacons = true;
	b.host = host;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	apply(f, &cmd);
}

static void mark(struct fx *f, uint32_t id, Bs__OsdMarkHow how)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark m = BS__OSD_MARK__INIT;

	m.id = id;
	m.how = how;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &m;
	apply(f, &cmd);
}

static void pool(struct fx *f, const char *name, uint32_t size)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__PoolCreate p = BS__POOL_CREATE__INIT;

	p.name = (char *)name;
	p.size = size;
	p.min_size = 1;
	p.pg_num = PG_NUM;
	p.failure_domain = BS__FAILURE_DOMAIN__FD_OSD;
	cmd.cmd_case = BS__MON_COMMAND__CMD_POOL_CREATE;
	cmd.pool_create = &p;
	apply(f, &cmd);
}

/* Placement of the current map; the detector synced to it. */
static void settle(struct fx *f)
{
	struct bs_error err = { 0 };

	if (f->osdmap)
		bs_osdmap_put(&f->osdmap);
	assert_int_equal(bs_osdmap_new(&f->osdmap, &f->st.map, &err), 0);
	osdmon_sync(&f->om, &f->st.map, NOW);
}

/* A beacon from @id at @when; pgs added with add_pg(). */
static Bs__OsdBeacon *beacon_new(struct fx *f, uint32_t id, uint64_t used,
				 uint64_t capacity)
{
	Bs__OsdBeacon *b = calloc(1, sizeof(*b));

	bs__osd_beacon__init(b);
	b->id = id;
	b->epoch = f->st.map.epoch;
	b->up_from = mon_state_osd(&f->st, id)->up_from;
	b->capacity = capacity;
	b->used = used;
	b->pgs = calloc(1024, sizeof(*b->pgs));
	return b;
}

static Bs__PgStat *add_pg(struct fx *f, Bs__OsdBeacon *b, uint32_t pool_id,
			  uint32_t pg, uint32_t state, uint64_t objects)
{
	const struct bs_osdmap_pool *p = bs_osdmap_pool(f->osdmap, pool_id);
	Bs__PgStat *s = calloc(1, sizeof(*s));
	int32_t acting[BS_PLACE_MAX_SIZE];
	int n, i;

	bs__pg_stat__init(s);
	s->pool = pool_id;
	s->pg = pg;
	s->state = state;
	s->objects = objects;
	s->bytes = objects * 4096;
	n = bs_osdmap_pg_acting(f->osdmap, p, pg, acting);
	assert_true(n > 0);
	s->acting = calloc(n, sizeof(*s->acting));
	for (i = 0; i < n; i++)
		s->acting[i] = acting[i];
	s->n_acting = n;
	b->pgs[b->n_pgs++] = s;
	return s;
}

static void send(struct fx *f, Bs__OsdBeacon *b, uint64_t when)
{
	assert_int_equal(osdmon_beacon(&f->om, &f->st.map, b, when), 0);
}

/* A beacon of osd.@id with every PG it is primary of, in @state. */
static Bs__OsdBeacon *primary_beacon(struct fx *f, uint32_t id, uint64_t seq,
				     uint32_t state, uint64_t objects)
{
	Bs__OsdBeacon *b = beacon_new(f, id, 10, 1000);
	size_t k;
	uint32_t pg;

	b->seq = seq;
	for (k = 0; k < f->st.map.n_pools; k++) {
		const Bs__PoolInfo *pi = f->st.map.pools[k];
		const struct bs_osdmap_pool *p = bs_osdmap_pool(f->osdmap,
								pi->id);

		for (pg = 0; pg < pi->pg_num; pg++)
			if (bs_osdmap_pg_primary(f->osdmap, p, pg) == (int)id)
				add_pg(f, b, pi->id, pg, state, objects);
	}
	return b;
}

/* Every up OSD reports the PGs it is primary of with @state. */
static void report_all(struct fx *f, uint32_t state, uint64_t objects)
{
	size_t i;

	for (i = 0; i < f->st.map.n_osds; i++) {
		const Bs__OsdInfo *o = f->st.map.osds[i];

		if (o->up)
			send(f, primary_beacon(f, o->id, 0, state, objects),
			     NOW);
	}
}

/* The up OSD that is primary of the most PGs. */
static uint32_t busiest(struct fx *f)
{
	uint32_t best = 0;
	size_t i, most = 0;

	for (i = 0; i < f->st.map.n_osds; i++) {
		Bs__OsdBeacon *b = primary_beacon(f, f->st.map.osds[i]->id, 0,
						  0, 0);

		if (f->st.map.osds[i]->up && b->n_pgs > most) {
			most = b->n_pgs;
			best = b->id;
		}
		bs__osd_beacon__free_unpacked(b, NULL);
	}
	assert_true(most >= 2);
	return best;
}

static const Bs__ClusterStatus *status(struct fx *f)
{
	if (f->status)
		bs__cluster_status__free_unpacked(f->status, NULL);
	f->status = health_status(&f->om, &f->st.map, f->osdmap, &f->mons,
				  &f->hc, 0, NOW);
	return f->status;
}

static const Bs__HealthCheck *find_check(const Bs__ClusterStatus *st,
					 const char *code)
{
	size_t i;

	for (i = 0; i < st->n_checks; i++)
		if (!strcmp(st->checks[i]->code, code))
			return st->checks[i];
	return NULL;
}

static uint64_t state_count(const Bs__ClusterStatus *st, const char *name)
{
	size_t i;

	for (i = 0; i < st->n_pg_states; i++)
		if (!strcmp(st->pg_states[i]->state, name))
			return st->pg_states[i]->count;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct osdmon_conf c = {
		.grace_ms = GRACE,
		.down_out_ms = 600000,
		.min_down_reporters = 2,
		.pending_ms = 5000,
	};
	unsigned i;

	mon_state_init(&f->st);
	osdmon_init(&f->om, &c);
	f->mons.self_id = 0;
	f->mons.from_leader = true;
	f->mons.leader_id = 0;
	f->mons.term = 3;
	f->mons.n = 3;
	for (i = 0; i < 3; i++) {
		f->mons.ids[i] = i;
		f->mons.in_quorum[i] = true;
	}
	f->hc.nearfull_pct = 85;
	f->hc.full_pct = 95;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->status)
		bs__cluster_status__free_unpacked(f->status, NULL);
	if (f->osdmap)
		bs_osdmap_put(&f->osdmap);
	osdmon_release(&f->om);
	mon_state_release(&f->st);
	free(f);
	return 0;
}

/* Three OSDs, pool 1 "rbd" of size 2 with PG_NUM pgs. */
static void cluster(struct fx *f)
{
	boot(f, 0);
	boot(f, 1);
	boot(f, 2);
	pool(f, "rbd", 2);
	settle(f);
}

/* ---- tests ---- */

static void test_pg_flags_name(void **state)
{
	char buf[96];

	assert_string_equal(health_pg_flags_name(ACTIVE_CLEAN, buf,
						 sizeof(buf)), "active+clean");
	assert_string_equal(health_pg_flags_name(DEGRADED, buf, sizeof(buf)),
			    "active+undersized+degraded");
	assert_string_equal(health_pg_flags_name(
		BS__PG_STATE_FLAG__PG_ACTIVE | BS__PG_STATE_FLAG__PG_DEGRADED |
		BS__PG_STATE_FLAG__PG_RECOVERING, buf, sizeof(buf)),
		"active+recovering+degraded");
	assert_string_equal(health_pg_flags_name(0, buf, sizeof(buf)),
			    "inactive");
}

static void test_empty_cluster_is_ok(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;

	settle(f);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_OK");
	assert_int_equal(st->n_checks, 0);
	assert_int_equal(st->pgs_total, 0);
	assert_int_equal(st->n_quorum, 3);
	assert_true(st->from_leader);
	assert_int_equal(st->leader_id, 0);
}

static void test_every_pg_active_clean_is_ok(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;

	cluster(f);
	report_all(f, ACTIVE_CLEAN, 10);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_OK");
	assert_int_equal(st->n_checks, 0);
	assert_int_equal(st->pgs_total, PG_NUM);
	assert_int_equal(st->pgs_active_clean, PG_NUM);
	assert_int_equal(st->n_pg_states, 1);
	assert_string_equal(st->pg_states[0]->state, "active+clean");
	assert_int_equal(st->pg_states[0]->count, PG_NUM);
	assert_int_equal(st->objects, 10 * PG_NUM);
	assert_int_equal(st->object_copies, 2 * 10 * PG_NUM);
	assert_int_equal(st->osds_total, 3);
	assert_int_equal(st->osds_up, 3);
	assert_int_equal(st->osds_in, 3);
	assert_int_equal(st->capacity, 3000);
	assert_int_equal(st->used, 30);
	assert_int_equal(st->pools, 1);
}

static void test_unreported_pgs_are_unknown(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;

	cluster(f);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_WARN");
	assert_int_equal(st->pgs_unknown, PG_NUM);
	assert_int_equal(state_count(st, "unknown"), PG_NUM);
	c = find_check(st, "PG_UNKNOWN");
	assert_non_null(c);
	assert_string_equal(c->message,
			    "8 pgs unknown: not reported by their primary yet");
	assert_int_equal(c->n_detail, PG_NUM);
	assert_non_null(strstr(c->detail[0], "pg 1.0 is unknown, acting ["));
}

static void test_pgs_with_no_member_up_are_inactive(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;

	cluster(f);
	mark(f, 0, BS__OSD_MARK_HOW__MARK_DOWN);
	mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN);
	mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN);
	settle(f);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_ERR");
	assert_int_equal(st->pgs_inactive, PG_NUM);
	c = find_check(st, "PG_AVAILABILITY");
	assert_non_null(c);
	assert_string_equal(c->severity, "HEALTH_ERR");
	assert_string_equal(c->message, "8 pgs inactive: their I/O is blocked");
	/* the worst comes first */
	assert_string_equal(st->checks[0]->code, "PG_AVAILABILITY");
	c = find_check(st, "OSD_DOWN");
	assert_non_null(c);
	assert_string_equal(c->message, "3 osds down");
	assert_string_equal(c->detail[0], "osd.0 (host h0) is down");
}

static void test_pool_without_any_osd_is_a_warning(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;

	pool(f, "rbd", 3);
	settle(f);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_WARN");
	assert_int_equal(st->n_checks, 1);
	c = find_check(st, "OSD_NONE");
	assert_non_null(c);
	assert_string_equal(c->message,
			    "no osds yet: the 8 pgs of 1 pools cannot store data");
	assert_int_equal(st->pgs_unknown, PG_NUM);
	assert_int_equal(st->pgs_inactive, 0);
}

static void test_degraded_pgs_warn_with_counts(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;
	Bs__OsdBeacon *b;
	Bs__PgStat *s;

	cluster(f);
	report_all(f, ACTIVE_CLEAN, 10);
	/* the busiest primary now reports two of its PGs degraded */
	b = primary_beacon(f, busiest(f), 2, ACTIVE_CLEAN, 10);
	s = b->pgs[0];
	s->state = DEGRADED;
	s->objects_degraded = 4;
	s->recovery_bytes_per_sec = 1000;
	s = b->pgs[1];
	s->state = DEGRADED | BS__PG_STATE_FLAG__PG_RECOVERING;
	s->objects_degraded = 6;
	s->recovery_bytes_per_sec = 500;
	send(f, b, NOW);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_WARN");
	assert_int_equal(st->pgs_degraded, 2);
	assert_int_equal(st->pgs_undersized, 2);
	assert_int_equal(st->pgs_recovering, 1);
	assert_int_equal(st->objects_degraded, 10);
	assert_int_equal(st->recovery_bytes_per_sec, 1500);
	assert_int_equal(state_count(st, "active+undersized+degraded"), 1);
	assert_int_equal(state_count(st, "active+recovering+undersized+degraded"),
			 1);
	assert_int_equal(st->pgs_active_clean + 2, PG_NUM);
	/* most common state first */
	assert_string_equal(st->pg_states[0]->state, "active+clean");
	c = find_check(st, "PG_DEGRADED");
	assert_non_null(c);
	assert_non_null(strstr(c->message, "10/160 object copies degraded"));
	assert_non_null(strstr(c->message, "2 pgs degraded, 2 pgs undersized"));
	assert_int_equal(c->n_detail, 2);
}

static void test_reported_inactive_and_peering(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	Bs__OsdBeacon *b;

	uint32_t id;

	cluster(f);
	report_all(f, ACTIVE_CLEAN, 1);
	id = busiest(f);
	b = primary_beacon(f, id, 2, ACTIVE_CLEAN, 1);
	b->pgs[0]->state = BS__PG_STATE_FLAG__PG_PEERING;
	send(f, b, NOW);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_WARN");
	assert_int_equal(st->n_checks, 1);
	assert_int_equal(st->pgs_peering, 1);
	assert_non_null(find_check(st, "PG_PEERING"));

	b = primary_beacon(f, id, 3, ACTIVE_CLEAN, 1);
	b->pgs[0]->state = BS__PG_STATE_FLAG__PG_INACTIVE |
			   BS__PG_STATE_FLAG__PG_UNDERSIZED;
	send(f, b, NOW);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_ERR");
	assert_int_equal(st->pgs_inactive, 1);
	assert_int_equal(state_count(st, "undersized+inactive"), 1);
}

static void test_down_pg_and_unfound_objects_are_errors(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;
	struct health_pgs pgs;
	Bs__PgStatList *l;
	Bs__OsdBeacon *b;
	uint32_t id;

	cluster(f);
	report_all(f, ACTIVE_CLEAN, 1);
	/* never clean: the history stays */
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_trim_floor(&pgs), 0);
	health_pgs_release(&pgs);

	id = busiest(f);
	b = primary_beacon(f, id, 2, ACTIVE_CLEAN, 1);
	for (size_t i = 0; i < b->n_pgs; i++)
		b->pgs[i]->last_clean = 9 + i;
	b->pgs[0]->state = BS__PG_STATE_FLAG__PG_DOWN |
			   BS__PG_STATE_FLAG__PG_UNDERSIZED;
	b->pgs[0]->wait_osd = 7;
	b->pgs[0]->wait_epoch = 5;
	b->pgs[1]->unfound = 3;
	send(f, b, NOW);
	st = status(f);
	assert_string_equal(st->health, "HEALTH_ERR");
	assert_int_equal(st->pgs_down, 1);
	assert_int_equal(st->pgs_inactive, 0);
	assert_int_equal(st->objects_unfound, 3);
	c = find_check(st, "PG_DOWN");
	assert_non_null(c);
	assert_string_equal(c->severity, "HEALTH_ERR");
	assert_int_equal(c->n_detail, 1);
	assert_non_null(strstr(c->detail[0],
			       "waiting for osd.7, which may hold writes from epoch 5"));
	c = find_check(st, "OBJECT_UNFOUND");
	assert_non_null(c);
	assert_string_equal(c->message, "3 unfound objects");
	assert_null(find_check(st, "PG_AVAILABILITY"));
	assert_int_equal(state_count(st, "undersized+down"), 1);

	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	l = health_pg_list(&pgs, 1, true, false, 0);
	for (size_t i = 0; i < l->n_pgs; i++) {
		if (!(l->pgs[i]->flags & BS__PG_STATE_FLAG__PG_DOWN))
			continue;
		assert_int_equal(l->pgs[i]->wait_osd, 7);
		assert_int_equal(l->pgs[i]->wait_epoch, 5);
	}
	bs__pg_stat_list__free_unpacked(l, NULL);
	/* the other OSDs' PGs report no last_clean: no trim yet */
	assert_int_equal(health_trim_floor(&pgs), 0);
	health_pgs_release(&pgs);
}

static void test_trim_floor_is_the_oldest_last_clean(void **state)
{
	struct fx *f = *state;
	struct health_pgs pgs;
	Bs__OsdBeacon *b;

	cluster(f);
	for (size_t i = 0; i < f->st.map.n_osds; i++) {
		b = primary_beacon(f, f->st.map.osds[i]->id, 1, ACTIVE_CLEAN,
				   1);
		for (size_t k = 0; k < b->n_pgs; k++)
			b->pgs[k]->last_clean = 20 + i + k;
		send(f, b, NOW);
	}
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_trim_floor(&pgs), 20);
	health_pgs_release(&pgs);
}

static void test_down_and_out_osd_is_no_warning(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;

	cluster(f);
	mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN);
	settle(f);
	report_all(f, ACTIVE_CLEAN, 1);
	st = status(f);
	assert_non_null(find_check(st, "OSD_DOWN"));
	assert_int_equal(st->osds_up, 2);
	mark(f, 2, BS__OSD_MARK_HOW__MARK_OUT);
	settle(f);
	report_all(f, ACTIVE_CLEAN, 1);
	st = status(f);
	assert_null(find_check(st, "OSD_DOWN"));
	assert_string_equal(st->health, "HEALTH_OK");
	assert_int_equal(st->osds_in, 2);
}

static void test_mon_out_of_quorum_and_no_quorum(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;

	settle(f);
	f->mons.in_quorum[2] = false;
	st = status(f);
	assert_string_equal(st->health, "HEALTH_WARN");
	c = find_check(st, "MON_DOWN");
	assert_non_null(c);
	assert_string_equal(c->message, "mon.2 out of quorum");
	assert_int_equal(st->n_quorum, 2);
	f->mons.in_quorum[1] = false;
	st = status(f);
	assert_string_equal(find_check(st, "MON_DOWN")->message,
			    "2 mons out of quorum (mon.1, mon.2)");

	/* a follower that knows no leader answers alone */
	f->mons.from_leader = false;
	f->mons.leader_id = -1;
	f->mons.self_id = 1;
	st = health_status(NULL, &f->st.map, f->osdmap, &f->mons, &f->hc, 0,
			   NOW);
	assert_string_equal(st->health, "HEALTH_ERR");
	assert_string_equal(st->checks[0]->code, "MON_QUORUM");
	assert_non_null(strstr(st->checks[0]->message, "no quorum"));
	assert_false(st->from_leader);
	assert_int_equal(st->n_quorum, 0);
	bs__cluster_status__free_unpacked((Bs__ClusterStatus *)st, NULL);
}

static void test_nearfull_and_full_osds(void **state)
{
	struct fx *f = *state;
	const Bs__ClusterStatus *st;
	const Bs__HealthCheck *c;

	cluster(f);
	send(f, beacon_new(f, 0, 86, 100), NOW);
	send(f, beacon_new(f, 1, 84, 100), NOW);
	send(f, beacon_new(f, 2, 96, 100), NOW);
	st = status(f);
	c = find_check(st, "OSD_NEARFULL");
	assert_non_null(c);
	assert_string_equal(c->message, "1 osds near full (85% or more used)");
	assert_string_equal(c->detail[0], "osd.0 is 86.0% full");
	c = find_check(st, "OSD_FULL");
	assert_non_null(c);
	assert_string_equal(c->severity, "HEALTH_ERR");
	assert_string_equal(c->detail[0], "osd.2 is 96.0% full");
	assert_string_equal(st->health, "HEALTH_ERR");
}

static void test_stale_beacons_are_ignored(void **state)
{
	struct fx *f = *state;
	Bs__OsdBeacon *b;
	struct health_pgs pgs;
	size_t i, unknown = 0;

	cluster(f);
	b = beacon_new(f, 0, 0, 0);
	add_pg(f, b, 1, 0, ACTIVE_CLEAN, 1);
	send(f, b, NOW - GRACE - 1);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(pgs.n, PG_NUM);
	for (i = 0; i < pgs.n; i++)
		unknown += pgs.pgs[i].kind == HEALTH_PG_UNKNOWN;
	assert_int_equal(unknown, PG_NUM);
	health_pgs_release(&pgs);
	/* the same report, fresh, counts */
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL,
			   NOW - GRACE);
	assert_int_equal(pgs.pgs[0].kind, HEALTH_PG_REPORTED);
	assert_int_equal(pgs.pgs[0].reporter, 0);
	health_pgs_release(&pgs);
}

static void test_report_from_newer_epoch_wins(void **state)
{
	struct fx *f = *state;
	Bs__OsdBeacon *b;
	struct health_pgs pgs;

	cluster(f);
	b = beacon_new(f, 1, 0, 0);
	b->epoch = 7;
	add_pg(f, b, 1, 3, DEGRADED, 1);
	send(f, b, NOW);
	b = beacon_new(f, 0, 0, 0);
	b->epoch = 9;
	add_pg(f, b, 1, 3, ACTIVE_CLEAN, 1);
	send(f, b, NOW - 100);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(pgs.pgs[3].reporter, 0);
	assert_int_equal(pgs.pgs[3].stat->state, ACTIVE_CLEAN);
	assert_int_equal(pgs.pgs[3].reported_epoch, 9);
	assert_int_equal(pgs.pgs[3].age_ms, 100);
	health_pgs_release(&pgs);
}

static void test_pg_list_filters_by_pool_and_osd(void **state)
{
	struct fx *f = *state;
	const Bs__PoolInfo *rbd;
	Bs__PgStatList *l;
	struct health_pgs pgs;
	size_t i, j, with0 = 0;

	cluster(f);
	pool(f, "ssd", 1);
	settle(f);
	report_all(f, ACTIVE_CLEAN, 2);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(pgs.n, 2 * PG_NUM);
	l = health_pg_list(&pgs, f->st.map.epoch, true, false, 0);
	assert_int_equal(l->n_pgs, 2 * PG_NUM);
	assert_string_equal(l->pgs[0]->pool_name, "rbd");
	assert_string_equal(l->pgs[PG_NUM]->pool_name, "ssd");
	assert_string_equal(l->pgs[0]->state, "active+clean");
	assert_int_equal(l->pgs[0]->objects, 2);
	assert_int_equal(l->pgs[0]->n_acting, 2);
	assert_int_equal(l->pgs[0]->primary, l->pgs[0]->acting[0]);
	for (i = 0; i < l->n_pgs; i++)
		for (j = 0; j < l->pgs[i]->n_acting; j++)
			with0 += l->pgs[i]->acting[j] == 0;
	bs__pg_stat_list__free_unpacked(l, NULL);
	l = health_pg_list(&pgs, f->st.map.epoch, true, true, 0);
	assert_int_equal(l->n_pgs, with0);
	assert_true(with0 > 0 && with0 < 2 * PG_NUM);
	bs__pg_stat_list__free_unpacked(l, NULL);
	health_pgs_release(&pgs);

	rbd = mon_state_pool_by_name(&f->st, "rbd");
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, rbd, NOW);
	assert_int_equal(pgs.n, PG_NUM);
	for (i = 0; i < pgs.n; i++)
		assert_int_equal(pgs.pgs[i].pool->id, rbd->id);
	health_pgs_release(&pgs);
}

static void test_rm_check_needs_every_pg_clean_without_it(void **state)
{
	struct fx *f = *state;
	struct bs_error err = { 0 };
	struct health_pgs pgs;
	Bs__OsdBeacon *b;

	cluster(f);
	/* no reports: refused */
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_rm_check(&pgs, 2, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "is unknown"));
	health_pgs_release(&pgs);
	/* osd.2 still in acting sets */
	report_all(f, ACTIVE_CLEAN, 1);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_rm_check(&pgs, 2, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "still in the acting set"));
	health_pgs_release(&pgs);
	/* out and down: placement moves; all clean -> allowed */
	mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN);
	mark(f, 2, BS__OSD_MARK_HOW__MARK_OUT);
	settle(f);
	report_all(f, ACTIVE_CLEAN, 1);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_rm_check(&pgs, 2, &err), 0);
	health_pgs_release(&pgs);
	/* one degraded PG anywhere: refused */
	b = primary_beacon(f, busiest(f), 9, ACTIVE_CLEAN, 1);
	b->pgs[0]->state = DEGRADED;
	send(f, b, NOW);
	health_pgs_collect(&pgs, &f->om, &f->st.map, f->osdmap, NULL, NOW);
	assert_int_equal(health_rm_check(&pgs, 2, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "may hold the only copy"));
	assert_non_null(strstr(err.msg, "--force"));
	health_pgs_release(&pgs);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pg_flags_name),
		T(test_empty_cluster_is_ok),
		T(test_every_pg_active_clean_is_ok),
		T(test_unreported_pgs_are_unknown),
		T(test_pgs_with_no_member_up_are_inactive),
		T(test_pool_without_any_osd_is_a_warning),
		T(test_degraded_pgs_warn_with_counts),
		T(test_reported_inactive_and_peering),
		T(test_down_pg_and_unfound_objects_are_errors),
		T(test_trim_floor_is_the_oldest_last_clean),
		T(test_down_and_out_osd_is_no_warning),
		T(test_mon_out_of_quorum_and_no_quorum),
		T(test_nearfull_and_full_osds),
		T(test_stale_beacons_are_ignored),
		T(test_report_from_newer_epoch_wins),
		T(test_pg_list_filters_by_pool_and_osd),
		T(test_rm_check_needs_every_pg_clean_without_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
