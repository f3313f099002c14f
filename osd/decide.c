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
 *
 * Erasure-coded PGs (pg_decide_objects_ec) count shards instead: a
 * version decodes when k slots hold it, or will once the members that
 * hold a newer, torn write roll back to it with their undo records.  A
 * version is only given up for an older one when it cannot have been
 * acknowledged (maybe_acked).  Among the versions that decode and may be
 * chosen, the one the most slots will hold wins (the newest of equals), so
 * that a torn write is rolled back rather than rebuilt when undo records
 * allow;
 * newer shards roll back (or, without an undo record, are rebuilt by
 * recovery), older ones are rebuilt.  No version that decodes: the object
 * is unfound until more members answer (or, when every slot answered and
 * some lack the object, it was a torn delete: it goes).
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
	bool undo[OSD_PEER_MAX];	/* live copy can roll back ... */
	uint64_t undo_prev[OSD_PEER_MAX];	/* ... to this (0: none) */
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

#define EC_SLOTS_MAX	BS_PLACE_MAX_SIZE

/* The EC view of one object: each answering slot's shard. */
struct ec_view {
	int peer[EC_SLOTS_MAX];		/* -1: the slot did not answer */
	uint64_t ver[EC_SLOTS_MAX];	/* its version (0: none) */
	bool none[EC_SLOTS_MAX];	/* it lacks the object, no claim */
	unsigned known;
};

static unsigned count_direct(const struct ec_view *x, unsigned slots,
			     uint64_t c)
{
	unsigned cnt = 0;

	for (unsigned s = 0; s < slots; s++)
		if (x->peer[s] >= 0 && (c ? x->ver[s] == c : x->none[s]))
			cnt++;
	return cnt;
}

/* Peer bits of the slots holding a newer shard with an undo to @c. */
static uint64_t rollers(const struct ec_view *x, unsigned slots,
			const struct obj_view *v, uint64_t c)
{
	uint64_t bits = 0;

	for (unsigned s = 0; s < slots; s++) {
		int i = x->peer[s];

		if (i >= 0 && x->ver[s] > c && v->undo[i] &&
		    v->undo_prev[i] == c)
			bits |= 1ull << i;
	}
	return bits;
}

/*
 * Whether version @c may have been acknowledged.  A write is acknowledged
 * only once durable on min_size shards and on every member up in its
 * interval (which ends, aborting the write, when one goes down).  So no:
 * when fewer than min_size slots can hold it, or when a slot that took
 * part in its interval (les >= its epoch) and did not lack the object
 * (no claim) holds an older shard.
 */
static bool maybe_acked(const struct pg_peer *peers, const struct ec_view *x,
			unsigned slots, const struct obj_view *v,
			const struct pg_ec_rule *ec, uint64_t c)
{
	unsigned unknown = slots - x->known;

	if (!c || count_direct(x, slots, c) + unknown < ec->min_size)
		return false;
	for (unsigned s = 0; s < slots; s++) {
		int i = x->peer[s];

		if (i >= 0 && x->ver[s] < c && !v->claim[i] &&
		    peers[i].has_info && peers[i].info.les >= c >> 32)
			return false;
	}
	return true;
}

static void decide_ec(const struct pg_peer *peers, unsigned n,
		      uint64_t activation, const struct pg_ec_rule *ec,
		      struct pg_decision *d, const struct obj_view *v)
{
	unsigned slots = BS_MIN(ec->slots, (unsigned)EC_SLOTS_MAX);
	uint64_t cand[EC_SLOTS_MAX + 1], auth = 0, size = 0, rb = 0;
	unsigned nc = 0, unknown;
	bool found = false, deleted = false;
	struct ec_view x;

