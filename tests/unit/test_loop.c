// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the io_uring event loop (common/loop.c): timers, sockets,
 * files, cross-thread posts, deferred tasks, the eventfd path used by
 * foreign loops and a submission queue smaller than the work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>

#include "bs/log.h"
#include "bs/loop.h"

struct rec_op {
	struct bs_op op;
	int id;
	int res;
	bool done;
	int *order;
	int *norder;
};

static void rec_cb(struct bs_op *op, int res)
{
	struct rec_op *r = container_of(op, struct rec_op, op);

	r->res = res;
	r->done = true;
	if (r->order)
		r->order[(*r->norder)++] = r->id;
}

/* Run turns until *flag is set, at most @ms milliseconds. */
static void run_until(struct bs_loop *loop, const bool *flag, unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (!*flag && bs_now_ms() < end)
		assert_true(bs_loop_run_once(loop, 10) >= 0);
	assert_true(*flag);
}

static void run_until_count(struct bs_loop *loop, const int *count,
			    int want, unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;

	while (*count < want && bs_now_ms() < end)
		assert_true(bs_loop_run_once(loop, 10) >= 0);
	assert_int_equal(*count, want);
}

static void test_loop_new_free(void **state)
{
	struct bs_loop *loop = NULL;

	assert_int_equal(bs_loop_new(&loop, 0), 0);
	assert_non_null(loop);
	assert_true(bs_loop_is_current_thread(loop));
	assert_int_equal(bs_loop_run_once(loop, 0), 0);
	bs_loop_free(&loop);
	assert_null(loop);
	bs_loop_free(&loop);
}

static void test_loop_timers_fire_in_order(void **state)
{
	static const unsigned ms[] = { 60, 10, 40, 20, 0 };
	struct rec_op t[5];
	struct bs_loop *loop;
	int order[5], n = 0;
	uint64_t start = bs_now_ms();

	assert_int_equal(bs_loop_new(&loop, 8), 0);
	for (int i = 0; i < 5; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].op.fn = rec_cb;
		t[i].id = (int)ms[i];
		t[i].order = order;
		t[i].norder = &n;
		bs_loop_timer(loop, &t[i].op, ms[i]);
		assert_true(bs_op_busy(&t[i].op));
	}
	run_until_count(loop, &n, 5, 2000);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 10);
	assert_int_equal(order[2], 20);
	assert_int_equal(order[3], 40);
	assert_int_equal(order[4], 60);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(t[i].res, 0);
		assert_false(bs_op_busy(&t[i].op));
	}
	assert_true(bs_now_ms() - start >= 60);
	bs_loop_free(&loop);
}

static void test_loop_timer_cancel(void **state)
{
	struct rec_op longt = { .op.fn = rec_cb }, shortt = { .op.fn = rec_cb };
	struct bs_loop *loop;
	uint64_t start;

	assert_int_equal(bs_loop_new(&loop, 8), 0);
	start = bs_now_ms();
	bs_loop_timer(loop, &longt.op, 60000);
	bs_loop_timer(loop, &shortt.op, 5);
	bs_loop_cancel(loop, &longt.op);
	run_until(loop, &longt.done, 2000);
	assert_int_equal(longt.res, -ECANCELED);
	run_until(loop, &shortt.done, 2000);
	assert_int_equal(shortt.res, 0);
	assert_true(bs_now_ms() - start < 5000);
	/* cancelling an idle op is a no-op */
	bs_loop_cancel(loop, &longt.op);
	assert_int_equal(bs_loop_run_once(loop, 0), 0);
	bs_loop_free(&loop);
}

static void test_loop_socketpair_send_recv(void **state)
{
	struct rec_op s = { .op.fn = rec_cb }, r = { .op.fn = rec_cb };
	struct rec_op c = { .op.fn = rec_cb };
	char out[4096], in[4096];
	struct bs_loop *loop;
	int sv[2];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 3);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(bs_loop_new(&loop, 8), 0);

	/* recv first: it must wait for the data */
	bs_loop_recv(loop, &r.op, sv[1], in, sizeof(in));
	assert_int_equal(bs_loop_run_once(loop, 0), 0);
	assert_false(r.done);
	bs_loop_send(loop, &s.op, sv[0], out, sizeof(out));
	run_until(loop, &s.done, 2000);
	run_until(loop, &r.done, 2000);
	assert_int_equal(s.res, (int)sizeof(out));
	assert_true(r.res > 0);
	assert_memory_equal(in, out, r.res);

	/* a pending recv is cancellable */
	bs_loop_recv(loop, &c.op, sv[1], in, sizeof(in));
	bs_loop_cancel(loop, &c.op);
	run_until(loop, &c.done, 2000);
	assert_int_equal(c.res, -ECANCELED);

	/* the peer closing gives a 0-byte recv */
	c.done = false;
	bs_loop_recv(loop, &c.op, sv[1], in, sizeof(in));
	close(sv[0]);
	run_until(loop, &c.done, 2000);
	assert_int_equal(c.res, 0);
	close(sv[1]);
	bs_loop_free(&loop);
}

