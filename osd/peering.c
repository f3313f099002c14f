// SPDX-License-Identifier: Apache-2.0
/*
 * Peering, primary side: after every change of interval the primary asks
 * every OSD that may hold the PG (the up members of the acting set, and
 * the members of every interval since the PG was last clean that are up)
 * for its info and its objects and tombstones, decides the authoritative
 * version of every object, has the new interval's members persist it
 * (PG_ACTIVATE), and only then serves I/O.  Objects a member lacks go to
 * the missing table that recovery works through (recovery.c).
 *
 * States (pg->pstate): INACTIVE (fewer than min_size up) | PEERING
 *   -> DOWN (an interval since the last clean that may have taken writes
 *      has no member that answered: wait for a map that brings one back,
 *      or declares them lost)
 *   -> ACTIVATING (members persist their claims, then the new interval)
 *   -> ACTIVE (-> clean once nothing is missing and every acting member
 *      is up: members drop their claims and history, old members drop
 *      their copies)
 * Any map change that changes the interval starts again from the top; a
 * member that does not answer makes it start again a second later.
 *
 * Which copies decide is decide.c's (and docs/osd.md "Peering"): the
 * objects and claims of the OSDs that took part in the newest interval.
 * Which OSDs may hold the PG comes from the members' infos and from the
 * map history (past intervals, bs/past_intervals.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/msg_types.h"
#include "osd.h"

/* One peering request in flight. */
struct pcall {
	struct osd *osd;
	struct pg *pg;
	unsigned gen;
	unsigned idx;
};

/* The local activation write. */
struct pact {
	struct osd *osd;
	struct pg *pg;
	unsigned gen;
	struct store_op sop;
	uint8_t *buf;
	uint8_t key, skey, slot;
};

static void maybe_decide(struct osd *osd, struct pg *pg);
static void query_send(struct osd *osd, struct pg *pg, unsigned idx);

static const char *pgn(const struct pg *pg, char *buf, size_t len)
{
	return pg_name(pg->pool, pg->id, buf, len);
}

int pg_peer_index(const struct pg *pg, int32_t osd)
{
	for (unsigned i = 0; i < pg->n_peers; i++)
		if (pg->peers[i].osd == osd)
			return (int)i;
	return -1;
}

uint64_t pg_w_mask(const struct pg *pg)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < pg->n_peers; i++)
		if (pg->peers[i].in_w)
			m |= 1ull << i;
	return m;
}

static struct pg_peer *peer_add(struct pg *pg, int32_t osd, bool in_w)
{
	int i = pg_peer_index(pg, osd);
	struct pg_peer *p;

	if (i >= 0) {
		pg->peers[i].in_w |= in_w;
		return &pg->peers[i];
	}
	if (pg->n_peers >= OSD_PEER_MAX)
		return NULL;
	if (!pg->peers)
		pg->peers = bs_xcalloc(OSD_PEER_MAX, sizeof(*pg->peers));
	p = &pg->peers[pg->n_peers++];
	memset(p, 0, sizeof(*p));
	p->osd = osd;
	p->in_w = in_w;
	return p;
}

static void peers_free(struct pg *pg)
{
	for (unsigned i = 0; i < pg->n_peers; i++) {
		pg_info_release(&pg->peers[i].info);
		free(pg->peers[i].ent);
		free(pg->peers[i].rb);
	}
	bs_free(&pg->peers);
	pg->n_peers = 0;
}

/* Forget everything of the previous peering (callbacks see a new gen). */
static void peering_reset(struct osd *osd, struct pg *pg)
{
	pg->gen++;
	scrub_abort(osd, pg);
	pg_miss_clear(osd, pg);
	peers_free(pg);
	pg->pending = 0;
	pg->self_probe_wait = false;
	pg->wide_probed = false;
	pg->retry_ms = 0;
	pg->clean = pg->clean_sent = false;
	pg->n_unfound = 0;
	bs_free(&pg->piv);
	pg->n_piv = 0;
}

/* The ops in flight belong to the old interval: EAGAIN once local. */
static void abort_ops(struct pg *pg)
{
	struct osd_list *l, *next;

	for (l = pg->ops.next; l != &pg->ops; l = next) {
		struct osd_op *op = container_of(l, struct osd_op, link);

		next = l->next;
		op->aborted = true;
		primary_check(op);
	}
}

void peering_stop(struct osd *osd, struct pg *pg)
{
	if (pg->pstate == PGS_NONE && !pg->n_peers && !pg->n_miss)
		return;
	peering_reset(osd, pg);
	abort_ops(pg);
	pg->pstate = PGS_NONE;
}

static void self_probe(struct osd *osd, struct pg *pg)
{
	struct pg_peer *p = &pg->peers[0];
	bool more;
	int ret;

	pg_info_release(&p->info);
	p->has_info = !pg_info_load(osd, pg->pool, pg->id, &p->info);
	p->ec_slot = pg->erasure ? pg_slot_load(osd, pg->pool, pg->id) : 0;
	free(p->ent);
	p->ent = NULL;
	ret = pg_list_entries(osd, pg->pool, pg->id, false, 0, 0, SIZE_MAX,
			      &p->ent, &p->n_ent, &more);
	if (ret) {
		char name[32];

		bs_err("pg %s: cannot list its objects: %s",
		       pgn(pg, name, sizeof(name)), strerror(-ret));
		p->failed = true;
	}
	p->done = true;
}

