// SPDX-License-Identifier: Apache-2.0
/*
 * Client ops of erasure-coded PGs on the primary, and the members' shard
 * reads (BS_MSG_EC_READ).  The stripe maths is common/ec.c; this file moves
 * the bytes.  Slot i of the positional acting set stores shard i of every
 * object of the PG as an ordinary store object (same oid) at the object's
 * version.  docs/erasure-coding.md ("The OSD") explains the protocol:
 *
 *   read     the touched data shards' ranges from their members (our own
 *            shard from the store); a member that is down, lacks the
 *            object (missing table) or answers another version is left
 *            out and the hull is decoded from any k shards instead
 *   write    one mutation per object at a time: read the old bytes of
 *            the touched stripes (none for whole stripes or a new
 *            object), merge, encode whole stripes, send every member its
 *            shard range as a RepOp of the new version, reply once every
 *            member up is durable and at least min_size are
 *   delete   a RepOp DELETE to every member
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

#define EC_READ_ROUNDS	4	/* re-plans after shards failed */

struct ec_io;

struct ec_sub {
	struct ec_io *io;
	unsigned slot;
	uint64_t off, len;		/* shard space */
	struct store_op sop;		/* our own shard */
};

enum ec_phase {
	EC_IDLE = 0,
	EC_READING,
	EC_WRITING,
};

struct ec_io {
	struct osd_op *op;
	enum ec_phase phase;
	uint64_t version;		/* authoritative (0: absent) */
	uint32_t avail;			/* slots that hold @version */
	uint32_t bad;			/* slots that failed a read */
	unsigned pending;		/* shard reads in flight */
	unsigned rounds;
	bool round_failed;

	/* read: logical [roff, +rlen) into rbuf */
	uint64_t roff, rlen;
	uint8_t *rbuf;
	struct bs_ec_map map;
	uint32_t sources;		/* slots read this round */
	bool direct;			/* no decode: data shards only */
	uint8_t *hbuf[BS_EC_MAX_SHARDS];
	void (*then)(struct ec_io *io, int res);
	struct ec_sub sub[BS_EC_MAX_SHARDS];

	/* write: whole stripes [s0, s0 + n) */
	uint64_t s0, n;
	uint8_t *lbuf;			/* n * stripe_width logical bytes */
	uint8_t *wbuf[BS_EC_MAX_SHARDS];	/* n * stripe_unit each */
	bool self_write;
	int self_slot;

	/* logical size and allocation (ec_meta.c) */
	struct ec_meta meta;
	uint8_t *meta_val;		/* encoded, after a mutation */
};

static uint8_t *ec_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, STORE_BLOCK_SIZE, len ? len : 1))
		abort();
	return p;
}

static void free_hbufs(struct ec_io *io)
{
	for (unsigned i = 0; i < BS_EC_MAX_SHARDS; i++) {
		free(io->hbuf[i]);
		io->hbuf[i] = NULL;
	}
}

/* Called by op_maybe_free(): the op is done with everything. */
static void ec_io_free(struct osd_op *op)
{
	struct ec_io *io = op->ec;

	free_hbufs(io);
	for (unsigned i = 0; i < BS_EC_MAX_SHARDS; i++)
		free(io->wbuf[i]);
	free(io->lbuf);
	free(io->rbuf);
	free(io->meta_val);
	free(io);
	op->ec = NULL;
}

void ec_release(struct osd *osd)
{
	bs_ec_ctx_free(&osd->ec_ctx);
}

static const char *oname(const struct osd_op *op, char *buf, size_t len)
{
	snprintf(buf, len, "object %" PRIu64 ".%" PRIu64, op->oid.volume,
		 op->oid.objnum);
	return buf;
}

/*
 * The object's authoritative version and the slots that hold it: up,
 * placed, and not lacking it in the missing table.
 */
static void ec_plan_members(struct ec_io *io)
{
	struct osd_op *op = io->op;
	struct osd *osd = op->osd;
	struct pg *pg = op->pg;
	struct pg_miss *m = pg_miss_find(pg, op->oid.volume, op->oid.objnum);
	struct osd_obj *obj = osd_obj_find(osd, &op->oid);
	struct store_obj_stat st;

	if (m)
		io->version = m->deleted ? 0 : m->version;
	else if (obj && obj->cur != OSD_OBJ_BROKEN)
		io->version = obj->cur;
	else if (!store_stat(osd->store, &op->oid, &st))
		io->version = st.version;
	else
		io->version = 0;
	io->avail = 0;
	io->self_slot = -1;
	for (unsigned i = 0; i < pg->n_acting && i < BS_EC_MAX_SHARDS; i++) {
		int32_t id = pg->acting[i];
		int p;

		if (id < 0 || !osd_is_up(osd, id))
			continue;
		if (id == osd->id)
			io->self_slot = (int)i;
		p = pg_peer_index(pg, id);
		if (m && p >= 0 && p < 64 && (m->need >> p & 1))
			continue;
		if (obj && id == osd->id && obj->cur == OSD_OBJ_BROKEN)
			continue;
		io->avail |= 1u << i;
	}
}

