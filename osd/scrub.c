// SPDX-License-Identifier: Apache-2.0
/*
 * Scrub: the primary of an active PG compares what its members hold.
 * Every member lists the PG's objects with version and size (a deep
 * scrub also reads every object, which checks every block's crc32c, and
 * adds the crc32c of its bytes).  A copy is bad when it is absent, at an
 * older version, of another size, unreadable, or (deep) its crc differs
 * from the majority of the readable copies at the newest version.
 *
 * Phases: MAPS (every member's listing) -> RECHECK (the suspects, locked
 * against writes once their writes in flight are durable, listed again:
 * a write racing the listing is no inconsistency) -> REPAIR (with repair:
 * bad copies become missing-table entries, recovered from a good copy)
 * -> the reply (BS_MSG_OSD_SCRUB_REPLY) or, for a scheduled scrub, the
 * PG's scrub stamps.  Members answer BS_MSG_PG_SCRUB_MAP.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"
#include "bs/msg_types.h"
#include "osd.h"

#define SCRUB_CHUNK		(4u << 20)	/* deep read size */
#define SCRUB_DETAILS		64
#define SCRUB_REPAIR_WAIT_MS	60000
#define SCRUB_MAX_SUSPECTS	4096
#define SCRUB_MAX_ENTRIES	20000		/* per map reply */

struct sc_ent {
	uint64_t volume, objnum;
	uint64_t version, size;
	uint32_t crc;
	bool read_error, missing;
};

/* Building one member's map (locally, for us or for a request). */
struct smap {
	struct osd *osd;
	struct store_oid *oids;		/* the objects to look at */
	size_t n, pos;
	bool deep;
	struct sc_ent *ent;
	size_t n_ent;
	uint8_t *buf;
	size_t cap;
	uint64_t off;			/* deep: within ent[pos] */
	uint32_t crc;
	struct store_op sop;
	void (*done)(struct smap *sm);
	void *opaque;
};

enum scrub_phase {
	SC_MAPS = 1,
	SC_VERIFY,		/* erasure-coded deep: each object's parity */
	SC_LOCK,
	SC_RECHECK,
	SC_REPAIR,
};

/* Erasure-coded deep scrub: an object whose parity is checked. */
struct sc_ver {
	uint64_t volume, objnum;
	uint64_t version, size;		/* shard size */
	uint64_t members;		/* scrub->osds indexes holding it */
};

struct scrub {
	struct osd *osd;
	struct pg *pg;
	unsigned id;
	struct osd_op *op;		/* the request, until replied */
	bool scheduled;			/* counted in osd->bg_scrubs */
	bool deep, repair;
	enum scrub_phase phase;
	unsigned n;
	int32_t osds[BS_PLACE_MAX_SIZE];
	unsigned idx[BS_PLACE_MAX_SIZE];	/* pg->peers indexes */
	struct sc_ent *maps[BS_PLACE_MAX_SIZE];
	size_t n_maps[BS_PLACE_MAX_SIZE];
	unsigned pending;
	int error;
	char errmsg[160];
	struct store_oid *sus;		/* suspects */
	size_t n_sus;
	uint64_t (*rep)[2];		/* objects being repaired */
	size_t n_rep;
	bool locked;
	uint64_t objects, inconsistent, repaired, copies_bad;
	char *details[SCRUB_DETAILS];
	unsigned n_details;
	uint64_t deadline_ms;
	struct sc_ver *ver;		/* erasure-coded deep: to verify */
	size_t n_ver, ver_pos;
	bool ver_busy;			/* a shard fetch in flight */
};

static unsigned scrub_seq;

/* A map request in flight. */
struct sc_call {
	struct osd *osd;
	struct pg *pg;
	unsigned id;
	unsigned k;		/* index in scrub->osds */
};

static void scrub_phase_done(struct scrub *sc);
static void verify_next(struct scrub *sc);

static const char *pgn(const struct pg *pg, char *buf, size_t len)
{
	return pg_name(pg->pool, pg->id, buf, len);
}

/* ---- one member's map ---- */

static void smap_free(struct smap *sm)
{
	if (sm->buf)
		osd_buf_put(sm->osd, sm->buf, sm->cap);
	free(sm->oids);
	free(sm->ent);
	free(sm);
}

static void smap_next(struct smap *sm);

static void smap_read_done(struct store_op *sop, int res)
{
	struct smap *sm = container_of(sop, struct smap, sop);
	struct sc_ent *e = &sm->ent[sm->pos];
	uint64_t len = BS_MIN(SCRUB_CHUNK, e->size - sm->off);

	osd_bg_done(sm->osd);
	if (res == -ENOENT) {
		e->missing = true;
	} else if (res) {
		e->read_error = true;
		bs_warn("scrub: object %" PRIu64 ".%" PRIu64
			" does not read back (%s)", e->volume, e->objnum,
			strerror(-res));
	} else if (sop->version != e->version) {
		/* changed under us: the recheck will tell */
		e->version = sop->version;
		e->read_error = false;
		e->crc = 0;
		sm->pos++;
		sm->off = 0;
		smap_next(sm);
		return;
	} else {
		sm->crc = bs_crc32c(sm->crc, sm->buf, len);
		sm->off += len;
		if (sm->off < e->size) {
			smap_next(sm);
			return;
		}
		e->crc = sm->crc;
	}
	sm->pos++;
	sm->off = 0;
	smap_next(sm);
}

