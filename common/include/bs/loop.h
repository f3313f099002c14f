/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop: one io_uring per thread that drives sockets, files,
 * timers and cross-thread wake-ups.  Only common/loop*.c includes liburing.
 *
 * An asynchronous request is a struct bs_op embedded in its owner; on
 * completion op->fn(op, res) runs on the loop thread with res as the CQE
 * result (a count, or a negative errno).  The owner finds itself again with
 * container_of().  An op must stay alive and untouched until its callback
 * has run; one op serves one request at a time.
 *
 * A foreign loop (libuv in the mon, QEMU, fio) drives ours by polling
 * bs_loop_eventfd() for readability and calling bs_loop_poll() when it fires.
 */
#ifndef BS_LOOP_H
#define BS_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bs/compiler.h"

struct bs_loop;
struct bs_op;

typedef void bs_op_fn(struct bs_op *op, int res);

struct bs_op {
	bs_op_fn *fn;
	/* private to the loop */
	uint64_t timeout_ns[2];		/* struct __kernel_timespec storage */
	bool busy;			/* submitted, callback not yet run */
};

/* A task run later on the loop thread (bs_loop_defer / bs_loop_post). */
struct bs_task;
typedef void bs_task_fn(struct bs_task *task);
struct bs_task {
	bs_task_fn *fn;
	struct bs_task *next;		/* private to the loop */
	bool queued;			/* private to the loop */
};

/*
 * Create a loop with a ring of @depth entries (0 picks a default).
 * Returns 0 and sets *out, or a negative errno.  The loop belongs to the
 * calling thread from then on.
 */
int bs_loop_new(struct bs_loop **out, unsigned depth);

/* Release the loop; ops still in flight are dropped without callbacks. */
void bs_loop_free(struct bs_loop **loop);

/*
 * Run until bs_loop_stop() is called; returns 0, or a negative errno if the
 * ring itself fails.
 */
int bs_loop_run(struct bs_loop *loop);

/* Make bs_loop_run() return after the current turn.  Loop thread only. */
void bs_loop_stop(struct bs_loop *loop);

/*
 * One turn: submit queued requests, wait up to @timeout_ms for a completion
 * (0: do not wait, -1: wait forever), run every completion and deferred
 * task that is ready.  Returns the number of callbacks run or -errno.
 */
int bs_loop_run_once(struct bs_loop *loop, int timeout_ms);

/*
 * For foreign loops: an fd that becomes readable when bs_loop_poll() has
 * work.  bs_loop_poll() runs everything ready without blocking and leaves
 * the fd armed for the next wake-up.
 */
int bs_loop_eventfd(struct bs_loop *loop);
int bs_loop_poll(struct bs_loop *loop);

/*
 * Is the loop inside bs_loop_run_once()/bs_loop_poll() (i.e. is the caller
 * a callback)?  Code that must drive the loop itself, such as a blocking
 * shutdown, checks this to never re-enter it.
 */
bool bs_loop_in_turn(const struct bs_loop *loop);

/* Is the caller on the loop's own thread? (for BS_ASSERT_LOOP_THREAD) */
bool bs_loop_is_current_thread(struct bs_loop *loop);

/* Run @task on the next turn of the loop.  Loop thread only. */
void bs_loop_defer(struct bs_loop *loop, struct bs_task *task);

/*
 * Run @task on the loop thread, from any thread; wakes the loop.  The task
 * must stay alive until it runs.  Safe to call from signal-free contexts.
 */
void bs_loop_post(struct bs_loop *loop, struct bs_task *task);

/*
 * Requests.  Each borrows its buffers until @op's callback runs; @res is
 * what the matching syscall would return (bytes, a new fd, 0) or -errno.
 * @op->fn must be set by the caller before the call.
 */
void bs_loop_accept(struct bs_loop *loop, struct bs_op *op, int fd);
void bs_loop_connect(struct bs_loop *loop, struct bs_op *op, int fd,
		     const struct sockaddr *addr, socklen_t len);
void bs_loop_send(struct bs_loop *loop, struct bs_op *op, int fd,
		  const void *buf, size_t len);
void bs_loop_sendmsg(struct bs_loop *loop, struct bs_op *op, int fd,
		     const struct msghdr *msg);
void bs_loop_recv(struct bs_loop *loop, struct bs_op *op, int fd,
		  void *buf, size_t len);
void bs_loop_read(struct bs_loop *loop, struct bs_op *op, int fd,
		  void *buf, size_t len, uint64_t off);
void bs_loop_write(struct bs_loop *loop, struct bs_op *op, int fd,
		   const void *buf, size_t len, uint64_t off);
void bs_loop_readv(struct bs_loop *loop, struct bs_op *op, int fd,
		   const struct iovec *iov, unsigned n, uint64_t off);
void bs_loop_writev(struct bs_loop *loop, struct bs_op *op, int fd,
		    const struct iovec *iov, unsigned n, uint64_t off);
/* fdatasync when @datasync, else fsync. */
void bs_loop_fsync(struct bs_loop *loop, struct bs_op *op, int fd,
		   bool datasync);
/* Wait until @fd has one of @poll_events (POLLIN...); res is the revents. */
void bs_loop_poll_fd(struct bs_loop *loop, struct bs_op *op, int fd,
		     unsigned poll_events);

/*
 * Timer: @op->fn runs after @ms milliseconds with res 0, or with -ECANCELED
 * if cancelled first.
 */
void bs_loop_timer(struct bs_loop *loop, struct bs_op *op, uint64_t ms);

/*
 * Ask the kernel to cancel @op (any kind, timers included).  The op's
 * callback still runs, usually with -ECANCELED; until then the op is busy.
 */
void bs_loop_cancel(struct bs_loop *loop, struct bs_op *op);

/* Is @op submitted and its callback not yet run? */
static inline bool bs_op_busy(const struct bs_op *op)
{
	return op->busy;
}

#ifndef NDEBUG
#define BS_ASSERT_LOOP_THREAD(loop) assert(bs_loop_is_current_thread(loop))
#else
#define BS_ASSERT_LOOP_THREAD(loop) do { } while (0)
#endif

#endif /* BS_LOOP_H */
