// SPDX-License-Identifier: Apache-2.0
/*
 * Whole-object copies for recovery, backfill and repair.
 *
 * install_start() puts one object in place at a given version from its
 * allocated ranges (holes stay holes): it deletes the old copy, writes the
 * ranges stamped OSD_VERSION_PARTIAL (epoch 0: a copy peering treats as
 * absent), and only once they are all durable applies the last piece
 * stamped with the real version, together with the removal of the
 * member's claim of the object (and, erasure-coded, the object's
 * logical-size record of that version, ec_meta.c).  A crash in between
 * leaves an absent (or partial, which counts as absent) copy and the
 * claim: never a torn object at a real version.  A deleted object is
 * just removed, with its claim (and record), in one batch.
 *
 * Member side: BS_MSG_PG_PUSH installs what the primary sends;
 * BS_MSG_PG_PULL reads a whole object for the primary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

/* One store op of the first phase, in its own allocation. */
struct install_piece {
	struct install *in;
	struct store_op sop;
};

/* An install's phase one: concurrent pieces. */
struct install_run {
	struct install_piece *pieces;
	unsigned n, left;
	int res;
};

static void install_final(struct install *in);

static void install_finish(struct install *in, int res)
{
	struct osd *osd = in->osd;

	in->step = 0;
	osd_bg_done(osd);
	in->fn(in, res);
}

static void final_done(struct store_op *sop, int res)
{
	struct install *in = container_of(sop, struct install, sop);

	if (res == -ENOENT && in->deleted)
		res = 0;
	install_finish(in, res);
}

static void piece_done(struct store_op *sop, int res)
{
	struct install_piece *p = container_of(sop, struct install_piece, sop);
	struct install *in = p->in;
	struct install_run *run = (struct install_run *)in->run;

	if (res && res != -ENOENT && !run->res)
		run->res = res;
	if (--run->left)
		return;
	res = run->res;
	free(run->pieces);
	free(run);
	in->run = NULL;
	if (res) {
		install_finish(in, res);
		return;
	}
	install_final(in);
}

/* The last piece: the real version and the claim's removal, at once. */
static void install_final(struct install *in)
{
	struct osd *osd = in->osd;
	struct store_op *sop = &in->sop;
	uint64_t end = 0;

	memset(sop, 0, sizeof(*sop));
	sop->fn = final_done;
	store_op_attach_pg(sop, in->oid.pool, in->oid.pg, in->claim_key,
			   PG_CLAIM_KEY_LEN, NULL, 0);
	ec_meta_key(&in->oid, in->ec_key);
	if (in->deleted) {
		struct store_pg_kv kv[2] = {
			{ in->claim_key, PG_CLAIM_KEY_LEN, NULL, 0 },
			{ in->ec_key, EC_META_KEY_LEN, NULL, 0 },
		};

		if (in->ec)
			store_op_attach_pg(sop, in->oid.pool, in->oid.pg,
					   in->ec_key, EC_META_KEY_LEN, NULL,
					   0);
		if (in->exists)
			store_delete(osd->store, sop, &in->oid);
		else
			store_pg_put_many(osd->store, sop, in->oid.pool,
					  in->oid.pg, kv, in->ec ? 2 : 1);
		return;
	}
	if (in->ec_meta)
		store_op_attach_pg(sop, in->oid.pool, in->oid.pg, in->ec_key,
				   EC_META_KEY_LEN, in->ec_meta,
				   in->ec_meta_len);
	if (in->n_ranges)
		end = in->ranges[in->n_ranges - 1].off +
		      in->ranges[in->n_ranges - 1].len;
	if (in->n_ranges && end >= in->size) {
		const struct install_range *r = &in->ranges[in->n_ranges - 1];

		store_write(osd->store, sop, &in->oid, r->off, r->len, r->data,
			    in->version);
	} else if (in->size > end) {
		/* the tail past the last data: size, no blocks */
		store_write_zeroes(osd->store, sop, &in->oid, end,
				   in->size - end, in->version);
	} else {
		/* an empty object of size 0 */
		store_discard(osd->store, sop, &in->oid, 0, STORE_BLOCK_SIZE,
			      in->version);
	}
}