static void smap_next(struct smap *sm)
{
	struct osd *osd = sm->osd;

	while (sm->deep && sm->pos < sm->n_ent && !sm->osd->stopping) {
		struct sc_ent *e = &sm->ent[sm->pos];
		struct store_oid oid = sm->oids[0];

		if (e->missing || !e->size) {
			sm->pos++;
			continue;
		}
		if (!sm->off)
			sm->crc = 0;
		oid.volume = e->volume;
		oid.objnum = e->objnum;
		if (!sm->buf)
			sm->buf = osd_buf_get(osd, SCRUB_CHUNK, &sm->cap);
		sm->sop.fn = smap_read_done;
		osd->bg_ops++;
		store_read(osd->store, &sm->sop, &oid, sm->off,
			   BS_MIN(SCRUB_CHUNK, e->size - sm->off), sm->buf);
		return;
	}
	sm->done(sm);
}

/*
 * Build this OSD's map of PG @pool.@pg (@oids: only those, else every
 * object), calling @done when complete.  @oids is copied.
 */
static void smap_build(struct osd *osd, uint32_t pool, uint32_t pg,
		       const struct store_oid *oids, size_t n, bool deep,
		       void (*done)(struct smap *), void *opaque)
{
	struct smap *sm = bs_xcalloc(1, sizeof(*sm));
	struct store_list_entry *l = NULL;
	size_t nl = 0;

	sm->osd = osd;
	sm->deep = deep;
	sm->done = done;
	sm->opaque = opaque;
	if (n) {
		sm->ent = bs_xcalloc(n, sizeof(*sm->ent));
		sm->oids = bs_xmalloc(n * sizeof(*sm->oids));
		memcpy(sm->oids, oids, n * sizeof(*oids));
		for (size_t i = 0; i < n; i++) {
			struct store_obj_stat st;
			struct sc_ent *e = &sm->ent[i];

			e->volume = oids[i].volume;
			e->objnum = oids[i].objnum;
			if (store_stat(osd->store, &oids[i], &st)) {
				e->missing = true;
				continue;
			}
			e->version = st.version;
			e->size = st.size;
		}
		sm->n_ent = sm->n = n;
	} else {
		store_list(osd->store, pool, pg, &l, &nl);
		sm->ent = bs_xcalloc(nl ? nl : 1, sizeof(*sm->ent));
		sm->oids = bs_xmalloc(sizeof(*sm->oids));
		sm->oids[0].pool = pool;
		sm->oids[0].pg = pg;
		for (size_t i = 0; i < nl; i++) {
			sm->ent[i].volume = l[i].oid.volume;
			sm->ent[i].objnum = l[i].oid.objnum;
			sm->ent[i].version = l[i].version;
			sm->ent[i].size = l[i].size;
		}
		sm->n_ent = nl;
		sm->n = 1;
		free(l);
	}
	smap_next(sm);
}

/* ---- member side: BS_MSG_PG_SCRUB_MAP ---- */

static void member_map_done(struct smap *sm)
{
	struct osd_op *op = sm->opaque;
	Bs__PgScrubMapReply r = BS__PG_SCRUB_MAP_REPLY__INIT;
	Bs__PgScrubEntry *e = NULL, **ep = NULL;
	size_t n = BS_MIN(sm->n_ent, (size_t)SCRUB_MAX_ENTRIES);

	if (n) {
		e = bs_xmalloc(n * sizeof(*e));
		ep = bs_xmalloc(n * sizeof(*ep));
	}
	for (size_t i = 0; i < n; i++) {
		bs__pg_scrub_entry__init(&e[i]);
		e[i].volume = sm->ent[i].volume;
		e[i].objnum = sm->ent[i].objnum;
		e[i].version = sm->ent[i].version;
		e[i].size = sm->ent[i].size;
		e[i].crc = sm->ent[i].crc;
		e[i].read_error = sm->ent[i].read_error;
		e[i].missing = sm->ent[i].missing;
		ep[i] = &e[i];
	}
	r.map_epoch = op->osd->map->epoch;
	r.n_entries = n;
	r.entries = ep;
	if (sm->n_ent > n)
		op_reply_error(op, -EFBIG, "%s: pg %u.%x holds %zu objects, too many to scrub at once",
			       op->osd->name, op->oid.pool, op->oid.pg,
			       sm->n_ent);
	else {
		bs_conn_reply(op->conn, op->msg, BS_MSG_PG_SCRUB_MAP_REPLY,
			      &r.base, NULL, 0, NULL, NULL);
		op_done(op);
	}
	free(ep);
	free(e);
	smap_free(sm);
}

