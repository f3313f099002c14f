// SPDX-License-Identifier: Apache-2.0
/*
 * Client ops on the primary (BS_MSG_OSD_OP), and the op objects both
 * roles use.  A client op goes through:
 *
 *   primary_handle   decode and validate what needs no map
 *   primary_continue (re-entered after every wait)
 *       -> OP_WAIT_MAP   the request names a newer epoch, or we are not up
 *       -> STALE         not the primary of the PG at our epoch
 *       -> OP_WAIT_PG    the PG is not active (peering, below min_size)
 *       read/stat/extents:
 *       -> OP_WAIT_REC   the primary lacks the object: recover it first
 *       -> OP_WAIT_OBJ   the object has mutations in flight
 *       -> OP_RUNNING    store read, zero-copy reply (a bad checksum
 *                        repairs our copy from a replica: OP_WAIT_REC)
 *       mutations:
 *       -> OP_WAIT_REC   a member lacks the object: recover it first
 *       -> OP_WAIT_OBJ   recovery or scrub holds the object
 *       -> OP_RUNNING    versioned, applied locally and sent to every
 *                        other up member at once (replicate.c)
 *   primary_check    reply once the local op and every up member are
 *                    durable and min_size copies are; EAGAIN when the
 *                    interval ended (op->aborted) or a member refused
 *                    (and peer again); re-run on every completion and
 *                    map change
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

#define OP_FREE_MAX	256

/* Ops */

struct osd_op *op_new(struct osd *osd, struct bs_conn *conn,
		      struct bs_msg *msg)
{
	struct osd_op *op = osd->op_free;

	if (op) {
		osd->op_free = op->free_next;
		osd->n_op_free--;
	} else {
		op = bs_xmalloc(sizeof(*op));
	}
	memset(op, 0, sizeof(*op));
	op->osd = osd;
	op->conn = conn;
	op->msg = msg;
	osd_list_init(&op->link);
	osd_list_init(&op->tlink);
	bs_conn_get(conn);
	osd->ops_live++;
	return op;
}

void op_reply_released(void *opaque)
{
	struct osd_op *op = opaque;

	op->reply_busy = false;
	op_maybe_free(op);
}

void op_reply_zc(struct osd_op *op, uint16_t type,
		 const ProtobufCMessage *body, const struct iovec *data,
		 unsigned ndata, bs_release_fn *release)
{
	op_settle(op);
	op->reply_busy = true;
	bs_conn_reply(op->conn, op->msg, type, body, data, ndata, release,
		      op);
}

void op_maybe_free(struct osd_op *op)
{
	struct osd *osd = op->osd;

	if (!op->replied || op->reply_busy || op->local_busy || op->calls)
		return;
	osd_list_del(&op->link);
	osd_list_del(&op->tlink);
	bs_msg_free(op->msg);
	bs_conn_put(op->conn);
	if (op->buf)
		osd_buf_put(osd, op->buf, op->buf_cap);
	ec_op_free(op);
	osd->ops_live--;
	if (osd->n_op_free < OP_FREE_MAX) {
		op->free_next = osd->op_free;
		osd->op_free = op;
		osd->n_op_free++;
	} else {
		free(op);
	}
}

void op_free_cache(struct osd *osd)
{
	while (osd->op_free) {
		struct osd_op *op = osd->op_free;

		osd->op_free = op->free_next;
		free(op);
	}
	osd->n_op_free = 0;
}

void op_settle(struct osd_op *op)
{
	op->replied = true;
	op->state = OP_DONE;
	osd_list_del(&op->link);
	osd_list_del(&op->tlink);
	if (op->mutating) {
		op->mutating = false;
		osd_obj_mut_done(op->osd, op->obj);
	} else if (op->obj) {
		osd_obj_maybe_free(op->osd, op->obj);
	}
	op->obj = NULL;
}

void op_done(struct osd_op *op)
{
	op_settle(op);
	op_maybe_free(op);
}

