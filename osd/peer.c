// SPDX-License-Identifier: Apache-2.0
/*
 * Peering, member side: the requests a PG's primary sends to the OSDs
 * that hold or held the PG (BS_MSG_PG_QUERY, PG_ACTIVATE, PG_NOTIFY; the
 * object copies of recovery are install.c's, scrub maps scrub.c's), and
 * strays: an OSD that still holds objects of a PG it no longer belongs
 * to asks the primary (BS_MSG_PG_STRAY) and drops them once the PG is
 * clean without it.
 *
 * Every request names the sender's map epoch (we fetch that map first)
 * and must come from the PG's primary at our epoch.  A query fences the
 * PG first: RepOps stamped before the new activation are refused from
 * then on, and the answer waits until the writes already applying are
 * durable, so that it lists everything the old interval wrote here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/frame.h"
#include "bs/msg_types.h"
#include "osd.h"

/* An asynchronous store step of a request (activation, clean, removal). */
struct pwork {
	struct osd *osd;
	struct pwork *next;		/* osd->removals */
	struct osd_op *op;		/* NULL: background */
	struct store_op sop;
	uint8_t *buf;
	uint32_t pool, pg;
	struct store_list_entry *ents;	/* removal: objects left */
	size_t n_ents, pos;
	uint8_t ec_key[EC_META_KEY_LEN];	/* removal: its blob too */
};

static void peer_continue(struct osd_op *op);

static const char *pgn(uint32_t pool, uint32_t pg, char *buf, size_t len)
{
	return pg_name(pool, pg, buf, len);
}

/* The fields every peering message has. */
static int peer_fields(const struct bs_msg *msg, uint64_t *epoch,
		       uint32_t *pool, uint32_t *pg, uint32_t *from)
{
	switch (msg->hdr.type) {
#define F(T, type)							\
	case T: {							\
		const type *m = (const type *)msg->body;		\
		*epoch = m->map_epoch;					\
		*pool = m->pool;					\
		*pg = m->pg;						\
		*from = m->from_osd;					\
		return 0;						\
	}
	F(BS_MSG_PG_QUERY, Bs__PgQuery)
	F(BS_MSG_PG_ACTIVATE, Bs__PgActivate)
	F(BS_MSG_PG_PUSH, Bs__PgPush)
	F(BS_MSG_PG_PULL, Bs__PgPull)
	F(BS_MSG_PG_NOTIFY, Bs__PgNotify)
	F(BS_MSG_PG_SCRUB_MAP, Bs__PgScrubMap)
	F(BS_MSG_PG_STRAY, Bs__PgStray)
	F(BS_MSG_EC_READ, Bs__EcRead)
	F(BS_MSG_PG_ROLLBACK, Bs__PgRollback)
#undef F
	default:
		return -EINVAL;
	}
}

void peer_handle(struct osd *osd, struct bs_conn *conn, struct bs_msg *msg)
{
	struct osd_op *op = op_new(osd, conn, msg);
	uint64_t epoch;
	uint32_t pool, pg, from;

	op->resume = peer_continue;
	if (peer_fields(msg, &epoch, &pool, &pg, &from) ||
	    from > OSD_MAX_ID) {
		op_reply_error(op, -EINVAL, "bad peering message type %u",
			       msg->hdr.type);
		return;
	}
	op->need_epoch = op->req_epoch = epoch;
	op->oid.pool = pool;
	op->oid.pg = pg;
	op->from_osd = (int32_t)from;
	peer_continue(op);
}

/* Refuse RepOps of @pg stamped before @activation from now on. */
void peer_fence(struct osd *osd, struct pg *pg, uint64_t activation)
{
	struct osd_list *l, *next;

	if (pg->is_primary || activation <= pg->activation)
		return;
	pg->activation = activation;
	for (l = osd->timed.next; l != &osd->timed; l = next) {
		struct osd_op *op = container_of(l, struct osd_op, tlink);

		next = l->next;
		if (op->pg != pg || op->version >> 32 >= activation)
			continue;
		op_reply_error(op, -ESTALE,
			       "%s: pg %u.%x is peering for epoch %" PRIu64
			       ": version %" PRIx64 " is too old",
			       osd->name, pg->pool, pg->id, activation,
			       op->version);
	}
}

