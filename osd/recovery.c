// SPDX-License-Identifier: Apache-2.0
/*
 * Recovery, primary side: the missing table of an active PG (objects
 * some member lacks or holds at another version, with the authoritative
 * state peering decided) and the work through it.
 *
 * One object at a time per struct rec_op:
 *   LOCK     the object is locked on the primary (client writes to it
 *            wait; reads wait too when the primary itself lacks it)
 *   READ     the data comes from the primary's own copy, or
 *   PULL     from a member holding the version (BS_MSG_PG_PULL; another
 *            one if that fails; none left: the object is unfound)
 *   PUSH     installed on every member that needs it: the primary itself
 *            through install_start(), the others with BS_MSG_PG_PUSH
 *   DONE     members that took it leave the entry; it goes when none is
 *            left, and the ops waiting for it go on
 * Background recovery runs at most osd_recovery_max_active objects at
 * once and copies at most osd_recovery_bytes_per_sec; an object a client
 * reads or writes is recovered at once, whatever the limits.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

#define REC_RETRY_MS	2000	/* after a failed push or pull */
#define REC_EC_ROUNDS	3	/* shard fetches of one object */
#define SELF		1ull	/* pg->peers[0] is this OSD */

static unsigned popcount64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

struct rec_op {
	struct osd *osd;
	struct pg *pg;
	unsigned gen;
	struct pg_miss *m;		/* valid while gen matches */
	struct store_oid oid;
	uint64_t version, size;
	bool deleted;
	bool background;
	struct osd_obj *obj;
	uint64_t tried;			/* sources asked */
	uint64_t done, failed;		/* members that took it / not */
	unsigned pending;
	uint64_t (*ranges)[2];
	size_t n_ranges;
	uint8_t *buf;			/* own copy: the whole object */
	size_t cap;
	struct bs_msg *pulled;		/* a pull reply: its data */
	struct install_range *irs;
	struct store_op sop;
	struct install in;
	/* erasure-coded: shards rebuilt by decoding, one range each */
	struct ec_fetch ecf;
	struct install_range ec_irs[BS_EC_MAX_SHARDS];
	uint64_t ec_bad;		/* peers whose shard read failed */
	unsigned ec_src[BS_EC_MAX_SHARDS];	/* peer read for each slot */
	unsigned ec_rounds;
	void *ec_meta;			/* the version's ec_meta.c record */
	size_t ec_meta_len;
};

/* A push in flight. */
struct rec_push {
	struct rec_op *r;
	unsigned idx;
};

static void rec_pull(struct rec_op *r);
static void rec_push_all(struct rec_op *r);

/* ---- the missing table ---- */

static size_t miss_hash(uint64_t volume, uint64_t objnum)
{
	uint64_t h = volume * 0x9e3779b97f4a7c15ull ^
		     objnum * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ (h >> 31));
}

struct pg_miss *pg_miss_find(struct pg *pg, uint64_t volume, uint64_t objnum)
{
	struct pg_miss *m;

	if (!pg->miss_nb)
		return NULL;
	m = pg->miss_tab[miss_hash(volume, objnum) & (pg->miss_nb - 1)];
	for (; m; m = m->hnext)
		if (m->volume == volume && m->objnum == objnum)
			return m;
	return NULL;
}

static void miss_grow(struct pg *pg)
{
	size_t nb = pg->miss_nb ? pg->miss_nb * 2 : 64;
	struct pg_miss **tab = bs_xcalloc(nb, sizeof(*tab));

	for (size_t i = 0; i < pg->miss_nb; i++) {
		struct pg_miss *m, *next;

		for (m = pg->miss_tab[i]; m; m = next) {
			size_t b = miss_hash(m->volume, m->objnum) & (nb - 1);

			next = m->hnext;
			m->hnext = tab[b];
			tab[b] = m;
		}
	}
	free(pg->miss_tab);
	pg->miss_tab = tab;
	pg->miss_nb = nb;
}

/* The entry of an object (made, idle and queued, if needed). */
struct pg_miss *pg_miss_add(struct pg *pg, uint64_t volume, uint64_t objnum)
{
	struct pg_miss *m = pg_miss_find(pg, volume, objnum);
	size_t b;

