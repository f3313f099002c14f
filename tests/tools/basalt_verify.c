// SPDX-License-Identifier: Apache-2.0
/*
 * basalt_verify: a real libbasalt client that checks a volume end to end
 * against a copy kept in memory.  Writes known patterns at random offsets
 * and sizes (unaligned, across object boundaries, at the very end), reads
 * them back, checks holes read as zeros, discard/write_zeroes/block
 * status, the -ERANGE/-EINVAL/-ENOENT cases, async I/O from two threads,
 * a shrink and grow, and that the data is still there after reopening and
 * reconnecting.
 *
 *   basalt_verify [-c CONF] [--seed N] [--ops N] [--fresh] POOL/VOLUME
 *
 * --fresh: the volume was just created, so it must read as zeros first.
 * Prints one line per check; exits 0 when all pass, 1 at the first failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"

#define MAX_VOLUME	(1ull << 30)	/* the copy lives in memory */
#define AIO_PER_THREAD	128

static const char *conf_path;
static const char *spec;
static uint64_t vol_size, obj_size;
static uint8_t *shadow;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static struct basalt_cluster *cluster;
static struct basalt_volume *vol;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "basalt_verify: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* A pattern no other write of this run produces: seq and position. */
static void pattern(uint8_t *p, size_t len, uint64_t seq, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = (off + i) * 0x100000001b3ull ^ seq * 0x9e37ull;

		p[i] = (uint8_t)(x ^ (x >> 17) ^ (x >> 31));
	}
}

static void do_write(uint64_t off, size_t len, uint64_t seq)
{
	uint8_t *buf = malloc(len);
	ssize_t r;

	if (!buf)
		fail("out of memory");
	pattern(buf, len, seq, off);
	r = basalt_write(vol, buf, len, off);
	if (r != (ssize_t)len)
		fail("write of %zu at %" PRIu64 ": %zd (%s)", len, off, r,
		     basalt_get_error());
	memcpy(shadow + off, buf, len);
	free(buf);
}

static void check_range(uint64_t off, uint64_t len, const char *what)
{
	const size_t chunk = 4u << 20;
	uint8_t *buf = malloc(chunk);
	uint64_t pos;

	if (!buf)
		fail("out of memory");
	for (pos = off; pos < off + len; pos += chunk) {
		size_t n = (size_t)(off + len - pos < chunk ? off + len - pos :
							     chunk);
		ssize_t r;
		size_t i;

		memset(buf, 0xa5, n);
		r = basalt_read(vol, buf, n, pos);
		if (r != (ssize_t)n)
			fail("%s: read of %zu at %" PRIu64 ": %zd (%s)", what,
			     n, pos, r, basalt_get_error());
		if (memcmp(buf, shadow + pos, n)) {
			for (i = 0; i < n && buf[i] == shadow[pos + i]; i++)
				;
			fail("%s: byte %" PRIu64 " reads 0x%02x, expected 0x%02x",
			     what, pos + i, buf[i], shadow[pos + i]);
		}
	}
	free(buf);
}

static void expect_err(const char *what, long got, int want)
{
	if (got != -want)
		fail("%s: got %ld, expected -%d (%s)", what, got, want,
		     basalt_get_error());
	if (basalt_get_errno() != want || !basalt_get_error()[0])
		fail("%s: basalt_get_errno() %d, error '%s'", what,
		     basalt_get_errno(), basalt_get_error());
}

static void open_volume(void)
{
	struct basalt_stat st;
	int ret;

	ret = basalt_open(cluster, spec, &vol);
	if (ret)
		fail("open %s: %s", spec, basalt_get_error());
	if (basalt_stat(vol, &st))
		fail("stat: %s", basalt_get_error());
	vol_size = st.size;
	obj_size = st.object_size;
}

