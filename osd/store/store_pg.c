// SPDX-License-Identifier: Apache-2.0
/*
 * Per-PG helpers for the OSD's peering and reporting: per-PG object
 * counts in one pass over the in-memory metadata, the PGs that keep a
 * given per-PG blob (a blocking RocksDB scan, for start-up), many per-PG
 * blobs put in one atomic batch, and where an object's block lives on the
 * disk (debugging and tests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "store_int.h"

static int stat_cmp(const void *a, const void *b)
{
	const struct store_pg_stat *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->pg != y->pg)
		return x->pg < y->pg ? -1 : 1;
	return 0;
}

int store_pg_stats(struct store *s, struct store_pg_stat **out, size_t *n)
{
	struct store_pg_stat *v = NULL;
	size_t cnt = 0, cap = 0, i, w;

	for (i = 0; i < s->nbuckets; i++) {
		struct obj *o;

		for (o = s->buckets[i]; o; o = o->hnext) {
			if (!o->durable)
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				v = bs_xrealloc(v, cap * sizeof(*v));
			}
			v[cnt].pool = o->oid.pool;
			v[cnt].pg = o->oid.pg;
			v[cnt].objects = 1;
			v[cnt].bytes = o->durable->size;
			v[cnt].allocated = (uint64_t)o->durable->n_blk *
					   STORE_BLOCK_SIZE;
			cnt++;
		}
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), stat_cmp);
	/* fold runs of one PG */
	for (i = 0, w = 0; i < cnt; i++) {
		if (w && !stat_cmp(&v[w - 1], &v[i])) {
			v[w - 1].objects++;
			v[w - 1].bytes += v[i].bytes;
			v[w - 1].allocated += v[i].allocated;
			continue;
		}
		v[w++] = v[i];
	}
	*out = v;
	*n = w;
	return 0;
}

struct blob_scan {
	uint8_t key0;
	struct store_pg_stat *v;
	size_t cnt, cap;
};

static int blob_one(void *opaque, const uint8_t *key, size_t klen,
		    const uint8_t *val, size_t vlen)
{
	struct blob_scan *b = opaque;
	uint32_t pool, pg;

	(void)val;
	(void)vlen;
	if (klen <= KEY_PG_PREFIX_LEN || key[KEY_PG_PREFIX_LEN] != b->key0)
		return 0;
	pool = (uint32_t)key[1] << 24 | (uint32_t)key[2] << 16 |
	       (uint32_t)key[3] << 8 | key[4];
	pg = (uint32_t)key[5] << 24 | (uint32_t)key[6] << 16 |
	     (uint32_t)key[7] << 8 | key[8];
	if (b->cnt && b->v[b->cnt - 1].pool == pool &&
	    b->v[b->cnt - 1].pg == pg)
		return 0;
	if (b->cnt == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = bs_xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	memset(&b->v[b->cnt], 0, sizeof(b->v[b->cnt]));
	b->v[b->cnt].pool = pool;
	b->v[b->cnt].pg = pg;
	b->cnt++;
	return 0;
}

int store_blob_pgs(struct store *s, uint8_t key0, struct store_pg_stat **out,
		   size_t *n)
{
	uint8_t lo = KEY_PG, hi = KEY_PG + 1;
	struct blob_scan b = { .key0 = key0 };
	int ret;

	ret = meta_iterate(s->meta, &lo, 1, &hi, 1, blob_one, &b);
	if (ret) {
		free(b.v);
		return ret;
	}
	*out = b.v;
	*n = b.cnt;
	return 0;
}

int store_locate(struct store *s, const struct store_oid *oid, uint64_t off,
		 struct store_obj_stat *st, uint64_t *disk_off)
{
	struct obj *o = obj_lookup(s, oid);
	const struct obj_ver *v;
	uint32_t lblk, i;

	if (!o || !o->durable)
		return -ENOENT;
	if (off >= STORE_MAX_OBJECT_SIZE)
		return -EINVAL;
	v = o->durable;
	st->version = v->version;
	st->size = v->size;
	st->allocated = (uint64_t)v->n_blk * STORE_BLOCK_SIZE;
	lblk = (uint32_t)(off / STORE_BLOCK_SIZE);
	i = ver_find(v, lblk);
	if (i >= v->n_ext || v->ext[i].lblk > lblk)
		return -ENODATA;
	*disk_off = (v->ext[i].pblk + (lblk - v->ext[i].lblk)) *
		    STORE_BLOCK_SIZE + off % STORE_BLOCK_SIZE;
	return 0;
}

void store_pg_put_many(struct store *s, struct store_op *op, uint32_t pool,
		       uint32_t pg, const struct store_pg_kv *kv, size_t n)
{
	uint8_t pk[KEY_PG_PREFIX_LEN + STORE_PG_KEY_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		if (!kv[i].klen || kv[i].klen > STORE_PG_KEY_MAX ||
		    kv[i].vlen > STORE_PG_VALUE_MAX)
			break;
	if (!n || i < n) {
		/* let store_pg_put() fail it the usual way (-EINVAL) */
		store_pg_put(s, op, pool, pg, NULL, 0, NULL, 0);
		return;
	}
	if (s->broken) {
		/* -EIO, nothing put */
		store_pg_put(s, op, pool, pg, kv[0].key, kv[0].klen, NULL, 0);
		return;
	}
	for (i = 0; i + 1 < n; i++) {
		size_t pklen = key_pg(pool, pg, kv[i].key, kv[i].klen, pk);

		if (kv[i].val)
			meta_put(s->meta, pk, pklen, kv[i].val, kv[i].vlen);
		else
			meta_delete(s->meta, pk, pklen);
	}
	/* the last one carries the op: durable with everything before it */
	store_pg_put(s, op, pool, pg, kv[n - 1].key, kv[n - 1].klen,
		     kv[n - 1].val, kv[n - 1].vlen);
}