void scrub_member_map(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__PgScrubMap *req = (const Bs__PgScrubMap *)op->msg->body;
	struct store_oid *oids = NULL;
	size_t n = req->n_oids;

	if (n > SCRUB_MAX_SUSPECTS) {
		op_reply_error(op, -EINVAL, "%s: %zu objects to scrub at once",
			       osd->name, n);
		return;
	}
	if (n)
		oids = bs_xmalloc(n * sizeof(*oids));
	for (size_t i = 0; i < n; i++) {
		const Bs__ObjectId *o = req->oids[i];

		if (!o || o->pool != op->oid.pool || o->pg != op->oid.pg) {
			free(oids);
			op_reply_error(op, -EINVAL, "%s: scrub of an object outside pg %u.%x",
				       osd->name, op->oid.pool, op->oid.pg);
			return;
		}
		oids[i].pool = o->pool;
		oids[i].pg = o->pg;
		oids[i].volume = o->volume;
		oids[i].objnum = o->objnum;
	}
	op->state = OP_WAIT_WORK;
	smap_build(osd, op->oid.pool, op->oid.pg, oids, n, req->deep,
		   member_map_done, op);
	free(oids);
}

/* ---- primary side ---- */

static void detail(struct scrub *sc, const char *fmt, ...)
	BS_PRINTF(2, 3);

