// SPDX-License-Identifier: Apache-2.0
/*
 * The logical size and allocation of an erasure-coded object.  A shard's
 * own size and extent map describe shard space, padded to whole stripe
 * units, so every member keeps beside its shard a per-PG blob
 * ('E' volume objnum) written in the same store batch as the shard:
 *
 *   off  size  field (little-endian)
 *     0     4  magic 'ECMB'
 *     4     4  reserved 0
 *     8     8  version    the shard version it describes
 *    16     8  size       logical end of the highest byte written
 *    24     n  one bit per logical 4 KiB block below size: it holds
 *              data (1) or is a hole (0); n = ceil(size / 4 KiB / 8)
 *
 * The primary computes the next blob from its own and sends it with every
 * shard write (RepOp.ec_meta); STAT and EXTENTS answer from it.  A blob
 * of another version than the shard's is stale and not used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "osd.h"

#define EC_META_MAGIC	0x424d4345u	/* "ECMB" */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static size_t map_bytes(uint64_t size)
{
	uint64_t blocks = (size + EC_META_BLOCK - 1) / EC_META_BLOCK;

	return (size_t)((blocks + 7) / 8);
}

void ec_meta_key(const struct store_oid *oid, uint8_t key[EC_META_KEY_LEN])
{
	key[0] = PG_KEY_EC_META;
	for (unsigned i = 0; i < 8; i++) {
		key[1 + i] = (uint8_t)(oid->volume >> (56 - 8 * i));
		key[9 + i] = (uint8_t)(oid->objnum >> (56 - 8 * i));
	}
}

int ec_meta_decode(const void *val, size_t len, struct ec_meta *m)
{
	const uint8_t *p = val;
	uint64_t size;
	size_t n;

	if (len < EC_META_HDR_LEN || get_le32(p) != EC_META_MAGIC ||
	    get_le32(p + 4))
		return -EINVAL;
	size = get_le64(p + 16);
	if (size > STORE_MAX_OBJECT_SIZE)
		return -EINVAL;
	n = map_bytes(size);
	if (len != EC_META_HDR_LEN + n)
		return -EINVAL;
	if (m) {
		m->version = get_le64(p + 8);
		m->size = size;
		memset(m->map, 0, sizeof(m->map));
		memcpy(m->map, p + EC_META_HDR_LEN, n);
	}
	return 0;
}

size_t ec_meta_encode(const struct ec_meta *m, uint8_t *out)
{
	size_t n = map_bytes(m->size);

	put_le32(out, EC_META_MAGIC);
	put_le32(out + 4, 0);
	put_le64(out + 8, m->version);
	put_le64(out + 16, m->size);
	memcpy(out + EC_META_HDR_LEN, m->map, n);
	return EC_META_HDR_LEN + n;
}

int ec_meta_check(const void *val, size_t len, uint64_t version)
{
	int ret = ec_meta_decode(val, len, NULL);

	if (!ret && get_le64((const uint8_t *)val + 8) != version)
		ret = -ESTALE;
	return ret;
}

int ec_meta_get(struct osd *osd, const struct store_oid *oid,
		uint64_t version, void **val, size_t *len)
{
	uint8_t key[EC_META_KEY_LEN];
	int ret;

	*val = NULL;
	*len = 0;
	ec_meta_key(oid, key);
	ret = store_pg_get(osd->store, oid->pool, oid->pg, key, sizeof(key),
			   val, len);
	if (!ret)
		ret = ec_meta_check(*val, *len, version);
	if (ret) {
		bs_free(val);
		*len = 0;
	}
	return ret;
}

int ec_meta_load(struct osd *osd, const struct store_oid *oid,
		 uint64_t version, struct ec_meta *m)
{
	uint8_t key[EC_META_KEY_LEN];
	void *val = NULL;
	size_t vlen = 0;
	int ret;

	ec_meta_key(oid, key);
	ret = store_pg_get(osd->store, oid->pool, oid->pg, key, sizeof(key),
			   &val, &vlen);
	if (!ret)
		ret = ec_meta_decode(val, vlen, m);
	free(val);
	if (!ret && m->version != version)
		ret = -ESTALE;
	return ret;
}

static void set_bits(struct ec_meta *m, uint64_t b0, uint64_t b1, bool on)
{
	for (uint64_t b = b0; b < b1; b++) {
		if (on)
			m->map[b / 8] |= (uint8_t)(1u << (b % 8));
		else
			m->map[b / 8] &= (uint8_t)~(1u << (b % 8));
	}
}

static bool bit(const struct ec_meta *m, uint64_t b)
{
	return m->map[b / 8] >> (b % 8) & 1;
}

void ec_meta_apply(struct ec_meta *m, unsigned kind, uint32_t flags,
		   uint64_t off, uint64_t len)
{
	uint64_t end = off + len, B = EC_META_BLOCK;

	if (end > STORE_MAX_OBJECT_SIZE || end < off)
		return;		/* op_validate() refused it already */
	switch (kind) {
	case BS__OSD_OP_KIND__OSD_OP_WRITE:
		m->size = BS_MAX(m->size, end);
		set_bits(m, off / B, (end + B - 1) / B, true);
		break;
	case BS__OSD_OP_KIND__OSD_OP_WRITE_ZEROES:
		m->size = BS_MAX(m->size, end);
		if (flags & BS__OSD_OP_FLAG__OSD_FLAG_NO_HOLE) {
			set_bits(m, off / B, (end + B - 1) / B, true);
			break;
		}
		/* fall through: whole blocks become holes, as in the store */
	case BS__OSD_OP_KIND__OSD_OP_DISCARD:
		if ((off + B - 1) / B < end / B)
			set_bits(m, (off + B - 1) / B, end / B, false);
		break;
	default:
		break;
	}
}

size_t ec_meta_extents(const struct ec_meta *m, uint64_t off, uint64_t len,
		       uint64_t (*ranges)[2], size_t max)
{
	uint64_t B = EC_META_BLOCK;
	uint64_t top = (m->size + B - 1) / B * B;
	uint64_t end = BS_MIN(off + len, top);
	size_t n = 0;

	for (uint64_t b = off / B; b * B < end && n < max; b++) {
		uint64_t lo, hi;

		if (!bit(m, b))
			continue;
		lo = BS_MAX(b * B, off);
		hi = BS_MIN((b + 1) * B, end);
		if (n && ranges[n - 1][0] + ranges[n - 1][1] == lo)
			ranges[n - 1][1] += hi - lo;
		else if (n < max) {
			ranges[n][0] = lo;
			ranges[n][1] = hi - lo;
			n++;
		}
	}
	return n;
}

void ec_meta_attach(struct osd_op *op, const void *val, size_t len)
{
	ec_meta_key(&op->oid, op->ec_key);
	store_op_attach_pg(&op->sop, op->oid.pool, op->oid.pg, op->ec_key,
			   EC_META_KEY_LEN, val, len);
}
