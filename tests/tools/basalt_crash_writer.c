// SPDX-License-Identifier: Apache-2.0
/*
 * basalt_crash_writer: proves that every write libbasalt acknowledged
 * survives a crash of the cluster.
 *
 *   basalt_crash_writer write  [-c CONF] --log FILE [--seconds S]
 *                              [--depth N] [--seed N] [--max-len B]
 *                              POOL/VOLUME
 *   basalt_crash_writer verify [-c CONF] --log FILE POOL/VOLUME
 *
 * write: keeps N asynchronous writes in flight (default 16) at random
 * 16-byte-aligned offsets and lengths (so unaligned to sectors and
 * objects; at most --max-len bytes, default two objects), never two
 * overlapping at once.  Each 16-byte unit carries
 * (write number, unit number), so every unit names the write that put it
 * there.  Before a write is submitted, "I seq off len" goes to the log;
 * once the library acknowledges it, "A seq" is appended and the log is
 * fsync'ed.  Runs until --seconds pass (0: forever) or SIGTERM/SIGINT,
 * then drains and exits 0.  Any failed write exits 1.  It may be killed
 * at any point: the log then ends with writes issued but not acked.
 *
 * verify: replays the log.  For each unit, with L the last write issued
 * over it and A the last acknowledged one (writes over a unit never
 * overlap in time): if L was acknowledged the unit must hold L;
 * otherwise A (zeros if there is none) or any unacknowledged write over
 * it issued after A (a writer killed with the cluster leaves writes that
 * may or may not have happened, and the next run's writes go over them).
 * Prints the first mismatches and exits 1 on any.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basalt.h"

#define UNIT		16u
#define MAX_DEPTH	256
#define MAX_UNITS	(64u << 20)	/* 1 GiB volumes at most */
#define UNIT_MAGIC	0x6261736174756e69ull	/* "basaltuni" */

