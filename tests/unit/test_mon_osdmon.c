// SPDX-License-Identifier: Apache-2.0
/*
 * OSD failure handling on the mon: the state machine's OSD life cycle
 * (osd add/rm, marks guarded by up_from, automatic out, boot again,
 * keep_out) and the leader's failure detector (mon/osdmon.c): down after
 * the grace without beacons, on a refused connection, on agreeing
 * reports from other hosts; out after the down-out interval.  Time is
 * synthetic: every call gets its "now".
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

#include "osdmon.h"
#include "state.h"

#define GRACE		3000
#define DOWN_OUT	10000
#define PENDING		5000
#define T0		1000000		/* monotonic ms at the start */
#define WALL0		1700000000000000ull	/* wall us at T0 */

struct fx {
	struct mon_state st;
	struct osdmon om;
	struct mon_result res;
	uint64_t wall;		/* us: stamp of the next command */
};

/* ---- commands ---- */

static int apply(struct fx *f, Bs__MonCommand *cmd)
{
	cmd->stamp_us = f->wall;
	return mon_state_apply(&f->st, cmd, &f->res);
}

static int boot(struct fx *f, uint32_t id, const char *host)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", 7000 + id);
	b.id = id;
	b.addr = addr;
	b.sends_beacons = true;
	b.host = (char *)host;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	return apply(f, &cmd);
}

static int mark(struct fx *f, uint32_t id, Bs__OsdMarkHow how,
		uint64_t up_from)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark m = BS__OSD_MARK__INIT;

	m.id = id;
	m.how = how;
	m.up_from = up_from;
	m.reason = "test";
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &m;
	return apply(f, &cmd);
}

static int osd_add(struct fx *f, bool with_id, uint32_t id)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdAdd a = BS__OSD_ADD__INIT;

	a.with_id = with_id;
	a.id = id;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_ADD;
	cmd.osd_add = &a;
	return apply(f, &cmd);
}

static int osd_rm(struct fx *f, uint32_t id)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdRm r = BS__OSD_RM__INIT;

	r.id = id;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_RM;
	cmd.osd_rm = &r;
	return apply(f, &cmd);
}

static const Bs__OsdInfo *osd(struct fx *f, uint32_t id)
{
	const Bs__OsdInfo *o = mon_state_osd(&f->st, id);

	assert_non_null(o);
	return o;
}

/* Apply what the detector decided, as the leader would. */
static void apply_actions(struct fx *f, const struct osdmon_action *a,
			  size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(mark(f, a[i].id, a[i].how, a[i].up_from), 0);
}

/* ---- detector inputs ---- */

static int beacon(struct fx *f, uint32_t id, uint64_t seq, uint64_t now)
{
	Bs__OsdBeacon *b = malloc(sizeof(*b));

	bs__osd_beacon__init(b);
	b->id = id;
	b->epoch = f->st.map.epoch;
	b->up_from = mon_state_osd(&f->st, id) ?
		     mon_state_osd(&f->st, id)->up_from : 0;
	b->seq = seq;
	return osdmon_beacon(&f->om, &f->st.map, b, now);
}

static int report(struct fx *f, uint32_t reporter, uint32_t target,
		  uint64_t failed_for, bool immediate, bool alive,
		  uint64_t now)
{
	Bs__OsdFailure r = BS__OSD_FAILURE__INIT;

	r.reporter = reporter;
	r.target = target;
	r.epoch = f->st.map.epoch;
	r.failed_for_ms = failed_for;
	r.immediate = immediate;
	r.alive = alive;
	return osdmon_failure(&f->om, &f->st.map, &r, now);
}

static size_t check(struct fx *f, uint64_t now, struct osdmon_action *a,
		    size_t max)
{
	return osdmon_check(&f->om, &f->st.map, now, WALL0 + (now - T0) * 1000,
			    a, max);
}

