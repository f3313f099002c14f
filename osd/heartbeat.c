// SPDX-License-Identifier: Apache-2.0
/*
 * Failure detection, OSD side (docs/mon.md): a beacon to the mons every
 * osd_heartbeat_interval (capacity, use, and the state of the PGs this OSD
 * leads), and pings to every OSD it shares a PG with; a peer that has not
 * answered for osd_heartbeat_grace is reported to the mons (and reported
 * alive again once it answers).  When a peer's connection drops, or it
 * has not answered for two intervals, a plain TCP connect probes its
 * port: a refused connection (the process is gone) is reported at once
 * ("immediate"), which the mons act on without waiting for the grace.
 * The mons decide who is down.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bs/msg_types.h"
#include "osd.h"
#include "proto/msg.pb-c.h"

/* A peer to ping.  Allocated one by one: a ping in flight points at it. */
struct hb_peer {
	struct osd *osd;
	int32_t id;
	bool wanted;		/* shares a PG with us at the current map */
	bool busy;		/* a ping in flight */
	bool reported;		/* reported failed to the mons */
	uint64_t last_ack_ms;
	/* the connect probe */
	struct bs_op probe;
	struct sockaddr_storage probe_addr;	/* read by the kernel */
	int probe_fd;
	bool probing;
	uint64_t probe_ms;	/* last probe started */
	uint64_t probe_up_from;	/* the incarnation found gone */
};

static struct hb_peer *hb_find(struct osd *osd, int32_t id)
{
	for (unsigned i = 0; i < osd->n_hb; i++)
		if (osd->hb[i]->id == id)
			return osd->hb[i];
	return NULL;
}

void heartbeat_want_begin(struct osd *osd)
{
	for (unsigned i = 0; i < osd->n_hb; i++)
		osd->hb[i]->wanted = false;
}

void heartbeat_want(struct osd *osd, int32_t id)
{
	struct hb_peer *p;

	if (id == osd->id || id < 0)
		return;
	p = hb_find(osd, id);
	if (!p) {
		if (osd->n_hb == osd->hb_cap) {
			osd->hb_cap = osd->hb_cap ? osd->hb_cap * 2 : 16;
			osd->hb = bs_xrealloc(osd->hb,
					      osd->hb_cap * sizeof(*osd->hb));
		}
		p = bs_xcalloc(1, sizeof(*p));
		p->osd = osd;
		p->id = id;
		p->probe_fd = -1;
		p->last_ack_ms = bs_now_ms();
		osd->hb[osd->n_hb++] = p;
	}
	p->wanted = true;
}

/* Drop peers no PG shares any more (once their ping is back). */
static void hb_prune(struct osd *osd, bool all)
{
	unsigned i = 0;

	while (i < osd->n_hb) {
		struct hb_peer *p = osd->hb[i];

		if ((p->wanted && !all) || p->busy || p->probing) {
			i++;
			continue;
		}
		osd->hb[i] = osd->hb[--osd->n_hb];
		free(p);
	}
}

static void report(struct osd *osd, struct hb_peer *p, bool alive,
		   uint64_t now_ms)
{
	Bs__OsdFailure f = BS__OSD_FAILURE__INIT;

	f.reporter = (uint32_t)osd->id;
	f.target = (uint32_t)p->id;
	f.epoch = osd->map ? osd->map->epoch : 0;
	f.failed_for_ms = now_ms - p->last_ack_ms;
	f.alive = alive;
	if (!bs_monc_send_failure(osd->monc, &f) || alive)
		p->reported = !alive;
	if (!alive)
		bs_warn_rl(&osd->rl, "osd.%d has not answered for %" PRIu64
			   " ms: reported to the mons", p->id,
			   f.failed_for_ms);
}

static void probe_done(struct bs_op *op, int res)
{
	struct hb_peer *p = container_of(op, struct hb_peer, probe);
	struct osd *osd = p->osd;
	const struct bs_osdmap_osd *o;

	p->probing = false;
	if (p->probe_fd >= 0) {
		close(p->probe_fd);
		p->probe_fd = -1;
	}
	if (res != -ECONNREFUSED || !osd->monc || osd->stopping || !osd->map)
		return;
	o = bs_osdmap_osd(osd->map, p->id);
	if (!o || !o->up || o->up_from == p->probe_up_from)
		return;
	{
		Bs__OsdFailure f = BS__OSD_FAILURE__INIT;

		p->probe_up_from = o->up_from;
		f.reporter = (uint32_t)osd->id;
		f.target = (uint32_t)p->id;
		f.epoch = osd->map->epoch;
		f.failed_for_ms = bs_now_ms() - p->last_ack_ms;
		f.immediate = true;
		if (!bs_monc_send_failure(osd->monc, &f))
			p->reported = true;
		bs_warn("osd.%d refuses connections: reported to the mons",
			p->id);
	}
}

