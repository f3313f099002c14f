// SPDX-License-Identifier: Apache-2.0
/*
 * The completion ring of the fio engine: completions pushed by libbasalt's
 * thread, reaped by the fio job's thread (see completion_ring.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "completion_ring.h"

int completion_ring_init(struct completion_ring *r, unsigned int size)
{
	pthread_condattr_t attr;
	int ret;

	if (!size)
		return -EINVAL;
	r->slots = calloc(size, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	r->size = size;
	r->head = 0;
	r->count = 0;
	ret = pthread_condattr_init(&attr);
	if (ret)
		goto out_free;
	/* Time-outs must not jump with the wall clock. */
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&r->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret)
		goto out_free;
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret) {
		pthread_cond_destroy(&r->cond);
		goto out_free;
	}
	return 0;

out_free:
	free(r->slots);
	r->slots = NULL;
	return -ret;
}

void completion_ring_release(struct completion_ring *r)
{
	if (!r->slots)
		return;
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r->slots);
	r->slots = NULL;
}

int completion_ring_push(struct completion_ring *r, void *item)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->count == r->size) {
		ret = -ENOSPC;
	} else {
		r->slots[(r->head + r->count) % r->size] = item;
		r->count++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void deadline_after(struct timespec *ts, const struct timespec *rel)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += rel->tv_sec;
	ts->tv_nsec += rel->tv_nsec;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

unsigned int completion_ring_pop(struct completion_ring *r, void **out,
				 unsigned int min, unsigned int max,
				 const struct timespec *timeout)
{
	struct timespec deadline;
	unsigned int n, i;

	if (timeout)
		deadline_after(&deadline, timeout);
	if (min > r->size)
		min = r->size;
	pthread_mutex_lock(&r->lock);
	while (r->count < min) {
		if (!timeout)
			pthread_cond_wait(&r->cond, &r->lock);
		else if (pthread_cond_timedwait(&r->cond, &r->lock,
						&deadline) == ETIMEDOUT)
			break;
	}
	n = r->count < max ? r->count : max;
	for (i = 0; i < n; i++) {
		out[i] = r->slots[r->head];
		r->head = (r->head + 1) % r->size;
	}
	r->count -= n;
	pthread_mutex_unlock(&r->lock);
	return n;
}
