// SPDX-License-Identifier: Apache-2.0
/*
 * Object metadata in memory and in RocksDB records: building a new version
 * of an object's extent map from the old one and a write (redirect-on-
 * write), the key layout and the header/chunk record codecs.  Pure logic:
 * no loop, no disk, no RocksDB.  Formats are in store_int.h.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bs/error.h"
#include "bs/frame.h"
#include "store_int.h"

static struct obj_ver *ver_alloc(uint32_t n_ext, uint32_t n_blk)
{
	struct obj_ver *v;

	v = bs_xmalloc(sizeof(*v) + (size_t)n_ext * sizeof(struct extent) +
		       (size_t)n_blk * sizeof(uint32_t));
	memset(v, 0, sizeof(*v));
	v->refs = 1;
	v->ext = (struct extent *)(v + 1);
	v->crc = (uint32_t *)(v->ext + n_ext);
	return v;
}

void ver_get(struct obj_ver *v)
{
	v->refs++;
}

void ver_put(struct obj_ver **vp)
{
	struct obj_ver *v = *vp;

	*vp = NULL;
	if (v && --v->refs == 0)
		free(v);
}

struct obj_ver *ver_new_empty(uint64_t version, uint64_t size)
{
	struct obj_ver *v = ver_alloc(0, 0);

	v->version = version;
	v->size = size;
	return v;
}

/* Append an extent with its crcs, merging it into the last one if it can. */
static void push(struct obj_ver *v, uint32_t lblk, uint32_t nblk,
		 uint64_t pblk, const uint32_t *crc)
{
	struct extent *last = v->n_ext ? &v->ext[v->n_ext - 1] : NULL;

	if (!nblk)
		return;
	memcpy(&v->crc[v->n_blk], crc, nblk * sizeof(*crc));
	if (last && last->lblk + last->nblk == lblk &&
	    last->pblk + last->nblk == pblk) {
		last->nblk += nblk;
	} else {
		struct extent *e = &v->ext[v->n_ext++];

		e->lblk = lblk;
		e->nblk = nblk;
		e->pblk = pblk;
		e->crc_idx = v->n_blk;
	}
	v->n_blk += nblk;
}

struct obj_ver *ver_apply(const struct obj_ver *old, uint32_t lb0,
			  uint32_t lb1, const struct store_run *runs,
			  unsigned nruns, const uint32_t *crc,
			  uint64_t version, uint64_t size,
			  struct ext_free **freed)
{
	uint32_t max_ext = nruns, max_blk = 0, i, i0, ci, n;
	struct ext_free *fr = NULL;
	struct obj_ver *v;

	for (i = 0; i < nruns; i++)
		max_blk += runs[i].nblk;
	if (old) {
		max_ext += old->n_ext + 1;
		max_blk += old->n_blk;
	}
	v = ver_alloc(max_ext, max_blk);
	v->version = version;
	v->size = size;
	*freed = NULL;
	if (!old)
		goto add_runs;

	/*
	 * The old blocks before the range: whole extents in one copy (crcs
	 * are stored in extent order, so their crc_idx stay), then the part
	 * of one that runs into the range.
	 */
	i0 = ver_find(old, lb0);
	if (i0) {
		const struct extent *e = &old->ext[i0 - 1];

		memcpy(v->ext, old->ext, (size_t)i0 * sizeof(*v->ext));
		v->n_ext = i0;
		v->n_blk = e->crc_idx + e->nblk;
		memcpy(v->crc, old->crc, (size_t)v->n_blk * sizeof(*v->crc));
	}
	if (i0 < old->n_ext && old->ext[i0].lblk < lb0) {
		const struct extent *e = &old->ext[i0];

		push(v, e->lblk, lb0 - e->lblk, e->pblk, &old->crc[e->crc_idx]);
	}
	/* the old blocks inside it are dropped */
	for (i = i0, n = 0; i < old->n_ext && old->ext[i].lblk < lb1; i++)
		n++;
	if (n) {
		fr = bs_xmalloc(sizeof(*fr) + n * sizeof(fr->runs[0]));
		fr->next = NULL;
		fr->seq = 0;
		fr->n = 0;
	}
	for (i = i0; i < old->n_ext && old->ext[i].lblk < lb1; i++) {
		const struct extent *e = &old->ext[i];
		uint32_t s = BS_MAX(e->lblk, lb0);
		uint32_t t = BS_MIN(e->lblk + e->nblk, lb1);

		fr->runs[fr->n].pblk = e->pblk + (s - e->lblk);
		fr->runs[fr->n].nblk = t - s;
		fr->n++;
	}
	*freed = fr;

add_runs:
	for (i = 0, ci = 0; i < nruns; i++) {
		assert(runs[i].lblk >= lb0 && runs[i].lblk + runs[i].nblk <= lb1);
		push(v, runs[i].lblk, runs[i].nblk, runs[i].pblk, &crc[ci]);
		ci += runs[i].nblk;
	}
	if (!old)
		return v;

