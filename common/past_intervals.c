// SPDX-License-Identifier: Apache-2.0
/*
 * Past intervals: the placement of past epochs rebuilt from the map's
 * history (each entry keeps the prior state of what its epoch changed),
 * and the intervals of one PG over them.  See bs/past_intervals.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/compiler.h"
#include "bs/past_intervals.h"

void bs_map_history_release(struct bs_map_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		bs_osdmap_put(&h->maps[i]);
	free(h->maps);
	memset(h, 0, sizeof(*h));
}

/* The oldest entry of a consecutive run of @cm's history up to its epoch. */
static size_t history_start(const Bs__ClusterMap *cm)
{
	size_t i = cm->n_history;

	if (!i || !cm->history[i - 1] ||
	    cm->history[i - 1]->epoch != cm->epoch)
		return cm->n_history;
	while (i > 1 && cm->history[i - 2] &&
	       cm->history[i - 2]->epoch + 1 == cm->history[i - 1]->epoch)
		i--;
	return i - 1;
}

/* Index of osd @id in @v (sorted by id), or where it would go. */
static size_t osd_find(Bs__OsdInfo **v, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Undo @c on the view (@osds, @pools): the map of the epoch before. */
static void undo(const Bs__MapChange *c, Bs__OsdInfo **osds, size_t *n_osds,
		 Bs__PoolInfo **pools, size_t *n_pools)
{
	if (c->has_osd) {
		size_t pos = osd_find(osds, *n_osds, c->osd);
		bool there = pos < *n_osds && osds[pos]->id == c->osd;

		if (c->prior && c->prior->id == c->osd) {
			if (!there) {
				memmove(&osds[pos + 1], &osds[pos],
					(*n_osds - pos) * sizeof(*osds));
				(*n_osds)++;
			}
			osds[pos] = c->prior;
		} else if (!c->prior && there) {
			memmove(&osds[pos], &osds[pos + 1],
				(*n_osds - pos - 1) * sizeof(*osds));
			(*n_osds)--;
		}
	}
	if (c->pool_created) {
		for (size_t i = 0; i < *n_pools; i++) {
			if (pools[i]->id != c->pool_created)
				continue;
			memmove(&pools[i], &pools[i + 1],
				(*n_pools - i - 1) * sizeof(*pools));
			(*n_pools)--;
			break;
		}
	}
}

int bs_map_history_build(struct bs_map_history *h, const Bs__ClusterMap *cm,
			 uint64_t since, const struct bs_map_history *prev,
			 struct bs_error *err)
{
	const struct bs_osdmap *old;
	size_t start = history_start(cm), n_osds, n_pools;
	uint64_t first = cm->epoch;
	Bs__OsdInfo **osds;
	Bs__PoolInfo **pools;
	Bs__ClusterMap view;
	int ret = 0;

	memset(h, 0, sizeof(*h));
	if (start < cm->n_history)
		first = cm->history[start]->epoch - 1;
	if (since > first)
		first = BS_MIN(since, cm->epoch);
	h->n = (size_t)(cm->epoch - first + 1);
	h->first = first;
	h->maps = calloc(h->n, sizeof(*h->maps));
	/* the history may add back removed OSDs: room for one per entry */
	osds = calloc(cm->n_osds + cm->n_history + 1, sizeof(*osds));
	pools = calloc(cm->n_pools + 1, sizeof(*pools));
	if (!h->maps || !osds || !pools) {
		ret = bs_error_set(err, -ENOMEM, "out of memory for %zu maps",
				   h->n);
		goto out;
	}
	n_osds = cm->n_osds;
	if (n_osds)
		memcpy(osds, cm->osds, n_osds * sizeof(*osds));
	n_pools = cm->n_pools;
	if (n_pools)
		memcpy(pools, cm->pools, n_pools * sizeof(*pools));
	view = *cm;
	for (size_t k = h->n, hi = cm->n_history; k-- > 0;) {
		view.epoch = first + k;
		view.osds = osds;
		view.n_osds = n_osds;
		view.pools = pools;
		view.n_pools = n_pools;
		view.n_history = 0;
		old = prev ? bs_map_history_at(prev, first + k) : NULL;
		if (old)
			h->maps[k] = bs_osdmap_get((struct bs_osdmap *)old);
		else if ((ret = bs_osdmap_new(&h->maps[k], &view, err)))
			goto out;
		if (k && hi > start && cm->history[hi - 1]->epoch == first + k)
			undo(cm->history[--hi], osds, &n_osds, pools,
			     &n_pools);
	}
out:
	free(osds);
	free(pools);
	if (ret)
		bs_map_history_release(h);
	return ret;
}

const struct bs_osdmap *bs_map_history_at(const struct bs_map_history *h,
					  uint64_t epoch)
{
	if (!h->n || epoch < h->first || epoch - h->first >= h->n)
		return NULL;
	return h->maps[epoch - h->first];
}

/* The PG's placement at @map into @iv (first/last untouched). */
static bool place(const struct bs_osdmap *map, uint32_t pool, uint32_t pg,
		  struct bs_past_interval *iv)
{
	const struct bs_osdmap_pool *p = bs_osdmap_pool(map, pool);
	int n;

	memset(iv, 0, sizeof(*iv));
	if (!p || pg >= p->place.pg_num)
		return false;
	n = bs_osdmap_pg_acting(map, p, pg, iv->acting);
	if (n < 0)
		return false;
	iv->n = (unsigned)n;
	for (unsigned i = 0; i < iv->n; i++) {
		const struct bs_osdmap_osd *o;

		if (iv->acting[i] < 0)
			continue;
		o = bs_osdmap_osd(map, iv->acting[i]);
		if (o && o->up) {
			iv->up_mask |= 1u << i;
			iv->n_up++;
		}
	}
	iv->maybe_rw = iv->n_up && iv->n_up >= p->min_size;
	return true;
}

static bool same_place(const struct bs_past_interval *a,
		       const struct bs_past_interval *b)
{
	return a->n == b->n && a->up_mask == b->up_mask &&
	       !memcmp(a->acting, b->acting, a->n * sizeof(a->acting[0]));
}

int bs_past_intervals(const struct bs_map_history *h, uint32_t pool,
		      uint32_t pg, uint64_t since,
		      struct bs_past_interval **out, size_t *n)
{
	struct bs_past_interval *v = NULL, cur;
	size_t nv = 0, cap = 0;
	uint64_t e = BS_MAX(since, h->first);

	*out = NULL;
	*n = 0;
	for (; h->n && e < h->first + h->n; e++) {
		if (!place(h->maps[e - h->first], pool, pg, &cur)) {
			nv = 0;		/* not yet created: start over */
			continue;
		}
		if (nv && same_place(&v[nv - 1], &cur)) {
			v[nv - 1].last = e;
			continue;
		}
		if (nv == cap) {
			struct bs_past_interval *nw;

			cap = cap ? 2 * cap : 8;
			nw = realloc(v, cap * sizeof(*v));
			if (!nw) {
				free(v);
				return -ENOMEM;
			}
			v = nw;
		}
		cur.first = cur.last = e;
		v[nv++] = cur;
	}
	*out = v;
	*n = nv;
	if (!nv)
		bs_free(out);
	return 0;
}