static void detail(struct scrub *sc, const char *fmt, ...)
{
	char line[256], name[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	bs_warn("pg %s: scrub: %s", pgn(sc->pg, name, sizeof(name)), line);
	if (sc->n_details < SCRUB_DETAILS)
		sc->details[sc->n_details++] = bs_xstrdup(line);
}

static struct scrub *scrub_of(struct pg *pg, unsigned id)
{
	return pg->scrub && pg->scrub->id == id ? pg->scrub : NULL;
}

static void unlock_suspects(struct scrub *sc)
{
	struct osd *osd = sc->osd;

	if (!sc->locked)
		return;
	sc->locked = false;
	for (size_t i = 0; i < sc->n_sus; i++) {
		struct osd_obj *obj = osd_obj_find(osd, &sc->sus[i]);

		if (!obj || !obj->locks)
			continue;
		obj->locks--;
		while (!osd_list_empty(&obj->waiters))
			osd_resume_later(container_of(obj->waiters.next,
						      struct osd_op, link));
		osd_obj_maybe_free(osd, obj);
	}
}

static void maps_free(struct scrub *sc)
{
	for (unsigned k = 0; k < sc->n; k++) {
		bs_free(&sc->maps[k]);
		sc->n_maps[k] = 0;
	}
}

static void scrub_free(struct scrub *sc)
{
	unlock_suspects(sc);
	maps_free(sc);
	free(sc->sus);
	free(sc->rep);
	free(sc->ver);
	for (unsigned i = 0; i < sc->n_details; i++)
		free(sc->details[i]);
	if (sc->pg->scrub == sc)
		sc->pg->scrub = NULL;
	if (sc->scheduled && sc->osd->bg_scrubs)
		sc->osd->bg_scrubs--;
	free(sc);
}

struct stamp {
	struct osd *osd;
	struct store_op sop;
};

static void stamp_done(struct store_op *sop, int res)
{
	struct stamp *st = container_of(sop, struct stamp, sop);

	(void)res;
	osd_bg_done(st->osd);
	free(st);
}

/* Record the scrub in the primary's info (and persist it). */
static void scrub_stamp(struct scrub *sc)
{
	struct osd *osd = sc->osd;
	struct pg *pg = sc->pg;
	struct stamp *st;
	uint64_t now = osd_wall_us();
	uint8_t key = PG_KEY_INFO, *buf;
	size_t len;

	pg->info.last_scrub_us = now;
	if (sc->deep)
		pg->info.last_deep_scrub_us = now;
	buf = pg_info_pack(&pg->info, &len);
	st = bs_xcalloc(1, sizeof(*st));
	st->osd = osd;
	st->sop.fn = stamp_done;
	osd->bg_ops++;
	store_pg_put_many(osd->store, &st->sop, pg->pool, pg->id,
			  &(struct store_pg_kv){ &key, 1, buf, len }, 1);
	free(buf);	/* copied by the store */
}

static void scrub_reply(struct scrub *sc)
{
	struct osd_op *op = sc->op;
	struct osd *osd = sc->osd;
	char name[32];

	bs_notice("pg %s: %sscrub%s: %" PRIu64 " objects, %" PRIu64
		  " inconsistent, %" PRIu64 " repaired%s%s",
		  pgn(sc->pg, name, sizeof(name)), sc->deep ? "deep-" : "",
		  sc->repair ? " (repair)" : "", sc->objects,
		  sc->inconsistent, sc->repaired, sc->error ? ": " : "",
		  sc->error ? sc->errmsg : "");
	if (!sc->error)
		scrub_stamp(sc);
	if (op) {
		sc->op = NULL;
		if (sc->error) {
			op_reply_error(op, sc->error, "%s", sc->errmsg);
		} else {
			Bs__OsdScrubReply r = BS__OSD_SCRUB_REPLY__INIT;

			r.map_epoch = osd->map->epoch;
			r.objects = sc->objects;
			r.inconsistent = sc->inconsistent;
			r.repaired = sc->repaired;
			r.copies_bad = sc->copies_bad;
			r.n_details = sc->n_details;
			r.details = sc->details;
			r.n_members = sc->n;
			r.members = sc->osds;
			bs_conn_reply(op->conn, op->msg,
				      BS_MSG_OSD_SCRUB_REPLY, &r.base, NULL,
				      0, NULL, NULL);
			op_done(op);
		}
	}
	scrub_free(sc);
}

static void scrub_fail(struct scrub *sc, int res, const char *fmt, ...)
	BS_PRINTF(3, 4);

static void scrub_fail(struct scrub *sc, int res, const char *fmt, ...)
{
	va_list ap;

	if (sc->error)
		return;
	sc->error = res;
	va_start(ap, fmt);
	vsnprintf(sc->errmsg, sizeof(sc->errmsg), fmt, ap);
	va_end(ap);
}

void scrub_abort(struct osd *osd, struct pg *pg)
{
	struct scrub *sc = pg->scrub;
	char name[32];

	(void)osd;
	if (!sc)
		return;
	scrub_fail(sc, -EAGAIN, "%s: pg %s changed during the scrub: try again",
		   osd->name, pgn(pg, name, sizeof(name)));
	sc->pending = 0;
	scrub_reply(sc);
}

static int ent_cmp(const void *a, const void *b)
{
	const struct sc_ent *x = a, *y = b;

	if (x->volume != y->volume)
		return x->volume < y->volume ? -1 : 1;
	if (x->objnum != y->objnum)
		return x->objnum < y->objnum ? -1 : 1;
	return 0;
}

static void map_store(struct scrub *sc, unsigned k, const struct sc_ent *e,
		      size_t n)
{
	free(sc->maps[k]);
	sc->maps[k] = bs_xmalloc((n ? n : 1) * sizeof(*e));
	memcpy(sc->maps[k], e, n * sizeof(*e));
	sc->n_maps[k] = n;
	qsort(sc->maps[k], n, sizeof(*e), ent_cmp);
}

static void local_map_done(struct smap *sm)
{
	struct sc_call *c = sm->opaque;
	struct scrub *sc = scrub_of(c->pg, c->id);

	if (sc && !c->osd->stopping) {
		map_store(sc, c->k, sm->ent, sm->n_ent);
		sc->pending--;
		if (!sc->pending)
			scrub_phase_done(sc);
	}
	free(c);
	smap_free(sm);
}

static void remote_map_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct sc_call *c = opaque;
	struct scrub *sc = scrub_of(c->pg, c->id);

	if (!sc || c->osd->stopping)
		goto out;
	if (res) {
		scrub_fail(sc, res == -EFBIG ? res : -EIO,
			   "osd.%d did not send its scrub map: %s",
			   sc->osds[c->k],
			   *bs_msg_error_text(reply) ?
				   bs_msg_error_text(reply) : strerror(-res));
	} else {
		const Bs__PgScrubMapReply *r =
			(const Bs__PgScrubMapReply *)reply->body;
		struct sc_ent *e = bs_xmalloc((r->n_entries ? r->n_entries :
								1) *
					      sizeof(*e));

		for (size_t i = 0; i < r->n_entries; i++) {
			e[i].volume = r->entries[i]->volume;
			e[i].objnum = r->entries[i]->objnum;
			e[i].version = r->entries[i]->version;
			e[i].size = r->entries[i]->size;
			e[i].crc = r->entries[i]->crc;
			e[i].read_error = r->entries[i]->read_error;
			e[i].missing = r->entries[i]->missing;
		}
		map_store(sc, c->k, e, r->n_entries);
		free(e);
	}
	sc->pending--;
	if (!sc->pending)
		scrub_phase_done(sc);
out:
	bs_msg_free(reply);
	free(c);
}

