// SPDX-License-Identifier: Apache-2.0
/*
 * The mon's side of failure handling: OSD beacons and failure reports
 * (one-way; a follower relays them to the leader), the leader's tick that
 * turns the failure detector's decisions (osdmon.c) into OsdMark
 * proposals, and the health reads: ClusterStatus and the PG listing
 * (health.c).  Soft state lives only on the leader and starts over, with
 * a whole grace for every OSD, when a mon becomes the leader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bs/log.h"
#include "bs/msg_types.h"
#include "health.h"
#include "mon.h"

#define MARKS_PER_TICK		16
#define MARKS_IN_FLIGHT_MAX	64
#define TRIM_CHECK_MS		5000	/* look for history to trim */

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

static const Bs__ClusterMap *cur_map(struct mon *mon)
{
	return &mon->fsm.state.map;
}

static bool is_leader(struct mon *mon)
{
	return mon->raft_started && !mon->stopping &&
	       raft_state(&mon->raft) == RAFT_LEADER;
}

static void osdmon_conf_from(struct mon *mon, struct osdmon_conf *c)
{
	const struct bs_global_conf *g = &mon->global;

	c->grace_ms = g->osd_heartbeat_grace;
	c->down_out_ms = g->mon_osd_down_out_interval;
	c->min_down_reporters = (unsigned)g->mon_osd_min_down_reporters;
	c->pending_ms = g->mon_command_timeout;
}

void osd_service_init(struct mon *mon)
{
	struct osdmon_conf c;

	osdmon_conf_from(mon, &c);
	osdmon_init(&mon->osdmon, &c);
}

void osd_service_release(struct mon *mon)
{
	osdmon_release(&mon->osdmon);
	if (mon->osdmap)
		bs_osdmap_put(&mon->osdmap);
}

/* Placement of the applied map, rebuilt once per epoch; may be NULL. */
static const struct bs_osdmap *placement(struct mon *mon)
{
	static struct bs_ratelimit rl = BS_RATELIMIT_INIT;
	const Bs__ClusterMap *map = cur_map(mon);
	struct bs_error err = { 0 };

	if (mon->osdmap && mon->osdmap->epoch == map->epoch)
		return mon->osdmap;
	if (mon->osdmap)
		bs_osdmap_put(&mon->osdmap);
	if (bs_osdmap_new(&mon->osdmap, map, &err)) {
		bs_warn_rl(&rl, "cannot compute placement at epoch %" PRIu64
			   ": %s", map->epoch, err.msg);
		mon->osdmap = NULL;
	}
	return mon->osdmap;
}

/* ---- proposing marks ---- */

struct mark_req {
	struct raft_apply apply;
	struct mon *mon;
	uint32_t id;
};

static void mark_cb(struct raft_apply *req, int status, void *result)
{
	struct mark_req *m = req->data;
	struct mon *mon = m->mon;

	mon->marks_in_flight--;
	if (status) {
		if (!mon->stopping)
			bs_notice("marking osd.%u was not committed (%s); will retry",
				  m->id, raft_strerror(status));
		osdmon_unpend(&mon->osdmon, m->id);
	}
	free(m);
}

static void propose_mark(struct mon *mon, const struct osdmon_action *a)
{
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__OsdMark mark = BS__OSD_MARK__INIT;
	struct raft_buffer buf;
	struct mark_req *m;
	int rv;

	mark.id = a->id;
	mark.how = a->how;
	mark.up_from = a->up_from;
	mark.reason = (char *)a->reason;
	cmd.cmd_case = BS__MON_COMMAND__CMD_OSD_MARK;
	cmd.osd_mark = &mark;
	cmd.proposal = mon_next_proposal(mon);
	cmd.stamp_us = wall_us();
	bs_notice("marking osd.%u %s: %s", a->id,
		  a->how == BS__OSD_MARK_HOW__MARK_DOWN ? "down" : "out",
		  a->reason);
	if (mon_fsm_encode_command(&cmd, &buf)) {
		osdmon_unpend(&mon->osdmon, a->id);
		return;
	}
	m = bs_xcalloc(1, sizeof(*m));
	m->mon = mon;
	m->id = a->id;
	m->apply.data = m;
	rv = raft_apply(&mon->raft, &m->apply, &buf, 1, mark_cb);
	if (rv) {
		raft_free(buf.base);
		free(m);
		bs_dbg(BS_SUB_MON, "raft_apply(osd_mark): %s",
		       raft_strerror(rv));
		osdmon_unpend(&mon->osdmon, a->id);
		return;
	}
	mon->marks_in_flight++;
}

