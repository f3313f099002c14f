// SPDX-License-Identifier: Apache-2.0
/*
 * Failure detection, OSD side (docs/mon.md): a beacon to the mons every
 * osd_heartbeat_interval (capacity, use, and the state of the PGs this OSD
 * leads), and pings to every OSD it shares a PG with; a peer that has not
 * answered for osd_heartbeat_grace is reported to the mons (and reported
 * alive again once it answers).  The mons decide who is down.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

		if ((p->wanted && !all) || p->busy) {
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
static uint32_t pg_state(const struct pg *pg)
{
	uint32_t st = 0;

	if (pg_can_write(pg))
		st |= BS__PG_STATE_FLAG__PG_ACTIVE;
	else
		st |= BS__PG_STATE_FLAG__PG_INACTIVE;
	if (pg->n_up < pg->size)
		st |= BS__PG_STATE_FLAG__PG_UNDERSIZED |
		      BS__PG_STATE_FLAG__PG_DEGRADED;
	else
		st |= BS__PG_STATE_FLAG__PG_CLEAN;
	return st;
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
			Bs__PgStat *s = &stats[n];

			if (!pg->is_primary || pg->gone)
				continue;
			bs__pg_stat__init(s);
			s->pool = pg->pool;
			s->pg = pg->id;
			s->state = pg_state(pg);
			s->n_acting = pg->n_acting;
			s->acting = &acting[k];
			memcpy(&acting[k], pg->acting,
			       pg->n_acting * sizeof(*acting));
			k += pg->n_acting;
			s->activation_epoch = pg->activation;
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
	for (unsigned i = 0; i < osd->n_hb; i++)
		osd->hb[i]->busy = false;	/* the messenger is gone */
	hb_prune(osd, true);
	bs_free(&osd->hb);
	osd->hb_cap = 0;
}