/* Ask every member (us included) for its map (of @oids when n > 0). */
static void maps_request(struct scrub *sc, const struct store_oid *oids,
			 size_t n)
{
	struct osd *osd = sc->osd;
	struct pg *pg = sc->pg;
	Bs__PgScrubMap m = BS__PG_SCRUB_MAP__INIT;
	Bs__ObjectId *ob = NULL, **obp = NULL;

	maps_free(sc);
	if (n) {
		ob = bs_xmalloc(n * sizeof(*ob));
		obp = bs_xmalloc(n * sizeof(*obp));
	}
	for (size_t i = 0; i < n; i++) {
		bs__object_id__init(&ob[i]);
		ob[i].pool = oids[i].pool;
		ob[i].pg = oids[i].pg;
		ob[i].volume = oids[i].volume;
		ob[i].objnum = oids[i].objnum;
		obp[i] = &ob[i];
	}
	m.map_epoch = osd->map->epoch;
	m.pool = pg->pool;
	m.pg = pg->id;
	m.from_osd = (uint32_t)osd->id;
	m.deep = sc->deep;
	m.n_oids = n;
	m.oids = obp;
	sc->pending = 1;	/* held while sending */
	for (unsigned k = 0; k < sc->n; k++) {
		struct sc_call *c = bs_xmalloc(sizeof(*c));
		struct bs_conn *conn;

		c->osd = osd;
		c->pg = pg;
		c->id = sc->id;
		c->k = k;
		sc->pending++;
		if (sc->osds[k] == osd->id) {
			smap_build(osd, pg->pool, pg->id, oids, n, sc->deep,
				   local_map_done, c);
			continue;
		}
		conn = osd_peer_conn(osd, sc->osds[k]);
		if (!conn || bs_conn_call(conn, BS_MSG_PG_SCRUB_MAP, &m.base,
					  NULL, 0, 600000, remote_map_cb, c)) {
			free(c);
			sc->pending--;
			scrub_fail(sc, -EIO, "cannot reach osd.%d",
				   sc->osds[k]);
		}
	}
	free(obp);
	free(ob);
	if (--sc->pending == 0)
		scrub_phase_done(sc);
}

/*
 * Compare the maps.  Not @final (the full pass): count the objects and
 * collect the suspects.  @final (the recheck of the suspects): count and
 * report the bad copies and, with repair, make them missing entries.
 */
static void compare(struct scrub *sc, bool final)
{
	struct pg *pg = sc->pg;
	size_t pos[BS_PLACE_MAX_SIZE] = { 0 };
	const struct sc_ent *e[BS_PLACE_MAX_SIZE];

	if (!final) {
		free(sc->sus);
		sc->sus = NULL;
		sc->n_sus = 0;
	}
	for (;;) {
		uint64_t vol = 0, obj = 0, auth = 0, size = 0, bad = 0;
		uint64_t good = 0;
		uint32_t crc = 0;
		bool any = false, crc_set = false, gone;
		unsigned votes = 0, present = 0;

		for (unsigned k = 0; k < sc->n; k++) {
			const struct sc_ent *x;

			if (pos[k] >= sc->n_maps[k])
				continue;
			x = &sc->maps[k][pos[k]];
			if (!any || ent_cmp(x, &(struct sc_ent){
					.volume = vol, .objnum = obj }) < 0) {
				vol = x->volume;
				obj = x->objnum;
				any = true;
			}
		}
		if (!any)
			break;
		for (unsigned k = 0; k < sc->n; k++) {
			const struct sc_ent *x = pos[k] < sc->n_maps[k] ?
						 &sc->maps[k][pos[k]] : NULL;

			e[k] = NULL;
			if (x && x->volume == vol && x->objnum == obj) {
				pos[k]++;
				if (!x->missing)
					e[k] = x;
			}
			if (e[k] && e[k]->version > auth) {
				auth = e[k]->version;
				size = e[k]->size;
			}
			present += e[k] != NULL;
		}
		if (!auth)
			continue;	/* absent everywhere (recheck) */
		/*
		 * Held by fewer than half the members: a copy left behind by
		 * a delete rather than an object the others lost.
		 */
		gone = present * 2 < sc->n;
		if (!final && !gone)
			sc->objects++;
		if (pg_miss_find(pg, vol, obj))
			continue;	/* recovery knows about it */
		/* the majority crc among readable copies at auth */
		if (sc->deep && !pg->erasure) {
			for (unsigned k = 0; k < sc->n; k++) {
				unsigned v = 0;

				if (!e[k] || e[k]->version != auth ||
				    e[k]->read_error)
					continue;
				for (unsigned j = 0; j < sc->n; j++)
					v += e[j] && e[j]->version == auth &&
					     !e[j]->read_error &&
					     e[j]->crc == e[k]->crc;
				if (v > votes) {
					votes = v;
					crc = e[k]->crc;
					crc_set = true;
				}
			}
		}
		for (unsigned k = 0; k < sc->n; k++) {
			bool ok = e[k] && e[k]->version == auth &&
				  e[k]->size == size;

			if (gone)
				ok = !e[k];
			else if (ok && sc->deep && pg->erasure)
				ok = !e[k]->read_error; /* no crc vote */
			else if (ok && sc->deep)
				ok = !e[k]->read_error && crc_set &&
				     e[k]->crc == crc;
			if (ok)
				good |= 1ull << k;
			else
				bad |= 1ull << k;
		}
		if (!bad && !final && !gone && sc->deep && pg->erasure) {
			struct sc_ver *v;

			sc->ver = bs_xrealloc(sc->ver,
					      (sc->n_ver + 1) * sizeof(*v));
			v = &sc->ver[sc->n_ver++];
			v->volume = vol;
			v->objnum = obj;
			v->version = auth;
			v->size = size;
			v->members = good;
		}
		if (!bad)
			continue;
		if (!final) {
			if (sc->n_sus < SCRUB_MAX_SUSPECTS) {
				sc->sus = bs_xrealloc(sc->sus,
						      (sc->n_sus + 1) *
							      sizeof(*sc->sus));
				sc->sus[sc->n_sus].pool = pg->pool;
				sc->sus[sc->n_sus].pg = pg->id;
				sc->sus[sc->n_sus].volume = vol;
				sc->sus[sc->n_sus].objnum = obj;
				sc->n_sus++;
			}
			continue;
		}
		sc->inconsistent++;
		for (unsigned k = 0; k < sc->n; k++) {
			if (!(bad & (1ull << k)))
				continue;
			sc->copies_bad++;
			if (gone)
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d holds a copy the other members do not have",
				       vol, obj, sc->osds[k]);
			else if (!e[k])
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": missing on osd.%d",
				       vol, obj, sc->osds[k]);
			else if (e[k]->version != auth)
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d has version %" PRIx64 ", not %" PRIx64,
				       vol, obj, sc->osds[k], e[k]->version,
				       auth);
			else if (e[k]->size != size)
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d has size %" PRIu64 ", not %" PRIu64,
				       vol, obj, sc->osds[k], e[k]->size,
				       size);
			else if (e[k]->read_error)
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d has a bad block (checksum mismatch)",
				       vol, obj, sc->osds[k]);
			else
				detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d data crc %08x, the others %08x",
				       vol, obj, sc->osds[k], e[k]->crc, crc);
		}
		if (sc->repair && good) {
			struct pg_miss *m = pg_miss_add(pg, vol, obj);
			uint64_t need = 0, have = 0;

			for (unsigned k = 0; k < sc->n; k++) {
				if (bad & (1ull << k))
					need |= 1ull << sc->idx[k];
				else
					have |= 1ull << sc->idx[k];
			}
			m->version = auth;
			m->size = gone ? 0 : size;
			m->deleted = gone;
			m->need = need;
			m->have = gone ? 0 : have;
			recovery_queue(sc->osd, pg, m);
			sc->rep = bs_xrealloc(sc->rep,
					      (sc->n_rep + 1) *
						      sizeof(*sc->rep));
			sc->rep[sc->n_rep][0] = vol;
			sc->rep[sc->n_rep][1] = obj;
			sc->n_rep++;
		} else if (sc->repair) {
			detail(sc, "object %" PRIu64 ".%" PRIu64 ": no good copy to repair from",
			       vol, obj);
		}
	}
}

