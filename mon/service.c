// SPDX-License-Identifier: Apache-2.0
/*
 * The mon's messenger service: commands (proposed on the leader, forwarded
 * by followers, each bounded by mon_command_timeout), reads of the last
 * applied state (map, directory, status) and map subscriptions with a
 * one-way push of every new epoch.
 *
 * A command (struct mon_cmd) is a small state machine:
 *   START -> PROPOSED   we lead: raft_apply(), wait for the apply callback
 *   START -> FORWARDED  a leader is known elsewhere: relay its answer
 *   START -> WAITING    no leader yet: look again in MON_RETRY_MS
 * and from any of them -> DONE when answered; the deadline timer answers
 * BS_ERR_NOQUORUM.  The struct lives until the raft callback, the forward
 * call and the timer have all come back (refs).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bs/log.h"
#include "bs/msg_types.h"
#include "bs/status.h"
#include "mon.h"
#include "proto/msg.pb-c.h"

enum cmd_state {
	CMD_START,
	CMD_WAITING,
	CMD_PROPOSED,
	CMD_FORWARDED,
	CMD_DONE,
};

struct mon_cmd {
	struct mon *mon;
	struct mon_cmd *next, **pprev;	/* in mon->cmds */
	struct bs_conn *conn;		/* client; reference held until DONE */
	struct bs_msg *req;		/* its request (MonCommand body) */
	enum cmd_state state;
	unsigned refs;			/* self, timer, raft apply, forward */
	uint64_t deadline_ms;
	uint64_t proposal;
	struct bs_op timer;		/* ticks every MON_RETRY_MS */
	struct raft_apply apply;
	bool have_result;
	struct mon_result result;
	raft_index index;
};

struct mon_sub {
	struct mon_sub *next, **pprev;	/* in mon->subs */
	struct bs_conn *conn;		/* reference held */
	uint64_t sent_epoch;
};

static void cmd_continue(struct mon_cmd *c);
static void timer_cb(struct bs_op *op, int res);

static uint64_t remaining_ms(const struct mon_cmd *c)
{
	uint64_t now = bs_now_ms();

	return c->deadline_ms > now ? c->deadline_ms - now : 0;
}

/* Tick until the deadline: retry routing, or answer "no quorum". */
static void arm_timer(struct mon_cmd *c)
{
	if (bs_op_busy(&c->timer) || c->state == CMD_DONE)
		return;
	c->refs++;
	bs_loop_timer(c->mon->loop, &c->timer,
		      BS_MIN(remaining_ms(c), MON_RETRY_MS));
}

/* ---- helpers ---- */

static void cmd_put(struct mon_cmd *c)
{
	assert(c->refs > 0);
	if (--c->refs)
		return;
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	if (c->req)
		bs_msg_free(c->req);
	free(c);
}

static const Bs__MonCommand *cmd_body(const struct mon_cmd *c)
{
	return (const Bs__MonCommand *)c->req->body;
}

static void cmd_done(struct mon_cmd *c)
{
	c->state = CMD_DONE;
	if (c->conn) {
		bs_conn_put(c->conn);
		c->conn = NULL;
	}
	if (bs_op_busy(&c->timer))
		bs_loop_cancel(c->mon->loop, &c->timer);
}

