// SPDX-License-Identifier: Apache-2.0
/*
 * Placement: object -> PG with CRC-32C and Ceph's stable_mod, PG -> OSDs
 * with straw2 down a failure-domain tree (root > site > rack > host > osd).
 * Integer arithmetic only, so every machine computes the same sets; no
 * allocation when placing.  docs/placement.md explains the choices.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l.h>

#include "bs/placement.h"

#define ST_UP		0x1
#define ST_IN		0x2
#define NO_NODE		UINT32_MAX
#define NO_PARENT	(-1)

#define LOG2_BITS	12
#define LOG2_SIZE	(1u << LOG2_BITS)

/* One add_osd() call, kept until finalize. */
struct bs_place_staged {
	int32_t id;
	uint32_t weight;
	uint32_t host;		/* offsets into map->names, 0: none */
	uint32_t rack;
	uint32_t site;
	uint8_t state;
};

/*
 * A node of the tree: an OSD (level 0) or a bucket.  Levels strictly grow
 * towards the root.  Children of a bucket are sorted by hash_id, which is
 * unique among siblings, so the tree does not depend on input order.
 */
struct bs_place_node {
	uint64_t weight;	/* OSD: its weight; bucket: sum of its OSDs' */
	uint32_t hash_id;	/* straw2 item key: OSD id, or crc of name */
	int32_t parent;		/* node index, NO_PARENT for the root */
	uint32_t first_child;	/* index into map->children */
	uint32_t n_children;
	/* failure domains of each level with weight at or below this node */
	uint32_t n_domains[BS_PLACE_LEVEL_ROOT];
	uint32_t name;		/* buckets: offset into map->names */
	uint8_t level;
	uint8_t state;		/* OSDs: ST_UP | ST_IN */
};

static const char *const level_names[] = {
	[BS_PLACE_LEVEL_OSD] = "osd",
	[BS_PLACE_LEVEL_HOST] = "host",
	[BS_PLACE_LEVEL_RACK] = "rack",
	[BS_PLACE_LEVEL_SITE] = "site",
	[BS_PLACE_LEVEL_ROOT] = "root",
};

/* Hashes and the fixed-point logarithm */

#define ROT32(x, k)	(((x) << (k)) | ((x) >> (32 - (k))))

/*
 * Bob Jenkins' lookup3 hashword() of three words with initval 0, i.e. its
 * final() mix (public domain): a 96-bit bijection whose c output changes
 * completely when any input bit does.
 */
uint32_t bs_place_hash3(uint32_t a, uint32_t b, uint32_t c)
{
	const uint32_t init = 0xdeadbeefu + (3u << 2);

	a += init;
	b += init;
	c += init;
	c ^= b; c -= ROT32(b, 14);
	a ^= c; a -= ROT32(c, 11);
	b ^= a; b -= ROT32(a, 25);
	c ^= b; c -= ROT32(b, 16);
	a ^= c; a -= ROT32(c, 4);
	b ^= a; b -= ROT32(a, 14);
	c ^= b; c -= ROT32(b, 24);
	return c;
}

/* log2(1 + i / LOG2_SIZE) in 0.32 fixed point, for i in [0, LOG2_SIZE). */
static uint32_t log2_tbl[LOG2_SIZE];
static pthread_once_t log2_once = PTHREAD_ONCE_INIT;

/*
 * Digit-by-digit binary logarithm: square the mantissa (kept in 2.62
 * fixed point) and shift one result bit in each time it reaches 2.  Pure
 * integer arithmetic, so the table is the same on every machine; 34 bits
 * are computed and rounded to 32.
 */
static void log2_tbl_build(void)
{
	for (uint32_t i = 0; i < LOG2_SIZE; i++) {
		uint64_t y = (uint64_t)(LOG2_SIZE + i) << (62 - LOG2_BITS);
		uint64_t r = 0;

		for (int bit = 0; bit < 34; bit++) {
			y = (uint64_t)(((unsigned __int128)y * y) >> 62);
			r <<= 1;
			if (y >= (2ull << 62)) {
				r |= 1;
				y >>= 1;
			}
		}
		log2_tbl[i] = (uint32_t)((r + 2) >> 2);
	}
}

/*
 * -log2((h + 1) / 2^32) in 32.32 fixed point: 0 for h = 2^32 - 1, 32.0
 * for h = 0.  Normalise h + 1 to a mantissa in [1, 2), look up its top 12
 * bits and interpolate linearly on the next 32: within 1.1e-8 (2^-26.4)
 * of the true value, and monotone.
 */
