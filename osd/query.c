// SPDX-License-Identifier: Apache-2.0
/*
 * Answers from the store's in-memory metadata, no disk I/O: an object's
 * version and size (OSD_OP_STAT), its allocated ranges (OSD_OP_EXTENTS,
 * for NBD block status), the objects of a PG (BS_MSG_OSD_PG_LIST, asked of
 * any OSD by tests and tools), and capacity and use (BS_MSG_OSD_STATFS).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"
#include "bs/msg_types.h"
#include "osd.h"

static uint64_t epoch_of(const struct osd *osd)
{
	return osd->map ? osd->map->epoch : 0;
}

void query_stat(struct osd_op *op)
{
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;
	struct store_obj_stat st;

	if (store_stat(op->osd->store, &op->oid, &st)) {
		op_reply_error(op, -ENOENT,
			       "object %" PRIu64 ".%" PRIu64 " does not exist",
			       op->oid.volume, op->oid.objnum);
		return;
	}
	r.map_epoch = epoch_of(op->osd);
	r.version = st.version;
	r.size = st.size;
	bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	op_done(op);
}

void query_extents(struct osd_op *op)
{
	Bs__OsdOpReply r = BS__OSD_OP_REPLY__INIT;
	struct store_obj_stat st;
	size_t max = op->len / 8192 + 2, n = 0;
	uint64_t (*ranges)[2] = bs_xmalloc(max * sizeof(*ranges));
	Bs__Extent *ext = NULL, **extp = NULL;
	int ret;

	ret = store_extents(op->osd->store, &op->oid, op->off, op->len,
			    ranges, max, &n);
	if (ret && ret != -ENOENT) {
		free(ranges);
		op_reply_error(op, ret, "%s: extents: %s", op->osd->name,
			       strerror(-ret));
		return;
	}
	if (n) {
		ext = bs_xmalloc(n * sizeof(*ext));
		extp = bs_xmalloc(n * sizeof(*extp));
	}
	for (size_t i = 0; i < n; i++) {
		bs__extent__init(&ext[i]);
		ext[i].offset = ranges[i][0];
		ext[i].length = ranges[i][1];
		extp[i] = &ext[i];
	}
	if (!store_stat(op->osd->store, &op->oid, &st)) {
		r.version = st.version;
		r.size = st.size;
	}
	r.map_epoch = epoch_of(op->osd);
	r.n_extents = n;
	r.extents = extp;
	bs_conn_reply(op->conn, op->msg, BS_MSG_OSD_OP_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	free(extp);
	free(ext);
	free(ranges);
	op_done(op);
}

void query_pg_list(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	const Bs__PgList *req = (const Bs__PgList *)msg->body;
	Bs__PgListReply r = BS__PG_LIST_REPLY__INIT;
	struct store_list_entry *ents = NULL;
	Bs__PgObject *objs = NULL, **objp = NULL;
	Bs__ObjectId *oids = NULL;
	size_t n = 0;
	int ret;

	ret = store_list(osd->store, req->pool, req->pg, &ents, &n);
	if (ret) {
		bs_conn_reply_error(conn, msg, ret, "%s: cannot list pg: %s",
				    osd->name, strerror(-ret));
		goto out;
	}
	if (n) {
		objs = bs_xmalloc(n * sizeof(*objs));
		objp = bs_xmalloc(n * sizeof(*objp));
		oids = bs_xmalloc(n * sizeof(*oids));
	}
	for (size_t i = 0; i < n; i++) {
		bs__pg_object__init(&objs[i]);
		bs__object_id__init(&oids[i]);
		oids[i].pool = ents[i].oid.pool;
		oids[i].pg = ents[i].oid.pg;
		oids[i].volume = ents[i].oid.volume;
		oids[i].objnum = ents[i].oid.objnum;
		objs[i].oid = &oids[i];
		objs[i].version = ents[i].version;
		objs[i].size = ents[i].size;
		objp[i] = &objs[i];
	}
	r.map_epoch = epoch_of(osd);
	r.n_objects = n;
	r.objects = objp;
	if (bs__pg_list_reply__get_packed_size(&r) > BS_FRAME_MAX_MSG - 64)
		bs_conn_reply_error(conn, msg, -EMSGSIZE,
				    "%s: pg %u.%x holds %zu objects, too many to list at once",
				    osd->name, req->pool, req->pg, n);
	else
		bs_conn_reply(conn, msg, BS_MSG_OSD_PG_LIST_REPLY, &r.base,
			      NULL, 0, NULL, NULL);
out:
	free(oids);
	free(objp);
	free(objs);
	free(ents);
	bs_msg_free(msg);
}

/*
 * Does this OSD count PG @pgid's bytes as stored (logical) bytes?  Once
 * per object: a replicated PG's primary; an erasure-coded PG's data
 * shards (they hold the data as it is, parity is the overhead).
 */
static bool counts_stored(const struct osd *osd,
			  const struct bs_osdmap_pool *pool, uint32_t pgid)
{
	int32_t acting[BS_PLACE_MAX_SIZE];
	int n;

	if (!pool->erasure)
		return bs_osdmap_pg_primary(osd->map, pool, pgid) == osd->id;
	n = bs_osdmap_pg_acting(osd->map, pool, pgid, acting);
	for (int i = 0; i < n && i < (int)pool->ec_k; i++)
		if (acting[i] == osd->id)
			return true;
	return false;
}

