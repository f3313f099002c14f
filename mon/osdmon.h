/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The leader's failure detector: the soft state it keeps about every OSD
 * (its newest beacon with the stats it carries, the failure reports
 * against it) and the rules that turn them into OsdMark commands (down
 * after osd_heartbeat_grace without a beacon or on agreeing reports, out
 * after mon_osd_down_out_interval down).  Pure: no raft, loop or clock;
 * the caller passes the map and the time.  Soft state is never
 * replicated: a new leader starts empty and gives every OSD a full grace.
 */
#ifndef BS_MON_OSDMON_H
#define BS_MON_OSDMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/mon.pb-c.h"

#define OSDMON_MAX_BEACON_PGS	65536	/* PgStats in one beacon */
#define OSDMON_MAX_REPORTS	64	/* reporters kept per target */
#define OSDMON_REASON_MAX	160

struct osdmon_conf {
	uint64_t grace_ms;		/* osd_heartbeat_grace */
	uint64_t down_out_ms;		/* down-out interval, 0: never */
	unsigned min_down_reporters;	/* mon_osd_min_down_reporters */
	uint64_t pending_ms;		/* a proposed mark's time-out */
};

/* One OSD's report that it cannot reach the target. */
struct osdmon_report {
	uint32_t reporter;
	bool immediate;			/* connection refused */
	uint64_t failed_since_ms;	/* our clock: now - failed_for */
	uint64_t last_ms;		/* last refresh */
};

/*
 * What the leader knows about one OSD of the map.  Invariant: every
 * field is about incarnation @up_from; a new boot (up_from changes)
 * resets the timers, drops the reports and any older beacon.
 */
struct osdmon_osd {
	uint32_t id;
	bool up;			/* in the last map synced */
	uint64_t up_from;
	uint64_t alive_ms;		/* last beacon, or grace start */
	uint64_t down_seen_ms;		/* when first seen down */
	Bs__OsdBeacon *beacon;		/* newest one (owned), or NULL */
	uint64_t beacon_ms;		/* when it came */
	struct osdmon_report *reports;
	unsigned n_reports;
	uint64_t pending_until_ms;	/* a mark is being proposed */
};

struct osdmon {
	struct osdmon_conf conf;
	struct osdmon_osd *osds;	/* sorted by id, one per map OSD */
	size_t n_osds;
	uint64_t synced_epoch;		/* 0: not synced */
};

/* A mark the leader should propose now. */
struct osdmon_action {
	uint32_t id;
	int how;			/* Bs__OsdMarkHow */
	uint64_t up_from;		/* guard: the incarnation judged */
	char reason[OSDMON_REASON_MAX];
};

void osdmon_init(struct osdmon *om, const struct osdmon_conf *conf);
void osdmon_release(struct osdmon *om);

/*
 * Forget everything (this mon just became the leader, or stopped being
 * it) and start over from @map: every up OSD gets a whole grace from
 * @now_ms.  @map may be NULL (just forget).
 */
void osdmon_reset(struct osdmon *om, const Bs__ClusterMap *map,
		  uint64_t now_ms);

/*
 * Align the records with @map (borrowed): add new OSDs, drop removed
 * ones, reset an OSD that booted again, drop reports against an OSD now
 * down.  Cheap when @map->epoch was already synced.  Every other call
 * syncs first, so callers need it only to force the alignment.
 */
void osdmon_sync(struct osdmon *om, const Bs__ClusterMap *map,
		 uint64_t now_ms);

/*
 * A beacon arrived.  Takes ownership of @b (freed with
 * bs__osd_beacon__free_unpacked() now or later).  Returns 0 when kept,
 * or: -ENOENT (no such OSD in the map), -E2BIG (too many pgs), -ESTALE
 * (from an older incarnation), -EALREADY (older than the one kept).
 */
int osdmon_beacon(struct osdmon *om, const Bs__ClusterMap *map,
		  Bs__OsdBeacon *b, uint64_t now_ms);

/*
 * A failure report (or its cancel: @f->alive).  Borrowed.  Returns 1 when
 * it changed what is known (a new reporter, now immediate, a cancel), 0
 * when it only refreshed a known report (or cancelled none), or
 * -ENOENT (unknown reporter or target), -EINVAL (reporter == target),
 * -ESTALE (reporter or target not up, or the reporter has not seen the
 * target's current boot), -ENOSPC (too many reporters).
 */
int osdmon_failure(struct osdmon *om, const Bs__ClusterMap *map,
		   const Bs__OsdFailure *f, uint64_t now_ms);

/*
 * The marks to propose now, at most @max into @out; each one is then
 * pending for conf.pending_ms (no second proposal for that OSD).
 * @now_us is the wall clock (the map's down stamps are wall clock).
 * Rules, for an up OSD:
 *   - an immediate report (connection refused) from an up OSD: down;
 *   - reports whose failure is at least grace old from at least
 *     min(min_down_reporters, eligible reporters) eligible reporters:
 *     down (eligible: up, on another host than the target, unless no up
 *     OSD is on another host);
 *   - no beacon for grace, if its boot said it sends beacons
 *     (OsdBoot.sends_beacons): down.
 * For a down OSD that is in: out (MARK_OUT_AUTO) once down for
 * down_out_ms (unless 0).
 */
size_t osdmon_check(struct osdmon *om, const Bs__ClusterMap *map,
		    uint64_t now_ms, uint64_t now_us,
		    struct osdmon_action *out, size_t max);

/* A proposal for @id failed before it was committed: allow another. */
void osdmon_unpend(struct osdmon *om, uint32_t id);

/* The record of @id, or NULL. */
const struct osdmon_osd *osdmon_osd(const struct osdmon *om, uint32_t id);

/* @rec's beacon when it is fresh (within grace of @now_ms), else NULL. */
const Bs__OsdBeacon *osdmon_fresh_beacon(const struct osdmon *om,
					 const struct osdmon_osd *rec,
					 uint64_t now_ms);

#endif /* BS_MON_OSDMON_H */