void op_reply_error(struct osd_op *op, int neg_errno, const char *fmt, ...)
{
	char text[BS_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	bs_dbg(BS_SUB_OSD, "%s: %s", bs_conn_peer(op->conn), text);
	bs_conn_reply_error(op->conn, op->msg, neg_errno, "%s", text);
	op_settle(op);
	op_maybe_free(op);
}

void op_resume(struct osd_op *op)
{
	op->resume(op);
}

/* Checks shared by client ops and RepOps */

/* Offset, length, flags and data size of a request of kind @ki. */
int op_validate(struct osd_op *op, const struct osd_kind_info *ki,
		uint64_t data_len, struct bs_error *err)
{
	if (op->flags & ~(uint32_t)BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE)
		return bs_error_set(err, -EINVAL, "unknown op flags 0x%x",
				    op->flags);
	if (ki->range) {
		if (!op->len)
			return bs_error_set(err, -EINVAL,
					    "%s of 0 bytes", ki->name);
		if (op->off >= STORE_MAX_OBJECT_SIZE ||
		    op->len > STORE_MAX_OBJECT_SIZE - op->off)
			return bs_error_set(err, -ERANGE,
					    "%s of %" PRIu64 " bytes at %" PRIu64 " is beyond the largest object (%llu bytes)",
					    ki->name, op->len, op->off,
					    STORE_MAX_OBJECT_SIZE);
	}
	if (ki->data_in && data_len != op->len)
		return bs_error_set(err, -EINVAL,
				    "%s of %" PRIu64 " bytes carries %" PRIu64 " bytes of data",
				    ki->name, op->len, data_len);
	if (!ki->data_in && data_len)
		return bs_error_set(err, -EINVAL,
				    "%s carries %" PRIu64 " unexpected bytes of data",
				    ki->name, data_len);
	return 0;
}

/* Decode an ObjectId; -EINVAL if absent. */
int op_set_oid(struct osd_op *op, const Bs__ObjectId *oid,
	       struct bs_error *err)
{
	if (!oid)
		return bs_error_set(err, -EINVAL, "no object id");
	op->oid.pool = oid->pool;
	op->oid.pg = oid->pg;
	op->oid.volume = oid->volume;
	op->oid.objnum = oid->objnum;
	return 0;
}

/* The pool exists, is supported, and the object is in the PG named. */
int op_check_object(struct osd_op *op, const struct bs_osdmap_pool **out,
		    struct bs_error *err)
{
	const struct bs_osdmap *map = op->osd->map;
	const struct bs_osdmap_pool *pool = bs_osdmap_pool(map, op->oid.pool);
	uint32_t pg;
	char a[32], b[32];

	if (!pool)
		return bs_error_set(err, -ENOENT,
				    "pool %" PRIu32 " does not exist at epoch %" PRIu64,
				    op->oid.pool, map->epoch);
	pg = bs_osdmap_object_pg(pool, op->oid.volume, op->oid.objnum);
	if (pg != op->oid.pg)
		return bs_error_set(err,
				    op->req_epoch < map->epoch ? -ESTALE :
								 -EINVAL,
				    "object %" PRIu64 ".%" PRIu64 " is in pg %s, not %s, at epoch %" PRIu64,
				    op->oid.volume, op->oid.objnum,
				    pg_name(pool->id, pg, a, sizeof(a)),
				    pg_name(pool->id, op->oid.pg, b, sizeof(b)),
				    map->epoch);
	*out = pool;
	return 0;
}

/* Submit @op's mutation to the local store; @done runs when durable. */
void op_submit_local(struct osd_op *op, store_op_fn *done)
{
	struct osd *osd = op->osd;
	struct store *s = osd->store;
	struct store_op *sop = &op->sop;

	sop->fn = done;
	op->local_busy = true;
	if (op->pg && !op->counted) {
		op->counted = true;
		pg_inflight_inc(op->pg);
	}
	if (op->pg && op->pg->erasure &&
	    (op->kind == BS__OSD_OP_KIND__OSD_OP_WRITE ||
	     op->kind == BS__OSD_OP_KIND__OSD_OP_DISCARD ||
	     op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE)) {
		/* an EC member's shard: keep what a roll-back needs */
		if (op->kind == BS__OSD_OP_KIND__OSD_OP_WRITE)
			ec_shard_write(op, op->off, op->len, op->msg->data,
				       op->version, done);
		else if (op->kind == BS__OSD_OP_KIND__OSD_OP_DISCARD)
			ec_shard_write(op, op->off, op->len, NULL,
				       op->version, done);
		else
			ec_shard_delete(op, done);
		return;
	}
	switch (op->kind) {
	case BS__OSD_OP_KIND__OSD_OP_WRITE:
		store_write(s, sop, &op->oid, op->off, op->len, op->msg->data,
			    op->version);
		break;
	case BS__OSD_OP_KIND__OSD_OP_DISCARD:
		store_discard(s, sop, &op->oid, op->off, op->len, op->version);
		break;
	case BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES:
		if (op->flags & BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE)
			store_write(s, sop, &op->oid, op->off, op->len,
				    osd->zeros, op->version);
		else
			store_write_zeroes(s, sop, &op->oid, op->off, op->len,
					   op->version);
		break;
	default:
		store_delete(s, sop, &op->oid);
		break;
	}
}

/* The local store mutation of @op is over: the PG may be drained. */
void op_local_uncount(struct osd_op *op)
{
	if (op->counted) {
		op->counted = false;
		pg_inflight_dec(op->osd, op->pg);
	}
}

/* Client ops */

static void reply_ok(struct osd_op *op)
{
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;

	r.map_epoch = op->osd->map->epoch;
	r.version = op->version;
	bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r.base, NULL,
		      0, NULL, NULL);
	op_done(op);
}