/* Per pool: objects (as primary), raw and stored bytes of this OSD. */
static size_t pool_usage(struct osd *osd, Bs__PoolUsage **out)
{
	struct store_pg_stat *st = NULL;
	Bs__PoolUsage *u = NULL;
	size_t n = 0, nu = 0;

	store_pg_stats(osd->store, &st, &n);
	if (n)
		u = bs_xmalloc(n * sizeof(*u));
	for (size_t i = 0; i < n; i++) {
		const struct bs_osdmap_pool *pool = osd->map ?
			bs_osdmap_pool(osd->map, st[i].pool) : NULL;

		if (!pool || st[i].pg >= pool->place.pg_num)
			continue;	/* a removed pool: strays go soon */
		if (!nu || u[nu - 1].pool != st[i].pool) {
			bs__pool_usage__init(&u[nu]);
			u[nu++].pool = st[i].pool;
		}
		u[nu - 1].raw_bytes += st[i].allocated;
		if (counts_stored(osd, pool, st[i].pg))
			u[nu - 1].stored_bytes += st[i].allocated;
		if (bs_osdmap_pg_primary(osd->map, pool, st[i].pg) == osd->id)
			u[nu - 1].objects += st[i].objects;
	}
	free(st);
	*out = u;
	return nu;
}

void query_statfs(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	Bs__OsdStatfsReply r = BS__OSD_STATFS_REPLY__INIT;
	Bs__PoolUsage *u = NULL, **up = NULL;
	struct store_usage su;
	size_t n;

	store_usage(osd->store, &su);
	r.id = (uint32_t)osd->id;
	r.capacity = su.capacity;
	r.used = su.used;
	r.objects = su.objects;
	r.map_epoch = epoch_of(osd);
	n = pool_usage(osd, &u);
	if (n)
		up = bs_xmalloc(n * sizeof(*up));
	for (size_t i = 0; i < n; i++)
		up[i] = &u[i];
	r.n_pools = n;
	r.pools = up;
	bs_conn_reply(conn, msg, BS_MSG_OSD_STATFS_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	free(up);
	free(u);
	bs_msg_free(msg);
}

/* BS_MSG_OSD_PG_STATE: the PGs this OSD leads, as in its beacons. */
void query_pg_state(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	const Bs__OsdPgStateQuery *q = (const Bs__OsdPgStateQuery *)msg->body;
	Bs__OsdPgStateReply r = BS__OSD_PG_STATE_REPLY__INIT;
	Bs__OsdPgState *st = NULL, **stp = NULL;
	char (*names)[96] = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < osd->pg_nb; i++)
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext)
			cap += pg->is_primary && !pg->gone;
	cap = BS_MIN(cap, (size_t)8192);
	if (cap) {
		st = bs_xmalloc(cap * sizeof(*st));
		stp = bs_xmalloc(cap * sizeof(*stp));
		names = bs_xmalloc(cap * sizeof(*names));
	}
	for (size_t i = 0; i < osd->pg_nb && n < cap; i++) {
		for (struct pg *pg = osd->pg_tab[i]; pg && n < cap;
		     pg = pg->hnext) {
			Bs__OsdPgState *s = &st[n];

			if (!pg->is_primary || pg->gone ||
			    (q->has_pool && pg->pool != q->pool) ||
			    (q->has_pg && pg->id != q->pg))
				continue;
			bs__osd_pg_state__init(s);
			s->pool = pg->pool;
			s->pg = pg->id;
			s->state = pg_state_flags(pg);
			pg_state_name(s->state, names[n], sizeof(names[n]));
			s->state_name = names[n];
			s->n_acting = pg->n_acting;
			s->acting = pg->acting;
			s->activation_epoch = pg->activation;
			s->objects = pg_objects(osd, pg);
			s->objects_degraded = pg_degraded(osd, pg);
			s->objects_unfound = pg->n_unfound;
			s->objects_recovered = pg->rec_objects;
			s->bytes_recovered = pg->rec_bytes;
			s->last_scrub_us = pg->info.last_scrub_us;
			s->last_deep_scrub_us = pg->info.last_deep_scrub_us;
			stp[n++] = s;
		}
	}
	r.map_epoch = epoch_of(osd);
	r.osd = (uint32_t)osd->id;
	r.n_pgs = n;
	r.pgs = stp;
	bs_conn_reply(conn, msg, BS_MSG_OSD_PG_STATE_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
	free(names);
	free(stp);
	free(st);
	bs_msg_free(msg);
}

/* BS_MSG_OSD_LOCATE: where an object's block is in the data file. */
void query_locate(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	const Bs__OsdLocate *q = (const Bs__OsdLocate *)msg->body;
	Bs__OsdLocateReply r = BS__OSD_LOCATE_REPLY__INIT;
	struct store_obj_stat st;
	struct store_oid oid;
	uint64_t off = 0;
	int ret;

	if (!q->oid) {
		bs_conn_reply_error(conn, msg, -EINVAL, "no object id");
		goto out;
	}
	oid.pool = q->oid->pool;
	oid.pg = q->oid->pg;
	oid.volume = q->oid->volume;
	oid.objnum = q->oid->objnum;
	ret = store_locate(osd->store, &oid, q->offset, &st, &off);
	if (ret && ret != -ENODATA) {
		bs_conn_reply_error(conn, msg, ret, "%s: object %" PRIu64
				    ".%" PRIu64 ": %s", osd->name, oid.volume,
				    oid.objnum, strerror(-ret));
		goto out;
	}
	r.version = st.version;
	r.size = st.size;
	r.hole = ret == -ENODATA;
	r.disk_offset = off;
	bs_conn_reply(conn, msg, BS_MSG_OSD_LOCATE_REPLY, &r.base, NULL, 0,
		      NULL, NULL);
out:
	bs_msg_free(msg);
}
