// SPDX-License-Identifier: Apache-2.0
/*
 * Undo records of erasure-coded shard writes, and rolling a shard back
 * with one (docs/erasure-coding.md, "Crash consistency").
 *
 * A shard write of version V over the shard range [off, +len) first reads
 * the bytes it overwrites, then commits, in the same metadata batch as the
 * write (store_op_attach_pg), the per-PG blob
 *
 *   'U' volume:8 objnum:8 (big-endian) ->
 *       magic "UNDO", meta_len:4, version V, prev, off, len, nbytes (8
 *       bytes each, little-endian), then nbytes old bytes, then
 *       meta_len bytes: the object's record of prev (ec_meta.c), if the
 *       member had one
 *
 * prev is the shard's version before the write (0: it did not exist).
 * The old bytes are those of [off, +nbytes), the part of the range below
 * the shard's old size; the rest read as zeros before the write.  One
 * record per object: the next write replaces it, a delete drops it, and a
 * member drops the records of earlier intervals when the PG is clean.
 * Peering sees it in the member's listing (has_undo when its V is the
 * shard's version) and may ask for a roll-back (BS_MSG_PG_ROLLBACK):
 * write the old bytes back, stamped prev (or remove the shard when prev
 * is 0), put back the old record of the object (or drop the record of V
 * when there was none), and drop the undo record, in one batch.
 *
 * Copying the old bytes costs a read and a metadata value as large as the
 * overwritten part of the shard.  Keeping the old extents alive in the
 * store instead (redirect-on-write already writes elsewhere) would avoid
 * the copy but needs persistent extent references in the store; this
 * keeps the store unchanged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

struct ec_undo {
	store_op_fn *done;
	struct osd_op *op;
	/* the read of the old bytes: op->sop may carry blobs already */
	struct store_op rsop;
	struct store_oid oid;
	uint64_t off, len, version, prev;
	const void *data;
	uint8_t key[PG_CLAIM_KEY_LEN];
	uint8_t *val;			/* header + old bytes */
	size_t vlen;
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void ec_undo_free(struct osd_op *op)
{
	if (!op->undo)
		return;
	free(op->undo->val);
	bs_free(&op->undo);
}

static void undo_write(struct osd_op *op)
{
	struct ec_undo *u = op->undo;
	struct pg *pg = op->pg;

	op->sop.fn = u->done;
	/* no record (val NULL) drops the previous one: it is stale now */
	store_op_attach_pg(&op->sop, pg->pool, pg->id, u->key,
			   PG_CLAIM_KEY_LEN, u->val, u->vlen);
	if (u->data)
		store_write(op->osd->store, &op->sop, &u->oid, u->off, u->len,
			    u->data, u->version);
	else
		store_discard(op->osd->store, &op->sop, &u->oid, u->off,
			      u->len, u->version);
}

static void undo_read_done(struct store_op *sop, int res)
{
	struct ec_undo *u = container_of(sop, struct ec_undo, rsop);
	struct osd_op *op = u->op;

	if (res) {
		/* no undo for this write rather than no write */
		bs_warn_rl(&op->osd->rl,
			   "object %" PRIu64 ".%" PRIu64 ": cannot read the bytes version %" PRIx64 " overwrites (%s): it cannot be rolled back",
			   u->oid.volume, u->oid.objnum, u->version,
			   strerror(-res));
		bs_free(&u->val);
		u->vlen = 0;
	}
	undo_write(op);
}

