// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for fio-plugins/completion_ring.c, the ring through which
 * libbasalt's thread hands completed io_us to a fio job: order, bounds,
 * time-outs, and many producer threads against one consumer.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "completion_ring.h"

#define ITEM(x) ((void *)(uintptr_t)(x))

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_fio_ring_is_fifo_across_wraparound(void **state)
{
	struct completion_ring r;
	void *out[8];
	unsigned int i, round, next = 1, expect = 1;

	assert_int_equal(completion_ring_init(&r, 5), 0);
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 3; i++)
			assert_int_equal(completion_ring_push(&r, ITEM(next++)),
					 0);
		assert_int_equal(completion_ring_pop(&r, out, 3, 8, NULL), 3);
		for (i = 0; i < 3; i++)
			assert_ptr_equal(out[i], ITEM(expect++));
	}
	completion_ring_release(&r);
}

static void test_fio_ring_refuses_push_when_full(void **state)
{
	struct completion_ring r;
	void *out[4];
	unsigned int i;

	assert_int_equal(completion_ring_init(&r, 4), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(completion_ring_push(&r, ITEM(i + 1)), 0);
	assert_int_equal(completion_ring_push(&r, ITEM(99)), -ENOSPC);
	/* max bounds what is taken; the rest stays, in order. */
	assert_int_equal(completion_ring_pop(&r, out, 0, 1, NULL), 1);
	assert_ptr_equal(out[0], ITEM(1));
	assert_int_equal(completion_ring_push(&r, ITEM(5)), 0);
	/* min above the ring's size cannot be met: it is capped. */
	assert_int_equal(completion_ring_pop(&r, out, 10, 4, NULL), 4);
	assert_ptr_equal(out[0], ITEM(2));
	assert_ptr_equal(out[3], ITEM(5));
	completion_ring_release(&r);

	assert_int_equal(completion_ring_init(&r, 0), -EINVAL);
}

static void test_fio_ring_pop_times_out_with_what_it_has(void **state)
{
	const struct timespec wait = { .tv_nsec = 100 * 1000000L };
	struct completion_ring r;
	void *out[4];
	uint64_t t0, dt;

	assert_int_equal(completion_ring_init(&r, 4), 0);
	/* min 0 never waits. */
	assert_int_equal(completion_ring_pop(&r, out, 0, 4, NULL), 0);

	assert_int_equal(completion_ring_push(&r, ITEM(7)), 0);
	t0 = now_ms();
	assert_int_equal(completion_ring_pop(&r, out, 2, 4, &wait), 1);
	dt = now_ms() - t0;
	assert_ptr_equal(out[0], ITEM(7));
	assert_true(dt >= 90);
	assert_true(dt < 5000);
	completion_ring_release(&r);
}

#define PRODUCERS	4
#define PER_PRODUCER	20000
#define RING_SIZE	32

struct producer {
	struct completion_ring *r;
	unsigned int id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	unsigned int i;

	for (i = 0; i < PER_PRODUCER; i++) {
		void *item = ITEM(((uintptr_t)p->id << 32) | (i + 1));

		/* Full: the consumer has not reaped yet. */
		while (completion_ring_push(p->r, item) == -ENOSPC)
			sched_yield();
	}
	return NULL;
}

static void test_fio_ring_many_producers_one_consumer(void **state)
{
	const struct timespec wait = { .tv_sec = 10 };
	struct producer prod[PRODUCERS];
	pthread_t th[PRODUCERS];
	uint32_t last[PRODUCERS] = { 0 };
	struct completion_ring r;
	void *out[RING_SIZE];
	unsigned int got = 0, n, i, min = 1;

	assert_int_equal(completion_ring_init(&r, RING_SIZE), 0);
	for (i = 0; i < PRODUCERS; i++) {
		prod[i] = (struct producer){ .r = &r, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, produce,
						&prod[i]), 0);
	}
	while (got < PRODUCERS * PER_PRODUCER) {
		/* Ask for 1..8 at a time, but never more than remain. */
		min = min % 8 + 1;
		if (min > PRODUCERS * PER_PRODUCER - got)
			min = PRODUCERS * PER_PRODUCER - got;
		n = completion_ring_pop(&r, out, min, RING_SIZE, &wait);
		if (n < min)
			fail_msg("timed out with %u of %u items", got,
				 PRODUCERS * PER_PRODUCER);
		for (i = 0; i < n; i++) {
			uintptr_t v = (uintptr_t)out[i];
			unsigned int id = (unsigned int)(v >> 32);
			uint32_t seq = (uint32_t)v;

			assert_true(id < PRODUCERS);
			/* Each producer's items arrive once, in order. */
			assert_int_equal(seq, last[id] + 1);
			last[id] = seq;
		}
		got += n;
	}
	for (i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(last[i], PER_PRODUCER);
	}
	assert_int_equal(completion_ring_pop(&r, out, 0, RING_SIZE, NULL), 0);
	completion_ring_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fio_ring_is_fifo_across_wraparound),
		cmocka_unit_test(test_fio_ring_refuses_push_when_full),
		cmocka_unit_test(test_fio_ring_pop_times_out_with_what_it_has),
		cmocka_unit_test(test_fio_ring_many_producers_one_consumer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