void peering_drained(struct osd *osd, struct pg *pg)
{
	if (!pg->self_probe_wait || pg->n_inflight)
		return;
	pg->self_probe_wait = false;
	if (pg->pstate != PGS_PEERING || !pg->n_peers)
		return;
	self_probe(osd, pg);
	maybe_decide(osd, pg);
}

/* Ask the up members of @info's intervals since @lc too. */
static void probe_past(struct osd *osd, struct pg *pg,
		       const struct pg_info *info, uint64_t lc)
{
	for (unsigned i = 0; i < info->n_past; i++) {
		const struct pg_interval *iv = &info->past[i];

		if (iv->activation < lc)
			continue;
		for (unsigned k = 0; k < iv->n; k++) {
			int32_t id = iv->members[k];
			struct pg_peer *p;

			if (pg_peer_index(pg, id) >= 0 || !osd_is_up(osd, id))
				continue;
			p = peer_add(pg, id, false);
			if (p)
				query_send(osd, pg, (unsigned)(p - pg->peers));
		}
	}
}

static int ent_sort_cmp(const void *a, const void *b)
{
	const struct pg_entry *x = a, *y = b;

	if (x->volume != y->volume)
		return x->volume < y->volume ? -1 : 1;
	if (x->objnum != y->objnum)
		return x->objnum < y->objnum ? -1 : 1;
	return (int)x->claim - (int)y->claim;
}

static void query_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct pcall *c = opaque;
	struct osd *osd = c->osd;
	struct pg *pg = c->pg;
	const Bs__PgQueryReply *r;
	struct pg_peer *p;
	char name[32];

	if (osd->stopping || c->gen != pg->gen) {
		bs_msg_free(reply);
		free(c);
		return;
	}
	pg->pending--;
	p = &pg->peers[c->idx];
	p->busy = false;
	free(c);
	if (res) {
		if (osd_is_up(osd, p->osd) && ++p->tries < 3) {
			bs_dbg(BS_SUB_PEERING, "pg %s: osd.%d: %s; asking again",
			       pgn(pg, name, sizeof(name)), p->osd,
			       strerror(-res));
			query_send(osd, pg, (unsigned)(p - pg->peers));
		} else {
			bs_warn_rl(&osd->rl, "pg %s: osd.%d does not answer peering: %s",
				   pgn(pg, name, sizeof(name)), p->osd,
				   *bs_msg_error_text(reply) ?
					   bs_msg_error_text(reply) :
					   strerror(-res));
			p->failed = true;
		}
		bs_msg_free(reply);
		maybe_decide(osd, pg);
		return;
	}
	r = (const Bs__PgQueryReply *)reply->body;
	if (r->n_entries > 2 * OSD_QUERY_PAGE) {
		bs_warn_rl(&osd->rl, "pg %s: osd.%d sent %zu entries in one page: ignored",
			   pgn(pg, name, sizeof(name)), p->osd,
			   r->n_entries);
		p->failed = true;
		bs_msg_free(reply);
		maybe_decide(osd, pg);
		return;
	}
	if (r->ec_slot <= BS_EC_MAX_SHARDS && !p->n_ent)
		p->ec_slot = r->ec_slot;
	if (r->has_info && !p->has_info) {
		p->has_info = true;
		pg_info_from_msg(&p->info, r->info);
	}
	if (r->n_entries) {
		if (p->n_ent + r->n_entries > p->cap_ent) {
			p->cap_ent = p->n_ent + r->n_entries;
			p->ent = bs_xrealloc(p->ent,
					     p->cap_ent * sizeof(*p->ent));
		}
		for (size_t i = 0; i < r->n_entries; i++) {
			struct pg_entry *e = &p->ent[p->n_ent++];

			e->volume = r->entries[i]->volume;
			e->objnum = r->entries[i]->objnum;
			e->version = r->entries[i]->version;
			e->size = r->entries[i]->size;
			e->deleted = r->entries[i]->deleted;
			e->claim = r->entries[i]->claim;
			e->has_undo = r->entries[i]->has_undo &&
				      r->entries[i]->undo_prev <
					      r->entries[i]->version;
			e->undo_prev = r->entries[i]->undo_prev;
		}
	}
	if (r->more && r->n_entries) {
		bs_msg_free(reply);
		query_send(osd, pg, (unsigned)(p - pg->peers));
		return;
	}
	bs_msg_free(reply);
	if (p->n_ent)
		qsort(p->ent, p->n_ent, sizeof(*p->ent), ent_sort_cmp);
	p->done = true;
	if (p->has_info)
		probe_past(osd, pg, &p->info, p->info.last_clean);
	maybe_decide(osd, pg);
}

static void query_send(struct osd *osd, struct pg *pg, unsigned idx)
{
	struct pg_peer *p = &pg->peers[idx];
	Bs__PgQuery q = BS__PG_QUERY__INIT;
	struct bs_conn *conn = osd_peer_conn(osd, p->osd);
	struct pcall *c;

	if (!conn) {
		p->failed = true;
		return;
	}
	q.map_epoch = osd->map->epoch;
	q.pool = pg->pool;
	q.pg = pg->id;
	q.from_osd = (uint32_t)osd->id;
	q.activation = pg->peer_epoch;
	q.max_entries = OSD_QUERY_PAGE;
	if (p->n_ent) {
		q.has_after = true;
		q.after_volume = p->ent[p->n_ent - 1].volume;
		q.after_objnum = p->ent[p->n_ent - 1].objnum;
	}
	c = bs_xmalloc(sizeof(*c));
	c->osd = osd;
	c->pg = pg;
	c->gen = pg->gen;
	c->idx = idx;
	if (bs_conn_call(conn, BS_MSG_PG_QUERY, &q.base, NULL, 0,
			 OSD_PEER_TIMEOUT_MS, query_cb, c)) {
		free(c);
		p->failed = true;
		return;
	}
	p->busy = true;
	pg->pending++;
}