static void check_errors(void)
{
	struct basalt_volume *v = NULL;
	char name[300], b[8] = { 0 };
	const char *slash = strchr(spec, '/');

	snprintf(name, sizeof(name), "%.*s/no-such-volume-%ld",
		 (int)(slash - spec), spec, (long)getpid());
	expect_err("open a missing volume", basalt_open(cluster, name, &v),
		   ENOENT);
	if (!strstr(basalt_get_error(), "does not exist"))
		fail("missing volume message: '%s'", basalt_get_error());
	expect_err("open a malformed name",
		   basalt_open(cluster, "no-slash", &v), EINVAL);
	expect_err("read past the end", basalt_read(vol, b, 1, vol_size),
		   ERANGE);
	expect_err("write across the end",
		   basalt_write(vol, b, 8, vol_size - 4), ERANGE);
	expect_err("discard past the end",
		   basalt_discard(vol, vol_size - 512, 1024), ERANGE);
	expect_err("zero-length read", basalt_read(vol, b, 0, 0), EINVAL);
	expect_err("zero-length write", basalt_write(vol, b, 0, 0), EINVAL);
	expect_err("zero-length write_zeroes",
		   basalt_write_zeroes(vol, 0, 0, 0), EINVAL);
	ok("missing volume -ENOENT, bad name and zero lengths -EINVAL, past the end -ERANGE");
}

static void random_writes(unsigned ops, uint64_t *seq)
{
	unsigned i;

	for (i = 0; i < ops; i++) {
		uint64_t max = 3 * obj_size, len, off, lo, hi;

		if (max > vol_size)
			max = vol_size;
		len = 1 + rnd() % max;
		switch (i % 4) {
		case 0:		/* anywhere */
			off = rnd() % (vol_size - len + 1);
			break;
		case 1:		/* straddling an object boundary */
			off = (rnd() % (vol_size / obj_size)) * obj_size;
			off = off > len / 2 ? off - len / 2 : 0;
			if (off + len > vol_size)
				off = vol_size - len;
			break;
		case 2:		/* ending at the very end */
			off = vol_size - len;
			break;
		default:	/* small and unaligned */
			len = 1 + rnd() % 700;
			off = rnd() % (vol_size - len + 1);
			break;
		}
		do_write(off, (size_t)len, ++*seq);
		/* read back what was just written, and a bit around it */
		lo = off > 100 ? off - 100 : 0;
		hi = off + len + 100 < vol_size ? off + len + 100 : vol_size;
		check_range(lo, hi - lo, "read back");
	}
	ok("%u random writes (unaligned, across objects, at the end) read back", ops);
}

struct ext_check {
	uint64_t next;
	unsigned holes, data;
};

static int ext_cb(void *opaque, uint64_t off, uint64_t len, int allocated)
{
	struct ext_check *x = opaque;
	uint64_t i;

	if (off != x->next)
		fail("block_status: extent at %" PRIu64 ", expected %" PRIu64,
		     off, x->next);
	if (!len)
		fail("block_status: empty extent at %" PRIu64, off);
	x->next = off + len;
	if (allocated) {
		x->data++;
		return 0;
	}
	x->holes++;
	for (i = 0; i < len; i++)
		if (shadow[off + i])
			fail("block_status: hole [%" PRIu64 ", +%" PRIu64
			     ") holds data at %" PRIu64,
			     off, len, off + i);
	return 0;
}

static void check_discard_and_zeroes(uint64_t *seq)
{
	struct ext_check x = { 0 };
	uint64_t off, len;
	int ret;

	/* a whole object and parts of its neighbours */
	if (vol_size >= 4 * obj_size) {
		off = obj_size + obj_size / 2 + 3;
		len = obj_size + obj_size / 2 + 1000;
		do_write(obj_size, (size_t)(3 * obj_size), ++*seq);
		ret = basalt_discard(vol, off, len);
		if (ret)
			fail("discard: %s", basalt_get_error());
		memset(shadow + off, 0, len);
		check_range(obj_size, 3 * obj_size, "after discard");
	}
	off = vol_size / 3 + 5;
	len = obj_size / 2 + 4097;
	if (off + len > vol_size)
		len = vol_size - off;
	ret = basalt_write_zeroes(vol, off, len, 0);
	if (ret)
		fail("write_zeroes: %s", basalt_get_error());
	memset(shadow + off, 0, len);
	ret = basalt_write_zeroes(vol, vol_size - 700, 700,
				  BASALT_ZERO_NO_HOLE);
	if (ret)
		fail("write_zeroes NO_HOLE: %s", basalt_get_error());
	memset(shadow + vol_size - 700, 0, 700);
	check_range(0, vol_size, "after write_zeroes");
	ret = basalt_block_status(vol, 0, vol_size, ext_cb, &x);
	if (ret)
		fail("block_status: %d (%s)", ret, basalt_get_error());
	if (x.next != vol_size)
		fail("block_status stopped at %" PRIu64, x.next);
	ok("discard and write_zeroes read back zeros; block_status: %u data, %u hole extents, holes read as zeros",
	   x.data, x.holes);
}

