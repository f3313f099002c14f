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
 * Peering and recovery (next issue) belong in pg_refresh(): on a change of
 * interval the primary will gather the members' object versions before it
 * serves I/O.
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

/* Recompute @pg's role from the current map; see the top of the file. */
static void pg_refresh(struct osd *osd, struct pg *pg)
{
	const struct bs_osdmap *map = osd->map;
	const struct bs_osdmap_pool *pool = bs_osdmap_pool(map, pg->pool);
	const struct bs_osdmap_osd *po;
	int32_t acting[BS_PLACE_MAX_SIZE], up[BS_PLACE_MAX_SIZE];
	bool fresh = !pg->epoch, was_primary = pg->is_primary;
	bool changed, gap;
	uint64_t p_up_from = 0;
	char name[32], set[BS_PLACE_MAX_SIZE * 12];
	int n, primary;

	if (!pool || pg->id >= pool->place.pg_num) {
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
	memcpy(pg->acting, acting, (size_t)n * sizeof(*acting));
	pg->n_acting = (unsigned)n;
	pg->n_up = (unsigned)bs_place_filter_up(&map->place, acting,
						(unsigned)n, up);
	pg->size = pool->place.size;
	pg->min_size = pool->min_size;
	pg->primary = primary;
	pg->primary_up_from = p_up_from;
	pg->is_primary = primary == osd->id;

	if (pg->is_primary) {
		if (!was_primary || changed || gap) {
			pg->activation = map->epoch;
			pg->counter = 0;
			pg->warned_min_size = false;
			acting_text(pg, set, sizeof(set));
			bs_info("pg %s: primary from epoch %" PRIu64
				" (acting %s, %u up)",
				pg_name(pg->pool, pg->id, name, sizeof(name)),
				map->epoch, set, pg->n_up);
		} else if (pg->set_changed) {
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
	b = pg_hash(pool->id, pgid) & (osd->pg_nb - 1);
	pg->hnext = osd->pg_tab[b];
	osd->pg_tab[b] = pg;
	osd->n_pgs++;
	pg_refresh(osd, pg);
	return pg;
}

bool pg_has_member(const struct pg *pg, int32_t osd)
{
	for (unsigned i = 0; i < pg->n_acting; i++)
		if (pg->acting[i] == osd)
			return true;
	return false;
}

/* Is a mutation of @pg able to start: enough members up? */
bool pg_can_write(const struct pg *pg)
{
	return pg->n_up >= pg->min_size && pg->min_size;
}

static void pg_changed(struct osd *osd, struct pg *pg)
{
	struct osd_list *l, *next;

	/* in-flight mutations: members may be gone, or we may not lead */
	for (l = pg->ops.next; l != &pg->ops; l = next) {
		next = l->next;
		primary_check(container_of(l, struct osd_op, link));
	}
	if (osd_list_empty(&pg->waiting))
		return;
	if (pg->is_primary && !pg->gone && !pg_can_write(pg))
		return;
	while (!osd_list_empty(&pg->waiting))
		osd_resume_later(container_of(pg->waiting.next, struct osd_op,
					      link));
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

		if (pool->erasure)
			continue;
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
			pg_refresh(osd, pg);
			pg_changed(osd, pg);
		}
	}
	if (osd->active)
		pg_scan(osd);
}

/* Queue a mutation until the PG has min_size members up. */
void pg_wait_members(struct pg *pg, struct osd_op *op)
{
	char name[32];

	if (!pg->warned_min_size) {
		pg->warned_min_size = true;
		bs_warn("pg %s: %u of %u members up, min_size %u: writes wait",
			pg_name(pg->pool, pg->id, name, sizeof(name)),
			pg->n_up, pg->size, pg->min_size);
	}
	op->state = OP_WAIT_PG;
	osd_list_add_tail(&pg->waiting, &op->link);
}

void pg_fail_waiting(struct osd *osd, int neg_errno, const char *why)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		struct pg *pg;

		for (pg = osd->pg_tab[i]; pg; pg = pg->hnext) {
			while (!osd_list_empty(&pg->waiting)) {
				struct osd_op *op = container_of(
					pg->waiting.next, struct osd_op, link);

				osd_list_del(&op->link);
				op_reply_error(op, neg_errno, "%s %s",
					       osd->name, why);
			}
		}
	}
}

void pg_free_all(struct osd *osd)
{
	for (size_t i = 0; i < osd->pg_nb; i++) {
		struct pg *pg, *next;

		for (pg = osd->pg_tab[i]; pg; pg = next) {
			next = pg->hnext;
			free(pg);
		}
	}
	bs_free(&osd->pg_tab);
	osd->pg_nb = osd->n_pgs = 0;
}
