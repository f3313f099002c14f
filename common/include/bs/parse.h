/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing numbers from people: no empty strings, no trailing garbage, no
 * overflow, no sign on unsigned values.  Size suffixes K/M/G/T/P (also KiB
 * ...) are powers of 1024; durations take ms/s/m/h (bare numbers are
 * milliseconds).  Errors name @what: "'--size': '10X' is not a size".
 *
 * Each function returns 0 and sets *out, or returns -EINVAL (malformed)
 * or -ERANGE (does not fit in 64 bits) with @err set and *out untouched.
 * @what may be NULL ("value").
 */
#ifndef BS_PARSE_H
#define BS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bs/error.h"

/* Decimal digits only: no sign, spaces, "0x" or suffix. */
int bs_parse_u64(const char *what, const char *s, uint64_t *out,
		 struct bs_error *err);
/*
 * "512", "4k", "10G", "10GiB", "10 GiB", "1.5G": suffixes B, K, M, G, T, P,
 * optionally followed by "iB" or "B" (all powers of 1024, any case), one
 * optional space before the suffix.  A fraction is accepted only if the
 * result is a whole number of bytes ("1.5K" yes, "1.3K" no).
 */
int bs_parse_size(const char *what, const char *s, uint64_t *out,
		  struct bs_error *err);
/* "500ms", "5s", "2m", "1h", "1.5s"; bare numbers are milliseconds. */
int bs_parse_duration_ms(const char *what, const char *s, uint64_t *out,
			 struct bs_error *err);
/* true/false, yes/no, on/off, 1/0 */
int bs_parse_bool(const char *what, const char *s, bool *out,
		  struct bs_error *err);

/*
 * Print @bytes as "10 GiB", "512 KiB", "100 B" into @buf, in the largest
 * unit that divides it exactly ("1536 B", "3 GiB"), so that
 * bs_parse_size() reads back the same number.  24 bytes always suffice.
 * Returns @buf.
 */
const char *bs_format_size(uint64_t bytes, char *buf, size_t len);

/* Print @ms as "500ms", "5s", "2m", "1h" (exact, as above).  Returns @buf. */
const char *bs_format_duration_ms(uint64_t ms, char *buf, size_t len);

#endif /* BS_PARSE_H */
