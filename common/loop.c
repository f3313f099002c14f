// SPDX-License-Identifier: Apache-2.0
/*
 * The event loop: one io_uring per thread.  Every wake-up is a CQE: I/O,
 * timers (IORING_OP_TIMEOUT) and cross-thread posts (a read outstanding on
 * an internal eventfd).  Foreign loops poll an eventfd registered with the
 * ring and call bs_loop_poll().
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <liburing.h>

#include "bs/log.h"
#include "bs/loop.h"

/* user_data values that are not a struct bs_op (ops are 8-byte aligned). */
#define UD_IGNORE	0ull	/* cancel / timeout_remove results */
#define UD_WAKE		1ull	/* read on wake_fd: posted tasks */

#define DEFAULT_DEPTH	256
#define MAX_RW_LEN	0x7ffff000u	/* what read(2) transfers at most */
/* in op->timeout_ns[1] (tv_nsec of a timer is < 1e9): not a timer */
#define NOT_A_TIMER	UINT64_MAX

/* A completion taken off the CQ ring while submitting (CQ overflow). */
struct stashed_cqe {
	uint64_t user_data;
	int res;
};

struct bs_loop {
	struct io_uring ring;
	pthread_t owner;
	bool stop;
	bool in_turn;		/* inside run_once/poll: submit at the end */

	/* bs_loop_eventfd(): signalled by the kernel on every CQE */
	int event_fd;

	/* bs_loop_post(): tasks from other threads, wake_fd wakes the ring */
	int wake_fd;
	uint64_t wake_buf;
	bool wake_armed;
	pthread_mutex_t post_lock;
	struct bs_task *post_head, **post_tail;	/* under post_lock */
	bool post_kicked;			/* under post_lock */

	/* bs_loop_defer(): loop thread only */
	struct bs_task *defer_head, **defer_tail;

	/* completions reaped while the SQ was full and the kernel busy */
	struct stashed_cqe *stash;
	size_t nstash, stash_cap;
};

static void stash_cqes(struct bs_loop *loop)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
		if (loop->nstash == loop->stash_cap) {
			size_t cap = loop->stash_cap ? loop->stash_cap * 2 : 64;
			struct stashed_cqe *s;

			s = realloc(loop->stash, cap * sizeof(*s));
			if (!s) {
				bs_err("loop: out of memory stashing completions");
				abort();
			}
			loop->stash = s;
			loop->stash_cap = cap;
		}
		loop->stash[loop->nstash].user_data = cqe->user_data;
		loop->stash[loop->nstash].res = cqe->res;
		loop->nstash++;
		io_uring_cqe_seen(&loop->ring, cqe);
	}
}

/*
 * Hand every queued SQE to the kernel.  Never drops a request: when the
 * kernel pushes back because the CQ ring overflowed, completions are moved
 * to the stash (to run later, never from here) and the submit is retried.
 */
static void flush_submit(struct bs_loop *loop)
{
	struct __kernel_timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct io_uring_cqe *cqe;
	size_t before;
	int ret;

	while (io_uring_sq_ready(&loop->ring)) {
		ret = io_uring_submit(&loop->ring);
		if (ret >= 0 || ret == -EINTR)
			continue;
		if (ret != -EBUSY && ret != -EAGAIN) {
			bs_err("loop: io_uring_submit failed: %s",
			       strerror(-ret));
			abort();
		}
		before = loop->nstash;
		stash_cqes(loop);
		if (loop->nstash == before &&
		    io_uring_wait_cqe_timeout(&loop->ring, &cqe, &ts) == 0)
			stash_cqes(loop);
	}
}

static struct io_uring_sqe *get_sqe(struct bs_loop *loop)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&loop->ring)))
		flush_submit(loop);
	return sqe;
}

/* Outside a turn nobody would submit for us: do it now. */
static void maybe_submit(struct bs_loop *loop)
{
	if (!loop->in_turn)
		flush_submit(loop);
}

static struct io_uring_sqe *op_sqe(struct bs_loop *loop, struct bs_op *op)
{
	struct io_uring_sqe *sqe;