static inline uint64_t neglog2(uint32_t h)
{
	uint64_t v = (uint64_t)h + 1;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);
	uint64_t m = v << (63 - e);
	uint32_t i = (uint32_t)(m >> (63 - LOG2_BITS)) & (LOG2_SIZE - 1);
	uint64_t f = (m >> (31 - LOG2_BITS)) & 0xffffffffu;
	uint64_t lo = log2_tbl[i];
	uint64_t hi = i + 1 < LOG2_SIZE ? log2_tbl[i + 1] : 1ull << 32;
	uint64_t frac = lo + (((hi - lo) * f) >> 32);

	return (32ull << 32) - (((uint64_t)e << 32) + frac);
}

uint64_t bs_place_neglog2(uint32_t hash)
{
	pthread_once(&log2_once, log2_tbl_build);
	return neglog2(hash);
}

static uint32_t crc32c(const void *buf, size_t len)
{
	return crc32_iscsi((unsigned char *)buf, (int)len, 0xffffffffu) ^
	       0xffffffffu;
}

/* Objects to PGs */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void bs_place_object_key(uint8_t key[BS_PLACE_OBJECT_KEY_LEN], uint32_t pool,
			 uint64_t volume, uint64_t objno)
{
	put_le(key, pool, 4);
	put_le(key + 4, volume, 8);
	put_le(key + 12, objno, 8);
}

uint32_t bs_place_object_hash(uint32_t pool, uint64_t volume, uint64_t objno)
{
	uint8_t key[BS_PLACE_OBJECT_KEY_LEN];

	bs_place_object_key(key, pool, volume, objno);
	return crc32c(key, sizeof(key));
}

uint32_t bs_place_pg_num_mask(uint32_t pg_num)
{
	if (pg_num <= 1)
		return 0;
	return UINT32_MAX >> __builtin_clz(pg_num - 1);
}

uint32_t bs_place_stable_mod(uint32_t x, uint32_t b, uint32_t bmask)
{
	if ((x & bmask) < b)
		return x & bmask;
	return x & (bmask >> 1);
}

uint32_t bs_place_object_pg(const struct bs_place_pool *pool, uint64_t volume,
			    uint64_t objno)
{
	uint32_t h = bs_place_object_hash(pool->id, volume, objno);

	return bs_place_stable_mod(h, pool->pg_num,
				   bs_place_pg_num_mask(pool->pg_num));
}

int bs_place_pool_check(const struct bs_place_pool *pool, struct bs_error *err)
{
	if (pool->pg_num < 1 || pool->pg_num > BS_PLACE_MAX_PG_NUM)
		return bs_error_set(err, -EINVAL,
				    "pool %u: pg_num %u is not in 1..%u",
				    pool->id, pool->pg_num,
				    BS_PLACE_MAX_PG_NUM);
	if (pool->size < 1 || pool->size > BS_PLACE_MAX_SIZE)
		return bs_error_set(err, -EINVAL,
				    "pool %u: size %u is not in 1..%u",
				    pool->id, pool->size, BS_PLACE_MAX_SIZE);
	if ((unsigned)pool->failure_domain >= BS_PLACE_LEVEL_ROOT)
		return bs_error_set(err, -EINVAL,
				    "pool %u: failure domain %u is not osd, host, rack or site",
				    pool->id, (unsigned)pool->failure_domain);
	return 0;
}

/* Building the map */

void bs_place_map_init(struct bs_place_map *map)
{
	memset(map, 0, sizeof(*map));
}

void bs_place_map_release(struct bs_place_map *map)
{
	if (!map)
		return;
	free(map->staged);
	free(map->names);
	free(map->nodes);
	free(map->children);
	bs_place_map_init(map);
}