void ec_shard_write(struct osd_op *op, uint64_t off, uint64_t len,
		    const void *data, uint64_t version, store_op_fn *done)
{
	struct osd *osd = op->osd;
	struct store_obj_stat st;
	struct ec_undo *u;
	uint64_t nbytes = 0, prev = 0;
	void *meta = NULL;
	size_t mlen = 0;

	ec_undo_free(op);
	u = op->undo = bs_xcalloc(1, sizeof(*u));
	u->done = done;
	u->op = op;
	u->oid = op->oid;
	u->off = off;
	u->len = len;
	u->data = data;
	u->version = version;
	ec_undo_key(u->key, op->oid.volume, op->oid.objnum);
	if (!store_stat(osd->store, &op->oid, &st)) {
		prev = st.version;
		if (st.size > off)
			nbytes = BS_MIN(len, st.size - off);
	}
	/*
	 * The store reads durable state: with another write of the object
	 * still landing here, the old bytes are not known.  The primary
	 * never does that (one mutation per object, acknowledged once every
	 * up member has it), so this is only a safety net.
	 */
	if ((op->obj && op->obj->nmut > 1) || !len || prev >= version ||
	    EC_UNDO_HDR_LEN + nbytes > STORE_PG_VALUE_MAX) {
		undo_write(op);
		return;
	}
	u->prev = prev;
	/*
	 * The object's record of prev goes back with the bytes.  It is not
	 * changed yet: this batch carries the new one (op->sop).
	 */
	if (prev && !ec_meta_get(osd, &op->oid, prev, &meta, &mlen) &&
	    EC_UNDO_HDR_LEN + nbytes + mlen > STORE_PG_VALUE_MAX) {
		bs_free(&meta);
		mlen = 0;
	}
	u->vlen = EC_UNDO_HDR_LEN + nbytes + mlen;
	u->val = bs_xmalloc(u->vlen);
	memset(u->val, 0, EC_UNDO_HDR_LEN);
	put64(u->val, EC_UNDO_MAGIC | (uint64_t)mlen << 32);
	if (mlen)
		memcpy(u->val + EC_UNDO_HDR_LEN + nbytes, meta, mlen);
	free(meta);
	put64(u->val + 8, version);
	put64(u->val + 16, prev);
	put64(u->val + 24, off);
	put64(u->val + 32, len);
	put64(u->val + 40, nbytes);
	if (!nbytes) {
		undo_write(op);
		return;
	}
	u->rsop.fn = undo_read_done;
	store_read(osd->store, &u->rsop, &op->oid, off, nbytes,
		   u->val + EC_UNDO_HDR_LEN);
}

void ec_shard_delete(struct osd_op *op, store_op_fn *done)
{
	struct ec_undo *u;

	ec_undo_free(op);
	u = op->undo = bs_xcalloc(1, sizeof(*u));
	ec_undo_key(u->key, op->oid.volume, op->oid.objnum);
	op->sop.fn = done;
	store_op_attach_pg(&op->sop, op->pg->pool, op->pg->id, u->key,
			   PG_CLAIM_KEY_LEN, NULL, 0);
	store_delete(op->osd->store, &op->sop, &op->oid);
}

/* ---- roll-back (member side of BS_MSG_PG_ROLLBACK, and the primary) ---- */

static void rb_next(struct ec_rollback *rb);

static void rb_finish(struct ec_rollback *rb, int res)
{
	struct osd *osd = rb->osd;
	struct pg *pg = pg_find(osd, rb->pool, rb->pg);

	bs_free(&rb->val);
	bs_free(&rb->buf);
	if (pg)
		pg_inflight_dec(osd, pg);
	rb->fn(rb, res);
}

static void rb_done(struct store_op *sop, int res)
{
	struct ec_rollback *rb = container_of(sop, struct ec_rollback, sop);
	const struct ec_rollback_ent *e = &rb->ent[rb->pos];
	struct store_oid oid = { rb->pool, rb->pg, e->volume, e->objnum };
	struct osd_obj *obj = osd_obj_find(rb->osd, &oid);

	bs_free(&rb->val);
	bs_free(&rb->buf);
	if (res == -ENOENT && !e->prev)
		res = 0;
	if (res) {
		rb_finish(rb, res);
		return;
	}
	if (obj)
		obj->cur = obj->last = e->prev;
	bs_info("pg %u.%x: object %" PRIu64 ".%" PRIu64 ": shard rolled back from version %" PRIx64 " to %" PRIx64,
		rb->pool, rb->pg, e->volume, e->objnum, rb->from, e->prev);
	rb->done++;
	rb->pos++;
	rb_next(rb);
}