/* The PG's writes in flight are durable: answer the waiting queries. */
void peer_drained(struct osd *osd, struct pg *pg)
{
	(void)osd;
	while (!osd_list_empty(&pg->drain_waiters))
		osd_resume_later(container_of(pg->drain_waiters.next,
					      struct osd_op, link));
}

/* ---- PG_QUERY ---- */

static void do_query(struct osd_op *op, struct pg *pg)
{
	struct osd *osd = op->osd;
	const Bs__PgQuery *q = (const Bs__PgQuery *)op->msg->body;
	Bs__PgQueryReply r = BS__PG_QUERY_REPLY__INIT;
	struct pg_info info;
	Bs__PgInfo mi;
	Bs__PgInterval **ivp = NULL, *iv = NULL;
	int32_t *mem = NULL;
	Bs__PgEntry *ent = NULL, **entp = NULL;
	struct pg_entry *e = NULL;
	size_t n = 0, max = q->max_entries;
	bool more;
	int ret;

	if (!max || max > OSD_QUERY_PAGE)
		max = OSD_QUERY_PAGE;
	ret = pg_list_entries(osd, pg->pool, pg->id, q->has_after,
			      q->after_volume, q->after_objnum, max, &e, &n,
			      &more);
	if (ret) {
		op_reply_error(op, ret, "%s: cannot list pg %u.%x: %s",
			       osd->name, pg->pool, pg->id, strerror(-ret));
		return;
	}
	if (!q->has_after && pg->erasure)
		r.ec_slot = pg_slot_load(osd, pg->pool, pg->id);
	if (!q->has_after && !pg_info_load(osd, pg->pool, pg->id, &info)) {
		size_t k = info.n_past ? info.n_past : 1;

		ivp = bs_xmalloc(k * sizeof(*ivp));
		iv = bs_xmalloc(k * sizeof(*iv));
		mem = bs_xmalloc(k * BS_PLACE_MAX_SIZE * sizeof(*mem));
		pg_info_to_msg(&info, &mi, ivp, iv, mem);
		r.has_info = true;
		r.info = &mi;
		pg_info_release(&info);
	}
	if (n) {
		ent = bs_xmalloc(n * sizeof(*ent));
		entp = bs_xmalloc(n * sizeof(*entp));
	}
	for (size_t i = 0; i < n; i++) {
		bs__pg_entry__init(&ent[i]);
		ent[i].volume = e[i].volume;
		ent[i].objnum = e[i].objnum;
		ent[i].version = e[i].version;
		ent[i].size = e[i].size;
		ent[i].deleted = e[i].deleted;
		ent[i].claim = e[i].claim;
		ent[i].has_undo = e[i].has_undo;
		ent[i].undo_prev = e[i].undo_prev;
		entp[i] = &ent[i];
	}
	r.map_epoch = osd->map->epoch;
	r.n_entries = n;
	r.entries = entp;
	r.more = more;
	bs_conn_reply(op->conn, op->msg, BS_MSG_PG_QUERY_REPLY, &r.base, NULL,
		      0, NULL, NULL);
	free(entp);
	free(ent);
	free(e);
	free(mem);
	free(iv);
	free(ivp);
	op_done(op);
}

static void handle_query(struct osd_op *op, struct pg *pg)
{
	const Bs__PgQuery *q = (const Bs__PgQuery *)op->msg->body;

	peer_fence(op->osd, pg, q->activation);
	if (pg->n_inflight) {
		op->state = OP_WAIT_DRAIN;
		osd_list_add_tail(&pg->drain_waiters, &op->link);
		return;
	}
	do_query(op, pg);
}

