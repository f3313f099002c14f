/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure volume geometry for libbasalt: parsing "pool/name", range checks,
 * and cutting a byte range into pieces that never cross an object
 * boundary.  No loop, no network: unit-tested alone
 * (tests/unit/test_libbasalt_layout.c).
 */
#ifndef BASALT_LAYOUT_H
#define BASALT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "bs/error.h"

#define LAYOUT_NAME_MAX		128	/* pool and volume names, bytes */
#define LAYOUT_MIN_OBJECT	4096u
#define LAYOUT_MAX_OBJECT	(64u << 20)

/* One piece of a request: bytes [obj_off, obj_off + len) of object objnum. */
struct layout_piece {
	uint64_t objnum;
	uint64_t obj_off;
	uint64_t len;
};

/*
 * Split "POOL/NAME" into @pool and @name (each LAYOUT_NAME_MAX + 1 bytes).
 * Both parts must be 1..128 characters of [A-Za-z0-9_.-].  Returns 0, or
 * -EINVAL with a message naming what is wrong.
 */
int layout_parse_name(const char *spec, char *pool, char *name,
		      struct bs_error *err);

/*
 * Check that [off, off + len) lies inside a volume of @size bytes:
 * -EINVAL for a zero @len, -ERANGE past the end (overflow-safe); @what
 * names the call in the message ("read").
 */
int layout_check_range(const char *what, uint64_t size, uint64_t off,
		       uint64_t len, struct bs_error *err);

/*
 * Check a directory entry before using it: @object_size a power of two in
 * 4 KiB..64 MiB, @size > 0.  Returns 0 or -EPROTO with a message.
 */
int layout_check_volume(const char *spec, uint64_t size,
			uint64_t object_size, struct bs_error *err);

/*
 * The piece of [off, end) that starts at @off: it stops at the end of its
 * object, at @end, and after @max_len bytes (0: no limit).  @off < @end and
 * @object_size a power of two.
 */
void layout_next_piece(uint64_t off, uint64_t end, uint64_t object_size,
		       uint64_t max_len, struct layout_piece *p);

/* Objects needed to hold @size bytes (the count, rounded up). */
uint64_t layout_num_objects(uint64_t size, uint64_t object_size);

/* Does @p cover its whole object? */
bool layout_is_whole_object(const struct layout_piece *p,
			    uint64_t object_size);

#endif /* BASALT_LAYOUT_H */