static volatile sig_atomic_t stop_flag;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "basalt_crash_writer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void on_signal(int sig)
{
	stop_flag = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Unit u of write seq: the seq, then the unit number mixed with a magic. */
static void fill_units(uint8_t *p, uint64_t off, uint64_t len, uint64_t seq)
{
	uint64_t u;

	for (u = 0; u < len / UNIT; u++) {
		uint64_t a = seq, b = (off / UNIT + u) ^ UNIT_MAGIC;

		memcpy(p + u * UNIT, &a, 8);
		memcpy(p + u * UNIT + 8, &b, 8);
	}
}

/* The seq in a unit read back: 0 for zeros, UINT64_MAX if garbled. */
static uint64_t unit_seq(const uint8_t *p, uint64_t unit)
{
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	if (!a && !b)
		return 0;
	if (b != (unit ^ UNIT_MAGIC))
		return UINT64_MAX;
	return a;
}

/* ---- write ---- */

struct wslot {
	bool busy;
	uint64_t seq, off, len;
	uint8_t *buf;
	ssize_t res;
	bool done;
};

static struct wslot slots[MAX_DEPTH];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void write_cb(void *opaque, ssize_t res)
{
	struct wslot *s = opaque;

	/* on the library's thread: never block here, hand over */
	pthread_mutex_lock(&lock);
	s->res = res;
	s->done = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void log_line(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_line(int fd, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (write(fd, line, (size_t)n) != n)
		die("cannot write the log: %s", strerror(errno));
}

static bool overlaps_busy(unsigned depth, uint64_t off, uint64_t len)
{
	unsigned i;

	for (i = 0; i < depth; i++)
		if (slots[i].busy && off < slots[i].off + slots[i].len &&
		    slots[i].off < off + len)
			return true;
	return false;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmd_write(struct basalt_volume *vol, const char *log_path,
		     unsigned seconds, unsigned depth, uint64_t max_len)
{
	struct basalt_stat st;
	uint64_t seq = 0, acked = 0, end, units, max_units;
	unsigned i, busy = 0;
	int fd;

	if (basalt_stat(vol, &st))
		die("stat: %s", basalt_get_error());
	units = st.size / UNIT;
	max_units = 2 * st.object_size / UNIT;
	if (max_len && max_len / UNIT < max_units)
		max_units = max_len / UNIT ? max_len / UNIT : 1;
	if (max_units > units)
		max_units = units;
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		die("cannot open '%s': %s", log_path, strerror(errno));
	/* continue numbering after an earlier run's log */
	seq = (uint64_t)time(NULL) << 20;
	for (i = 0; i < depth; i++) {
		slots[i].buf = malloc(max_units * UNIT);
		if (!slots[i].buf)
			die("out of memory");
	}
	end = seconds ? now_ms() + seconds * 1000ull : UINT64_MAX;
	printf("basalt_crash_writer: writing, depth %u\n", depth);
	fflush(stdout);
	for (;;) {
		bool stopping = stop_flag || now_ms() >= end;

		/* fill every free slot */
		for (i = 0; i < depth && !stopping; i++) {
			struct wslot *s = &slots[i];
			uint64_t off, len;
			unsigned tries = 0;

			if (s->busy)
				continue;
			do {
				len = 1 + rnd() % max_units;
				off = rnd() % (units - len + 1);
			} while (overlaps_busy(depth, off * UNIT, len * UNIT) &&
				 ++tries < 100);
			if (tries >= 100)
				break;
			s->seq = ++seq;
			s->off = off * UNIT;
			s->len = len * UNIT;
			fill_units(s->buf, s->off, s->len, s->seq);
			log_line(fd, "I %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				 s->seq, s->off, s->len);
			s->busy = true;
			s->done = false;
			busy++;
			if (basalt_aio_write(vol, s->buf, s->len, s->off,
					     write_cb, s))
				die("aio_write: %s", basalt_get_error());
		}
		if (stopping && !busy)
			break;
		/* wait for completions (bounded, to notice signals) */
		pthread_mutex_lock(&lock);
		for (;;) {
			bool any = false;

			for (i = 0; i < depth; i++)
				if (slots[i].busy && slots[i].done)
					any = true;
			if (any)
				break;
			{
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 100 * 1000 * 1000;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&cond, &lock, &ts);
			}
			if (stop_flag && !busy)
				break;
		}
		for (i = 0; i < depth; i++) {
			struct wslot *s = &slots[i];

			if (!s->busy || !s->done)
				continue;
			if (s->res != (ssize_t)s->len) {
				pthread_mutex_unlock(&lock);
				die("write %" PRIu64 " of %" PRIu64 " at %" PRIu64
				    " failed: %zd (%s)",
				    s->seq, s->len, s->off, s->res,
				    basalt_get_error());
			}
			log_line(fd, "A %" PRIu64 "\n", s->seq);
			s->busy = false;
			busy--;
			acked++;
		}
		pthread_mutex_unlock(&lock);
		if (fsync(fd))
			die("fsync the log: %s", strerror(errno));
	}
	close(fd);
	printf("basalt_crash_writer: %" PRIu64 " writes acknowledged\n", acked);
	for (i = 0; i < depth; i++)
		free(slots[i].buf);
	return 0;
}

/* ---- verify ---- */

struct wrec {
	uint64_t seq, off, len;
	bool acked;
};

static int cmp_seq(const void *a, const void *b)
{
	const struct wrec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct wrec *find_rec(struct wrec *recs, size_t n, uint64_t seq)
{
	struct wrec key = { .seq = seq };

	return bsearch(&key, recs, n, sizeof(*recs), cmp_seq);
}

static int cmd_verify(struct basalt_volume *vol, const char *log_path)
{
	struct basalt_stat st;
	struct wrec *recs = NULL, *r;
	size_t n = 0, cap = 0, i, n_acked = 0;
	uint64_t *last, *prev, *acked, units, u, bad = 0;
	const size_t chunk = 1u << 20;
	uint8_t *buf;
	char line[256];
	FILE *fp;

	if (basalt_stat(vol, &st))
		die("stat: %s", basalt_get_error());
	units = st.size / UNIT;
	if (units > MAX_UNITS)
		die("volume too large to verify (at most 1 GiB)");
	fp = fopen(log_path, "r");
	if (!fp)
		die("cannot open '%s': %s", log_path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		uint64_t a, b, c;

		if (sscanf(line, "I %" SCNu64 " %" SCNu64 " %" SCNu64, &a, &b,
			   &c) == 3) {
			if (b % UNIT || c % UNIT || !c || b + c > st.size)
				die("log: bad write '%s'", line);
			if (n == cap) {
				cap = cap ? 2 * cap : 4096;
				recs = realloc(recs, cap * sizeof(*recs));
				if (!recs)
					die("out of memory");
			}
			recs[n++] = (struct wrec){ a, b, c, false };
		} else if (sscanf(line, "A %" SCNu64, &a) == 1) {
			/* issued lines come before their acks, in seq order */
			r = n ? find_rec(recs, n, a) : NULL;
			if (!r)
				die("log: ack of unknown write %" PRIu64, a);
			r->acked = true;
			n_acked++;
		}
		/* a torn last line (killed mid-write) is ignored */
	}
	fclose(fp);
	last = calloc(units, sizeof(*last));
	prev = calloc(units, sizeof(*prev));
	acked = calloc(units, sizeof(*acked));
	if (!last || !prev || !acked)
		die("out of memory");
	for (i = 0; i < n; i++) {
		for (u = recs[i].off / UNIT;
		     u < (recs[i].off + recs[i].len) / UNIT; u++) {
			prev[u] = last[u];
			last[u] = recs[i].seq;
			if (recs[i].acked)
				acked[u] = recs[i].seq;
		}
	}
	buf = malloc(chunk);
	if (!buf)
		die("out of memory");
	for (u = 0; u < units; u += chunk / UNIT) {
		uint64_t nu = units - u < chunk / UNIT ? units - u :
							 chunk / UNIT, k;
		ssize_t res = basalt_read(vol, buf, nu * UNIT, u * UNIT);

		if (res != (ssize_t)(nu * UNIT))
			die("read at %" PRIu64 ": %s", u * UNIT,
			    basalt_get_error());
		for (k = 0; k < nu; k++) {
			uint64_t got = unit_seq(buf + k * UNIT, u + k);
			uint64_t l = last[u + k], p = prev[u + k];
			bool good;

			r = NULL;
			if (!l) {
				/* not written under this log: anything goes */
				good = true;
			} else {
				const struct wrec *g;

				r = find_rec(recs, n, l);
				g = got ? find_rec(recs, n, got) : NULL;
				good = got == l ||
				       (!r->acked &&
					(got == acked[u + k] ||
					 (g && !g->acked && got > acked[u + k] &&
					  g->off <= (u + k) * UNIT &&
					  (u + k) * UNIT < g->off + g->len)));
			}
			if (!good && bad++ < 10)
				fprintf(stderr,
					"basalt_crash_writer: byte %" PRIu64
					": holds write %" PRIu64
					", expected %" PRIu64 "%s (before: %" PRIu64 ")\n",
					(u + k) * UNIT, got, l,
					r && r->acked ? " (acknowledged)" : "", p);
		}
	}
	free(buf);
	free(last);
	free(prev);
	free(acked);
	free(recs);
	if (bad)
		die("%" PRIu64 " units of 16 bytes do not hold what was acknowledged", bad);
	printf("basalt_crash_writer: verified %zu writes (%zu acknowledged)\n",
	       n, n_acked);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: basalt_crash_writer write [-c CONF] --log FILE [--seconds S] [--depth N] [--seed N] [--max-len B] POOL/VOLUME\n"
		"       basalt_crash_writer verify [-c CONF] --log FILE POOL/VOLUME\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *log_path = NULL, *spec = NULL;
	unsigned seconds = 0, depth = 16;
	uint64_t max_len = 0;
	struct basalt_cluster *c;
	struct basalt_volume *v;
	struct sigaction sa;
	bool verify;
	int i, ret;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "write"))
		verify = false;
	else if (!strcmp(argv[1], "verify"))
		verify = true;
	else
		usage();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log_path = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--depth") && i + 1 < argc)
			depth = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0) | 1;
		else if (!strcmp(argv[i], "--max-len") && i + 1 < argc)
			max_len = strtoull(argv[++i], NULL, 0);
		else if (argv[i][0] == '-' || spec)
			usage();
		else
			spec = argv[i];
	}
	if (!spec || !log_path || !depth || depth > MAX_DEPTH)
		usage();
	if (!verify) {
		/* write drains on SIGTERM; verify just dies */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}

	if (basalt_connect(conf, &c))
		die("connect: %s", basalt_get_error());
	if (basalt_open(c, spec, &v))
		die("open: %s", basalt_get_error());
	ret = verify ? cmd_verify(v, log_path) :
		       cmd_write(v, log_path, seconds, depth, max_len);
	basalt_close(v);
	basalt_disconnect(c);
	return ret;
}
