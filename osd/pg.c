// SPDX-License-Identifier: Apache-2.0
/*
 * Placement groups as this OSD sees them: acting set, primary and role at
 * the current map epoch, the activation epoch that stamps versions (as
 * primary) or fences stale primaries (as replica), and the mutations
 * waiting for enough members.  A PG is created on first use and refreshed
 * on every map.
 *
 * Activation.  A primary activates a PG at the first map epoch in which it
 * sees itself primary (again, or after a gap in the epochs it saw): every
 * earlier primary activated at an earlier epoch, so versions
 * (activation << 32 | counter) only grow across changes of primary.  A
 * restarted OSD boots, which makes a new epoch, and is active only from
 * that epoch on: its versions sort after all it wrote before.  A replica
 * keeps a lower bound of the current primary's activation (the epoch after
 * the last one where it saw another primary, and that primary's up_from),
 * raised by every version epoch it accepts.
 *
 * On a change of interval (primary, acting set, or a member's up state or
 * boot) the primary peers again (peering.c) before it serves I/O; ops
 * wait in pg->waiting until then.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osd.h"

const char *pg_name(uint32_t pool, uint32_t pg, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu32 ".%" PRIx32, pool, pg);
	return buf;
}

static size_t pg_hash(uint32_t pool, uint32_t id)
{
	uint64_t h = ((uint64_t)pool << 32 | id) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20);
}

static void acting_text(const struct pg *pg, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < pg->n_acting && pos < len; i++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%sosd.%d",
					i ? "," : "", pg->acting[i]);
}

/*
 * Recompute @pg's role from the current map; see the top of the file.
 * Sets pg->interval_changed when the primary must peer again: the first
 * time, or when the primary, the acting set, or any member's up state or
 * boot (up_from) changed.
 */
static void pg_refresh(struct osd *osd, struct pg *pg)
{
	const struct bs_osdmap *map = osd->map;
	const struct bs_osdmap_pool *pool = bs_osdmap_pool(map, pg->pool);
	const struct bs_osdmap_osd *po;
	int32_t acting[BS_PLACE_MAX_SIZE], up[BS_PLACE_MAX_SIZE];
	bool fresh = !pg->epoch, was_primary = pg->is_primary;
	bool changed, gap, ichanged;
	uint64_t p_up_from = 0;
	char name[32], set[BS_PLACE_MAX_SIZE * 12];
	int n, primary;

	if (!pool || pg->id >= pool->place.pg_num) {
		pg->interval_changed = !pg->gone;
		pg->gone = true;
		pg->is_primary = false;
		pg->primary = -1;
		pg->n_acting = pg->n_up = 0;
		pg->epoch = map->epoch;
		return;
	}
	pg->gone = false;
	n = bs_osdmap_pg_acting(map, pool, pg->id, acting);
	if (n < 0)
		n = 0;
	primary = bs_place_primary(&map->place, acting, (unsigned)n);
	if (primary < 0)
		primary = -1;
	po = primary >= 0 ? bs_osdmap_osd(map, primary) : NULL;
	if (po)
		p_up_from = po->up_from;
	changed = fresh || primary != pg->primary ||
		  p_up_from != pg->primary_up_from;
	gap = !fresh && map->epoch > pg->epoch + 1;

	pg->set_changed = fresh || n != (int)pg->n_acting ||
			  memcmp(acting, pg->acting, (size_t)n * sizeof(*acting));
	ichanged = changed || pg->set_changed;
	for (int i = 0; i < n; i++) {
		const struct bs_osdmap_osd *o = bs_osdmap_osd(map, acting[i]);
		bool u = o && o->up;
		uint64_t uf = o ? o->up_from : 0;

		if (u != pg->up[i] || uf != pg->up_from[i])
			ichanged = true;
		pg->up[i] = u;
		pg->up_from[i] = uf;
	}
	pg->interval_changed = ichanged;
	memcpy(pg->acting, acting, (size_t)n * sizeof(*acting));
	pg->n_acting = (unsigned)n;
	pg->n_up = (unsigned)bs_place_filter_up(&map->place, acting,
						(unsigned)n, up);
	pg->size = pool->place.size;
	pg->min_size = pool->min_size;
	pg->erasure = pool->erasure;
	if (pool->erasure && (pg->ec.k != pool->ec_k ||
			      pg->ec.m != pool->ec_m ||
			      pg->ec.stripe_unit != pool->ec_stripe_unit) &&
	    bs_ec_init(&pg->ec, pool->ec_k, pool->ec_m, pool->ec_stripe_unit,
		       NULL))
		pg->min_size = 0;	/* the map checked it: cannot happen */
	pg->primary = primary;
	pg->primary_up_from = p_up_from;
	pg->is_primary = primary == osd->id && osd->active;

	if (pg->is_primary) {
		if (!was_primary || changed || gap) {
			pg->warned_min_size = false;
			acting_text(pg, set, sizeof(set));
			bs_info("pg %s: primary from epoch %" PRIu64
				" (acting %s, %u up)",
				pg_name(pg->pool, pg->id, name, sizeof(name)),
				map->epoch, set, pg->n_up);
		} else if (ichanged) {
			acting_text(pg, set, sizeof(set));
			bs_info("pg %s: acting %s at epoch %" PRIu64
				" (%u up)",
				pg_name(pg->pool, pg->id, name, sizeof(name)),
				set, map->epoch, pg->n_up);
		}
	} else if (fresh) {
		pg->activation = p_up_from;
	} else if (changed || was_primary) {
		pg->activation = BS_MAX(pg->activation,
					BS_MAX(pg->epoch + 1, p_up_from));
	}
	pg->epoch = map->epoch;
}