	if (m)
		return m;
	if (pg->n_miss >= pg->miss_nb)
		miss_grow(pg);
	m = bs_xcalloc(1, sizeof(*m));
	m->volume = volume;
	m->objnum = objnum;
	osd_list_init(&m->link);
	osd_list_init(&m->waiters);
	b = miss_hash(volume, objnum) & (pg->miss_nb - 1);
	m->hnext = pg->miss_tab[b];
	pg->miss_tab[b] = m;
	pg->n_miss++;
	osd_list_add_tail(&pg->miss_queue, &m->link);
	return m;
}

static void wake(struct osd_list *waiters)
{
	while (!osd_list_empty(waiters))
		osd_resume_later(container_of(waiters->next, struct osd_op,
					      link));
}

static void miss_remove(struct pg *pg, struct pg_miss *m)
{
	struct pg_miss **pp;

	pp = &pg->miss_tab[miss_hash(m->volume, m->objnum) &
			   (pg->miss_nb - 1)];
	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	pg->n_miss--;
	if (m->unfound && pg->n_unfound)
		pg->n_unfound--;
	osd_list_del(&m->link);
	wake(&m->waiters);
	free(m);
	if (osd_list_empty(&pg->miss_queue))
		osd_list_del(&pg->rlink);
}

/* Drop the whole table; waiting ops go on (and find the PG peering). */
void pg_miss_clear(struct osd *osd, struct pg *pg)
{
	(void)osd;
	for (size_t i = 0; i < pg->miss_nb; i++) {
		struct pg_miss *m, *next;

		for (m = pg->miss_tab[i]; m; m = next) {
			next = m->hnext;
			osd_list_del(&m->link);
			wake(&m->waiters);
			free(m);
		}
	}
	bs_free(&pg->miss_tab);
	pg->miss_nb = pg->n_miss = 0;
	pg->n_unfound = 0;
	osd_list_init(&pg->miss_queue);
	osd_list_del(&pg->rlink);
}

/* Put @m (idle) back in line and the PG in the OSD's round. */
void recovery_queue(struct osd *osd, struct pg *pg, struct pg_miss *m)
{
	if (!m->busy && osd_list_empty(&m->link))
		osd_list_add_tail(&pg->miss_queue, &m->link);
	if (osd_list_empty(&pg->rlink) && pg->pstate == PGS_ACTIVE)
		osd_list_add_tail(&osd->rec_pgs, &pg->rlink);
}

/* ---- one object ---- */

static void rec_free_data(struct rec_op *r)
{
	if (r->buf)
		osd_buf_put(r->osd, r->buf, r->cap);
	r->buf = NULL;
	bs_msg_free(r->pulled);
	r->pulled = NULL;
	bs_free(&r->ranges);
	bs_free(&r->irs);
	ec_fetch_release(&r->ecf);
	bs_free(&r->ec_meta);
	r->ec_meta_len = 0;
}

static void rec_finish(struct rec_op *r)
{
	struct osd *osd = r->osd;
	struct pg *pg = r->pg;
	struct osd_obj *obj = r->obj;
	struct pg_miss *m = r->m;
	bool current = r->gen == pg->gen && !osd->stopping;

	rec_free_data(r);
	if (r->background && osd->rec_active)
		osd->rec_active--;
	if (obj) {
		if (current && (r->done & SELF)) {
			obj->cur = r->deleted ? 0 : r->version;
			obj->last = BS_MAX(obj->last, r->version);
		}
		obj->locks--;
		wake(&obj->waiters);
		osd_obj_maybe_free(osd, obj);
	}
	if (current) {
		m->busy = false;
		m->need &= ~r->done;
		if (pg->erasure)	/* their old shards are gone */
			m->have &= ~r->done;
		if (r->done && !r->deleted) {
			pg->rec_objects++;
			pg->rec_bytes += r->size;
		}
		if (!m->need) {
			miss_remove(pg, m);
		} else {
			if (r->failed)
				m->retry_ms = bs_now_ms() + REC_RETRY_MS;
			recovery_queue(osd, pg, m);
			wake(&m->waiters);
		}
		if (!pg->n_miss)
			peering_check_clean(osd, pg);
	}
	free(r);
	recovery_kick_later(osd);
}