/* Are the suspects quiet (no write in flight)? */
static bool suspects_quiet(struct scrub *sc)
{
	for (size_t i = 0; i < sc->n_sus; i++) {
		struct osd_obj *obj = osd_obj_find(sc->osd, &sc->sus[i]);

		if (obj && obj->nmut)
			return false;
	}
	return true;
}

static bool repairs_done(struct scrub *sc)
{
	for (size_t i = 0; i < sc->n_rep; i++)
		if (pg_miss_find(sc->pg, sc->rep[i][0], sc->rep[i][1]))
			return false;
	return true;
}

/* ---- erasure-coded deep scrub: each object's parity ---- */

/* One object's shard fetch, apart from the scrub (which may end first). */
struct sc_verify {
	struct osd *osd;
	struct pg *pg;
	unsigned id;
	struct osd_obj *obj;		/* locked against writes */
	struct sc_ver v;
	struct ec_fetch f;
};

/* Make @v's object a missing entry: @bad (scrub->osds indexes) rebuilt. */
static void verify_repair(struct scrub *sc, const struct sc_ver *v,
			  uint64_t bad)
{
	struct pg_miss *m;
	uint64_t need = 0, have = 0;

	for (unsigned k = 0; k < sc->n; k++) {
		if (bad >> k & 1)
			need |= 1ull << sc->idx[k];
		else if (v->members >> k & 1)
			have |= 1ull << sc->idx[k];
	}
	m = pg_miss_add(sc->pg, v->volume, v->objnum);
	m->version = v->version;
	m->size = v->size;
	m->deleted = false;
	m->need |= need;
	m->have = have & ~m->need;
	recovery_queue(sc->osd, sc->pg, m);
	sc->rep = bs_xrealloc(sc->rep, (sc->n_rep + 1) * sizeof(*sc->rep));
	sc->rep[sc->n_rep][0] = v->volume;
	sc->rep[sc->n_rep][1] = v->objnum;
	sc->n_rep++;
}