/*
 * The intervals of the map history since the PG was last clean (as far
 * as this OSD knows): ask the members of those that may have taken
 * writes, if they are up.
 */
static void probe_history(struct osd *osd, struct pg *pg)
{
	char name[32];

	if (bs_past_intervals(&osd->hist, pg->pool, pg->id,
			      pg->info.last_clean, &pg->piv, &pg->n_piv)) {
		bs_err("pg %s: out of memory for its past intervals",
		       pgn(pg, name, sizeof(name)));
		return;
	}
	for (size_t i = 0; i < pg->n_piv; i++) {
		const struct bs_past_interval *iv = &pg->piv[i];

		if (!iv->maybe_rw)
			continue;
		for (unsigned k = 0; k < iv->n; k++) {
			int32_t id = iv->acting[k];
			struct pg_peer *p;

			if (!(iv->up_mask & (1u << k)) ||
			    pg_peer_index(pg, id) >= 0 || !osd_is_up(osd, id))
				continue;
			p = peer_add(pg, id, false);
			if (p)
				query_send(osd, pg, (unsigned)(p - pg->peers));
		}
	}
}

void peering_start(struct osd *osd, struct pg *pg)
{
	const struct bs_osdmap *map = osd->map;
	char name[32];

	peering_reset(osd, pg);
	abort_ops(pg);
	if (!pg_can_serve(pg)) {
		if (pg->pstate != PGS_INACTIVE)
			bs_warn("pg %s: %u of %u members up, min_size %u: inactive",
				pgn(pg, name, sizeof(name)), pg->n_up,
				pg->size, pg->min_size);
		pg->pstate = PGS_INACTIVE;
		return;
	}
	pg->pstate = PGS_PEERING;
	pg->peer_epoch = map->epoch;
	pg_info_release(&pg->info);
	pg_info_load(osd, pg->pool, pg->id, &pg->info);
	bs_dbg(BS_SUB_PEERING, "pg %s: peering for epoch %" PRIu64,
	       pgn(pg, name, sizeof(name)), pg->peer_epoch);

	peer_add(pg, osd->id, true);
	for (unsigned i = 0; i < pg->n_acting; i++)
		if (pg->acting[i] != osd->id && osd_is_up(osd, pg->acting[i]))
			peer_add(pg, pg->acting[i], true);
	for (unsigned i = 1; i < pg->n_peers; i++)
		query_send(osd, pg, i);
	probe_past(osd, pg, &pg->info, pg->info.last_clean);
	probe_history(osd, pg);
	if (pg->n_inflight) {
		pg->self_probe_wait = true;
		return;
	}
	self_probe(osd, pg);
	maybe_decide(osd, pg);
}

/* Retry a peering that could not finish (a member did not answer). */
static void retry_later(struct pg *pg)
{
	pg->pstate = PGS_PEERING;
	pg->retry_ms = bs_now_ms() + OSD_PEER_RETRY_MS;
}

void peering_tick(struct osd *osd, uint64_t now_ms)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			if (!pg->is_primary || pg->gone || !pg->retry_ms ||
			    now_ms < pg->retry_ms)
				continue;
			pg->retry_ms = 0;
			peering_start(osd, pg);
		}
	}
}

/* ---- the decision ---- */

/* Add @iv to @h, uniting members with an interval of equal activation. */
static void hist_merge(struct pg_info *h, const struct pg_interval *iv)
{
	for (unsigned i = 0; i < h->n_past; i++) {
		struct pg_interval *x = &h->past[i];

		if (x->activation != iv->activation)
			continue;
		for (unsigned k = 0; k < iv->n; k++) {
			bool dup = false;

			for (unsigned j = 0; j < x->n; j++)
				dup |= x->members[j] == iv->members[k];
			if (!dup && x->n < BS_PLACE_MAX_SIZE)
				x->members[x->n++] = iv->members[k];
		}
		return;
	}
	pg_info_add_interval(h, iv->activation, iv->members, iv->n);
}

/* Does @p's listing hold a claim of the object (it lacks it)? */
static bool has_claim(const struct pg_peer *p, uint64_t volume,
		      uint64_t objnum)
{
	size_t lo = 0, hi = p->n_ent;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pg_entry *e = &p->ent[mid];

		if (e->volume < volume ||
		    (e->volume == volume && e->objnum < objnum))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->n_ent && p->ent[lo].volume == volume &&
	       p->ent[lo].objnum == objnum; lo++)
		if (p->ent[lo].claim)
			return true;
	return false;
}

/*
 * Erasure-coded: the peers holding a claim of the object: whatever copy
 * they have is not a shard of the slot their "S" blob names (a rebuild
 * for that slot is pending).
 */
static uint64_t ec_claimed(const struct pg *pg, uint64_t volume,
			   uint64_t objnum)
{
	uint64_t claimed = 0;

	for (unsigned i = 0; i < pg->n_peers && i < 64; i++)
		if (has_claim(&pg->peers[i], volume, objnum))
			claimed |= 1ull << i;
	return claimed;
}

