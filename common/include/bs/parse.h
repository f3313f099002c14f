/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing numbers from people: no empty strings, no trailing garbage, no
 * overflow, no sign on unsigned values.  Size suffixes K/M/G/T/P (also KiB
 * ...) are powers of 1024; durations take ms/s/m/h (bare numbers are
 * milliseconds).  Errors name @what: "'--size': '10X' is not a size".
 */
#ifndef BS_PARSE_H
#define BS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "bs/error.h"

int bs_parse_u64(const char *what, const char *s, uint64_t *out,
		 struct bs_error *err);
int bs_parse_size(const char *what, const char *s, uint64_t *out,
		  struct bs_error *err);
int bs_parse_duration_ms(const char *what, const char *s, uint64_t *out,
			 struct bs_error *err);
/* true/false, yes/no, on/off, 1/0 */
int bs_parse_bool(const char *what, const char *s, bool *out,
		  struct bs_error *err);

/* Print @bytes as "10 GiB", "512 KiB", "100 B" into @buf. */
const char *bs_format_size(uint64_t bytes, char *buf, size_t len);

#endif /* BS_PARSE_H */