	assert(op->fn);
	assert(!op->busy);
	sqe = get_sqe(loop);
	op->busy = true;
	op->timeout_ns[1] = NOT_A_TIMER;
	return sqe;
}

static void op_queued(struct bs_loop *loop, struct bs_op *op,
		      struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op);
	maybe_submit(loop);
}

static void arm_wake(struct bs_loop *loop)
{
	struct io_uring_sqe *sqe;

	if (loop->wake_armed)
		return;
	sqe = get_sqe(loop);
	io_uring_prep_read(sqe, loop->wake_fd, &loop->wake_buf,
			   sizeof(loop->wake_buf), 0);
	io_uring_sqe_set_data64(sqe, UD_WAKE);
	loop->wake_armed = true;
}

int bs_loop_new(struct bs_loop **out, unsigned depth)
{
	struct io_uring_params p;
	struct bs_loop *loop;
	int ret;

	if (!depth)
		depth = DEFAULT_DEPTH;
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->owner = pthread_self();
	loop->event_fd = -1;
	loop->post_tail = &loop->post_head;
	loop->defer_tail = &loop->defer_head;
	pthread_mutex_init(&loop->post_lock, NULL);

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP |
		  IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = BS_MAX(depth * 4, 1024u);
	ret = io_uring_queue_init_params(depth, &loop->ring, &p);
	if (ret == -EINVAL) {
		/* kernels before 5.18 lack SUBMIT_ALL */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		p.cq_entries = BS_MAX(depth * 4, 1024u);
		ret = io_uring_queue_init_params(depth, &loop->ring, &p);
	}
	if (ret < 0)
		goto out_free;

	loop->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (loop->wake_fd == -1) {
		ret = -errno;
		goto out_ring;
	}
	loop->in_turn = true;
	arm_wake(loop);
	loop->in_turn = false;
	flush_submit(loop);
	*out = loop;
	return 0;

out_ring:
	io_uring_queue_exit(&loop->ring);
out_free:
	pthread_mutex_destroy(&loop->post_lock);
	free(loop);
	return ret;
}

void bs_loop_free(struct bs_loop **pl)
{
	struct bs_loop *loop = *pl;

	if (!loop)
		return;
	io_uring_queue_exit(&loop->ring);
	close(loop->wake_fd);
	if (loop->event_fd != -1)
		close(loop->event_fd);
	pthread_mutex_destroy(&loop->post_lock);
	free(loop->stash);
	free(loop);
	*pl = NULL;
}

bool bs_loop_in_turn(const struct bs_loop *loop)
{
	return loop->in_turn;
}

bool bs_loop_is_current_thread(struct bs_loop *loop)
{
	return pthread_equal(loop->owner, pthread_self());
}

static int complete(struct bs_loop *loop, uint64_t ud, int res)
{
	struct bs_op *op;

	if (ud == UD_IGNORE || ud == LIBURING_UDATA_TIMEOUT)
		return 0;
	if (ud == UD_WAKE) {
		loop->wake_armed = false;
		if (res < 0 && res != -EINTR && res != -EAGAIN &&
		    res != -ECANCELED)
			bs_warn("loop: wake eventfd read failed: %s",
				strerror(-res));
		arm_wake(loop);
		return 0;
	}
	op = (struct bs_op *)(uintptr_t)ud;
	assert(op->busy);
	op->busy = false;
	/* A timer that ran its course reports -ETIME: that is success. */
	if (res == -ETIME && op->timeout_ns[1] != NOT_A_TIMER)
		res = 0;
	op->fn(op, res);	/* may free op's owner */
	return 1;
}

static int reap(struct bs_loop *loop)
{
	struct io_uring_cqe *cqe;
	unsigned budget = loop->ring.cq.ring_entries;
	uint64_t ud;
	int n = 0, res;
	size_t i;

	if (loop->nstash) {
		/* callbacks may stash more: take the current batch first */
		struct stashed_cqe *s = loop->stash;
		size_t cnt = loop->nstash;

		loop->stash = NULL;
		loop->nstash = 0;
		loop->stash_cap = 0;
		for (i = 0; i < cnt; i++)
			n += complete(loop, s[i].user_data, s[i].res);
		free(s);
	}
	while (budget-- && io_uring_peek_cqe(&loop->ring, &cqe) == 0) {
		ud = cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&loop->ring, cqe);
		n += complete(loop, ud, res);
	}
	return n;
}

