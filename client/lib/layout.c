// SPDX-License-Identifier: Apache-2.0
/*
 * Volume geometry for libbasalt: "pool/name" parsing, range checks and
 * the cutting of a byte range into per-object pieces.  Pure logic.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bs/compiler.h"
#include "layout.h"

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
	       ch == '-';
}

static int check_part(const char *spec, const char *what, const char *s,
		      size_t len, struct bs_error *err)
{
	size_t i;

	if (len == 0)
		return bs_error_set(err, -EINVAL,
				    "'%s' is not POOL/NAME: the %s name is empty",
				    spec, what);
	if (len > LAYOUT_NAME_MAX)
		return bs_error_set(err, -EINVAL,
				    "'%s' is not POOL/NAME: the %s name is longer than %u characters",
				    spec, what, LAYOUT_NAME_MAX);
	for (i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return bs_error_set(err, -EINVAL,
					    "'%s' is not POOL/NAME: the %s name may only hold A-Z, a-z, 0-9, '_', '.' and '-'",
					    spec, what);
	return 0;
}

int layout_parse_name(const char *spec, char *pool, char *name,
		      struct bs_error *err)
{
	const char *slash;
	size_t plen, nlen;
	int ret;

	if (!spec)
		return bs_error_set(err, -EINVAL, "no volume name given");
	if (strnlen(spec, 2 * LAYOUT_NAME_MAX + 2) > 2 * LAYOUT_NAME_MAX + 1)
		return bs_error_set(err, -EINVAL,
				    "volume name is longer than POOL/NAME allows (%u + 1 + %u characters)",
				    LAYOUT_NAME_MAX, LAYOUT_NAME_MAX);
	slash = strchr(spec, '/');
	if (!slash)
		return bs_error_set(err, -EINVAL,
				    "'%s' is not POOL/NAME (e.g. rbd/vm1)",
				    spec);
	plen = (size_t)(slash - spec);
	nlen = strlen(slash + 1);
	ret = check_part(spec, "pool", spec, plen, err);
	if (ret)
		return ret;
	ret = check_part(spec, "volume", slash + 1, nlen, err);
	if (ret)
		return ret;
	memcpy(pool, spec, plen);
	pool[plen] = '\0';
	memcpy(name, slash + 1, nlen);
	name[nlen] = '\0';
	return 0;
}

int layout_check_range(const char *what, uint64_t size, uint64_t off,
		       uint64_t len, struct bs_error *err)
{
	if (len == 0)
		return bs_error_set(err, -EINVAL, "%s of zero bytes", what);
	if (len > size || off > size - len)
		return bs_error_set(err, -ERANGE,
				    "%s of %" PRIu64 " bytes at offset %" PRIu64
				    " goes past the end of the volume (%" PRIu64
				    " bytes)",
				    what, len, off, size);
	return 0;
}

int layout_check_volume(const char *spec, uint64_t size,
			uint64_t object_size, struct bs_error *err)
{
	if (object_size < LAYOUT_MIN_OBJECT ||
	    object_size > LAYOUT_MAX_OBJECT ||
	    (object_size & (object_size - 1)))
		return bs_error_set(err, -EPROTO,
				    "volume '%s' has an invalid object size %" PRIu64
				    " (the monitor's directory is damaged or newer than this client)",
				    spec, object_size);
	if (size == 0)
		return bs_error_set(err, -EPROTO,
				    "volume '%s' has size 0 in the directory",
				    spec);
	return 0;
}

void layout_next_piece(uint64_t off, uint64_t end, uint64_t object_size,
		       uint64_t max_len, struct layout_piece *p)
{
	uint64_t in_obj = off & (object_size - 1);
	uint64_t len = object_size - in_obj;

	if (len > end - off)
		len = end - off;
	if (max_len && len > max_len)
		len = max_len;
	p->objnum = off / object_size;
	p->obj_off = in_obj;
	p->len = len;
}

uint64_t layout_num_objects(uint64_t size, uint64_t object_size)
{
	return size / object_size + (size % object_size != 0);
}

bool layout_is_whole_object(const struct layout_piece *p,
			    uint64_t object_size)
{
	return p->obj_off == 0 && p->len == object_size;
}