/* Connect to @p's address: refused means its process is gone. */
static void probe_start(struct osd *osd, struct hb_peer *p)
{
	const struct bs_osdmap_osd *o = bs_osdmap_osd(osd->map, p->id);
	socklen_t len;
	uint64_t now = bs_now_ms();

	if (p->probing || !o || !o->up || !*o->addr ||
	    now - p->probe_ms < 500 || o->up_from == p->probe_up_from)
		return;
	if (bs_parse_addr(o->addr, &p->probe_addr, &len))
		return;
	p->probe_fd = socket(p->probe_addr.ss_family,
			     SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->probe_fd == -1)
		return;
	p->probing = true;
	p->probe_ms = now;
	p->probe.fn = probe_done;
	bs_loop_connect(osd->loop, &p->probe, p->probe_fd,
			(struct sockaddr *)&p->probe_addr, len);
}

/* A connection closed: if it was to a peer OSD, probe that peer. */
void heartbeat_conn_closed(struct osd *osd, struct bs_conn *conn)
{
	if (osd->stopping || !osd->map)
		return;
	for (unsigned i = 0; i < osd->n_peers; i++) {
		struct hb_peer *p;

		if (osd->peers[i].conn != conn)
			continue;
		p = hb_find(osd, (int32_t)i);
		if (p)
			probe_start(osd, p);
		return;
	}
}

static void ping_cb(void *opaque, int res, struct bs_msg *reply)
{
	struct hb_peer *p = opaque;
	struct osd *osd = p->osd;

	p->busy = false;
	bs_msg_free(reply);
	if (res || !osd->monc)
		return;
	p->last_ack_ms = bs_now_ms();
	if (p->reported) {
		bs_notice("osd.%d answers again", p->id);
		report(osd, p, true, p->last_ack_ms);
	}
}

static void ping_peers(struct osd *osd, uint64_t now_ms)
{
	uint64_t grace = osd->global.osd_heartbeat_grace;

	for (unsigned i = 0; i < osd->n_hb; i++) {
		struct hb_peer *p = osd->hb[i];
		Bs__Ping ping = BS__PING__INIT;
		struct bs_conn *conn;

		if (!p->wanted)
			continue;
		if (!osd_is_up(osd, p->id)) {
			/* the mons know; start afresh when it is back */
			p->last_ack_ms = now_ms;
			p->reported = false;
			continue;
		}
		if (now_ms - p->last_ack_ms >= grace)
			report(osd, p, false, now_ms);
		if (now_ms - p->last_ack_ms >=
		    2 * osd->global.osd_heartbeat_interval)
			probe_start(osd, p);
		if (p->busy)
			continue;
		conn = osd_peer_conn(osd, p->id);
		if (!conn)
			continue;
		ping.nonce = (uint64_t)p->id;
		ping.sent_us = bs_now_us();
		if (!bs_conn_call(conn, BS_MSG_PING, &ping.base, NULL, 0, grace,
				  ping_cb, p))
			p->busy = true;
	}
}

/* The state of @pg as its primary sees it (PgStateFlag bits). */
uint32_t pg_state_flags(const struct pg *pg)
{
	bool under = pg->n_up < pg->size || pg->n_acting < pg->size;
	uint32_t st = 0;

	switch (pg->pstate) {
	case PGS_ACTIVE:
		st = BS__PG_STATE_FLAG__PG_ACTIVE;
		if (pg->n_miss) {
			uint64_t bf = 0, rec = 0;

			for (size_t b = 0; b < pg->miss_nb; b++)
				for (struct pg_miss *m = pg->miss_tab[b]; m;
				     m = m->hnext) {
					bf |= m->need & pg->backfill_mask;
					rec |= m->need & ~pg->backfill_mask;
				}
			st |= BS__PG_STATE_FLAG__PG_DEGRADED;
			if (bf)
				st |= BS__PG_STATE_FLAG__PG_BACKFILLING;
			if (rec)
				st |= BS__PG_STATE_FLAG__PG_RECOVERING;
		} else if (!under) {
			st |= BS__PG_STATE_FLAG__PG_CLEAN;
		}
		break;
	case PGS_PEERING:
	case PGS_ACTIVATING:
		st = BS__PG_STATE_FLAG__PG_PEERING;
		break;
	case PGS_DOWN:
		st = BS__PG_STATE_FLAG__PG_DOWN;
		break;
	default:
		st = BS__PG_STATE_FLAG__PG_INACTIVE;
		break;
	}
	if (under)
		st |= BS__PG_STATE_FLAG__PG_UNDERSIZED |
		      BS__PG_STATE_FLAG__PG_DEGRADED;
	return st;
}

/* "active+recovering+degraded" for the bits of @flags. */
const char *pg_state_name(uint32_t flags, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ BS__PG_STATE_FLAG__PG_ACTIVE, "active" },
		{ BS__PG_STATE_FLAG__PG_CLEAN, "clean" },
		{ BS__PG_STATE_FLAG__PG_PEERING, "peering" },
		{ BS__PG_STATE_FLAG__PG_INACTIVE, "inactive" },
		{ BS__PG_STATE_FLAG__PG_DOWN, "down" },
		{ BS__PG_STATE_FLAG__PG_RECOVERING, "recovering" },
		{ BS__PG_STATE_FLAG__PG_BACKFILLING, "backfilling" },
		{ BS__PG_STATE_FLAG__PG_DEGRADED, "degraded" },
		{ BS__PG_STATE_FLAG__PG_UNDERSIZED, "undersized" },
	};
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names) && pos < len; i++)
		if (flags & names[i].bit)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s",
						pos ? "+" : "",
						names[i].name);
	if (!pos)
		snprintf(buf, len, "unknown");
	return buf;
}