/* ---- trimming the map history ---- */

static void trim_cb(struct raft_apply *req, int status, void *result)
{
	struct mon *mon = req->data;

	(void)result;
	mon->trim_in_flight = false;
	if (status && !mon->stopping)
		bs_notice("map history trim was not committed (%s)",
			  raft_strerror(status));
	free(req);
}

/*
 * Drop the map history no PG needs any more: the epochs up to the
 * oldest one at which some PG was last known clean (leader only).
 */
static void trim_history(struct mon *mon)
{
	const Bs__ClusterMap *map = cur_map(mon);
	Bs__MonCommand cmd = BS__MON_COMMAND__INIT;
	Bs__MapTrim trim = BS__MAP_TRIM__INIT;
	struct raft_buffer buf;
	struct raft_apply *req;
	struct health_pgs pgs;
	uint64_t now = bs_now_ms();
	int rv;

	if (!map->n_history || mon->trim_in_flight || now < mon->next_trim_ms)
		return;
	mon->next_trim_ms = now + TRIM_CHECK_MS;
	osdmon_sync(&mon->osdmon, map, now);
	health_pgs_collect(&pgs, &mon->osdmon, map, placement(mon), NULL,
			   now);
	trim.upto = health_trim_floor(&pgs);
	health_pgs_release(&pgs);
	if (!trim.upto || map->history[0]->epoch > trim.upto)
		return;
	cmd.cmd_case = BS__MON_COMMAND__CMD_MAP_TRIM;
	cmd.map_trim = &trim;
	cmd.proposal = mon_next_proposal(mon);
	cmd.stamp_us = wall_us();
	if (mon_fsm_encode_command(&cmd, &buf))
		return;
	req = bs_xcalloc(1, sizeof(*req));
	req->data = mon;
	rv = raft_apply(&mon->raft, req, &buf, 1, trim_cb);
	if (rv) {
		raft_free(buf.base);
		free(req);
		bs_dbg(BS_SUB_MON, "raft_apply(map_trim): %s",
		       raft_strerror(rv));
		return;
	}
	bs_dbg(BS_SUB_MON, "trimming the map history to epoch %" PRIu64,
	       trim.upto);
	mon->trim_in_flight = true;
}

/* Ask the detector and propose what it decides (leader only). */
static void judge(struct mon *mon)
{
	struct osdmon_action acts[MARKS_PER_TICK];
	size_t n, i;

	/* the applied map must be the committed one to judge from it */
	if (raft_last_applied(&mon->raft) < mon->raft.commit_index)
		return;
	if (mon->marks_in_flight >= MARKS_IN_FLIGHT_MAX)
		return;
	n = osdmon_check(&mon->osdmon, cur_map(mon), bs_now_ms(), wall_us(),
			 acts, ARRAY_SIZE(acts));
	for (i = 0; i < n && is_leader(mon); i++)
		propose_mark(mon, &acts[i]);
	for (; i < n; i++)
		osdmon_unpend(&mon->osdmon, acts[i].id);
	if (is_leader(mon))
		trim_history(mon);
}