static void BS_PRINTF(3, 4) cmd_fail(struct mon_cmd *c, int code,
				     const char *fmt, ...)
{
	char msg[BS_ERROR_MSG_MAX];
	va_list ap;

	if (c->state == CMD_DONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bs_dbg(BS_SUB_MON, "command %s from %s failed: %s",
	       mon_command_name(cmd_body(c)), bs_conn_peer(c->conn), msg);
	if (!c->mon->stopping)
		bs_conn_reply_error(c->conn, c->req, code, "%s", msg);
	cmd_done(c);
}

static void no_quorum(struct mon_cmd *c)
{
	struct mon *mon = c->mon;

	bool sent = c->state == CMD_PROPOSED || c->state == CMD_FORWARDED;

	cmd_fail(c, -ENOTCONN,
		 "no quorum: %s could not commit the change within %" PRIu64 " ms (no working majority of %u monitors)%s",
		 mon->name, mon->global.mon_command_timeout, mon->n_members,
		 sent ? "; it may still take effect if a majority returns" :
			"");
}

/* Fill @rep for the result of an applied command. */
static void reply_result(struct mon_cmd *c)
{
	struct mon *mon = c->mon;
	const struct mon_result *r = &c->result;
	Bs__MonCommandReply rep = BS__MON_COMMAND_REPLY__INIT;
	Bs__PoolInfo *pool = NULL;
	Bs__Volume vol;
	const Bs__Volume *v;

	if (r->err.code) {
		cmd_fail(c, r->err.code, "%s", r->err.msg);
		return;
	}
	rep.epoch = r->epoch;
	rep.index = c->index;
	rep.message = (char *)r->msg;
	rep.osd_id = r->osd_id >= 0 ? (uint32_t)r->osd_id : 0;
	if (r->pool_id)
		pool = (Bs__PoolInfo *)mon_state_pool_by_id(&mon->fsm.state,
							    r->pool_id);
	rep.pool = pool;
	v = r->volume_id ? mon_state_volume_by_id(&mon->fsm.state, r->volume_id) :
			   NULL;
	if (v) {
		const Bs__PoolInfo *p = mon_state_pool_by_id(&mon->fsm.state,
							     v->pool_id);

		vol = *v;
		vol.pool = p ? p->name : "";
		rep.volume = &vol;
	}
	if (!mon->stopping)
		bs_conn_reply(c->conn, c->req, BS_MSG_MON_COMMAND_REPLY,
			      &rep.base, NULL, 0, NULL, NULL);
	cmd_done(c);
}

/* ---- timers ---- */

static void timer_cb(struct bs_op *op, int res)
{
	struct mon_cmd *c = container_of(op, struct mon_cmd, timer);

	if (res == 0 && c->state != CMD_DONE) {
		if (remaining_ms(c) == 0)
			no_quorum(c);
		else if (c->state == CMD_WAITING)
			cmd_continue(c);
		else
			arm_timer(c);
	}
	cmd_put(c);
}

/* ---- on the leader: propose through raft ---- */

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct mon_cmd *c = req->data;

	if (c->state != CMD_DONE) {
		if (status == 0 && c->have_result) {
			c->index = req->index;
			reply_result(c);
		} else if (status == 0) {
			cmd_fail(c, -EIO,
				 "the change was committed but its result was lost");
		} else if (status == RAFT_SHUTDOWN || c->mon->stopping) {
			cmd_fail(c, -ECANCELED, "%s is shutting down",
				 c->mon->name);
		} else {
			cmd_fail(c, -ENOTCONN,
				 "no quorum: %s lost the leadership before the change was committed (%s); it may or may not take effect",
				 c->mon->name, raft_strerror(status));
		}
	}
	cmd_put(c);
}

static int propose(struct mon_cmd *c)
{
	struct mon *mon = c->mon;
	Bs__MonCommand cmd = *cmd_body(c);
	struct bs_error err = { 0 };
	struct raft_buffer buf;
	struct timespec ts;
	int rv;

	if (cmd.cmd_case == BS__MON_COMMAND__CMD_OSD_RM &&
	    osd_service_check_rm(mon, cmd.osd_rm, &err)) {
		cmd_fail(c, err.code, "%s", err.msg);
		return 0;
	}
	c->proposal = mon_next_proposal(mon);
	cmd.proposal = c->proposal;
	clock_gettime(CLOCK_REALTIME, &ts);
	cmd.stamp_us = (uint64_t)ts.tv_sec * 1000000ull +
		       (uint64_t)ts.tv_nsec / 1000;
	if (mon_fsm_encode_command(&cmd, &buf))
		return -ENOMEM;
	c->apply.data = c;
	rv = raft_apply(&mon->raft, &c->apply, &buf, 1, apply_cb);
	if (rv) {
		raft_free(buf.base);
		bs_dbg(BS_SUB_MON, "raft_apply: %s", raft_strerror(rv));
		return rv == RAFT_NOTLEADER ? -EAGAIN : -EIO;
	}
	c->refs++;
	c->state = CMD_PROPOSED;
	return 0;
}

void service_applied(struct mon *mon, uint64_t proposal,
		     const struct mon_result *res, raft_index index)
{
	struct mon_cmd *c;

	if (!proposal)
		return;
	for (c = mon->cmds; c; c = c->next) {
		if (c->proposal == proposal) {
			c->result = *res;
			c->have_result = true;
			c->index = index;
			return;
		}
	}
}

/* ---- on a follower: forward to the leader ---- */