/* Every member that needs the object got it (or failed): done. */
static void rec_push_settled(struct rec_op *r)
{
	if (r->pending)
		return;
	rec_finish(r);
}

static void self_installed(struct install *in, int res)
{
	struct rec_op *r = container_of(in, struct rec_op, in);
	char name[32];

	pg_inflight_dec(r->osd, r->pg);
	r->pending--;
	if (res) {
		bs_err("pg %s: object %" PRIu64 ".%" PRIu64
		       ": installing version %" PRIx64 " here failed: %s",
		       pg_name(r->oid.pool, r->oid.pg, name, sizeof(name)),
		       r->oid.volume, r->oid.objnum, r->version,
		       strerror(-res));
		r->failed |= SELF;
	} else {
		r->done |= SELF;
	}
	rec_push_settled(r);
}

static void push_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct rec_push *p = opaque;
	struct rec_op *r = p->r;
	uint64_t bit = 1ull << p->idx;
	char name[32];

	r->pending--;
	if (res) {
		if (r->gen == r->pg->gen && !r->osd->stopping)
			bs_warn_rl(&r->osd->rl, "pg %s: osd.%d did not take object %" PRIu64 ".%" PRIu64 ": %s",
				   pg_name(r->oid.pool, r->oid.pg, name,
					   sizeof(name)),
				   r->pg->peers[p->idx].osd, r->oid.volume,
				   r->oid.objnum,
				   *bs_msg_error_text(reply) ?
					   bs_msg_error_text(reply) :
					   strerror(-res));
		r->failed |= bit;
	} else {
		r->done |= bit;
	}
	bs_msg_free(reply);
	free(p);
	rec_push_settled(r);
}

/* The push message's extents and data of @irs (r->n_ranges of them). */
static void push_ranges(struct rec_op *r, const struct install_range *irs,
			Bs__Extent *ext, Bs__Extent **extp, struct iovec *iov)
{
	for (size_t i = 0; i < r->n_ranges; i++) {
		bs__extent__init(&ext[i]);
		ext[i].offset = irs[i].off;
		ext[i].length = irs[i].len;
		extp[i] = &ext[i];
		iov[i].iov_base = (void *)irs[i].data;
		iov[i].iov_len = irs[i].len;
	}
}