/* The peer bits of the members in slots @slots. */
static uint64_t ec_avail_peers(const struct pg *pg, uint32_t slots)
{
	uint64_t bits = 0;

	for (unsigned i = 0; i < pg->n_acting && i < BS_EC_MAX_SHARDS; i++) {
		int p;

		if (!(slots >> i & 1))
			continue;
		p = pg_peer_index(pg, pg->acting[i]);
		if (p >= 0 && p < 64)
			bits |= 1ull << p;
	}
	return bits;
}

/*
 * How many up members of the acting set hold a shard of @m's version for
 * their slot (fewer than k: a read must wait for its recovery).
 */
unsigned ec_shards_usable(struct osd *osd, const struct pg *pg,
			  const struct pg_miss *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pg->n_acting && i < BS_EC_MAX_SHARDS; i++) {
		int32_t id = pg->acting[i];
		int p = id >= 0 ? pg_peer_index(pg, id) : -1;

		if (p >= 0 && p < 64 && !(m->need >> p & 1) &&
		    osd_is_up(osd, id))
			n++;
	}
	return n;
}

/* ---- shard reads ---- */

static void ec_read_round(struct ec_io *io);

static void sub_finished(struct ec_sub *s, int res, uint64_t version)
{
	struct ec_io *io = s->io;
	struct osd_op *op = io->op;
	char name[64];

	if (!res && version != io->version) {
		bs_warn_rl(&op->osd->rl, "pg %u.%x: %s: shard %u (osd.%d) is at version %" PRIx64 ", not %" PRIx64 ": reading around it",
			   op->oid.pool, op->oid.pg,
			   oname(op, name, sizeof(name)), s->slot,
			   op->pg->acting[s->slot], version, io->version);
		res = -ESTALE;
	}
	if (res) {
		io->bad |= 1u << s->slot;
		io->round_failed = true;
	}
	if (res == -EBADMSG && op->pg->is_primary)
		/* decoded around now, rebuilt in the background */
		recovery_shard_bad(op->osd, op->pg, &op->oid,
				   op->pg->acting[s->slot], io->version);
	io->pending--;
	op->calls--;
	if (op->replied) {
		op_maybe_free(op);
		return;
	}
	if (!io->pending)
		ec_read_round(io);
}

static void sub_local_done(struct store_op *sop, int res)
{
	struct ec_sub *s = container_of(sop, struct ec_sub, sop);

	if (res == -ENOENT) {
		res = 0;
		sop->version = 0;
	}
	sub_finished(s, res, sop->version);
}

static void sub_reply_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct ec_sub *s = opaque;
	uint64_t version = 0;

	if (!res) {
		const Bs__EcReadReply *r =
			(const Bs__EcReadReply *)reply->body;

		version = r->version;
		if (reply->hdr.data_len != s->len)
			res = -EPROTO;
		else
			memcpy(s->io->hbuf[s->slot], reply->data, s->len);
	}
	bs_msg_free(reply);
	sub_finished(s, res, version);
}

static void sub_start(struct ec_io *io, unsigned slot, uint64_t off,
		      uint64_t len)
{
	struct osd_op *op = io->op;
	struct osd *osd = op->osd;
	struct ec_sub *s = &io->sub[slot];
	int32_t id = op->pg->acting[slot];
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	Bs__EcRead r = BS__EC_READ__INIT;
	struct bs_conn *conn;
	int ret = -ENOTCONN;

	s->io = io;
	s->slot = slot;
	s->off = off;
	s->len = len;
	io->hbuf[slot] = ec_alloc(len);
	io->pending++;
	op->calls++;
	if (id == osd->id) {
		s->sop.fn = sub_local_done;
		store_read(osd->store, &s->sop, &op->oid, off, len,
			   io->hbuf[slot]);
		return;
	}
	oid.pool = op->oid.pool;
	oid.pg = op->oid.pg;
	oid.volume = op->oid.volume;
	oid.objnum = op->oid.objnum;
	r.map_epoch = osd->map->epoch;
	r.pool = op->oid.pool;
	r.pg = op->oid.pg;
	r.from_osd = (uint32_t)osd->id;
	r.oid = &oid;
	r.offset = off;
	r.length = len;
	conn = osd_peer_conn(osd, id);
	if (conn)
		ret = bs_conn_call(conn, BS_MSG_EC_READ, &r.base, NULL, 0,
				   osd->conf.rep_timeout, sub_reply_cb, s);
	if (ret) {
		io->bad |= 1u << slot;
		io->round_failed = true;
		io->pending--;
		op->calls--;
	}
}

static unsigned popcount32(uint32_t x)
{
	return (unsigned)__builtin_popcount(x);
}