static void forward_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct mon_cmd *c = opaque;

	if (c->state != CMD_DONE) {
		if (res == 0) {
			if (!c->mon->stopping)
				bs_conn_reply(c->conn, c->req,
					      BS_MSG_MON_COMMAND_REPLY,
					      reply->body, NULL, 0, NULL,
					      NULL);
			cmd_done(c);
		} else if (reply) {
			/* the leader answered with an error: relay it */
			cmd_fail(c, res, "%s", bs_msg_error_text(reply));
		} else if (remaining_ms(c) == 0 || res == -ETIMEDOUT) {
			no_quorum(c);
		} else {
			/* connection trouble: the leader may have changed */
			bs_dbg(BS_SUB_MON, "forward failed: %s; retrying",
			       strerror(-res));
			c->state = CMD_WAITING;
			arm_timer(c);
		}
	}
	if (reply)
		bs_msg_free(reply);
	cmd_put(c);
}

static int forward(struct mon_cmd *c, struct mon_member *leader)
{
	struct mon *mon = c->mon;
	Bs__MonCommand cmd = *cmd_body(c);
	struct bs_error err = { 0 };
	int ret;

	if (cmd.hops >= MON_MAX_HOPS) {
		cmd_fail(c, -EAGAIN,
			 "the leader changed while the command was forwarded; try again");
		return 0;
	}
	if (!leader->conn) {
		ret = bs_msgr_connect(mon->msgr, leader->addr, &leader->conn,
				      &err);
		if (ret) {
			bs_warn("cannot connect to mon.%u at %s: %s",
				leader->id, leader->addr, err.msg);
			return ret;
		}
	}
	cmd.hops++;
	ret = bs_conn_call(leader->conn, BS_MSG_MON_COMMAND, &cmd.base, NULL,
			   0, remaining_ms(c), forward_cb, c);
	if (ret)
		return ret;
	c->refs++;
	c->state = CMD_FORWARDED;
	bs_dbg(BS_SUB_MON, "forwarded %s to mon.%u",
	       mon_command_name(cmd_body(c)), leader->id);
	return 0;
}

/* Route the command: propose, forward, or wait for a leader. */
static void cmd_continue(struct mon_cmd *c)
{
	struct mon *mon = c->mon;
	struct mon_member *leader;
	int ret = -EAGAIN;

	if (c->state == CMD_DONE)
		return;
	if (remaining_ms(c) == 0) {
		no_quorum(c);
		return;
	}
	if (raft_state(&mon->raft) == RAFT_LEADER) {
		ret = propose(c);
	} else {
		leader = mon_leader(mon);
		if (leader && leader->id != mon->id)
			ret = forward(c, leader);
	}
	if (c->state == CMD_DONE)
		return;
	if (ret && ret != -EAGAIN)
		bs_dbg(BS_SUB_MON, "routing a command: %s", strerror(-ret));
	if (ret)
		c->state = CMD_WAITING;
	/* bound the wait for a leader, raft or the forward */
	arm_timer(c);
}

static void handle_command(struct mon *mon, struct bs_conn *conn,
			   struct bs_msg *msg)
{
	const Bs__MonCommand *body = (const Bs__MonCommand *)msg->body;
	struct mon_cmd *c;

	if (body->cmd_case == BS__MON_COMMAND__CMD__NOT_SET) {
		bs_conn_reply_error(conn, msg, -EINVAL,
				    "empty or unknown mon command");
		bs_msg_free(msg);
		return;
	}
	if (body->cmd_case == BS__MON_COMMAND__CMD_MAP_TRIM) {
		/* the leader trims when every PG is clean: never on request */
		bs_conn_reply_error(conn, msg, -EPERM,
				    "map_trim is proposed by the leader only");
		bs_msg_free(msg);
		return;
	}
	c = bs_xcalloc(1, sizeof(*c));
	c->mon = mon;
	c->conn = conn;
	bs_conn_get(conn);
	c->req = msg;
	c->refs = 1;
	c->timer.fn = timer_cb;
	c->deadline_ms = bs_now_ms() + mon->global.mon_command_timeout;
	c->next = mon->cmds;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &mon->cmds;
	mon->cmds = c;
	bs_dbg(BS_SUB_MON, "command %s from %s (hops %u)",
	       mon_command_name(body), bs_conn_peer(conn), body->hops);
	cmd_continue(c);
	cmd_put(c);
}

/* ---- reads ---- */

