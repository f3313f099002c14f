/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placement: which PG an object belongs to, and which OSDs hold a PG.
 * Pure computation over a read-only map, identical on every client and OSD
 * of the same epoch: no loop, no disk, no network, no floating point.
 * The algorithm, the hashes and what moves when are in docs/placement.md.
 */
#ifndef BS_PLACEMENT_H
#define BS_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"

#define BS_PLACE_NONE		(-1)	/* a slot no OSD could fill */
#define BS_PLACE_MAX_SIZE	32	/* widest acting set: size or k+m */
#define BS_PLACE_MAX_OSDS	(1u << 20)
#define BS_PLACE_MAX_PG_NUM	(1u << 24)
#define BS_PLACE_NAME_MAX	64	/* bucket name, including the NUL */
#define BS_PLACE_WEIGHT_ONE	0x10000u /* weight 1.0 in 16.16 fixed point */
#define BS_PLACE_TRIES		64	/* draws per slot before giving up */

/*
 * Levels of the failure-domain tree, leaf first.  A level no OSD names
 * (no racks, no sites) is absent: its children hang from the next level up.
 */
enum bs_place_level {
	BS_PLACE_LEVEL_OSD = 0,
	BS_PLACE_LEVEL_HOST,
	BS_PLACE_LEVEL_RACK,
	BS_PLACE_LEVEL_SITE,
	BS_PLACE_LEVEL_ROOT,
};

/*
 * One OSD as the map builder takes it.  Names are borrowed for the call
 * only.  Host, rack and site names are global: a host (rack) must sit in
 * the same rack and site (site) on every OSD that names it.  Renaming a
 * bucket moves its data: a bucket's draws are keyed by its level and name.
 */
struct bs_place_osd {
	int32_t id;		/* >= 0, unique */
	uint32_t weight;	/* capacity, 16.16 fixed point; 0: no data */
	bool up;		/* reachable: only decides the primary */
	bool in;		/* may hold data: out OSDs are never picked */
	const char *host;	/* required, 1..BS_PLACE_NAME_MAX-1 bytes */
	const char *rack;	/* NULL or "": not in a rack */
	const char *site;	/* NULL or "": not in a site */
};

/*
 * A pool as placement sees it.  size is the acting-set width: replicas for
 * a replicated pool, k+m for an erasure-coded one.  A positional pool (EC)
 * keeps each shard's slot: a slot that cannot be filled stays
 * BS_PLACE_NONE where it is.  A non-positional (replicated) pool gets its
 * OSDs packed to the front.
 */
struct bs_place_pool {
	uint32_t id;
	uint32_t pg_num;			/* 1..BS_PLACE_MAX_PG_NUM */
	unsigned size;				/* 1..BS_PLACE_MAX_SIZE */
	enum bs_place_level failure_domain;	/* OSD..SITE */
	bool positional;
};

struct bs_place_staged;
struct bs_place_node;

/*
 * The failure-domain tree.  Build it with init, add_osd for every OSD,
 * finalize; then it is read-only and any number of threads may place
 * against it at once (bs_place_map_set_state() excepted).  All fields are
 * private.
 */
struct bs_place_map {
	struct bs_place_staged *staged;	/* add_osd input until finalize */
	uint32_t n_staged;
	uint32_t staged_cap;
	char *names;			/* interned names, names[0] == '\0' */
	size_t names_len;
	size_t names_cap;
	struct bs_place_node *nodes;	/* OSDs by id, buckets, root last */
	uint32_t *children;		/* node indexes, grouped by parent */
	uint32_t n_nodes;
	uint32_t n_osds;
	uint32_t root;
	bool finalized;
};

/* Map lifecycle. */

/* An empty map, ready for bs_place_map_add_osd().  Cannot fail. */
void bs_place_map_init(struct bs_place_map *map);

/*
 * Add one OSD (copied; @osd is borrowed) before finalize.  Returns 0,
 * -EINVAL for a negative id or a missing (host), over-long or
 * control-character name, -EBUSY after finalize, -E2BIG past
 * BS_PLACE_MAX_OSDS, -ENOMEM.  Duplicate ids and inconsistent buckets are
 * caught by bs_place_map_finalize().  Control thread only.
 */
int bs_place_map_add_osd(struct bs_place_map *map,
			 const struct bs_place_osd *osd, struct bs_error *err);

/*
 * Build the tree.  The order in which OSDs were added does not matter.
 * Returns 0; -EEXIST for a duplicate OSD id or two sibling buckets whose
 * names hash alike (rename one); -EINVAL for a host in two racks or sites
 * or a rack in two sites; -EBUSY if already finalized; -ENOMEM.  On
 * failure the map stays unfinalized and must still be released.
 */
int bs_place_map_finalize(struct bs_place_map *map, struct bs_error *err);

/* Free everything; the map may be init'ed again.  NULL-safe. */
void bs_place_map_release(struct bs_place_map *map);

/* Map queries and the one mutation allowed after finalize. */