/* The PG's objects: as peering decided, or as the store counts them. */
uint64_t pg_objects(struct osd *osd, const struct pg *pg)
{
	const struct store_pg_stat *st = peer_pg_stat(osd, pg->pool, pg->id);

	return BS_MAX(pg->objects, st ? st->objects : 0);
}

/* Missing copies: objects members lack, and those of absent members. */
uint64_t pg_degraded(struct osd *osd, const struct pg *pg)
{
	uint64_t n = 0;

	for (size_t b = 0; b < pg->miss_nb; b++)
		for (struct pg_miss *m = pg->miss_tab[b]; m; m = m->hnext)
			n += (uint64_t)__builtin_popcountll(m->need);
	if (pg->n_up < pg->size)
		n += pg_objects(osd, pg) * (pg->size - pg->n_up);
	return n;
}

static void send_beacon(struct osd *osd)
{
	Bs__OsdBeacon b = BS__OSD_BEACON__INIT;
	Bs__PgStat *stats = NULL, **statp = NULL;
	int32_t *acting = NULL;
	struct store_usage u;
	size_t n = 0, cap = 0, k = 0;

	for (size_t i = 0; i < osd->pg_nb; i++)
		for (struct pg *pg = osd->pg_tab[i]; pg; pg = pg->hnext)
			cap += pg->is_primary && !pg->gone;
	cap = BS_MIN(cap, 65536u);
	if (cap) {
		stats = bs_xmalloc(cap * sizeof(*stats));
		statp = bs_xmalloc(cap * sizeof(*statp));
		acting = bs_xmalloc(cap * BS_PLACE_MAX_SIZE * sizeof(*acting));
	}
	for (size_t i = 0; i < osd->pg_nb && n < cap; i++) {
		for (struct pg *pg = osd->pg_tab[i]; pg && n < cap;
		     pg = pg->hnext) {
			const struct store_pg_stat *st;
			Bs__PgStat *s = &stats[n];

			if (!pg->is_primary || pg->gone)
				continue;
			bs__pg_stat__init(s);
			s->pool = pg->pool;
			s->pg = pg->id;
			s->state = pg_state_flags(pg);
			st = peer_pg_stat(osd, pg->pool, pg->id);
			s->objects = pg_objects(osd, pg);
			s->bytes = BS_MAX(pg->bytes, st ? st->bytes : 0);
			s->objects_degraded = pg_degraded(osd, pg);
			s->recovery_objects_per_sec = pg->rec_rate_objects;
			s->recovery_bytes_per_sec = pg->rec_rate_bytes;
			s->n_acting = pg->n_acting;
			s->acting = &acting[k];
			memcpy(&acting[k], pg->acting,
			       pg->n_acting * sizeof(*acting));
			k += pg->n_acting;
			s->activation_epoch = pg->activation;
			s->unfound = pg->n_unfound;
			/* clean now: no interval before this map matters */
			s->last_clean = pg->pstate == PGS_ACTIVE && pg->clean ?
						osd->map->epoch :
						pg->info.last_clean;
			if (pg->pstate == PGS_DOWN) {
				s->wait_osd = pg->wait_osd;
				s->wait_epoch = pg->wait_epoch;
			}
			statp[n++] = s;
		}
	}
	store_usage(osd->store, &u);
	b.id = (uint32_t)osd->id;
	b.epoch = osd->map->epoch;
	b.up_from = osd->boot_epoch;
	b.capacity = u.capacity;
	b.used = u.used;
	b.objects = u.objects;
	b.n_pgs = n;
	b.pgs = statp;
	bs_monc_send_beacon(osd->monc, &b);
	free(acting);
	free(statp);
	free(stats);
}

void heartbeat_tick(struct osd *osd, uint64_t now_ms)
{
	if (!osd->active || osd->stopping || !osd->map)
		return;
	if (now_ms < osd->next_beacon_ms)
		return;
	osd->next_beacon_ms = now_ms + osd->global.osd_heartbeat_interval;
	send_beacon(osd);
	hb_prune(osd, false);
	ping_peers(osd, now_ms);
}

void heartbeat_release(struct osd *osd)
{
	for (unsigned i = 0; i < osd->n_hb; i++) {
		osd->hb[i]->busy = false;	/* the messenger is gone */
		osd->hb[i]->probing = false;	/* the loop is going */
		if (osd->hb[i]->probe_fd >= 0) {
			close(osd->hb[i]->probe_fd);
			osd->hb[i]->probe_fd = -1;
		}
	}
	hb_prune(osd, true);
	bs_free(&osd->hb);
	osd->hb_cap = 0;
}