static void handle_get_map(struct mon *mon, struct bs_conn *conn,
			   struct bs_msg *msg)
{
	bs_conn_reply(conn, msg, BS_MSG_MON_MAP, &mon->fsm.state.map.base, NULL,
		      0, NULL, NULL);
}

static void sub_remove(struct mon_sub *s)
{
	if (s->next)
		s->next->pprev = s->pprev;
	*s->pprev = s->next;
	bs_conn_set_opaque(s->conn, NULL);
	bs_conn_put(s->conn);
	free(s);
}

static void push_map(struct mon *mon, struct mon_sub *s)
{
	int ret;

	if (s->sent_epoch >= mon->fsm.state.map.epoch)
		return;
	ret = bs_conn_send(s->conn, BS_MSG_MON_MAP, &mon->fsm.state.map.base,
			   NULL, 0);
	if (ret) {
		bs_dbg(BS_SUB_MON, "push of epoch %" PRIu64 " to %s: %s",
		       mon->fsm.state.map.epoch, bs_conn_peer(s->conn),
		       strerror(-ret));
		return;
	}
	s->sent_epoch = mon->fsm.state.map.epoch;
}

void service_map_changed(struct mon *mon)
{
	struct mon_sub *s;

	for (s = mon->subs; s; s = s->next)
		push_map(mon, s);
}

static void handle_subscribe(struct mon *mon, struct bs_conn *conn,
			     struct bs_msg *msg)
{
	const Bs__Subscribe *body = (const Bs__Subscribe *)msg->body;
	Bs__SubscribeReply rep = BS__SUBSCRIBE_REPLY__INIT;
	struct mon_sub *s = bs_conn_opaque(conn);

	if (!s) {
		s = bs_xcalloc(1, sizeof(*s));
		s->conn = conn;
		bs_conn_get(conn);
		bs_conn_set_opaque(conn, s);
		s->next = mon->subs;
		if (s->next)
			s->next->pprev = &s->next;
		s->pprev = &mon->subs;
		mon->subs = s;
	}
	s->sent_epoch = body->have_epoch;
	rep.epoch = mon->fsm.state.map.epoch;
	bs_conn_reply(conn, msg, BS_MSG_MON_SUBSCRIBE_REPLY, &rep.base, NULL,
		      0, NULL, NULL);
	bs_dbg(BS_SUB_MON, "%s subscribed at epoch %" PRIu64,
	       bs_conn_peer(conn), body->have_epoch);
	push_map(mon, s);
}

static void handle_volume_query(struct mon *mon, struct bs_conn *conn,
				struct bs_msg *msg)
{
	const Bs__VolumeQuery *q = (const Bs__VolumeQuery *)msg->body;
	const struct mon_state *st = &mon->fsm.state;
	Bs__VolumeList rep = BS__VOLUME_LIST__INIT;
	const Bs__PoolInfo *pool = NULL;
	Bs__Volume *vols, **ptrs;
	size_t first = 0, n = st->n_volumes, i, size;

	if (*q->pool) {
		pool = mon_state_pool_by_name(st, q->pool);
		if (!pool) {
			bs_conn_reply_error(conn, msg, -ENOENT,
					    "pool '%.128s' does not exist",
					    q->pool);
			return;
		}
		n = mon_state_pool_volumes(st, pool->id, &first);
	} else if (*q->name) {
		bs_conn_reply_error(conn, msg, -EINVAL,
				    "a volume name needs its pool");
		return;
	}
	if (pool && *q->name) {
		const Bs__Volume *v = mon_state_volume(st, pool->id, q->name);

		if (!v) {
			bs_conn_reply_error(conn, msg, -ENOENT,
					    "volume '%s/%.128s' does not exist",
					    pool->name, q->name);
			return;
		}
		for (first = 0; st->volumes[first] != v; first++)
			;
		n = 1;
	}
	vols = bs_xcalloc(n + 1, sizeof(*vols));
	ptrs = bs_xcalloc(n + 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		const Bs__Volume *v = st->volumes[first + i];
		const Bs__PoolInfo *p = pool ? pool :
				mon_state_pool_by_id(st, v->pool_id);

		vols[i] = *v;
		vols[i].pool = p ? p->name : "";
		ptrs[i] = &vols[i];
	}
	rep.n_volumes = n;
	rep.volumes = ptrs;
	size = bs__volume_list__get_packed_size(&rep);
	if (size > BS_FRAME_MAX_MSG)
		bs_conn_reply_error(conn, msg, -EFBIG,
				    "too many volumes to list at once (%zu); list one pool",
				    n);
	else
		bs_conn_reply(conn, msg, BS_MSG_MON_VOLUME_LIST, &rep.base,
			      NULL, 0, NULL, NULL);
	free(vols);
	free(ptrs);
}

