// SPDX-License-Identifier: Apache-2.0
/*
 * Replication of mutations, both ends.
 *
 * Primary: rep_send() sends a RepOp (the client's data borrowed from its
 * request) to one member; a lost connection or time-out resends it while
 * the member stays up (up to OSD_REP_TRIES sends), since a replica applies
 * a version at most once.
 *
 * Replica: rep_handle() / replica_continue() check that the sender is the
 * PG's primary at our epoch (fetching a newer map first when the RepOp
 * names one) and that its version epoch is not older than the PG's
 * activation (fence).  Each object's ops apply in version order: a RepOp
 * whose prev_version is not the object's current version waits up to
 * OSD_GAP_WAIT_MS for the ones before it (OP_WAIT_TURN), then fails with
 * ESTALE (the object needs recovery).  A version already applied is
 * answered once it is durable.  The reply is sent only when the store op
 * is durable.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

/* Primary side */

static void rep_reply_cb(void *opaque, int res, struct bs_msg *reply);

void rep_send(struct osd_op *op, struct rep_target *t)
{
	struct osd *osd = op->osd;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	Bs__RepOp r = BS__REP_OP__INIT;
	struct iovec iov;
	struct bs_conn *conn = osd_peer_conn(osd, t->osd);
	int ret = -ENOTCONN;

	t->tries++;
	oid.pool = op->oid.pool;
	oid.pg = op->oid.pg;
	oid.volume = op->oid.volume;
	oid.objnum = op->oid.objnum;
	r.map_epoch = osd->map->epoch;
	r.oid = &oid;
	/* an erasure-coded discard or write-zeroes sends encoded shards */
	r.op = t->data ? BS__OSD_OP_KIND__OSD_OP_WRITE :
			 (Bs__OsdOpKind)op->kind;
	if (t->zero)
		r.op = BS__OSD_OP_KIND__OSD_OP_DISCARD;
	r.offset = t->data ? t->off : op->off;
	r.length = t->data ? t->len : op->len;
	r.ec_meta.data = (uint8_t *)op->ec_meta;
	r.ec_meta.len = op->ec_meta_len;
	r.flags = op->flags;
	r.version = op->version;
	r.prev_version = op->prev_version;
	r.from_osd = (uint32_t)osd->id;
	iov.iov_base = t->data ? (void *)t->data : op->msg->data;
	iov.iov_len = r.length;
	if (conn)
		ret = bs_conn_call(conn, BS_MSG_REP_OP, &r.base, &iov,
				   r.op == BS__OSD_OP_KIND__OSD_OP_WRITE,
				   osd->conf.rep_timeout, rep_reply_cb, t);
	if (ret) {
		t->state = REP_FAILED;
		t->res = ret;
		t->fail_epoch = osd->map->epoch;
		return;
	}
	t->state = REP_SENT;
	op->calls++;
}

static bool transient(int res)
{
	return res == -ECONNRESET || res == -ETIMEDOUT || res == -ECANCELED ||
	       res == -ENOTCONN;
}

static void rep_reply_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct rep_target *t = opaque;
	struct osd_op *op = t->op;
	struct osd *osd = op->osd;
	char name[32];

	op->calls--;
	if (!res) {
		t->state = REP_DONE;
	} else if (transient(res) && !op->replied && !osd->stopping &&
		   t->tries < OSD_REP_TRIES && osd_is_up(osd, t->osd) &&
		   op->pg->is_primary) {
		bs_dbg(BS_SUB_OSD, "osd.%d: resending version %" PRIx64
		       " after: %s", t->osd, op->version, strerror(-res));
		rep_send(op, t);
	} else {
		t->state = REP_FAILED;
		t->res = res;
		t->fail_epoch = osd->map->epoch;
		if (!op->replied && !osd->stopping)
			bs_warn_rl(&osd->rl,
				   "pg %s: osd.%d did not take version %" PRIx64 " of object %" PRIu64 ".%" PRIu64 ": %s",
				   pg_name(op->oid.pool, op->oid.pg, name,
					   sizeof(name)),
				   t->osd, op->version, op->oid.volume,
				   op->oid.objnum,
				   *bs_msg_error_text(reply) ?
					   bs_msg_error_text(reply) :
					   strerror(-res));
	}
	bs_msg_free(reply);
	primary_check(op);
}