/*
 * Install @in (filled by the caller: osd, oid, version, size, deleted,
 * ranges and their data, fn).  The ranges must be sorted, disjoint and
 * inside [0, size); the data is borrowed until @in->fn runs (once, never
 * from inside this call's stack for the final result).  Nothing else may
 * mutate the object meanwhile.
 */
void install_start(struct install *in)
{
	struct osd *osd = in->osd;
	struct store_obj_stat st;
	struct install_run *run;
	uint64_t end = 0;
	unsigned n = 0, k = 0;
	size_t last_write;

	osd->bg_ops++;
	pg_claim_key(in->claim_key, in->oid.volume, in->oid.objnum);
	in->exists = !store_stat(osd->store, &in->oid, &st);
	if (in->deleted) {
		install_final(in);
		return;
	}
	if (in->n_ranges)
		end = in->ranges[in->n_ranges - 1].off +
		      in->ranges[in->n_ranges - 1].len;
	/* every range but the last one that the final piece writes */
	last_write = in->n_ranges && end >= in->size ? in->n_ranges - 1 :
						      in->n_ranges;
	n = (unsigned)last_write + (in->exists ? 1 : 0);
	if (!n) {
		install_final(in);
		return;
	}
	run = bs_xcalloc(1, sizeof(*run));
	run->pieces = bs_xcalloc(n, sizeof(*run->pieces));
	run->n = run->left = n;
	in->run = run;
	for (k = 0; k < n; k++)
		run->pieces[k].in = in;
	k = 0;
	if (in->exists) {
		run->pieces[k].sop.fn = piece_done;
		store_delete(osd->store, &run->pieces[k++].sop, &in->oid);
	}
	for (size_t i = 0; i < last_write; i++) {
		const struct install_range *r = &in->ranges[i];

		run->pieces[k].sop.fn = piece_done;
		store_write(osd->store, &run->pieces[k++].sop, &in->oid,
			    r->off, r->len, r->data, OSD_VERSION_PARTIAL);
	}
}

/*
 * The allocated ranges of @oid within [0, @size) (durable state): *ranges
 * malloc'ed (caller frees), *n set.  0 or -errno.
 */
int install_read_ranges(struct osd *osd, const struct store_oid *oid,
			uint64_t size, uint64_t (**ranges)[2], size_t *n)
{
	size_t max = size / 8192 + 2;
	int ret;

	*ranges = NULL;
	*n = 0;
	if (!size)
		return 0;
	*ranges = bs_xmalloc(max * sizeof(**ranges));
	ret = store_extents(osd->store, oid, 0, size, *ranges, max, n);
	if (ret) {
		bs_free(ranges);
		*n = 0;
	}
	return ret;
}

/* ---- BS_MSG_PG_PUSH (member) ---- */

struct push_work {
	struct install in;
	struct install_range *ranges;
	struct osd_op *op;
};

