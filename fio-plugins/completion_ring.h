/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded ring of completed requests, filled by any thread (libbasalt's
 * I/O thread) and drained by one (the fio job's), which can wait for a
 * minimum count with a time-out.  Pure pthreads: no fio, no libbasalt, so
 * its unit test links this file alone.
 */
#ifndef BS_FIO_COMPLETION_RING_H
#define BS_FIO_COMPLETION_RING_H

#include <pthread.h>
#include <time.h>

/*
 * Invariant: 0 <= count <= size; the items are slots[head], ...,
 * slots[(head + count - 1) % size], oldest first.  Every field under
 * @lock; @cond is signalled on every push.
 */
struct completion_ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void **slots;
	unsigned int size, head, count;
};

/* Room for @size (>= 1) items.  Returns 0 or -errno. */
int completion_ring_init(struct completion_ring *r, unsigned int size);
void completion_ring_release(struct completion_ring *r);

/*
 * Add @item (any thread).  -ENOSPC if the ring is full: the caller must
 * never have more than size items pushed and not yet popped.
 */
int completion_ring_push(struct completion_ring *r, void *item);

/*
 * Wait until the ring holds at least @min items, or until @timeout
 * (relative; NULL: no limit) has passed, then move up to @max of them,
 * oldest first, into @out.  Returns how many were moved (possibly fewer
 * than @min after a time-out).
 */
unsigned int completion_ring_pop(struct completion_ring *r, void **out,
				 unsigned int min, unsigned int max,
				 const struct timespec *timeout);

#endif /* BS_FIO_COMPLETION_RING_H */