/* Send the object to every member of the entry's need set. */
static void rec_push_all(struct rec_op *r)
{
	struct osd *osd = r->osd;
	struct pg *pg = r->pg;
	struct pg_miss *m = r->m;
	Bs__PgPush req = BS__PG_PUSH__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;
	Bs__Extent *ext = NULL, **extp = NULL;
	struct iovec *iov = NULL;
	uint64_t need;

	if (r->gen != pg->gen || osd->stopping) {
		rec_finish(r);
		return;
	}
	need = m->need;
	if (r->n_ranges) {
		ext = bs_xmalloc(r->n_ranges * sizeof(*ext));
		extp = bs_xmalloc(r->n_ranges * sizeof(*extp));
		iov = bs_xmalloc(r->n_ranges * sizeof(*iov));
	}
	if (!pg->erasure || r->deleted)
		push_ranges(r, r->irs, ext, extp, iov);
	oid.pool = r->oid.pool;
	oid.pg = r->oid.pg;
	oid.volume = r->oid.volume;
	oid.objnum = r->oid.objnum;
	req.map_epoch = osd->map->epoch;
	req.pool = pg->pool;
	req.pg = pg->id;
	req.from_osd = (uint32_t)osd->id;
	req.activation = pg->activation;
	req.oid = &oid;
	req.version = r->version;
	req.size = r->size;
	req.deleted = r->deleted;
	req.n_extents = r->n_ranges;
	req.extents = extp;
	req.ec_meta.data = r->ec_meta;
	req.ec_meta.len = r->ec_meta_len;
	r->pending++;		/* held while sending */
	for (unsigned i = 1; i < pg->n_peers; i++) {
		struct rec_push *p;
		struct bs_conn *conn;

		if (!(need & (1ull << i)))
			continue;
		if (pg->erasure && !r->deleted) {
			/* its own shard (n_ranges is 1 or 0 then) */
			int slot = ec_slot_of(pg, pg->peers[i].osd);

			if (slot < 0) {
				r->failed |= 1ull << i;
				continue;
			}
			push_ranges(r, &r->ec_irs[slot], ext, extp, iov);
		}
		conn = osd_peer_conn(osd, pg->peers[i].osd);
		p = bs_xmalloc(sizeof(*p));
		p->r = r;
		p->idx = i;
		if (!conn || bs_conn_call(conn, BS_MSG_PG_PUSH, &req.base, iov,
					  (unsigned)r->n_ranges,
					  OSD_PUSH_TIMEOUT_MS, push_cb, p)) {
			free(p);
			r->failed |= 1ull << i;
			continue;
		}
		r->pending++;
	}
	if (need & SELF) {
		memset(&r->in, 0, sizeof(r->in));
		r->in.osd = osd;
		r->in.oid = r->oid;
		r->in.version = r->version;
		r->in.size = r->size;
		r->in.deleted = r->deleted;
		r->in.ranges = r->irs;
		r->in.n_ranges = r->n_ranges;
		r->in.ec = pg->erasure;
		if (pg->erasure && !r->deleted) {
			int slot = ec_slot_of(pg, osd->id);

			r->in.ranges = slot >= 0 ? &r->ec_irs[slot] : NULL;
			r->in.n_ranges = slot >= 0 ? r->n_ranges : 0;
			r->in.ec_meta = r->ec_meta;
			r->in.ec_meta_len = r->ec_meta_len;
		}
		r->in.fn = self_installed;
		r->pending++;
		pg_inflight_inc(pg);	/* a peering lists us after it */
		install_start(&r->in);
	}
	free(iov);
	free(extp);
	free(ext);
	r->pending--;
	rec_push_settled(r);
}

/* The object is unreachable for now: wait for a map change. */
static void rec_unfound(struct rec_op *r)
{
	struct pg *pg = r->pg;
	char name[32];

	if (r->gen == pg->gen && !r->m->unfound) {
		r->m->unfound = true;
		pg->n_unfound++;
		bs_warn("pg %s: object %" PRIu64 ".%" PRIu64 " version %" PRIx64
			" is unfound: no reachable OSD holds it",
			pg_name(pg->pool, pg->id, name, sizeof(name)),
			r->oid.volume, r->oid.objnum, r->version);
	}
	rec_finish(r);
}

static void pull_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct rec_op *r = opaque;
	const Bs__PgPullReply *pr;
	uint64_t pos = 0, prev = 0;
	bool ok = true;

	if (r->gen != r->pg->gen || r->osd->stopping) {
		bs_msg_free(reply);
		rec_finish(r);
		return;
	}
	if (res) {
		bs_msg_free(reply);
		rec_pull(r);
		return;
	}
	pr = (const Bs__PgPullReply *)reply->body;
	ok = pr->version == r->version && pr->size <= STORE_MAX_OBJECT_SIZE;
	for (size_t i = 0; ok && i < pr->n_extents; i++) {
		const Bs__Extent *e = pr->extents[i];

		ok = e->length && e->offset >= prev &&
		     e->offset <= pr->size &&
		     e->length <= pr->size - e->offset;
		prev = e->offset + e->length;
		pos += e->length;
	}
	if (!ok || pos != reply->hdr.data_len) {
		bs_warn_rl(&r->osd->rl, "object %" PRIu64 ".%" PRIu64
			   ": a bad pull reply: ignored", r->oid.volume,
			   r->oid.objnum);
		bs_msg_free(reply);
		rec_pull(r);
		return;
	}
	r->size = pr->size;
	r->n_ranges = pr->n_extents;
	r->irs = r->n_ranges ? bs_xmalloc(r->n_ranges * sizeof(*r->irs)) : NULL;
	pos = 0;
	for (size_t i = 0; i < r->n_ranges; i++) {
		r->irs[i].off = pr->extents[i]->offset;
		r->irs[i].len = pr->extents[i]->length;
		r->irs[i].data = reply->data + pos;
		pos += r->irs[i].len;
	}
	r->pulled = reply;
	rec_push_all(r);
}