static void read_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;
	struct iovec iov;

	op->local_busy = false;
	if (res == -ENOENT) {
		res = 0;		/* thin: never written reads as zeros */
		sop->version = 0;
	}
	if (res == -EBADMSG && !op->bad_reads++ && pg_is_active(op->pg)) {
		struct store_obj_stat st;

		bs_warn("pg %u.%x: object %" PRIu64 ".%" PRIu64 ": checksum mismatch at offset %" PRIu64 ": reading it from a replica and repairing this copy",
			op->oid.pool, op->oid.pg, op->oid.volume,
			op->oid.objnum, sop->bad_offset);
		if (op->buf) {
			osd_buf_put(op->osd, op->buf, op->buf_cap);
			op->buf = NULL;
		}
		if (!store_stat(op->osd->store, &op->oid, &st)) {
			recovery_repair_self(op, st.version, st.size);
			return;
		}
	}
	if (res == -EBADMSG) {
		op_reply_error(op, res,
			       "%s: object %" PRIu64 ".%" PRIu64 ": checksum mismatch at offset %" PRIu64,
			       op->osd->name, op->oid.volume, op->oid.objnum,
			       sop->bad_offset);
		return;
	}
	if (res) {
		op_reply_error(op, res, "%s: read failed: %s", op->osd->name,
			       strerror(-res));
		return;
	}
	r.map_epoch = op->osd->map->epoch;
	r.version = sop->version;
	iov.iov_base = op->buf;
	iov.iov_len = op->len;
	op_reply_zc(op, BS_MSG_OSD_OP_REPLY, &r.base, &iov, 1,
		    op_reply_released);
}

static void primary_read(struct osd_op *op)
{
	op->buf = osd_buf_get(op->osd, op->len, &op->buf_cap);
	op->state = OP_RUNNING;
	op->sop.fn = read_done;
	op->local_busy = true;
	store_read(op->osd->store, &op->sop, &op->oid, op->off, op->len,
		   op->buf);
}

static void primary_local_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);

	op->local_busy = false;
	op->local_done = true;
	op_local_uncount(op);
	if (res == -ENOENT && op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE)
		res = 0;
	op->local_res = res;
	if (res) {
		op->obj->cur = OSD_OBJ_BROKEN;
		bs_err("object %" PRIu64 ".%" PRIu64 ": %s version %" PRIx64
		       " failed: %s; the object needs recovery",
		       op->oid.volume, op->oid.objnum,
		       osd_kind(op->kind)->name, op->version, strerror(-res));
	}
	primary_check(op);
}