static int check_name(int32_t id, const char *what, const char *s,
		      bool required, struct bs_error *err)
{
	size_t len = s ? strnlen(s, BS_PLACE_NAME_MAX) : 0;

	if (!len) {
		if (required)
			return bs_error_set(err, -EINVAL,
					    "osd.%d has no %s name", id, what);
		return 0;
	}
	if (len >= BS_PLACE_NAME_MAX)
		return bs_error_set(err, -EINVAL,
				    "osd.%d: %s name is longer than %d bytes",
				    id, what, BS_PLACE_NAME_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bs_error_set(err, -EINVAL,
					    "osd.%d: %s name has a control character",
					    id, what);
	return 0;
}

/*
 * Store @s in map->names and set *@off, reusing @prev (the same field of
 * the previous OSD) when equal: OSDs usually arrive host by host.
 */
static int intern(struct bs_place_map *map, const char *s, uint32_t prev,
		  uint32_t *off)
{
	size_t len = s ? strlen(s) : 0;

	if (!len) {
		*off = 0;
		return 0;
	}
	if (prev && !strcmp(map->names + prev, s)) {
		*off = prev;
		return 0;
	}
	if (map->names_len + len + 1 > map->names_cap) {
		size_t cap = map->names_cap * 2;
		char *p;

		while (cap < map->names_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		p = realloc(map->names, cap);
		if (!p)
			return -ENOMEM;
		map->names = p;
		map->names_cap = cap;
	}
	*off = (uint32_t)map->names_len;
	memcpy(map->names + map->names_len, s, len + 1);
	map->names_len += len + 1;
	return 0;
}

int bs_place_map_add_osd(struct bs_place_map *map,
			 const struct bs_place_osd *osd, struct bs_error *err)
{
	struct bs_place_staged *st, *prev;
	int ret;

	if (map->finalized)
		return bs_error_set(err, -EBUSY,
				    "placement map is already built, cannot add osd.%d",
				    osd->id);
	if (osd->id < 0)
		return bs_error_set(err, -EINVAL, "osd id %d is negative",
				    osd->id);
	if (map->n_staged >= BS_PLACE_MAX_OSDS)
		return bs_error_set(err, -E2BIG,
				    "cannot add osd.%d: a map holds at most %u OSDs",
				    osd->id, BS_PLACE_MAX_OSDS);
	ret = check_name(osd->id, "host", osd->host, true, err);
	if (!ret)
		ret = check_name(osd->id, "rack", osd->rack, false, err);
	if (!ret)
		ret = check_name(osd->id, "site", osd->site, false, err);
	if (ret)
		return ret;

	if (!map->names) {
		map->names = malloc(4096);
		if (!map->names)
			goto out_nomem;
		map->names_cap = 4096;
		map->names[0] = '\0';	/* offset 0: no name */
		map->names_len = 1;
	}
	if (map->n_staged == map->staged_cap) {
		uint32_t cap = map->staged_cap ? map->staged_cap * 2 : 64;

		st = realloc(map->staged, (size_t)cap * sizeof(*st));
		if (!st)
			goto out_nomem;
		map->staged = st;
		map->staged_cap = cap;
	}
	prev = map->n_staged ? &map->staged[map->n_staged - 1] : NULL;
	st = &map->staged[map->n_staged];
	memset(st, 0, sizeof(*st));
	st->id = osd->id;
	st->weight = osd->weight;
	st->state = (osd->up ? ST_UP : 0) | (osd->in ? ST_IN : 0);
	if (intern(map, osd->host, prev ? prev->host : 0, &st->host) ||
	    intern(map, osd->rack, prev ? prev->rack : 0, &st->rack) ||
	    intern(map, osd->site, prev ? prev->site : 0, &st->site))
		goto out_nomem;
	map->n_staged++;
	return 0;

out_nomem:
	return bs_error_set(err, -ENOMEM, "out of memory adding osd.%d",
			    osd->id);
}

/* Build state: the distinct hosts, racks and sites, each sorted by name. */
struct build {
	struct bs_place_map *map;
	uint32_t *host_of;	/* staged index -> host index */
	uint32_t *hosts;	/* staged index of each host's first OSD */
	uint32_t n_hosts;
	uint32_t *racks;	/* host index of each rack's first host */
	uint32_t n_racks;
	uint32_t *sites;	/* name offset of each site */
	uint32_t n_sites;
	struct bs_error *err;
};

static int cmp_staged_id(const void *a, const void *b)
{
	const struct bs_place_staged *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_by_host(const void *a, const void *b, void *arg)
{
	const struct bs_place_map *map = arg;
	const struct bs_place_staged *x = &map->staged[*(const uint32_t *)a];
	const struct bs_place_staged *y = &map->staged[*(const uint32_t *)b];
	int c = strcmp(map->names + x->host, map->names + y->host);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* The first OSD of host @h, which speaks for the host's rack and site. */
static const struct bs_place_staged *host_osd(const struct build *bd,
					      uint32_t h)
{
	return &bd->map->staged[bd->hosts[h]];
}

static int cmp_host_by_rack(const void *a, const void *b, void *arg)
{
	const struct build *bd = arg;
	const struct bs_place_map *map = bd->map;
	const struct bs_place_staged *x = host_osd(bd, *(const uint32_t *)a);
	const struct bs_place_staged *y = host_osd(bd, *(const uint32_t *)b);
	int c = strcmp(map->names + x->rack, map->names + y->rack);

	if (c)
		return c;
	return strcmp(map->names + x->host, map->names + y->host);
}

static int cmp_name(const void *a, const void *b, void *arg)
{
	const char *names = arg;

	return strcmp(names + *(const uint32_t *)a,
		      names + *(const uint32_t *)b);
}

static bool same_name(const struct bs_place_map *map, uint32_t a, uint32_t b)
{
	return !strcmp(map->names + a, map->names + b);
}

static const char *name_or_none(const struct bs_place_map *map, uint32_t off)
{
	return off ? map->names + off : "(none)";
}

/* Group OSDs into hosts; every OSD of a host names the same rack and site. */
static int build_hosts(struct build *bd)
{
	struct bs_place_map *map = bd->map;
	uint32_t n = map->n_staged;
	uint32_t *idx = malloc((size_t)n * sizeof(*idx) + 1);

	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_by_host, map);
	for (uint32_t i = 0; i < n; i++) {
		const struct bs_place_staged *st = &map->staged[idx[i]];
		const struct bs_place_staged *first = NULL;

		if (bd->n_hosts)
			first = host_osd(bd, bd->n_hosts - 1);
		if (!first || !same_name(map, st->host, first->host)) {
			bd->hosts[bd->n_hosts++] = idx[i];
		} else if (!same_name(map, st->rack, first->rack) ||
			   !same_name(map, st->site, first->site)) {
			int ret = bs_error_set(bd->err, -EINVAL,
				"host '%s' is in rack '%s' site '%s' for osd.%d but in rack '%s' site '%s' for osd.%d",
				map->names + st->host,
				name_or_none(map, first->rack),
				name_or_none(map, first->site), first->id,
				name_or_none(map, st->rack),
				name_or_none(map, st->site), st->id);

			free(idx);
			return ret;
		}
		bd->host_of[idx[i]] = bd->n_hosts - 1;
	}
	free(idx);
	return 0;
}

/* Group racked hosts into racks; every host of a rack names one site. */
static int build_racks(struct build *bd)
{
	struct bs_place_map *map = bd->map;
	uint32_t n = 0;
	uint32_t *idx = malloc((size_t)bd->n_hosts * sizeof(*idx) + 1);

	if (!idx)
		return -ENOMEM;
	for (uint32_t h = 0; h < bd->n_hosts; h++)
		if (host_osd(bd, h)->rack)
			idx[n++] = h;
	qsort_r(idx, n, sizeof(*idx), cmp_host_by_rack, bd);
	for (uint32_t i = 0; i < n; i++) {
		const struct bs_place_staged *st = host_osd(bd, idx[i]);
		const struct bs_place_staged *first = NULL;

		if (bd->n_racks)
			first = host_osd(bd, bd->racks[bd->n_racks - 1]);
		if (!first || !same_name(map, st->rack, first->rack)) {
			bd->racks[bd->n_racks++] = idx[i];
			continue;
		}
		if (!same_name(map, st->site, first->site)) {
			int ret = bs_error_set(bd->err, -EINVAL,
				"rack '%s' is in site '%s' for host '%s' but in site '%s' for host '%s'",
				map->names + st->rack,
				name_or_none(map, first->site),
				map->names + first->host,
				name_or_none(map, st->site),
				map->names + st->host);

			free(idx);
			return ret;
		}
	}
	free(idx);
	return 0;
}

/* The distinct site names of racks and of hosts outside racks. */
static void build_sites(struct build *bd)
{
	struct bs_place_map *map = bd->map;
	uint32_t n = 0;

	for (uint32_t h = 0; h < bd->n_hosts; h++)
		if (host_osd(bd, h)->site)
			bd->sites[n++] = host_osd(bd, h)->site;
	qsort_r(bd->sites, n, sizeof(*bd->sites), cmp_name, map->names);
	for (uint32_t i = 0; i < n; i++)
		if (!bd->n_sites ||
		    !same_name(map, bd->sites[i], bd->sites[bd->n_sites - 1]))
			bd->sites[bd->n_sites++] = bd->sites[i];
}

/* Index of the rack (site) named @off among bd->racks (bd->sites). */
static uint32_t find_rack(const struct build *bd, uint32_t off)
{
	const struct bs_place_map *map = bd->map;
	uint32_t lo = 0, hi = bd->n_racks;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(map->names + off,
			       map->names + host_osd(bd, bd->racks[mid])->rack);

		if (!c)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_NODE;
}

static uint32_t find_site(const struct build *bd, uint32_t off)
{
	const struct bs_place_map *map = bd->map;
	uint32_t lo = 0, hi = bd->n_sites;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(map->names + off, map->names + bd->sites[mid]);

		if (!c)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NO_NODE;
}

/* A bucket's straw2 key: CRC-32C of its level byte and name. */
static uint32_t bucket_hash_id(unsigned level, const char *name)
{
	uint8_t buf[1 + BS_PLACE_NAME_MAX];
	size_t len = strlen(name);

	buf[0] = (uint8_t)level;
	memcpy(buf + 1, name, len);
	return crc32c(buf, 1 + len);
}

static int cmp_child(const void *a, const void *b, void *arg)
{
	const struct bs_place_node *nodes = arg;
	uint32_t x = nodes[*(const uint32_t *)a].hash_id;
	uint32_t y = nodes[*(const uint32_t *)b].hash_id;

	return (x > y) - (x < y);
}

/* Fill map->nodes and map->children from the grouped input. */
static int build_tree(struct build *bd)
{
	struct bs_place_map *map = bd->map;
	struct bs_place_node *nodes;
	uint32_t n = map->n_staged;
	uint32_t host0 = n, rack0 = host0 + bd->n_hosts;
	uint32_t site0 = rack0 + bd->n_racks, root = site0 + bd->n_sites;
	uint32_t n_nodes = root + 1, *fill;

	nodes = calloc(n_nodes, sizeof(*nodes));
	map->children = malloc((size_t)n_nodes * sizeof(*map->children));
	fill = calloc(n_nodes, sizeof(*fill));
	if (!nodes || !map->children || !fill) {
		free(nodes);
		free(fill);
		return -ENOMEM;
	}
	map->nodes = nodes;
	map->n_nodes = n_nodes;
	map->n_osds = n;
	map->root = root;

	for (uint32_t i = 0; i < n; i++) {
		const struct bs_place_staged *st = &map->staged[i];

		nodes[i].hash_id = (uint32_t)st->id;
		nodes[i].weight = st->weight;
		nodes[i].state = st->state;
		nodes[i].level = BS_PLACE_LEVEL_OSD;
		nodes[i].parent = (int32_t)(host0 + bd->host_of[i]);
	}
	for (uint32_t h = 0; h < bd->n_hosts; h++) {
		const struct bs_place_staged *st = host_osd(bd, h);
		struct bs_place_node *nd = &nodes[host0 + h];

		nd->level = BS_PLACE_LEVEL_HOST;
		nd->name = st->host;
		if (st->rack)
			nd->parent = (int32_t)(rack0 + find_rack(bd, st->rack));
		else if (st->site)
			nd->parent = (int32_t)(site0 + find_site(bd, st->site));
		else
			nd->parent = (int32_t)root;
	}
	for (uint32_t r = 0; r < bd->n_racks; r++) {
		const struct bs_place_staged *st = host_osd(bd, bd->racks[r]);
		struct bs_place_node *nd = &nodes[rack0 + r];

		nd->level = BS_PLACE_LEVEL_RACK;
		nd->name = st->rack;
		nd->parent = (int32_t)(st->site ?
				       site0 + find_site(bd, st->site) : root);
	}
	for (uint32_t s = 0; s < bd->n_sites; s++) {
		nodes[site0 + s].level = BS_PLACE_LEVEL_SITE;
		nodes[site0 + s].name = bd->sites[s];
		nodes[site0 + s].parent = (int32_t)root;
	}
	nodes[root].level = BS_PLACE_LEVEL_ROOT;
	nodes[root].parent = NO_PARENT;
	for (uint32_t i = host0; i < root; i++)
		nodes[i].hash_id = bucket_hash_id(nodes[i].level,
						  map->names + nodes[i].name);

	/* children, grouped by parent, each group sorted by hash_id */
	for (uint32_t i = 0; i < root; i++)
		nodes[nodes[i].parent].n_children++;
	for (uint32_t i = 0, at = 0; i < n_nodes; i++) {
		nodes[i].first_child = at;
		at += nodes[i].n_children;
	}
	for (uint32_t i = 0; i < root; i++) {
		struct bs_place_node *p = &nodes[nodes[i].parent];

		map->children[p->first_child + fill[nodes[i].parent]++] = i;
	}
	free(fill);
	for (uint32_t i = host0; i < n_nodes; i++) {
		uint32_t *c = &map->children[nodes[i].first_child];

		qsort_r(c, nodes[i].n_children, sizeof(*c), cmp_child, nodes);
		for (uint32_t j = 1; j < nodes[i].n_children; j++) {
			const struct bs_place_node *x = &nodes[c[j - 1]];
			const struct bs_place_node *y = &nodes[c[j]];

			if (x->hash_id == y->hash_id)
				return bs_error_set(bd->err, -EEXIST,
					"%s '%s' and %s '%s' hash alike, rename one",
					level_names[x->level],
					map->names + x->name,
					level_names[y->level],
					map->names + y->name);
		}
	}

	/* weights: every OSD's weight counts in all its ancestors */
	for (uint32_t i = 0; i < n; i++)
		for (int32_t a = nodes[i].parent; a != NO_PARENT;
		     a = nodes[a].parent)
			nodes[a].weight += nodes[i].weight;

	/*
	 * The failure domain of level L on a path is its topmost node of
	 * level <= L; count those with weight in each ancestor.
	 */
	for (uint32_t i = 0; i < root; i++) {
		if (!nodes[i].weight)
			continue;
		for (unsigned l = nodes[i].level;
		     l < nodes[nodes[i].parent].level; l++)
			for (int32_t a = (int32_t)i; a != NO_PARENT;
			     a = nodes[a].parent)
				nodes[a].n_domains[l]++;
	}
	return 0;
}

int bs_place_map_finalize(struct bs_place_map *map, struct bs_error *err)
{
	struct build bd = { .map = map, .err = err };
	uint32_t n = map->n_staged;
	int ret;

	if (map->finalized)
		return bs_error_set(err, -EBUSY,
				    "placement map is already built");
	pthread_once(&log2_once, log2_tbl_build);
	if (n)
		qsort(map->staged, n, sizeof(*map->staged), cmp_staged_id);
	for (uint32_t i = 1; i < n; i++)
		if (map->staged[i].id == map->staged[i - 1].id)
			return bs_error_set(err, -EEXIST,
					    "osd.%d is listed twice",
					    map->staged[i].id);

	/* +1: malloc(0) may return NULL */
	bd.host_of = malloc((size_t)n * sizeof(uint32_t) + 1);
	bd.hosts = malloc((size_t)n * sizeof(uint32_t) + 1);
	bd.racks = malloc((size_t)n * sizeof(uint32_t) + 1);
	bd.sites = malloc((size_t)n * sizeof(uint32_t) + 1);
	ret = -ENOMEM;
	if (!bd.host_of || !bd.hosts || !bd.racks || !bd.sites)
		goto out;
	ret = build_hosts(&bd);
	if (!ret)
		ret = build_racks(&bd);
	if (!ret) {
		build_sites(&bd);
		ret = build_tree(&bd);
	}
out:
	free(bd.host_of);
	free(bd.hosts);
	free(bd.racks);
	free(bd.sites);
	if (ret) {
		free(map->nodes);
		free(map->children);
		map->nodes = NULL;
		map->children = NULL;
		map->n_nodes = map->n_osds = map->root = 0;
		if (ret == -ENOMEM)
			return bs_error_set(err, ret,
					    "out of memory building the placement map");
		return ret;
	}
	free(map->staged);
	map->staged = NULL;
	map->n_staged = map->staged_cap = 0;
	map->finalized = true;
	return 0;
}

/* Map queries */

static const struct bs_place_node *find_osd(const struct bs_place_map *map,
					    int32_t id)
{
	uint32_t lo = 0, hi = map->finalized ? map->n_osds : 0;

	if (id < 0)
		return NULL;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t key = map->nodes[mid].hash_id;

		if (key == (uint32_t)id)
			return &map->nodes[mid];
		if (key > (uint32_t)id)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int bs_place_map_set_state(struct bs_place_map *map, int32_t osd, bool up,
			   bool in)
{
	struct bs_place_node *nd;

	if (!map->finalized)
		return -EINVAL;
	nd = (struct bs_place_node *)find_osd(map, osd);
	if (!nd)
		return -ENOENT;
	nd->state = (up ? ST_UP : 0) | (in ? ST_IN : 0);
	return 0;
}

bool bs_place_map_osd_is_up(const struct bs_place_map *map, int32_t osd)
{
	const struct bs_place_node *nd = find_osd(map, osd);

	return nd && (nd->state & ST_UP);
}

bool bs_place_map_osd_is_in(const struct bs_place_map *map, int32_t osd)
{
	const struct bs_place_node *nd = find_osd(map, osd);

	return nd && (nd->state & ST_IN);
}

const char *bs_place_map_domain_name(const struct bs_place_map *map,
				     int32_t osd, enum bs_place_level level)
{
	const struct bs_place_node *nd = find_osd(map, osd);

	if (!nd || level <= BS_PLACE_LEVEL_OSD || level >= BS_PLACE_LEVEL_ROOT)
		return NULL;
	while (map->nodes[nd->parent].level <= level)
		nd = &map->nodes[nd->parent];
	return map->names + nd->name;
}

unsigned bs_place_map_count_domains(const struct bs_place_map *map,
				    enum bs_place_level level)
{
	if (!map->finalized || (unsigned)level >= BS_PLACE_LEVEL_ROOT)
		return 0;
	return map->nodes[map->root].n_domains[level];
}

/* PGs to OSDs */

#define PICK_MAX	(BS_PLACE_MAX_SIZE * BS_PLACE_LEVEL_ROOT)

/*
 * One PG being placed.  chosen[] holds the failure domains taken so far;
 * used[]/used_weight[] how much weight of chosen domains lies below each
 * bucket above them, which that bucket no longer offers.
 */
struct pick {
	const struct bs_place_node *nodes;
	const uint32_t *children;
	uint32_t root;
	uint32_t x;		/* the PG's seed */
	unsigned level;		/* failure domain */
	unsigned n_chosen;
	unsigned n_used;
	uint32_t chosen[BS_PLACE_MAX_SIZE];
	uint32_t used[PICK_MAX];
	uint64_t used_weight[PICK_MAX];
};

/* Weight @node still offers: 0 once chosen or all its domains are. */
static uint64_t free_weight(const struct pick *p, uint32_t node)
{
	const struct bs_place_node *nd = &p->nodes[node];

	if (nd->level <= p->level) {
		for (unsigned i = 0; i < p->n_chosen; i++)
			if (p->chosen[i] == node)
				return 0;
		return nd->weight;
	}
	for (unsigned i = 0; i < p->n_used; i++)
		if (p->used[i] == node)
			return nd->weight - p->used_weight[i];
	return nd->weight;
}

/*
 * straw2: each child with weight w draws -log2(u) / w, u uniform from
 * hash3(x, child, r); the smallest draw wins.  Draws are compared as
 * fractions (cross-multiplied in 128 bits), so nothing is rounded; an
 * exact tie goes to the child with the smaller hash_id.  With @excl, a
 * child offers only its free_weight(), as if the chosen domains were gone.
 */
static uint32_t straw2(const struct pick *p, uint32_t bucket, uint32_t r,
		       bool excl)
{
	const struct bs_place_node *b = &p->nodes[bucket];
	const uint32_t *c = &p->children[b->first_child];
	uint32_t best = NO_NODE;
	uint64_t best_nl = 0, best_w = 1;

	for (uint32_t i = 0; i < b->n_children; i++) {
		const struct bs_place_node *nd = &p->nodes[c[i]];
		uint64_t w = excl ? free_weight(p, c[i]) : nd->weight;
		uint64_t nl;

		if (!w)
			continue;
		nl = neglog2(bs_place_hash3(p->x, nd->hash_id, r));
		if (best == NO_NODE || (unsigned __int128)nl * best_w <
				       (unsigned __int128)best_nl * w) {
			best = c[i];
			best_nl = nl;
			best_w = w;
		}
	}
	return best;
}

/* Descend from the root to a failure domain not chosen yet, drawing r. */
static uint32_t choose_domain(const struct pick *p, uint32_t r)
{
	uint32_t node = p->root;

	while (p->nodes[node].level > p->level) {
		node = straw2(p, node, r, true);
		if (node == NO_NODE)
			return NO_NODE;
	}
	return node;
}

/* Record domain @d as chosen: its weight leaves all its ancestors. */
static void mark_chosen(struct pick *p, uint32_t d)
{
	uint64_t w = p->nodes[d].weight;

	p->chosen[p->n_chosen++] = d;
	for (int32_t a = p->nodes[d].parent; a != NO_PARENT;
	     a = p->nodes[a].parent) {
		unsigned i = 0;

		while (i < p->n_used && p->used[i] != (uint32_t)a)
			i++;
		if (i == p->n_used) {
			p->used[p->n_used] = (uint32_t)a;
			p->used_weight[p->n_used++] = 0;
		}
		p->used_weight[i] += w;
	}
}

/*
 * Slot k tries r = k, k + 32, k + 64, ...: the domain is straw2's choice
 * among the domains not chosen yet; the OSD inside it is straw2's choice
 * keyed by the try number only, so it does not depend on the slot.  An
 * out OSD rejects the try.  Slot k's draws do not depend on the pool's
 * size, so a PG of size n is the first n slots of the same PG at size n+1.
 */
int bs_place_pg_acting(const struct bs_place_map *map,
		       const struct bs_place_pool *pool, uint32_t pg,
		       int32_t osds[BS_PLACE_MAX_SIZE])
{
	struct pick p;
	unsigned placed = 0;
	bool exhausted = false;

	if (!map->finalized || bs_place_pool_check(pool, NULL) ||
	    pg >= pool->pg_num)
		return -EINVAL;
	p.nodes = map->nodes;
	p.children = map->children;
	p.root = map->root;
	p.x = bs_place_hash3(pg, pool->id, 0);
	p.level = pool->failure_domain;
	p.n_chosen = 0;
	p.n_used = 0;

	for (unsigned k = 0; k < pool->size; k++) {
		osds[k] = BS_PLACE_NONE;
		for (uint32_t t = 0; !exhausted && t < BS_PLACE_TRIES; t++) {
			uint32_t r = k + BS_PLACE_MAX_SIZE * t;
			uint32_t d = choose_domain(&p, r), leaf = d;

			if (d == NO_NODE) {
				exhausted = true;
				break;
			}
			while (p.nodes[leaf].level > BS_PLACE_LEVEL_OSD)
				leaf = straw2(&p, leaf, t, false);
			if (!(p.nodes[leaf].state & ST_IN))
				continue;
			mark_chosen(&p, d);
			osds[k] = (int32_t)p.nodes[leaf].hash_id;
			placed++;
			break;
		}
	}
	if (!pool->positional) {
		unsigned j = 0;

		for (unsigned k = 0; k < pool->size; k++)
			if (osds[k] != BS_PLACE_NONE)
				osds[j++] = osds[k];
		while (j < pool->size)
			osds[j++] = BS_PLACE_NONE;
	}
	return (int)placed;
}

int bs_place_filter_up(const struct bs_place_map *map, const int32_t *acting,
		       unsigned n, int32_t *up)
{
	unsigned j = 0;

	for (unsigned i = 0; i < n; i++) {
		int32_t osd = acting[i];

		if (osd != BS_PLACE_NONE && bs_place_map_osd_is_up(map, osd))
			up[j++] = osd;
	}
	return (int)j;
}

int bs_place_primary(const struct bs_place_map *map, const int32_t *acting,
		     unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (acting[i] != BS_PLACE_NONE &&
		    bs_place_map_osd_is_up(map, acting[i]))
			return acting[i];
	return -ENOENT;
}

int bs_place_pg_up(const struct bs_place_map *map,
		   const struct bs_place_pool *pool, uint32_t pg,
		   int32_t osds[BS_PLACE_MAX_SIZE])
{
	int ret = bs_place_pg_acting(map, pool, pg, osds);

	if (ret < 0)
		return ret;
	ret = bs_place_filter_up(map, osds, pool->size, osds);
	for (unsigned i = (unsigned)ret; i < pool->size; i++)
		osds[i] = BS_PLACE_NONE;
	return ret;
}

int bs_place_pg_primary(const struct bs_place_map *map,
			const struct bs_place_pool *pool, uint32_t pg)
{
	int32_t osds[BS_PLACE_MAX_SIZE];
	int ret = bs_place_pg_acting(map, pool, pg, osds);

	if (ret < 0)
		return ret;
	return bs_place_primary(map, osds, pool->size);
}