/* Copy the object from the next member holding it. */
static void rec_pull(struct rec_op *r)
{
	struct osd *osd = r->osd;
	struct pg *pg = r->pg;
	struct pg_miss *m = r->m;
	Bs__PgPull req = BS__PG_PULL__INIT;
	Bs__ObjectId oid = BS__OBJECT_ID__INIT;

	if (r->gen != pg->gen || osd->stopping) {
		rec_finish(r);
		return;
	}
	for (unsigned i = 1; i < pg->n_peers; i++) {
		uint64_t bit = 1ull << i;
		struct bs_conn *conn;

		if (!(m->have & bit) || (r->tried & bit))
			continue;
		r->tried |= bit;
		if (!osd_is_up(osd, pg->peers[i].osd))
			continue;
		conn = osd_peer_conn(osd, pg->peers[i].osd);
		if (!conn)
			continue;
		oid.pool = r->oid.pool;
		oid.pg = r->oid.pg;
		oid.volume = r->oid.volume;
		oid.objnum = r->oid.objnum;
		req.map_epoch = osd->map->epoch;
		req.pool = pg->pool;
		req.pg = pg->id;
		req.from_osd = (uint32_t)osd->id;
		req.oid = &oid;
		req.version = r->version;
		if (!bs_conn_call(conn, BS_MSG_PG_PULL, &req.base, NULL, 0,
				  OSD_PUSH_TIMEOUT_MS, pull_cb, r))
			return;
	}
	rec_unfound(r);
}

static void read_done(struct store_op *sop, int res)
{
	struct rec_op *r = container_of(sop, struct rec_op, sop);
	struct pg *pg = r->pg;

	osd_bg_done(r->osd);
	if (r->gen != pg->gen || r->osd->stopping) {
		rec_finish(r);
		return;
	}
	if (!res && sop->version != r->version)
		res = -ESTALE;
	if (res) {
		char name[32];

		bs_warn("pg %s: object %" PRIu64 ".%" PRIu64
			": own copy unusable (%s): copying from a member",
			pg_name(pg->pool, pg->id, name, sizeof(name)),
			r->oid.volume, r->oid.objnum, strerror(-res));
		r->m->have &= ~SELF;
		r->m->need |= SELF;
		rec_free_data(r);
		rec_pull(r);
		return;
	}
	r->irs = r->n_ranges ? bs_xmalloc(r->n_ranges * sizeof(*r->irs)) : NULL;
	for (size_t i = 0; i < r->n_ranges; i++) {
		r->irs[i].off = r->ranges[i][0];
		r->irs[i].len = r->ranges[i][1];
		r->irs[i].data = r->buf + r->ranges[i][0];
	}
	rec_push_all(r);
}

/* The data from our own copy. */
static void rec_read(struct rec_op *r)
{
	struct osd *osd = r->osd;
	struct store_obj_stat st;

	if (store_stat(osd->store, &r->oid, &st) || st.version != r->version ||
	    install_read_ranges(osd, &r->oid, st.size, &r->ranges,
				&r->n_ranges)) {
		r->m->have &= ~SELF;
		rec_pull(r);
		return;
	}
	r->size = st.size;
	if (!r->n_ranges) {
		rec_push_all(r);
		return;
	}
	r->buf = osd_buf_get(osd, st.size, &r->cap);
	r->sop.fn = read_done;
	osd->bg_ops++;
	store_read(osd->store, &r->sop, &r->oid, 0, st.size, r->buf);
}

/* Erasure-coded: every shard the members lack, decoded from k others. */
static void rec_ec_fetch(struct rec_op *r);