/* Replica side */

static void rep_reply_ok(struct osd_op *op)
{
	Bs__RepOpReply r = BS__REP_OP_REPLY__INIT;

	r.map_epoch = op->osd->map->epoch;
	r.version = op->version;
	bs_conn_reply(op->conn, op->msg, BS_MSG_REP_OP_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
}

static void rep_local_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);
	struct osd *osd = op->osd;

	op->local_busy = false;
	op->local_done = true;
	op_local_uncount(op);
	if (res == -ENOENT && op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE)
		res = 0;
	if (res) {
		op->obj->cur = OSD_OBJ_BROKEN;
		bs_err("object %" PRIu64 ".%" PRIu64 ": %s version %" PRIx64
		       " from osd.%d failed: %s; the object needs recovery",
		       op->oid.volume, op->oid.objnum,
		       osd_kind(op->kind)->name, op->version, op->from_osd,
		       strerror(-res));
		op_reply_error(op, res, "%s: %s failed: %s", osd->name,
			       osd_kind(op->kind)->name, strerror(-res));
		return;
	}
	rep_reply_ok(op);
	op_done(op);
}

/* Wake the queued op of @obj whose turn has come, if any. */
static void wake_next(struct osd_obj *obj)
{
	struct osd_list *l;

	for (l = obj->early.next; l != &obj->early; l = l->next) {
		struct osd_op *e = container_of(l, struct osd_op, link);

		if (e->prev_version == obj->cur) {
			osd_list_del(&e->tlink);
			osd_resume_later(e);
			return;
		}
	}
}

static void rep_apply(struct osd_op *op, struct pg *pg, struct osd_obj *obj)
{
	pg->activation = BS_MAX(pg->activation, op->version >> 32);
	obj->cur = op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE ? 0 :
								 op->version;
	obj->last = op->version;
	obj->nmut++;
	op->obj = obj;
	op->mutating = true;
	op->state = OP_RUNNING;
	op_submit_local(op, rep_local_done);
	wake_next(obj);
}

/* Queue @op in version order until its predecessor is applied. */
static void rep_wait_turn(struct osd_op *op, struct osd_obj *obj)
{
	struct osd *osd = op->osd;
	struct osd_list *l;

	for (l = obj->early.next; l != &obj->early; l = l->next)
		if (container_of(l, struct osd_op, link)->version >
		    op->version)
			break;
	osd_list_add_before(l, &op->link);
	op->obj = obj;
	op->state = OP_WAIT_TURN;
	op->deadline_ms = bs_now_ms() + OSD_GAP_WAIT_MS;
	osd_list_add_tail(&osd->timed, &op->tlink);
}