static void test_loop_sendmsg_and_poll_fd(void **state)
{
	struct rec_op s = { .op.fn = rec_cb }, p = { .op.fn = rec_cb };
	char a[] = "hello ", b[] = "world", in[32];
	struct iovec iov[2] = { { a, 6 }, { b, 5 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	struct bs_loop *loop;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(bs_loop_new(&loop, 8), 0);
	bs_loop_poll_fd(loop, &p.op, sv[1], POLLIN);
	bs_loop_sendmsg(loop, &s.op, sv[0], &msg);
	run_until(loop, &s.done, 2000);
	assert_int_equal(s.res, 11);
	run_until(loop, &p.done, 2000);
	assert_true(p.res & POLLIN);
	assert_int_equal(read(sv[1], in, sizeof(in)), 11);
	assert_memory_equal(in, "hello world", 11);
	close(sv[0]);
	close(sv[1]);
	bs_loop_free(&loop);
}

static void test_loop_file_write_read_fsync(void **state)
{
	struct rec_op w = { .op.fn = rec_cb }, r = { .op.fn = rec_cb };
	struct rec_op f = { .op.fn = rec_cb }, wv = { .op.fn = rec_cb };
	struct rec_op rv = { .op.fn = rec_cb };
	char path[] = "/tmp/bs_test_loop_XXXXXX";
	static char out[65536], in[65536];
	char v1[100], v2[200], o1[100], o2[200];
	struct iovec wiov[2] = { { v1, 100 }, { v2, 200 } };
	struct iovec riov[2] = { { o1, 100 }, { o2, 200 } };
	struct bs_loop *loop;
	int fd;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i ^ (i >> 8));
	memset(v1, 'a', sizeof(v1));
	memset(v2, 'b', sizeof(v2));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(bs_loop_new(&loop, 8), 0);

	bs_loop_write(loop, &w.op, fd, out, sizeof(out), 4096);
	run_until(loop, &w.done, 5000);
	assert_int_equal(w.res, (int)sizeof(out));
	bs_loop_fsync(loop, &f.op, fd, false);
	run_until(loop, &f.done, 5000);
	assert_int_equal(f.res, 0);
	f.done = false;
	bs_loop_fsync(loop, &f.op, fd, true);
	run_until(loop, &f.done, 5000);
	assert_int_equal(f.res, 0);
	bs_loop_read(loop, &r.op, fd, in, sizeof(in), 4096);
	run_until(loop, &r.done, 5000);
	assert_int_equal(r.res, (int)sizeof(in));
	assert_memory_equal(in, out, sizeof(in));

	/* reading past the end is short */
	r.done = false;
	bs_loop_read(loop, &r.op, fd, in, sizeof(in), 4096 + 65536 - 10);
	run_until(loop, &r.done, 5000);
	assert_int_equal(r.res, 10);

	bs_loop_writev(loop, &wv.op, fd, wiov, 2, 0);
	run_until(loop, &wv.done, 5000);
	assert_int_equal(wv.res, 300);
	bs_loop_readv(loop, &rv.op, fd, riov, 2, 0);
	run_until(loop, &rv.done, 5000);
	assert_int_equal(rv.res, 300);
	assert_memory_equal(o1, v1, 100);
	assert_memory_equal(o2, v2, 200);

	/* errors come back as -errno */
	r.done = false;
	bs_loop_read(loop, &r.op, -1, in, 10, 0);
	run_until(loop, &r.done, 5000);
	assert_int_equal(r.res, -EBADF);
	close(fd);
	bs_loop_free(&loop);
}

static void test_loop_accept_connect_localhost(void **state)
{
	struct rec_op a = { .op.fn = rec_cb }, c = { .op.fn = rec_cb };
	struct rec_op s = { .op.fn = rec_cb }, r = { .op.fn = rec_cb };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct bs_loop *loop;
	int lfd, cfd;
	char buf[16];

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_not_equal(sin.sin_port, 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);

	assert_int_equal(bs_loop_new(&loop, 8), 0);
	bs_loop_accept(loop, &a.op, lfd);
	bs_loop_connect(loop, &c.op, cfd, (struct sockaddr *)&sin, len);
	run_until(loop, &c.done, 5000);
	assert_int_equal(c.res, 0);
	run_until(loop, &a.done, 5000);
	assert_true(a.res >= 0);
	bs_loop_send(loop, &s.op, cfd, "ping", 4);
	bs_loop_recv(loop, &r.op, a.res, buf, sizeof(buf));
	run_until(loop, &r.done, 5000);
	assert_int_equal(r.res, 4);
	assert_memory_equal(buf, "ping", 4);
	run_until(loop, &s.done, 5000);

	/* connecting to a closed port fails with ECONNREFUSED */
	close(lfd);
	close(cfd);
	close(a.res);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c.done = false;
	bs_loop_connect(loop, &c.op, cfd, (struct sockaddr *)&sin, len);
	run_until(loop, &c.done, 5000);
	assert_int_equal(c.res, -ECONNREFUSED);
	close(cfd);
	bs_loop_free(&loop);
}

/* Cross-thread posts */

#define NPOSTS 1000

struct post_ctx {
	struct bs_loop *loop;
	struct bs_task tasks[NPOSTS];
	int ran;
	bool wrong_thread;
	int next_expected;
	bool out_of_order;
};

static struct post_ctx *post_ctx_of_task;

static void post_task_fn(struct bs_task *t)
{
	struct post_ctx *pc = post_ctx_of_task;
	int idx = (int)(t - pc->tasks);

	if (!bs_loop_is_current_thread(pc->loop))
		pc->wrong_thread = true;
	if (idx != pc->next_expected)
		pc->out_of_order = true;
	pc->next_expected = idx + 1;
	pc->ran++;
}

static void *post_thread(void *arg)
{
	struct post_ctx *pc = arg;

	for (int i = 0; i < NPOSTS; i++) {
		pc->tasks[i].fn = post_task_fn;
		bs_loop_post(pc->loop, &pc->tasks[i]);
		if (i % 100 == 0)
			usleep(1000);
	}
	return NULL;
}

static void test_loop_post_from_other_thread(void **state)
{
	struct post_ctx *pc = calloc(1, sizeof(*pc));
	pthread_t th;

	assert_non_null(pc);
	post_ctx_of_task = pc;
	assert_int_equal(bs_loop_new(&pc->loop, 8), 0);
	assert_int_equal(pthread_create(&th, NULL, post_thread, pc), 0);
	/* block without a timeout: only the posts can wake us */
	for (int i = 0; i < 100000 && pc->ran < NPOSTS; i++)
		assert_true(bs_loop_run_once(pc->loop, 1000) >= 0);
	pthread_join(th, NULL);
	assert_int_equal(pc->ran, NPOSTS);
	assert_false(pc->wrong_thread);
	assert_false(pc->out_of_order);
	bs_loop_free(&pc->loop);
	free(pc);
}

/* Deferred tasks */

struct defer_ctx {
	struct bs_loop *loop;
	struct bs_task a, b, c;
	char order[8];
	int n;
	bool in_caller;
	bool reentered;
};

static void defer_c(struct bs_task *t)
{
	struct defer_ctx *d = container_of(t, struct defer_ctx, c);

	d->order[d->n++] = 'C';
}

static void defer_a(struct bs_task *t)
{
	struct defer_ctx *d = container_of(t, struct defer_ctx, a);

	if (d->in_caller)
		d->reentered = true;
	d->order[d->n++] = 'A';
	bs_loop_defer(d->loop, &d->c);
}

static void defer_b(struct bs_task *t)
{
	struct defer_ctx *d = container_of(t, struct defer_ctx, b);

	d->order[d->n++] = 'B';
}

static void test_loop_defer_runs_next_turn_in_order(void **state)
{
	struct defer_ctx d = {
		.a.fn = defer_a, .b.fn = defer_b, .c.fn = defer_c,
	};
	int ret;

	assert_int_equal(bs_loop_new(&d.loop, 8), 0);
	d.in_caller = true;
	bs_loop_defer(d.loop, &d.a);
	bs_loop_defer(d.loop, &d.b);
	bs_loop_defer(d.loop, &d.a);	/* already queued: once only */
	d.in_caller = false;
	assert_int_equal(d.n, 0);
	/* a turn with deferred work does not block */
	ret = bs_loop_run_once(d.loop, -1);
	assert_int_equal(ret, 2);
	assert_int_equal(d.n, 2);
	assert_memory_equal(d.order, "AB", 2);
	ret = bs_loop_run_once(d.loop, -1);
	assert_int_equal(ret, 1);
	assert_memory_equal(d.order, "ABC", 3);
	assert_false(d.reentered);
	bs_loop_free(&d.loop);
}

/* Callbacks that free their owner and chain new ops */

struct chain {
	struct bs_op op;
	struct bs_loop *loop;
	int *count;
	int left;
};

static void chain_cb(struct bs_op *op, int res)
{
	struct chain *c = container_of(op, struct chain, op);
	struct chain *next;

	assert_int_equal(res, 0);
	(*c->count)++;
	if (c->left > 0) {
		next = calloc(1, sizeof(*next));
		assert_non_null(next);
		*next = *c;
		next->op.busy = false;
		next->left--;
		bs_loop_timer(c->loop, &next->op, 0);
	}
	free(c);
}

static void test_loop_callback_frees_owner_and_submits(void **state)
{
	struct bs_loop *loop;
	struct chain *c = calloc(1, sizeof(*c));
	int count = 0;

	assert_int_equal(bs_loop_new(&loop, 4), 0);
	c->op.fn = chain_cb;
	c->loop = loop;
	c->count = &count;
	c->left = 49;
	bs_loop_timer(loop, &c->op, 0);
	run_until_count(loop, &count, 50, 5000);
	bs_loop_free(&loop);
}

/* A ring much smaller than the work: submit-and-retry, nothing dropped */

static void test_loop_full_sq_submits_everything(void **state)
{
	enum { N = 2000 };
	struct rec_op *t = calloc(N, sizeof(*t));
	struct rec_op *rs = calloc(64, sizeof(*rs));
	struct bs_loop *loop;
	int order[N], n = 0, sv[2];
	char buf[64][4];

	assert_non_null(t);
	assert_int_equal(bs_loop_new(&loop, 4), 0);
	for (int i = 0; i < N; i++) {
		t[i].op.fn = rec_cb;
		t[i].id = i;
		t[i].order = order;
		t[i].norder = &n;
		bs_loop_timer(loop, &t[i].op, 1 + i % 5);
	}
	run_until_count(loop, &n, N, 10000);
	for (int i = 0; i < N; i++)
		assert_int_equal(t[i].res, 0);

	/* many recvs outstanding at once, then their data */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	n = 0;
	for (int i = 0; i < 64; i++) {
		rs[i].op.fn = rec_cb;
		rs[i].order = order;
		rs[i].norder = &n;
		bs_loop_recv(loop, &rs[i].op, sv[1], buf[i], 4);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(sv[0], "abcd", 4), 4);
	run_until_count(loop, &n, 64, 5000);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(rs[i].res, 4);
		assert_memory_equal(buf[i], "abcd", 4);
	}
	close(sv[0]);
	close(sv[1]);
	bs_loop_free(&loop);
	free(t);
	free(rs);
}