static void rec_ec_fetched(struct ec_fetch *f, int res)
{
	struct rec_op *r = container_of(f, struct rec_op, ecf);
	struct pg *pg = r->pg;
	char name[32];

	if (r->gen != pg->gen || r->osd->stopping) {
		rec_finish(r);		/* r->m is gone with the interval */
		return;
	}
	if (res) {
		for (unsigned i = 0; i < BS_EC_MAX_SHARDS; i++) {
			unsigned p = r->ec_src[i];
			int slot;

			if (!(f->bad >> i & 1))
				continue;
			r->ec_bad |= 1ull << p;
			/* a shard that failed its checksum is rebuilt too */
			slot = ec_slot_of(pg, pg->peers[p].osd);
			if ((f->corrupt >> i & 1) && pg->peers[p].in_w &&
			    ec_holder_slot(pg, p) == slot)
				r->m->need |= 1ull << p;
		}
		ec_fetch_release(f);
		if (f->bad && ++r->ec_rounds < REC_EC_ROUNDS) {
			rec_ec_fetch(r);	/* from other shards */
			return;
		}
		bs_warn_rl(&r->osd->rl, "pg %s: object %" PRIu64 ".%" PRIu64 ": rebuilding shards of version %" PRIx64 " failed: %s: retrying",
			   pg_name(r->oid.pool, r->oid.pg, name, sizeof(name)),
			   r->oid.volume, r->oid.objnum, r->version,
			   strerror(-res));
		r->failed |= r->m->need;
		rec_finish(r);
		return;
	}
	if (!r->ec_meta && f->meta) {
		/* a source's record: ours was missing or stale */
		r->ec_meta = f->meta;
		r->ec_meta_len = f->meta_len;
		f->meta = NULL;
		f->meta_len = 0;
	}
	r->n_ranges = f->len ? 1 : 0;
	for (unsigned i = 0; i < BS_EC_MAX_SHARDS; i++) {
		r->ec_irs[i].off = 0;
		r->ec_irs[i].len = f->len;
		r->ec_irs[i].data = f->buf[i];
	}
	rec_push_all(r);
}

/*
 * Read k shards of the version from the OSDs holding them (up, holding
 * the version for a known slot: see ec_holder_slot()) and decode the
 * slots of the members that need it.  Fewer than k slots held by OSDs up:
 * unfound until the map changes; k but some failed to read: retried
 * later.
 */
static void rec_ec_fetch(struct rec_op *r)
{
	struct osd *osd = r->osd;
	struct pg *pg = r->pg;
	struct pg_miss *m = r->m;
	struct ec_fetch *f = &r->ecf;
	unsigned km = pg->ec.k + pg->ec.m, n = 0;
	uint32_t held = 0;

	memset(f, 0, sizeof(*f));
	f->osd = osd;
	f->pg = pg;
	f->oid = r->oid;
	f->version = r->version;
	f->len = r->size;	/* every shard of a version has one size */
	f->fn = rec_ec_fetched;
	/*
	 * The members get the object's record of the version with their
	 * shard: ours if we have it, else a source's.
	 */
	if (!r->ec_meta)
		ec_meta_get(osd, &r->oid, r->version, &r->ec_meta,
			    &r->ec_meta_len);
	f->want_meta = !r->ec_meta;
	for (unsigned p = 0; p < pg->n_peers && p < 64; p++) {
		int slot;

		if (pg->peers[p].in_w && (m->need >> p & 1)) {
			slot = ec_slot_of(pg, pg->peers[p].osd);
			if (slot >= 0 && (unsigned)slot < km)
				f->want |= 1u << slot;
		}
		if (!(m->have >> p & 1) || !osd_is_up(osd, pg->peers[p].osd))
			continue;
		slot = ec_holder_slot(pg, p);
		if (slot < 0 || (unsigned)slot >= km)
			continue;
		held |= 1u << slot;
		if (n < pg->ec.k && !(r->ec_bad >> p & 1) &&
		    !(f->sources >> slot & 1)) {
			f->sources |= 1u << slot;
			f->src[slot] = pg->peers[p].osd;
			r->ec_src[slot] = p;
			n++;
		}
	}
	f->want &= ~f->sources;		/* those are read as they are */
	if (popcount64(held) < pg->ec.k) {
		rec_unfound(r);
		return;
	}
	if (n < pg->ec.k) {
		r->failed |= m->need;
		rec_finish(r);
		return;
	}
	ec_fetch_start(f);
}