/* Every read round ends here (and the first starts here). */
static void ec_read_round(struct ec_io *io)
{
	struct osd_op *op = io->op;
	struct pg *pg = op->pg;
	const struct bs_ec *ec = &pg->ec;
	uint32_t usable = io->avail & ~io->bad, want;
	uint8_t *shards[BS_EC_MAX_SHARDS];
	const uint8_t *sbuf[BS_EC_MAX_K];
	char name[64];
	int ret;

	if (io->sources && !io->round_failed) {
		/* the round's reads are in: assemble */
		if (io->direct) {
			for (unsigned d = 0; d < ec->k; d++)
				sbuf[d] = io->hbuf[d];
		} else {
			want = io->map.mask & ~io->sources;
			for (unsigned i = 0; i < ec->k + ec->m; i++) {
				if ((want >> i & 1) && !io->hbuf[i])
					io->hbuf[i] = ec_alloc(io->map.hull.len);
				shards[i] = io->hbuf[i];
			}
			if (!op->osd->ec_ctx &&
			    bs_ec_ctx_new(&op->osd->ec_ctx)) {
				io->then(io, -ENOMEM);
				return;
			}
			ret = bs_ec_decode(ec, op->osd->ec_ctx, shards,
					   io->sources, want,
					   io->map.hull.len);
			if (ret) {
				io->then(io, ret);
				return;
			}
			for (unsigned d = 0; d < ec->k; d++)
				sbuf[d] = (io->map.mask >> d & 1) ?
					  io->hbuf[d] + (io->map.shard[d].off -
							 io->map.hull.off) :
					  NULL;
		}
		bs_ec_gather(ec, io->roff, io->rlen, sbuf, io->rbuf);
		free_hbufs(io);
		io->then(io, 0);
		return;
	}
	if (io->sources && ++io->rounds > EC_READ_ROUNDS) {
		io->then(io, -EIO);
		return;
	}
	free_hbufs(io);
	io->round_failed = false;
	if (!io->version) {
		memset(io->rbuf, 0, io->rlen);	/* thin: never written */
		io->then(io, 0);
		return;
	}
	if (!(io->map.mask & ~usable)) {
		io->direct = true;
		io->sources = io->map.mask;
	} else {
		io->direct = false;
		io->sources = 0;
		for (unsigned i = 0; i < ec->k + ec->m &&
				     popcount32(io->sources) < ec->k; i++)
			if (usable >> i & 1)
				io->sources |= 1u << i;
		if (popcount32(io->sources) < ec->k) {
			bs_warn_rl(&op->osd->rl, "pg %u.%x: %s: only %u of %u shards at version %" PRIx64 " are readable (%u needed)",
				   op->oid.pool, op->oid.pg,
				   oname(op, name, sizeof(name)),
				   popcount32(usable), ec->k + ec->m,
				   io->version, ec->k);
			io->then(io, -EIO);
			return;
		}
	}
	for (unsigned i = 0; i < ec->k + ec->m; i++) {
		if (!(io->sources >> i & 1))
			continue;
		if (io->direct)
			sub_start(io, i, io->map.shard[i].off,
				  io->map.shard[i].len);
		else
			sub_start(io, i, io->map.hull.off, io->map.hull.len);
	}
	if (!io->pending) {
		/* every send failed at once: re-plan (rounds are bounded) */
		io->round_failed = true;
		ec_read_round(io);
	}
}

/* Read logical [off, +len) of the object into io->rbuf, then io->then. */
static void ec_read(struct ec_io *io, uint64_t off, uint64_t len,
		    void (*then)(struct ec_io *io, int res))
{
	io->phase = EC_READING;
	io->roff = off;
	io->rlen = len;
	free(io->rbuf);
	io->rbuf = ec_alloc(len);
	io->then = then;
	io->sources = 0;
	io->rounds = 0;
	io->bad = 0;
	io->round_failed = false;
	bs_ec_map_range(&io->op->pg->ec, off, len, &io->map);
	ec_read_round(io);
}

/* ---- client reads ---- */

static void client_read_done(struct ec_io *io, int res)
{
	struct osd_op *op = io->op;
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;
	struct iovec iov;
	char name[64];

	io->phase = EC_IDLE;
	if (res) {
		op_reply_error(op, res, "%s: %s: erasure-coded read failed: %s",
			       op->osd->name, oname(op, name, sizeof(name)),
			       strerror(-res));
		return;
	}
	r.map_epoch = op->osd->map->epoch;
	r.version = io->version;
	iov.iov_base = io->rbuf;
	iov.iov_len = op->len;
	op_reply_zc(op, BS_MSG_OSD_OP_REPLY, &r.base, &iov, 1,
		    op_reply_released);
}

/* The object's blob at its authoritative version into io->meta; 0 if so. */
static int ec_stat_exact(struct ec_io *io)
{
	struct osd_op *op = io->op;

	return ec_meta_load(op->osd, &op->oid, io->version, &io->meta);
}