static int setup_with(void **state, unsigned reporters, uint64_t down_out)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct osdmon_conf c = {
		.grace_ms = GRACE,
		.down_out_ms = down_out,
		.min_down_reporters = reporters,
		.pending_ms = PENDING,
	};

	mon_state_init(&f->st);
	osdmon_init(&f->om, &c);
	f->wall = WALL0;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 2, DOWN_OUT);
}

static int setup_no_out(void **state)
{
	return setup_with(state, 2, 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	osdmon_release(&f->om);
	mon_state_release(&f->st);
	free(f);
	return 0;
}

/* Three OSDs on three hosts, all up, the detector started at T0. */
static void three_hosts(struct fx *f)
{
	assert_int_equal(boot(f, 0, "h0"), 0);
	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_int_equal(boot(f, 2, "h2"), 0);
	osdmon_reset(&f->om, &f->st.map, T0);
}

/* osd.0 and osd.1 send a beacon at @t. */
static void beat(struct fx *f, uint64_t t)
{
	assert_int_equal(beacon(f, 0, t, t), 0);
	assert_int_equal(beacon(f, 1, t, t), 0);
}

/* ---- the state machine ---- */

static void test_osd_add_allocates_lowest_free_id(void **state)
{
	struct fx *f = *state;
	uint64_t e;

	assert_int_equal(boot(f, 0, "h0"), 0);
	assert_int_equal(boot(f, 2, "h2"), 0);
	e = f->st.map.epoch;
	assert_int_equal(osd_add(f, false, 0), 0);
	assert_int_equal(f->res.osd_id, 1);
	assert_true(f->res.map_changed);
	assert_int_equal(f->st.map.epoch, e + 1);
	assert_false(osd(f, 1)->up);
	assert_false(osd(f, 1)->in);
	assert_int_equal(osd_add(f, false, 0), 0);
	assert_int_equal(f->res.osd_id, 3);
	assert_int_equal(osd_add(f, true, 7), 0);
	assert_int_equal(f->res.osd_id, 7);
	assert_int_equal(osd_add(f, true, 7), -EEXIST);
	assert_string_equal(f->res.err.msg, "osd.7 already exists");
	assert_int_equal(osd_add(f, true, MON_OSD_MAX_ID + 1), -EINVAL);
	/* still sorted by id */
	assert_int_equal(f->st.map.n_osds, 5);
	for (size_t i = 1; i < f->st.map.n_osds; i++)
		assert_true(f->st.map.osds[i - 1]->id < f->st.map.osds[i]->id);
}

static void test_added_osd_boots_up_and_in(void **state)
{
	struct fx *f = *state;

	assert_int_equal(osd_add(f, false, 0), 0);
	assert_int_equal(boot(f, 0, "h0"), 0);
	assert_true(osd(f, 0)->up);
	assert_true(osd(f, 0)->in);
	assert_string_equal(osd(f, 0)->host, "h0");
	assert_int_equal(osd(f, 0)->up_from, f->st.map.epoch);
}

static void test_osd_rm_refused_while_up_or_in(void **state)
{
	struct fx *f = *state;
	uint64_t e;

	assert_int_equal(osd_rm(f, 4), -ENOENT);
	assert_int_equal(boot(f, 4, "h4"), 0);
	assert_int_equal(osd_rm(f, 4), -EBUSY);
	assert_string_equal(f->res.err.msg, "osd.4 is up: stop it first");
	assert_int_equal(mark(f, 4, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	assert_int_equal(osd_rm(f, 4), -EBUSY);
	assert_non_null(strstr(f->res.err.msg, "osd.4 is in: mark it out first"));
	assert_int_equal(mark(f, 4, BS__OSD_MARK_HOW__MARK_OUT, 0), 0);
	e = f->st.map.epoch;
	assert_int_equal(osd_rm(f, 4), 0);
	assert_string_equal(f->res.msg, "osd.4 removed");
	assert_int_equal(f->st.map.epoch, e + 1);
	assert_null(mon_state_osd(&f->st, 4));
	assert_int_equal(f->st.map.n_osds, 0);
}

static void test_mark_down_stamps_the_time(void **state)
{
	struct fx *f = *state;

	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_int_equal(osd(f, 1)->down_stamp_us, 0);
	f->wall = WALL0 + 5;
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	assert_int_equal(osd(f, 1)->down_stamp_us, WALL0 + 5);
	/* marking again changes nothing, not even the stamp */
	f->wall = WALL0 + 9;
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	assert_false(f->res.map_changed);
	assert_int_equal(osd(f, 1)->down_stamp_us, WALL0 + 5);
}

static void test_mark_with_old_up_from_does_nothing(void **state)
{
	struct fx *f = *state;
	uint64_t old_up_from, e;

	assert_int_equal(boot(f, 1, "h1"), 0);
	old_up_from = osd(f, 1)->up_from;
	assert_int_equal(boot(f, 1, "h1"), 0);	/* restarted */
	assert_true(osd(f, 1)->up_from > old_up_from);
	e = f->st.map.epoch;
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN, old_up_from),
			 0);
	assert_false(f->res.map_changed);
	assert_int_equal(f->st.map.epoch, e);
	assert_true(osd(f, 1)->up);
	assert_non_null(strstr(f->res.msg, "booted again"));
	/* the current incarnation is marked */
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN,
			      osd(f, 1)->up_from), 0);
	assert_false(osd(f, 1)->up);
	assert_string_equal(f->res.msg, "osd.1 marked down: test");
}

