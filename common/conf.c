// SPDX-License-Identifier: Apache-2.0
/*
 * INI configuration files: parse a file into sections of "key = value"
 * lines that remember their line numbers, then fill a program's config
 * struct through its table of struct bs_conf_key, checking every key and
 * value and naming file, line and key in each error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs/conf.h"
#include "bs/parse.h"

#define CONF_LINE_MAX	4096		/* bytes, without the line end */
#define CONF_FILE_MAX	(1u << 20)	/* bytes */
#define DEFAULT_PATH	"/etc/basalt/basalt.conf"

struct conf_entry {
	char *key;		/* '-' written as '_'; points into buf */
	char *value;		/* trimmed, comment cut off; into buf */
	int line;
	uint32_t sec;		/* index in secs[] */
};

/* Sections are never repeated, so the entries of one are contiguous. */
struct conf_section {
	char *name;		/* into buf */
	int line;
	uint32_t first;		/* its entries: ents[first .. first + count) */
	uint32_t count;
};

/*
 * Open addressing hash set of indices into secs[] or ents[], stored + 1
 * (0 is an empty slot), never more than half full.
 */
struct conf_index {
	uint32_t *slot;
	size_t cap;		/* 0 or a power of two */
	size_t used;
};

struct bs_conf {
	char *name;		/* file name for messages */
	char *buf;		/* the text, cut into NUL-terminated pieces */
	struct conf_section *secs;
	size_t nsecs, secs_cap;
	struct conf_entry *ents;
	size_t nents, ents_cap;
	struct conf_index sec_index;	/* by name */
	struct conf_index ent_index;	/* by (section, key) */
};

static const char *const type_names[] = {
	[BS_CONF_STR] = "string",	[BS_CONF_U64] = "number",
	[BS_CONF_SIZE] = "size",	[BS_CONF_MS] = "duration",
	[BS_CONF_BOOL] = "bool",	[BS_CONF_ADDR] = "address",
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

/* Skip leading and cut trailing blanks, in place. */
static char *trim(char *s)
{
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len && is_space(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Key names compare with '-' and '_' as the same character. */
static char key_char(char c)
{
	return c == '-' ? '_' : c;
}

static bool key_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (key_char(*a) != key_char(*b))
			return false;
	}
	return *a == *b;
}

/* FNV-1a, seeded so that equal keys in different sections differ. */
static uint64_t hash_str(uint64_t seed, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t sec_hash(const char *name)
{
	return hash_str(0, name);
}

static uint64_t ent_hash(uint32_t sec, const char *key)
{
	return hash_str((uint64_t)sec + 1, key);
}

/* The index in secs[] of section @name, or -1. */
static long find_section(const struct bs_conf *c, const char *name)
{
	const struct conf_index *ix = &c->sec_index;
	size_t i;

	if (!ix->cap)
		return -1;
	for (i = sec_hash(name) & (ix->cap - 1); ix->slot[i];
	     i = (i + 1) & (ix->cap - 1)) {
		uint32_t s = ix->slot[i] - 1;

		if (!strcmp(c->secs[s].name, name))
			return s;
	}
	return -1;
}

/* The index in ents[] of @key (already normalised) in section @sec, or -1. */
static long find_entry(const struct bs_conf *c, uint32_t sec, const char *key)
{
	const struct conf_index *ix = &c->ent_index;
	size_t i;

	if (!ix->cap)
		return -1;
	for (i = ent_hash(sec, key) & (ix->cap - 1); ix->slot[i];
	     i = (i + 1) & (ix->cap - 1)) {
		uint32_t e = ix->slot[i] - 1;

		if (c->ents[e].sec == sec && !strcmp(c->ents[e].key, key))
			return e;
	}
	return -1;
}

static void index_put(struct conf_index *ix, uint64_t hash, uint32_t idx)
{
	size_t i;

	for (i = hash & (ix->cap - 1); ix->slot[i]; i = (i + 1) & (ix->cap - 1))
		;
	ix->slot[i] = idx + 1;
	ix->used++;
}

/* The hash of secs[@idx] (@ent false) or ents[@idx] (@ent true). */
static uint64_t item_hash(const struct bs_conf *c, bool ent, uint32_t idx)
{
	if (ent)
		return ent_hash(c->ents[idx].sec, c->ents[idx].key);
	return sec_hash(c->secs[idx].name);
}

/* Add secs[@idx] (@ent false) or ents[@idx] (@ent true) to its index. */
static int index_add(struct bs_conf *c, bool ent, uint32_t idx)
{
	struct conf_index *ix = ent ? &c->ent_index : &c->sec_index;

	if ((ix->used + 1) * 2 > ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64, i;
		uint32_t *old = ix->slot;
		size_t old_cap = ix->cap;

		ix->slot = calloc(cap, sizeof(*ix->slot));
		if (!ix->slot) {
			ix->slot = old;
			return -ENOMEM;
		}
		ix->cap = cap;
		ix->used = 0;
		for (i = 0; i < old_cap; i++) {
			if (old[i])
				index_put(ix, item_hash(c, ent, old[i] - 1),
					  old[i] - 1);
		}
		free(old);
	}
	index_put(ix, item_hash(c, ent, idx), idx);
	return 0;
}

/* Make room for one more element in *@arr of *@cap elements of @size. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/*
 * A section name is [a-z0-9_.-]+; if it ends in ".N" (N all digits), N
 * has no leading zero and fits in an unsigned, so that bs_conf_for_each_
 * numbered() gives each id once.
 */
static int check_section_name(const struct bs_conf *c, const char *name,
			      int line, struct bs_error *err)
{
	const char *p, *num;
	uint64_t id;

	for (p = name; *p; p++) {
		if (!is_lower_digit(*p) && *p != '_' && *p != '.' && *p != '-')
			break;
	}
	if (!*name || *p)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: bad section name '%s' (use a-z, 0-9, '_', '.' and '-')",
				    c->name, line, name);
	num = strrchr(name, '.');
	if (!num || !num[1] || num[1 + strspn(num + 1, "0123456789")])
		return 0;
	num++;
	if (num[0] == '0' && num[1])
		return bs_error_set(err, -EINVAL,
				    "%s:%d: bad section name '%s' (write the number without leading zeros)",
				    c->name, line, name);
	if (bs_parse_u64(NULL, num, &id, NULL) || id > UINT_MAX)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: bad section name '%s' (number too large)",
				    c->name, line, name);
	return 0;
}