/* ---- PG_ACTIVATE ---- */

static void work_reply_done(struct store_op *sop, int res)
{
	struct pwork *w = container_of(sop, struct pwork, sop);
	struct osd_op *op = w->op;
	uint16_t type = op->msg->hdr.type;

	free(w->buf);
	free(w);
	if (res) {
		op_reply_error(op, res, "%s: cannot persist pg %u.%x: %s",
			       op->osd->name, op->oid.pool, op->oid.pg,
			       strerror(-res));
		return;
	}
	if (type == BS_MSG_PG_ACTIVATE) {
		Bs__PgActivateReply r = BS__PG_ACTIVATE_REPLY__INIT;

		r.map_epoch = op->osd->map->epoch;
		bs_conn_reply(op->conn, op->msg, BS_MSG_PG_ACTIVATE_REPLY,
			      &r.base, NULL, 0, NULL, NULL);
	}
	op_done(op);
}

static void handle_activate(struct osd_op *op, struct pg *pg)
{
	struct osd *osd = op->osd;
	const Bs__PgActivate *a = (const Bs__PgActivate *)op->msg->body;
	size_t n = a->n_claims, k = 0, len;
	struct store_pg_kv *kv;
	struct pwork *w;
	uint8_t *c, key = PG_KEY_INFO, skey = PG_KEY_SLOT;

	if (n > 2 * OSD_QUERY_PAGE || (!n && !a->has_info) ||
	    (a->has_info && !a->info) || a->ec_slot > BS_EC_MAX_SHARDS) {
		op_reply_error(op, -EINVAL, "%s: bad activation of pg %u.%x",
			       osd->name, pg->pool, pg->id);
		return;
	}
	if (a->has_info)
		peer_fence(osd, pg, a->info->les);
	w = bs_xcalloc(1, sizeof(*w));
	w->osd = osd;
	w->op = op;
	len = a->has_info ? bs__pg_info__get_packed_size(a->info) : 0;
	w->buf = bs_xmalloc(n * (PG_CLAIM_KEY_LEN + PG_CLAIM_VAL_LEN) + len +
			    2);
	kv = bs_xmalloc((n + 2) * sizeof(*kv));
	c = w->buf;
	for (size_t i = 0; i < n; i++) {
		const Bs__PgEntry *e = a->claims[i];

		pg_claim_key(c, e->volume, e->objnum);
		pg_claim_val(c + PG_CLAIM_KEY_LEN, e->version, e->deleted);
		kv[k].key = c;
		kv[k].klen = PG_CLAIM_KEY_LEN;
		kv[k].val = c + PG_CLAIM_KEY_LEN;
		kv[k].vlen = PG_CLAIM_VAL_LEN;
		k++;
		c += PG_CLAIM_KEY_LEN + PG_CLAIM_VAL_LEN;
	}
	if (a->has_info) {
		bs__pg_info__pack(a->info, c);
		kv[k].key = &key;
		kv[k].klen = 1;
		kv[k].val = c;
		kv[k].vlen = len;
		k++;
		if (a->ec_slot) {
			/* with the claims of the shards it lacks for it */
			c[len] = (uint8_t)a->ec_slot;
			kv[k].key = &skey;
			kv[k].klen = 1;
			kv[k].val = c + len;
			kv[k].vlen = 1;
			k++;
		}
	}
	op->state = OP_WAIT_WORK;
	w->sop.fn = work_reply_done;
	store_pg_put_many(osd->store, &w->sop, pg->pool, pg->id, kv, k);
	free(kv);
}

/* ---- clean: drop claims, trim the history ---- */

struct claim_keys {
	uint8_t *keys;
	size_t n, cap;
	/* undo records of writes before @last_clean go too */
	struct osd *osd;
	uint32_t pool, pg;
	uint64_t last_clean;
};