/* The eventfd path: poll(2) on bs_loop_eventfd() + bs_loop_poll() only */

struct efd_ctx {
	struct bs_loop *loop;
	struct bs_task posted, deferred, redefer;
	int posted_ran, deferred_ran, redefer_left;
	bool redefer_done;
};

static void efd_posted(struct bs_task *t)
{
	struct efd_ctx *e = container_of(t, struct efd_ctx, posted);

	e->posted_ran++;
}

static void efd_deferred(struct bs_task *t)
{
	struct efd_ctx *e = container_of(t, struct efd_ctx, deferred);

	e->deferred_ran++;
}

/* A task that re-defers itself: each step needs the eventfd to fire again */
static void efd_redefer(struct bs_task *t)
{
	struct efd_ctx *e = container_of(t, struct efd_ctx, redefer);

	if (--e->redefer_left > 0)
		bs_loop_defer(e->loop, &e->redefer);
	else
		e->redefer_done = true;
}

static void *efd_post_thread(void *arg)
{
	struct efd_ctx *e = arg;

	usleep(20000);
	bs_loop_post(e->loop, &e->posted);
	return NULL;
}

static void drive_by_eventfd(struct bs_loop *loop, int efd, const bool *flag,
			     const int *count, int want, unsigned ms)
{
	uint64_t end = bs_now_ms() + ms;
	struct pollfd pfd = { .fd = efd, .events = POLLIN };

	while (!(flag ? *flag : *count >= want) && bs_now_ms() < end) {
		int ret = poll(&pfd, 1, 100);

		assert_true(ret >= 0);
		if (ret == 1)
			assert_true(bs_loop_poll(loop) >= 0);
	}
}