/* "[name]", optionally followed by a comment. */
static int parse_section(struct bs_conf *c, char *s, int line,
			 struct bs_error *err)
{
	struct conf_section *sec;
	char *close = strchr(s, ']'), *rest;
	long prev;
	int ret;

	if (!close)
		return bs_error_set(err, -EINVAL, "%s:%d: expected '[section]'",
				    c->name, line);
	rest = close + 1;
	while (is_space(*rest))
		rest++;
	if (*rest && *rest != '#' && *rest != ';')
		return bs_error_set(err, -EINVAL,
				    "%s:%d: unexpected text after '[section]'",
				    c->name, line);
	*close = '\0';
	s++;
	ret = check_section_name(c, s, line, err);
	if (ret)
		return ret;
	prev = find_section(c, s);
	if (prev >= 0)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: section [%s] appears again (first at line %d)",
				    c->name, line, s, c->secs[prev].line);
	if (grow((void **)&c->secs, &c->secs_cap, c->nsecs, sizeof(*sec)))
		return bs_error_set(err, -ENOMEM, "%s: out of memory", c->name);
	sec = &c->secs[c->nsecs];
	sec->name = s;
	sec->line = line;
	sec->first = c->nents;
	sec->count = 0;
	if (index_add(c, false, c->nsecs))
		return bs_error_set(err, -ENOMEM, "%s: out of memory", c->name);
	c->nsecs++;
	return 0;
}

/* "key = value", the value optionally followed by " # comment". */
static int parse_pair(struct bs_conf *c, char *s, int line,
		      struct bs_error *err)
{
	struct conf_entry *e;
	char *eq = strchr(s, '='), *key, *value, *p;
	uint32_t sec;
	long prev;