static bool rec_start(struct osd *osd, struct pg *pg, struct pg_miss *m,
		      bool background)
{
	struct store_oid oid = {
		.pool = pg->pool, .pg = pg->id,
		.volume = m->volume, .objnum = m->objnum,
	};
	struct osd_obj *obj;
	struct rec_op *r;

	obj = osd_obj_get(osd, &oid);
	if (obj->nmut || obj->locks) {
		/* writes of the old interval still landing: later */
		osd_obj_maybe_free(osd, obj);
		m->retry_ms = bs_now_ms() + 50;
		return false;
	}
	obj->locks++;
	osd_list_del(&m->link);
	m->busy = true;
	r = bs_xcalloc(1, sizeof(*r));
	r->osd = osd;
	r->pg = pg;
	r->gen = pg->gen;
	r->m = m;
	r->oid = oid;
	r->obj = obj;
	r->version = m->version;
	r->size = m->size;
	r->deleted = m->deleted;
	r->background = background;
	if (background) {
		osd->rec_active++;
		if (osd->global.osd_recovery_bytes_per_sec)
			osd->rec_tokens -= (int64_t)BS_MAX(m->size, 4096);
	}
	if (r->deleted)
		rec_push_all(r);
	else if (pg->erasure)
		rec_ec_fetch(r);
	else if (m->have & SELF)
		rec_read(r);
	else
		rec_pull(r);
	return true;
}

/* @op needs object @m first: wait for it (recovering it now). */
void recovery_wait(struct osd_op *op, struct pg_miss *m)
{
	struct pg *pg = op->pg;

	op->state = OP_WAIT_REC;
	osd_list_add_tail(&m->waiters, &op->link);
	if (!m->busy && !m->unfound && bs_now_ms() >= m->retry_ms)
		rec_start(op->osd, pg, m, false);
}

/*
 * The primary read a bad block of its own copy of @op's object (at
 * @version): fetch the object from a member and repair our copy, then
 * read again.
 */
void recovery_repair_self(struct osd_op *op, uint64_t version, uint64_t size)
{
	struct pg *pg = op->pg;
	struct pg_miss *m = pg_miss_find(pg, op->oid.volume, op->oid.objnum);
	uint64_t w = pg_w_mask(pg) & ~SELF;

	if (!m) {
		m = pg_miss_add(pg, op->oid.volume, op->oid.objnum);
		m->version = version;
		m->size = size;
		m->have = w;
	} else if (m->version == version && !m->deleted) {
		m->have |= w & ~m->need;
	}
	m->have &= ~SELF;
	m->need |= SELF;
	m->unfound = false;
	m->retry_ms = 0;
	recovery_queue(op->osd, pg, m);
	recovery_wait(op, m);
}

/*
 * Erasure-coded: a read of @member's shard of @oid (at @version) failed
 * its checksum: rebuild that shard in the background.
 */
void recovery_shard_bad(struct osd *osd, struct pg *pg,
			const struct store_oid *oid, int32_t member,
			uint64_t version)
{
	int p = pg_peer_index(pg, member);
	struct store_obj_stat st;
	struct pg_miss *m;

	if (p < 0 || p >= 64 || !pg->peers[p].in_w ||
	    pg->pstate != PGS_ACTIVE)
		return;
	m = pg_miss_find(pg, oid->volume, oid->objnum);
	if (m && (m->version != version || m->deleted))
		return;
	if (!m) {
		/* every member holds it (else it would have an entry) */
		if (store_stat(osd->store, oid, &st) || st.version != version)
			return;
		m = pg_miss_add(pg, oid->volume, oid->objnum);
		m->version = version;
		m->size = st.size;
		m->have = pg_w_mask(pg);
	}
	m->need |= 1ull << p;
	m->have &= ~m->need;
	m->retry_ms = 0;
	recovery_queue(osd, pg, m);
	recovery_kick_later(osd);
}