static int run_tasks(struct bs_loop *loop)
{
	struct bs_task *list, *t;
	int n = 0;

	pthread_mutex_lock(&loop->post_lock);
	list = loop->post_head;
	loop->post_head = NULL;
	loop->post_tail = &loop->post_head;
	loop->post_kicked = false;
	pthread_mutex_unlock(&loop->post_lock);
	while ((t = list)) {
		list = t->next;
		t->next = NULL;
		t->queued = false;
		t->fn(t);	/* may free t */
		n++;
	}

	/* tasks deferred from here on run on the next turn */
	list = loop->defer_head;
	loop->defer_head = NULL;
	loop->defer_tail = &loop->defer_head;
	while ((t = list)) {
		list = t->next;
		t->next = NULL;
		t->queued = false;
		t->fn(t);
		n++;
	}
	return n;
}

int bs_loop_run_once(struct bs_loop *loop, int timeout_ms)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int ret, n;

	loop->owner = pthread_self();
	loop->in_turn = true;
	if (loop->defer_head || loop->nstash)
		timeout_ms = 0;
	if (timeout_ms == 0) {
		flush_submit(loop);
	} else if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(&loop->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -ETIME &&
		    ret != -EBUSY && ret != -EAGAIN)
			goto out_err;
		flush_submit(loop);
	} else {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		ret = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1,
						       &ts, NULL);
		if (ret < 0 && ret != -EINTR && ret != -ETIME &&
		    ret != -EBUSY && ret != -EAGAIN)
			goto out_err;
		flush_submit(loop);
	}
	n = reap(loop);
	n += run_tasks(loop);
	loop->in_turn = false;
	return n;

out_err:
	loop->in_turn = false;
	return ret;
}

int bs_loop_run(struct bs_loop *loop)
{
	int ret;

	loop->stop = false;
	while (!loop->stop) {
		ret = bs_loop_run_once(loop, -1);
		if (ret < 0)
			return ret;
	}
	loop->stop = false;
	return 0;
}

void bs_loop_stop(struct bs_loop *loop)
{
	loop->stop = true;
}

int bs_loop_eventfd(struct bs_loop *loop)
{
	int fd, ret;

	if (loop->event_fd != -1)
		return loop->event_fd;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd == -1)
		return -errno;
	ret = io_uring_register_eventfd(&loop->ring, fd);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	loop->event_fd = fd;
	/* work may already be waiting: make the first poll happen */
	eventfd_write(fd, 1);
	return fd;
}

int bs_loop_poll(struct bs_loop *loop)
{
	eventfd_t v;
	int n;

	loop->owner = pthread_self();
	if (loop->event_fd != -1)
		eventfd_read(loop->event_fd, &v);	/* EAGAIN is fine */
	loop->in_turn = true;
	flush_submit(loop);
	n = reap(loop);
	n += run_tasks(loop);
	flush_submit(loop);
	loop->in_turn = false;
	/*
	 * Work that produces no CQE (deferred tasks, stashed completions,
	 * CQEs posted while we were busy) must wake the foreign loop again.
	 */
	if (loop->event_fd != -1 &&
	    (loop->defer_head || loop->nstash ||
	     io_uring_cq_ready(&loop->ring)))
		eventfd_write(loop->event_fd, 1);
	return n;
}

void bs_loop_defer(struct bs_loop *loop, struct bs_task *task)
{
	assert(task->fn);
	if (task->queued)
		return;
	task->queued = true;
	task->next = NULL;
	*loop->defer_tail = task;
	loop->defer_tail = &task->next;
	/* a foreign loop must come back for it even if nothing else wakes */
	if (!loop->in_turn && loop->event_fd != -1)
		eventfd_write(loop->event_fd, 1);
}