	if (!eq)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: expected 'key = value'", c->name,
				    line);
	*eq = '\0';
	key = trim(s);
	value = eq + 1;
	while (is_space(*value))
		value++;
	for (p = value; *p; p++) {
		if ((*p == '#' || *p == ';') &&
		    (p == value || is_space(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	value = trim(value);
	if (!*key)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: expected 'key = value'", c->name,
				    line);
	for (p = key; *p; p++) {
		if (!is_lower_digit(*p) && *p != '_' && *p != '-')
			return bs_error_set(err, -EINVAL,
					    "%s:%d: bad key '%s' (use a-z, 0-9, '_' and '-')",
					    c->name, line, key);
	}
	for (p = key; *p; p++)
		*p = key_char(*p);
	if (!c->nsecs)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: key '%s' is outside any section (add [global] above it)",
				    c->name, line, key);
	sec = c->nsecs - 1;
	prev = find_entry(c, sec, key);
	if (prev >= 0)
		return bs_error_set(err, -EINVAL,
				    "%s:%d: duplicate key '%s' in section [%s] (first at line %d)",
				    c->name, line, key, c->secs[sec].name,
				    c->ents[prev].line);
	if (grow((void **)&c->ents, &c->ents_cap, c->nents, sizeof(*e)))
		return bs_error_set(err, -ENOMEM, "%s: out of memory", c->name);
	e = &c->ents[c->nents];
	e->key = key;
	e->value = value;
	e->line = line;
	e->sec = sec;
	if (index_add(c, true, c->nents))
		return bs_error_set(err, -ENOMEM, "%s: out of memory", c->name);
	c->nents++;
	c->secs[sec].count++;
	return 0;
}

static int parse_line(struct bs_conf *c, char *s, int line,
		      struct bs_error *err)
{
	s = trim(s);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(c, s, line, err);
	return parse_pair(c, s, line, err);
}

/* Cut c->buf into lines ("\n" or "\r\n") and parse each. */
static int parse_text(struct bs_conf *c, struct bs_error *err)
{
	char *p = c->buf, *eol, *next;
	int line, ret;

	if (!strncmp(p, "\xef\xbb\xbf", 3))	/* UTF-8 byte order mark */
		p += 3;
	for (line = 1; *p; line++, p = next) {
		eol = strchr(p, '\n');
		if (eol) {
			next = eol + 1;
		} else {
			eol = p + strlen(p);
			next = eol;
		}
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol - p > CONF_LINE_MAX)
			return bs_error_set(err, -EINVAL,
					    "%s:%d: line is longer than %d bytes",
					    c->name, line, CONF_LINE_MAX);
		*eol = '\0';
		ret = parse_line(c, p, line, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Parse @buf (NUL-terminated, taken over and freed on failure). */
static int load_buf(struct bs_conf **out, const char *name, char *buf,
		    struct bs_error *err)
{
	struct bs_conf *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		free(buf);
		return bs_error_set(err, -ENOMEM, "%s: out of memory", name);
	}
	c->buf = buf;
	c->name = strdup(name);
	if (!c->name) {
		bs_conf_free(&c);
		return bs_error_set(err, -ENOMEM, "%s: out of memory", name);
	}
	ret = parse_text(c, err);
	if (ret) {
		bs_conf_free(&c);
		return ret;
	}
	*out = c;
	return 0;
}

int bs_conf_load_string(struct bs_conf **out, const char *name,
			const char *text, struct bs_error *err)
{
	size_t len;
	char *buf;

	*out = NULL;
	if (!name)
		name = "(string)";
	if (!text)
		return bs_error_set(err, -EINVAL, "%s: no text", name);
	len = strnlen(text, CONF_FILE_MAX + 1);
	if (len > CONF_FILE_MAX)
		return bs_error_set(err, -EFBIG, "%s: file is larger than 1 MiB",
				    name);
	buf = malloc(len + 1);
	if (!buf)
		return bs_error_set(err, -ENOMEM, "%s: out of memory", name);
	memcpy(buf, text, len);
	buf[len] = '\0';
	return load_buf(out, name, buf, err);
}

int bs_conf_load(struct bs_conf **out, const char *path, struct bs_error *err)
{
	size_t len = 0;
	const char *nul;
	char *buf;
	ssize_t n;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return bs_error_errno(err, -errno, "cannot open '%s'", path);
	buf = malloc(CONF_FILE_MAX + 2);
	if (!buf) {
		ret = bs_error_set(err, -ENOMEM, "%s: out of memory", path);
		goto out_close;
	}
	for (;;) {
		n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ret = bs_error_errno(err, -errno, "cannot read '%s'",
					     path);
			goto out_free;
		}
		if (n == 0)
			break;
		len += n;
		if (len > CONF_FILE_MAX) {
			ret = bs_error_set(err, -EFBIG,
					   "%s: file is larger than 1 MiB",
					   path);
			goto out_free;
		}
	}
	close(fd);
	nul = memchr(buf, '\0', len);
	if (nul) {
		const char *p;
		int line = 1;

		for (p = buf; p < nul; p++)
			line += *p == '\n';
		ret = bs_error_set(err, -EINVAL, "%s:%d: NUL byte in text",
				   path, line);
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	return load_buf(out, path, buf, err);

out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

void bs_conf_free(struct bs_conf **conf)
{
	struct bs_conf *c = *conf;

	if (!c)
		return;
	free(c->sec_index.slot);
	free(c->ent_index.slot);
	free(c->ents);
	free(c->secs);
	free(c->buf);
	free(c->name);
	free(c);
	*conf = NULL;
}

const char *bs_conf_path(const struct bs_conf *conf)
{
	return conf->name;
}

const char *bs_conf_default_path(const char *cli_path)
{
	const char *env;

	if (cli_path)
		return cli_path;
	env = getenv("BASALT_CONF");
	if (env && *env)
		return env;
	return DEFAULT_PATH;
}

bool bs_conf_has_section(const struct bs_conf *conf, const char *section)
{
	return conf && section && find_section(conf, section) >= 0;
}

int bs_conf_for_each_numbered(const struct bs_conf *conf, const char *prefix,
			      int (*fn)(void *opaque, unsigned id,
					const char *section),
			      void *opaque)
{
	size_t i, plen = strlen(prefix);
	uint64_t id;
	int ret;

	for (i = 0; conf && i < conf->nsecs; i++) {
		const char *name = conf->secs[i].name;

		if (strncmp(name, prefix, plen) || name[plen] != '.')
			continue;
		/* Names passed check_section_name(): N fits, no zeros. */
		if (bs_parse_u64(NULL, name + plen + 1, &id, NULL) ||
		    id > UINT_MAX)
			continue;
		ret = fn(opaque, (unsigned)id, name);
		if (ret)
			return ret;
	}
	return 0;
}

const char *bs_conf_get(const struct bs_conf *conf, const char *section,
			const char *key, int *line)
{
	char norm[CONF_LINE_MAX + 1];
	size_t i, len;
	long s, e;

	if (!conf || !section || !key)
		return NULL;
	len = strlen(key);
	if (len >= sizeof(norm))
		return NULL;
	for (i = 0; i <= len; i++)
		norm[i] = key_char(key[i]);
	s = find_section(conf, section);
	if (s < 0)
		return NULL;
	e = find_entry(conf, s, norm);
	if (e < 0)
		return NULL;
	if (line)
		*line = conf->ents[e].line;
	return conf->ents[e].value;
}

/* Edit distance, for "did you mean"; large for long strings. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = key_char(a[i - 1]) != key_char(b[j - 1]);

			row[j] = BS_MIN(BS_MIN(row[j] + 1, row[j - 1] + 1),
					diag + cost);
			diag = up;
		}
	}
	return row[lb];
}

/* The table key closest to @name, if it is close enough to be a typo. */
static const struct bs_conf_key *suggest(const struct bs_conf_key *table,
					 size_t n, const char *name)
{
	const struct bs_conf_key *best = NULL;
	size_t i, d, best_d = strlen(name) >= 6 ? 2 : 1;

	for (i = 0; i < n; i++) {
		d = distance(name, table[i].name);
		if (d <= best_d && (!best || d < best_d)) {
			best = &table[i];
			best_d = d;
		}
	}
	return best;
}

static const struct bs_conf_key *find_key(const struct bs_conf_key *table,
					  size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (key_eq(table[i].name, name))
			return &table[i];
	}
	return NULL;
}

/* A DNS name: dot-separated labels of 1..63 [A-Za-z0-9-], no '-' at ends. */
static bool is_hostname(const char *h, size_t len)
{
	size_t i, label = 0;

	if (!len || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (!label || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_lower_digit(ch) && !(ch >= 'A' && ch <= 'Z') &&
		    ch != '-')
			return false;
		if (ch == '-' && !label)
			return false;
		if (++label > 63)
			return false;
	}
	return label && h[len - 1] != '-';
}

/*
 * "HOST:PORT" with HOST an IPv4 literal or a host name, or "[IPV6]:PORT".
 * The port is within @k's min..max when max is set, else 1..65535.
 */
static int check_addr(const struct bs_conf_key *k, const char *what,
		      const char *s, struct bs_error *err)
{
	uint64_t lo = k->max ? k->min : 1, hi = k->max ? k->max : 65535, port;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port_s;
	unsigned char bin[16];
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return bs_error_set(err, -EINVAL,
					    "'%s': '%s' is not [IPV6]:PORT (e.g. [::1]:6789)",
					    what, s);
		hlen = close - s - 1;
		if (hlen >= sizeof(host))
			goto bad_v6;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, bin) != 1)
			goto bad_v6;
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return bs_error_set(err, -EINVAL,
					    "'%s': '%s' is not HOST:PORT (e.g. 127.0.0.1:6789)",
					    what, s);
		hlen = colon - s;
		if (memchr(s, ':', hlen))
			return bs_error_set(err, -EINVAL,
					    "'%s': '%s': put an IPv6 address in brackets, as in [::1]:6789",
					    what, s);
		if (!hlen)
			return bs_error_set(err, -EINVAL,
					    "'%s': '%s' has no host (e.g. 127.0.0.1:6789)",
					    what, s);
		if (strspn(s, "0123456789.") >= hlen) {
			if (hlen >= sizeof(host))
				goto bad_v4;
			memcpy(host, s, hlen);
			host[hlen] = '\0';
			if (inet_pton(AF_INET, host, bin) != 1)
				goto bad_v4;
		} else if (!is_hostname(s, hlen)) {
			return bs_error_set(err, -EINVAL,
					    "'%s': '%s': '%.*s' is not a host name",
					    what, s, (int)hlen, s);
		}
		port_s = colon + 1;
	}
	if (bs_parse_u64(NULL, port_s, &port, NULL))
		return bs_error_set(err, -EINVAL,
				    "'%s': '%s': port '%s' is not a number",
				    what, s, port_s);
	if (port < lo || port > hi)
		return bs_error_set(err, -EINVAL,
				    "'%s': '%s': port must be between %" PRIu64 " and %" PRIu64,
				    what, s, lo, hi);
	return 0;