/* Every object of the merged listings: count it, note what is missing. */
static void decided(void *opaque, const struct pg_decision *d)
{
	struct pg *pg = opaque;
	struct pg_miss *m;
	uint64_t need = d->need, have = d->have;

	for (unsigned i = 0; d->rollback && i < pg->n_peers; i++) {
		struct pg_peer *p = &pg->peers[i];
		struct pg_entry *e;

		if (!(d->rollback >> i & 1))
			continue;
		if (p->n_rb == p->cap_rb) {
			p->cap_rb = p->cap_rb ? p->cap_rb * 2 : 16;
			p->rb = bs_xrealloc(p->rb, p->cap_rb * sizeof(*p->rb));
		}
		e = &p->rb[p->n_rb++];
		memset(e, 0, sizeof(*e));
		e->volume = d->volume;
		e->objnum = d->objnum;
		e->has_undo = true;
		e->undo_prev = d->deleted ? 0 : d->version;
	}
	if (d->version && !d->deleted) {
		pg->objects++;
		pg->bytes += d->size;
	}
	if (pg->erasure && !d->deleted) {
		uint64_t claimed = ec_claimed(pg, d->volume, d->objnum);

		/* a member of another slot still holds a shard of its own */
		need |= have & (claimed | pg->ec_stale) & pg_w_mask(pg);
		have &= ~claimed;
	}
	if (!need)
		return;
	m = pg_miss_add(pg, d->volume, d->objnum);
	m->version = d->version;
	m->size = d->size;
	m->deleted = d->deleted;
	m->need = need;
	m->have = have;
	if (!d->deleted && !have) {
		m->unfound = true;
		pg->n_unfound++;
	}
}

static void activate_local_cb(struct store_op *sop, int res)
{
	struct pact *a = container_of(sop, struct pact, sop);
	struct osd *osd = a->osd;
	struct pg *pg = a->pg;
	unsigned gen = a->gen;

	free(a->buf);
	free(a);
	osd_bg_done(osd);
	if (osd->stopping || gen != pg->gen)
		return;
	pg->pending--;
	if (res) {
		char name[32];

		bs_err("pg %s: cannot persist its activation: %s",
		       pgn(pg, name, sizeof(name)), strerror(-res));
		retry_later(pg);
		return;
	}
	maybe_decide(osd, pg);
}

static void activate_next(struct osd *osd, struct pg *pg, unsigned idx);

/*
 * A peering call whose reply body is not needed is over: free @c and
 * @reply; true (and one call fewer pending) if its PG has not moved on.
 */
static bool pcall_end(struct pcall *c, struct bs_msg *reply, unsigned *idx)
{
	struct osd *osd = c->osd;
	struct pg *pg = c->pg;
	bool current = !osd->stopping && c->gen == pg->gen;

	*idx = c->idx;
	bs_msg_free(reply);
	free(c);
	if (current)
		pg->pending--;
	return current;
}

static void activate_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct pcall *c = opaque;
	struct osd *osd = c->osd;
	struct pg *pg = c->pg;
	unsigned idx;
	char name[32];

	if (!pcall_end(c, reply, &idx))
		return;
	if (res) {
		bs_warn_rl(&osd->rl, "pg %s: osd.%d did not take the activation: %s",
			   pgn(pg, name, sizeof(name)), pg->peers[idx].osd,
			   strerror(-res));
		retry_later(pg);
	} else if (pg->pstate == PGS_ACTIVATING &&
		   pg->peers[idx].act_pos != SIZE_MAX) {
		activate_next(osd, pg, idx);
	}
	maybe_decide(osd, pg);
}

/*
 * The claims of peer @idx from @pos on, at most OSD_QUERY_PAGE: fills
 * @ent/@entp, returns the count and moves *pos.
 */
static size_t claims_chunk(struct pg *pg, unsigned idx, size_t *pos,
			   Bs__PgEntry *ent, Bs__PgEntry **entp)
{
	uint64_t bit = 1ull << idx;
	size_t n = 0, k = 0;

	for (size_t b = 0; b < pg->miss_nb && n < OSD_QUERY_PAGE; b++) {
		for (struct pg_miss *m = pg->miss_tab[b]; m; m = m->hnext) {
			if (!(m->need & bit))
				continue;
			if (k++ < *pos)
				continue;
			if (n == OSD_QUERY_PAGE)
				break;
			bs__pg_entry__init(&ent[n]);
			ent[n].volume = m->volume;
			ent[n].objnum = m->objnum;
			ent[n].version = m->version;
			ent[n].deleted = m->deleted;
			ent[n].claim = true;
			entp[n] = &ent[n];
			n++;
		}
	}
	*pos += n;
	return n;
}

static size_t claims_count(const struct pg *pg, unsigned idx)
{
	size_t n = 0;

	for (size_t b = 0; b < pg->miss_nb; b++)
		for (struct pg_miss *m = pg->miss_tab[b]; m; m = m->hnext)
			n += !!(m->need & (1ull << idx));
	return n;
}