static void test_loop_eventfd_drives_loop(void **state)
{
	struct efd_ctx e = {
		.posted.fn = efd_posted, .deferred.fn = efd_deferred,
		.redefer.fn = efd_redefer, .redefer_left = 20,
	};
	struct rec_op t1 = { .op.fn = rec_cb }, t2 = { .op.fn = rec_cb };
	struct rec_op r = { .op.fn = rec_cb }, s = { .op.fn = rec_cb };
	int efd, sv[2];
	char buf[8];
	pthread_t th;

	assert_int_equal(bs_loop_new(&e.loop, 8), 0);
	efd = bs_loop_eventfd(e.loop);
	assert_true(efd >= 0);
	assert_int_equal(bs_loop_eventfd(e.loop), efd);

	/* timers, submitted outside any turn */
	bs_loop_timer(e.loop, &t1.op, 20);
	bs_loop_timer(e.loop, &t2.op, 5);
	drive_by_eventfd(e.loop, efd, &t1.done, NULL, 0, 3000);
	assert_true(t1.done);
	assert_true(t2.done);
	assert_int_equal(t1.res, 0);

	/* socket I/O */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	bs_loop_recv(e.loop, &r.op, sv[1], buf, sizeof(buf));
	bs_loop_send(e.loop, &s.op, sv[0], "xyz", 3);
	drive_by_eventfd(e.loop, efd, &r.done, NULL, 0, 3000);
	assert_int_equal(r.res, 3);
	assert_memory_equal(buf, "xyz", 3);
	drive_by_eventfd(e.loop, efd, &s.done, NULL, 0, 3000);

	/* a post from another thread */
	assert_int_equal(pthread_create(&th, NULL, efd_post_thread, &e), 0);
	drive_by_eventfd(e.loop, efd, NULL, &e.posted_ran, 1, 3000);
	pthread_join(th, NULL);
	assert_int_equal(e.posted_ran, 1);

	/* deferred work outside a turn, and work that re-defers itself */
	bs_loop_defer(e.loop, &e.deferred);
	drive_by_eventfd(e.loop, efd, NULL, &e.deferred_ran, 1, 3000);
	assert_int_equal(e.deferred_ran, 1);
	bs_loop_defer(e.loop, &e.redefer);
	drive_by_eventfd(e.loop, efd, &e.redefer_done, NULL, 0, 3000);
	assert_int_equal(e.redefer_left, 0);
	close(sv[0]);
	close(sv[1]);
	bs_loop_free(&e.loop);
}