/*
 * An EC undo record whose write is older than the clean activation: that
 * peering settled it, so it will never be rolled back.  Not one of an
 * object with a write landing (its new record may not be committed).
 */
static bool undo_settled(const struct claim_keys *ck, const uint8_t *k,
			 const void *val, size_t vlen)
{
	struct ec_undo_rec r;
	struct store_oid oid = { .pool = ck->pool, .pg = ck->pg };
	struct osd_obj *obj;

	if (ec_undo_parse(val, vlen, &r) ||
	    r.version >> 32 >= ck->last_clean)
		return false;
	for (int i = 0; i < 8; i++) {
		oid.volume = oid.volume << 8 | k[1 + i];
		oid.objnum = oid.objnum << 8 | k[9 + i];
	}
	obj = osd_obj_find(ck->osd, &oid);
	return !obj || !obj->nmut;
}

static int collect_claim(void *opaque, const void *key, size_t klen,
			 const void *val, size_t vlen)
{
	struct claim_keys *ck = opaque;
	const uint8_t *k = key;

	if (klen != PG_CLAIM_KEY_LEN ||
	    (k[0] != PG_KEY_CLAIM &&
	     (k[0] != PG_KEY_UNDO || !undo_settled(ck, k, val, vlen))))
		return 0;
	if (ck->n == ck->cap) {
		ck->cap = ck->cap ? ck->cap * 2 : 64;
		ck->keys = bs_xrealloc(ck->keys, ck->cap * PG_CLAIM_KEY_LEN);
	}
	memcpy(ck->keys + ck->n * PG_CLAIM_KEY_LEN, key, PG_CLAIM_KEY_LEN);
	ck->n++;
	return 0;
}

static void bg_put_done(struct store_op *sop, int res)
{
	struct pwork *w = container_of(sop, struct pwork, sop);
	struct osd *osd = w->osd;

	if (res && !osd->stopping)
		bs_warn("pg %u.%x: cannot update its info: %s", w->pool, w->pg,
			strerror(-res));
	free(w->buf);
	free(w);
	osd_bg_done(osd);
}

/*
 * PG @pool.@pg was clean at activation @last_clean: unless this OSD has
 * been activated again since, drop its claims and the history before.
 * Background: blocking reads of RocksDB, then one batch.
 */
void peer_clean_local(struct osd *osd, uint32_t pool, uint32_t pg,
		      uint64_t last_clean)
{
	struct claim_keys ck = { .osd = osd, .pool = pool, .pg = pg,
				 .last_clean = last_clean };
	struct pg_info info;
	struct store_pg_kv *kv;
	struct pwork *w;
	uint8_t key = PG_KEY_INFO;
	size_t len, k = 0;
	unsigned i, j;

	if (pg_info_load(osd, pool, pg, &info))
		return;
	if (info.les != last_clean || info.last_clean >= last_clean) {
		pg_info_release(&info);
		return;
	}
	info.last_clean = last_clean;
	for (i = 0, j = 0; i < info.n_past; i++)
		if (info.past[i].activation >= last_clean)
			info.past[j++] = info.past[i];
	info.n_past = j;
	store_pg_iterate(osd->store, pool, pg, collect_claim, &ck);
	w = bs_xcalloc(1, sizeof(*w));
	w->osd = osd;
	w->pool = pool;
	w->pg = pg;
	w->buf = pg_info_pack(&info, &len);
	pg_info_release(&info);
	kv = bs_xmalloc((ck.n + 1) * sizeof(*kv));
	for (size_t c = 0; c < ck.n; c++) {
		kv[k].key = ck.keys + c * PG_CLAIM_KEY_LEN;
		kv[k].klen = PG_CLAIM_KEY_LEN;
		kv[k].val = NULL;
		kv[k].vlen = 0;
		k++;
	}
	kv[k].key = &key;
	kv[k].klen = 1;
	kv[k].val = w->buf;
	kv[k].vlen = len;
	k++;
	w->sop.fn = bg_put_done;
	osd->bg_ops++;
	store_pg_put_many(osd->store, &w->sop, pool, pg, kv, k);
	free(kv);
	free(ck.keys);
}