bad_v6:
	return bs_error_set(err, -EINVAL, "'%s': '%s': '%.*s' is not an IPv6 address",
			    what, s, (int)BS_MIN(hlen, 64), s + 1);
bad_v4:
	return bs_error_set(err, -EINVAL, "'%s': '%s': '%.*s' is not an IPv4 address",
			    what, s, (int)BS_MIN(hlen, 64), s);
}

/* Print a bound of @k's type into @buf. */
static const char *format_bound(const struct bs_conf_key *k, uint64_t v,
				char *buf, size_t len)
{
	if (k->type == BS_CONF_SIZE)
		return bs_format_size(v, buf, len);
	if (k->type == BS_CONF_MS)
		return bs_format_duration_ms(v, buf, len);
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static int check_bounds(const struct bs_conf_key *k, const char *what,
			const char *s, uint64_t v, struct bs_error *err)
{
	char lo[32], hi[32];

	if (v >= k->min && (!k->max || v <= k->max))
		return 0;
	format_bound(k, k->min, lo, sizeof(lo));
	if (!k->max)
		return bs_error_set(err, -EINVAL, "'%s': '%s' must be at least %s",
				    what, s, lo);
	format_bound(k, k->max, hi, sizeof(hi));
	return bs_error_set(err, -EINVAL, "'%s': '%s' must be between %s and %s",
			    what, s, lo, hi);
}

/* The field of @obj that @k describes, as the type @k says. */
static void *field_of(const struct bs_conf_key *k, void *obj)
{
	return (char *)obj + k->offset;
}

/* Parse @s as @k says and store it in @obj; @what names it in errors. */
static int set_value(const struct bs_conf_key *k, const char *what,
		     const char *s, void *obj, struct bs_error *err)
{
	char **str = field_of(k, obj), *copy;
	uint64_t v = 0;
	bool b;
	int ret;

	switch (k->type) {
	case BS_CONF_ADDR:
		ret = check_addr(k, what, s, err);
		if (ret)
			return ret;
		/* fall through */
	case BS_CONF_STR:
		copy = strdup(s);
		if (!copy)
			return bs_error_set(err, -ENOMEM, "'%s': out of memory",
					    what);
		free(*str);
		*str = copy;
		return 0;
	case BS_CONF_BOOL:
		ret = bs_parse_bool(what, s, &b, err);
		if (ret)
			return -EINVAL;
		*(bool *)field_of(k, obj) = b;
		return 0;
	case BS_CONF_U64:
		ret = bs_parse_u64(what, s, &v, err);
		break;
	case BS_CONF_SIZE:
		ret = bs_parse_size(what, s, &v, err);
		break;
	case BS_CONF_MS:
		ret = bs_parse_duration_ms(what, s, &v, err);
		break;
	default:
		return bs_error_set(err, -EINVAL, "'%s': unknown type %d", what,
				    (int)k->type);
	}
	if (!ret)
		ret = check_bounds(k, what, s, v, err);
	if (ret) {
		if (err)
			err->code = -EINVAL;
		return -EINVAL;
	}
	*(uint64_t *)field_of(k, obj) = v;
	return 0;
}

/* The default of @k, or its zero value when it has none. */
static int set_default(const struct bs_conf_key *k, void *obj,
		       struct bs_error *err)
{
	int ret;

	if (k->def) {
		ret = set_value(k, k->name, k->def, obj, err);
		if (ret)
			bs_error_prefix(err, "default of key '%s': ", k->name);
		return ret;
	}
	switch (k->type) {
	case BS_CONF_STR:
	case BS_CONF_ADDR:
		bs_free((char **)field_of(k, obj));
		break;
	case BS_CONF_BOOL:
		*(bool *)field_of(k, obj) = false;
		break;
	default:
		*(uint64_t *)field_of(k, obj) = 0;
		break;
	}
	return 0;
}

/* The schema that declares @key for section @sec, or NULL. */
static const struct bs_conf_schema *
schema_for(const struct bs_conf_schema *schemas, size_t n, const char *sec,
	   const char *key, const struct bs_conf_key **k)
{
	bool in_global = !strcmp(sec, "global");
	size_t i;

	for (i = 0; i < n; i++) {
		if (in_global && !schemas[i].global)
			continue;
		*k = find_key(schemas[i].table, schemas[i].n, key);
		if (*k)
			return &schemas[i];
	}
	return NULL;
}

/* "unknown key" with a did-you-mean over every schema allowed there. */
static int unknown_key(const struct bs_conf *conf, const char *sec,
		       const struct conf_entry *e,
		       const struct bs_conf_schema *schemas, size_t n,
		       struct bs_error *err)
{
	bool in_global = !strcmp(sec, "global");
	const struct bs_conf_key *k = NULL;
	size_t i;

	for (i = 0; i < n && !k; i++) {
		if (in_global && !schemas[i].global)
			continue;
		k = suggest(schemas[i].table, schemas[i].n, e->key);
	}
	return bs_error_set(err, -EINVAL,
			    "%s:%d: unknown key '%s' in section [%s]%s%s%s",
			    conf->name, e->line, e->key, sec,
			    k ? " (did you mean '" : "", k ? k->name : "",
			    k ? "'?)" : "");
}

int bs_conf_apply_schemas(const struct bs_conf *conf,
			  const struct bs_conf_schema *schemas, size_t n,
			  const char *const *sections, struct bs_error *err)
{
	const struct bs_conf_schema *sc;
	const struct bs_conf_key *k;
	size_t i, j;
	long s;
	int ret;

	for (i = 0; i < n; i++) {
		for (j = 0; j < schemas[i].n; j++) {
			ret = set_default(&schemas[i].table[j], schemas[i].obj,
					  err);
			if (ret)
				return ret;
		}
	}
	for (i = 0; conf && sections && sections[i]; i++) {
		const struct conf_section *sec;

		s = find_section(conf, sections[i]);
		if (s < 0)
			continue;
		sec = &conf->secs[s];
		for (j = sec->first; j < sec->first + sec->count; j++) {
			const struct conf_entry *e = &conf->ents[j];

			sc = schema_for(schemas, n, sec->name, e->key, &k);
			if (!sc)
				return unknown_key(conf, sec->name, e, schemas,
						   n, err);
			ret = set_value(k, k->name, e->value, sc->obj, err);
			if (ret) {
				bs_error_prefix(err, "%s:%d: ", conf->name,
						e->line);
				return ret;
			}
		}
	}
	return 0;
}

int bs_conf_apply(const struct bs_conf *conf, const struct bs_conf_key *table,
		  size_t n, const char *const *sections, void *obj,
		  struct bs_error *err)
{
	const struct bs_conf_schema one = {
		.table = table, .n = n, .obj = obj, .global = true,
	};

	return bs_conf_apply_schemas(conf, &one, 1, sections, err);
}

/* "--key-name" for table key "key_name", as the command line spells it. */
static const char *option_name(const char *key, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "--%s", key);
	for (i = 2; buf[i]; i++) {
		if (buf[i] == '_')
			buf[i] = '-';
	}
	return buf;
}