static void handle_status(struct mon *mon, struct bs_conn *conn,
			  struct bs_msg *msg)
{
	Bs__MonStatus rep = BS__MON_STATUS__INIT;
	Bs__MonMember members[MON_MAX_MEMBERS], *ptrs[MON_MAX_MEMBERS];
	struct mon_member *leader = mon_leader(mon);
	unsigned i;

	rep.id = mon->id;
	rep.addr = (char *)bs_msgr_listen_addr(mon->msgr);
	rep.state = (char *)mon_raft_state_name(mon);
	rep.leader_id = leader ? (int32_t)leader->id : -1;
	rep.leader_addr = leader ? leader->addr : "";
	rep.term = mon->raft.current_term;
	rep.last_applied = raft_last_applied(&mon->raft);
	rep.commit_index = mon->raft.commit_index;
	rep.last_index = raft_last_index(&mon->raft);
	rep.epoch = mon->fsm.state.map.epoch;
	rep.num_volumes = mon->fsm.state.n_volumes;
	rep.uptime_ms = bs_now_ms() - mon->start_ms;
	rep.quorum = mon_quorum_seen(mon);
	for (i = 0; i < mon->n_members; i++) {
		bs__mon_member__init(&members[i]);
		members[i].id = mon->members[i].id;
		members[i].addr = mon->members[i].addr;
		members[i].raft_addr = mon->members[i].raft_addr;
		ptrs[i] = &members[i];
	}
	rep.n_members = mon->n_members;
	rep.members = ptrs;
	bs_conn_reply(conn, msg, BS_MSG_MON_STATUS_REPLY, &rep.base, NULL, 0,
		      NULL, NULL);
}

/* ---- reads through the leader ---- */

struct read_fwd {
	struct mon *mon;
	struct bs_conn *conn;		/* the client; reference held */
	struct bs_msg *req;
};

static void serve_local(struct mon *mon, struct bs_conn *conn,
			struct bs_msg *msg)
{
	switch (msg->hdr.type) {
	case BS_MSG_MON_GET_MAP:
		handle_get_map(mon, conn, msg);
		break;
	case BS_MSG_MON_CLUSTER_STATUS:
		osd_service_status(mon, conn, msg);
		break;
	case BS_MSG_MON_PG_QUERY:
		osd_service_pg_query(mon, conn, msg);
		break;
	default:
		handle_volume_query(mon, conn, msg);
		break;
	}
}

/* Reads a follower asks the leader first; "local" answers here. */
static protobuf_c_boolean *read_local_flag(struct bs_msg *msg)
{
	switch (msg->hdr.type) {
	case BS_MSG_MON_GET_MAP:
		return &((Bs__GetMap *)msg->body)->local;
	case BS_MSG_MON_VOLUME_QUERY:
		return &((Bs__VolumeQuery *)msg->body)->local;
	case BS_MSG_MON_CLUSTER_STATUS:
		return &((Bs__ClusterStatusRequest *)msg->body)->local;
	case BS_MSG_MON_PG_QUERY:
		return &((Bs__PgStatQuery *)msg->body)->local;
	default:
		return NULL;
	}
}

static void read_fwd_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct read_fwd *rf = opaque;
	struct mon *mon = rf->mon;

	if (mon->stopping) {
		/* nothing to answer with any more */
	} else if (res == 0) {
		bs_conn_reply(rf->conn, rf->req, reply->hdr.type, reply->body,
			      NULL, 0, NULL, NULL);
	} else if (reply) {
		bs_conn_reply_error(rf->conn, rf->req, res, "%s",
				    bs_msg_error_text(reply));
	} else {
		bs_dbg(BS_SUB_MON, "leader did not answer a read (%s): answering locally",
		       strerror(-res));
		serve_local(mon, rf->conn, rf->req);
	}
	if (reply)
		bs_msg_free(reply);
	bs_msg_free(rf->req);
	bs_conn_put(rf->conn);
	free(rf);
}

/*
 * On a follower that knows a leader, ask the leader so that a read right
 * after a change sees it.  Returns true when @msg was taken over.
 */
