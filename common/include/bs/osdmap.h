/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cluster map ready for the data path: the mon's Bs__ClusterMap turned
 * into a placement tree (bs/placement.h) plus lookups by OSD and pool id,
 * so that clients and OSDs compute the same PG, acting set and primary for
 * every object from the same epoch.
 *
 * Built once per epoch and then read-only: any thread may query it.  The
 * OSD and libbasalt keep the newest one and swap it when a new epoch comes.
 */
#ifndef BS_OSDMAP_H
#define BS_OSDMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "bs/error.h"
#include "bs/placement.h"
#include "proto/mon.pb-c.h"

struct bs_osdmap_osd {
	int32_t id;
	bool up, in;
	char *addr;		/* messenger "HOST:PORT", "" if never booted */
	uint64_t weight;	/* bytes */
	char *host;
	/* added by the OSD helper (compatible): */
	char *rack, *site;	/* "" when not given */
	uint64_t up_from;	/* map epoch of its last boot */
	uint64_t lost_at;	/* epoch declared lost (osd lost), 0: never */
};

struct bs_osdmap_pool {
	uint32_t id;
	char *name;
	struct bs_place_pool place;	/* pg_num, size, failure domain */
	uint32_t min_size;
	bool erasure;
	uint32_t ec_k, ec_m;
	uint32_t ec_stripe_unit;	/* erasure: bytes (0 in the map: 4 KiB) */
};

struct bs_osdmap {
	uint64_t epoch;
	struct bs_place_map place;
	struct bs_osdmap_osd *osds;	/* sorted by id */
	unsigned n_osds;
	struct bs_osdmap_pool *pools;	/* sorted by id */
	unsigned n_pools;
	unsigned refs;			/* bs_osdmap_get/put */
};

/*
 * Build a map from @cm (borrowed).  Returns 0 and sets *out (refs = 1) or
 * -errno with @err set.
 */
int bs_osdmap_new(struct bs_osdmap **out, const Bs__ClusterMap *cm,
		  struct bs_error *err);

/*
 * Placement weight (16.16 fixed point, 1.0 = 1 TiB) of an OSD of @bytes
 * capacity: never 0 for a non-zero capacity, saturating at UINT32_MAX.
 */
uint32_t bs_osdmap_place_weight(uint64_t bytes);

/* Reference counting (not atomic: one thread owns the counts). */
struct bs_osdmap *bs_osdmap_get(struct bs_osdmap *map);
void bs_osdmap_put(struct bs_osdmap **map);

const struct bs_osdmap_osd *bs_osdmap_osd(const struct bs_osdmap *map,
					  int32_t id);
const struct bs_osdmap_pool *bs_osdmap_pool(const struct bs_osdmap *map,
					    uint32_t id);
const struct bs_osdmap_pool *bs_osdmap_pool_by_name(const struct bs_osdmap *map,
						    const char *name);

/* The PG of an object. */
uint32_t bs_osdmap_object_pg(const struct bs_osdmap_pool *pool,
			     uint64_t volume, uint64_t objnum);

/*
 * Acting set of (@pool, @pg): fills @osds (BS_PLACE_MAX_SIZE slots) and
 * returns the count, or -errno.  Down OSDs are kept in place.
 */
int bs_osdmap_pg_acting(const struct bs_osdmap *map,
			const struct bs_osdmap_pool *pool, uint32_t pg,
			int32_t osds[BS_PLACE_MAX_SIZE]);

/* The primary of (@pool, @pg): an OSD id, or -ENOENT if none is up. */
int bs_osdmap_pg_primary(const struct bs_osdmap *map,
			 const struct bs_osdmap_pool *pool, uint32_t pg);

#endif /* BS_OSDMAP_H */
