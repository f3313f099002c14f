/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Past intervals (Ceph's PastIntervals): the placement of every epoch the
 * cluster map's history reaches back to (ClusterMap.history in mon.proto),
 * and, per PG, the runs of epochs with one acting set and one set of up
 * members, with whether each could have served writes (min_size members
 * up).  Peering asks the members of every such interval since the PG was
 * last clean (docs/osd.md "Peering").  Pure: no loop, disk or network.
 */
#ifndef BS_PAST_INTERVALS_H
#define BS_PAST_INTERVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"
#include "bs/osdmap.h"
#include "proto/mon.pb-c.h"

/* The placement of epochs first .. first + n - 1 (n >= 1). */
struct bs_map_history {
	uint64_t first;
	size_t n;
	struct bs_osdmap **maps;	/* maps[i] is epoch first + i (owned) */
};

/*
 * Rebuild the map of every epoch from max(@since, the oldest @cm's
 * history reaches) to @cm->epoch by undoing the history's changes one by
 * one.  A history that is not consecutive up to @cm->epoch counts from
 * its last gap.  The maps @prev (NULL: none) holds are shared rather than
 * built again (the history of one cluster never changes, only grows and
 * is trimmed).  @cm and @prev are borrowed.  Returns 0, or -errno with
 * @err set; release @h with bs_map_history_release() either way.
 */
int bs_map_history_build(struct bs_map_history *h, const Bs__ClusterMap *cm,
			 uint64_t since, const struct bs_map_history *prev,
			 struct bs_error *err);
void bs_map_history_release(struct bs_map_history *h);

/* The map of @epoch, or NULL when @h does not reach it. */
const struct bs_osdmap *bs_map_history_at(const struct bs_map_history *h,
					  uint64_t epoch);

/* One interval of a PG: epochs first..last with the same placement. */
struct bs_past_interval {
	uint64_t first, last;
	unsigned n;				/* acting slots */
	int32_t acting[BS_PLACE_MAX_SIZE];	/* -1: empty slot */
	uint32_t up_mask;			/* bit i: acting[i] up */
	unsigned n_up;
	bool maybe_rw;				/* n_up >= min_size */
};

/*
 * The intervals of PG @pg of pool @pool from epoch @since (clamped to
 * @h->first, and to the epoch the pool was created) to the newest epoch
 * of @h, oldest first, into a malloc'ed array *@out (caller frees) of
 * *@n entries.  A pool absent from the newest map gives none.  Returns
 * 0 or -ENOMEM.
 */
int bs_past_intervals(const struct bs_map_history *h, uint32_t pool,
		      uint32_t pg, uint64_t since,
		      struct bs_past_interval **out, size_t *n);

#endif /* BS_PAST_INTERVALS_H */