/* ---- the round over PGs ---- */

static void kick_task(struct bs_task *t)
{
	recovery_kick(container_of(t, struct osd, rec_task));
}

/* recovery_kick() on the next turn (never nested in a recovery's end). */
void recovery_kick_later(struct osd *osd)
{
	if (osd->stopping)
		return;
	osd->rec_task.fn = kick_task;
	bs_loop_defer(osd->loop, &osd->rec_task);
}

void recovery_kick(struct osd *osd)
{
	uint64_t now = bs_now_ms();
	uint64_t limit = osd->global.osd_recovery_max_active;
	bool rate = osd->global.osd_recovery_bytes_per_sec;
	struct osd_list *l;
	unsigned rounds = 0, npgs = 0;

	if (osd->stopping)
		return;
	for (l = osd->rec_pgs.next; l != &osd->rec_pgs; l = l->next)
		npgs++;
	while (osd->rec_active < limit && (!rate || osd->rec_tokens > 0) &&
	       !osd_list_empty(&osd->rec_pgs) && rounds++ < npgs * 2 + 1) {
		struct pg *pg = container_of(osd->rec_pgs.next, struct pg,
					     rlink);
		struct pg_miss *m = NULL;

		/* round robin: this PG to the back */
		osd_list_del(&pg->rlink);
		osd_list_add_tail(&osd->rec_pgs, &pg->rlink);
		if (pg->pstate != PGS_ACTIVE) {
			osd_list_del(&pg->rlink);
			continue;
		}
		for (l = pg->miss_queue.next; l != &pg->miss_queue;
		     l = l->next) {
			struct pg_miss *c = container_of(l, struct pg_miss,
							 link);

			if (!c->unfound && now >= c->retry_ms) {
				m = c;
				break;
			}
		}
		if (!m) {
			if (osd_list_empty(&pg->miss_queue))
				osd_list_del(&pg->rlink);
			continue;
		}
		rec_start(osd, pg, m, true);
	}
}

void recovery_tick(struct osd *osd, uint64_t now_ms)
{
	uint64_t rate = osd->global.osd_recovery_bytes_per_sec;

	if (rate) {
		uint64_t dt = now_ms - osd->rec_refill_ms;

		if (dt > 1000 || !osd->rec_refill_ms)
			dt = 1000;
		osd->rec_tokens += (int64_t)(rate * dt / 1000);
		if (osd->rec_tokens > (int64_t)rate)
			osd->rec_tokens = (int64_t)rate;
	}
	osd->rec_refill_ms = now_ms;
	if (now_ms - osd->rec_scan_ms < 500)
		goto out;
	osd->rec_scan_ms = now_ms;
	/* client ops waiting for an entry whose retry time came */
	for (size_t i = 0; i < osd->pg_nb; i++) {
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			uint64_t dt = now_ms - pg->rec_last_ms;

			if (pg->is_primary && dt >= 1000) {
				/* rates over the last second or so */
				pg->rec_rate_objects = (pg->rec_objects -
							pg->rec_last_objects) *
						       1000 / dt;
				pg->rec_rate_bytes = (pg->rec_bytes -
						      pg->rec_last_bytes) *
						     1000 / dt;
				if (pg->rec_objects < pg->rec_last_objects)
					pg->rec_rate_objects =
						pg->rec_rate_bytes = 0;
				pg->rec_last_objects = pg->rec_objects;
				pg->rec_last_bytes = pg->rec_bytes;
				pg->rec_last_ms = now_ms;
			}
			if (!pg->n_miss || pg->pstate != PGS_ACTIVE)
				continue;
			for (size_t b = 0; b < pg->miss_nb; b++) {
				for (struct pg_miss *m = pg->miss_tab[b]; m;
				     m = m->hnext) {
					if (!m->busy && !m->unfound &&
					    !osd_list_empty(&m->waiters) &&
					    now_ms >= m->retry_ms)
						rec_start(osd, pg, m, false);
				}
			}
		}
	}
out:
	recovery_kick(osd);
}
