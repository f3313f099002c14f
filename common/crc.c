// SPDX-License-Identifier: Apache-2.0
/*
 * crc32c (Castagnoli, the iSCSI polynomial) on top of ISA-L.  ISA-L's
 * crc32_iscsi() neither inverts its seed nor its result; the standard
 * CRC-32C does both, so bs_crc32c() wraps it with ~ on the way in and out.
 * Check value: bs_crc32c(0, "123456789", 9) == 0xe3069283.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <isa-l.h>

#include "bs/frame.h"

uint32_t bs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;
	uint32_t c = ~crc;

	/* ISA-L takes an int length */
	while (len > 0) {
		int n = len > (size_t)(INT_MAX & ~4095) ? (INT_MAX & ~4095)
							 : (int)len;

		c = crc32_iscsi(p, n, c);
		p += n;
		len -= (size_t)n;
	}
	return ~c;
}
