// SPDX-License-Identifier: Apache-2.0
/*
 * Peering's decision, pure logic (no loop, no store, no messages): from
 * the listings the primary gathered, which OSDs' copies decide, and for
 * every object its authoritative state, the members that need it and the
 * OSDs that hold it.  peering.c feeds it; tests/unit/test_osd_decide.c
 * pins the rules.
 *
 * LES is the newest les any asked OSD reports: the OSDs whose les is LES
 * took part in the newest interval that served I/O.  Each of them holds
 * every object written then, and a claim (persisted at its activation,
 * dropped when recovery installs the object) for every object it still
 * lacked: its objects and claims together are the whole PG.  So the
 * highest version among those OSDs' objects and claims is authoritative
 * (an unacknowledged write found on one of them is rolled forward: it may
 * as well have happened).  The copies of other OSDs do not decide: a
 * write they hold from an interval that later ones went on without was
 * never acknowledged, and a copy of an object deleted since is stale;
 * they only serve as sources.  Copies recovery installed half-way (epoch
 * 0) count as absent.  When no OSD keeps info for the PG (a new PG, or
 * data from before peering), every copy decides.
 */
#include <stdlib.h>
#include <string.h>

#include "osd.h"

void pg_decide_candidates(struct pg_peer *peers, unsigned n)
{
	uint64_t les_max = 0;
	bool any_info = false;

	for (unsigned i = 0; i < n; i++) {
		if (!peers[i].done || peers[i].failed || !peers[i].has_info)
			continue;
		any_info = true;
		les_max = BS_MAX(les_max, peers[i].info.les);
	}
	for (unsigned i = 0; i < n; i++)
		peers[i].cand = !any_info || (peers[i].has_info &&
					      peers[i].info.les == les_max);
}

/* One object across the peers, while merging their sorted listings. */
struct obj_view {
	uint64_t live[OSD_PEER_MAX];	/* 0: none */
	uint64_t size[OSD_PEER_MAX];
	uint64_t claim[OSD_PEER_MAX];	/* 0: none */
	bool claim_del[OSD_PEER_MAX];
};

static int oid_cmp(uint64_t av, uint64_t ao, uint64_t bv, uint64_t bo)
{
	if (av != bv)
		return av < bv ? -1 : 1;
	if (ao != bo)
		return ao < bo ? -1 : 1;
	return 0;
}

static bool usable(const struct pg_peer *p)
{
	return p->done && !p->failed;
}

static void decide_one(const struct pg_peer *peers, unsigned n,
		       uint64_t activation, struct pg_decision *d,
		       const struct obj_view *v)
{
	uint64_t auth = 0, size = 0;
	bool deleted = false;

	for (unsigned i = 0; i < n; i++) {
		if (!usable(&peers[i]) || !peers[i].cand)
			continue;
		if (v->live[i] >> 32 && v->live[i] > auth) {
			auth = v->live[i];
			size = v->size[i];
			deleted = false;
		}
		if (v->claim[i] > auth) {
			auth = v->claim[i];
			size = 0;
			deleted = v->claim_del[i];
		}
	}
	d->need = d->have = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!usable(&peers[i]))
			continue;
		if (auth && !deleted && v->live[i] == auth) {
			d->have |= 1ull << i;
			size = BS_MAX(size, v->size[i]);
		}
		if (!peers[i].in_w)
			continue;
		if (auth && !deleted ? v->live[i] != auth : v->live[i] != 0)
			d->need |= 1ull << i;
	}
	if (!auth || deleted) {
		/* nothing may stay: a removal newer than any stale copy */
		d->deleted = true;
		d->version = auth ? auth : activation << 32;
		d->size = 0;
	} else {
		d->deleted = false;
		d->version = auth;
		d->size = size;
	}
}

void pg_decide_objects(const struct pg_peer *peers, unsigned n,
		       uint64_t activation, pg_decide_fn *fn, void *opaque)
{
	size_t pos[OSD_PEER_MAX] = { 0 };
	struct obj_view *v = bs_xmalloc(sizeof(*v));

	n = BS_MIN(n, (unsigned)OSD_PEER_MAX);
	for (;;) {
		struct pg_decision d = { 0 };
		bool any = false;

		for (unsigned i = 0; i < n; i++) {
			const struct pg_peer *p = &peers[i];

			if (!usable(p) || pos[i] >= p->n_ent)
				continue;
			if (!any || oid_cmp(p->ent[pos[i]].volume,
					    p->ent[pos[i]].objnum, d.volume,
					    d.objnum) < 0) {
				d.volume = p->ent[pos[i]].volume;
				d.objnum = p->ent[pos[i]].objnum;
				any = true;
			}
		}
		if (!any)
			break;
		memset(v, 0, sizeof(*v));
		for (unsigned i = 0; i < n; i++) {
			const struct pg_peer *p = &peers[i];

			while (usable(p) && pos[i] < p->n_ent &&
			       !oid_cmp(p->ent[pos[i]].volume,
					p->ent[pos[i]].objnum, d.volume,
					d.objnum)) {
				const struct pg_entry *e = &p->ent[pos[i]++];

				if (e->claim) {
					if (e->version >= v->claim[i]) {
						v->claim[i] = e->version;
						v->claim_del[i] = e->deleted;
					}
				} else if (e->version >= v->live[i]) {
					v->live[i] = e->version;
					v->size[i] = e->size;
				}
			}
		}
		decide_one(peers, n, activation, &d, v);
		fn(opaque, &d);
	}
	free(v);
}

/* Has osd.@id answered this peering? */
static bool answered(const struct pg_peer *peers, unsigned n, int32_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (peers[i].osd == id)
			return peers[i].done && !peers[i].failed;
	return false;
}

/* Gone for good: declared lost since its last boot, or removed. */
static bool is_lost(const struct bs_osdmap *map, int32_t id)
{
	const struct bs_osdmap_osd *o = bs_osdmap_osd(map, id);

	return !o || (!o->up && o->lost_at && o->lost_at >= o->up_from);
}

bool pg_decide_blocked(const struct bs_past_interval *iv, size_t n,
		       uint64_t from, const struct pg_peer *peers,
		       unsigned n_peers, const struct bs_osdmap *map,
		       struct pg_block *out)
{
	memset(out, 0, sizeof(*out));
	out->osd = -1;
	for (size_t i = n; i-- > 0;) {
		const struct bs_past_interval *v = &iv[i];
		int32_t wait = -1;
		bool covered = false, up = false;

		if (!v->maybe_rw || v->last < from)
			continue;
		for (unsigned k = 0; k < v->n && !covered; k++) {
			int32_t id = v->acting[k];
			const struct bs_osdmap_osd *o;

			if (!(v->up_mask & (1u << k)))
				continue;
			covered = answered(peers, n_peers, id);
			if (is_lost(map, id))
				continue;
			o = bs_osdmap_osd(map, id);
			up |= o->up;
			if (wait < 0)
				wait = id;
		}
		if (covered || wait < 0)
			continue;	/* answered, or every member lost */
		out->osd = wait;
		out->epoch = v->first;
		out->retry = up;
		return true;
	}
	return false;
}