/* ---- removal of a PG this OSD no longer belongs to ---- */

static void remove_next(struct pwork *w);
static void remove_unlink(struct pwork *w);

static bool still_stray(struct osd *osd, uint32_t pool, uint32_t pgid)
{
	const struct bs_osdmap_pool *p;
	int32_t acting[BS_PLACE_MAX_SIZE];
	int n;

	if (osd->stopping || !osd->map)
		return false;
	p = bs_osdmap_pool(osd->map, pool);
	if (!p || pgid >= p->place.pg_num)
		return true;		/* the pool is gone */
	n = bs_osdmap_pg_acting(osd->map, p, pgid, acting);
	for (int i = 0; i < n; i++)
		if (acting[i] == osd->id)
			return false;
	return true;
}

static void remove_step_done(struct store_op *sop, int res)
{
	struct pwork *w = container_of(sop, struct pwork, sop);

	if (res && res != -ENOENT && !w->osd->stopping)
		bs_warn("pg %u.%x: removing a stray object failed: %s",
			w->pool, w->pg, strerror(-res));
	remove_next(w);
}

static void remove_blobs(struct pwork *w)
{
	struct osd *osd = w->osd;
	/* every claim and every undo record goes with the PG */
	struct claim_keys ck = { .osd = osd, .pool = w->pool, .pg = w->pg,
				 .last_clean = UINT64_MAX };
	struct store_pg_kv *kv;
	uint8_t key = PG_KEY_INFO, skey = PG_KEY_SLOT;
	size_t k = 0;

	store_pg_iterate(osd->store, w->pool, w->pg, collect_claim, &ck);
	kv = bs_xmalloc((ck.n + 2) * sizeof(*kv));
	for (size_t c = 0; c < ck.n; c++) {
		kv[k].key = ck.keys + c * PG_CLAIM_KEY_LEN;
		kv[k].klen = PG_CLAIM_KEY_LEN;
		kv[k].val = NULL;
		kv[k].vlen = 0;
		k++;
	}
	kv[k].key = &key;
	kv[k].klen = 1;
	kv[k].val = NULL;
	kv[k].vlen = 0;
	k++;
	kv[k].key = &skey;
	kv[k].klen = 1;
	kv[k].val = NULL;
	kv[k].vlen = 0;
	k++;
	free(w->ents);
	w->ents = NULL;
	remove_unlink(w);
	w->sop.fn = bg_put_done;
	store_pg_put_many(osd->store, &w->sop, w->pool, w->pg, kv, k);
	free(kv);
	free(ck.keys);
}

static void remove_unlink(struct pwork *w)
{
	struct pwork **pp = &w->osd->removals;

	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
}

static void remove_next(struct pwork *w)
{
	struct osd *osd = w->osd;
	char name[32];

	if (!still_stray(osd, w->pool, w->pg)) {
		if (!osd->stopping)
			bs_info("pg %s: stray removal stopped (a member again)",
				pgn(w->pool, w->pg, name, sizeof(name)));
		remove_unlink(w);
		free(w->ents);
		free(w);
		osd_bg_done(osd);
		return;
	}
	if (w->pos < w->n_ents) {
		const struct bs_osdmap_pool *p = osd->map ?
			bs_osdmap_pool(osd->map, w->pool) : NULL;

		w->sop.fn = remove_step_done;
		if (!p || p->erasure) {
			ec_meta_key(&w->ents[w->pos].oid, w->ec_key);
			store_op_attach_pg(&w->sop, w->pool, w->pg, w->ec_key,
					   EC_META_KEY_LEN, NULL, 0);
		}
		store_delete(osd->store, &w->sop, &w->ents[w->pos++].oid);
		return;
	}
	bs_info("pg %s: removed %zu objects of a PG this OSD no longer holds",
		pgn(w->pool, w->pg, name, sizeof(name)), w->n_ents);
	remove_blobs(w);
}