/* ---- async from two threads ---- */

struct aio_slot {
	atomic_int *done;
	atomic_int *bad;
	ssize_t want;
};

static void aio_cb(void *opaque, ssize_t res)
{
	struct aio_slot *s = opaque;

	if (res != s->want)
		atomic_fetch_add(s->bad, 1);
	atomic_fetch_add(s->done, 1);
}

struct aio_thread {
	unsigned id;
	uint64_t base, stripe;		/* this thread's area */
	uint64_t seq;
	int failures;
	char why[256];
};

static void wait_all(atomic_int *done, int n)
{
	unsigned spins;

	/* bounded: a stuck cluster fails the test rather than hang it */
	for (spins = 0; atomic_load(done) < n && spins < 120000; spins++)
		usleep(1000);
}

static void *aio_thread_fn(void *arg)
{
	struct aio_thread *t = arg;
	struct aio_slot slots[AIO_PER_THREAD];
	uint8_t *bufs;
	atomic_int done = 0, bad = 0;
	unsigned i;
	size_t len = (size_t)t->stripe;

	bufs = malloc((size_t)AIO_PER_THREAD * len);
	if (!bufs) {
		t->failures++;
		return NULL;
	}
	for (i = 0; i < AIO_PER_THREAD; i++) {
		uint64_t off = t->base + i * t->stripe;

		pattern(bufs + i * len, len, t->seq + i, off);
		slots[i] = (struct aio_slot){ &done, &bad, (ssize_t)len };
		if (basalt_aio_write(vol, bufs + i * len, len, off, aio_cb,
				     &slots[i])) {
			snprintf(t->why, sizeof(t->why), "aio_write: %s",
				 basalt_get_error());
			t->failures++;
			atomic_fetch_add(&done, 1);
		}
	}
	wait_all(&done, AIO_PER_THREAD);
	if (atomic_load(&done) < AIO_PER_THREAD || atomic_load(&bad)) {
		snprintf(t->why, sizeof(t->why),
			 "%d of %d async writes failed or never completed",
			 atomic_load(&bad) + AIO_PER_THREAD - atomic_load(&done),
			 AIO_PER_THREAD);
		t->failures++;
		return NULL;
	}
	for (i = 0; i < AIO_PER_THREAD; i++)
		memcpy(shadow + t->base + i * t->stripe, bufs + i * len, len);
	memset(bufs, 0, (size_t)AIO_PER_THREAD * len);
	atomic_store(&done, 0);
	for (i = 0; i < AIO_PER_THREAD; i++) {
		if (basalt_aio_read(vol, bufs + i * len, len,
				    t->base + i * t->stripe, aio_cb,
				    &slots[i])) {
			t->failures++;
			atomic_fetch_add(&done, 1);
		}
	}
	wait_all(&done, AIO_PER_THREAD);
	if (atomic_load(&done) < AIO_PER_THREAD || atomic_load(&bad))
		t->failures++;
	else if (memcmp(bufs, shadow + t->base, (size_t)AIO_PER_THREAD * len))
		t->failures++;
	if (t->failures && !t->why[0])
		snprintf(t->why, sizeof(t->why), "async reads differ");
	free(bufs);
	return NULL;
}