/* Answer EXTENTS from io->meta; @r has the rest of the reply. */
static void ec_extents_reply(struct ec_io *io, Bs__OsdOpReply *r)
{
	struct osd_op *op = io->op;
	size_t max = op->len / (2 * EC_META_BLOCK) + 2, n;
	uint64_t (*ranges)[2] = bs_xmalloc(max * sizeof(*ranges));
	Bs__Extent *ext = bs_xmalloc(max * sizeof(*ext));
	Bs__Extent **extp = bs_xmalloc(max * sizeof(*extp));

	n = ec_meta_extents(&io->meta, op->off, op->len, ranges, max);
	for (size_t i = 0; i < n; i++) {
		bs__extent__init(&ext[i]);
		ext[i].offset = ranges[i][0];
		ext[i].length = ranges[i][1];
		extp[i] = &ext[i];
	}
	r->n_extents = n;
	r->extents = extp;
	bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r->base, NULL,
		      0, NULL, NULL);
	free(extp);
	free(ext);
	free(ranges);
	op_done(op);
}

static void ec_stat(struct ec_io *io)
{
	struct osd_op *op = io->op;
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;
	Bs__Extent e = BS__EXTENT__INIT, *ep = &e;
	struct store_obj_stat st;
	char name[64];

	if (!io->version && op->kind == BS__OSD_OP_KIND__OSD_OP_STAT) {
		op_reply_error(op, -ENOENT, "%s does not exist",
			       oname(op, name, sizeof(name)));
		return;
	}
	r.map_epoch = op->osd->map->epoch;
	r.version = io->version;
	if (io->version && !ec_stat_exact(io)) {
		r.size = io->meta.size;
		if (op->kind == BS__OSD_OP_KIND__OSD_OP_EXTENTS) {
			ec_extents_reply(io, &r);
			return;
		}
	} else if (op->kind == BS__OSD_OP_KIND__OSD_OP_STAT) {
		/* no blob: our shard's size times k, an estimate */
		if (!store_stat(op->osd->store, &op->oid, &st))
			r.size = st.size * op->pg->ec.k;
	} else if (io->version) {
		/* no blob: all of it */
		e.offset = op->off;
		e.length = op->len;
		r.n_extents = 1;
		r.extents = &ep;
	}
	bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	op_done(op);
}

/* ---- writes ---- */

static void write_local_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);
	char name[64];

	op->local_busy = false;
	op->local_done = true;
	op_local_uncount(op);
	if (res == -ENOENT && op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE)
		res = 0;
	op->local_res = res;
	if (res && op->obj) {
		op->obj->cur = OSD_OBJ_BROKEN;
		bs_err("%s: shard write of version %" PRIx64 " failed: %s",
		       oname(op, name, sizeof(name)), op->version,
		       strerror(-res));
	}
	ec_check(op);
}

/*
 * A shard range of zeros goes out as a discard, so that never-written
 * units stay holes on the disks (and in the raw bytes of "osd df").
 */