/* Drop every object and blob of PG @pool.@pg here, in the background. */
static void remove_start(struct osd *osd, uint32_t pool, uint32_t pg)
{
	struct pwork *w;

	for (w = osd->removals; w; w = w->next)
		if (w->pool == pool && w->pg == pg)
			return;		/* already at it */
	w = bs_xcalloc(1, sizeof(*w));
	w->osd = osd;
	w->pool = pool;
	w->pg = pg;
	if (store_list(osd->store, pool, pg, &w->ents, &w->n_ents)) {
		free(w);
		return;
	}
	w->next = osd->removals;
	osd->removals = w;
	osd->bg_ops++;
	remove_next(w);
}

static void handle_notify(struct osd_op *op, struct pg *pg)
{
	struct osd *osd = op->osd;
	const Bs__PgNotify *m = (const Bs__PgNotify *)op->msg->body;
	Bs__PgNotifyReply r = BS__PG_NOTIFY_REPLY__INIT;
	char name[32];

	if (m->kind == BS__PG_NOTIFY_KIND__PG_NOTIFY_REMOVE) {
		if (!still_stray(osd, pg->pool, pg->id)) {
			op_reply_error(op, -ESTALE,
				       "%s is in the acting set of pg %s at epoch %" PRIu64,
				       osd->name,
				       pgn(pg->pool, pg->id, name,
					   sizeof(name)),
				       osd->map->epoch);
			return;
		}
		remove_start(osd, pg->pool, pg->id);
	} else {
		peer_clean_local(osd, pg->pool, pg->id, m->last_clean);
	}
	r.map_epoch = osd->map->epoch;
	bs_conn_reply(op->conn, op->msg, BS_MSG_PG_NOTIFY_REPLY, &r.base, NULL,
		      0, NULL, NULL);
	op_done(op);
}

/* ---- dispatch ---- */

static void peer_continue(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const struct bs_osdmap_pool *pool;
	uint16_t type = op->msg->hdr.type;
	struct pg *pg;
	char name[32];

	if (!osd->active || !osd->map || osd->map->epoch < op->need_epoch) {
		osd_wait_map(op);
		return;
	}
	pool = bs_osdmap_pool(osd->map, op->oid.pool);
	if (!pool || op->oid.pg >= pool->place.pg_num) {
		op_reply_error(op, -ENOENT,
			       "%s: pg %s does not exist at epoch %" PRIu64,
			       osd->name,
			       pgn(op->oid.pool, op->oid.pg, name,
				   sizeof(name)),
			       osd->map->epoch);
		return;
	}
	pg = pg_get(osd, pool, op->oid.pg);
	op->pg = pg;
	pgn(pg->pool, pg->id, name, sizeof(name));
	if (type == BS_MSG_PG_STRAY) {
		if (!pg->is_primary) {
			op_reply_error(op, -ESTALE,
				       "%s is not the primary of pg %s at epoch %" PRIu64,
				       osd->name, name, osd->map->epoch);
			return;
		}
		peering_handle_stray(op);
		return;
	}
	if (pg->primary != op->from_osd || op->from_osd == osd->id) {
		op_reply_error(op, -ESTALE,
			       "%s: osd.%d is not the primary of pg %s at epoch %" PRIu64,
			       osd->name, op->from_osd, name,
			       osd->map->epoch);
		return;
	}
	switch (type) {
	case BS_MSG_PG_QUERY:
		handle_query(op, pg);
		break;
	case BS_MSG_PG_ACTIVATE:
		handle_activate(op, pg);
		break;
	case BS_MSG_PG_NOTIFY:
		handle_notify(op, pg);
		break;
	case BS_MSG_PG_PUSH:
		install_push(op);
		break;
	case BS_MSG_PG_PULL:
		install_pull(op);
		break;
	case BS_MSG_PG_SCRUB_MAP:
		scrub_member_map(op);
		break;
	case BS_MSG_EC_READ:
		ec_member_read(op);
		break;
	case BS_MSG_PG_ROLLBACK:
		ec_rollback_handle(op);
		break;
	default:
		op_reply_error(op, -EOPNOTSUPP, "%s: message type %u",
			       osd->name, type);
		break;
	}
}