/* Send peer @idx its next activation message (claims, then the info). */
static void activate_next(struct osd *osd, struct pg *pg, unsigned idx)
{
	struct pg_peer *p = &pg->peers[idx];
	Bs__PgActivate a = BS__PG_ACTIVATE__INIT;
	Bs__PgInfo info;
	size_t n = pg->info.n_past ? pg->info.n_past : 1, total;
	Bs__PgInterval **ivp = bs_xmalloc(n * sizeof(*ivp));
	Bs__PgInterval *iv = bs_xmalloc(n * sizeof(*iv));
	int32_t *mem = bs_xmalloc(n * BS_PLACE_MAX_SIZE * sizeof(*mem));
	Bs__PgEntry *ent = bs_xmalloc(OSD_QUERY_PAGE * sizeof(*ent));
	Bs__PgEntry **entp = bs_xmalloc(OSD_QUERY_PAGE * sizeof(*entp));
	struct bs_conn *conn = osd_peer_conn(osd, p->osd);
	struct pcall *c;

	total = claims_count(pg, idx);
	a.map_epoch = osd->map->epoch;
	a.pool = pg->pool;
	a.pg = pg->id;
	a.from_osd = (uint32_t)osd->id;
	a.n_claims = claims_chunk(pg, idx, &p->act_pos, ent, entp);
	a.claims = entp;
	if (p->act_pos >= total) {
		pg_info_to_msg(&pg->info, &info, ivp, iv, mem);
		a.info = &info;
		a.has_info = true;
		if (pg->erasure)
			a.ec_slot = (uint32_t)(ec_slot_of(pg, p->osd) + 1);
		p->act_pos = SIZE_MAX;		/* the last message */
	}
	c = bs_xmalloc(sizeof(*c));
	c->osd = osd;
	c->pg = pg;
	c->gen = pg->gen;
	c->idx = idx;
	if (!conn || bs_conn_call(conn, BS_MSG_PG_ACTIVATE, &a.base, NULL, 0,
				  OSD_PEER_TIMEOUT_MS, activate_cb, c)) {
		free(c);
		retry_later(pg);
	} else {
		pg->pending++;
	}
	free(entp);
	free(ent);
	free(mem);
	free(iv);
	free(ivp);
}

/* Our own part: claims and the info in one atomic batch. */
static void activate_self(struct osd *osd, struct pg *pg)
{
	uint64_t bit = 1;	/* peers[0] is this OSD */
	struct pact *la = bs_xcalloc(1, sizeof(*la));
	size_t n = 0, len, cap = 16, k;
	struct store_pg_kv *kv = bs_xmalloc(cap * sizeof(*kv));
	uint8_t *claims;

	for (size_t b = 0; b < pg->miss_nb; b++)
		for (struct pg_miss *m = pg->miss_tab[b]; m; m = m->hnext)
			n += !!(m->need & bit);
	claims = bs_xmalloc((n ? n : 1) *
			    (PG_CLAIM_KEY_LEN + PG_CLAIM_VAL_LEN));
	k = 0;
	for (size_t b = 0; b < pg->miss_nb; b++) {
		for (struct pg_miss *m = pg->miss_tab[b]; m; m = m->hnext) {
			uint8_t *c;

			if (!(m->need & bit))
				continue;
			c = claims + k * (PG_CLAIM_KEY_LEN + PG_CLAIM_VAL_LEN);
			pg_claim_key(c, m->volume, m->objnum);
			pg_claim_val(c + PG_CLAIM_KEY_LEN, m->version,
				     m->deleted);
			if (k == cap) {
				cap *= 2;
				kv = bs_xrealloc(kv, cap * sizeof(*kv));
			}
			kv[k].key = c;
			kv[k].klen = PG_CLAIM_KEY_LEN;
			kv[k].val = c + PG_CLAIM_KEY_LEN;
			kv[k].vlen = PG_CLAIM_VAL_LEN;
			k++;
		}
	}
	if (k + 1 >= cap)
		kv = bs_xrealloc(kv, (cap + 2) * sizeof(*kv));
	la->osd = osd;
	la->pg = pg;
	la->gen = pg->gen;
	la->key = PG_KEY_INFO;
	la->skey = PG_KEY_SLOT;
	la->slot = (uint8_t)(ec_slot_of(pg, osd->id) + 1);
	la->buf = pg_info_pack(&pg->info, &len);
	kv[k].key = &la->key;
	kv[k].klen = 1;
	kv[k].val = la->buf;
	kv[k].vlen = len;
	if (pg->erasure) {
		k++;
		kv[k].key = &la->skey;
		kv[k].klen = 1;
		kv[k].val = &la->slot;
		kv[k].vlen = 1;
	}
	la->sop.fn = activate_local_cb;
	osd->bg_ops++;
	pg->pending++;
	store_pg_put_many(osd->store, &la->sop, pg->pool, pg->id, kv, k + 1);
	free(claims);
	free(kv);
}

/* Persist the claims and pg->info on every member of the new interval. */
static void activate_send(struct osd *osd, struct pg *pg)
{
	pg->pstate = PGS_ACTIVATING;
	for (unsigned i = 1; i < pg->n_peers; i++) {
		if (!pg->peers[i].in_w)
			continue;
		pg->peers[i].act_pos = 0;
		activate_next(osd, pg, i);
	}
	activate_self(osd, pg);
}