	/*
	 * The old blocks after the range: the first extent through push()
	 * (it may start inside the range, or merge), the rest copied whole
	 * with their crc_idx moved.
	 */
	i = ver_find(old, lb1);
	if (i < old->n_ext) {
		const struct extent *e = &old->ext[i];
		uint32_t s = BS_MAX(e->lblk, lb1);

		push(v, s, e->lblk + e->nblk - s, e->pblk + (s - e->lblk),
		     &old->crc[e->crc_idx + (s - e->lblk)]);
		i++;
	}
	if (i < old->n_ext) {
		uint32_t from = old->ext[i].crc_idx, nb, k;

		nb = old->n_blk - from;
		memcpy(&v->crc[v->n_blk], &old->crc[from],
		       (size_t)nb * sizeof(*v->crc));
		for (k = i; k < old->n_ext; k++) {
			struct extent *d = &v->ext[v->n_ext++];

			*d = old->ext[k];
			d->crc_idx = d->crc_idx - from + v->n_blk;
		}
		v->n_blk += nb;
	}
	return v;
}

uint32_t ver_find(const struct obj_ver *v, uint32_t lblk)
{
	uint32_t lo = 0, hi = v->n_ext;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->ext[mid].lblk + v->ext[mid].nblk > lblk)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct ext_free *ver_all_blocks(const struct obj_ver *v)
{
	struct ext_free *fr;
	uint32_t i;

	if (!v || !v->n_ext)
		return NULL;
	fr = bs_xmalloc(sizeof(*fr) + v->n_ext * sizeof(fr->runs[0]));
	fr->next = NULL;
	fr->seq = 0;
	fr->n = v->n_ext;
	for (i = 0; i < v->n_ext; i++) {
		fr->runs[i].pblk = v->ext[i].pblk;
		fr->runs[i].nblk = v->ext[i].nblk;
	}
	return fr;
}

/* keys */

static void put_be32(uint8_t *p, uint32_t x)
{
	x = htobe32(x);
	memcpy(p, &x, 4);
}

static void put_be64(uint8_t *p, uint64_t x)
{
	x = htobe64(x);
	memcpy(p, &x, 8);
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return be32toh(x);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return be64toh(x);
}

void key_obj(const struct store_oid *oid, uint8_t *out)
{
	out[0] = KEY_OBJ;
	put_be32(out + 1, oid->pool);
	put_be32(out + 5, oid->pg);
	put_be64(out + 9, oid->volume);
	put_be64(out + 17, oid->objnum);
}

void key_chunk(const struct store_oid *oid, uint32_t chunk, uint8_t *out)
{
	key_obj(oid, out);
	put_be32(out + KEY_OBJ_LEN, chunk);
}

void key_decode_oid(const uint8_t *key, struct store_oid *oid)
{
	oid->pool = get_be32(key + 1);
	oid->pg = get_be32(key + 5);
	oid->volume = get_be64(key + 9);
	oid->objnum = get_be64(key + 17);
}

size_t key_pg(uint32_t pool, uint32_t pg, const void *key, size_t klen,
	      uint8_t *out)
{
	out[0] = KEY_PG;
	put_be32(out + 1, pool);
	put_be32(out + 5, pg);
	if (klen)
		memcpy(out + KEY_PG_PREFIX_LEN, key, klen);
	return KEY_PG_PREFIX_LEN + klen;
}

/* records (little-endian: the host order, checked in store_int.h) */

static void put_le32(uint8_t *p, uint32_t x)
{
	memcpy(p, &x, 4);
}