static void push_done(struct install *in, int res)
{
	struct push_work *w = container_of(in, struct push_work, in);
	struct osd_op *op = w->op;
	struct osd *osd = op->osd;
	struct osd_obj *obj = op->obj;
	Bs__PgPushReply r = BS__PG_PUSH_REPLY__INIT;

	if (res) {
		obj->cur = OSD_OBJ_BROKEN;
	} else {
		obj->cur = in->deleted ? 0 : in->version;
		obj->last = BS_MAX(obj->last, in->version);
	}
	free(w->ranges);
	free(w);
	op->work = NULL;
	if (op->counted) {
		op->counted = false;
		pg_inflight_dec(osd, op->pg);
	}
	if (res) {
		bs_err("object %" PRIu64 ".%" PRIu64 ": recovery install failed: %s",
		       op->oid.volume, op->oid.objnum, strerror(-res));
		op_reply_error(op, res, "%s: install failed: %s", osd->name,
			       strerror(-res));
		return;
	}
	r.map_epoch = osd->map->epoch;
	bs_conn_reply(op->conn, op->msg, BS_MSG_PG_PUSH_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	op_done(op);
}

/* Checks of an object named by a peering message; fills op->oid. */
static int peer_oid(struct osd_op *op, const Bs__ObjectId *oid,
		    struct bs_error *err)
{
	const struct bs_osdmap_pool *pool;
	uint32_t pool_id = op->oid.pool, pg = op->oid.pg;
	int ret = op_set_oid(op, oid, err);

	if (ret)
		return ret;
	if (op->oid.pool != pool_id || op->oid.pg != pg)
		return bs_error_set(err, -EINVAL,
				    "object of pg %u.%x in a message of pg %u.%x",
				    op->oid.pool, op->oid.pg, pool_id, pg);
	return op_check_object(op, &pool, err);
}

void install_push(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__PgPush *req = (const Bs__PgPush *)op->msg->body;
	struct bs_error err = { 0 };
	struct push_work *w;
	struct osd_obj *obj;
	uint64_t pos = 0, prev_end = 0, data_len = op->msg->hdr.data_len;
	int ret;

	ret = peer_oid(op, req->oid, &err);
	if (!ret && (!req->version || req->size > STORE_MAX_OBJECT_SIZE ||
		     (req->deleted && (req->n_extents || data_len))))
		ret = bs_error_set(&err, -EINVAL, "bad push of version %" PRIx64,
				   req->version);
	if (!ret && req->ec_meta.len &&
	    (!op->pg->erasure || req->deleted ||
	     ec_meta_check(req->ec_meta.data, req->ec_meta.len, req->version)))
		ret = bs_error_set(&err, -EINVAL,
				   "push of version %" PRIx64 " with a bad erasure-coded object record of %zu bytes",
				   req->version, req->ec_meta.len);
	for (size_t i = 0; !ret && i < req->n_extents; i++) {
		const Bs__Extent *e = req->extents[i];

		if (!e->length || e->offset < prev_end ||
		    e->offset > req->size || e->length > req->size - e->offset)
			ret = bs_error_set(&err, -EINVAL,
					   "push extent %zu is out of order or outside the object",
					   i);
		else
			prev_end = e->offset + e->length;
		pos += e ? e->length : 0;
	}
	if (!ret && pos != data_len)
		ret = bs_error_set(&err, -EINVAL,
				   "push extents hold %" PRIu64 " bytes but %" PRIu64 " came",
				   pos, data_len);
	if (ret) {
		op_reply_error(op, ret, "%s: %s", osd->name, err.msg);
		return;
	}
	if (req->activation < op->pg->activation) {
		op_reply_error(op, -ESTALE,
			       "%s: pg %u.%x: push from activation %" PRIu64 " older than %" PRIu64,
			       osd->name, op->pg->pool, op->pg->id,
			       req->activation, op->pg->activation);
		return;
	}
	obj = osd_obj_get(osd, &op->oid);
	if (obj->nmut) {
		op->state = OP_WAIT_OBJ;
		osd_list_add_tail(&obj->waiters, &op->link);
		return;
	}
	obj->nmut++;
	op->obj = obj;
	op->mutating = true;
	op->state = OP_WAIT_WORK;
	op->counted = true;
	pg_inflight_inc(op->pg);

	w = bs_xcalloc(1, sizeof(*w));
	w->op = op;
	op->work = w;
	if (req->n_extents)
		w->ranges = bs_xmalloc(req->n_extents * sizeof(*w->ranges));
	pos = 0;
	for (size_t i = 0; i < req->n_extents; i++) {
		w->ranges[i].off = req->extents[i]->offset;
		w->ranges[i].len = req->extents[i]->length;
		w->ranges[i].data = op->msg->data + pos;
		pos += req->extents[i]->length;
	}
	w->in.osd = osd;
	w->in.oid = op->oid;
	w->in.version = req->version;
	w->in.size = req->size;
	w->in.deleted = req->deleted;
	w->in.ranges = w->ranges;
	w->in.n_ranges = req->n_extents;
	w->in.ec = op->pg->erasure;
	if (req->ec_meta.len) {
		w->in.ec_meta = req->ec_meta.data;
		w->in.ec_meta_len = req->ec_meta.len;
	}
	w->in.fn = push_done;
	install_start(&w->in);
}

/* ---- BS_MSG_PG_PULL (member) ---- */

struct pull_work {
	struct osd_op *op;
	uint64_t (*ranges)[2];
	size_t n_ranges;
	uint64_t size;
	uint8_t *buf;
	size_t cap;
};

static void pull_released(void *opaque)
{
	struct osd_op *op = opaque;
	struct pull_work *w = op->work;

	if (w) {
		if (w->buf)
			osd_buf_put(op->osd, w->buf, w->cap);
		free(w->ranges);
		free(w);
		op->work = NULL;
	}
	op->reply_busy = false;
	op_maybe_free(op);
}

static void pull_reply(struct osd_op *op, uint64_t version)
{
	struct pull_work *w = op->work;
	Bs__PgPullReply r = BS__PG_PULL_REPLY__INIT;
	Bs__Extent *ext = NULL, **extp = NULL;
	struct iovec *iov = NULL;

	if (w->n_ranges) {
		ext = bs_xmalloc(w->n_ranges * sizeof(*ext));
		extp = bs_xmalloc(w->n_ranges * sizeof(*extp));
		iov = bs_xmalloc(w->n_ranges * sizeof(*iov));
	}
	for (size_t i = 0; i < w->n_ranges; i++) {
		bs__extent__init(&ext[i]);
		ext[i].offset = w->ranges[i][0];
		ext[i].length = w->ranges[i][1];
		extp[i] = &ext[i];
		iov[i].iov_base = w->buf + w->ranges[i][0];
		iov[i].iov_len = w->ranges[i][1];
	}
	r.map_epoch = op->osd->map->epoch;
	r.version = version;
	r.size = w->size;
	r.n_extents = w->n_ranges;
	r.extents = extp;
	op_reply_zc(op, BS_MSG_PG_PULL_REPLY, &r.base, iov,
		    (unsigned)w->n_ranges, pull_released);
	free(iov);
	free(extp);
	free(ext);
}

static void pull_fail(struct osd_op *op, int res, const char *why)
{
	struct pull_work *w = op->work;

	if (w) {
		if (w->buf)
			osd_buf_put(op->osd, w->buf, w->cap);
		free(w->ranges);
		free(w);
		op->work = NULL;
	}
	op_reply_error(op, res, "%s: object %" PRIu64 ".%" PRIu64 ": %s",
		       op->osd->name, op->oid.volume, op->oid.objnum, why);
}

static void pull_read_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);
	const Bs__PgPull *req = (const Bs__PgPull *)op->msg->body;

	op->local_busy = false;
	osd_bg_done(op->osd);
	if (res == -EBADMSG) {
		pull_fail(op, res, "checksum mismatch");
		return;
	}
	if (res) {
		pull_fail(op, res, strerror(-res));
		return;
	}
	if (req->version && sop->version != req->version) {
		pull_fail(op, -ESTALE, "changed while read");
		return;
	}
	pull_reply(op, sop->version);
}