void osd_service_tick(struct mon *mon)
{
	bool leader = is_leader(mon);
	uint64_t now = bs_now_ms();

	if (leader != mon->osd_leader) {
		/* soft state belongs to one leadership: start over */
		osdmon_reset(&mon->osdmon, leader ? cur_map(mon) : NULL, now);
		mon->osd_leader = leader;
		mon->osd_leader_ms = now;
		if (leader)
			bs_notice("watching %zu osds: each has %" PRIu64
				  " ms to send a beacon", cur_map(mon)->n_osds,
				  mon->global.osd_heartbeat_grace);
	}
	if (leader)
		judge(mon);
}

/* ---- beacons and failure reports ---- */

/* A follower passes one-way messages on to the leader, once. */
static void relay(struct mon *mon, struct bs_msg *msg)
{
	struct mon_member *leader = mon_leader(mon);
	struct bs_error err = { 0 };
	int ret;

	if (!leader || leader->id == mon->id)
		return;
	if (!leader->conn &&
	    bs_msgr_connect(mon->msgr, leader->addr, &leader->conn, &err))
		return;
	if (msg->hdr.type == BS_MSG_MON_OSD_BEACON)
		((Bs__OsdBeacon *)msg->body)->relayed = true;
	else
		((Bs__OsdFailure *)msg->body)->relayed = true;
	ret = bs_conn_send(leader->conn, msg->hdr.type, msg->body, NULL, 0);
	if (ret)
		bs_dbg(BS_SUB_MON, "relaying %s to mon.%u: %s",
		       bs_msg_type_find(msg->hdr.type)->name, leader->id,
		       strerror(-ret));
}

static void on_beacon(struct mon *mon, struct bs_msg *msg)
{
	Bs__OsdBeacon *b = (Bs__OsdBeacon *)msg->body;
	uint32_t id = b->id;
	int ret;

	msg->body = NULL;	/* the detector takes the beacon */
	ret = osdmon_beacon(&mon->osdmon, cur_map(mon), b, bs_now_ms());
	if (ret)
		bs_dbg(BS_SUB_MON, "beacon of osd.%u ignored: %s", id,
		       strerror(-ret));
}

static void on_failure(struct mon *mon, struct bs_msg *msg)
{
	const Bs__OsdFailure *f = (const Bs__OsdFailure *)msg->body;
	int ret;

	ret = osdmon_failure(&mon->osdmon, cur_map(mon), f, bs_now_ms());
	if (ret < 0) {
		bs_dbg(BS_SUB_MON, "failure report osd.%u -> osd.%u ignored: %s",
		       f->reporter, f->target, strerror(-ret));
		return;
	}
	if (ret == 0)
		;	/* a refresh: logged when it was new */
	else if (f->alive)
		bs_info("osd.%u reports osd.%u alive again", f->reporter,
			f->target);
	else
		bs_info("osd.%u reports osd.%u failed for %" PRIu64 " ms%s",
			f->reporter, f->target, f->failed_for_ms,
			f->immediate ? " (connection refused)" : "");
	/* judge at once: a refused connection means down now */
	judge(mon);
}

void osd_service_oneway(struct mon *mon, struct bs_conn *conn,
			struct bs_msg *msg)
{
	bool relayed = msg->hdr.type == BS_MSG_MON_OSD_BEACON ?
		((Bs__OsdBeacon *)msg->body)->relayed :
		((Bs__OsdFailure *)msg->body)->relayed;

	if (!is_leader(mon)) {
		if (!relayed)
			relay(mon, msg);
	} else if (msg->hdr.type == BS_MSG_MON_OSD_BEACON) {
		on_beacon(mon, msg);
	} else {
		on_failure(mon, msg);
	}
	bs_msg_free(msg);
}

/* ---- health reads ---- */