/* ---- strays and counts (tick) ---- */

static int stat_cmp(const void *a, const void *b)
{
	const struct store_pg_stat *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->pg != y->pg)
		return x->pg < y->pg ? -1 : 1;
	return 0;
}

const struct store_pg_stat *peer_pg_stat(struct osd *osd, uint32_t pool,
					 uint32_t pg)
{
	struct store_pg_stat key = { .pool = pool, .pg = pg };

	if (!osd->n_stats)
		return NULL;
	return bsearch(&key, osd->stats, osd->n_stats, sizeof(key),
		       stat_cmp);
}

struct stray_call {
	struct osd *osd;
	uint32_t pool, pg;
};

static void stray_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct stray_call *c = opaque;
	struct osd *osd = c->osd;

	if (!res && !osd->stopping &&
	    ((const Bs__PgStrayReply *)reply->body)->remove &&
	    still_stray(osd, c->pool, c->pg))
		remove_start(osd, c->pool, c->pg);
	bs_msg_free(reply);
	free(c);
}

/* Ask the primaries of the PGs we hold objects of but no longer belong to. */
static void stray_scan(struct osd *osd)
{
	unsigned asked = 0;

	for (size_t i = 0; i < osd->n_stats && asked < 64; i++) {
		const struct store_pg_stat *st = &osd->stats[i];
		const struct bs_osdmap_pool *p;
		Bs__PgStray m = BS__PG_STRAY__INIT;
		struct stray_call *c;
		struct bs_conn *conn;
		struct pg_info info;
		int primary;

		if (!still_stray(osd, st->pool, st->pg))
			continue;
		p = bs_osdmap_pool(osd->map, st->pool);
		if (!p || st->pg >= p->place.pg_num) {
			remove_start(osd, st->pool, st->pg);
			asked++;
			continue;
		}
		primary = bs_osdmap_pg_primary(osd->map, p, st->pg);
		if (primary < 0 || primary == osd->id)
			continue;
		conn = osd_peer_conn(osd, primary);
		if (!conn)
			continue;
		m.map_epoch = osd->map->epoch;
		m.pool = st->pool;
		m.pg = st->pg;
		m.from_osd = (uint32_t)osd->id;
		if (!pg_info_load(osd, st->pool, st->pg, &info)) {
			m.les = info.les;
			pg_info_release(&info);
		}
		c = bs_xmalloc(sizeof(*c));
		c->osd = osd;
		c->pool = st->pool;
		c->pg = st->pg;
		if (bs_conn_call(conn, BS_MSG_PG_STRAY, &m.base, NULL, 0,
				 OSD_PEER_TIMEOUT_MS, stray_cb, c))
			free(c);
		asked++;
	}
}

void peer_tick(struct osd *osd, uint64_t now_ms)
{
	if (!osd->active || osd->stopping || !osd->map)
		return;
	if (now_ms >= osd->next_stats_ms) {
		osd->next_stats_ms = now_ms + OSD_STATS_MS;
		free(osd->stats);
		osd->stats = NULL;
		store_pg_stats(osd->store, &osd->stats, &osd->n_stats);
	}
	if (now_ms >= osd->next_stray_ms) {
		osd->next_stray_ms = now_ms + OSD_STRAY_CHECK_MS;
		stray_scan(osd);
	}
}
