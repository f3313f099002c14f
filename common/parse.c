// SPDX-License-Identifier: Apache-2.0
/*
 * Numbers from people: decimal integers, sizes with binary suffixes,
 * durations and booleans.  Strict about empty strings, signs, spaces,
 * trailing garbage and overflow; fractions are taken only when exact.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bs/parse.h"

/* More fraction digits than this cannot be multiplied without overflow. */
#define FRAC_DIGITS_MAX 18

struct unit {
	const char *name;
	uint64_t mult;
};

/* Case-insensitive; every size unit is a power of 1024, "KB" too. */
static const struct unit size_units[] = {
	{ "", 1 },			{ "b", 1 },
	{ "k", 1ULL << 10 },		{ "kb", 1ULL << 10 },
	{ "kib", 1ULL << 10 },		{ "m", 1ULL << 20 },
	{ "mb", 1ULL << 20 },		{ "mib", 1ULL << 20 },
	{ "g", 1ULL << 30 },		{ "gb", 1ULL << 30 },
	{ "gib", 1ULL << 30 },		{ "t", 1ULL << 40 },
	{ "tb", 1ULL << 40 },		{ "tib", 1ULL << 40 },
	{ "p", 1ULL << 50 },		{ "pb", 1ULL << 50 },
	{ "pib", 1ULL << 50 },
};

static const struct unit duration_units[] = {
	{ "", 1 },		{ "ms", 1 },		{ "s", 1000 },
	{ "m", 60 * 1000 },	{ "h", 60 * 60 * 1000 },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parse "DIGITS[.DIGITS][ ]UNIT" exactly: the integer part, the fraction
 * as num / 10^digits, and the unit from @units.  Returns 0, -EINVAL for
 * anything else (*inexact set if only the fraction was not whole), or
 * -ERANGE when the result does not fit.
 */
static int parse_scaled(const char *s, const struct unit *units,
			size_t nunits, uint64_t *out, bool *inexact)
{
	uint64_t ip = 0, frac = 0, den = 1, mult = 0, v;
	unsigned __int128 f;
	bool range = false;
	const char *p = s;
	int digits = 0;
	size_t i;

	*inexact = false;
	if (!is_digit(*p))
		return -EINVAL;
	for (; is_digit(*p); p++) {
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, (uint64_t)(*p - '0'), &ip))
			range = true;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -EINVAL;
		for (; is_digit(*p); p++) {
			if (digits == FRAC_DIGITS_MAX) {
				/* Only zeros may follow: they add nothing. */
				if (*p != '0')
					return -EINVAL;
				continue;
			}
			frac = frac * 10 + (uint64_t)(*p - '0');
			den *= 10;
			digits++;
		}
	}
	if (*p == ' ' && p[1] != '\0' && p[1] != ' ')
		p++;
	for (i = 0; i < nunits; i++) {
		if (!strcasecmp(p, units[i].name)) {
			mult = units[i].mult;
			break;
		}
	}
	if (!mult)
		return -EINVAL;
	if (range)
		return -ERANGE;
	f = (unsigned __int128)frac * mult;
	if (f % den) {
		*inexact = true;
		return -EINVAL;
	}
	if (__builtin_mul_overflow(ip, mult, &v) ||
	    __builtin_add_overflow(v, (uint64_t)(f / den), &v))
		return -ERANGE;
	*out = v;
	return 0;
}

static const char *what_name(const char *what)
{
	return what ? what : "value";
}

int bs_parse_u64(const char *what, const char *s, uint64_t *out,
		 struct bs_error *err)
{
	uint64_t v = 0;
	const char *p;

	if (!s)
		s = "";
	if (!*s || s[strspn(s, "0123456789")] != '\0')
		return bs_error_set(err, -EINVAL, "'%s': '%s' is not a number",
				    what_name(what), s);
	for (p = s; *p; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return bs_error_set(err, -ERANGE,
					    "'%s': '%s' is too large (at most %" PRIu64 ")",
					    what_name(what), s, UINT64_MAX);
	}
	*out = v;
	return 0;
}

int bs_parse_size(const char *what, const char *s, uint64_t *out,
		  struct bs_error *err)
{
	bool inexact;
	uint64_t v;
	int ret;

	if (!s)
		s = "";
	ret = parse_scaled(s, size_units, ARRAY_SIZE(size_units), &v,
			   &inexact);
	if (ret == -ERANGE)
		return bs_error_set(err, ret, "'%s': '%s' is too large (at most 16 EiB - 1)",
				    what_name(what), s);
	if (ret && inexact)
		return bs_error_set(err, ret, "'%s': '%s' is not a whole number of bytes",
				    what_name(what), s);
	if (ret)
		return bs_error_set(err, ret, "'%s': '%s' is not a size (use a number with K, M, G or T)",
				    what_name(what), s);
	*out = v;
	return 0;
}

int bs_parse_duration_ms(const char *what, const char *s, uint64_t *out,
			 struct bs_error *err)
{
	bool inexact;
	uint64_t v;
	int ret;

	if (!s)
		s = "";
	ret = parse_scaled(s, duration_units, ARRAY_SIZE(duration_units), &v,
			   &inexact);
	if (ret == -ERANGE)
		return bs_error_set(err, ret, "'%s': '%s' is too long a duration",
				    what_name(what), s);
	if (ret && inexact)
		return bs_error_set(err, ret, "'%s': '%s' is not a whole number of milliseconds",
				    what_name(what), s);
	if (ret)
		return bs_error_set(err, ret, "'%s': '%s' is not a duration (use a number with ms, s, m or h)",
				    what_name(what), s);
	*out = v;
	return 0;
}

int bs_parse_bool(const char *what, const char *s, bool *out,
		  struct bs_error *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; s && i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return bs_error_set(err, -EINVAL, "'%s': '%s' is not a boolean (use true or false)",
			    what_name(what), s ? s : "");
}

/* The largest unit that divides @v exactly, so that parsing gives @v back. */
static const char *format_exact(uint64_t v, const struct unit *units,
				size_t nunits, char *buf, size_t len)
{
	const struct unit *u = &units[0];
	size_t i;

	for (i = 1; i < nunits; i++) {
		if (v && v % units[i].mult == 0 && units[i].mult > u->mult)
			u = &units[i];
	}
	if (len)
		snprintf(buf, len, "%" PRIu64 "%s", v / u->mult, u->name);
	return buf;
}

const char *bs_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const struct unit units[] = {
		{ " B", 1 },		 { " KiB", 1ULL << 10 },
		{ " MiB", 1ULL << 20 }, { " GiB", 1ULL << 30 },
		{ " TiB", 1ULL << 40 }, { " PiB", 1ULL << 50 },
	};

	return format_exact(bytes, units, ARRAY_SIZE(units), buf, len);
}

const char *bs_format_duration_ms(uint64_t ms, char *buf, size_t len)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
		{ "h", 60 * 60 * 1000 },
	};

	return format_exact(ms, units, ARRAY_SIZE(units), buf, len);
}