void install_pull(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__PgPull *req = (const Bs__PgPull *)op->msg->body;
	struct bs_error err = { 0 };
	struct store_obj_stat st;
	struct pull_work *w;
	struct osd_obj *obj;
	char why[96];
	int ret;

	ret = peer_oid(op, req->oid, &err);
	if (ret) {
		op_reply_error(op, ret, "%s: %s", osd->name, err.msg);
		return;
	}
	obj = osd_obj_find(osd, &op->oid);
	if (obj && obj->nmut) {
		op->state = OP_WAIT_OBJ;
		osd_list_add_tail(&obj->waiters, &op->link);
		return;
	}
	if (store_stat(osd->store, &op->oid, &st)) {
		op_reply_error(op, -ENOENT, "%s: object %" PRIu64 ".%" PRIu64
			       " is not here", osd->name, op->oid.volume,
			       op->oid.objnum);
		return;
	}
	if (req->version && st.version != req->version) {
		snprintf(why, sizeof(why), "version %" PRIx64 " is here, not %"
			 PRIx64, st.version, req->version);
		op_reply_error(op, -ESTALE, "%s: object %" PRIu64 ".%" PRIu64
			       ": %s", osd->name, op->oid.volume,
			       op->oid.objnum, why);
		return;
	}
	w = bs_xcalloc(1, sizeof(*w));
	op->work = w;
	w->op = op;
	w->size = st.size;
	ret = install_read_ranges(osd, &op->oid, st.size, &w->ranges,
				  &w->n_ranges);
	if (ret) {
		pull_fail(op, ret, "cannot list its extents");
		return;
	}
	if (!w->n_ranges) {
		pull_reply(op, st.version);
		return;
	}
	w->buf = osd_buf_get(osd, st.size, &w->cap);
	op->state = OP_WAIT_WORK;
	op->local_busy = true;
	op->sop.fn = pull_read_done;
	osd->bg_ops++;
	store_read(osd->store, &op->sop, &op->oid, 0, st.size, w->buf);
}