static void primary_start(struct osd_op *op)
{
	struct osd *osd = op->osd;
	struct pg *pg = op->pg;
	struct osd_obj *obj = osd_obj_get(osd, &op->oid);

	if (obj->cur == OSD_OBJ_BROKEN) {
		op->obj = obj;
		op_reply_error(op, -EIO,
			       "%s: object %" PRIu64 ".%" PRIu64 " needs recovery after a failed write",
			       osd->name, op->oid.volume, op->oid.objnum);
		return;
	}
	if (pg->counter == UINT32_MAX || pg->activation > UINT32_MAX) {
		op->obj = obj;
		op_reply_error(op, -EAGAIN,
			       "%s: versions of this pg are exhausted until the next map epoch",
			       osd->name);
		return;
	}
	op->version = pg->activation << 32 | ++pg->counter;
	op->prev_version = obj->cur;
	obj->cur = op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE ? 0 :
								 op->version;
	obj->last = op->version;
	obj->nmut++;
	op->obj = obj;
	op->mutating = true;
	op->state = OP_RUNNING;
	osd_list_add_tail(&pg->ops, &op->link);

	for (unsigned i = 0; i < pg->n_acting; i++) {
		int32_t id = pg->acting[i];

		if (id == osd->id || !osd_is_up(osd, id))
			continue;
		op->targets[op->n_targets].op = op;
		op->targets[op->n_targets++].osd = id;
	}
	op_submit_local(op, primary_local_done);
	for (unsigned i = 0; i < op->n_targets; i++)
		rep_send(op, &op->targets[i]);
}

void primary_check(struct osd_op *op)
{
	struct osd *osd = op->osd;
	struct pg *pg = op->pg;
	unsigned durable = 1, i;
	bool all_up = true;
	int hard = 0;
	char name[32];

	if (op->ec) {
		ec_check(op);
		return;
	}
	if (op->replied) {
		op_maybe_free(op);
		return;
	}
	if (!op->local_done)
		return;
	if (op->local_res) {
		op_reply_error(op, op->local_res, "%s: %s failed: %s",
			       osd->name, osd_kind(op->kind)->name,
			       strerror(-op->local_res));
		return;
	}
	if (!pg->is_primary) {
		op_reply_error(op, -ESTALE,
			       "%s is no longer the primary of pg %s at epoch %" PRIu64,
			       osd->name, pg_name(pg->pool, pg->id, name,
						  sizeof(name)),
			       osd->map->epoch);
		return;
	}
	if (op->aborted) {
		op_reply_error(op, -EAGAIN,
			       "%s: pg %s is peering again at epoch %" PRIu64,
			       osd->name, pg_name(pg->pool, pg->id, name,
						  sizeof(name)),
			       osd->map->epoch);
		return;
	}
	for (i = 0; i < op->n_targets; i++) {
		struct rep_target *t = &op->targets[i];

		if (t->state == REP_DONE) {
			durable++;
			continue;
		}
		if (!osd_is_up(osd, t->osd))
			continue;	/* went down: not waited for */
		all_up = false;
		if (t->state != REP_FAILED)
			continue;
		if (t->res == -ESTALE || t->res == -EAGAIN) {
			/*
			 * The member disagrees with what peering decided
			 * (or is peering itself): peer again; the client
			 * resends.
			 */
			bs_warn_rl(&osd->rl, "pg %s: osd.%d refused version %" PRIx64 ": peering again",
				   pg_name(pg->pool, pg->id, name,
					   sizeof(name)),
				   t->osd, op->version);
			op_reply_error(op, -EAGAIN,
				       "%s: pg %s: a replica refused the %s: peering again",
				       osd->name,
				       pg_name(pg->pool, pg->id, name,
					       sizeof(name)),
				       osd_kind(op->kind)->name);
			if (pg->pstate == PGS_ACTIVE)
				peering_start(osd, pg);
			return;
		} else if (!hard) {
			hard = t->res;
			break;
		}
	}
	if (all_up && durable >= pg->min_size) {
		reply_ok(op);
	} else if (hard) {
		op_reply_error(op, hard,
			       "%s: pg %s: a replica failed the %s: %s",
			       osd->name,
			       pg_name(pg->pool, pg->id, name, sizeof(name)),
			       osd_kind(op->kind)->name, strerror(-hard));
	}
	/* else: wait for replicas, or for a map change */
}

