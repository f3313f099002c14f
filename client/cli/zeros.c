// SPDX-License-Identifier: Apache-2.0
/*
 * Finding the data in a buffer: runs of blocks that are not all zero, so
 * that volume import writes only those (the volume stays thin) and volume
 * export leaves holes in a sparse file.  Pure code, unit-tested alone
 * (tests/unit/test_cli_data.c).
 */
#include <string.h>

#include "cli.h"

/* Is @buf[0..@n) all zero?  @zero holds @zlen zero bytes. */
static bool is_zero(const uint8_t *buf, size_t n, const void *zero,
		    size_t zlen)
{
	size_t k;

	while (n) {
		k = BS_MIN(n, zlen);
		if (memcmp(buf, zero, k))
			return false;
		buf += k;
		n -= k;
	}
	return true;
}

bool cli_find_data(const uint8_t *buf, size_t len, size_t block,
		   size_t *pos, size_t *run)
{
	static const uint64_t zero[64];
	size_t p = *pos, start, n;

	/* Skip whole zero blocks. */
	while (p < len) {
		n = BS_MIN(block, len - p);
		if (!is_zero(buf + p, n, zero, sizeof(zero)))
			break;
		p += n;
	}
	if (p >= len) {
		*pos = len;
		return false;
	}
	start = p;
	while (p < len) {
		n = BS_MIN(block, len - p);
		if (is_zero(buf + p, n, zero, sizeof(zero)))
			break;
		p += n;
	}
	*pos = start;
	*run = p - start;
	return true;
}
