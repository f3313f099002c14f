// SPDX-License-Identifier: Apache-2.0
/*
 * The leader's failure detector (osdmon.h): per-OSD soft state (newest
 * beacon, failure reports) kept aligned with the map, and the rules that
 * decide which OSDs to mark down or out.  Pure and deterministic for a
 * given sequence of calls and times.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs/error.h"
#include "osdmon.h"

/* ---- lookups ---- */

static const Bs__OsdInfo *map_osd(const Bs__ClusterMap *map, uint32_t id)
{
	size_t lo = 0, hi = map->n_osds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->osds[mid]->id < id)
			lo = mid + 1;
		else if (map->osds[mid]->id > id)
			hi = mid;
		else
			return map->osds[mid];
	}
	return NULL;
}

static size_t rec_pos(const struct osdmon *om, uint32_t id)
{
	size_t lo = 0, hi = om->n_osds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (om->osds[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct osdmon_osd *rec_find(const struct osdmon *om, uint32_t id)
{
	size_t pos = rec_pos(om, id);

	if (pos < om->n_osds && om->osds[pos].id == id)
		return &om->osds[pos];
	return NULL;
}

const struct osdmon_osd *osdmon_osd(const struct osdmon *om, uint32_t id)
{
	return rec_find(om, id);
}

const Bs__OsdBeacon *osdmon_fresh_beacon(const struct osdmon *om,
					 const struct osdmon_osd *rec,
					 uint64_t now_ms)
{
	if (!rec || !rec->beacon || !rec->up)
		return NULL;
	if (now_ms - rec->beacon_ms > om->conf.grace_ms)
		return NULL;
	return rec->beacon;
}

/* ---- life cycle ---- */

static void rec_clear(struct osdmon_osd *r)
{
	if (r->beacon)
		bs__osd_beacon__free_unpacked(r->beacon, NULL);
	r->beacon = NULL;
	free(r->reports);
	r->reports = NULL;
	r->n_reports = 0;
}

void osdmon_init(struct osdmon *om, const struct osdmon_conf *conf)
{
	memset(om, 0, sizeof(*om));
	om->conf = *conf;
}

void osdmon_reset(struct osdmon *om, const Bs__ClusterMap *map,
		  uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < om->n_osds; i++)
		rec_clear(&om->osds[i]);
	free(om->osds);
	om->osds = NULL;
	om->n_osds = 0;
	om->synced_epoch = 0;
	if (map)
		osdmon_sync(om, map, now_ms);
}

void osdmon_release(struct osdmon *om)
{
	osdmon_reset(om, NULL, 0);
}

/* A new incarnation (or a first sight): a whole grace from now. */
static void rec_start(struct osdmon_osd *r, const Bs__OsdInfo *o,
		      uint64_t now_ms)
{
	free(r->reports);
	r->reports = NULL;
	r->n_reports = 0;
	if (r->beacon && r->beacon->up_from != o->up_from) {
		bs__osd_beacon__free_unpacked(r->beacon, NULL);
		r->beacon = NULL;
	}
	r->up_from = o->up_from;
	r->alive_ms = now_ms;
	r->pending_until_ms = 0;
}

void osdmon_sync(struct osdmon *om, const Bs__ClusterMap *map,
		 uint64_t now_ms)
{
	struct osdmon_osd *old = om->osds, *n;
	size_t i, j = 0, n_old = om->n_osds;

	if (om->synced_epoch && om->synced_epoch == map->epoch &&
	    om->n_osds == map->n_osds)
		return;
	n = bs_xcalloc(map->n_osds + 1, sizeof(*n));
	/* both lists are sorted by id: merge */
	for (i = 0; i < map->n_osds; i++) {
		const Bs__OsdInfo *o = map->osds[i];
		struct osdmon_osd *r = &n[i];

		while (j < n_old && old[j].id < o->id)
			rec_clear(&old[j++]);
		if (j < n_old && old[j].id == o->id) {
			*r = old[j++];
			if (r->up_from != o->up_from)
				rec_start(r, o, now_ms);
		} else {
			r->id = o->id;
			rec_start(r, o, now_ms);
			r->down_seen_ms = now_ms;
			r->up = o->up;
		}
		if (r->up && !o->up) {
			r->down_seen_ms = now_ms;
			r->pending_until_ms = 0;
		}
		if (!o->up) {
			free(r->reports);
			r->reports = NULL;
			r->n_reports = 0;
		}
		if (!r->up && o->up)
			r->alive_ms = now_ms;
		r->up = o->up;
	}
	while (j < n_old)
		rec_clear(&old[j++]);
	free(old);
	om->osds = n;
	om->n_osds = map->n_osds;
	om->synced_epoch = map->epoch;
}

/* ---- inputs ---- */

int osdmon_beacon(struct osdmon *om, const Bs__ClusterMap *map,
		  Bs__OsdBeacon *b, uint64_t now_ms)
{
	struct osdmon_osd *r;
	int ret = 0;

	osdmon_sync(om, map, now_ms);
	r = rec_find(om, b->id);
	if (!r)
		ret = -ENOENT;
	else if (b->n_pgs > OSDMON_MAX_BEACON_PGS)
		ret = -E2BIG;
	else if (b->up_from && b->up_from != r->up_from)
		ret = -ESTALE;
	else if (r->beacon && r->beacon->up_from == b->up_from &&
		 b->seq && b->seq <= r->beacon->seq)
		ret = -EALREADY;
	if (ret) {
		bs__osd_beacon__free_unpacked(b, NULL);
		return ret;
	}
	if (r->beacon)
		bs__osd_beacon__free_unpacked(r->beacon, NULL);
	r->beacon = b;
	r->beacon_ms = now_ms;
	if (r->up)
		r->alive_ms = now_ms;
	return 0;
}

static struct osdmon_report *report_find(struct osdmon_osd *r,
					 uint32_t reporter)
{
	unsigned i;

	for (i = 0; i < r->n_reports; i++)
		if (r->reports[i].reporter == reporter)
			return &r->reports[i];
	return NULL;
}

static void report_del(struct osdmon_osd *r, struct osdmon_report *rep)
{
	size_t i = (size_t)(rep - r->reports);

	memmove(rep, rep + 1, (r->n_reports - i - 1) * sizeof(*rep));
	r->n_reports--;
}

int osdmon_failure(struct osdmon *om, const Bs__ClusterMap *map,
		   const Bs__OsdFailure *f, uint64_t now_ms)
{
	const Bs__OsdInfo *reporter, *target;
	struct osdmon_report *rep;
	struct osdmon_osd *r;
	uint64_t since;
	int ret = 0;

	osdmon_sync(om, map, now_ms);
	reporter = map_osd(map, f->reporter);
	target = map_osd(map, f->target);
	r = rec_find(om, f->target);
	if (!reporter || !target || !r)
		return -ENOENT;
	if (f->reporter == f->target)
		return -EINVAL;
	rep = report_find(r, f->reporter);
	if (f->alive) {
		if (!rep)
			return 0;
		report_del(r, rep);
		return 1;
	}
	if (!reporter->up || !target->up || f->epoch < target->up_from)
		return -ESTALE;
	since = now_ms - (f->failed_for_ms < now_ms ? f->failed_for_ms :
						       now_ms);
	if (!rep) {
		if (r->n_reports >= OSDMON_MAX_REPORTS)
			return -ENOSPC;
		r->reports = bs_xrealloc(r->reports, (r->n_reports + 1) *
					 sizeof(*r->reports));
		rep = &r->reports[r->n_reports++];
		rep->reporter = f->reporter;
		rep->immediate = false;
		rep->failed_since_ms = since;
		ret = 1;
	}
	if (since < rep->failed_since_ms)
		rep->failed_since_ms = since;
	if (f->immediate && !rep->immediate)
		ret = 1;
	rep->immediate |= f->immediate;
	rep->last_ms = now_ms;
	return ret;
}

/* ---- decisions ---- */

/*
 * Reporters on the target's host do not count, unless no up OSD lives
 * elsewhere (a one-host test cluster).
 */
static bool other_hosts_exist(const Bs__ClusterMap *map,
			      const Bs__OsdInfo *target, unsigned *candidates)
{
	unsigned other = 0, all = 0;
	size_t i;

	for (i = 0; i < map->n_osds; i++) {
		const Bs__OsdInfo *o = map->osds[i];

		if (!o->up || o->id == target->id)
			continue;
		all++;
		if (strcmp(o->host, target->host))
			other++;
	}
	*candidates = other ? other : all;
	return other > 0;
}

/* Append "osd.N" (comma separated) to @buf. */
static void reason_add(char *buf, size_t len, uint32_t id)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%sosd.%u", used ? ", " : "",
			 id);
}