void bs_loop_post(struct bs_loop *loop, struct bs_task *task)
{
	bool kick;

	assert(task->fn);
	pthread_mutex_lock(&loop->post_lock);
	if (task->queued) {
		pthread_mutex_unlock(&loop->post_lock);
		return;
	}
	task->queued = true;
	task->next = NULL;
	*loop->post_tail = task;
	loop->post_tail = &task->next;
	kick = !loop->post_kicked;
	loop->post_kicked = true;
	pthread_mutex_unlock(&loop->post_lock);
	if (kick)
		eventfd_write(loop->wake_fd, 1);
}

void bs_loop_accept(struct bs_loop *loop, struct bs_op *op, int fd)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
	op_queued(loop, op, sqe);
}

void bs_loop_connect(struct bs_loop *loop, struct bs_op *op, int fd,
		     const struct sockaddr *addr, socklen_t len)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_connect(sqe, fd, addr, len);
	op_queued(loop, op, sqe);
}

void bs_loop_send(struct bs_loop *loop, struct bs_op *op, int fd,
		  const void *buf, size_t len)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_send(sqe, fd, buf, BS_MIN(len, MAX_RW_LEN),
			   MSG_NOSIGNAL);
	op_queued(loop, op, sqe);
}

void bs_loop_sendmsg(struct bs_loop *loop, struct bs_op *op, int fd,
		     const struct msghdr *msg)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
	op_queued(loop, op, sqe);
}

void bs_loop_recv(struct bs_loop *loop, struct bs_op *op, int fd,
		  void *buf, size_t len)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_recv(sqe, fd, buf, BS_MIN(len, MAX_RW_LEN), 0);
	op_queued(loop, op, sqe);
}

void bs_loop_read(struct bs_loop *loop, struct bs_op *op, int fd,
		  void *buf, size_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_read(sqe, fd, buf, BS_MIN(len, MAX_RW_LEN), off);
	op_queued(loop, op, sqe);
}

void bs_loop_write(struct bs_loop *loop, struct bs_op *op, int fd,
		   const void *buf, size_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_write(sqe, fd, buf, BS_MIN(len, MAX_RW_LEN), off);
	op_queued(loop, op, sqe);
}

void bs_loop_readv(struct bs_loop *loop, struct bs_op *op, int fd,
		   const struct iovec *iov, unsigned n, uint64_t off)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_readv(sqe, fd, iov, n, off);
	op_queued(loop, op, sqe);
}

void bs_loop_writev(struct bs_loop *loop, struct bs_op *op, int fd,
		    const struct iovec *iov, unsigned n, uint64_t off)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_writev(sqe, fd, iov, n, off);
	op_queued(loop, op, sqe);
}

void bs_loop_fsync(struct bs_loop *loop, struct bs_op *op, int fd,
		   bool datasync)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	op_queued(loop, op, sqe);
}

void bs_loop_poll_fd(struct bs_loop *loop, struct bs_op *op, int fd,
		     unsigned poll_events)
{
	struct io_uring_sqe *sqe = op_sqe(loop, op);

	io_uring_prep_poll_add(sqe, fd, poll_events);
	op_queued(loop, op, sqe);
}

void bs_loop_timer(struct bs_loop *loop, struct bs_op *op, uint64_t ms)
{
	struct __kernel_timespec *ts = (void *)op->timeout_ns;
	struct io_uring_sqe *sqe;

	_Static_assert(sizeof(op->timeout_ns) >= sizeof(*ts),
		       "bs_op timer storage too small");
	sqe = op_sqe(loop, op);
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long long)(ms % 1000) * 1000000;
	io_uring_prep_timeout(sqe, ts, 0, 0);
	op_queued(loop, op, sqe);
}

void bs_loop_cancel(struct bs_loop *loop, struct bs_op *op)
{
	struct io_uring_sqe *sqe;

	if (!op->busy)
		return;
	sqe = get_sqe(loop);
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
	maybe_submit(loop);
}