static void verify_fetched(struct ec_fetch *f, int res)
{
	struct sc_verify *w = container_of(f, struct sc_verify, f);
	struct osd *osd = w->osd;
	struct scrub *sc = scrub_of(w->pg, w->id);
	const struct bs_ec *ec = &w->pg->ec;
	const uint8_t *shards[BS_EC_MAX_SHARDS];
	const struct sc_ver *v = &w->v;
	int bad = -1, ret = 0;

	osd_bg_done(osd);
	if (sc && !res && f->len) {
		for (unsigned i = 0; i < ec->k + ec->m; i++)
			shards[i] = f->buf[i];
		if (!osd->ec_ctx && bs_ec_ctx_new(&osd->ec_ctx))
			ret = -ENOMEM;
		else
			ret = bs_ec_verify(ec, osd->ec_ctx, shards, f->len,
					   &bad);
	}
	if (sc && res)
		/* changed or unreadable since the maps: not judged here */
		bs_warn_rl(&osd->rl, "scrub: object %" PRIu64 ".%" PRIu64 ": shards not verified: %s",
			   v->volume, v->objnum, strerror(-res));
	if (sc && ret == -EBADMSG) {
		int k = -1;

		for (unsigned j = 0; bad >= 0 && j < sc->n; j++)
			if (sc->osds[j] == f->src[bad])
				k = (int)j;
		sc->inconsistent++;
		if (k >= 0) {
			sc->copies_bad++;
			detail(sc, "object %" PRIu64 ".%" PRIu64 ": osd.%d's shard %d does not match the others (parity)",
			       v->volume, v->objnum, sc->osds[k], bad);
			if (sc->repair)
				verify_repair(sc, v, 1ull << k);
		} else {
			detail(sc, "object %" PRIu64 ".%" PRIu64 ": its shards do not match and the bad one cannot be told",
			       v->volume, v->objnum);
		}
	}
	ec_fetch_release(f);
	w->obj->locks--;
	while (!osd_list_empty(&w->obj->waiters))
		osd_resume_later(container_of(w->obj->waiters.next,
					      struct osd_op, link));
	osd_obj_maybe_free(osd, w->obj);
	free(w);
	if (!sc)
		return;
	sc->ver_busy = false;
	sc->ver_pos++;
	verify_next(sc);
}

/*
 * Check the parity of the next object: lock it (once its writes are
 * durable), read all k+m shards and bs_ec_verify() them.  A shard that
 * does not match the others is bad (repaired by rebuilding it from them).
 */
static void verify_next(struct scrub *sc)
{
	struct osd *osd = sc->osd;
	struct pg *pg = sc->pg;
	unsigned km = pg->ec.k + pg->ec.m;

	while (!sc->error && sc->ver_pos < sc->n_ver) {
		const struct sc_ver *v = &sc->ver[sc->ver_pos];
		struct store_oid oid = {
			.pool = pg->pool, .pg = pg->id,
			.volume = v->volume, .objnum = v->objnum,
		};
		struct osd_obj *obj;
		struct sc_verify *w;
		bool all = true;

		for (unsigned i = 0; i < km; i++)
			all &= i < pg->n_acting && pg->acting[i] >= 0 &&
			       osd_is_up(osd, pg->acting[i]);
		if (!all || pg_miss_find(pg, v->volume, v->objnum)) {
			sc->ver_pos++;	/* a shard is away: recovery's */
			continue;
		}
		obj = osd_obj_get(osd, &oid);
		if (obj->nmut || obj->locks) {
			osd_obj_maybe_free(osd, obj);
			return;		/* busy: the next tick */
		}
		obj->locks++;
		w = bs_xcalloc(1, sizeof(*w));
		w->osd = osd;
		w->pg = pg;
		w->id = sc->id;
		w->obj = obj;
		w->v = *v;
		w->f.osd = osd;
		w->f.pg = pg;
		w->f.oid = oid;
		w->f.version = v->version;
		w->f.len = v->size;
		w->f.fn = verify_fetched;
		for (unsigned i = 0; i < km; i++) {
			w->f.sources |= 1u << i;
			w->f.src[i] = pg->acting[i];
		}
		sc->ver_busy = true;
		osd->bg_ops++;
		ec_fetch_start(&w->f);
		return;
	}
	if (sc->ver_busy)
		return;
	scrub_phase_done(sc);
}

static void scrub_phase_done(struct scrub *sc)
{
	if (sc->error) {
		scrub_reply(sc);
		return;
	}
	switch (sc->phase) {
	case SC_MAPS:
		compare(sc, false);
		if (sc->n_ver) {
			sc->phase = SC_VERIFY;
			verify_next(sc);
			return;
		}
		/* fall through */
	case SC_VERIFY:
		if (!sc->n_sus) {
			if (sc->n_rep) {
				sc->phase = SC_REPAIR;
				sc->deadline_ms = bs_now_ms() +
						  SCRUB_REPAIR_WAIT_MS;
				recovery_kick(sc->osd);
				return;
			}
			scrub_reply(sc);
			return;
		}
		/* lock the suspects; the tick goes on once they are quiet */
		for (size_t i = 0; i < sc->n_sus; i++)
			osd_obj_get(sc->osd, &sc->sus[i])->locks++;
		sc->locked = true;
		sc->phase = SC_LOCK;
		sc->deadline_ms = bs_now_ms() + 30000;
		return;
	case SC_RECHECK: {
		compare(sc, true);
		unlock_suspects(sc);
		if (sc->n_rep) {
			sc->phase = SC_REPAIR;
			sc->deadline_ms = bs_now_ms() + SCRUB_REPAIR_WAIT_MS;
			recovery_kick(sc->osd);
			return;
		}
		scrub_reply(sc);
		return;
	}
	default:
		return;
	}
}