static void activated(struct osd *osd, struct pg *pg)
{
	char name[32], set[BS_PLACE_MAX_SIZE * 12];
	size_t pos = 0;

	if (pg->activation != pg->peer_epoch) {
		pg->activation = pg->peer_epoch;
		pg->counter = 0;
	}
	pg->pstate = PGS_ACTIVE;
	pg->wait_osd = -1;
	pg->wait_epoch = 0;
	pg->rec_objects = pg->rec_bytes = 0;
	set[0] = '\0';
	for (unsigned i = 0; i < pg->n_acting && pos < sizeof(set); i++)
		pos += (size_t)snprintf(set + pos, sizeof(set) - pos,
					"%sosd.%d", i ? "," : "",
					pg->acting[i]);
	bs_info("pg %s: active at epoch %" PRIu64 " (acting %s, %u up): %" PRIu64 " objects, %zu to recover, %" PRIu64 " unfound",
		pgn(pg, name, sizeof(name)), pg->activation, set, pg->n_up,
		pg->objects, pg->n_miss, pg->n_unfound);
	pg_resume_waiting(pg);
	peering_check_clean(osd, pg);
	if (!osd_list_empty(&pg->miss_queue) && osd_list_empty(&pg->rlink))
		osd_list_add_tail(&osd->rec_pgs, &pg->rlink);
	recovery_kick(osd);
}

/* ---- roll-back of torn erasure-coded writes ---- */

static void rollback_cb(void *opaque, int res, struct bs_msg *reply);

static void rollback_call(struct osd *osd, struct pg *pg, unsigned idx,
			  size_t pos, size_t cnt)
{
	struct pg_peer *p = &pg->peers[idx];
	Bs__PgRollback m = BS__PG_ROLLBACK__INIT;
	Bs__PgEntry *ent = bs_xmalloc(cnt * sizeof(*ent));
	Bs__PgEntry **entp = bs_xmalloc(cnt * sizeof(*entp));
	struct bs_conn *conn = osd_peer_conn(osd, p->osd);
	struct pcall *c;
	char name[32];

	for (size_t k = 0; k < cnt; k++) {
		bs__pg_entry__init(&ent[k]);
		ent[k].volume = p->rb[pos + k].volume;
		ent[k].objnum = p->rb[pos + k].objnum;
		ent[k].has_undo = true;
		ent[k].undo_prev = p->rb[pos + k].undo_prev;
		entp[k] = &ent[k];
	}
	m.map_epoch = osd->map->epoch;
	m.pool = pg->pool;
	m.pg = pg->id;
	m.from_osd = (uint32_t)osd->id;
	m.n_objects = cnt;
	m.objects = entp;
	c = bs_xmalloc(sizeof(*c));
	c->osd = osd;
	c->pg = pg;
	c->gen = pg->gen;
	c->idx = idx;
	bs_info("pg %s: osd.%d rolls back %zu torn shards",
		pgn(pg, name, sizeof(name)), p->osd, cnt);
	if (!conn || bs_conn_call(conn, BS_MSG_PG_ROLLBACK, &m.base, NULL, 0,
				  OSD_PEER_TIMEOUT_MS, rollback_cb, c)) {
		free(c);
		retry_later(pg);
	} else {
		pg->pending++;
	}
	free(entp);
	free(ent);
}

struct prollback {
	struct ec_rollback rb;
	struct osd *osd;
	struct pg *pg;
	unsigned gen;
};

static void rollback_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct pcall *c = opaque;
	struct osd *osd = c->osd;
	struct pg *pg = c->pg;
	unsigned idx;
	char name[32];

	if (!pcall_end(c, reply, &idx))
		return;
	if (res) {
		bs_warn_rl(&osd->rl, "pg %s: osd.%d did not roll back its torn shards: %s",
			   pgn(pg, name, sizeof(name)), pg->peers[idx].osd,
			   strerror(-res));
		retry_later(pg);
	}
	maybe_decide(osd, pg);
}

static void rollback_local_cb(struct ec_rollback *rb, int res)
{
	struct prollback *l = container_of(rb, struct prollback, rb);
	struct osd *osd = l->osd;
	struct pg *pg = l->pg;
	unsigned gen = l->gen;
	char name[32];

	free((void *)rb->ent);
	free(l);
	osd_bg_done(osd);
	if (osd->stopping || gen != pg->gen)
		return;
	pg->pending--;
	if (res) {
		bs_err("pg %s: cannot roll back its torn shards: %s",
		       pgn(pg, name, sizeof(name)), strerror(-res));
		retry_later(pg);
	}
	maybe_decide(osd, pg);
}

/*
 * The members holding a torn write roll it back before the PG serves (the
 * activation waits for these too: pg->pending).
 */
static void rollback_send(struct osd *osd, struct pg *pg)
{
	for (unsigned i = 0; i < pg->n_peers; i++) {
		struct pg_peer *p = &pg->peers[i];

		for (size_t pos = 0; pos < p->n_rb; pos += OSD_QUERY_PAGE) {
			size_t cnt = BS_MIN(p->n_rb - pos,
					    (size_t)OSD_QUERY_PAGE);

			if (p->osd == osd->id) {
				struct prollback *l =
					bs_xcalloc(1, sizeof(*l));
				struct ec_rollback_ent *e =
					bs_xmalloc(cnt * sizeof(*e));

				for (size_t k = 0; k < cnt; k++) {
					e[k].volume = p->rb[pos + k].volume;
					e[k].objnum = p->rb[pos + k].objnum;
					e[k].prev = p->rb[pos + k].undo_prev;
				}
				l->osd = osd;
				l->pg = pg;
				l->gen = pg->gen;
				l->rb.osd = osd;
				l->rb.pool = pg->pool;
				l->rb.pg = pg->id;
				l->rb.ent = e;
				l->rb.n = cnt;
				l->rb.fn = rollback_local_cb;
				osd->bg_ops++;
				pg->pending++;
				ec_rollback_start(&l->rb);
				continue;
			}
			rollback_call(osd, pg, i, pos, cnt);
		}
	}
}