static bool shard_is_hole(const struct ec_io *io, unsigned slot)
{
	const struct osd_op *op = io->op;
	const uint8_t *p = io->wbuf[slot];
	size_t len = io->n * op->pg->ec.stripe_unit;

	if (op->flags & BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE)
		return false;
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

/*
 * The object's blob after @op (ec_meta.c), from ours at the version it
 * follows.  Without one (we lack the object, or it predates the blobs)
 * none is sent: a shard's size is no bound once zero shards are
 * discards, so the members' blobs go stale and STAT and EXTENTS fall
 * back to whole ranges until the object is deleted.
 */
static void ec_meta_next(struct ec_io *io)
{
	struct osd_op *op = io->op;

	op->ec_meta = NULL;
	op->ec_meta_len = 0;
	if (op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE)
		return;
	if (!io->version)
		memset(&io->meta, 0, sizeof(io->meta));
	else if (ec_meta_load(op->osd, &op->oid, io->version, &io->meta))
		return;
	ec_meta_apply(&io->meta, op->kind, op->flags, op->off, op->len);
	io->meta.version = op->version;
	if (!io->meta_val)
		io->meta_val = bs_xmalloc(EC_META_MAX_LEN);
	op->ec_meta = io->meta_val;
	op->ec_meta_len = ec_meta_encode(&io->meta, io->meta_val);
}

/* The stripes are encoded (or it is a delete): send every member its. */
static void ec_write_send(struct ec_io *io)
{
	struct osd_op *op = io->op;
	struct pg *pg = op->pg;
	const struct bs_ec *ec = &pg->ec;
	bool del = op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE;

	io->phase = EC_WRITING;
	op->state = OP_RUNNING;
	op->n_targets = 0;
	for (unsigned i = 0; i < pg->n_acting && i < ec->k + ec->m; i++) {
		struct rep_target *t;

		if (!(io->avail >> i & 1) || (int)i == io->self_slot)
			continue;
		t = &op->targets[op->n_targets++];
		memset(t, 0, sizeof(*t));
		t->op = op;
		t->osd = pg->acting[i];
		if (!del) {
			t->off = io->s0 * ec->stripe_unit;
			t->len = io->n * ec->stripe_unit;
			t->data = io->wbuf[i];
			t->zero = shard_is_hole(io, i);
		}
	}
	io->self_write = io->self_slot >= 0 &&
			 (io->avail >> io->self_slot & 1);
	if (io->self_write) {
		op->sop.fn = write_local_done;
		op->local_busy = true;
		if (!op->counted) {
			op->counted = true;
			pg_inflight_inc(pg);
		}
		if (del || op->ec_meta)
			ec_meta_attach(op, op->ec_meta, op->ec_meta_len);
		if (del)
			ec_shard_delete(op, write_local_done);
		else if (shard_is_hole(io, (unsigned)io->self_slot))
			ec_shard_write(op, io->s0 * ec->stripe_unit,
				       io->n * ec->stripe_unit, NULL,
				       op->version, write_local_done);
		else
			ec_shard_write(op, io->s0 * ec->stripe_unit,
				       io->n * ec->stripe_unit,
				       io->wbuf[io->self_slot], op->version,
				       write_local_done);
	} else {
		op->local_done = true;
	}
	for (unsigned i = 0; i < op->n_targets; i++)
		rep_send(op, &op->targets[i]);
	if (!op->local_busy)
		ec_check(op);
}

/* Old bytes of the touched stripes are in io->rbuf (or none are needed). */
static void ec_write_encode(struct ec_io *io, int res)
{
	struct osd_op *op = io->op;
	const struct bs_ec *ec = &op->pg->ec;
	uint64_t w = ec->stripe_width, u = ec->stripe_unit;
	uint8_t *shard[BS_EC_MAX_SHARDS];
	uint64_t at = op->off - io->s0 * w;
	char name[64];

	io->phase = EC_IDLE;
	if (res) {
		op_reply_error(op, res == -EIO ? -EAGAIN : res,
			       "%s: %s: cannot read the stripes to update: %s",
			       op->osd->name, oname(op, name, sizeof(name)),
			       strerror(-res));
		return;
	}
	if (op->aborted || !op->pg->is_primary) {
		op_reply_error(op, op->pg->is_primary ? -EAGAIN : -ESTALE,
			       "%s: pg %u.%x changed at epoch %" PRIu64 " while reading stripes",
			       op->osd->name, op->pg->pool, op->pg->id,
			       op->osd->map->epoch);
		return;
	}
	io->lbuf = io->rbuf;
	io->rbuf = NULL;
	if (!io->lbuf) {
		io->lbuf = ec_alloc(io->n * w);
		memset(io->lbuf, 0, io->n * w);
	}
	if (op->kind == BS__OSD_OP_KIND__OSD_OP_WRITE)
		memcpy(io->lbuf + at, op->msg->data, op->len);
	else
		memset(io->lbuf + at, 0, op->len);
	for (unsigned i = 0; i < ec->k + ec->m; i++) {
		io->wbuf[i] = ec_alloc(io->n * u);
		shard[i] = io->wbuf[i];
	}
	bs_ec_scatter(ec, io->s0 * w, io->n * w, io->lbuf, shard);
	bs_ec_encode_stripes(ec, io->lbuf, io->n, shard + ec->k);
	ec_write_send(io);
}

static void ec_write_start(struct ec_io *io)
{
	struct osd_op *op = io->op;
	struct osd *osd = op->osd;
	struct pg *pg = op->pg;
	const struct bs_ec *ec = &pg->ec;
	struct osd_obj *obj = osd_obj_get(osd, &op->oid);
	struct pg_miss *m;
	uint64_t w = ec->stripe_width, end = op->off + op->len;
	uint32_t up = 0;
	char name[64];

	op->obj = obj;
	if (pg->counter == UINT32_MAX || pg->activation > UINT32_MAX) {
		op_reply_error(op, -EAGAIN,
			       "%s: versions of this pg are exhausted until the next map epoch",
			       osd->name);
		return;
	}
	ec_plan_members(io);
	for (unsigned i = 0; i < pg->n_acting; i++)
		up += pg->acting[i] >= 0 && osd_is_up(osd, pg->acting[i]);
	if (popcount32(io->avail) < pg->min_size) {
		op_reply_error(op, -EAGAIN,
			       "%s: pg %u.%x: %s: only %u of %u shards can take the %s (min_size %u; %u lack the object: recovery rebuilds it)",
			       osd->name, pg->pool, pg->id,
			       oname(op, name, sizeof(name)),
			       popcount32(io->avail), ec->k + ec->m,
			       osd_kind(op->kind)->name, pg->min_size,
			       up - popcount32(io->avail));
		return;
	}
	/* versioned like a replicated mutation (primary_start) */
	op->version = pg->activation << 32 | ++pg->counter;
	op->prev_version = io->version;
	obj->cur = op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE ? 0 :
								 op->version;
	obj->last = op->version;
	obj->nmut++;
	op->mutating = true;
	osd_list_add_tail(&pg->ops, &op->link);
	ec_meta_next(io);
	if (op->kind != BS__OSD_OP_KIND__OSD_OP_DELETE) {
		io->s0 = op->off / w;
		io->n = (end + w - 1) / w - io->s0;
	}
	m = pg_miss_find(pg, op->oid.volume, op->oid.objnum);
	if (m && !m->busy) {
		/* the members lacking it stay behind: recovery rebuilds this */
		m->version = op->version;
		m->deleted = op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE;
		m->size = m->deleted ? 0 :
			  BS_MAX(m->size, (io->s0 + io->n) * ec->stripe_unit);
		/* recovery's sources: the members the new version goes to */
		m->have = ec_avail_peers(pg, io->avail);
	}
	if (op->kind == BS__OSD_OP_KIND__OSD_OP_DELETE) {
		ec_write_send(io);
		return;
	}
	if (io->version && (op->off % w || end % w)) {
		/* read-modify-write of the stripes the write touches */
		op->state = OP_RUNNING;
		ec_read(io, io->s0 * w, io->n * w, ec_write_encode);
		return;
	}
	ec_write_encode(io, 0);
}

/* Reply to a write once it is durable where it must be (primary_check). */
void ec_check(struct osd_op *op)
{
	struct osd *osd = op->osd;
	struct pg *pg = op->pg;
	struct ec_io *io = op->ec;
	unsigned durable, i;
	bool all_up = true;
	int hard = 0;
	char name[32];

	if (op->replied) {
		op_maybe_free(op);
		return;
	}
	if (io->phase == EC_READING) {
		/* the reads of a read-modify-write end on their own */
		if (!pg->is_primary || op->aborted)
			op_reply_error(op, pg->is_primary ? -EAGAIN : -ESTALE,
				       "%s: pg %s changed at epoch %" PRIu64 " while reading stripes",
				       osd->name,
				       pg_name(pg->pool, pg->id, name,
					       sizeof(name)),
				       osd->map->epoch);
		return;
	}
	if (io->phase != EC_WRITING || !op->local_done)
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
			       osd->name,
			       pg_name(pg->pool, pg->id, name, sizeof(name)),
			       osd->map->epoch);
		return;
	}
	if (op->aborted) {
		op_reply_error(op, -EAGAIN,
			       "%s: pg %s is peering again at epoch %" PRIu64,
			       osd->name,
			       pg_name(pg->pool, pg->id, name, sizeof(name)),
			       osd->map->epoch);
		return;
	}
	durable = io->self_write ? 1 : 0;
	for (i = 0; i < op->n_targets; i++) {
		struct rep_target *t = &op->targets[i];

		if (t->state == REP_DONE) {
			durable++;
			continue;
		}
		if (!osd_is_up(osd, t->osd))
			continue;
		all_up = false;
		if (t->state != REP_FAILED)
			continue;
		if (t->res == -ESTALE || t->res == -EAGAIN) {
			op_reply_error(op, -EAGAIN,
				       "%s: pg %s: a member refused shard version %" PRIx64 ": peering again",
				       osd->name,
				       pg_name(pg->pool, pg->id, name,
					       sizeof(name)),
				       op->version);
			if (pg->pstate == PGS_ACTIVE)
				peering_start(osd, pg);
			return;
		}
		hard = t->res;
		break;
	}
	if (all_up && durable >= pg->min_size) {
		Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;

		r.map_epoch = osd->map->epoch;
		r.version = op->version;
		bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r.base,
			      NULL, 0, NULL, NULL);
		op_done(op);
	} else if (hard) {
		op_reply_error(op, hard, "%s: pg %s: a member failed the %s: %s",
			       osd->name,
			       pg_name(pg->pool, pg->id, name, sizeof(name)),
			       osd_kind(op->kind)->name, strerror(-hard));
	} else if (all_up) {
		/* members went down under the write: below min_size */
		op_reply_error(op, -EAGAIN,
			       "%s: pg %s: only %u shards of version %" PRIx64 " are durable (min_size %u)",
			       osd->name,
			       pg_name(pg->pool, pg->id, name, sizeof(name)),
			       durable, op->version, pg->min_size);
	}
}