static bool forward_read(struct mon *mon, struct bs_conn *conn,
			 struct bs_msg *msg)
{
	struct mon_member *leader = mon_leader(mon);
	struct bs_error err = { 0 };
	struct read_fwd *rf;
	ProtobufCMessage *body;
	int ret;

	if (!leader || leader->id == mon->id ||
	    raft_state(&mon->raft) == RAFT_LEADER)
		return false;
	if (!leader->conn &&
	    bs_msgr_connect(mon->msgr, leader->addr, &leader->conn, &err))
		return false;
	if (!bs_conn_is_connected(leader->conn))
		return false;
	/* the same request, marked to be answered there */
	body = msg->body;
	*read_local_flag(msg) = true;
	rf = bs_xcalloc(1, sizeof(*rf));
	rf->mon = mon;
	rf->conn = conn;
	rf->req = msg;
	ret = bs_conn_call(leader->conn, msg->hdr.type, body, NULL, 0,
			   MON_READ_FORWARD_MS, read_fwd_cb, rf);
	if (ret) {
		free(rf);
		return false;
	}
	bs_conn_get(conn);
	return true;
}

/* ---- messenger callbacks ---- */

static void on_request(void *opaque, struct bs_conn *conn,
		       struct bs_msg *msg)
{
	struct mon *mon = opaque;

	if (mon->stopping) {
		bs_msg_free(msg);
		return;
	}
	if (msg->hdr.req_id == 0) {
		/* one-way: beacons and failure reports from OSDs */
		if (msg->hdr.type == BS_MSG_MON_OSD_BEACON ||
		    msg->hdr.type == BS_MSG_MON_OSD_FAILURE)
			osd_service_oneway(mon, conn, msg);
		else
			bs_msg_free(msg);
		return;
	}
	switch (msg->hdr.type) {
	case BS_MSG_MON_COMMAND:
		handle_command(mon, conn, msg);
		return;		/* the command owns msg now */
	case BS_MSG_MON_GET_MAP:
	case BS_MSG_MON_VOLUME_QUERY:
	case BS_MSG_MON_CLUSTER_STATUS:
	case BS_MSG_MON_PG_QUERY:
		if (!*read_local_flag(msg) && forward_read(mon, conn, msg))
			return;
		serve_local(mon, conn, msg);
		break;
	case BS_MSG_MON_SUBSCRIBE:
		handle_subscribe(mon, conn, msg);
		break;
	case BS_MSG_MON_STATUS:
		handle_status(mon, conn, msg);
		break;
	default:
		bs_conn_reply_error(conn, msg, -EOPNOTSUPP,
				    "message type %u is not a mon request",
				    msg->hdr.type);
		break;
	}
	bs_msg_free(msg);
}

static void on_close(void *opaque, struct bs_conn *conn, int reason)
{
	struct mon_sub *s = bs_conn_opaque(conn);

	if (s)
		sub_remove(s);
}

static const struct bs_msgr_ops mon_msgr_ops = {
	.on_request = on_request,
	.on_close = on_close,
};

int service_start(struct mon *mon, struct bs_error *err)
{
	struct mon_member *self = NULL;
	unsigned i;
	int ret;

	for (i = 0; i < mon->n_members; i++)
		if (mon->members[i].id == mon->id)
			self = &mon->members[i];
	ret = bs_msgr_new(&mon->msgr, mon->loop, &mon_msgr_ops, mon);
	if (ret)
		return bs_error_errno(err, ret, "cannot create the messenger");
	return bs_msgr_listen(mon->msgr, self->addr, err);
}

void service_stop(struct mon *mon)
{
	struct mon_cmd *c, *next;
	unsigned i;

	for (c = mon->cmds; c; c = next) {
		next = c->next;
		c->refs++;
		if (c->state != CMD_DONE && c->conn) {
			bs_conn_reply_error(c->conn, c->req, -ECANCELED,
					    "%s is shutting down", mon->name);
			cmd_done(c);
		}
		next = c->next;
		cmd_put(c);
	}
	while (mon->subs)
		sub_remove(mon->subs);
	for (i = 0; i < mon->n_members; i++) {
		if (mon->members[i].conn) {
			bs_conn_close(mon->members[i].conn);
			bs_conn_put(mon->members[i].conn);
			mon->members[i].conn = NULL;
		}
	}
}