static void mons_view(struct mon *mon, bool leader, struct health_mons *v)
{
	struct mon_member *l = mon_leader(mon);
	unsigned i;

	memset(v, 0, sizeof(*v));
	v->self_id = mon->id;
	v->from_leader = leader;
	v->leader_id = l ? (int32_t)l->id : -1;
	v->term = mon->raft.current_term;
	for (i = 0; i < mon->n_members && i < HEALTH_MAX_MONS; i++) {
		v->ids[i] = mon->members[i].id;
		v->in_quorum[i] = leader &&
			(mon->members[i].id == mon->id ||
			 mon_member_in_quorum(mon, &mon->members[i]));
	}
	v->n = i;
}

void osd_service_status(struct mon *mon, struct bs_conn *conn,
			struct bs_msg *msg)
{
	bool leader = is_leader(mon);
	struct health_mons v;
	struct health_conf hc = {
		.nearfull_pct = (unsigned)mon->global.mon_osd_nearfull_percent,
		.full_pct = (unsigned)mon->global.mon_osd_full_percent,
	};
	Bs__ClusterStatus *st;

	if (leader) {
		mon_quorum_seen(mon);	/* samples who we heard */
		osdmon_sync(&mon->osdmon, cur_map(mon), bs_now_ms());
	}
	mons_view(mon, leader, &v);
	st = health_status(leader ? &mon->osdmon : NULL, cur_map(mon),
			   placement(mon), &v, &hc, mon->fsm.state.n_volumes,
			   bs_now_ms());
	bs_conn_reply(conn, msg, BS_MSG_MON_CLUSTER_STATUS_REPLY, &st->base,
		      NULL, 0, NULL, NULL);
	bs__cluster_status__free_unpacked(st, NULL);
}

void osd_service_pg_query(struct mon *mon, struct bs_conn *conn,
			  struct bs_msg *msg)
{
	const Bs__PgStatQuery *q = (const Bs__PgStatQuery *)msg->body;
	const Bs__PoolInfo *pool = NULL;
	bool leader = is_leader(mon);
	struct health_pgs pgs;
	Bs__PgStatList *l;
	size_t size;

	if (*q->pool) {
		pool = mon_state_pool_by_name(&mon->fsm.state, q->pool);
		if (!pool) {
			bs_conn_reply_error(conn, msg, -ENOENT,
					    "pool '%.128s' does not exist",
					    q->pool);
			return;
		}
	}
	if (leader)
		osdmon_sync(&mon->osdmon, cur_map(mon), bs_now_ms());
	health_pgs_collect(&pgs, leader ? &mon->osdmon : NULL, cur_map(mon),
			   placement(mon), pool, bs_now_ms());
	l = health_pg_list(&pgs, cur_map(mon)->epoch, leader, q->has_osd,
			   q->osd);
	size = bs__pg_stat_list__get_packed_size(l);
	if (size > BS_FRAME_MAX_MSG)
		bs_conn_reply_error(conn, msg, -EFBIG,
				    "too many pgs to list at once (%zu); list one pool or one osd",
				    l->n_pgs);
	else
		bs_conn_reply(conn, msg, BS_MSG_MON_PG_LIST, &l->base, NULL, 0,
			      NULL, NULL);
	bs__pg_stat_list__free_unpacked(l, NULL);
	health_pgs_release(&pgs);
}

int osd_service_check_rm(struct mon *mon, const Bs__OsdRm *rm,
			 struct bs_error *err)
{
	const Bs__OsdInfo *o = mon_state_osd(&mon->fsm.state, rm->id);
	struct health_pgs pgs;
	int ret;

	/* up, in or absent: the state machine says so */
	if (rm->force || !o || o->up || o->in)
		return 0;
	osdmon_sync(&mon->osdmon, cur_map(mon), bs_now_ms());
	health_pgs_collect(&pgs, &mon->osdmon, cur_map(mon), placement(mon),
			   NULL, bs_now_ms());
	ret = health_rm_check(&pgs, rm->id, err);
	health_pgs_release(&pgs);
	return ret;
}