/* bs_loop_run() and bs_loop_stop() */

static struct bs_loop *stop_loop;

static void stop_cb(struct bs_op *op, int res)
{
	struct rec_op *r = container_of(op, struct rec_op, op);

	r->done = true;
	bs_loop_stop(stop_loop);
}

static void test_loop_run_until_stop(void **state)
{
	struct bs_loop *loop;
	struct rec_op t = { .op.fn = stop_cb };

	assert_int_equal(bs_loop_new(&loop, 8), 0);
	stop_loop = loop;
	bs_loop_timer(loop, &t.op, 10);
	assert_int_equal(bs_loop_run(loop), 0);
	assert_true(t.done);
	bs_loop_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_new_free),
		cmocka_unit_test(test_loop_timers_fire_in_order),
		cmocka_unit_test(test_loop_timer_cancel),
		cmocka_unit_test(test_loop_socketpair_send_recv),
		cmocka_unit_test(test_loop_sendmsg_and_poll_fd),
		cmocka_unit_test(test_loop_file_write_read_fsync),
		cmocka_unit_test(test_loop_accept_connect_localhost),
		cmocka_unit_test(test_loop_post_from_other_thread),
		cmocka_unit_test(test_loop_defer_runs_next_turn_in_order),
		cmocka_unit_test(test_loop_callback_frees_owner_and_submits),
		cmocka_unit_test(test_loop_full_sq_submits_everything),
		cmocka_unit_test(test_loop_eventfd_drives_loop),
		cmocka_unit_test(test_loop_run_until_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