/* Entry from primary_continue(): the PG is active, the object free. */
void ec_primary_start(struct osd_op *op)
{
	struct ec_io *io = op->ec;

	if (!io) {
		io = bs_xcalloc(1, sizeof(*io));
		io->op = op;
		op->ec = io;
	}
	op->state = OP_RUNNING;
	switch (op->kind) {
	case BS__OSD_OP_KIND__OSD_OP_READ:
		ec_plan_members(io);
		ec_read(io, op->off, op->len, client_read_done);
		break;
	case BS__OSD_OP_KIND__OSD_OP_STAT:
	case BS__OSD_OP_KIND__OSD_OP_EXTENTS:
		ec_plan_members(io);
		ec_stat(io);
		break;
	default:
		ec_write_start(io);
		break;
	}
}

void ec_op_free(struct osd_op *op)
{
	if (op->ec)
		ec_io_free(op);
	ec_undo_free(op);
}

/* ---- member side: BS_MSG_EC_READ ---- */

static void member_read_done(struct store_op *sop, int res)
{
	struct osd_op *op = container_of(sop, struct osd_op, sop);
	Bs__EcReadReply r = BS__EC_READ_REPLY__INIT;
	struct iovec iov;
	void *meta = NULL;
	size_t mlen = 0;

	op->local_busy = false;
	if (res == -ENOENT) {
		res = 0;
		sop->version = 0;
	}
	if (res) {
		op_reply_error(op, res, "%s: shard read failed: %s",
			       op->osd->name, strerror(-res));
		return;
	}
	r.map_epoch = op->osd->map->epoch;
	r.version = sop->version;
	if (sop->version &&
	    ((const Bs__EcRead *)op->msg->body)->want_meta &&
	    !ec_meta_get(op->osd, &op->oid, sop->version, &meta, &mlen)) {
		r.ec_meta.data = meta;
		r.ec_meta.len = mlen;
	}
	iov.iov_base = op->buf;
	iov.iov_len = op->len;
	/* EC_READ_REPLY, or OSD_SHARD_READ_REPLY for a tool */
	op_reply_zc(op, (uint16_t)(op->msg->hdr.type + 50), &r.base, &iov, 1,
		    op_reply_released);
	free(meta);
}