static void test_auto_out_then_boot_brings_it_back_in(void **state)
{
	struct fx *f = *state;

	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_OUT_AUTO, 0), 0);
	assert_true(f->res.map_changed);
	assert_false(osd(f, 1)->in);
	assert_false(osd(f, 1)->keep_out);
	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_true(osd(f, 1)->up);
	assert_true(osd(f, 1)->in);
}

static void test_auto_out_of_an_up_osd_does_nothing(void **state)
{
	struct fx *f = *state;
	uint64_t e;

	assert_int_equal(boot(f, 1, "h1"), 0);
	e = f->st.map.epoch;
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_OUT_AUTO, 0), 0);
	assert_false(f->res.map_changed);
	assert_int_equal(f->st.map.epoch, e);
	assert_true(osd(f, 1)->in);
}

static void test_operator_out_survives_boot(void **state)
{
	struct fx *f = *state;

	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_OUT, 0), 0);
	assert_true(osd(f, 1)->keep_out);
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	assert_int_equal(boot(f, 1, "h1"), 0);
	assert_true(osd(f, 1)->up);
	assert_false(osd(f, 1)->in);
	assert_int_equal(mark(f, 1, BS__OSD_MARK_HOW__MARK_IN, 0), 0);
	assert_true(osd(f, 1)->in);
	assert_false(osd(f, 1)->keep_out);
}