void primary_continue(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const struct osd_kind_info *ki = osd_kind(op->kind);
	const struct bs_osdmap_pool *pool;
	struct bs_error err = { 0 };
	struct osd_obj *obj;
	struct pg_miss *m;
	struct pg *pg;
	char name[32];
	int ret;

	if (!osd->active || !osd->map || osd->map->epoch < op->need_epoch) {
		osd_wait_map(op);
		return;
	}
	ret = op_check_object(op, &pool, &err);
	if (ret) {
		op_reply_error(op, ret, "%s", err.msg);
		return;
	}
	pg = pg_get(osd, pool, op->oid.pg);
	if (!pg->is_primary) {
		pg_name(pg->pool, pg->id, name, sizeof(name));
		if (pg->primary < 0)
			op_reply_error(op, -ESTALE,
				       "%s is not the primary of pg %s at epoch %" PRIu64 " (no member is up)",
				       osd->name, name, osd->map->epoch);
		else
			op_reply_error(op, -ESTALE,
				       "%s is not the primary of pg %s at epoch %" PRIu64 " (osd.%d is)",
				       osd->name, name, osd->map->epoch,
				       pg->primary);
		return;
	}
	op->pg = pg;
	if (!pg_is_active(pg)) {
		pg_wait_members(pg, op);
		return;
	}
	m = pg_miss_find(pg, op->oid.volume, op->oid.objnum);
	obj = osd_obj_find(osd, &op->oid);
	if (!ki->mutation) {
		/* we must hold the object ourselves to read it */
		if (m && (m->need & 1) && !pg->erasure) {
			recovery_wait(op, m);
			return;
		}
		if (obj && obj->nmut) {
			op->state = OP_WAIT_OBJ;
			osd_list_add_tail(&obj->waiters, &op->link);
			return;
		}
		if (pg->erasure && m && !m->deleted &&
		    (ec_shards_usable(osd, pg, m) < pg->ec.k ||
		     (op->kind != BS__OSD_OP_KIND__OSD_OP_READ &&
		      (m->need & 1)))) {
			/*
			 * Too few shards of its slots, or STAT and EXTENTS
			 * without our own record (ec_meta.c): rebuild first
			 */
			recovery_wait(op, m);
			return;
		}
		if (pg->erasure) {
			ec_primary_start(op);
			return;
		}
		if (op->kind == BS__OSD_OP_KIND__OSD_OP_STAT)
			query_stat(op);
		else if (op->kind == BS__OSD_OP_KIND__OSD_OP_EXTENTS)
			query_extents(op);
		else
			primary_read(op);
		return;
	}
	if (pg->erasure && !pg_can_write(pg)) {
		/* serving reads with k shards: writes need min_size */
		pg_wait_members(pg, op);
		return;
	}
	if (pg->erasure && m && !m->deleted &&
	    (ec_shards_usable(osd, pg, m) < pg->min_size ||
	     ((m->need & 1) && op->kind != BS__OSD_OP_KIND__OSD_OP_DELETE))) {
		/*
		 * Too few members hold it for their slot, or we lack it and
		 * with it the record the next one derives from (ec_meta.c):
		 * rebuild first
		 */
		recovery_wait(op, m);
		return;
	}
	if (pg->erasure) {
		/*
		 * One mutation of an object at a time: its read-modify-write
		 * reads what the one before wrote.  Members lacking the
		 * object are left out (recovery rebuilds their shards).
		 */
		if (obj && (obj->locks || obj->nmut)) {
			op->state = OP_WAIT_OBJ;
			osd_list_add_tail(&obj->waiters, &op->link);
			return;
		}
		ec_primary_start(op);
		return;
	}
	/* every member must hold the object before it changes */
	if (m && (m->need & pg_w_mask(pg))) {
		recovery_wait(op, m);
		return;
	}
	if (obj && obj->locks) {
		op->state = OP_WAIT_OBJ;
		osd_list_add_tail(&obj->waiters, &op->link);
		return;
	}
	primary_start(op);
}

void primary_handle(struct osd *osd, struct bs_conn *conn,
		    struct bs_msg *msg)
{
	const Bs__OsdOp *req = (const Bs__OsdOp *)msg->body;
	struct osd_op *op = op_new(osd, conn, msg);
	const struct osd_kind_info *ki = osd_kind((unsigned)req->op);
	struct bs_error err = { 0 };
	int ret;

	op->resume = primary_continue;
	if (!ki) {
		op_reply_error(op, -EINVAL, "unknown op kind %d", req->op);
		return;
	}
	op->kind = (unsigned)req->op;
	op->off = req->offset;
	op->len = req->length;
	op->flags = req->flags;
	op->req_epoch = op->need_epoch = req->map_epoch;
	ret = op_set_oid(op, req->oid, &err);
	if (!ret)
		ret = op_validate(op, ki, msg->hdr.data_len, &err);
	if (ret) {
		op_reply_error(op, ret, "%s", err.msg);
		return;
	}
	primary_continue(op);
}
