// SPDX-License-Identifier: Apache-2.0
/*
 * CLI output: a small JSON writer (RFC 8259 strings: quotes, backslashes
 * and control characters escaped, invalid UTF-8 replaced by U+FFFD) for
 * --format json, and column-aligned tables for people.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* ---- JSON ---------------------------------------------------------- */

void json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

static void indent(struct json *j)
{
	unsigned i;

	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	indent(j);
}

static void nest_open(struct json *j, char c)
{
	before_item(j);
	fputc(c, j->out);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->depth++;
	j->first[j->depth] = true;
}

static void nest_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	assert(j->depth > 0);
	j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->out);
}

void json_obj_begin(struct json *j)
{
	nest_open(j, '{');
}

void json_obj_end(struct json *j)
{
	nest_close(j, '}');
}

void json_arr_begin(struct json *j)
{
	nest_open(j, '[');
}

void json_arr_end(struct json *j)
{
	nest_close(j, ']');
}

/*
 * Length of the valid UTF-8 sequence at @s (1-4), or 0 if the bytes there
 * are not one (overlong forms, surrogates and values past U+10FFFF are
 * invalid too).
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	uint32_t cp;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void json_write_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', out);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(out, "\\u%04x", *s);
				break;
			}
			n = utf8_len(s);
			if (n == 0) {
				fputs("\\ufffd", out);
				break;
			}
			fwrite(s, 1, n, out);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	before_item(j);
	json_write_string(j->out, key);
	fputs(": ", j->out);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	before_item(j);
	if (s)
		json_write_string(j->out, s);
	else
		fputs("null", j->out);
}

void json_u64(struct json *j, uint64_t v)
{
	before_item(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	before_item(j);
	fprintf(j->out, "%" PRId64, v);
}

void json_double(struct json *j, double v, int decimals)
{
	before_item(j);
	if (v != v || v > 1e300 || v < -1e300)	/* NaN, inf: not JSON */
		fputs("null", j->out);
	else
		fprintf(j->out, "%.*f", decimals, v);
}

void json_bool(struct json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
	before_item(j);
	fputs("null", j->out);
}

void json_end(struct json *j)
{
	assert(j->depth == 0);
	fputc('\n', j->out);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

/* ---- tables -------------------------------------------------------- */

/* Invariant: cells holds nrows * ncols strdup'd strings, row by row. */
struct table {
	unsigned ncols;
	const char *const *heads;
	char **cells;
	size_t nrows;
};

struct table *table_new(unsigned ncols, const char *const *heads)
{
	struct table *t = bs_xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->heads = heads;
	return t;
}

void table_add(struct table *t, const char *const *cells)
{
	unsigned c;

	t->cells = bs_xrealloc(t->cells, (t->nrows + 1) * t->ncols *
				       sizeof(*t->cells));
	for (c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] =
			bs_xstrdup(cells[c] ? cells[c] : "-");
	t->nrows++;
}

static const char *head_text(const struct table *t, unsigned c)
{
	return t->heads[c][0] == '>' ? t->heads[c] + 1 : t->heads[c];
}

static void print_row(const struct table *t, const char *const *row,
		      const size_t *width, FILE *out)
{
	unsigned c;
	int w;

	for (c = 0; c < t->ncols; c++) {
		w = (int)width[c];
		if (c + 1 == t->ncols && t->heads[c][0] != '>')
			fputs(row[c], out);	/* no trailing blanks */
		else if (t->heads[c][0] == '>')
			fprintf(out, "%*s", w, row[c]);
		else
			fprintf(out, "%-*s", w, row[c]);
		fputs(c + 1 == t->ncols ? "\n" : "  ", out);
	}
}

void table_print(const struct table *t, FILE *out)
{
	const char **heads = bs_xcalloc(t->ncols + 1, sizeof(*heads));
	size_t *width = bs_xcalloc(t->ncols + 1, sizeof(*width));
	size_t r, len;
	unsigned c;

	for (c = 0; c < t->ncols; c++) {
		heads[c] = head_text(t, c);
		width[c] = strlen(heads[c]);
	}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			len = strlen(t->cells[r * t->ncols + c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	print_row(t, heads, width, out);
	for (r = 0; r < t->nrows; r++)
		print_row(t, (const char *const *)&t->cells[r * t->ncols],
			  width, out);
	free(width);
	free(heads);
}

void table_free(struct table **tp)
{
	struct table *t = *tp;
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	bs_free(tp);
}

const char *format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else if (v < 10)
		snprintf(buf, len, "%.2f %s", v, units[u]);
	else if (v < 100)
		snprintf(buf, len, "%.1f %s", v, units[u]);
	else
		snprintf(buf, len, "%.0f %s", v, units[u]);
	return buf;
}

const char *format_time_us(uint64_t us, char *buf, size_t len)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;

	if (!us || !gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