int bs_conf_set(const struct bs_conf_key *table, size_t n, void *obj,
		const char *key, const char *value, struct bs_error *err)
{
	const struct bs_conf_key *k;
	char opt[128];

	if (!key)
		return bs_error_set(err, -ENOENT, "no option name");
	if (!strncmp(key, "--", 2))
		key += 2;
	k = find_key(table, n, key);
	if (!k) {
		k = suggest(table, n, key);
		if (k)
			option_name(k->name, opt, sizeof(opt));
		return bs_error_set(err, -ENOENT, "unknown option '--%s'%s%s%s",
				    key, k ? " (did you mean '" : "",
				    k ? opt : "", k ? "'?)" : "");
	}
	option_name(k->name, opt, sizeof(opt));
	if (!value && k->type == BS_CONF_BOOL)
		value = "true";
	if (!value)
		return bs_error_set(err, -EINVAL, "'%s' needs a value", opt);
	return set_value(k, opt, value, obj, err);
}

void bs_conf_release(const struct bs_conf_key *table, size_t n, void *obj)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (table[i].type == BS_CONF_STR ||
		    table[i].type == BS_CONF_ADDR)
			bs_free((char **)field_of(&table[i], obj));
	}
}

void bs_conf_print_help(const struct bs_conf_key *table, size_t n,
			FILE *out)
{
	const struct bs_conf_key *k;
	char lo[32], hi[32];
	size_t i;

	for (i = 0; i < n; i++) {
		k = &table[i];
		fprintf(out, "%s (%s, default %s", k->name,
			(size_t)k->type < ARRAY_SIZE(type_names) &&
			type_names[k->type] ? type_names[k->type] : "?",
			k->def ? k->def : "none");
		if (k->type == BS_CONF_U64 || k->type == BS_CONF_SIZE ||
		    k->type == BS_CONF_MS) {
			format_bound(k, k->min, lo, sizeof(lo));
			format_bound(k, k->max, hi, sizeof(hi));
			if (k->max)
				fprintf(out, ", %s..%s", lo, hi);
			else if (k->min)
				fprintf(out, ", at least %s", lo);
		}
		fprintf(out, "): %s\n", k->help ? k->help : "");
	}
}