void ec_member_read(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__EcRead *req = (const Bs__EcRead *)op->msg->body;
	const struct bs_osdmap_pool *pool;
	struct bs_error err = { 0 };
	struct osd_obj *obj;
	uint32_t pool_id = op->oid.pool, pg = op->oid.pg;
	int ret;

	ret = op_set_oid(op, req->oid, &err);
	if (!ret && (op->oid.pool != pool_id || op->oid.pg != pg))
		ret = bs_error_set(&err, -EINVAL,
				   "object of pg %u.%x in a message of pg %u.%x",
				   op->oid.pool, op->oid.pg, pool_id, pg);
	if (!ret)
		ret = op_check_object(op, &pool, &err);
	if (!ret && !pool->erasure)
		ret = bs_error_set(&err, -EINVAL,
				   "pool '%s' is not erasure-coded",
				   pool->name);
	if (!ret && (!req->length || req->offset >= STORE_MAX_OBJECT_SIZE ||
		     req->length > STORE_MAX_OBJECT_SIZE - req->offset))
		ret = bs_error_set(&err, -ERANGE,
				   "shard read of %" PRIu64 " bytes at %" PRIu64 " is out of range",
				   req->length, req->offset);
	if (ret) {
		op_reply_error(op, ret, "%s: %s", osd->name, err.msg);
		return;
	}
	/* writes of this object still landing here: after them */
	obj = osd_obj_find(osd, &op->oid);
	if (obj && obj->nmut) {
		op->state = OP_WAIT_OBJ;
		osd_list_add_tail(&obj->waiters, &op->link);
		return;
	}
	op->off = req->offset;
	op->len = req->length;
	op->buf = osd_buf_get(osd, op->len, &op->buf_cap);
	op->state = OP_RUNNING;
	op->sop.fn = member_read_done;
	op->local_busy = true;
	store_read(osd->store, &op->sop, &op->oid, op->off, op->len, op->buf);
}

static void shard_read_continue(struct osd_op *op)
{
	struct osd *osd = op->osd;

	if (!osd->active || !osd->map) {
		op_reply_error(op, -EAGAIN, "%s is not active yet", osd->name);
		return;
	}
	ec_member_read(op);
}

/* BS_MSG_OSD_SHARD_READ: a tool reads this OSD's shard of an object. */
void ec_shard_read_handle(struct osd *osd, struct bs_conn *conn,
			  struct bs_msg *msg)
{
	const Bs__EcRead *req = (const Bs__EcRead *)msg->body;
	struct osd_op *op = op_new(osd, conn, msg);

	op->resume = shard_read_continue;
	op->oid.pool = req->pool;
	op->oid.pg = req->pg;
	shard_read_continue(op);
}

/* ---- recovery: rebuild shards ---- */

int ec_slot_of(const struct pg *pg, int32_t osd)
{
	for (unsigned i = 0; i < pg->n_acting && i < BS_EC_MAX_SHARDS; i++)
		if (pg->acting[i] == osd)
			return (int)i;
	return -1;
}

/*
 * The slot whose shards peer @peer holds (of objects it holds at their
 * version without a claim): its slot in the acting set, or for a member
 * whose shards are another slot's and an old member, the slot of its "S"
 * blob; -1 if unknown.
 */