	x.known = 0;
	for (unsigned s = 0; s < slots; s++)
		x.peer[s] = -1;
	for (unsigned i = 0; i < n; i++) {
		const struct pg_peer *p = &peers[i];
		uint64_t live;
		int s = p->slot;

		if (!usable(p) || !p->in_w || s < 0 || (unsigned)s >= slots ||
		    x.peer[s] >= 0)
			continue;
		/* a half-installed copy, or one that must not exist: none */
		live = v->live[i] >> 32 && !v->claim_del[i] ? v->live[i] : 0;
		/*
		 * A member that was away (or is new: backfill) and has no
		 * copy says nothing about the object: the slot is unknown.
		 */
		if (!live && !p->cand)
			continue;
		x.peer[s] = (int)i;
		x.ver[s] = live;
		x.none[s] = !live && (!v->claim[i] || v->claim_del[i]);
		x.known++;
		if (live) {
			unsigned k = 0;

			while (k < nc && cand[k] != live)
				k++;
			if (k == nc)
				cand[nc++] = live;
		}
	}
	if (!nc) {
		/* no shard anywhere: as for a replicated PG (claims) */
		decide_one(peers, n, activation, d, v);
		d->rollback = 0;
		return;
	}
	/* newest first, then "none" */
	for (unsigned a = 1; a < nc; a++)
		for (unsigned b = a; b && cand[b] > cand[b - 1]; b--) {
			uint64_t t = cand[b];

			cand[b] = cand[b - 1];
			cand[b - 1] = t;
		}
	cand[nc++] = 0;
	unknown = slots - x.known;
	for (unsigned c = 0, best = 0; c < nc; c++) {
		unsigned direct = count_direct(&x, slots, cand[c]);
		uint64_t r = rollers(&x, slots, v, cand[c]);
		unsigned eff = direct + (unsigned)__builtin_popcountll(r);

		/* of the versions that decode, the one fewest must rebuild */
		if (eff >= ec->k && eff > best) {
			auth = cand[c];
			rb = r;
			found = true;
			best = eff;
		}
		/* it may have been acknowledged: nothing older may win */
		if (maybe_acked(peers, &x, slots, v, ec, cand[c])) {
			if (!found)
				auth = cand[c];
			break;
		}
	}
	if (!found && !auth && !unknown) {
		/* every slot answered and no version decodes: a torn delete */
		found = true;
	}
	if (!found && !auth)
		auth = cand[0];
	deleted = found && !auth;
	d->need = d->have = 0;
	d->rollback = rb;
	for (unsigned i = 0; i < n; i++) {
		uint64_t live;

		if (!usable(&peers[i]))
			continue;
		live = v->live[i] >> 32 && !v->claim_del[i] ? v->live[i] : 0;
		if (found && !deleted && peers[i].in_w && peers[i].slot >= 0 &&
		    (live == auth || rb >> i & 1)) {
			d->have |= 1ull << i;
			size = BS_MAX(size, v->size[i]);
		}
		if (!found && live == auth)
			size = BS_MAX(size, v->size[i]);
		if (!peers[i].in_w || rb >> i & 1)
			continue;
		if (deleted ? v->live[i] != 0 : live != auth)
			d->need |= 1ull << i;
	}
	d->deleted = deleted;
	d->version = deleted ? activation << 32 : auth;
	d->size = deleted ? 0 : size;
}

static void decide_objects(const struct pg_peer *peers, unsigned n,
			   uint64_t activation, const struct pg_ec_rule *ec,
			   pg_decide_fn *fn, void *opaque)
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
					v->undo[i] = e->has_undo;
					v->undo_prev[i] = e->undo_prev;
				}
			}
		}
		if (ec)
			decide_ec(peers, n, activation, ec, &d, v);
		else
			decide_one(peers, n, activation, &d, v);
		fn(opaque, &d);
	}
	free(v);
}

void pg_decide_objects(const struct pg_peer *peers, unsigned n,
		       uint64_t activation, pg_decide_fn *fn, void *opaque)
{
	decide_objects(peers, n, activation, NULL, fn, opaque);
}

void pg_decide_objects_ec(const struct pg_peer *peers, unsigned n,
			  uint64_t activation, const struct pg_ec_rule *ec,
			  pg_decide_fn *fn, void *opaque)
{
	decide_objects(peers, n, activation, ec, fn, opaque);
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
		       uint64_t from, unsigned k, const struct pg_peer *peers,
		       unsigned n_peers, const struct bs_osdmap *map,
		       struct pg_block *out)
{
	memset(out, 0, sizeof(*out));
	out->osd = -1;
	k = BS_MAX(k, 1u);
	for (size_t i = n; i-- > 0;) {
		const struct bs_past_interval *v = &iv[i];
		int32_t wait = -1;
		unsigned got = 0;
		bool up = false;

		if (!v->maybe_rw || v->last < from)
			continue;
		for (unsigned s = 0; s < v->n; s++) {
			int32_t id = v->acting[s];

			if (!(v->up_mask & (1u << s)))
				continue;
			if (answered(peers, n_peers, id)) {
				got++;
				continue;
			}
			if (is_lost(map, id))
				continue;
			up |= bs_osdmap_osd(map, id)->up;
			if (wait < 0)
				wait = id;
		}
		/*
		 * Its writes are on every member up in it (one copy, or one
		 * shard each of which k decode): enough answered, or the
		 * others are gone for good.
		 */
		if (got >= k || wait < 0)
			continue;
		out->osd = wait;
		out->epoch = v->first;
		out->retry = up;
		return true;
	}
	return false;
}