static void pg_changed(struct osd *osd, struct pg *pg, bool was_primary);

struct pg *pg_get(struct osd *osd, const struct bs_osdmap_pool *pool,
		  uint32_t pgid)
{
	struct pg *pg;
	size_t b;

	if (osd->pg_nb) {
		b = pg_hash(pool->id, pgid) & (osd->pg_nb - 1);
		for (pg = osd->pg_tab[b]; pg; pg = pg->hnext)
			if (pg->pool == pool->id && pg->id == pgid)
				return pg;
	}
	if (osd->n_pgs >= osd->pg_nb) {
		size_t nb = osd->pg_nb ? osd->pg_nb * 2 : 256;
		struct pg **tab = bs_xcalloc(nb, sizeof(*tab));

		for (size_t i = 0; i < osd->pg_nb; i++) {
			struct pg *next;

			for (pg = osd->pg_tab[i]; pg; pg = next) {
				next = pg->hnext;
				b = pg_hash(pg->pool, pg->id) & (nb - 1);
				pg->hnext = tab[b];
				tab[b] = pg;
			}
		}
		free(osd->pg_tab);
		osd->pg_tab = tab;
		osd->pg_nb = nb;
	}
	pg = bs_xcalloc(1, sizeof(*pg));
	pg->pool = pool->id;
	pg->id = pgid;
	pg->primary = -1;
	osd_list_init(&pg->ops);
	osd_list_init(&pg->waiting);
	osd_list_init(&pg->drain_waiters);
	osd_list_init(&pg->miss_queue);
	osd_list_init(&pg->rlink);
	b = pg_hash(pool->id, pgid) & (osd->pg_nb - 1);
	pg->hnext = osd->pg_tab[b];
	osd->pg_tab[b] = pg;
	osd->n_pgs++;
	pg_refresh(osd, pg);
	pg_changed(osd, pg, false);
	return pg;
}

/* The PG if this OSD has it in its table, else NULL. */
struct pg *pg_lookup(struct osd *osd, uint32_t pool, uint32_t pgid)
{
	struct pg *pg;

	if (!osd->pg_nb)
		return NULL;
	pg = osd->pg_tab[pg_hash(pool, pgid) & (osd->pg_nb - 1)];
	for (; pg; pg = pg->hnext)
		if (pg->pool == pool && pg->id == pgid)
			return pg;
	return NULL;
}

/*
 * The PG (made if needed) when its pool exists at our map,
 * else NULL.
 */
struct pg *pg_find(struct osd *osd, uint32_t pool, uint32_t pgid)
{
	const struct bs_osdmap_pool *p;

	if (!osd->map)
		return NULL;
	p = bs_osdmap_pool(osd->map, pool);
	if (!p || pgid >= p->place.pg_num)
		return NULL;
	return pg_get(osd, p, pgid);
}

bool pg_has_member(const struct pg *pg, int32_t osd)
{
	for (unsigned i = 0; i < pg->n_acting; i++)
		if (pg->acting[i] == osd)
			return true;
	return false;
}

/* Are enough members up for the PG to serve at all? */
bool pg_can_write(const struct pg *pg)
{
	return pg->n_up >= pg->min_size && pg->min_size;
}

/*
 * Enough members up to peer and serve reads: min_size, or for an
 * erasure-coded PG any k shards (writes still need min_size).
 */
bool pg_can_serve(const struct pg *pg)
{
	if (pg->erasure && pg->min_size)
		return pg->n_up >= pg->ec.k;
	return pg_can_write(pg);
}

/* Does the primary serve I/O for @pg now (peered and activated)? */
bool pg_is_active(const struct pg *pg)
{
	return pg->is_primary && !pg->gone && pg->pstate == PGS_ACTIVE;
}

