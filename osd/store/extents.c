// SPDX-License-Identifier: Apache-2.0
/*
 * store_extents(): which byte ranges of an object hold data, from the
 * in-memory extent map of its durable version.  Serves OSD_OP_EXTENTS
 * (NBD block status, sparse copies).
 */
#include <errno.h>

#include "store_int.h"

int store_extents(struct store *s, const struct store_oid *oid, uint64_t off,
		  uint64_t len, uint64_t (*ranges)[2], size_t max, size_t *n)
{
	const struct obj_ver *v;
	struct obj *o;
	uint64_t end = off + len;
	uint32_t lb0, lb1, i;
	size_t cnt = 0;

	*n = 0;
	if (!len || off >= STORE_MAX_OBJECT_SIZE ||
	    len > STORE_MAX_OBJECT_SIZE - off)
		return -EINVAL;
	o = obj_lookup(s, oid);
	if (!o || !o->durable)
		return -ENOENT;
	v = o->durable;
	lb0 = (uint32_t)(off / STORE_BLOCK_SIZE);
	lb1 = (uint32_t)((end + STORE_BLOCK_SIZE - 1) / STORE_BLOCK_SIZE);
	for (i = ver_find(v, lb0); i < v->n_ext && v->ext[i].lblk < lb1; i++) {
		uint64_t a = (uint64_t)v->ext[i].lblk * STORE_BLOCK_SIZE;
		uint64_t b = a + (uint64_t)v->ext[i].nblk * STORE_BLOCK_SIZE;

		a = BS_MAX(a, off);
		b = BS_MIN(b, end);
		if (a >= b)
			continue;
		if (cnt && ranges[cnt - 1][0] + ranges[cnt - 1][1] == a) {
			ranges[cnt - 1][1] += b - a;
			continue;
		}
		if (cnt == max) {
			*n = cnt;
			return -E2BIG;
		}
		ranges[cnt][0] = a;
		ranges[cnt][1] = b - a;
		cnt++;
	}
	*n = cnt;
	return 0;
}