/* Should @t (up in @map) be marked down?  Fills @a if so. */
static bool judge_up(struct osdmon *om, const Bs__ClusterMap *map,
		     struct osdmon_osd *r, const Bs__OsdInfo *t,
		     uint64_t now_ms, struct osdmon_action *a)
{
	uint64_t grace = om->conf.grace_ms, oldest = now_ms;
	unsigned i, count = 0, candidates, needed;
	bool others;
	char who[OSDMON_REASON_MAX] = "";

	/* O(osds): only for a target that has reports */
	others = r->n_reports && other_hosts_exist(map, t, &candidates);
	if (!r->n_reports)
		candidates = 0;
	for (i = 0; i < r->n_reports;) {
		struct osdmon_report *rep = &r->reports[i];
		const Bs__OsdInfo *o = map_osd(map, rep->reporter);

		if (!o || !o->up || now_ms - rep->last_ms > grace) {
			report_del(r, rep);	/* expired or gone */
			continue;
		}
		i++;
		if (rep->immediate) {
			snprintf(a->reason, sizeof(a->reason),
				 "osd.%u found it gone (connection refused)",
				 rep->reporter);
			return true;
		}
		if (others && !strcmp(o->host, t->host))
			continue;
		if (now_ms - rep->failed_since_ms < grace)
			continue;
		count++;
		if (rep->failed_since_ms < oldest)
			oldest = rep->failed_since_ms;
		reason_add(who, sizeof(who), rep->reporter);
	}
	needed = om->conf.min_down_reporters;
	if (needed > candidates)
		needed = candidates;
	if (needed == 0)
		needed = 1;
	if (count && count >= needed) {
		snprintf(a->reason, sizeof(a->reason),
			 "reported failed for %" PRIu64 " ms by %s",
			 now_ms - oldest, who);
		return true;
	}
	/* OSDs that never promised beacons are judged by reports only */
	if (t->sends_beacons && now_ms - r->alive_ms >= grace) {
		snprintf(a->reason, sizeof(a->reason),
			 "no beacon for %" PRIu64 " ms", now_ms - r->alive_ms);
		return true;
	}
	return false;
}