static void test_snapshot_keeps_down_stamp(void **state)
{
	struct fx *f = *state;
	struct mon_state copy;
	struct bs_error err = { 0 };
	size_t len;
	uint8_t *buf;

	assert_int_equal(boot(f, 3, "h3"), 0);
	f->wall = WALL0 + 77;
	assert_int_equal(mark(f, 3, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	len = mon_state_encoded_size(&f->st);
	buf = malloc(len);
	assert_int_equal(mon_state_encode(&f->st, buf), len);
	mon_state_init(&copy);
	assert_int_equal(mon_state_decode(&copy, buf, len, &err), 0);
	assert_int_equal(mon_state_osd(&copy, 3)->down_stamp_us, WALL0 + 77);
	mon_state_release(&copy);
	free(buf);
}

/* ---- the failure detector ---- */

static void test_beacons_keep_an_osd_up(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t;

	three_hosts(f);
	for (t = T0; t <= T0 + 4 * GRACE; t += 1000) {
		assert_int_equal(beacon(f, 0, t, t), 0);
		assert_int_equal(beacon(f, 1, t, t), 0);
		assert_int_equal(beacon(f, 2, t, t), 0);
		assert_int_equal(check(f, t, a, 4), 0);
	}
}

static void test_no_beacon_for_grace_marks_down(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t;

	three_hosts(f);
	/* osd.2 never sends one; the others do */
	for (t = T0; t < T0 + GRACE; t += 500) {
		beacon(f, 0, t, t);
		beacon(f, 1, t, t);
		assert_int_equal(check(f, t, a, 4), 0);
	}
	t = T0 + GRACE;
	beacon(f, 0, t, t);
	beacon(f, 1, t, t);
	assert_int_equal(check(f, t, a, 4), 1);
	assert_int_equal(a[0].id, 2);
	assert_int_equal(a[0].how, BS__OSD_MARK_HOW__MARK_DOWN);
	assert_int_equal(a[0].up_from, osd(f, 2)->up_from);
	assert_string_equal(a[0].reason, "no beacon for 3000 ms");
	/* pending: not proposed again while the mark is in flight */
	assert_int_equal(check(f, t + 100, a, 4), 0);
	apply_actions(f, a, 1);
	assert_false(osd(f, 2)->up);
	assert_true(osd(f, 2)->in);
}

static void test_osd_without_beacons_is_judged_by_reports_only(void **state)
{
	struct fx *f = *state;
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdBoot b = BS__OSD_BOOT__INIT;
	struct osdmon_action a[4];

	three_hosts(f);
	/* osd.2 restarts as an OSD that does not send beacons */
	b.id = 2;
	b.addr = "127.0.0.1:7002";
	b.host = "h2";
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_BOOT;
	cmd.osd_boot = &b;
	assert_int_equal(apply(f, &cmd), 0);
	assert_false(osd(f, 2)->sends_beacons);
	beat(f, T0 + 10 * GRACE);
	assert_int_equal(check(f, T0 + 10 * GRACE, a, 4), 0);
	assert_int_equal(report(f, 0, 2, 0, true, false, T0 + 10 * GRACE), 1);
	assert_int_equal(check(f, T0 + 10 * GRACE, a, 4), 1);
	assert_int_equal(a[0].id, 2);
}

static void test_unpend_allows_a_new_proposal(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];

	three_hosts(f);
	assert_int_equal(check(f, T0 + GRACE, a, 4), 3);
	assert_int_equal(check(f, T0 + GRACE + 1, a, 4), 0);
	osdmon_unpend(&f->om, 1);
	assert_int_equal(check(f, T0 + GRACE + 2, a, 4), 1);
	assert_int_equal(a[0].id, 1);
	/* and the pending time runs out by itself */
	assert_int_equal(check(f, T0 + GRACE + PENDING + 1, a, 4), 2);
}

static void test_reset_gives_every_osd_a_whole_grace(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];

	three_hosts(f);
	/* a new leader at T0 + 2 s knows no beacons: it waits a grace */
	osdmon_reset(&f->om, &f->st.map, T0 + 2000);
	assert_int_equal(check(f, T0 + GRACE, a, 4), 0);
	assert_int_equal(check(f, T0 + 2000 + GRACE - 1, a, 4), 0);
	assert_int_equal(check(f, T0 + 2000 + GRACE, a, 4), 3);
}

static void test_connection_refused_marks_down_at_once(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];

	three_hosts(f);
	assert_int_equal(report(f, 0, 2, 0, true, false, T0 + 10), 1);
	assert_int_equal(check(f, T0 + 10, a, 4), 1);
	assert_int_equal(a[0].id, 2);
	assert_string_equal(a[0].reason,
			    "osd.0 found it gone (connection refused)");
}

