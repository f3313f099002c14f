/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cluster health from the map, the mons' quorum and the leader's soft
 * state (osdmon.h): the ClusterStatus answer (HEALTH_OK/WARN/ERR with
 * reasons, PG state counts, usage, recovery), the per-PG listing of
 * `basalt pg ls`, and the "safe to remove" rule of `osd rm`.  Pure: no
 * raft, loop or clock.
 */
#ifndef BS_MON_HEALTH_H
#define BS_MON_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "bs/osdmap.h"
#include "osdmon.h"
#include "proto/mon.pb-c.h"

#define HEALTH_MAX_MONS		32
#define HEALTH_MAX_DETAIL	32	/* detail lines per check */

/* What the answering mon knows about the quorum. */
struct health_mons {
	uint32_t self_id;
	bool from_leader;		/* we lead: quorum view and PG stats */
	int32_t leader_id;		/* -1: none known */
	uint64_t term;
	unsigned n;			/* configured mons */
	uint32_t ids[HEALTH_MAX_MONS];
	bool in_quorum[HEALTH_MAX_MONS];	/* leader's view */
};

struct health_conf {
	unsigned nearfull_pct;		/* mon_osd_nearfull_percent */
	unsigned full_pct;		/* mon_osd_full_percent */
};

enum health_pg_kind {
	HEALTH_PG_REPORTED,		/* a fresh report from an up OSD */
	HEALTH_PG_UNKNOWN,		/* none, but some member is up */
	HEALTH_PG_INACTIVE,		/* none, and no member is up */
};

/* One PG and the report that describes it. */
struct health_pg {
	const Bs__PoolInfo *pool;	/* borrowed from the map */
	uint32_t pg;
	enum health_pg_kind kind;
	const Bs__PgStat *stat;		/* in a beacon (borrowed), or NULL */
	int32_t reporter;		/* -1: none */
	uint64_t reported_epoch;	/* the beacon's map epoch */
	uint64_t age_ms;		/* of the beacon */
	int32_t acting[BS_PLACE_MAX_SIZE];	/* -1: empty slot */
	unsigned n_acting;
	int32_t primary;		/* -1: none up (or not computed) */
};

struct health_pgs {
	struct health_pg *pgs;		/* sorted by pool id, then pg */
	size_t n;
};

/*
 * Every PG of @map's pools (only pool @only_pool if not NULL) with its
 * best fresh report from @om (NULL: none: every PG unknown or inactive).
 * Two reports of one PG: the one from the newer map epoch wins, then the
 * newer beacon.  Acting set and primary come from the report; for a PG
 * without one they are computed from @osdmap (may be NULL: not computed,
 * such a PG is then unknown).  Borrows @om and @map until
 * health_pgs_release().
 */
void health_pgs_collect(struct health_pgs *out, const struct osdmon *om,
			const Bs__ClusterMap *map,
			const struct bs_osdmap *osdmap,
			const Bs__PoolInfo *only_pool, uint64_t now_ms);
void health_pgs_release(struct health_pgs *p);

/* "active+clean", "active+undersized+degraded", "inactive" for @flags. */
const char *health_pg_flags_name(uint32_t flags, char *buf, size_t len);

/* The state name of @p ("unknown" and "inactive" when unreported). */
const char *health_pg_state(const struct health_pg *p, char *buf,
			    size_t len);

/*
 * The cluster status.  Returns a heap ClusterStatus; free it with
 * bs__cluster_status__free_unpacked(st, NULL).  @om is NULL when this
 * mon is not the leader (no PG stats).  @osdmap may be NULL.
 */
Bs__ClusterStatus *health_status(const struct osdmon *om,
				 const Bs__ClusterMap *map,
				 const struct bs_osdmap *osdmap,
				 const struct health_mons *mons,
				 const struct health_conf *hc,
				 uint64_t volumes, uint64_t now_ms);

/*
 * The PG listing (PgStatQuery): every PG of @pgs, or only those whose
 * acting set holds @osd when @has_osd.  Heap; free with
 * bs__pg_stat_list__free_unpacked(l, NULL).
 */
Bs__PgStatList *health_pg_list(const struct health_pgs *pgs,
			       uint64_t epoch, bool from_leader, bool has_osd,
			       uint32_t osd);

/*
 * How far the map history may be trimmed: the oldest epoch at which a
 * PG of @pgs was last clean (PgStat.last_clean), or 0 (keep everything)
 * when some PG has no fresh report or was never clean.  Peering needs
 * the maps since a PG was last clean (bs/past_intervals.h).  No PGs: 0.
 */
uint64_t health_trim_floor(const struct health_pgs *pgs);

/*
 * May osd.@id leave the map without risking data?  (It is down and out:
 * state.c checks that.)  Only if every PG has a fresh report, is
 * active+clean, and does not list @id in its acting set.  @pgs come
 * from health_pgs_collect() by the leader.  Returns 0 or -EBUSY with
 * @err naming the first offending PG and what to do.
 */
int health_rm_check(const struct health_pgs *pgs, uint32_t id,
		    struct bs_error *err);

#endif /* BS_MON_HEALTH_H */