static void check_aio(uint64_t *seq)
{
	struct aio_thread t[2];
	pthread_t th[2];
	uint64_t stripe = (vol_size / 2) / AIO_PER_THREAD;
	unsigned i;

	/* unaligned stripes: each write is a bit less than its slot */
	if (stripe > 2 * obj_size)
		stripe = 2 * obj_size;
	stripe -= stripe > 1000 ? 13 : 1;
	for (i = 0; i < 2; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].id = i;
		t[i].base = 7 + i * (vol_size / 2);
		t[i].stripe = stripe;
		t[i].seq = *seq + 1 + i * AIO_PER_THREAD;
		if (pthread_create(&th[i], NULL, aio_thread_fn, &t[i]))
			fail("pthread_create");
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	*seq += 2 * AIO_PER_THREAD;
	for (i = 0; i < 2; i++)
		if (t[i].failures)
			fail("async thread %u: %s", i, t[i].why);
	if (basalt_flush(vol))
		fail("flush: %s", basalt_get_error());
	ok("2 threads x %d async writes of %" PRIu64 " bytes in flight, read back async; flush",
	   AIO_PER_THREAD, stripe);
}

/*
 * Shrink to the middle of an object and grow back: the handle's size
 * follows, I/O past the new end is refused, and what was past it reads
 * as zeros after the grow (libbasalt frees it when shrinking).
 */
static void check_resize(uint64_t *seq)
{
	uint64_t small = (vol_size / 2 / obj_size) * obj_size + 1536;
	struct basalt_stat st;
	char b = 0;

	if (small >= vol_size || small < 4096)
		return;
	do_write(small - 2048, (size_t)(vol_size - small + 2048), ++*seq);
	if (basalt_resize(vol, small))
		fail("shrink to %" PRIu64 ": %s", small, basalt_get_error());
	if (basalt_stat(vol, &st) || st.size != small)
		fail("after shrinking, stat says %" PRIu64 " bytes", st.size);
	expect_err("read past the shrunk end", basalt_read(vol, &b, 1, small),
		   ERANGE);
	if (basalt_resize(vol, vol_size))
		fail("grow back to %" PRIu64 ": %s", vol_size,
		     basalt_get_error());
	if (basalt_stat(vol, &st) || st.size != vol_size)
		fail("after growing, stat says %" PRIu64 " bytes", st.size);
	memset(shadow + small, 0, vol_size - small);
	check_range(small - 4096, vol_size - small + 4096, "after resize");
	ok("shrink to %" PRIu64 " and grow back: the data past it reads as zeros",
	   small);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: basalt_verify [-c CONF] [--seed N] [--ops N] [--fresh] POOL/VOLUME\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned ops = 200;
	bool fresh = false;
	uint64_t seq = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			conf_path = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 0) | 1;
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--fresh"))
			fresh = true;
		else if (argv[i][0] == '-' || spec)
			usage();
		else
			spec = argv[i];
	}
	if (!spec)
		usage();

	if (basalt_connect(conf_path, &cluster))
		fail("connect: %s", basalt_get_error());
	open_volume();
	if (vol_size > MAX_VOLUME || vol_size < 2 * obj_size)
		fail("volume of %" PRIu64 " bytes: use 2 objects to 1 GiB",
		     vol_size);
	shadow = calloc(1, vol_size);
	if (!shadow)
		fail("out of memory for a %" PRIu64 "-byte copy", vol_size);
	ok("connected, opened %s: %" PRIu64 " bytes, objects of %" PRIu64,
	   spec, vol_size, obj_size);
	if (fresh) {
		check_range(0, vol_size, "fresh volume");
		ok("a fresh volume reads as zeros");
	} else {
		/* unknown content: take it as the starting copy */
		if (basalt_read(vol, shadow, vol_size, 0) != (ssize_t)vol_size)
			fail("read: %s", basalt_get_error());
	}
	check_errors();
	random_writes(ops, &seq);
	check_discard_and_zeroes(&seq);
	check_aio(&seq);
	check_resize(&seq);
	check_range(0, vol_size, "whole volume");
	ok("whole volume matches");

	if (basalt_close(vol))
		fail("close: %s", basalt_get_error());
	open_volume();
	check_range(0, vol_size, "after reopen");
	ok("reopened: whole volume matches");
	if (basalt_close(vol))
		fail("close: %s", basalt_get_error());
	basalt_disconnect(cluster);
	if (basalt_connect(conf_path, &cluster))
		fail("reconnect: %s", basalt_get_error());
	open_volume();
	check_range(0, vol_size, "after reconnect");
	ok("reconnected: whole volume matches");
	basalt_close(vol);
	basalt_disconnect(cluster);
	free(shadow);
	printf("basalt_verify: all checks passed\n");
	return 0;
}