static void test_reports_need_min_reporters_and_grace(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t = T0 + 100;

	three_hosts(f);
	beacon(f, 2, 1, t);
	/* one reporter of the two needed, failed for the whole grace */
	assert_int_equal(report(f, 0, 2, GRACE, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 0);
	/* the second one has not waited a grace yet */
	assert_int_equal(report(f, 1, 2, 1000, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 0);
	t += GRACE - 1000 - 1;
	beacon(f, 2, 2, t);	/* its beacons still come: network split */
	/* refreshes of known reports */
	assert_int_equal(report(f, 0, 2, GRACE, false, false, t), 0);
	assert_int_equal(report(f, 1, 2, GRACE - 1, false, false, t), 0);
	assert_int_equal(check(f, t, a, 4), 0);
	t += 1;
	beacon(f, 0, 3, t);
	beacon(f, 1, 3, t);
	assert_int_equal(check(f, t, a, 4), 1);
	assert_int_equal(a[0].id, 2);
	assert_non_null(strstr(a[0].reason, "by osd.0, osd.1"));
}

static void test_same_host_reporters_do_not_count(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t = T0 + 100;

	/* osd.0 and osd.1 share host h0; osd.2 is elsewhere */
	assert_int_equal(boot(f, 0, "h0"), 0);
	assert_int_equal(boot(f, 1, "h0"), 0);
	assert_int_equal(boot(f, 2, "h2"), 0);
	osdmon_reset(&f->om, &f->st.map, T0);
	beacon(f, 0, 1, t);
	beacon(f, 1, 1, t);
	beacon(f, 2, 1, t);
	/* osd.1's report on osd.0 is from its own host: ignored */
	assert_int_equal(report(f, 1, 0, GRACE, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 0);
	/* osd.2 is the only other host: min(2, 1) = 1 reporter suffices */
	assert_int_equal(report(f, 2, 0, GRACE, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 1);
	assert_int_equal(a[0].id, 0);
	assert_non_null(strstr(a[0].reason, "by osd.2"));
	assert_null(strstr(a[0].reason, "osd.1"));
}

static void test_one_host_cluster_counts_its_reporters(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t = T0 + 100;

	assert_int_equal(boot(f, 0, "lab"), 0);
	assert_int_equal(boot(f, 1, "lab"), 0);
	assert_int_equal(boot(f, 2, "lab"), 0);
	osdmon_reset(&f->om, &f->st.map, T0);
	assert_int_equal(report(f, 1, 0, GRACE, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 0);
	assert_int_equal(report(f, 2, 0, GRACE, false, false, t), 1);
	assert_int_equal(check(f, t, a, 4), 1);
	assert_int_equal(a[0].id, 0);
}

static void test_reports_expire_and_can_be_cancelled(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t = T0 + 100, u;

	three_hosts(f);
	assert_int_equal(report(f, 0, 2, GRACE, false, false, t), 1);
	assert_int_equal(report(f, 0, 2, 0, false, true, t + 1), 1);
	assert_int_equal(osdmon_osd(&f->om, 2)->n_reports, 0);
	assert_int_equal(report(f, 0, 2, 0, false, true, t + 1), 0);
	/*
	 * osd.0 reports once and goes quiet: its report is dropped a grace
	 * later, before osd.1's own (younger) failure counts.
	 */
	assert_int_equal(report(f, 0, 2, GRACE, false, false, t), 1);
	for (u = t; u <= t + 3 * GRACE; u += 500) {
		beat(f, u);
		beacon(f, 2, u, u);
		if (u >= t + 1000 && u <= t + GRACE + 1000)
			report(f, 1, 2, 0, false, false, u);
		assert_int_equal(check(f, u, a, 4), 0);
	}
	assert_int_equal(osdmon_osd(&f->om, 2)->n_reports, 0);
}

static void test_stale_reports_are_ignored(void **state)
{
	struct fx *f = *state;
	Bs__OsdFailure r = BS__OSD_FAILURE__INIT;

	three_hosts(f);
	/* the reporter has not seen osd.2's latest boot */
	r.reporter = 0;
	r.target = 2;
	r.epoch = osd(f, 2)->up_from - 1;
	r.immediate = true;
	assert_int_equal(osdmon_failure(&f->om, &f->st.map, &r, T0), -ESTALE);
	r.epoch = f->st.map.epoch;
	r.reporter = 2;
	assert_int_equal(osdmon_failure(&f->om, &f->st.map, &r, T0), -EINVAL);
	r.reporter = 9;
	assert_int_equal(osdmon_failure(&f->om, &f->st.map, &r, T0), -ENOENT);
	/* a down reporter does not count */
	assert_int_equal(mark(f, 0, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	r.reporter = 0;
	assert_int_equal(osdmon_failure(&f->om, &f->st.map, &r, T0), -ESTALE);
}

static void test_boot_again_resets_reports_and_grace(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t = T0 + GRACE - 100;

	three_hosts(f);
	beacon(f, 0, 1, t);
	beacon(f, 1, 1, t);
	assert_int_equal(report(f, 0, 2, GRACE, false, false, t), 1);
	assert_int_equal(boot(f, 2, "h2"), 0);	/* osd.2 restarted */
	assert_int_equal(check(f, t, a, 4), 0);
	assert_int_equal(osdmon_osd(&f->om, 2)->n_reports, 0);
	/* its grace counts from the new boot */
	beacon(f, 0, 2, T0 + GRACE + 100);
	beacon(f, 1, 2, T0 + GRACE + 100);
	assert_int_equal(check(f, T0 + GRACE + 100, a, 4), 0);
	assert_int_equal(check(f, t + GRACE, a, 4), 1);
	assert_int_equal(a[0].id, 2);
}

static void test_beacon_from_old_boot_or_out_of_order_is_ignored(void **state)
{
	struct fx *f = *state;
	Bs__OsdBeacon *b;

	three_hosts(f);
	assert_int_equal(beacon(f, 1, 5, T0 + 1), 0);
	assert_int_equal(beacon(f, 1, 4, T0 + 2), -EALREADY);
	assert_int_equal(osdmon_osd(&f->om, 1)->beacon->seq, 5);
	b = malloc(sizeof(*b));
	bs__osd_beacon__init(b);
	b->id = 1;
	b->up_from = osd(f, 1)->up_from - 1;
	assert_int_equal(osdmon_beacon(&f->om, &f->st.map, b, T0 + 3), -ESTALE);
	b = malloc(sizeof(*b));
	bs__osd_beacon__init(b);
	b->id = 42;
	assert_int_equal(osdmon_beacon(&f->om, &f->st.map, b, T0 + 3), -ENOENT);
	assert_int_equal(osdmon_osd(&f->om, 1)->beacon_ms, T0 + 1);
}

static void test_down_osd_goes_out_after_the_interval(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t0 = T0 + 100, t;

	three_hosts(f);
	f->wall = WALL0 + 100 * 1000;	/* the leader's stamp at t0 */
	assert_int_equal(mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	t = t0 + DOWN_OUT - 1;
	beat(f, t);
	assert_int_equal(check(f, t, a, 4), 0);
	t = t0 + DOWN_OUT;
	beat(f, t);
	assert_int_equal(check(f, t, a, 4), 1);
	assert_int_equal(a[0].id, 2);
	assert_int_equal(a[0].how, BS__OSD_MARK_HOW__MARK_OUT_AUTO);
	assert_non_null(strstr(a[0].reason, "down for 10 s"));
	apply_actions(f, a, 1);
	assert_false(osd(f, 2)->in);
	assert_false(osd(f, 2)->keep_out);
	/* out now: nothing more to do */
	t = t0 + 2 * DOWN_OUT + PENDING;
	beat(f, t);
	assert_int_equal(check(f, t, a, 4), 0);
	/* it comes back: up and in again */
	assert_int_equal(boot(f, 2, "h2"), 0);
	assert_true(osd(f, 2)->up);
	assert_true(osd(f, 2)->in);
}

static void test_down_out_interval_zero_never_outs(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];

	three_hosts(f);
	assert_int_equal(mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	beat(f, T0 + 100 * DOWN_OUT);
	assert_int_equal(check(f, T0 + 100 * DOWN_OUT, a, 4), 0);
}

static void test_operator_out_osd_is_not_marked_again(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];

	three_hosts(f);
	assert_int_equal(mark(f, 2, BS__OSD_MARK_HOW__MARK_OUT, 0), 0);
	assert_int_equal(mark(f, 2, BS__OSD_MARK_HOW__MARK_DOWN, 0), 0);
	beat(f, T0 + 2 * DOWN_OUT);
	assert_int_equal(check(f, T0 + 2 * DOWN_OUT, a, 4), 0);
	assert_int_equal(boot(f, 2, "h2"), 0);
	assert_false(osd(f, 2)->in);	/* keep_out */
}

/* boot -> up/in; silent -> down; down long -> out; boot -> up/in. */
static void test_whole_life_cycle(void **state)
{
	struct fx *f = *state;
	struct osdmon_action a[4];
	uint64_t t;
	size_t n;

	three_hosts(f);
	for (t = T0; t < T0 + 30000; t += 100) {
		f->wall = WALL0 + (t - T0) * 1000;
		beat(f, t);
		if (t < T0 + 1000)
			beacon(f, 2, t, t);	/* then osd.2 dies */
		n = check(f, t, a, 4);
		apply_actions(f, a, n);
		/* its last beacon at 0.9 s: down at 3.9 s */
		if (t == T0 + 900 + GRACE - 100)
			assert_true(osd(f, 2)->up);
		if (t == T0 + 900 + GRACE + 100) {
			assert_false(osd(f, 2)->up);
			assert_true(osd(f, 2)->in);
		}
	}
	/* out at 13.9 s */
	assert_false(osd(f, 2)->up);
	assert_false(osd(f, 2)->in);
	assert_true(osd(f, 0)->up && osd(f, 0)->in);
	assert_true(osd(f, 1)->up && osd(f, 1)->in);
	assert_int_equal(boot(f, 2, "h2"), 0);
	assert_true(osd(f, 2)->up && osd(f, 2)->in);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_osd_add_allocates_lowest_free_id),
		T(test_added_osd_boots_up_and_in),
		T(test_osd_rm_refused_while_up_or_in),
		T(test_mark_down_stamps_the_time),
		T(test_mark_with_old_up_from_does_nothing),
		T(test_auto_out_then_boot_brings_it_back_in),
		T(test_auto_out_of_an_up_osd_does_nothing),
		T(test_operator_out_survives_boot),
		T(test_snapshot_keeps_down_stamp),
		T(test_beacons_keep_an_osd_up),
		T(test_no_beacon_for_grace_marks_down),
		T(test_osd_without_beacons_is_judged_by_reports_only),
		T(test_unpend_allows_a_new_proposal),
		T(test_reset_gives_every_osd_a_whole_grace),
		T(test_connection_refused_marks_down_at_once),
		T(test_reports_need_min_reporters_and_grace),
		T(test_same_host_reporters_do_not_count),
		T(test_one_host_cluster_counts_its_reporters),
		T(test_reports_expire_and_can_be_cancelled),
		T(test_stale_reports_are_ignored),
		T(test_boot_again_resets_reports_and_grace),
		T(test_beacon_from_old_boot_or_out_of_order_is_ignored),
		T(test_down_osd_goes_out_after_the_interval),
		cmocka_unit_test_setup_teardown(
			test_down_out_interval_zero_never_outs, setup_no_out,
			teardown),
		T(test_operator_out_osd_is_not_marked_again),
		T(test_whole_life_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