/*
 * A past interval that may have taken writes has no member among those
 * that answered: activating now could lose its writes.  Ask again if
 * one of them is up, else wait (down) for a map that brings one back or
 * declares them lost.
 */
static bool must_wait(struct osd *osd, struct pg *pg, uint64_t from)
{
	struct pg_block b;
	char name[32];

	if (!pg_decide_blocked(pg->piv, pg->n_piv, from,
			       pg->erasure ? pg->ec.k : 1, pg->peers,
			       pg->n_peers, osd->map, &b))
		return false;
	if (b.retry) {
		bs_warn_rl(&osd->rl, "pg %s: osd.%d may hold writes from epoch %" PRIu64 " but did not answer: peering again",
			   pgn(pg, name, sizeof(name)), b.osd, b.epoch);
		retry_later(pg);
		return true;
	}
	if (pg->wait_osd != b.osd || pg->wait_epoch != b.epoch)
		bs_warn("pg %s: down: waiting for osd.%d, which may hold writes from epoch %" PRIu64 " ('basalt osd lost %d' gives up on them)",
			pgn(pg, name, sizeof(name)), b.osd, b.epoch, b.osd);
	pg->pstate = PGS_DOWN;
	pg->wait_osd = b.osd;
	pg->wait_epoch = b.epoch;
	return true;
}

static void decide(struct osd *osd, struct pg *pg)
{
	struct pg_info h = { 0 };
	uint64_t lc = 0, les_max = 0, scrub = 0, deep = 0;
	bool any_info = false, any_ent = false, any_slot = false;
	int32_t w[BS_PLACE_MAX_SIZE];
	unsigned nw = 0;
	char name[32];

	for (unsigned i = 0; i < pg->n_peers; i++) {
		const struct pg_peer *p = &pg->peers[i];

		if (p->in_w && (!p->done || p->failed)) {
			bs_warn_rl(&osd->rl, "pg %s: member osd.%d did not answer: peering again",
				   pgn(pg, name, sizeof(name)), p->osd);
			retry_later(pg);
			return;
		}
		if (!p->done || p->failed)
			continue;
		any_ent |= p->n_ent > 0;
		if (!p->has_info)
			continue;
		any_info = true;
		lc = BS_MAX(lc, p->info.last_clean);
		les_max = BS_MAX(les_max, p->info.les);
		scrub = BS_MAX(scrub, p->info.last_scrub_us);
		deep = BS_MAX(deep, p->info.last_deep_scrub_us);
	}
	if (must_wait(osd, pg, BS_MAX(lc, les_max)))
		return;
	/* the history since the last clean: whom the next peering asks */
	pg_decide_candidates(pg->peers, pg->n_peers);
	pg->backfill_mask = 0;
	for (unsigned i = 0; i < pg->n_peers; i++) {
		struct pg_peer *p = &pg->peers[i];

		if (p->in_w && any_info &&
		    (!p->has_info || p->info.les < lc))
			pg->backfill_mask |= 1ull << i;
		if (p->in_w && nw < BS_PLACE_MAX_SIZE)
			w[nw++] = p->osd;
		if (!p->done || p->failed || !p->has_info)
			continue;
		for (unsigned k = 0; k < p->info.n_past; k++)
			if (p->info.past[k].activation >= lc)
				hist_merge(&h, &p->info.past[k]);
	}
	pg->les_max = les_max;
	/* no member names a slot: a PG from before slots were kept */
	pg->ec_stale = 0;
	for (unsigned i = 0; pg->erasure && i < pg->n_peers; i++)
		any_slot |= pg->peers[i].ec_slot != 0;
	for (unsigned i = 0; any_slot && any_info && i < pg->n_peers &&
			     i < 64; i++) {
		const struct pg_peer *p = &pg->peers[i];

		if (p->in_w &&
		    p->ec_slot != (unsigned)(ec_slot_of(pg, p->osd) + 1))
			pg->ec_stale |= 1ull << i;
	}
	if (pg->ec_stale)
		bs_info("pg %s: members 0x%" PRIx64 " (peer bits) hold shards of other slots: rebuilding them",
			pgn(pg, name, sizeof(name)), pg->ec_stale);
	pg->objects = pg->bytes = 0;
	if (pg->erasure) {
		struct pg_ec_rule rule = {
			.k = pg->ec.k,
			.slots = pg->ec.k + pg->ec.m,
			.min_size = BS_MAX(pg->min_size, pg->ec.k),
		};

		for (unsigned i = 0; i < pg->n_peers; i++) {
			pg->peers[i].slot = pg->peers[i].in_w ?
				ec_slot_of(pg, pg->peers[i].osd) : -1;
			pg->peers[i].n_rb = 0;
		}
		pg_decide_objects_ec(pg->peers, pg->n_peers, pg->peer_epoch,
				     &rule, decided, pg);
	} else {
		pg_decide_objects(pg->peers, pg->n_peers, pg->peer_epoch,
				  decided, pg);
	}

	h.les = pg->peer_epoch;
	h.last_clean = lc;
	if (!any_info && !any_ent)
		scrub = deep = osd_wall_us();	/* a new PG */
	h.last_scrub_us = scrub ? scrub : osd_wall_us();
	h.last_deep_scrub_us = deep ? deep : osd_wall_us();
	pg_info_add_interval(&h, pg->peer_epoch, w, nw);
	pg_info_release(&pg->info);
	pg->info = h;
	activate_send(osd, pg);
	if (pg->erasure)
		rollback_send(osd, pg);
	maybe_decide(osd, pg);
}