void replica_continue(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const struct bs_osdmap_pool *pool;
	struct bs_error err = { 0 };
	struct osd_obj *obj;
	struct pg *pg;
	char name[32];
	int ret;

	op->obj = NULL;
	if (!osd->active || !osd->map || osd->map->epoch < op->need_epoch) {
		osd_wait_map(op);
		return;
	}
	ret = op_check_object(op, &pool, &err);
	if (ret) {
		op_reply_error(op, ret, "%s: %s", osd->name, err.msg);
		return;
	}
	pg = pg_get(osd, pool, op->oid.pg);
	op->pg = pg;
	pg_name(pg->pool, pg->id, name, sizeof(name));
	if (pg->primary != op->from_osd) {
		op_reply_error(op, -ESTALE,
			       "%s: osd.%d is not the primary of pg %s at epoch %" PRIu64,
			       osd->name, op->from_osd, name,
			       osd->map->epoch);
		return;
	}
	if (!pg_has_member(pg, osd->id)) {
		op_reply_error(op, -ESTALE,
			       "%s is not in the acting set of pg %s at epoch %" PRIu64,
			       osd->name, name, osd->map->epoch);
		return;
	}
	if (op->version >> 32 < pg->activation) {
		op_reply_error(op, -ESTALE,
			       "%s: pg %s: version epoch %" PRIu64 " from osd.%d is older than the activation epoch %" PRIu64,
			       osd->name, name, op->version >> 32,
			       op->from_osd, pg->activation);
		return;
	}
	obj = osd_obj_get(osd, &op->oid);
	if (op->version <= obj->last && obj->cur != OSD_OBJ_BROKEN) {
		/* applied already (a resend): answer once durable */
		if (obj->nmut) {
			op->state = OP_WAIT_OBJ;
			osd_list_add_tail(&obj->waiters, &op->link);
			return;
		}
		rep_reply_ok(op);
		op->obj = obj;
		op_done(op);
		return;
	}
	if (op->prev_version != obj->cur) {
		if (obj->cur == OSD_OBJ_BROKEN) {
			op->obj = obj;
			op_reply_error(op, -ESTALE,
				       "%s: object %" PRIu64 ".%" PRIu64 " needs recovery after a failed write",
				       osd->name, op->oid.volume,
				       op->oid.objnum);
			return;
		}
		rep_wait_turn(op, obj);
		return;
	}
	if (pool->erasure && (op->ec_meta_len ||
			      op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE))
		ec_meta_attach(op, op->ec_meta, op->ec_meta_len);
	rep_apply(op, pg, obj);
}

void rep_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	const Bs__RepOp *req = (const Bs__RepOp *)msg->body;
	struct osd_op *op = op_new(osd, conn, msg);
	const struct osd_kind_info *ki = osd_kind((unsigned)req->op);
	struct bs_error err = { 0 };
	int ret;

	op->is_rep = true;
	op->resume = replica_continue;
	if (!ki || !ki->mutation) {
		op_reply_error(op, -EINVAL, "RepOp of op kind %d", req->op);
		return;
	}
	if (!req->version || req->from_osd > OSD_MAX_ID) {
		op_reply_error(op, -EINVAL,
			       "RepOp without a version or with osd id %u",
			       req->from_osd);
		return;
	}
	op->kind = (unsigned)req->op;
	op->off = req->offset;
	op->len = req->length;
	op->flags = req->flags;
	op->req_epoch = op->need_epoch = req->map_epoch;
	op->version = req->version;
	op->prev_version = req->prev_version;
	op->from_osd = (int32_t)req->from_osd;
	ret = op_set_oid(op, req->oid, &err);
	if (!ret)
		ret = op_validate(op, ki, msg->hdr.data_len, &err);
	if (!ret && req->ec_meta.len) {
		if (ec_meta_decode(req->ec_meta.data, req->ec_meta.len, NULL))
			ret = bs_error_set(&err, -EINVAL,
					   "RepOp with a bad erasure-coded object record of %zu bytes",
					   req->ec_meta.len);
		op->ec_meta = req->ec_meta.data;
		op->ec_meta_len = req->ec_meta.len;
	}
	if (ret) {
		op_reply_error(op, ret, "%s", err.msg);
		return;
	}
	replica_continue(op);
}

/* Fail RepOps that waited too long for their predecessor (or all). */
void rep_expire(struct osd *osd, uint64_t now_ms)
{
	struct osd_list *l, *next;

	for (l = osd->timed.next; l != &osd->timed; l = next) {
		struct osd_op *op = container_of(l, struct osd_op, tlink);

		next = l->next;
		if (!osd->stopping && now_ms < op->deadline_ms)
			continue;
		op_reply_error(op, osd->stopping ? -EAGAIN : -ESTALE,
			       "%s: object %" PRIu64 ".%" PRIu64 ": version %" PRIx64 " follows %" PRIx64 " but the object is at %" PRIx64,
			       osd->name, op->oid.volume, op->oid.objnum,
			       op->version, op->prev_version,
			       op->obj ? op->obj->cur : 0);
	}
}