int ec_holder_slot(const struct pg *pg, unsigned peer)
{
	const struct pg_peer *p = &pg->peers[peer];

	if (p->in_w && !(peer < 64 && (pg->ec_stale >> peer & 1)))
		return ec_slot_of(pg, p->osd);
	if (p->ec_slot && p->ec_slot <= pg->ec.k + pg->ec.m)
		return (int)p->ec_slot - 1;
	return -1;
}

void ec_fetch_release(struct ec_fetch *f)
{
	for (unsigned i = 0; i < BS_EC_MAX_SHARDS; i++) {
		free(f->buf[i]);
		f->buf[i] = NULL;
	}
	bs_free(&f->meta);
	f->meta_len = 0;
}

static void fetch_finish(struct ec_fetch *f)
{
	const struct bs_ec *ec = &f->pg->ec;
	uint8_t *shards[BS_EC_MAX_SHARDS];
	int res = f->res;

	if (!res && f->len && f->want) {
		for (unsigned i = 0; i < ec->k + ec->m; i++) {
			if ((f->want >> i & 1) && !f->buf[i])
				f->buf[i] = ec_alloc(f->len);
			shards[i] = f->buf[i];
		}
		if (!f->osd->ec_ctx && bs_ec_ctx_new(&f->osd->ec_ctx))
			res = -ENOMEM;
		else
			res = bs_ec_decode(ec, f->osd->ec_ctx, shards,
					   f->sources, f->want, f->len);
	}
	f->fn(f, res);
}

static void fetch_sub_done(struct ec_fetch_sub *s, int res, uint64_t version)
{
	struct ec_fetch *f = s->f;

	if (!res && version != f->version)
		res = -ESTALE;
	if (res) {
		f->bad |= 1u << s->slot;
		if (res == -EBADMSG)
			f->corrupt |= 1u << s->slot;
	}
	if (res && !f->res)
		f->res = res;
	if (!--f->pending)
		fetch_finish(f);
}

static void fetch_local_done(struct store_op *sop, int res)
{
	struct ec_fetch_sub *s = container_of(sop, struct ec_fetch_sub, sop);

	if (res == -ENOENT) {
		res = 0;
		sop->version = 0;
	}
	fetch_sub_done(s, res, sop->version);
}

static void fetch_reply_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct ec_fetch_sub *s = opaque;
	struct ec_fetch *f = s->f;
	uint64_t version = 0;

	if (!res) {
		const Bs__EcReadReply *r =
			(const Bs__EcReadReply *)reply->body;

		version = r->version;
		if (reply->hdr.data_len != f->len)
			res = -EPROTO;
		else
			memcpy(f->buf[s->slot], reply->data, f->len);
		/* the first sound record of the version will do */
		if (!res && f->want_meta && !f->meta && r->ec_meta.len &&
		    !ec_meta_check(r->ec_meta.data, r->ec_meta.len,
				   f->version)) {
			f->meta = bs_xmalloc(r->ec_meta.len);
			memcpy(f->meta, r->ec_meta.data, r->ec_meta.len);
			f->meta_len = r->ec_meta.len;
		}
	}
	bs_msg_free(reply);
	fetch_sub_done(s, res, version);
}

void ec_fetch_start(struct ec_fetch *f)
{
	struct osd *osd = f->osd;
	const struct bs_ec *ec = &f->pg->ec;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	Bs__EcRead r = BS__EC_READ__INIT;

	f->res = 0;
	f->bad = f->corrupt = 0;
	f->pending = 1;		/* held while sending */
	oid.pool = f->oid.pool;
	oid.pg = f->oid.pg;
	oid.volume = f->oid.volume;
	oid.objnum = f->oid.objnum;
	r.map_epoch = osd->map->epoch;
	r.pool = f->oid.pool;
	r.pg = f->oid.pg;
	r.from_osd = (uint32_t)osd->id;
	r.oid = &oid;
	r.offset = 0;
	r.length = f->len;
	r.want_meta = f->want_meta;
	for (unsigned i = 0; f->len && i < ec->k + ec->m; i++) {
		struct ec_fetch_sub *s = &f->sub[i];
		int32_t id = f->src[i];
		struct bs_conn *conn;

		if (!(f->sources >> i & 1))
			continue;
		s->f = f;
		s->slot = i;
		f->buf[i] = ec_alloc(f->len);
		f->pending++;
		if (id == osd->id) {
			s->sop.fn = fetch_local_done;
			store_read(osd->store, &s->sop, &f->oid, 0, f->len,
				   f->buf[i]);
			continue;
		}
		conn = osd_peer_conn(osd, id);
		if (!conn || bs_conn_call(conn, BS_MSG_EC_READ, &r.base, NULL,
					  0, OSD_PUSH_TIMEOUT_MS,
					  fetch_reply_cb, s)) {
			f->pending--;
			f->bad |= 1u << i;
			if (!f->res)
				f->res = -ENOTCONN;
		}
	}
	if (!--f->pending)
		fetch_finish(f);
}