/* Resume every op waiting for the PG (they check its state again). */
void pg_resume_waiting(struct pg *pg)
{
	while (!osd_list_empty(&pg->waiting))
		osd_resume_later(container_of(pg->waiting.next, struct osd_op,
					      link));
}

/* A store mutation of @pg was submitted / completed on this OSD. */
void pg_inflight_inc(struct pg *pg)
{
	pg->n_inflight++;
}

void pg_inflight_dec(struct osd *osd, struct pg *pg)
{
	if (!pg->n_inflight) {
		bs_err("pg %u.%x: in-flight count underflow", pg->pool,
		       pg->id);
		return;
	}
	if (--pg->n_inflight)
		return;
	peer_drained(osd, pg);
	if (pg->self_probe_wait)
		peering_drained(osd, pg);
}

/*
 * After a refresh: a new interval makes the primary peer again (its ops
 * in flight end with EAGAIN once their local write is done); a PG it no
 * longer leads drops its peering state and sends its waiting ops away
 * (they get ESTALE).
 */
static void pg_changed(struct osd *osd, struct pg *pg, bool was_primary)
{
	bool peer = pg->is_primary && !pg->gone &&
		    (pg->interval_changed || pg->pstate == PGS_NONE ||
		     pg->pstate == PGS_DOWN);

	if (!pg->is_primary || pg->gone) {
		if (was_primary || pg->pstate != PGS_NONE)
			peering_stop(osd, pg);
		pg_resume_waiting(pg);
		return;
	}
	if (peer)
		peering_start(osd, pg);
}

/*
 * Every PG of the map that holds this OSD: lead the ones it is primary of
 * from this epoch on (so that beacons report them), and ping the others'
 * members.  FIXME(#3): a reverse map would avoid placing every PG.
 */
static void pg_scan(struct osd *osd)
{
	const struct bs_osdmap *map = osd->map;
	int32_t acting[BS_PLACE_MAX_SIZE];

	heartbeat_want_begin(osd);
	for (unsigned p = 0; p < map->n_pools; p++) {
		const struct bs_osdmap_pool *pool = &map->pools[p];

		for (uint32_t id = 0; id < pool->place.pg_num; id++) {
			int n = bs_osdmap_pg_acting(map, pool, id, acting);
			bool member = false;

			for (int i = 0; i < n; i++)
				member |= acting[i] == osd->id;
			if (!member)
				continue;
			for (int i = 0; i < n; i++)
				heartbeat_want(osd, acting[i]);
			if (bs_place_primary(&map->place, acting,
					     (unsigned)n) == osd->id)
				pg_get(osd, pool, id);
		}
	}
}

void pg_map_changed(struct osd *osd)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		struct pg *pg;

		for (pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			bool was = pg->is_primary;

			pg_refresh(osd, pg);
			pg_changed(osd, pg, was);
		}
	}
	if (osd->active)
		pg_scan(osd);
}

/* Queue an op until the PG is active (peered, min_size members up). */
void pg_wait_members(struct pg *pg, struct osd_op *op)
{
	char name[32];

	if (!pg_can_write(pg) && !pg->warned_min_size) {
		pg->warned_min_size = true;
		bs_warn("pg %s: %u of %u members up, min_size %u: I/O waits",
			pg_name(pg->pool, pg->id, name, sizeof(name)),
			pg->n_up, pg->size, pg->min_size);
	}
	op->state = OP_WAIT_PG;
	osd_list_add_tail(&pg->waiting, &op->link);
}

static void fail_list(struct osd *osd, struct osd_list *list,
		      int neg_errno, const char *why)
{
	while (!osd_list_empty(list)) {
		struct osd_op *op = container_of(list->next, struct osd_op,
						 link);

		osd_list_del(&op->link);
		op_reply_error(op, neg_errno, "%s %s", osd->name, why);
	}
}

/* Shutdown: every op waiting on a PG (not on the store) fails now. */
void pg_fail_waiting(struct osd *osd, int neg_errno, const char *why)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		struct pg *pg;

		for (pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			scrub_abort(osd, pg);
			fail_list(osd, &pg->waiting, neg_errno, why);
			fail_list(osd, &pg->drain_waiters, neg_errno, why);
			for (size_t b = 0; b < pg->miss_nb; b++)
				for (struct pg_miss *m = pg->miss_tab[b]; m;
				     m = m->hnext)
					fail_list(osd, &m->waiters, neg_errno,
						  why);
		}
	}
}

void pg_free_all(struct osd *osd)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		struct pg *pg, *next;

		for (pg = osd->pg_tab[i]; pg; pg = next) {
			next = pg->hnext;
			peering_stop(osd, pg);
			pg_info_release(&pg->info);
			free(pg->piv);
			free(pg);
		}
	}
	bs_free(&osd->pg_tab);
	osd->pg_nb = osd->n_pgs = 0;
}