static void maybe_decide(struct osd *osd, struct pg *pg)
{
	const struct bs_osdmap *map = osd->map;
	bool any_info = false;

	if (pg->pending || pg->self_probe_wait || !pg->n_peers)
		return;
	if (pg->pstate == PGS_ACTIVATING) {
		activated(osd, pg);
		return;
	}
	if (pg->pstate != PGS_PEERING || pg->retry_ms)
		return;
	for (unsigned i = 0; i < pg->n_peers; i++)
		any_info |= pg->peers[i].done && pg->peers[i].has_info;
	if (!any_info && !pg->wide_probed &&
	    map->n_osds <= OSD_WIDE_PROBE_MAX) {
		/* nobody knows the PG: ask every up OSD (a new PG) */
		pg->wide_probed = true;
		for (unsigned i = 0; i < map->n_osds; i++) {
			const struct bs_osdmap_osd *o = &map->osds[i];
			struct pg_peer *p;

			if (!o->up || pg_peer_index(pg, o->id) >= 0)
				continue;
			p = peer_add(pg, o->id, false);
			if (p)
				query_send(osd, pg, (unsigned)(p - pg->peers));
		}
		if (pg->pending)
			return;
	}
	decide(osd, pg);
}

/* ---- clean ---- */

struct pnotify {
	struct osd *osd;
	int32_t target;
};

static void notify_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct pnotify *n = opaque;

	if (res && !n->osd->stopping)
		bs_dbg(BS_SUB_PEERING, "osd.%d: pg notify: %s", n->target,
		       strerror(-res));
	bs_msg_free(reply);
	free(n);
}

static void notify_send(struct osd *osd, struct pg *pg, int32_t target,
			Bs__PgNotifyKind kind)
{
	Bs__PgNotify m = BS__PG_NOTIFY__INIT;
	struct bs_conn *conn = osd_peer_conn(osd, target);
	struct pnotify *n;

	if (!conn)
		return;
	m.map_epoch = osd->map->epoch;
	m.pool = pg->pool;
	m.pg = pg->id;
	m.from_osd = (uint32_t)osd->id;
	m.kind = kind;
	m.last_clean = pg->activation;
	n = bs_xmalloc(sizeof(*n));
	n->osd = osd;
	n->target = target;
	if (bs_conn_call(conn, BS_MSG_PG_NOTIFY, &m.base, NULL, 0,
			 OSD_PEER_TIMEOUT_MS, notify_cb, n))
		free(n);
}

void peering_check_clean(struct osd *osd, struct pg *pg)
{
	int32_t w[BS_PLACE_MAX_SIZE];
	unsigned nw = 0;
	char name[32];

	if (pg->pstate != PGS_ACTIVE || pg->clean || pg->n_miss ||
	    pg->n_up < pg->size || pg->n_acting < pg->size)
		return;
	pg->clean = true;
	bs_info("pg %s: active+clean at epoch %" PRIu64 " (%" PRIu64
		" objects)", pgn(pg, name, sizeof(name)), osd->map->epoch,
		pg->objects);
	for (unsigned i = 0; i < pg->n_peers; i++)
		if (pg->peers[i].in_w && nw < BS_PLACE_MAX_SIZE)
			w[nw++] = pg->peers[i].osd;
	/* history before this interval is no longer needed */
	pg->info.last_clean = pg->activation;
	free(pg->info.past);
	pg->info.past = NULL;
	pg->info.n_past = 0;
	pg_info_add_interval(&pg->info, pg->activation, w, nw);
	pg->clean_sent = true;
	for (unsigned i = 0; i < pg->n_peers; i++) {
		const struct pg_peer *p = &pg->peers[i];

		if (p->osd == osd->id)
			continue;
		if (p->in_w)
			notify_send(osd, pg, p->osd,
				    BS__PG_NOTIFY_KIND__PG_NOTIFY_CLEAN);
		else if (p->done && !p->failed && (p->n_ent || p->has_info))
			notify_send(osd, pg, p->osd,
				    BS__PG_NOTIFY_KIND__PG_NOTIFY_REMOVE);
	}
	peer_clean_local(osd, pg->pool, pg->id, pg->activation);
}

/* An OSD holding data of a PG it no longer belongs to asks us. */
void peering_handle_stray(struct osd_op *op)
{
	struct osd *osd = op->osd;
	const Bs__PgStray *req = (const Bs__PgStray *)op->msg->body;
	Bs__PgStrayReply r = BS__PG_STRAY_REPLY__INIT;
	struct pg *pg = pg_find(osd, req->pool, req->pg);

	r.map_epoch = osd->map->epoch;
	r.remove = pg && pg_is_active(pg) && pg->clean &&
		   !pg_has_member(pg, (int32_t)req->from_osd);
	bs_conn_reply(op->conn, op->msg, BS_MSG_PG_STRAY_REPLY, &r.base, NULL,
		      0, NULL, NULL);
	op_done(op);
}