/* Has @o (down, in) been down long enough to go out? */
static bool judge_down(struct osdmon *om, const struct osdmon_osd *r,
		       const Bs__OsdInfo *o, uint64_t now_ms, uint64_t now_us,
		       struct osdmon_action *a)
{
	uint64_t down_ms;

	if (!om->conf.down_out_ms)
		return false;
	if (o->down_stamp_us && o->down_stamp_us <= now_us)
		down_ms = (now_us - o->down_stamp_us) / 1000;
	else
		down_ms = now_ms - r->down_seen_ms;
	if (down_ms < om->conf.down_out_ms)
		return false;
	snprintf(a->reason, sizeof(a->reason),
		 "down for %" PRIu64 " s (mon_osd_down_out_interval %" PRIu64
		 " s)", down_ms / 1000, om->conf.down_out_ms / 1000);
	return true;
}

size_t osdmon_check(struct osdmon *om, const Bs__ClusterMap *map,
		    uint64_t now_ms, uint64_t now_us,
		    struct osdmon_action *out, size_t max)
{
	size_t i, n = 0;

	osdmon_sync(om, map, now_ms);
	for (i = 0; i < map->n_osds && n < max; i++) {
		const Bs__OsdInfo *o = map->osds[i];
		struct osdmon_osd *r = &om->osds[i];
		struct osdmon_action a;
		bool act;

		if (r->pending_until_ms > now_ms)
			continue;
		memset(&a, 0, sizeof(a));
		if (o->up) {
			act = judge_up(om, map, r, o, now_ms, &a);
			a.how = BS__OSD_MARK_HOW__MARK_DOWN;
		} else if (o->in) {
			act = judge_down(om, r, o, now_ms, now_us, &a);
			a.how = BS__OSD_MARK_HOW__MARK_OUT_AUTO;
		} else {
			act = false;
		}
		if (!act)
			continue;
		a.id = o->id;
		a.up_from = o->up_from;
		r->pending_until_ms = now_ms + om->conf.pending_ms;
		out[n++] = a;
	}
	return n;
}

void osdmon_unpend(struct osdmon *om, uint32_t id)
{
	struct osdmon_osd *r = rec_find(om, id);

	if (r)
		r->pending_until_ms = 0;
}