/*
 * Change an OSD's up/in state without rebuilding the tree (weights need a
 * rebuild).  Not safe against concurrent placement on the same map.
 * Returns 0, -ENOENT for an unknown OSD, -EINVAL if not finalized.
 */
int bs_place_map_set_state(struct bs_place_map *map, int32_t osd, bool up,
			   bool in);

/* Whether @osd exists in the finalized map and is up (is in). */
bool bs_place_map_osd_is_up(const struct bs_place_map *map, int32_t osd);
bool bs_place_map_osd_is_in(const struct bs_place_map *map, int32_t osd);

/*
 * Name of the failure domain of @level that holds @osd (its host for
 * HOST; for RACK its rack, or its host when it has no rack; ...), or NULL
 * for an unknown OSD or @level OSD/ROOT.  Points into the map.
 */
const char *bs_place_map_domain_name(const struct bs_place_map *map,
				     int32_t osd, enum bs_place_level level);

/* Number of failure domains of @level that have weight (0 if unbuilt). */
unsigned bs_place_map_count_domains(const struct bs_place_map *map,
				    enum bs_place_level level);

/* Objects to PGs. */

/*
 * Canonical object name, hashed with CRC-32C (Castagnoli; init and final
 * xor 0xffffffff, i.e. the standard check value of "123456789" is
 * 0xe3069283):
 *
 *   offset size  field
 *   0      4     pool id, little endian
 *   4      8     volume id, little endian
 *   12     8     object number (byte offset / object size), little endian
 */
#define BS_PLACE_OBJECT_KEY_LEN	20

void bs_place_object_key(uint8_t key[BS_PLACE_OBJECT_KEY_LEN], uint32_t pool,
			 uint64_t volume, uint64_t objno);
uint32_t bs_place_object_hash(uint32_t pool, uint64_t volume, uint64_t objno);

/* Smallest 2^n - 1 >= pg_num - 1, as Ceph's pg_num_mask (0 for 0 or 1). */
uint32_t bs_place_pg_num_mask(uint32_t pg_num);

/*
 * Ceph's ceph_stable_mod(): x mod b for b <= bmask + 1 such that growing
 * b splits one old bucket per new one and moves nothing else.
 */
uint32_t bs_place_stable_mod(uint32_t x, uint32_t b, uint32_t bmask);

/* The PG of object @objno of @volume in @pool: 0..pool->pg_num-1. */
uint32_t bs_place_object_pg(const struct bs_place_pool *pool, uint64_t volume,
			    uint64_t objno);

/* PGs to OSDs. */

/* 0, or -EINVAL with a message naming what is wrong with @pool. */
int bs_place_pool_check(const struct bs_place_pool *pool,
			struct bs_error *err);

/*
 * The acting set of PG @pg: pool->size slots written to @osds, each an OSD
 * id or BS_PLACE_NONE, no two OSDs in one failure domain of
 * pool->failure_domain.  Down OSDs stay in their slots; out OSDs and OSDs
 * of weight 0 are never chosen.  Returns the number of OSDs placed:
 * pool->size, or fewer when the map has too few usable failure domains (a
 * degraded placement the caller must report), or -EINVAL (bad pool, pg >=
 * pg_num, map not finalized).  No allocation; any thread.
 */
int bs_place_pg_acting(const struct bs_place_map *map,
		       const struct bs_place_pool *pool, uint32_t pg,
		       int32_t osds[BS_PLACE_MAX_SIZE]);

/*
 * The up set: the acting set without down OSDs and empty slots, order
 * kept, the rest of the pool->size slots BS_PLACE_NONE.  Returns its
 * length or -EINVAL as bs_place_pg_acting().
 */
int bs_place_pg_up(const struct bs_place_map *map,
		   const struct bs_place_pool *pool, uint32_t pg,
		   int32_t osds[BS_PLACE_MAX_SIZE]);

/* The PG's primary (first up OSD of its acting set), -ENOENT, -EINVAL. */
int bs_place_pg_primary(const struct bs_place_map *map,
			const struct bs_place_pool *pool, uint32_t pg);

/*
 * Same, on an acting set already computed: copy the up OSDs of
 * @acting[0..n) to @up (may alias @acting) and return how many; return
 * the first up OSD or -ENOENT.
 */
int bs_place_filter_up(const struct bs_place_map *map, const int32_t *acting,
		       unsigned n, int32_t *up);
int bs_place_primary(const struct bs_place_map *map, const int32_t *acting,
		     unsigned n);

/*
 * -log2((hash + 1) / 2^32) in 32.32 fixed point, the straw2 draw before
 * dividing by the weight: integer only, identical on every machine.
 * Exposed for tests and docs/placement.md.
 */
uint64_t bs_place_neglog2(uint32_t hash);

/* The 3-word hash keying every straw2 draw (Jenkins lookup3 final()). */
uint32_t bs_place_hash3(uint32_t a, uint32_t b, uint32_t c);

#endif /* BS_PLACEMENT_H */