static void put_le64(uint8_t *p, uint64_t x)
{
	memcpy(p, &x, 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

void rec_encode_hdr(const struct obj_ver *v, uint8_t *out)
{
	memset(out, 0, OBJ_HDR_LEN);
	put_le32(out, OBJ_HDR_MAGIC);
	put_le64(out + 8, v->version);
	put_le64(out + 16, v->size);
	put_le32(out + 28, bs_crc32c(0, out, 28));
}

int rec_decode_hdr(const void *val, size_t len, uint64_t *version,
		   uint64_t *size)
{
	const uint8_t *p = val;

	if (len != OBJ_HDR_LEN || get_le32(p) != OBJ_HDR_MAGIC ||
	    get_le32(p + 28) != bs_crc32c(0, p, 28))
		return -EINVAL;
	*version = get_le64(p + 8);
	*size = get_le64(p + 16);
	return 0;
}

size_t rec_encode_chunk(const struct obj_ver *v, uint32_t chunk,
			uint8_t *out)
{
	uint32_t c0 = chunk * CHUNK_BLOCKS, c1 = c0 + CHUNK_BLOCKS;
	uint32_t first = ver_find(v, c0), i, n = 0;
	uint8_t *p = out + 8;

	for (i = first; i < v->n_ext && v->ext[i].lblk < c1; i++) {
		const struct extent *e = &v->ext[i];
		uint32_t s = BS_MAX(e->lblk, c0);
		uint32_t t = BS_MIN(e->lblk + e->nblk, c1);

		put_le32(p, s);
		put_le32(p + 4, t - s);
		put_le64(p + 8, e->pblk + (s - e->lblk));
		p += 16;
		n++;
	}
	if (!n)
		return 0;
	for (i = first; i < v->n_ext && v->ext[i].lblk < c1; i++) {
		const struct extent *e = &v->ext[i];
		uint32_t s = BS_MAX(e->lblk, c0);
		uint32_t t = BS_MIN(e->lblk + e->nblk, c1);

		memcpy(p, &v->crc[e->crc_idx + (s - e->lblk)], 4 * (t - s));
		p += 4 * (t - s);
	}
	put_le32(out, OBJ_CHUNK_MAGIC);
	put_le32(out + 4, n);
	put_le32(p, bs_crc32c(0, out, (size_t)(p - out)));
	return (size_t)(p - out) + 4;
}

void builder_init(struct ver_builder *b, uint64_t version, uint64_t size)
{
	memset(b, 0, sizeof(*b));
	b->version = version;
	b->size = size;
}

void builder_release(struct ver_builder *b)
{
	bs_free(&b->ext);
	bs_free(&b->crc);
}

int builder_add_chunk(struct ver_builder *b, uint32_t chunk,
		      const void *val, size_t len, struct bs_error *err)
{
	const uint8_t *p = val, *ep, *cp;
	uint64_t c0 = (uint64_t)chunk * CHUNK_BLOCKS, c1 = c0 + CHUNK_BLOCKS;
	uint32_t n, i, nblk = 0, prev_end = 0;

	if (chunk < b->next_chunk || c1 > STORE_MAX_OBJECT_SIZE /
					     STORE_BLOCK_SIZE)
		return bs_error_set(err, -EINVAL, "chunk %" PRIu32
				    " out of order or range", chunk);
	if (len < 12 || get_le32(p) != OBJ_CHUNK_MAGIC)
		return bs_error_set(err, -EINVAL, "chunk %" PRIu32
				    ": bad magic or length", chunk);
	n = get_le32(p + 4);
	if (n < 1 || n > CHUNK_BLOCKS || len < 8 + 16 * (size_t)n + 4)
		return bs_error_set(err, -EINVAL, "chunk %" PRIu32
				    ": bad extent count %" PRIu32, chunk, n);
	ep = p + 8;
	for (i = 0; i < n; i++) {
		uint32_t l = get_le32(ep + 16 * i), k = get_le32(ep + 16 * i + 4);
		uint64_t pb = get_le64(ep + 16 * i + 8);

		if (k == 0 || l < c0 || (uint64_t)l + k > c1 ||
		    (i && l < prev_end) || pb + k < pb)
			return bs_error_set(err, -EINVAL, "chunk %" PRIu32
					    ": bad extent %" PRIu32, chunk, i);
		prev_end = l + k;
		nblk += k;
	}
	if (len != 8 + 16 * (size_t)n + 4 * (size_t)nblk + 4 ||
	    get_le32(p + len - 4) != bs_crc32c(0, p, len - 4))
		return bs_error_set(err, -EINVAL, "chunk %" PRIu32
				    ": bad length or record crc", chunk);

	if (b->n_ext + n > b->cap_ext) {
		b->cap_ext = (b->n_ext + n) * 2;
		b->ext = bs_xrealloc(b->ext, b->cap_ext * sizeof(*b->ext));
	}
	if (b->n_blk + nblk > b->cap_blk) {
		b->cap_blk = (b->n_blk + nblk) * 2;
		b->crc = bs_xrealloc(b->crc, b->cap_blk * sizeof(*b->crc));
	}
	cp = ep + 16 * n;
	memcpy(&b->crc[b->n_blk], cp, 4 * (size_t)nblk);
	for (i = 0; i < n; i++) {
		struct extent *last = b->n_ext ? &b->ext[b->n_ext - 1] : NULL;
		uint32_t l = get_le32(ep + 16 * i), k = get_le32(ep + 16 * i + 4);
		uint64_t pb = get_le64(ep + 16 * i + 8);

		if (last && last->lblk + last->nblk == l &&
		    last->pblk + last->nblk == pb) {
			last->nblk += k;
		} else {
			struct extent *e = &b->ext[b->n_ext++];

			e->lblk = l;
			e->nblk = k;
			e->pblk = pb;
			e->crc_idx = b->n_blk;
		}
		b->n_blk += k;
	}
	b->next_chunk = chunk + 1;
	return 0;
}

struct obj_ver *builder_finish(struct ver_builder *b)
{
	struct obj_ver *v = ver_alloc(b->n_ext, b->n_blk);

	v->version = b->version;
	v->size = b->size;
	v->n_ext = b->n_ext;
	v->n_blk = b->n_blk;
	if (b->n_ext)
		memcpy(v->ext, b->ext, b->n_ext * sizeof(*b->ext));
	if (b->n_blk)
		memcpy(v->crc, b->crc, b->n_blk * sizeof(*b->crc));
	return v;
}
