// SPDX-License-Identifier: Apache-2.0
/*
 * How the CLI names what it shows: PG ids as Ceph writes them ("1.2f":
 * pool id in decimal, PG in hex) and objects ("vol.2a.0000000000000003":
 * volume id in hex, object number in 16 hex digits).  Pure code,
 * unit-tested alone (tests/unit/test_cli_data.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_pgid(const char *what, const char *s, uint32_t *pool,
		   uint32_t *pg, struct bs_error *err)
{
	size_t np = strspn(s, "0123456789"), ng;
	unsigned long long p, g;

	/* POOL_ID "." PG: 1-10 decimal digits, then 1-8 hex digits. */
	ng = s[np] == '.' ? strspn(s + np + 1, "0123456789abcdefABCDEF") : 0;
	if (np < 1 || np > 10 || ng < 1 || ng > 8 || s[np + 1 + ng])
		return bs_error_set(err, -EINVAL,
				    "'%s': '%s' is not a PG id (POOL_ID.PG in hex, e.g. 1.2f)",
				    what, s);
	p = strtoull(s, NULL, 10);
	g = strtoull(s + np + 1, NULL, 16);
	if (p > UINT32_MAX)
		return bs_error_set(err, -ERANGE,
				    "'%s': pool id %llu in '%s' is too large",
				    what, p, s);
	*pool = (uint32_t)p;
	*pg = (uint32_t)g;
	return 0;
}

const char *cli_object_name(uint64_t volume, uint64_t objnum, char *buf,
			    size_t len)
{
	snprintf(buf, len, "vol.%" PRIx64 ".%016" PRIx64, volume, objnum);
	return buf;
}
