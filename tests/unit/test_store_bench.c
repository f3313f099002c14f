// SPDX-License-Identifier: Apache-2.0
/*
 * Small benchmark of the object store, run as a unit test: QD concurrent
 * random 4 KiB writes (and then reads) over a set of objects for a bounded
 * time, in both durability modes (one fdatasync per metadata batch on the
 * commit thread, or O_DSYNC data writes).  Prints IOPS, mean latency and
 * how many ops shared each metadata commit; asserts only that work was
 * done and batching happened.  STORE_BENCH_MS sets the time per phase.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "test_store_util.h"

#define QD	32
#define NOBJ	64
#define OSIZE	(4u << 20)
#define RSPAN	(256u << 10)

struct bop {
	struct tso t;
	uint64_t start_us;
};

static void bop_done(struct store_op *sop, int res);

struct bench {
	struct ts *t;
	struct bop ops[QD];
	uint8_t *buf;
	uint64_t done, lat_us;
	unsigned seed;
	bool write, stop;
};

static void submit(struct bench *b, struct bop *op)
{
	struct store_oid oid = ts_oid(1, (uint64_t)rand_r(&b->seed) % NOBJ);
	/* reads stay in the prefilled first RSPAN bytes of each object */
	uint64_t span = b->write ? OSIZE : RSPAN;
	uint64_t off = (uint64_t)(rand_r(&b->seed) % (span / 4096)) * 4096;
	uint8_t *buf = b->buf + (size_t)(op - b->ops) * 4096;

	op->t.op.fn = bop_done;
	op->t.done = false;
	op->start_us = bs_now_us();
	if (b->write)
		store_write(b->t->s, &op->t.op, &oid, off, 4096, buf,
			    b->done + 1);
	else
		store_read(b->t->s, &op->t.op, &oid, off, 4096, buf);
}

static void bop_done(struct store_op *sop, int res)
{
	struct bop *op = container_of(sop, struct bop, t.op);
	struct bench *b = (struct bench *)op->t.order;	/* back pointer */

	assert_int_equal(res, 0);
	b->done++;
	b->lat_us += bs_now_us() - op->start_us;
	op->t.done = true;
	if (!b->stop)
		submit(b, op);
}

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

static void phase(struct bench *b, bool write, unsigned ms, const char *name)
{
	struct store_usage u0, u1;
	struct rusage r0, r1;
	uint64_t t0, t1, end, cpu_us;
	unsigned i, idle;

	b->write = write;
	b->stop = false;
	b->done = b->lat_us = 0;
	store_usage(b->t->s, &u0);
	getrusage(RUSAGE_SELF, &r0);
	t0 = bs_now_us();
	for (i = 0; i < QD; i++) {
		b->ops[i].t.order = (int *)b;
		submit(b, &b->ops[i]);
	}
	end = bs_now_ms() + ms;
	while (bs_now_ms() < end)
		assert_true(bs_loop_run_once(b->t->loop, 10) >= 0);
	b->stop = true;
	for (idle = 0; idle < 1000; idle++) {
		for (i = 0; i < QD && b->ops[i].t.done; i++)
			;
		if (i == QD)
			break;
		assert_true(bs_loop_run_once(b->t->loop, 10) >= 0);
	}
	t1 = bs_now_us();
	getrusage(RUSAGE_SELF, &r1);
	cpu_us = tv_us(&r1.ru_utime) + tv_us(&r1.ru_stime) -
		 tv_us(&r0.ru_utime) - tv_us(&r0.ru_stime);
	store_usage(b->t->s, &u1);
	printf("store bench %-22s QD %d: %8.0f IOPS, mean latency %6.0f us, "
	       "CPU %3.0f us per op, %5.1f ops per metadata commit, %" PRIu64
	       " journaled, %" PRIu64 " ring full\n", name, QD,
	       (double)b->done * 1e6 / (double)(t1 - t0),
	       (double)b->lat_us / (double)(b->done ? b->done : 1),
	       (double)cpu_us / (double)(b->done ? b->done : 1),
	       u1.commits > u0.commits ?
		       (double)(u1.committed_ops - u0.committed_ops) /
			       (double)(u1.commits - u0.commits) : 0.0,
	       u1.journaled - u0.journaled, u1.ring_full - u0.ring_full);
	assert_true(b->done > 0);
	if (write)
		assert_true(u1.commits > u0.commits &&
			    u1.committed_ops - u0.committed_ops >=
				    u1.commits - u0.commits);
}

static void run_bench(bool dsync)
{
	const char *env = getenv("STORE_BENCH_MS");
	unsigned ms = env ? (unsigned)atoi(env) : 1500;
	struct bench *b = calloc(1, sizeof(*b));
	struct ts t = { 0 };
	unsigned i;

	t.dsync = dsync;
	ts_mkfs(&t, 1ull << 30);
	assert_int_equal(ts_open(&t), 0);
	b->t = &t;
	b->seed = 1;
	assert_int_equal(posix_memalign((void **)&b->buf, 4096, QD * 4096), 0);
	for (i = 0; i < QD * 4096; i++)
		b->buf[i] = (uint8_t)(i * 7);
	phase(b, true, ms, dsync ? "4k randwrite O_DSYNC" :
				     "4k randwrite batched");
	for (i = 0; i < NOBJ; i++) {
		struct store_oid oid = ts_oid(1, i);
		uint8_t *fill = NULL;

		assert_int_equal(posix_memalign((void **)&fill, 4096, RSPAN), 0);
		memset(fill, (int)i, RSPAN);
		assert_int_equal(ts_write(&t, &oid, 0, fill, RSPAN, 1), 0);
		free(fill);
	}
	phase(b, false, ms / 2, "4k randread");
	free(b->buf);
	free(b);
	ts_teardown(&t);
}

static void test_store_bench_batched_sync(void **state)
{
	(void)state;
	run_bench(false);
}

static void test_store_bench_dsync(void **state)
{
	(void)state;
	run_bench(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_bench_batched_sync),
		cmocka_unit_test(test_store_bench_dsync),
	};

	bs_log_init("test_store_bench", BS_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