/* Roll entry rb->pos back, or fail the whole request with ESTALE. */
static void rb_next(struct ec_rollback *rb)
{
	struct osd *osd = rb->osd;
	struct store_obj_stat st;
	struct ec_undo_rec r;
	uint8_t key[PG_CLAIM_KEY_LEN];
	uint64_t cur;
	size_t vlen;
	int ret;

	for (; rb->pos < rb->n; rb->pos++) {
		const struct ec_rollback_ent *e = &rb->ent[rb->pos];
		struct store_oid oid = { rb->pool, rb->pg, e->volume,
					 e->objnum };
		struct osd_obj *obj = osd_obj_find(osd, &oid);

		cur = store_stat(osd->store, &oid, &st) ? 0 : st.version;
		if (cur == e->prev)
			continue;	/* done by an earlier request */
		if (obj && obj->nmut) {
			rb_finish(rb, -EAGAIN);
			return;
		}
		ec_undo_key(key, e->volume, e->objnum);
		ret = store_pg_get(osd->store, rb->pool, rb->pg, key,
				   sizeof(key), (void **)&rb->val, &vlen);
		if (!ret)
			ret = ec_undo_parse(rb->val, vlen, &r);
		if (ret || r.version != cur || r.prev != e->prev) {
			bs_warn("pg %u.%x: object %" PRIu64 ".%" PRIu64 ": no undo record from version %" PRIx64 " to %" PRIx64,
				rb->pool, rb->pg, e->volume, e->objnum, cur,
				e->prev);
			rb_finish(rb, -ESTALE);
			return;
		}
		rb->from = cur;
		rb->sop.fn = rb_done;
		memcpy(rb->key, key, sizeof(key));
		store_op_attach_pg(&rb->sop, rb->pool, rb->pg, rb->key,
				   sizeof(rb->key), NULL, 0);
		/* the object's record of prev, or none (cur's is stale) */
		ec_meta_key(&oid, rb->ekey);
		if (e->prev && r.meta &&
		    !ec_meta_check(r.meta, r.meta_len, e->prev))
			store_op_attach_pg(&rb->sop, rb->pool, rb->pg,
					   rb->ekey, sizeof(rb->ekey), r.meta,
					   r.meta_len);
		else
			store_op_attach_pg(&rb->sop, rb->pool, rb->pg,
					   rb->ekey, sizeof(rb->ekey), NULL, 0);
		if (!e->prev) {
			store_delete(osd->store, &rb->sop, &oid);
			return;
		}
		rb->buf = bs_xcalloc(1, r.len);
		memcpy(rb->buf, r.bytes, r.nbytes);
		store_write(osd->store, &rb->sop, &oid, r.off, r.len, rb->buf,
			    e->prev);
		return;
	}
	rb_finish(rb, 0);
}

void ec_rollback_start(struct ec_rollback *rb)
{
	struct pg *pg = pg_find(rb->osd, rb->pool, rb->pg);

	rb->pos = rb->done = 0;
	if (pg)
		pg_inflight_inc(pg);
	rb_next(rb);
}

/* A member's BS_MSG_PG_ROLLBACK from the primary (peer.c checked it). */
struct rb_req {
	struct ec_rollback rb;
	struct osd_op *op;
	struct ec_rollback_ent *ent;
};

static void rb_req_done(struct ec_rollback *rb, int res)
{
	struct rb_req *q = container_of(rb, struct rb_req, rb);
	struct osd_op *op = q->op;
	Bs__PgRollbackReply r = BS__PG_ROLLBACK_REPLY__INIT;
	size_t done = rb->done;

	free(q->ent);
	free(q);
	op->work = NULL;
	if (res) {
		op_reply_error(op, res, "%s: pg %u.%x: roll-back failed: %s",
			       op->osd->name, op->oid.pool, op->oid.pg,
			       strerror(-res));
		return;
	}
	r.map_epoch = op->osd->map->epoch;
	r.rolled_back = (uint32_t)done;
	bs_conn_reply(op->conn, op->msg, BS_MSG_PG_ROLLBACK_REPLY, &r.base,
		      NULL, 0, NULL, NULL);
	op_done(op);
}

void ec_rollback_handle(struct osd_op *op)
{
	const Bs__PgRollback *m = (const Bs__PgRollback *)op->msg->body;
	struct pg *pg = op->pg;
	struct rb_req *q;

	if (!pg->erasure) {
		op_reply_error(op, -EINVAL,
			       "%s: pg %u.%x is not erasure-coded: nothing to roll back",
			       op->osd->name, pg->pool, pg->id);
		return;
	}
	if (m->n_objects > OSD_QUERY_PAGE) {
		op_reply_error(op, -E2BIG, "%s: %zu roll-backs in one message",
			       op->osd->name, m->n_objects);
		return;
	}
	q = bs_xcalloc(1, sizeof(*q));
	q->op = op;
	q->ent = bs_xcalloc(m->n_objects ? m->n_objects : 1,
			    sizeof(*q->ent));
	for (size_t i = 0; i < m->n_objects; i++) {
		const Bs__PgEntry *e = m->objects[i];

		q->ent[i].volume = e->volume;
		q->ent[i].objnum = e->objnum;
		q->ent[i].prev = e->undo_prev;
	}
	q->rb.osd = op->osd;
	q->rb.pool = pg->pool;
	q->rb.pg = pg->id;
	q->rb.ent = q->ent;
	q->rb.n = m->n_objects;
	q->rb.fn = rb_req_done;
	op->work = q;
	op->state = OP_WAIT_WORK;
	ec_rollback_start(&q->rb);
}