static void scrub_step(struct scrub *sc, uint64_t now_ms)
{
	char name[32];

	if (sc->phase == SC_VERIFY) {
		if (!sc->ver_busy)
			verify_next(sc);
		return;
	}
	if (sc->phase == SC_LOCK) {
		if (!suspects_quiet(sc)) {
			if (now_ms < sc->deadline_ms)
				return;
			scrub_fail(sc, -EAGAIN, "pg %s: writes did not settle: scrub again",
				   pgn(sc->pg, name, sizeof(name)));
			scrub_reply(sc);
			return;
		}
		sc->phase = SC_RECHECK;
		maps_request(sc, sc->sus, sc->n_sus);
		return;
	}
	if (sc->phase == SC_REPAIR) {
		if (!repairs_done(sc) && now_ms < sc->deadline_ms)
			return;
		sc->repaired = 0;
		for (size_t i = 0; i < sc->n_rep; i++)
			sc->repaired += !pg_miss_find(sc->pg, sc->rep[i][0],
						      sc->rep[i][1]);
		scrub_reply(sc);
	}
}

static struct scrub *scrub_start(struct osd *osd, struct pg *pg,
				 struct osd_op *op, bool deep, bool repair)
{
	struct scrub *sc = bs_xcalloc(1, sizeof(*sc));
	char name[32];

	sc->osd = osd;
	sc->pg = pg;
	sc->id = ++scrub_seq;
	sc->op = op;
	sc->deep = deep;
	sc->repair = repair;
	sc->phase = SC_MAPS;
	for (unsigned i = 0; i < pg->n_peers && sc->n < BS_PLACE_MAX_SIZE;
	     i++) {
		if (!pg->peers[i].in_w)
			continue;
		sc->idx[sc->n] = i;
		sc->osds[sc->n++] = pg->peers[i].osd;
	}
	pg->scrub = sc;
	if (!op) {
		sc->scheduled = true;
		osd->bg_scrubs++;
	}
	bs_info("pg %s: %sscrub%s of %u members started",
		pgn(pg, name, sizeof(name)), deep ? "deep-" : "",
		repair ? " with repair" : "", sc->n);
	maps_request(sc, NULL, 0);
	return sc;
}

/* ---- BS_MSG_OSD_SCRUB ---- */

static void scrub_continue(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__OsdScrub *req = (const Bs__OsdScrub *)op->msg->body;
	struct pg *pg;
	char name[32];

	if (!osd->active || !osd->map || osd->map->epoch < op->need_epoch) {
		osd_wait_map(op);
		return;
	}
	pg_name(req->pool, req->pg, name, sizeof(name));
	pg = pg_find(osd, req->pool, req->pg);
	if (!pg) {
		op_reply_error(op, -ENOENT, "pg %s does not exist at epoch %"
			       PRIu64, name, osd->map->epoch);
		return;
	}
	if (!pg->is_primary) {
		op_reply_error(op, -ESTALE,
			       "%s is not the primary of pg %s at epoch %" PRIu64 " (osd.%d is)",
			       osd->name, name, osd->map->epoch, pg->primary);
		return;
	}
	if (pg->pstate != PGS_ACTIVE) {
		op->pg = pg;
		pg_wait_members(pg, op);
		return;
	}
	if (pg->scrub) {
		op_reply_error(op, -EBUSY, "pg %s is being scrubbed already",
			       name);
		return;
	}
	op->state = OP_WAIT_WORK;
	scrub_start(osd, pg, op, req->deep, req->repair);
}

void scrub_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	struct osd_op *op = op_new(osd, conn, msg);

	op->resume = scrub_continue;
	op->need_epoch = ((const Bs__OsdScrub *)msg->body)->map_epoch;
	scrub_continue(op);
}

/* ---- schedule ---- */

void scrub_tick(struct osd *osd, uint64_t now_ms)
{
	uint64_t now_us, light = osd->global.osd_scrub_interval;
	uint64_t deep = osd->global.osd_deep_scrub_interval;

	for (size_t i = 0; i < osd->pg_nb; i++)
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext)
			if (pg->scrub)
				scrub_step(pg->scrub, now_ms);
	if (osd->stopping || osd->bg_scrubs || now_ms < osd->next_scrub_ms ||
	    (!light && !deep))
		return;
	osd->next_scrub_ms = now_ms + 1000;
	now_us = osd_wall_us();
	for (size_t i = 0; i < osd->pg_nb; i++) {
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			bool d;

			if (!pg_is_active(pg) || !pg->clean || pg->scrub)
				continue;
			d = deep && now_us >= pg->info.last_deep_scrub_us +
						      deep * 1000;
			if (!d && !(light && now_us >= pg->info.last_scrub_us +
							       light * 1000))
				continue;
			scrub_start(osd, pg, NULL, d,
				    osd->global.osd_scrub_auto_repair);
			return;
		}
	}
}
