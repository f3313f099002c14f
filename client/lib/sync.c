// SPDX-License-Identifier: Apache-2.0
/*
 * Waiters: how a synchronous API call sleeps until the I/O thread has
 * its answer.  A mutex and a condition variable on the caller's stack;
 * the waker never touches the waiter after unlocking it.
 */
#include <errno.h>
#include <string.h>

#include "basalt_int.h"

void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = false;
	w->res = 0;
	w->err.code = 0;
	w->err.msg[0] = '\0';
}

void waiter_release(struct waiter *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

ssize_t waiter_wait(struct waiter *w)
{
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return w->res;
}

void waiter_wake(struct waiter *w, ssize_t res, const struct bs_error *err)
{
	pthread_mutex_lock(&w->lock);
	w->res = res;
	if (err && res < 0)
		w->err = *err;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}
